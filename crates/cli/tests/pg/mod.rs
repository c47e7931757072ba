//! What the PostgreSQL tests share: the server `.ci/run` starts, a fresh
//! database per test, and the `apikeys` binary run against the FINBOURNE
//! fake.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use crate::common::fakes::{ADMIN_SECRET, Fake};
use apikeys_lifecycle::{FileSink, Sink};

/// The server's connection string, or `None` (said) when absent locally.
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

pub fn temp(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "apikeys-pg-{}-{label}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `apikeys` in `cwd`, configured for the FINBOURNE fake, with `env`.
pub fn command(
    cwd: &Path,
    fake: &Fake,
    args: &[String],
    env: &[(&str, &str)],
) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_apikeys"));
    command
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", cwd)
        .env("FBN_IDENTITY_URL", fake.base_url())
        .env("FBN_ACCESS_TOKEN", ADMIN_SECRET)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

pub async fn finish(mut command: tokio::process::Command) -> Output {
    tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("apikeys finished within two minutes")
        .unwrap()
}

/// `finbourne keys rotate old` into `cwd/key.json`, state in `state`.
pub fn rotate(cwd: &Path, state: &str) -> Vec<String> {
    [
        "finbourne",
        "keys",
        "rotate",
        "old",
        "--grace",
        "0",
        "--sink",
        &format!("file:{}", cwd.join("key.json").display()),
        "--state",
        state,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
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
