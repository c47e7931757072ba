//! When a key was first seen, for providers that report no creation time
//! (Sunshine): recorded in the rotation state beside the journals, so that
//! a key no rotation of ours created has an age from then on: at least the
//! time since it was first seen. One small record per key, written once
//! under the key's own lock and never changed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::state::{StateError, StateStore};

/// The record as stored: no secret, only the key as it may be shown.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    first_seen: DateTime<Utc>,
    provider: String,
    key: String,
}

/// A key and when it was first seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The provider.
    pub provider: String,
    /// The key, as it may be shown.
    pub key: String,
    /// When it was first seen.
    pub at: DateTime<Utc>,
}

/// The name a record is kept under: apart from every rotation's.
fn name(provider: &str, key: &str) -> String {
    format!("seen-{}", crate::journal::name(provider, key))
}

/// Every first-seen record in `state`.
pub async fn seen(state: &dyn StateStore) -> Result<Vec<Seen>, StateError> {
    Ok(state
        .journals()
        .await?
        .iter()
        .filter_map(|text| serde_json::from_str::<Record>(text).ok())
        .map(|r| Seen {
            provider: r.provider,
            key: r.key,
            at: r.first_seen,
        })
        .collect())
}

/// Records `now` as when each of `keys` (as shown) of `provider` was first
/// seen, where no record exists yet; returns the keys recorded now. A key
/// whose record another run holds at this moment is left to that run.
pub async fn record(
    state: &dyn StateStore,
    provider: &str,
    keys: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<String>, StateError> {
    let mut recorded = Vec::new();
    for key in keys {
        let name = name(provider, key);
        let held = match state.lock(&name, &|_| false).await {
            Ok(held) => held,
            Err(StateError::Busy(_)) => continue,
            Err(e) => return Err(e),
        };
        if held.load().await?.is_some() {
            continue;
        }
        let record = Record {
            first_seen: now,
            provider: provider.to_owned(),
            key: key.clone(),
        };
        let text = serde_json::to_string(&record)
            .map_err(|e| StateError::Unavailable(format!("a first-seen record: {e}")))?;
        held.save(&text).await?;
        recorded.push(key.clone());
    }
    Ok(recorded)
}

/// When the key shown as `key` of `provider` was first seen, if recorded.
pub fn first_seen(provider: &str, key: &str, seen: &[Seen]) -> Option<DateTime<Utc>> {
    seen.iter()
        .filter(|s| s.provider == provider && s.key == key)
        .map(|s| s.at)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FileStore;

    #[tokio::test]
    async fn a_key_is_recorded_once_and_never_mistaken_for_a_rotation() {
        let dir = std::env::temp_dir().join(format!("apikeys-seen-{}", fastrand::u64(..)));
        let state = FileStore::new(&dir);
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let keys = vec!["k1".to_owned(), "k/2 odd".to_owned()];
        assert_eq!(record(&state, "sunshine", &keys, t0).await.unwrap(), keys);
        // Later: nothing is recorded again, and the first time stays.
        let later = t0 + chrono::Duration::days(3);
        assert!(
            record(&state, "sunshine", &keys, later)
                .await
                .unwrap()
                .is_empty()
        );
        let all = seen(&state).await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(first_seen("sunshine", "k/2 odd", &all), Some(t0));
        assert_eq!(first_seen("finbourne", "k1", &all), None);
        // No record reads as a rotation's journal.
        assert!(crate::journaled(&state).await.unwrap().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
