//! One small spec per normalization rule and per post-processing rewrite
//! (`tests/snapshots/<rule>.yaml`), and what the codegen makes of it
//! (`<rule>.snap`, checked in and reviewed like code): the notes and
//! skipped operations, the model types, and the operations. A change in
//! what any rule produces shows up here as a diff.
//!
//! After a deliberate change, rewrite the snapshots and review the diff:
//! `APIKEYS_BLESS=1 cargo test -p apikeys-codegen --test snapshots`.

use std::path::{Path, PathBuf};

use quote::ToTokens;

/// The parts of a generated client a rule can change: `types` (without
/// the constant conversion-error module) and the `Client` impls that hold
/// operations or the runtime's view of the client.
fn relevant(code: &str) -> String {
    let file = syn::parse_file(code).expect("generated code parses");
    let mut kept = Vec::new();
    for item in file.items {
        match item {
            syn::Item::Mod(mut m) if m.ident == "types" => {
                if let Some((_, items)) = m.content.as_mut() {
                    items.retain(|i| !matches!(i, syn::Item::Mod(inner) if inner.ident == "error"));
                }
                kept.push(syn::Item::Mod(m));
            }
            syn::Item::Impl(imp) if imp.self_ty.to_token_stream().to_string() == "Client" => {
                let is_glue = imp.trait_.as_ref().is_some_and(|(path, _)| {
                    path.segments
                        .last()
                        .is_some_and(|s| s.ident == "GeneratedClient")
                });
                let has_operations = imp
                    .items
                    .iter()
                    .any(|i| matches!(i, syn::ImplItem::Fn(f) if f.sig.asyncness.is_some()));
                if is_glue || (imp.trait_.is_none() && has_operations) {
                    kept.push(syn::Item::Impl(imp));
                }
            }
            _ => {}
        }
    }
    let mut file: syn::File = syn::parse_quote!();
    file.items = kept;
    prettyplease::unparse(&file)
}

fn snapshot(spec: &Path) -> String {
    let mut out = String::new();
    match apikeys_codegen::generate(spec) {
        Ok(generated) => {
            for note in &generated.notes {
                out.push_str(&format!("// normalized: {note}\n"));
            }
            for skip in &generated.skipped {
                out.push_str(&format!("// skipped: {skip}\n"));
            }
            out.push('\n');
            out.push_str(&relevant(&generated.client));
            let name = spec.to_string_lossy();
            if ["path-segments", "form-encoding", "multipart"]
                .iter()
                .any(|with_mock| name.contains(with_mock))
            {
                out.push_str("\n// mock helpers\n");
                out.push_str(&generated.mock);
            }
        }
        Err(e) => out.push_str(&format!("// error at {}: {}\n", e.location, e.message)),
    }
    out
}

fn specs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/snapshots")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    specs.sort();
    specs
}

#[test]
fn every_rule_produces_its_checked_in_snapshot() {
    let bless = std::env::var_os("APIKEYS_BLESS").is_some();
    let specs = specs();
    assert!(
        specs.len() >= 29,
        "snapshot specs went missing: {}",
        specs.len()
    );
    let mut stale = Vec::new();
    for spec in &specs {
        let expected_path = spec.with_extension("snap");
        let actual = snapshot(spec);
        if bless {
            std::fs::write(&expected_path, &actual).expect("write the snapshot");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            let first = expected
                .lines()
                .zip(actual.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(expected.lines().count().min(actual.lines().count()));
            stale.push(format!(
                "{}: differs from line {}:\n  expected: {}\n  actual:   {}",
                expected_path.display(),
                first + 1,
                expected.lines().nth(first).unwrap_or("<end>"),
                actual.lines().nth(first).unwrap_or("<end>"),
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "{}\nreview, then rewrite with APIKEYS_BLESS=1",
        stale.join("\n")
    );
}
