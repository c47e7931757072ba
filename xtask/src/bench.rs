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
    if let Some(i) = args.iter().position(|a| a == "--against-hand-written") {
        let runs = args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or(3);
        return against_hand_written(root, runs);
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
    clean_build_of(cargo, path, manifest, CONSUMER_MAIN, lock, label).map(|(s, _, c)| (s, c))
}

/// The CPU time this process's waited-for children have used, in seconds
/// (Linux: `cutime` + `cstime` of `/proc/self/stat`, in USER_HZ = 100
/// ticks); 0 where that cannot be read.
fn children_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `state` is field 3; cutime and cstime are fields 16 and 17.
    let ticks = |n: usize| {
        fields
            .get(n - 3)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(16) + ticks(17)) / 100.0
}

/// [`clean_build`] with its own `main.rs`: wall seconds, CPU seconds (of
/// cargo and every compiler it ran), and crates compiled.
pub(crate) fn clean_build_of(
    cargo: &str,
    path: &Path,
    manifest: &str,
    main: &str,
    lock: &str,
    label: &str,
) -> Result<(f64, f64, usize), String> {
    write_files(
        path,
        &[
            ("Cargo.toml", manifest),
            ("src/main.rs", main),
            ("Cargo.lock", lock),
        ],
    )?;
    let cpu_before = children_cpu_seconds();
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
    Ok((seconds, children_cpu_seconds() - cpu_before, crates))
}

/// The hand-written client issue 24 compares with: reqwest with rustls and
/// JSON, serde, serde_json and tokio, as a user writing one would pick.
const HAND_WRITTEN: &str = r#"[package]
name = "hand-written"
version = "0.1.0"
edition = "2024"

[dependencies]
reqwest = { version = "0.13", default-features = false, features = ["rustls", "json"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
tokio = { version = "1", features = ["rt-multi-thread", "macros"] }

[workspace]
"#;

const HAND_WRITTEN_MAIN: &str = r##"#[derive(serde::Deserialize)]
struct Key {
    id: String,
}

#[tokio::main]
async fn main() {
    let client = reqwest::Client::new();
    let request = client.get("https://example.invalid/keys").build();
    let key: Result<Key, _> = serde_json::from_str(r#"{"id":"k1"}"#);
    println!("{} {}", request.is_ok(), key.map(|k| k.id).unwrap_or_default());
}
"##;

/// `cargo xtask bench --against-hand-written N`: clean builds of a
/// consumer of each provider crate (default features, with tokio as a
/// user adds it) beside the hand-written client above, N times over,
/// interleaved, each on a fresh target folder; prints crates compiled,
/// wall and CPU time, and each one's median ratio to the hand-written one.
pub(crate) fn against_hand_written(root: &Path, runs: usize) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let dir = root.join("target/bench-hand-written");
    std::fs::remove_dir_all(&dir).ok();
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    let mut projects: Vec<(String, String, String)> = vec![(
        "hand-written (reqwest + serde + tokio)".into(),
        HAND_WRITTEN.into(),
        HAND_WRITTEN_MAIN.into(),
    )];
    for name in published(root) {
        let short = name.trim_start_matches("apikeys-");
        let crate_dir = root.join("crates").join(short);
        if !crate_dir.join("generated").is_dir() {
            continue;
        }
        let ident = name.replace('-', "_");
        projects.push((
            name.clone(),
            format!(
                "[package]\nname = \"consumer\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\n{name} = {{ path = \"{}\" }}\ntokio = {{ version = \"1\", features = [\"rt-multi-thread\", \"macros\"] }}\n\n[workspace]\n",
                crate_dir.display()
            ),
            format!(
                "#[tokio::main]\nasync fn main() {{\n    let client = {ident}::Client::builder().build();\n    println!(\"{{}}\", client.is_ok());\n}}\n"
            ),
        ));
    }
    // [wall, cpu, crates] per project per run.
    let mut seen: Vec<Vec<(f64, f64, usize)>> = vec![Vec::new(); projects.len()];
    for run in 0..runs {
        for (i, (label, manifest, main)) in projects.iter().enumerate() {
            let path = dir.join(format!("project-{i}"));
            std::fs::remove_dir_all(&path).ok();
            let measured = clean_build_of(&cargo, &path, manifest, main, &lock, label)?;
            eprintln!(
                "run {}: {label}: {:.1} s wall, {:.1} s CPU, {} crates",
                run + 1,
                measured.0,
                measured.1,
                measured.2
            );
            seen[i].push(measured);
            std::fs::remove_dir_all(&path).ok();
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let medians: Vec<(f64, f64, usize)> = seen
        .iter()
        .map(|runs| {
            (
                median(runs.iter().map(|r| r.0).collect()),
                median(runs.iter().map(|r| r.1).collect()),
                runs.iter().map(|r| r.2).max().unwrap_or(0),
            )
        })
        .collect();
    println!(
        "\n## A consumer's clean build against a hand-written client (median of {runs}, interleaved, dev profile)\n"
    );
    println!("| project | crates compiled | wall | CPU | wall ratio | CPU ratio |");
    println!("|---|---|---|---|---|---|");
    let (hand_wall, hand_cpu) = (medians[0].0, medians[0].1);
    for ((label, _, _), (wall, cpu, crates)) in projects.iter().zip(&medians) {
        println!(
            "| {label} | {crates} | {wall:.1} s | {cpu:.1} s | {:.2}x | {:.2}x |",
            wall / hand_wall,
            if hand_cpu > 0.0 { cpu / hand_cpu } else { 0.0 }
        );
    }
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
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

[features]
# Named by the generated code's and lib.rs's `cfg`s; off, as by default.
lifecycle = []
schemars = []
mock = []

[dependencies]
apikeys-runtime = {{ path = "{}" }}
progenitor-client = "0.15.1"
reqwest = {{ version = "0.13.4", default-features = false, features = ["json", "query", "stream", "gzip", "deflate"] }}
serde = {{ version = "1.0.226", features = ["derive"] }}
serde_json = "1.0.150"
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
