//! The crate README's tables, made from the rule lists: what the codegen
//! does to every spec (`postprocess::REWRITES`), and what it does with each
//! construct of published specs (`rules::PIPELINE`, the
//! rewrites, the reader and the fallback). A test keeps the README equal to
//! them.

use crate::rules::Row;

/// One entry of a table's sources: where it lives, and what it answers for.
struct Source {
    module: &'static str,
    name: &'static str,
    summary: Option<Row>,
    rows: &'static [Row],
    #[cfg_attr(not(test), allow(dead_code))]
    snapshots: &'static [&'static str],
}

/// The "module" of what progenitor does itself.
const GENERATOR_MODULE: &str = "progenitor";

/// What progenitor itself does, with no rule of ours.
const GENERATOR: &[Row] = &[Row {
    construct: "Rust keywords as names (`gen`, `type`, `self`)",
    action: "a trailing `_` (`gen_`), by progenitor",
}];

fn sources() -> Vec<Source> {
    let mut all = vec![Source {
        module: GENERATOR_MODULE,
        name: "progenitor",
        summary: None,
        rows: GENERATOR,
        snapshots: &["lenient-required-otherwise-spelt-and-keywords"],
    }];
    all.push(Source {
        module: crate::load::MODULE,
        name: "loose-numbers",
        summary: None,
        rows: crate::load::ROWS,
        snapshots: &["normalize-integer-bounds-past-64-bits"],
    });
    all.extend(crate::rules::PIPELINE.iter().map(|r| Source {
        module: r.module,
        name: r.name,
        summary: None,
        rows: r.rows,
        snapshots: r.snapshots,
    }));
    // A rewrite the mock helpers share with the client is listed once.
    let mock_only = crate::postprocess::MOCK_REWRITES.iter().filter(|m| {
        !crate::postprocess::REWRITES
            .iter()
            .any(|r| r.name == m.name)
    });
    let rewrites = crate::postprocess::REWRITES.iter().chain(mock_only);
    all.extend(rewrites.map(|r| Source {
        module: r.module,
        name: r.name,
        summary: r.summary,
        rows: r.rows,
        snapshots: r.snapshots,
    }));
    all.extend(crate::fallback::FALLBACKS.iter().map(|f| Source {
        module: crate::fallback::MODULE,
        name: f.0,
        summary: None,
        rows: f.1,
        snapshots: f.2,
    }));
    all
}

