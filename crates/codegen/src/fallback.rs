//! Fall back, never refuse: when a spec that normalized still does not
//! generate, the element at fault is found (a component schema, or an
//! operation), and only it gives way. A schema the generator cannot type is
//! read as any JSON value (`serde_json::Value`), keeping its description;
//! an operation it cannot call is left out of the client. Each fallback is
//! noted (in the generated header and `cargo xtask generate`'s output), and
//! generation runs again: once per element that gives way, however many
//! (at most [`most_fallbacks`], which only a fallback that frees nothing
//! could reach).

use serde_json::{Value, json};

use crate::rules::{self, METHODS, Row, Skipped};

/// Where the fallbacks live, for the README's construct table.
pub(crate) const MODULE: &str = module_path!();

/// The fallbacks, with the rows of the construct table they answer for and
/// the snapshots that show them.
pub(crate) const FALLBACKS: &[(&str, &[Row], &[&str])] = &[
    (
        "rename-generated-name",
        &[Row {
            construct: "a generated type name that is also a component's, of a kind the rules do not foresee (a type inside the content of an adjacently tagged union, a tag and one content field in every arm: `{Type}{Content}Item`)",
            action: "**fallback**: the component is renamed to a free key, its `$ref`s follow, and generation runs again",
        }],
        &["fallback-generated-name-taken"],
    ),
    (
        "defaults-give-way",
        &[Row {
            construct: "a `default` the rules judge to fit but the generator still cannot check against its schema (none known now: those on an `anyOf` of plain values, with unknown or missing fields, or impossible dates are dropped by the rules first, as the snapshot shows)",
            action: "**fallback**: the defaults of that component (or operation) are dropped, its types kept",
        }],
        &["fallback-default-on-a-union"],
    ),
    (
        "give-way",
        &[Row {
            construct: "anything the generator still refuses",
            action: "**fallback**, never a refusal: the element at fault (from the parse error's path, the method progenitor named, or by halving the spec: ~10 generator runs for 300 operations; then the one property of that component, or the one parameter, body or answer schema of that operation, by halving them) gives way — that property, body or component schema is read as any JSON value (`serde_json::Value`, its description kept), that parameter is a string the caller writes; an operation is skipped only when its parts giving way did not free it — and generation runs again, once per element that gives way, however many (bounded by what the spec holds). Each fallback is a `// normalized:` or `// skipped:` line and a warning of `cargo xtask generate` naming the construct in our words where the generator's message is known, then that message cut to 160 characters. Only a document that is not OpenAPI at all is refused",
        }],
        &["fallback-what-cannot-be-generated"],
    ),
];

/// The most fallbacks `doc` can take: each one gives way one component
/// schema, skips one operation or renames one type name once, so a spec
/// never needs more than it has of these. Reaching it means a fallback
/// freed nothing, and the spec is refused rather than looped on.
pub fn most_fallbacks(doc: &Value) -> usize {
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map_or(0, |s| s.len());
    let operations: usize = doc
        .get("paths")
        .and_then(Value::as_object)
        .map_or(0, |paths| {
            paths
                .values()
                .filter_map(Value::as_object)
                .map(|item| METHODS.iter().filter(|m| item.contains_key(**m)).count())
                .sum()
        });
    // Names: one per schema and two per operation (its body and answer).
    2 * schemas + 3 * operations + 16
}

/// Where a failure lies, as far as it could be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// A component schema, by name.
    Schema(String),
    /// A schema within a component or an operation (a property, list
    /// items, a body), by JSON pointer: only it gives way.
    Part(String),
    /// An operation, by path and method.
    Operation(String, String),
    /// A Rust type name the generator defined twice: its own name for an
    /// inline schema is also a component's.
    TypeName(String),
    /// The whole document, or a place no fallback covers.
    Document,
}

impl Fault {
    /// The fault a JSON pointer (`/components/schemas/X/...` or
    /// `/paths/{path}/{method}/...`) names.
    pub fn at(pointer: &str) -> Self {
        let segments: Vec<String> = pointer
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        Self::of_segments(&segments)
    }

    /// The fault that path segments (`["paths", "/x", "get", ...]`) name:
    /// the deepest schema they pass through below a component or within an
    /// operation, else the component or operation.
    pub fn of_segments(segments: &[String]) -> Self {
        if let Some(depth) = part_depth(segments) {
            let pointer: String = segments[..depth]
                .iter()
                .map(|s| format!("/{}", rules::escape(s)))
                .collect();
            return Self::Part(pointer);
        }
        match segments {
            [c, s, name, ..] if c == "components" && s == "schemas" => Self::Schema(name.clone()),
            [p, path, method, ..] if p == "paths" && METHODS.contains(&method.as_str()) => {
                Self::Operation(path.clone(), method.clone())
            }
            _ => Self::Document,
        }
    }

