//! A policy run killed anywhere, then rerun: for every provider, the run
//! is killed with SIGKILL at every fault point of a rotation and right
//! after every provider request of a whole run (the provider acted, the
//! answer never arrived). The rerun must leave every lineage with one
//! live key, named after its first key, stored in that lineage's one sink
//! file and working; a third run finds every key fresh and changes
//! nothing.

#[path = "../../../tests/common/mod.rs"]
mod common;
mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use apikeys_lifecycle::{FaultPoint, FileSink, Sink};
use common::fakes::{Fake, FakeKey, Kind};
use support::{KINDS, command, env_for, finish, name, signal, strings, temp, text};

/// The keys each fake starts with: two lineages, created long ago.
const OLD: [&str; 2] = ["old-0", "old-1"];

fn keys() -> Vec<FakeKey> {
    OLD.iter()
        .enumerate()
        .map(|(i, id)| FakeKey::new(id, &format!("svc-{i}"), &format!("{id}-secret")))
        .collect()
}

/// The settings table of `kind`'s profile: every setting the environment
/// `env` sets, read from its variable.
fn settings(kind: Kind, env: &[(String, String)]) -> String {
    let provider = match kind {
        Kind::Sunshine => apikeys_sunshine_conversations::PROVIDER,
        Kind::Finbourne => apikeys_finbourne_identity::PROVIDER,
        Kind::Cartovista => apikeys_cartovista::PROVIDER,
        Kind::Finicity => apikeys_finicity::PROVIDER,
    };
    let pairs: Vec<String> = provider
        .settings
        .iter()
        .filter(|s| env.iter().any(|(k, _)| k == s.env))
        .map(|s| format!("{} = {{ env = \"{}\" }}", s.name, s.env))
        .collect();
    format!("{{ {} }}", pairs.join(", "))
}

