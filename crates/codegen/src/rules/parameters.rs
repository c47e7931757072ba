//! Parameters: which are sent, under which name, and in what form.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{
    Context, Problem, Row, Rule, Skipped, field_name, for_each_operation, resolve, resolved, skip,
};

pub(super) const COOKIES: Rule = Rule {
    name: "cookies",
    module: module_path!(),
    apply: cookies,
    rows: &[Row {
        construct: "cookie parameters",
        action: "not sent (noted): a cookie store on the caller's `reqwest::ClientBuilder` can",
    }],
    snapshots: &["lenient-cookie-parameter"],
};

fn cookies(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let root = doc.clone();
    let is_cookie =
        |p: &Value| resolved(p, &root).get("in").and_then(Value::as_str) == Some("cookie");
    let mut count = 0;
    let mut drop_cookies = |list: Option<&mut Value>| {
        if let Some(Value::Array(params)) = list {
            let before = params.len();
            params.retain(|p| !is_cookie(p));
            count += before - params.len();
        }
    };
    for_each_operation(doc, &mut |operation, shared| {
        drop_cookies(shared);
        drop_cookies(operation.op.get_mut("parameters"));
    });
    if count > 0 {
        context.notes.push(format!(
            "{count} cookie parameter(s) are not sent: the client sends no cookies (a cookie store on your reqwest::ClientBuilder can)"
        ));
    }
    Ok(())
}

pub(super) const OUTSIDE_THE_PATH: Rule = Rule {
    name: "path-parameters-outside-the-path",
    module: module_path!(),
    apply: outside_the_path,
    rows: &[Row {
        construct: "a path parameter the path has no `{variable}` for (`keyId` beside `/keys/{key_id}`, or none at all); progenitor refused the whole operation",
        action: "named as the path's undeclared variable it spells (the same letters and digits, whatever the case and separators); else left out, as no part of the URL can carry it",
    }],
    snapshots: &["lenient-undeclared-variables-and-default-answers"],
};

/// The `{variables}` of a path template, in order.
fn variables(path: &str) -> Vec<&str> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect()
}

/// A name's letters and digits, lowercased: how `keyId` and `key_id` are
/// told to be the same name.
fn squashed(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn outside_the_path(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let root = doc.clone();
    let mut renamed = Vec::new();
    let mut dropped = Vec::new();
    for_each_operation(doc, &mut |operation, mut shared| {
        let variables = variables(operation.path);
        let path_names = |list: Option<&Value>| -> Vec<String> {
            let list = list.and_then(Value::as_array).into_iter().flatten();
            list.map(|p| resolved(p, &root))
                .filter(|p| p.get("in").and_then(Value::as_str) == Some("path"))
                .filter_map(|p| Some(p.get("name")?.as_str()?.to_owned()))
                .collect()
        };
        let mut declared = path_names(shared.as_deref());
        declared.extend(path_names(operation.op.get("parameters")));
        let mut undeclared: Vec<&str> = variables
            .iter()
            .copied()
            .filter(|v| !declared.iter().any(|d| d == v))
            .collect();
        let lists = [shared.as_deref_mut(), operation.op.get_mut("parameters")];
        for list in lists.into_iter().flatten() {
            let Some(list) = list.as_array_mut() else {
                continue;
            };
            list.retain_mut(|p| {
                let r = resolved(p, &root);
                let name = r.get("name").and_then(Value::as_str).unwrap_or("");
                if r.get("in").and_then(Value::as_str) != Some("path") || variables.contains(&name)
                {
                    return true;
                }
                let at = format!("{} `{name}`", operation.pointer);
                match undeclared
                    .iter()
                    .position(|v| squashed(v) == squashed(name))
                {
                    Some(i) => {
                        let variable = undeclared.remove(i);
                        let mut named = r.clone();
                        named["name"] = json!(variable);
                        *p = named;
                        renamed.push(format!("{at} → `{variable}`"));
                        true
                    }
                    None => {
                        dropped.push(at);
                        false
                    }
                }
            });
        }
    });
    if !renamed.is_empty() {
        context.notes.push(format!(
            "path parameters named otherwise than the path's variable they spell take the variable's name: {}",
            renamed.join(", ")
        ));
    }
    if !dropped.is_empty() {
        context.notes.push(format!(
            "path parameters the path has no variable for were left out (no part of the URL can carry them): {}",
            dropped.join(", ")
        ));
    }
    Ok(())
}

pub(super) const UNDECLARED_PATH_VARIABLES: Rule = Rule {
    name: "undeclared-path-variables",
    module: module_path!(),
    apply: undeclared_path_variables,
    rows: &[Row {
        construct: "a path variable an operation does not declare",
        action: "declared as a sibling operation declares it (else a string)",
    }],
    snapshots: &["lenient-undeclared-variables-and-default-answers"],
};

/// Whether `params` declare path parameter `name`.
fn declare(params: Option<&Value>, root: &Value, name: &str) -> bool {
    params
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| resolved(p, root))
        .any(|p| {
            p.get("in").and_then(Value::as_str) == Some("path")
                && p.get("name").and_then(Value::as_str) == Some(name)
        })
}

