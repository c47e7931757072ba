//! `cargo xtask corpus [DIR] [--compile N|all] [--only TEXT,TEXT]`: runs the
//! codegen on every published spec of a corpus (by default
//! `../shared/spec-corpus`, beside the checkout), each in a child process
//! (a stack overflow or an abort in one spec cannot end the run), prints a
//! table, and with `--compile` builds the N generated clients with the
//! fewest models, mock helpers included, with `cargo clippy -D warnings` in one scratch
//! workspace under `target/corpus/`. The specs are read where they lie and
//! nothing generated from them is written into the repository.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The longest one spec may take to generate.
const PER_SPEC: Duration = Duration::from_secs(300);

/// One spec's outcome, as the child prints it on its last line.
struct Row {
    spec: String,
    outcome: Result<Counts, String>,
    seconds: f64,
}

/// What a generated spec holds, and where its generation's time went.
struct Counts {
    operations: usize,
    models: usize,
    skipped: usize,
    fallbacks: usize,
    notes: Vec<String>,
    /// Seconds: load, rules, typify/progenitor, post-processing,
    /// formatting; and the number of attempts.
    phases: ([f64; 5], u32),
}

/// The corpus's spec files, sorted.
fn specs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let folder = if dir.join("specs").is_dir() {
        dir.join("specs")
    } else {
        dir.to_owned()
    };
    let mut out: Vec<PathBuf> = std::fs::read_dir(&folder)
        .map_err(|e| format!("{}: {e}", folder.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        })
        .collect();
    out.sort();
    Ok(out)
}

/// The crate name a corpus spec generates as: `corpus-<stem>`, lowercase
/// letters, digits and dashes.
fn crate_suffix(spec: &Path) -> String {
    let stem = spec.file_stem().and_then(|s| s.to_str()).unwrap_or("spec");
    let cleaned: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("corpus-{cleaned}")
}

/// Makes the folder `dir`, which holds a generated `client.rs` and
/// `mock.rs`, into the crate `apikeys-<name>` as `new-provider` would write
/// it: the template's files, the generated code under `generated/`, and
/// the default features the client needs (as `cargo xtask generate` sets
/// them).
fn write_crate(dir: &Path, name: &str) -> Result<(), String> {
    let io = |e: std::io::Error| format!("{}: {e}", dir.display());
    let generated = dir.join("generated");
    std::fs::create_dir_all(&generated).map_err(io)?;
    for file in ["client.rs", "mock.rs"] {
        if dir.join(file).exists() {
            std::fs::rename(dir.join(file), generated.join(file)).map_err(io)?;
        }
    }
    let client = std::fs::read_to_string(generated.join("client.rs")).map_err(io)?;
    for (path, text) in crate::template::provider_crate(name) {
        let text = match path.as_str() {
            "Cargo.toml" => crate::generate::needed_features_in(&text, &client, name)?,
            _ => text,
        };
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap_or(dir)).map_err(io)?;
        std::fs::write(path, text).map_err(io)?;
    }
    Ok(())
}

/// The scratch workspace's manifest: this workspace's own (its package
/// settings, dependency versions and profiles, which the template's
/// manifest inherits), with `crates` as its members and its path
/// dependencies pointing back here.
fn scratch_workspace(root: &Path, crates: &[String]) -> Result<String, String> {
    let ours = std::fs::read_to_string(root.join("Cargo.toml")).map_err(|e| e.to_string())?;
    let members: Vec<String> = crates.iter().map(|c| format!("\"{c}\"")).collect();
    let mut out = String::new();
    for line in ours.lines() {
        if line.starts_with("members = ") {
            out.push_str(&format!("members = [{}]\n", members.join(", ")));
        } else if !line.starts_with("default-members = ") {
            out.push_str(&line.replace(
                "path = \"crates/",
                &format!("path = \"{}/crates/", root.display()),
            ));
            out.push('\n');
        }
    }
    Ok(out)
}

