//! Schemas: the forms typify refuses or turns into code that does not
//! compile, each rewritten to what its author meant.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::{Context, Problem, Row, Rule, escape, field_name, for_each_schema, note_places};
use crate::names::pascal;

pub(super) const FORMAT_WITHOUT_TYPE: Rule = Rule {
    name: "format-without-type",
    module: module_path!(),
    apply: format_without_type,
    rows: &[Row {
        construct: "a `format` without a `type`",
        action: "the type the format names",
    }],
    snapshots: &["lenient-documented-enums-and-bare-formats"],
};

/// A format alone says the type: `{format: date-time}` is a string.
fn format_without_type(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    const STRUCTURAL: [&str; 8] = [
        "type",
        "$ref",
        "allOf",
        "anyOf",
        "oneOf",
        "enum",
        "properties",
        "items",
    ];
    let mut typed = Vec::new();
    for_each_schema(doc, &mut |at, schema| {
        if STRUCTURAL.iter().any(|k| schema.contains_key(*k)) {
            return;
        }
        let ty = match schema.get("format").and_then(Value::as_str) {
            Some("int32" | "int64" | "uint32" | "uint64" | "int8" | "int16") => "integer",
            Some("float" | "double" | "decimal") => "number",
            Some(
                "date-time" | "date" | "time" | "uuid" | "email" | "uri" | "url" | "hostname"
                | "ipv4" | "ipv6" | "byte" | "binary" | "password",
            ) => "string",
            _ => return,
        };
        schema.insert("type".into(), json!(ty));
        typed.push(at.to_owned());
    });
    note_places(
        &mut context.notes,
        &typed,
        "schema(s) with a `format` and no `type` take the type the format names",
    );
    Ok(())
}

pub(super) const REQUIRED_NAMES: Rule = Rule {
    name: "required-names",
    module: module_path!(),
    apply: required_names,
    rows: &[Row {
        construct: "`required` names spelt otherwise than the properties (`id` for `Id`)",
        action: "matched whatever the case, else dropped",
    }],
    snapshots: &["lenient-required-otherwise-spelt-and-keywords"],
};

/// `required` naming a property the schema spells otherwise (`id` for
/// `Id`) or not at all: typify would add a second field.
fn required_names(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let mut fixed_at = Vec::new();
    for_each_schema(doc, &mut |at, schema| {
        let (Some(Value::Object(props)), Some(Value::Array(required))) =
            (schema.get("properties"), schema.get("required"))
        else {
            return;
        };
        let mut fixed = Vec::new();
        let mut changed = false;
        for name in required.iter().filter_map(Value::as_str) {
            if props.contains_key(name) {
                fixed.push(json!(name));
            } else if let Some(actual) = props.keys().find(|k| k.eq_ignore_ascii_case(name)) {
                fixed.push(json!(actual));
                changed = true;
            } else {
                changed = true;
            }
        }
        if changed {
            schema.insert("required".into(), Value::Array(fixed));
            fixed_at.push(at.to_owned());
        }
    });
    note_places(
        &mut context.notes,
        &fixed_at,
        "schema(s) require properties they spell otherwise or do not have: the names were matched to the properties, or dropped",
    );
    Ok(())
}

pub(super) const VACUOUS_BOUNDS: Rule = Rule {
    name: "vacuous-bounds",
    module: module_path!(),
    apply: vacuous_bounds,
    rows: &[Row {
        construct: "`minLength`/`minItems`/`minProperties` of 0",
        action: "dropped (they bound nothing)",
    }],
    snapshots: &["lenient-format-on-objects-and-odd-patterns"],
};

/// A lower bound of 0 on a length or count bounds nothing (typify would
/// check `len < 0`, which rustc rejects as useless).
fn vacuous_bounds(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let mut count = 0;
    for_each_schema(doc, &mut |_, schema| {
        for bound in ["minLength", "minItems", "minProperties"] {
            if schema.get(bound).and_then(Value::as_f64) == Some(0.0) {
                schema.remove(bound);
                count += 1;
            }
        }
    });
    if count > 0 {
        context.notes.push(format!(
            "{count} lower bound(s) of 0 on a length or count were dropped: they bound nothing"
        ));
    }
    Ok(())
}

