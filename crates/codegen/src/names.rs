//! Names: the one place that hands out the public Rust type names the
//! codegen invents or keeps.
//!
//! typify names a component schema after its key, and an inline schema
//! after its `title` or its place (`{OperationId}Body`, `{Component}{Property}`);
//! our rules add union types (`{OperationId}Response`, `AOrB`) and hoisted
//! components. Two of these that pascal-case to one identifier define one
//! Rust type twice, and the client does not compile (or, worse, one
//! component silently replaces another). Every rule that names a type asks
//! [`Names`], which knows every name already given out, for a free one.

use std::collections::BTreeSet;

use heck::{ToPascalCase, ToSnakeCase};
use serde_json::Value;

/// The Rust type name progenitor derives from a name (same crate, same rule).
pub(crate) fn pascal(name: &str) -> String {
    name.replace('\'', "")
        .replace(|c: char| !c.is_alphanumeric() && c != '_', "-")
        .to_pascal_case()
}

/// The Rust method name progenitor derives from an operationId, and the
/// id it writes into the method's `OperationInfo`: what an operation is
/// found by again in progenitor's output (the rule `distinct-operation-ids`
/// makes it unique).
pub(crate) fn snake(name: &str) -> String {
    name.replace('\'', "")
        .replace(|c: char| !c.is_alphanumeric() && c != '_', "-")
        .to_snake_case()
}

/// The type progenitor's mock helpers name after an operationId
/// (`{Operation}When`), by progenitor's own rule: the method name with
/// `-when`, pascal-cased.
pub(crate) fn mock_when(operation_id: &str) -> String {
    pascal(&format!("{}-when", snake(operation_id)))
}

/// Every type name given out so far, as the Rust identifier it becomes.
#[derive(Debug, Default)]
pub(crate) struct Names {
    taken: BTreeSet<String>,
}

impl Names {
    /// Whether `name` would become an identifier already given out.
    pub(crate) fn is_taken(&self, name: &str) -> bool {
        self.taken.contains(&pascal(name))
    }

    /// Takes the identifier `name` becomes, given out by another (the
    /// generator's own names for inline schemas).
    pub(crate) fn reserve(&mut self, name: &str) {
        self.taken.insert(pascal(name));
    }

    /// A key for a new type named after `wanted`: `wanted` itself when its
    /// identifier is free, else `wanted2`, `wanted3`, … (the spec's own
    /// spelling is kept, so a free name generates exactly as before). The
    /// identifier is taken from then on.
    pub(crate) fn claim(&mut self, wanted: &str) -> String {
        let mut key = wanted.to_owned();
        let mut n = 2;
        while !self.taken.insert(pascal(&key)) {
            key = format!("{wanted}{n}");
            n += 1;
        }
        key
    }

