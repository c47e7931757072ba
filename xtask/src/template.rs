//! The one template of a provider crate: what `cargo xtask new-provider`
//! writes for a user, and what `cargo xtask corpus` builds each published
//! spec's client as. Both call [`provider_crate`], so that the corpus checks
//! exactly what a user's crate compiles with: its manifest and features,
//! `#![warn(missing_docs)]`, and the allowances `include_generated!` makes
//! on generated code (clippy's style groups; nothing else).

/// The files of a provider crate named `apikeys-<name>`, as paths relative
/// to the crate's folder and their text. The spec and the generated code
/// are not among them.
pub(crate) fn provider_crate(name: &str) -> Vec<(String, String)> {
    let ident = name.replace('-', "_");
    vec![
        (
            "Cargo.toml".to_owned(),
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
## A `multipart/form-data` request body in the spec (kept in `default`
## the same way).
multipart = ["apikeys-runtime/multipart"]

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
            "build.rs".to_owned(),
            format!("fn main() {{\n    apikeys_build::run(\"{name}\");\n}}\n"),
        ),
        (
            "src/lib.rs".to_owned(),
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
            "README.md".to_owned(),
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
            "tests/smoke.rs".to_owned(),
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
    ]
}
