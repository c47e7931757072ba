//! Type names: each Rust type the client defines gets one name, and no
//! name is given twice. [`crate::names::Names`] hands them out; these rules
//! ask it.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{Context, METHODS, Problem, Row, Rule, for_each_schema, invented};
use crate::names::{Names, pascal};

pub(super) const COMPONENT_NAMES: Rule = Rule {
    name: "component-names",
    module: module_path!(),
    apply: component_names,
    rows: &[Row {
        construct: "component schemas whose names become one Rust name (`metadata`, `_metadata`)",
        action: "normalized: the later ones (key order) get a number (`metadata2`), every `$ref` follows",
    }],
    snapshots: &["normalize-type-names-that-collide"],
};

/// Claims every component's name, renaming the later of two that become
/// one Rust name.
fn component_names(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    context.names = Names::of_components(doc, &mut context.notes);
    Ok(())
}

pub(super) const TITLES: Rule = Rule {
    name: "titles",
    module: module_path!(),
    apply: titles,
    rows: &[Row {
        construct: "two schemas with one `title`, or a title that is a component's name",
        action: "normalized: titles of component schemas and repeated titles dropped; the type is named after its place",
    }],
    snapshots: &["normalize-duplicate-titles"],
};

/// typify names an inline schema after its `title`: two schemas with the
/// same title, or a title that is also a component's name, would define
/// one Rust type twice. Titles of component schemas are not names (the
/// key is); a title already taken is dropped and the schema is named after
/// where it is.
fn titles(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let names = &mut context.names;
    let mut dropped = Vec::new();
    for_each_schema(doc, &mut |at, schema| {
        let Some(title) = schema.get("title").and_then(Value::as_str) else {
            return;
        };
        let is_component = at
            .strip_prefix("/components/schemas/")
            .is_some_and(|rest| !rest.contains('/'));
        if is_component {
            schema.remove("title");
            return;
        }
        if names.is_taken(title) {
            dropped.push(format!("{at} ({title})"));
            schema.remove("title");
        } else {
            names.claim(title);
        }
    });
    if !dropped.is_empty() {
        context.notes.push(format!(
            "titles already used as a type name were dropped, those schemas are named after their place: {}",
            dropped.join(", ")
        ));
    }
    Ok(())
}
/// Whether the generator makes a named type of this schema: an object,
/// enum or union, or an `allOf` that is more than one reference.
pub(super) fn makes_type(schema: &Value) -> bool {
    if schema.get("$ref").is_some() {
        return false;
    }
    if ["properties", "enum", "oneOf", "anyOf"]
        .iter()
        .any(|k| schema.get(*k).is_some())
    {
        return true;
    }
    match schema
        .get("allOf")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        Some([only]) => makes_type(only),
        Some(parts) => parts.len() > 1,
        None => false,
    }
}

/// Whether the generator names a type after the place of this inline
/// schema: one it [`makes_type`] of, or a string with a length or pattern
/// (a newtype that checks them).
pub(super) fn invents_type(schema: &Value) -> bool {
    let constrained_string = schema.get("type").and_then(Value::as_str) == Some("string")
        && ["minLength", "maxLength", "pattern"]
            .iter()
            .any(|k| schema.get(*k).is_some());
    makes_type(schema) || constrained_string
}

pub(super) const INVENTED_NAMES: Rule = Rule {
    name: "invented-names",
    module: module_path!(),
    apply: invented_names,
    rows: &[
        Row {
            construct: "an inline schema whose invented name (`{Op}Body`, `{Op}Response`) is a component's name",
            action: "normalized: moved into the components as `{Name}2`",
        },
        Row {
            construct: "an inline property schema whose invented name (`{Component}{Property}`) is a component's",
            action: "moved into the components as `{Name}2`",
        },
        Row {
            construct: "a property a component merges through `allOf: [$ref]` (at any depth), inline in another component or defined differently by several parts, whose type the generator names after the merging component (`{Component}{Property}`), a component's name",
            action: "that component is renamed `{Name}2` (its `$ref`s follow) before generation, not after a failed one",
        },
    ],
    snapshots: &[
        "normalize-invented-name-taken",
        "normalize-inherited-names-taken",
    ],
};

