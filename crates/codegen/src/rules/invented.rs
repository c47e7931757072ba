//! The names the generator invents for the inline schemas of components
//! and operations, foreseen before it runs.
//!
//! typify names a type it makes for an inline schema after where the
//! schema sits: a property `p` of a type named `T` is `T_p` (pascal-cased:
//! `TP`), the items of a list named `T` are `TItem`, the values of a map
//! `TValue` (`TExtraValue` beside properties), and a `title` replaces the
//! name. Merging an `allOf` names the merged properties after the merging
//! type, wherever they were written; the fields of `oneOf` arms are named
//! by the serde tagging typify finds for them (internally tagged arms all
//! after the union, so two arms' `status` share one name), and the parts
//! of an `anyOf` are `TSubtype{i}` unless its arms exclude each other.
//! When an invented name is already a type's, typify does not say so: it
//! reuses the first type of that name for the second schema (a field
//! silently typed as another schema) or defines the name twice. Walking
//! the same places here, the rules see every such name before anything is
//! generated.

use heck::{ToKebabCase, ToPascalCase, ToSnakeCase};
use serde_json::{Map, Value};

use super::type_names::invents_type;
use crate::names::pascal;

/// A type the generator will make and name itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Invented {
    /// The Rust name it will get.
    pub name: String,
    /// The JSON pointer of the schema it is made of.
    pub at: String,
    /// Whether that schema is written in another component and merged
    /// here through an `allOf` `$ref` (so it cannot be moved on its own).
    pub merged: bool,
    /// A better name than `{name}2` for it when it must move: an error
    /// body is `{Op}Error`, a body in another media type
    /// `{Op}Body{MediaType}`.
    pub instead: Option<String>,
}

/// How deep the walk follows nested inline schemas and merged `$ref`s; no
/// published spec nests names this deep, and a recursive merge stops here.
const DEEPEST: usize = 24;

/// The most schemas one walk visits: a bound on the work (a recursive
/// merge or a spec built to be large), far above what a published spec
/// needs.
const MOST_VISITS: usize = 2_000_000;

/// Every type the generator will name itself, in the order it meets them:
/// those inside each component schema (walked from the component's name),
/// then those of each operation's inline request and JSON response bodies
/// (walked from `{OperationId}Body` and `{OperationId}Response`).
pub(super) fn invented_types(doc: &Value) -> Vec<Invented> {
    let empty = Map::new();
    let components = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut walk = Walk {
        components,
        found: Vec::new(),
        merging: Vec::new(),
        visits: 0,
    };
    for (key, schema) in components {
        let at = format!("/components/schemas/{}", super::escape(key));
        // A component that merges itself adds nothing by it.
        walk.merging = vec![key];
        walk.children(schema, &pascal(key), &at, false, 0);
        walk.arms(schema, &pascal(key), &at, false, 1, true);
    }
    walk.merging.clear();
    let paths = doc.get("paths").and_then(Value::as_object);
    for (path, item) in paths.into_iter().flatten() {
        for method in super::METHODS {
            let Some(op) = item.get(method) else {
                continue;
            };
            let id = op.get("operationId").and_then(Value::as_str).unwrap_or("");
            for (at, schema, place) in super::operation_schemas(path, item, method) {
                let found = walk.found.len();
                match place {
                    super::Place::Parameter(name) => {
                        let named = type_name(&format!("{id}-{name}"));
                        walk.schema(schema, named, &at, false, 0);
                    }
                    super::Place::Body(media) => {
                        walk.schema(schema, pascal(&format!("{id}-body")), &at, false, 0);
                        walk.instead(found, &at, &format!("{id}-body-{media}"));
                    }
                    super::Place::Answer(status, "application/json") => {
                        walk.schema(schema, pascal(&format!("{id}-response")), &at, false, 0);
                        if !status.starts_with('2') {
                            walk.instead(found, &at, &format!("{id}-error"));
                        }
                    }
                    super::Place::Answer(..) => {}
                }
            }
        }
    }
    walk.found
}

/// One walk over a document's schemas.
struct Walk<'a> {
    components: &'a Map<String, Value>,
    found: Vec<Invented>,
    /// The components whose properties are being merged, outermost first:
    /// a component met again through its own properties is not merged
    /// twice.
    merging: Vec<&'a str>,
    /// Schemas visited so far, against [`MOST_VISITS`].
    visits: usize,
}

