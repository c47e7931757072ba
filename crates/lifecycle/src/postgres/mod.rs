//! Journals and locks in PostgreSQL (feature `postgres`): runners on many
//! machines rotate the same keys without two of them ever rotating one key
//! at once, and a runner that lost its lock changes nothing more.
//!
//! - **The lock** of a rotation is a session-level advisory lock, taken
//!   with `pg_try_advisory_lock` on a connection the rotation holds for as
//!   long as it runs. A runner that dies, or whose session ends, releases
//!   it with its session. A refused runner names the holder's
//!   `application_name` (`apikeys pid <pid> on <host>`) and address.
//! - **A silent holder is let go within a bound.** The lock's session
//!   sends a heartbeat every few seconds, and asks the server to end it
//!   after [`SILENT_SESSION`] without one (`idle_session_timeout`; TCP
//!   keepalives and `tcp_user_timeout` on both sides besides). A holder
//!   whose node, network or process stopped is thus released within that
//!   bound, and another runner may take the rotation over.
//! - **Every hold is an attempt with its own fencing token**: taking the
//!   lock increments the row's `attempt`. A journal write is a
//!   compare-and-set on it, and [`HeldState::check`] (called before every
//!   effect) proves over the lock's own session that the session lives and
//!   no later attempt began. A runner that paused, lost its session and
//!   came back finds out before it acts, and its writes are refused.
//! - **The schema** is read before any DDL: a role with `SELECT, INSERT,
//!   UPDATE` on `apikeys_rotations` and `SELECT` on `apikeys_schema`
//!   rotates once an administrator created the schema
//!   ([`PgStore::init`], `apikeys state init`). A database of a newer
//!   schema is refused, never written.
//! - **TLS** through rustls, with libpq's `sslmode` values and
//!   `sslrootcert`. Without `sslmode`, a host other than this machine gets
//!   `verify-full`; plain text goes only to loopback, a Unix socket, or
//!   where `sslmode=disable` says so.
//! - **Every step is bounded**: the connection by `connect_timeout` (10 s
//!   by default), each statement by [`QUERY_TIMEOUT`]. Errors give the
//!   server's message and SQLSTATE, never the password.
//! - **No secret** is stored: the journal is the file journal's JSON, which
//!   holds none (a secret key id only as a fingerprint).

mod connect;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::Digest;
use tokio_postgres::Client;
use tokio_postgres::error::SqlState;

use crate::BoxFuture;
use crate::rotate::FaultPoint;
use crate::state::{FaultFn, HeldState, StateError, StateStore};
pub use connect::{CONNECT_TIMEOUT, HEARTBEAT, QUERY_TIMEOUT, SILENT_SESSION, SslMode};
use connect::{Target, bounded, explain, within};

/// The schema this version writes; migrations bring older ones here.
pub const SCHEMA_VERSION: i32 = 2;

/// Each migration: the version it brings the schema to, and its SQL.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        "CREATE TABLE IF NOT EXISTS apikeys_rotations (
             name text PRIMARY KEY,
             body jsonb NOT NULL,
             updated timestamptz NOT NULL DEFAULT now()
         )",
    ),
    (
        2,
        "ALTER TABLE apikeys_rotations ADD COLUMN IF NOT EXISTS attempt bigint NOT NULL DEFAULT 0;
         ALTER TABLE apikeys_rotations ALTER COLUMN body DROP NOT NULL",
    ),
];

/// The advisory lock every migration runs under.
const MIGRATION_LOCK: i64 = 0x6170_696b_6579_7300;

/// Rotation state in a PostgreSQL database.
#[derive(Clone)]
pub struct PgStore {
    target: Arc<Target>,
    prefix: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

fn unavailable(what: &str, e: &tokio_postgres::Error) -> StateError {
    StateError::Unavailable(format!("the state database: {what}: {}", explain(e)))
}

/// What this process calls itself in `pg_stat_activity`: how a refused
/// runner names the holder.
fn application_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "an unnamed host".into());
    let name = format!("apikeys pid {} on {host}", std::process::id());
    name.chars().take(63).collect()
}

