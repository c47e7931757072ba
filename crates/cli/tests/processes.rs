//! The `apikeys` binary as operators drive it, as real processes against
//! stateful loopback fakes of the four providers: `kill -9` at every step
//! and at random moments, two runners at once, a lock holder paused
//! between its steps, the tool rotating its own credential, a grace
//! passing on a clock the test sets, and a policy run over many keys in
//! several profiles. After every stop: a working key is held; after every
//! finished run: one live key, stored and working, and no secret in the
//! journal.

#[path = "../../../tests/common/mod.rs"]
mod common;
mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use apikeys_lifecycle::{FaultPoint, FileSink, Sink};
use common::fakes::{
    ADMIN_ID, ADMIN_SECRET, APP, Fake, FakeKey, INTEGRATION, Kind, TENANT, USER, key_string,
};
use support::{
    KINDS, check_sink, command, env_for, finish, name, refused_with, signal, strings, temp, text,
    until_paused,
};

async fn apikeys(cwd: &Path, args: &[String], env: &[(String, String)]) -> Output {
    finish(command(cwd, args, env)).await
}

/// One provider's rotation of `old` into `cwd/key.json`, journaled in
/// `cwd/journal`.
fn rotate_args(kind: Kind, cwd: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = strings(&[name(kind), "keys", "rotate", "old"]);
    args.push("--sink".into());
    args.push(format!("file:{}", cwd.join("key.json").display()));
    args.push("--journal".into());
    args.push(cwd.join("journal").display().to_string());
    if kind == Kind::Finicity {
        args.push("--accept-unverifiable".into());
    }
    args.extend(strings(extra));
    args
}

