//! The pipeline from a spec file to generated code: load, the rules,
//! progenitor (with the fallback's retries), post-processing and
//! formatting, timed by phase. `lib.rs` holds the public API over it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

use progenitor_impl::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle};
use quote::quote;

use crate::{
    Error, HEADER, Output, Phases, Stats, fallback, glue::glue, load, names, postprocess, rules,
};

/// Generates provider `name`'s client and mock from the spec at `path`,
/// falling back element by element (see `fallback.rs`) rather than
/// refusing the spec.
pub(crate) fn run(path: &Path, name: &str) -> Result<Output, Error> {
    let mut phases = Phases::default();
    let started = Instant::now();
    let mut doc = load_spec(path)?;
    phases.load = started.elapsed();
    let started = Instant::now();
    let rules::Report {
        mut notes,
        mut skipped,
    } = rules::normalize(&mut doc).map_err(|p| fail(path, p.pointer, p.message))?;
    phases.rules = started.elapsed();
    let crate_name = format!("apikeys-{name}");
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("yaml");
    let spec_file = format!("{name}.{ext}");
    // Fall back, never refuse: the element at fault gives way, and the
    // rest generates (see `fallback.rs`).
    let mut renamed = std::collections::BTreeSet::new();
    let mut made = std::collections::BTreeSet::new();
    let most = fallback::most_fallbacks(&doc);
    for _ in 0..=most {
        phases.attempts += 1;
        let attempt = generate_doc(
            &doc,
            &crate_name,
            &spec_file,
            (&notes, &skipped),
            &renamed,
            &mut phases,
        );
        let (fault, message) = match attempt {
            Ok(mut output) => {
                output.stats.phases = phases;
                return Ok(output);
            }
            Err(failed) => failed,
        };
        if let fallback::Fault::TypeName(name) = &fault {
            // Each name gives way once, and never twice through the same
            // component: a duplicate that follows the renamed component is
            // not a name clash, and the output is kept as it is.
            renamed.insert(name.clone());
            if !made.contains(name)
                && let Some((from, to)) = names::rename_component(&mut doc, name)
            {
                made.insert(names::pascal(&to));
                notes.push(format!(
                    "component `{from}` is renamed `{to}`: the generator gives its name, {name}, to another type too"
                ));
            }
            continue;
        }
        // A part that gave way already and still fails costs its
        // component or operation.
        let given = fallback::give_way(&mut doc, &fault, &message).or_else(|| {
            let enclosing = fault.enclosing()?;
            fallback::give_way(&mut doc, &enclosing, &message)
        });
        match given {
            Some(fallback::Fallback::Note(note)) => notes.push(note),
            Some(fallback::Fallback::Skipped(skip)) => skipped.push(skip),
            None => {
                let at = match &fault {
                    fallback::Fault::Schema(name) => {
                        format!("/components/schemas/{}", crate::pointer::escape(name))
                    }
                    fallback::Fault::Operation(p, m) => {
                        format!("/paths/{}/{m}", crate::pointer::escape(p))
                    }
                    fallback::Fault::Part(pointer) => pointer.clone(),
                    fallback::Fault::TypeName(_) | fallback::Fault::Document => String::new(),
                };
                return Err(fail(
                    path,
                    at,
                    format!(
                        "{message}. What to do: correct or simplify the element named; if it is valid OpenAPI, it is a gap in apikeys-codegen: report it with this message"
                    ),
                ));
            }
        }
    }
    Err(fail(
        path,
        "",
        format!(
            "{most} fallbacks, as many as the spec has elements, did not free it: a fallback gave way without removing the fault. It is a gap in apikeys-codegen: report it with this message"
        ),
    ))
}

pub(crate) fn fail(file: &Path, location: impl Into<String>, message: impl Into<String>) -> Error {
    Error {
        file: file.to_owned(),
        location: location.into(),
        message: message.into(),
    }
}

/// Reads a spec as JSON, whichever of YAML or JSON it is written in.
fn load_spec(path: &Path) -> Result<serde_json::Value, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| fail(path, "", e.to_string()))?;
    let is_json = path.extension().is_some_and(|e| e == "json");
    let read = if is_json {
        serde_json::from_str::<load::Loose>(&text).map_err(|e| e.to_string())
    } else {
        serde_yaml_ng::from_str::<load::Loose>(&text).map_err(|e| e.to_string())
    };
    read.map(|l| l.0).map_err(|e| fail(path, "", e))
}

