//! What the journals of a store say about keys over time: which keys one
//! lineage has held (a key and every successor rotations made of it), the
//! first key of a lineage, and how old a key is when its provider does not
//! say. Pure functions of [`Journaled`] rotations, shared by every caller
//! that selects or audits keys.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::{Journaled, KeyInfo};

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
}
