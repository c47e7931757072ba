//! JSON pointers into a spec (RFC 6901), shared by the rules, the names
//! and the pipeline.

/// Escapes one JSON pointer segment.
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// The component schema a `$ref` names (`#/components/schemas/A~1B` names
/// `A/B`), unescaped; `None` for another reference or none.
pub(crate) fn schema_named(reference: &str) -> Option<String> {
    reference
        .strip_prefix("#/components/schemas/")
        .map(|n| n.replace("~1", "/").replace("~0", "~"))
}

/// The component schema that `schema`'s own `$ref` names, if any.
pub(crate) fn schema_ref(schema: &serde_json::Value) -> Option<String> {
    schema
        .get("$ref")
        .and_then(serde_json::Value::as_str)
        .and_then(schema_named)
}
