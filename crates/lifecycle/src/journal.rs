//! The rotation journal: one small JSON file per rotation, written
//! atomically at every step, never holding a secret; and the lock that
//! keeps two runs of one rotation apart.

use std::fs;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::protocol::Step;

/// What a rotation has done so far.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Entry {
    pub provider: String,
    /// The old key: its id, or `fp:<fingerprint>` when the id is secret.
    pub old: String,
    /// The current attempt's token; the tag in the new key's name contains
    /// it. Each attempt that creates a key has its own.
    pub token: String,
    /// The tokens of earlier attempts: keys tagged with them are
    /// leftovers, revoked before a create and before the old key goes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<String>,
    pub step: Step,
    /// The start of the new key's name, fixed when the rotation began: a
    /// run that resumes it names its key as the first run would have, so
    /// that a lineage keeps its name (and a selection by name keeps
    /// finding it) through any crash. Absent in older journals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
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

/// The name of the rotation of `provider`'s key shown as `old`: what its
/// journal and lock are found by, in a folder or a database.
pub(crate) fn name(provider: &str, old: &str) -> String {
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
    format!("{provider}-{safe}-{}", crate::fingerprint(old))
}

impl Entry {
    /// Reads a journal's text; `name` names it in the error.
    pub fn parse(text: &str, name: &str) -> std::io::Result<Self> {
        serde_json::from_str(text).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{name} is not a rotation journal: {e}"),
            )
        })
    }

    /// The journal's text (never a secret: the entry holds none).
    pub fn text(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
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
    /// Opens (creates) the lock file `path`; taking the lock is
    /// [`Lock::take`].
    pub fn open(path: &Path) -> Result<fs::File, String> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| format!("cannot open the lock {}: {e}", path.display()))
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
