//! `cargo xtask new-provider`: scaffold and generate a provider crate.

use super::*;

/// A spec of our own for a new provider that brings none: one list
/// operation, to be replaced by the provider's.
pub(crate) const TEMPLATE_SPEC: &str = r#"openapi: 3.0.3
info:
  title: NAME keys
  version: '1'
  description: Describe the API in your own words; every description becomes a doc comment.
servers:
  - url: https://api.example.invalid
security:
  - token: []
paths:
  /keys:
    get:
      operationId: listKeys
      summary: List the API keys.
      responses:
        '200':
          description: Every key.
          content:
            application/json:
              schema:
                type: array
                items:
                  $ref: '#/components/schemas/Key'
components:
  securitySchemes:
    token:
      type: http
      scheme: bearer
  schemas:
    Key:
      type: object
      description: One API key.
      required: [id]
      properties:
        id:
          type: string
          description: The key's id.
"#;

/// `cargo xtask new-provider <name> [--spec FILE]`: scaffolds a provider
/// crate — spec, manifest, build script, lib.rs, README, a smoke test —
/// and generates it, so that adding a provider touches no hand-kept list
/// (the workspace, xtask and CI find crates by their `generated/` folder).
pub(crate) fn new_provider(root: &Path, args: &[String]) -> Result<(), String> {
    let name = args
        .first()
        .filter(|n| {
            !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        .ok_or(
            "usage: cargo xtask new-provider <name: lowercase letters, digits, -> [--spec FILE]",
        )?;
    let crate_dir = root.join("crates").join(name);
    if crate_dir.exists() || apikeys_codegen::spec_path(root, name).is_some() {
        return Err(format!("crates/{name} or openapi/{name}.* exists already"));
    }
    let (spec, ext) = match args.iter().position(|a| a == "--spec") {
        Some(i) => {
            let file = args.get(i + 1).ok_or("--spec needs a file")?;
            let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
            // Kept in the format it is written in: a JSON spec saved as
            // `.yaml` would be read as YAML, which not all JSON is.
            let ext = match Path::new(file).extension().and_then(|e| e.to_str()) {
                Some("json") => "json",
                Some("yml") => "yml",
                _ => "yaml",
            };
            (text, ext)
        }
        None => (TEMPLATE_SPEC.replace("NAME", name), "yaml"),
    };
    let ident = name.replace('-', "_");
    let files = [
        (format!("openapi/{name}.{ext}"), spec),
        (
            format!("crates/{name}/Cargo.toml"),
            format!(
                r#"[package]
name = "apikeys-{name}"
description = "Async Rust client for the {name} API key management API."
version.workspace = true
edition.workspace = true
rust-version.workspace = true
license.workspace = true
repository.workspace = true
readme = "README.md"
keywords = ["api-keys", "openapi", "client"]
categories = ["api-bindings", "web-programming::http-client"]

[features]
default = ["rustls"]
## Generate the client from its spec at build time (see apikeys-build).
codegen = ["apikeys-build/codegen"]
## TLS through rustls (the default).
rustls = ["apikeys-runtime/rustls"]
## TLS through the platform's native library.
native-tls = ["apikeys-runtime/native-tls"]
## Typed httpmock helpers (`mock::MockServerExt`).
mock = ["dep:httpmock", "dep:regex", "schemars"]
## `schemars::JsonSchema` for every generated type.
schemars = ["dep:schemars", "apikeys-runtime/schemars"]
## HTTP/2, negotiated through ALPN.
http2 = ["apikeys-runtime/http2"]
## Text answers decoded by their declared charset instead of as UTF-8.
charset = ["apikeys-runtime/charset"]
## Brotli (`br`) asked for and decoded beside gzip and deflate.
brotli = ["apikeys-runtime/brotli"]
## `format: uuid` in the spec (`cargo xtask generate` keeps it in
## `default` exactly when the spec uses it).
uuid = ["apikeys-runtime/uuid"]
## `pattern` in the spec (kept in `default` the same way).
regress = ["apikeys-runtime/regress"]

[dependencies]
apikeys-runtime.workspace = true
progenitor-client.workspace = true
reqwest.workspace = true
serde.workspace = true
serde_json.workspace = true
schemars = {{ workspace = true, optional = true }}
httpmock = {{ workspace = true, optional = true }}
regex = {{ workspace = true, optional = true }}

[build-dependencies]
apikeys-build.workspace = true

[dev-dependencies]
tokio = {{ workspace = true, features = ["rt-multi-thread", "macros"] }}

[package.metadata.docs.rs]
all-features = true
rustdoc-args = ["--cfg", "docsrs"]
"#
            ),
        ),
        (
            format!("crates/{name}/build.rs"),
            format!("fn main() {{\n    apikeys_build::run(\"{name}\");\n}}\n"),
        ),
        (
            format!("crates/{name}/src/lib.rs"),
            format!(
                r#"#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The generated code may name hand-written types of this crate by its own
// name (the spec's `x-rust-type`).
extern crate self as apikeys_{ident};

apikeys_runtime::include_generated!();

pub use apikeys_runtime::{{
    AuthError, AuthorizationHeader, BuildError, ClientBuilder, Error, ErrorKind, ResponseValue,
    RetryPolicy, Secret, Timeouts,
}};
"#
            ),
        ),
        (
            format!("crates/{name}/README.md"),
            format!(
                r#"# apikeys-{name}

An async Rust client for the {name} API, generated from
`openapi/{name}.yaml`. Describe what it manages, how to authenticate, and
what the service answers beside its spec.

## Install

```toml
[dependencies]
apikeys-{name} = "0.1"
tokio = {{ version = "1", features = ["macros", "rt-multi-thread"] }}
```

## Example

```rust,no_run
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {{
    let token = apikeys_{ident}::Secret::new(std::env::var("API_TOKEN")?);
    let client = apikeys_{ident}::Client::builder()
        .auth(apikeys_{ident}::AuthorizationHeader::bearer(&token)?)
        .build()?;
    println!("{{}}", client.base_url());
    Ok(())
}}
```
"#
            ),
        ),
        (
            format!("crates/{name}/tests/smoke.rs"),
            format!(
                r#"//! The generated client builds, and refuses to run without credentials
//! when its spec asks for them.

#[test]
fn a_client_builds_with_credentials() {{
    let auth = apikeys_{ident}::AuthorizationHeader::bearer(&"t0ken".into()).unwrap();
    let client = apikeys_{ident}::Client::builder()
        .base_url("http://127.0.0.1:9")
        .auth(auth)
        .build();
    assert!(client.is_ok());
}}
"#
            ),
        ),
    ];
    let listed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write_files(root, &listed)?;
    for (path, _) in &listed {
        println!("wrote {path}");
    }
    generate(root)?;
    // The new crate's entry in Cargo.lock, so that --locked builds work.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["update", "--workspace", "--quiet"])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo update: {e}"))?;
    if !status.success() {
        return Err("cargo update --workspace failed".into());
    }
    println!(
        "apikeys-{name} is ready: write its README, tests against loopback servers, and the hand-written auth it needs"
    );
    Ok(())
}
