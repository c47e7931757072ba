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
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::journal::{self, Entry};
use crate::protocol::{self, Action, Observed, Own, Refusal, Step, WaitReason};
use crate::state::{FileStore, HeldState, StateError, StateStore};
use crate::{
    CreateRequest, Credential, KeyId, KeyLifecycle, LifecycleError, LifecycleErrorKind, Sink,
    SinkError, Verification,
};

/// How long both keys stay live after the new one verified, unless told
/// otherwise: a day. Long enough for what reads a secret once a day (a
/// nightly deploy, a daily restart, a cache of a few hours) to pick the
/// new key up, so that nothing fails when the old one goes; short enough
/// that a leaked old key dies within a day. `Duration::ZERO` revokes at
/// once, as soon as the new key verified.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(24 * 3600);

/// The shortest lifetime a rotation gives a new key
/// ([`Rotation::new_key_lifetime`]): an hour, so that the key outlasts its
/// own creation, storing and verification on a slow provider. It must also
/// be longer than the grace, or the new key would expire while the old one
/// is still the fallback.
pub const MIN_NEW_KEY_LIFETIME: Duration = Duration::from_secs(3600);

/// Whether a new key lifetime can work with `grace`: at least
/// [`MIN_NEW_KEY_LIFETIME`] and longer than the grace. What a rotation
/// checks before it does anything, and a policy file's reader when it
/// reads a profile.
pub fn lifetime_fits(new_key_lifetime: Option<Duration>, grace: Duration) -> Result<(), String> {
    match new_key_lifetime {
        Some(lifetime) if lifetime < MIN_NEW_KEY_LIFETIME || lifetime <= grace => Err(format!(
            "a new key lifetime of {} s cannot work: it must be at least {} s and longer than the grace ({} s), or the new key expires before it replaced the old one",
            lifetime.as_secs(),
            MIN_NEW_KEY_LIFETIME.as_secs(),
            grace.as_secs()
        )),
        _ => Ok(()),
    }
}

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

/// The state a rotation keeps: a folder it owns, or a store it is given.
enum Store<'a> {
    Files(FileStore),
    Given(&'a dyn StateStore),
}

impl Store<'_> {
    fn get(&self) -> &dyn StateStore {
        match self {
            Store::Files(files) => files,
            Store::Given(store) => *store,
        }
    }
}

type FaultHook<'a> = Box<dyn Fn(FaultPoint) -> bool + Send + Sync + 'a>;
type ProgressHook<'a> = Box<dyn Fn(&Progress) + Send + Sync + 'a>;
type Clock<'a> = Box<dyn Fn() -> DateTime<Utc> + Send + Sync + 'a>;

/// A rotation of one provider's keys into one sink, journaled in one
/// folder.
pub struct Rotation<'a> {
    keys: &'a dyn KeyLifecycle,
    sink: &'a dyn Sink,
    state: Store<'a>,
    name_prefix: String,
    accept_unverifiable: bool,
    allow_unreadable_sink: bool,
    grace: Duration,
    idle: Option<Duration>,
    new_key_lifetime: Option<Duration>,
    clock: Clock<'a>,
    fault: Option<FaultHook<'a>>,
    progress: Option<ProgressHook<'a>>,
}

/// The name a successor of a key named `old` gets before the rotation's
/// tag: the old name without an earlier tag (so that a name survives any
/// number of rotations, and a selection by name keeps finding it), or
/// `fallback` when the key has no name.
pub fn successor_name(old: Option<&str>, fallback: &str) -> String {
    let name = old.map(str::trim).filter(|n| !n.is_empty());
    let Some(name) = name else {
        return fallback.to_owned();
    };
    let stem = match name.rsplit_once(" rot-") {
        Some((stem, tag))
            if tag.len() == 12
                && tag.chars().all(|c| c.is_ascii_hexdigit())
                && !stem.is_empty() =>
        {
            stem
        }
        _ => name,
    };
    // Providers bound names (Sunshine and FINBOURNE near 100 characters):
    // the stem keeps room for the tag.
    stem.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::successor_name;

    #[test]
    fn a_name_survives_rotations() {
        assert_eq!(successor_name(Some("billing api"), "x"), "billing api");
        assert_eq!(
            successor_name(Some("billing api rot-0123456789ab"), "x"),
            "billing api"
        );
        assert_eq!(
            successor_name(Some("rot-0123456789ab"), "x"),
            "rot-0123456789ab"
        );
        assert_eq!(successor_name(Some("a rot-short"), "x"), "a rot-short");
        assert_eq!(successor_name(Some("  "), "rotated"), "rotated");
        assert_eq!(successor_name(None, "rotated"), "rotated");
        let long = "é".repeat(300);
        assert_eq!(successor_name(Some(&long), "x").chars().count(), 64);
    }
}

