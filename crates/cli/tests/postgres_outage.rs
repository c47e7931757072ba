//! The state database stops in the middle of a rotation: the runner stops
//! resumably (exit 4) holding a working key, and once the database is back
//! the same command finishes. A test binary of its own, since it stops the
//! server the other PostgreSQL tests use (binaries run one after another).
//!
//! Needs `APIKEYS_TEST_POSTGRES` and `APIKEYS_TEST_PG_CTL` (the command
//! that runs `pg_ctl` on that server's cluster), which `.ci/run` sets.

#[path = "../../../tests/common/mod.rs"]
mod common;
mod support;

use apikeys_lifecycle::{FileSink, Sink};
use common::fakes::{Fake, Kind};
use support::{
    finbourne, finish, fresh_database, one_live_key_stored, rotate_finbourne, server, signal, temp,
    text, until_paused,
};

/// Runs `pg_ctl <args>` on the test cluster.
fn pg_ctl(args: &str) {
    let ctl = std::env::var("APIKEYS_TEST_PG_CTL").expect("APIKEYS_TEST_PG_CTL with the server");
    let status = std::process::Command::new("sh")
        .args(["-c", &format!("{ctl} {args}")])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "pg_ctl {args}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_stopping_mid_rotation_stops_it_resumably() {
    let Some(server) = server() else { return };
    if std::env::var_os("APIKEYS_TEST_PG_CTL").is_none() {
        assert!(
            std::env::var_os("APIKEYS_REQUIRE_POSTGRES").is_none(),
            "APIKEYS_REQUIRE_POSTGRES is set but APIKEYS_TEST_PG_CTL is not"
        );
        eprintln!("skipped: set APIKEYS_TEST_PG_CTL to let this test stop the server");
        return;
    }
    for point in ["created-journaled", "stored-journaled"] {
        let what = format!("the database stopped at {point}");
        let fake = Fake::start(Kind::Finbourne).await;
        let database = fresh_database(&server).await;
        let cwd = temp("outage");
        let pause = format!("pause:{point}");
        let args = rotate_finbourne(&cwd, &database);
        let mut runner = finbourne(&cwd, &fake, &args, &[("APIKEYS_FAULT", &pause)])
            .spawn()
            .unwrap();
        until_paused(&mut runner, &what).await;
        pg_ctl("stop -m immediate -w");
        signal(runner.id().unwrap(), "-CONT");
        let stopped = runner.wait_with_output().await.unwrap();
        // Restart before asserting, so that a failure leaves the server up.
        pg_ctl("start -w");
        assert_eq!(
            stopped.status.code(),
            Some(4),
            "{what}: {}",
            text(&stopped.stderr)
        );
        // A working key is held: the old one is live.
        let sink = FileSink::new(cwd.join("key.json"));
        assert!(fake.holds_a_working_key(&sink), "{what}");
        assert!(fake.key("old").unwrap().live, "{what}");
        let _ = sink.load();
        let resumed = finish(finbourne(&cwd, &fake, &args, &[])).await;
        assert!(
            resumed.status.success(),
            "{what}: {}",
            text(&resumed.stderr)
        );
        one_live_key_stored(&fake, &[&cwd], &what);
    }
}