pub(super) const SAME_FIELD_NAME: Rule = Rule {
    name: "same-field-name",
    module: module_path!(),
    apply: same_field_name,
    rows: &[
        Row {
            construct: "two properties whose Rust field names are one (`callerName`, `caller_name`)",
            action: "the later left out, noted",
        },
        Row {
            construct: "a property whose Rust field name is that of one merged from another component through `allOf: [$ref]` (Elastic's `name` beside an inherited `_name`)",
            action: "the component's own one left out, noted (the merged type had two fields of one name)",
        },
    ],
    snapshots: &["lenient-options-method-and-clashing-fields"],
};

/// Properties whose Rust field names would be one (`callerName`,
/// `caller_name`): the later ones are left to the extra properties.
fn same_field_name(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let mut clashes = Vec::new();
    for_each_schema(doc, &mut |at, schema| {
        let Some(Value::Object(props)) = schema.get_mut("properties") else {
            return;
        };
        let mut seen = BTreeSet::new();
        let colliding: Vec<String> = props
            .keys()
            .filter(|k| !seen.insert(field_name(k)))
            .cloned()
            .collect();
        for name in &colliding {
            props.remove(name);
            clashes.push(format!("{at}/properties/{}", escape(name)));
        }
        if !colliding.is_empty()
            && let Some(Value::Array(required)) = schema.get_mut("required")
        {
            required.retain(|r| !r.as_str().is_some_and(|r| colliding.iter().any(|c| c == r)));
        }
    });
    // A component's own property whose field name one it merges from
    // another component has under another key.
    let mut merged: Vec<(String, String)> = Vec::new();
    if let Some(Value::Object(components)) = doc.pointer("/components/schemas") {
        for name in components.keys() {
            let inherited: Vec<(String, String)> = super::inherited_properties(components, name)
                .into_iter()
                .map(|(prop, _, _)| (field_name(&prop), prop))
                .collect();
            for (prop, _) in super::own_properties(components, name) {
                let field = field_name(&prop);
                if inherited.iter().any(|(f, key)| *f == field && *key != prop) {
                    merged.push((name.clone(), prop));
                }
            }
        }
    }
    for (name, prop) in merged {
        let Some(schema) = doc.pointer_mut(&format!("/components/schemas/{}", escape(&name)))
        else {
            continue;
        };
        // From the component and from its inline `allOf` parts.
        let forget = |place: &mut Value| {
            if let Some(Value::Object(props)) = place.get_mut("properties") {
                props.remove(&prop);
            }
            if let Some(Value::Array(required)) = place.get_mut("required") {
                required.retain(|r| r.as_str() != Some(prop.as_str()));
            }
        };
        forget(schema);
        if let Some(Value::Array(parts)) = schema.get_mut("allOf") {
            parts.iter_mut().for_each(forget);
        }
        clashes.push(format!(
            "/components/schemas/{}/properties/{}",
            escape(&name),
            escape(&prop)
        ));
    }
    note_places(
        &mut context.notes,
        &clashes,
        "propert(ies) whose field name another property of the same schema (or one it merges through `allOf`) already has were left out, and are not read",
    );
    Ok(())
}

pub(super) const FORMAT_ON_NON_SCALARS: Rule = Rule {
    name: "format-on-non-scalars",
    module: module_path!(),
    apply: format_on_non_scalars,
    rows: &[
        Row {
            construct: "`format` on an object, array or boolean",
            action: "dropped",
        },
        Row {
            construct: "unknown `format` values (`uri-map`, `decimal128`)",
            action: "read as the plain type (string, integer, number)",
        },
    ],
    snapshots: &["lenient-format-on-objects-and-odd-patterns"],
};

