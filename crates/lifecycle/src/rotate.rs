//! Rotation as a protocol: create a pending key, hand its secret to a
//! sink, verify it, then revoke the old key, journaling every step so
//! that a rerun after a crash finishes the rotation instead of starting
//! another.
//!
//! What holds whenever the process dies:
//! - a working key is held: the old one (revoked only after the new one
//!   is stored and verified), or the new one, stored;
//! - no key whose secret was never stored stays live: a key created but
//!   not yet journaled is found on resume by the tag in its name (or by
//!   its id, once journaled) and revoked, and so is one journaled but not
//!   known to be stored;
//! - the journal never holds a secret, and a secret id only as a
//!   fingerprint.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::journal::{Entry, Journal, Lock};
use crate::{
    Credential, KeyId, KeyLifecycle, LifecycleError, LifecycleErrorKind, Sink, SinkError,
    Verification,
};

/// How far a rotation has got, as its journal says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Journal written; no key created yet (or one whose creation was not
    /// journaled, found by its tag).
    Started,
    /// A new key exists; its secret may not be stored.
    Created,
    /// The new key's credentials are in the sink.
    Stored,
    /// The new key answered an authenticated call (or cannot, and that
    /// was accepted).
    Verified,
    /// The old key is revoked: the rotation is finished.
    Done,
}

/// Where a fault can be injected: after each remote effect and after each
/// journal write. A crash test stops the process at one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    /// The journal was just started.
    Started,
    /// The key was created at the provider; the journal does not know it.
    Created,
    /// The journal knows the new key.
    CreatedJournaled,
    /// The sink stored the credentials; the journal does not know it.
    Stored,
    /// The journal says stored.
    StoredJournaled,
    /// The new key verified; the journal does not know it.
    Verified,
    /// The journal says verified.
    VerifiedJournaled,
    /// The old key was revoked; the journal does not know it.
    Revoked,
}

impl FaultPoint {
    /// Every point, in the order a rotation passes them.
    pub const ALL: [FaultPoint; 8] = [
        Self::Started,
        Self::Created,
        Self::CreatedJournaled,
        Self::Stored,
        Self::StoredJournaled,
        Self::Verified,
        Self::VerifiedJournaled,
        Self::Revoked,
    ];

    /// Its name on the command line (`created-journaled`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Created => "created",
            Self::CreatedJournaled => "created-journaled",
            Self::Stored => "stored",
            Self::StoredJournaled => "stored-journaled",
            Self::Verified => "verified",
            Self::VerifiedJournaled => "verified-journaled",
            Self::Revoked => "revoked",
        }
    }

    /// The point named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// One line of progress, as a rotation makes it.
#[derive(Debug, Clone)]
pub enum Progress {
    /// A journal was found: the rotation resumes at this step.
    Resuming(Step),
    /// A key this rotation created before a crash, whose secret may never
    /// have been stored, was revoked.
    RevokedLeftover(KeyId),
    /// The new key was created.
    Created(KeyId),
    /// Its credentials were stored; the sink is named.
    Stored(String),
    /// It was verified (or cannot be, and that was accepted).
    Verified(Verification),
    /// The old key was revoked.
    RevokedOld(KeyId),
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Resuming(step) => write!(f, "resuming a rotation left at step {step:?}"),
            Self::RevokedLeftover(id) => write!(
                f,
                "revoked {id}, created by this rotation before it stopped (its secret may never have been stored)"
            ),
            Self::Created(id) => write!(f, "created {id}"),
            Self::Stored(sink) => write!(f, "stored its credentials in {sink}"),
            Self::Verified(Verification::Verified) => {
                write!(
                    f,
                    "verified: an authenticated call with the new key succeeded"
                )
            }
            Self::Verified(Verification::NotPossible(why)) => {
                write!(f, "not verifiable ({why}); accepted")
            }
            Self::RevokedOld(id) => write!(f, "revoked the old key {id}"),
        }
    }
}

/// A finished rotation.
#[derive(Debug, Clone)]
pub struct RotationOutcome {
    /// The new key, as it may be shown.
    pub new: String,
    /// Whether this run resumed an earlier one.
    pub resumed: bool,
    /// Whether the rotation had already finished before this run.
    pub already_done: bool,
}

