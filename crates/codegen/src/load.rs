//! Reading a spec, YAML or JSON, into a JSON value without losing any of it.
//!
//! Published specs carry numbers no 64-bit integer holds (an `int32`
//! property with `maximum: 99999999999999999999`). Deserializing straight
//! into `serde_json::Value` refuses the whole file for them; here they are
//! kept as floating-point numbers, and [`crate::rules`] decide what a
//! bound that large means.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::rules::Row;

/// Where the reader lives, for the README's construct table.
pub(crate) const MODULE: &str = module_path!();

/// The constructs the reader answers for.
pub(crate) const ROWS: &[Row] = &[Row {
    construct: "integers past 64 bits anywhere in the document",
    action: "read as floats; the rules below decide",
}];

/// A JSON value read from any self-describing format, with integers past
/// 64 bits read as floats.
pub(crate) struct Loose(pub(crate) Value);

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LooseVisitor).map(Loose)
    }
}

struct LooseVisitor;

fn float(value: f64) -> Value {
    Number::from_f64(value).map_or(Value::Null, Value::Number)
}

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML or JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Loose::deserialize(d).map(|l| l.0)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or_else(|_| float(v as f64), Value::from))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(u64::try_from(v).map_or_else(|_| float(v as f64), Value::from))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Loose(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some((key, Loose(value))) = map.next_entry::<Loose, Loose>()? {
            let key = match key.0 {
                Value::String(s) => s,
                // YAML allows non-string keys (`200:` for a status); JSON
                // pointers and OpenAPI read them as their text.
                other => other.to_string(),
            };
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::Loose;

    #[test]
    fn integers_past_64_bits_are_kept_as_floats() {
        let Loose(v) = serde_yaml_ng::from_str(
            "max: 99999999999999999999\nmin: -99999999999999999999\nok: 7\n200: {a: [1, null]}\n",
        )
        .unwrap();
        assert_eq!(v["max"].as_f64(), Some(1e20));
        assert_eq!(v["min"].as_f64(), Some(-1e20));
        assert_eq!(v["ok"].as_u64(), Some(7));
        assert_eq!(v["200"]["a"][1], serde_json::Value::Null);
        let Loose(j) = serde_json::from_str("{\"max\": 99999999999999999999}").unwrap();
        assert_eq!(j["max"].as_f64(), Some(1e20));
    }
}
