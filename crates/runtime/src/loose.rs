//! The second reading of a success body, for answers that the strict
//! reading refused: the text is repaired (a byte-order mark, lone surrogate
//! escapes), parsed into a JSON value (a repeated key keeps its last value),
//! and that value is read into the type through [`Loose`], which gives each
//! field what its type asks for when the JSON says the same thing in another
//! form: a number for a string, a string for a number or boolean, an
//! integral float for an integer, `null` for a list.
//!
//! It applies at every depth of every generated type, because it works on
//! the hints serde's derives give (`deserialize_string`, `deserialize_i64`,
//! ...), not on per-field attributes. Inside an untagged union (`oneOf`,
//! `anyOf`) serde buffers the value and reads it without hints, so only
//! the per-field readers of [`crate::de`] apply there.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde_json::{Map, Number, Value};

use crate::lax;

/// Reads `T` from `body` tolerantly; on failure the error names the path
/// of the value that could not be read (`keys[3].created`), never the
/// value itself.
pub(crate) fn from_slice<T: de::DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    let value = parse(body)?;
    from_value(value)
}

/// Reads `T` from a parsed value tolerantly (see [`from_slice`]).
pub(crate) fn from_value<T: de::DeserializeOwned>(value: Value) -> Result<T, serde_json::Error> {
    serde_path_to_error::deserialize(Loose(value)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // serde's own messages quote the value, which may be a secret;
        // only the field names of a missing field are safe to repeat.
        let text = inner.to_string();
        let what = if text.starts_with("missing field") {
            text
        } else {
            "a value of the wrong type or shape".to_owned()
        };
        if path == "." {
            de::Error::custom(what)
        } else {
            de::Error::custom(format!("{what} at `{path}`"))
        }
    })
}

/// The body as JSON, repaired where services write JSON that strict
/// parsers refuse: a UTF-8 byte-order mark, and `\u` escapes of unpaired
/// surrogates (read as U+FFFD).
pub(crate) fn parse(body: &[u8]) -> Result<Value, serde_json::Error> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let first = match serde_json::from_slice(body) {
        Err(e) if e.is_syntax() => e,
        other => return other,
    };
    // Python's `json` also reads the bare tokens `NaN`, `Infinity` and
    // `-Infinity`: here they become strings, which a number field reads as
    // the number they name (see `crate::lax`).
    let mut repaired = std::borrow::Cow::Borrowed(body);
    if contains_escape(&repaired) {
        repaired = std::borrow::Cow::Owned(replace_lone_surrogates(&repaired));
    }
    if let Some(quoted) = quote_non_finite(&repaired) {
        repaired = std::borrow::Cow::Owned(quoted);
    }
    match repaired {
        std::borrow::Cow::Borrowed(_) => Err(first),
        std::borrow::Cow::Owned(text) => serde_json::from_slice(&text),
    }
}