    /// Claims every component schema's key in document order; keys whose
    /// identifiers collide with an earlier one (`metadata` and `_metadata`
    /// are both `Metadata`) are renamed, every `$ref` to them follows, and
    /// one note lists the renames.
    pub(crate) fn of_components(doc: &mut Value, notes: &mut Vec<String>) -> Self {
        let mut names = Names::default();
        let keys: Vec<String> = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|s| s.keys().cloned().collect())
            .unwrap_or_default();
        let mut renames = Vec::new();
        for key in keys {
            let claimed = names.claim(&key);
            if claimed != key {
                renames.push((key, claimed));
            }
        }
        if renames.is_empty() {
            return names;
        }
        rename(doc, &renames);
        notes.push(format!(
            "component schemas whose names become one Rust type name were renamed: {}",
            renames
                .iter()
                .map(|(from, to)| format!("{from} → {to}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        names
    }
}

/// The component schema whose key becomes the Rust name `type_name`,
/// renamed to a free key (`key2`, …) with every `$ref` to it: for a name
/// the generator invents itself and also gives that component (typify
/// names an inline enum of a merged `allOf` after the merging component,
/// `AuthorizationStatus`, beside the component `authorization_status`).
/// Returns the old and new keys; `None` when no component has that name.
pub(crate) fn rename_component(doc: &mut Value, type_name: &str) -> Option<(String, String)> {
    let mut names = Names::default();
    for k in doc.pointer("/components/schemas")?.as_object()?.keys() {
        names.claim(k);
    }
    rename_component_claiming(doc, type_name, &mut names)
}

/// As [`rename_component`], taking the new key from `names` (which every
/// rule's names go through), for a clash found before generation.
pub(crate) fn rename_component_claiming(
    doc: &mut Value,
    type_name: &str,
    names: &mut Names,
) -> Option<(String, String)> {
    let schemas = doc.pointer("/components/schemas")?.as_object()?;
    let key = schemas.keys().find(|k| pascal(k) == type_name)?.clone();
    let to = names.claim(&key);
    rename(doc, &[(key.clone(), to.clone())]);
    Some((key, to))
}

/// Renames component schemas (`from` → `to`) and every `$ref` to them.
fn rename(doc: &mut Value, renames: &[(String, String)]) {
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        for (from, to) in renames {
            if let Some(schema) = schemas.remove(from) {
                schemas.insert(to.clone(), schema);
            }
        }
    }
    let targets: Vec<(String, String)> = renames
        .iter()
        .map(|(from, to)| {
            (
                format!("#/components/schemas/{}", crate::pointer::escape(from)),
                format!("#/components/schemas/{}", crate::pointer::escape(to)),
            )
        })
        .collect();
    retarget(doc, &targets);
}

/// Points every `$ref` equal to a `from` of `targets` at its `to`.
fn retarget(node: &mut Value, targets: &[(String, String)]) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref")
                && let Some((_, to)) = targets.iter().find(|(from, _)| from == r)
            {
                *r = to.clone();
            }
            for child in map.values_mut() {
                retarget(child, targets);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| retarget(i, targets)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_name_is_given_out_once_in_the_spelling_asked_for() {
        let mut names = Names::default();
        assert_eq!(names.claim("key-list"), "key-list");
        assert!(names.is_taken("KeyList") && names.is_taken("key_list"));
        assert_eq!(names.claim("KeyList"), "KeyList2");
        assert_eq!(names.claim("keyList"), "keyList3");
        assert_eq!(names.claim("KeyList2"), "KeyList22");
        assert_eq!(names.claim("Other"), "Other");
    }

    #[test]
    fn components_that_become_one_type_name_are_renamed_with_their_refs() {
        let mut doc = json!({
            "paths": {"/a": {"get": {"responses": {"200": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/metadata"}}}}}}}},
            "components": {"schemas": {
                "_metadata": {"type": "object", "properties": {"next": {"type": "string"}}},
                "metadata": {"type": "object", "properties": {
                    "self": {"$ref": "#/components/schemas/_metadata"},
                    "more": {"$ref": "#/components/schemas/metadata"}}},
                "Other": {"type": "string"}
            }}
        });
        let mut notes = Vec::new();
        let names = Names::of_components(&mut doc, &mut notes);
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let keys: Vec<&str> = schemas.keys().map(String::as_str).collect();
        assert_eq!(keys, ["Other", "_metadata", "metadata2"]);
        assert_eq!(
            doc.pointer("/paths/~1a/get/responses/200/content/application~1json/schema/$ref"),
            Some(&json!("#/components/schemas/metadata2"))
        );
        let renamed = &doc["components"]["schemas"]["metadata2"]["properties"];
        assert_eq!(renamed["self"]["$ref"], "#/components/schemas/_metadata");
        assert_eq!(renamed["more"]["$ref"], "#/components/schemas/metadata2");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("metadata → metadata2"), "{notes:?}");
        assert!(names.is_taken("Metadata2") && names.is_taken("Other"));
    }

    #[test]
    fn the_component_a_generated_name_collides_with_gives_way() {
        let mut doc = json!({"components": {"schemas": {
            "authorization_status": {"type": "object"},
            "authorization_status2": {"type": "string"},
            "authorization": {"allOf": [{"$ref": "#/components/schemas/authorization_status"}]}
        }}});
        let renamed = rename_component(&mut doc, "AuthorizationStatus");
        assert_eq!(
            renamed,
            Some((
                "authorization_status".into(),
                "authorization_status3".into()
            ))
        );
        assert_eq!(
            doc["components"]["schemas"]["authorization"]["allOf"][0]["$ref"],
            "#/components/schemas/authorization_status3"
        );
        assert_eq!(rename_component(&mut doc, "Nowhere"), None);
    }
}
