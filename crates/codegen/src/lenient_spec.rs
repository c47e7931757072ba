//! Published specs depart from OpenAPI 3.0 in ways a reader can still
//! make sense of. These rules take them as their authors meant them, each
//! with a note, before the other normalizations run:
//!
//! | construct | what we do |
//! |---|---|
//! | no `paths` (a document of webhooks or components only) | an empty `paths`: a client of types only |
//! | an operation without `operationId` | one made from the method and path (`get_users_by_id`), unique in the document |
//! | an operation without `responses` (3.1 allows it), or with failures only | any 2xx is its success |
//! | an operation whose only answer is `default` | that answer is its success (any 2xx) |
//! | a media type, or a whole `content` map, given as a `$ref` (to `#/components/mediaTypes/...`) | what it names, inlined |
//! | a cookie parameter | left out: the client sends no cookies (a cookie store on the caller's `reqwest::ClientBuilder` can) |
//! | a request body media type without a schema | any JSON value for JSON, bytes for other types |
//! | `application/octet-stream` request body as a string of another format (`byte`) | bytes (`format: binary`) |
//! | a `text/*` request body with a schema that is not a plain string (`format: byte`, an object) | a string |
//! | a parameter named like a path parameter but in the query or a header | left out: the path's is sent |
//! | a path parameter not marked `required` | required |
//! | two parameters of an operation whose Rust argument names are one (`Idempotency-Key`, `idempotency_key`) | the later left out, noted |
//! | a path variable an operation does not declare | declared as a sibling operation declares it, else as a string |
//! | `format` on an object, array or boolean (`uri-map`, `payer_v1`) | dropped: it says nothing a type can hold |
//! | a `format` without a `type` (`{format: date-time}`) | the type the format names (string, integer, number) |
//! | `required` names that are not properties (`id` beside a property `Id`) | matched to the property whatever its case, else dropped |
//! | two properties of one schema whose Rust field names are one (`callerName`, `caller_name`) | the later left out, noted (its value is not read) |
//! | `minLength`, `minItems` or `minProperties` of 0 | dropped: they bound nothing (and typify's check of them does not compile cleanly) |
//! | `x-dropshot-pagination` | dropped: no stream method (it needs the `futures` crate), the page-by-page method stays |
//! | a `pattern` the regular-expression engine cannot compile (`(?i)` flags) | dropped: values are not checked against it |
//! | a websocket endpoint (`x-dropshot-websocket`, or a `101` answer) | the operation is skipped: the client cannot upgrade a connection |
//! | a cycle of compositions: a parent whose `oneOf` lists children that are `allOf` the parent | the parent's `oneOf`/`anyOf` branches that close the cycle are dropped: the parent is the children's base type (typify would recurse without end) |

use serde_json::{Map, Value, json};

use crate::normalize::{METHODS, Skipped, escape, is_json};
use crate::published::for_each_schema;

/// Applies every rule of the table to `doc`; returns the operations it
/// left out.
pub(crate) fn apply(doc: &mut Value, notes: &mut Vec<String>) -> Vec<Skipped> {
    if let Some(map) = doc.as_object_mut()
        && !map.get("paths").is_some_and(Value::is_object)
    {
        map.insert("paths".into(), json!({}));
        notes.push("the document has no paths: the client has its types and no operations".into());
    }
    inline_media_type_refs(doc, notes);
    composition_cycles(doc, notes);
    let skipped = operations(doc, notes);
    schemas(doc, notes);
    skipped
}

/// `content: {type: {$ref: ...}}`: the media type named, inlined.
fn inline_media_type_refs(doc: &mut Value, notes: &mut Vec<String>) {
    fn walk(node: &mut Value, root: &Value, count: &mut usize) {
        match node {
            Value::Object(map) => {
                // The whole `content` map as a `$ref`.
                let whole = map
                    .get("content")
                    .and_then(|c| c.get("$ref"))
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix('#'))
                    .and_then(|p| root.pointer(p))
                    .cloned();
                if let Some(target) = whole {
                    map.insert("content".into(), target);
                    *count += 1;
                }
                if let Some(Value::Object(content)) = map.get_mut("content") {
                    for media in content.values_mut() {
                        let target = media
                            .get("$ref")
                            .and_then(Value::as_str)
                            .and_then(|r| r.strip_prefix('#'))
                            .and_then(|p| root.pointer(p))
                            .cloned();
                        if let Some(target) = target {
                            *media = target;
                            *count += 1;
                        }
                    }
                }
                map.values_mut().for_each(|v| walk(v, root, count));
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, root, count)),
            _ => {}
        }
    }
    let root = doc.clone();
    let mut count = 0;
    walk(doc, &root, &mut count);
    if count > 0 {
        notes.push(format!(
            "{count} media type(s) given as a `$ref` were inlined (a media type is not a component in OpenAPI 3.0)"
        ));
    }
}

