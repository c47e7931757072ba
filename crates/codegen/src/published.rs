//! Rules for specs as providers publish them: constructs that are valid
//! OpenAPI (or close enough that every other tool reads them) but that
//! progenitor 0.15 refuses, or turns into code that does not compile.
//!
//! Each rule keeps the wire format. Where none can (a body only multipart
//! can carry, a query object nested too deep to spell), the one operation
//! is skipped with its reason and the rest of the spec generates.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::names::{Names, pascal, snake};
use crate::normalize::{METHODS, escape, resolve};

/// A `$ref` into `#/components/…` followed once, as an owned value.
fn resolve_ref(value: &Value, components: &Value) -> Value {
    resolve(value, components).clone()
}

/// An operation left out of the client, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Its operationId.
    pub operation: String,
    /// JSON pointer of the element that cannot be generated.
    pub pointer: String,
    /// Why, in words a spec author can act on.
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (at {}): {}",
            self.operation, self.pointer, self.reason
        )
    }
}

/// Calls `f` on every schema object in the document, depth first, with its
/// JSON pointer: component schemas, parameter and media-type schemas, and
/// everything nested in them.
pub(crate) fn for_each_schema(doc: &mut Value, f: &mut dyn FnMut(&str, &mut Map<String, Value>)) {
    fn schema(node: &mut Value, at: &str, f: &mut dyn FnMut(&str, &mut Map<String, Value>)) {
        let Value::Object(map) = node else { return };
        f(at, map);
        for (key, child) in map.iter_mut() {
            let here = format!("{at}/{}", escape(key));
            match (key.as_str(), child) {
                ("properties", Value::Object(props)) => {
                    for (name, p) in props.iter_mut() {
                        schema(p, &format!("{here}/{}", escape(name)), f);
                    }
                }
                ("items" | "additionalProperties" | "not", c) => schema(c, &here, f),
                ("allOf" | "anyOf" | "oneOf", Value::Array(parts)) => {
                    for (i, p) in parts.iter_mut().enumerate() {
                        schema(p, &format!("{here}/{i}"), f);
                    }
                }
                _ => {}
            }
        }
    }
    fn document(node: &mut Value, at: &str, f: &mut dyn FnMut(&str, &mut Map<String, Value>)) {
        match node {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    let here = format!("{at}/{}", escape(key));
                    if key == "schema" {
                        schema(child, &here, f);
                    } else if key == "schemas" && at == "/components" {
                        if let Value::Object(all) = child {
                            for (name, s) in all.iter_mut() {
                                schema(s, &format!("{here}/{}", escape(name)), f);
                            }
                        }
                    } else if !matches!(key.as_str(), "example" | "examples") {
                        document(child, &here, f);
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    document(item, &format!("{at}/{i}"), f);
                }
            }
            _ => {}
        }
    }
    document(doc, "", f);
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
    let digits = |part: &str, n: usize| part.len() == n && part.bytes().all(|b| b.is_ascii_digit());
    let date = |d: &str| {
        let parts: Vec<&str> = d.split('-').collect();
        parts.len() == 3 && digits(parts[0], 4) && digits(parts[1], 2) && digits(parts[2], 2)
    };
    match format {
        Some("date") => date(s),
        // RFC 3339: a date, `T`, a time and an offset.
        Some("date-time") => s.split_once(['T', 't']).is_some_and(|(d, t)| {
            date(d)
                && t.len() >= 9
                && (t.ends_with(['Z', 'z']) || t[8..].contains(['+', '-']))
                && digits(&t[0..2], 2)
                && digits(&t[3..5], 2)
                && digits(&t[6..8], 2)
        }),
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

/// Schema-level rules, on every schema of the document.
pub(crate) fn schemas(doc: &mut Value, names: &mut Names, notes: &mut Vec<String>) {
    let mut dropped_defaults = Vec::new();
    let mut bounds = Vec::new();
    let mut flattened = Vec::new();
    for_each_schema(doc, &mut |at, schema| {
        // String enums whose values differ only in punctuation or case
        // (`v1.0`, `v1_0`, `v1-0`) would need two Rust variants of one
        // name: typify gives up on the whole spec. The field stays a
        // string; every value is still sent and read.
        if schema.get("type").and_then(Value::as_str) == Some("string")
            && let Some(Value::Array(values)) = schema.get("enum")
        {
            let mut names = BTreeSet::new();
            let clash = values
                .iter()
                .filter_map(Value::as_str)
                .any(|v| !names.insert(pascal(v)));
            if clash {
                let listed = values
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ");
                let described = match schema.get("description").and_then(Value::as_str) {
                    Some(d) => format!("{d} One of: {listed}."),
                    None => format!("One of: {listed}."),
                };
                schema.insert("description".into(), Value::String(described));
                schema.remove("enum");
                flattened.push(at.to_owned());
            }
        }
        // A default the schema itself does not allow: typify refuses the
        // whole spec ("value does not conform to the given schema"). The
        // default only documents what the server assumes; drop it.
        if let Some(default) = schema.get("default")
            && !fits(schema, default)
        {
            schema.remove("default");
            dropped_defaults.push(at.to_owned());
        }
        // Integer bounds no 64-bit integer holds (1e20 on an int32): the
        // bound says nothing a Rust integer can check; drop it.
        if schema.get("type").and_then(Value::as_str) == Some("integer") {
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
        }
    });
    if !flattened.is_empty() {
        notes.push(format!(
            "string enums whose values differ only in punctuation or case are plain strings (their values listed in the docs): {}",
            flattened.join(", ")
        ));
    }
    if !dropped_defaults.is_empty() {
        notes.push(format!(
            "defaults that do not fit their own schema were dropped (the server still applies its own): {}",
            dropped_defaults.join(", ")
        ));
    }
    if !bounds.is_empty() {
        notes.push(format!(
            "integer bounds past the 64-bit range were dropped: {}",
            bounds.join(", ")
        ));
    }
    titles(doc, names, notes);
    nullable_components(doc, notes);
}

/// typify names an inline schema after its `title`: two schemas with the
/// same title, or a title that is also a component's name, would define
/// one Rust type twice. Titles of component schemas are not names (the
/// key is); a title already taken is dropped and the schema is named after
/// where it is.
fn titles(doc: &mut Value, names: &mut Names, notes: &mut Vec<String>) {
    let mut dropped = Vec::new();
    for_each_schema(doc, &mut |at, schema| {
        let Some(title) = schema.get("title").and_then(Value::as_str) else {
            return;
        };
        let is_component = at
            .strip_prefix("/components/schemas/")
            .is_some_and(|rest| !rest.contains('/'));
        if is_component {
            schema.remove("title");
            return;
        }
        if names.is_taken(title) {
            dropped.push(format!("{at} ({title})"));
            schema.remove("title");
        } else {
            names.claim(title);
        }
    });
    if !dropped.is_empty() {
        notes.push(format!(
            "titles already used as a type name were dropped, those schemas are named after their place: {}",
            dropped.join(", ")
        ));
    }
}

/// A component schema marked `nullable` at its top that makes a named type
/// (an object, enum or union, as 3.1's `oneOf [..., {type: null}]` becomes):
/// typify makes `struct X(Option<X>)` beside `X`. The null belongs to the places that
/// use it: the component loses `nullable`, and every reference to it
/// becomes `allOf: [ref]` with `nullable: true`.
fn nullable_components(doc: &mut Value, notes: &mut Vec<String>) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let mut nullable = BTreeSet::new();
    for (name, schema) in schemas.iter_mut() {
        let named =
            schema.get("type").and_then(Value::as_str) == Some("object") || makes_type(schema);
        if named
            && let Some(map) = schema.as_object_mut()
            && map.get("nullable") == Some(&Value::Bool(true))
        {
            map.remove("nullable");
            nullable.insert(format!("#/components/schemas/{}", escape(name)));
        }
    }
    if nullable.is_empty() {
        return;
    }
    // Found first, rewritten after: a rewritten reference contains itself.
    let mut uses = Vec::new();
    for_each_schema(doc, &mut |at, schema| {
        if let Some(Value::String(target)) = schema.get("$ref")
            && nullable.contains(target)
        {
            uses.push(at.to_owned());
        }
    });
    for at in uses {
        if let Some(Value::Object(schema)) = doc.pointer_mut(&at)
            && let Some(reference) = schema.remove("$ref")
        {
            schema.insert("allOf".into(), json!([{ "$ref": reference }]));
            schema.insert("nullable".into(), Value::Bool(true));
        }
    }
    notes.push(format!(
        "components marked nullable at their top are nullable where they are used: {}",
        nullable
            .iter()
            .map(|r| r.trim_start_matches("#/components/schemas/"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
}

/// Media types progenitor can send a request body as.
pub(crate) fn sendable(media_type: &str) -> bool {
    // Parameters follow a ';' (or, mistyped, a ',').
    let essence = media_type.split([';', ',']).next().unwrap_or("").trim();
    matches!(
        essence,
        "application/json"
            | "application/octet-stream"
            | "application/x-www-form-urlencoded"
            | "text/plain"
            | "text/x-markdown"
    )
}

/// Operation-level rules for one operation at `pointer`. Returns why the
/// operation cannot be generated, if it cannot.
pub(crate) fn operation(
    op: &mut Map<String, Value>,
    path_params: Option<&mut Value>,
    components: &Value,
    pointer: &str,
    op_id: &str,
    notes: &mut Vec<String>,
) -> Result<(), Skipped> {
    let skip = |at: String, reason: String| Skipped {
        operation: op_id.to_owned(),
        pointer: at,
        reason,
    };
    // Parameters: those of the path item, then the operation's own.
    let mut lists: Vec<(String, &mut Value)> = Vec::new();
    if let Some(list) = path_params {
        let parent = pointer.rsplit_once('/').map_or("", |(p, _)| p).to_owned();
        lists.push((format!("{parent}/parameters"), list));
    }
    let own_pointer = format!("{pointer}/parameters");
    let mut own = op.remove("parameters");
    if let Some(list) = own.as_mut() {
        lists.push((own_pointer, list));
    }
    let mut failure = None;
    for (at, list) in lists {
        let Value::Array(params) = list else { continue };
        let mut expanded = Vec::new();
        for (i, raw) in params.iter().enumerate() {
            let here = format!("{at}/{i}");
            let mut param = resolve_ref(raw, components);
            let location = param
                .get("in")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let name = param
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let style = param.get("style").and_then(Value::as_str).unwrap_or("");
            let schema = param.get("schema").cloned().unwrap_or(Value::Null);
            let schema = resolve_ref(&schema, components);
            if location == "query" && style == "deepObject" {
                // `filter[owner]=x` is what a deepObject of scalar
                // properties puts on the wire: one query parameter per
                // property says exactly that.
                match deep_object(&param, &schema, &name) {
                    Some(parts) => {
                        notes.push(format!(
                            "{op_id}: the deepObject query parameter `{name}` is sent as one parameter per property ({})",
                            parts
                                .iter()
                                .filter_map(|p| p.get("name").and_then(Value::as_str))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                        expanded.extend(parts);
                    }
                    None => {
                        failure.get_or_insert(skip(
                            here,
                            format!("the deepObject query parameter `{name}` has properties that are not plain values (objects, lists or free-form): there is no one way to spell them in a query"),
                        ));
                        expanded.push(param);
                    }
                }
                continue;
            }
            if matches!(location.as_str(), "header" | "path")
                && let Some(Value::Object(own)) = param.get_mut("schema")
                && own.remove("nullable") == Some(Value::Bool(true))
            {
                // A header or path segment holds text, never null: an
                // absent optional header is `None` already (a nullable one
                // became `Option<Option<&str>>`, which cannot be sent).
                notes.push(format!(
                    "{op_id}: the {location} parameter `{name}` is not nullable (a {location} value cannot be null)"
                ));
            }
            if location == "header" && schema.get("type").and_then(Value::as_str) == Some("array") {
                // The simple style joins values with commas: a string
                // parameter carries exactly that.
                param["schema"] = json!({"type": "string"});
                let note = format!(
                    "{op_id}: the list-valued header `{name}` takes its values joined by commas, as one string"
                );
                if let Some(d) = param.get("description").and_then(Value::as_str) {
                    param["description"] = json!(format!("{d} (values joined by commas)"));
                } else {
                    param["description"] = json!("Values joined by commas.");
                }
                notes.push(note);
            }
            expanded.push(param);
        }
        *params = expanded;
    }
    if let Some(list) = own {
        op.insert("parameters".into(), list);
    }
    if let Some(failure) = failure {
        return Err(failure);
    }

    // A request body only multipart, XML or another type progenitor cannot
    // send: no faithful client for this operation.
    if let Some(body) = op.get("requestBody") {
        let body = resolve_ref(body, components);
        if let Some(content) = body.get("content").and_then(Value::as_object)
            && !content.is_empty()
            && !content
                .keys()
                .any(|k| sendable(k) || crate::normalize::is_json(k))
        {
            return Err(skip(
                format!("{pointer}/requestBody/content"),
                format!(
                    "its request body is only offered as {}, which this client cannot send",
                    content.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// One query parameter per property of a deepObject parameter, or `None`
/// when a property is not a plain value.
fn deep_object(param: &Value, schema: &Value, name: &str) -> Option<Vec<Value>> {
    let props = schema.get("properties")?.as_object()?;
    if props.is_empty()
        || schema
            .get("additionalProperties")
            .is_some_and(|a| a != &json!(false))
    {
        return None;
    }
    let required: BTreeSet<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let param_required = param.get("required") == Some(&Value::Bool(true));
    props
        .iter()
        .map(|(prop, s)| {
            let plain = matches!(
                s.get("type").and_then(Value::as_str),
                Some("string" | "integer" | "number" | "boolean")
            );
            plain.then(|| {
                let mut p = json!({
                    "name": format!("{name}[{prop}]"),
                    "in": "query",
                    "required": param_required && required.contains(prop.as_str()),
                    "schema": s,
                });
                if let Some(d) = s.get("description") {
                    p["description"] = d.clone();
                }
                p
            })
        })
        .collect()
}

/// operationIds progenitor would turn into the same method name
/// (`getKey`, `GetKey`, `get_key`): every one after the first gets a
/// number, in document order.
pub(crate) fn distinct_operation_ids(doc: &mut Value, notes: &mut Vec<String>) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in METHODS {
            let Some(Value::String(id)) =
                item.get_mut(method).and_then(|o| o.get_mut("operationId"))
            else {
                continue;
            };
            let base = snake(id);
            if let Some(first) = seen.get(&base) {
                let mut n = 2;
                while seen.contains_key(&snake(&format!("{id}{n}"))) {
                    n += 1;
                }
                let renamed = format!("{id}{n}");
                notes.push(format!(
                    "operationId `{id}` names the same method as `{first}`: it is generated as `{}`",
                    snake(&renamed)
                ));
                *id = renamed;
            }
            seen.insert(snake(id), id.clone());
        }
    }
}

/// Whether the generator makes a named type of this schema: an object,
/// enum or union, or an `allOf` that is more than one reference.
fn makes_type(schema: &Value) -> bool {
    if schema.get("$ref").is_some() {
        return false;
    }
    if ["properties", "enum", "oneOf", "anyOf"]
        .iter()
        .any(|k| schema.get(*k).is_some())
    {
        return true;
    }
    match schema
        .get("allOf")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        Some([only]) => makes_type(only),
        Some(parts) => parts.len() > 1,
        None => false,
    }
}

/// Inline schemas whose invented name (`{OperationId}Response`,
/// `{OperationId}Body`, `{OperationId}{Parameter}`) is already a component's
/// name would define one Rust type twice: they move into the components
/// under a free name.
pub(crate) fn invented_names(doc: &mut Value, names: &mut Names, notes: &mut Vec<String>) {
    let mut hoisted: Vec<(String, Value)> = Vec::new();
    let mut hoist = |invented: String, at: &str, schema: &mut Value, names: &mut Names| {
        let name = names.claim(&invented);
        notes.push(format!(
            "{at}: the inline schema that would be named {invented}, a component's name, is named {name}"
        ));
        let reference = json!({ "$ref": format!("#/components/schemas/{name}") });
        let mut inline = std::mem::replace(schema, reference.clone());
        // A nullable inline schema stays nullable where it was; the new
        // component is not (typify would make `X(Option<X>)` beside `X`).
        if let Some(map) = inline.as_object_mut()
            && map.remove("nullable") == Some(Value::Bool(true))
        {
            *schema = json!({ "allOf": [reference], "nullable": true });
        }
        hoisted.push((name, inline));
    };
    // A component's inline property schema is named `{Component}{Property}`.
    if let Some(Value::Object(components)) = doc.pointer_mut("/components/schemas") {
        for (component, schema) in components.iter_mut() {
            let Some(Value::Object(props)) = schema.get_mut("properties") else {
                continue;
            };
            for (prop, inline) in props.iter_mut() {
                let invented = format!("{}{}", pascal(component), pascal(prop));
                if makes_type(inline) && names.is_taken(&invented) {
                    hoist(invented, component, inline, names);
                }
            }
        }
    }
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in METHODS {
            let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            let id = op
                .get("operationId")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let mut places: Vec<(String, &mut Value)> = Vec::new();
            for (key, part) in op.iter_mut() {
                match key.as_str() {
                    "requestBody" => {
                        if let Some(Value::Object(content)) = part.get_mut("content") {
                            for media in content.values_mut() {
                                if let Some(s) = media.get_mut("schema") {
                                    places.push((pascal(&format!("{id}-body")), s));
                                }
                            }
                        }
                    }
                    "responses" => {
                        if let Value::Object(responses) = part {
                            for response in responses.values_mut() {
                                if let Some(s) =
                                    response.pointer_mut("/content/application~1json/schema")
                                {
                                    places.push((pascal(&format!("{id}-response")), s));
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            for (invented, schema) in places {
                if makes_type(schema) && names.is_taken(&invented) {
                    hoist(invented, &id, schema, names);
                }
            }
        }
    }
    if hoisted.is_empty() {
        return;
    }
    if let Some(root) = doc.as_object_mut() {
        let schemas = root
            .entry("components")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .map(|c| c.entry("schemas").or_insert_with(|| json!({})));
        if let Some(Value::Object(schemas)) = schemas {
            schemas.extend(hoisted);
        }
    }
}
