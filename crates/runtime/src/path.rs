//! Path-segment encoding for generated clients.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Every byte but the unreserved ones (RFC 3986: letters, digits, `-`,
/// `.`, `_`, `~`) is encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a value for use as one path segment, so that an id can
/// never add a segment, a query or a fragment: `a b/ä+c` → `a%20b%2F%C3%A4%2Bc`.
pub fn encode_path(value: &str) -> std::borrow::Cow<'_, str> {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    if value.bytes().all(unreserved) {
        // The common case (ids): nothing to encode, nothing to copy.
        return std::borrow::Cow::Borrowed(value);
    }
    utf8_percent_encode(value, SEGMENT).into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_everything_but_unreserved() {
        assert_eq!(super::encode_path("a b/ä+c"), "a%20b%2F%C3%A4%2Bc");
        assert_eq!(super::encode_path("int_AZ-09.~"), "int_AZ-09.~");
        assert_eq!(super::encode_path("?#%&=;:@"), "%3F%23%25%26%3D%3B%3A%40");
    }
}
