//! Compositions: a cycle made of `allOf`, `oneOf` and `anyOf` references
//! alone, which typify would follow without end.

use serde_json::{Map, Value};

use super::{Context, Problem, Row, Rule, escape};
use crate::pointer::schema_ref;

pub(super) const UNIONS_OF_CHILDREN: Rule = Rule {
    name: "unions-of-children",
    module: module_path!(),
    apply: unions_of_children,
    rows: &[Row {
        construct: "a parent whose `oneOf`/`anyOf` lists children that are `allOf` it (a discriminated hierarchy, recursive)",
        action: "normalized: the parent's own fields become `{Parent}Base`, which the children extend; the parent is the union of its children, every one kept",
    }],
    snapshots: &["normalize-union-of-children"],
};

/// A parent `P` whose `oneOf` (or `anyOf`) lists children that extend it
/// (`allOf: [$ref P, ..]`) is a cycle typify cannot follow; cutting it
/// would drop every child from `P`. Instead the shared part moves out:
/// `PBase` holds `P`'s own fields, each child extends `PBase`, and `P` is
/// the union of its children (with its discriminator), so a value of `P`
/// is read as the child it is.
fn unions_of_children(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return Ok(());
    };
    let parents: Vec<String> = schemas
        .iter()
        .filter(|(name, schema)| {
            ["oneOf", "anyOf"].iter().any(|key| {
                schema
                    .get(key)
                    .and_then(Value::as_array)
                    .is_some_and(|arms| {
                        arms.iter()
                            .filter_map(schema_ref)
                            .any(|child| extends(schemas.get(&child), name))
                    })
            })
        })
        .map(|(name, _)| name.clone())
        .collect();
    for parent in parents {
        let mut base_name = format!("{parent}Base");
        let mut n = 2;
        while schemas.contains_key(&base_name) {
            base_name = format!("{parent}Base{n}");
            n += 1;
        }
        let Some(Value::Object(schema)) = schemas.get_mut(&parent) else {
            continue;
        };
        // The parent keeps its union, its discriminator and its words;
        // the rest (fields, required, type) is the base the children share.
        const UNION: [&str; 6] = [
            "oneOf",
            "anyOf",
            "discriminator",
            "description",
            "title",
            "nullable",
        ];
        let mut base = Map::new();
        let mut union = Map::new();
        for (key, value) in std::mem::take(schema) {
            if UNION.contains(&key.as_str()) {
                union.insert(key, value);
            } else {
                base.insert(key, value);
            }
        }
        *schema = union;
        let children: Vec<String> = ["oneOf", "anyOf"]
            .iter()
            .filter_map(|key| schema.get(*key).and_then(Value::as_array))
            .flatten()
            .filter_map(schema_ref)
            .collect();
        let base_ref = Value::String(format!("#/components/schemas/{}", escape(&base_name)));
        let mut extended = Vec::new();
        for child in &children {
            let Some(entries) = schemas
                .get_mut(child)
                .and_then(|c| c.get_mut("allOf"))
                .and_then(Value::as_array_mut)
            else {
                continue;
            };
            for entry in entries.iter_mut() {
                if schema_ref(entry).as_deref() == Some(parent.as_str()) {
                    entry["$ref"] = base_ref.clone();
                    extended.push(child.clone());
                }
            }
        }
        schemas.insert(base_name.clone(), Value::Object(base));
        context.notes.push(format!(
            "`{parent}`: its children {} extend it; their shared part is `{base_name}`, and `{parent}` is the union of its children",
            extended
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(())
}

/// Whether `child` lists `parent` among its `allOf` entries.
fn extends(child: Option<&Value>, parent: &str) -> bool {
    child
        .and_then(|c| c.get("allOf"))
        .and_then(Value::as_array)
        .is_some_and(|entries| {
            entries
                .iter()
                .any(|e| schema_ref(e).as_deref() == Some(parent))
        })
}

pub(super) const CYCLES: Rule = Rule {
    name: "composition-cycles",
    module: module_path!(),
    apply: cycles,
    rows: &[Row {
        construct: "a cycle of compositions (a parent whose `oneOf` lists children that are `allOf` it)",
        action: "the closing `oneOf` branch dropped (typify would recurse without end)",
    }],
    snapshots: &["lenient-composition-cycle"],
};

/// A composition reference: from a component, by its `key` entry `index`,
/// to the component named.
type Edge = (String, &'static str, usize);

/// Breaks every cycle made of composition references alone (a component's
/// own `allOf`, `oneOf` and `anyOf` entries that are `$ref`s), by dropping
/// a `oneOf`/`anyOf` branch on it (an `allOf` entry when there is none).
fn cycles(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    const KEYS: [&str; 3] = ["oneOf", "anyOf", "allOf"];
    let target = schema_ref;
    // A bound on the work: each round removes one edge.
    for _ in 0..1000 {
        let Some(schemas) = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
        else {
            return Ok(());
        };
        let edges = |name: &str| -> Vec<Edge> {
            let mut out = Vec::new();
            if let Some(s) = schemas.get(name) {
                for key in KEYS {
                    if let Some(Value::Array(parts)) = s.get(key) {
                        for (i, part) in parts.iter().enumerate() {
                            if let Some(t) = target(part) {
                                out.push((t, key, i));
                            }
                        }
                    }
                }
            }
            out
        };
        // A depth-first search for a cycle; the edge to cut on it.
        let mut cut: Option<Edge> = None;
        'search: for start in schemas.keys() {
            let mut stack: Vec<(String, Vec<Edge>)> = vec![(start.clone(), Vec::new())];
            let mut seen = std::collections::BTreeSet::new();
            while let Some((node, path)) = stack.pop() {
                for (next, key, i) in edges(&node) {
                    let mut route = path.clone();
                    route.push((node.clone(), key, i));
                    if next == *start {
                        cut = route
                            .iter()
                            .find(|(_, k, _)| *k != "allOf")
                            .or_else(|| route.last())
                            .cloned();
                        break 'search;
                    }
                    if seen.insert(next.clone()) {
                        stack.push((next, route));
                    }
                }
            }
        }
        let Some((name, key, index)) = cut else {
            return Ok(());
        };
        let entry = doc
            .pointer(&format!(
                "/components/schemas/{}/{key}/{index}",
                escape(&name)
            ))
            .and_then(target)
            .unwrap_or_default();
        let pointer = format!("/components/schemas/{}/{key}", escape(&name));
        if let Some(Value::Array(parts)) = doc.pointer_mut(&pointer) {
            parts.remove(index);
            if parts.is_empty()
                && let Some(Value::Object(schema)) =
                    doc.pointer_mut(&format!("/components/schemas/{}", escape(&name)))
            {
                schema.remove(key);
            }
        }
        context.notes.push(format!(
            "`{name}`: `{entry}` in its `{key}` closes a cycle of compositions and was dropped"
        ));
    }
    Ok(())
}
