//! What the `apikeys` binary's tests share: throwaway folders, the binary
//! run with nothing of ours in its environment, a child paused at a fault
//! point, and the PostgreSQL server `.ci/run` starts.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::fakes::{
    ADMIN_ID, ADMIN_SECRET, APP, FINICITY_APP_KEY, Fake, INTEGRATION, Kind, TENANT, USER,
};
use apikeys_lifecycle::{FileSink, Sink};

/// A new, empty folder under the system's temporary one.
pub fn temp(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "apikeys-cli-{}-{label}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

/// `apikeys args…` in `cwd`, with `env` and nothing else of ours (`PATH`,
/// and `cwd` as `HOME`); killed if dropped.
pub fn command<K, V>(cwd: &Path, args: &[String], env: &[(K, V)]) -> tokio::process::Command
where
    K: AsRef<std::ffi::OsStr>,
    V: AsRef<std::ffi::OsStr>,
{
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_apikeys"));
    command
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", cwd)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Runs `command` to its end, within two minutes.
pub async fn finish(mut command: tokio::process::Command) -> Output {
    tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("apikeys finished within two minutes")
        .unwrap()
}

/// Whether process `pid` is stopped (state `T` in `/proc`).
fn stopped(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let after = stat.rsplit_once(')')?.1.trim_start().chars().next()?;
            Some(after == 'T' || after == 't')
        })
        .unwrap_or(false)
}

/// Waits (bounded) until the child has paused itself at its fault point
/// (`APIKEYS_FAULT=pause:<point>`).
pub async fn until_paused(child: &mut tokio::process::Child, what: &str) {
    let pid = child.id().expect("a running child");
    let start = Instant::now();
    while !stopped(pid) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what}: exited ({status}) before pausing");
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what}: never paused"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Sends `signal` (`-KILL`, `-CONT`) to process `pid`.
pub fn signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {signal} {pid}");
}

/// The PostgreSQL server's connection string, or `None` (said) when
/// absent locally; CI sets `APIKEYS_REQUIRE_POSTGRES`, so it never skips.
pub fn server() -> Option<String> {
    match std::env::var("APIKEYS_TEST_POSTGRES") {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("APIKEYS_REQUIRE_POSTGRES").is_some() => {
            panic!("APIKEYS_REQUIRE_POSTGRES is set but APIKEYS_TEST_POSTGRES is not")
        }
        Err(_) => {
            eprintln!(
                "skipped: set APIKEYS_TEST_POSTGRES=postgres://… to run the PostgreSQL tests (CI does)"
            );
            None
        }
    }
}

/// A new, empty database on the server: its connection string.
pub async fn fresh_database(server: &str) -> String {
    let name = format!("apikeys_t_{}", fastrand::u64(..));
    let (client, connection) = tokio_postgres::connect(server, tokio_postgres::NoTls)
        .await
        .expect("the test server answers");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let (base, _) = server.rsplit_once('/').expect("a URL with a database");
    format!("{base}/{name}")
}

/// `apikeys args…` configured for the FINBOURNE fake, with `env` besides.
pub fn finbourne(
    cwd: &Path,
    fake: &Fake,
    args: &[String],
    env: &[(&str, &str)],
) -> tokio::process::Command {
    let mut all = vec![
        ("FBN_IDENTITY_URL", fake.base_url()),
        ("FBN_ACCESS_TOKEN", ADMIN_SECRET),
    ];
    all.extend_from_slice(env);
    command(cwd, args, &all)
}

/// `finbourne keys rotate old` into `cwd/key.json`, state in `state`,
/// without a grace.
pub fn rotate_finbourne(cwd: &Path, state: &str) -> Vec<String> {
    let sink = format!("file:{}", cwd.join("key.json").display());
    strings(&[
        "finbourne",
        "keys",
        "rotate",
        "old",
        "--grace",
        "0",
        "--sink",
        &sink,
        "--state",
        state,
    ])
}

/// The invariants at the end: the old key revoked, exactly one live key,
/// held (working) in the sink of one of `folders`.
pub fn one_live_key_stored(fake: &Fake, folders: &[&Path], what: &str) {
    assert!(
        !fake.key("old").unwrap().live,
        "{what}: the old key is live"
    );
    let live = fake.live();
    assert_eq!(live.len(), 1, "{what}: live keys {live:?}");
    let held = folders
        .iter()
        .filter_map(|f| FileSink::new(f.join("key.json")).load())
        .any(|c| fake.works_with(&c));
    assert!(held, "{what}: no sink holds the live key");
}

pub const KINDS: [Kind; 4] = [
    Kind::Sunshine,
    Kind::Finbourne,
    Kind::Cartovista,
    Kind::Finicity,
];

/// When a Finicity grant's period ends, far away: what settling extends a
/// provisional receipt to.
pub const GRANT_END: &str = "2031-06-30T00:00:00Z";

pub fn name(kind: Kind) -> &'static str {
    match kind {
        Kind::Sunshine => "sunshine",
        Kind::Finbourne => "finbourne",
        Kind::Cartovista => "cartovista",
        Kind::Finicity => "finicity",
    }
}