    /// The component or operation a part belongs to: what gives way when
    /// the part giving way did not free the spec.
    pub fn enclosing(&self) -> Option<Self> {
        let Self::Part(pointer) = self else {
            return None;
        };
        // `/components/schemas/X` or `/paths/{path}/{method}`.
        let element: Vec<&str> = pointer.split('/').take(4).collect();
        match Self::at(&element.join("/")) {
            Self::Part(_) | Self::Document => None,
            enclosing => Some(enclosing),
        }
    }

    /// The first operation of `doc` that is not an OpenAPI operation on its
    /// own (with its path item's parameters).
    pub fn first_unparsable_operation(doc: &Value) -> Self {
        let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
            return Self::Document;
        };
        for (path, item) in paths {
            if serde_json::from_value::<openapiv3::PathItem>(item.clone()).is_ok() {
                continue;
            }
            for method in METHODS {
                if let Some(op) = item.get(method)
                    && serde_json::from_value::<openapiv3::Operation>(op.clone()).is_err()
                {
                    return Self::Operation(path.clone(), method.to_owned());
                }
            }
        }
        Self::Document
    }

    /// The operation whose generated method is `method_name` (progenitor
    /// names methods after operationIds, in snake case).
    pub fn of_method(doc: &Value, method_name: &str) -> Self {
        let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
            return Self::Document;
        };
        for (path, item) in paths {
            for method in METHODS {
                let id = item
                    .get(method)
                    .and_then(|op| op.get("operationId"))
                    .and_then(Value::as_str);
                if id.is_some_and(|id| crate::names::snake(id) == method_name) {
                    return Self::Operation(path.clone(), method.to_owned());
                }
            }
        }
        Self::Document
    }
}

/// The schema that stands for any value at `pointer`: `{}` (read as
/// `serde_json::Value`), but a string for a parameter, which must be
/// written into a URL or a header as the caller spells it.
pub fn any_value(pointer: &str) -> Value {
    let segments: Vec<&str> = pointer.split('/').collect();
    match segments.as_slice() {
        [.., "parameters", _, "schema"] => json!({"type": "string"}),
        _ => json!({}),
    }
}

/// How many of `segments` lead to the deepest schema they pass through
/// that is a part of a component schema (a property, items, a member of a
/// composition) or of an operation (a parameter's or a body's schema);
/// `None` when there is none below the component or operation.
fn part_depth(segments: &[String]) -> Option<usize> {
    let start = match segments {
        [c, s, _, ..] if c == "components" && s == "schemas" => 3,
        [p, _, method, ..] if p == "paths" && METHODS.contains(&method.as_str()) => {
            3 + segments[3..].iter().position(|s| s == "schema")? + 1
        }
        _ => return None,
    };
    if start > segments.len() {
        return None;
    }
    let mut depth = start;
    loop {
        let rest = &segments[depth..];
        let step = match rest {
            [k, _, ..] if k == "properties" => 2,
            [k, i, ..]
                if ["allOf", "anyOf", "oneOf"].contains(&k.as_str())
                    && i.parse::<usize>().is_ok() =>
            {
                2
            }
            [k, ..] if ["items", "additionalProperties", "not"].contains(&k.as_str()) => 1,
            _ => break,
        };
        depth += step;
    }
    // A component itself is a `Schema` fault; an operation's body is a part.
    (depth > 3 || segments[0] == "paths").then_some(depth)
}

/// What a fallback did.
pub enum Fallback {
    /// A note for the header: a schema now read as any JSON value.
    Note(String),
    /// An operation left out.
    Skipped(Skipped),
}

