//! Where rotations keep their journals and locks: files in a folder (the
//! default, for one machine), or a PostgreSQL database (feature
//! `postgres`, for runners on many machines).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::BoxFuture;
use crate::journal::{Lock, write_atomically};
use crate::rotate::FaultPoint;

/// A fault hook, as [`crate::Rotation::inject_faults`] takes it: `true`
/// stops the rotation at that point.
pub type FaultFn<'a> = dyn Fn(FaultPoint) -> bool + Send + Sync + 'a;

/// Why the state could not be used.
#[derive(Debug)]
pub enum StateError {
    /// Another run holds the rotation's lock; the text names it.
    Busy(String),
    /// The state could not be read or written.
    Unavailable(String),
    /// The lock was lost while held (its database session ended, and
    /// another run may have taken the rotation over): this run must change
    /// nothing more.
    Lost(String),
    /// Where the state is was given wrongly (a malformed connection
    /// string, an unknown `sslmode`): nothing was tried.
    Config(String),
    /// A fault was injected at this point (tests).
    Crashed(FaultPoint),
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Busy(why) | Self::Unavailable(why) | Self::Lost(why) | Self::Config(why) => {
                f.write_str(why)
            }
            Self::Crashed(point) => write!(f, "fault injected at {}", point.name()),
        }
    }
}

impl std::error::Error for StateError {}

/// Where rotations keep their journals (one small JSON text per rotation,
/// never holding a secret) and the locks that keep two runs of one
/// rotation apart.
pub trait StateStore: Send + Sync {
    /// Takes the lock of the rotation `name` without waiting; what it
    /// returns reads and writes that rotation's journal while the lock is
    /// held, and releases the lock when dropped (or when the process dies).
    /// `fault` is called at [`FaultPoint::LockOpened`].
    fn lock<'a>(
        &'a self,
        name: &'a str,
        fault: &'a FaultFn<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn HeldState + 'a>, StateError>>;

    /// The journal of the rotation `name`, read without its lock (a
    /// status, a dry run).
    fn peek<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<String>, StateError>>;

    /// Every journal, finished or not.
    fn journals(&self) -> BoxFuture<'_, Result<Vec<String>, StateError>>;

    /// The same store, holding only the rotations of `scope` (a policy
    /// file's profile): a sub-folder, or a name prefix.
    fn scoped(&self, scope: &str) -> Box<dyn StateStore>;

    /// Where the state is, for messages (never a password).
    fn describe(&self) -> String;
}

/// A rotation's journal while its lock is held.
pub trait HeldState: Send + Sync {
    /// The journal, if the rotation has one.
    fn load(&self) -> BoxFuture<'_, Result<Option<String>, StateError>>;

    /// Replaces the journal with `text`, durably: a reader sees the old
    /// text or the new, never a part. Refused with [`StateError::Lost`]
    /// once another run has taken the rotation over (a compare-and-set on
    /// this hold's fencing token).
    fn save<'a>(&'a self, text: &'a str) -> BoxFuture<'a, Result<(), StateError>>;

    /// Proves the lock is still held by this run and no later run took
    /// the rotation over; [`StateError::Lost`] when it cannot. A rotation
    /// calls it right before every effect (a provider call, a sink write).
    fn check(&self) -> BoxFuture<'_, Result<(), StateError>>;
}

/// Journals as files in a folder, each `<name>.json` written atomically
/// with mode 0600, locked with an `flock` on `<name>.lock` beside it.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// Journals in `dir` (created when first written).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }
}

fn read(path: &Path) -> Result<Option<String>, StateError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StateError::Unavailable(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

struct HeldFile {
    path: PathBuf,
    _lock: Lock,
}

impl HeldState for HeldFile {
    fn load(&self) -> BoxFuture<'_, Result<Option<String>, StateError>> {
        Box::pin(async move { read(&self.path) })
    }

    fn save<'a>(&'a self, text: &'a str) -> BoxFuture<'a, Result<(), StateError>> {
        Box::pin(async move {
            write_atomically(&self.path, text.as_bytes(), 0o600).map_err(|e| {
                StateError::Unavailable(format!("cannot write {}: {e}", self.path.display()))
            })
        })
    }

    /// An `flock` is held until this process closes the file or dies: it
    /// cannot be lost while the process runs.
    fn check(&self) -> BoxFuture<'_, Result<(), StateError>> {
        Box::pin(async { Ok(()) })
    }
}

impl StateStore for FileStore {
    fn lock<'a>(
        &'a self,
        name: &'a str,
        fault: &'a FaultFn<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn HeldState + 'a>, StateError>> {
        Box::pin(async move {
            let path = self.path(name);
            let lock_path = path.with_extension("lock");
            let file = Lock::open(&lock_path).map_err(StateError::Unavailable)?;
            if fault(FaultPoint::LockOpened) {
                return Err(StateError::Crashed(FaultPoint::LockOpened));
            }
            let lock = Lock::take(file, &lock_path).map_err(StateError::Busy)?;
            Ok(Box::new(HeldFile { path, _lock: lock }) as Box<dyn HeldState>)
        })
    }

    fn peek<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<String>, StateError>> {
        Box::pin(async move { read(&self.path(name)) })
    }

    fn journals(&self) -> BoxFuture<'_, Result<Vec<String>, StateError>> {
        Box::pin(async move {
            let Ok(entries) = std::fs::read_dir(&self.dir) else {
                return Ok(Vec::new());
            };
            Ok(entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .filter_map(|p| std::fs::read_to_string(p).ok())
                .collect())
        })
    }

    fn scoped(&self, scope: &str) -> Box<dyn StateStore> {
        Box::new(Self::new(self.dir.join(scope)))
    }

    fn describe(&self) -> String {
        format!("folder {}", self.dir.display())
    }
}
