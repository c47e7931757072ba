//! Rotation state in a real PostgreSQL database, shared by runners as
//! separate processes with separate working folders: exactly one rotation
//! of a key however many runners start it, a killed lock holder replaced
//! at once, and a policy run of two runners over a hundred keys, measured.
//!
//! Needs `APIKEYS_TEST_POSTGRES` (a connection string to a database whose
//! user may create databases); `.ci/run` starts a throwaway cluster and
//! sets it. Without it these tests say so and pass, unless
//! `APIKEYS_REQUIRE_POSTGRES` is set (CI sets it: there they never skip).

#[path = "../../../tests/common/mod.rs"]
mod common;
mod support;

use std::path::{Path, PathBuf};
use std::time::Instant;

use apikeys_lifecycle::{FileSink, Sink};
use common::fakes::{Fake, FakeKey, Kind};
use support::{
    finbourne, finish, fresh_database, one_live_key_stored, rotate_finbourne, server, temp, text,
    until_paused,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runners_in_separate_folders_rotate_a_key_once() {
    let Some(server) = server() else { return };
    for round in 0..3 {
        let what = format!("round {round}");
        let fake = Fake::start(Kind::Finbourne).await;
        let database = fresh_database(&server).await;
        let (a, b) = (temp("a"), temp("b"));
        let (one, two) = tokio::join!(
            finish(finbourne(&a, &fake, &rotate_finbourne(&a, &database), &[])),
            finish(finbourne(&b, &fake, &rotate_finbourne(&b, &database), &[]))
        );
        let codes = [one.status.code(), two.status.code()];
        assert!(
            codes.iter().all(|c| matches!(c, Some(0 | 5))),
            "{what}: {codes:?}\n{}\n{}",
            text(&one.stderr),
            text(&two.stderr)
        );
        assert_eq!(
            fake.keys.lock().unwrap().len(),
            2,
            "{what}: more than one rotation"
        );
        one_live_key_stored(&fake, &[&a, &b], &what);
    }

    // The same two runners with file state, each in its own folder: the
    // failure the shared database prevents. Each rotates.
    let fake = Fake::start(Kind::Finbourne).await;
    let (a, b) = (temp("fa"), temp("fb"));
    let (ja, jb) = (a.join("journal"), b.join("journal"));
    let (one, two) = tokio::join!(
        finish(finbourne(
            &a,
            &fake,
            &rotate_finbourne(&a, ja.to_str().unwrap()),
            &[]
        )),
        finish(finbourne(
            &b,
            &fake,
            &rotate_finbourne(&b, jb.to_str().unwrap()),
            &[]
        ))
    );
    assert!(one.status.success() && two.status.success());
    assert_eq!(
        fake.keys.lock().unwrap().len(),
        3,
        "two folders, two rotations: the control shows what the database prevents"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_lock_holder_is_replaced_at_once() {
    let Some(server) = server() else { return };
    for point in [
        "locked",
        "created-journaled",
        "stored-journaled",
        "verified-journaled",
    ] {
        let what = format!("holder killed at {point}");
        let fake = Fake::start(Kind::Finbourne).await;
        let database = fresh_database(&server).await;
        let (a, b) = (temp("holder"), temp("next"));
        let pause = format!("pause:{point}");
        let mut holder = finbourne(
            &a,
            &fake,
            &rotate_finbourne(&a, &database),
            &[("APIKEYS_FAULT", &pause)],
        )
        .spawn()
        .unwrap();
        let pid = holder.id().unwrap();
        until_paused(&mut holder, &what).await;
        // While it lives, the lock is its: refused, and named.
        let refused = finish(finbourne(&b, &fake, &rotate_finbourne(&b, &database), &[])).await;
        assert_eq!(
            refused.status.code(),
            Some(5),
            "{what}: {}",
            text(&refused.stderr)
        );
        assert!(
            text(&refused.stderr).contains(&format!("apikeys pid {pid}")),
            "{what}: the holder is not named: {}",
            text(&refused.stderr)
        );
        // kill -9: its session ends, and with it the lock.
        let _ = holder.start_kill();
        let _ = holder.wait().await;
        let taken = finish(finbourne(&b, &fake, &rotate_finbourne(&b, &database), &[])).await;
        assert!(taken.status.success(), "{what}: {}", text(&taken.stderr));
        one_live_key_stored(&fake, &[&a, &b], &what);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_run_of_two_runners_over_a_hundred_keys() {
    let Some(server) = server() else { return };
    const KEYS: usize = 100;
    let keys = || {
        (0..KEYS)
            .map(|i| FakeKey::new(&format!("old-{i}"), &format!("svc-{i}"), &format!("t-{i}")))
            .collect::<Vec<_>>()
    };
    let policy = |dir: &Path, database: &str| {
        let path = dir.join("policy.toml");
        std::fs::write(
            &path,
            format!(
                "state = \"{database}\"\n[[profile]]\nname = \"fleet\"\nprovider = \"finbourne\"\nselect = \"svc-*\"\nmax_age = \"30d\"\ngrace = \"0\"\nsink = \"file:keys/{{key}}.json\"\nsettings = {{ access_token = {{ env = \"FBN_ACCESS_TOKEN\" }}, identity_url = {{ env = \"FBN_IDENTITY_URL\" }} }}\n"
            ),
        )
        .unwrap();
        vec![
            "run".to_owned(),
            "--config".to_owned(),
            path.display().to_string(),
        ]
    };
    let mut figures = Vec::new();
    for runners in [1usize, 2] {
        let fake = Fake::start_with(Kind::Finbourne, keys(), false).await;
        let database = fresh_database(&server).await;
        let folders: Vec<PathBuf> = (0..runners).map(|i| temp(&format!("runner{i}"))).collect();
        let started = Instant::now();
        // Started together, so that they run at once.
        let children: Vec<_> = folders
            .iter()
            .map(|dir| {
                finbourne(dir, &fake, &policy(dir, &database), &[])
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut outputs = Vec::new();
        for child in children {
            outputs.push(child.wait_with_output().await.unwrap());
        }
        let elapsed = started.elapsed();
        // A key the other runner rotated, or is rotating, is done or in
        // progress, not a failure: both runs exit 0.
        for out in &outputs {
            assert_eq!(
                out.status.code(),
                Some(0),
                "{runners} runner(s): {}",
                text(&out.stderr)
            );
        }
        // Each key rotated exactly once: a hundred new keys, no more, and
        // every old key revoked.
        assert_eq!(
            fake.keys.lock().unwrap().len(),
            2 * KEYS,
            "{runners} runner(s)"
        );
        let live = fake.live();
        assert_eq!(live.len(), KEYS);
        assert!(live.iter().all(|k| !k.id.starts_with("old")));
        // Each new key's credentials are in a sink of the runner that made it.
        let stored = folders
            .iter()
            .flat_map(|f| std::fs::read_dir(f.join("keys")).into_iter().flatten())
            .filter_map(|e| FileSink::new(e.ok()?.path()).load())
            .filter(|c| fake.works_with(c))
            .count();
        assert_eq!(stored, KEYS, "{runners} runner(s): stored and working");
        let per_minute = KEYS as f64 / elapsed.as_secs_f64() * 60.0;
        let calls = fake.server.requests().len() as f64 / KEYS as f64;
        figures.push(format!(
            "{runners} runner(s): {KEYS} rotations in {:.2} s = {per_minute:.0} rotations/min; {calls:.1} provider calls per rotation",
            elapsed.as_secs_f64()
        ));
    }
    eprintln!("{}", figures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_is_created_once_and_a_newer_one_refused() {
    let Some(server) = server() else { return };
    let database = fresh_database(&server).await;
    // Two stores connecting at once migrate once.
    let (a, b) = tokio::join!(
        apikeys_lifecycle::postgres::PgStore::connect(&database),
        apikeys_lifecycle::postgres::PgStore::connect(&database)
    );
    a.unwrap();
    b.unwrap();
    let (client, connection) = tokio_postgres::connect(&database, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let rows = client
        .query("SELECT version FROM apikeys_schema", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].get::<_, i32>(0),
        apikeys_lifecycle::postgres::SCHEMA_VERSION
    );
    // A database a newer apikeys migrated is refused, not written.
    client
        .execute("UPDATE apikeys_schema SET version = version + 1", &[])
        .await
        .unwrap();
    let err = apikeys_lifecycle::postgres::PgStore::connect(&database)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("newer"), "{err}");
    // A password in the connection string never shows in messages.
    let err = apikeys_lifecycle::postgres::PgStore::connect("postgres://u:hunter2@127.0.0.1:1/x")
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

/// First-seen records live in the database beside the journals: an audit
/// records a key of unknown age there, and the next audit, from another
/// folder, counts its age from then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_first_seen_is_recorded_in_the_database() {
    let Some(server) = server() else { return };
    let database = fresh_database(&server).await;
    let fake = Fake::start(Kind::Sunshine).await;
    let start = chrono::Utc::now();
    for (days, code) in [(0, 3), (1, 0)] {
        let cwd = temp("seen-pg");
        let mut env = support::env_for(Kind::Sunshine, &fake, false, &cwd);
        env.push((
            "APIKEYS_NOW".into(),
            (start + chrono::Duration::days(days)).to_rfc3339(),
        ));
        let args: Vec<String> = ["audit", "--max-age", "30d", "--state", database.as_str()]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let out = finish(support::command(&cwd, &args, &env)).await;
        assert_eq!(
            out.status.code(),
            Some(code),
            "day {days}: {}",
            text(&out.stderr)
        );
    }
}
