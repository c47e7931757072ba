//! The rotation protocol as one pure function: the journaled state and
//! what the run observed go in, the next action comes out. Every crash and
//! resume rule of a rotation reads here; [`crate::Rotation`] only carries
//! the actions out and journals their results.
//!
//! | journaled step | observed | next action |
//! |---|---|---|
//! | none | this run may not start one (`finish`) | [`Action::Nothing`] |
//! | none or `started` | the tool calls with the old key, the sink cannot be read back, that was not accepted | [`Action::Refuse`] |
//! | none | — | [`Action::Begin`]: journal `started` |
//! | `started` | — | [`Action::Create`]: revoke keys carrying the rotation's tag, create one, journal `created` |
//! | `created` | the new credentials at hand (kept from the create, or found in the sink) | [`Action::Store`]: store them, journal `stored` |
//! | `created` | not at hand (the process died before the sink had them) | [`Action::Discard`]: revoke the new key, journal `started` |
//! | `stored` | not at hand (stored where it cannot be read back) | [`Action::Discard`] |
//! | `stored` or `verified` | at hand, the tool calls with the old key, not yet switched | [`Action::Adopt`]: call with the new credentials from now on |
//! | `stored` | at hand | [`Action::Verify`]: settle the key (Finicity extends its period), verify, journal `verified` with the time the old key may go |
//! | `verified` | before the end of the grace | [`Action::Wait`] until then: both keys stay live |
//! | `verified` | the old key was used more recently than the idle period asked | [`Action::Wait`] until it has been idle that long |
//! | `verified` | due | [`Action::RevokeOld`]: journal `done` |
//! | `done` | — | [`Action::Finished`] |
//!
//! What holds whenever the process dies: a working key is held (the old
//! one, revoked only after the new one is stored, verified and its grace
//! passed; or the new one, stored); no key whose secret may not have
//! reached the sink stays live once the rotation is rerun; from `stored` on,
//! a tool rotating its own credential calls with the new one, so a rerun
//! never needs the user to configure it by hand.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How far a rotation has got, as its journal says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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
    /// was accepted). Both keys are live until the grace has passed.
    Verified,
    /// The old key is revoked: the rotation is finished.
    Done,
}

/// Whether the credentials a provider's lifecycle calls with are those of
/// a given key: the tool rotating its own credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Own {
    /// They are.
    Yes,
    /// They are not.
    No,
    /// The provider cannot tell (a FINBOURNE access token does not say
    /// which token id it is): treated as [`Own::Yes`].
    Unknown,
}

impl Own {
    /// Whether a rotation must act as if the tool called with the key.
    pub fn maybe(self) -> bool {
        self != Own::No
    }
}

/// What a run observed before choosing its next action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    /// The time now.
    pub now: DateTime<Utc>,
    /// Whether this run may start a rotation (`rotate`), or only go on with
    /// a journaled one (`finish`).
    pub may_start: bool,
    /// Whether the new key's credentials are at hand: kept from the create
    /// by this process, or read back from the sink.
    pub new_at_hand: bool,
    /// Whether the lifecycle calls with the key being rotated.
    pub own: Own,
    /// Whether it already switched to the new credentials.
    pub adopted: bool,
    /// Whether the sink can give the credentials back.
    pub sink_readable: bool,
    /// Whether the user accepted rotating the tool's own key into a sink
    /// that cannot be read back (a rerun after a crash may then need the
    /// new credentials configured by hand).
    pub unreadable_accepted: bool,
    /// When the old key will have been idle long enough, where waiting for
    /// that was asked and the provider reports last use.
    pub idle_until: Option<DateTime<Utc>>,
}

/// Why a rotation keeps both keys live for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WaitReason {
    /// The grace after verification has not passed.
    Grace,
    /// The old key was used too recently.
    InUse,
}

/// Why a rotation will not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The tool calls with the key being rotated (or cannot tell), and the
    /// sink cannot give the new credentials back to a rerun.
    OwnKeyUnreadableSink,
}

