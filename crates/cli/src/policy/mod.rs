//! `apikeys run --config FILE`: a rotation policy over profiles — several
//! accounts of several providers — each naming the keys to keep fresh,
//! how old they may get, the grace, and the sink.
//!
//! A run first reads: the file, every profile's journals and keys. Every
//! mistake found then (a setting a provider cannot honour, a selection of
//! nothing, two lineages sharing a sink) refuses the whole run with exit 2
//! before anything changes. Then, per profile, it carries on what earlier
//! runs left part-way, reads the keys again, and rotates what is past its
//! age. One line per key, then a summary.

mod file;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use apikeys_lifecycle::lineage::{Age, Due, due, lineage, list_recovering, root};
use apikeys_lifecycle::seen::{Seen, record as record_seen, seen};
use apikeys_lifecycle::{
    Journaled, KeyId, KeyInfo, KeyLifecycle, LifecycleErrorKind, RotationError, Sink, Step,
    journaled,
};
use chrono::{DateTime, Utc};

use crate::args::Output;
use crate::common::{Failure, exit, parse_sink};
use crate::report::{Did, Line, Report, days, shown_duration};
use crate::rotate;
use file::{Profile, UnknownAge};

/// Runs the policy in `config`; returns the exit status.
pub async fn run(config: &Path, dry_run: bool, output: Output) -> Result<u8, Failure> {
    let profiles = file::load(config).await?;
    let now = rotate::now();
    let mut report = Report::new(output, false);
    let mut plans = Vec::new();
    let mut problems = Vec::new();
    for profile in &profiles {
        match plan(profile).await {
            Ok(plan) => plans.push(plan),
            Err(Problem::Config(e)) => problems.push(format!("profile `{}`: {e}", profile.name)),
            Err(Problem::Unavailable(e)) => {
                let line = Line::new(
                    Some(&profile.name),
                    profile.provider.name,
                    "-",
                    Did::Failed,
                    e,
                );
                report.add(line);
            }
        }
    }
    problems.extend(shared_sinks(&profiles, &plans));
    if !problems.is_empty() {
        return Err(Failure(
            exit::USAGE,
            format!(
                "{}: refused before any change:\n  {}",
                config.display(),
                problems.join("\n  ")
            ),
        ));
    }
    for plan in plans {
        plan.act(now, dry_run, &mut report).await;
    }
    Ok(report.finish())
}

/// Why a profile cannot run.
enum Problem {
    /// A mistake in the policy or its settings: the whole run is refused.
    Config(String),
    /// The provider or the state could not be read: this profile fails.
    Unavailable(String),
}

/// A profile, read and checked, ready to act.
struct Plan<'a> {
    profile: &'a Profile,
    lifecycle: Box<dyn KeyLifecycle>,
    view: View,
}

/// What a profile's journals and provider show at one moment.
struct View {
    /// Every rotation journaled for the profile's provider.
    journals: Vec<Journaled>,
    /// When keys of the profile's provider were first seen.
    seen: Vec<Seen>,
    /// The provider's keys; none when it cannot list (Finicity).
    listed: Option<Vec<KeyInfo>>,
}

/// Reads `profile`'s journals and keys, and checks what can be checked
/// without changing anything.
async fn plan(profile: &Profile) -> Result<Plan<'_>, Problem> {
    let lifecycle = profile
        .provider
        .lifecycle(&profile.settings)
        .map_err(Problem::Config)?;
    let sink = sink_for(profile, "k").map_err(Problem::Config)?;
    rotate::rotation(lifecycle.as_ref(), sink.as_ref(), &profile.options, "")
        .map_err(|(_, e)| Problem::Config(e))?
        .check()
        .map_err(|e| Problem::Config(e.to_string()))?;
    let view = View::read(profile, lifecycle.as_ref())
        .await
        .map_err(Problem::Unavailable)?;
    if view.candidates(profile).is_empty() && view.in_flight().next().is_none() {
        return Err(Problem::Config(
            "selects no key: check `keys` or `select` (`apikeys <provider> keys list` shows the keys)"
                .into(),
        ));
    }
    // The tool's own key into a sink that cannot give it back: the
    // rotation refuses it before creating anything, but only once the run
    // reaches that key; found here, before the run changes anything.
    if !profile.options.allow_unreadable_sink && !sink.readable() {
        let candidates = view.candidates(profile);
        if let Some(own) = candidates
            .iter()
            .find(|k| lifecycle.calls_with(&k.id).maybe())
        {
            return Err(Problem::Config(format!(
                "{} is (or may be) the key the tool calls with, and {} cannot give its successor back to a rerun: use a file sink, or set allow_unreadable_sink = true",
                own.id,
                sink.describe()
            )));
        }
    }
    Ok(Plan {
        profile,
        lifecycle,
        view,
    })
}

