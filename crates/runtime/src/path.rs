//! Path-segment encoding for generated clients, and the query spelling of
//! `deepObject` parameters.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Every byte but the unreserved ones (RFC 3986: letters, digits, `-`,
/// `.`, `_`, `~`) is encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Which bytes a path segment carries as they are (a table: ids are
/// checked byte by byte on every call).
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~');
        b += 1;
    }
    table
};

/// Percent-encodes a value for use as one path segment, so that an id can
/// never add a segment, a query or a fragment: `a b/ä+c` → `a%20b%2F%C3%A4%2Bc`.
pub fn encode_path(value: &str) -> std::borrow::Cow<'_, str> {
    if value.bytes().all(|b| UNRESERVED[b as usize]) {
        // The common case (ids): nothing to encode, nothing to copy.
        return std::borrow::Cow::Borrowed(value);
    }
    utf8_percent_encode(value, SEGMENT).into()
}

/// [`encode_path`] for any displayable value (an id, a number, a UUID):
/// what generated mock helpers match a path value against.
#[doc(hidden)]
pub fn encode_display<T: std::fmt::Display + ?Sized>(value: &T) -> String {
    encode_path(&value.to_string()).into_owned()
}

/// The longest path segment sent, once encoded. Ids of these APIs are
/// tens of characters; a longer value is a mistake, and servers refuse
/// long URLs with errors that say less than this limit does.
pub const MAX_PATH_SEGMENT: usize = 1024;

/// A path parameter that cannot be sent: it would address another resource
/// than the one named, or is too long for a URL.
#[derive(Debug, Clone)]
pub struct InvalidPathSegment {
    parameter: &'static str,
    reason: &'static str,
}

impl InvalidPathSegment {
    /// The parameter, as the operation's method names it.
    pub fn parameter(&self) -> &'static str {
        self.parameter
    }
}

impl std::fmt::Display for InvalidPathSegment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "path parameter `{}` {}; nothing was sent",
            self.parameter, self.reason
        )
    }
}

impl std::error::Error for InvalidPathSegment {}

impl<E> From<InvalidPathSegment> for progenitor_client::Error<E> {
    fn from(e: InvalidPathSegment) -> Self {
        Self::InvalidRequest(e.to_string())
    }
}

/// One path segment for parameter `parameter`: percent-encoded like
/// [`encode_path`], and refused when it is empty, `.` or `..` (a URL would
/// drop or climb the segment, and the request would reach another
/// resource: `DELETE /keys/..` is `DELETE /`), or longer than
/// [`MAX_PATH_SEGMENT`] once encoded. The error names the parameter, never
/// the value. Generated operations call it for every path parameter.
#[doc(hidden)]
pub fn path_segment<'a>(
    parameter: &'static str,
    value: &'a str,
) -> Result<std::borrow::Cow<'a, str>, InvalidPathSegment> {
    let reason = match value {
        "" => Some("is empty: give the id of the resource"),
        "." | ".." => Some("is `.` or `..`, which a URL resolves to another resource"),
        _ => None,
    };
    if let Some(reason) = reason {
        return Err(InvalidPathSegment { parameter, reason });
    }
    let encoded = encode_path(value);
    if encoded.len() > MAX_PATH_SEGMENT {
        return Err(InvalidPathSegment {
            parameter,
            reason: "is longer than 1024 characters once encoded: check that it is an id",
        });
    }
    Ok(encoded)
}

/// A `deepObject` query parameter as it goes on the wire: each field of
/// the value a `name[field]=value` pair, a nested object's fields
/// `name[field][inner]=value`; `None` (or `null`) sends nothing. What
/// generated clients send for a `deepObject` parameter whose fields are not
/// all plain values (a map of filters, an object of objects).
#[doc(hidden)]
pub struct DeepObject<'a, T: ?Sized> {
    name: &'a str,
    value: &'a T,
}

impl<'a, T: ?Sized> DeepObject<'a, T> {
    /// The parameter `name` with `value`.
    pub fn new(name: &'a str, value: &'a T) -> Self {
        Self { name, value }
    }
}

impl<T: serde::Serialize + ?Sized> serde::Serialize for DeepObject<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = serde_json::to_value(self.value).map_err(serde::ser::Error::custom)?;
        let mut pairs = Vec::new();
        deep_pairs(self.name.to_owned(), &value, &mut pairs);
        serde::Serialize::serialize(&pairs, serializer)
    }
}

/// The pairs a value makes under `key`, as [`DeepObject`] sends them.
pub(crate) fn deep_pairs(key: String, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    match value {
        Value::Null => {}
        Value::Object(fields) => {
            for (field, inner) in fields {
                deep_pairs(format!("{key}[{field}]"), inner, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                deep_pairs(key.clone(), item, out);
            }
        }
        Value::String(text) => out.push((key, text.clone())),
        other => out.push((key, other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn segments_that_would_leave_their_place_are_refused() {
        for bad in ["", ".", ".."] {
            let e = super::path_segment("key_id", bad).unwrap_err();
            assert_eq!(e.parameter(), "key_id");
            assert!(e.to_string().contains("`key_id`"), "{e}");
        }
        let long = "a".repeat(super::MAX_PATH_SEGMENT + 1);
        assert!(super::path_segment("key_id", &long).is_err());
        // Encoding counts: 400 slashes are 1,200 characters on the wire.
        assert!(super::path_segment("key_id", &"/".repeat(400)).is_err());
        assert_eq!(super::path_segment("key_id", "...").unwrap(), "...");
        assert_eq!(super::path_segment("key_id", "a/b").unwrap(), "a%2Fb");
    }

    #[test]
    fn encodes_everything_but_unreserved() {
        assert_eq!(super::encode_path("a b/ä+c"), "a%20b%2F%C3%A4%2Bc");
        assert_eq!(super::encode_path("int_AZ-09.~"), "int_AZ-09.~");
        assert_eq!(super::encode_path("?#%&=;:@"), "%3F%23%25%26%3D%3B%3A%40");
    }

    #[test]
    fn a_deep_object_is_spelt_field_by_field_and_none_sends_nothing() {
        use std::collections::BTreeMap;
        let mut filter = BTreeMap::new();
        filter.insert("gt", "2012-01-01");
        filter.insert("lt", "2012-01-31T12:34:56Z");
        let nested = serde_json::json!({"from": {"day": 3, "open": true}, "note": "a&b"});
        assert_eq!(
            query(&super::DeepObject::new("created", &Some(&filter))),
            "created%5Bgt%5D=2012-01-01&created%5Blt%5D=2012-01-31T12%3A34%3A56Z"
        );
        assert_eq!(
            query(&super::DeepObject::new("range", &nested)),
            "range%5Bfrom%5D%5Bday%5D=3&range%5Bfrom%5D%5Bopen%5D=true&range%5Bnote%5D=a%26b"
        );
        assert_eq!(
            query(&super::DeepObject::new(
                "created",
                &None::<&BTreeMap<&str, &str>>
            )),
            ""
        );
    }

    /// The query reqwest writes for a value, as the generated client hands
    /// it over (`.query(&value)`).
    fn query<T: serde::Serialize>(value: &T) -> String {
        let request = reqwest::Client::new()
            .get("http://h/")
            .query(value)
            .build()
            .unwrap();
        request.url().query().unwrap_or_default().to_owned()
    }
}
