//! What the tool did, in one set of words and one JSON shape for every
//! command that rotates: `keys rotate`, `keys finish` and `run`. One line
//! per key; a run adds a summary. The words are listed in the README.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

use apikeys_lifecycle::{RotationOutcome, Step};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::args::Output;
use crate::common::exit;

/// What a run did (or, dry, would do) with one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Did {
    /// Within its maximum age.
    Fresh,
    /// Rotated: a new key is stored and verified (the old one is live
    /// until the grace has passed, or revoked if there is none).
    Rotated,
    /// A rotation an earlier run left part-way was carried on by this
    /// one: its new key is stored and verified now (the old one is live
    /// until the grace has passed, or revoked if there is none).
    Resumed,
    /// An earlier rotation's old key was revoked: its grace had passed.
    Finished,
    /// An earlier rotation keeps both keys live, for now.
    Overlapping,
    /// Dry run: would be rotated.
    WouldRotate,
    /// Dry run: an earlier rotation would be finished.
    WouldFinish,
    /// Nobody knows its age; reported (`unknown_age = "report"`).
    AgeUnknown,
    /// A rotation stopped part-way; the next run goes on.
    Stopped,
    /// Another runner is rotating the key, or took its rotation over
    /// from this run: in progress there, not a failure of this run.
    #[serde(rename = "in-progress")]
    Busy,
    /// `keys finish` of a key no rotation is journaled for.
    NothingJournaled,
    /// A call, the sink or the configuration failed.
    Failed,
}

impl Did {
    /// The word for it, in tables and JSON alike.
    pub fn word(self) -> &'static str {
        match self {
            Self::Fresh => "fresh",
            Self::Rotated => "rotated",
            Self::Resumed => "resumed",
            Self::Finished => "finished",
            Self::Overlapping => "overlapping",
            Self::WouldRotate => "would-rotate",
            Self::WouldFinish => "would-finish",
            Self::AgeUnknown => "age-unknown",
            Self::Stopped => "stopped",
            Self::Busy => "in-progress",
            Self::NothingJournaled => "nothing-journaled",
            Self::Failed => "failed",
        }
    }

    /// The exit status this outcome asks for; the run exits with the most
    /// urgent one: failed (1) over stopped (4) over age unknown (3) over
    /// everything fine (0). A key another runner is
    /// rotating is fine: two runs started together over keys that all end
    /// up rotated both exit 0.
    fn status(self) -> u8 {
        match self {
            Self::Failed => exit::FAILED,
            Self::Stopped => exit::RESUMABLE,
            Self::AgeUnknown => exit::POLICY,
            _ => 0,
        }
    }

    fn urgency(self) -> u8 {
        match self.status() {
            exit::FAILED => 4,
            exit::RESUMABLE => 3,
            exit::POLICY => 1,
            _ => 0,
        }
    }
}

/// One line of the report: the same fields in every command's JSON.
#[derive(Debug, Serialize)]
pub struct Line {
    /// The policy profile (none outside a policy run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The provider's short name.
    pub provider: &'static str,
    /// The key, as `list` shows it.
    pub key: String,
    /// What was done.
    pub action: Did,
    /// The new key, once one exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    /// Until when the old key stays live, while both are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_live_until: Option<DateTime<Utc>>,
    /// What happened, in a sentence.
    pub detail: String,
}

impl Line {
    /// A line with no new key.
    pub fn new(
        profile: Option<&str>,
        provider: &'static str,
        key: &str,
        action: Did,
        detail: String,
    ) -> Self {
        Self {
            profile: profile.map(str::to_owned),
            provider,
            key: key.to_owned(),
            action,
            new: None,
            old_live_until: None,
            detail,
        }
    }