/// The child: generates one spec and prints its counts (or its error) as
/// the last line, `ok <ops> <models> <skipped> <fallbacks>` or `error
/// <message>`, after one `note` line per note; with an output folder, writes
/// the client and mock there.
pub fn one(args: &[String]) -> Result<(), String> {
    let spec = PathBuf::from(args.first().ok_or("corpus-one <spec> [out]")?);
    let name = crate_suffix(&spec);
    match apikeys_codegen::generate_as(&spec, &name) {
        Ok(output) => {
            if let Some(out) = args.get(1) {
                let out = Path::new(out);
                std::fs::create_dir_all(out).map_err(|e| e.to_string())?;
                std::fs::write(out.join("client.rs"), &output.client).map_err(|e| e.to_string())?;
                std::fs::write(out.join("mock.rs"), &output.mock).map_err(|e| e.to_string())?;
            }
            let fallbacks = output
                .notes
                .iter()
                .filter(|n| n.starts_with("component `") && n.contains("any JSON value"))
                .count();
            for note in output.notes.iter().chain(
                output
                    .skipped
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .iter(),
            ) {
                println!("note {}", note.replace('\n', " "));
            }
            let p = output.stats.phases;
            println!(
                "phases {:.3} {:.3} {:.3} {:.3} {:.3} {}",
                p.load.as_secs_f64(),
                p.rules.as_secs_f64(),
                p.generate.as_secs_f64(),
                p.postprocess.as_secs_f64(),
                p.format.as_secs_f64(),
                p.attempts
            );
            println!(
                "ok {} {} {} {fallbacks}",
                output.stats.operations,
                output.stats.models,
                output.skipped.len()
            );
        }
        Err(e) => println!("error {}", e.to_string().replace('\n', " ")),
    }
    Ok(())
}

/// Runs the child for `spec`, within [`PER_SPEC`].
fn run_one(spec: &Path, out: Option<&Path>) -> Row {
    let started = Instant::now();
    let name = spec
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_owned();
    let row = |outcome| Row {
        spec: name.clone(),
        outcome,
        seconds: started.elapsed().as_secs_f64(),
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return row(Err(format!("cannot find xtask itself: {e}"))),
    };
    let mut command = Command::new(exe);
    command.arg("corpus-one").arg(spec);
    if let Some(out) = out {
        command.arg(out);
    }
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return row(Err(format!("cannot start: {e}"))),
    };
    // Read what it prints while it runs: a spec with many notes prints
    // more than a pipe holds (OpenMeter's 180 KB), and a child blocked on a
    // full pipe never ends (it was reported as "no result in 300 s").
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut text);
            }
            text
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    // Wait with a limit: poll, since std has no timed wait.
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > PER_SPEC => {
                let _ = child.kill();
                let _ = child.wait();
                return row(Err(format!("no result in {} s", PER_SPEC.as_secs())));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return row(Err(e.to_string())),
        }
    }
    let status = match child.wait() {
        Ok(status) => status,
        Err(e) => return row(Err(e.to_string())),
    };
    let output = std::process::Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let notes: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("note "))
        .map(str::to_owned)
        .collect();
    let phases = stdout
        .lines()
        .find_map(|l| l.strip_prefix("phases "))
        .map(|p| {
            let n: Vec<f64> = p.split(' ').filter_map(|c| c.parse().ok()).collect();
            let mut seconds = [0.0; 5];
            for (to, from) in seconds.iter_mut().zip(&n) {
                *to = *from;
            }
            (seconds, n.get(5).map_or(0, |a| *a as u32))
        })
        .unwrap_or_default();
    let last = stdout.lines().last().unwrap_or_default();
    if let Some(counts) = last.strip_prefix("ok ") {
        let n: Vec<usize> = counts.split(' ').filter_map(|c| c.parse().ok()).collect();
        if let [operations, models, skipped, fallbacks] = n[..] {
            return row(Ok(Counts {
                operations,
                models,
                skipped,
                fallbacks,
                notes,
                phases,
            }));
        }
    }
    if let Some(message) = last.strip_prefix("error ") {
        return row(Err(message.to_owned()));
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let why = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no output");
    row(Err(format!(
        "the generator died ({}): {why}",
        output.status
    )))
}

