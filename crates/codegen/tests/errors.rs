//! A spec the codegen cannot handle gives one clear error naming the file
//! and the operation or JSON pointer, never a panic.

use std::path::PathBuf;

fn spec(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("apikeys-codegen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const HEAD: &str = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\n";

#[test]
fn a_panic_inside_the_generator_costs_the_part_at_fault_not_the_operation() {
    // A `not` the generator cannot type, as a request body and as a
    // query parameter: typify panics on each.
    let path = spec(
        "bad-part.yaml",
        &format!(
            "{HEAD}paths:\n  /things/{{id}}:\n    put:\n      operationId: putThing\n      parameters:\n        - {{name: id, in: path, required: true, schema: {{type: string}}}}\n        - {{name: mark, in: query, schema: {{not: {{type: integer}}}}}}\n      requestBody:\n        content:\n          application/json: {{schema: {{description: Anything but a number., not: {{type: integer}}}}}}\n      responses:\n        '204': {{description: ok}}\n  /fine:\n    get:\n      operationId: fine\n      responses:\n        '204': {{description: ok}}\n"
        ),
    );
    let out = apikeys_codegen::generate(&path).unwrap();
    assert_eq!(out.stats.operations, 2);
    assert!(out.skipped.is_empty(), "{:?}", out.skipped);
    let at = "/paths/~1things~1{id}/put";
    for (part, what) in [
        ("/parameters/1/schema", "is a string the caller writes"),
        (
            "/requestBody/content/application~1json/schema",
            "is read as any JSON value",
        ),
    ] {
        let note = format!("{at}{part} {what}");
        assert!(
            out.notes.iter().any(|n| n.starts_with(&note)),
            "{note}: {:?}",
            out.notes
        );
    }
    assert!(out.client.contains("pub async fn put_thing"));
    assert!(
        out.client.contains("mark: Option<&'a str>"),
        "the query is a string"
    );
    assert!(
        out.client.contains("body: &'a ::serde_json::Value"),
        "the body any JSON"
    );
    assert!(out.client.contains("pub async fn fine"));
}

#[test]
fn only_a_document_that_is_not_openapi_is_refused() {
    // An operation that is not OpenAPI is skipped; a document whose `info`
    // is not OpenAPI is refused, naming the pointer.
    let path = spec(
        "bad-operation.yaml",
        &format!(
            "{HEAD}paths:\n  /x:\n    get:\n      operationId: x\n      parameters: 12\n      responses: {{}}\n"
        ),
    );
    let out = apikeys_codegen::generate(&path).unwrap();
    assert_eq!(out.skipped[0].operation, "x", "{:?}", out.skipped);
    let path = spec("not-openapi.yaml", "openapi: 3.0.3\ninfo: 12\npaths: {}\n");
    let err = apikeys_codegen::generate(&path).unwrap_err();
    assert!(err.to_string().contains("not-openapi.yaml"), "{err}");
    assert!(err.message.contains("info"), "{err:?}");
}

#[test]
fn broken_yaml_is_refused_and_missing_operation_ids_are_made() {
    let broken = spec("broken.yaml", "openapi: [3.0.3\n");
    let err = apikeys_codegen::generate(&broken).unwrap_err();
    assert!(
        err.to_string().starts_with(&broken.display().to_string()),
        "{err}"
    );

    let no_id = spec(
        "no-id.yaml",
        &format!(
            "{HEAD}paths:\n  /x/{{id}}:\n    get:\n      parameters:\n        - {{name: id, in: path, required: true, schema: {{type: string}}}}\n      responses:\n        '200': {{description: ok}}\n"
        ),
    );
    let out = apikeys_codegen::generate(&no_id).unwrap();
    assert!(
        out.client.contains("pub async fn get_x_by_id"),
        "made from method and path"
    );
    assert!(
        out.notes.iter().any(|n| n.contains("operationId")),
        "{:?}",
        out.notes
    );
}

#[test]
fn every_spec_in_the_workspace_generates() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let specs = apikeys_codegen::specs_in(&root.join("openapi")).unwrap();
    assert!(specs.len() >= 4);
    for s in specs {
        let out = apikeys_codegen::generate(&s.path).unwrap();
        assert!(
            out.stats.operations > 0 && out.stats.models > 0,
            "{}",
            s.name
        );
        assert!(out.client.starts_with(apikeys_codegen::HEADER));
        assert!(!out.client.contains("\"api-version\""), "{}", s.name);
    }
}

#[test]
fn a_dangling_reference_names_the_file_and_where_it_is() {
    let path = spec(
        "dangling.yaml",
        &format!(
            "{HEAD}paths:\n  /x:\n    get:\n      operationId: getX\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {{$ref: '#/components/schemas/Missing'}}\ncomponents:\n  schemas: {{}}\n"
        ),
    );
    let err = apikeys_codegen::generate(&path).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("dangling.yaml"), "{text}");
    assert!(text.contains("#/components/schemas/Missing"), "{text}");
    assert!(
        err.location.contains("/paths/~1x/get/responses/200"),
        "{err:?}"
    );
}

