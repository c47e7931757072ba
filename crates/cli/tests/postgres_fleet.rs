//! Runners sharing PostgreSQL where operators run them, as real processes
//! against a real server: a holder that pauses, loses its session and
//! comes back after another runner finished its rotation (at every fault
//! point and at every provider request, for every provider), and a holder
//! whose network goes silent. (The setup an operator makes, roles, TLS and
//! errors, is in `postgres_setup.rs`.)
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
use apikeys_lifecycle::postgres::SILENT_SESSION;
use common::fakes::{Fake, Kind};
use support::{
    KINDS, address_of, admin, check_sink, command, database_of, env_for, finish, fresh_database,
    rotate_args_pg, server, signal, temp, text, until_paused,
};

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
    let args = rotate_args_pg(kind, &sink, &database);
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
        let args = rotate_args_pg(kind, &cwd.join("key.json"), &database);
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
    let args_a = rotate_args_pg(kind, &sink, &through(&database, relay.port));
    let args_b = rotate_args_pg(kind, &sink, &database);
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
