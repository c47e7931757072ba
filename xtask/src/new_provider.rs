//! `cargo xtask new-provider`: scaffold and generate a provider crate.

use super::*;

/// A spec of our own for a new provider that brings none: one list
/// operation, to be replaced by the provider's.
pub(crate) const TEMPLATE_SPEC: &str = r#"openapi: 3.0.3
info:
  title: NAME keys
  version: '1'
  description: Describe the API in your own words; every description becomes a doc comment.
servers:
  - url: https://api.example.invalid
security:
  - token: []
paths:
  /keys:
    get:
      operationId: listKeys
      summary: List the API keys.
      responses:
        '200':
          description: Every key.
          content:
            application/json:
              schema:
                type: array
                items:
                  $ref: '#/components/schemas/Key'
components:
  securitySchemes:
    token:
      type: http
      scheme: bearer
  schemas:
    Key:
      type: object
      description: One API key.
      required: [id]
      properties:
        id:
          type: string
          description: The key's id.
"#;

/// What `new-provider` writes, relative to the workspace: the spec, and
/// the crate's files from the one template ([`crate::template`]).
pub(crate) fn scaffold(name: &str, spec: String, ext: &str) -> Vec<(String, String)> {
    let mut files = vec![(format!("openapi/{name}.{ext}"), spec)];
    files.extend(
        crate::template::provider_crate(name)
            .into_iter()
            .map(|(path, text)| (format!("crates/{name}/{path}"), text)),
    );
    files
}

/// `cargo xtask new-provider <name> [--spec FILE]`: scaffolds a provider
/// crate — spec, manifest, build script, lib.rs, README, a smoke test —
/// and generates it, so that adding a provider touches no hand-kept list
/// (the workspace, xtask and CI find crates by their `generated/` folder).
pub(crate) fn new_provider(root: &Path, args: &[String]) -> Result<(), String> {
    let name = args
        .first()
        .filter(|n| {
            !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        .ok_or(
            "usage: cargo xtask new-provider <name: lowercase letters, digits, -> [--spec FILE]",
        )?;
    let crate_dir = root.join("crates").join(name);
    if crate_dir.exists() || apikeys_codegen::spec_path(root, name).is_some() {
        return Err(format!("crates/{name} or openapi/{name}.* exists already"));
    }
    let (spec, ext) = match args.iter().position(|a| a == "--spec") {
        Some(i) => {
            let file = args.get(i + 1).ok_or("--spec needs a file")?;
            let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
            // Kept in the format it is written in: a JSON spec saved as
            // `.yaml` would be read as YAML, which not all JSON is.
            let ext = match Path::new(file).extension().and_then(|e| e.to_str()) {
                Some("json") => "json",
                Some("yml") => "yml",
                _ => "yaml",
            };
            (text, ext)
        }
        None => (TEMPLATE_SPEC.replace("NAME", name), "yaml"),
    };
    let files = scaffold(name, spec, ext);
    let listed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write_files(root, &listed)?;
    for (path, _) in &listed {
        println!("wrote {path}");
    }
    generate(root)?;
    // The new crate's entry in Cargo.lock, so that --locked builds work.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["update", "--workspace", "--quiet"])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo update: {e}"))?;
    if !status.success() {
        return Err("cargo update --workspace failed".into());
    }
    println!(
        "apikeys-{name} is ready: write its README, tests against loopback servers, and the hand-written auth it needs"
    );
    Ok(())
}