impl View {
    async fn read(profile: &Profile, lifecycle: &dyn KeyLifecycle) -> Result<View, String> {
        let journals: Vec<Journaled> = journaled(profile.options.state.as_ref())
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|j| j.provider == lifecycle.provider())
            .collect();
        let listed = list_recovering(lifecycle, async || {
            adopt_successor(profile, lifecycle, &journals).await
        })
        .await;
        let listed = match listed {
            Ok(keys) => Some(keys),
            Err(e) if e.kind == LifecycleErrorKind::Unsupported => None,
            Err(e) => return Err(e.to_string()),
        };
        let seen: Vec<Seen> = seen(profile.options.state.as_ref())
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|s| s.provider == profile.provider.name)
            .collect();
        Ok(View {
            journals,
            seen,
            listed,
        })
    }

    /// Rotations journaled and not done.
    fn in_flight(&self) -> impl Iterator<Item = &Journaled> {
        self.journals.iter().filter(|j| j.step != Step::Done)
    }

    /// The keys the profile keeps fresh, as listed now.
    fn candidates(&self, profile: &Profile) -> Vec<KeyInfo> {
        let wanted = lineage(&profile.keys, &self.journals);
        let selected = |k: &KeyInfo| {
            wanted.contains(&k.id.shown())
                || (!k.id.is_secret() && wanted.contains(k.id.expose()))
                || profile
                    .select
                    .as_deref()
                    .is_some_and(|s| k.name.as_deref().is_some_and(|n| glob(s, n)))
        };
        match &self.listed {
            Some(keys) => keys.iter().filter(|k| selected(k)).cloned().collect(),
            // Without a list, the current key of each lineage: the one no
            // journaled rotation replaced.
            None => wanted
                .iter()
                .filter(|id| {
                    !self
                        .journals
                        .iter()
                        .any(|j| &j.old == *id && j.new.is_some())
                })
                .map(|id| KeyInfo::new(KeyId::new(id.clone())))
                .collect(),
        }
    }

    /// The first key of every lineage the profile holds.
    fn lineages(&self, profile: &Profile) -> HashSet<String> {
        self.candidates(profile)
            .iter()
            .map(|k| root(&k.id.shown(), &self.journals))
            .chain(self.in_flight().map(|j| root(&j.old, &self.journals)))
            .collect()
    }

    /// The listed key shown as `shown`, or one known only by that.
    fn key(&self, shown: &str) -> KeyInfo {
        self.listed
            .iter()
            .flatten()
            .find(|k| k.id.shown() == shown)
            .cloned()
            .unwrap_or_else(|| KeyInfo::new(KeyId::new(shown)))
    }
}

/// After the configured credentials were refused: the key they are may
/// have been revoked by a rotation that stored its successor. Calls with
/// that successor, if one is stored; says whether it found one.
async fn adopt_successor(
    profile: &Profile,
    lifecycle: &dyn KeyLifecycle,
    journals: &[Journaled],
) -> bool {
    for j in journals.iter().filter(|j| j.step >= Step::Stored) {
        let Ok(sink) = sink_for(profile, &root(&j.old, journals)) else {
            continue;
        };
        let Ok(rotation) =
            rotate::rotation(lifecycle, sink.as_ref(), &profile.options, &profile.name)
        else {
            continue;
        };
        if matches!(rotation.adopt_stored(&j.old).await, Ok(true)) {
            return true;
        }
    }
    false
}

