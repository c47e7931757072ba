//! Answers: one JSON body type per outcome, the way progenitor reads an
//! operation's answers.

use serde_json::{Map, Value, json};

use super::{
    Context, Problem, Row, Rule, add_components, escape, for_each_operation, is_json, resolve,
};

/// The operation extension that marks an operation whose success value is
/// optional (it has success statuses with and without a body).
pub const OPTIONAL_SUCCESS: &str = "x-apikeys-optional-success";

/// The operation extension that lists the media types other than JSON a
/// success of the operation offers beside JSON: the client gets a second
/// method (`{operation}_as`) that asks for one of them and returns the
/// body as bytes.
pub const OTHER_MEDIA: &str = "x-apikeys-other-media";

#[derive(PartialEq)]
enum Class {
    Success,
    Error,
}

fn class(status: &str) -> Class {
    if status.starts_with('2') || status == "default" {
        Class::Success
    } else {
        Class::Error
    }
}

/// The JSON body schema of an answer, once [`JSON_ANSWERS`] ran.
fn schema_of(response: &Value) -> Option<Value> {
    response
        .pointer("/content/application~1json/schema")
        .cloned()
}

/// Calls `f` with every operation's id and answers.
fn each_responses(doc: &mut Value, f: &mut dyn FnMut(&str, &mut Map<String, Value>)) {
    for_each_operation(doc, &mut |operation, _| {
        let id = operation.id();
        if let Some(Value::Object(responses)) = operation.op.get_mut("responses") {
            f(&id, responses);
        }
    });
}

pub(super) const JSON_ANSWERS: Rule = Rule {
    name: "json-answers",
    module: module_path!(),
    apply: json_answers,
    rows: &[
        Row {
            construct: "response JSON spelt `text/json` or `…+json`",
            action: "normalized: read as JSON",
        },
        Row {
            construct: "JSON response without a schema",
            action: "any JSON value (`serde_json::Value`)",
        },
        Row {
            construct: "an `encoding` beside a JSON answer (it describes the parts of a form; progenitor refused the whole operation)",
            action: "ignored, noted",
        },
        Row {
            construct: "a media type whose parameters follow a comma (`application/json, v=1`)",
            action: "read as the type before it",
        },
        Row {
            construct: "a success offered as JSON and in other media types (XML, CSV, YAML, bytes)",
            action: "the method reads the JSON form; a second method, `{operation}_as(…, accept)`, asks for one of the others (refusing, before sending, a type the spec does not offer) and returns the body as bytes",
        },
    ],
    snapshots: &[
        "normalize-json-spelt-otherwise",
        "normalize-json-answer-without-schema",
        "normalize-success-in-other-media",
    ],
};