/// A state the protocol rules out, reported rather than panicked on.
fn broken(what: &str) -> RotationError {
    RotationError::Journal(std::io::Error::other(format!(
        "the rotation reached a state it should not ({what}); the journal is kept, rerun to go on"
    )))
}

/// `at` plus `d`, saturating at the latest time chrono represents: a grace
/// of any length a user can type is a time, never an overflow.
fn later(at: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| at.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl<'a> Rotation<'a> {
    /// A rotation of `keys` storing new credentials in `sink`, with its
    /// journal (and lock) in the folder `journal_dir`, and the
    /// [`DEFAULT_GRACE`].
    pub fn new(
        keys: &'a dyn KeyLifecycle,
        sink: &'a dyn Sink,
        journal_dir: impl Into<PathBuf>,
    ) -> Self {
        Self::in_store(keys, sink, Store::Files(FileStore::new(journal_dir)))
    }

    /// A rotation whose journal and lock live in `state` (a database
    /// shared by runners on several machines, say).
    pub fn with_state(
        keys: &'a dyn KeyLifecycle,
        sink: &'a dyn Sink,
        state: &'a dyn StateStore,
    ) -> Self {
        Self::in_store(keys, sink, Store::Given(state))
    }

    fn in_store(keys: &'a dyn KeyLifecycle, sink: &'a dyn Sink, state: Store<'a>) -> Self {
        Self {
            keys,
            sink,
            state,
            name_prefix: "rotated".into(),
            accept_unverifiable: false,
            allow_unreadable_sink: false,
            grace: DEFAULT_GRACE,
            idle: None,
            new_key_lifetime: None,
            clock: Box::new(|| DateTime::<Utc>::from(std::time::SystemTime::now())),
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

    /// How long both keys stay live once the new one verified
    /// ([`DEFAULT_GRACE`] unless set). A run that verifies the new key
    /// journals the end of the grace and returns; a later run (of
    /// [`Rotation::rotate`] or [`Rotation::finish`]) revokes the old key
    /// once it has passed.
    #[must_use]
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Also wait, before revoking, until the old key has not been used for
    /// `idle`, where the provider reports last use (CartoVista).
    #[must_use]
    pub fn wait_until_idle(mut self, idle: Duration) -> Self {
        self.idle = Some(idle);
        self
    }

    /// Create the new key with an expiry this long after its creation,
    /// where the provider takes one (FINBOURNE). Shorter than
    /// [`MIN_NEW_KEY_LIFETIME`], or not longer than the grace, is refused
    /// when the rotation runs, before anything is done.
    #[must_use]
    pub fn new_key_lifetime(mut self, lifetime: Duration) -> Self {
        self.new_key_lifetime = Some(lifetime);
        self
    }

    /// Rotate the key the tool calls with even into a sink that cannot
    /// give the new credentials back (a command): after a crash past
    /// `verified`, a rerun may then need them configured by hand.
    #[must_use]
    pub fn allow_unreadable_sink(mut self, allow: bool) -> Self {
        self.allow_unreadable_sink = allow;
        self
    }

    /// The clock the grace is measured with (tests; the system clock by
    /// default).
    #[must_use]
    pub fn clock(mut self, now: impl Fn() -> DateTime<Utc> + Send + Sync + 'a) -> Self {
        self.clock = Box::new(now);
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
    /// it runs; the lock is released, as a dead process's is).
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

    fn name(&self, old: &str) -> String {
        journal::name(self.keys.provider(), old)
    }

    /// The journal of the rotation of the key shown as `old`, read without
    /// its lock.
    async fn peek(&self, old: &str) -> Result<Option<Entry>, RotationError> {
        let name = self.name(old);
        match self.state.get().peek(&name).await? {
            Some(text) => Ok(Some(Entry::parse(&text, &name)?)),
            None => Ok(None),
        }
    }

    /// The step an earlier run of this rotation reached, if any.
    pub async fn status(&self, old: &KeyId) -> Result<Option<Step>, RotationError> {
        Ok(self.peek(&old.shown()).await?.map(|e| e.step))
    }

    /// After the configured credentials were refused: if a rotation of the
    /// key shown as `old` is journaled past `stored` and the sink holds
    /// its new key, calls with that from now on, and says so. What lets a
    /// tool whose own key was revoked by a rotation that then died find its
    /// way back without anyone configuring the new key by hand.
    pub async fn adopt_stored(&self, old: &str) -> Result<bool, RotationError> {
        let Some(entry) = self.peek(old).await? else {
            return Ok(false);
        };
        if entry.step < Step::Stored {
            return Ok(false);
        }
        let Some(credential) = self
            .sink
            .load()
            .filter(|c| Some(&c.key) == entry.new.as_ref())
        else {
            return Ok(false);
        };
        self.keys
            .adopt(&credential)
            .map_err(|error| RotationError::Provider {
                step: entry.step,
                error,
            })?;
        self.say(Progress::Adopted(Own::Yes));
        Ok(true)
    }

    /// Rotates `old`: goes on with the journaled rotation of `old` if there
    /// is one, else starts it. Returns once the old key is revoked, or once
    /// the new key is verified and the grace (or the wait for the old key
    /// to be idle) has not passed: then [`RotationOutcome::pending`] says
    /// until when, and a later run finishes.
    pub async fn rotate(&self, old: &KeyId) -> Result<RotationOutcome, RotationError> {
        let outcome = self.run(old, true).await?;
        outcome.ok_or_else(|| RotationError::Config("no rotation was started".into()))
    }

    /// Goes on with the journaled rotation of `old`, if there is one, and
    /// never starts one: revokes the old key if its grace has passed.
    /// `None`: nothing is journaled for `old`.
    pub async fn finish(&self, old: &KeyId) -> Result<Option<RotationOutcome>, RotationError> {
        self.run(old, false).await
    }

    /// Refuses settings that cannot work with this provider, without a
    /// call: what [`Rotation::rotate`] checks first, for a caller that does
    /// other work (a lookup of the key) before it.
    pub fn check(&self) -> Result<(), RotationError> {
        let provider = self.keys.provider();
        self.check_settings()?;
        if self.new_key_lifetime.is_some() && !self.keys.takes_expiry() {
            return Err(RotationError::Config(format!(
                "{provider} takes no expiry for a new key"
            )));
        }
        lifetime_fits(self.new_key_lifetime, self.grace).map_err(RotationError::Config)?;
        self.keys
            .create_precondition()
            .map_err(RotationError::Config)?;
        if !self.keys.verifies() && !self.accept_unverifiable {
            return Err(RotationError::Config(format!(
                "{provider} has no call that can verify a new key, so a rotation would stop before revoking the old one: accept that with --accept-unverifiable (accept_unverifiable = true in a policy)"
            )));
        }
        Ok(())
    }

    /// The part of [`Rotation::check`] that concerns a rotation already
    /// under way: settings that are wrong whatever step it reached.
    fn check_settings(&self) -> Result<(), RotationError> {
        let provider = self.keys.provider();
        if self.idle.is_some() && !self.keys.reports_last_use() {
            return Err(RotationError::Config(format!(
                "{provider} does not report when a key was last used, so a rotation cannot wait until the old key is idle"
            )));
        }
        Ok(())
    }

    async fn run(
        &self,
        old: &KeyId,
        may_start: bool,
    ) -> Result<Option<RotationOutcome>, RotationError> {
        match may_start {
            true => self.check()?,
            false => self.check_settings()?,
        }
        let name = self.name(&old.shown());
        let no_faults = |_: FaultPoint| false;
        let faults: &crate::state::FaultFn<'_> = match &self.fault {
            Some(f) => f.as_ref(),
            None => &no_faults,
        };
        let journal = self.state.get().lock(&name, faults).await?;
        let journal = journal.as_ref();
        match self.locked(journal, old, &name, may_start).await {
            // A provider that refused may have refused because another
            // runner took the rotation over: say that, if so.
            Err(e @ RotationError::Provider { .. }) => match journal.check().await {
                Err(StateError::Lost(why)) => Err(RotationError::LostLock(why)),
                _ => Err(e),
            },
            other => other,
        }
    }

    /// [`Rotation::run`] once the rotation's lock is held.
    async fn locked(
        &self,
        journal: &dyn HeldState,
        old: &KeyId,
        name: &str,
        may_start: bool,
    ) -> Result<Option<RotationOutcome>, RotationError> {
        let provider = self.keys.provider();
        // A runner that lost this lock and is committing to the sink ends
        // first; any later commit of its is refused by its check.
        drop(
            self.sink
                .fence()
                .map_err(|e| RotationError::Busy(e.to_string()))?,
        );
        self.fault(FaultPoint::Locked)?;
        let mut entry = match journal.load().await? {
            Some(text) => Some(Entry::parse(&text, name)?),
            None => None,
        };
        let resumed = entry.is_some();
        let already_done = entry.as_ref().is_some_and(|e| e.step == Step::Done);
        if let Some(e) = entry.as_ref().filter(|e| e.step != Step::Done) {
            self.say(Progress::Resuming(e.step));
        }
        let own = self.keys.calls_with(old);
        // The new key's credentials, once this process has them.
        let mut fresh: Option<Credential> = None;
        // Whether this attempt journaled the start (its token is then its
        // own).
        let mut began = false;
        let mut adopted = false;
        loop {
            let step = entry.as_ref().map(|e| e.step);
            let revoke_after = entry.as_ref().and_then(|e| e.revoke_after);
            let now = (self.clock)();
            let at_hand = match step {
                Some(Step::Created | Step::Stored) => self.at_hand(&mut fresh, entry.as_ref()),
                Some(Step::Verified) if own.maybe() && !adopted => {
                    self.at_hand(&mut fresh, entry.as_ref())
                }
                _ => None,
            };
            let idle_until = match (self.idle, step) {
                (Some(idle), Some(Step::Verified)) if revoke_after.is_none_or(|t| t <= now) => {
                    self.last_used(old, step).await?.map(|t| later(t, idle))
                }
                _ => None,
            };
            let seen = Observed {
                now,
                may_start,
                new_at_hand: at_hand.is_some(),
                own,
                adopted,
                sink_readable: self.sink.readable(),
                unreadable_accepted: self.allow_unreadable_sink,
                idle_until,
            };
            let action = protocol::next(step, revoke_after, &seen);
            let failed = |error| RotationError::Provider {
                step: step.unwrap_or(Step::Started),
                error,
            };
            match action {
                Action::Nothing => return Ok(None),
                Action::Refuse(Refusal::OwnKeyUnreadableSink) => {
                    return Err(RotationError::OwnKeyUnreadableSink(provider.to_owned()));
                }
                Action::Begin => {
                    let new = Entry {
                        provider: provider.to_owned(),
                        old: old.shown(),
                        token: new_token(),
                        earlier: Vec::new(),
                        step: Step::Started,
                        name: Some(self.name_prefix.clone()),
                        new: None,
                        new_id: None,
                        verified: None,
                        created_at: None,
                        revoke_after: None,
                    };
                    save(journal, &new).await?;
                    entry = Some(new);
                    began = true;
                    self.fault(FaultPoint::Started)?;
                }
                Action::Create => {
                    let e = entry
                        .as_mut()
                        .ok_or_else(|| broken("no journal to create from"))?;
                    if !began {
                        // An earlier attempt's token: its keys are
                        // leftovers, and this attempt tags with its own.
                        e.earlier.push(std::mem::replace(&mut e.token, new_token()));
                        save(journal, e).await?;
                        began = true;
                    }
                    if !e.earlier.is_empty() {
                        journal.check().await?;
                        self.revoke_tagged(&e.earlier, None).await.map_err(failed)?;
                    }
                    let tag = format!("rot-{}", e.token);
                    journal.check().await?;
                    let request = CreateRequest {
                        name: format!("{} {tag}", e.name.as_deref().unwrap_or(&self.name_prefix)),
                        expires: self.new_key_lifetime.map(|d| later(now, d)),
                        provisional: true,
                    };
                    let new = self.keys.create(&request).await.map_err(failed)?;
                    self.fault(FaultPoint::Created)?;
                    let id = &new.info.id;
                    e.new = Some(id.shown());
                    e.new_id = (!id.is_secret()).then(|| id.expose().to_owned());
                    e.created_at = Some(new.info.created.unwrap_or(now));
                    e.step = Step::Created;
                    if let Err(error) = save(journal, e).await {
                        // No journal knows the key and its secret ends
                        // with this run: it must not stay live.
                        let _ = self.keys.revoke(id).await;
                        return Err(error);
                    }
                    self.say(Progress::Created(id.clone()));
                    self.fault(FaultPoint::CreatedJournaled)?;
                    fresh = Some(new.credential);
                }
                Action::Store => {
                    let e = entry
                        .as_mut()
                        .ok_or_else(|| broken("no journal to store from"))?;
                    let credential = at_hand.ok_or_else(|| broken("no credentials at hand"))?;
                    if let Err(error) = self.store_fenced(journal, &credential).await? {
                        // Not stored: the new key must not stay live.
                        self.discard_new(e, journal).await?;
                        return Err(RotationError::Sink(error));
                    }
                    self.fault(FaultPoint::Stored)?;
                    e.step = Step::Stored;
                    save(journal, e).await?;
                    self.say(Progress::Stored(self.sink.describe()));
                    self.fault(FaultPoint::StoredJournaled)?;
                    fresh = Some(credential);
                }
                Action::Discard => {
                    let e = entry
                        .as_mut()
                        .ok_or_else(|| broken("no journal to discard from"))?;
                    let new = e.new.clone();
                    self.discard_new(e, journal).await?;
                    fresh = None;
                    if let Some(new) = new {
                        self.say(Progress::RevokedLeftover(KeyId::new(new)));
                    }
                }
                Action::Adopt => {
                    let credential = at_hand.ok_or_else(|| broken("no credentials at hand"))?;
                    self.keys.adopt(&credential).map_err(failed)?;
                    adopted = true;
                    fresh = Some(credential);
                    self.say(Progress::Adopted(own));
                }
                Action::Verify => {
                    let e = entry
                        .as_mut()
                        .ok_or_else(|| broken("no journal to verify from"))?;
                    let mut credential = at_hand.ok_or_else(|| broken("no credentials at hand"))?;
                    let new_id = e.new_id.clone().map(KeyId::new);
                    journal.check().await?;
                    let settled = self
                        .keys
                        .settle(new_id.as_ref(), &credential)
                        .await
                        .map_err(failed)?;
                    if let Some(settled) = settled {
                        // Stored again before anything relies on it; a
                        // failure here leaves the first form stored, and
                        // a rerun settles again.
                        self.store_fenced(journal, &settled).await?.map_err(|e| {
                            failed(LifecycleError::api("storing the settled credentials", e))
                        })?;
                        if adopted {
                            self.keys.adopt(&settled).map_err(failed)?;
                        }
                        credential = settled;
                        self.say(Progress::Settled);
                    }
                    fresh = Some(credential.clone());
                    self.fault(FaultPoint::Settled)?;
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
                    e.verified = Some(match verification {
                        Verification::Verified => "verified".into(),
                        Verification::NotPossible(why) => format!("not possible: {why}"),
                    });
                    e.revoke_after = (!self.grace.is_zero()).then(|| later(now, self.grace));
                    e.step = Step::Verified;
                    save(journal, e).await?;
                    self.say(Progress::Verified(verification));
                    self.fault(FaultPoint::VerifiedJournaled)?;
                }
                Action::Wait { until, reason } => {
                    let pending = Pending { until, reason };
                    self.say(Progress::Waiting(pending));
                    let e = entry
                        .as_ref()
                        .ok_or_else(|| broken("no journal to revoke from"))?;
                    return Ok(Some(RotationOutcome {
                        new: e.new.clone().unwrap_or_default(),
                        resumed,
                        already_done,
                        pending: Some(pending),
                    }));
                }
                Action::RevokeOld => {
                    let e = entry
                        .as_mut()
                        .ok_or_else(|| broken("no journal to revoke from"))?;
                    // Keys a stale attempt made after this one's sweep go
                    // too; never the journal's own.
                    if !e.earlier.is_empty() {
                        journal.check().await?;
                        self.revoke_tagged(&e.earlier, e.new.as_deref())
                            .await
                            .map_err(failed)?;
                    }
                    journal.check().await?;
                    self.keys.revoke(old).await.map_err(failed)?;
                    self.fault(FaultPoint::Revoked)?;
                    e.step = Step::Done;
                    save(journal, e).await?;
                    self.say(Progress::RevokedOld(old.clone()));
                }
                Action::Finished => {
                    let e = entry.as_ref().ok_or_else(|| broken("no journal"))?;
                    return Ok(Some(RotationOutcome {
                        new: e.new.clone().unwrap_or_default(),
                        resumed,
                        already_done,
                        pending: None,
                    }));
                }
            }
        }
    }

    /// Stores `credential` in the sink only while this run still holds its
    /// lock: staged, fenced, the lock proved, then committed. The outer
    /// error: the lock is lost (nothing was stored); the inner: the sink
    /// failed.
    async fn store_fenced(
        &self,
        journal: &dyn HeldState,
        credential: &Credential,
    ) -> Result<Result<(), SinkError>, RotationError> {
        let staged = match self.sink.stage(credential) {
            Ok(staged) => staged,
            Err(e) => return Ok(Err(e)),
        };
        let fence = match self.sink.fence() {
            Ok(fence) => fence,
            Err(e) => return Ok(Err(e)),
        };
        journal.check().await?;
        let stored = staged.commit();
        drop(fence);
        Ok(stored)
    }

    /// The new key's credentials: kept by this process, else read back
    /// from the sink when what it holds is this rotation's new key.
    fn at_hand(&self, fresh: &mut Option<Credential>, entry: Option<&Entry>) -> Option<Credential> {
        if let Some(credential) = fresh {
            return Some(credential.clone());
        }
        let new = entry?.new.as_ref()?;
        self.sink.load().filter(|c| &c.key == new)
    }

    /// When the old key was last used, as the provider lists it (none: not
    /// listed, or never used).
    async fn last_used(
        &self,
        old: &KeyId,
        step: Option<Step>,
    ) -> Result<Option<DateTime<Utc>>, RotationError> {
        let keys = self
            .keys
            .list()
            .await
            .map_err(|error| RotationError::Provider {
                step: step.unwrap_or(Step::Verified),
                error,
            })?;
        Ok(keys
            .into_iter()
            .find(|k| k.id.expose() == old.expose())
            .and_then(|k| k.last_used))
    }

    /// Revokes every key whose name carries the tag of one of `tokens`
    /// (`rot-<token>`), but `keep` (a key as shown): keys this rotation's
    /// attempts made that no journal may know.
    async fn revoke_tagged(
        &self,
        tokens: &[String],
        keep: Option<&str>,
    ) -> Result<(), LifecycleError> {
        if !self.keys.names_keys() || tokens.is_empty() {
            return Ok(());
        }
        let keys = match self.keys.list().await {
            Ok(keys) => keys,
            Err(e) if e.kind == LifecycleErrorKind::Unsupported => return Ok(()),
            Err(e) => return Err(e),
        };
        let tagged = |name: &str| tokens.iter().any(|t| name.contains(&format!("rot-{t}")));
        for key in keys {
            if key.name.as_deref().is_some_and(tagged) && Some(key.id.shown().as_str()) != keep {
                self.keys.revoke(&key.id).await?;
                self.say(Progress::RevokedLeftover(key.id));
            }
        }
        Ok(())
    }

    /// Revokes the rotation's new key (by its journaled id, else by tag)
    /// and journals the rotation as back at its start, to create another.
    async fn discard_new(
        &self,
        entry: &mut Entry,
        journal: &dyn HeldState,
    ) -> Result<(), RotationError> {
        let step = entry.step;
        journal.check().await?;
        let revoked = match &entry.new_id {
            Some(id) => self.keys.revoke(&KeyId::new(id.clone())).await,
            None => {
                let mut tokens = entry.earlier.clone();
                tokens.push(entry.token.clone());
                self.revoke_tagged(&tokens, None).await
            }
        };
        revoked.map_err(|error| RotationError::Provider { step, error })?;
        entry.step = Step::Started;
        entry.new = None;
        entry.new_id = None;
        entry.created_at = None;
        save(journal, entry).await?;
        Ok(())
    }
}

/// A new attempt's token: 12 hex digits, the tag `rot-<token>` in its
/// keys' names.
fn new_token() -> String {
    format!("{:012x}", fastrand::u64(..) & 0xffff_ffff_ffff)
}

/// Writes `entry` as its rotation's journal.
async fn save(journal: &dyn HeldState, entry: &Entry) -> Result<(), RotationError> {
    Ok(journal.save(&entry.text()).await?)
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
            new: e.new,
            step: e.step,
            created_at: e.created_at,
            revoke_after: e.revoke_after,
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
