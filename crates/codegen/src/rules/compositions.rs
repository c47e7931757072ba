//! Compositions: a cycle made of `allOf`, `oneOf` and `anyOf` references
//! alone, which typify would follow without end.

use serde_json::Value;

use super::{Context, Problem, Row, Rule, escape};

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
    let target = |v: &Value| {
        v.get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .map(|n| n.replace("~1", "/").replace("~0", "~"))
    };
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