/// Why a rotation stopped. The journal keeps its state: rerunning the same
/// rotation goes on from there.
#[derive(Debug)]
pub enum RotationError {
    /// Another run holds the rotation's lock.
    Busy(String),
    /// The journal could not be read or written.
    Journal(std::io::Error),
    /// A provider call failed at `step`.
    Provider {
        /// The step that failed.
        step: Step,
        /// What the provider call said.
        error: LifecycleError,
    },
    /// The sink did not store the credentials; the new key was revoked.
    Sink(SinkError),
    /// The new key was refused: the old key is kept, the new one too (it
    /// is stored); rerun to verify again.
    NotVerified(LifecycleError),
    /// The provider cannot verify a new key and that was not accepted
    /// (`Rotation::accept_unverifiable`): the old key is kept.
    Unverifiable(&'static str),
    /// A fault was injected at this point (tests).
    Crashed(FaultPoint),
}

impl fmt::Display for RotationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Busy(why) => write!(
                f,
                "{why}: wait for it, or remove the lock if no such run exists"
            ),
            Self::Journal(e) => write!(f, "the rotation journal: {e}"),
            Self::Provider { step, error } => write!(
                f,
                "the provider failed after step {step:?}: {error}; the old key still works, rerun the same rotation to go on"
            ),
            Self::Sink(e) => write!(
                f,
                "the new credentials were not stored ({e}); the new key was revoked and the old one still works"
            ),
            Self::NotVerified(e) => write!(
                f,
                "the new key did not pass verification ({e}); both keys still work and the new one is stored; rerun to verify again"
            ),
            Self::Unverifiable(why) => write!(
                f,
                "the new key cannot be verified ({why}); it is stored and the old key is kept: rerun accepting unverifiable keys to revoke the old one"
            ),
            Self::Crashed(point) => write!(f, "fault injected at {}", point.name()),
        }
    }
}

impl std::error::Error for RotationError {}

impl From<std::io::Error> for RotationError {
    fn from(e: std::io::Error) -> Self {
        Self::Journal(e)
    }
}

type FaultHook<'a> = Box<dyn Fn(FaultPoint) -> bool + Send + Sync + 'a>;
type ProgressHook<'a> = Box<dyn Fn(&Progress) + Send + Sync + 'a>;

/// A rotation of one provider's keys into one sink, journaled in one
/// folder.
pub struct Rotation<'a> {
    keys: &'a dyn KeyLifecycle,
    sink: &'a dyn Sink,
    journal_dir: PathBuf,
    name_prefix: String,
    accept_unverifiable: bool,
    fault: Option<FaultHook<'a>>,
    progress: Option<ProgressHook<'a>>,
}

impl<'a> Rotation<'a> {
    /// A rotation of `keys` storing new credentials in `sink`, with its
    /// journal (and lock) in `journal_dir`.
    pub fn new(
        keys: &'a dyn KeyLifecycle,
        sink: &'a dyn Sink,
        journal_dir: impl Into<PathBuf>,
    ) -> Self {
        Self {
            keys,
            sink,
            journal_dir: journal_dir.into(),
            name_prefix: "rotated".into(),
            accept_unverifiable: false,
            fault: None,
            progress: None,
        }
    }

