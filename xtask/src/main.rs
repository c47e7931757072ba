//! Workspace tasks, one module per command: `generate` and `check`
//! (generate.rs), `bench` (bench.rs), `consumer` (consumer.rs),
//! `new-provider` (new_provider.rs) and `corpus` (corpus.rs).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod bench;
mod consumer;
mod corpus;
mod generate;
mod new_provider;
mod template;

use bench::*;
use consumer::*;
use generate::*;
use new_provider::*;

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

/// `path` as the workspace names it (`crates/x/generated/client.rs`).
fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
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
        _ => Err("usage: cargo xtask <generate|check|bench|consumer|new-provider|corpus>\n  generate  write every file derived from openapi/\n  check     fail when committed generated code drifted from the specs\n  bench     print the benchmark tables (--no-build-cost skips the two clean builds; --against-hand-written N: clean builds of each provider's consumer beside a hand-written client)\n  consumer  package the published crates and build and run each provider outside the workspace\n  new-provider <name> [--spec FILE]  scaffold and generate a provider crate\n  corpus [DIR] [--compile N|all] [--only NAME,NAME]  generate every published spec of a corpus (default ../shared/spec-corpus), and clippy the N with the fewest models".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
