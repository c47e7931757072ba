//! The normalizing rules: rewrites of an OpenAPI document, done on its JSON
//! form before progenitor sees it, for constructs progenitor 0.15 refuses
//! or turns into code that does not compile.
//!
//! [`PIPELINE`] lists every rule in the order it runs, one file per family
//! of rules (`document.rs`, `openapi31.rs`, `schemas.rs`, …). Each rule
//! keeps what a client needs to send the same request and read the same
//! answer, and leaves a note that `cargo xtask generate` prints and that the
//! generated file's header lists. Where no rewrite can keep the wire form (a
//! body only multipart can carry, a query object nested too deep to spell),
//! the one operation is skipped with its reason and the rest generates.
//!
//! Each rule names the rows of the construct table it is responsible for
//! and the snapshots (`tests/snapshots/<name>.yaml`) that show it at work:
//! the table in the crate README is generated from this list
//! ([`crate::construct_table`]), and a test keeps the two in step.

use serde_json::{Map, Value, json};

use crate::names::Names;

mod compositions;
mod document;
mod invented;
mod media;
mod nullable;
mod openapi31;
mod operations;
mod parameters;
mod references;
mod responses;
mod schemas;
mod type_names;

pub use media::{CONTENT_TYPE, FORM_ENCODING, MULTIPART};
pub use parameters::DEEP_OBJECT;
pub use responses::{OPTIONAL_SUCCESS, OTHER_MEDIA};

/// Every normalizing rule, in the order it runs. Order matters where one
/// rule reads what another writes: the document is checked before it is
/// read; 3.1 forms become 3.0 before any schema rule; operations get ids
/// before anything names them; component names are claimed before a rule
/// invents one; request and answer bodies are settled last.
pub(crate) const PIPELINE: &[Rule] = &[
    document::NOT_SWAGGER,
    references::REFERENCES_RESOLVE,
    references::DEEP_REFERENCES,
    document::BOOLEAN_REQUIRED,
    openapi31::TO_30,
    document::PATHS,
    media::MEDIA_TYPE_REFERENCES,
    compositions::UNIONS_OF_CHILDREN,
    compositions::CYCLES,
    parameters::COOKIES,
    parameters::CONTENT_PARAMETERS,
    parameters::OUTSIDE_THE_PATH,
    parameters::UNDECLARED_PATH_VARIABLES,
    parameters::PATH_STYLES,
    operations::INVENTED_IDS,
    operations::PAGINATION,
    operations::ONLY_DEFAULT,
    operations::NO_SUCCESS,
    parameters::SHADOWING_THE_PATH,
    parameters::SAME_ARGUMENT_NAME,
    parameters::PATH_REQUIRED,
    media::REQUEST_BODY_SCHEMAS,
    operations::WEBSOCKETS,
    schemas::FORMAT_WITHOUT_TYPE,
    schemas::REQUIRED_NAMES,
    schemas::VACUOUS_BOUNDS,
    schemas::SAME_FIELD_NAME,
    schemas::FORMAT_ON_NON_SCALARS,
    schemas::PATTERNS,
    type_names::COMPONENT_NAMES,
    schemas::ENUM_VALUES_THAT_CLASH,
    schemas::ENUM_VALUES_OF_ANOTHER_TYPE,
    schemas::DEFAULTS_THAT_DO_NOT_FIT,
    schemas::INTEGER_BOUNDS,
    type_names::TITLES,
    nullable::NULL_IN_ENUMS,
    nullable::COMPONENTS,
    operations::DISTINCT_IDS,
    type_names::INVENTED_NAMES,
    parameters::DEEP_OBJECTS,
    parameters::NEVER_NULL,
    parameters::LIST_HEADERS,
    parameters::DELIMITED_QUERIES,
    parameters::STRING_UNIONS,
    media::RAW_BODIES,
    media::MULTIPART_BODIES,
    media::UNSENDABLE_BODIES,
    media::REQUEST_MEDIA_TYPE,
    media::FORM_BODIES,
    responses::JSON_ANSWERS,
    responses::DEFAULT_BESIDE_STATUSES,
    responses::UNTYPED_ERRORS,
    responses::OPTIONAL_SUCCESS_VALUE,
    responses::BODILESS_BESIDE_DOWNLOAD,
    responses::UNIONS,
    type_names::FORESEEN_NAMES,
];

