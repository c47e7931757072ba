//! `cargo xtask generate` writes every artifact derived from `openapi/`;
//! `cargo xtask check` regenerates them in memory and fails on any drift.

use super::*;
use apikeys_codegen::{Output, Spec};
use std::time::Instant;

/// Crates under `crates/` that are shared, not generated from a spec.
pub(crate) const SHARED_CRATES: [&str; 5] = ["build", "cli", "codegen", "lifecycle", "runtime"];

/// One committed file and what the specs produce for it now.
pub(crate) struct Artifact {
    path: PathBuf,
    expected: String,
}

/// What regenerating everything produced.
pub(crate) struct Plan {
    artifacts: Vec<Artifact>,
    reports: Vec<(String, Output, f64)>,
    problems: Vec<String>,
    seconds: f64,
}

/// Which crate generates which spec, as each crate declares it: the
/// `apikeys_build::run("<spec>")` call in its build script. Spec name →
/// folder under `crates/`.
pub(crate) fn declared_specs(root: &Path) -> std::collections::BTreeMap<String, String> {
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
pub(crate) fn plan(root: &Path) -> Plan {
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
                let manifest = crate_dir.join("Cargo.toml");
                match with_needed_features(&manifest, &output.client) {
                    Ok(expected) => plan.artifacts.push(Artifact {
                        path: manifest,
                        expected,
                    }),
                    Err(problem) => plan.problems.push(problem),
                }
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

/// The crate's manifest with its `default = [...]` features naming
/// exactly the optional runtime features its generated client needs
/// (`uuid`, `regress`, `multipart`; `apikeys_build::features_needed`), the others kept
/// in their order: a missing one would not build, an extra one costs every
/// consumer its compile time. The manifest is thus derived from the spec
/// too: `generate` writes it, `check` reports drift.
fn with_needed_features(manifest: &Path, client: &str) -> Result<String, String> {
    let text =
        std::fs::read_to_string(manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    needed_features_in(&text, client, &manifest.display().to_string())
}

/// [`with_needed_features`] of a manifest's text; `manifest` names it in
/// errors.
pub(crate) fn needed_features_in(
    text: &str,
    client: &str,
    manifest: &str,
) -> Result<String, String> {
    let needed = apikeys_build::features_needed(client);
    for feature in &needed {
        if !text.contains(&format!("\n{feature} = [")) {
            return Err(format!(
                "{manifest} has no `{feature}` feature, which its generated client needs: add `{feature} = [\"apikeys-runtime/{feature}\"]` to [features]"
            ));
        }
    }
    let Some(line) = text.lines().find(|l| l.starts_with("default = [")) else {
        return Err(format!("{manifest} has no `default = [...]` features line"));
    };
    let mut features: Vec<String> = line["default = [".len()..]
        .trim_end_matches(']')
        .split(',')
        .map(|f| f.trim().trim_matches('"').to_owned())
        .filter(|f| !f.is_empty() && !apikeys_build::optional_features().any(|o| o == f))
        .collect();
    features.extend(needed.iter().map(|f| f.to_string()));
    let quoted: Vec<String> = features.iter().map(|f| format!("\"{f}\"")).collect();
    Ok(text.replacen(line, &format!("default = [{}]", quoted.join(", ")), 1))
}

/// The public surface of a generated client file: `Client`'s public
/// methods with their signatures, and the public types of `types` with
/// their fields and variants. `None` when the file does not parse.
pub(crate) fn api_surface(code: &str) -> Option<std::collections::BTreeSet<String>> {
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
pub(crate) fn compact(tokens: &str) -> String {
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
pub(crate) fn api_changes(root: &Path, plan: &Plan) -> Vec<String> {
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

/// Unified diffs between the committed files and `plan`; empty when none drifted.
pub(crate) fn drift(root: &Path, plan: &Plan) -> Vec<String> {
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

pub(crate) fn generate(root: &Path) -> Result<(), String> {
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

pub(crate) fn check(root: &Path) -> Result<(), String> {
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
    fn default_features_follow_the_constructs_the_spec_uses() {
        // Each construct that needs an optional runtime feature, added to a
        // field of a spec that had none: check reports the manifest's
        // default features as drift, generate writes them, and removing the
        // construct again takes the feature back out.
        for (feature, construct) in [
            ("uuid", "format: uuid"),
            ("regress", "pattern: '^[A-Za-z ]+$'"),
        ] {
            let dir = scratch_copy();
            let spec = dir.join("openapi/sunshine-conversations.yaml");
            let manifest = dir.join("crates/sunshine-conversations/Cargo.toml");
            let original = std::fs::read_to_string(&spec).unwrap();
            let field = "        displayName:\n          type: string\n";
            assert!(original.contains(field));
            let with = original.replacen(field, &format!("{field}          {construct}\n"), 1);
            std::fs::write(&spec, &with).unwrap();
            let report = check(&dir).unwrap_err();
            assert!(
                report.contains(&format!("+default = [\"rustls\", \"{feature}\"]")),
                "{feature}: {report}"
            );
            generate(&dir).unwrap();
            check(&dir).unwrap();
            let on = std::fs::read_to_string(&manifest).unwrap();
            assert!(
                on.contains(&format!("default = [\"rustls\", \"{feature}\"]")),
                "{on}"
            );
            std::fs::write(&spec, &original).unwrap();
            generate(&dir).unwrap();
            let off = std::fs::read_to_string(&manifest).unwrap();
            assert!(off.contains("default = [\"rustls\"]\n"), "{off}");
            // A crate that cannot turn the feature on is told how.
            std::fs::write(&spec, &with).unwrap();
            std::fs::write(
                &manifest,
                off.replace(&format!("\n{feature} = ["), "\nsomething-else = ["),
            )
            .unwrap();
            let report = check(&dir).unwrap_err();
            assert!(
                report.contains(&format!(
                    "add `{feature} = [\"apikeys-runtime/{feature}\"]`"
                )),
                "{report}"
            );
            std::fs::remove_dir_all(dir).ok();
        }
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