impl<'a> Walk<'a> {
    /// Names the schema found `found`th `instead` when it must move, if
    /// it is the one at `at` (a body, when it makes a type itself).
    fn instead(&mut self, found: usize, at: &str, instead: &str) {
        if let Some(invented) = self.found.get_mut(found)
            && invented.at == at
        {
            invented.instead = Some(type_name(instead));
        }
    }

    /// An inline schema the generator would name `name` (unless it has a
    /// title): noted when it makes a type, then its children.
    fn schema(&mut self, schema: &'a Value, name: String, at: &str, merged: bool, depth: usize) {
        if schema.get("$ref").is_some() || depth > DEEPEST {
            return;
        }
        let name = match schema.get("title").and_then(Value::as_str) {
            Some(title) => type_name(title),
            None => name,
        };
        if invents(schema) {
            self.found.push(Invented {
                name: name.clone(),
                at: at.to_owned(),
                merged,
                instead: None,
            });
        }
        self.children(schema, &name, at, merged, depth + 1);
        self.arms(schema, &name, at, merged, depth + 1, false);
    }

    /// The arms of a union at `schema`, a type named `name` (`root`: a
    /// component's own name, which arm titles do not replace). A `oneOf`
    /// is an enum (see [`Walk::one_of`]); so is an `anyOf` whose arms
    /// exclude each other, as typify judges ([`exclusive`]); another
    /// `anyOf` is a struct of optional parts, `{Name}Subtype{i}`.
    fn arms(
        &mut self,
        schema: &'a Value,
        name: &str,
        at: &str,
        merged: bool,
        depth: usize,
        root: bool,
    ) {
        if let Some(arms) = schema.get("anyOf").and_then(Value::as_array) {
            let mut pairs = (0..arms.len()).flat_map(|i| (i + 1..arms.len()).map(move |j| (i, j)));
            if pairs.all(|(i, j)| exclusive(&arms[i], &arms[j], self.components)) {
                self.one_of(arms, "anyOf", name, at, merged, depth, root);
            } else {
                for (i, arm) in arms.iter().enumerate() {
                    let part = type_name(&format!("{name}Subtype{i}"));
                    self.schema(arm, part, &format!("{at}/anyOf/{i}"), merged, depth);
                }
            }
        }
        if let Some(arms) = schema.get("oneOf").and_then(Value::as_array) {
            self.one_of(arms, "oneOf", name, at, merged, depth, root);
        }
    }

    /// The arms (under `key`) of a union typify makes an enum of: the
    /// types within each arm are named by the first of serde's tagging
    /// forms the arms fit, as typify tries them: external
    /// (`{Name}{Property}`), internal (`{Name}{Property}`, every arm alike),
    /// else untagged (`{Name}{Variant}`, the variant named after the arm's
    /// `$ref`, title or type, else `Variant{i}`). An adjacently tagged one
    /// is not foreseen.
    #[allow(clippy::too_many_arguments)]
    fn one_of(
        &mut self,
        arms: &'a [Value],
        key: &str,
        name: &str,
        at: &str,
        merged: bool,
        depth: usize,
        root: bool,
    ) {
        let arm_at = |i: usize| format!("{at}/{key}/{i}");
        // No arm matches nothing (no type to name); a `null` arm makes an
        // option of the other.
        if arms.is_empty()
            || arms
                .iter()
                .any(|a| a.get("type").and_then(Value::as_str) == Some("null"))
        {
            return;
        }
        let property = |i: usize, property: &str| {
            format!("{}/properties/{}", arm_at(i), super::escape(property))
        };
        // Externally tagged: every arm strings or one required property,
        // the variant names (the strings, the properties) all different.
        let mut variants: Vec<&str> = Vec::new();
        for arm in arms {
            match single_property(arm) {
                Some((key, _)) => variants.push(key),
                None if string_values(arm) => {
                    let values = arm.get("enum").and_then(Value::as_array);
                    let values = values.into_iter().flatten().chain(arm.get("const"));
                    variants.extend(values.filter_map(Value::as_str));
                }
                None => {
                    variants.clear();
                    break;
                }
            }
        }
        let count = variants.len();
        variants.sort_unstable();
        variants.dedup();
        if count > 0 && variants.len() == count {
            for (i, arm) in arms.iter().enumerate() {
                if let Some((key, value)) = single_property(arm) {
                    let child = type_name(&format!("{name}_{key}"));
                    self.schema(value, child, &property(i, key), merged, depth);
                }
            }
            return;
        }
        if let Some(tag) = internal_tag(arms) {
            if adjacent(arms) {
                return;
            }
            for (i, arm) in arms.iter().enumerate() {
                let base = match arm.get("title").and_then(Value::as_str) {
                    Some(title) if !root => type_name(title),
                    _ => name.to_owned(),
                };
                let props = arm.get("properties").and_then(Value::as_object);
                for (key, value) in props.into_iter().flatten().filter(|(k, _)| **k != tag) {
                    let child = type_name(&format!("{base}_{}", key.to_snake_case()));
                    self.schema(value, child, &property(i, key), merged, depth);
                }
            }
            return;
        }
        for (i, (arm, variant)) in arms.iter().zip(variant_names(arms)).enumerate() {
            if arm.get("$ref").is_some() {
                continue;
            }
            let named = type_name(&format!("{name}_{variant}"));
            if is_object(arm) {
                // A struct-like variant: no type of its own; its fields'
                // types are named after it (its title first).
                let base = match arm.get("title").and_then(Value::as_str) {
                    Some(title) => type_name(title),
                    None => named,
                };
                self.children(arm, &base, &arm_at(i), merged, depth);
            } else {
                self.schema(arm, named, &arm_at(i), merged, depth);
            }
        }
    }