/// The Rust field name a property gets, as typify makes it: snake case
/// (`callerName`, `caller_name` and `Caller-Name` are one).
fn field_name(property: &str) -> String {
    use heck::ToSnakeCase;
    property
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .to_snake_case()
}

/// Breaks every cycle made of composition references alone (a component's
/// own `allOf`, `oneOf` and `anyOf` entries that are `$ref`s), by dropping
/// a `oneOf`/`anyOf` branch on it (an `allOf` entry when there is none).
/// A composition reference: from a component, by its `key` entry `index`,
/// to the component named.
type Edge = (String, &'static str, usize);

fn composition_cycles(doc: &mut Value, notes: &mut Vec<String>) {
    const KEYS: [&str; 3] = ["oneOf", "anyOf", "allOf"];
    let target = |v: &Value| {
        v.get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .map(|n| n.replace("~1", "/").replace("~0", "~"))
    };
    // A bound on the work: each round removes one edge.
    for _ in 0..1000 {
        let Some(schemas) = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
        else {
            return;
        };
        let edges = |name: &str| -> Vec<Edge> {
            let mut out = Vec::new();
            if let Some(s) = schemas.get(name) {
                for key in KEYS {
                    if let Some(Value::Array(parts)) = s.get(key) {
                        for (i, part) in parts.iter().enumerate() {
                            if let Some(t) = target(part) {
                                out.push((t, key, i));
                            }
                        }
                    }
                }
            }
            out
        };
        // A depth-first search for a cycle; the edge to cut on it.
        let mut cut: Option<Edge> = None;
        'search: for start in schemas.keys() {
            let mut stack: Vec<(String, Vec<Edge>)> = vec![(start.clone(), Vec::new())];
            let mut seen = std::collections::BTreeSet::new();
            while let Some((node, path)) = stack.pop() {
                for (next, key, i) in edges(&node) {
                    let mut route = path.clone();
                    route.push((node.clone(), key, i));
                    if next == *start {
                        cut = route
                            .iter()
                            .find(|(_, k, _)| *k != "allOf")
                            .or_else(|| route.last())
                            .cloned();
                        break 'search;
                    }
                    if seen.insert(next.clone()) {
                        stack.push((next, route));
                    }
                }
            }
        }
        let Some((name, key, index)) = cut else {
            return;
        };
        let entry = doc
            .pointer(&format!(
                "/components/schemas/{}/{key}/{index}",
                escape(&name)
            ))
            .and_then(target)
            .unwrap_or_default();
        let pointer = format!("/components/schemas/{}/{key}", escape(&name));
        if let Some(Value::Array(parts)) = doc.pointer_mut(&pointer) {
            parts.remove(index);
            if parts.is_empty()
                && let Some(Value::Object(schema)) =
                    doc.pointer_mut(&format!("/components/schemas/{}", escape(&name)))
            {
                schema.remove(key);
            }
        }
        notes.push(format!(
            "`{name}`: `{entry}` in its `{key}` closes a cycle of compositions and was dropped"
        ));
    }
}

/// The method and path as an operation id: `get /users/{id}` is
/// `get_users_by_id`.
fn invented_id(method: &str, path: &str) -> String {
    let mut id = method.to_owned();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        id.push('_');
        if let Some(param) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            id.push_str("by_");
            id.push_str(param);
        } else {
            id.push_str(segment);
        }
    }
    id.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// The parameters the path item at `path` declares for all its operations.
fn item_parameters<'a>(root: &'a Value, path: &str) -> &'a [Value] {
    root.get("paths")
        .and_then(|p| p.get(path))
        .and_then(|i| i.get("parameters"))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Whether `params` declare path parameter `name`.