/// Inlines referenced answers (so that each can be rewritten on its own)
/// and makes each one's JSON body, whatever it is spelt, the
/// `application/json` one. The other media types a success offers beside
/// JSON are listed on the operation ([`OTHER_MEDIA`]), for the method that
/// asks for them; an error's other bodies are kept raw in the error.
fn json_answers(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let components = doc.get("components").cloned().unwrap_or(json!({}));
    for_each_operation(doc, &mut |operation, _| {
        let op_id = operation.id();
        let Some(Value::Object(responses)) = operation.op.get_mut("responses") else {
            return;
        };
        let mut others: Vec<String> = Vec::new();
        for (status, response) in responses.iter_mut() {
            *response = resolve(response, &components).clone();
            let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else {
                continue;
            };
            let json_key = content
                .keys()
                .find(|k| k.as_str() == "application/json")
                .or_else(|| content.keys().find(|k| is_json(k)))
                .cloned();
            let Some(key) = json_key else { continue };
            let mut media = content.remove(&key).unwrap_or_else(|| json!({}));
            if media.get("schema").is_none() {
                media["schema"] = json!({});
            }
            // An `encoding` describes the parts of a form body: it means
            // nothing beside a JSON answer (progenitor asserted none).
            if media
                .as_object_mut()
                .and_then(|m| m.remove("encoding"))
                .is_some()
            {
                context.notes.push(format!(
                    "{op_id}: the {status} answer's `encoding`, which only form bodies have, is ignored"
                ));
            }
            if key != "application/json" {
                context.notes.push(format!(
                    "{op_id}: the {status} body, declared as {key}, is read as JSON"
                ));
            }
            let rest: Vec<String> = content.keys().filter(|k| !is_json(k)).cloned().collect();
            if !rest.is_empty() && class(status) == Class::Success {
                context.notes.push(format!(
                    "{op_id}: the {status} answer is typed by its JSON body; its other bodies ({}) come as bytes from the method ending in `_as`",
                    rest.join(", ")
                ));
                for media in rest {
                    if !others.contains(&media) {
                        others.push(media);
                    }
                }
            } else if !content.is_empty() {
                context.notes.push(format!(
                    "{op_id}: the {status} answer is typed by its JSON body; other bodies ({}) are kept raw in the error",
                    content.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
            content.clear();
            content.insert("application/json".into(), media);
        }
        if !others.is_empty() {
            operation.op.insert(OTHER_MEDIA.into(), json!(others));
        }
    });
    Ok(())
}

pub(super) const DEFAULT_BESIDE_STATUSES: Rule = Rule {
    name: "default-beside-statuses",
    module: module_path!(),
    apply: default_beside_statuses,
    rows: &[Row {
        construct: "`default` beside explicit statuses",
        action: "normalized: `default` stands for `4XX` and `5XX`",
    }],
    snapshots: &["normalize-default-beside-statuses"],
};

fn default_beside_statuses(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    each_responses(doc, &mut |op_id, responses| {
        let explicit = responses.keys().any(|k| k != "default");
        if explicit && responses.contains_key("default") {
            let default = responses.remove("default").unwrap_or_default();
            for range in ["4XX", "5XX"] {
                responses.entry(range).or_insert_with(|| default.clone());
            }
            context.notes.push(format!(
                "{op_id}: the `default` answer stands for 4XX and 5XX (beside explicit statuses)"
            ));
        }
    });
    Ok(())
}

pub(super) const UNTYPED_ERRORS: Rule = Rule {
    name: "untyped-errors",
    module: module_path!(),
    apply: untyped_errors,
    rows: &[Row {
        construct: "error answers with a non-JSON body (`*/*`), or without a body beside typed ones",
        action: "undeclared statuses (status, headers and raw body kept)",
    }],
    snapshots: &["normalize-different-error-bodies", "lenient-download"],
};

/// Error answers without a JSON body are left undeclared when typed ones
/// exist (progenitor would need one type for all); a non-JSON error body
/// (`*/*`) would be typed as a byte stream, which an error cannot hold:
/// undeclared too, typed errors or not.
fn untyped_errors(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    each_responses(doc, &mut |op_id, responses| {
        let untyped: Vec<String> = responses
            .iter()
            .filter(|(k, r)| class(k) == Class::Error && schema_of(r).is_none())
            .map(|(k, _)| k.clone())
            .collect();
        let typed = responses
            .iter()
            .filter(|(k, r)| class(k) == Class::Error && schema_of(r).is_some())
            .count();
        let streams = untyped.iter().any(|k| {
            responses[k]
                .get("content")
                .and_then(Value::as_object)
                .is_some_and(|c| !c.is_empty())
        });
        if !untyped.is_empty() && (typed > 0 || streams) {
            responses.retain(|k, _| !untyped.contains(k));
            context.notes.push(format!(
                "{op_id}: error statuses without a JSON body ({}) are read as undeclared statuses",
                untyped.join(", ")
            ));
        }
    });
    Ok(())
}

pub(super) const OPTIONAL_SUCCESS_VALUE: Rule = Rule {
    name: "optional-success",
    module: module_path!(),
    apply: optional_success,
    rows: &[Row {
        construct: "success statuses with and without a body (200 + 202/203/204)",
        action: "normalized: the success value is `Option<T>`",
    }],
    snapshots: &["normalize-success-with-and-without-body"],
};

/// Any 2xx is a success and an empty body is read by the runtime: the
/// bodiless success statuses beside typed ones need no arm of their own,
/// and the success value becomes optional (`None` for an answer without a
/// body).
fn optional_success(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    for_each_operation(doc, &mut |operation, _| {
        let op_id = operation.id();
        let Some(Value::Object(responses)) = operation.op.get_mut("responses") else {
            return;
        };
        let typed = responses
            .iter()
            .filter(|(k, r)| class(k) == Class::Success && schema_of(r).is_some())
            .count();
        let untyped: Vec<String> = responses
            .iter()
            .filter(|(k, r)| class(k) == Class::Success && schema_of(r).is_none())
            .map(|(k, _)| k.clone())
            .collect();
        if typed == 0 || untyped.is_empty() {
            return;
        }
        responses.retain(|k, _| !untyped.contains(k));
        context.notes.push(format!(
            "{op_id}: success answers without a body ({}) beside typed ones: the success value is optional (None when an answer has no body)",
            untyped.join(", ")
        ));
        operation
            .op
            .insert(OPTIONAL_SUCCESS.into(), Value::Bool(true));
    });
    Ok(())
}

pub(super) const BODILESS_BESIDE_DOWNLOAD: Rule = Rule {
    name: "bodiless-beside-download",
    module: module_path!(),
    apply: bodiless_beside_download,
    rows: &[Row {
        construct: "a download (a success with a non-JSON body) beside bodiless successes (`200` bytes, `202` retry later)",
        action: "normalized: one success, the download; a bodiless answer reads as an empty body, its status and headers kept on the `ResponseValue`",
    }],
    snapshots: &["lenient-download"],
};

/// progenitor takes one type per outcome: a download (a byte stream) and
/// bodiless successes beside it would be two. Any 2xx is a success and an
/// empty body reads as an empty stream, so the bodiless statuses need no
/// arm of their own; the caller still sees which status came.
fn bodiless_beside_download(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    each_responses(doc, &mut |op_id, responses| {
        let has_content = |r: &Value| {
            r.get("content")
                .and_then(Value::as_object)
                .is_some_and(|c| !c.is_empty())
        };
        let successes: Vec<&String> = responses
            .keys()
            .filter(|k| class(k) == Class::Success)
            .collect();
        let downloads = successes
            .iter()
            .filter(|k| has_content(&responses[**k]) && schema_of(&responses[**k]).is_none())
            .count();
        let bodiless: Vec<String> = successes
            .iter()
            .filter(|k| !has_content(&responses[**k]))
            .map(|k| (*k).clone())
            .collect();
        if downloads != 1 || bodiless.is_empty() || downloads + bodiless.len() != successes.len() {
            return;
        }
        responses.retain(|k, _| !bodiless.contains(k));
        context.notes.push(format!(
            "{op_id}: success answers without a body ({}) beside a download read as an empty body (the status and headers are kept)",
            bodiless.join(", ")
        ));
    });
    Ok(())
}

pub(super) const UNIONS: Rule = Rule {
    name: "unions",
    module: module_path!(),
    apply: unions,
    rows: &[
        Row {
            construct: "error statuses with different bodies",
            action: "normalized: one `oneOf` type per operation (named after the schemas, shared)",
        },
        Row {
            construct: "success statuses with different bodies",
            action: "normalized: one `oneOf` type",
        },
        Row {
            construct: "a union of many named bodies (OpenMeter's seven `…ProblemResponse`s made a name of 190 characters)",
            action: "normalized: named by the words its members' names end with (`AnyProblemResponse`), or `{First}Or{N}Others`",
        },
        Row {
            construct: "a union the rules make (`{Op}Response`, `AOrB`) whose name a component or another union has",
            action: "normalized: the union gets a number; the same union for two operations is shared",
        },
    ],
    snapshots: &[
        "normalize-different-error-bodies",
        "normalize-different-success-bodies",
        "normalize-type-names-that-collide",
    ],
};

/// Success (and error) answers with different bodies: progenitor takes one
/// type per outcome, so the bodies are joined in one `oneOf`.
fn unions(doc: &mut Value, context: &mut Context) -> Result<(), Problem> {
    let mut new_schemas = Map::new();
    let Context { names, notes, .. } = context;
    each_responses(doc, &mut |op_id, responses| {
        for (which, suffix) in [(Class::Success, "Response"), (Class::Error, "Error")] {
            let mut distinct: Vec<Value> = Vec::new();
            for (k, r) in responses.iter() {
                if class(k) == which
                    && let Some(s) = schema_of(r)
                    && !distinct.contains(&s)
                {
                    distinct.push(s);
                }
            }
            if distinct.len() <= 1 {
                continue;
            }
            // A union of named schemas is named after them, so that
            // operations with the same bodies share one type; otherwise
            // after the operation.
            let named: Option<Vec<String>> =
                distinct.iter().map(crate::pointer::schema_ref).collect();
            let description = match &named {
                Some(named) => format!(
                    "One of several bodies an operation may answer with: {}.",
                    named
                        .iter()
                        .map(|n| format!("`{}`", crate::names::pascal(n)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => "One of several bodies an operation may answer with.".to_owned(),
            };
            let wanted = match named {
                Some(named) => union_name(&named),
                None => format!("{}{suffix}", upper_first(op_id)),
            };
            // The same union made for another operation is shared; any
            // other type of that name (a component, another union) keeps
            // its name and this union gets a free one.
            let same = Value::Array(distinct.clone());
            let mut name = wanted.clone();
            for n in 2.. {
                if new_schemas.get(&name).and_then(|u| u.get("oneOf")) == Some(&same) {
                    break;
                }
                if !names.is_taken(&name) {
                    names.claim(&name);
                    break;
                }
                name = format!("{wanted}{n}");
            }
            let reference = json!({ "$ref": format!("#/components/schemas/{}", escape(&name)) });
            new_schemas.entry(name.clone()).or_insert_with(|| {
                json!({
                    "description": description,
                    "oneOf": distinct.clone(),
                })
            });
            for (k, r) in responses.iter_mut() {
                if class(k) == which && schema_of(r).is_some() {
                    r["content"]["application/json"]["schema"] = reference.clone();
                }
            }
            notes.push(format!(
                "{op_id}: {} body types are joined in one type, {name}",
                distinct.len()
            ));
        }
    });
    add_components(doc, new_schemas)
}

/// The name of a union of the components `named`: `AOrB` while that stays
/// short; else the words every member's name ends with, after `Any`
/// (`AnyProblemResponse` for `BadRequestProblemResponse`,
/// `ForbiddenProblemResponse`, …), or `{First}Or{N}Others`.
fn union_name(named: &[String]) -> String {
    let joined = named.join("Or");
    if named.len() <= 2 || joined.len() <= 64 {
        return joined;
    }
    let words = |name: &str| -> Vec<String> {
        let pascal = crate::names::pascal(name);
        let mut words: Vec<String> = Vec::new();
        for c in pascal.chars() {
            match words.last_mut() {
                Some(word) if !c.is_uppercase() => word.push(c),
                _ => words.push(c.to_string()),
            }
        }
        words
    };
    let all: Vec<Vec<String>> = named.iter().map(|n| words(n)).collect();
    let shortest = all.iter().map(Vec::len).min().unwrap_or(0);
    let common = (1..=shortest)
        .take_while(|&k| {
            let word = &all[0][all[0].len() - k];
            all.iter().all(|w| &w[w.len() - k] == word)
        })
        .last()
        .unwrap_or(0);
    // A suffix that is a whole member's name says nothing of the others.
    if common > 0 && common < shortest {
        let suffix: String = all[0][all[0].len() - common..].concat();
        return format!("Any{suffix}");
    }
    format!(
        "{}Or{}Others",
        crate::names::pascal(&named[0]),
        named.len() - 1
    )
}

fn upper_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::union_name;

    fn named(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn a_union_of_many_is_named_by_what_its_members_share() {
        assert_eq!(union_name(&named(&["A", "B", "C"])), "AOrBOrC");
        let problems = named(&[
            "BadRequestProblemResponse",
            "UnauthorizedProblemResponse",
            "ForbiddenProblemResponse",
            "InternalServerErrorProblemResponse",
        ]);
        assert_eq!(union_name(&problems), "AnyProblemResponse");
        let unrelated = named(&[
            "ErrorMessageWithDetails",
            "SecurityFreezeErrorMessage",
            "ValidationFailureReport",
        ]);
        assert_eq!(union_name(&unrelated), "ErrorMessageWithDetailsOr2Others");
        // One member's whole name is not what the others share.
        let nested = named(&[
            "Problem",
            "ResourceNotFoundProblem",
            "ConflictingResourceStateProblem",
        ]);
        assert_eq!(union_name(&nested), "ProblemOr2Others");
        for names in [problems, unrelated, nested] {
            assert!(union_name(&names).len() <= 64);
        }
    }
}
