//! Test support for tolerant reading: a valid instance of a model made from
//! its JSON Schema, the typed scalars in it (its leaves), and the other
//! forms in which services write each leaf's value. A test reads the
//! instance, then each leaf rewritten into each form, and expects the same
//! value back: see `tests/tolerant_reading.rs`.
//!
//! Leaves inside a `oneOf`/`anyOf` are not listed: serde reads an untagged
//! union from a buffered copy of the value, without the type's hints, so
//! only the per-field readers (`de::lenient`) apply there.

use serde_json::{Map, Value, json};

/// One step of a path into a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A key of an object.
    Key(String),
    /// An index of an array.
    Index(usize),
}

/// What a leaf holds, as its schema declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A plain string (generated as digits, so that a number can stand for it).
    Text,
    /// An integer.
    Integer,
    /// A number with a fraction.
    Number,
    /// A boolean.
    Boolean,
    /// A `date-time` string.
    DateTime,
    /// A string enum value that is an integer's text (`"1"`).
    IntegerText,
}

/// A typed scalar of an instance: where it is and what it is.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// Its place in the instance.
    pub path: Vec<Step>,
    /// What its schema declares.
    pub class: Class,
    /// Whether it sits inside a `oneOf`/`anyOf`, where the forms are not
    /// read (see the module's documentation).
    pub in_union: bool,
}

/// The date-time every generated instance holds, and its epoch seconds.
pub const DATE_TIME: &str = "2026-11-01T10:00:00Z";
const EPOCH: i64 = 1_793_527_200;

/// A valid instance of the schema `root` (a `schemars` root schema as
/// JSON), and its leaves; `None` when the generator cannot satisfy it (a
/// required string whose pattern none of its candidates match, say).
pub fn instance(root: &Value) -> Option<(Value, Vec<Leaf>)> {
    let empty = Map::new();
    let defs = root
        .get("definitions")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut generator = Generator {
        defs,
        leaves: Vec::new(),
    };
    let value = generator.make(root, &mut Vec::new(), 0, false)?;
    Some((value, generator.leaves))
}

struct Generator<'a> {
    defs: &'a Map<String, Value>,
    leaves: Vec<Leaf>,
}

/// How deep references are followed: deeper, an optional field is left out.
const MAX_DEPTH: usize = 6;