/// The names the generator will give types it makes for properties a
/// component merges through `allOf` `$ref`s (followed at any depth), where
/// a component has that name already: `(inheritor, invented name, why)`,
/// each name once. It names such a type `{Component}{Property}` when the
/// property is an inline schema written in another component, or is
/// defined differently by several of the merged parts.
fn inherited_clashes(doc: &Value, names: &Names) -> Vec<(String, String, String)> {
    let mut found: Vec<(String, String, String)> = Vec::new();
    let Some(components) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return found;
    };
    for inheritor in components.keys() {
        let inherited = super::inherited_properties(components, inheritor);
        if inherited.is_empty() {
            continue;
        }
        // Every definition of each property the merge sees, and whether
        // one is an inline schema written in another component.
        let mut definitions: BTreeMap<String, (Vec<&Value>, Option<String>)> = BTreeMap::new();
        for (prop, value) in super::own_properties(components, inheritor) {
            definitions.entry(prop).or_default().0.push(value);
        }
        for (prop, value, owner) in inherited {
            let entry = definitions.entry(prop).or_default();
            entry.0.push(value);
            if invents_type(value) {
                entry.1.get_or_insert(owner);
            }
        }
        for (prop, (values, inline_in)) in definitions {
            // A bare object (`{type: object}`, described or not) adds
            // nothing to a merge: what it is merged with stays as it is.
            let bare = |v: &&Value| {
                v.as_object().is_some_and(|m| {
                    m.keys().all(|k| {
                        k == "type" || k == "description" || k == "title" || k.starts_with("x-")
                    }) && m.get("type").is_none_or(|t| t == "object")
                })
            };
            let mut shaping: Vec<&Value> = values.iter().filter(|v| !bare(v)).copied().collect();
            shaping.dedup();
            let why = if shaping.len() > 1 && shaping.iter().any(|v| *v != shaping[0]) {
                format!("merges `{prop}`, defined differently by several of its parts")
            } else if let Some(owner) = inline_in {
                format!("inherits the inline schema `{prop}` from {owner}")
            } else {
                continue;
            };
            let invented = format!("{}{}", pascal(inheritor), pascal(&prop));
            if names.is_taken(&invented) && !found.iter().any(|(_, n, _)| *n == invented) {
                found.push((inheritor.clone(), invented, why));
            }
        }
    }
    found
}

