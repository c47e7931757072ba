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

mod outcome;
mod steps;

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::journal::{self, Entry};
use crate::protocol::{self, Action, Observed, Own, Refusal, Step};
use crate::state::{FileStore, HeldState, StateError, StateStore};
use crate::{KeyId, KeyLifecycle, Sink};

pub use outcome::{
    FaultPoint, Journaled, Pending, Progress, RotationError, RotationOutcome, journaled,
};
use steps::Attempt;

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
        Ok(self.peek(&old.shown()).await?.map(|e| e.stage.step()))
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
        let step = entry.stage.step();
        if step < Step::Stored {
            return Ok(false);
        }
        let Some(credential) = self
            .sink
            .load()
            .filter(|c| Some(&c.key) == entry.stage.made().map(|m| &m.shown))
        else {
            return Ok(false);
        };
        self.keys
            .adopt(&credential)
            .map_err(|error| RotationError::Provider { step, error })?;
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

    /// [`Rotation::run`] once the rotation's lock is held: observe, ask
    /// the protocol for the next action, carry it out, until an action
    /// ends the run.
    async fn locked(
        &self,
        journal: &dyn HeldState,
        old: &KeyId,
        name: &str,
        may_start: bool,
    ) -> Result<Option<RotationOutcome>, RotationError> {
        // A runner that lost this lock and is committing to the sink ends
        // first; any later commit of its is refused by its check.
        drop(
            self.sink
                .fence()
                .map_err(|e| RotationError::Busy(e.to_string()))?,
        );
        self.fault(FaultPoint::Locked)?;
        let entry = match journal.load().await? {
            Some(text) => Some(Entry::parse(&text, name)?),
            None => None,
        };
        if let Some(e) = entry.as_ref().filter(|e| e.stage.step() != Step::Done) {
            self.say(Progress::Resuming(e.stage.step()));
        }
        let mut a = Attempt::new(journal, old, entry, self.keys.calls_with(old));
        loop {
            let (seen, at_hand) = self.observe(&mut a, may_start).await?;
            match protocol::next(a.step(), a.revoke_after(), &seen) {
                Action::Nothing => return Ok(None),
                Action::Refuse(Refusal::OwnKeyUnreadableSink) => {
                    let provider = self.keys.provider().to_owned();
                    return Err(RotationError::OwnKeyUnreadableSink(provider));
                }
                Action::Begin => self.begin(&mut a).await?,
                Action::Create => self.create(&mut a, seen.now).await?,
                Action::Store => self.store(&mut a, at_hand).await?,
                Action::Discard => self.discard(&mut a).await?,
                Action::Adopt => self.adopt(&mut a, at_hand)?,
                Action::Verify => self.verify(&mut a, at_hand, seen.now).await?,
                Action::Wait { until, reason } => {
                    let pending = Pending { until, reason };
                    self.say(Progress::Waiting(pending));
                    return a.outcome(Some(pending)).map(Some);
                }
                Action::RevokeOld => self.revoke_old(&mut a).await?,
                Action::Finished => return a.outcome(None).map(Some),
            }
        }
    }

    /// What the protocol decides on: the time, the new credentials if at
    /// hand (returned too, for the action), when the old key will have
    /// been idle long enough.
    async fn observe(
        &self,
        a: &mut Attempt<'_>,
        may_start: bool,
    ) -> Result<(Observed, Option<crate::Credential>), RotationError> {
        let step = a.step();
        let revoke_after = a.revoke_after();
        let now = (self.clock)();
        let at_hand = match step {
            Some(Step::Created | Step::Stored) => self.at_hand(a),
            Some(Step::Verified) if a.own.maybe() && !a.adopted => self.at_hand(a),
            _ => None,
        };
        let idle_until = match (self.idle, step) {
            (Some(idle), Some(Step::Verified)) if revoke_after.is_none_or(|t| t <= now) => {
                self.last_used(a.old, step).await?.map(|t| later(t, idle))
            }
            _ => None,
        };
        let seen = Observed {
            now,
            may_start,
            new_at_hand: at_hand.is_some(),
            own: a.own,
            adopted: a.adopted,
            sink_readable: self.sink.readable(),
            unreadable_accepted: self.allow_unreadable_sink,
            idle_until,
        };
        Ok((seen, at_hand))
    }
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
