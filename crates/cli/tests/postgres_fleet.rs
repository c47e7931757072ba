//! Runners sharing PostgreSQL where operators run them, as real processes
//! against a real server: a holder that pauses, loses its session and
//! comes back after another runner finished its rotation (at every fault
//! point and at every provider request, for every provider); a holder
//! whose network goes silent; the README's least-privilege role; TLS; a
//! server that never answers; and the errors an operator sees.
//!
//! Needs `APIKEYS_TEST_POSTGRES` (a superuser's connection string) and,
//! for TLS, `APIKEYS_TEST_PG_CA` and `APIKEYS_TEST_PG_WRONG_CA`: `.ci/run`
//! starts such a server (`.ci/postgres`). Without them these tests say so
//! and pass, unless `APIKEYS_REQUIRE_POSTGRES` is set (CI sets it).

#[path = "../../../tests/common/mod.rs"]
mod common;
mod support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use apikeys_lifecycle::FaultPoint;
use apikeys_lifecycle::postgres::{PgStore, SILENT_SESSION};
use apikeys_lifecycle::state::StateStore;
use common::fakes::{Fake, Kind};
use support::{
    KINDS, check_sink, command, env_for, finish, fresh_database, name, server, signal, strings,
    temp, text, until_paused,
};

/// An admin session on `url`.
async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("the test server answers");
    tokio::spawn(connection);
    client
}

/// The database a connection string names.
fn database_of(url: &str) -> &str {
    url.rsplit_once('/').map_or("", |(_, db)| db)
}

/// Ends every session process `pid` has on `database`, as a failover or
/// `pg_terminate_backend` would; returns how many there were.
async fn cut_sessions(server: &str, database: &str, pid: u32) -> i64 {
    admin(server)
        .await
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
              WHERE datname = $1 AND application_name LIKE $2",
            &[&database_of(database), &format!("apikeys pid {pid} on %")],
        )
        .await
        .unwrap()
        .get(0)
}

/// `<provider> keys rotate old` with no grace, into the sink `sink`,
/// state in `database`.
fn rotate_args(kind: Kind, sink: &Path, database: &str) -> Vec<String> {
    let mut args = strings(&[name(kind), "keys", "rotate", "old", "--grace", "0"]);
    args.push("--sink".into());
    args.push(format!("file:{}", sink.display()));
    args.push("--state".into());
    args.push(database.into());
    if kind == Kind::Finicity {
        args.push("--accept-unverifiable".into());
    }
    args
}

/// What a provider and a sink hold at a moment: the live keys' ids and
/// the sink's bytes.
fn snapshot(fake: &Fake, sink: &Path) -> (Vec<String>, Vec<u8>) {
    let mut live: Vec<String> = fake.live().into_iter().map(|k| k.id).collect();
    live.sort();
    (live, std::fs::read(sink).unwrap_or_default())
}

/// How a holder is stopped before its lock is taken from it.
#[derive(Debug, Clone, Copy)]
enum PauseAt {
    /// At a rotation's fault point.
    Point(FaultPoint),
    /// Once the provider acted on its n-th request, before it answered.
    Request(usize),
}

