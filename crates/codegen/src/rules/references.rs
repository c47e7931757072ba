//! References: every `$ref` names something in the document, and the
//! generator is only given references to whole components.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Context, Problem, Row, Rule, escape, for_each_schema, problem};
use crate::names::Names;

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

pub(super) const DEEP_REFERENCES: Rule = Rule {
    name: "deep-references",
    module: module_path!(),
    apply: deep_references,
    rows: &[Row {
        construct: "a `$ref` to a place inside a component or an operation (`#/components/schemas/Tag/allOf/0`, `#/components/parameters/kind/schema`)",
        action: "normalized: a schema it names becomes a component of its own (named after its place), the `$ref` points at it; any other element is inlined",
    }],
    snapshots: &["normalize-deep-references"],
};

/// The JSON pointer a local `$ref` names, when that is not a whole
/// component (`#/components/{kind}/{name}`), which is all the generator
/// resolves.
fn deep(reference: &str) -> Option<&str> {
    let pointer = reference.strip_prefix('#')?;
    let segments: Vec<&str> = pointer.split('/').skip(1).collect();
    let whole_component = segments.len() == 3 && segments[0] == "components";
    (!whole_component && !pointer.is_empty()).then_some(pointer)
}

/// A name for the schema at `pointer`, after its place:
/// `/components/parameters/kind/schema` → `kind`,
/// `/components/schemas/Tag/allOf/0` → `Tag-allOf-0`,
/// `/components/responses/Conflict/content/application~1json/schema` →
/// `Conflict`.
fn name_of_place(pointer: &str) -> String {
    let segments: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut kept: Vec<&str> = segments.iter().map(String::as_str).collect();
    if kept.first() == Some(&"components") {
        kept.drain(..kept.len().min(2));
    }
    // `…/schema`, `…/content/{media type}/schema`: named after the element
    // that holds them.
    if kept.len() > 1 && kept.last() == Some(&"schema") {
        kept.pop();
    }
    if kept.len() > 2 && kept[kept.len() - 2] == "content" {
        kept.truncate(kept.len() - 2);
    }
    let wanted = kept.join("-");
    if wanted.is_empty() {
        "Schema".into()
    } else {
        wanted
    }
}

/// typify resolves only references to whole components: a schema named by
/// a deeper `$ref` is copied into a component of its own (one per place,
/// shared by every reference to it), and any other element a deep `$ref`
/// names (a parameter of another operation) is inlined. Repeated until no
/// deep reference is left, since a copy may hold one.
fn deep_references(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let mut names = Names::default();
    if let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for key in schemas.keys() {
            names.claim(key);
        }
    }
    let mut hoisted: BTreeMap<String, String> = BTreeMap::new();
    let mut inlined = 0;
    for _ in 0..64 {
        // Deep references in schema positions, and elsewhere.
        let mut in_schemas = Vec::new();
        for_each_schema(doc, &mut |at, schema| {
            if let Some(Value::String(r)) = schema.get("$ref")
                && deep(r).is_some()
            {
                in_schemas.push(at.to_owned());
            }
        });
        let mut elsewhere = Vec::new();
        collect_deep(doc, "", &in_schemas, &mut elsewhere);
        if in_schemas.is_empty() && elsewhere.is_empty() {
            break;
        }
        let root = doc.clone();
        for at in in_schemas {
            let Some(Value::Object(schema)) = doc.pointer_mut(&at) else {
                continue;
            };
            let Some(Value::String(reference)) = schema.get("$ref").cloned() else {
                continue;
            };
            let Some(target) = deep(&reference).and_then(|p| root.pointer(p)) else {
                continue;
            };
            // A place that only refers on: refer to what it names.
            if let Some(Value::String(next)) = target.get("$ref")
                && target.as_object().is_some_and(|t| t.len() == 1)
            {
                schema.insert("$ref".into(), json!(next));
                continue;
            }
            let name = hoisted
                .entry(reference.clone())
                .or_insert_with(|| names.claim(&name_of_place(&reference[1..])))
                .clone();
            schema.insert(
                "$ref".into(),
                json!(format!("#/components/schemas/{}", escape(&name))),
            );
            if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas")
                && !schemas.contains_key(&name)
            {
                schemas.insert(name, target.clone());
            } else if doc.pointer("/components/schemas").is_none() {
                super::add_components(doc, [(name, target.clone())].into_iter().collect())?;
            }
        }
        for at in elsewhere {
            let target = doc
                .pointer(&format!("{at}/$ref"))
                .and_then(Value::as_str)
                .and_then(deep)
                .and_then(|p| root.pointer(p))
                .cloned();
            if let (Some(target), Some(place)) = (target, doc.pointer_mut(&at)) {
                *place = target;
                inlined += 1;
            }
        }
    }
    if !hoisted.is_empty() {
        context.notes.push(format!(
            "schemas named by a `$ref` inside another element are components of their own: {}",
            hoisted
                .iter()
                .map(|(from, to)| format!("{from} → {to}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if inlined > 0 {
        context.notes.push(format!(
            "{inlined} element(s) named by a `$ref` inside another element were inlined"
        ));
    }
    Ok(())
}

/// Pointers of the objects outside schemas (not in `schemas`) whose `$ref`
/// is deep; example values and extensions are data.
fn collect_deep(node: &Value, at: &str, schemas: &[String], out: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref")
                && deep(r).is_some()
                && !schemas.iter().any(|s| s == at)
            {
                out.push(at.to_owned());
                return;
            }
            for (key, value) in map {
                let data = key == "example"
                    || key == "examples"
                    || key.starts_with("x-")
                    || key == "schema"
                    || (key == "schemas" && at == "/components");
                if !data {
                    collect_deep(value, &format!("{at}/{}", escape(key)), schemas, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_deep(item, &format!("{at}/{i}"), schemas, out);
            }
        }
        _ => {}
    }
}
