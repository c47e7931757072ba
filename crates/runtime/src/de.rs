//! Tolerant decoding for generated models: what the services send beside
//! what their specs promise. The codegen puts these on model fields with
//! `#[serde(deserialize_with = ...)]`; writing is never affected.
//!
//! | the service sends | for a field of type | it reads as |
//! |---|---|---|
//! | `null` | optional array or map | absent (empty) |
//! | `"true"` / `"false"` | boolean | the boolean |
//! | `"42"` | integer or number | the number |
//! | `42.0` or `"42.0"` | integer | the integer |
//! | a date-time in another form (see [`date_time`]), or epoch seconds or milliseconds | date-time | that time |

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// `null` reads as the type's default (an empty list or map).
#[doc(hidden)]
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A scalar the service may send in another JSON type than its spec says.
#[doc(hidden)]
pub trait Lenient: Sized {
    /// What the spec says, for error messages.
    const EXPECTING: &'static str;
    /// From a JSON boolean.
    fn from_bool(_: bool) -> Option<Self> {
        None
    }
    /// From a JSON integer.
    fn from_i64(_: i64) -> Option<Self> {
        None
    }
    /// From a JSON unsigned integer.
    fn from_u64(v: u64) -> Option<Self> {
        i64::try_from(v).ok().and_then(Self::from_i64)
    }
    /// From a JSON number with a fraction.
    fn from_f64(_: f64) -> Option<Self> {
        None
    }
    /// From a JSON string.
    fn from_str(_: &str) -> Option<Self>;
}

impl Lenient for bool {
    const EXPECTING: &'static str = "a boolean (or \"true\"/\"false\", 1/0)";
    fn from_bool(v: bool) -> Option<Self> {
        Some(v)
    }
    fn from_i64(v: i64) -> Option<Self> {
        crate::lax::bool_from_number(v as f64)
    }
    fn from_f64(v: f64) -> Option<Self> {
        crate::lax::bool_from_number(v)
    }
    fn from_str(v: &str) -> Option<Self> {
        crate::lax::bool_from_text(v)
    }
}

macro_rules! lenient_integer {
    ($($t:ty),*) => {$(
        impl Lenient for $t {
            const EXPECTING: &'static str = "an integer (or one written as a string or an integral float)";
            fn from_i64(v: i64) -> Option<Self> {
                Self::try_from(v).ok()
            }
            fn from_u64(v: u64) -> Option<Self> {
                Self::try_from(v).ok()
            }
            fn from_f64(v: f64) -> Option<Self> {
                // 2^63 is exact as a float; whole numbers below it fit i64.
                let fits = v.fract() == 0.0 && v.abs() < 9_223_372_036_854_775_808.0;
                fits.then(|| Self::try_from(v as i64).ok()).flatten()
            }
            fn from_bool(v: bool) -> Option<Self> {
                Some(Self::from(v))
            }
            fn from_str(v: &str) -> Option<Self> {
                let v = v.trim();
                v.parse()
                    .ok()
                    .or_else(|| crate::lax::float_from_text(v).and_then(Self::from_f64))
            }
        }
    )*};
}
lenient_integer!(i8, i16, i32, i64, u8, u16, u32, u64);

macro_rules! lenient_float {
    ($($t:ty),*) => {$(
        impl Lenient for $t {
            const EXPECTING: &'static str = "a number (or one written as a string)";
            fn from_i64(v: i64) -> Option<Self> {
                Some(v as $t)
            }
            fn from_u64(v: u64) -> Option<Self> {
                Some(v as $t)
            }
            fn from_f64(v: f64) -> Option<Self> {
                Some(v as $t)
            }
            fn from_bool(v: bool) -> Option<Self> {
                Some(<$t>::from(u8::from(v)))
            }
            fn from_str(v: &str) -> Option<Self> {
                crate::lax::float_from_text(v).map(|f| f as $t)
            }
        }
    )*};
}
lenient_float!(f32, f64);

impl Lenient for chrono::DateTime<chrono::Utc> {
    const EXPECTING: &'static str = "a date-time (RFC 3339, or epoch seconds or milliseconds)";
    fn from_i64(v: i64) -> Option<Self> {
        from_epoch(v as f64)
    }
    fn from_u64(v: u64) -> Option<Self> {
        from_epoch(v as f64)
    }
    fn from_f64(v: f64) -> Option<Self> {
        from_epoch(v)
    }
    fn from_str(v: &str) -> Option<Self> {
        date_time(v)
    }
}

/// Epoch numbers at or past this are milliseconds: as seconds they would
/// be past the year 5000, as milliseconds they are after March 1973.
const EPOCH_MILLIS_FROM: f64 = 100_000_000_000.0;

