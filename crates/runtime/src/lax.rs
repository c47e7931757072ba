//! The scalar forms a field is read from when the JSON says it in another
//! type than the schema: one list, taken from pydantic's lax mode (v1 and
//! v2), which the providers' official Python SDKs read their models with.
//! Both readers — [`crate::de`] on model fields and `loose.rs` for whole
//! answers — and their tests take the forms from here, so that a form
//! added here is read, and tested, everywhere the day it is added.
//!
//! | schema type | also read from | refused (ambiguous) |
//! |---|---|---|
//! | boolean | the numbers `1` and `0` (`1.0`, `0.0`); the strings in [`TRUE_TEXTS`] and [`FALSE_TEXTS`], any case, spaces around ignored | pydantic's other words, [`REFUSED_BOOL_TEXTS`]: whether `"yes"` or `"on"` means `true` is the writer's convention, not JSON's |
//! | integer | a float with no fraction (`42.0`); a string of one (`"42"`, `"42.0"`); `true`/`false` as 1/0 | a fraction (`42.5`), which pydantic refuses too |
//! | number | an integer; a string of a number as Python's `float()` reads it, `"NaN"`, `"Infinity"`, `"-inf"` included; `true`/`false` as 1/0 | |
//! | string | a number, as its JSON text | |
//!
//! JSON text itself is read as Python's `json.loads` reads it (see
//! `loose.rs`): `NaN`, `Infinity` and `-Infinity` as numbers, a byte-order
//! mark, lone surrogates, a repeated key keeping its last value.

/// Strings read as `true`, compared without case after trimming.
pub const TRUE_TEXTS: &[&str] = &["true", "1"];
/// Strings read as `false`, compared the same way.
pub const FALSE_TEXTS: &[&str] = &["false", "0"];
/// pydantic's other words for booleans, which this client refuses: their
/// meaning is a convention of the writer.
pub const REFUSED_BOOL_TEXTS: &[&str] = &["yes", "no", "on", "off", "y", "n", "t", "f"];

/// The non-finite numbers JSON text may carry as bare tokens, as Python's
/// `json` writes and reads them, with their values.
pub const NON_FINITE_TOKENS: &[(&str, f64)] = &[
    ("NaN", f64::NAN),
    ("Infinity", f64::INFINITY),
    ("-Infinity", f64::NEG_INFINITY),
];

/// A boolean from a string, per [`TRUE_TEXTS`] and [`FALSE_TEXTS`].
pub(crate) fn bool_from_text(text: &str) -> Option<bool> {
    let text = text.trim();
    if TRUE_TEXTS.iter().any(|t| t.eq_ignore_ascii_case(text)) {
        Some(true)
    } else if FALSE_TEXTS.iter().any(|t| t.eq_ignore_ascii_case(text)) {
        Some(false)
    } else {
        None
    }
}

/// A boolean from a number: exactly 1 or 0.
pub(crate) fn bool_from_number(value: f64) -> Option<bool> {
    match value {
        1.0 => Some(true),
        0.0 => Some(false),
        _ => None,
    }
}

/// A float from a string as Python's `float()` reads it: decimal and
/// exponent forms, and `nan`, `inf`, `infinity` in any case with a sign.
pub(crate) fn float_from_text(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok()
}

/// An integer from a float with no fraction, within `i64`.
pub(crate) fn whole(value: f64) -> Option<i64> {
    // 2^63 is exact as a float; anything at or past it does not fit.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (value.is_finite() && value.fract() == 0.0 && (-LIMIT..LIMIT).contains(&value))
        .then_some(value as i64)
}

/// An integer from a string: an integer, or a float with no fraction.
pub(crate) fn int_from_text(text: &str) -> Option<i64> {
    let text = text.trim();
    text.parse().ok().or_else(|| whole(float_from_text(text)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each list's members in the spellings a service may send.
    fn spellings(word: &str) -> Vec<String> {
        vec![
            word.to_owned(),
            word.to_ascii_uppercase(),
            format!("  {word}\n"),
        ]
    }

    #[test]
    fn the_boolean_lists_hold_together() {
        for word in TRUE_TEXTS {
            for s in spellings(word) {
                assert_eq!(bool_from_text(&s), Some(true), "{s:?}");
            }
        }
        for word in FALSE_TEXTS {
            for s in spellings(word) {
                assert_eq!(bool_from_text(&s), Some(false), "{s:?}");
            }
        }
        for word in REFUSED_BOOL_TEXTS {
            for s in spellings(word) {
                assert_eq!(bool_from_text(&s), None, "{s:?}");
            }
        }
        assert_eq!(bool_from_number(1.0), Some(true));
        assert_eq!(bool_from_number(0.0), Some(false));
        for other in [2.0, -1.0, 0.5, f64::NAN] {
            assert_eq!(bool_from_number(other), None, "{other}");
        }
    }

    #[test]
    fn floats_read_as_python_reads_them() {
        for (token, value) in NON_FINITE_TOKENS {
            for s in spellings(token) {
                let read = float_from_text(&s).unwrap_or_else(|| panic!("{s:?}"));
                assert!(read == *value || (read.is_nan() && value.is_nan()), "{s:?}");
            }
        }
        for (text, value) in [("-inf", f64::NEG_INFINITY), ("+1e3", 1000.0), (".5", 0.5)] {
            assert_eq!(float_from_text(text), Some(value), "{text}");
        }
        assert_eq!(int_from_text("42.0"), Some(42));
        assert_eq!(int_from_text("42.5"), None);
        assert_eq!(int_from_text("NaN"), None);
    }
}