/// `body` with each bare non-finite token (outside strings) written as a
/// string of itself; `None` when there is none.
fn quote_non_finite(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len() + 8);
    let (mut i, mut in_string, mut found) = (0, false, false);
    while i < body.len() {
        let b = body[i];
        if in_string {
            out.push(b);
            match b {
                b'\\' => {
                    if let Some(next) = body.get(i + 1) {
                        out.push(*next);
                    }
                    i += 2;
                    continue;
                }
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            out.push(b);
            i += 1;
            continue;
        }
        let token = lax::NON_FINITE_TOKENS
            .iter()
            .map(|(t, _)| t.as_bytes())
            .find(|t| body[i..].starts_with(t));
        match token {
            Some(t) => {
                out.push(b'"');
                out.extend_from_slice(t);
                out.push(b'"');
                i += t.len();
                found = true;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    found.then_some(out)
}

fn contains_escape(body: &[u8]) -> bool {
    body.windows(2).any(|w| w == b"\\u")
}

/// `\uD800`–`\uDFFF` escapes that are not a high surrogate followed by a
/// low one become `\uFFFD`; everything else is copied as it is.
fn replace_lone_surrogates(body: &[u8]) -> Vec<u8> {
    fn unit(b: &[u8], at: usize) -> Option<u16> {
        if b.get(at..at + 2)? != b"\\u" {
            return None;
        }
        let hex = std::str::from_utf8(b.get(at + 2..at + 6)?).ok()?;
        u16::from_str_radix(hex, 16).ok()
    }
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i] != b'\\' {
            out.push(body[i]);
            i += 1;
            continue;
        }
        match unit(body, i) {
            Some(0xD800..=0xDBFF) => {
                if matches!(unit(body, i + 6), Some(0xDC00..=0xDFFF)) {
                    out.extend_from_slice(&body[i..i + 12]);
                    i += 12;
                } else {
                    out.extend_from_slice(b"\\uFFFD");
                    i += 6;
                }
            }
            Some(0xDC00..=0xDFFF) => {
                out.extend_from_slice(b"\\uFFFD");
                i += 6;
            }
            _ => {
                // Any other escape: copy the backslash and the character
                // after it, so that `\\u` stays an escaped backslash.
                out.extend_from_slice(&body[i..(i + 2).min(body.len())]);
                i += 2;
            }
        }
    }
    out
}

/// A JSON value read as the type asks: see the module's documentation.
pub(crate) struct Loose(pub(crate) Value);

type Error = serde_json::Error;

/// An integer from a number, a string or a boolean, when it means one
/// exactly ([`crate::lax`]).
fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| whole(n.as_f64()?)),
        Value::String(s) => lax::int_from_text(s),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| whole(n.as_f64()?).and_then(|i| u64::try_from(i).ok())),
        Value::String(s) => s
            .trim()
            .parse()
            .ok()
            .or_else(|| lax::int_from_text(s).and_then(|i| u64::try_from(i).ok())),
        Value::Bool(b) => Some(u64::from(*b)),
        _ => None,
    }
}

use lax::whole;

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => lax::float_from_text(s),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => lax::bool_from_text(s),
        Value::Number(n) => lax::bool_from_number(n.as_f64()?),
        _ => None,
    }
}

fn number_text(n: &Number) -> String {
    n.to_string()
}

macro_rules! integer_hint {
    ($($method:ident => $visit:ident via $read:ident as $t:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match $read(&self.0) {
                Some(v) => visitor.$visit(v as $t),
                None => self.deserialize_any(visitor),
            }
        }
    )*};
}

impl<'de> Deserializer<'de> for Loose {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Seq(items.into_iter())),
            Value::Object(map) => visitor.visit_map(Obj::new(map)),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match as_bool(&self.0) {
            Some(b) => visitor.visit_bool(b),
            None => self.deserialize_any(visitor),
        }
    }

    integer_hint! {
        deserialize_i8 => visit_i64 via as_i64 as i64,
        deserialize_i16 => visit_i64 via as_i64 as i64,
        deserialize_i32 => visit_i64 via as_i64 as i64,
        deserialize_i64 => visit_i64 via as_i64 as i64,
        deserialize_u8 => visit_u64 via as_u64 as u64,
        deserialize_u16 => visit_u64 via as_u64 as u64,
        deserialize_u32 => visit_u64 via as_u64 as u64,
        deserialize_u64 => visit_u64 via as_u64 as u64,
        deserialize_f32 => visit_f64 via as_f64 as f64,
        deserialize_f64 => visit_f64 via as_f64 as f64,
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::String(s) => visitor.visit_string(s),
            Value::Number(n) => visitor.visit_string(number_text(&n)),
            other => Loose(other).deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Loose(other)),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            other => Loose(other).deserialize_any(visitor),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            // A list the service sent as `null` is an empty list.
            Value::Null => visitor.visit_seq(Seq(Vec::new().into_iter())),
            other => Loose(other).deserialize_any(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            // A unit variant written as a number (`1` or `1.0` for `"1"`).
            Value::Number(n) => {
                let text = match n.as_f64().and_then(whole) {
                    Some(i) if !n.is_i64() && !n.is_u64() => i.to_string(),
                    _ => number_text(&n),
                };
                visitor.visit_enum(text.into_deserializer())
            }
            other => other.deserialize_enum(name, variants, visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char bytes byte_buf identifier
    }
}

