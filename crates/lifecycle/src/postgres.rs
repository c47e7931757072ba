//! Journals and locks in PostgreSQL (feature `postgres`): runners on many
//! machines rotate the same keys without two of them ever rotating one key
//! at once.
//!
//! - **The lock** of a rotation is a session-level advisory lock, taken
//!   with `pg_try_advisory_lock` on a connection the rotation holds for as
//!   long as it runs. A runner that dies (or loses its connection) releases
//!   it with its session: there is no pid to go stale and no takeover of a
//!   live holder. A refused runner names the holder's `application_name`
//!   (`apikeys pid <pid> on <host>`) and address.
//! - **Journal writes** go over that same connection, one statement (a
//!   transaction of its own) per step. A runner whose session is gone
//!   therefore cannot write a step: it stops at its next write, and
//!   rerunning goes on.
//! - **The schema** is created on first use and migrated in order under a
//!   transaction-level advisory lock, recorded in `apikeys_schema`
//!   (`version`). A database of a newer schema is refused, never written.
//! - **No secret** is stored: the journal is the file journal's JSON, which
//!   holds none (a secret key id only as a fingerprint).
//!
//! The connection is made without TLS: use a Unix socket, loopback, or a
//! network you trust.

use std::sync::Arc;

use sha2::Digest;
use tokio_postgres::{Client, Config, NoTls};

use crate::BoxFuture;
use crate::rotate::FaultPoint;
use crate::state::{FaultFn, HeldState, StateError, StateStore};

/// The schema this version writes; migrations bring older ones here.
pub const SCHEMA_VERSION: i32 = 1;

/// Each migration: the version it brings the schema to, and its SQL.
const MIGRATIONS: &[(i32, &str)] = &[(
    1,
    "CREATE TABLE IF NOT EXISTS apikeys_rotations (
         name text PRIMARY KEY,
         body jsonb NOT NULL,
         updated timestamptz NOT NULL DEFAULT now()
     )",
)];

/// The advisory lock every migration runs under.
const MIGRATION_LOCK: i64 = 0x6170_696b_6579_7300;

/// Rotation state in a PostgreSQL database.
#[derive(Clone)]
pub struct PgStore {
    config: Arc<Config>,
    prefix: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> StateError {
    StateError::Unavailable(format!("the state database: {what}: {e}"))
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
    /// or `host=/run/postgresql dbname=…`), creating or migrating its
    /// schema.
    pub async fn connect(url: &str) -> Result<Self, StateError> {
        let mut config: Config = url
            .parse()
            .map_err(|e| unavailable("the connection string", e))?;
        config.application_name(application_name());
        let store = Self {
            config: Arc::new(config),
            prefix: String::new(),
        };
        let mut client = store.session().await?;
        store.migrate(&mut client).await?;
        Ok(store)
    }

    /// A new session; its connection runs on the current tokio runtime.
    async fn session(&self) -> Result<Client, StateError> {
        let (client, connection) = self
            .config
            .connect(NoTls)
            .await
            .map_err(|e| unavailable(&format!("cannot connect to {}", self.describe()), e))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    }

    async fn migrate(&self, client: &mut Client) -> Result<(), StateError> {
        let failed = |e| unavailable("creating or migrating its schema", e);
        let tx = client.transaction().await.map_err(failed)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(failed)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS apikeys_schema (version integer NOT NULL)")
            .await
            .map_err(failed)?;
        let current: i32 = tx
            .query_one("SELECT coalesce(max(version), 0) FROM apikeys_schema", &[])
            .await
            .map_err(failed)?
            .get(0);
        if current > SCHEMA_VERSION {
            return Err(StateError::Unavailable(format!(
                "the state database holds schema version {current}, newer than this apikeys knows ({SCHEMA_VERSION}): upgrade apikeys; nothing was written"
            )));
        }
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
            tx.batch_execute(sql).await.map_err(failed)?;
            tx.execute("DELETE FROM apikeys_schema", &[])
                .await
                .map_err(failed)?;
            tx.execute(
                "INSERT INTO apikeys_schema (version) VALUES ($1)",
                &[version],
            )
            .await
            .map_err(failed)?;
        }
        tx.commit().await.map_err(failed)
    }