/// `cargo xtask corpus`.
pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let mut dir = root.join("../shared/spec-corpus");
    let mut compile = 0usize;
    let mut only: Option<String> = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--compile" => {
                let n = rest.next().ok_or("--compile needs a count or `all`")?;
                compile = if n == "all" {
                    usize::MAX
                } else {
                    n.parse()
                        .map_err(|_| format!("--compile {n}: not a count"))?
                };
            }
            "--only" => only = Some(rest.next().ok_or("--only needs text")?.clone()),
            other if !other.starts_with('-') => dir = PathBuf::from(other),
            other => return Err(format!("unknown option {other}")),
        }
    }
    let mut specs = specs(&dir)?;
    if let Some(texts) = &only {
        let names = |s: &Path| {
            s.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned()
        };
        specs.retain(|s| texts.split(',').any(|t| names(s).contains(t)));
    }
    if specs.is_empty() {
        return Err(format!("no spec under {}", dir.display()));
    }
    let scratch = root.join("target/corpus");
    let mut rows = Vec::new();
    for spec in &specs {
        // Every client is written out when some are to be compiled; which
        // ones is decided once the operations are counted.
        let out = (compile > 0).then(|| scratch.join(crate_suffix(spec)));
        let row = run_one(spec, out.as_deref());
        match &row.outcome {
            Ok(c) => {
                let ([load, rules, generate, post, format], attempts) = c.phases;
                println!(
                    "{:<32} {:>5} ops {:>5} models {:>4} skipped {:>4} as Value {:>6.1} s (load {load:.2}, rules {rules:.2}, typify/progenitor {generate:.2}, post-processing {post:.2}, formatting {format:.2}; {attempts} attempt(s))",
                    row.spec, c.operations, c.models, c.skipped, c.fallbacks, row.seconds
                )
            }
            Err(e) => println!("{:<32} FAILED {:>6.1} s: {e}", row.spec, row.seconds),
        }
        if std::env::var_os("CORPUS_NOTES").is_some()
            && let Ok(c) = &row.outcome
        {
            for note in &c.notes {
                println!("    {note}");
            }
        }
        rows.push(row);
    }
    let generated = rows.iter().filter(|r| r.outcome.is_ok()).count();
    println!(
        "corpus: {generated}/{} specs generate ({} operations, {} skipped, {} schemas read as serde_json::Value)",
        rows.len(),
        rows.iter()
            .filter_map(|r| r.outcome.as_ref().ok())
            .map(|c| c.operations)
            .sum::<usize>(),
        rows.iter()
            .filter_map(|r| r.outcome.as_ref().ok())
            .map(|c| c.skipped)
            .sum::<usize>(),
        rows.iter()
            .filter_map(|r| r.outcome.as_ref().ok())
            .map(|c| c.fallbacks)
            .sum::<usize>(),
    );
    time_against_size(&specs, &rows);
    let mut failed = rows.len() - generated;
    if compile > 0 {
        // The N generated clients with the fewest models (what compiling
        // costs most): the most specs for the time.
        let mut smallest: Vec<(usize, String)> = rows
            .iter()
            .zip(&specs)
            .filter_map(|(r, s)| Some((r.outcome.as_ref().ok()?.models, crate_suffix(s))))
            .collect();
        smallest.sort();
        let built: Vec<String> = smallest.into_iter().take(compile).map(|(_, n)| n).collect();
        failed += clippy(root, &scratch, &built)?;
    }
    if failed > 0 {
        return Err(format!("corpus: {failed} spec(s) failed"));
    }
    Ok(())
}

/// Time against size: every generated spec by size, its seconds per
/// megabyte and per model, so that a phase that grows faster than the
/// spec shows.
fn time_against_size(specs: &[PathBuf], rows: &[Row]) {
    let mut sized: Vec<(u64, &Row, &Counts)> = specs
        .iter()
        .zip(rows)
        .filter_map(|(spec, row)| {
            let bytes = std::fs::metadata(spec).ok()?.len();
            Some((bytes, row, row.outcome.as_ref().ok()?))
        })
        .collect();
    sized.sort_by_key(|(bytes, _, _)| *bytes);
    println!("\ntime against size (largest last):");
    println!(
        "{:<32} {:>8} {:>7} {:>8} {:>9} {:>10}",
        "spec", "MB", "models", "seconds", "s per MB", "ms / model"
    );
    for (bytes, row, c) in sized.iter().rev().take(10).rev() {
        let mb = *bytes as f64 / 1e6;
        println!(
            "{:<32} {:>8.2} {:>7} {:>8.1} {:>9.1} {:>10.1}",
            row.spec,
            mb,
            c.models,
            row.seconds,
            row.seconds / mb.max(1e-6),
            1000.0 * row.seconds / c.models.max(1) as f64
        );
    }
}

