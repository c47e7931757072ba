//! What the journals of a store say about keys over time: which keys one
//! lineage has held (a key and every successor rotations made of it), the
//! first key of a lineage, how old a key is when its provider does not
//! say, and whether it is due; and the listing that recovers when a
//! rotation revoked the tool's own key. Shared by every caller that
//! selects, audits or rotates keys.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::seen::Seen;
use crate::{Journaled, KeyInfo, KeyLifecycle, LifecycleError, LifecycleErrorKind};

/// The ids `keys` name, and every key that rotations journaled made from
/// them, however many times over (a cycle in the journals ends the walk).
pub fn lineage(keys: &[String], journals: &[Journaled]) -> HashSet<String> {
    let mut wanted: HashSet<String> = keys.iter().cloned().collect();
    for _ in 0..=journals.len() {
        let more: Vec<String> = journals
            .iter()
            .filter(|j| wanted.contains(&j.old))
            .filter_map(|j| j.new.clone())
            .filter(|n| !wanted.contains(n))
            .collect();
        if more.is_empty() {
            break;
        }
        wanted.extend(more);
    }
    wanted
}

/// The first key of the lineage the key shown as `shown` belongs to,
/// followed back through the journaled rotations.
pub fn root(shown: &str, journals: &[Journaled]) -> String {
    let mut key = shown.to_owned();
    for _ in 0..=journals.len() {
        match journals
            .iter()
            .find(|j| j.new.as_deref() == Some(key.as_str()))
        {
            Some(j) => key = j.old.clone(),
            None => break,
        }
    }
    key
}

/// How old `key` is at `now`: from the provider, else from the rotation
/// journaled in `journals` that created it. `None`: nobody knows.
pub fn age(key: &KeyInfo, journals: &[Journaled], now: DateTime<Utc>) -> Option<chrono::Duration> {
    let shown = key.id.shown();
    key.created
        .or_else(|| {
            journals
                .iter()
                .filter(|j| j.new.as_deref() == Some(shown.as_str()))
                .find_map(|j| j.created_at)
        })
        .map(|created| now - created)
}

/// The keys `keys` lists; when its credentials are refused, `successor`
/// is asked to call with a stored successor of theirs (a rotation of the
/// tool's own key revoked it, and stored the new one), and the keys are
/// listed again with that. The one place this recovery is decided.
pub async fn list_recovering(
    keys: &dyn KeyLifecycle,
    successor: impl AsyncFnOnce() -> bool,
) -> Result<Vec<KeyInfo>, LifecycleError> {
    match keys.list().await {
        Err(e) if e.kind == LifecycleErrorKind::Refused => match successor().await {
            true => keys.list().await,
            false => Err(e),
        },
        listed => listed,
    }
}

/// What is known of a key's age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Age {
    /// From its creation time (the provider's, or the rotation's that
    /// made it).
    Known(chrono::Duration),
    /// At least this: the time since it was first seen (see
    /// [`crate::seen`]).
    SinceSeen(chrono::Duration),
}

impl Age {
    /// The age, or its lower bound.
    pub fn duration(self) -> chrono::Duration {
        match self {
            Age::Known(d) | Age::SinceSeen(d) => d,
        }
    }
}

/// Whether a key is due for rotation under a maximum age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Within the maximum age.
    Fresh(Age),
    /// Past it.
    Over(Age),
    /// Nobody knows how old it is, and it was never seen before.
    Unknown,
}

/// Whether `key` is due at `now` under `max_age` (a maximum longer than
/// any time is never reached): its age from [`age`], else the time since
/// it was first seen (`seen`: records of its provider).
pub fn due(
    key: &KeyInfo,
    journals: &[Journaled],
    seen: &[Seen],
    now: DateTime<Utc>,
    max_age: std::time::Duration,
) -> Due {
    let max_age = chrono::Duration::from_std(max_age).unwrap_or(chrono::Duration::MAX);
    let shown = key.id.shown();
    let age = match age(key, journals, now) {
        Some(a) => Age::Known(a),
        None => match seen.iter().filter(|s| s.key == shown).map(|s| s.at).min() {
            Some(at) => Age::SinceSeen(now - at),
            None => return Due::Unknown,
        },
    };
    match age.duration() <= max_age {
        true => Due::Fresh(age),
        false => Due::Over(age),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Step;

    fn j(old: &str, new: &str) -> Journaled {
        Journaled {
            provider: "p".into(),
            old: old.into(),
            new: Some(new.into()),
            step: Step::Done,
            created_at: None,
            revoke_after: None,
        }
    }

    #[test]
    fn a_lineage_follows_rotations_and_stops_at_a_cycle() {
        let journals = [j("a", "b"), j("b", "c"), j("x", "y"), j("c", "a")];
        let mut wanted: Vec<String> = lineage(&["a".into()], &journals).into_iter().collect();
        wanted.sort();
        assert_eq!(wanted, ["a", "b", "c"]);
        assert_eq!(root("y", &journals), "x");
        assert_eq!(root("q", &journals), "q");
        // A cycle ends after as many steps as there are journals.
        let _ = root("a", &journals);
    }

    #[test]
    fn due_at_the_edges_of_the_maximum_age() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let day = std::time::Duration::from_secs(86_400);
        let d = chrono::Duration::days;
        let mut key = KeyInfo::new(crate::KeyId::new("k"));
        assert_eq!(due(&key, &[], &[], now, day), Due::Unknown);
        // First seen: at least that old.
        let seen = |at| Seen {
            provider: "p".into(),
            key: "k".into(),
            at,
        };
        let once = [seen(now - d(1))];
        assert_eq!(
            due(&key, &[], &once, now, day),
            Due::Fresh(Age::SinceSeen(d(1)))
        );
        let twice = [seen(now - d(1)), seen(now - d(3))];
        assert_eq!(
            due(&key, &[], &twice, now, day),
            Due::Over(Age::SinceSeen(d(3)))
        );
        key.created = Some(now - d(1));
        assert_eq!(
            due(&key, &[], &twice, now, day),
            Due::Fresh(Age::Known(d(1)))
        );
        key.created = Some(now - d(1) - chrono::Duration::seconds(1));
        assert!(matches!(
            due(&key, &[], &[], now, day),
            Due::Over(Age::Known(_))
        ));
        // The longest maximum a policy may give is never reached.
        key.created = Some(DateTime::<Utc>::MIN_UTC);
        let longest = std::time::Duration::MAX;
        assert!(matches!(due(&key, &[], &[], now, longest), Due::Fresh(_)));
        // A key a journaled rotation made is as old as that rotation says.
        let mut made = j("old", "k");
        made.created_at = Some(now - chrono::Duration::hours(2));
        let key = KeyInfo::new(crate::KeyId::new("k"));
        let two_hours = Due::Fresh(Age::Known(chrono::Duration::hours(2)));
        assert_eq!(due(&key, &[made], &once, now, day), two_hours);
    }
}