/// Inline schemas whose invented name (`{OperationId}Response`,
/// `{OperationId}Body`, `{OperationId}{Parameter}`) is already a component's
/// name would define one Rust type twice: they move into the components
/// under a free name.
fn invented_names(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let Context { names, notes, .. } = context;
    let mut hoisted: Vec<(String, Value)> = Vec::new();
    let mut hoist = |invented: String, at: &str, schema: &mut Value, names: &mut Names| {
        let name = names.claim(&invented);
        notes.push(format!(
                "{at}: the inline schema that would be named {invented}, a component's name, is named {name}"
            ));
        hoisted.push((name.clone(), take_inline(schema, &name)));
    };
    // A type the generator makes for a property a component merges from
    // others is named after the component: a component with that name gets
    // another (its `$ref`s follow), as the fallback would after a failed
    // generation.
    let mut renamed = Vec::new();
    for (inheritor, invented, why) in inherited_clashes(doc, names) {
        if let Some((from, to)) = crate::names::rename_component_claiming(doc, &invented, names) {
            renamed.push(format!(
                "component `{from}` is renamed `{to}`: {inheritor} {why}, a type the generator names {invented}"
            ));
        }
    }
    // A component's inline property schema is named `{Component}{Property}`,
    // and so is one of the properties an `allOf` part merges into it.
    if let Some(Value::Object(components)) = doc.pointer_mut("/components/schemas") {
        for (component, schema) in components.iter_mut() {
            let Some(schema) = schema.as_object_mut() else {
                continue;
            };
            let mut maps: Vec<&mut Map<String, Value>> = Vec::new();
            for (key, value) in schema.iter_mut() {
                match (key.as_str(), value) {
                    ("properties", Value::Object(props)) => maps.push(props),
                    ("allOf", Value::Array(parts)) => {
                        for part in parts {
                            if let Some(Value::Object(props)) = part.get_mut("properties") {
                                maps.push(props);
                            }
                        }
                    }
                    _ => {}
                }
            }
            for props in maps {
                for (prop, inline) in props.iter_mut() {
                    let invented = format!("{}{}", pascal(component), pascal(prop));
                    if invents_type(inline) && names.is_taken(&invented) {
                        hoist(invented, component, inline, names);
                    }
                }
            }
        }
    }
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in METHODS {
            let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            let id = op
                .get("operationId")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let mut places: Vec<(String, &mut Value)> = Vec::new();
            for (key, part) in op.iter_mut() {
                match key.as_str() {
                    "requestBody" => {
                        if let Some(Value::Object(content)) = part.get_mut("content") {
                            for media in content.values_mut() {
                                if let Some(s) = media.get_mut("schema") {
                                    places.push((pascal(&format!("{id}-body")), s));
                                }
                            }
                        }
                    }
                    "responses" => {
                        if let Value::Object(responses) = part {
                            for response in responses.values_mut() {
                                if let Some(s) =
                                    response.pointer_mut("/content/application~1json/schema")
                                {
                                    places.push((pascal(&format!("{id}-response")), s));
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            for (invented, schema) in places {
                if invents_type(schema) && names.is_taken(&invented) {
                    hoist(invented, &id, schema, names);
                }
            }
        }
    }
    notes.extend(renamed);
    add_components(doc, hoisted);
    Ok(())
}

/// Replaces the inline schema `schema` by a `$ref` to the component
/// `name`, and returns it (to become that component).
fn take_inline(schema: &mut Value, name: &str) -> Value {
    let reference = json!({ "$ref": format!("#/components/schemas/{}", super::escape(name)) });
    let mut inline = std::mem::replace(schema, reference.clone());
    // A nullable inline schema stays nullable where it was; the new
    // component is not (typify would make `X(Option<X>)` beside `X`).
    if let Some(map) = inline.as_object_mut()
        && map.remove("nullable") == Some(Value::Bool(true))
    {
        *schema = json!({ "allOf": [reference], "nullable": true });
    }
    inline
}

/// Adds `schemas` to the document's component schemas.
fn add_components(doc: &mut Value, hoisted: Vec<(String, Value)>) {
    if hoisted.is_empty() {
        return;
    }
    if let Some(root) = doc.as_object_mut() {
        let schemas = root
            .entry("components")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .map(|c| c.entry("schemas").or_insert_with(|| json!({})));
        if let Some(Value::Object(schemas)) = schemas {
            schemas.extend(hoisted);
        }
    }
}

pub(super) const FORESEEN_NAMES: Rule = Rule {
    name: "foreseen-names",
    module: module_path!(),
    apply: foreseen_names,
    rows: &[Row {
        construct: "an inline schema whose name the generator invents (a nested property `{Type}{Property}`, list items `{Type}Item`, map values `{Type}Value`, the fields of `oneOf` arms, named by the tagging typify finds (`{Type}{Property}` for all arms of an internally tagged one, `{Type}{Variant}{Property}` untagged), the parts of an `anyOf` (`{Type}Subtype{i}`, or as a `oneOf` when its arms exclude each other), a parameter `{Op}{Parameter}`, every answer body `{Op}Response`) where a component or a different inline schema has that name: typify would silently type the second as the first (an error body read as the success type) or define the name twice",
        action: "normalized, before generation: the inline schema moves into the components under a free name (an error body as `{Op}Error`, another as `{Name}2`); one merged from another component through `allOf` renames the component holding the name instead",
    }],
    snapshots: &["normalize-foreseen-names"],
};

/// Rounds of [`foreseen_names`]: each separates every clash it finds; a
/// type moved into the components may bring its children's names into a
/// clash the next round separates. Two rounds sufficed for every spec seen.
const ROUNDS: usize = 8;

/// Every other name the generator invents ([`invented::invented_types`]:
/// nested properties, list items, map values, `oneOf` arms, parameters,
/// bodies), foreseen: one that is a component's name, or that two
/// different inline schemas would get (typify would silently type the
/// second as the first), is separated before generation. An inline schema
/// moves into the components under a free name (`{Name}2`); one merged
/// from another component cannot move alone, so the component holding the
/// name is renamed instead. The names are then taken.
fn foreseen_names(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let Context { names, notes, .. } = context;
    for _ in 0..ROUNDS {
        let found = invented::invented_types(doc);
        for invented in &found {
            names.reserve(&invented.name);
        }
        let components: BTreeMap<String, String> = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|c| c.keys().map(|k| (pascal(k), k.clone())).collect())
            .unwrap_or_default();
        let mut first: BTreeMap<&str, &invented::Invented> = BTreeMap::new();
        // (the schema to move, what it clashes with)
        let mut moves: Vec<(&invented::Invented, String)> = Vec::new();
        let mut renames: Vec<(String, String)> = Vec::new();
        for invented in &found {
            let name = invented.name.as_str();
            if let Some(key) = components.get(name) {
                let what = format!("component `{key}`");
                if !invented.merged {
                    moves.push((invented, what));
                } else if !renames.iter().any(|(n, _)| n == name) {
                    renames.push((invented.name.clone(), invented.at.clone()));
                }
                continue;
            }
            let Some(earlier) = first.get(name) else {
                first.insert(name, invented);
                continue;
            };
            if earlier.at == invented.at || doc.pointer(&earlier.at) == doc.pointer(&invented.at) {
                continue;
            }
            let what = format!("the inline schema at {}", earlier.at);
            if !invented.merged {
                moves.push((invented, what));
            } else if !earlier.merged {
                let what = format!("the inline schema at {}", invented.at);
                moves.push((earlier, what));
                first.insert(name, invented);
            } else {
                notes.push(format!(
                    "{}: the generator names the inline schema merged here {name}, as the different one at {}; it reads both as the first (not separated: both are merged from other components)",
                    invented.at, earlier.at
                ));
            }
        }
        if moves.is_empty() && renames.is_empty() {
            return Ok(());
        }
        // A schema within one moved already moves with it.
        let mut moved: Vec<String> = Vec::new();
        let mut hoisted = Vec::new();
        let mut originals: Vec<(Value, String)> = Vec::new();
        for (invented, what) in moves {
            let at = invented.at.clone();
            let within = |m: &String| at == *m || at.starts_with(&format!("{m}/"));
            if moved.iter().any(within) {
                continue;
            }
            let Some(schema) = doc.pointer_mut(&at) else {
                continue;
            };
            // A union arm's one fixed string may be what tags the union:
            // moved, it would no longer tag it.
            if (at.contains("/oneOf/") || at.contains("/anyOf/"))
                && invented::constant_string(schema).is_some()
            {
                continue;
            }
            moved.push(at.clone());
            // The same schema in two places (the `default` answer copied to
            // 4XX and 5XX) moves into one component.
            if let Some((_, name)) = originals.iter().find(|(o, _)| o == schema) {
                take_inline(schema, name);
                continue;
            }
            let name = names.claim(invented.instead.as_ref().unwrap_or(&invented.name));
            notes.push(format!(
                "{at}: the inline schema the generator would name {}, the name of {what}, is the component `{name}`",
                invented.name
            ));
            originals.push((schema.clone(), name.clone()));
            hoisted.push((name.clone(), take_inline(schema, &name)));
        }
        add_components(doc, hoisted);
        for (invented, at) in renames {
            if let Some((from, to)) = crate::names::rename_component_claiming(doc, &invented, names)
            {
                notes.push(format!(
                    "component `{from}` is renamed `{to}`: the generator names the schema merged from {at} {invented}"
                ));
            }
        }
    }
    Ok(())
}