/// The advisory lock key of rotation `name`: the first 8 bytes of its
/// SHA-256. Two names sharing a key only make one wait for the other.
fn lock_key(name: &str) -> i64 {
    let digest = sha2::Sha256::digest(format!("apikeys rotation {name}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

impl PgStore {
    /// Connects to the database `url` names (`postgres://user@host/db`,
    /// or `host=/run/postgresql dbname=…`), and checks its schema: reads
    /// its version first, and creates or migrates it only where it is
    /// missing or older (which needs `CREATE` on the schema; see
    /// [`PgStore::init`]).
    pub async fn connect(url: &str) -> Result<Self, StateError> {
        let store = Self::open(url)?;
        let client = store.session().await?;
        let current = store.version(&client).await?;
        if current < SCHEMA_VERSION {
            store.migrate(&client).await.map_err(|e| match e {
                StateError::Unavailable(why) if why.contains("SQLSTATE 42501") => {
                    StateError::Unavailable(format!(
                        "{why}: this role may not create the schema (version {current}, wanted {SCHEMA_VERSION}); have a role that may create tables in the database run `apikeys state init` once (README: least privilege)"
                    ))
                }
                other => other,
            })?;
        }
        Ok(store)
    }

    /// Creates or migrates the schema and returns its version: what an
    /// administrator runs once (`apikeys state init`), so that runners
    /// need no more than `SELECT, INSERT, UPDATE` on `apikeys_rotations`
    /// and `SELECT` on `apikeys_schema`.
    pub async fn init(url: &str) -> Result<i32, StateError> {
        let store = Self::open(url)?;
        let client = store.session().await?;
        store.migrate(&client).await?;
        store.version(&client).await
    }

    /// Reads a connection string without connecting: a malformed one is a
    /// [`StateError::Config`].
    pub fn open(url: &str) -> Result<Self, StateError> {
        let mut target = Target::parse(url)?;
        target.config.application_name(application_name());
        Ok(Self {
            target: Arc::new(target),
            prefix: String::new(),
        })
    }

    /// The TLS this store's connections use.
    pub fn ssl_mode(&self) -> SslMode {
        self.target.ssl
    }

    /// A new session; its connection runs on the current tokio runtime.
    async fn session(&self) -> Result<Client, StateError> {
        self.target.connect(&self.describe()).await
    }

    /// The schema's version; 0 where there is none yet.
    async fn version(&self, client: &Client) -> Result<i32, StateError> {
        let read =
            within(client.query_one("SELECT coalesce(max(version), 0) FROM apikeys_schema", &[]))
                .await?;
        let current = match read {
            Ok(row) => row.get(0),
            Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => 0,
            Err(e) => return Err(unavailable("reading its schema version", &e)),
        };
        if current > SCHEMA_VERSION {
            return Err(StateError::Unavailable(format!(
                "the state database holds schema version {current}, newer than this apikeys knows ({SCHEMA_VERSION}): upgrade apikeys; nothing was written"
            )));
        }
        Ok(current)
    }

    async fn migrate(&self, client: &Client) -> Result<(), StateError> {
        const WHAT: &str = "creating or migrating its schema";
        bounded(WHAT, client.batch_execute("BEGIN")).await?;
        let result = async {
            bounded(WHAT, client.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]))
                .await?;
            bounded(
                WHAT,
                client.batch_execute(
                    "CREATE TABLE IF NOT EXISTS apikeys_schema (version integer NOT NULL)",
                ),
            )
            .await?;
            let current: i32 = bounded(
                WHAT,
                client.query_one("SELECT coalesce(max(version), 0) FROM apikeys_schema", &[]),
            )
            .await?
            .get(0);
            if current > SCHEMA_VERSION {
                return Err(StateError::Unavailable(format!(
                    "the state database holds schema version {current}, newer than this apikeys knows ({SCHEMA_VERSION}): upgrade apikeys; nothing was written"
                )));
            }
            for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
                bounded(WHAT, client.batch_execute(sql)).await?;
                bounded(WHAT, client.execute("DELETE FROM apikeys_schema", &[])).await?;
                bounded(
                    WHAT,
                    client.execute("INSERT INTO apikeys_schema (version) VALUES ($1)", &[version]),
                )
                .await?;
            }
            Ok(())
        }
        .await;
        match result {
            Ok(()) => bounded(WHAT, client.batch_execute("COMMIT")).await,
            Err(e) => {
                let _ = bounded(WHAT, client.batch_execute("ROLLBACK")).await;
                Err(e)
            }
        }
    }

    /// Who holds the advisory lock `key`, as the database shows them (a
    /// role without `pg_read_all_stats` may see neither name nor address).
    async fn holder(client: &Client, key: i64) -> String {
        let (high, low) = ((key as u64 >> 32) as i64, (key as u64 & 0xffff_ffff) as i64);
        let row = bounded(
            "naming the lock's holder",
            client.query_opt(
                "SELECT a.application_name, coalesce(host(a.client_addr), 'a local socket')
                   FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                  WHERE l.locktype = 'advisory' AND l.granted
                    AND l.classid = ($1::bigint)::oid AND l.objid = ($2::bigint)::oid
                    AND l.objsubid = 1
                  LIMIT 1",
                &[&high, &low],
            ),
        )
        .await
        .ok()
        .flatten();
        let field = |row: &tokio_postgres::Row, i| {
            row.try_get::<_, Option<String>>(i)
                .ok()
                .flatten()
                .filter(|s| !s.is_empty())
        };
        match row.as_ref().map(|r| (field(r, 0), field(r, 1))) {
            Some((Some(name), Some(from))) => format!("another runner ({name}, from {from})"),
            Some((Some(name), None)) => format!("another runner ({name})"),
            _ => "another runner".into(),
        }
    }
}