/// What a rotation does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// No rotation is journaled and this run may not start one.
    Nothing,
    /// The rotation may not start; nothing was created.
    Refuse(Refusal),
    /// Journal `started`, with a new tag.
    Begin,
    /// Revoke keys carrying the tag, create one, journal `created`.
    Create,
    /// Store the new credentials in the sink, journal `stored`.
    Store,
    /// The new key's secret may be lost: revoke the key, journal `started`.
    Discard,
    /// Call with the new credentials from now on.
    Adopt,
    /// Settle and verify the new key; journal `verified` and when the old
    /// key may go.
    Verify,
    /// Keep both keys live until `until`.
    Wait {
        /// When the old key may go.
        until: DateTime<Utc>,
        /// Why it may not go yet.
        reason: WaitReason,
    },
    /// Revoke the old key; journal `done`.
    RevokeOld,
    /// The rotation is done.
    Finished,
}

/// The next action of a rotation journaled at `step` (none: no journal),
/// whose old key may go from `revoke_after` on, given what was observed.
pub fn next(step: Option<Step>, revoke_after: Option<DateTime<Utc>>, seen: &Observed) -> Action {
    let refused = seen.own.maybe() && !seen.sink_readable && !seen.unreadable_accepted;
    let adopt = seen.own.maybe() && seen.new_at_hand && !seen.adopted;
    match step {
        None if !seen.may_start => Action::Nothing,
        None | Some(Step::Started) if refused => Action::Refuse(Refusal::OwnKeyUnreadableSink),
        None => Action::Begin,
        Some(Step::Started) => Action::Create,
        Some(Step::Created) if seen.new_at_hand => Action::Store,
        Some(Step::Created) => Action::Discard,
        Some(Step::Stored) if !seen.new_at_hand => Action::Discard,
        Some(Step::Stored | Step::Verified) if adopt => Action::Adopt,
        Some(Step::Stored) => Action::Verify,
        Some(Step::Verified) => match (revoke_after, seen.idle_until) {
            (Some(until), _) if until > seen.now => Action::Wait {
                until,
                reason: WaitReason::Grace,
            },
            (_, Some(until)) if until > seen.now => Action::Wait {
                until,
                reason: WaitReason::InUse,
            },
            _ => Action::RevokeOld,
        },
        Some(Step::Done) => Action::Finished,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + hours * 3600, 0).unwrap()
    }

    fn seen() -> Observed {
        Observed {
            now: at(0),
            may_start: true,
            new_at_hand: false,
            own: Own::No,
            adopted: false,
            sink_readable: true,
            unreadable_accepted: false,
            idle_until: None,
        }
    }

    /// The protocol as a table: each row a journaled state, an observation
    /// changed from the plain one, and the action expected.
    #[test]
    fn the_protocol_table() {
        use Action::*;
        use Step::*;
        type Change = fn(&mut Observed);
        let plain: Change = |_| {};
        let at_hand: Change = |s| s.new_at_hand = true;
        let finish: Change = |s| s.may_start = false;
        let own_unreadable: Change = |s| {
            s.own = Own::Yes;
            s.sink_readable = false;
        };
        let unknown_unreadable: Change = |s| {
            s.own = Own::Unknown;
            s.sink_readable = false;
        };
        let own_unreadable_accepted: Change = |s| {
            s.own = Own::Yes;
            s.sink_readable = false;
            s.unreadable_accepted = true;
        };
        let own_at_hand: Change = |s| {
            s.own = Own::Yes;
            s.new_at_hand = true;
        };
        let own_adopted: Change = |s| {
            s.own = Own::Yes;
            s.new_at_hand = true;
            s.adopted = true;
        };
        let in_use: Change = |s| s.idle_until = Some(at(2));
        let idle: Change = |s| s.idle_until = Some(at(-1));
        let grace = |until| Wait {
            until,
            reason: WaitReason::Grace,
        };
        type Row = (Option<Step>, Option<DateTime<Utc>>, Change, Action);
        let rows: &[Row] = &[
            (None, None, plain, Begin),
            (None, None, finish, Nothing),
            (
                None,
                None,
                own_unreadable,
                Refuse(Refusal::OwnKeyUnreadableSink),
            ),
            (
                None,
                None,
                unknown_unreadable,
                Refuse(Refusal::OwnKeyUnreadableSink),
            ),
            (None, None, own_unreadable_accepted, Begin),
            (Some(Started), None, plain, Create),
            (Some(Started), None, finish, Create),
            (
                Some(Started),
                None,
                own_unreadable,
                Refuse(Refusal::OwnKeyUnreadableSink),
            ),
            (Some(Created), None, at_hand, Store),
            (Some(Created), None, plain, Discard),
            (Some(Created), None, own_at_hand, Store),
            (Some(Stored), None, plain, Discard),
            (Some(Stored), None, own_unreadable_accepted, Discard),
            (Some(Stored), None, at_hand, Verify),
            (Some(Stored), None, own_at_hand, Adopt),
            (Some(Stored), None, own_adopted, Verify),
            (Some(Verified), None, plain, RevokeOld),
            (Some(Verified), Some(at(-1)), plain, RevokeOld),
            (Some(Verified), Some(at(0)), plain, RevokeOld),
            (Some(Verified), Some(at(5)), plain, grace(at(5))),
            (Some(Verified), Some(at(5)), finish, grace(at(5))),
            (Some(Verified), Some(at(5)), own_at_hand, Adopt),
            (Some(Verified), None, own_at_hand, Adopt),
            (Some(Verified), None, own_adopted, RevokeOld),
            // The tool's own key, whose successor cannot be read back:
            // the old key is tried (the user accepted the risk).
            (Some(Verified), None, own_unreadable_accepted, RevokeOld),
            (
                Some(Verified),
                Some(at(-1)),
                in_use,
                Wait {
                    until: at(2),
                    reason: WaitReason::InUse,
                },
            ),
            (Some(Verified), Some(at(5)), in_use, grace(at(5))),
            (Some(Verified), None, idle, RevokeOld),
            (Some(Done), None, plain, Finished),
            (Some(Done), None, finish, Finished),
            (Some(Done), None, own_unreadable, Finished),
        ];
        for (i, (step, revoke_after, change, expected)) in rows.iter().enumerate() {
            let mut observed = seen();
            change(&mut observed);
            assert_eq!(
                next(*step, *revoke_after, &observed),
                *expected,
                "row {i}: {step:?}, revoke after {revoke_after:?}, {observed:?}"
            );
        }
    }

    /// Every state and every observation: the rules that must hold
    /// whatever the combination.
    #[test]
    fn invariants_over_every_combination() {
        let steps = [
            None,
            Some(Step::Started),
            Some(Step::Created),
            Some(Step::Stored),
            Some(Step::Verified),
            Some(Step::Done),
        ];
        let bools = [false, true];
        let mut checked = 0;
        for step in steps {
            for revoke_after in [None, Some(at(-1)), Some(at(1))] {
                for idle_until in [None, Some(at(-1)), Some(at(1))] {
                    for own in [Own::Yes, Own::No, Own::Unknown] {
                        for bits in 0..32u8 {
                            let bit = |n: u8| bools[usize::from((bits >> n) & 1)];
                            let seen = Observed {
                                now: at(0),
                                may_start: bit(0),
                                new_at_hand: bit(1),
                                own,
                                adopted: bit(2),
                                sink_readable: bit(3),
                                unreadable_accepted: bit(4),
                                idle_until,
                            };
                            let action = next(step, revoke_after, &seen);
                            checked += 1;
                            // The old key goes only once verified and due.
                            if action == Action::RevokeOld {
                                assert_eq!(step, Some(Step::Verified));
                                assert!(revoke_after.is_none_or(|t| t <= seen.now));
                                assert!(idle_until.is_none_or(|t| t <= seen.now));
                                // A tool calling with the old key has
                                // switched, whenever it could.
                                assert!(!(own.maybe() && seen.new_at_hand && !seen.adopted));
                            }
                            // A new key is stored only when its secret is
                            // at hand, and verified only once stored.
                            if action == Action::Store {
                                assert!(seen.new_at_hand);
                            }
                            if action == Action::Verify {
                                assert_eq!(step, Some(Step::Stored));
                                assert!(seen.new_at_hand);
                            }
                            // A key is discarded only before it verified.
                            if action == Action::Discard {
                                assert!(matches!(step, Some(Step::Created | Step::Stored)));
                            }
                            // Nothing new starts in a `finish` run.
                            if !seen.may_start && step.is_none() {
                                assert_eq!(action, Action::Nothing);
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 6 * 3 * 3 * 3 * 32);
    }
}
