//! Tolerant decoding for generated models: what the services send beside
//! what their specs promise. The codegen puts these on model fields with
//! `#[serde(deserialize_with = ...)]`; writing is never affected.
//!
//! | the service sends | for a field of type | it reads as |
//! |---|---|---|
//! | `null` | optional array or map | absent (empty) |
//! | `"true"` / `"false"` | boolean | the boolean |
//! | `"42"` | integer or number | the number |
//! | a date-time without offset | date-time | that time in UTC |

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
    const EXPECTING: &'static str = "a boolean (or \"true\"/\"false\")";
    fn from_bool(v: bool) -> Option<Self> {
        Some(v)
    }
    fn from_str(v: &str) -> Option<Self> {
        match v.trim() {
            s if s.eq_ignore_ascii_case("true") => Some(true),
            s if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }
}

macro_rules! lenient_integer {
    ($($t:ty),*) => {$(
        impl Lenient for $t {
            const EXPECTING: &'static str = "an integer (or one written as a string)";
            fn from_i64(v: i64) -> Option<Self> {
                Self::try_from(v).ok()
            }
            fn from_u64(v: u64) -> Option<Self> {
                Self::try_from(v).ok()
            }
            fn from_str(v: &str) -> Option<Self> {
                v.trim().parse().ok()
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
            fn from_str(v: &str) -> Option<Self> {
                v.trim().parse().ok()
            }
        }
    )*};
}
lenient_float!(f32, f64);

impl Lenient for chrono::DateTime<chrono::Utc> {
    const EXPECTING: &'static str = "an RFC 3339 date-time";
    fn from_str(v: &str) -> Option<Self> {
        let v = v.trim();
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
            return Some(t.with_timezone(&chrono::Utc));
        }
        // No offset: .NET services write UTC times so.
        v.parse::<chrono::NaiveDateTime>().ok().map(|t| t.and_utc())
    }
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