/// One case: runner A pauses, its sessions are ended, runner B rotates to
/// the end, then A continues. After A, the provider and the shared sink
/// are exactly as B left them (A changed nothing once its lock was gone),
/// and the invariants hold: the old key revoked, one live key, in the
/// sink and working. Returns A's exit status.
async fn lost_lock_case(server: &str, kind: Kind, pause: PauseAt) -> Option<i32> {
    let what = format!("{kind:?} paused at {pause:?}");
    let fake = Fake::start(kind).await;
    let database = fresh_database(server).await;
    let (a, b, shared) = (temp("a"), temp("b"), temp("shared"));
    let sink = shared.join("key.json");
    let args = rotate_args(kind, &sink, &database);
    let mut env_a = env_for(kind, &fake, false, &a);
    let pid = Arc::new(AtomicU32::new(0));
    match pause {
        PauseAt::Point(point) => {
            env_a.push(("APIKEYS_FAULT".into(), format!("pause:{}", point.name())));
        }
        PauseAt::Request(n) => {
            let (seen, pid) = (AtomicUsize::new(0), pid.clone());
            fake.after_request(move |_| {
                if seen.fetch_add(1, Ordering::SeqCst) + 1 == n {
                    let start = Instant::now();
                    while pid.load(Ordering::SeqCst) == 0
                        && start.elapsed() < Duration::from_secs(5)
                    {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    signal(pid.load(Ordering::SeqCst), "-STOP");
                }
            });
        }
    }
    let mut holder = command(&a, &args, &env_a).spawn().unwrap();
    let holder_pid = holder.id().unwrap();
    pid.store(holder_pid, Ordering::SeqCst);
    until_paused(&mut holder, &what).await;
    cut_sessions(server, &database, holder_pid).await;

    let env_b = env_for(kind, &fake, false, &b);
    let taken = finish(command(&b, &args, &env_b)).await;
    assert!(
        taken.status.success(),
        "{what}: the runner that took over failed: {}",
        text(&taken.stderr)
    );
    let after_b = snapshot(&fake, &sink);

    signal(holder_pid, "-CONT");
    let stale = tokio::time::timeout(Duration::from_secs(60), holder.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{what}: the stale runner did not end within a minute"))
        .unwrap();
    let stale_err = text(&stale.stderr);
    assert!(!stale_err.contains("panicked"), "{what}: {stale_err}");
    // After its lock was gone, the stale runner may only have revoked a
    // key no one holds (one it created before it paused, which a provider
    // without names cannot sweep); the sink and every other key are as
    // the new holder left them.
    let (live_after, sink_after) = snapshot(&fake, &sink);
    assert_eq!(
        sink_after, after_b.1,
        "{what}: the stale runner rewrote the sink: {stale_err}"
    );
    let revoked: Vec<&String> = after_b
        .0
        .iter()
        .filter(|k| !live_after.contains(k))
        .collect();
    assert!(
        live_after.iter().all(|k| after_b.0.contains(k)),
        "{what}: the stale runner made a key live: {live_after:?} after {:?}: {stale_err}",
        after_b.0
    );
    let stored = check_sink(&fake, &sink, &what);
    assert!(
        revoked.iter().all(|k| **k != stored.key),
        "{what}: the stale runner revoked the stored key: {stale_err}"
    );
    // A stale runner that stopped says why: the state database it lost.
    if !stale.status.success() {
        assert_eq!(stale.status.code(), Some(4), "{what}: {stale_err}");
        assert!(
            stale_err.contains("no longer holds the lock")
                || stale_err.contains("the state database"),
            "{what}: the stop does not name its cause: {stale_err}"
        );
    }
    // No secret in any row, whoever wrote it.
    let rows: String = admin(&database)
        .await
        .query_one(
            "SELECT coalesce(string_agg(body::text, ''), '') FROM apikeys_rotations",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    for (part, secret) in &stored.parts {
        if part != "key_id" && part != "receipt" {
            assert!(!rows.contains(secret.expose()), "{what}: {part} in a row");
        }
    }
    stale.status.code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_that_lost_its_lock_changes_nothing_after_a_takeover() {
    let Some(server) = server() else { return };
    let mut tried = 0;
    let mut statuses = std::collections::BTreeMap::<String, usize>::new();
    for kind in KINDS {
        for point in FaultPoint::ALL {
            let status = lost_lock_case(&server, kind, PauseAt::Point(point)).await;
            *statuses.entry(format!("{status:?}")).or_default() += 1;
            tried += 1;
        }
    }
    eprintln!("{tried} fault points x providers tried; the stale runner's exits: {statuses:?}");
    assert_eq!(tried, FaultPoint::ALL.len() * KINDS.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_paused_at_every_provider_request_changes_nothing_after_a_takeover() {
    let Some(server) = server() else { return };
    let mut tried = 0;
    for kind in KINDS {
        // How many requests a whole rotation makes: every one is a pause
        // point.
        let fake = Fake::start(kind).await;
        let (cwd, database) = (temp("count"), fresh_database(&server).await);
        let args = rotate_args(kind, &cwd.join("key.json"), &database);
        let out = finish(command(&cwd, &args, &env_for(kind, &fake, false, &cwd))).await;
        assert!(out.status.success(), "{kind:?}: {}", text(&out.stderr));
        let requests = fake.server.requests().len();
        assert!(requests >= 3, "{kind:?}: only {requests} requests");
        for n in 1..=requests {
            lost_lock_case(&server, kind, PauseAt::Request(n)).await;
            tried += 1;
        }
    }
    eprintln!("{tried} provider requests x providers tried");
}

/// A TCP relay on loopback to `target` that forwards until told to go
/// silent, then holds every connection open and forwards nothing: a
/// network that stopped delivering, as the holder's node sees it.
struct Relay {
    port: u16,
    silent: Arc<AtomicBool>,
}

/// Copies `from` to `to` until either ends; once `silent` is set, reads
/// on but delivers nothing, keeping both ends open.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    silent: Arc<AtomicBool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(n) if n > 0 => n,
            // A silent network does not carry the close either.
            _ if silent.load(Ordering::SeqCst) => {
                let _open = to;
                std::future::pending::<()>().await;
                return;
            }
            _ => return,
        };
        if !silent.load(Ordering::SeqCst) && to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

impl Relay {
    async fn start(target: std::net::SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let silent = Arc::new(AtomicBool::new(false));
        let flag = silent.clone();
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let Ok(outbound) = tokio::net::TcpStream::connect(target).await else {
                    continue;
                };
                let (ri, wi) = inbound.into_split();
                let (ro, wo) = outbound.into_split();
                tokio::spawn(pipe(ri, wo, flag.clone()));
                tokio::spawn(pipe(ro, wi, flag.clone()));
            }
        });
        Self { port, silent }
    }
}

/// The host and port a `postgres://user@host:port/db` string names.
fn address_of(url: &str) -> std::net::SocketAddr {
    let rest = url.split_once('@').map_or(url, |(_, r)| r);
    let hostport = rest.split('/').next().unwrap();
    hostport
        .parse()
        .expect("a test URL with an IP address and port")
}

/// `url` with its host and port replaced by `127.0.0.1:<port>`.
fn through(url: &str, port: u16) -> String {
    let (user, rest) = url.split_once('@').unwrap();
    let (_, path) = rest.split_once('/').unwrap();
    format!("{user}@127.0.0.1:{port}/{path}")
}

/// A holder whose network goes silent while it lives: at a point where
/// its next effect is a sink commit (it holds the sink's fence while it
/// proves its lock, so the new holder waits for that proof to give up),
/// and at one where it is a provider call. Prints the takeover times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_whose_network_goes_silent_is_taken_over_within_the_bound() {
    let Some(server) = server() else { return };
    for point in ["created-journaled", "verified-journaled"] {
        silent_network_case(&server, point).await;
    }
}

async fn silent_network_case(server: &str, point: &str) {
    let what = format!("silent network at {point}");
    let kind = Kind::Finbourne;
    let fake = Fake::start(kind).await;
    let database = fresh_database(server).await;
    let relay = Relay::start(address_of(&database)).await;
    let (a, b, shared) = (temp("silent-a"), temp("silent-b"), temp("silent-shared"));
    let sink = shared.join("key.json");
    // A reaches the database through the relay; B directly.
    let args_a = rotate_args(kind, &sink, &through(&database, relay.port));
    let args_b = rotate_args(kind, &sink, &database);
    let mut env_a = env_for(kind, &fake, false, &a);
    env_a.push(("APIKEYS_FAULT".into(), format!("pause:{point}")));
    let mut holder = command(&a, &args_a, &env_a).spawn().unwrap();
    let holder_pid = holder.id().unwrap();
    until_paused(&mut holder, &what).await;
    // The holder lives on; its network stops delivering.
    relay.silent.store(true, Ordering::SeqCst);
    let silent_at = Instant::now();
    signal(holder_pid, "-CONT");

    let env_b = env_for(kind, &fake, false, &b);
    let bound = SILENT_SESSION + Duration::from_secs(15);
    let taken_after = loop {
        let out = finish(command(&b, &args_b, &env_b)).await;
        if out.status.success() {
            break silent_at.elapsed();
        }
        assert_eq!(
            out.status.code(),
            Some(5),
            "{what}: refused otherwise than busy: {}",
            text(&out.stderr)
        );
        assert!(
            silent_at.elapsed() < bound,
            "{what}: still refused {} s after the holder's network went silent",
            silent_at.elapsed().as_secs()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let stale = tokio::time::timeout(Duration::from_secs(60), holder.wait_with_output())
        .await
        .expect("the silent holder ends by itself")
        .unwrap();
    let stopped_after = silent_at.elapsed();
    let stale_err = text(&stale.stderr);
    assert!(
        !stale.status.success(),
        "{what}: the silent holder claims success: {stale_err}"
    );
    assert!(!stale_err.contains("panicked"), "{what}: {stale_err}");
    check_sink(&fake, &sink, &what);
    eprintln!(
        "{what}: taken over after {:.1} s (the server ends a silent session after {} s); the silent holder stopped after {:.1} s",
        taken_after.as_secs_f64(),
        SILENT_SESSION.as_secs(),
        stopped_after.as_secs_f64(),
    );
}

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
    let args = rotate_args(kind, &cwd.join("key.json"), &as_runner);

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
