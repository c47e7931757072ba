//! The document as a whole: what is refused (a Swagger 2.0 document), and
//! the departures from OpenAPI 3.0 that are taken as meant (`required:
//! true` on a schema, no `paths`).

use serde_json::{Value, json};

use super::{Context, Problem, Row, Rule, problem};

pub(super) const NOT_SWAGGER: Rule = Rule {
    name: "not-swagger",
    module: module_path!(),
    apply: not_swagger,
    rows: &[Row {
        construct: "Swagger 2.0",
        action: "refused: convert the spec to OpenAPI 3.0 first",
    }],
    snapshots: &["refuse-swagger-2"],
};

fn not_swagger(doc: &mut Value, _: &mut Context) -> Result<(), Problem> {
    if doc.get("swagger").is_some() {
        return Err(problem(
            "/swagger",
            "Swagger 2.0 documents are not supported: convert the spec to OpenAPI 3.0 first",
        ));
    }
    Ok(())
}

pub(super) const BOOLEAN_REQUIRED: Rule = Rule {
    name: "boolean-required",
    module: module_path!(),
    apply: boolean_required,
    rows: &[Row {
        construct: "`required: true` on a schema",
        action: "normalized: dropped (a parent's `required` list says it)",
    }],
    snapshots: &["normalize-boolean-required-on-schema"],
};

fn boolean_required(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    if drop_boolean_required(doc) {
        context.notes.push("`required: true` on schemas was dropped: a property is required through its parent's `required` list".into());
    }
    Ok(())
}

/// Removes a boolean `required` from objects that are neither parameters
/// (`in`) nor request bodies (`content`): there it is a schema flag 3.0 does
/// not have. Returns whether any was removed.
fn drop_boolean_required(value: &mut Value) -> bool {
    match value {
        Value::Object(map) => {
            let misplaced = matches!(map.get("required"), Some(Value::Bool(_)))
                && !map.contains_key("in")
                && !map.contains_key("content");
            if misplaced {
                map.remove("required");
            }
            let mut any = misplaced;
            for v in map.values_mut() {
                any |= drop_boolean_required(v);
            }
            any
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |any, v| drop_boolean_required(v) | any),
        _ => false,
    }
}

pub(super) const PATHS: Rule = Rule {
    name: "paths",
    module: module_path!(),
    apply: paths,
    rows: &[Row {
        construct: "no `paths` (webhooks or components only)",
        action: "a client of types only",
    }],
    snapshots: &["lenient-webhooks-only", "lenient-websocket-and-no-paths"],
};

fn paths(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let Some(map) = doc.as_object_mut() else {
        return Err(problem("", "the document is not an object"));
    };
    if !map.get("paths").is_some_and(Value::is_object) {
        map.insert("paths".into(), json!({}));
        context
            .notes
            .push("the document has no paths: the client has its types and no operations".into());
    }
    Ok(())
}