fn undeclared_path_variables(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let root = doc.clone();
    let mut count = 0;
    // The declarations any operation of a path makes, to lend to one that
    // makes none.
    let declarations = |path: &str| -> Vec<Value> {
        let Some(item) = root.get("paths").and_then(|p| p.get(path)) else {
            return Vec::new();
        };
        std::iter::once(item.get("parameters"))
            .chain(
                super::METHODS
                    .iter()
                    .map(|m| item.get(*m)?.get("parameters")),
            )
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
            .map(|p| resolved(p, &root).clone())
            .filter(|p| p.get("in").and_then(Value::as_str) == Some("path"))
            .collect()
    };
    for_each_operation(doc, &mut |operation, shared| {
        for name in variables(operation.path) {
            if declare(shared.as_deref(), &root, name)
                || declare(operation.op.get("parameters"), &root, name)
            {
                continue;
            }
            let declaration = declarations(operation.path)
                .into_iter()
                .find(|d| d.get("name").and_then(Value::as_str) == Some(name))
                .unwrap_or_else(|| {
                    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
                });
            let params = operation
                .op
                .entry("parameters")
                .or_insert_with(|| json!([]));
            if let Value::Array(params) = params {
                params.push(declaration);
                count += 1;
            }
        }
    });
    if count > 0 {
        context.notes.push(format!(
            "{count} path variable(s) an operation does not declare were declared for it (as a sibling operation does, else as a string)"
        ));
    }
    Ok(())
}

pub(super) const SHADOWING_THE_PATH: Rule = Rule {
    name: "shadowing-the-path",
    module: module_path!(),
    apply: shadowing_the_path,
    rows: &[Row {
        construct: "a query or header parameter named like a path parameter",
        action: "left out: the path's is sent",
    }],
    snapshots: &["lenient-parameters-and-text-bodies"],
};

/// A name the path already takes, in another place (a query `list_id`
/// beside the path's `{list_id}`): the client has one argument per name,
/// and the path's is the one needed.
fn shadowing_the_path(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let root = doc.clone();
    let mut count = 0;
    for_each_operation(doc, &mut |operation, _| {
        if let Some(Value::Array(params)) = operation.op.get_mut("parameters") {
            let before = params.len();
            params.retain(|p| {
                let p = resolved(p, &root);
                let name = p.get("name").and_then(Value::as_str).unwrap_or("");
                p.get("in").and_then(Value::as_str) == Some("path")
                    || !operation.path.contains(&format!("{{{name}}}"))
            });
            count += before - params.len();
        }
    });
    if count > 0 {
        context.notes.push(format!(
            "{count} parameter(s) named like a path parameter but placed elsewhere were left out: the path's is sent"
        ));
    }
    Ok(())
}

pub(super) const SAME_ARGUMENT_NAME: Rule = Rule {
    name: "same-argument-name",
    module: module_path!(),
    apply: same_argument_name,
    rows: &[Row {
        construct: "two parameters of an operation whose Rust argument names are one (`Idempotency-Key`, `idempotency_key`)",
        action: "the later left out, noted",
    }],
    snapshots: &["lenient-options-method-and-clashing-fields"],
};