impl Generator<'_> {
    fn leaf(&mut self, path: &[Step], class: Class, in_union: bool, value: Value) -> Option<Value> {
        self.leaves.push(Leaf {
            path: path.to_vec(),
            class,
            in_union,
        });
        Some(value)
    }

    fn make(
        &mut self,
        schema: &Value,
        path: &mut Vec<Step>,
        depth: usize,
        in_union: bool,
    ) -> Option<Value> {
        let Some(s) = schema.as_object() else {
            // `true`: anything.
            return Some(json!({"any": "value"}));
        };
        if let Some(reference) = s.get("$ref").and_then(Value::as_str) {
            if depth >= MAX_DEPTH {
                return None;
            }
            let name = reference.rsplit('/').next()?;
            let target = self.defs.get(name)?;
            return self.make(target, path, depth + 1, in_union);
        }
        if let Some(value) = s.get("const") {
            return Some(value.clone());
        }
        if let Some(values) = s.get("enum").and_then(Value::as_array) {
            let first = values.iter().find(|v| !v.is_null())?.clone();
            return match &first {
                Value::String(t) if t.parse::<i64>().is_ok() => {
                    self.leaf(path, Class::IntegerText, in_union, first)
                }
                Value::Number(n) if n.is_i64() || n.is_u64() => {
                    self.leaf(path, Class::Integer, in_union, first)
                }
                _ => Some(first),
            };
        }
        if let Some(parts) = s.get("allOf").and_then(Value::as_array) {
            let mut merged = Map::new();
            for part in parts {
                match self.make(part, path, depth, in_union)? {
                    Value::Object(m) => merged.extend(m),
                    other if parts.len() == 1 => return Some(other),
                    _ => return None,
                }
            }
            return Some(Value::Object(merged));
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = s.get(key).and_then(Value::as_array) {
                let is_null = |b: &&Value| b.get("type").and_then(Value::as_str) == Some("null");
                let typed: Vec<&Value> = branches.iter().filter(|b| !is_null(b)).collect();
                // `Option<T>`: schemars writes it as `T` or null, which is
                // no union to serde.
                if let [only] = typed[..] {
                    return self.make(only, path, depth, in_union);
                }
                return typed
                    .into_iter()
                    .find_map(|b| self.make(b, path, depth, true));
            }
        }
        let types: Vec<&str> = match s.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ if s.contains_key("properties") => vec!["object"],
            _ => Vec::new(),
        };
        let Some(ty) = types.iter().find(|t| **t != "null") else {
            return Some(if types.is_empty() {
                json!({"any": "value"})
            } else {
                Value::Null
            });
        };
        match *ty {
            "object" => self.object(s, path, depth, in_union),
            "array" => {
                path.push(Step::Index(0));
                let item = s
                    .get("items")
                    .and_then(|items| self.make(items, path, depth, in_union));
                path.pop();
                Some(Value::Array(item.into_iter().collect()))
            }
            "string" => self.string(s, path, in_union),
            "integer" => {
                let n = bounded(s, 7.0).round() as i64;
                self.leaf(path, Class::Integer, in_union, json!(n))
            }
            "number" => self.leaf(path, Class::Number, in_union, json!(bounded(s, 2.5))),
            "boolean" => self.leaf(path, Class::Boolean, in_union, json!(true)),
            _ => None,
        }
    }

    fn object(
        &mut self,
        s: &Map<String, Value>,
        path: &mut Vec<Step>,
        depth: usize,
        in_union: bool,
    ) -> Option<Value> {
        let required: Vec<&str> = s
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut out = Map::new();
        if let Some(properties) = s.get("properties").and_then(Value::as_object) {
            for (name, schema) in properties {
                path.push(Step::Key(name.clone()));
                let value = self.make(schema, path, depth, in_union);
                path.pop();
                match value {
                    Some(v) => {
                        out.insert(name.clone(), v);
                    }
                    None if required.contains(&name.as_str()) => return None,
                    None => {}
                }
            }
        } else if let Some(values) = s.get("additionalProperties").filter(|v| v.is_object()) {
            path.push(Step::Key("k1".into()));
            let value = self.make(values, path, depth, in_union);
            path.pop();
            if let Some(v) = value {
                out.insert("k1".into(), v);
            }
        }
        Some(Value::Object(out))
    }

    fn string(&mut self, s: &Map<String, Value>, path: &[Step], in_union: bool) -> Option<Value> {
        match s.get("format").and_then(Value::as_str) {
            Some("date-time") => {
                return self.leaf(path, Class::DateTime, in_union, json!(DATE_TIME));
            }
            Some("date") => return Some(json!("2026-11-01")),
            Some("uuid") => return Some(json!("3f0c6b1e-2a4d-4c8e-9f10-5b7a2c9d4e61")),
            _ => {}
        }
        let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = s
            .get("maxLength")
            .and_then(Value::as_u64)
            .map_or(usize::MAX, |m| m as usize);
        let len = 4.clamp(min.min(max), max.max(1));
        let digits: String = "4217".chars().cycle().take(len).collect();
        let Some(pattern) = s.get("pattern").and_then(Value::as_str) else {
            return self.leaf(path, Class::Text, in_union, json!(digits));
        };
        let regex = regress::Regex::new(pattern).ok()?;
        let fits = |c: &str| regex.find(c).is_some();
        if fits(&digits) {
            return self.leaf(path, Class::Text, in_union, json!(digits));
        }
        ["abc", "a", "A", "ab-1", "A1", "x_y"]
            .into_iter()
            .find(|c| fits(c) && (min..=max).contains(&c.len()))
            .map(|c| json!(c))
    }
}

