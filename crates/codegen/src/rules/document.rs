//! The document as a whole: what is refused (a Swagger 2.0 document, a
//! `$ref` that names nothing), and the departures from OpenAPI 3.0 that are
//! taken as meant (`required: true` on a schema, no `paths`).

use serde_json::{Value, json};

use super::{Context, Problem, Row, Rule, escape, problem};

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

pub(super) const REFERENCES_RESOLVE: Rule = Rule {
    name: "references-resolve",
    module: module_path!(),
    apply: references_resolve,
    rows: &[
        Row {
            construct: "a dangling or external `$ref`",
            action: "refused, naming the pointer of the `$ref`",
        },
        Row {
            construct: "a `$ref` inside an example value",
            action: "data, not a reference",
        },
    ],
    snapshots: &["lenient-example-with-ref-text", "refuse-dangling-reference"],
};

/// Every local `$ref` must name something in the document: a dangling one
/// would otherwise lose its type without a word (the answer decoding into
/// an untyped value). External references are refused the same way.
fn references_resolve(doc: &mut Value, _: &mut Context) -> Result<(), Problem> {
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
                    walk(root, value, &format!("{at}/{}", escape(key)))?;
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
