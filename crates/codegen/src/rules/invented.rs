//! The names the generator invents for the inline schemas of components
//! and operations, foreseen before it runs.
//!
//! typify names a type it makes for an inline schema after where the
//! schema sits: a property `p` of a type named `T` is `T_p` (pascal-cased:
//! `TP`), the items of a list named `T` are `TItem`, the values of a map
//! `TValue` (`TExtraValue` beside properties), and a `title` replaces the
//! name. Merging an `allOf` names the merged properties after the merging
//! type, wherever they were written. When an invented name is already a
//! type's, typify does not say so: it reuses the first type of that name
//! for the second schema (a field silently typed as another schema) or
//! defines the name twice. Walking the same places here, the rules see
//! every such name before anything is generated.

use heck::ToSnakeCase;
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

/// The most schemas one walk visits: a bound on the work, far above what
/// the largest published spec needs (Elastic's: see the tests).
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
    }
    walk.merging.clear();
    let paths = doc.get("paths").and_then(Value::as_object);
    for (path, item) in paths.into_iter().flatten() {
        for method in super::METHODS {
            let Some(op) = item.get(method) else {
                continue;
            };
            let id = op.get("operationId").and_then(Value::as_str).unwrap_or("");
            let at = format!("/paths/{}/{method}", super::escape(path));
            // Parameters, the path item's and the operation's.
            let parameters = [
                (
                    item.get("parameters"),
                    format!("/paths/{}/parameters", super::escape(path)),
                ),
                (op.get("parameters"), format!("{at}/parameters")),
            ];
            for (list, list_at) in parameters {
                let list = list.and_then(Value::as_array);
                for (i, parameter) in list.into_iter().flatten().enumerate() {
                    let name = parameter.get("name").and_then(Value::as_str);
                    if let (Some(name), Some(schema)) = (name, parameter.get("schema")) {
                        let at = format!("{list_at}/{i}/schema");
                        walk.schema(schema, type_name(&format!("{id}-{name}")), &at, false, 0);
                    }
                }
            }
            let bodies = op
                .pointer("/requestBody/content")
                .and_then(Value::as_object);
            for (media, content) in bodies.into_iter().flatten() {
                if let Some(schema) = content.get("schema") {
                    let at = format!("{at}/requestBody/content/{}/schema", super::escape(media));
                    let found = walk.found.len();
                    walk.schema(schema, pascal(&format!("{id}-body")), &at, false, 0);
                    walk.instead(found, &at, &format!("{id}-body-{media}"));
                }
            }
            let responses = op.get("responses").and_then(Value::as_object);
            for (status, response) in responses.into_iter().flatten() {
                if let Some(schema) = response.pointer("/content/application~1json/schema") {
                    let at = format!(
                        "{at}/responses/{}/content/application~1json/schema",
                        super::escape(status)
                    );
                    let found = walk.found.len();
                    walk.schema(schema, pascal(&format!("{id}-response")), &at, false, 0);
                    if !status.starts_with('2') {
                        walk.instead(found, &at, &format!("{id}-error"));
                    }
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
        // The arms of a union are named by variants, which this walk does
        // not foresee, unless they have a title: then it is their name.
        for key in ["oneOf", "anyOf"] {
            let arms = schema.get(key).and_then(Value::as_array);
            for (i, arm) in arms.into_iter().flatten().enumerate() {
                if let Some(title) = arm.get("title").and_then(Value::as_str) {
                    let at = format!("{at}/{key}/{i}");
                    self.schema(arm, type_name(title), &at, merged, depth + 1);
                }
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
}
