//! Rewrites of an OpenAPI document, done on its JSON form before progenitor
//! sees it, for the constructs progenitor 0.15 cannot take.
//!
//! Each rewrite keeps what a client needs to send the same request and read
//! the same answer; each one leaves a note that `cargo xtask generate` prints
//! and that the generated file's header lists.
//!
//! | construct | progenitor 0.15 | what we do |
//! |---|---|---|
//! | Swagger 2.0 | rejects the document | refuse with a clear error: convert the spec first |
//! | OpenAPI 3.1 | rejects the document | rewrite the 3.1-only schema forms into their 3.0 equivalents |
//! | several request media types | panics (`todo!`) | send `application/json` (or the one JSON type offered) |
//! | response JSON type spelt `text/json` or `…+json` | reads it as raw bytes | treat it as `application/json` |
//! | a JSON response without a schema | panics (`todo!`) | accept any JSON value |
//! | `default` beside explicit statuses | panics (two success types) | turn `default` into `4XX` and `5XX` |
//! | error statuses with different bodies | panics | one `oneOf` body type per operation |
//! | error statuses with no JSON body | panics when mixed with typed ones | leave them undeclared: the runtime keeps status, headers and raw body for every status anyway |
//! | success statuses with different bodies | panics | one `oneOf` body type per operation |
//! | success statuses with and without a body | panics | drop the bodiless ones (any 2xx is a success); the success value is `Option<T>` |
//! | 3.1 `anyOf`/`oneOf` of one schema and `{type: null}` | rejects the document | that schema, `nullable` |
//! | `required: true` on a schema (not a parameter or body) | rejects the document | dropped: required-ness belongs to the parent's `required` list |
//!
//! The rules for other constructs of published specs (defaults, bounds,
//! enum and name clashes, nullable components, `deepObject`, list headers,
//! bodies the client cannot send) are in `published.rs`; the crate README
//! has the whole table.

use serde_json::{Map, Value, json};

use crate::published;
pub use crate::published::Skipped;

/// The operation extension that marks an operation whose success value is
/// optional (it has success statuses with and without a body).
pub const OPTIONAL_SUCCESS: &str = "x-apikeys-optional-success";

/// A point in the document that could not be handled.
#[derive(Debug)]
pub struct Problem {
    /// JSON pointer into the document.
    pub pointer: String,
    /// What is wrong there.
    pub message: String,
}

fn problem(pointer: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem {
        pointer: pointer.into(),
        message: message.into(),
    }
}

/// Escapes one JSON pointer segment.
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every local `$ref` must name something in the document: a dangling one
/// would otherwise lose its type without a word (the answer decoding into
/// an untyped value). External references are refused the same way.
fn check_refs(doc: &Value) -> Result<(), Problem> {
    fn walk(root: &Value, node: &Value, at: &str) -> Result<(), Problem> {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    let here = format!("{at}/$ref");
                    let Some(pointer) = target.strip_prefix('#') else {
                        return Err(problem(
                            &here,
                            format!(
                                "`{target}` refers to another document: inline it or copy its schemas into this spec"
                            ),
                        ));
                    };
                    if root.pointer(pointer).is_none() {
                        return Err(problem(
                            &here,
                            format!(
                                "`{target}` names nothing in this document: fix the name or add the schema"
                            ),
                        ));
                    }
                }
                for (key, value) in map {
                    // Example values and extensions are data, not the
                    // document's structure: a `$ref` in them is text.
                    let data = key == "example"
                        || key.starts_with("x-")
                        || (key == "value" && at.contains("/examples/"));
                    if data {
                        continue;
                    }
                    let escaped = key.replace('~', "~0").replace('/', "~1");
                    walk(root, value, &format!("{at}/{escaped}"))?;
                }
                Ok(())
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(root, item, &format!("{at}/{i}"))?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    walk(doc, doc, "")
}

/// What normalizing a document did.
#[derive(Debug, Default)]
pub struct Report {
    /// One line per rewrite, for the generated header and `cargo xtask
    /// generate`.
    pub notes: Vec<String>,
    /// Operations left out of the client, each with its reason.
    pub skipped: Vec<Skipped>,
}

