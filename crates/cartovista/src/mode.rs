//! `ApiModeEnum`: read in either form the service may use, written in the
//! form the official client sends.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A key's API mode.
///
/// The API declares it as the strings `"0"` and `"1"` (what the official
/// client sends), while an ASP.NET service may write enums as the integers
/// `0` and `1`. Both forms decode; requests always carry the strings, the
/// declared form, so a service that validates against its own declaration
/// accepts them. What each mode means is not published.
///
/// A mode the service adds later (`2`, `"2"`) decodes as
/// [`ApiModeEnum::Other`] with its value as text, so that a list holding
/// one still decodes, and is written back as that text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiModeEnum {
    /// Mode `0`.
    Mode0,
    /// Mode `1`.
    Mode1,
    /// A mode this crate does not know yet, as the service wrote it.
    Other(String),
}

impl ApiModeEnum {
    /// The declared form: `"0"`, `"1"`, or an unknown mode's text.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Mode0 => "0",
            Self::Mode1 => "1",
            Self::Other(v) => v,
        }
    }
}

impl fmt::Display for ApiModeEnum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ApiModeEnum {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ApiModeEnum {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Mode;
        impl Visitor<'_> for Mode {
            type Value = ApiModeEnum;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an API mode: a string or an integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ApiModeEnum, E> {
                match v {
                    "0" => Ok(ApiModeEnum::Mode0),
                    "1" => Ok(ApiModeEnum::Mode1),
                    other => Ok(ApiModeEnum::Other(other.to_owned())),
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ApiModeEnum, E> {
                match v {
                    0 => Ok(ApiModeEnum::Mode0),
                    1 => Ok(ApiModeEnum::Mode1),
                    other => Ok(ApiModeEnum::Other(other.to_string())),
                }
            }
            /// `1.0` is mode 1 (services that hold numbers as floats write
            /// it so); another float is kept as written.
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ApiModeEnum, E> {
                if v.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&v) {
                    self.visit_u64(v as u64)
                } else {
                    Ok(ApiModeEnum::Other(v.to_string()))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ApiModeEnum, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Ok(ApiModeEnum::Other(v.to_string())),
                }
            }
        }
        deserializer.deserialize_any(Mode)
    }
}

#[cfg(feature = "schemars")]
impl schemars::JsonSchema for ApiModeEnum {
    fn schema_name() -> String {
        "ApiModeEnum".into()
    }

    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            enum_values: Some(vec!["0".into(), "1".into()]),
            ..Default::default()
        }
        .into()
    }
}
