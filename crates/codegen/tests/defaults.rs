//! Defaults of every kind beside schemas of every kind, generated in one
//! spec: each default that does not fit is dropped by the rules, by name,
//! so the spec generates in one attempt (no fallback regenerates it, which
//! made a spec with many such defaults take minutes or give up), and each
//! one that fits is kept.

use serde_json::{Value, json};

/// The schemas a default may stand beside: inline, by `$ref`, through
/// `allOf`, `oneOf` and `anyOf`, nested in an object and in an array.
fn carriers() -> Vec<(&'static str, Value)> {
    let r = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });
    vec![
        ("string", json!({"type": "string"})),
        ("integer", json!({"type": "integer", "format": "int32"})),
        ("number", json!({"type": "number", "maximum": 10})),
        ("boolean", json!({"type": "boolean"})),
        ("date", json!({"type": "string", "format": "date"})),
        ("enum", json!({"type": "string", "enum": ["a", "b"]})),
        ("ref_enum", r("Letter")),
        ("all_of_ref_enum", json!({"allOf": [r("Letter")]})),
        ("all_of_ref_object", json!({"allOf": [r("Counted")]})),
        (
            "one_of",
            json!({"oneOf": [r("Letter"), {"type": "integer"}]}),
        ),
        (
            "any_of",
            json!({"anyOf": [{"type": "boolean"}, r("Counted")]}),
        ),
        (
            "array_of_ref",
            json!({"type": "array", "items": r("Letter")}),
        ),
        (
            "object",
            json!({"type": "object", "properties": {"n": {"type": "integer"}}}),
        ),
        (
            "date_time",
            json!({"type": "string", "format": "date-time"}),
        ),
        (
            "any_of_plain",
            json!({"anyOf": [{"type": "string"}, {"type": "string", "enum": ["a", "b"]}]}),
        ),
        ("all_of_ref_any_of_plain", json!({"allOf": [r("Spelling")]})),
        (
            "array_of_any_of_plain",
            json!({"type": "array", "items": r("Spelling")}),
        ),
        (
            "closed_object",
            json!({"type": "object", "additionalProperties": false, "properties": {"n": {"type": "integer"}}}),
        ),
        (
            "object_requiring_n",
            json!({"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}),
        ),
        (
            "map_of_integers",
            json!({"type": "object", "additionalProperties": {"type": "integer"}}),
        ),
    ]
}

/// Values of every JSON type, and a few that fit some schemas only.
fn values() -> Vec<Value> {
    vec![
        json!("a"),
        json!("z"),
        json!("2026-12-07"),
        json!(7),
        json!(99),
        json!(-3000000000i64),
        json!(2.5),
        json!(true),
        json!(null),
        json!(["a", "b"]),
        json!(["a", 1]),
        json!({"n": 1}),
        json!({"n": "one"}),
        json!({}),
        json!("2024-02-30"),
        json!("2024-02-29T23:59:59Z"),
        json!("2024-01-01T00:00:00+5"),
        json!({"n": 1, "x": 2}),
    ]
}

#[test]
fn every_default_that_does_not_fit_is_dropped_before_generation() {
    let mut properties = serde_json::Map::new();
    let mut count = 0;
    for (kind, schema) in carriers() {
        for (i, value) in values().into_iter().enumerate() {
            let mut property = schema.clone();
            property["default"] = value;
            properties.insert(format!("{kind}_{i}"), property);
            count += 1;
        }
    }
    let spec = json!({
        "openapi": "3.0.3",
        "info": {"title": "defaults", "version": "1"},
        "paths": {"/things": {"get": {
            "operationId": "getThing",
            "responses": {"200": {"description": "the thing", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Thing"}
            }}}}
        }}},
        "components": {"schemas": {
            "Letter": {"type": "string", "enum": ["a", "b"]},
            "Counted": {"type": "object", "properties": {"n": {"type": "integer"}}},
            "Spelling": {"anyOf": [{"type": "string"}, {"type": "string", "enum": ["a", "b"]}]},
            "Thing": {"type": "object", "properties": properties}
        }}
    });
    let dir = std::env::temp_dir().join(format!("apikeys-defaults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("defaults.json");
    std::fs::write(&path, spec.to_string()).unwrap();
    let output = apikeys_codegen::generate_as(&path, "defaults").expect("the spec generates");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        output.stats.phases.attempts, 1,
        "a default reached the generator and a fallback regenerated: {:#?}",
        output.notes
    );
    let dropped: Vec<&str> = output
        .notes
        .iter()
        .find(|n| n.starts_with("defaults that do not fit"))
        .map(|n| {
            n.split(": ")
                .nth(1)
                .unwrap_or_default()
                .split(", ")
                .collect()
        })
        .unwrap_or_default();
    // Some fit and are kept, some do not and are named.
    assert!(
        !dropped.is_empty() && dropped.len() < count,
        "{} of {count} dropped",
        dropped.len()
    );
    for expected in [
        "ref_enum_1",        // "z" is not a letter
        "all_of_ref_enum_1", // nor through allOf
        "all_of_ref_object_12",
        "one_of_7", // true is neither a letter nor an integer
        "array_of_ref_10",
        "integer_5", // past int32
        "number_4",  // over the maximum
        "date_0",
        "date_14",        // the 30th of February
        "date_time_16",   // an offset without minutes
        "any_of_plain_0", // checked against an anyOf of plain values
        "array_of_any_of_plain_9",
        "closed_object_17",      // a field the schema forbids
        "object_17",             // nor takes without additionalProperties
        "object_requiring_n_13", // without a required field
        "map_of_integers_12",    // a value of the wrong type
    ] {
        assert!(
            dropped.iter().any(|d| d.ends_with(&format!("/{expected}"))),
            "{expected} kept: {dropped:?}"
        );
    }
    for kept in [
        "ref_enum_0",
        "all_of_ref_enum_0",
        "all_of_ref_object_11",
        "one_of_3",
    ] {
        assert!(
            !dropped.iter().any(|d| d.ends_with(&format!("/{kept}"))),
            "{kept} dropped"
        );
    }
}