/// Normalizes `doc` in place; reports every rewrite and every operation
/// left out.
pub fn normalize(doc: &mut Value) -> Result<Report, Problem> {
    let mut notes = Vec::new();
    let mut skipped = Vec::new();
    if doc.get("swagger").is_some() {
        return Err(problem(
            "/swagger",
            "Swagger 2.0 documents are not supported: convert the spec to OpenAPI 3.0 first",
        ));
    }
    check_refs(doc)?;
    if drop_boolean_required(doc) {
        notes.push("`required: true` on schemas was dropped: a property is required through its parent's `required` list".into());
    }
    let version = doc
        .get("openapi")
        .and_then(Value::as_str)
        .ok_or_else(|| problem("/openapi", "the document has no `openapi` version string"))?
        .to_owned();
    if version.starts_with("3.1.") {
        downgrade_31(doc);
        notes.push(format!(
            "the document is OpenAPI {version}: its 3.1 schema forms were rewritten as 3.0"
        ));
    } else if version.starts_with("3.0.") {
        // 3.0 documents written with 3.1's forms (`type: 'null'`, type
        // lists) mean what 3.1 says.
        let before = doc.clone();
        downgrade_31(doc);
        doc["openapi"] = Value::String(version.clone());
        if *doc != before {
            notes.push("3.1 schema forms (`type: 'null'`, lists of types, `const`) in this 3.0 document were rewritten as 3.0".into());
        }
    } else {
        return Err(problem(
            "/openapi",
            format!("OpenAPI {version} is not supported: use 3.0.x or 3.1.x"),
        ));
    }

    skipped.extend(crate::lenient_spec::apply(doc, &mut notes));
    let mut names = crate::names::Names::of_components(doc, &mut notes);
    published::schemas(doc, &mut names, &mut notes);
    published::distinct_operation_ids(doc, &mut notes);
    published::invented_names(doc, &mut names, &mut notes);

    let mut new_schemas = Map::new();
    let components = doc.get("components").cloned().unwrap_or(json!({}));
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Err(problem("/paths", "the document has no `paths` object"));
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        let mut path_params = item.remove("parameters");
        for method in METHODS {
            let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            let pointer = format!("/paths/{}/{method}", escape(path));
            let op_id = op
                .get("operationId")
                .and_then(Value::as_str)
                .ok_or_else(|| problem(&pointer, "the operation has no operationId"))?
                .to_owned();
            let usable = published::operation(
                op,
                path_params.as_mut(),
                &components,
                &pointer,
                &op_id,
                &mut notes,
            );
            if let Err(skip) = usable {
                skipped.push(skip);
                item.remove(method);
                continue;
            }
            normalize_request(op, &components, &op_id, &mut notes);
            normalize_responses(
                op,
                &components,
                &op_id,
                &mut new_schemas,
                &mut names,
                &mut notes,
            )?;
        }
        if let Some(params) = path_params {
            item.insert("parameters".into(), params);
        }
    }
    paths.retain(|_, item| {
        item.as_object()
            .is_none_or(|i| METHODS.iter().any(|m| i.contains_key(*m)))
    });
    if !new_schemas.is_empty() {
        let schemas = doc
            .as_object_mut()
            .expect("checked above: the document is an object")
            .entry("components")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .ok_or_else(|| problem("/components", "`components` is not an object"))?
            .entry("schemas")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .ok_or_else(|| problem("/components/schemas", "`schemas` is not an object"))?;
        schemas.extend(new_schemas);
    }
    Ok(Report { notes, skipped })
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

/// Follows a local `$ref` (`#/components/<kind>/<name>`) once.
pub(crate) fn resolve<'a>(value: &'a Value, components: &'a Value) -> &'a Value {
    let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
        return value;
    };
    let mut target = components;
    for part in reference
        .trim_start_matches("#/components/")
        .split('/')
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
    {
        match target.get(&part) {
            Some(next) => target = next,
            None => return value,
        }
    }
    target
}

pub(crate) fn is_json(media_type: &str) -> bool {
    // Parameters follow a ';' (or, mistyped, a ',').
    let essence = media_type.split([';', ',']).next().unwrap_or("").trim();
    essence == "application/json" || essence == "text/json" || essence.ends_with("+json")
}

