//! JSON pointers into a spec (RFC 6901), shared by the rules, the names
//! and the pipeline.

/// Escapes one JSON pointer segment.
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}
