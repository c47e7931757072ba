//! Generates one client module per spec under `specs/` into `OUT_DIR`,
//! through the same codegen as the provider crates.

use std::path::Path;

fn main() {
    let out = std::env::var_os("OUT_DIR").expect("OUT_DIR");
    println!("cargo:rerun-if-changed=specs");
    let mut specs: Vec<_> = std::fs::read_dir("specs")
        .expect("specs/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    specs.sort();
    for spec in specs {
        println!("cargo:rerun-if-changed={}", spec.display());
        let generated = match apikeys_codegen::generate(&spec) {
            Ok(generated) => generated,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        };
        let name = spec.file_stem().and_then(|s| s.to_str()).expect("a name");
        std::fs::write(Path::new(&out).join(format!("{name}.rs")), generated.client)
            .expect("write the client");
        std::fs::write(
            Path::new(&out).join(format!("{name}_mock.rs")),
            generated.mock,
        )
        .expect("write the mock helpers");
    }
}