struct Seq(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Seq {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(Loose(v)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Obj {
    entries: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl Obj {
    fn new(map: Map<String, Value>) -> Self {
        Self {
            entries: map.into_iter(),
            value: None,
        }
    }
}

impl<'de> MapAccess<'de> for Obj {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        // Keys stay strings; `MapKey` also reads one as a number for maps
        // keyed by integers.
        seed.deserialize(MapKey(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let value = self
            .value
            .take()
            .ok_or_else(|| <Error as de::Error>::custom("a value was asked for before its key"))?;
        seed.deserialize(Loose(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// An object's key: a string, read as a number where the map's key type
/// asks for one.
struct MapKey(String);

impl<'de> Deserializer<'de> for MapKey {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_string(self.0)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        Loose(Value::String(self.0)).deserialize_i64(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        Loose(Value::String(self.0)).deserialize_u64(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(self.0.into_deserializer())
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 u8 u16 u32 f32 f64 i128 u128 char str string bytes byte_buf
        option unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

impl fmt::Debug for Loose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The value may hold a secret.
        f.write_str("Loose(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::HashMap;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Key {
        id: String,
        size: i32,
        ratio: f64,
        on: bool,
        tags: Vec<u8>,
        note: Option<String>,
        by_id: HashMap<i64, bool>,
    }

    #[test]
    fn every_scalar_takes_its_other_forms_at_any_depth() {
        let body = br#"{"id":42,"size":"7","ratio":"0.5","on":"TRUE","tags":["1",2.0,3],
            "note":12.5,"by_id":{"5":"false"}}"#;
        let keys: Vec<Key> = from_slice(&[b"[", &body[..], b"]"].concat()).unwrap();
        assert_eq!(
            keys[0],
            Key {
                id: "42".into(),
                size: 7,
                ratio: 0.5,
                on: true,
                tags: vec![1, 2, 3],
                note: Some("12.5".into()),
                by_id: HashMap::from([(5, false)]),
            }
        );
    }

    #[test]
    fn text_repairs() {
        let v: HashMap<String, String> = from_slice(
            b"\xEF\xBB\xBF{\"a\":\"x\\ud800y\",\"b\":\"\\udc00\",\"a\":\"last\\\\ud800\"}",
        )
        .unwrap();
        assert_eq!(v["a"], "last\\ud800");
        assert_eq!(v["b"], "\u{FFFD}");
        let v: String = from_slice(br#""\ud83d\ude00 \ud83d""#).unwrap();
        assert_eq!(v, "\u{1F600} \u{FFFD}");
    }

    #[test]
    fn what_cannot_mean_the_type_still_fails_naming_the_place() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct List {
            keys: Vec<Key>,
        }
        let key = r#"{"id":"a","size":1,"ratio":1,"on":true,"tags":[],"by_id":{}}"#;
        for (bad, path) in [
            (r#""on":"yes-secret""#, "keys[1].on"),
            (r#""size":1.5"#, "keys[1].size"),
            (r#""size":"9999999999""#, "keys[1].size"),
            (r#""tags":[300]"#, "keys[1].tags[0]"),
        ] {
            let field = bad.split(':').next().unwrap();
            let start = key.find(field).unwrap();
            let end = start + key[start..].find([',', '}']).unwrap();
            let odd = format!("{}{}{}", &key[..start], bad, &key[end..]);
            let body = format!(r#"{{"keys":[{key},{odd}]}}"#);
            let e = from_slice::<List>(body.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(path), "{bad}: {e}");
            assert!(!e.contains("secret"), "{e}");
        }
        let e = from_slice::<Key>(br#"{"id":"a"}"#).unwrap_err().to_string();
        assert!(e.contains("missing field `size`"), "{e}");
    }
}
