//! The rotation journal: one small JSON file per rotation, written
//! atomically at every step, never holding a secret; and the lock that
//! keeps two runs of one rotation apart.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::rotate::Step;

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

    pub fn save(&self, entry: &Entry) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(entry).map_err(std::io::Error::other)?;
        write_atomically(&self.path, &bytes, 0o600)
    }
}

/// Held while a rotation runs: a file created exclusively beside the
/// journal, holding the process id. A lock whose process is gone (a crash)
/// is taken over; one whose process runs is refused.
pub(crate) struct Lock {
    path: PathBuf,
}

impl Lock {
    pub fn take(journal: &Journal) -> Result<Self, String> {
        let path = journal.path.with_extension("lock");
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        for _ in 0..2 {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    let _ = write!(file, "{}", std::process::id());
                    let _ = file.sync_all();
                    return Ok(Self { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder: Option<u32> = fs::read_to_string(&path)
                        .ok()
                        .and_then(|t| t.trim().parse().ok());
                    if holder.is_some_and(alive) {
                        return Err(format!(
                            "another run (process {}) is rotating this key; {} is its lock",
                            holder.unwrap_or_default(),
                            path.display()
                        ));
                    }
                    // Left by a process that is gone: take it over.
                    let _ = fs::remove_file(&path);
                }
                Err(e) => return Err(format!("cannot lock {}: {e}", path.display())),
            }
        }
        Err(format!("cannot lock {}", path.display()))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Whether process `pid` still runs. Where that cannot be told (not
/// Linux), a lock is taken as held: the user removes it by hand.
fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}