/// A time from epoch seconds, or milliseconds (see [`EPOCH_MILLIS_FROM`]).
fn from_epoch(v: f64) -> Option<chrono::DateTime<chrono::Utc>> {
    if !v.is_finite() {
        return None;
    }
    let millis = if v.abs() >= EPOCH_MILLIS_FROM {
        v
    } else {
        v * 1000.0
    };
    // Whole milliseconds; beyond ±2^53 a float is no exact count anyway.
    let millis = millis.round();
    if millis.abs() > 9_007_199_254_740_992.0 {
        return None;
    }
    chrono::DateTime::from_timestamp_millis(millis as i64)
}

/// A date-time in the forms services write: RFC 3339, with a space or a
/// lower-case `t` for the `T`, 0 to 9 fraction digits, an offset with or
/// without its colon (`+0000`, `+00`) or none (read as UTC, as .NET
/// services mean it), epoch seconds or milliseconds as text, and .NET's
/// `/Date(1700000000000)/` (an offset after the milliseconds is ignored:
/// they are UTC).
pub fn date_time(v: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{DateTime, NaiveDateTime, Utc};
    let v = v.trim();
    if let Some(inner) = v
        .strip_prefix("/Date(")
        .and_then(|rest| rest.strip_suffix(")/"))
    {
        let digits_end = inner
            .char_indices()
            .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
            .map_or(inner.len(), |(i, _)| i);
        let millis: i64 = inner[..digits_end].parse().ok()?;
        return DateTime::from_timestamp_millis(millis);
    }
    if !v.is_empty()
        && v.trim_start_matches('-')
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.')
    {
        return from_epoch(v.parse().ok()?);
    }
    // The date and the time, joined by `T` whatever the service used.
    let mut text = v.to_owned();
    if text.len() > 10 && matches!(text.as_bytes()[10], b' ' | b't') {
        text.replace_range(10..11, "T");
    }
    if text.ends_with('z') {
        text.pop();
        text.push('Z');
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(&text) {
        return Some(t.with_timezone(&Utc));
    }
    // An offset without its colon, or hours alone.
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(&text, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    // No offset.
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(&text, format) {
            return Some(t.and_utc());
        }
    }
    None
}

struct LenientVisitor<T>(PhantomData<T>);

impl<T: Lenient> LenientVisitor<T> {
    fn or_invalid<E: de::Error>(v: Option<T>, got: de::Unexpected<'_>) -> Result<T, E> {
        v.ok_or_else(|| E::invalid_type(got, &T::EXPECTING))
    }
}

impl<T: Lenient> Visitor<'_> for LenientVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        Self::or_invalid(T::from_bool(v), de::Unexpected::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Self::or_invalid(T::from_i64(v), de::Unexpected::Signed(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Self::or_invalid(T::from_u64(v), de::Unexpected::Unsigned(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        Self::or_invalid(T::from_f64(v), de::Unexpected::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        // The value is not quoted in the error: it could be a secret.
        Self::or_invalid(T::from_str(v), de::Unexpected::Other("a string"))
    }
}

/// A scalar read tolerantly (see [`Lenient`]).
#[doc(hidden)]
pub fn lenient<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Lenient,
{
    deserializer.deserialize_any(LenientVisitor(PhantomData))
}

/// An optional scalar read tolerantly; `null` is absent.
#[doc(hidden)]
pub fn lenient_option<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Lenient,
{
    struct Opt<T>(PhantomData<T>);
    impl<'de, T: Lenient> Visitor<'de> for Opt<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "null or {}", T::EXPECTING)
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
            lenient(d).map(Some)
        }
    }
    deserializer.deserialize_option(Opt(PhantomData))
}

/// Reads `body` as a success answer's JSON is read (strictly, then
/// tolerantly) and writes the value back as JSON: what tests of tolerant
/// reading compare. The error names the place that failed, never a value.
#[doc(hidden)]
pub fn read_back<T>(body: &[u8]) -> Result<serde_json::Value, String>
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let value: T = crate::body::read_json(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => e.to_string(),
        _ => format!(
            "{:?} at line {}, column {}",
            e.classify(),
            e.line(),
            e.column()
        ),
    })?;
    serde_json::to_value(&value).map_err(|e| e.to_string())
}

/// The JSON Schema of `T`, as `schemars` derives it from the generated
/// type (what the tests of tolerant reading make instances from).
#[doc(hidden)]
#[cfg(feature = "schemars")]
pub fn schema_of<T: schemars::JsonSchema>() -> schemars::schema::RootSchema {
    schemars::schema_for!(T)
}

