//! What a rotation says while it runs and when it ends: its fault points
//! (for crash tests), its progress, its outcome and its errors; and the
//! rotations a store has journaled.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::journal::Entry;
use crate::protocol::{Own, Step, WaitReason};
use crate::state::{StateError, StateStore};
use crate::{KeyId, LifecycleError, SinkError, Verification};

/// Where a fault can be injected: after each remote effect and after each
/// journal write. A crash test stops the process at one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    /// The lock file is open; the lock is not taken yet.
    LockOpened,
    /// The lock is taken; the journal is not read yet.
    Locked,
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
    /// The new key was settled (and its credentials stored again if they
    /// changed); not verified yet.
    Settled,
    /// The new key verified; the journal does not know it.
    Verified,
    /// The journal says verified.
    VerifiedJournaled,
    /// The old key was revoked; the journal does not know it.
    Revoked,
}

impl FaultPoint {
    /// Every point, in the order a rotation passes them.
    pub const ALL: [FaultPoint; 11] = [
        Self::LockOpened,
        Self::Locked,
        Self::Started,
        Self::Created,
        Self::CreatedJournaled,
        Self::Stored,
        Self::StoredJournaled,
        Self::Settled,
        Self::Verified,
        Self::VerifiedJournaled,
        Self::Revoked,
    ];

    /// Its name on the command line (`created-journaled`).
    pub fn name(self) -> &'static str {
        match self {
            Self::LockOpened => "lock-opened",
            Self::Locked => "locked",
            Self::Started => "started",
            Self::Created => "created",
            Self::CreatedJournaled => "created-journaled",
            Self::Stored => "stored",
            Self::StoredJournaled => "stored-journaled",
            Self::Settled => "settled",
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
    /// The tool's own calls now use the new key: it calls with the key
    /// being rotated ([`Own::Yes`]), or cannot tell ([`Own::Unknown`]).
    Adopted(Own),
    /// The new key was settled; its credentials changed and were stored
    /// again.
    Settled,
    /// It was verified (or cannot be, and that was accepted).
    Verified(Verification),
    /// Both keys stay live until then.
    Waiting(Pending),
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
            Self::Adopted(Own::Unknown) => write!(
                f,
                "the tool's credential may be the key being rotated (the provider cannot tell): calling with the new key from now on"
            ),
            Self::Adopted(_) => write!(
                f,
                "the key being rotated is the one this tool calls with: calling with the new key from now on"
            ),
            Self::Settled => write!(f, "settled the new key and stored its final credentials"),
            Self::Verified(Verification::Verified) => {
                write!(
                    f,
                    "verified: an authenticated call with the new key succeeded"
                )
            }
            Self::Verified(Verification::NotPossible(why)) => {
                write!(f, "not verifiable ({why}); accepted")
            }
            Self::Waiting(pending) => write!(f, "{pending}"),
            Self::RevokedOld(id) => write!(f, "revoked the old key {id}"),
        }
    }
}

/// Why and until when a rotation keeps the old key live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    /// When the old key may go; a later run (or `finish`) revokes it then.
    pub until: DateTime<Utc>,
    /// Why it may not go before.
    pub reason: WaitReason,
}

impl fmt::Display for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let until = self.until.format("%Y-%m-%dT%H:%M:%SZ");
        match self.reason {
            WaitReason::Grace => write!(
                f,
                "both keys stay live until {until} (the grace); rerun then to revoke the old one"
            ),
            WaitReason::InUse => write!(
                f,
                "the old key was used recently: both keys stay live until it has been idle long enough ({until}); rerun then"
            ),
        }
    }
}

/// Where a rotation stands at the end of a run.
#[derive(Debug, Clone)]
pub struct RotationOutcome {
    /// The new key, as it may be shown.
    pub new: String,
    /// Whether this run resumed an earlier one.
    pub resumed: bool,
    /// Whether the rotation had already finished before this run.
    pub already_done: bool,
    /// Set while the old key is still live: until when, and why.
    pub pending: Option<Pending>,
}

/// Why a rotation stopped. The journal keeps its state: rerunning the same
/// rotation goes on from there.
#[derive(Debug)]
pub enum RotationError {
    /// Another run holds the rotation's lock.
    Busy(String),
    /// This run lost the rotation's lock while it ran (its database
    /// session ended; another run may have taken over): it changed nothing
    /// after it found out.
    LostLock(String),
    /// The journal could not be read or written.
    Journal(std::io::Error),
    /// A setting of the rotation does not fit the provider; nothing was
    /// done.
    Config(String),
    /// The key being rotated is (or may be) the one the tool calls with,
    /// and the sink cannot give the new credentials back: a rerun after a
    /// crash could not call. Nothing was done.
    OwnKeyUnreadableSink(String),
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
                "{why}: wait for it to finish (the lock is released when its process ends, however it ends)"
            ),
            Self::LostLock(why) => f.write_str(why),
            Self::Journal(e) => write!(f, "the rotation journal: {e}"),
            Self::Config(why) => write!(f, "{why}; nothing was done"),
            Self::OwnKeyUnreadableSink(provider) => write!(
                f,
                "the {provider} key being rotated is (or may be) the one this tool calls with, and the sink cannot give the new credentials back: after a crash a rerun could not call until you configured them by hand. Use a file sink, or accept that (--allow-unreadable-sink); nothing was done"
            ),
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

impl From<StateError> for RotationError {
    fn from(e: StateError) -> Self {
        match e {
            StateError::Busy(why) => Self::Busy(why),
            StateError::Crashed(point) => Self::Crashed(point),
            StateError::Lost(why) => Self::LostLock(why),
            StateError::Config(why) => Self::Config(why),
            StateError::Unavailable(why) => Self::Journal(std::io::Error::other(why)),
        }
    }
}

/// A rotation journaled in a store, as [`journaled`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journaled {
    /// The provider.
    pub provider: String,
    /// The old key, as it may be shown.
    pub old: String,
    /// The new key, as it may be shown, once created.
    pub new: Option<String>,
    /// How far the rotation got.
    pub step: Step,
    /// When the new key was created, as the rotation saw it.
    pub created_at: Option<DateTime<Utc>>,
    /// When the old key may go.
    pub revoke_after: Option<DateTime<Utc>>,
}

/// Every rotation journaled in `state` (finished or not): what a policy
/// run finishes, and the creation time of keys whose provider reports
/// none. Texts that are not journals are left out.
pub async fn journaled(state: &dyn StateStore) -> Result<Vec<Journaled>, StateError> {
    Ok(state
        .journals()
        .await?
        .iter()
        .filter_map(|text| Entry::parse(text, "a journal").ok())
        .map(|e| Journaled {
            provider: e.provider,
            old: e.old,
            new: e.stage.made().map(|m| m.shown.clone()),
            step: e.stage.step(),
            created_at: e.stage.made().and_then(|m| m.created_at),
            revoke_after: e.stage.revoke_after(),
        })
        .collect())
}

/// The reading of an `Own` for messages.
impl fmt::Display for Own {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Own::Yes => "yes",
            Own::No => "no",
            Own::Unknown => "cannot tell",
        })
    }
}