/// A `format` on an object, array or boolean (`uri-map`, `payer_v1`) says
/// nothing a type can hold.
fn format_on_non_scalars(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let mut formats = Vec::new();
    for_each_schema(doc, &mut |at, schema| {
        let ty = schema.get("type").and_then(Value::as_str).unwrap_or("");
        if matches!(ty, "object" | "array" | "boolean") && schema.contains_key("format") {
            schema.remove("format");
            formats.push(at.to_owned());
        }
    });
    if let Some(first) = formats.first() {
        context.notes.push(format!(
            "`format` on {} object, array or boolean schema(s) was dropped (first at {first})",
            formats.len()
        ));
    }
    Ok(())
}

pub(super) const PATTERNS: Rule = Rule {
    name: "patterns",
    module: module_path!(),
    apply: patterns,
    rows: &[Row {
        construct: "a `pattern` the regex engine cannot compile (`(?i)`)",
        action: "dropped (values are not checked against it)",
    }],
    snapshots: &["lenient-format-on-objects-and-odd-patterns"],
};

fn patterns(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let mut dropped = Vec::new();
    for_each_schema(doc, &mut |at, schema| {
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
            && regress::Regex::new(pattern).is_err()
        {
            schema.remove("pattern");
            dropped.push(at.to_owned());
        }
    });
    note_places(
        &mut context.notes,
        &dropped,
        "pattern(s) the regular-expression engine cannot compile were dropped, so values are not checked against them",
    );
    Ok(())
}

pub(super) const ENUM_VALUES_THAT_CLASH: Rule = Rule {
    name: "enum-values-that-clash",
    module: module_path!(),
    apply: enum_values_that_clash,
    rows: &[Row {
        construct: "string enum values that differ only in punctuation or case (`v1.0`, `v1_0`)",
        action: "normalized: a plain string, the values listed in its docs",
    }],
    snapshots: &["normalize-enum-values-that-clash"],
};

/// String enums whose values differ only in punctuation or case (`v1.0`,
/// `v1_0`, `v1-0`) would need two Rust variants of one name: typify gives
/// up on the whole spec. The field stays a string; every value is still
/// sent and read.
fn enum_values_that_clash(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let flattened = plain_where(doc, |schema, values| {
        let mut names = BTreeSet::new();
        schema.get("type").and_then(Value::as_str) == Some("string")
            && values
                .iter()
                .filter_map(Value::as_str)
                .any(|v| !names.insert(pascal(v)))
    });
    if !flattened.is_empty() {
        context.notes.push(format!(
            "string enums whose values differ only in punctuation or case are plain strings (their values listed in the docs): {}",
            flattened.join(", ")
        ));
    }
    Ok(())
}

/// Schemas whose `enum` makes `clashes` true lose it: the values are
/// listed in the description, and the schema is its plain type. Returns
/// their pointers.
fn plain_where(
    doc: &mut Value,
    clashes: impl Fn(&Map<String, Value>, &[Value]) -> bool,
) -> Vec<String> {
    let mut flattened = Vec::new();
    for_each_schema(doc, &mut |at, schema| {
        let Some(Value::Array(values)) = schema.get("enum") else {
            return;
        };
        if !clashes(schema, values) {
            return;
        }
        let listed = values
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let described = match schema.get("description").and_then(Value::as_str) {
            Some(d) => format!("{d} One of: {listed}."),
            None => format!("One of: {listed}."),
        };
        schema.insert("description".into(), Value::String(described));
        schema.remove("enum");
        flattened.push(at.to_owned());
    });
    flattened
}

pub(super) const ENUM_VALUES_OF_ANOTHER_TYPE: Rule = Rule {
    name: "enum-values-of-another-type",
    module: module_path!(),
    apply: enum_values_of_another_type,
    rows: &[
        Row {
            construct: "enum values of another type than the schema's (`type: string` with `enum: [4.1, \"3_lite\", true]`)",
            action: "normalized: the plain type, the values listed in its docs (`null` beside a nullable type is kept)",
        },
        Row {
            construct: "an enum without a type whose values are of several JSON types (`[true, \"true\", 1]`, or an `anyOf` of such `const`s)",
            action: "any JSON value (`serde_json::Value`), the values listed in its docs; the operation keeps every other part typed",
        },
    ],
    snapshots: &["normalize-enum-values-that-clash"],
};

