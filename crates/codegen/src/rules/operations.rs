//! Operations: their ids (the methods' names), their answers when the spec
//! leaves them undescribed, and the ones a client cannot call.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Context, Problem, Row, Rule, Skipped, for_each_operation, skip};
use crate::names::{mock_when, snake};

pub(super) const INVENTED_IDS: Rule = Rule {
    name: "invented-operation-ids",
    module: module_path!(),
    apply: invented_ids,
    rows: &[Row {
        construct: "an operation without `operationId`",
        action: "named after its method and path (`get_users_by_id`)",
    }],
    snapshots: &["lenient-operation-without-id"],
};

/// The method and path as an operation id: `get /users/{id}` is
/// `get_users_by_id`.
fn invented_id(method: &str, path: &str) -> String {
    let mut id = method.to_owned();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        id.push('_');
        if let Some(param) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            id.push_str("by_");
            id.push_str(param);
        } else {
            id.push_str(segment);
        }
    }
    id.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn invented_ids(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let mut taken: Vec<String> = Vec::new();
    for_each_operation(doc, &mut |operation, _| {
        if let Some(Value::String(id)) = operation.op.get("operationId") {
            taken.push(id.clone());
        }
    });
    let mut count = 0;
    for_each_operation(doc, &mut |operation, _| {
        if operation
            .op
            .get("operationId")
            .is_some_and(Value::is_string)
        {
            return;
        }
        let base = invented_id(operation.method, operation.path);
        let mut id = base.clone();
        let mut n = 2;
        while taken.iter().any(|t| t.eq_ignore_ascii_case(&id)) {
            id = format!("{base}{n}");
            n += 1;
        }
        taken.push(id.clone());
        operation.op.insert("operationId".into(), Value::String(id));
        count += 1;
    });
    if count > 0 {
        context.notes.push(format!(
            "{count} operation(s) without an operationId were named after their method and path (`get_users_by_id`)"
        ));
    }
    Ok(())
}

pub(super) const PAGINATION: Rule = Rule {
    name: "dropshot-pagination",
    module: module_path!(),
    apply: pagination,
    rows: &[Row {
        construct: "`x-dropshot-pagination`",
        action: "dropped: the page-by-page method, no stream method",
    }],
    snapshots: &["lenient-websocket-and-no-paths"],
};

/// Dropshot's pagination makes progenitor write stream methods that need
/// the `futures` crate; the plain method stays.
fn pagination(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let mut count = 0;
    for_each_operation(doc, &mut |operation, _| {
        if operation.op.remove("x-dropshot-pagination").is_some() {
            count += 1;
        }
    });
    if count > 0 {
        context.notes.push(format!(
            "{count} paginated operation(s) (x-dropshot-pagination) have no stream method: call them page by page"
        ));
    }
    Ok(())
}

pub(super) const ONLY_DEFAULT: Rule = Rule {
    name: "only-default",
    module: module_path!(),
    apply: only_default,
    rows: &[Row {
        construct: "an operation whose only answer is `default`",
        action: "that answer is its success; failures are undeclared statuses",
    }],
    snapshots: &["lenient-undeclared-variables-and-default-answers"],
};

/// `default` alone: the answer of any status. Its body is what a success
/// carries; a failure is read as an undeclared status.
fn only_default(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let mut count = 0;
    for_each_operation(doc, &mut |operation, _| {
        if let Some(Value::Object(responses)) = operation.op.get_mut("responses")
            && responses.len() == 1
            && let Some(default) = responses.remove("default")
        {
            responses.insert("2XX".into(), default);
            count += 1;
        }
    });
    if count > 0 {
        context.notes.push(format!(
            "{count} operation(s) declare only a `default` answer: it is their success (any 2xx); failures are read as undeclared statuses"
        ));
    }
    Ok(())
}

pub(super) const NO_SUCCESS: Rule = Rule {
    name: "no-success-described",
    module: module_path!(),
    apply: no_success,
    rows: &[Row {
        construct: "an operation without `responses` (3.1), or with failures only",
        action: "any 2xx is its success",
    }],
    snapshots: &["lenient-undeclared-variables-and-default-answers"],
};