/// Parameters whose Rust argument names are one (`Idempotency-Key` in a
/// header, `idempotency_key` in the query): the first is kept.
fn same_argument_name(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let root = doc.clone();
    let mut count = 0;
    for_each_operation(doc, &mut |operation, _| {
        if let Some(Value::Array(params)) = operation.op.get_mut("parameters") {
            let mut seen = BTreeSet::new();
            let before = params.len();
            params.retain(|p| {
                let name = resolved(p, &root).get("name").and_then(Value::as_str);
                name.is_none_or(|n| seen.insert(field_name(n)))
            });
            count += before - params.len();
        }
    });
    if count > 0 {
        context.notes.push(format!(
            "{count} parameter(s) whose argument name another parameter of the operation already has were left out"
        ));
    }
    Ok(())
}

pub(super) const PATH_REQUIRED: Rule = Rule {
    name: "path-required",
    module: module_path!(),
    apply: path_required,
    rows: &[Row {
        construct: "a path parameter not `required`",
        action: "required",
    }],
    snapshots: &["lenient-undeclared-variables-and-default-answers"],
};

/// A path parameter is required, whatever the spec says.
fn path_required(doc: &mut Value, _: &mut Context) -> Result<(), Problem> {
    for_each_operation(doc, &mut |operation, _| {
        if let Some(Value::Array(params)) = operation.op.get_mut("parameters") {
            for param in params.iter_mut() {
                if param.get("in").and_then(Value::as_str) == Some("path")
                    && param.get("required") != Some(&Value::Bool(true))
                {
                    param["required"] = Value::Bool(true);
                }
            }
        }
    });
    Ok(())
}

/// One parameter as a rule sees it: resolved, with where it is.
struct Parameter<'a> {
    /// The operation's id (the first operation's, for a path item's own
    /// parameters).
    op_id: &'a str,
    /// `query`, `header`, `path`.
    location: String,
    /// Its name.
    name: String,
    /// Its schema, resolved.
    schema: Value,
}

