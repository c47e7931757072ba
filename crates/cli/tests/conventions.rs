//! The conventions of a well-kept command-line tool, checked on the
//! binary: the README and `--help` name the same flags and variables,
//! completion scripts and a manual page come from the same definitions,
//! and `run --help` describes the policy file.

#[path = "../../../tests/common/mod.rs"]
mod common;
mod support;

use std::collections::BTreeSet;

use support::{command, finish, strings, temp, text};

const PROVIDERS: [&str; 4] = ["sunshine", "finbourne", "cartovista", "finicity"];

async fn stdout_of(args: &[&str]) -> String {
    let cwd = temp("conventions");
    let no_env: [(&str, &str); 0] = [];
    let out = finish(command(&cwd, &strings(args), &no_env)).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Every command's `--help`, joined.
async fn every_help() -> String {
    let mut paths: Vec<Vec<&str>> = vec![
        vec![],
        vec!["audit"],
        vec!["run"],
        vec!["state", "init"],
        vec!["completions"],
        vec!["man"],
    ];
    for p in PROVIDERS {
        paths.push(vec![p]);
        for c in ["list", "create", "revoke", "rotate", "finish"] {
            paths.push(vec![p, "keys", c]);
        }
    }
    let mut all = String::new();
    for mut path in paths {
        path.push("--help");
        all.push_str(&stdout_of(&path).await);
    }
    all
}

/// Tokens of `text` that look like `--flag` or `APIKEYS_…`.
fn tokens(text: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut flags = BTreeSet::new();
    let mut vars = BTreeSet::new();
    let chars: Vec<char> = text.chars().collect();
    let word = |from: usize| -> String {
        chars[from..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == '-' || **c == '_')
            .collect()
    };
    for i in 0..chars.len() {
        let before = i.checked_sub(1).map(|j| chars[j]);
        let starts = before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        if !starts {
            continue;
        }
        if chars[i] == '-' && chars.get(i + 1) == Some(&'-') {
            let w = word(i + 2);
            if w.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
                flags.insert(format!("--{}", w.trim_end_matches('-')));
            }
        } else if chars[i] == 'A' {
            let w = word(i);
            if w.strip_prefix("APIKEYS_")
                .is_some_and(|rest| !rest.is_empty())
            {
                vars.insert(w.trim_end_matches('_').to_owned());
            }
        }
    }
    (flags, vars)
}

/// The README's part about the tool: from its heading to the next
/// top-level one.
fn readme_cli() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("the README");
    let start = readme
        .find("### The `apikeys` CLI")
        .expect("the README has a section on the CLI");
    let rest = &readme[start..];
    let end = rest[4..].find("\n## ").map_or(rest.len(), |e| e + 4);
    rest[..end].to_owned()
}

#[tokio::test]
async fn the_readme_and_help_name_the_same_flags_and_variables() {
    let help = every_help().await;
    let (help_flags, help_vars) = tokens(&help);
    let (readme_flags, readme_vars) = tokens(&readme_cli());
    // Cargo's own flags, and the variables only tests and CI read.
    let not_ours = [
        "--path",
        "--locked",
        "--release",
        "--features",
        "--workspace",
        "--test",
    ];
    let test_only = ["APIKEYS_NOW", "APIKEYS_FAULT", "APIKEYS_REQUIRE_POSTGRES"];
    let unknown: Vec<&String> = readme_flags
        .iter()
        .filter(|f| !help_flags.contains(*f) && !not_ours.contains(&f.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "the README names flags --help does not: {unknown:?}"
    );
    let undocumented: Vec<&String> = help_flags
        .iter()
        .filter(|f| !readme_flags.contains(*f) && !["--help", "--version"].contains(&f.as_str()))
        .collect();
    assert!(
        undocumented.is_empty(),
        "--help names flags the README does not: {undocumented:?}"
    );
    let vars: Vec<&String> = readme_vars
        .symmetric_difference(&help_vars)
        .filter(|v| !test_only.contains(&v.as_str()) && !v.starts_with("APIKEYS_TEST_"))
        .collect();
    assert!(
        vars.is_empty(),
        "variables in one of the README and --help only: {vars:?}"
    );
}

#[tokio::test]
async fn completions_and_the_manual_page_come_from_the_same_definitions() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = stdout_of(&["completions", shell]).await;
        // Every provider and its commands are offered, and (but by fish's
        // generator, which stops two commands deep) the flags of a
        // rotation.
        let flags: &[&str] = match shell {
            "fish" => &[],
            _ => &["grace", "accept-unverifiable", "dry-run"],
        };
        for word in PROVIDERS.iter().chain(&["rotate", "finish"]).chain(flags) {
            assert!(script.contains(word), "{shell}: no {word}");
        }
    }
    let man = stdout_of(&["man"]).await;
    assert!(
        man.starts_with(".ie") || man.contains(".TH"),
        "not roff: {}",
        &man[..80.min(man.len())]
    );
    for word in ["apikeys", "audit", "run", "completions"]
        .iter()
        .chain(&PROVIDERS)
    {
        assert!(man.contains(word), "the manual page names no {word}");
    }
    let cwd = temp("conventions");
    let no_env: [(&str, &str); 0] = [];
    let bad = finish(command(&cwd, &strings(&["completions", "tcsh"]), &no_env)).await;
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
}

#[tokio::test]
async fn run_help_describes_the_policy_file() {
    let help = stdout_of(&["run", "--help"]).await;
    for word in [
        "[[profile]]",
        "select",
        "max_age",
        "grace",
        "sink",
        "{key}",
        "settings",
        "unknown_age",
        "dry-run",
        "exit 2",
    ] {
        assert!(
            help.contains(word),
            "run --help does not mention {word}:\n{help}"
        );
    }
}