fn item_params_declare(params: &[Value], root: &Value, name: &str) -> bool {
    params.iter().map(|p| resolved(p, root)).any(|p| {
        p.get("in").and_then(Value::as_str) == Some("path")
            && p.get("name").and_then(Value::as_str) == Some(name)
    })
}

/// `node`, or what its `$ref` names.
fn resolved<'a>(node: &'a Value, root: &'a Value) -> &'a Value {
    node.get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|p| root.pointer(p))
        .unwrap_or(node)
}

fn is_cookie(param: &Value, root: &Value) -> bool {
    resolved(param, root).get("in").and_then(Value::as_str) == Some("cookie")
}

fn operations(doc: &mut Value, notes: &mut Vec<String>) -> Vec<Skipped> {
    let root = doc.clone();
    let mut taken: Vec<String> = Vec::new();
    if let Some(paths) = root.get("paths").and_then(Value::as_object) {
        for item in paths.values() {
            for method in METHODS {
                if let Some(id) = item
                    .get(method)
                    .and_then(|op| op.get("operationId"))
                    .and_then(Value::as_str)
                {
                    taken.push(id.to_owned());
                }
            }
        }
    }
    let mut skipped = Vec::new();
    let (mut invented, mut cookies, mut undescribed, mut paginated, mut shadowing) =
        (0, 0, 0, 0, 0);
    let mut undeclared = 0;
    let mut only_default = 0;
    let mut clashing_params = 0;
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return skipped;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        if let Some(Value::Array(params)) = item.get_mut("parameters") {
            let before = params.len();
            params.retain(|p| !is_cookie(p, &root));
            cookies += before - params.len();
        }
        // Path template variables, and the declarations of them any
        // operation of this path makes (to lend to one that makes none).
        let variables: Vec<String> = path
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
            .collect();
        let declarations: Vec<Value> = item
            .get("parameters")
            .into_iter()
            .chain(
                METHODS
                    .iter()
                    .filter_map(|m| item.get(*m)?.get("parameters")),
            )
            .filter_map(Value::as_array)
            .flatten()
            .map(|p| resolved(p, &root).clone())
            .filter(|p| p.get("in").and_then(Value::as_str) == Some("path"))
            .collect();
        let declared_here = |op: &Map<String, Value>, name: &str| {
            let own = op
                .get("parameters")
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice);
            item_params_declare(item_parameters(&root, path), &root, name)
                || item_params_declare(own, &root, name)
        };
        for method in METHODS {
            let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            let pointer = format!("/paths/{}/{method}", escape(path));
            for name in &variables {
                if declared_here(op, name) {
                    continue;
                }
                let declaration = declarations
                    .iter()
                    .find(|d| d.get("name").and_then(Value::as_str) == Some(name.as_str()))
                    .cloned()
                    .unwrap_or_else(|| {
                        json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
                    });
                let params = op.entry("parameters").or_insert_with(|| json!([]));
                if let Value::Array(params) = params {
                    params.push(declaration);
                    undeclared += 1;
                }
            }
            if !op.get("operationId").is_some_and(Value::is_string) {
                let base = invented_id(method, path);
                let mut id = base.clone();
                let mut n = 2;
                while taken.iter().any(|t| t.eq_ignore_ascii_case(&id)) {
                    id = format!("{base}{n}");
                    n += 1;
                }
                taken.push(id.clone());
                op.insert("operationId".into(), Value::String(id));
                invented += 1;
            }
            let op_id = op["operationId"].as_str().unwrap_or_default().to_owned();
            // Dropshot's pagination makes progenitor write stream methods
            // that need the `futures` crate; the plain method stays.
            if op.remove("x-dropshot-pagination").is_some() {
                paginated += 1;
            }
            // `default` alone: the answer of any status. Its body is what a
            // success carries; a failure is read as an undeclared status.
            if let Some(Value::Object(responses)) = op.get_mut("responses")
                && responses.len() == 1
                && let Some(default) = responses.remove("default")
            {
                responses.insert("2XX".into(), default);
                only_default += 1;
            }
            let declares_success = op
                .get("responses")
                .and_then(Value::as_object)
                .is_some_and(|r| r.keys().any(|k| k.starts_with('2') || k == "default"));
            if let Some(Value::Object(responses)) = op.get_mut("responses")
                && !declares_success
            {
                // Only failures declared: any 2xx is still a success.
                responses.insert(
                    "2XX".into(),
                    json!({"description": "not described by the spec"}),
                );
                undescribed += 1;
            }
            if !op.get("responses").is_some_and(Value::is_object) {
                // 3.1 lets an operation leave its answers undescribed.
                op.insert(
                    "responses".into(),
                    json!({"2XX": {"description": "not described by the spec"}}),
                );
                undescribed += 1;
            }
            if let Some(Value::Array(params)) = op.get_mut("parameters") {
                let before = params.len();
                params.retain(|p| !is_cookie(p, &root));
                cookies += before - params.len();
                // A name the path already takes, in another place (a query
                // `list_id` beside the path's `{list_id}`): the client has
                // one argument per name, and the path's is the one needed.
                let before = params.len();
                params.retain(|p| {
                    let p = resolved(p, &root);
                    let name = p.get("name").and_then(Value::as_str).unwrap_or("");
                    p.get("in").and_then(Value::as_str) == Some("path")
                        || !path.contains(&format!("{{{name}}}"))
                });
                shadowing += before - params.len();
                // Parameters whose Rust argument names are one
                // (`Idempotency-Key` in a header, `idempotency_key` in the
                // query): the first is kept, the later left out.
                let mut seen = std::collections::BTreeSet::new();
                let before = params.len();
                params.retain(|p| {
                    let name = resolved(p, &root).get("name").and_then(Value::as_str);
                    name.is_none_or(|n| seen.insert(field_name(n)))
                });
                clashing_params += before - params.len();
                // A path parameter is required, whatever the spec says.
                for param in params.iter_mut() {
                    if param.get("in").and_then(Value::as_str) == Some("path")
                        && param.get("required") != Some(&Value::Bool(true))
                    {
                        param["required"] = Value::Bool(true);
                    }
                }
            }
            request_body(op);
            let websocket = op.contains_key("x-dropshot-websocket")
                || op
                    .get("responses")
                    .and_then(Value::as_object)
                    .is_some_and(|r| r.contains_key("101"));
            if websocket {
                skipped.push(Skipped {
                    operation: op_id,
                    pointer,
                    reason: "a websocket endpoint: the client cannot upgrade a connection".into(),
                });
            }
        }
        item.retain(|method, _| {
            !skipped
                .iter()
                .any(|s| s.pointer == format!("/paths/{}/{method}", escape(path)))
        });
    }
    paths.retain(|_, item| {
        item.as_object()
            .is_none_or(|i| METHODS.iter().any(|m| i.contains_key(*m)))
    });
    // What each rule did, counted: one note per rule that applied.
    let counted = [
        (
            invented,
            "operation(s) without an operationId were named after their method and path (`get_users_by_id`)",
        ),
        (
            clashing_params,
            "parameter(s) whose argument name another parameter of the operation already has were left out",
        ),
        (
            only_default,
            "operation(s) declare only a `default` answer: it is their success (any 2xx); failures are read as undeclared statuses",
        ),
        (
            undeclared,
            "path variable(s) an operation does not declare were declared for it (as a sibling operation does, else as a string)",
        ),
        (
            shadowing,
            "parameter(s) named like a path parameter but placed elsewhere were left out: the path's is sent",
        ),
        (
            paginated,
            "paginated operation(s) (x-dropshot-pagination) have no stream method: call them page by page",
        ),
        (
            undescribed,
            "operation(s) describe no successful answer: any 2xx is their success, and its body is not read",
        ),
        (
            cookies,
            "cookie parameter(s) are not sent: the client sends no cookies (a cookie store on your reqwest::ClientBuilder can)",
        ),
    ];
    for (count, what) in counted {
        if count > 0 {
            notes.push(format!("{count} {what}"));
        }
    }
    skipped
}

