#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

use std::path::Path;

/// The generated modules a provider crate includes from `OUT_DIR`.
const FILES: [&str; 2] = ["client.rs", "mock.rs"];

/// Entry point for a provider crate's `build.rs`. Never panics: on failure
/// it prints one error line and exits with status 1.
pub fn run(spec_name: &str) {
    #[cfg(feature = "codegen")]
    apikeys_codegen::build_script(spec_name);

    #[cfg(not(feature = "codegen"))]
    let made = check_fresh(spec_name).and_then(|()| copy_committed());
    #[cfg(feature = "codegen")]
    let made = Ok(());
    if let Err(message) = made.and_then(|()| check_features(spec_name)) {
        eprintln!("error: {message} (building apikeys-{spec_name})");
        std::process::exit(1);
    }
}

/// What a spec construct makes the generated code name, and the provider
/// crate's feature that brings it: `format: uuid` names
/// `deps::uuid::Uuid`, a `pattern` names `deps::regress::Regex`.
const FEATURES: [(&str, &str, &str); 3] = [
    ("uuid", "deps::uuid", "`format: uuid`"),
    ("regress", "deps::regress", "`pattern`"),
    (
        "multipart",
        "deps::multipart",
        "a `multipart/form-data` body",
    ),
];

/// Every optional runtime feature a generated client may need.
pub fn optional_features() -> impl Iterator<Item = &'static str> {
    FEATURES.iter().map(|(feature, _, _)| *feature)
}

/// The optional features a generated client needs (`uuid`, `regress`,
/// `multipart`),
/// read from its code: a provider crate lists exactly these among its
/// default features (`cargo xtask check` compares).
pub fn features_needed(client: &str) -> Vec<&'static str> {
    FEATURES
        .iter()
        .filter(|(_, path, _)| client.contains(path))
        .map(|(feature, _, _)| *feature)
        .collect()
}

/// Refuses a generated client that names a crate whose feature is off,
/// with the feature to turn on, instead of the compiler's "could not find
/// `uuid` in `deps`".
fn check_features(spec_name: &str) -> Result<(), String> {
    let out = std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?;
    let client = std::fs::read_to_string(Path::new(&out).join("client.rs"))
        .map_err(|e| format!("cannot read the generated client: {e}"))?;
    missing_features(spec_name, &client, |feature| {
        std::env::var_os(format!("CARGO_FEATURE_{}", feature.to_uppercase())).is_some()
    })
}

/// What [`check_features`] says of `client` when `on` tells which crate
/// features are on.
fn missing_features(
    spec_name: &str,
    client: &str,
    on: impl Fn(&str) -> bool,
) -> Result<(), String> {
    let needed = features_needed(client);
    let missing: Vec<String> = FEATURES
        .iter()
        .filter(|(feature, _, _)| needed.contains(feature) && !on(feature))
        .map(|(feature, _, construct)| format!("`{feature}` (the spec uses {construct})"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the generated client needs the crate feature {}: add it to apikeys-{spec_name}'s default features, or to `features` where you depend on it",
        missing.join(" and ")
    ))
}

/// Inside this workspace, refuses a committed copy older than its spec:
/// the spec at `../../openapi/<name>.*` must equal the copy the generator
/// stored beside the code (`generated/spec.*`). Outside the workspace (a
/// packaged crate) there is nothing to compare and nothing to check.
#[cfg_attr(feature = "codegen", allow(dead_code))]
fn check_fresh(spec_name: &str) -> Result<(), String> {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set")?;
    let manifest = Path::new(&manifest);
    for ext in ["yaml", "yml", "json"] {
        let spec = manifest.join(format!("../../openapi/{spec_name}.{ext}"));
        if !spec.is_file() {
            continue;
        }
        println!("cargo:rerun-if-changed={}", spec.display());
        let copy = manifest.join(format!("generated/spec.{ext}"));
        let same = std::fs::read(&spec).ok() == std::fs::read(&copy).ok();
        if !same {
            return Err(format!(
                "openapi/{spec_name}.{ext} changed since generated/ was written: run `cargo xtask generate`, or build with the `codegen` feature to generate from the spec"
            ));
        }
    }
    Ok(())
}

/// Copies `generated/{client,mock}.rs` into `OUT_DIR`.
#[cfg_attr(feature = "codegen", allow(dead_code))]
fn copy_committed() -> Result<(), String> {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set")?;
    let out = std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?;
    let generated = Path::new(&manifest).join("generated");
    for file in FILES {
        println!("cargo:rerun-if-changed={}", generated.join(file).display());
    }
    for file in FILES {
        let from = generated.join(file);
        std::fs::copy(&from, Path::new(&out).join(file))
            .map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_construct_asks_for_its_feature_and_only_when_off() {
        let uuid = "pub id: ::apikeys_runtime::deps::uuid::Uuid,";
        let pattern = "::apikeys_runtime::deps::regress::Regex::new(\"^a$\")";
        let plain = "pub id: ::std::string::String,";
        assert_eq!(features_needed(plain), Vec::<&str>::new());
        assert_eq!(features_needed(uuid), ["uuid"]);
        let form = "body: ::apikeys_runtime::deps::multipart::Form,";
        assert_eq!(features_needed(form), ["multipart"]);
        assert_eq!(
            optional_features().collect::<Vec<_>>(),
            ["uuid", "regress", "multipart"]
        );
        assert_eq!(
            features_needed(&format!("{pattern}{uuid}")),
            ["uuid", "regress"]
        );
        let none_on = |_: &str| false;
        let all_on = |_: &str| true;
        assert_eq!(missing_features("x", plain, none_on), Ok(()));
        assert_eq!(missing_features("x", uuid, all_on), Ok(()));
        let both = missing_features("x", &format!("{uuid}{pattern}"), none_on).unwrap_err();
        assert!(
            both.contains(
                "`uuid` (the spec uses `format: uuid`) and `regress` (the spec uses `pattern`)"
            ),
            "{both}"
        );
        assert!(both.contains("apikeys-x's default features"), "{both}");
        let one = missing_features("x", &format!("{uuid}{pattern}"), |f| f == "uuid").unwrap_err();
        assert!(
            !one.contains("`uuid`") && one.contains("`regress`"),
            "{one}"
        );
    }
}
