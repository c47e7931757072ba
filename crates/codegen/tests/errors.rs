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
fn a_panic_inside_progenitor_becomes_an_error_naming_the_operation() {
    // A path parameter the path does not have: progenitor panics on it.
    let path = spec(
        "bad-param.yaml",
        &format!(
            "{HEAD}paths:\n  /things/{{id}}:\n    get:\n      operationId: getThing\n      parameters:\n        - {{name: other, in: path, required: true, schema: {{type: string}}}}\n      responses:\n        '200': {{description: ok}}\n"
        ),
    );
    let err = apikeys_codegen::generate(&path).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("bad-param.yaml"), "{text}");
    assert!(text.contains("getThing"), "{text}");
    assert!(text.contains("/paths/~1things~1{id}/get"), "{text}");
}

#[test]
fn a_document_that_is_not_openapi_names_the_pointer() {
    let path = spec(
        "not-openapi.yaml",
        &format!("{HEAD}paths:\n  /x:\n    get:\n      operationId: x\n      responses: 12\n"),
    );
    let err = apikeys_codegen::generate(&path).unwrap_err();
    assert!(err.to_string().contains("not-openapi.yaml"), "{err}");
    assert!(err.location.contains("paths"), "{err:?}");
}

#[test]
fn broken_yaml_and_missing_operation_ids_are_named() {
    let broken = spec("broken.yaml", "openapi: [3.0.3\n");
    let err = apikeys_codegen::generate(&broken).unwrap_err();
    assert!(
        err.to_string().starts_with(&broken.display().to_string()),
        "{err}"
    );

    let no_id = spec(
        "no-id.yaml",
        &format!(
            "{HEAD}paths:\n  /x:\n    get:\n      responses:\n        '200': {{description: ok}}\n"
        ),
    );
    let err = apikeys_codegen::generate(&no_id).unwrap_err();
    assert_eq!(err.location, "/paths/~1x/get");
    assert!(err.message.contains("operationId"), "{err}");
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

#[test]
fn a_refused_component_is_named_by_its_pointer_among_many_operations() {
    let mut text = format!("{HEAD}paths:\n");
    for i in 0..40 {
        text.push_str(&format!(
            "  /things{i}:\n    get:\n      operationId: getThing{i}\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {{$ref: '#/components/schemas/Good'}}\n"
        ));
    }
    text.push_str("components:\n  schemas:\n    Good: {type: object, properties: {a: {type: string}}}\n    Code: {type: string, pattern: '(unclosed'}\n");
    let path = spec("bad-pattern.yaml", &text);
    let err = apikeys_codegen::generate(&path).unwrap_err();
    assert_eq!(err.location, "/components/schemas/Code", "{err}");
    assert!(err.message.contains("What to do"), "{err}");
}

#[test]
fn a_refused_operation_is_found_by_halving_not_one_run_per_operation() {
    // One operation among 64 has a path parameter its path does not have.
    let mut text = format!("{HEAD}paths:\n");
    for i in 0..64 {
        let (params, tail) = if i == 41 {
            (
                "      parameters:\n        - {name: other, in: path, required: true, schema: {type: string}}\n",
                "/{id}",
            )
        } else {
            ("", "")
        };
        text.push_str(&format!(
            "  /things{i}{tail}:\n    get:\n      operationId: getThing{i}\n{params}      responses:\n        '200': {{description: ok}}\n"
        ));
    }
    let path = spec("one-bad-of-many.yaml", &text);
    let started = std::time::Instant::now();
    let Err(err) = apikeys_codegen::generate(&path) else {
        panic!("the spec generated");
    };
    assert_eq!(
        err.location, "/paths/~1things41~1{id}/get (getThing41)",
        "{err}"
    );
    eprintln!("located in {:?}", started.elapsed());
}
