//! What a rotation is run with, from flags or a policy file, and what its
//! outcome means for the exit status: shared by `keys rotate`, `keys
//! finish` and `run`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use apikeys_lifecycle::{
    FaultPoint, FileStore, KeyLifecycle, Rotation, RotationError, Sink, StateError, StateStore,
};
use chrono::{DateTime, Utc};

use crate::common::exit;

/// How a rotation runs.
#[derive(Clone)]
pub struct Options {
    /// Where its journal and lock live.
    pub state: Arc<dyn StateStore>,
    /// The start of new keys' names.
    pub name_prefix: String,
    /// Revoke the old key though the new one cannot be verified.
    pub accept_unverifiable: bool,
    /// How long both keys stay live.
    pub grace: Duration,
    /// Wait until the old key is idle this long.
    pub wait_idle: Option<Duration>,
    /// The new key's lifetime, where the provider takes one.
    pub new_key_lifetime: Option<Duration>,
    /// Rotate the tool's own key into a sink that cannot be read back.
    pub allow_unreadable_sink: bool,
}

/// A rotation of `keys` into `sink` as `options` say, printing its
/// progress on standard error, with the test hooks `APIKEYS_NOW` and
/// `APIKEYS_FAULT` applied.
pub fn rotation<'a>(
    keys: &'a dyn KeyLifecycle,
    sink: &'a dyn Sink,
    options: &'a Options,
    label: &'a str,
) -> Result<Rotation<'a>, (u8, String)> {
    let prefix = match options.name_prefix.is_empty() {
        true => "rotated".to_owned(),
        false => options.name_prefix.clone(),
    };
    let mut rotation = Rotation::with_state(keys, sink, options.state.as_ref())
        .name_prefix(prefix)
        .accept_unverifiable(options.accept_unverifiable)
        .grace(options.grace)
        .allow_unreadable_sink(options.allow_unreadable_sink)
        .clock(now)
        .on_progress(move |step| eprintln!("[{label}] {step}"));
    if let Some(idle) = options.wait_idle {
        rotation = rotation.wait_until_idle(idle);
    }
    if let Some(lifetime) = options.new_key_lifetime {
        rotation = rotation.new_key_lifetime(lifetime);
    }
    Ok(match fault_from_env()? {
        Some((point, how)) => rotation.inject_faults(move |p| {
            if p == point {
                stop(p, how);
            }
            false
        }),
        None => rotation,
    })
}

/// Where rotation state lives, as `--state` or a policy file names it: a
/// PostgreSQL connection string (`postgres://…`, `postgresql://…`), or a
/// folder (relative to `base`).
pub async fn open_state(spec: &str, base: &Path) -> Result<Arc<dyn StateStore>, (u8, String)> {
    if is_database(spec) {
        let store = apikeys_lifecycle::postgres::PgStore::connect(spec)
            .await
            .map_err(state_failure)?;
        return Ok(Arc::new(store));
    }
    Ok(Arc::new(FileStore::new(base.join(spec))))
}

/// Whether `--state` names a database rather than a folder.
pub fn is_database(spec: &str) -> bool {
    spec.starts_with("postgres://") || spec.starts_with("postgresql://")
}

/// The exit status and message of a state that could not be opened: a
/// configuration mistake exits 2 (nothing was tried), the rest 1.
pub fn state_failure(e: StateError) -> (u8, String) {
    let code = match e {
        StateError::Config(_) => exit::USAGE,
        _ => exit::FAILED,
    };
    (code, e.to_string())
}

/// The state `--state` names, else `APIKEYS_JOURNAL` (its older name),
/// else `$XDG_STATE_HOME/apikeys/rotations`.
pub fn state_spec(given: Option<String>) -> String {
    given
        .or_else(|| std::env::var("APIKEYS_JOURNAL").ok())
        .unwrap_or_else(|| crate::common::default_journal().display().to_string())
}

/// The exit status a stopped rotation gives.
pub fn status_of(error: &RotationError) -> u8 {
    match error {
        RotationError::Busy(_) => exit::BUSY,
        RotationError::Sink(_) => exit::FAILED,
        RotationError::Config(_) | RotationError::OwnKeyUnreadableSink(_) => exit::USAGE,
        _ => exit::RESUMABLE,
    }
}

/// The time: `APIKEYS_NOW` (RFC 3339) when set, so that tests can let a
/// grace pass; else the system clock.
pub fn now() -> DateTime<Utc> {
    std::env::var("APIKEYS_NOW")
        .ok()
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc))
}

/// How a fault stops the process.
#[derive(Debug, Clone, Copy)]
enum Stop {
    /// Abort at once.
    Abort,
    /// Stop (SIGSTOP) until continued or killed from outside.
    Pause,
}

fn stop(point: FaultPoint, how: Stop) {
    match how {
        Stop::Abort => {
            eprintln!("APIKEYS_FAULT: stopping the process at {}", point.name());
            std::process::abort();
        }
        Stop::Pause => {
            eprintln!("APIKEYS_FAULT: pausing the process at {}", point.name());
            // `kill` sends the signal; the process stops until it is
            // continued (SIGCONT) or killed.
            let _ = std::process::Command::new("kill")
                .args(["-STOP", &std::process::id().to_string()])
                .status();
        }
    }
}

/// `APIKEYS_FAULT=<point>` aborts the process at that point of a rotation,
/// `APIKEYS_FAULT=pause:<point>` stops it there (crash and lock tests);
/// the points are `FaultPoint::ALL`.
fn fault_from_env() -> Result<Option<(FaultPoint, Stop)>, (u8, String)> {
    let Ok(value) = std::env::var("APIKEYS_FAULT") else {
        return Ok(None);
    };
    let (how, name) = match value.strip_prefix("pause:") {
        Some(name) => (Stop::Pause, name),
        None => (Stop::Abort, value.as_str()),
    };
    match FaultPoint::parse(name) {
        Some(point) => Ok(Some((point, how))),
        None => {
            let names: Vec<&str> = FaultPoint::ALL.iter().map(|p| p.name()).collect();
            Err((
                exit::USAGE,
                format!(
                    "APIKEYS_FAULT={value}: not one of {} (optionally after pause:)",
                    names.join(", ")
                ),
            ))
        }
    }
}

/// A duration as a user types it: a whole number and a unit, `s`, `m`,
/// `h`, `d` or `w` (`90d`, `36h`), or `0`. Too long to represent is an
/// error, never a wrap.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let (number, unit) = text.split_at(text.trim_end_matches(char::is_alphabetic).len());
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 90d, 12w, 36h, 30m or 0"))?;
    let seconds: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(format!("`{text}`: the unit is s, m, h, d or w")),
    };
    n.checked_mul(seconds)
        .filter(|s| *s <= i64::MAX as u64 / 1000)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_at_their_extremes() {
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("90d"), Ok(Duration::from_secs(90 * 86_400)));
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        for bad in [
            "",
            "d",
            "-1d",
            "1.5d",
            "10y",
            "18446744073709551615w",
            "99999999999999999999d",
            "٣d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        // The largest accepted value is still a chrono duration (what is
        // added to now, saturating); one second more is refused.
        let most = i64::MAX as u64 / 1000;
        let largest = parse_duration(&format!("{most}s")).unwrap();
        assert!(chrono::Duration::from_std(largest).is_ok());
        assert!(parse_duration(&format!("{}s", most + 1)).is_err());
    }
}
