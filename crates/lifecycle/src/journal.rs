//! The rotation journal: one small JSON file per rotation, written
//! atomically at every step, never holding a secret; and the lock that
//! keeps two runs of one rotation apart.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::protocol::Step;

/// What a rotation has done so far.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Entry {
    pub provider: String,
    /// The old key: its id, or `fp:<fingerprint>` when the id is secret.
    pub old: String,
    /// The rotation's token; the tag in the new key's name contains it.
    pub token: String,
    pub step: Step,
    /// The new key's id (or fingerprint when the id is secret), once
    /// created.
    pub new: Option<String>,
    /// The new key's id when it may be written down: what resume revokes.
    pub new_id: Option<String>,
    pub verified: Option<String>,
    /// When the new key was created, as this rotation saw it: the age of a
    /// key whose provider does not report one.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// When the old key may be revoked (the end of the grace); none: once
    /// verified.
    #[serde(default)]
    pub revoke_after: Option<DateTime<Utc>>,
}

/// Writes `bytes` to `path` so that a reader sees the old file or the new
/// one, never a part: a temporary file in the same folder, synced, then
/// renamed over it.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("apikeys");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    // A leftover of a crashed writer would keep its own permissions.
    let _ = fs::remove_file(&tmp);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, path)?;
    // The rename itself is durable once the folder is synced.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

pub(crate) struct Journal {
    pub path: PathBuf,
}

impl Journal {
    pub fn at(dir: &Path, provider: &str, old: &str) -> Self {
        let safe: String = old
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        Self {
            path: dir.join(format!(
                "{provider}-{safe}-{}.json",
                crate::fingerprint(old)
            )),
        }
    }

    pub fn load(&self) -> std::io::Result<Option<Entry>> {
        match fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{} is not a rotation journal: {e}", self.path.display()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every journal in `dir`, with its path (files that are not journals
    /// are left out).
    pub fn all(dir: &Path) -> Vec<(PathBuf, Entry)> {
        let Ok(read) = fs::read_dir(dir) else {
            return Vec::new();
        };
        read.filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter_map(|p| {
                let entry = serde_json::from_slice(&fs::read(&p).ok()?).ok()?;
                Some((p, entry))
            })
            .collect()
    }

    pub fn save(&self, entry: &Entry) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(entry).map_err(std::io::Error::other)?;
        write_atomically(&self.path, &bytes, 0o600)
    }
}

/// Held while a rotation runs: an exclusive `flock` on a file beside the
/// journal. The kernel takes it in one step and releases it when the
/// holder's process dies, however it dies: no pid to go stale, no window
/// between creating the file and claiming it. The file stays (removing it
/// would let a second run lock a new file while the first holds the old);
/// the holder writes its pid into it for the message a refused run gives.
pub(crate) struct Lock {
    file: fs::File,
}

impl Lock {
    /// Opens (creates) the lock file; taking the lock is [`Lock::take`].
    pub fn open(journal: &Journal) -> Result<(fs::File, PathBuf), String> {
        let path = journal.path.with_extension("lock");
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| format!("cannot open the lock {}: {e}", path.display()))?;
        Ok((file, path))
    }

    /// Takes the lock on `file` without waiting; a live holder is named.
    pub fn take(file: fs::File, path: &Path) -> Result<Self, String> {
        match file.try_lock() {
            Ok(()) => {
                let _ = file.set_len(0);
                let _ = (&file).write_all(std::process::id().to_string().as_bytes());
                Ok(Self { file })
            }
            Err(fs::TryLockError::WouldBlock) => {
                let holder = fs::read_to_string(path).unwrap_or_default();
                let holder = holder.trim();
                let who = if holder.is_empty() {
                    "another run".to_owned()
                } else {
                    format!("another run (process {holder})")
                };
                Err(format!(
                    "{who} is rotating this key and holds {}",
                    path.display()
                ))
            }
            Err(fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}