/// Two lineages whose credentials would land in the same file, across
/// every profile: each would overwrite the other's.
fn shared_sinks(profiles: &[Profile], plans: &[Plan<'_>]) -> Vec<String> {
    let mut owners: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for profile in profiles {
        let lineages: Vec<String> = match plans.iter().find(|p| p.profile.name == profile.name) {
            Some(plan) => plan.view.lineages(profile).into_iter().collect(),
            // Not read: its own sink, lineage unknown.
            None => vec![String::new()],
        };
        for lineage in lineages {
            let target = match lineage.is_empty() {
                true => profile.sink.clone(),
                false => profile.sink.replace("{key}", &safe(&lineage)),
            };
            if target != "stdout" {
                let owner = format!("`{}` {}", profile.name, lineage);
                owners.entry(target).or_default().push(owner);
            }
        }
    }
    owners
        .into_iter()
        .filter(|(_, o)| o.len() > 1)
        .map(|(target, o)| {
            format!(
                "{} would hold the credentials of {} keys ({}): give each its own sink, or put {{key}} in the sink",
                target,
                o.len(),
                o.join(", ").trim()
            )
        })
        .collect()
}

impl Plan<'_> {
    /// Carries on what earlier runs left, reads the keys again, and
    /// rotates what is due; `dry_run` only says what it would do.
    async fn act(mut self, now: DateTime<Utc>, dry_run: bool, report: &mut Report) {
        let profile = self.profile;
        let line = |key: &str, action: Did, detail: String| {
            Line::new(
                Some(&profile.name),
                profile.provider.name,
                key,
                action,
                detail,
            )
        };
        let in_flight: Vec<Journaled> = self.view.in_flight().cloned().collect();
        let progress = Progress::new(
            profile,
            in_flight.len() + self.view.candidates(profile).len(),
        );
        // Keys this run already reported: an earlier rotation's old and
        // new keys, and keys another runner is rotating.
        let mut handled: HashSet<String> = HashSet::new();
        for j in &in_flight {
            handled.extend([Some(j.old.clone()), j.new.clone()].into_iter().flatten());
            if dry_run {
                let due = j.step != Step::Verified || j.revoke_after.is_none_or(|t| t <= now);
                let mut l = line(
                    &j.old,
                    if due {
                        Did::WouldFinish
                    } else {
                        Did::Overlapping
                    },
                    format!("a rotation left at step {:?}", j.step),
                );
                l.new = j.new.clone();
                l.old_live_until = j.revoke_after.filter(|t| *t > now);
                report.add(l);
                continue;
            }
            let old = self.view.key(&j.old);
            progress.say(&j.old, "carrying on its rotation");
            let outcome = self.rotate_one(&old, false).await;
            let l = Line::outcome(
                Some(&profile.name),
                profile.provider.name,
                &j.old,
                outcome,
                Some(j.step),
            );
            report.add(l);
        }
        if !in_flight.is_empty() && !dry_run {
            // What those rotations revoked (leftovers included) and made
            // is listed anew: a revoked key is never rotated.
            match View::read(profile, self.lifecycle.as_ref()).await {
                Ok(view) => self.view = view,
                Err(e) => return report.add(line("-", Did::Failed, e)),
            }
            for j in self.view.journals.iter() {
                if in_flight.iter().any(|f| f.old == j.old) || j.step != Step::Done {
                    handled.extend([Some(j.old.clone()), j.new.clone()].into_iter().flatten());
                }
            }
        }
        for key in self.view.candidates(profile) {
            let shown = key.id.shown();
            if handled.contains(&shown) {
                continue;
            }
            let seen = &self.view.seen;
            let why = match due(&key, &self.view.journals, seen, now, profile.max_age) {
                Due::Fresh(age) => {
                    report.add(line(&shown, Did::Fresh, aged(age)));
                    continue;
                }
                Due::Unknown if profile.unknown_age == UnknownAge::Report => {
                    let state = profile.options.state.as_ref();
                    let recorded = match dry_run {
                        true => false,
                        false => record_seen(
                            state,
                            profile.provider.name,
                            std::slice::from_ref(&shown),
                            now,
                        )
                        .await
                        .is_ok_and(|r| !r.is_empty()),
                    };
                    let detail = match recorded {
                        true => {
                            "the provider gives no creation time and no rotation of this profile created it: first seen now, and from now on at least as old as that (or rotate it once, or set unknown_age = \"rotate\")"
                        }
                        false => {
                            "the provider gives no creation time and no rotation of this profile created it: rotate it once, or set unknown_age = \"rotate\""
                        }
                    };
                    report.add(line(&shown, Did::AgeUnknown, detail.into()));
                    continue;
                }
                Due::Unknown => "age unknown".to_owned(),
                Due::Over(age) => {
                    format!("{}, over {}", aged(age), shown_duration(profile.max_age))
                }
            };
            if dry_run {
                report.add(line(&shown, Did::WouldRotate, why));
                continue;
            }
            progress.say(&shown, "rotating");
            let outcome = self.rotate_one(&key, true).await;
            let l = Line::outcome(
                Some(&profile.name),
                profile.provider.name,
                &shown,
                outcome,
                None,
            );
            report.add(l);
        }
    }

    /// Rotates `old`, or with `start` unset only goes on with its
    /// journaled rotation. A new key takes `old`'s name (the journal keeps
    /// the name a rotation began with, for a rerun).
    async fn rotate_one(
        &self,
        old: &KeyInfo,
        start: bool,
    ) -> Result<Option<apikeys_lifecycle::RotationOutcome>, (u8, String)> {
        let profile = self.profile;
        let lineage = root(&old.id.shown(), &self.view.journals);
        let sink = sink_for(profile, &lineage).map_err(|e| (exit::USAGE, e))?;
        let mut options = profile.options.clone();
        if options.name_prefix.is_empty() {
            options.name_prefix =
                apikeys_lifecycle::successor_name(old.name.as_deref(), &profile.name);
        }
        let lifecycle = self.lifecycle.as_ref();
        let rotation = rotate::rotation(lifecycle, sink.as_ref(), &options, &profile.name)?;
        let outcome = match start {
            true => rotation.rotate(&old.id).await.map(Some),
            false => rotation.finish(&old.id).await,
        };
        outcome.map_err(|e: RotationError| (rotate::status_of(&e), e.to_string()))
    }
}

