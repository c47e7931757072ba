//! Media types: which request body is sent, how a body without a schema is
//! typed, and media types given by reference.

use serde_json::{Map, Value, json};

use super::{Context, Problem, Row, Rule, Skipped, for_each_operation, is_json, resolve, skip};

pub(super) const MEDIA_TYPE_REFERENCES: Rule = Rule {
    name: "media-type-references",
    module: module_path!(),
    apply: media_type_references,
    rows: &[Row {
        construct: "a media type or whole `content` map given as a `$ref`",
        action: "inlined",
    }],
    snapshots: &["lenient-media-type-reference"],
};

/// `content: {type: {$ref: ...}}`: the media type named, inlined.
fn media_type_references(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
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
        context.notes.push(format!(
            "{count} media type(s) given as a `$ref` were inlined (a media type is not a component in OpenAPI 3.0)"
        ));
    }
    Ok(())
}

pub(super) const REQUEST_BODY_SCHEMAS: Rule = Rule {
    name: "request-body-schemas",
    module: module_path!(),
    apply: request_body_schemas,
    rows: &[
        Row {
            construct: "a request body without a schema; an octet-stream body of another string format",
            action: "any JSON value, or bytes",
        },
        Row {
            construct: "a `text/*` request body whose schema is not a plain string",
            action: "a string",
        },
    ],
    snapshots: &[
        "lenient-bodies-without-schema",
        "lenient-parameters-and-text-bodies",
    ],
};

/// A request body media type without a schema takes any JSON value, or
/// bytes; an octet-stream body is bytes whatever string format it names; a
/// text body is a string.
fn request_body_schemas(doc: &mut Value, _: &mut Context) -> Result<(), Problem> {
    for_each_operation(doc, &mut |operation, _| {
        let Some(Value::Object(content)) = operation
            .op
            .get_mut("requestBody")
            .and_then(|b| b.get_mut("content"))
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
            let plain_string = schema.get("type").and_then(Value::as_str) == Some("string")
                && !schema.get("format").is_some_and(|f| f != "password");
            if !json && media_type.starts_with("text/") && !plain_string {
                *schema = json!({"type": "string"});
            }
        }
    });
    Ok(())
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

/// The operation extension that names the media type of a body sent as
/// the caller's bytes (see [`RAW_BODIES`]).
pub const CONTENT_TYPE: &str = "x-apikeys-content-type";

pub(super) const RAW_BODIES: Rule = Rule {
    name: "raw-bodies",
    module: module_path!(),
    apply: raw_bodies,
    rows: &[Row {
        construct: "a request body only in a media type the client has no encoder for (`application/xml`, `application/pkix-cert`, `application/sdp`)",
        action: "normalized: the caller's bytes, sent with the declared `Content-Type`",
    }],
    snapshots: &["normalize-body-only-in-types-not-sent"],
};

/// A body the client cannot encode but can carry: the caller gives the
/// bytes, and they go out with the media type the spec declares (not as
/// `application/octet-stream`). Multipart is not one of them: its
/// boundary and parts are the client's to write.
fn raw_bodies(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let components = doc.get("components").cloned().unwrap_or(json!({}));
    for_each_operation(doc, &mut |operation, _| {
        let Some(body) = operation.op.get("requestBody") else {
            return;
        };
        let mut body = resolve(body, &components).clone();
        let Some(content) = body.get_mut("content").and_then(Value::as_object_mut) else {
            return;
        };
        if content.is_empty() || content.keys().any(|k| sendable(k) || is_json(k)) {
            return;
        }
        let carried = content.keys().find(|k| {
            let essence = k.split(';').next().unwrap_or("").trim();
            !essence.starts_with("multipart/")
                && essence.contains('/')
                && k.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        });
        let Some(carried) = carried.cloned() else {
            return;
        };
        let others: Vec<String> = content.keys().filter(|k| **k != carried).cloned().collect();
        content.clear();
        content.insert(
            "application/octet-stream".into(),
            json!({"schema": {"type": "string", "format": "binary"}}),
        );
        let op_id = operation.id();
        operation.op.insert("requestBody".into(), body);
        operation
            .op
            .insert(CONTENT_TYPE.into(), Value::String(carried.clone()));
        let also = if others.is_empty() {
            String::new()
        } else {
            format!(" (also offered: {})", others.join(", "))
        };
        context.notes.push(format!(
            "{op_id}: the request body, offered as {carried}{also}, is the caller's bytes, sent as {carried}"
        ));
    });
    Ok(())
}