/// Builds each generated client in `crates` (folders under `scratch`
/// holding `client.rs` and `mock.rs`) as a crate of one scratch workspace,
/// made from the template `cargo xtask new-provider` writes (its manifest,
/// build script, lib.rs and README, with the default features its client
/// needs), and runs clippy on each as a user would on theirs: default
/// features and `mock`, the crate's own lints, `-D warnings`. Returns how
/// many failed.
fn clippy(root: &Path, scratch: &Path, crates: &[String]) -> Result<usize, String> {
    let io = |e: std::io::Error| e.to_string();
    for name in crates {
        write_crate(&scratch.join(name), name)?;
    }
    std::fs::write(scratch.join("Cargo.toml"), scratch_workspace(root, crates)?).map_err(io)?;
    // The workspace's lock file, so that the scratch crates build with the
    // versions the workspace is tested with.
    let _ = std::fs::copy(root.join("Cargo.lock"), scratch.join("Cargo.lock"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    println!(
        "each client built as `cargo xtask new-provider` makes its crate: the crate's own lints, -D warnings, mock helpers on"
    );
    let mut failed = 0;
    for name in crates {
        let started = Instant::now();
        let output = Command::new(&cargo)
            .args(["clippy", "--quiet", "--features", "mock", "-p"])
            .arg(format!("apikeys-{name}"))
            .args(["--", "-D", "warnings"])
            .current_dir(scratch)
            .env("CARGO_TARGET_DIR", root.join("target/corpus-target"))
            // Each client is checked once: incremental caches (up to 1.5 GB
            // for the largest spec, 20 GB for the corpus) would fill the
            // disk and never be read again.
            .env("CARGO_INCREMENTAL", "0")
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        let seconds = started.elapsed().as_secs_f64();
        if output.status.success() {
            println!("clippy {name:<40} clean {seconds:>6.1} s");
        } else {
            failed += 1;
            let stderr = String::from_utf8_lossy(&output.stderr);
            let first = stderr
                .lines()
                .find(|l| l.starts_with("error"))
                .unwrap_or("failed");
            println!("clippy {name:<40} FAILED {seconds:>6.1} s: {first}");
            if std::env::var_os("CORPUS_NOTES").is_some() {
                println!("{stderr}");
            }
        }
    }
    Ok(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The corpus builds each client as the crate `new-provider` writes:
    /// every file of the template, byte for byte, but the default features
    /// line, which follows the client as `cargo xtask generate` makes it.
    #[test]
    fn the_corpus_crate_is_the_new_provider_crate() {
        let dir =
            std::env::temp_dir().join(format!("apikeys-corpus-template-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let client = "pub id: ::apikeys_runtime::deps::uuid::Uuid,";
        std::fs::write(dir.join("client.rs"), client).unwrap();
        std::fs::write(dir.join("mock.rs"), "").unwrap();
        write_crate(&dir, "corpus-x").unwrap();
        let scaffold = crate::new_provider::scaffold("corpus-x", String::new(), "yaml");
        let template = crate::template::provider_crate("corpus-x");
        assert!(!template.is_empty());
        for (path, text) in &template {
            let scaffolded = scaffold
                .iter()
                .find(|(p, _)| *p == format!("crates/corpus-x/{path}"))
                .unwrap_or_else(|| panic!("new-provider writes no {path}"));
            assert_eq!(&scaffolded.1, text, "{path}");
            let written = std::fs::read_to_string(dir.join(path)).unwrap();
            if path == "Cargo.toml" {
                let differ: Vec<(&str, &str)> = written
                    .lines()
                    .zip(text.lines())
                    .filter(|(a, b)| a != b)
                    .collect();
                assert_eq!(
                    differ,
                    [("default = [\"rustls\", \"uuid\"]", "default = [\"rustls\"]")]
                );
            } else {
                assert_eq!(&written, text, "{path}");
            }
        }
        // The crate's own lint, which the corpus clippy makes an error.
        assert!(
            std::fs::read_to_string(dir.join("src/lib.rs"))
                .unwrap()
                .contains("#![warn(missing_docs)]")
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("generated/client.rs")).unwrap(),
            client
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