/// One row of the construct table: a construct found in published specs,
/// and what the codegen does with it.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// The construct, as a spec author would recognize it.
    pub construct: &'static str,
    /// What the generated client does with it.
    pub action: &'static str,
}

/// A normalizing rule: what it rewrites, and the rows and snapshots it
/// answers for.
pub(crate) struct Rule {
    /// A short name, unique in [`PIPELINE`].
    pub(crate) name: &'static str,
    /// The module the rule lives in (`apikeys_codegen::rules::schemas`).
    pub(crate) module: &'static str,
    /// Rewrites the document; an error refuses it (only for a document
    /// that is not OpenAPI, or not one this codegen can read at all).
    pub(crate) apply: fn(&mut Value, &mut Context) -> Result<(), Problem>,
    /// The construct table's rows this rule is responsible for.
    pub(crate) rows: &'static [Row],
    /// Snapshots under `tests/snapshots/` that show it (file stems).
    pub(crate) snapshots: &'static [&'static str],
}

/// What the rules share while they run.
#[derive(Debug, Default)]
pub(crate) struct Context {
    /// One line per rewrite.
    pub(crate) notes: Vec<String>,
    /// Operations left out.
    pub(crate) skipped: Vec<Skipped>,
    /// Every type name given out so far.
    pub(crate) names: Names,
}

/// A point in the document that could not be handled.
#[derive(Debug)]
pub struct Problem {
    /// JSON pointer into the document.
    pub pointer: String,
    /// What is wrong there.
    pub message: String,
}

pub(crate) fn problem(pointer: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem {
        pointer: pointer.into(),
        message: message.into(),
    }
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

/// What normalizing a document did.
#[derive(Debug, Default)]
pub struct Report {
    /// One line per rewrite, for the generated header and `cargo xtask
    /// generate`.
    pub notes: Vec<String>,
    /// Operations left out of the client, each with its reason.
    pub skipped: Vec<Skipped>,
}

/// Normalizes `doc` in place by running [`PIPELINE`]; reports every
/// rewrite and every operation left out.
pub fn normalize(doc: &mut Value) -> Result<Report, Problem> {
    let mut context = Context::default();
    for rule in PIPELINE {
        (rule.apply)(doc, &mut context)?;
    }
    Ok(Report {
        notes: context.notes,
        skipped: context.skipped,
    })
}

pub(crate) use crate::pointer::escape;

/// The methods of a path item, in the order operations are visited.
pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Follows a local `$ref` (`#/components/<kind>/<name>`) once.
pub(crate) fn resolve<'a>(value: &'a Value, components: &'a Value) -> &'a Value {
    let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
        return value;
    };
    let mut target = components;
    for part in reference
        .trim_start_matches("#/components/")
        .split('/')
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
    {
        match target.get(&part) {
            Some(next) => target = next,
            None => return value,
        }
    }
    target
}

/// `node`, or what its local `$ref` names anywhere in the document.
pub(crate) fn resolved<'a>(node: &'a Value, root: &'a Value) -> &'a Value {
    node.get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|p| root.pointer(p))
        .unwrap_or(node)
}

/// Whether a media type is JSON (`application/json`, `text/json`,
/// `…+json`), whatever parameters follow it.
pub(crate) fn is_json(media_type: &str) -> bool {
    // Parameters follow a ';' (or, mistyped, a ',').
    let essence = media_type.split([';', ',']).next().unwrap_or("").trim();
    essence == "application/json" || essence == "text/json" || essence.ends_with("+json")
}