/// A value as the client writes it in a path segment or header: a string
/// as it is, a number or boolean in JSON, a list as its items joined by
/// commas, anything else as JSON. For the generated mock helpers.
#[doc(hidden)]
pub fn wire_text<T: serde::Serialize + ?Sized>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Array(items)) => {
            items.iter().map(wire_text).collect::<Vec<_>>().join(",")
        }
        Ok(serde_json::Value::Null) => String::new(),
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// A query value as the client sends it, as `(key, text)` pairs: one per
/// item of a list, one per field of an object (`name[field]`, as a
/// `deepObject` parameter is sent), else one.
#[doc(hidden)]
pub fn wire_pairs<T: serde::Serialize + ?Sized>(name: &str, value: &T) -> Vec<(String, String)> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Array(items)) => items
            .iter()
            .map(|item| (name.to_owned(), wire_text(item)))
            .collect(),
        Ok(object @ serde_json::Value::Object(_)) => {
            let mut pairs = Vec::new();
            crate::path::deep_pairs(name.to_owned(), &object, &mut pairs);
            pairs
        }
        _ => vec![(name.to_owned(), wire_text(value))],
    }
}

/// One form of a joined type: the JSON keys it knows, and how to read it.
#[doc(hidden)]
pub type Form<T> = (
    &'static [&'static str],
    fn(serde_json::Value) -> serde_json::Result<T>,
);

/// Reads a body that may be one of several object forms (an error type
/// joined from several declared bodies, say) as the form it actually is:
/// the form that knows most of the body's keys, and of those the one with
/// the fewest keys of its own (the most specific fit). A body that is not
/// an object is tried against the forms in their order.
#[doc(hidden)]
pub fn best_form<'de, D, T>(deserializer: D, forms: &[Form<T>]) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    let mut order: Vec<&Form<T>> = forms.iter().collect();
    if let serde_json::Value::Object(body) = &value {
        let known = |keys: &[&str]| body.keys().filter(|k| keys.contains(&k.as_str())).count();
        order.sort_by_key(|(keys, _)| (std::cmp::Reverse(known(keys)), keys.len()));
    }
    order
        .into_iter()
        .find_map(|(_, read)| read(value.clone()).ok())
        .ok_or_else(|| de::Error::custom("the body matches none of the forms declared for it"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Model {
        #[serde(default, deserialize_with = "null_as_default")]
        list: Vec<u8>,
        #[serde(default, deserialize_with = "lenient_option")]
        enabled: Option<bool>,
        #[serde(deserialize_with = "lenient")]
        count: i32,
        #[serde(default, deserialize_with = "lenient_option")]
        when: Option<chrono::DateTime<chrono::Utc>>,
    }

    #[test]
    fn loose_answers_decode() {
        let m: Model = serde_json::from_str(
            r#"{"list":null,"enabled":"true","count":"42","when":"2026-11-01T10:00:00.1234567"}"#,
        )
        .unwrap();
        assert!(m.list.is_empty());
        assert_eq!(m.enabled, Some(true));
        assert_eq!(m.count, 42);
        assert_eq!(
            m.when.unwrap().to_rfc3339(),
            "2026-11-01T10:00:00.123456700+00:00"
        );
        let m: Model = serde_json::from_str(r#"{"count":7,"enabled":null}"#).unwrap();
        assert_eq!((m.count, m.enabled, m.when), (7, None, None));
        let m: Model =
            serde_json::from_str(r#"{"count":7,"when":"2026-11-01T10:00:00+02:00"}"#).unwrap();
        assert_eq!(m.when.unwrap().to_rfc3339(), "2026-11-01T08:00:00+00:00");
    }

    #[test]
    fn date_times_in_the_forms_services_write() {
        let want = "2026-11-01T10:00:00+00:00";
        for form in [
            "2026-11-01T10:00:00Z",
            "2026-11-01T10:00:00+0000",
            "2026-11-01T12:00:00+0200",
            "2026-11-01T12:00:00+02",
            "2026-11-01T05:00:00-05:00",
            "2026-11-01 10:00:00Z",
            "2026-11-01t10:00:00z",
            "2026-11-01T10:00:00",
            "2026-11-01 10:00:00",
            "2026-11-01T10:00:00.000000000Z",
            "2026-11-01T10:00:00.0000000",
            "1793527200",
            "1793527200000",
            " 1793527200.000 ",
            "/Date(1793527200000)/",
            "/Date(1793527200000+0000)/",
        ] {
            let got = date_time(form).map(|t| t.to_rfc3339());
            assert_eq!(got.as_deref(), Some(want), "{form}");
        }
        for number in [1_793_527_200_f64, 1_793_527_200_000_f64] {
            assert_eq!(from_epoch(number).unwrap().to_rfc3339(), want);
        }
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "/Date(x)/",
            "1e400",
        ] {
            assert_eq!(date_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn wrong_values_still_fail_without_quoting_them() {
        for body in [
            r#"{"count":"many"}"#,
            r#"{"count":1.5}"#,
            r#"{"count":1,"enabled":"yes-secret"}"#,
            r#"{"count":99999999999}"#,
        ] {
            let e = serde_json::from_str::<Model>(body).unwrap_err().to_string();
            assert!(!e.contains("secret") && !e.contains("many"), "{e}");
        }
    }
}