    /// The start of new keys' names (`rotated` by default); the rotation
    /// appends its tag, `rot-<token>`.
    #[must_use]
    pub fn name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = prefix.into();
        self
    }

    /// Revoke the old key even when the provider cannot verify the new one
    /// (Finicity): the new key is then only known to be stored.
    #[must_use]
    pub fn accept_unverifiable(mut self, accept: bool) -> Self {
        self.accept_unverifiable = accept;
        self
    }

    /// Called with every step's progress.
    #[must_use]
    pub fn on_progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'a) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    /// Fault injection for crash tests: when `f` answers `true` at a point,
    /// the rotation stops there as if the process had died (nothing after
    /// it runs; the lock is released as a dead process's lock would be
    /// taken over).
    #[must_use]
    pub fn inject_faults(mut self, f: impl Fn(FaultPoint) -> bool + Send + Sync + 'a) -> Self {
        self.fault = Some(Box::new(f));
        self
    }

    fn say(&self, progress: Progress) {
        if let Some(f) = &self.progress {
            f(&progress);
        }
    }

    fn fault(&self, point: FaultPoint) -> Result<(), RotationError> {
        match &self.fault {
            Some(f) if f(point) => Err(RotationError::Crashed(point)),
            _ => Ok(()),
        }
    }

    /// The step an earlier run of this rotation reached, if any.
    pub fn status(&self, old: &KeyId) -> Result<Option<Step>, RotationError> {
        let journal = Journal::at(&self.journal_dir, self.keys.provider(), &old.shown());
        Ok(journal.load()?.map(|e| e.step))
    }

    /// Rotates `old`: resumes the journaled rotation of `old` if there is
    /// one, else starts it. Returns once the old key is revoked.
    pub async fn rotate(&self, old: &KeyId) -> Result<RotationOutcome, RotationError> {
        let provider = self.keys.provider();
        let journal = Journal::at(&self.journal_dir, provider, &old.shown());
        let _lock = Lock::take(&journal).map_err(RotationError::Busy)?;
        let found = journal.load()?;
        let resumed = found.is_some();
        let already_done = found.as_ref().is_some_and(|e| e.step == Step::Done);
        let mut entry = match found {
            Some(entry) => {
                self.say(Progress::Resuming(entry.step));
                entry
            }
            None => {
                let entry = Entry {
                    provider: provider.to_owned(),
                    old: old.shown(),
                    token: format!("{:012x}", fastrand::u64(..) & 0xffff_ffff_ffff),
                    step: Step::Started,
                    new: None,
                    new_id: None,
                    verified: None,
                };
                journal.save(&entry)?;
                self.fault(FaultPoint::Started)?;
                entry
            }
        };
        let tag = format!("rot-{}", entry.token);
        let mut fresh: Option<Credential> = None;
        loop {
            let step = entry.step;
            let failed = |error| RotationError::Provider { step, error };
            match entry.step {
                Step::Started => {
                    self.revoke_tagged(&tag).await.map_err(failed)?;
                    let name = format!("{} {tag}", self.name_prefix);
                    let new = self.keys.create(&name).await.map_err(failed)?;
                    self.fault(FaultPoint::Created)?;
                    let id = &new.info.id;
                    entry.new = Some(id.shown());
                    entry.new_id = (!id.is_secret()).then(|| id.expose().to_owned());
                    entry.step = Step::Created;
                    journal.save(&entry)?;
                    self.say(Progress::Created(id.clone()));
                    self.fault(FaultPoint::CreatedJournaled)?;
                    if let Err(e) = self.sink.store(&new.credential) {
                        // Not stored: the new key must not stay live.
                        self.discard_new(&mut entry, &journal, &tag).await?;
                        return Err(RotationError::Sink(e));
                    }
                    self.fault(FaultPoint::Stored)?;
                    entry.step = Step::Stored;
                    journal.save(&entry)?;
                    self.say(Progress::Stored(self.sink.describe()));
                    self.fault(FaultPoint::StoredJournaled)?;
                    fresh = Some(new.credential);
                }
                Step::Created => {
                    // Resumed: whether the secret reached the sink is
                    // unknown. The new key is replaced, never trusted.
                    let new = entry.new.clone();
                    self.discard_new(&mut entry, &journal, &tag).await?;
                    if let Some(new) = new {
                        self.say(Progress::RevokedLeftover(KeyId::new(new)));
                    }
                }
                Step::Stored => {
                    let stored = fresh.take().or_else(|| {
                        self.sink
                            .load()
                            .filter(|c| Some(&c.key) == entry.new.as_ref())
                    });
                    let Some(credential) = stored else {
                        // Stored where it cannot be read back: verifying
                        // needs the secret, so the key is replaced.
                        self.discard_new(&mut entry, &journal, &tag).await?;
                        continue;
                    };
                    let verification = self.keys.verify(&credential).await.map_err(|e| {
                        if e.kind == LifecycleErrorKind::Refused {
                            RotationError::NotVerified(e)
                        } else {
                            failed(e)
                        }
                    })?;
                    if let Verification::NotPossible(why) = verification
                        && !self.accept_unverifiable
                    {
                        return Err(RotationError::Unverifiable(why));
                    }
                    self.fault(FaultPoint::Verified)?;
                    entry.verified = Some(match verification {
                        Verification::Verified => "verified".into(),
                        Verification::NotPossible(why) => format!("not possible: {why}"),
                    });
                    entry.step = Step::Verified;
                    journal.save(&entry)?;
                    self.say(Progress::Verified(verification));
                    self.fault(FaultPoint::VerifiedJournaled)?;
                }
                Step::Verified => {
                    self.keys.revoke(old).await.map_err(failed)?;
                    self.fault(FaultPoint::Revoked)?;
                    entry.step = Step::Done;
                    journal.save(&entry)?;
                    self.say(Progress::RevokedOld(old.clone()));
                }
                Step::Done => {
                    return Ok(RotationOutcome {
                        new: entry.new.clone().unwrap_or_default(),
                        resumed,
                        already_done,
                    });
                }
            }
        }
    }

    /// Revokes every key whose name carries `tag`: keys this rotation made
    /// before a crash that the journal may not know.
    async fn revoke_tagged(&self, tag: &str) -> Result<(), LifecycleError> {
        if !self.keys.names_keys() {
            return Ok(());
        }
        let keys = match self.keys.list().await {
            Ok(keys) => keys,
            Err(e) if e.kind == LifecycleErrorKind::Unsupported => return Ok(()),
            Err(e) => return Err(e),
        };
        for key in keys {
            if key.name.as_deref().is_some_and(|n| n.contains(tag)) {
                self.keys.revoke(&key.id).await?;
                self.say(Progress::RevokedLeftover(key.id));
            }
        }
        Ok(())
    }

    /// Revokes the rotation's new key and journals the rotation as back at
    /// its start, to create another.
    async fn discard_new(
        &self,
        entry: &mut Entry,
        journal: &Journal,
        tag: &str,
    ) -> Result<(), RotationError> {
        let step = entry.step;
        self.revoke_new(entry, tag)
            .await
            .map_err(|error| RotationError::Provider { step, error })?;
        entry.step = Step::Started;
        entry.new = None;
        entry.new_id = None;
        journal.save(entry)?;
        Ok(())
    }

    /// Revokes the rotation's new key: by its journaled id, else by tag.
    async fn revoke_new(&self, entry: &Entry, tag: &str) -> Result<(), LifecycleError> {
        match &entry.new_id {
            Some(id) => self.keys.revoke(&KeyId::new(id.clone())).await,
            None => self.revoke_tagged(tag).await,
        }
    }
}