/// A rotation's row while its lock is held: the session that holds the
/// advisory lock, and the attempt (fencing token) this hold began.
struct HeldRow {
    client: Arc<Client>,
    name: String,
    attempt: i64,
    body: Option<String>,
    /// Set when a heartbeat failed: the session may be gone.
    silent: Arc<AtomicBool>,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl Drop for HeldRow {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

impl HeldRow {
    fn lost(&self, why: &str) -> StateError {
        StateError::Lost(format!(
            "this run no longer holds the lock of rotation {} ({why}): another runner may have taken it over, so this run changes nothing more; the rotation goes on in the run that holds it, or in a rerun",
            self.name
        ))
    }
}

impl HeldState for HeldRow {
    fn load(&self) -> BoxFuture<'_, Result<Option<String>, StateError>> {
        Box::pin(async move { Ok(self.body.clone()) })
    }

    fn save<'a>(&'a self, text: &'a str) -> BoxFuture<'a, Result<(), StateError>> {
        Box::pin(async move {
            // Over the lock's own session, and only while no later attempt
            // began: a stale runner's write changes nothing.
            let written = bounded(
                "writing a journal",
                self.client.execute(
                    "UPDATE apikeys_rotations SET body = $2::text::jsonb, updated = now()
                      WHERE name = $1 AND attempt = $3",
                    &[&self.name, &text, &self.attempt],
                ),
            )
            .await
            .map_err(|e| self.lost(&e.to_string()))?;
            match written {
                1 => Ok(()),
                _ => Err(self.lost("a later attempt began")),
            }
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<(), StateError>> {
        Box::pin(async move {
            if self.silent.load(Ordering::SeqCst) {
                return Err(self.lost("its session stopped answering"));
            }
            let row = bounded(
                "proving the lock is held",
                self.client.query_opt(
                    "SELECT attempt FROM apikeys_rotations WHERE name = $1",
                    &[&self.name],
                ),
            )
            .await
            .map_err(|e| self.lost(&e.to_string()))?;
            match row.map(|r| r.get::<_, i64>(0)) {
                Some(attempt) if attempt == self.attempt => Ok(()),
                _ => Err(self.lost("a later attempt began")),
            }
        })
    }
}

impl StateStore for PgStore {
    fn lock<'a>(
        &'a self,
        name: &'a str,
        fault: &'a FaultFn<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn HeldState + 'a>, StateError>> {
        Box::pin(async move {
            let name = format!("{}{name}", self.prefix);
            let client = self.session().await?;
            if fault(FaultPoint::LockOpened) {
                return Err(StateError::Crashed(FaultPoint::LockOpened));
            }
            let key = lock_key(&name);
            let taken: bool = bounded(
                "taking a rotation's lock",
                client.query_one("SELECT pg_try_advisory_lock($1)", &[&key]),
            )
            .await?
            .get(0);
            if !taken {
                let who = Self::holder(&client, key).await;
                return Err(StateError::Busy(format!(
                    "{who} is rotating this key and holds its lock in {}",
                    self.describe()
                )));
            }
            // A new attempt: every write of an earlier one is refused from
            // now on.
            let row = bounded(
                "starting an attempt",
                client.query_one(
                    "INSERT INTO apikeys_rotations (name, body, attempt) VALUES ($1, NULL, 1)
                     ON CONFLICT (name) DO UPDATE SET attempt = apikeys_rotations.attempt + 1
                     RETURNING attempt, body::text",
                    &[&name],
                ),
            )
            .await?;
            let client = Arc::new(client);
            let silent = Arc::new(AtomicBool::new(false));
            let heartbeat = tokio::spawn({
                let (client, silent) = (client.clone(), silent.clone());
                async move {
                    loop {
                        tokio::time::sleep(HEARTBEAT).await;
                        if bounded("a heartbeat", client.batch_execute("SELECT 1"))
                            .await
                            .is_err()
                        {
                            silent.store(true, Ordering::SeqCst);
                            return;
                        }
                    }
                }
            });
            Ok(Box::new(HeldRow {
                client,
                name,
                attempt: row.get(0),
                body: row.get(1),
                silent,
                heartbeat,
            }) as Box<dyn HeldState>)
        })
    }

    fn peek<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<String>, StateError>> {
        Box::pin(async move {
            let client = self.session().await?;
            let row = bounded(
                "reading a journal",
                client.query_opt(
                    "SELECT body::text FROM apikeys_rotations WHERE name = $1 AND body IS NOT NULL",
                    &[&format!("{}{name}", self.prefix)],
                ),
            )
            .await?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    fn journals(&self) -> BoxFuture<'_, Result<Vec<String>, StateError>> {
        Box::pin(async move {
            let client = self.session().await?;
            let rows = bounded(
                "listing journals",
                client.query(
                    "SELECT body::text FROM apikeys_rotations
                      WHERE starts_with(name, $1) AND body IS NOT NULL",
                    &[&self.prefix],
                ),
            )
            .await?;
            Ok(rows.into_iter().map(|r| r.get(0)).collect())
        })
    }

    fn scoped(&self, scope: &str) -> Box<dyn StateStore> {
        Box::new(Self {
            target: self.target.clone(),
            prefix: format!("{}{scope}/", self.prefix),
        })
    }

    fn describe(&self) -> String {
        let config = &self.target.config;
        let hosts: Vec<String> = config
            .get_hosts()
            .iter()
            .map(|h| match h {
                tokio_postgres::config::Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        format!(
            "PostgreSQL database {} on {} (sslmode {})",
            config.get_dbname().unwrap_or("(default)"),
            hosts.join(","),
            self.target.ssl.name()
        )
    }
}
