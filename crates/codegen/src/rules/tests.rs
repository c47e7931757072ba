//! The pipeline on small documents.
use super::*;

fn doc(responses: Value) -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"post": {
            "operationId": "makeThing",
            "requestBody": {"content": {
                "application/json-patch+json": {"schema": {"type": "object"}},
                "application/json": {"schema": {"type": "object"}},
                "text/json": {"schema": {"type": "object"}}
            }},
            "responses": responses
        }}}
    })
}

#[test]
fn keeps_only_application_json_request_bodies() {
    let mut d = doc(json!({"200": {"description": "ok"}}));
    let notes = normalize(&mut d).unwrap().notes;
    let content = d
        .pointer("/paths/~1x/post/requestBody/content")
        .unwrap()
        .as_object()
        .unwrap();
    assert_eq!(content.keys().collect::<Vec<_>>(), vec!["application/json"]);
    assert!(notes[0].contains("makeThing"), "{notes:?}");
}

#[test]
fn default_beside_typed_statuses_becomes_error_ranges() {
    let body = json!({"content": {"application/json": {"schema": {"type": "string"}}}});
    let mut d = doc(json!({"200": body.clone(), "default": body}));
    normalize(&mut d).unwrap();
    let responses = d.pointer("/paths/~1x/post/responses").unwrap();
    assert!(responses.get("default").is_none());
    assert!(responses.get("4XX").is_some() && responses.get("5XX").is_some());
}

#[test]
fn different_error_bodies_are_joined_in_one_type() {
    let a = json!({"content": {"application/json": {"schema": {"type": "string"}}}});
    let b = json!({"content": {"application/json": {"schema": {"type": "integer"}}}});
    let none = json!({"description": "no body"});
    let mut d = doc(json!({"200": {"description": "ok"}, "400": a, "500": b, "404": none}));
    normalize(&mut d).unwrap();
    let responses = d.pointer("/paths/~1x/post/responses").unwrap();
    assert_eq!(
        responses.pointer("/400/content/application~1json/schema/$ref"),
        Some(&json!("#/components/schemas/MakeThingError"))
    );
    assert!(responses.get("404").is_none());
    assert_eq!(
        d.pointer("/components/schemas/MakeThingError/oneOf")
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn unions_of_named_bodies_are_shared_between_operations() {
    let r = |name: &str| json!({"content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{name}")}}}});
    let op = |id: &str| json!({"operationId": id, "responses": {"200": {"description": "ok"}, "400": r("Bad"), "default": r("Problem")}});
    let mut d = json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"get": op("getA")}, "/b": {"delete": op("deleteB")}},
        "components": {"schemas": {"Bad": {"type": "object"}, "Problem": {"type": "object"}}}
    });
    normalize(&mut d).unwrap();
    let shared = json!("#/components/schemas/BadOrProblem");
    for pointer in ["/paths/~1a/get/responses", "/paths/~1b/delete/responses"] {
        let responses = d.pointer(pointer).unwrap();
        for status in ["400", "4XX", "5XX"] {
            assert_eq!(
                responses.pointer(&format!("/{status}/content/application~1json/schema/$ref")),
                Some(&shared),
                "{pointer} {status}"
            );
        }
    }
    assert!(
        d.pointer("/components/schemas/BadOrProblem/oneOf")
            .is_some()
    );
}

#[test]
fn bodiless_successes_beside_typed_ones_make_the_success_optional() {
    let a = json!({"content": {"application/json": {"schema": {"type": "string"}}}});
    let mut d = doc(json!({"200": a, "204": {"description": "empty"}}));
    let notes = normalize(&mut d).unwrap().notes;
    let op = &d["paths"]["/x"]["post"];
    assert_eq!(op[OPTIONAL_SUCCESS], json!(true));
    assert!(op["responses"].get("204").is_none());
    assert!(op["responses"].get("200").is_some());
    assert!(notes.iter().any(|n| n.contains("204")), "{notes:?}");
}

#[test]
fn nullable_any_of_and_boolean_required_become_30_forms() {
    let mut d = json!({
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {},
        "components": {"schemas": {
            "A": {"type": "object", "required": true, "properties": {
                "b": {"anyOf": [{"$ref": "#/components/schemas/B"}, {"type": "null"}]},
                "c": {"oneOf": [{"type": "string", "maxLength": 3}, {"type": "null"}]}
            }},
            "B": {"type": "string"}
        }}
    });
    let notes = normalize(&mut d).unwrap().notes;
    let a = &d["components"]["schemas"]["A"];
    assert!(a.get("required").is_none());
    assert_eq!(
        a["properties"]["b"],
        json!({"allOf": [{"$ref": "#/components/schemas/B"}], "nullable": true})
    );
    assert_eq!(
        a["properties"]["c"],
        json!({"type": "string", "maxLength": 3, "nullable": true})
    );
    assert!(notes.iter().any(|n| n.contains("required")), "{notes:?}");
}

#[test]
fn swagger_2_is_refused_and_31_is_downgraded() {
    let mut s = json!({"swagger": "2.0"});
    assert_eq!(normalize(&mut s).unwrap_err().pointer, "/swagger");

    let mut d = doc(json!({"200": {"content": {"application/json": {"schema": {
        "type": ["string", "null"], "examples": ["a"]
    }}}}}));
    d["openapi"] = json!("3.1.0");
    normalize(&mut d).unwrap();
    assert_eq!(d["openapi"], json!("3.0.3"));
    let schema = d
        .pointer("/paths/~1x/post/responses/200/content/application~1json/schema")
        .unwrap();
    assert_eq!(
        schema,
        &json!({"type": "string", "nullable": true, "example": "a"})
    );
}
