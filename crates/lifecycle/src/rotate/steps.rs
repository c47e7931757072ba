//! One function per action of the protocol ([`crate::protocol::Action`]),
//! each carrying its action out on the attempt and journaling the result;
//! and what they share.

use chrono::{DateTime, Utc};

use super::{FaultPoint, Pending, Progress, Rotation, RotationError, RotationOutcome, later};
use crate::journal::{Entry, Made, Stage};
use crate::protocol::{Own, Step};
use crate::state::HeldState;
use crate::{
    CreateRequest, Credential, KeyId, LifecycleError, LifecycleErrorKind, SinkError, Verification,
};

/// What one run of a rotation holds while it acts.
pub(super) struct Attempt<'j> {
    journal: &'j dyn HeldState,
    /// The key being replaced.
    pub(super) old: &'j KeyId,
    /// The journal as last written (none: not begun).
    pub(super) entry: Option<Entry>,
    /// The new key's credentials, once this process has them.
    pub(super) fresh: Option<Credential>,
    /// Whether this attempt journaled its own token (a new one is taken
    /// before the first create of a resumed attempt).
    began: bool,
    /// Whether the lifecycle switched to the new credentials.
    pub(super) adopted: bool,
    /// Whether the lifecycle calls with the key being replaced.
    pub(super) own: Own,
    resumed: bool,
    already_done: bool,
}

impl<'j> Attempt<'j> {
    pub(super) fn new(
        journal: &'j dyn HeldState,
        old: &'j KeyId,
        entry: Option<Entry>,
        own: Own,
    ) -> Self {
        Self {
            journal,
            old,
            resumed: entry.is_some(),
            already_done: entry.as_ref().is_some_and(|e| e.stage.step() == Step::Done),
            entry,
            fresh: None,
            began: false,
            adopted: false,
            own,
        }
    }

    /// The journaled step (none: not begun).
    pub(super) fn step(&self) -> Option<Step> {
        self.entry.as_ref().map(|e| e.stage.step())
    }

    /// When the old key may go, once verified.
    pub(super) fn revoke_after(&self) -> Option<DateTime<Utc>> {
        self.entry.as_ref().and_then(|e| e.stage.revoke_after())
    }

    /// The new key, once created.
    fn made(&self) -> Result<&Made, RotationError> {
        let made = self.entry.as_ref().and_then(|e| e.stage.made());
        made.ok_or_else(|| broken("no new key"))
    }

    /// Moves the journal to the stage `to` makes of the current one; a
    /// stage it cannot come from is kept, and reported.
    fn advance(
        &mut self,
        what: &str,
        to: impl FnOnce(Stage) -> Result<Stage, Stage>,
    ) -> Result<(), RotationError> {
        let e = self.entry()?;
        match to(std::mem::replace(&mut e.stage, Stage::Started)) {
            Ok(next) => e.stage = next,
            Err(kept) => {
                e.stage = kept;
                return Err(broken(what));
            }
        }
        Ok(())
    }

    /// The journal, which every action after `Begin` has.
    fn entry(&mut self) -> Result<&mut Entry, RotationError> {
        self.entry.as_mut().ok_or_else(|| broken("no journal"))
    }

    /// A provider call that failed at the current step.
    fn failed(&self, error: LifecycleError) -> RotationError {
        RotationError::Provider {
            step: self.step().unwrap_or(Step::Started),
            error,
        }
    }

    async fn save(&mut self) -> Result<(), RotationError> {
        let text = self.entry()?.text();
        Ok(self.journal.save(&text).await?)
    }

    /// Where the rotation stands, with the old key live until `pending`.
    pub(super) fn outcome(
        &self,
        pending: Option<Pending>,
    ) -> Result<RotationOutcome, RotationError> {
        let e = self.entry.as_ref().ok_or_else(|| broken("no journal"))?;
        Ok(RotationOutcome {
            new: e.stage.made().map(|m| m.shown.clone()).unwrap_or_default(),
            resumed: self.resumed,
            already_done: self.already_done,
            pending,
        })
    }
}

/// A state the protocol rules out, reported rather than panicked on.
fn broken(what: &str) -> RotationError {
    RotationError::Journal(std::io::Error::other(format!(
        "the rotation reached a state it should not ({what}); the journal is kept, rerun to go on"
    )))
}