/// `apikeys_codegen::rules::schemas` → `src/rules/schemas.rs`.
fn file_of(module: &str) -> String {
    if module == GENERATOR_MODULE {
        return "progenitor itself".into();
    }
    let path = module
        .strip_prefix("apikeys_codegen")
        .unwrap_or(module)
        .replace("::", "/");
    match path.as_str() {
        "" => "src/lib.rs".into(),
        "/rules" | "/postprocess" => format!("src{path}/mod.rs"),
        _ => format!("src{path}.rs"),
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// A table of `header` and one line per row each source gives.
fn table(header: &str, rows: impl Fn(&Source) -> Vec<Row>) -> String {
    let mut out = format!("{header}\n|---|---|---|\n");
    for source in sources() {
        for row in rows(&source) {
            out.push_str(&format!(
                "| {} | {} | `{}` ({}) |\n",
                cell(row.construct),
                cell(row.action),
                file_of(source.module),
                source.name
            ));
        }
    }
    out
}

/// The post-processing table: every rewrite that applies to every spec.
pub fn rewrite_table() -> String {
    table(
        "| post-processing rule, for every spec | why | where |",
        |source| source.summary.into_iter().collect(),
    )
}

/// The construct table: every construct of published specs a rule answers
/// for, in the order the rules run.
pub fn construct_table() -> String {
    table("| construct | what the codegen does | where |", |source| {
        source.rows.to_vec()
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    fn crate_dir() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    /// The text between `<!-- begin NAME -->` and `<!-- end NAME -->`.
    fn section(readme: &str, name: &str) -> Option<(usize, usize)> {
        let begin = format!("<!-- begin {name}");
        let start = readme.find(&begin)?;
        let start = start + readme[start..].find("-->\n")? + 4;
        let end = readme.find(&format!("<!-- end {name} -->"))?;
        Some((start, end))
    }

    /// The README's tables are the ones the rule lists make. After a
    /// change of a rule's rows: `APIKEYS_BLESS=1 cargo test -p
    /// apikeys-codegen --lib` rewrites them.
    #[test]
    fn readme_tables_are_made_from_the_rule_lists() {
        let path = crate_dir().join("README.md");
        let mut readme = std::fs::read_to_string(&path).expect("README.md");
        let bless = std::env::var_os("APIKEYS_BLESS").is_some();
        let mut stale = Vec::new();
        for (name, table) in [
            ("rewrites", rewrite_table()),
            ("constructs", construct_table()),
        ] {
            let (start, end) = section(&readme, name)
                .unwrap_or_else(|| panic!("README.md has no `{name}` section markers"));
            if readme[start..end] != table {
                stale.push(name);
                readme.replace_range(start..end, &table);
            }
        }
        if bless {
            std::fs::write(&path, readme).expect("README.md written");
        } else {
            assert!(
                stale.is_empty(),
                "README.md's {stale:?} table(s) differ from the rule lists: run `APIKEYS_BLESS=1 cargo test -p apikeys-codegen --lib` and review the diff"
            );
        }
    }

    /// Each rule answers for at least one row, names snapshots that exist
    /// and files that hold it; each snapshot is some rule's; names are
    /// unique.
    #[test]
    fn every_rule_has_rows_and_snapshots_and_every_snapshot_a_rule() {
        let dir = crate_dir().join("tests/snapshots");
        let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
            .expect("tests/snapshots")
            .filter_map(|e| {
                let path = e.ok()?.path();
                (path.extension()? == "yaml")
                    .then(|| path.file_stem()?.to_str().map(str::to_owned))?
            })
            .collect();
        let mut named = BTreeSet::new();
        let mut names = BTreeSet::new();
        for source in sources() {
            assert!(
                names.insert((source.module, source.name)),
                "rule `{}` is listed twice in {}",
                source.name,
                source.module
            );
            assert!(
                source.summary.is_some()
                    || !source.rows.is_empty()
                    || source.module.contains("mock"),
                "rule `{}` answers for no row of the README's tables",
                source.name
            );
            assert!(
                !source.snapshots.is_empty(),
                "rule `{}` names no snapshot that shows it",
                source.name
            );
            for snapshot in source.snapshots {
                assert!(
                    on_disk.contains(*snapshot),
                    "rule `{}` names snapshot `{snapshot}`, which is not in tests/snapshots",
                    source.name
                );
                named.insert(snapshot.to_string());
            }
            let file = crate_dir().join(file_of(source.module));
            assert!(
                source.module == GENERATOR_MODULE || file.is_file(),
                "rule `{}`: no {}",
                source.name,
                file.display()
            );
        }
        let orphans: Vec<&String> = on_disk.difference(&named).collect();
        assert!(
            orphans.is_empty(),
            "snapshots no rule names (add them to the rule they show): {orphans:?}"
        );
    }

    /// The pipeline's order is the one the README's construct table
    /// follows, and no rule runs twice.
    #[test]
    fn pipeline_rules_are_listed_once() {
        let mut seen = BTreeSet::new();
        for rule in crate::rules::PIPELINE {
            assert!(seen.insert(rule.name), "`{}` runs twice", rule.name);
        }
        for list in [
            crate::postprocess::REWRITES,
            crate::postprocess::MOCK_REWRITES,
        ] {
            let mut seen = BTreeSet::new();
            for rewrite in list {
                assert!(seen.insert(rewrite.name), "`{}` runs twice", rewrite.name);
            }
        }
    }
}