/// Keeps one media type of a request body: `application/json` when offered,
/// else the first JSON type, else the first type progenitor can send.
fn normalize_request(
    op: &mut Map<String, Value>,
    components: &Value,
    op_id: &str,
    notes: &mut Vec<String>,
) {
    let Some(body) = op.get("requestBody") else {
        return;
    };
    let mut body = resolve(body, components).clone();
    let Some(content) = body.get_mut("content").and_then(Value::as_object_mut) else {
        return;
    };
    let keep = content
        .keys()
        .find(|k| k.as_str() == "application/json")
        .or_else(|| content.keys().find(|k| is_json(k)))
        .or_else(|| content.keys().find(|k| published::sendable(k)))
        .cloned()
        .unwrap_or_default();
    let dropped: Vec<String> = content.keys().filter(|k| **k != keep).cloned().collect();
    if dropped.is_empty() && (keep == "application/json" || !is_json(&keep)) {
        return;
    }
    content.retain(|k, _| *k == keep);
    if !dropped.is_empty() {
        notes.push(format!(
            "{op_id}: the request body is sent as {keep} (also offered: {})",
            dropped.join(", ")
        ));
    }
    if keep != "application/json" && is_json(&keep) {
        // progenitor sends JSON only as `application/json`.
        if let Some(media) = content.remove(&keep) {
            content.insert("application/json".into(), media);
        }
        notes.push(format!(
            "{op_id}: the request body, declared as {keep}, is sent as application/json"
        ));
    }
    op.insert("requestBody".into(), body);
}

#[derive(PartialEq)]
enum Class {
    Success,
    Error,
}

fn class(status: &str) -> Class {
    if status.starts_with('2') || status == "default" {
        Class::Success
    } else {
        Class::Error
    }
}