/// The credentials an action needs, which the protocol chose it for.
fn needed(at_hand: Option<Credential>) -> Result<Credential, RotationError> {
    at_hand.ok_or_else(|| broken("no credentials at hand"))
}

/// A new attempt's token: 12 hex digits, the tag `rot-<token>` in its
/// keys' names.
fn new_token() -> String {
    format!("{:012x}", fastrand::u64(..) & 0xffff_ffff_ffff)
}

impl Rotation<'_> {
    /// `Begin`: journal `started`, with this attempt's token and the name
    /// its keys take.
    pub(super) async fn begin(&self, a: &mut Attempt<'_>) -> Result<(), RotationError> {
        a.entry = Some(Entry {
            provider: self.keys.provider().to_owned(),
            old: a.old.shown(),
            token: new_token(),
            earlier: Vec::new(),
            name: Some(self.name_prefix.clone()),
            stage: Stage::Started,
        });
        a.save().await?;
        a.began = true;
        self.fault(FaultPoint::Started)
    }

    /// `Create`: revoke what earlier attempts may have left, create the
    /// new key, journal `created`.
    pub(super) async fn create(
        &self,
        a: &mut Attempt<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), RotationError> {
        if !a.began {
            // An earlier attempt's token: its keys are leftovers, and this
            // attempt tags with its own.
            let e = a.entry()?;
            e.earlier.push(std::mem::replace(&mut e.token, new_token()));
            a.save().await?;
            a.began = true;
        }
        let e = a.entry()?.clone();
        if !e.earlier.is_empty() {
            a.journal.check().await?;
            let swept = self.revoke_tagged(&e.earlier, None).await;
            swept.map_err(|err| a.failed(err))?;
        }
        a.journal.check().await?;
        let prefix = e.name.as_deref().unwrap_or(&self.name_prefix);
        let request = CreateRequest {
            name: format!("{prefix} rot-{}", e.token),
            expires: self.new_key_lifetime.map(|d| later(now, d)),
            provisional: true,
        };
        let new = self
            .keys
            .create(&request)
            .await
            .map_err(|err| a.failed(err))?;
        self.fault(FaultPoint::Created)?;
        let id = &new.info.id;
        a.entry()?.stage = Stage::Created(Made {
            shown: id.shown(),
            id: (!id.is_secret()).then(|| id.expose().to_owned()),
            created_at: Some(new.info.created.unwrap_or(now)),
        });
        if let Err(error) = a.save().await {
            // No journal knows the key and its secret ends with this run:
            // it must not stay live.
            let _ = self.keys.revoke(id).await;
            return Err(error);
        }
        self.say(Progress::Created(id.clone()));
        self.fault(FaultPoint::CreatedJournaled)?;
        a.fresh = Some(new.credential);
        Ok(())
    }

    /// `Store`: hand the new credentials to the sink, journal `stored`; a
    /// sink that fails discards the new key.
    pub(super) async fn store(
        &self,
        a: &mut Attempt<'_>,
        at_hand: Option<Credential>,
    ) -> Result<(), RotationError> {
        let credential = needed(at_hand)?;
        if let Err(error) = self.store_fenced(a.journal, &credential).await? {
            // Not stored: the new key must not stay live.
            self.discard_new(a).await?;
            return Err(RotationError::Sink(error));
        }
        self.fault(FaultPoint::Stored)?;
        a.advance("storing a key no journal says was created", Stage::stored)?;
        a.save().await?;
        self.say(Progress::Stored(self.sink.describe()));
        self.fault(FaultPoint::StoredJournaled)?;
        a.fresh = Some(credential);
        Ok(())
    }

    /// `Discard`: the new key's secret may be lost; revoke the key and
    /// journal the rotation back at `started`.
    pub(super) async fn discard(&self, a: &mut Attempt<'_>) -> Result<(), RotationError> {
        let new = a.made()?.shown.clone();
        self.discard_new(a).await?;
        a.fresh = None;
        self.say(Progress::RevokedLeftover(KeyId::new(new)));
        Ok(())
    }

    /// `Adopt`: call with the new credentials from now on.
    pub(super) fn adopt(
        &self,
        a: &mut Attempt<'_>,
        at_hand: Option<Credential>,
    ) -> Result<(), RotationError> {
        let credential = needed(at_hand)?;
        self.keys.adopt(&credential).map_err(|e| a.failed(e))?;
        a.adopted = true;
        a.fresh = Some(credential);
        self.say(Progress::Adopted(a.own));
        Ok(())
    }

    /// `Verify`: settle the new key (storing what changed), make one
    /// authenticated call with it, journal `verified` and when the old key
    /// may go.
    pub(super) async fn verify(
        &self,
        a: &mut Attempt<'_>,
        at_hand: Option<Credential>,
        now: DateTime<Utc>,
    ) -> Result<(), RotationError> {
        let mut credential = needed(at_hand)?;
        let new_id = a.made()?.id.clone().map(KeyId::new);
        a.journal.check().await?;
        let settled = self.keys.settle(new_id.as_ref(), &credential).await;
        if let Some(settled) = settled.map_err(|e| a.failed(e))? {
            // Stored again before anything relies on it; a failure here
            // leaves the first form stored, and a rerun settles again.
            self.store_fenced(a.journal, &settled)
                .await?
                .map_err(|e| a.failed(LifecycleError::api("storing the settled credentials", e)))?;
            if a.adopted {
                self.keys.adopt(&settled).map_err(|e| a.failed(e))?;
            }
            credential = settled;
            self.say(Progress::Settled);
        }
        a.fresh = Some(credential.clone());
        self.fault(FaultPoint::Settled)?;
        let verification = match self.keys.verify(&credential).await {
            Ok(v) => v,
            Err(e) if e.kind == LifecycleErrorKind::Refused => {
                return Err(RotationError::NotVerified(e));
            }
            Err(e) => return Err(a.failed(e)),
        };
        if let Verification::NotPossible(why) = verification
            && !self.accept_unverifiable
        {
            return Err(RotationError::Unverifiable(why));
        }
        self.fault(FaultPoint::Verified)?;
        let verified = match verification {
            Verification::Verified => "verified".to_owned(),
            Verification::NotPossible(why) => format!("not possible: {why}"),
        };
        let revoke_after = (!self.grace.is_zero()).then(|| later(now, self.grace));
        a.advance("verifying a key no journal says was stored", |stage| {
            stage.verified(verified, revoke_after)
        })?;
        a.save().await?;
        self.say(Progress::Verified(verification));
        self.fault(FaultPoint::VerifiedJournaled)
    }

    /// `RevokeOld`: revoke what stale attempts made after this one's
    /// sweep (never the journal's own key), then the old key; journal
    /// `done`.
    pub(super) async fn revoke_old(&self, a: &mut Attempt<'_>) -> Result<(), RotationError> {
        let e = a.entry()?.clone();
        let keep = a.made()?.shown.clone();
        if !e.earlier.is_empty() {
            a.journal.check().await?;
            let swept = self.revoke_tagged(&e.earlier, Some(&keep)).await;
            swept.map_err(|err| a.failed(err))?;
        }
        a.journal.check().await?;
        self.keys.revoke(a.old).await.map_err(|err| a.failed(err))?;
        self.fault(FaultPoint::Revoked)?;
        a.advance(
            "finishing a rotation no journal says was verified",
            Stage::done,
        )?;
        a.save().await?;
        self.say(Progress::RevokedOld(a.old.clone()));
        Ok(())
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
    pub(super) fn at_hand(&self, a: &Attempt<'_>) -> Option<Credential> {
        if let Some(credential) = &a.fresh {
            return Some(credential.clone());
        }
        let new = &a.entry.as_ref()?.stage.made()?.shown;
        self.sink.load().filter(|c| &c.key == new)
    }

    /// When the old key was last used, as the provider lists it (none: not
    /// listed, or never used).
    pub(super) async fn last_used(
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
    async fn discard_new(&self, a: &mut Attempt<'_>) -> Result<(), RotationError> {
        let e = a.entry()?.clone();
        a.journal.check().await?;
        let revoked = match e.stage.made().and_then(|m| m.id.clone()) {
            Some(id) => self.keys.revoke(&KeyId::new(id.clone())).await,
            None => {
                let mut tokens = e.earlier.clone();
                tokens.push(e.token.clone());
                self.revoke_tagged(&tokens, None).await
            }
        };
        revoked.map_err(|error| a.failed(error))?;
        a.entry()?.stage = Stage::Started;
        a.save().await
    }
}