    /// Who holds the advisory lock `key`, as the database knows them.
    async fn holder(client: &Client, key: i64) -> String {
        let (high, low) = ((key as u64 >> 32) as i64, (key as u64 & 0xffff_ffff) as i64);
        let row = client
            .query_opt(
                "SELECT a.application_name, coalesce(host(a.client_addr), 'a local socket')
                   FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                  WHERE l.locktype = 'advisory' AND l.granted
                    AND l.classid = ($1::bigint)::oid AND l.objid = ($2::bigint)::oid
                    AND l.objsubid = 1
                  LIMIT 1",
                &[&high, &low],
            )
            .await
            .ok()
            .flatten();
        match row {
            Some(row) => format!(
                "another runner ({}, from {})",
                row.get::<_, String>(0),
                row.get::<_, String>(1)
            ),
            None => "another runner".into(),
        }
    }
}

struct HeldRow {
    client: Client,
    name: String,
}

impl HeldState for HeldRow {
    fn load(&self) -> BoxFuture<'_, Result<Option<String>, StateError>> {
        Box::pin(async move {
            let row = self
                .client
                .query_opt(
                    "SELECT body::text FROM apikeys_rotations WHERE name = $1",
                    &[&self.name],
                )
                .await
                .map_err(|e| unavailable("reading a journal", e))?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    fn save<'a>(&'a self, text: &'a str) -> BoxFuture<'a, Result<(), StateError>> {
        Box::pin(async move {
            // Over the lock's own session: once it is gone, so is the
            // right to write.
            self.client
                .execute(
                    "INSERT INTO apikeys_rotations (name, body, updated)
                     VALUES ($1, $2::text::jsonb, now())
                     ON CONFLICT (name) DO UPDATE SET body = EXCLUDED.body, updated = now()",
                    &[&self.name, &text],
                )
                .await
                .map_err(|e| unavailable("writing a journal", e))?;
            Ok(())
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
            let taken: bool = client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                .await
                .map_err(|e| unavailable("taking a rotation's lock", e))?
                .get(0);
            if !taken {
                let who = Self::holder(&client, key).await;
                return Err(StateError::Busy(format!(
                    "{who} is rotating this key and holds its lock in {}",
                    self.describe()
                )));
            }
            Ok(Box::new(HeldRow { client, name }) as Box<dyn HeldState>)
        })
    }

    fn peek<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<String>, StateError>> {
        Box::pin(async move {
            let client = self.session().await?;
            let row = client
                .query_opt(
                    "SELECT body::text FROM apikeys_rotations WHERE name = $1",
                    &[&format!("{}{name}", self.prefix)],
                )
                .await
                .map_err(|e| unavailable("reading a journal", e))?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    fn journals(&self) -> BoxFuture<'_, Result<Vec<String>, StateError>> {
        Box::pin(async move {
            let client = self.session().await?;
            let rows = client
                .query(
                    "SELECT body::text FROM apikeys_rotations WHERE starts_with(name, $1)",
                    &[&self.prefix],
                )
                .await
                .map_err(|e| unavailable("listing journals", e))?;
            Ok(rows.into_iter().map(|r| r.get(0)).collect())
        })
    }

    fn scoped(&self, scope: &str) -> Box<dyn StateStore> {
        Box::new(Self {
            config: self.config.clone(),
            prefix: format!("{}{scope}/", self.prefix),
        })
    }

    fn describe(&self) -> String {
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .map(|h| match h {
                tokio_postgres::config::Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        format!(
            "PostgreSQL database {} on {}",
            self.config.get_dbname().unwrap_or("(default)"),
            hosts.join(",")
        )
    }
}