pub(super) const UNSENDABLE_BODIES: Rule = Rule {
    name: "unsendable-bodies",
    module: module_path!(),
    apply: unsendable_bodies,
    rows: &[Row {
        construct: "request body only in a multipart type other than `multipart/form-data` (`multipart/related`, `multipart/mixed`), or in a media type that is not one",
        action: "**skipped** operation",
    }],
    snapshots: &["normalize-body-only-in-types-not-sent"],
};

/// A request body only in a type that is neither sent by progenitor, nor
/// carried as bytes, nor a multipart form (`multipart/related`, a media
/// type that is not one): no faithful client for this operation.
fn unsendable_bodies(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let components = doc.get("components").cloned().unwrap_or(json!({}));
    let mut skipped = Vec::new();
    for_each_operation(doc, &mut |operation, _| {
        let Some(body) = operation.op.get("requestBody") else {
            return;
        };
        let body = resolve(body, &components);
        if let Some(content) = body.get("content").and_then(Value::as_object)
            && !content.is_empty()
            && !content.keys().any(|k| sendable(k) || is_json(k))
        {
            let skipped_here = Skipped {
                operation: operation.id(),
                pointer: format!("{}/requestBody/content", operation.pointer),
                reason: format!(
                    "its request body is only offered as {}, which this client cannot send",
                    content.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            };
            skipped.push((operation.pointer.clone(), skipped_here));
        }
    });
    skip(doc, skipped, context);
    Ok(())
}

pub(super) const REQUEST_MEDIA_TYPE: Rule = Rule {
    name: "request-media-type",
    module: module_path!(),
    apply: request_media_type,
    rows: &[
        Row {
            construct: "several request media types",
            action: "normalized: `application/json`, else another JSON type, else a type the client can send",
        },
        Row {
            construct: "request body only as `…+json`",
            action: "normalized: sent as `application/json` (noted)",
        },
    ],
    snapshots: &["normalize-several-request-media-types"],
};

/// Keeps one media type of a request body: `application/json` when offered,
/// else the first JSON type, else the first type progenitor can send.
fn request_media_type(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let components = doc.get("components").cloned().unwrap_or(json!({}));
    for_each_operation(doc, &mut |operation, _| {
        let op_id = operation.id();
        one_request_type(operation.op, &components, &op_id, &mut context.notes);
    });
    Ok(())
}

fn one_request_type(
    op: &mut Map<String, Value>,
    components: &Value,
    op_id: &str,
    notes: &mut Vec<String>,
) {
    let Some(body) = op.get("requestBody") else {
        return;
    };
    let mut body = resolve(body, components).clone();
    let Some(content) = body.get_mut("content").and_then(Value::as_object_mut) else {
        return;
    };
    let keep = content
        .keys()
        .find(|k| k.as_str() == "application/json")
        .or_else(|| content.keys().find(|k| is_json(k)))
        .or_else(|| content.keys().find(|k| sendable(k)))
        .cloned()
        .unwrap_or_default();
    let dropped: Vec<String> = content.keys().filter(|k| **k != keep).cloned().collect();
    if dropped.is_empty() && (keep == "application/json" || !is_json(&keep)) {
        return;
    }
    content.retain(|k, _| *k == keep);
    if !dropped.is_empty() {
        notes.push(format!(
            "{op_id}: the request body is sent as {keep} (also offered: {})",
            dropped.join(", ")
        ));
    }
    if keep != "application/json" && is_json(&keep) {
        // progenitor sends JSON only as `application/json`.
        if let Some(media) = content.remove(&keep) {
            content.insert("application/json".into(), media);
        }
        notes.push(format!(
            "{op_id}: the request body, declared as {keep}, is sent as application/json"
        ));
    }
    op.insert("requestBody".into(), body);
}

/// The operation extension that lists how each field of a form body is
/// spelt: `[[field, style, explode], ..]`, from the spec's `encoding`
/// object; present (perhaps empty) on every operation whose body is sent
/// as `application/x-www-form-urlencoded`.
pub const FORM_ENCODING: &str = "x-apikeys-form-encoding";

pub(super) const FORM_BODIES: Rule = Rule {
    name: "form-bodies",
    module: module_path!(),
    apply: form_bodies,
    rows: &[Row {
        construct: "`application/x-www-form-urlencoded` body, with or without an `encoding` object (`style`, `explode`, `contentType` per field)",
        action: "normalized: sent by `apikeys_runtime::form_body`, each field spelt as its encoding says (lists repeated or joined, objects flattened, joined or `name[field]`, JSON fields as JSON text)",
    }],
    snapshots: &["normalize-form-encoding"],
};

/// progenitor refuses an `encoding` object, and its own form encoder
/// cannot send a list or a nested object: every form body is marked with
/// its fields' encodings, and the `encoding` object is removed.
fn form_bodies(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    const FORM: &str = "application/x-www-form-urlencoded";
    let components = doc.get("components").cloned().unwrap_or(json!({}));
    for_each_operation(doc, &mut |operation, _| {
        let Some(body) = operation.op.get("requestBody") else {
            return;
        };
        let mut body = resolve(body, &components).clone();
        let Some(media) = body
            .get_mut("content")
            .and_then(|c| c.get_mut(FORM))
            .and_then(Value::as_object_mut)
        else {
            return;
        };
        let encoding = media.remove("encoding");
        let fields: Vec<Value> = encoding
            .as_ref()
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(field, how)| {
                let (style, explode) = field_encoding(how)?;
                Some(json!([field, style, explode]))
            })
            .collect();
        if encoding.is_some() {
            let op_id = operation.id();
            context.notes.push(format!(
                "{op_id}: the form body's encoding object is honoured by the runtime's form encoder ({} field(s) spelt otherwise than the default)",
                fields.len()
            ));
        }
        operation.op.insert("requestBody".into(), body);
        operation
            .op
            .insert(FORM_ENCODING.into(), Value::Array(fields));
    });
    Ok(())
}

