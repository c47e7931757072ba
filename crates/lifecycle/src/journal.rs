//! The rotation journal: one small JSON file per rotation, written
//! atomically at every step, never holding a secret; and the lock that
//! keeps two runs of one rotation apart.

use std::fs;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::protocol::Step;

/// The new key a rotation made, as its journal knows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Made {
    /// Its id, or fingerprint when the id is secret.
    pub shown: String,
    /// Its id when it may be written down: what a discard revokes.
    pub id: Option<String>,
    /// When it was created, as the rotation saw it: the age of a key whose
    /// provider reports none. Absent in the oldest journals.
    pub created_at: Option<DateTime<Utc>>,
}

/// How far a rotation got, with what each step knows: a step the protocol
/// rules out (stored with no new key, verified with no time the old key
/// may go) cannot be written, and a journal that says one is refused as
/// damaged.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Stage {
    /// No key created yet (or one whose creation was not journaled).
    Started,
    /// A new key exists; its secret may not be stored.
    Created(Made),
    /// Its credentials are in the sink.
    Stored(Made),
    /// It was verified (how, in words); the old key may go from
    /// `revoke_after` (none: at once).
    Verified {
        made: Made,
        verified: String,
        revoke_after: Option<DateTime<Utc>>,
    },
    /// The old key is revoked.
    Done {
        made: Made,
        verified: String,
        revoke_after: Option<DateTime<Utc>>,
    },
}

impl Stage {
    /// The step, as the protocol reads it.
    pub fn step(&self) -> Step {
        match self {
            Stage::Started => Step::Started,
            Stage::Created(_) => Step::Created,
            Stage::Stored(_) => Step::Stored,
            Stage::Verified { .. } => Step::Verified,
            Stage::Done { .. } => Step::Done,
        }
    }

    /// The new key, once created.
    pub fn made(&self) -> Option<&Made> {
        match self {
            Stage::Started => None,
            Stage::Created(made) | Stage::Stored(made) => Some(made),
            Stage::Verified { made, .. } | Stage::Done { made, .. } => Some(made),
        }
    }

    /// `Created` to `Stored`; any other stage is given back.
    pub fn stored(self) -> Result<Stage, Stage> {
        match self {
            Stage::Created(made) => Ok(Stage::Stored(made)),
            other => Err(other),
        }
    }

    /// `Stored` to `Verified`; any other stage is given back.
    pub fn verified(
        self,
        verified: String,
        revoke_after: Option<DateTime<Utc>>,
    ) -> Result<Stage, Stage> {
        match self {
            Stage::Stored(made) => Ok(Stage::Verified {
                made,
                verified,
                revoke_after,
            }),
            other => Err(other),
        }
    }

    /// `Verified` to `Done`; any other stage is given back.
    pub fn done(self) -> Result<Stage, Stage> {
        match self {
            Stage::Verified {
                made,
                verified,
                revoke_after,
            } => Ok(Stage::Done {
                made,
                verified,
                revoke_after,
            }),
            other => Err(other),
        }
    }

    /// When the old key may go, once verified.
    pub fn revoke_after(&self) -> Option<DateTime<Utc>> {
        match self {
            Stage::Verified { revoke_after, .. } | Stage::Done { revoke_after, .. } => {
                *revoke_after
            }
            _ => None,
        }
    }
}

/// What a rotation has done so far.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub provider: String,
    /// The old key: its id, or `fp:<fingerprint>` when the id is secret.
    pub old: String,
    /// The current attempt's token; the tag in the new key's name contains
    /// it. Each attempt that creates a key has its own.
    pub token: String,
    /// The tokens of earlier attempts: keys tagged with them are
    /// leftovers, revoked before a create and before the old key goes.
    pub earlier: Vec<String>,
    /// The start of the new key's name, fixed when the rotation began: a
    /// run that resumes it names its key as the first run would have, so
    /// that a lineage keeps its name (and a selection by name keeps
    /// finding it) through any crash. Absent in older journals.
    pub name: Option<String>,
    /// How far it got, and what that step knows.
    pub stage: Stage,
}

/// A journal as written: one flat JSON object, the same as every earlier
/// version wrote, so that journals of older runs are read as they are.
#[derive(Serialize, Deserialize)]
struct Wire {
    provider: String,
    old: String,
    token: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    earlier: Vec<String>,
    step: Step,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    new: Option<String>,
    new_id: Option<String>,
    verified: Option<String>,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    revoke_after: Option<DateTime<Utc>>,
}