/// An enum value of another JSON type than the schema's (`4.1` or `true`
/// in a string enum): typify refuses the whole spec. The schema keeps its
/// type and loses the enum, its values listed in the docs. So does an
/// enum without a type whose values are of several JSON types, which no
/// Rust enum of one type holds (typify refuses the operation): it becomes
/// any JSON value.
fn enum_values_of_another_type(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let flattened = plain_where(doc, |schema, values| {
        let of_type = |v: &Value| match schema.get("type").and_then(Value::as_str) {
            Some("string") => v.is_string(),
            Some("integer") => v.is_i64() || v.is_u64(),
            Some("number") => v.is_number(),
            Some("boolean") => v.is_boolean(),
            _ => true,
        };
        let kind = |v: &Value| match v {
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::Array(_) => 4,
            Value::Object(_) => 5,
            Value::Null => 0,
        };
        let mut kinds: Vec<u8> = values.iter().map(kind).filter(|k| *k != 0).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let untyped_mixed = schema.get("type").is_none() && kinds.len() > 1;
        untyped_mixed || values.iter().any(|v| !v.is_null() && !of_type(v))
    });
    note_places(
        &mut context.notes,
        &flattened,
        "enum(s) with values of another type than the schema's, or of several types, are their plain type or any JSON value (their values listed in the docs)",
    );
    Ok(())
}

pub(super) const DEFAULTS_THAT_DO_NOT_FIT: Rule = Rule {
    name: "defaults-that-do-not-fit",
    module: module_path!(),
    apply: defaults_that_do_not_fit,
    rows: &[
        Row {
            construct: "a `default` that does not fit its schema (type, enum, format, bounds; through `$ref`, `allOf`, `oneOf`, `anyOf`, properties and items)",
            action: "normalized: dropped, pointer noted (it would have failed the spec, or panicked when the field is absent)",
        },
        Row {
            construct: "a `default` checked, anywhere within it (through `$ref`, `allOf`, properties, items), against an `anyOf` with a part that is not an object (`anyOf: [{const: \"true\"}, {type: boolean}]`), which the generator cannot check",
            action: "dropped before generation, pointer noted (it cost a regeneration each)",
        },
    ],
    snapshots: &["normalize-defaults-that-do-not-fit"],
};

/// A default the schema itself does not allow: typify refuses the whole
/// spec ("value does not conform to the given schema"). The default only
/// documents what the server assumes; drop it.
fn defaults_that_do_not_fit(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let mut dropped = Vec::new();
    // What `$ref`s name, read before the walk that may change the schemas.
    let components = doc
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or(Value::Null);
    for_each_schema(doc, &mut |at, schema| {
        if let Some(default) = schema.get("default")
            && !fits_through(schema, default, &components, 0)
        {
            schema.remove("default");
            dropped.push(at.to_owned());
        }
    });
    if !dropped.is_empty() {
        context.notes.push(format!(
            "defaults that do not fit their own schema, or that the generator cannot check (against an `anyOf` of plain values), were dropped (the server still applies its own): {}",
            dropped.join(", ")
        ));
    }
    Ok(())
}

pub(super) const INTEGER_BOUNDS: Rule = Rule {
    name: "integer-bounds",
    module: module_path!(),
    apply: integer_bounds,
    rows: &[Row {
        construct: "integer bounds past the 64-bit range",
        action: "normalized: dropped; a whole-number float bound becomes an integer",
    }],
    snapshots: &["normalize-integer-bounds-past-64-bits"],
};

