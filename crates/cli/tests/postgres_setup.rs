//! The PostgreSQL setup an operator makes, against a real server: the
//! README's least-privilege role, TLS as each `sslmode` asks, a server that
//! never answers, and the errors an operator sees.
//!
//! Needs `APIKEYS_TEST_POSTGRES` (a superuser's connection string) and,
//! for TLS, `APIKEYS_TEST_PG_CA` and `APIKEYS_TEST_PG_WRONG_CA`: `.ci/run`
//! starts such a server (`.ci/postgres`). Without them these tests say so
//! and pass, unless `APIKEYS_REQUIRE_POSTGRES` is set (CI sets it).

#[path = "../../../tests/common/mod.rs"]
mod common;
mod support;

use std::time::{Duration, Instant};

use apikeys_lifecycle::FaultPoint;
use apikeys_lifecycle::postgres::PgStore;
use apikeys_lifecycle::state::StateStore;
use common::fakes::{Fake, Kind};
use support::{
    address_of, admin, check_sink, command, database_of, env_for, finish, fresh_database,
    rotate_args_pg, server, strings, temp, text,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readmes_least_privilege_role_rotates_once_the_schema_exists() {
    let Some(server) = server() else { return };
    let database = fresh_database(&server).await;
    let role = format!("runner_{}", fastrand::u32(..));
    let db = admin(&database).await;
    db.batch_execute(&format!("CREATE ROLE {role} LOGIN"))
        .await
        .unwrap();
    let as_runner = database.replacen("://apikeys@", &format!("://{role}@"), 1);
    let kind = Kind::Finbourne;
    let fake = Fake::start(kind).await;
    let cwd = temp("least");
    let env = env_for(kind, &fake, false, &cwd);
    let args = rotate_args_pg(kind, &cwd.join("key.json"), &as_runner);

    // Before the administrator's init: refused, saying what to do, and
    // nothing done at the provider.
    let refused = finish(command(&cwd, &args, &env)).await;
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("apikeys state init"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(
        fake.server.requests().len(),
        0,
        "a provider call before the state opened"
    );

    // The administrator's one step, then exactly the README's grants.
    let init = finish(command(
        &cwd,
        &strings(&["state", "init", "--state", &database]),
        &[("PATH", std::env::var("PATH").unwrap_or_default())],
    ))
    .await;
    assert!(init.status.success(), "{}", text(&init.stderr));
    db.batch_execute(&format!(
        "GRANT SELECT, INSERT, UPDATE ON apikeys_rotations TO {role};
         GRANT SELECT ON apikeys_schema TO {role};"
    ))
    .await
    .unwrap();
    let rotated = finish(command(&cwd, &args, &env)).await;
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    check_sink(&fake, &cwd.join("key.json"), "least privilege");
    // And a second key's rotation, through the same role: the rows are
    // its to insert and update, the schema not its to change.
    let denied = db
        .query_one(
            "SELECT has_database_privilege($1, current_database(), 'CREATE')
                 OR has_schema_privilege($1, 'public', 'CREATE')",
            &[&role],
        )
        .await
        .unwrap()
        .get::<_, bool>(0);
    assert!(
        !denied,
        "the role could create objects: not least privilege"
    );
}

/// Whether the session of this process holding a lock on `database` uses
/// TLS, as the server sees it.
async fn session_uses_tls(server: &str, database: &str) -> bool {
    admin(server)
        .await
        .query_one(
            "SELECT coalesce(bool_and(s.ssl), false) FROM pg_stat_ssl s
               JOIN pg_stat_activity a USING (pid)
              WHERE a.datname = $1 AND a.application_name LIKE $2",
            &[
                &database_of(database),
                &format!("apikeys pid {} on %", std::process::id()),
            ],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_as_each_sslmode_asks_against_a_server_with_a_test_ca() {
    let Some(server) = server() else { return };
    let (Ok(ca), Ok(wrong)) = (
        std::env::var("APIKEYS_TEST_PG_CA"),
        std::env::var("APIKEYS_TEST_PG_WRONG_CA"),
    ) else {
        assert!(
            std::env::var_os("APIKEYS_REQUIRE_POSTGRES").is_none(),
            "APIKEYS_REQUIRE_POSTGRES is set but APIKEYS_TEST_PG_CA is not"
        );
        eprintln!("skipped: APIKEYS_TEST_PG_CA is not set (.ci/postgres sets it)");
        return;
    };
    let database = fresh_database(&server).await;
    PgStore::init(&database).await.unwrap();
    let no_faults = |_: FaultPoint| false;
    let port = address_of(&database).port();
    let db = database_of(&database).to_owned();
    let at = |host: &str, query: &str| format!("postgres://apikeys@{host}:{port}/{db}?{query}");
    let accepted = [
        ("default to loopback (prefer)", at("127.0.0.1", ""), true),
        ("require", at("127.0.0.1", "sslmode=require"), true),
        (
            "verify-full by name",
            at(
                "localhost",
                &format!("sslmode=verify-full&sslrootcert={ca}"),
            ),
            true,
        ),
        (
            "verify-full by address",
            at(
                "127.0.0.1",
                &format!("sslmode=verify-full&sslrootcert={ca}"),
            ),
            true,
        ),
        (
            "verify-ca under another name",
            format!(
                "host=db.invalid hostaddr=127.0.0.1 port={port} user=apikeys dbname={db} sslmode=verify-ca sslrootcert={ca}"
            ),
            true,
        ),
        ("disable", at("127.0.0.1", "sslmode=disable"), false),
    ];
    for (what, url, tls) in accepted {
        let store = PgStore::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let held = store.lock(what, &no_faults).await.unwrap();
        assert_eq!(session_uses_tls(&server, &database).await, tls, "{what}");
        drop(held);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused = [
        (
            "verify-full, the wrong CA",
            at(
                "localhost",
                &format!("sslmode=verify-full&sslrootcert={wrong}"),
            ),
            "certificate",
        ),
        (
            "verify-ca, the wrong CA",
            at(
                "127.0.0.1",
                &format!("sslmode=verify-ca&sslrootcert={wrong}"),
            ),
            "certificate",
        ),
        (
            "verify-full under another name",
            format!(
                "host=db.invalid hostaddr=127.0.0.1 port={port} user=apikeys dbname={db} sslmode=verify-full sslrootcert={ca}"
            ),
            "certificate",
        ),
        (
            "a TLS-only role over plain text",
            format!("postgres://tlsonly@127.0.0.1:{port}/{db}?sslmode=disable"),
            "28000",
        ),
        (
            "a misspelt database",
            format!("postgres://apikeys@127.0.0.1:{port}/{db}_typo"),
            "3D000",
        ),
    ];
    for (what, url, says) in refused {
        let err = PgStore::connect(&url).await.unwrap_err().to_string();
        assert!(err.contains(says), "{what}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_is_given_up_on_within_the_timeout() {
    // Accepts, then says nothing.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    for (timeout, bound) in [("&connect_timeout=2", 2), ("", 10)] {
        let started = Instant::now();
        let err = PgStore::connect(&format!(
            "postgres://u@127.0.0.1:{port}/db?sslmode=disable{timeout}"
        ))
        .await
        .unwrap_err()
        .to_string();
        let took = started.elapsed();
        assert!(err.contains("no answer within"), "{err}");
        assert!(
            took < Duration::from_secs(bound + 3),
            "{timeout}: {} s",
            took.as_secs()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_errors_say_why_and_exit_as_the_readme_says() {
    let Some(server) = server() else { return };
    let port = address_of(&server).port();
    let cwd = temp("errors");
    let run = |state: String| {
        let cwd = cwd.clone();
        async move {
            finish(command(
                &cwd,
                &strings(&[
                    "finbourne",
                    "keys",
                    "rotate",
                    "old",
                    "--sink",
                    "file:k.json",
                    "--state",
                    &state,
                ]),
                &[
                    ("FBN_IDENTITY_URL", "http://127.0.0.1:9"),
                    ("FBN_ACCESS_TOKEN", "t"),
                ],
            ))
            .await
        }
    };
    let cases = [
        (
            format!("postgres://apikeys@127.0.0.1:{port}/no_such_db"),
            1,
            "3D000",
        ),
        (
            format!("postgres://tlsonly@127.0.0.1:{port}/postgres?sslmode=disable"),
            1,
            "28000",
        ),
        (
            "postgres://u:hunter2@127.0.0.1:notaport/db".to_owned(),
            2,
            "connection string",
        ),
        (
            "postgres://u:hunter2@127.0.0.1/db?sslmode=sometimes".to_owned(),
            2,
            "sslmode",
        ),
        (
            "postgres://u:hunter2@db.invalid/db?sslmode=verify-full&sslrootcert=/nonexistent.pem"
                .to_owned(),
            2,
            "sslrootcert",
        ),
    ];
    for (state, status, says) in cases {
        let out = run(state.clone()).await;
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(status), "{state}: {err}");
        assert!(err.contains(says), "{state}: {err}");
        assert!(!err.contains("hunter2"), "{state}: {err}");
    }
}