/// One operation, as the rules see it.
pub(crate) struct Operation<'a> {
    /// The path template (`/keys/{id}`).
    pub(crate) path: &'a str,
    /// The method (`get`).
    pub(crate) method: &'static str,
    /// `/paths/{path}/{method}`.
    pub(crate) pointer: String,
    /// The operation object.
    pub(crate) op: &'a mut Map<String, Value>,
}

impl Operation<'_> {
    /// Its operationId (empty before [`operations::INVENTED_IDS`] ran, for
    /// an operation without one).
    pub(crate) fn id(&self) -> String {
        self.op
            .get("operationId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }
}

/// Where a schema of an operation sits.
pub(crate) enum Place<'a> {
    /// A parameter's (the path item's or the operation's), by name.
    Parameter(&'a str),
    /// The request body's, in a media type.
    Body(&'a str),
    /// An answer's, by status and media type.
    Answer(&'a str, &'a str),
}

/// Every schema of the operation `method` of path item `path` (`item`):
/// its parameters' (the path item's first), its request bodies' and its
/// answers', each with its JSON pointer.
pub(crate) fn operation_schemas<'a>(
    path: &str,
    item: &'a Value,
    method: &str,
) -> Vec<(String, &'a Value, Place<'a>)> {
    let mut found = Vec::new();
    let Some(op) = item.get(method) else {
        return found;
    };
    let item_at = format!("/paths/{}", escape(path));
    let at = format!("{item_at}/{method}");
    for (list, list_at) in [
        (item.get("parameters"), format!("{item_at}/parameters")),
        (op.get("parameters"), format!("{at}/parameters")),
    ] {
        let list = list.and_then(Value::as_array).into_iter().flatten();
        for (i, parameter) in list.enumerate() {
            let name = parameter.get("name").and_then(Value::as_str);
            if let (Some(name), Some(schema)) = (name, parameter.get("schema")) {
                found.push((
                    format!("{list_at}/{i}/schema"),
                    schema,
                    Place::Parameter(name),
                ));
            }
        }
    }
    let bodies = op
        .pointer("/requestBody/content")
        .and_then(Value::as_object);
    for (media, content) in bodies.into_iter().flatten() {
        if let Some(schema) = content.get("schema") {
            let pointer = format!("{at}/requestBody/content/{}/schema", escape(media));
            found.push((pointer, schema, Place::Body(media)));
        }
    }
    let answers = op.get("responses").and_then(Value::as_object);
    for (status, answer) in answers.into_iter().flatten() {
        let content = answer.get("content").and_then(Value::as_object);
        for (media, content) in content.into_iter().flatten() {
            if let Some(schema) = content.get("schema") {
                let pointer = format!(
                    "{at}/responses/{}/content/{}/schema",
                    escape(status),
                    escape(media)
                );
                found.push((pointer, schema, Place::Answer(status, media)));
            }
        }
    }
    found
}

/// Calls `f` on every operation, in document order (path items in order,
/// methods in [`METHODS`] order), with the parameters of its path item.
pub(crate) fn for_each_operation(
    doc: &mut Value,
    f: &mut dyn FnMut(Operation<'_>, Option<&mut Value>),
) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        let mut shared = item.remove("parameters");
        for method in METHODS {
            let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            let pointer = format!("/paths/{}/{method}", escape(path));
            let operation = Operation {
                path,
                method,
                pointer,
                op,
            };
            f(operation, shared.as_mut());
        }
        if let Some(params) = shared {
            item.insert("parameters".into(), params);
        }
    }
}

/// Leaves operations out of the document (and path items left without
/// operations): each skip is given with the pointer of its operation
/// (`/paths/{path}/{method}`), and recorded.
pub(crate) fn skip(doc: &mut Value, skipped: Vec<(String, Skipped)>, context: &mut Context) {
    if skipped.is_empty() {
        return;
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            if let Some(item) = item.as_object_mut() {
                item.retain(|method, _| {
                    let at = format!("/paths/{}/{method}", escape(path));
                    !skipped.iter().any(|(operation, _)| *operation == at)
                });
            }
        }
        paths.retain(|_, item| {
            item.as_object()
                .is_none_or(|i| METHODS.iter().any(|m| i.contains_key(*m)))
        });
    }
    context.skipped.extend(skipped.into_iter().map(|(_, s)| s));
}