/// Schemas the generator cannot type, among many operations: each is read
/// as any JSON value, with a note naming it; the operations stay.
#[test]
fn a_schema_the_generator_cannot_type_becomes_a_json_value() {
    let mut text = format!("{HEAD}paths:\n");
    for i in 0..40 {
        text.push_str(&format!(
            "  /things{i}:\n    get:\n      operationId: getThing{i}\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {{$ref: '#/components/schemas/Good'}}\n"
        ));
    }
    text.push_str("components:\n  schemas:\n    Good: {type: object, properties: {a: {type: string}, odd: {$ref: '#/components/schemas/Odd'}, mixed: {$ref: '#/components/schemas/Mixed'}}}\n    Odd: {description: Anything but text., not: {type: string}}\n    Mixed: {type: string, enum: [a, 1, true]}\n");
    let path = spec("untypeable.yaml", &text);
    let out = apikeys_codegen::generate(&path).unwrap();
    assert_eq!(out.stats.operations, 40);
    assert!(
        out.notes
            .iter()
            .any(|n| n.starts_with("component `Odd` is read as any JSON value")),
        "{:?}",
        out.notes
    );
    // `Good` uses `Odd`: only the component at fault gives way, not those
    // that use it.
    assert!(
        !out.notes.iter().any(|n| n.starts_with("component `Good`")),
        "{:?}",
        out.notes
    );
    assert!(out.client.contains("pub struct Good"));
    // An enum of mixed types is no longer a fallback: a rule makes it the
    // plain type it declares, its values in the docs.
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("values of another type")),
        "{:?}",
        out.notes
    );
    assert!(out.client.contains("One of: a, 1, true."));
    assert!(
        out.client.contains("Anything but text."),
        "the description is kept"
    );
}

#[test]
fn the_part_at_fault_is_found_by_halving_not_one_run_per_operation() {
    // One operation among 64 has a query parameter the generator cannot
    // type.
    let mut text = format!("{HEAD}paths:\n");
    for i in 0..64 {
        let params = if i == 41 {
            "      parameters:\n        - {name: mark, in: query, schema: {not: {type: integer}}}\n"
        } else {
            ""
        };
        text.push_str(&format!(
            "  /things{i}:\n    get:\n      operationId: getThing{i}\n{params}      responses:\n        '204': {{description: ok}}\n"
        ));
    }
    let path = spec("one-bad-of-many.yaml", &text);
    let started = std::time::Instant::now();
    let out = apikeys_codegen::generate(&path).unwrap();
    assert_eq!(out.stats.operations, 64);
    assert!(out.skipped.is_empty(), "{:?}", out.skipped);
    let note = "/paths/~1things41/get/parameters/0/schema is a string the caller writes";
    assert!(
        out.notes.iter().any(|n| n.starts_with(note)),
        "{:?}",
        out.notes
    );
    eprintln!("located in {:?}", started.elapsed());
}

/// Only the part the generator cannot type gives way: a property of a
/// component (found by halving its properties), or a part the document's
/// parser refuses (found from its path); the rest keeps its types.
#[test]
fn only_the_part_at_fault_becomes_a_json_value() {
    let mut text = format!("{HEAD}paths:\n");
    text.push_str("  /things:\n    get:\n      operationId: getThing\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Thing'}\n");
    text.push_str("components:\n  schemas:\n    Thing:\n      type: object\n      properties:\n");
    for i in 0..9 {
        text.push_str(&format!("        plain{i}: {{type: string}}\n"));
    }
    // A `not` the generator cannot type, and list items in a form no
    // OpenAPI parser reads (a list of schemas).
    text.push_str("        odd: {description: Anything but a number., not: {type: integer}}\n");
    text.push_str("        tuple: {type: array, items: [{type: string}]}\n");
    let path = spec("one-odd-property.yaml", &text);
    let out = apikeys_codegen::generate(&path).unwrap();
    assert_eq!(out.stats.operations, 1);
    for part in ["properties/odd", "properties/tuple"] {
        let note = format!("/components/schemas/Thing/{part} is read as any JSON value");
        assert!(
            out.notes.iter().any(|n| n.starts_with(&note)),
            "{note}: {:?}",
            out.notes
        );
    }
    assert!(
        out.client.contains("pub struct Thing"),
        "Thing keeps its type"
    );
    assert!(
        out.client
            .contains("pub plain8: ::std::option::Option<::std::string::String>")
    );
    assert!(
        out.client
            .contains("pub odd: ::std::option::Option<::serde_json::Value>")
    );
    assert!(
        out.client
            .contains("pub tuple: ::std::option::Option<::serde_json::Value>")
    );
    assert!(
        out.client.contains("Anything but a number."),
        "the description is kept"
    );
}