/// "key N of M" on a terminal, before each key a run changes; nothing
/// when standard error is piped (a log gets the rotation's own lines).
struct Progress<'a> {
    profile: &'a str,
    of: usize,
    at: std::cell::Cell<usize>,
    shown: bool,
}

impl<'a> Progress<'a> {
    fn new(profile: &'a Profile, of: usize) -> Self {
        use std::io::IsTerminal as _;
        Self {
            profile: &profile.name,
            of,
            at: std::cell::Cell::new(0),
            shown: std::io::stderr().is_terminal(),
        }
    }

    fn say(&self, key: &str, doing: &str) {
        self.at.set(self.at.get() + 1);
        if self.shown {
            eprintln!(
                "[{}] key {} of at most {}: {doing} {key}",
                self.profile,
                self.at.get(),
                self.of
            );
        }
    }
}

/// An age as a line says it.
fn aged(age: Age) -> String {
    match age {
        Age::Known(d) => format!("{} old", days(d)),
        Age::SinceSeen(d) => format!("{} since first seen", days(d)),
    }
}

/// Whether `name` matches `pattern`, where `*` stands for any run of
/// characters and `?` for one.
fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// `root` made safe as one file name or word.
fn safe(root: &str) -> String {
    root.chars()
        .map(|c| match c.is_ascii_alphanumeric() || "-_.:".contains(c) {
            true => c,
            false => '_',
        })
        .collect()
}

/// The sink of the lineage `root`: `{key}` replaced by it (made safe), so
/// that every successor of a key is stored where its first one was.
fn sink_for(profile: &Profile, root: &str) -> Result<Box<dyn Sink>, String> {
    parse_sink(&profile.sink.replace("{key}", &safe(root)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        for (p, n, m) in [
            ("prod-*", "prod-api", true),
            ("prod-*", "staging-api", false),
            ("*", "", true),
            ("*", "anything", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*-key-*", "ci-key-7", true),
            ("*x", "xxxy", false),
            ("", "", true),
            ("", "a", false),
        ] {
            assert_eq!(glob(p, n), m, "{p} {n}");
        }
    }
}