/// Gives way at `fault` in `doc`, for `reason`; `None` when there is
/// nothing to give (the document itself, or a schema already untyped).
pub fn give_way(doc: &mut Value, fault: &Fault, reason: &str) -> Option<Fallback> {
    let refused_default = reason.contains("does not conform to the given schema");
    let reason = explain(reason);
    // A default the generator cannot check against its schema (one on a
    // union, say) costs the defaults of that element, not its type.
    if refused_default && let Some(place) = element(doc, fault) {
        let dropped = drop_defaults(place, fault);
        if dropped > 0 {
            let what = match fault {
                Fault::Schema(name) => format!("component `{name}`"),
                Fault::Part(pointer) => format!("`{pointer}`"),
                Fault::Operation(path, method) => format!("operation `{method} {path}`"),
                Fault::TypeName(_) | Fault::Document => String::new(),
            };
            return Some(Fallback::Note(format!(
                "{what} keeps its types; its {dropped} default(s) were dropped, which the generator cannot check against their schemas ({reason})"
            )));
        }
    }
    match fault {
        Fault::Schema(name) => {
            let at = format!("/components/schemas/{}", rules::escape(name));
            untype(doc.pointer_mut(&at)?, json!({}))?;
            Some(Fallback::Note(format!(
                "component `{name}` is read as any JSON value (serde_json::Value): {reason}"
            )))
        }
        Fault::Part(pointer) => {
            let any = any_value(pointer);
            let what = if any.get("type").is_some() {
                "is a string the caller writes"
            } else {
                "is read as any JSON value (serde_json::Value)"
            };
            untype(doc.pointer_mut(pointer)?, any)?;
            Some(Fallback::Note(format!(
                "{pointer} {what}, the rest kept: {reason}"
            )))
        }
        Fault::Operation(path, method) => {
            let paths = doc.get_mut("paths")?.as_object_mut()?;
            let item = paths.get_mut(path)?.as_object_mut()?;
            let op = item.remove(method)?;
            let operation = op
                .get("operationId")
                .and_then(Value::as_str)
                .unwrap_or(method)
                .to_owned();
            if !METHODS.iter().any(|m| item.contains_key(*m)) {
                paths.remove(path);
            }
            Some(Fallback::Skipped(Skipped {
                operation,
                pointer: format!("/paths/{}/{method}", rules::escape(path)),
                reason: format!("the generator cannot handle it ({reason})"),
            }))
        }
        // Handled where generation loops (a rename, not a give-way).
        Fault::TypeName(_) | Fault::Document => None,
    }
}

/// Replaces `schema` by `any` (a schema for any value), keeping its
/// description; `None` when it is that already (nothing to give).
fn untype(schema: &mut Value, mut any: Value) -> Option<()> {
    if let Some(d) = schema.get("description") {
        any["description"] = d.clone();
    }
    if *schema == any {
        return None;
    }
    *schema = any;
    Some(())
}

/// The element a fault names: a component schema, or an operation.
fn element<'a>(doc: &'a mut Value, fault: &Fault) -> Option<&'a mut Value> {
    match fault {
        Fault::Schema(name) => {
            doc.pointer_mut(&format!("/components/schemas/{}", rules::escape(name)))
        }
        Fault::Operation(path, method) => doc.get_mut("paths")?.get_mut(path)?.get_mut(method),
        Fault::Part(pointer) => doc.pointer_mut(pointer),
        Fault::TypeName(_) | Fault::Document => None,
    }
}

/// Removes every `default` of the schemas in `place` (a component schema,
/// or an operation's parameters and bodies); returns how many.
fn drop_defaults(place: &mut Value, fault: &Fault) -> usize {
    // Those on unions first (what the generator cannot check); all of them
    // when there are none, or when a later round finds the element at
    // fault again.
    for unions_only in [true, false] {
        let mut dropped = 0;
        let mut drop = |_: &str, schema: &mut serde_json::Map<String, Value>| {
            let union = schema.contains_key("anyOf") || schema.contains_key("oneOf");
            if union || !unions_only {
                dropped += usize::from(schema.remove("default").is_some());
            }
        };
        match fault {
            Fault::Schema(_) | Fault::Part(_) => rules::for_each_subschema(place, "", &mut drop),
            _ => rules::for_each_schema(place, &mut drop),
        }
        if dropped > 0 {
            return dropped;
        }
    }
    0
}

/// What the generator refused, in our words, from the messages typify and
/// progenitor give for what they do not support (matched by the words
/// each message is known by), then the message itself, on one line and
/// cut short. A message not known is given as it is.
fn explain(reason: &str) -> String {
    const KNOWN: &[(&str, &str)] = &[
        (
            "unhandled not schema",
            "a `not` schema of a kind the generator cannot type",
        ),
        (
            "`not` construction",
            "a `not` listing values of several kinds",
        ),
        (
            "mt.encoding.is_empty()",
            "an `encoding` beside a JSON answer (it is meant for form bodies)",
        ),
        (
            "does not conform to the given schema",
            "a `default` the generator cannot check against its schema",
        ),
        (
            "unsupported style of path parameter",
            "a path parameter of a style other than `simple`",
        ),
        (
            "unsupported style of query parameter",
            "a query parameter of a style the generator does not write",
        ),
        (
            "expected struct Schema",
            "a value where a schema belongs (a list of schemas as `items`, say)",
        ),
        ("if/then/else", "`if`/`then`/`else` in a merged schema"),
        (
            "external references are not supported",
            "a `$ref` to another document",
        ),
        (
            "missing from path",
            "a path parameter the path has no variable for",
        ),
        (
            "multiple implied types",
            "an untyped `not` enum of values of several kinds",
        ),
    ];
    let said = shorten(reason);
    match KNOWN.iter().find(|(words, _)| reason.contains(words)) {
        Some((_, construct)) => format!("{construct} (the generator: {said})"),
        None => said,
    }
}