/// Adds schemas to `#/components/schemas`, making the maps it needs.
pub(crate) fn add_components(doc: &mut Value, schemas: Map<String, Value>) -> Result<(), Problem> {
    if schemas.is_empty() {
        return Ok(());
    }
    let Some(root) = doc.as_object_mut() else {
        return Err(problem("", "the document is not an object"));
    };
    root.entry("components")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| problem("/components", "`components` is not an object"))?
        .entry("schemas")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| problem("/components/schemas", "`schemas` is not an object"))?
        .extend(schemas);
    Ok(())
}

/// Calls `f` on every schema object in the document, depth first, with its
/// JSON pointer: component schemas, parameter and media-type schemas, and
/// everything nested in them.
pub(crate) fn for_each_schema(doc: &mut Value, f: &mut dyn FnMut(&str, &mut Map<String, Value>)) {
    document(doc, "", f);
}

/// Calls `f` on the schema `node` (at pointer `at`) and every schema nested
/// in it, depth first.
pub(crate) fn for_each_subschema(
    node: &mut Value,
    at: &str,
    f: &mut dyn FnMut(&str, &mut Map<String, Value>),
) {
    schema(node, at, f);
}

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

/// Finds the schemas of a document (or of one of its elements) for
/// [`for_each_schema`].
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

/// The Rust field (or argument) name a property (or parameter) gets, as
/// typify makes it: snake case (`callerName`, `caller_name` and
/// `Caller-Name` are one).
pub(crate) fn field_name(property: &str) -> String {
    use heck::ToSnakeCase;
    property
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .to_snake_case()
}

/// Pointers of the schemas a rule changed, as one note: how many, and
/// where the first one is.
pub(crate) fn note_places(notes: &mut Vec<String>, places: &[String], what: &str) {
    if let Some(first) = places.first() {
        notes.push(format!("{} {what} (first at {first})", places.len()));
    }
}

#[cfg(test)]
mod tests;

/// The property schemas component `name` writes itself: in its
/// `properties`, or in an inline part of its `allOf`.
pub(super) fn own_properties<'a>(
    components: &'a Map<String, Value>,
    name: &str,
) -> Vec<(String, &'a Value)> {
    let Some(schema) = components.get(name) else {
        return Vec::new();
    };
    let parts = schema.get("allOf").and_then(Value::as_array);
    std::iter::once(schema)
        .chain(parts.into_iter().flatten())
        .filter_map(|s| s.get("properties").and_then(Value::as_object))
        .flatten()
        .map(|(prop, value)| (prop.clone(), value))
        .collect()
}

/// The property schemas component `name`'s `allOf` takes from other
/// components, through `$ref` parts at any depth: `(property, schema,
/// the component that writes it)`.
pub(super) fn inherited_properties<'a>(
    components: &'a Map<String, Value>,
    name: &str,
) -> Vec<(String, &'a Value, String)> {
    let bases = |name: &str| -> Vec<String> {
        let parts = components.get(name).and_then(|s| s.get("allOf"));
        let parts = parts.and_then(Value::as_array).into_iter().flatten();
        parts.filter_map(crate::pointer::schema_ref).collect()
    };
    let mut found = Vec::new();
    let mut seen = std::collections::BTreeSet::from([name.to_owned()]);
    let mut queue = bases(name);
    while let Some(base) = queue.pop() {
        if !seen.insert(base.clone()) {
            continue;
        }
        queue.extend(bases(&base));
        for (prop, value) in own_properties(components, &base) {
            found.push((prop, value, base.clone()));
        }
    }
    found
}