/// What a finished rotation must leave: [`support::check_sink`] on
/// `cwd/key.json`, and no secret in the journal.
fn check_finished(fake: &Fake, cwd: &Path, what: &str) {
    let stored = check_sink(fake, &cwd.join("key.json"), what);
    let mut journal = String::new();
    for entry in std::fs::read_dir(cwd.join("journal")).unwrap() {
        journal.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default());
    }
    for (part, secret) in &stored.parts {
        if part != "key_id" && part != "receipt" {
            assert!(
                !journal.contains(secret.expose()),
                "{what}: {part} in the journal"
            );
        }
    }
    assert!(!journal.contains("old-secret"), "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_every_step_then_the_same_command_finishes() {
    let mut matrix = Vec::new();
    for kind in KINDS {
        for point in FaultPoint::ALL {
            let what = format!("{kind:?} kill -9 at {}", point.name());
            let fake = Fake::start(kind).await;
            let cwd = temp(point.name());
            // The tool calls with the key it rotates: after the kill, the
            // rerun must find its way to the new key by itself.
            let env = env_for(kind, &fake, true, &cwd);
            let args = rotate_args(kind, &cwd, &["--grace", "0"]);
            let mut paused_env = env.clone();
            paused_env.push(("APIKEYS_FAULT".into(), format!("pause:{}", point.name())));
            let mut child = command(&cwd, &args, &paused_env).spawn().unwrap();
            until_paused(&mut child, &what).await;
            signal(child.id().unwrap(), "-KILL");
            let status = child.wait().await.unwrap();
            assert_eq!(status.code(), None, "{what}: not killed");
            let sink = FileSink::new(cwd.join("key.json"));
            assert!(
                fake.holds_a_working_key(&sink),
                "{what}: no working key held"
            );

            let rerun = apikeys(&cwd, &args, &env).await;
            assert!(
                rerun.status.success(),
                "{what}: the rerun failed: {}",
                text(&rerun.stderr)
            );
            check_finished(&fake, &cwd, &what);
            matrix.push(format!(
                "{what}: finished by the rerun, {} key(s) made",
                fake.keys.lock().unwrap().len() - 1
            ));
        }
    }
    eprintln!("{}", matrix.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_never_loses_the_working_key() {
    let mut kills = 0;
    for kind in KINDS {
        for seed in 0..3u64 {
            let what = format!("{kind:?} seed {seed}");
            let mut rng = fastrand::Rng::with_seed(seed);
            let fake = Fake::start(kind).await;
            let cwd = temp("random");
            let env = env_for(kind, &fake, true, &cwd);
            let args = rotate_args(kind, &cwd, &["--grace", "0"]);
            let sink = FileSink::new(cwd.join("key.json"));
            let mut finished = false;
            for attempt in 0..40 {
                let mut child = command(&cwd, &args, &env).spawn().unwrap();
                // Later attempts wait longer, so that the run ends.
                let delay = rng.u64(..15 + attempt * 5);
                tokio::time::sleep(Duration::from_millis(delay)).await;
                if let Ok(Some(status)) = child.try_wait() {
                    assert!(status.success(), "{what}: exited {status}");
                    finished = true;
                    break;
                }
                let _ = child.start_kill();
                let status = child.wait().await.unwrap();
                if status.success() {
                    finished = true;
                    break;
                }
                kills += 1;
                assert!(
                    fake.holds_a_working_key(&sink),
                    "{what}: no working key after a kill at {delay} ms"
                );
            }
            if !finished {
                let rerun = apikeys(&cwd, &args, &env).await;
                assert!(rerun.status.success(), "{what}: {}", text(&rerun.stderr));
            }
            check_finished(&fake, &cwd, &what);
        }
    }
    eprintln!("{kills} processes killed at random moments; every rotation finished");
    assert!(kills > 0, "no run was ever killed: the delays are too long");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runners_at_once_make_one_rotation() {
    for kind in KINDS {
        for round in 0..4 {
            let what = format!("{kind:?} round {round}");
            let fake = Fake::start(kind).await;
            let cwd = temp("two");
            let env = env_for(kind, &fake, false, &cwd);
            let args = rotate_args(kind, &cwd, &["--grace", "0"]);
            let (a, b) = tokio::join!(apikeys(&cwd, &args, &env), apikeys(&cwd, &args, &env));
            let codes = [a.status.code(), b.status.code()];
            assert!(
                codes.iter().all(|c| matches!(c, Some(0 | 5))) && codes.contains(&Some(0)),
                "{what}: {codes:?}\n{}\n{}",
                text(&a.stderr),
                text(&b.stderr)
            );
            // The refused one finishes nothing twice: rerunning changes
            // nothing either.
            let again = apikeys(&cwd, &args, &env).await;
            assert!(again.status.success(), "{what}: {}", text(&again.stderr));
            assert_eq!(
                fake.keys.lock().unwrap().len(),
                2,
                "{what}: more than one key was made"
            );
            check_finished(&fake, &cwd, &what);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_lock_holder_is_never_overtaken() {
    for point in [
        "lock-opened",
        "locked",
        "started",
        "created-journaled",
        "stored-journaled",
    ] {
        for kind in [Kind::Sunshine, Kind::Finbourne] {
            let what = format!("{kind:?} holder paused at {point}");
            let fake = Fake::start(kind).await;
            let cwd = temp("paused");
            let env = env_for(kind, &fake, false, &cwd);
            let args = rotate_args(kind, &cwd, &["--grace", "0"]);
            let mut paused_env = env.clone();
            paused_env.push(("APIKEYS_FAULT".into(), format!("pause:{point}")));
            let mut holder = command(&cwd, &args, &paused_env).spawn().unwrap();
            until_paused(&mut holder, &what).await;
            let second = apikeys(&cwd, &args, &env).await;
            if point == "lock-opened" {
                // The file is open but not locked: the second run takes
                // the lock and rotates; the holder, continued, finds the
                // rotation done.
                assert!(second.status.success(), "{what}: {}", text(&second.stderr));
            } else {
                assert_eq!(
                    second.status.code(),
                    Some(5),
                    "{what}: {}",
                    text(&second.stderr)
                );
                let holder_pid = holder.id().unwrap().to_string();
                assert!(
                    text(&second.stderr).contains(&holder_pid),
                    "{what}: the refusal does not name the holder: {}",
                    text(&second.stderr)
                );
            }
            signal(holder.id().unwrap(), "-CONT");
            let held = tokio::time::timeout(Duration::from_secs(60), holder.wait_with_output())
                .await
                .unwrap()
                .unwrap();
            assert!(held.status.success(), "{what}: {}", text(&held.stderr));
            assert_eq!(
                fake.keys.lock().unwrap().len(),
                2,
                "{what}: more than one key was made"
            );
            check_finished(&fake, &cwd, &what);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_the_tools_own_key_into_a_command_needs_consent() {
    for kind in [Kind::Sunshine, Kind::Finbourne, Kind::Cartovista] {
        let what = format!("{kind:?}");
        let fake = Fake::start(kind).await;
        let cwd = temp("own");
        let env = env_for(kind, &fake, true, &cwd);
        let out = cwd.join("from-command.json");
        let mut args = strings(&[name(kind), "keys", "rotate", "old", "--sink"]);
        args.push(format!("command:tee {}", out.display()));
        args.extend(strings(&["--grace", "0", "--journal"]));
        args.push(cwd.join("journal").display().to_string());
        let refused = apikeys(&cwd, &args, &env).await;
        assert_eq!(
            refused.status.code(),
            Some(2),
            "{what}: {}",
            text(&refused.stderr)
        );
        assert!(
            text(&refused.stderr).contains("--allow-unreadable-sink"),
            "{what}"
        );
        assert_eq!(fake.keys.lock().unwrap().len(), 1, "{what}: a key was made");

        args.push("--allow-unreadable-sink".into());
        let done = apikeys(&cwd, &args, &env).await;
        assert!(done.status.success(), "{what}: {}", text(&done.stderr));
        assert!(!fake.key("old").unwrap().live, "{what}");
        assert_eq!(fake.live().len(), 1, "{what}");
    }
    // A key the tool does not call with goes to a command without a word.
    let fake = Fake::start(Kind::Sunshine).await;
    let cwd = temp("not-own");
    let env = env_for(Kind::Sunshine, &fake, false, &cwd);
    let mut args = strings(&["sunshine", "keys", "rotate", "old", "--sink", "command:cat"]);
    args.extend(strings(&["--grace", "0", "--journal"]));
    args.push(cwd.join("journal").display().to_string());
    let done = apikeys(&cwd, &args, &env).await;
    assert!(done.status.success(), "{}", text(&done.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grace_and_the_idle_wait_pass_on_a_clock_the_test_sets() {
    let t0 = chrono::Utc::now();
    let at = |hours: i64| (t0 + chrono::Duration::hours(hours)).to_rfc3339();
    for kind in KINDS {
        let what = format!("{kind:?}");
        let fake = Fake::start(kind).await;
        let cwd = temp("grace");
        let env = env_for(kind, &fake, true, &cwd);
        let args = rotate_args(kind, &cwd, &["--grace", "48h"]);
        let with_clock = |hours| {
            let mut env = env.clone();
            env.push(("APIKEYS_NOW".into(), at(hours)));
            env
        };
        let first = apikeys(&cwd, &args, &with_clock(0)).await;
        assert!(first.status.success(), "{what}: {}", text(&first.stderr));
        assert!(
            text(&first.stderr).contains("both keys stay live until"),
            "{what}"
        );
        assert_eq!(
            fake.live().len(),
            2,
            "{what}: both keys live during the grace"
        );
        let early = apikeys(&cwd, &args, &with_clock(47)).await;
        assert!(early.status.success(), "{what}: {}", text(&early.stderr));
        assert!(
            fake.key("old").unwrap().live,
            "{what}: revoked before the grace passed"
        );
        let mut finish = args.clone();
        finish[2] = "finish".into();
        let done = apikeys(&cwd, &finish, &with_clock(49)).await;
        assert!(done.status.success(), "{what}: {}", text(&done.stderr));
        check_finished(&fake, &cwd, &what);
        assert_eq!(fake.keys.lock().unwrap().len(), 2, "{what}");
    }

    // CartoVista reports last use: the old key, used an hour before the
    // clock, is kept until it has been idle for two.
    let fake = Fake::start(Kind::Cartovista).await;
    let cwd = temp("idle");
    let env = env_for(Kind::Cartovista, &fake, false, &cwd);
    fake.keys.lock().unwrap()[0].last_used = Some(at(-1));
    let args = rotate_args(
        Kind::Cartovista,
        &cwd,
        &["--grace", "0", "--wait-idle", "2h"],
    );
    let mut now = env.clone();
    now.push(("APIKEYS_NOW".into(), at(0)));
    let waiting = apikeys(&cwd, &args, &now).await;
    assert!(waiting.status.success(), "{}", text(&waiting.stderr));
    assert!(
        text(&waiting.stderr).contains("used recently"),
        "{}",
        text(&waiting.stderr)
    );
    assert!(fake.key("old").unwrap().live);
    let mut later = env.clone();
    later.push(("APIKEYS_NOW".into(), at(2)));
    let done = apikeys(&cwd, &args, &later).await;
    assert!(done.status.success(), "{}", text(&done.stderr));
    check_finished(&fake, &cwd, "CartoVista idle");
    // Asking a provider that does not report last use is refused at once.
    let fake = Fake::start(Kind::Sunshine).await;
    let cwd = temp("idle-refused");
    let env = env_for(Kind::Sunshine, &fake, false, &cwd);
    let args = rotate_args(Kind::Sunshine, &cwd, &["--wait-idle", "2h"]);
    let refused = apikeys(&cwd, &args, &env).await;
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert_eq!(fake.keys.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cartovista_stores_the_key_form_its_header_takes() {
    // A service whose apiKey header takes `accessKeyString`: the rotation
    // verifies with it and stores it, and calls with it once it rotated its
    // own key.
    let fake = Fake::start_with(
        Kind::Cartovista,
        vec![FakeKey::new("old", "production", "old-secret")],
        true,
    )
    .await;
    let cwd = temp("key-string");
    let env = env_for(Kind::Cartovista, &fake, true, &cwd);
    let args = rotate_args(Kind::Cartovista, &cwd, &["--grace", "0"]);
    let done = apikeys(&cwd, &args, &env).await;
    assert!(done.status.success(), "{}", text(&done.stderr));
    let stored = FileSink::new(cwd.join("key.json")).load().unwrap();
    let new = fake.live();
    assert_eq!(new.len(), 1);
    assert_eq!(
        stored.part("api_key").map(|s| s.expose().to_owned()),
        Some(key_string(&new[0].id))
    );
    check_finished(&fake, &cwd, "CartoVista accessKeyString");
}

/// A policy file of three profiles over three providers, `n` keys each.
fn policy(cwd: &Path, fakes: &[Fake]) -> PathBuf {
    let [sunshine, finbourne, cartovista] = fakes else {
        panic!("three fakes")
    };
    let text = format!(
        r#"state = "state"

[defaults]
max_age = "30d"
grace = "1h"

[[profile]]
name = "chat"
provider = "sunshine"
select = "svc-*"
unknown_age = "rotate"
sink = "file:keys/chat-{{key}}.json"
settings = {{ key_id = "{ADMIN_ID}", key_secret = {{ env = "CHAT_SECRET" }}, app_id = "{APP}", integration_id = "{INTEGRATION}", base_url = "{}" }}

[[profile]]
name = "lusid"
provider = "finbourne"
keys = ["old-0", "old-1", "old-2", "old-3", "old-4", "old-5"]
sink = "file:keys/lusid-{{key}}.json"
settings = {{ identity_url = "{}", access_token = {{ env = "LUSID_TOKEN" }} }}

[[profile]]
name = "maps"
provider = "cartovista"
select = "*"
max_age = "400d"
sink = "file:keys/maps-{{key}}.json"
grace = "0"
settings = {{ api_key = {{ env = "MAPS_KEY" }}, secret_key = {{ env = "MAPS_SECRET" }}, tenant = "{TENANT}", user = "{USER}", base_url = "{}" }}
"#,
        sunshine.base_url(),
        finbourne.base_url(),
        cartovista.base_url()
    );
    let path = cwd.join("policy.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn many(prefix: &str, secret: &str, n: usize) -> Vec<FakeKey> {
    (0..n)
        .map(|i| {
            FakeKey::new(
                &format!("{prefix}-{i}"),
                &format!("svc-{i}"),
                &format!("{secret}-{i}"),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_run_over_many_keys_in_several_profiles() {
    let fakes = vec![
        Fake::start_with(Kind::Sunshine, many("key", "s", 6), false).await,
        Fake::start_with(Kind::Finbourne, many("old", "t", 6), false).await,
        Fake::start_with(Kind::Cartovista, many("cv", "c", 6), false).await,
    ];
    let cwd = temp("policy");
    let config = policy(&cwd, &fakes);
    let env: Vec<(String, String)> = [
        ("CHAT_SECRET", ADMIN_SECRET),
        ("LUSID_TOKEN", ADMIN_SECRET),
        ("MAPS_KEY", ADMIN_ID),
        ("MAPS_SECRET", ADMIN_SECRET),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let run = |hours: i64, extra: &'static [&'static str]| {
        let mut args = strings(&["--output", "json", "run", "--config"]);
        args.push(config.display().to_string());
        args.extend(strings(extra));
        let mut env = env.clone();
        env.push((
            "APIKEYS_NOW".into(),
            (chrono::Utc::now() + chrono::Duration::hours(hours)).to_rfc3339(),
        ));
        let cwd = cwd.clone();
        async move { apikeys(&cwd, &args, &env).await }
    };
    let actions = |output: &Output| -> Vec<(String, String)> {
        text(&output.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v.get("action").is_some())
            .map(|v| {
                (
                    v["profile"].as_str().unwrap_or("").to_owned(),
                    v["action"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    };
    let count = |lines: &[(String, String)], profile: &str, action: &str| {
        lines
            .iter()
            .filter(|(p, a)| p == profile && a == action)
            .count()
    };

    let plan = run(0, &["--dry-run"]).await;
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stderr));
    let planned = actions(&plan);
    assert_eq!(count(&planned, "chat", "would-rotate"), 6, "{planned:?}");
    assert_eq!(count(&planned, "lusid", "would-rotate"), 6, "{planned:?}");
    assert_eq!(count(&planned, "maps", "fresh"), 6, "{planned:?}");
    assert_eq!(
        fakes[0].keys.lock().unwrap().len(),
        6,
        "a dry run made a key"
    );

    // Rotate: every key past its age gets a successor; the old ones stay
    // live for the grace (an hour).
    let first = run(0, &[]).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let did = actions(&first);
    assert_eq!(count(&did, "chat", "rotated"), 6, "{did:?}");
    assert_eq!(count(&did, "lusid", "rotated"), 6, "{did:?}");
    assert_eq!(fakes[0].live().len(), 12);
    assert_eq!(fakes[1].live().len(), 12);

    // Two hours later: the old keys go; nothing new is made.
    let second = run(2, &[]).await;
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    let did = actions(&second);
    assert_eq!(count(&did, "chat", "finished"), 6, "{did:?}");
    assert_eq!(count(&did, "lusid", "finished"), 6, "{did:?}");
    for fake in &fakes[..2] {
        assert_eq!(fake.live().len(), 6, "{:?}", fake.kind);
        assert_eq!(fake.keys.lock().unwrap().len(), 12, "{:?}", fake.kind);
        assert!(
            fake.live()
                .iter()
                .all(|k| !k.id.starts_with("old") && !k.id.starts_with("key"))
        );
    }

    // Once more: every key is fresh (Sunshine's ages come from the
    // journal of the rotations that made them).
    let third = run(3, &[]).await;
    assert_eq!(third.status.code(), Some(0), "{}", text(&third.stderr));
    let did = actions(&third);
    for profile in ["chat", "lusid", "maps"] {
        assert_eq!(count(&did, profile, "fresh"), 6, "{profile}: {did:?}");
    }
    assert_eq!(fakes[2].keys.lock().unwrap().len(), 6, "maps was rotated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_file_with_a_mistake_runs_nothing() {
    let fake = Fake::start(Kind::Finbourne).await;
    let cwd = temp("bad-policy");
    for (body, says) in [
        (
            "provider = \"nope\"\nkeys = [\"old\"]",
            "no provider `nope`",
        ),
        ("provider = \"finbourne\"", "name the keys"),
        (
            "provider = \"finbourne\"\nkeys = [\"old\"]\ngrase = \"1h\"",
            "grase",
        ),
        (
            "provider = \"finbourne\"\nkeys = [\"old\"]\nsettings = { token = \"x\" }",
            "reads no setting token",
        ),
        (
            "provider = \"finbourne\"\nkeys = [\"old\"]\nsettings = { access_token = \"in-the-file\" }",
            "is a credential",
        ),
        (
            "provider = \"finbourne\"\nkeys = [\"old\"]\nmax_age = \"99999999999999999w\"",
            "too long",
        ),
        (
            "provider = \"finbourne\"\nkeys = [\"old\"]\n\n[[profile]]\nname = \"p\"\nprovider = \"finbourne\"\nkeys = [\"k\"]\nsink = \"file:j.json\"",
            "two profiles have this name",
        ),
        (
            "provider = \"finbourne\"\nkeys = [\"old\"]\n\n[[profile]]\nname = \"../up\"\nprovider = \"finbourne\"\nkeys = [\"k\"]\nsink = \"file:j.json\"",
            "names its journal folder",
        ),
        (
            "provider = \"finbourne\"\nkeys = [\"old\"]\nsink = \"ftp:k\"",
            "sink `ftp:k`",
        ),
    ] {
        // `[defaults]` gives the age and sink a profile may override.
        let text_ = format!(
            "[defaults]\nmax_age = \"1d\"\nsink = \"file:k.json\"\n\n[[profile]]\nname = \"p\"\n{body}\n"
        );
        let path = cwd.join("policy.toml");
        std::fs::write(&path, text_).unwrap();
        let args = vec!["run".into(), "--config".into(), path.display().to_string()];
        let env = vec![("FBN_IDENTITY_URL".to_owned(), fake.base_url().to_owned())];
        let out = apikeys(&cwd, &args, &env).await;
        assert_eq!(out.status.code(), Some(2), "{body}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains(says),
            "{body}: {}",
            text(&out.stderr)
        );
        assert!(!text(&out.stderr).contains("in-the-file"), "{body}");
        assert_eq!(fake.keys.lock().unwrap().len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_that_rotates_the_tools_own_key_keeps_working() {
    // The profile's configured key is the one it keeps fresh: once a run
    // revoked it, the next run calls with its stored successor.
    for (kind, settings) in [
        (
            Kind::Sunshine,
            format!(
                r#"key_id = "old", key_secret = {{ env = "OWN_SECRET" }}, app_id = "{APP}", integration_id = "{INTEGRATION}""#
            ),
        ),
        (
            Kind::Cartovista,
            format!(
                r#"api_key = {{ env = "OWN_KEY" }}, secret_key = {{ env = "OWN_SECRET" }}, tenant = "{TENANT}", user = "{USER}""#
            ),
        ),
        (
            Kind::Finbourne,
            r#"access_token = { env = "OWN_SECRET" }"#.to_owned(),
        ),
    ] {
        let what = format!("{kind:?}");
        let fake = Fake::start(kind).await;
        let cwd = temp("own-policy");
        let base = match kind {
            Kind::Finbourne => "identity_url",
            _ => "base_url",
        };
        // Keys are named as `list` shows them: CartoVista's by fingerprint.
        let shown = match kind {
            Kind::Cartovista => apikeys_lifecycle::KeyId::secret("old").shown(),
            _ => "old".to_owned(),
        };
        let config = cwd.join("policy.toml");
        std::fs::write(
            &config,
            format!(
                "[[profile]]\nname = \"own\"\nprovider = \"{}\"\nkeys = [\"{shown}\"]\nmax_age = \"30d\"\ngrace = \"1h\"\nunknown_age = \"rotate\"\nsink = \"file:keys/own-{{key}}.json\"\nsettings = {{ {settings}, {base} = \"{}\" }}\n",
                name(kind),
                fake.base_url()
            ),
        )
        .unwrap();
        let env = vec![
            ("OWN_SECRET".to_owned(), "old-secret".to_owned()),
            ("OWN_KEY".to_owned(), "old".to_owned()),
        ];
        let run = |hours: i64| {
            let mut env = env.clone();
            env.push((
                "APIKEYS_NOW".into(),
                (chrono::Utc::now() + chrono::Duration::hours(hours)).to_rfc3339(),
            ));
            let args = vec![
                "run".into(),
                "--config".into(),
                config.display().to_string(),
            ];
            let cwd = cwd.clone();
            async move { apikeys(&cwd, &args, &env).await }
        };
        for (hours, expected) in [(0, "rotated"), (2, "finished"), (3, "fresh")] {
            let out = run(hours).await;
            assert_eq!(
                out.status.code(),
                Some(0),
                "{what} at +{hours}h: {}{}",
                text(&out.stdout),
                text(&out.stderr)
            );
            assert!(
                text(&out.stdout).contains(expected),
                "{what} at +{hours}h: {}",
                text(&out.stdout)
            );
        }
        assert!(!fake.key("old").unwrap().live, "{what}");
        assert_eq!(fake.live().len(), 1, "{what}");
        assert_eq!(fake.keys.lock().unwrap().len(), 2, "{what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_finbourne_token_expires_when_asked_and_others_refuse_the_setting() {
    let now = "2026-11-28T12:00:00Z";
    let fake = Fake::start(Kind::Finbourne).await;
    let cwd = temp("lifetime");
    let mut env = env_for(Kind::Finbourne, &fake, true, &cwd);
    env.push(("APIKEYS_NOW".into(), now.into()));
    let args = rotate_args(
        Kind::Finbourne,
        &cwd,
        &["--grace", "0", "--new-key-lifetime", "90d"],
    );
    let done = apikeys(&cwd, &args, &env).await;
    assert!(done.status.success(), "{}", text(&done.stderr));
    let new = fake.live().pop().unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(new.grant_end.as_deref().unwrap()).unwrap();
    let asked = chrono::DateTime::parse_from_rfc3339(now).unwrap() + chrono::Duration::days(90);
    assert_eq!(expires, asked);
    check_finished(&fake, &cwd, "FINBOURNE lifetime");

    // Providers that take no expiry refuse the setting before creating.
    for kind in [Kind::Sunshine, Kind::Cartovista, Kind::Finicity] {
        let fake = Fake::start(kind).await;
        let cwd = temp("lifetime-refused");
        let env = env_for(kind, &fake, false, &cwd);
        let args = rotate_args(kind, &cwd, &["--new-key-lifetime", "90d"]);
        let refused = apikeys(&cwd, &args, &env).await;
        assert_eq!(
            refused.status.code(),
            Some(2),
            "{kind:?}: {}",
            text(&refused.stderr)
        );
        assert_eq!(
            fake.keys.lock().unwrap().len(),
            1,
            "{kind:?}: a key was made"
        );
    }

    // Lifetimes at the extremes and around each bound (an hour; longer
    // than the grace): those that cannot work are refused with exit 2
    // before any provider call, the others rotate.
    for (lifetime, grace, works) in [
        ("0", "0", false),
        ("1s", "0", false),
        ("59m", "0", false),
        ("3599s", "0", false),
        ("24h", "24h", false),
        ("2h", "3h", false),
        ("7d", "8d", false),
        ("1h", "0", true),
        ("3600s", "59m", true),
        ("25h", "24h", true),
    ] {
        let what = format!("lifetime {lifetime}, grace {grace}");
        let fake = Fake::start(Kind::Finbourne).await;
        let cwd = temp("lifetime-bound");
        let env = env_for(Kind::Finbourne, &fake, false, &cwd);
        let args = rotate_args(
            Kind::Finbourne,
            &cwd,
            &["--grace", grace, "--new-key-lifetime", lifetime],
        );
        let out = apikeys(&cwd, &args, &env).await;
        if works {
            assert!(out.status.success(), "{what}: {}", text(&out.stderr));
        } else {
            refused_with(&out, 2, "cannot work", &what);
            assert!(fake.server.requests().is_empty(), "{what}: a provider call");
        }
    }
}

/// A mistyped key id, for every provider that lists its keys: `rotate`
/// (and its dry run) refuses with exit 2 before any create, and `revoke`
/// says the key is not there with exit 6; nothing changes at the provider.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mistyped_key_id_creates_and_revokes_nothing() {
    for kind in [Kind::Sunshine, Kind::Finbourne, Kind::Cartovista] {
        let fake = Fake::start(kind).await;
        let cwd = temp("mistyped");
        let env = env_for(kind, &fake, false, &cwd);
        let sink = format!("file:{}", cwd.join("key.json").display());
        let journal = cwd.join("journal").display().to_string();
        for dry in [true, false] {
            let mut args = strings(&[
                name(kind),
                "keys",
                "rotate",
                "int_doesnotexist",
                "--sink",
                &sink,
                "--journal",
                &journal,
            ]);
            if dry {
                args.push("--dry-run".into());
            }
            let refused = apikeys(&cwd, &args, &env).await;
            let what = format!("{kind:?} rotate (dry run: {dry})");
            refused_with(&refused, 2, "no key `int_doesnotexist`", &what);
        }
        let args = strings(&[name(kind), "keys", "revoke", "doesnotexist"]);
        let revoked = apikeys(&cwd, &args, &env).await;
        refused_with(
            &revoked,
            6,
            "no key `doesnotexist`",
            &format!("{kind:?} revoke"),
        );
        assert!(!text(&revoked.stderr).contains("revoked doesnotexist"));
        assert_eq!(
            fake.keys.lock().unwrap().len(),
            1,
            "{kind:?}: a key was made"
        );
        assert!(
            fake.key("old").unwrap().live,
            "{kind:?}: the old key was revoked"
        );
        assert!(
            fake.server.requests().iter().all(|r| r.method == "GET"),
            "{kind:?}: only lists were sent"
        );
    }
}