    /// The inline schemas within `schema`, a type named `name`: its
    /// properties (merged through `allOf`), list items and map values.
    fn children(&mut self, schema: &'a Value, name: &str, at: &str, merged: bool, depth: usize) {
        self.visits += 1;
        if self.visits > MOST_VISITS {
            return;
        }
        let (properties, bases) = self.properties(schema, at, merged);
        let has_properties = !properties.is_empty();
        // The components merged here stay merging while their properties
        // are walked: one met again inside them is not merged again.
        let outer = self.merging.len();
        self.merging.extend(bases);
        for (property, value, at, merged) in properties {
            let child = type_name(&format!("{name}_{}", property.to_snake_case()));
            self.schema(value, child, &at, merged, depth);
        }
        self.merging.truncate(outer);
        if let Some(items) = schema.get("items").filter(|i| i.is_object()) {
            let at = format!("{at}/items");
            self.schema(items, type_name(&format!("{name}Item")), &at, merged, depth);
        }
        if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
            let at = format!("{at}/additionalProperties");
            let map = if has_properties {
                format!("{name}_extra")
            } else {
                name.to_owned()
            };
            self.schema(
                values,
                type_name(&format!("{map}Value")),
                &at,
                merged,
                depth,
            );
        }
    }

    /// The properties of `schema` as the generator merges them: its own,
    /// those of its inline `allOf` parts, and those of the components its
    /// `allOf` refers to, at any depth: `(name, schema, pointer, merged)`,
    /// with the components merged. A property defined in several parts is
    /// walked as each definition.
    #[allow(clippy::type_complexity)]
    fn properties(
        &self,
        schema: &'a Value,
        at: &str,
        merged: bool,
    ) -> (Vec<(&'a str, &'a Value, String, bool)>, Vec<&'a str>) {
        let mut found = Vec::new();
        let mut merging: Vec<&'a str> = Vec::new();
        let mut queue = vec![(schema, at.to_owned(), merged)];
        let mut first = true;
        while let Some((schema, at, merged)) = queue.pop() {
            let parts = schema.get("allOf").and_then(Value::as_array);
            // An `allOf` of one `$ref` is the type referred to; a union
            // among merged parts is named by its variants (not foreseen).
            let union = |s: &Value| s.get("oneOf").is_some() || s.get("anyOf").is_some();
            if first && one_reference(schema)
                || union(schema)
                || parts.into_iter().flatten().any(union)
            {
                return (Vec::new(), Vec::new());
            }
            first = false;
            let inline = std::iter::once((schema, at.clone())).chain(
                parts
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, part)| (part, format!("{at}/allOf/{i}"))),
            );
            for (part, part_at) in inline {
                if let Some(base) = crate::pointer::schema_ref(part) {
                    let Some((key, component)) = self.components.get_key_value(&base) else {
                        continue;
                    };
                    if !self.merging.contains(&key.as_str()) && !merging.contains(&key.as_str()) {
                        merging.push(key);
                        let base_at = format!("/components/schemas/{}", super::escape(key));
                        queue.push((component, base_at, true));
                    }
                    continue;
                }
                let props = part.get("properties").and_then(Value::as_object);
                for (property, value) in props.into_iter().flatten() {
                    let at = format!("{part_at}/properties/{}", super::escape(property));
                    found.push((property.as_str(), value, at, merged));
                }
            }
        }
        (found, merging)
    }
}

