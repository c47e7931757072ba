//! `cargo xtask bench`: the runtime benchmarks and the cost of a consumer's build.

use super::*;
use std::time::Instant;

/// `cargo xtask bench`: the runtime benchmarks, then the downstream build
/// cost (skipped with `--no-build-cost`).
pub(crate) fn bench(root: &Path, args: &[String]) -> Result<(), String> {
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

pub(crate) const CONSUMER_MAIN: &str = r#"fn main() {
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
pub(crate) fn build_cost(root: &Path, cargo: &str) -> Result<(), String> {
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
pub(crate) fn clean_build(
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

/// The Sunshine crate as a crate holding its generated code directly: no
/// build script, no `apikeys-build`, `generated/client.rs` included by
/// path. The baseline a consumer's default build is compared with.
pub(crate) fn pregenerated_copy(root: &Path, into: &Path) -> Result<(), String> {
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
pub(crate) fn consumer_build(root: &Path, runs: usize) -> Result<(), String> {
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