/// A request body media type without a schema takes any JSON value, or
/// bytes; an octet-stream body is bytes whatever string format it names.
fn request_body(op: &mut Map<String, Value>) {
    let Some(Value::Object(content)) = op.get_mut("requestBody").and_then(|b| b.get_mut("content"))
    else {
        return;
    };
    for (media_type, media) in content.iter_mut() {
        let Some(media) = media.as_object_mut() else {
            continue;
        };
        let json = is_json(media_type);
        let schema = media.entry("schema").or_insert_with(|| {
            if json {
                json!({})
            } else {
                json!({"type": "string", "format": "binary"})
            }
        });
        if media_type == "application/octet-stream"
            && schema.get("type").and_then(Value::as_str) == Some("string")
            && schema.get("format").and_then(Value::as_str) != Some("binary")
        {
            schema["format"] = json!("binary");
        }
        // A text body is a string, whatever schema it names.
        let plain_string = schema.get("type").and_then(Value::as_str) == Some("string")
            && !schema.get("format").is_some_and(|f| f != "password");
        if !json && media_type.starts_with("text/") && !plain_string {
            *schema = json!({"type": "string"});
        }
    }
}

fn schemas(doc: &mut Value, notes: &mut Vec<String>) {
    let (mut formats, mut patterns) = (Vec::new(), Vec::new());
    let mut typed = Vec::new();
    let mut requireds = Vec::new();
    let mut vacuous = 0;
    let mut clashes = Vec::new();
    for_each_schema(doc, &mut |at, schema| {
        // A format alone says the type: `{format: date-time}` is a string.
        let structural = [
            "type",
            "$ref",
            "allOf",
            "anyOf",
            "oneOf",
            "enum",
            "properties",
            "items",
        ];
        if !structural.iter().any(|k| schema.contains_key(*k))
            && let Some(format) = schema.get("format").and_then(Value::as_str)
        {
            let ty = match format {
                "int32" | "int64" | "uint32" | "uint64" | "int8" | "int16" => Some("integer"),
                "float" | "double" | "decimal" => Some("number"),
                "date-time" | "date" | "time" | "uuid" | "email" | "uri" | "url" | "hostname"
                | "ipv4" | "ipv6" | "byte" | "binary" | "password" => Some("string"),
                _ => None,
            };
            if let Some(ty) = ty {
                schema.insert("type".into(), json!(ty));
                typed.push(at.to_owned());
            }
        }
        // `required` naming a property the schema spells otherwise (`id`
        // for `Id`) or not at all: typify would add a second field.
        if let (Some(Value::Object(props)), Some(Value::Array(required))) =
            (schema.get("properties"), schema.get("required"))
        {
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
                requireds.push(at.to_owned());
            }
        }
        // A lower bound of 0 on a length or count bounds nothing (typify
        // would check `len < 0`, which rustc rejects as useless).
        for bound in ["minLength", "minItems", "minProperties"] {
            if schema.get(bound).and_then(Value::as_f64) == Some(0.0) {
                schema.remove(bound);
                vacuous += 1;
            }
        }
        // Properties whose Rust field names would be one (`callerName`,
        // `caller_name`): the later ones are left to the extra properties.
        if let Some(Value::Object(props)) = schema.get_mut("properties") {
            let mut seen = std::collections::BTreeSet::new();
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
        }
        let ty = schema.get("type").and_then(Value::as_str).unwrap_or("");
        if matches!(ty, "object" | "array" | "boolean") && schema.contains_key("format") {
            schema.remove("format");
            formats.push(at.to_owned());
        }
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
            && regress::Regex::new(pattern).is_err()
        {
            schema.remove("pattern");
            patterns.push(at.to_owned());
        }
    });
    if !clashes.is_empty() {
        notes.push(format!(
            "{} propert(ies) whose field name another property of the same schema already has were left out, and are not read (first at {})",
            clashes.len(),
            clashes[0]
        ));
    }
    if vacuous > 0 {
        notes.push(format!(
            "{vacuous} lower bound(s) of 0 on a length or count were dropped: they bound nothing"
        ));
    }
    if !requireds.is_empty() {
        notes.push(format!(
            "{} schema(s) require properties they spell otherwise or do not have: the names were matched to the properties, or dropped (first at {})",
            requireds.len(),
            requireds[0]
        ));
    }
    if !typed.is_empty() {
        notes.push(format!(
            "{} schema(s) with a `format` and no `type` take the type the format names (first at {})",
            typed.len(),
            typed[0]
        ));
    }
    if !formats.is_empty() {
        notes.push(format!(
            "`format` on {} object, array or boolean schema(s) was dropped (first at {})",
            formats.len(),
            formats[0]
        ));
    }
    if !patterns.is_empty() {
        notes.push(format!(
            "{} pattern(s) the regular-expression engine cannot compile were dropped, so values are not checked against them (first at {})",
            patterns.len(),
            patterns[0]
        ));
    }
}