/// Whether typify reads `schema` as a plain object (a struct): `type:
/// object`, no other kind, no map beside its properties.
fn is_object(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("object")
        && ["format", "enum", "const", "allOf", "oneOf", "anyOf", "$ref"]
            .iter()
            .all(|k| schema.get(*k).is_none())
        && schema
            .get("additionalProperties")
            .is_none_or(|a| *a == Value::Bool(false))
}

/// Whether no value can match both `a` and `b`, as typify judges it to
/// read an `anyOf` as an enum: of different types, or objects one of
/// which requires a property the other does not name, or whose required
/// fixed strings differ. Conservative, as typify is: `false` when unsure.
fn exclusive<'a>(a: &'a Value, b: &'a Value, components: &'a Map<String, Value>) -> bool {
    let resolve = |s: &'a Value| -> Option<&'a Value> {
        match crate::pointer::schema_ref(s) {
            Some(name) => components.get(&name),
            None => Some(s),
        }
    };
    let (Some(a), Some(b)) = (resolve(a), resolve(b)) else {
        return false;
    };
    let kind = |s: &'a Value| s.get("type").and_then(Value::as_str);
    let (Some(ka), Some(kb)) = (kind(a), kind(b)) else {
        return false;
    };
    if ka != kb {
        return true;
    }
    if ka != "object" || !is_object(a) || !is_object(b) {
        return false;
    }
    let props = |s: &Value| -> Vec<String> {
        let p = s.get("properties").and_then(Value::as_object);
        p.into_iter().flatten().map(|(k, _)| k.clone()).collect()
    };
    let required = |s: &Value| -> Vec<String> {
        let r = s.get("required").and_then(Value::as_array);
        r.into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    let (pa, pb) = (props(a), props(b));
    if pa.is_empty() || pb.is_empty() {
        return false;
    }
    let (ra, rb) = (required(a), required(b));
    if ra.iter().any(|r| !pb.contains(r)) || rb.iter().any(|r| !pa.contains(r)) {
        return true;
    }
    let fixed = |s: &Value, req: &[String]| -> Vec<(String, String)> {
        req.iter()
            .filter_map(|r| {
                let value = s.pointer(&format!("/properties/{}", super::escape(r)))?;
                Some((r.clone(), constant_string(value)?.to_owned()))
            })
            .collect()
    };
    let (fa, fb) = (fixed(a, &ra), fixed(b, &rb));
    !fa.iter().all(|f| fb.contains(f)) && !fb.iter().all(|f| fa.contains(f))
}

/// The one string a schema allows (`enum: [x]` or `const: x`, typed as a
/// string or untyped), as typify takes a tag's value.
pub(super) fn constant_string(schema: &Value) -> Option<&str> {
    let typed = plain_string(schema);
    let one = match (
        schema.get("enum").and_then(Value::as_array),
        schema.get("const"),
    ) {
        (Some(values), None) if values.len() == 1 => &values[0],
        (None, Some(value)) => value,
        _ => return None,
    };
    typed.then(|| one.as_str()).flatten()
}

/// Whether `schema` is typed as a string, or not typed, with no format.
fn plain_string(schema: &Value) -> bool {
    schema.get("type").is_none_or(|t| t == "string") && schema.get("format").is_none()
}

/// Whether a union arm is one or more plain string values (externally
/// tagged, a unit variant each).
fn string_values(arm: &Value) -> bool {
    let typed = plain_string(arm);
    let strings = match (arm.get("enum").and_then(Value::as_array), arm.get("const")) {
        (Some(values), None) => values.iter().all(Value::is_string),
        (None, Some(value)) => value.is_string(),
        _ => false,
    };
    typed && strings && arm.get("$ref").is_none()
}

/// The one property of an arm that is an object with exactly one,
/// required, property (externally tagged: the property is the variant).
fn single_property(arm: &Value) -> Option<(&str, &Value)> {
    if !is_object(arm) || arm.get("minProperties").is_some() || arm.get("maxProperties").is_some() {
        return None;
    }
    let props = arm.get("properties").and_then(Value::as_object)?;
    let required = arm.get("required").and_then(Value::as_array)?;
    match (props.iter().next(), props.len(), required.as_slice()) {
        (Some((key, value)), 1, [only]) if only == key => Some((key.as_str(), value)),
        _ => None,
    }
}

/// The property that internally tags a union's arms: required in every
/// arm (each a plain object), with one constant string value each, the
/// values all different; the first by name when several are.
fn internal_tag(arms: &[Value]) -> Option<String> {
    let mut common: Option<Vec<String>> = None;
    for arm in arms {
        if !is_object(arm) {
            return None;
        }
        let required = arm.get("required").and_then(Value::as_array);
        let props = arm.get("properties").and_then(Value::as_object);
        let names: Vec<String> = props
            .into_iter()
            .flatten()
            .filter(|(k, _)| required.into_iter().flatten().any(|r| r == *k))
            .filter(|(_, v)| constant_string(v).is_some())
            .map(|(k, _)| k.clone())
            .collect();
        common = Some(match common {
            None => names,
            Some(c) => c.into_iter().filter(|k| names.contains(k)).collect(),
        });
    }
    let mut common = common?;
    common.sort();
    common.into_iter().find(|tag| {
        let of_tag: Vec<Option<&str>> = arms
            .iter()
            .map(|a| {
                a.pointer(&format!("/properties/{}", super::escape(tag)))
                    .and_then(constant_string)
            })
            .collect();
        let mut distinct = of_tag.clone();
        distinct.sort();
        distinct.dedup();
        distinct.len() == of_tag.len()
    })
}

/// Whether typify reads tagged arms as adjacently tagged (a tag and one
/// content field): every property of every arm required, and two property
/// names among all the arms.
fn adjacent(arms: &[Value]) -> bool {
    let mut names: Vec<&str> = Vec::new();
    let all_required = arms.iter().all(|arm| {
        let props = arm.get("properties").and_then(Value::as_object);
        let required = arm.get("required").and_then(Value::as_array);
        props.into_iter().flatten().all(|(k, _)| {
            if !names.contains(&k.as_str()) {
                names.push(k);
            }
            required.into_iter().flatten().any(|r| r == k)
        })
    });
    all_required && names.len() == 2
}

/// The variant names typify gives the arms of an untagged union: each
/// arm's `$ref` name, title, or kind (`String`, a format, `Object`), with
/// the words they all start with cut off; `Variant{i}` when one has none,
/// two are alike, or one would be left empty.
fn variant_names(arms: &[Value]) -> Vec<String> {
    fn named(arm: &Value) -> Option<String> {
        if let Some(reference) = arm.get("$ref").and_then(Value::as_str) {
            return Some(reference.rsplit('/').next()?.to_owned());
        }
        if let Some(title) = arm.get("title").and_then(Value::as_str) {
            return Some(title.to_owned());
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some([only]) = arm.get(key).and_then(Value::as_array).map(Vec::as_slice) {
                return named(only);
            }
        }
        if let Some(format) = arm.get("format").and_then(Value::as_str) {
            return Some(format.to_owned());
        }
        let kind = match arm.get("type")?.as_str()? {
            "boolean" => "Boolean",
            "integer" => "Integer",
            "number" => "Number",
            "string" => "String",
            "array" => "Array",
            "object" => "Object",
            _ => return None,
        };
        Some(kind.to_owned())
    }
    let numbered = || (0..arms.len()).map(|i| format!("Variant{i}")).collect();
    let Some(names) = arms
        .iter()
        .map(|a| named(a).map(|n| type_name(&n)))
        .collect::<Option<Vec<String>>>()
    else {
        return numbered();
    };
    let mut distinct = names.clone();
    distinct.sort();
    distinct.dedup();
    if names.is_empty() || distinct.len() != names.len() {
        return numbered();
    }
    let words =
        |n: &str| -> Vec<String> { n.to_kebab_case().split('-').map(str::to_owned).collect() };
    let first = words(&names[0]);
    let shared = names.iter().skip(1).fold(first.len(), |shared, n| {
        let w = words(n);
        first
            .iter()
            .zip(&w)
            .take(shared)
            .take_while(|(a, b)| a == b)
            .count()
    });
    let cut: Vec<String> = names
        .iter()
        .map(|n| words(n)[shared..].join("-").to_pascal_case())
        .collect();
    if cut.iter().any(String::is_empty) {
        return numbered();
    }
    cut
}

/// Whether the generator makes a type of this inline schema, as
/// [`invents_type`] judges, but for what it reads as a plain value: an
/// object with no properties (a map), an enum of booleans (a `bool`), and
/// an `allOf` of one `$ref` beside parts that only describe it (the type
/// referred to).
fn invents(schema: &Value) -> bool {
    if !invents_type(schema) {
        return false;
    }
    let empty_object = schema
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(Map::is_empty)
        && ["allOf", "oneOf", "anyOf", "enum"]
            .iter()
            .all(|k| schema.get(*k).is_none());
    let booleans = schema
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(|values| values.iter().all(Value::is_boolean));
    !(empty_object || booleans || one_reference(schema))
}

/// Whether `schema` is an `allOf` of one `$ref` and parts that only
/// describe it: the generator reads it as the type referred to (or a
/// newtype of it), merging nothing.
fn one_reference(schema: &Value) -> bool {
    let describes = |part: &Value| {
        part.as_object().is_some_and(|m| {
            m.keys().all(|k| {
                k.starts_with("x-")
                    || [
                        "description",
                        "title",
                        "example",
                        "examples",
                        "readOnly",
                        "writeOnly",
                        "default",
                        "deprecated",
                        "type",
                        "nullable",
                        "format",
                    ]
                    .contains(&k.as_str())
            })
        })
    };
    schema
        .get("allOf")
        .and_then(Value::as_array)
        .is_some_and(|parts| {
            parts.iter().filter(|p| p.get("$ref").is_some()).count() == 1
                && parts
                    .iter()
                    .all(|p| p.get("$ref").is_some() || describes(p))
        })
        && ["properties", "enum", "oneOf", "anyOf"]
            .iter()
            .all(|k| schema.get(*k).is_none())
}

/// The Rust type name typify gives a name it makes: pascal case, with an
/// `X` before a leading digit.
fn type_name(raw: &str) -> String {
    let name = pascal(raw);
    if name.chars().next().is_none_or(|c| c.is_ascii_digit()) {
        format!("X{name}")
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn names(doc: &Value) -> Vec<(String, bool)> {
        invented_types(doc)
            .into_iter()
            .map(|i| (i.name, i.merged))
            .collect()
    }

    #[test]
    fn names_follow_properties_items_values_and_titles() {
        let doc = json!({"components": {"schemas": {
            "a_b": {"type": "object", "properties": {
                "c": {"type": "object", "properties": {"d": {"enum": ["x"]}}},
                "list": {"type": "array", "items": {"type": "array", "items": {"enum": ["y"]}}},
                "map": {"type": "object", "additionalProperties": {"type": "object", "properties": {"k": {}}}},
                "empty": {"type": "object", "properties": {}},
                "yes": {"type": "boolean", "enum": [true]},
                "described": {"allOf": [{"$ref": "#/components/schemas/other"}, {"description": "d"}]},
                "titled": {"title": "own name", "type": "object", "properties": {"e": {"enum": ["z"]}}},
                "plain": {"type": "string"},
                "shared": {"$ref": "#/components/schemas/other"}
            }, "additionalProperties": {"enum": ["w"]}},
            "other": {"type": "array", "items": {"type": "object", "properties": {"k": {}}}}
        }}});
        assert_eq!(
            names(&doc),
            [
                ("AbC", false),
                ("AbCD", false),
                ("AbListItemItem", false),
                ("AbMapValue", false),
                ("OwnName", false),
                ("OwnNameE", false),
                ("AbExtraValue", false),
                ("OtherItem", false),
            ]
            .map(|(n, m)| (n.to_owned(), m))
        );
    }

    #[test]
    fn merged_properties_are_named_after_the_merging_type() {
        let doc = json!({"components": {"schemas": {
            "base": {"type": "object", "properties": {
                "statuses": {"type": "array", "items": {"enum": ["open"]}}
            }},
            "grant": {"allOf": [{"$ref": "#/components/schemas/base"}, {"properties": {"id": {"type": "string"}}}]},
            "alias": {"allOf": [{"$ref": "#/components/schemas/base"}]},
            "loop": {"allOf": [{"$ref": "#/components/schemas/loop"}, {"properties": {
                "again": {"allOf": [{"$ref": "#/components/schemas/loop"}, {"properties": {"x": {"enum": [1]}}}]}
            }}]}
        }}});
        let found = invented_types(&doc);
        let names: Vec<_> = found.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "BaseStatusesItem",
                "GrantStatusesItem",
                "LoopAgain",
                "LoopAgainX"
            ]
        );
        assert!(found[1].merged && !found[0].merged);
        assert_eq!(
            found[1].at,
            "/components/schemas/base/properties/statuses/items"
        );
    }

    #[test]
    fn union_arms_are_named_by_the_tagging_typify_finds() {
        let object = |props: Value, required: &[&str]| json!({"type": "object", "properties": props, "required": required});
        let status = |values: &[&str]| json!({"type": "string", "enum": values});
        let doc = json!({"components": {"schemas": {
            // Internally tagged by `kind`: every arm's fields are named
            // after the union alone, so both `status` are PayStatus.
            "pay": {"oneOf": [
                object(json!({"kind": {"enum": ["card"]}, "status": status(&["live", "frozen"])}), &["kind"]),
                object(json!({"kind": {"const": "bank"}, "status": status(&["verified"])}), &["kind"])
            ]},
            // Externally tagged: one required property per arm.
            "ext": {"oneOf": [
                object(json!({"first": status(&["a"])}), &["first"]),
                {"type": "string", "enum": ["plain"]}
            ]},
            // The same property in every arm: not externally tagged (the
            // variants would share a name); tagged internally by it.
            "speed": {"oneOf": [
                object(json!({"speed": status(&["slow"])}), &["speed"]),
                object(json!({"speed": status(&["fast"])}), &["speed"])
            ]},
            // Untagged, two arms both named `Object`: Variant0, Variant1.
            "loose": {"oneOf": [
                object(json!({"level": status(&["x"])}), &[]),
                object(json!({"depth": status(&["z"])}), &[])
            ]},
            // Untagged, arms named by their kinds: Object, Array.
            "kinds": {"oneOf": [
                object(json!({"level": status(&["x"])}), &[]),
                {"type": "array", "items": {"type": "object", "properties": {"n": {"enum": [1]}}}}
            ]},
            // Untagged, every arm named by its kind: Object, String.
            "named": {"oneOf": [
                {"type": "object", "properties": {"mode": status(&["y"])}},
                {"type": "string"}
            ]},
            // An `anyOf` whose arms may both match: a struct of parts.
            "parts": {"anyOf": [
                {"type": "object", "properties": {"a": status(&["p"])}},
                {"type": "object", "properties": {"b": status(&["q"])}}
            ]},
            // An `anyOf` whose arms exclude each other: an enum, as `oneOf`.
            "either": {"anyOf": [
                {"type": "object", "properties": {"e": status(&["r"])}},
                {"type": "string"}
            ]},
            // Adjacently tagged (a tag and one content field): not foreseen.
            "adj": {"oneOf": [
                object(json!({"t": {"enum": ["a"]}, "c": {"type": "object", "properties": {"q": {"enum": [1]}}}}), &["t", "c"]),
                object(json!({"t": {"enum": ["b"]}, "c": {"type": "object", "properties": {"r": {"enum": [2]}}}}), &["t", "c"])
            ]}
        }}});
        let names: Vec<_> = invented_types(&doc).into_iter().map(|i| i.name).collect();
        // (components in key order)
        assert_eq!(
            names,
            [
                "EitherObjectE",
                "ExtFirst",
                "KindsObjectLevel",
                "KindsArrayItem",
                "KindsArrayItemN",
                "LooseVariant0Level",
                "LooseVariant1Depth",
                "NamedObjectMode",
                "PartsSubtype0",
                "PartsSubtype0A",
                "PartsSubtype1",
                "PartsSubtype1B",
                "PayStatus",
                "PayStatus",
            ]
        );
    }

    #[test]
    fn operation_bodies_are_named_after_the_operation() {
        let doc = json!({"paths": {"/k": {"post": {
            "operationId": "createKey",
            "requestBody": {"content": {"application/json": {"schema": {
                "type": "object", "properties": {"scopes": {"type": "array", "items": {"enum": ["r"]}}}
            }}}},
            "responses": {"201": {"content": {"application/json": {"schema": {
                "type": "object", "properties": {"2fa": {"type": "object", "properties": {"k": {}}}}
            }}}}}
        }}}});
        let names: Vec<_> = invented_types(&doc).into_iter().map(|i| i.name).collect();
        assert_eq!(
            names,
            [
                "CreateKeyBody",
                "CreateKeyBodyScopesItem",
                "CreateKeyResponse",
                "CreateKeyResponse2fa"
            ]
        );
    }

    /// Any value a spec author can write where a schema goes, built from
    /// the keywords the walk reads, each also given a value of the wrong
    /// kind (a number for `oneOf`, an empty union, a list for `items`, a
    /// `$ref` to a component that is missing or refers to itself).
    fn schema() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(json!({})),
            Just(json!({"type": "string", "enum": ["a"]})),
            Just(json!({"type": "string", "minLength": 2})),
            Just(json!({"enum": [true, 1, "x", null]})),
            Just(json!({"const": "k"})),
            Just(json!({"type": "null"})),
            Just(json!({"$ref": "#/components/schemas/c0"})),
            Just(json!({"$ref": "#/components/schemas/missing"})),
            Just(json!(7)),
            Just(json!("text")),
        ];
        leaf.prop_recursive(4, 48, 4, |inner| {
            let list = prop::collection::vec(inner.clone(), 0..4);
            let props = prop::collection::btree_map("[a-c_]{1,3}", inner.clone(), 0..4);
            prop_oneof![
                props.clone().prop_map(
                    |p| json!({"type": "object", "properties": p, "required": ["a", "b"]})
                ),
                props.prop_map(
                    |p| json!({"properties": p, "additionalProperties": {"enum": ["v"]}})
                ),
                inner
                    .clone()
                    .prop_map(|i| json!({"type": "array", "items": i})),
                list.clone().prop_map(|l| json!({"items": l})),
                list.clone().prop_map(|l| json!({"oneOf": l})),
                list.clone()
                    .prop_map(|l| json!({"anyOf": l, "title": "same"})),
                list.prop_map(|l| json!({"allOf": l})),
                inner
                    .clone()
                    .prop_map(|i| json!({"oneOf": i, "anyOf": 3, "allOf": {"x": i}})),
                inner
                    .prop_map(|i| json!({"title": 5, "additionalProperties": i, "properties": []})),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Whatever schemas a spec holds, the walk ends, names only places
        /// that exist, and every rule (the separation of clashes among
        /// them) runs on them without a panic.
        #[test]
        fn any_schemas_are_walked_and_normalized_without_a_panic(
            components in prop::collection::vec(schema(), 1..5),
            body in schema(),
        ) {
            let schemas: Map<String, Value> = components
                .into_iter()
                .enumerate()
                .map(|(i, s)| (format!("c{i}"), s))
                .collect();
            let mut doc = json!({
                "openapi": "3.0.3",
                "info": {"title": "t", "version": "1"},
                "paths": {"/k/{id}": {"post": {
                    "operationId": "makeKey",
                    "parameters": [{"name": "id", "in": "path", "required": true, "schema": body}],
                    "requestBody": {"content": {"application/json": {"schema": body}}},
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {"schema": body}}},
                        "400": {"description": "no", "content": {"application/json": {"schema": {"oneOf": [body, {"type": "string"}]}}}}
                    }
                }}},
                "components": {"schemas": schemas}
            });
            for invented in invented_types(&doc) {
                prop_assert!(doc.pointer(&invented.at).is_some(), "{} names no place", invented.at);
            }
            let _ = crate::rules::normalize(&mut doc);
        }
    }
}