fn normalize_responses(
    op: &mut Map<String, Value>,
    components: &Value,
    op_id: &str,
    new_schemas: &mut Map<String, Value>,
    type_names: &mut crate::names::Names,
    notes: &mut Vec<String>,
) -> Result<(), Problem> {
    let mut optional_success = false;
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    // Inline referenced responses so that each can be rewritten on its own.
    for (status, response) in responses.iter_mut() {
        *response = resolve(response, components).clone();
        let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else {
            continue;
        };
        let json_key = content
            .keys()
            .find(|k| k.as_str() == "application/json")
            .or_else(|| content.keys().find(|k| is_json(k)))
            .cloned();
        if let Some(key) = json_key {
            let mut media = content.remove(&key).unwrap_or_else(|| json!({}));
            if media.get("schema").is_none() {
                media["schema"] = json!({});
            }
            if key != "application/json" {
                notes.push(format!(
                    "{op_id}: the {status} body, declared as {key}, is read as JSON"
                ));
            }
            if !content.is_empty() {
                notes.push(format!(
                    "{op_id}: the {status} answer is typed by its JSON body; other bodies ({}) are kept raw in the error",
                    content.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
            content.clear();
            content.insert("application/json".into(), media);
        }
    }

    let explicit = responses.keys().any(|k| k != "default");
    if explicit && responses.contains_key("default") {
        let default = responses.remove("default").unwrap_or_default();
        for range in ["4XX", "5XX"] {
            responses.entry(range).or_insert_with(|| default.clone());
        }
        notes.push(format!(
            "{op_id}: the `default` answer stands for 4XX and 5XX (beside explicit statuses)"
        ));
    }

    let schema_of = |r: &Value| r.pointer("/content/application~1json/schema").cloned();

    // Error answers without a JSON body are left undeclared.
    let untyped_errors: Vec<String> = responses
        .iter()
        .filter(|(k, r)| class(k) == Class::Error && schema_of(r).is_none())
        .map(|(k, _)| k.clone())
        .collect();
    let typed_errors = responses
        .iter()
        .filter(|(k, r)| class(k) == Class::Error && schema_of(r).is_some())
        .count();
    // A non-JSON error body (`*/*`) would be typed as a byte stream, which
    // an error cannot hold: left undeclared too, typed errors or not.
    let error_streams = untyped_errors.iter().any(|k| {
        responses[k]
            .get("content")
            .and_then(Value::as_object)
            .is_some_and(|c| !c.is_empty())
    });
    if !untyped_errors.is_empty() && (typed_errors > 0 || error_streams) {
        responses.retain(|k, _| !untyped_errors.contains(k));
        notes.push(format!(
            "{op_id}: error statuses without a JSON body ({}) are read as undeclared statuses",
            untyped_errors.join(", ")
        ));
    }

    let success_typed = responses
        .iter()
        .filter(|(k, r)| class(k) == Class::Success && schema_of(r).is_some())
        .count();
    let success_untyped: Vec<String> = responses
        .iter()
        .filter(|(k, r)| class(k) == Class::Success && schema_of(r).is_none())
        .map(|(k, _)| k.clone())
        .collect();
    if success_typed > 0 && !success_untyped.is_empty() {
        // Any 2xx is a success and an empty body is read by the runtime:
        // the bodiless statuses need no arm of their own, and the success
        // value becomes optional (`None` for an answer without a body).
        responses.retain(|k, _| !success_untyped.contains(k));
        optional_success = true;
        notes.push(format!(
            "{op_id}: success answers without a body ({}) beside typed ones: the success value is optional (None when an answer has no body)",
            success_untyped.join(", ")
        ));
    }

    for (which, suffix) in [(Class::Success, "Response"), (Class::Error, "Error")] {
        let mut distinct: Vec<Value> = Vec::new();
        for (k, r) in responses.iter() {
            if class(k) == which
                && let Some(s) = schema_of(r)
                && !distinct.contains(&s)
            {
                distinct.push(s);
            }
        }
        if distinct.len() <= 1 {
            continue;
        }
        // A union of named schemas is named after them, so that operations
        // with the same bodies share one type; otherwise after the operation.
        let names: Option<Vec<&str>> = distinct
            .iter()
            .map(|s| {
                s.get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
            })
            .collect();
        let wanted = match names {
            Some(names) => names.join("Or"),
            None => format!("{}{suffix}", upper_first(op_id)),
        };
        // The same union made for another operation is shared; any other
        // type of that name (a component, another union) keeps its name
        // and this union gets a free one.
        let same = Value::Array(distinct.clone());
        let mut name = wanted.clone();
        for n in 2.. {
            if new_schemas.get(&name).and_then(|u| u.get("oneOf")) == Some(&same) {
                break;
            }
            if !type_names.is_taken(&name) {
                type_names.claim(&name);
                break;
            }
            name = format!("{wanted}{n}");
        }
        let reference = json!({ "$ref": format!("#/components/schemas/{name}") });
        new_schemas.entry(name.clone()).or_insert_with(|| {
            json!({
                "description": "One of several bodies an operation may answer with.",
                "oneOf": distinct.clone(),
            })
        });
        for (k, r) in responses.iter_mut() {
            if class(k) == which && schema_of(r).is_some() {
                r["content"]["application/json"]["schema"] = reference.clone();
            }
        }
        notes.push(format!(
            "{op_id}: {} body types are joined in one type, {name}",
            distinct.len()
        ));
    }
    if optional_success {
        op.insert(OPTIONAL_SUCCESS.into(), Value::Bool(true));
    }
    Ok(())
}

fn upper_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Rewrites the OpenAPI 3.1 schema forms progenitor cannot read into their
/// 3.0 equivalents: `type: [T, "null"]`, `const`, `examples: [...]`, and
/// numeric `exclusiveMinimum`/`exclusiveMaximum`.
fn downgrade_31(doc: &mut Value) {
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Array(types)) = map.get("type").cloned() {
                    let non_null: Vec<Value> = types
                        .iter()
                        .filter(|t| t.as_str() != Some("null"))
                        .cloned()
                        .collect();
                    if non_null.len() < types.len() {
                        map.insert("nullable".into(), Value::Bool(true));
                    }
                    if non_null.len() == 1 {
                        map.insert("type".into(), non_null[0].clone());
                    } else {
                        map.remove("type");
                    }
                }
                // `type: null` alone: only null, which 3.0 says as a
                // nullable value of any type.
                if map.get("type").and_then(Value::as_str) == Some("null") {
                    map.remove("type");
                    map.insert("nullable".into(), Value::Bool(true));
                }
                // `anyOf: [X, {type: null}]` (or oneOf): X, nullable.
                for key in ["anyOf", "oneOf"] {
                    let Some(Value::Array(options)) = map.get(key).cloned() else {
                        continue;
                    };
                    let is_null = |v: &Value| {
                        v.get("type").and_then(Value::as_str) == Some("null")
                            || v.get("type") == Some(&json!(["null"]))
                    };
                    let rest: Vec<Value> =
                        options.iter().filter(|v| !is_null(v)).cloned().collect();
                    // `oneOf: [A, B, {type: null}]`: A or B, nullable.
                    if rest.len() > 1 && rest.len() < options.len() {
                        map.insert(key.into(), Value::Array(rest.clone()));
                        map.insert("nullable".into(), Value::Bool(true));
                    }
                    if rest.len() == 1 && rest.len() < options.len() {
                        map.remove(key);
                        let only = rest.into_iter().next().unwrap_or_default();
                        if only.get("$ref").is_some() {
                            map.insert("allOf".into(), Value::Array(vec![only]));
                        } else if let Value::Object(fields) = only {
                            for (k, v) in fields {
                                map.entry(k).or_insert(v);
                            }
                        }
                        map.insert("nullable".into(), Value::Bool(true));
                    }
                }
                // The documented enum: `oneOf` of `const`s, each with a
                // title or description. An enum, its values described.
                for key in ["oneOf", "anyOf"] {
                    let Some(Value::Array(options)) = map.get(key) else {
                        continue;
                    };
                    let value_of = |o: &Value| -> Option<Value> {
                        let o = o.as_object()?;
                        let documentary = o.keys().all(|k| {
                            matches!(
                                k.as_str(),
                                "const" | "enum" | "title" | "description" | "type"
                            )
                        });
                        let value = match (o.get("const"), o.get("enum")) {
                            (Some(c), None) => c.clone(),
                            (None, Some(Value::Array(one))) if one.len() == 1 => one[0].clone(),
                            _ => return None,
                        };
                        (documentary && !value.is_object() && !value.is_array()).then_some(value)
                    };
                    let values: Option<Vec<Value>> = options.iter().map(value_of).collect();
                    let Some(values) = values.filter(|v| !v.is_empty()) else {
                        continue;
                    };
                    let described: Vec<String> = options
                        .iter()
                        .zip(&values)
                        .map(|(o, v)| {
                            let name = o.get("title").and_then(Value::as_str).unwrap_or("");
                            let text = o.get("description").and_then(Value::as_str).unwrap_or("");
                            format!("`{v}` {name} {text}").trim().to_owned()
                        })
                        .collect();
                    map.remove(key);
                    map.insert("enum".into(), Value::Array(values));
                    let mut description = map
                        .get("description")
                        .and_then(Value::as_str)
                        .map(|d| format!("{d}\n\n"))
                        .unwrap_or_default();
                    description.push_str(&format!("Values: {}", described.join("; ")));
                    map.insert("description".into(), Value::String(description));
                }
                // A typed enum that is also `allOf` a reference (a subset of
                // a documented enum): the enum says it all.
                if map.contains_key("enum")
                    && map.contains_key("type")
                    && let Some(Value::Array(parts)) = map.get("allOf")
                    && parts.len() == 1
                    && parts[0].get("$ref").is_some()
                {
                    map.remove("allOf");
                }
                if let Some(c) = map.get("const").cloned()
                    && !c.is_object()
                {
                    map.remove("const");
                    map.insert("enum".into(), Value::Array(vec![c]));
                }
                if let Some(Value::Array(examples)) = map.get("examples").cloned() {
                    map.remove("examples");
                    if let Some(first) = examples.into_iter().next() {
                        map.insert("example".into(), first);
                    }
                }
                for (bound, flag) in [
                    ("exclusiveMinimum", "minimum"),
                    ("exclusiveMaximum", "maximum"),
                ] {
                    if let Some(n @ Value::Number(_)) = map.get(bound).cloned() {
                        map.insert(flag.into(), n);
                        map.insert(bound.into(), Value::Bool(true));
                    }
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(doc);
    if let Some(map) = doc.as_object_mut() {
        map.insert("openapi".into(), Value::String("3.0.3".into()));
        map.remove("webhooks");
        map.remove("jsonSchemaDialect");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(responses: Value) -> Value {
        json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/x": {"post": {
                "operationId": "makeThing",
                "requestBody": {"content": {
                    "application/json-patch+json": {"schema": {"type": "object"}},
                    "application/json": {"schema": {"type": "object"}},
                    "text/json": {"schema": {"type": "object"}}
                }},
                "responses": responses
            }}}
        })
    }

    #[test]
    fn keeps_only_application_json_request_bodies() {
        let mut d = doc(json!({"200": {"description": "ok"}}));
        let notes = normalize(&mut d).unwrap().notes;
        let content = d
            .pointer("/paths/~1x/post/requestBody/content")
            .unwrap()
            .as_object()
            .unwrap();
        assert_eq!(content.keys().collect::<Vec<_>>(), vec!["application/json"]);
        assert!(notes[0].contains("makeThing"), "{notes:?}");
    }

    #[test]
    fn default_beside_typed_statuses_becomes_error_ranges() {
        let body = json!({"content": {"application/json": {"schema": {"type": "string"}}}});
        let mut d = doc(json!({"200": body.clone(), "default": body}));
        normalize(&mut d).unwrap();
        let responses = d.pointer("/paths/~1x/post/responses").unwrap();
        assert!(responses.get("default").is_none());
        assert!(responses.get("4XX").is_some() && responses.get("5XX").is_some());
    }

    #[test]
    fn different_error_bodies_are_joined_in_one_type() {
        let a = json!({"content": {"application/json": {"schema": {"type": "string"}}}});
        let b = json!({"content": {"application/json": {"schema": {"type": "integer"}}}});
        let none = json!({"description": "no body"});
        let mut d = doc(json!({"200": {"description": "ok"}, "400": a, "500": b, "404": none}));
        normalize(&mut d).unwrap();
        let responses = d.pointer("/paths/~1x/post/responses").unwrap();
        assert_eq!(
            responses.pointer("/400/content/application~1json/schema/$ref"),
            Some(&json!("#/components/schemas/MakeThingError"))
        );
        assert!(responses.get("404").is_none());
        assert_eq!(
            d.pointer("/components/schemas/MakeThingError/oneOf")
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn unions_of_named_bodies_are_shared_between_operations() {
        let r = |name: &str| json!({"content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{name}")}}}});
        let op = |id: &str| json!({"operationId": id, "responses": {"200": {"description": "ok"}, "400": r("Bad"), "default": r("Problem")}});
        let mut d = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"get": op("getA")}, "/b": {"delete": op("deleteB")}},
            "components": {"schemas": {"Bad": {"type": "object"}, "Problem": {"type": "object"}}}
        });
        normalize(&mut d).unwrap();
        let shared = json!("#/components/schemas/BadOrProblem");
        for pointer in ["/paths/~1a/get/responses", "/paths/~1b/delete/responses"] {
            let responses = d.pointer(pointer).unwrap();
            for status in ["400", "4XX", "5XX"] {
                assert_eq!(
                    responses.pointer(&format!("/{status}/content/application~1json/schema/$ref")),
                    Some(&shared),
                    "{pointer} {status}"
                );
            }
        }
        assert!(
            d.pointer("/components/schemas/BadOrProblem/oneOf")
                .is_some()
        );
    }

    #[test]
    fn bodiless_successes_beside_typed_ones_make_the_success_optional() {
        let a = json!({"content": {"application/json": {"schema": {"type": "string"}}}});
        let mut d = doc(json!({"200": a, "204": {"description": "empty"}}));
        let notes = normalize(&mut d).unwrap().notes;
        let op = &d["paths"]["/x"]["post"];
        assert_eq!(op[OPTIONAL_SUCCESS], json!(true));
        assert!(op["responses"].get("204").is_none());
        assert!(op["responses"].get("200").is_some());
        assert!(notes.iter().any(|n| n.contains("204")), "{notes:?}");
    }

    #[test]
    fn nullable_any_of_and_boolean_required_become_30_forms() {
        let mut d = json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {},
            "components": {"schemas": {
                "A": {"type": "object", "required": true, "properties": {
                    "b": {"anyOf": [{"$ref": "#/components/schemas/B"}, {"type": "null"}]},
                    "c": {"oneOf": [{"type": "string", "maxLength": 3}, {"type": "null"}]}
                }},
                "B": {"type": "string"}
            }}
        });
        let notes = normalize(&mut d).unwrap().notes;
        let a = &d["components"]["schemas"]["A"];
        assert!(a.get("required").is_none());
        assert_eq!(
            a["properties"]["b"],
            json!({"allOf": [{"$ref": "#/components/schemas/B"}], "nullable": true})
        );
        assert_eq!(
            a["properties"]["c"],
            json!({"type": "string", "maxLength": 3, "nullable": true})
        );
        assert!(notes.iter().any(|n| n.contains("required")), "{notes:?}");
    }

    #[test]
    fn swagger_2_is_refused_and_31_is_downgraded() {
        let mut s = json!({"swagger": "2.0"});
        assert_eq!(normalize(&mut s).unwrap_err().pointer, "/swagger");

        let mut d = doc(json!({"200": {"content": {"application/json": {"schema": {
            "type": ["string", "null"], "examples": ["a"]
        }}}}}));
        d["openapi"] = json!("3.1.0");
        normalize(&mut d).unwrap();
        assert_eq!(d["openapi"], json!("3.0.3"));
        let schema = d
            .pointer("/paths/~1x/post/responses/200/content/application~1json/schema")
            .unwrap();
        assert_eq!(
            schema,
            &json!({"type": "string", "nullable": true, "example": "a"})
        );
    }
}