/// Integer bounds no 64-bit integer holds (1e20 on an int32) say nothing a
/// Rust integer can check: dropped.
fn integer_bounds(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let mut bounds = Vec::new();
    for_each_schema(doc, &mut |at, schema| {
        if schema.get("type").and_then(Value::as_str) != Some("integer") {
            return;
        }
        for key in ["minimum", "maximum"] {
            let Some(bound) = schema.get(key) else {
                continue;
            };
            if bound.is_i64() {
                continue;
            }
            match bound.as_f64() {
                Some(f) if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 => {
                    schema.insert(key.into(), json!(f as i64));
                }
                _ => {
                    schema.remove(key);
                    bounds.push(format!("{at}/{key}"));
                }
            }
        }
    });
    if !bounds.is_empty() {
        context.notes.push(format!(
            "integer bounds past the 64-bit range were dropped: {}",
            bounds.join(", ")
        ));
    }
    Ok(())
}

/// The range of an integer `format` typify maps to a fixed-width type.
fn format_range(format: &str) -> Option<(f64, f64)> {
    Some(match format {
        "int8" => (i8::MIN as f64, i8::MAX as f64),
        "uint8" => (0.0, u8::MAX as f64),
        "int16" => (i16::MIN as f64, i16::MAX as f64),
        "uint16" => (0.0, u16::MAX as f64),
        "int" | "int32" => (i32::MIN as f64, i32::MAX as f64),
        "uint" | "uint32" => (0.0, u32::MAX as f64),
        "int64" => (i64::MIN as f64, i64::MAX as f64),
        "uint64" => (0.0, u64::MAX as f64),
        _ => return None,
    })
}

/// [`fits`], following what the schema is made of: a local `$ref`, every
/// part of an `allOf`, one part of a `oneOf` or `anyOf`, the properties of
/// an object and the items of an array. Each default found not to fit is
/// dropped here, once, rather than by a fallback that regenerates the
/// whole spec for each (a spec with many would take minutes, or give up).
/// Past a depth of 16 (a schema that refers to itself) a value fits.
fn fits_through(
    schema: &Map<String, Value>,
    value: &Value,
    components: &Value,
    depth: u32,
) -> bool {
    if depth > 16 {
        return true;
    }
    let deeper = |part: &Value, v: &Value| match part {
        Value::Object(part) => fits_through(part, v, components, depth + 1),
        _ => true,
    };
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        let named = crate::pointer::schema_named(target).and_then(|n| components.get(n));
        return match named {
            Some(part) => deeper(part, value),
            None => true,
        };
    }
    let parts = |key: &str| schema.get(key).and_then(Value::as_array);
    if let Some(all) = parts("allOf")
        && !all.iter().all(|p| deeper(p, value))
    {
        return false;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(some) = parts(key)
            && !some.is_empty()
            && !some.iter().any(|p| deeper(p, value))
        {
            return false;
        }
    }
    // typify reads an `anyOf` as a struct of optional parts and checks a
    // default against that: a part's plain value (`painless` for an `anyOf`
    // of an enum and a string) fails it, wherever it lies in the default.
    let plain = |part: &Value| {
        let part = match crate::pointer::schema_ref(part) {
            Some(name) => components.get(name).unwrap_or(part),
            None => part,
        };
        part.get("properties").is_none()
            && part.get("type").and_then(Value::as_str) != Some("object")
    };
    if parts("anyOf").is_some_and(|some| some.iter().any(plain)) {
        return false;
    }
    // An object: each field by its property, or by `additionalProperties`
    // (none allowed when `false`), and every required field given.
    if let Value::Object(given) = value {
        let properties = schema.get("properties").and_then(Value::as_object);
        let extra = schema.get("additionalProperties");
        let field_fits = |(k, v): (&String, &Value)| match properties.and_then(|p| p.get(k)) {
            Some(p) => deeper(p, v),
            // typify checks a default against the struct it makes of
            // `properties`, which takes no other field unless
            // `additionalProperties` says so.
            None => match extra {
                Some(Value::Bool(false)) => false,
                Some(extra @ Value::Object(_)) => deeper(extra, v),
                None => properties.is_none(),
                _ => true,
            },
        };
        let required = schema.get("required").and_then(Value::as_array);
        let complete = required.is_none_or(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .all(|k| given.contains_key(k))
        });
        if !complete || !given.iter().all(field_fits) {
            return false;
        }
    }
    if let (Some(items), Value::Array(given)) = (schema.get("items"), value)
        && !given.iter().all(|v| deeper(items, v))
    {
        return false;
    }
    fits(schema, value)
}