/// Runs `f`, turning a panic inside progenitor into an error message.
fn no_panic<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    match result {
        Ok(r) => r,
        Err(payload) => {
            let text = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown cause".into());
            Err(format!("progenitor cannot handle this: {text}"))
        }
    }
}

fn settings(crate_name: &str) -> GenerationSettings {
    let mut settings = GenerationSettings::new();
    // A schema may name a hand-written type of the crate being generated
    // with `x-rust-type` (crate `apikeys-<spec>`, path
    // `apikeys_<spec>::Type`; the crate root declares
    // `extern crate self as apikeys_<spec>;`). No other crate is allowed.
    settings.with_crate(crate_name, progenitor_impl::CrateVers::Any, None);
    settings
        .with_interface(InterfaceStyle::Positional)
        .with_tag(TagStyle::Merged)
        .with_inner_type(quote!(::apikeys_runtime::Runtime))
        .with_hooks(HooksMode::Expected)
        .with_derive("schemars::JsonSchema")
        // Strings marked `format: password` hold secrets: they decode into a
        // wrapper whose Debug output is redacted.
        .with_conversion(
            schemars::schema::SchemaObject {
                instance_type: Some(schemars::schema::InstanceType::String.into()),
                format: Some("password".into()),
                ..Default::default()
            },
            "::apikeys_runtime::Secret",
            std::iter::empty(),
        );
    settings
}

fn count_models(file: &syn::File) -> usize {
    file.items
        .iter()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "types" => m.content.as_ref(),
            _ => None,
        })
        .map(|(_, items)| {
            items
                .iter()
                .filter(|i| matches!(i, syn::Item::Struct(_) | syn::Item::Enum(_)))
                .count()
        })
        .unwrap_or(0)
}

fn render(spec_file: &str, notes: &[String], skipped: &[rules::Skipped], body: &str) -> String {
    let mut out = String::from(HEADER);
    out.push_str(&format!("// spec: openapi/{spec_file}\n"));
    for note in notes {
        out.push_str(&format!("// normalized: {note}\n"));
    }
    for skip in skipped {
        out.push_str(&format!("// skipped: {skip}\n"));
    }
    out.push('\n');
    out.push_str(body);
    out
}

/// progenitor's client for `spec`, a panic inside it turned into an error.
fn client_tokens(
    spec: &openapiv3::OpenAPI,
    crate_name: &str,
) -> Result<proc_macro2::TokenStream, String> {
    no_panic(|| {
        Generator::new(&settings(crate_name))
            .generate_tokens(spec)
            .map_err(|e| e.to_string())
    })
}

/// Whether progenitor refuses `doc`.
fn refuses(doc: &serde_json::Value, crate_name: &str) -> bool {
    let Ok(spec) = serde_json::from_value::<openapiv3::OpenAPI>(doc.clone()) else {
        return true;
    };
    client_tokens(&spec, crate_name).is_err()
}

/// Halves `items` until one is left that `fails` alone: a handful of
/// generator runs, however large the spec, instead of one per item.
fn bisect<T: Clone>(items: &[T], fails: &dyn Fn(&[T]) -> bool) -> Option<T> {
    let mut suspects = items.to_vec();
    while suspects.len() > 1 {
        let back = suspects.split_off(suspects.len() / 2);
        if !fails(&suspects) {
            suspects = back;
        }
    }
    suspects
        .pop()
        .filter(|one| fails(std::slice::from_ref(one)))
}

