//! `cargo xtask consumer`: package the published crates and build and run
//! each provider outside the workspace.

use super::*;

/// The crates a user can depend on, in the order cargo packages them: the
/// shared ones, then every provider (a crate with a `generated/` folder),
/// then the `apikeys` command-line tool, which depends on all of them.
pub(crate) fn published(root: &Path) -> Vec<String> {
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
pub(crate) fn forget_packaged_sources(verify: &Path) {
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
pub(crate) fn fenced(readme: &str, heading: &str, language: &str) -> Option<String> {
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
pub(crate) fn consumer(root: &Path) -> Result<(), String> {
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
