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

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use apikeys_lifecycle::{FaultPoint, FileSink, Sink};
use common::fakes::{Fake, FakeKey, Kind, key_string};
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