fn no_success(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let mut count = 0;
    for_each_operation(doc, &mut |operation, _| {
        let op = operation.op;
        let declares_success = op
            .get("responses")
            .and_then(Value::as_object)
            .is_some_and(|r| r.keys().any(|k| k.starts_with('2') || k == "default"));
        if let Some(Value::Object(responses)) = op.get_mut("responses")
            && !declares_success
        {
            // Only failures declared: any 2xx is still a success.
            responses.insert(
                "2XX".into(),
                json!({"description": "not described by the spec"}),
            );
            count += 1;
        }
        if !op.get("responses").is_some_and(Value::is_object) {
            // 3.1 lets an operation leave its answers undescribed.
            op.insert(
                "responses".into(),
                json!({"2XX": {"description": "not described by the spec"}}),
            );
            count += 1;
        }
    });
    if count > 0 {
        context.notes.push(format!(
            "{count} operation(s) describe no successful answer: any 2xx is their success, and its body is not read"
        ));
    }
    Ok(())
}

pub(super) const WEBSOCKETS: Rule = Rule {
    name: "websockets",
    module: module_path!(),
    apply: websockets,
    rows: &[Row {
        construct: "a websocket endpoint (`x-dropshot-websocket`, a `101` answer)",
        action: "**skipped** operation",
    }],
    snapshots: &["lenient-websocket-and-no-paths"],
};

fn websockets(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let mut skipped = Vec::new();
    for_each_operation(doc, &mut |operation, _| {
        let websocket = operation.op.contains_key("x-dropshot-websocket")
            || operation
                .op
                .get("responses")
                .and_then(Value::as_object)
                .is_some_and(|r| r.contains_key("101"));
        if websocket {
            let skipped_here = Skipped {
                operation: operation.id(),
                pointer: operation.pointer.clone(),
                reason: "a websocket endpoint: the client cannot upgrade a connection".into(),
            };
            skipped.push((operation.pointer, skipped_here));
        }
    });
    skip(doc, skipped, context);
    Ok(())
}

pub(super) const DISTINCT_IDS: Rule = Rule {
    name: "distinct-operation-ids",
    module: module_path!(),
    apply: distinct_ids,
    rows: &[Row {
        construct: "operationIds that differ only in case or separators (`getKey`, `GetKey`), or whose mock helpers would share a name (`a1b`, `a_1b`: `A1bWhen`)",
        action: "normalized: the later ones (path order) get a number (`get_key2`)",
    }],
    snapshots: &["normalize-operation-ids-differing-in-case"],
};

/// operationIds progenitor would turn into the same method name
/// (`getKey`, `GetKey`, `get_key`), or the same mock helper type (`a1b`
/// and `a_1b` are two methods but one `A1bWhen`): every one after the
/// first gets a number, in document order. Each operation is then found
/// again in progenitor's output by its method name alone.
fn distinct_ids(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    // Both names of every id kept so far (the two never equal each other:
    // one is snake case, the other ends in `When`).
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let names = |id: &str| [snake(id), mock_when(id)];
    for_each_operation(doc, &mut |operation, _| {
        let Some(Value::String(id)) = operation.op.get_mut("operationId") else {
            return;
        };
        let taken = |id: &str, seen: &BTreeMap<String, String>| {
            names(id).into_iter().find_map(|n| seen.get(&n).cloned())
        };
        if let Some(first) = taken(id, &seen) {
            let mut n = 2;
            while taken(&format!("{id}{n}"), &seen).is_some() {
                n += 1;
            }
            let renamed = format!("{id}{n}");
            context.notes.push(format!(
                "operationId `{id}` names the same method or mock helper as `{first}`: it is generated as `{}`",
                snake(&renamed)
            ));
            *id = renamed;
        }
        for name in names(id) {
            seen.insert(name, id.clone());
        }
    });
    Ok(())
}