/// The component schemas `names` need, themselves included.
fn closure(
    doc: &serde_json::Value,
    names: &[String],
) -> serde_json::Map<String, serde_json::Value> {
    fn refs(node: &serde_json::Value, out: &mut Vec<String>) {
        match node {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(r)) = map.get("$ref")
                    && let Some(name) = crate::pointer::schema_named(r)
                {
                    out.push(name);
                }
                map.values().for_each(|v| refs(v, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let all = doc
        .pointer("/components/schemas")
        .and_then(|s| s.as_object());
    let mut kept = serde_json::Map::new();
    let mut todo = names.to_vec();
    while let Some(name) = todo.pop() {
        if kept.contains_key(&name) {
            continue;
        }
        if let Some(schema) = all.and_then(|a| a.get(&name)) {
            refs(schema, &mut todo);
            kept.insert(name, schema.clone());
        }
    }
    kept
}

/// Finds what progenitor refuses in a spec it will not generate: a
/// component schema (tried with no operations), else an operation; each
/// found by halving, so a 300-operation spec takes about ten runs.
fn locate(doc: &serde_json::Value, crate_name: &str) -> Option<String> {
    let mut bare = doc.clone();
    bare["paths"] = serde_json::json!({});
    if refuses(&bare, crate_name) {
        let names: Vec<String> = doc
            .pointer("/components/schemas")?
            .as_object()?
            .keys()
            .cloned()
            .collect();
        let only = |subset: &[String]| {
            let mut d = bare.clone();
            d["components"]["schemas"] = serde_json::Value::Object(closure(doc, subset));
            refuses(&d, crate_name)
        };
        // The component found may fail only through one it uses: the
        // fault is the one whose own schemas fail, not those that use it.
        let mut found = bisect(&names, &only)?;
        for _ in 0..names.len() {
            let used: Vec<String> = closure(doc, std::slice::from_ref(&found))
                .keys()
                .filter(|n| **n != found)
                .cloned()
                .collect();
            match bisect(&used, &only) {
                Some(deeper)
                    if !closure(doc, std::slice::from_ref(&deeper)).contains_key(&found) =>
                {
                    found = deeper;
                }
                _ => break,
            }
        }
        let at = format!("/components/schemas/{}", crate::pointer::escape(&found));
        return Some(locate_property(doc, &at, crate_name).unwrap_or(at));
    }
    let paths = doc.get("paths")?.as_object()?;
    let mut operations = Vec::new();
    for (path, item) in paths {
        for (method, op) in item.as_object()? {
            if op.get("operationId").is_some() {
                operations.push((path.clone(), method.clone()));
            }
        }
    }
    let only = |subset: &[(String, String)]| {
        let mut d = doc.clone();
        let mut kept = serde_json::Map::new();
        for (path, method) in subset {
            let item = kept
                .entry(path.clone())
                .or_insert_with(|| serde_json::json!({}));
            item[method.as_str()] = paths[path][method.as_str()].clone();
            if let Some(params) = paths[path].get("parameters") {
                item["parameters"] = params.clone();
            }
        }
        d["paths"] = serde_json::Value::Object(kept);
        refuses(&d, crate_name)
    };
    let (path, method) = bisect(&operations, &only)?;
    let at = format!("/paths/{}/{method}", crate::pointer::escape(&path));
    if let Some(part) = locate_operation_part(doc, &path, &method, crate_name) {
        return Some(part);
    }
    Some(format!(
        "{at} ({})",
        paths[&path][&method]["operationId"]
            .as_str()
            .unwrap_or_default()
    ))
}

/// The schema of an operation (of a parameter, its body or an answer)
/// that progenitor refuses alone: only that part need give way, the
/// operation stays.
fn locate_operation_part(
    doc: &serde_json::Value,
    path: &str,
    method: &str,
    crate_name: &str,
) -> Option<String> {
    let item = doc.get("paths")?.get(path)?;
    let parts: Vec<String> = rules::operation_schemas(path, item, method)
        .into_iter()
        .map(|(at, _, _)| at)
        .collect();
    let mut alone = doc.clone();
    let mut only = serde_json::json!({ method: item.get(method)? });
    if let Some(params) = item.get("parameters") {
        only["parameters"] = params.clone();
    }
    alone["paths"] = serde_json::json!({ path: only });
    part_at_fault(&alone, &parts, crate_name)
}

/// The property of the component schema at `at` (its own, or an inline
/// `allOf` part's) that progenitor refuses alone: only that property need
/// give way. `None` when the fault is not in one property.
fn locate_property(doc: &serde_json::Value, at: &str, crate_name: &str) -> Option<String> {
    let schema = doc.pointer(at)?;
    let parts = schema.get("allOf").and_then(|p| p.as_array());
    let holders = std::iter::once((schema, at.to_owned())).chain(
        parts
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, part)| (part, format!("{at}/allOf/{i}"))),
    );
    let mut properties: Vec<String> = Vec::new();
    for (holder, holder_at) in holders {
        let props = holder.get("properties").and_then(|p| p.as_object());
        for name in props.into_iter().flatten().map(|(k, _)| k) {
            let name = crate::pointer::escape(name);
            properties.push(format!("{holder_at}/properties/{name}"));
        }
    }
    let name = crate::pointer::schema_named(&format!("#{at}"))?;
    let mut alone = doc.clone();
    alone["paths"] = serde_json::json!({});
    alone["components"]["schemas"] =
        serde_json::Value::Object(closure(doc, std::slice::from_ref(&name)));
    part_at_fault(&alone, &properties, crate_name)
}

/// The one of `parts` (pointers into `alone`, a document cut down to the
/// element at fault) that progenitor refuses while the others stand for
/// any value ([`fallback::any_value`]), found by halving. `None` when
/// `alone` still fails with every part as any value: the fault is not in
/// a part.
fn part_at_fault(alone: &serde_json::Value, parts: &[String], crate_name: &str) -> Option<String> {
    let fails = |subset: &[String]| {
        let mut d = alone.clone();
        for part in parts {
            if !subset.contains(part)
                && let Some(p) = d.pointer_mut(part)
            {
                *p = fallback::any_value(part);
            }
        }
        refuses(&d, crate_name)
    };
    if parts.is_empty() || fails(&[]) {
        return None;
    }
    bisect(parts, &fails)
}

/// One generation of a normalized document; on failure, the element at
/// fault (as far as it can be found) and the generator's message.
fn generate_doc(
    doc: &serde_json::Value,
    crate_name: &str,
    spec_file: &str,
    (notes, skipped): (&[String], &[rules::Skipped]),
    renamed: &std::collections::BTreeSet<String>,
    phases: &mut Phases,
) -> Result<Output, (fallback::Fault, String)> {
    let mut clock = Instant::now();
    // Adds the time since the last reading to `phase`.
    let mut lap = |phase: &mut Duration| {
        *phase += clock.elapsed();
        clock = Instant::now();
    };
    let spec: Result<openapiv3::OpenAPI, _> = serde_path_to_error::deserialize(doc).map_err(|e| {
        let segments: Vec<String> = e
            .path()
            .iter()
            .map(|s| match s {
                serde_path_to_error::Segment::Map { key } => key.clone(),
                serde_path_to_error::Segment::Seq { index } => index.to_string(),
                other => other.to_string(),
            })
            .collect();
        let mut fault = fallback::Fault::of_segments(&segments);
        // The parser's path stops at the first schema it cannot tell apart
        // from a reference: the property at fault is found by halving.
        if let fallback::Fault::Schema(name) = &fault {
            let at = format!("/components/schemas/{}", crate::pointer::escape(name));
            if let Some(part) = locate_property(doc, &at, crate_name) {
                fault = fallback::Fault::Part(part);
            }
        }
        if fault == fallback::Fault::Document && segments.first().is_some_and(|s| s == "paths") {
            // The path is lost inside the map of paths: the operation at
            // fault is the first that does not parse alone.
            fault = fallback::Fault::first_unparsable_operation(doc);
        }
        (fault, format!("/{}: {}", segments.join("/"), e.inner()))
    });
    lap(&mut phases.generate);
    let spec = spec?;
    let located = |m: String| {
        let fault = locate(doc, crate_name)
            .map(|at| fallback::Fault::at(at.split(' ').next().unwrap_or_default()))
            .unwrap_or(fallback::Fault::Document);
        (fault, m)
    };
    let tokens = client_tokens(&spec, crate_name);
    lap(&mut phases.generate);
    let tokens = tokens.map_err(located)?;
    let marked = |extension: &str| -> Vec<(String, serde_json::Value)> {
        spec.operations()
            .filter_map(|(_, _, op)| {
                let value = op.extensions.get(extension)?;
                Some((op.operation_id.clone()?, value.clone()))
            })
            .collect()
    };
    let facts = postprocess::Facts {
        operation_ids: spec
            .operations()
            .filter_map(|(_, _, op)| op.operation_id.clone())
            .collect(),
        optional_success: marked(rules::OPTIONAL_SUCCESS)
            .into_iter()
            .map(|(id, _)| id)
            .collect(),
        content_types: marked(rules::CONTENT_TYPE)
            .into_iter()
            .filter_map(|(id, v)| Some((id, v.as_str()?.to_owned())))
            .collect(),
        deep_objects: marked(rules::DEEP_OBJECT)
            .into_iter()
            .map(|(id, v)| (id, strings(&v)))
            .collect(),
        form_encodings: marked(rules::FORM_ENCODING)
            .into_iter()
            .map(|(id, v)| {
                let fields = v.as_array().into_iter().flatten().filter_map(|f| {
                    Some((
                        f.get(0)?.as_str()?.to_owned(),
                        f.get(1)?.as_str()?.to_owned(),
                        f.get(2)?.as_bool()?,
                    ))
                });
                (id, fields.collect())
            })
            .collect(),
        multipart: marked(rules::MULTIPART)
            .into_iter()
            .map(|(id, v)| {
                let parts =
                    v.as_array().into_iter().flatten().filter_map(|p| {
                        Some((p.get(0)?.as_str()?.to_owned(), p.get(1)?.as_bool()?))
                    });
                (id, parts.collect())
            })
            .collect(),
        other_media: marked(rules::OTHER_MEDIA)
            .into_iter()
            .map(|(id, v)| (id, strings(&v)))
            .collect(),
        returns_secret: marked(postprocess::RETURNS_SECRET)
            .into_iter()
            .map(|(id, v)| {
                let pointers = match v {
                    serde_json::Value::Array(items) => items
                        .iter()
                        .map(|p| p.as_str().unwrap_or("?").to_owned())
                        .collect(),
                    other => vec![other.as_str().unwrap_or("?").to_owned()],
                };
                (id, pointers)
            })
            .collect(),
    };
    let by_method = |m: String| {
        let method = m
            .strip_prefix("operation method ")
            .and_then(|rest| rest.split([':', ' ']).next())
            .unwrap_or_default();
        (fallback::Fault::of_method(doc, method), m)
    };
    let forms = facts.form_encodings.clone();
    let multipart = facts.multipart.clone();
    let rewritten = postprocess::rewrite(tokens, glue(&spec), facts);
    lap(&mut phases.postprocess);
    let (mut file, operations) = rewritten.map_err(by_method)?;
    // Each name is given way for once: a rename that does not remove the
    // duplicate (or a name no component has) leaves the output as it is.
    if let Some(name) = postprocess::defined_twice(&mut file)
        .into_iter()
        .find(|n| !renamed.contains(n))
    {
        return Err((
            fallback::Fault::TypeName(name.clone()),
            format!("the type {name} is defined twice"),
        ));
    }
    let readable = postprocess::readable_models(&mut file);
    let models = count_models(&file);
    lap(&mut phases.postprocess);
    let client = render(spec_file, notes, skipped, &prettyplease::unparse(&file));
    lap(&mut phases.format);

    let mock_tokens = no_panic(|| {
        Generator::new(&settings(crate_name))
            .httpmock(&spec, "super::super")
            .map_err(|e| e.to_string())
    })
    .map_err(located);
    lap(&mut phases.generate);
    let mock_tokens = mock_tokens?;
    let mut mock_file: syn::File = syn::parse2(mock_tokens)
        .map_err(|e| located(format!("progenitor's mock output does not parse: {e}")))?;
    postprocess::rewrite_mock(&mut mock_file, forms, multipart).map_err(located)?;
    mock_file.items.push(postprocess::models_module(&readable));
    lap(&mut phases.postprocess);
    let mock = render(spec_file, &[], &[], &prettyplease::unparse(&mock_file));
    lap(&mut phases.format);

    Ok(Output {
        stats: Stats {
            operations,
            models,
            client_lines: client.lines().count(),
            mock_lines: mock.lines().count(),
            phases: *phases,
        },
        client,
        mock,
        notes: notes.to_vec(),
        skipped: skipped.to_vec(),
    })
}

/// The strings of a JSON list (a marker's value); nothing for another value.
fn strings(value: &serde_json::Value) -> Vec<String> {
    let items = value.as_array().into_iter().flatten();
    items
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}