/// Whether `value` is one the schema allows, as far as the type, the
/// format's range, `enum` and `nullable` tell.
fn fits(schema: &Map<String, Value>, value: &Value) -> bool {
    if value.is_null() {
        return schema.get("nullable") == Some(&Value::Bool(true));
    }
    if let Some(Value::Array(allowed)) = schema.get("enum")
        && !allowed.contains(value)
    {
        return false;
    }
    let within = |v: f64| {
        let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
        bound("minimum").is_none_or(|min| v >= min) && bound("maximum").is_none_or(|max| v <= max)
    };
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => value
            .as_str()
            .is_some_and(|s| parses_as(schema.get("format").and_then(Value::as_str), s)),
        Some("integer") => {
            let whole = value.is_i64() || value.is_u64();
            let in_range = match (
                schema
                    .get("format")
                    .and_then(Value::as_str)
                    .and_then(format_range),
                value.as_f64(),
            ) {
                (Some((min, max)), Some(v)) => v >= min && v <= max,
                _ => true,
            };
            whole && in_range && value.as_f64().is_some_and(within)
        }
        Some("number") => value.as_f64().is_some_and(within),
        Some("boolean") => value.is_boolean(),
        Some("array") => value.is_array(),
        Some("object") => value.is_object(),
        _ => true,
    }
}