/// `preferred`, moved inside the schema's bounds.
fn bounded(s: &Map<String, Value>, preferred: f64) -> f64 {
    let get = |k: &str| s.get(k).and_then(Value::as_f64);
    let mut v = preferred;
    if let Some(min) = get("minimum") {
        v = v.max(min);
    }
    if let Some(min) = get("exclusiveMinimum") {
        v = v.max(min + 1.0);
    }
    if let Some(max) = get("maximum") {
        v = v.min(max);
    }
    if let Some(max) = get("exclusiveMaximum") {
        v = v.min(max - 1.0);
    }
    v
}

/// The forms in which services write a leaf's `value`, other than the
/// declared one, each with a name for messages.
pub fn forms(class: Class, value: &Value) -> Vec<(&'static str, Value)> {
    match (class, value) {
        (Class::Text, Value::String(t)) => match t.parse::<i64>() {
            Ok(n) => vec![("a number", json!(n))],
            Err(_) => Vec::new(),
        },
        (Class::Integer, Value::Number(n)) => {
            let Some(i) = n.as_i64() else {
                return Vec::new();
            };
            vec![
                ("a string", json!(i.to_string())),
                ("an integral float", json!(i as f64)),
                ("a padded string", json!(format!(" {i} "))),
                ("an integral float's text", json!(format!("{i}.0"))),
            ]
        }
        (Class::Number, Value::Number(n)) => vec![("a string", json!(n.to_string()))],
        // Every form `crate::lax` lists for the value, in three spellings,
        // and the number it is.
        (Class::Boolean, Value::Bool(b)) => {
            let texts = if *b {
                crate::lax::TRUE_TEXTS
            } else {
                crate::lax::FALSE_TEXTS
            };
            let mut out: Vec<(&'static str, Value)> = texts
                .iter()
                .flat_map(|t| {
                    [
                        ("a string from lax's list", json!(t)),
                        (
                            "an upper-case string from lax's list",
                            json!(t.to_uppercase()),
                        ),
                        ("a padded string from lax's list", json!(format!(" {t} "))),
                    ]
                })
                .collect();
            out.push(("a number", json!(u8::from(*b))));
            out.push(("a float", json!(f64::from(u8::from(*b)))));
            out
        }
        (Class::IntegerText, Value::String(t)) => match t.parse::<i64>() {
            Ok(n) => vec![
                ("a number", json!(n)),
                ("an integral float", json!(n as f64)),
            ],
            Err(_) => Vec::new(),
        },
        (Class::DateTime, Value::String(t)) if t == DATE_TIME => vec![
            ("an offset without colon", json!("2026-11-01T10:00:00+0000")),
            ("another offset", json!("2026-11-01T12:30:00+02:30")),
            ("an offset of hours", json!("2026-11-01T07:00:00-03")),
            ("a space for T", json!("2026-11-01 10:00:00Z")),
            ("no offset", json!("2026-11-01T10:00:00")),
            (
                "nine fraction digits",
                json!("2026-11-01T10:00:00.000000000Z"),
            ),
            (
                "seven fraction digits, no offset",
                json!("2026-11-01T10:00:00.0000000"),
            ),
            ("epoch seconds", json!(EPOCH)),
            ("epoch seconds as text", json!(EPOCH.to_string())),
            ("epoch milliseconds", json!(EPOCH * 1000)),
            (
                "epoch milliseconds as text",
                json!((EPOCH * 1000).to_string()),
            ),
            ("epoch seconds as a float", json!(EPOCH as f64)),
            (".NET date", json!(format!("/Date({})/", EPOCH * 1000))),
        ],
        _ => Vec::new(),
    }
}

/// `value` with the value at `path` replaced by `new`.
pub fn replaced(value: &Value, path: &[Step], new: Value) -> Value {
    let mut out = value.clone();
    let mut at = &mut out;
    for step in path {
        let next = match (step, at) {
            (Step::Key(k), Value::Object(m)) => m.get_mut(k),
            (Step::Index(i), Value::Array(a)) => a.get_mut(*i),
            _ => None,
        };
        match next {
            Some(n) => at = n,
            None => return out,
        }
    }
    *at = new;
    out
}

/// A path as `a.b[0].c`, for messages.
pub fn show(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() { ".".into() } else { out }
}

/// The body of `instance` in the JSON-text forms services write, each with
/// a name and the instance it must read as: a byte-order mark, a repeated
/// key (the last one counts), and an unpaired surrogate escape in a string
/// (read as U+FFFD).
pub fn texts(instance: &Value, leaves: &[Leaf]) -> Vec<(&'static str, Vec<u8>, Value)> {
    let plain = instance.to_string();
    let mut out = vec![(
        "a byte-order mark",
        [b"\xEF\xBB\xBF".as_slice(), plain.as_bytes()].concat(),
        instance.clone(),
    )];
    if let Value::Object(map) = instance
        && let Some(first) = map.keys().next()
    {
        let key = Value::String(first.clone()).to_string();
        let rest = &plain[1..];
        out.push((
            "a repeated key",
            format!("{{{key}:\"repeated\",{rest}").into_bytes(),
            instance.clone(),
        ));
        // Python's `json` reads bare non-finite numbers: one in a member
        // the model does not read must not cost the answer.
        for (token, _) in crate::lax::NON_FINITE_TOKENS {
            out.push((
                "a non-finite number in an unread member",
                format!("{{\"apikeys_unread\":{token},{rest}").into_bytes(),
                instance.clone(),
            ));
        }
    }
    if let Some(leaf) = leaves
        .iter()
        .find(|l| l.class == Class::Text && !l.in_union)
    {
        let marked = replaced(instance, &leaf.path, json!("4217\u{1}"));
        let body = marked.to_string().replace("\\u0001", "\\ud800");
        out.push((
            "an unpaired surrogate",
            body.into_bytes(),
            replaced(instance, &leaf.path, json!("4217\u{FFFD}")),
        ));
    }
    out
}

/// One model as the generated `mock::models::ALL` lists it: name, JSON
/// Schema, and a reader that reads a body as a success answer is read and
/// writes the value back.
pub type Model = (
    &'static str,
    fn() -> schemars::schema::RootSchema,
    fn(&[u8]) -> Result<Value, String>,
);

/// What [`check`] found.
#[derive(Debug, Default)]
pub struct Report {
    /// Models checked.
    pub models: usize,
    /// Models no instance could be made for, with the reason.
    pub skipped: Vec<String>,
    /// Field × form and body × form cases read.
    pub cases: usize,
    /// Typed fields inside a `oneOf`/`anyOf`, whose forms are not tried
    /// (see the module's documentation).
    pub in_unions: usize,
    /// Cases that did not read as the original, one line each.
    pub failures: Vec<String>,
}

/// Reads a generated instance of every model, then each leaf in each of
/// its other [`forms`] and the whole body in each of its [`texts`], and
/// expects the original value back every time.
pub fn check(models: &[Model]) -> Report {
    let mut report = Report::default();
    for (name, schema, read) in models {
        let schema = match serde_json::to_value(schema()) {
            Ok(s) => s,
            Err(e) => {
                report.skipped.push(format!("{name}: schema: {e}"));
                continue;
            }
        };
        let Some((instance, leaves)) = instance(&schema) else {
            report
                .skipped
                .push(format!("{name}: no instance satisfies its schema"));
            continue;
        };
        report.models += 1;
        let (instance, leaves, original) = match settle(instance, leaves, *read) {
            Ok(settled) => settled,
            Err((instance, e)) => {
                report.failures.push(format!(
                    "{name}: the generated instance {instance} does not read: {e}"
                ));
                continue;
            }
        };
        report.in_unions += leaves.iter().filter(|l| l.in_union).count();
        for leaf in leaves.iter().filter(|l| !l.in_union) {
            let Some(value) = pointer(&instance, &leaf.path) else {
                continue;
            };
            for (form, other) in forms(leaf.class, value) {
                report.cases += 1;
                let body = replaced(&instance, &leaf.path, other.clone());
                match read(body.to_string().as_bytes()) {
                    Ok(v) if v == original => {}
                    Ok(v) => report.failures.push(format!(
                        "{name}.{} as {form} ({other}): read as {v}, not {original}",
                        show(&leaf.path)
                    )),
                    Err(e) => report.failures.push(format!(
                        "{name}.{} as {form} ({other}): {e}",
                        show(&leaf.path)
                    )),
                }
            }
        }
        for (form, body, expected) in texts(&instance, &leaves) {
            report.cases += 1;
            let want = match read(expected.to_string().as_bytes()) {
                Ok(v) => v,
                Err(e) => {
                    report
                        .failures
                        .push(format!("{name} with {form}: expected value: {e}"));
                    continue;
                }
            };
            match read(&body) {
                Ok(v) if v == want => {}
                Ok(v) => report
                    .failures
                    .push(format!("{name} with {form}: read as {v}, not {want}")),
                Err(e) => report.failures.push(format!("{name} with {form}: {e}")),
            }
        }
    }
    report
}

/// Other texts for a string the type refuses: its schema did not say why
/// (a pattern a newtype checks, say).
const OTHER_TEXTS: [&str; 6] = ["abc", "a", "A", "ab-1", "A1", "x_y"];

/// The instance, changed until it reads: a plain string the type refuses
/// (named by the reader's error) takes the first of [`OTHER_TEXTS`] the
/// type accepts, and stops being a leaf whose forms are tried. Returns the
/// instance, its leaves and the value read, or the instance and the error.
#[allow(clippy::type_complexity)]
fn settle(
    mut instance: Value,
    mut leaves: Vec<Leaf>,
    read: fn(&[u8]) -> Result<Value, String>,
) -> Result<(Value, Vec<Leaf>, Value), (Value, String)> {
    loop {
        let e = match read(instance.to_string().as_bytes()) {
            Ok(v) => return Ok((instance, leaves, v)),
            Err(e) => e,
        };
        let names = |e: &str, path: &[Step]| e.ends_with(&format!("at `{}`", show(path)));
        let Some(i) = leaves
            .iter()
            .position(|l| l.class == Class::Text && names(&e, &l.path))
        else {
            return Err((instance, e));
        };
        let path = leaves.remove(i).path;
        let accepted = OTHER_TEXTS.iter().find_map(|text| {
            let candidate = replaced(&instance, &path, json!(text));
            match read(candidate.to_string().as_bytes()) {
                Err(e) if names(&e, &path) => None,
                _ => Some(candidate),
            }
        });
        match accepted {
            Some(candidate) => instance = candidate,
            None => return Err((instance, e)),
        }
    }
}

/// Runs [`check`] on the models of `spec`, prints what it read, and fails
/// when no case was read or any case did not read as the original.
pub fn assert_reads_every_form(spec: &str, models: &[Model]) {
    let report = check(models);
    println!(
        "{spec}: {} models, {} field × form and body × form cases, {} fields in unions untried, {} skipped {:?}",
        report.models,
        report.cases,
        report.in_unions,
        report.skipped.len(),
        report.skipped
    );
    assert!(
        report.models > 0 && report.cases > 0,
        "{spec}: nothing was checked"
    );
    assert!(
        report.failures.is_empty(),
        "{spec}: {} of {} cases did not read as the original:\n{}",
        report.failures.len(),
        report.cases,
        report.failures.join("\n")
    );
}

fn pointer<'v>(value: &'v Value, path: &[Step]) -> Option<&'v Value> {
    path.iter().try_fold(value, |at, step| match (step, at) {
        (Step::Key(k), Value::Object(m)) => m.get(k),
        (Step::Index(i), Value::Array(a)) => a.get(*i),
        _ => None,
    })
}