/// The environment that configures `kind` against `fake`. With `own`, the
/// tool calls with the key it rotates (`old`), as a team that rotates its
/// only key does; Finicity's partner credentials are never a rotated key.
pub fn env_for(kind: Kind, fake: &Fake, own: bool, cwd: &Path) -> Vec<(String, String)> {
    let (id, secret) = if own {
        ("old", "old-secret")
    } else {
        (ADMIN_ID, ADMIN_SECRET)
    };
    let base = fake.base_url().to_owned();
    let pairs: Vec<(&str, String)> = match kind {
        Kind::Sunshine => vec![
            ("SUNSHINE_BASE_URL", base),
            ("SUNSHINE_KEY_ID", id.into()),
            ("SUNSHINE_KEY_SECRET", secret.into()),
            ("SUNSHINE_APP_ID", APP.into()),
            ("SUNSHINE_INTEGRATION_ID", INTEGRATION.into()),
        ],
        Kind::Finbourne => vec![
            ("FBN_IDENTITY_URL", base),
            ("FBN_ACCESS_TOKEN", secret.into()),
        ],
        Kind::Cartovista => vec![
            ("CARTOVISTA_BASE_URL", base),
            ("CARTOVISTA_API_KEY", id.into()),
            ("CARTOVISTA_SECRET_KEY", secret.into()),
            ("CARTOVISTA_TENANT", TENANT.into()),
            ("CARTOVISTA_USER", USER.into()),
        ],
        Kind::Finicity => {
            let grant = cwd.join("grant.json");
            let template = serde_json::json!({
                "customerId": "1005061234",
                "partnerId": "partner-1",
                "thirdPartyPartnerId": "third-party-9",
                "products": [{
                    "product": "moneyTransferDetails",
                    "accountId": "5011648377",
                    "accessPeriod": {
                        "type": "timeframe",
                        "startTime": "2026-01-01T00:00:00Z",
                        "endTime": GRANT_END
                    }
                }]
            });
            std::fs::write(&grant, template.to_string()).unwrap();
            vec![
                ("FINICITY_BASE_URL", base),
                ("FINICITY_APP_KEY", FINICITY_APP_KEY.into()),
                ("FINICITY_PARTNER_ID", "partner-1".into()),
                ("FINICITY_PARTNER_SECRET", "partner-secret".into()),
                ("FINICITY_GRANT_FILE", grant.display().to_string()),
            ]
        }
    };
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// What a finished rotation must leave: the old key revoked, the key in
/// the sink `path` working, nothing else live but what the API cannot find
/// (Finicity: a receipt lost before the journal knew it, whose period must
/// then end within the provisional quarter hour). Returns what the sink
/// holds.
pub fn check_sink(fake: &Fake, path: &Path, what: &str) -> apikeys_lifecycle::Credential {
    assert!(
        !fake.key("old").unwrap().live,
        "{what}: the old key is live"
    );
    let sink = FileSink::new(path);
    let stored = sink
        .load()
        .unwrap_or_else(|| panic!("{what}: nothing stored"));
    assert!(
        fake.works_with(&stored),
        "{what}: the stored key does not work"
    );
    // CartoVista's shown id is a fingerprint: its key is the one whose
    // secret was stored.
    let stored_id = match fake.kind {
        Kind::Cartovista => {
            let secret = stored.part("secret_key").map(|s| s.expose().to_owned());
            let key = fake
                .live()
                .into_iter()
                .find(|k| Some(&k.secret) == secret.as_ref());
            key.map(|k| k.id).unwrap_or_default()
        }
        _ => stored.key.clone(),
    };
    for k in fake.live() {
        if k.id == stored_id {
            continue;
        }
        assert_eq!(fake.kind, Kind::Finicity, "{what}: {} is live too", k.id);
        let end = k.grant_end.clone().unwrap_or_default();
        assert!(
            end.as_str() < "2030",
            "{what}: a lost receipt {} keeps the grant's period ({end})",
            k.id
        );
    }
    if fake.kind == Kind::Finicity {
        let key = fake.key(&stored_id).unwrap();
        assert_eq!(
            key.grant_end.as_deref(),
            Some(GRANT_END),
            "{what}: the stored receipt was not extended"
        );
    }
    stored
}

/// That `out` exited with `status` and its standard error says `says`.
pub fn refused_with(out: &Output, status: i32, says: &str, what: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(status), "{what}: {err}");
    assert!(err.contains(says), "{what}: {err}");
}

/// An admin session on `url`.
pub async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("the test server answers");
    tokio::spawn(connection);
    client
}

/// The database a connection string names.
pub fn database_of(url: &str) -> &str {
    url.rsplit_once('/').map_or("", |(_, db)| db)
}

/// The host and port a `postgres://user@host:port/db` string names.
pub fn address_of(url: &str) -> std::net::SocketAddr {
    let rest = url.split_once('@').map_or(url, |(_, r)| r);
    let hostport = rest.split('/').next().unwrap();
    hostport
        .parse()
        .expect("a test URL with an IP address and port")
}

/// `<provider> keys rotate old` with no grace, into the sink `sink`,
/// state in `database`.
pub fn rotate_args_pg(kind: Kind, sink: &Path, database: &str) -> Vec<String> {
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