impl From<&Entry> for Wire {
    fn from(e: &Entry) -> Self {
        let made = e.stage.made();
        let verified = match &e.stage {
            Stage::Verified { verified, .. } | Stage::Done { verified, .. } => {
                Some(verified.clone())
            }
            _ => None,
        };
        Wire {
            provider: e.provider.clone(),
            old: e.old.clone(),
            token: e.token.clone(),
            earlier: e.earlier.clone(),
            step: e.stage.step(),
            name: e.name.clone(),
            new: made.map(|m| m.shown.clone()),
            new_id: made.and_then(|m| m.id.clone()),
            verified,
            created_at: made.and_then(|m| m.created_at),
            revoke_after: e.stage.revoke_after(),
        }
    }
}

impl TryFrom<Wire> for Entry {
    type Error = String;

    fn try_from(w: Wire) -> Result<Self, String> {
        let made = w.new.map(|shown| Made {
            shown,
            id: w.new_id,
            created_at: w.created_at,
        });
        let verified = w.verified.unwrap_or_default();
        let stage = match (w.step, made) {
            (Step::Started, _) => Stage::Started,
            (Step::Created, Some(made)) => Stage::Created(made),
            (Step::Stored, Some(made)) => Stage::Stored(made),
            (Step::Verified, Some(made)) => Stage::Verified {
                made,
                verified,
                revoke_after: w.revoke_after,
            },
            (Step::Done, Some(made)) => Stage::Done {
                made,
                verified,
                revoke_after: w.revoke_after,
            },
            (step, None) => return Err(format!("it says {step:?} but names no new key")),
        };
        Ok(Entry {
            provider: w.provider,
            old: w.old,
            token: w.token,
            earlier: w.earlier,
            name: w.name,
            stage,
        })
    }
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
        let invalid = |why: String| std::io::Error::new(std::io::ErrorKind::InvalidData, why);
        let wire: Wire = serde_json::from_str(text)
            .map_err(|e| invalid(format!("{name} is not a rotation journal: {e}")))?;
        Entry::try_from(wire).map_err(|why| {
            invalid(format!(
                "{name} is damaged: {why}; it is kept as it is, look at it before removing it"
            ))
        })
    }

    /// The journal's text (never a secret: the entry holds none).
    pub fn text(&self) -> String {
        serde_json::to_string_pretty(&Wire::from(self)).unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(stage: Stage) -> Entry {
        Entry {
            provider: "p".into(),
            old: "old".into(),
            token: "0123456789ab".into(),
            earlier: vec!["ba9876543210".into()],
            name: Some("svc".into()),
            stage,
        }
    }

    #[test]
    fn every_stage_reads_back_as_written() {
        let made = Made {
            shown: "k2".into(),
            id: Some("k2".into()),
            created_at: DateTime::from_timestamp(1_800_000_000, 0),
        };
        let after = DateTime::from_timestamp(1_800_003_600, 0);
        for stage in [
            Stage::Started,
            Stage::Created(made.clone()),
            Stage::Stored(made.clone()),
            Stage::Verified {
                made: made.clone(),
                verified: "verified".into(),
                revoke_after: after,
            },
            Stage::Done {
                made: made.clone(),
                verified: "not possible: no call".into(),
                revoke_after: None,
            },
        ] {
            let e = entry(stage);
            assert_eq!(Entry::parse(&e.text(), "j").unwrap(), e);
        }
    }

    #[test]
    fn a_journal_of_a_step_the_protocol_rules_out_is_refused() {
        for step in ["created", "stored", "verified", "done"] {
            let text = format!(
                r#"{{"provider":"p","old":"o","token":"t","step":"{step}","new":null,"new_id":null,"verified":null}}"#
            );
            let err = Entry::parse(&text, "j").unwrap_err();
            assert!(err.to_string().contains("damaged"), "{step}: {err}");
        }
        // What older versions wrote still reads.
        let old = r#"{"provider":"p","old":"o","token":"t","step":"stored","new":"k","new_id":"k","verified":null}"#;
        assert!(matches!(
            Entry::parse(old, "j").unwrap().stage,
            Stage::Stored(_)
        ));
    }
}