/// Whether a string is a value of the Rust type typify maps `format` to
/// (a default that is not would panic when the field is absent).
fn parses_as(format: Option<&str>, s: &str) -> bool {
    // A number of exactly `n` digits, no larger than `most`.
    let number = |part: &str, n: usize, most: u32| {
        part.len() == n
            && part.bytes().all(|b| b.is_ascii_digit())
            && part.parse::<u32>().is_ok_and(|v| v <= most)
    };
    // A calendar date: the generated default parses it, and would panic
    // on the 30th of February.
    let date = |d: &str| {
        let parts: Vec<&str> = d.split('-').collect();
        let [y, m, day] = parts[..] else {
            return false;
        };
        let (Ok(year), true) = (y.parse::<u32>(), number(y, 4, 9999)) else {
            return false;
        };
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days = match m.parse::<u32>() {
            Ok(2) if leap => 29,
            Ok(2) => 28,
            Ok(4 | 6 | 9 | 11) => 30,
            _ => 31,
        };
        number(m, 2, 12) && m != "00" && number(day, 2, days) && day != "00"
    };
    // `hh:mm:ss`, then a fraction, then `Z` or `±hh:mm` (RFC 3339).
    let time = |t: &str| {
        let (clock, rest) = t.split_at_checked(8).unwrap_or((t, ""));
        let hms: Vec<&str> = clock.split(':').collect();
        let [h, m, sec] = hms[..] else {
            return false;
        };
        let rest = match rest.strip_prefix('.') {
            Some(fraction) => {
                let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
                if digits == 0 {
                    return false;
                }
                &fraction[digits..]
            }
            None => rest,
        };
        let offset = matches!(rest, "Z" | "z")
            || rest
                .strip_prefix(['+', '-'])
                .and_then(|o| o.split_once(':'))
                .is_some_and(|(oh, om)| number(oh, 2, 23) && number(om, 2, 59));
        number(h, 2, 23) && number(m, 2, 59) && number(sec, 2, 59) && offset
    };
    match format {
        Some("date") => date(s),
        // RFC 3339: a date, `T`, a time and an offset.
        Some("date-time") => s
            .split_once(['T', 't'])
            .is_some_and(|(d, t)| date(d) && time(t)),
        Some("uuid") => {
            let groups: Vec<&str> = s.split('-').collect();
            groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
                && groups
                    .iter()
                    .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
        }
        Some("ip") => s.parse::<std::net::IpAddr>().is_ok(),
        Some("ipv4") => s.parse::<std::net::Ipv4Addr>().is_ok(),
        Some("ipv6") => s.parse::<std::net::Ipv6Addr>().is_ok(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::parses_as;

    /// Two digits, or one, three or none: a field of a date or time.
    fn field(most: u32) -> impl Strategy<Value = String> {
        prop_oneof![
            8 => (0..=most + 2).prop_map(|v| format!("{v:02}")),
            1 => (0..=most).prop_map(|v| format!("{v}")),
            1 => Just(String::new()),
            1 => (0..1000u32).prop_map(|v| format!("{v:03}")),
        ]
    }

    fn date() -> impl Strategy<Value = String> {
        let year = prop_oneof![
            (0..=9999u32).prop_map(|y| format!("{y:04}")),
            Just("2000".to_owned()),
            Just("1900".to_owned()),
            Just("2024".to_owned()),
            Just("20241".to_owned()),
            Just("+2024".to_owned()),
        ];
        (year, field(12), field(31)).prop_map(|(y, m, d)| format!("{y}-{m}-{d}"))
    }

    fn date_time() -> impl Strategy<Value = String> {
        let fraction = prop_oneof![Just(""), Just(".5"), Just(".123456789"), Just(".")];
        let offset = prop_oneof![
            Just("Z".to_owned()),
            Just("z".to_owned()),
            Just(String::new()),
            Just("+5".to_owned()),
            (field(23), field(59)).prop_map(|(h, m)| format!("+{h}:{m}")),
            (field(23), field(59)).prop_map(|(h, m)| format!("-{h}:{m}")),
        ];
        let separator = prop_oneof![Just('T'), Just('t'), Just(' ')];
        (
            date(),
            separator,
            field(23),
            field(59),
            field(59),
            fraction,
            offset,
        )
            .prop_map(|(d, s, h, m, sec, f, o)| format!("{d}{s}{h}:{m}:{sec}{f}{o}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// A date default the check keeps is one the generated code parses
        /// (it would panic there otherwise); the leap years come out right.
        #[test]
        fn a_kept_date_parses(d in date()) {
            let parsed = d.parse::<chrono::NaiveDate>();
            if parses_as(Some("date"), &d) {
                prop_assert!(parsed.is_ok(), "{d} was kept and does not parse: {parsed:?}");
            }
            let shaped = d.len() == 10
                && d.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
            if shaped && parsed.is_ok() {
                prop_assert!(parses_as(Some("date"), &d), "{d} parses and was dropped");
            }
        }

        #[test]
        fn a_kept_date_time_parses(t in date_time()) {
            let parsed = t.parse::<chrono::DateTime<chrono::Utc>>();
            if parses_as(Some("date-time"), &t) {
                prop_assert!(parsed.is_ok(), "{t} was kept and does not parse: {parsed:?}");
            }
        }
    }

    #[test]
    fn the_calendar_is_known() {
        for (d, ok) in [
            ("2024-02-29", true),
            ("2023-02-29", false),
            ("1900-02-29", false),
            ("2000-02-29", true),
            ("2024-04-31", false),
            ("2024-12-31", true),
            ("2024-13-01", false),
            ("2024-00-10", false),
            ("2024-01-00", false),
        ] {
            assert_eq!(parses_as(Some("date"), d), ok, "{d}");
        }
        assert!(parses_as(Some("date-time"), "2024-02-29T23:59:59.5+05:30"));
        assert!(!parses_as(Some("date-time"), "2024-02-30T00:00:00Z"));
        assert!(!parses_as(Some("date-time"), "2024-01-01T24:00:00Z"));
        assert!(!parses_as(Some("date-time"), "2024-01-01T00:00:00+5"));
        assert!(!parses_as(Some("date-time"), "2024-01-01T00:00:00"));
    }
}
