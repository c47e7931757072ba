//! The README's transcripts of the `apikeys` binary, produced again: each
//! `$ apikeys …` line of a `text` block is run against a FINBOURNE fake on
//! loopback, set up as the README says (the key `old` named `billing api`
//! that the tool itself calls with; the policy file of the README with the
//! fake's address), with the clock moved as the line's comment says. Its
//! output must be the README's lines, with every run of digits read as one
//! (ids, times and ages differ from run to run) and in any order (a run
//! lists rotations as the state gives them).

#[path = "../../../tests/common/mod.rs"]
mod common;
mod support;

use std::path::Path;

use common::fakes::{ADMIN_SECRET, Fake, FakeKey, Kind};
use support::{command, finish, temp, text};

/// One `$ apikeys …` line and the lines the README shows after it.
struct Step {
    args: Vec<String>,
    later_hours: i64,
    expected: Vec<String>,
}

/// The README's `text` blocks that run `apikeys`, each a list of steps.
fn transcripts() -> Vec<Vec<Step>> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("the README");
    let mut blocks = Vec::new();
    for block in readme.split("```text\n").skip(1) {
        let block = &block[..block.find("```").unwrap_or(block.len())];
        if !block.starts_with("$ apikeys ") {
            continue;
        }
        let mut steps: Vec<Step> = Vec::new();
        for line in block.lines() {
            match line.strip_prefix("$ apikeys ") {
                Some(command) => {
                    let (command, comment) = command.split_once('#').unwrap_or((command, ""));
                    let later_hours = match comment.trim() {
                        "" => 0,
                        "a day later" => 25,
                        "two hours later" => 2,
                        other => {
                            panic!("a README step says `{other}`: teach this test what it means")
                        }
                    };
                    steps.push(Step {
                        args: command.split_whitespace().map(str::to_owned).collect(),
                        later_hours,
                        expected: Vec::new(),
                    });
                }
                None => match steps.last_mut() {
                    Some(step) => step.expected.push(line.to_owned()),
                    None => panic!("a README transcript starts with `{line}`"),
                },
            }
        }
        blocks.push(steps);
    }
    blocks
}

/// `line` with every run of digits as `#`, and its end trimmed.
fn shape(line: &str) -> String {
    let mut out = String::new();
    let mut in_digits = false;
    for c in line.trim_end().chars() {
        match (c.is_ascii_digit(), in_digits) {
            (true, false) => {
                out.push('#');
                in_digits = true;
            }
            (true, true) => {}
            (false, _) => {
                out.push(c);
                in_digits = false;
            }
        }
    }
    out
}

/// The README's policy file, calling the fake.
fn policy(readme: &str, fake: &Fake) -> String {
    let start = readme
        .find("```toml\nstate = ")
        .expect("the README's policy file")
        + 8;
    let toml = &readme[start..];
    let toml = &toml[..toml.find("```").expect("its end")];
    assert!(toml.contains("https://acme.lusid.com/identity"));
    toml.replace("https://acme.lusid.com/identity", fake.base_url())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_readme_transcript_is_what_the_binary_prints() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("the README");
    let blocks = transcripts();
    assert_eq!(
        blocks.len(),
        2,
        "the README's transcripts changed: set each one up here"
    );
    let start = chrono::Utc::now();
    for (i, steps) in blocks.into_iter().enumerate() {
        let cwd = temp("readme");
        // The first: a rotation of the token the tool calls with. The
        // second: the README's policy, over two service keys and `old`.
        let (fake, env) = if i == 0 {
            let keys = vec![FakeKey::new("old", "billing api", "old-secret")];
            let fake = Fake::start_with(Kind::Finbourne, keys, false).await;
            let env = vec![
                ("FBN_IDENTITY_URL".to_owned(), fake.base_url().to_owned()),
                ("FBN_ACCESS_TOKEN".to_owned(), "old-secret".to_owned()),
            ];
            (fake, env)
        } else {
            let keys = vec![
                FakeKey::new("old-svc-0", "svc-0", "s0"),
                FakeKey::new("old-svc-1", "svc-1", "s1"),
                FakeKey::new("old", "billing", "b"),
            ];
            let fake = Fake::start_with(Kind::Finbourne, keys, false).await;
            std::fs::write(cwd.join("policy.toml"), policy(&readme, &fake)).unwrap();
            // The README's command sink, as a program on the PATH.
            let bin = cwd.join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            let put = bin.join("vault-put");
            std::fs::write(
                &put,
                "#!/bin/sh\ncat > \"$(dirname \"$0\")/../vault.json\"\n",
            )
            .unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&put, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
            let path = format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            );
            let env = vec![
                ("LUSID_TOKEN".to_owned(), ADMIN_SECRET.to_owned()),
                ("PATH".to_owned(), path),
            ];
            (fake, env)
        };
        let mut hours = 0;
        for step in steps {
            hours += step.later_hours;
            let mut env = env.clone();
            env.push((
                "APIKEYS_NOW".into(),
                (start + chrono::Duration::hours(hours)).to_rfc3339(),
            ));
            let out = finish(command(&cwd, &step.args, &env)).await;
            let what = format!("$ apikeys {}", step.args.join(" "));
            assert_eq!(out.status.code(), Some(0), "{what}: {}", text(&out.stderr));
            // A policy run's table is its standard output; a single
            // rotation's account is its standard error.
            let mut raw = text(&out.stdout);
            if !step.args.iter().any(|a| a == "run") {
                raw.push_str(&text(&out.stderr));
            }
            let mut printed: Vec<String> = raw.lines().map(shape).collect();
            let mut expected: Vec<String> = step.expected.iter().map(|l| shape(l)).collect();
            printed.sort();
            expected.sort();
            assert_eq!(
                printed,
                expected,
                "{what} printed:\n{raw}\nstderr:\n{}",
                text(&out.stderr)
            );
        }
        drop(fake);
        let _ = std::fs::remove_dir_all(Path::new(&cwd));
    }
}
