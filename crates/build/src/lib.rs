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
    if let Err(message) = copy_committed() {
        eprintln!(
            "error: {message} (for {spec_name}; enable the `codegen` feature to generate it)"
        );
        std::process::exit(1);
    }
}

/// Copies `generated/{client,mock}.rs` into `OUT_DIR`.
#[cfg_attr(feature = "codegen", allow(dead_code))]
fn copy_committed() -> Result<(), String> {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set")?;
    let out = std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?;
    let generated = Path::new(&manifest).join("generated");
    println!("cargo:rerun-if-changed={}", generated.display());
    for file in FILES {
        let from = generated.join(file);
        std::fs::copy(&from, Path::new(&out).join(file))
            .map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
    }
    Ok(())
}
