//! `cargo xtask generate` writes every artifact derived from `openapi/`;
//! `cargo xtask check` regenerates them in memory and fails on any drift.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use apikeys_codegen::{Output, Spec};

mod corpus;

/// Crates under `crates/` that are shared, not generated from a spec.
const SHARED_CRATES: [&str; 5] = ["build", "cli", "codegen", "lifecycle", "runtime"];

/// One committed file and what the specs produce for it now.
struct Artifact {
    path: PathBuf,
    expected: String,
}

/// What regenerating everything produced.
struct Plan {
    artifacts: Vec<Artifact>,
    reports: Vec<(String, Output, f64)>,
    problems: Vec<String>,
    seconds: f64,
}

fn workspace_root() -> PathBuf {
    // `cargo run` (and so `cargo xtask`) sets CARGO_MANIFEST_DIR for the
    // process: the checkout being worked on, even when the binary was built
    // from another checkout sharing the target folder.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Which crate generates which spec, as each crate declares it: the
/// `apikeys_build::run("<spec>")` call in its build script. Spec name →
/// folder under `crates/`.
fn declared_specs(root: &Path) -> std::collections::BTreeMap<String, String> {
    let mut declared = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(root.join("crates"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let Ok(build) = std::fs::read_to_string(entry.path().join("build.rs")) else {
            continue;
        };
        let spec = build
            .split_once("apikeys_build::run(\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(spec, _)| spec.to_owned());
        if let (Some(spec), Some(dir)) = (spec, entry.file_name().to_str()) {
            declared.insert(spec, dir.to_owned());
        }
    }
    declared
}

/// Regenerates every spec under `root/openapi` and pairs specs with crates
/// as the crates declare them.
fn plan(root: &Path) -> Plan {
    let started = Instant::now();
    let mut plan = Plan {
        artifacts: Vec::new(),
        reports: Vec::new(),
        problems: Vec::new(),
        seconds: 0.0,
    };
    let specs = match apikeys_codegen::specs_in(&root.join("openapi")) {
        Ok(specs) => specs,
        Err(e) => {
            plan.problems.push(format!("cannot read openapi/: {e}"));
            return plan;
        }
    };
    let declared = declared_specs(root);
    for Spec { name, path } in &specs {
        let Some(crate_dir) = declared.get(name).map(|dir| root.join("crates").join(dir)) else {
            plan.problems.push(format!(
                "openapi/{} has no crate: a crate's build.rs must call apikeys_build::run(\"{name}\") (`cargo xtask new-provider {name}` writes one)",
                path.file_name().and_then(|f| f.to_str()).unwrap_or_default()
            ));
            continue;
        };
        let one = Instant::now();
        match apikeys_codegen::generate(path) {
            Ok(output) => {
                let dir = crate_dir.join("generated");
                plan.artifacts.push(Artifact {
                    path: dir.join("client.rs"),
                    expected: output.client.clone(),
                });
                plan.artifacts.push(Artifact {
                    path: dir.join("mock.rs"),
                    expected: output.mock.clone(),
                });
                // The spec travels with the crate, so that a packaged crate
                // can regenerate (feature `codegen`) and a build in this
                // workspace can tell that the committed copy is stale.
                let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("yaml");
                plan.artifacts.push(Artifact {
                    path: dir.join(format!("spec.{ext}")),
                    expected: std::fs::read_to_string(path).unwrap_or_default(),
                });
                plan.reports
                    .push((name.clone(), output, one.elapsed().as_secs_f64()));
            }
            Err(e) => plan.problems.push(e.to_string()),
        }
    }
    for (spec, dir) in &declared {
        if !specs.iter().any(|s| &s.name == spec) {
            plan.problems.push(format!(
                "crates/{dir}/build.rs declares the spec {spec}, but openapi/ has no {spec}.yaml"
            ));
        }
    }
    if let Ok(entries) = std::fs::read_dir(root.join("crates")) {
        let mut dirs: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("Cargo.toml").is_file())
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .collect();
        dirs.sort();
        for dir in dirs {
            if !SHARED_CRATES.contains(&dir.as_str()) && !declared.values().any(|d| *d == dir) {
                plan.problems.push(format!(
                    "crates/{dir} declares no spec: its build.rs must call apikeys_build::run(\"<spec>\"), or list it as a shared crate in xtask"
                ));
            }
        }
    }
    plan.seconds = started.elapsed().as_secs_f64();
    plan
}

/// The public surface of a generated client file: `Client`'s public
/// methods with their signatures, and the public types of `types` with
/// their fields and variants. `None` when the file does not parse.
fn api_surface(code: &str) -> Option<std::collections::BTreeSet<String>> {
    use quote::ToTokens;
    use syn::{ImplItem, Item, Visibility};
    let file = syn::parse_file(code).ok()?;
    let public = |v: &Visibility| matches!(v, Visibility::Public(_));
    let mut api = std::collections::BTreeSet::new();
    for item in &file.items {
        match item {
            Item::Impl(imp)
                if imp.trait_.is_none()
                    && imp.self_ty.to_token_stream().to_string() == "Client" =>
            {
                for member in &imp.items {
                    if let ImplItem::Fn(f) = member
                        && public(&f.vis)
                    {
                        let sig = compact(&f.sig.to_token_stream().to_string());
                        api.insert(format!("method Client::{} `{sig}`", f.sig.ident));
                    }
                }
            }
            Item::Mod(m) if m.ident == "types" => {
                for item in m.content.iter().flat_map(|(_, items)| items) {
                    match item {
                        Item::Struct(st) if public(&st.vis) => {
                            api.insert(format!("type types::{}", st.ident));
                            for field in st.fields.iter().filter(|f| public(&f.vis)) {
                                let name = field
                                    .ident
                                    .as_ref()
                                    .map_or("0".to_owned(), ToString::to_string);
                                let ty = compact(&field.ty.to_token_stream().to_string());
                                api.insert(format!("field types::{}::{name} `{ty}`", st.ident));
                            }
                        }
                        Item::Enum(e) if public(&e.vis) => {
                            api.insert(format!("type types::{}", e.ident));
                            for variant in &e.variants {
                                api.insert(format!(
                                    "variant types::{}::{}",
                                    e.ident, variant.ident
                                ));
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Some(api)
}

/// Printed tokens without the spaces the printer puts around punctuation.
fn compact(tokens: &str) -> String {
    let mut text = tokens.to_owned();
    for (from, to) in [
        (" : ", ": "),
        (" :: ", "::"),
        (":: ", "::"),
        (" < ", "<"),
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        ("& '", "&'"),
        ("& ", "&"),
        (" (", "("),
        ("( ", "("),
        (" ,)", ")"),
        (" )", ")"),
        (" ,", ","),
        (",>", ">"),
        // The same crate, reached through the runtime's re-export.
        ("::apikeys_runtime::deps::", "::"),
    ] {
        text = text.replace(from, to);
    }
    text
}

/// What changed in the public API of each client between the committed
/// copy and `plan`: one line per item, removals and changes flagged as
/// breaking (a renamed operationId is a removed method and an added one).
fn api_changes(root: &Path, plan: &Plan) -> Vec<String> {
    let mut lines = Vec::new();
    for artifact in plan
        .artifacts
        .iter()
        .filter(|a| a.path.ends_with("client.rs"))
    {
        let committed = std::fs::read_to_string(&artifact.path).unwrap_or_default();
        let (Some(before), Some(after)) =
            (api_surface(&committed), api_surface(&artifact.expected))
        else {
            continue;
        };
        let shown = relative(root, &artifact.path);
        for gone in before.difference(&after) {
            lines.push(format!("{shown}: BREAKING: removed or changed {gone}"));
        }
        for new in after.difference(&before) {
            lines.push(format!("{shown}: added {new}"));
        }
    }
    lines
}

/// `path` as the workspace names it (`crates/x/generated/client.rs`).
fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Unified diffs between the committed files and `plan`; empty when none drifted.
fn drift(root: &Path, plan: &Plan) -> Vec<String> {
    let mut diffs = Vec::new();
    for artifact in &plan.artifacts {
        let committed = std::fs::read_to_string(&artifact.path).unwrap_or_default();
        if committed != artifact.expected {
            let shown = relative(root, &artifact.path);
            let diff = similar::TextDiff::from_lines(&committed, &artifact.expected)
                .unified_diff()
                .context_radius(3)
                .header(
                    &format!("{shown} (committed)"),
                    &format!("{shown} (from spec)"),
                )
                .to_string();
            diffs.push(diff);
        }
    }
    diffs
}

fn generate(root: &Path) -> Result<(), String> {
    let plan = plan(root);
    if !plan.problems.is_empty() {
        return Err(plan.problems.join("\n"));
    }
    println!(
        "{:<24} {:>10} {:>7} {:>13} {:>11} {:>9}",
        "provider", "operations", "models", "client lines", "mock lines", "time"
    );
    for (name, output, seconds) in &plan.reports {
        let s = output.stats;
        println!(
            "{name:<24} {:>10} {:>7} {:>13} {:>11} {:>7.0}ms",
            s.operations,
            s.models,
            s.client_lines,
            s.mock_lines,
            seconds * 1000.0
        );
        for note in &output.notes {
            println!("    normalized: {note}");
        }
        for skip in &output.skipped {
            println!("    warning: skipped {skip}");
        }
    }
    for line in api_changes(root, &plan) {
        println!("api: {line}");
    }
    let mut written = 0;
    for artifact in &plan.artifacts {
        let current = std::fs::read_to_string(&artifact.path).unwrap_or_default();
        if current == artifact.expected {
            continue;
        }
        if let Some(dir) = artifact.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(&artifact.path, &artifact.expected)
            .map_err(|e| format!("{}: {e}", artifact.path.display()))?;
        written += 1;
    }
    println!(
        "regenerated {} specs in {:.0} ms; {written} file(s) changed",
        plan.reports.len(),
        plan.seconds * 1000.0
    );
    Ok(())
}

fn check(root: &Path) -> Result<(), String> {
    let plan = plan(root);
    let diffs = drift(root, &plan);
    if plan.problems.is_empty() && diffs.is_empty() {
        println!(
            "{} specs regenerated in {:.0} ms: no drift",
            plan.reports.len(),
            plan.seconds * 1000.0
        );
        return Ok(());
    }
    let mut report = plan.problems.join("\n");
    for line in api_changes(root, &plan) {
        report.push_str(&format!("\napi: {line}"));
    }
    for diff in &diffs {
        report.push('\n');
        report.push_str(diff);
    }
    if plan.problems.is_empty() {
        report.push_str("\nthe committed generated code does not match the specs: run `cargo xtask generate` and commit the result");
    } else {
        report.push_str("\na spec above cannot generate: fix it where the error points (`cargo xtask generate` would fail the same way)");
    }
    Err(report)
}

/// `cargo xtask bench`: the runtime benchmarks, then the downstream build
/// cost (skipped with `--no-build-cost`).
fn bench(root: &Path, args: &[String]) -> Result<(), String> {
    if let Some(i) = args.iter().position(|a| a == "--consumer-build") {
        let runs = args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or(3);
        return consumer_build(root, runs);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(&cargo)
        .args(["bench", "-p", "apikeys-bench"])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo bench: {e}"))?;
    if !status.success() {
        return Err("the runtime benchmarks failed".into());
    }
    if args.iter().any(|a| a == "--no-build-cost") {
        return Ok(());
    }
    build_cost(root, &cargo)?;
    consumer_build(root, 3)
}

const CONSUMER_MAIN: &str = r#"fn main() {
    let client = apikeys_sunshine_conversations::Client::builder()
        .build()
        .expect("a client");
    println!("{}", client.base_url());
}
"#;

/// Clean `cargo build` of a throwaway crate that depends on the Sunshine
/// crate with the `codegen` feature (the client generated in `build.rs`)
/// against the same crate with its default features (the committed copy
/// included, no code generator compiled).
fn build_cost(root: &Path, cargo: &str) -> Result<(), String> {
    let dir = root.join("target/bench-downstream");
    std::fs::remove_dir_all(&dir).ok();
    let provider = root.join("crates/sunshine-conversations");
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    let variants = [
        (
            "codegen opted in (features = [\"codegen\"])",
            "downstream-codegen",
            ", features = [\"codegen\"]",
        ),
        (
            "default features (the crate's generated copy, no generator)",
            "downstream-committed",
            "",
        ),
    ];

    println!(
        "\n## Downstream clean build (a crate depending on apikeys-sunshine-conversations, dev profile)\n"
    );
    println!("| variant | clean build | crates compiled |");
    println!("|---|---|---|");
    let mut results = Vec::new();
    for (label, name, features) in variants {
        let path = dir.join(name);
        let manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\napikeys-sunshine-conversations = {{ path = \"{}\"{features} }}\n\n[workspace]\n",
            provider.display()
        );
        let (seconds, crates) = clean_build(cargo, &path, &manifest, &lock, label)?;
        println!("| {label} | {seconds:.1} s | {crates} |");
        results.push(seconds);
    }
    println!("| ratio | {:.2}x | |", results[0] / results[1]);
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

/// Writes a consumer crate (`manifest`, `CONSUMER_MAIN`, the workspace's
/// lock file) at `path` and times its clean `cargo build`: seconds, and
/// crates compiled.
fn clean_build(
    cargo: &str,
    path: &Path,
    manifest: &str,
    lock: &str,
    label: &str,
) -> Result<(f64, usize), String> {
    write_files(
        path,
        &[
            ("Cargo.toml", manifest),
            ("src/main.rs", CONSUMER_MAIN),
            ("Cargo.lock", lock),
        ],
    )?;
    let started = Instant::now();
    let output = std::process::Command::new(cargo)
        .arg("build")
        .current_dir(path)
        .env("CARGO_TARGET_DIR", path.join("target"))
        .output()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("the {label} build failed:\n{stderr}"));
    }
    let crates = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("Compiling "))
        .count();
    Ok((seconds, crates))
}

/// Writes each `(relative path, text)` under `dir`, creating folders.
fn write_files(dir: &Path, files: &[(&str, &str)]) -> Result<(), String> {
    for (file, text) in files {
        let target = dir.join(file);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&target, text).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    Ok(())
}

/// The Sunshine crate as a crate holding its generated code directly: no
/// build script, no `apikeys-build`, `generated/client.rs` included by
/// path. The baseline a consumer's default build is compared with.
fn pregenerated_copy(root: &Path, into: &Path) -> Result<(), String> {
    let provider = root.join("crates/sunshine-conversations");
    let io = |e: std::io::Error| e.to_string();
    std::fs::create_dir_all(into.join("src")).map_err(io)?;
    std::fs::copy(provider.join("src/auth.rs"), into.join("src/auth.rs")).map_err(io)?;
    std::fs::copy(provider.join("README.md"), into.join("README.md")).map_err(io)?;
    let lib = std::fs::read_to_string(provider.join("src/lib.rs")).map_err(io)?;
    let client = provider.join("generated/client.rs");
    let lib = lib.replace(
        "apikeys_runtime::include_generated!();",
        &format!(
            "#[allow(clippy::all, clippy::pedantic)]\nmod generated {{\n    include!({:?});\n}}\npub use generated::{{Client, types}};",
            client.display().to_string()
        ),
    );
    std::fs::write(into.join("src/lib.rs"), lib).map_err(io)?;
    // The provider's own dependencies, as the workspace pins them.
    let manifest = format!(
        r#"[package]
name = "apikeys-sunshine-conversations"
version = "0.1.0"
edition = "2024"

[dependencies]
apikeys-runtime = {{ path = "{}" }}
progenitor-client = "0.15.1"
reqwest = {{ version = "0.13.4", default-features = false, features = ["json", "query", "stream", "http2", "charset"] }}
serde = {{ version = "1.0.226", features = ["derive"] }}
serde_json = "1.0.150"
schemars = {{ version = "0.8.22", features = ["chrono"] }}
base64 = "0.22"
hmac = "0.13"
sha2 = "0.11"
"#,
        root.join("crates/runtime").display()
    );
    std::fs::write(into.join("Cargo.toml"), manifest).map_err(io)
}

/// `cargo xtask bench --consumer-build N`: N clean builds each of a
/// consumer of the Sunshine crate with its default features and of one
/// using the pre-generated baseline, alternated; prints each and the
/// ratio of the medians.
fn consumer_build(root: &Path, runs: usize) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let dir = root.join("target/bench-consumer");
    std::fs::remove_dir_all(&dir).ok();
    let baseline = dir.join("pregenerated");
    pregenerated_copy(root, &baseline)?;
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    let variants = [
        (
            "default features",
            root.join("crates/sunshine-conversations"),
        ),
        ("pre-generated baseline", baseline.clone()),
    ];
    let mut times: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    println!(
        "\n## A consumer's clean build: default features against the same code pre-generated\n"
    );
    println!("| run | default features | pre-generated baseline | ratio |");
    println!("|---|---|---|---|");
    for run in 0..runs {
        for (i, (_, crate_dir)) in variants.iter().enumerate() {
            let path = dir.join(format!("consumer-{i}"));
            std::fs::remove_dir_all(&path).ok();
            let manifest = format!(
                "[package]\nname = \"consumer\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\napikeys-sunshine-conversations = {{ path = \"{}\" }}\n\n[workspace]\n",
                crate_dir.display()
            );
            let (seconds, _) = clean_build(&cargo, &path, &manifest, &lock, variants[i].0)?;
            times[i].push(seconds);
        }
        println!(
            "| {} | {:.1} s | {:.1} s | {:.3} |",
            run + 1,
            times[0][run],
            times[1][run],
            times[0][run] / times[1][run]
        );
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (d, b) = (median(&mut times[0]), median(&mut times[1]));
    println!("| median | {d:.1} s | {b:.1} s | {:.3} |", d / b);
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

/// A spec of our own for a new provider that brings none: one list
/// operation, to be replaced by the provider's.
const TEMPLATE_SPEC: &str = r#"openapi: 3.0.3
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
fn new_provider(root: &Path, args: &[String]) -> Result<(), String> {
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
mock = ["dep:httpmock", "dep:regex"]

[dependencies]
apikeys-runtime.workspace = true
progenitor-client.workspace = true
reqwest.workspace = true
serde.workspace = true
serde_json.workspace = true
schemars.workspace = true
chrono.workspace = true
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

/// The crates a user can depend on, in the order cargo packages them: the
/// shared ones, then every provider (a crate with a `generated/` folder),
/// then the `apikeys` command-line tool, which depends on all of them.
fn published(root: &Path) -> Vec<String> {
    let mut providers: Vec<String> = std::fs::read_dir(root.join("crates"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("generated").is_dir())
        .filter_map(|e| e.file_name().to_str().map(|n| format!("apikeys-{n}")))
        .collect();
    providers.sort();
    let mut all: Vec<String> = [
        "apikeys-runtime",
        "apikeys-codegen",
        "apikeys-build",
        "apikeys-lifecycle",
    ]
    .map(String::from)
    .to_vec();
    all.extend(providers);
    all.push("apikeys".into());
    all
}

/// Removes what earlier `cargo package` runs left of our crates, so that
/// verification uses the code as it is now: the sources cargo unpacked
/// from its local registry into `$CARGO_HOME/registry/src/-<hash>/` (only
/// `apikeys-*` folders of local registries; crates.io's are left alone),
/// and their builds in the verification target folder `verify`.
fn forget_packaged_sources(verify: &Path) {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let Some(src) = home.map(|h| h.join("registry/src")) else {
        return;
    };
    let local_registries = std::fs::read_dir(&src)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with('-'));
    for registry in local_registries {
        for unpacked in std::fs::read_dir(registry.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if unpacked
                .file_name()
                .to_string_lossy()
                .starts_with("apikeys-")
            {
                std::fs::remove_dir_all(unpacked.path()).ok();
            }
        }
    }
    for (dir, prefix) in [
        (".fingerprint", "apikeys-"),
        ("build", "apikeys-"),
        ("deps", "libapikeys_"),
        ("deps", "apikeys_"),
    ] {
        let entries = std::fs::read_dir(verify.join("debug").join(dir));
        for entry in entries.into_iter().flatten().flatten() {
            if entry.file_name().to_string_lossy().starts_with(prefix) {
                let path = entry.path();
                std::fs::remove_dir_all(&path)
                    .or_else(|_| std::fs::remove_file(&path))
                    .ok();
            }
        }
    }
}

/// The text of the first fenced block of `language` after `heading` in a
/// README.
fn fenced(readme: &str, heading: &str, language: &str) -> Option<String> {
    let section = &readme[readme.find(heading)?..];
    let start = section.find(&format!("```{language}"))?;
    let body = &section[start..];
    let body = &body[body.find('\n')? + 1..];
    Some(body[..body.find("```")?].to_owned())
}

/// `cargo xtask consumer`: packages every published crate as crates.io
/// would (`cargo package`, which also builds each one from its package),
/// then, for each provider, builds a project outside the workspace against
/// the packaged crates: its `main.rs` is the README's example, compiled
/// with exactly the dependencies the README's Install section lists; a
/// second binary, the crate's quickstart example (feature `mock`), runs one
/// call against a loopback mock.
fn consumer(root: &Path) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let run = |dir: &Path, args: &[&str]| -> Result<(), String> {
        let status = std::process::Command::new(&cargo)
            .args(args)
            .current_dir(dir)
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "`cargo {}` failed in {}",
                args.join(" "),
                dir.display()
            ))
        }
    };
    // --allow-dirty: the check is of the tree as it is (CI's is a clean clone).
    let published = published(root);
    // Verification builds the packages as registry crates, which cargo
    // never rebuilds for a changed source at an unchanged version: give it
    // a target folder of its own, cleared of our crates before each run.
    let verify = root.join("target/verify");
    forget_packaged_sources(&verify);
    let verify_arg = format!("--target-dir={}", verify.display());
    let mut package = vec!["package", "--locked", "--allow-dirty", verify_arg.as_str()];
    for name in &published {
        package.extend(["-p", name.as_str()]);
    }
    run(root, &package)?;
    let packaged = verify.join("package");
    let patch: String = published
        .iter()
        .map(|name| {
            format!(
                "{name} = {{ path = \"{}\" }}\n",
                packaged.join(format!("{name}-0.1.0")).display()
            )
        })
        .collect();
    let dir = root.join("target/consumers");
    std::fs::remove_dir_all(&dir).ok();
    for name in &published {
        let short = name.trim_start_matches("apikeys-");
        let crate_dir = root.join("crates").join(short);
        if !crate_dir.join("generated").is_dir() {
            continue; // a shared crate: no README example of a provider
        }
        let readme = std::fs::read_to_string(crate_dir.join("README.md"))
            .map_err(|e| format!("{short}/README.md: {e}"))?;
        let install = fenced(&readme, "## Install", "toml").ok_or(format!(
            "{short}/README.md has no toml block under ## Install"
        ))?;
        let example = fenced(&readme, "## Example", "rust").ok_or(format!(
            "{short}/README.md has no rust block under ## Example"
        ))?;
        // A provider without a quickstart yet (a new one) is built from its
        // README only.
        let quickstart = std::fs::read_to_string(crate_dir.join("examples/quickstart.rs")).ok();
        let project = dir.join(short);
        let manifest = format!(
            "[package]\nname = \"consumer-{short}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n{install}\n[[bin]]\nname = \"readme\"\npath = \"src/main.rs\"\n\n[workspace]\n\n[patch.crates-io]\n{patch}"
        );
        write_files(
            &project,
            &[("Cargo.toml", &manifest), ("src/main.rs", &example)],
        )?;
        let target_dir = dir.join("target");
        let target_arg = format!("--target-dir={}", target_dir.display());
        println!("== {name}: the README example, with the README's dependencies only");
        run(&project, &["build", "--quiet", &target_arg])?;
        let Some(quickstart) = quickstart else {
            continue;
        };
        // The quickstart needs the `mock` feature and httpmock: added now,
        // after the README's own list was proven enough for its example.
        let with_mock =
            format!(
            "{}\n[[bin]]\nname = \"quickstart\"\npath = \"src/quickstart.rs\"\n",
            manifest.replace(
                &format!("{name} = \"0.1\""),
                &format!(
                    "{name} = {{ version = \"0.1\", features = [\"mock\"] }}\nhttpmock = \"0.8\"{}",
                    if install.contains("serde_json") { "" } else { "\nserde_json = \"1\"" }
                ),
            )
        );
        std::fs::write(project.join("Cargo.toml"), with_mock)
            .map_err(|e| format!("{}: {e}", project.display()))?;
        std::fs::write(project.join("src/quickstart.rs"), quickstart)
            .map_err(|e| format!("{}: {e}", project.display()))?;
        println!("== {name}: the quickstart, one call against a loopback mock");
        run(
            &project,
            &["run", "--quiet", &target_arg, "--bin", "quickstart"],
        )?;
    }
    println!("every packaged provider crate builds and runs outside the workspace");
    Ok(())
}

fn main() -> ExitCode {
    let root = workspace_root();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("generate") => generate(&root),
        Some("check") => check(&root),
        Some("bench") => bench(&root, &args[1..]),
        Some("consumer") => consumer(&root),
        Some("new-provider") => new_provider(&root, &args[1..]),
        Some("corpus") => corpus::run(&root, &args[1..]),
        Some("corpus-one") => corpus::one(&args[1..]),
        _ => Err("usage: cargo xtask <generate|check|bench|consumer|new-provider|corpus>\n  generate  write every file derived from openapi/\n  check     fail when committed generated code drifted from the specs\n  bench     print the benchmark tables (--no-build-cost skips the two clean builds)\n  consumer  package the published crates and build and run each provider outside the workspace\n  new-provider <name> [--spec FILE]  scaffold and generate a provider crate\n  corpus [DIR] [--compile N|all] [--only NAME,NAME]  generate every published spec of a corpus (default ../shared/spec-corpus), and clippy the N with the fewest models".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A throwaway copy of the parts of the workspace `check` reads.
    fn scratch_copy() -> PathBuf {
        let root = workspace_root();
        let dir = std::env::temp_dir().join(format!(
            "apikeys-xtask-{}-{}",
            std::process::id(),
            unique_suffix()
        ));
        copy_dir(&root.join("openapi"), &dir.join("openapi"));
        for entry in std::fs::read_dir(root.join("crates")).unwrap() {
            let entry = entry.unwrap();
            let from = entry.path();
            let to = dir.join("crates").join(entry.file_name());
            std::fs::create_dir_all(&to).unwrap();
            std::fs::copy(from.join("Cargo.toml"), to.join("Cargo.toml")).unwrap();
            if from.join("build.rs").is_file() {
                std::fs::copy(from.join("build.rs"), to.join("build.rs")).unwrap();
            }
            if from.join("generated").is_dir() {
                copy_dir(&from.join("generated"), &to.join("generated"));
            }
        }
        dir
    }

    fn unique_suffix() -> u128 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    }

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }

    #[test]
    fn committed_generated_code_matches_the_specs() {
        check(&workspace_root()).unwrap();
    }

    #[test]
    fn hand_edits_to_generated_code_are_caught() {
        let dir = scratch_copy();
        let file = dir.join("crates/sunshine-conversations/generated/client.rs");
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(
            &file,
            text.replacen("pub struct ApiKey", "pub struct ApiKeyEdited", 1),
        )
        .unwrap();
        let report = check(&dir).unwrap_err();
        assert!(
            report.contains("-pub struct ApiKeyEdited") || report.contains("ApiKeyEdited"),
            "{report}"
        );
        assert!(report.contains("cargo xtask generate"), "{report}");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn spec_changes_without_regeneration_are_caught() {
        let dir = scratch_copy();
        let spec = dir.join("openapi/sunshine-conversations.yaml");
        let text = std::fs::read_to_string(&spec).unwrap();
        std::fs::write(
            &spec,
            text.replacen(
                "A label people recognise the key by.",
                "A label for the key.",
                1,
            ),
        )
        .unwrap();
        let report = check(&dir).unwrap_err();
        assert!(
            report.contains("+        ///A label for the key."),
            "{report}"
        );
        // And generating makes it pass again.
        generate(&dir).unwrap();
        check(&dir).unwrap();
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_spec_without_a_crate_and_a_crate_without_a_spec_are_caught() {
        let dir = scratch_copy();
        std::fs::copy(
            dir.join("openapi/sunshine-conversations.yaml"),
            dir.join("openapi/orphan.yaml"),
        )
        .unwrap();
        std::fs::create_dir_all(dir.join("crates/lonely")).unwrap();
        std::fs::write(dir.join("crates/lonely/Cargo.toml"), "").unwrap();
        let report = check(&dir).unwrap_err();
        assert!(
            report.contains("openapi/orphan.yaml has no crate"),
            "{report}"
        );
        assert!(
            report.contains("crates/lonely declares no spec"),
            "{report}"
        );
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn the_pairing_is_what_each_crate_declares_not_its_folder_name() {
        let dir = scratch_copy();
        // The same crate in a folder of another name still pairs with its
        // spec, through the spec its build script names.
        std::fs::rename(
            dir.join("crates/finicity"),
            dir.join("crates/finicity-client"),
        )
        .unwrap();
        check(&dir).unwrap();
        // A build script naming a spec that does not exist is reported.
        std::fs::create_dir_all(dir.join("crates/ghostly")).unwrap();
        std::fs::write(dir.join("crates/ghostly/Cargo.toml"), "").unwrap();
        std::fs::write(
            dir.join("crates/ghostly/build.rs"),
            "fn main() { apikeys_build::run(\"ghost\"); }",
        )
        .unwrap();
        let report = check(&dir).unwrap_err();
        assert!(report.contains("declares the spec ghost"), "{report}");
        std::fs::remove_dir_all(dir).ok();
    }
}

#[cfg(test)]
mod api_tests {
    #[test]
    fn the_api_surface_names_methods_types_fields_and_variants() {
        let code = r#"
            pub mod types {
                pub struct Key { pub id: String, secret: String }
                pub enum State { Active, Unknown(String) }
            }
            pub struct Client;
            impl Client {
                pub async fn get_key<'a>(&'a self, id: &'a str) -> Result<(), ()> { Ok(()) }
                async fn raw_get_key(&self) {}
            }
        "#;
        let api = super::api_surface(code).unwrap();
        let listed: Vec<&str> = api.iter().map(String::as_str).collect();
        assert!(listed.contains(&"type types::Key"));
        assert!(listed.contains(&"field types::Key::id `String`"));
        assert!(listed.contains(&"variant types::State::Unknown"));
        assert!(listed.iter().any(|l| {
            l.starts_with("method Client::get_key `async fn get_key<'a>(&'a self, id: &'a str)")
        }));
        assert!(
            !listed
                .iter()
                .any(|l| l.contains("raw_get_key") || l.contains("secret"))
        );
    }
}
