//! Nullable components: the null belongs to the places that use one.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::type_names::makes_type;
use super::{Context, Problem, Row, Rule, escape, for_each_schema};

pub(super) const NULL_IN_ENUMS: Rule = Rule {
    name: "null-in-enums",
    module: module_path!(),
    apply: null_in_enums,
    rows: &[Row {
        construct: "`null` among an enum's values (`enum: [marketing, operational, null]`)",
        action: "normalized: the enum without it, `nullable` (an `Option`)",
    }],
    snapshots: &["normalize-nullable-component"],
};

/// `null` among the values of an enum says what `nullable` says; typify
/// would wrap the enum in a type of the same name. The value leaves the
/// list and the schema is nullable (for a component, the rule below then
/// moves that to its uses).
fn null_in_enums(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let mut changed = Vec::new();
    for_each_schema(doc, &mut |at, schema| {
        let Some(Value::Array(values)) = schema.get_mut("enum") else {
            return;
        };
        let before = values.len();
        values.retain(|v| !v.is_null());
        if values.len() == before {
            return;
        }
        if values.is_empty() {
            schema.remove("enum");
        }
        schema.insert("nullable".into(), Value::Bool(true));
        changed.push(at.to_owned());
    });
    super::note_places(
        &mut context.notes,
        &changed,
        "enum(s) listing `null` among their values are nullable instead",
    );
    Ok(())
}

pub(super) const COMPONENTS: Rule = Rule {
    name: "nullable-components",
    module: module_path!(),
    apply: nullable_components,
    rows: &[Row {
        construct: "a component with `nullable: true` at its top",
        action: "normalized: the component is not nullable; every reference to it is (`Option<X>`)",
    }],
    snapshots: &["normalize-nullable-component"],
};

/// A component schema marked `nullable` at its top that makes a named type
/// (an object, enum or union, as 3.1's `oneOf [..., {type: null}]` becomes):
/// typify makes `struct X(Option<X>)` beside `X`. The null belongs to the places that
/// use it: the component loses `nullable`, and every reference to it
/// becomes `allOf: [ref]` with `nullable: true`.
fn nullable_components(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return Ok(());
    };
    let mut nullable = BTreeSet::new();
    for (name, schema) in schemas.iter_mut() {
        let named =
            schema.get("type").and_then(Value::as_str) == Some("object") || makes_type(schema);
        if named
            && let Some(map) = schema.as_object_mut()
            && map.get("nullable") == Some(&Value::Bool(true))
        {
            map.remove("nullable");
            nullable.insert(format!("#/components/schemas/{}", escape(name)));
        }
    }
    if nullable.is_empty() {
        return Ok(());
    }
    // Found first, rewritten after: a rewritten reference contains itself.
    let mut uses = Vec::new();
    for_each_schema(doc, &mut |at, schema| {
        if let Some(Value::String(target)) = schema.get("$ref")
            && nullable.contains(target)
        {
            uses.push(at.to_owned());
        }
    });
    for at in uses {
        if let Some(Value::Object(schema)) = doc.pointer_mut(&at)
            && let Some(reference) = schema.remove("$ref")
        {
            schema.insert("allOf".into(), json!([{ "$ref": reference }]));
            schema.insert("nullable".into(), Value::Bool(true));
        }
    }
    context.notes.push(format!(
        "components marked nullable at their top are nullable where they are used: {}",
        nullable
            .iter()
            .map(|r| r.trim_start_matches("#/components/schemas/"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(())
}
