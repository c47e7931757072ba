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
    if let Err(message) = check_fresh(spec_name).and_then(|()| copy_committed()) {
        eprintln!("error: {message} (building apikeys-{spec_name})");
        std::process::exit(1);
    }
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