    /// The line of a rotation of `key` that ended with `outcome`: `started`
    /// when this run started it, else it carried on an earlier one, which
    /// was left at step `was` (none: nothing was journaled).
    pub fn outcome(
        profile: Option<&str>,
        provider: &'static str,
        key: &str,
        outcome: Result<Option<RotationOutcome>, (u8, String)>,
        was: Option<Step>,
    ) -> Self {
        let mut line = Line::new(profile, provider, key, Did::Failed, String::new());
        let o = match outcome {
            Ok(Some(o)) => o,
            Ok(None) => {
                line.action = Did::NothingJournaled;
                line.detail = "no rotation of it is journaled: nothing to finish".into();
                return line;
            }
            Err((code, message)) => {
                line.action = match code {
                    exit::BUSY => Did::Busy,
                    exit::RESUMABLE => Did::Stopped,
                    _ => Did::Failed,
                };
                line.detail = message;
                return line;
            }
        };
        line.action = match was {
            None if o.resumed => Did::Resumed,
            None => Did::Rotated,
            Some(step) if step < Step::Verified => Did::Resumed,
            Some(_) if o.pending.is_some() => Did::Overlapping,
            Some(_) => Did::Finished,
        };
        line.detail = match (&o.pending, line.action) {
            (Some(p), Did::Overlapping) => p.to_string(),
            (Some(p), _) => format!("to {}; {p}", o.new),
            (None, Did::Finished) => format!("the old key is revoked; {} remains", o.new),
            (None, _) => format!("to {}; the old key is revoked", o.new),
        };
        line.old_live_until = o.pending.map(|p| p.until);
        line.new = Some(o.new);
        line
    }
}

/// The lines of a command, printed as they come, to standard output (or
/// standard error when that carries a secret document).
pub struct Report {
    output: Output,
    to_stderr: bool,
    lines: Vec<Line>,
}

impl Report {
    /// An empty report printed as `output` asks, to standard error when
    /// `to_stderr`.
    pub fn new(output: Output, to_stderr: bool) -> Self {
        Self {
            output,
            to_stderr,
            lines: Vec::new(),
        }
    }

    /// Prints `line` at once, and keeps it for the summary.
    pub fn add(&mut self, line: Line) {
        let text = match self.output {
            Output::Json => serde_json::to_string(&line).unwrap_or_default(),
            Output::Table => format!(
                "{:<16} {:<11} {:<28} {:<13} {}",
                line.profile.as_deref().unwrap_or("-"),
                line.provider,
                line.key,
                line.action.word(),
                line.detail
            ),
        };
        self.say(&text);
        self.lines.push(line);
    }

    /// Prints the summary; returns the run's exit status.
    pub fn finish(self) -> u8 {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for line in &self.lines {
            *counts.entry(line.action.word()).or_default() += 1;
        }
        let worst = self.status();
        let text = match self.output {
            Output::Json => {
                serde_json::json!({"summary": counts, "keys": self.lines.len(), "exit": worst})
                    .to_string()
            }
            Output::Table => {
                let mut text = format!("{} key(s):", self.lines.len());
                for (word, n) in &counts {
                    let _ = write!(text, " {n} {word},");
                }
                text.trim_end_matches(',').to_owned()
            }
        };
        self.say(&text);
        worst
    }

    /// The exit status of the lines so far, without a summary.
    pub fn status(&self) -> u8 {
        self.lines
            .iter()
            .map(|l| l.action)
            .max_by_key(|d| d.urgency())
            .map_or(0, Did::status)
    }

    fn say(&self, text: &str) {
        // A closed pipe drops the text; the exit status still tells.
        let _ = match self.to_stderr {
            true => writeln!(std::io::stderr(), "{text}"),
            false => writeln!(std::io::stdout(), "{text}"),
        };
    }
}

/// An age in days, or hours under a day.
pub fn days(age: chrono::Duration) -> String {
    match age.num_days() {
        0 => format!("{}h", age.num_hours().max(0)),
        d => format!("{d}d"),
    }
}

/// A duration as the policy file writes it (`90d`, `36h`, `0`).
pub fn shown_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => "0".into(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