/// What stands in a parameter's place (itself, rewritten, or several), or
/// why its operation cannot be generated.
type ParameterRule<'a> =
    dyn Fn(&Parameter<'_>, Value, &mut Vec<String>) -> Result<Vec<Value>, String> + 'a;

/// Rewrites every parameter (the path item's, then the operation's own,
/// each resolved into a copy of its own) with `rule`, which returns what
/// stands in its place, or why the operation cannot be generated.
fn each_parameter(doc: &mut Value, context: &mut Context, rule: &ParameterRule) {
    let components = doc.get("components").cloned().unwrap_or(json!({}));
    let mut skipped = Vec::new();
    for_each_operation(doc, &mut |operation, shared| {
        let op_id = operation.id();
        let parent = operation
            .pointer
            .rsplit_once('/')
            .map_or("", |(p, _)| p)
            .to_owned();
        let mut lists: Vec<(String, &mut Value)> = Vec::new();
        if let Some(list) = shared {
            lists.push((format!("{parent}/parameters"), list));
        }
        let mut own = operation.op.remove("parameters");
        if let Some(list) = own.as_mut() {
            lists.push((format!("{}/parameters", operation.pointer), list));
        }
        let mut failure = None;
        for (at, list) in lists {
            let Value::Array(params) = list else { continue };
            let mut rewritten = Vec::new();
            for (i, raw) in params.iter().enumerate() {
                let param = resolve(raw, &components).clone();
                let text = |key: &str| {
                    param
                        .get(key)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned()
                };
                let seen = Parameter {
                    op_id: &op_id,
                    location: text("in"),
                    name: text("name"),
                    schema: resolve(param.get("schema").unwrap_or(&Value::Null), &components)
                        .clone(),
                };
                match rule(&seen, param.clone(), &mut context.notes) {
                    Ok(instead) => rewritten.extend(instead),
                    Err(reason) => {
                        failure.get_or_insert(Skipped {
                            operation: op_id.clone(),
                            pointer: format!("{at}/{i}"),
                            reason,
                        });
                        rewritten.push(param);
                    }
                }
            }
            *params = rewritten;
        }
        if let Some(list) = own {
            operation.op.insert("parameters".into(), list);
        }
        if let Some(failure) = failure {
            skipped.push((operation.pointer.clone(), failure));
        }
    });
    skip(doc, skipped, context);
}

pub(super) const DEEP_OBJECTS: Rule = Rule {
    name: "deep-objects",
    module: module_path!(),
    apply: deep_objects,
    rows: &[
        Row {
            construct: "`deepObject` query parameter of plain properties",
            action: "normalized: one query parameter per property, `name[prop]`, the wire form",
        },
        Row {
            construct: "`deepObject` query parameter of a map, of nested objects, of lists or of free-form values",
            action: "normalized: the typed value, sent field by field (`name[field][inner]=value`, a list's items as repeated `name[field]` pairs, `apikeys_runtime::DeepObject`); the mock helpers match it so",
        },
    ],
    snapshots: &["normalize-deep-object-query"],
};

/// `filter[owner]=x` is what a deepObject of scalar properties puts on the
/// wire: one query parameter per property says exactly that.
fn deep_objects(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    each_parameter(doc, context, &|p, param, notes| {
        let style = param.get("style").and_then(Value::as_str).unwrap_or("");
        if p.location != "query" || style != "deepObject" {
            return Ok(vec![param]);
        }
        let name = &p.name;
        let Some(parts) = deep_object(&param, &p.schema, name) else {
            // Sent field by field by `apikeys_runtime::DeepObject` (see
            // `mark_deep_objects`); OpenAPI leaves a list's spelling open,
            // and it goes as repeated `name[field]` pairs.
            return Ok(vec![param]);
        };
        notes.push(format!(
            "{}: the deepObject query parameter `{name}` is sent as one parameter per property ({})",
            p.op_id,
            parts
                .iter()
                .filter_map(|p| p.get("name").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        Ok(parts)
    });
    mark_deep_objects(doc, context);
    Ok(())
}

/// The operation extension that lists an operation's `deepObject` query
/// parameters sent field by field (`name[field][inner]=value`).
pub const DEEP_OBJECT: &str = "x-apikeys-deep-objects";

/// Marks each operation with the `deepObject` parameters left whole (its
/// own, or its path item's): the calls rewrite sends them with
/// `apikeys_runtime::DeepObject`.
fn mark_deep_objects(doc: &mut Value, context: &mut Context) {
    let components = doc.get("components").cloned().unwrap_or(json!({}));
    for_each_operation(doc, &mut |operation, shared| {
        let deep: Vec<String> = shared
            .map(|s| &*s)
            .into_iter()
            .chain(operation.op.get("parameters"))
            .filter_map(Value::as_array)
            .flatten()
            .map(|p| resolve(p, &components))
            .filter(|p| p.get("style").and_then(Value::as_str) == Some("deepObject"))
            .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect();
        if deep.is_empty() {
            return;
        }
        context.notes.push(format!(
            "{}: the deepObject query parameter(s) {} are sent field by field (`name[field][inner]=value`)",
            operation.id(),
            deep.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        ));
        operation.op.insert(DEEP_OBJECT.into(), json!(deep));
    });
    // progenitor refuses the style itself: the parameters are left plain
    // (typed as their schema), once every operation is marked.
    for_each_operation(doc, &mut |operation, shared| {
        let lists = shared
            .into_iter()
            .chain(operation.op.get_mut("parameters"))
            .filter_map(Value::as_array_mut);
        for param in lists.flatten().filter_map(Value::as_object_mut) {
            if param.get("style").and_then(Value::as_str) == Some("deepObject") {
                param.remove("style");
                param.remove("explode");
            }
        }
    });
}

/// One query parameter per property of a deepObject parameter, or `None`
/// when a property is not a plain value.
fn deep_object(param: &Value, schema: &Value, name: &str) -> Option<Vec<Value>> {
    let props = schema.get("properties")?.as_object()?;
    if props.is_empty()
        || schema
            .get("additionalProperties")
            .is_some_and(|a| a != &json!(false))
    {
        return None;
    }
    let required: BTreeSet<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let param_required = param.get("required") == Some(&Value::Bool(true));
    props
        .iter()
        .map(|(prop, s)| {
            let plain = matches!(
                s.get("type").and_then(Value::as_str),
                Some("string" | "integer" | "number" | "boolean")
            );
            plain.then(|| {
                let mut p = json!({
                    "name": format!("{name}[{prop}]"),
                    "in": "query",
                    "required": param_required && required.contains(prop.as_str()),
                    "schema": s,
                });
                if let Some(d) = s.get("description") {
                    p["description"] = d.clone();
                }
                p
            })
        })
        .collect()
}

pub(super) const NEVER_NULL: Rule = Rule {
    name: "header-and-path-never-null",
    module: module_path!(),
    apply: never_null,
    rows: &[Row {
        construct: "a header or path parameter whose schema is nullable",
        action: "normalized: not nullable (an absent optional header is `None`; `Option<Option<&str>>` could not be sent)",
    }],
    snapshots: &["normalize-list-header"],
};

/// A header or path segment holds text, never null: an absent optional
/// header is `None` already (a nullable one became `Option<Option<&str>>`,
/// which cannot be sent).
fn never_null(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    each_parameter(doc, context, &|p, mut param, notes| {
        let location = &p.location;
        if matches!(location.as_str(), "header" | "path")
            && let Some(Value::Object(own)) = param.get_mut("schema")
            && own.remove("nullable") == Some(Value::Bool(true))
        {
            notes.push(format!(
                "{}: the {location} parameter `{}` is not nullable (a {location} value cannot be null)",
                p.op_id, p.name
            ));
        }
        Ok(vec![param])
    });
    Ok(())
}

pub(super) const DELIMITED_QUERIES: Rule = Rule {
    name: "delimited-queries",
    module: module_path!(),
    apply: delimited_queries,
    rows: &[Row {
        construct: "a query parameter of style `spaceDelimited` or `pipeDelimited` (progenitor refused the whole operation)",
        action: "normalized: one string, the values joined by spaces or `|` (what the style sends); exploded, it is the repeated form (`q=a&q=b`), as the style then means",
    }],
    snapshots: &["normalize-parameter-forms"],
};

/// A delimited query list is one value, its items joined by the style's
/// delimiter: a string parameter carries exactly that. Exploded, the
/// items are repeated as in the `form` style.
fn delimited_queries(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    each_parameter(doc, context, &|p, mut param, notes| {
        let style = param
            .get("style")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let joiner = match style.as_str() {
            "spaceDelimited" => "spaces",
            "pipeDelimited" => "`|`",
            _ => return Ok(vec![param]),
        };
        if p.location != "query" {
            return Ok(vec![param]);
        }
        let explode = param.get("explode").and_then(Value::as_bool) == Some(true);
        if let Some(map) = param.as_object_mut() {
            map.remove("style");
        }
        if explode {
            notes.push(format!(
                "{}: the query parameter `{}` ({style}, exploded) is sent as repeated `{}=` pairs",
                p.op_id, p.name, p.name
            ));
            return Ok(vec![param]);
        }
        param["schema"] = json!({"type": "string"});
        param["explode"] = json!(false);
        let description = match param.get("description").and_then(Value::as_str) {
            Some(d) => format!("{d} (values joined by {joiner})"),
            None => format!("Values joined by {joiner}."),
        };
        param["description"] = json!(description);
        notes.push(format!(
            "{}: the query parameter `{}` ({style}) takes its values joined by {joiner}, as one string",
            p.op_id, p.name
        ));
        Ok(vec![param])
    });
    Ok(())
}

pub(super) const PATH_STYLES: Rule = Rule {
    name: "path-styles",
    module: module_path!(),
    apply: path_styles,
    rows: &[Row {
        construct: "a path parameter of style `matrix` or `label` (progenitor refused the whole operation)",
        action: "normalized: the style's prefix is written into the path (`/lists/;list_id={list_id}`, `/lists/.{list_id}`) and the value goes in as a simple one",
    }],
    snapshots: &["normalize-parameter-forms"],
};

/// The `matrix` and `label` styles put a fixed prefix before a path
/// parameter's value (`;name=`, `.`): written into the path's template,
/// the parameter is a simple one.
fn path_styles(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let root = doc.clone();
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    let mut renames: Vec<(String, String)> = Vec::new();
    for (key, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        let mut template = key.clone();
        let lists = std::iter::once("parameters")
            .chain(super::METHODS.iter().copied())
            .collect::<Vec<_>>();
        for list in lists {
            let params = if list == "parameters" {
                item.get_mut("parameters")
            } else {
                item.get_mut(list).and_then(|op| op.get_mut("parameters"))
            };
            let Some(Value::Array(params)) = params else {
                continue;
            };
            for param in params.iter_mut() {
                let r = resolved(param, &root);
                let name = r.get("name").and_then(Value::as_str).unwrap_or("");
                let prefix = match r.get("style").and_then(Value::as_str) {
                    _ if r.get("in").and_then(Value::as_str) != Some("path") => continue,
                    Some("matrix") => format!(";{name}="),
                    Some("label") => ".".to_owned(),
                    _ => continue,
                };
                let variable = format!("{{{name}}}");
                let written = format!("{prefix}{variable}");
                if !template.contains(&written) {
                    template = template.replacen(&variable, &written, 1);
                }
                let mut simple = r.clone();
                if let Some(map) = simple.as_object_mut() {
                    map.remove("style");
                    map.remove("explode");
                }
                *param = simple;
            }
        }
        if template != *key {
            renames.push((key.clone(), template));
        }
    }
    if renames.is_empty() {
        return Ok(());
    }
    let old = std::mem::take(paths);
    for (key, item) in old {
        let key = match renames.iter().find(|(from, _)| *from == key) {
            Some((_, to)) => to.clone(),
            None => key,
        };
        paths.insert(key, item);
    }
    context.notes.push(format!(
        "path parameters of style matrix or label have the style's prefix written into the path: {}",
        renames
            .iter()
            .map(|(from, to)| format!("{from} → {to}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(())
}

pub(super) const LIST_HEADERS: Rule = Rule {
    name: "list-headers",
    module: module_path!(),
    apply: list_headers,
    rows: &[Row {
        construct: "header parameter of list type",
        action: "normalized: one string, the values joined by commas (the simple style)",
    }],
    snapshots: &["normalize-list-header"],
};

/// The simple style joins a list header's values with commas: a string
/// parameter carries exactly that.
fn list_headers(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    each_parameter(doc, context, &|p, mut param, notes| {
        if p.location == "header" && p.schema.get("type").and_then(Value::as_str) == Some("array") {
            param["schema"] = json!({"type": "string"});
            let description = match param.get("description").and_then(Value::as_str) {
                Some(d) => format!("{d} (values joined by commas)"),
                None => "Values joined by commas.".into(),
            };
            param["description"] = json!(description);
            notes.push(format!(
                "{}: the list-valued header `{}` takes its values joined by commas, as one string",
                p.op_id, p.name
            ));
        }
        Ok(vec![param])
    });
    Ok(())
}

pub(super) const STRING_UNIONS: Rule = Rule {
    name: "string-unions",
    module: module_path!(),
    apply: string_unions,
    rows: &[
        Row {
            construct: "a path or header parameter typed by a `oneOf`/`anyOf` of strings (an enum or a free string, a uuid or a name)",
            action: "normalized: a string (what every arm is on the wire; typify's union type has no `Display` to put in a URL)",
        },
        Row {
            construct: "a path or header parameter typed by a list, an object, or a union with a list or object arm (Elastic's `names`: a name or a list of names)",
            action: "normalized: a string the caller writes as the URL spells it (a list comma-separated); typify's type has no `Display`",
        },
    ],
    snapshots: &["normalize-parameter-forms"],
};

/// A union whose every arm is a string is a string in a path or a header:
/// the arms only say which strings are meant. typify makes such a union a
/// type without `Display`, which a path or header cannot take.
fn string_unions(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let components = doc.get("components").cloned().unwrap_or(json!({}));
    each_parameter(doc, context, &|p, mut param, notes| {
        if !matches!(p.location.as_str(), "header" | "path") {
            return Ok(vec![param]);
        }
        // Through `$ref`s and `allOf` wrappers of one part.
        let unwrap = |schema: &Value| -> Value {
            let mut schema = resolve(schema, &components).clone();
            for _ in 0..8 {
                let only = match schema
                    .get("allOf")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                {
                    Some([only]) => resolve(only, &components).clone(),
                    _ => break,
                };
                schema = only;
            }
            schema
        };
        // A list or an object: typify's type for it has no `Display`.
        let structured = |schema: &Value| {
            let schema = unwrap(schema);
            matches!(
                schema.get("type").and_then(Value::as_str),
                Some("array" | "object")
            ) || schema.get("properties").is_some()
        };
        let schema = unwrap(&p.schema);
        let arms: Vec<&Value> = ["oneOf", "anyOf"]
            .iter()
            .filter_map(|k| schema.get(*k).and_then(Value::as_array))
            .flatten()
            .collect();
        let is_string = |arm: &Value| {
            let arm = resolve(arm, &components);
            let typed = arm.get("type").and_then(Value::as_str) == Some("string");
            let untyped_strings = arm.get("type").is_none()
                && (arm.get("const").is_some_and(Value::is_string)
                    || arm
                        .get("enum")
                        .and_then(Value::as_array)
                        .is_some_and(|values| values.iter().all(Value::is_string)));
            typed || untyped_strings
        };
        if !arms.is_empty() && arms.iter().all(|arm| is_string(arm)) {
            param["schema"] = json!({"type": "string"});
            notes.push(format!(
                "{}: the {} parameter `{}`, a union of strings, is a string",
                p.op_id, p.location, p.name
            ));
        } else if structured(&schema) || arms.iter().any(|arm| structured(arm)) {
            param["schema"] = json!({"type": "string"});
            notes.push(format!(
                "{}: the {} parameter `{}`, a list, an object or a union with one, is a string the caller writes as the URL spells it (a list comma-separated)",
                p.op_id, p.location, p.name
            ));
        }
        Ok(vec![param])
    });
    Ok(())
}

pub(super) const CONTENT_PARAMETERS: Rule = Rule {
    name: "content-parameters",
    module: module_path!(),
    apply: content_parameters,
    rows: &[Row {
        construct: "a parameter described by `content` (a media type and its schema) instead of `schema`",
        action: "normalized: typed by that schema when it is a plain value; otherwise a string, the value's JSON text, which the caller writes",
    }],
    snapshots: &["normalize-parameter-forms"],
};

/// A parameter may give its type as `content: {media type: {schema}}`
/// rather than `schema`, which progenitor requires. A plain value is typed
/// by that schema; anything else goes as its text in that media type (for
/// JSON, the caller's `serde_json::to_string`), said in its description.
fn content_parameters(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let components = doc.get("components").cloned().unwrap_or(json!({}));
    each_parameter(doc, context, &|p, mut param, notes| {
        if param.get("schema").is_some() {
            return Ok(vec![param]);
        }
        let Some((media, schema)) = param
            .get("content")
            .and_then(Value::as_object)
            .and_then(|c| c.iter().next())
            .map(|(media, m)| (media.clone(), m.get("schema").cloned().unwrap_or(json!({}))))
        else {
            return Ok(vec![param]);
        };
        let plain = matches!(
            resolve(&schema, &components)
                .get("type")
                .and_then(Value::as_str),
            Some("string" | "integer" | "number" | "boolean")
        );
        let Some(object) = param.as_object_mut() else {
            return Ok(vec![param]);
        };
        object.remove("content");
        if plain {
            object.insert("schema".into(), schema);
        } else {
            object.insert("schema".into(), json!({"type": "string"}));
            let said = object
                .get("description")
                .and_then(Value::as_str)
                .map(|d| format!("{d} "))
                .unwrap_or_default();
            object.insert(
                "description".into(),
                json!(format!("{said}(The value's text as {media}.)")),
            );
        }
        notes.push(format!(
            "{}: the {} parameter `{}` is given by content ({media}): {}",
            p.op_id,
            p.location,
            p.name,
            if plain {
                "typed by its schema"
            } else {
                "a string, the value's text in that media type"
            }
        ));
        Ok(vec![param])
    });
    Ok(())
}