/// The style (as `apikeys_runtime::FormStyle` names it) and explode of one
/// field's Encoding Object; `None` for the default (`form`, exploded).
/// OpenAPI: `explode` defaults to `true` for `form` and `false` otherwise;
/// a JSON `contentType` sends the field as JSON text.
fn field_encoding(how: &Value) -> Option<(&'static str, bool)> {
    let content_type = how.get("contentType").and_then(Value::as_str).unwrap_or("");
    if is_json(content_type.split(',').next().unwrap_or("").trim()) {
        return Some(("Json", false));
    }
    let style = match how.get("style").and_then(Value::as_str).unwrap_or("form") {
        "spaceDelimited" => "SpaceDelimited",
        "pipeDelimited" => "PipeDelimited",
        "deepObject" => "DeepObject",
        _ => "Form",
    };
    let explode = how
        .get("explode")
        .and_then(Value::as_bool)
        .unwrap_or(style == "Form");
    (style != "Form" || !explode).then_some((style, explode))
}

/// The operation extension that marks an operation whose body is a
/// `multipart/form-data` form, with the names of the parts the spec lists
/// (for the method's documentation).
pub const MULTIPART: &str = "x-apikeys-multipart";

pub(super) const MULTIPART_BODIES: Rule = Rule {
    name: "multipart-bodies",
    module: module_path!(),
    apply: multipart_bodies,
    rows: &[Row {
        construct: "request body only as `multipart/form-data` (file uploads)",
        action: "normalized: the method takes a multipart form (`apikeys_runtime::deps::multipart::Form`, feature `multipart`), its parts listed in the method's documentation; the mock helper matches a part by name and content",
    }],
    snapshots: &["normalize-multipart-body"],
};

/// A body offered only as `multipart/form-data` (beside types the client
/// cannot send) is a form the caller builds, part by part: text, bytes or
/// a stream, each with its own file name and media type. progenitor sees a
/// byte body; the calls rewrite makes it a form.
fn multipart_bodies(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let components = doc.get("components").cloned().unwrap_or(json!({}));
    for_each_operation(doc, &mut |operation, _| {
        let Some(body) = operation.op.get("requestBody") else {
            return;
        };
        let mut body = resolve(body, &components).clone();
        let Some(content) = body.get_mut("content").and_then(Value::as_object_mut) else {
            return;
        };
        if content.keys().any(|k| sendable(k) || is_json(k)) {
            return;
        }
        let Some(form) = content
            .iter()
            .find(|(k, _)| k.split(';').next().unwrap_or("").trim() == "multipart/form-data")
            .map(|(_, media)| media.clone())
        else {
            return;
        };
        let schema = form.get("schema").map(|s| resolve(s, &components));
        let parts: Vec<Value> = schema
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, part)| {
                let part = resolve(part, &components);
                let file = part.get("format").and_then(Value::as_str) == Some("binary")
                    || part
                        .get("items")
                        .and_then(|i| i.get("format"))
                        .and_then(Value::as_str)
                        == Some("binary");
                json!([name, file])
            })
            .collect();
        content.clear();
        content.insert(
            "application/octet-stream".into(),
            json!({"schema": {"type": "string", "format": "binary"}}),
        );
        let op_id = operation.id();
        operation.op.insert("requestBody".into(), body);
        operation.op.insert(MULTIPART.into(), Value::Array(parts));
        context.notes.push(format!(
            "{op_id}: the request body is a multipart form the caller builds (feature `multipart`)"
        ));
    });
    Ok(())
}