/// A policy of one profile keeping both keys fresh, selected by name
/// where the provider names keys, else by id.
fn policy(kind: Kind, cwd: &Path, env: &[(String, String)]) -> PathBuf {
    let select = match kind {
        Kind::Finicity => "keys = [\"old-0\", \"old-1\"]\naccept_unverifiable = true".to_owned(),
        _ => "select = \"svc-*\"".to_owned(),
    };
    let text = format!(
        "state = \"state\"\n\n[[profile]]\nname = \"p\"\nprovider = \"{}\"\n{select}\nmax_age = \"1d\"\ngrace = \"0\"\nunknown_age = \"rotate\"\nsink = \"file:keys/{{key}}.json\"\nsettings = {}\n",
        name(kind),
        settings(kind, env)
    );
    let path = cwd.join("policy.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The environment: the administrator's credentials (not a rotated key).
fn environment(kind: Kind, fake: &Fake, cwd: &Path) -> Vec<(String, String)> {
    // Only the settings a profile names through `env`, so that nothing
    // reaches the tool but through the policy file.
    env_for(kind, fake, false, cwd)
}

async fn run(cwd: &Path, env: &[(String, String)], fault: Option<&str>) -> Output {
    let mut env = env.to_vec();
    if let Some(point) = fault {
        env.push(("APIKEYS_FAULT".into(), point.into()));
    }
    let args = strings(&["--output", "json", "run", "--config", "policy.toml"]);
    finish(command(cwd, &args, &env)).await
}

/// The `action` of every key line of a JSON run.
fn actions(out: &Output) -> Vec<String> {
    text(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.get("action").and_then(|a| a.as_str()).map(str::to_owned))
        .collect()
}

/// What every case must leave once rerun: one live key per lineage, named
/// after its first key, stored in its lineage's sink file, which works.
fn check(kind: Kind, fake: &Fake, cwd: &Path, what: &str) {
    let live = fake.live();
    // Finicity cannot list: a receipt whose creation no journal knew stays
    // until its provisional period ends (within a quarter hour).
    let lasting: Vec<&FakeKey> = live
        .iter()
        .filter(|k| kind != Kind::Finicity || k.grant_end.as_deref().is_none_or(|e| e > "2030"))
        .collect();
    assert_eq!(
        lasting.len(),
        OLD.len(),
        "{what}: live keys {:?}",
        live.iter().map(|k| (&k.id, &k.name)).collect::<Vec<_>>()
    );
    for old in OLD {
        assert!(!fake.key(old).unwrap().live, "{what}: {old} is live");
    }
    if kind != Kind::Finicity {
        for i in 0..OLD.len() {
            let named = lasting
                .iter()
                .filter(|k| k.name.starts_with(&format!("svc-{i} ")))
                .count();
            assert_eq!(named, 1, "{what}: keys named after svc-{i}: {lasting:?}");
        }
    }
    let mut files: Vec<String> = std::fs::read_dir(cwd.join("keys"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    files.sort();
    assert_eq!(files.len(), OLD.len(), "{what}: sink files {files:?}");
    for file in &files {
        let stored = FileSink::new(cwd.join("keys").join(file))
            .load()
            .unwrap_or_else(|| panic!("{what}: {file} holds no credentials"));
        assert!(fake.works_with(&stored), "{what}: {file} does not work");
    }
}

/// Runs the case: the first run stopped by `stop`, then a rerun and a
/// third run, then [`check`].
async fn case(kind: Kind, what: &str, stop: Stop) {
    let fake = Fake::start_with(kind, keys(), false).await;
    let cwd = temp("policy-crash");
    let env = environment(kind, &fake, &cwd);
    policy(kind, &cwd, &env);
    let first = match stop {
        Stop::At(point) => run(&cwd, &env, Some(point.name())).await,
        Stop::AfterRequest(n) => {
            let pid = Arc::new(AtomicU32::new(0));
            let seen = Arc::new(AtomicUsize::new(0));
            let (p, s) = (pid.clone(), seen.clone());
            fake.after_request(move |_| {
                if s.fetch_add(1, Ordering::SeqCst) + 1 == n {
                    signal(p.load(Ordering::SeqCst), "-KILL");
                }
            });
            let args = strings(&["--output", "json", "run", "--config", "policy.toml"]);
            let child = command(&cwd, &args, &env).spawn().unwrap();
            pid.store(child.id().unwrap(), Ordering::SeqCst);
            let out = tokio::time::timeout(
                std::time::Duration::from_secs(120),
                child.wait_with_output(),
            )
            .await
            .expect("the run ended within two minutes")
            .unwrap();
            fake.after_request(|_| {});
            out
        }
        Stop::Never => run(&cwd, &env, None).await,
    };
    match stop {
        Stop::Never => assert_eq!(
            first.status.code(),
            Some(0),
            "{what}: {}",
            text(&first.stderr)
        ),
        _ => assert_ne!(first.status.code(), Some(0), "{what}: was not stopped"),
    }
    let rerun = run(&cwd, &env, None).await;
    assert_eq!(
        rerun.status.code(),
        Some(0),
        "{what}: the rerun: {}{}",
        text(&rerun.stdout),
        text(&rerun.stderr)
    );
    check(kind, &fake, &cwd, what);
    let made = fake.keys.lock().unwrap().len();
    let third = run(&cwd, &env, None).await;
    assert_eq!(
        third.status.code(),
        Some(0),
        "{what}: {}",
        text(&third.stderr)
    );
    let did = actions(&third);
    assert!(
        did.len() == OLD.len() && did.iter().all(|a| a == "fresh"),
        "{what}: the third run: {did:?}\n{}",
        text(&third.stderr)
    );
    assert_eq!(
        fake.keys.lock().unwrap().len(),
        made,
        "{what}: a key was made"
    );
    check(kind, &fake, &cwd, what);
    let _ = std::fs::remove_dir_all(&cwd);
}

#[derive(Clone, Copy)]
enum Stop {
    Never,
    At(FaultPoint),
    AfterRequest(usize),
}

/// How many requests a whole uninterrupted run of `kind` makes.
async fn requests_of_a_run(kind: Kind) -> usize {
    let fake = Fake::start_with(kind, keys(), false).await;
    let cwd = temp("policy-count");
    let env = environment(kind, &fake, &cwd);
    policy(kind, &cwd, &env);
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    fake.after_request(move |_| {
        s.fetch_add(1, Ordering::SeqCst);
    });
    let out = run(&cwd, &env, None).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&cwd);
    seen.load(Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_run_killed_anywhere_keeps_every_lineage() {
    let mut cases = 0;
    for kind in KINDS {
        case(kind, &format!("{kind:?} uninterrupted"), Stop::Never).await;
        for point in FaultPoint::ALL {
            let what = format!("{kind:?} killed at {}", point.name());
            case(kind, &what, Stop::At(point)).await;
            cases += 1;
        }
        let requests = requests_of_a_run(kind).await;
        assert!(requests >= 3, "{kind:?}: {requests} requests");
        for n in 1..=requests {
            let what = format!("{kind:?} killed after request {n} of {requests}");
            case(kind, &what, Stop::AfterRequest(n)).await;
            cases += 1;
        }
    }
    eprintln!("{cases} crash cases passed");
}
