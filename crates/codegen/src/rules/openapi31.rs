//! OpenAPI 3.1 (and 3.1's forms written into 3.0 documents): rewritten as
//! the 3.0 forms progenitor reads. Other versions are refused.

use serde_json::{Value, json};

use super::{Context, Problem, Row, Rule, problem};

pub(super) const TO_30: Rule = Rule {
    name: "openapi-3.1-forms",
    module: module_path!(),
    apply: to_30,
    rows: &[
        Row {
            construct: "OpenAPI 3.1 (`type: [T, null]`, `const`, `examples`, numeric exclusive bounds)",
            action: "normalized to the 3.0 forms",
        },
        Row {
            construct: "`anyOf`/`oneOf` of one schema and `{type: null}`",
            action: "normalized: that schema, `nullable` (an `Option`)",
        },
        Row {
            construct: "`type: 'null'`, type lists, `null` among several `oneOf` branches (or a null branch spelt as a nullable object without properties), in 3.0 or 3.1",
            action: "nullable",
        },
        Row {
            construct: "`oneOf` of `const`s with titles (a documented enum), and enums `allOf` one",
            action: "an `enum`, the values and their titles in its description",
        },
    ],
    snapshots: &[
        "normalize-openapi-3.1-forms",
        "normalize-nullable-any-of",
        "openapi31-null-among-several",
        "lenient-documented-enums-and-bare-formats",
    ],
};

fn to_30(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let version = doc
        .get("openapi")
        .and_then(Value::as_str)
        .ok_or_else(|| problem("/openapi", "the document has no `openapi` version string"))?
        .to_owned();
    if version.starts_with("3.1.") {
        downgrade_31(doc);
        context.notes.push(format!(
            "the document is OpenAPI {version}: its 3.1 schema forms were rewritten as 3.0"
        ));
    } else if version.starts_with("3.0.") {
        // 3.0 documents written with 3.1's forms (`type: 'null'`, type
        // lists) mean what 3.1 says.
        let before = doc.clone();
        downgrade_31(doc);
        doc["openapi"] = Value::String(version.clone());
        if *doc != before {
            context.notes.push("3.1 schema forms (`type: 'null'`, lists of types, `const`) and null branches in this 3.0 document were rewritten as 3.0".into());
        }
    } else {
        return Err(problem(
            "/openapi",
            format!("OpenAPI {version} is not supported: use 3.0.x or 3.1.x"),
        ));
    }
    Ok(())
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
                            || v.get("enum") == Some(&json!([null]))
                            || only_null_object(v)
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

/// The 3.0 way some specs spell "null" as a branch of a union: a nullable
/// object that admits no property (`{type: object, nullable: true,
/// additionalProperties: false}`), nothing else but its docs.
fn only_null_object(schema: &Value) -> bool {
    let Some(map) = schema.as_object() else {
        return false;
    };
    map.get("type").and_then(Value::as_str) == Some("object")
        && map.get("nullable") == Some(&Value::Bool(true))
        && map.get("additionalProperties") == Some(&Value::Bool(false))
        && map.keys().all(|k| {
            matches!(
                k.as_str(),
                "type" | "nullable" | "additionalProperties" | "title" | "description"
            )
        })
}