/// A generator's message on one line and at most 160 characters: some
/// quote whole schemas.
fn shorten(reason: &str) -> String {
    let one_line: String = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = one_line.chars().take(160).collect();
    if one_line.chars().count() > 160 {
        cut.push('…');
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_read_from_pointers_and_method_names() {
        assert_eq!(
            Fault::at("/components/schemas/a~1b"),
            Fault::Schema("a/b".into())
        );
        // The deepest schema a pointer passes through, not a keyword's
        // value within it.
        assert_eq!(
            Fault::at("/components/schemas/a~1b/properties/x/items/format"),
            Fault::Part("/components/schemas/a~1b/properties/x/items".into())
        );
        assert_eq!(
            Fault::at("/components/schemas/a/allOf/1/properties/type"),
            Fault::Part("/components/schemas/a/allOf/1/properties/type".into())
        );
        assert_eq!(
            Fault::at("/components/schemas/a/enum/0"),
            Fault::Schema("a".into())
        );
        assert_eq!(
            Fault::at(
                "/paths/~1k/post/requestBody/content/application~1json/schema/properties/n/not"
            ),
            Fault::Part(
                "/paths/~1k/post/requestBody/content/application~1json/schema/properties/n/not"
                    .into()
            )
        );
        assert_eq!(
            Fault::at("/paths/~1keys~1{id}/get/responses"),
            Fault::Operation("/keys/{id}".into(), "get".into())
        );
        assert_eq!(Fault::at("/components/responses/x"), Fault::Document);
        let doc = json!({"paths": {"/k": {"post": {"operationId": "Create-Key"}}}});
        assert_eq!(
            Fault::of_method(&doc, "create_key"),
            Fault::Operation("/k".into(), "post".into())
        );
    }

    #[test]
    fn a_default_the_generator_refuses_costs_the_defaults_not_the_types() {
        let mut doc = json!({"components": {"schemas": {"X": {
            "type": "object",
            "properties": {
                "a": {"type": "string", "default": "x"},
                "b": {"anyOf": [{"type": "string"}], "default": "y"}
            }
        }}}});
        let fault = Fault::Schema("X".into());
        let reason = "type error value does not conform to the given schema";
        let Some(Fallback::Note(note)) = give_way(&mut doc, &fault, reason) else {
            panic!("no note");
        };
        assert!(note.contains("keeps its types"), "{note}");
        let x = &doc["components"]["schemas"]["X"];
        assert_eq!(x["properties"]["b"], json!({"anyOf": [{"type": "string"}]}));
        assert_eq!(x["type"], "object");
    }

    #[test]
    fn an_operation_gives_way_whole_when_its_parts_did_not_free_it() {
        let mut doc = json!({"paths": {
            "/k": {"get": {"operationId": "getK", "parameters": [
                {"name": "q", "in": "query", "schema": {"type": "string"}}
            ]}},
            "/j": {"get": {"operationId": "getJ"}, "post": {"operationId": "postJ"}}
        }});
        // The part is already a string: it gives nothing, its operation
        // gives way.
        let part = Fault::at("/paths/~1k/get/parameters/0/schema");
        assert!(give_way(&mut doc, &part, "why").is_none());
        let Some(enclosing) = part.enclosing() else {
            panic!("no enclosing operation");
        };
        let Some(Fallback::Skipped(skip)) = give_way(&mut doc, &enclosing, "why") else {
            panic!("not skipped");
        };
        assert_eq!(skip.operation, "getK");
        assert_eq!(skip.pointer, "/paths/~1k/get");
        assert!(doc["paths"].get("/k").is_none(), "the empty path item goes");
        let one = Fault::Operation("/j".into(), "get".into());
        assert!(give_way(&mut doc, &one, "why").is_some());
        assert!(doc["paths"]["/j"].get("post").is_some(), "the other stays");
        assert_eq!(
            Fault::at("/components/schemas/X/properties/y").enclosing(),
            Some(Fault::Schema("X".into()))
        );
    }

    #[test]
    fn giving_way_twice_at_one_schema_is_refused() {
        let mut doc =
            json!({"components": {"schemas": {"X": {"type": "object", "description": "d"}}}});
        let fault = Fault::Schema("X".into());
        assert!(give_way(&mut doc, &fault, "why").is_some());
        assert_eq!(
            doc["components"]["schemas"]["X"],
            json!({"description": "d"})
        );
        assert!(give_way(&mut doc, &fault, "why").is_none());
    }
}
