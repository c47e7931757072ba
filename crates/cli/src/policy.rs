//! `apikeys run --config FILE`: a rotation policy over profiles — several
//! accounts of several providers — each naming the keys to keep fresh,
//! how old they may get, the grace, and the sink. A run finishes what is
//! past its grace, rotates what is past its age, and prints one line per
//! key and a summary.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use apikeys_lifecycle::settings::Source;
use apikeys_lifecycle::{
    Journaled, KeyId, KeyInfo, KeyLifecycle, LifecycleErrorKind, Provider, RotationError,
    RotationOutcome, Settings, Sink, StateStore, Step, journaled,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Failure, Output, exit, parse_sink, providers, rotate};

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    /// Where journals and locks live: a folder (each profile has a folder
    /// in it) or a PostgreSQL connection string (each profile a prefix).
    state: Option<String>,
    /// Rules every profile takes unless it says otherwise.
    #[serde(default)]
    defaults: Rules,
    #[serde(default, rename = "profile")]
    profiles: Vec<ProfileFile>,
}

/// What a profile or `[defaults]` may set.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct Rules {
    max_age: Option<String>,
    grace: Option<String>,
    wait_idle: Option<String>,
    new_key_lifetime: Option<String>,
    accept_unverifiable: Option<bool>,
    allow_unreadable_sink: Option<bool>,
    unknown_age: Option<UnknownAge>,
    name_prefix: Option<String>,
    sink: Option<String>,
}

impl Rules {
    /// `self`, with what it leaves unset taken from `defaults`.
    fn or(self, defaults: &Rules) -> Rules {
        let d = defaults.clone();
        Rules {
            max_age: self.max_age.or(d.max_age),
            grace: self.grace.or(d.grace),
            wait_idle: self.wait_idle.or(d.wait_idle),
            new_key_lifetime: self.new_key_lifetime.or(d.new_key_lifetime),
            accept_unverifiable: self.accept_unverifiable.or(d.accept_unverifiable),
            allow_unreadable_sink: self.allow_unreadable_sink.or(d.allow_unreadable_sink),
            unknown_age: self.unknown_age.or(d.unknown_age),
            name_prefix: self.name_prefix.or(d.name_prefix),
            sink: self.sink.or(d.sink),
        }
    }
}

/// What a run does with a key whose age nobody knows (Sunshine gives no
/// creation time; a key made by a rotation of ours has one in its journal).
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
enum UnknownAge {
    /// Report it, and exit 3: never counted as within policy.
    #[default]
    Report,
    /// Rotate it: after that its age is known.
    Rotate,
}

#[derive(Deserialize)]
struct ProfileFile {
    name: String,
    provider: String,
    /// Keys to keep fresh, by id as `list` shows it; a key a rotation
    /// replaced is followed to its successor.
    #[serde(default)]
    keys: Vec<String>,
    /// Keys to keep fresh, by name: `*` matches any run of characters, `?`
    /// one.
    select: Option<String>,
    /// The provider's settings.
    #[serde(default)]
    settings: BTreeMap<String, SettingValue>,
    /// The rules (checked by [`Rules`]).
    #[serde(flatten)]
    rules: toml::Table,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SettingValue {
    Text(String),
    Integer(i64),
    Env { env: String },
    File { file: PathBuf },
}

/// A profile, checked and ready to run.
struct Profile {
    name: String,
    provider: &'static Provider,
    keys: Vec<String>,
    select: Option<String>,
    settings: Settings,
    /// The sink, where `{key}` stands for the key's lineage.
    sink: String,
    max_age: Duration,
    unknown_age: UnknownAge,
    options: rotate::Options,
}

/// Reads and checks a policy file; every mistake is reported before
/// anything runs.
async fn load(path: &Path) -> Result<Vec<Profile>, Failure> {
    let (state, files) = read(path).map_err(|e| Failure(exit::USAGE, e))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let state = rotate::open_state(&state, base).await?;
    let mut profiles = Vec::new();
    for mut profile in files {
        profile.options.state = Arc::from(state.scoped(&profile.name));
        profiles.push(profile);
    }
    Ok(profiles)
}

/// The state the file names, and its profiles (with a placeholder state).
fn read(path: &Path) -> Result<(String, Vec<Profile>), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file: PolicyFile = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if file.profiles.is_empty() {
        return Err(format!("{}: no [[profile]]", path.display()));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let state = rotate::state_spec(file.state);
    let unset: Arc<dyn StateStore> = Arc::new(apikeys_lifecycle::FileStore::new(base));
    let mut names = HashSet::new();
    let mut profiles = Vec::new();
    let mut problems = Vec::new();
    for p in file.profiles {
        match check(p, &file.defaults, &unset, base, &mut names) {
            Ok(profile) => profiles.push(profile),
            Err(e) => problems.push(e),
        }
    }
    match problems.is_empty() {
        true => Ok((state, profiles)),
        false => Err(format!("{}:\n  {}", path.display(), problems.join("\n  "))),
    }
}

fn check(
    p: ProfileFile,
    defaults: &Rules,
    state: &Arc<dyn StateStore>,
    base: &Path,
    names: &mut HashSet<String>,
) -> Result<Profile, String> {
    let at = format!("profile `{}`", p.name);
    if p.name.is_empty()
        || !p
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "{at}: a profile's name holds only ASCII letters, digits, `-` and `_` (it names its journal folder)"
        ));
    }
    if !names.insert(p.name.clone()) {
        return Err(format!("{at}: two profiles have this name"));
    }
    let provider = providers::find(&p.provider).ok_or_else(|| {
        let known: Vec<&str> = providers::PROVIDERS.iter().map(|p| p.name).collect();
        format!(
            "{at}: no provider `{}` (known: {})",
            p.provider,
            known.join(", ")
        )
    })?;
    let rules: Rules = p
        .rules
        .try_into()
        .map_err(|e| format!("{at}: {}", e.message()))?;
    let rules = rules.or(defaults);
    if p.keys.is_empty() && p.select.is_none() {
        return Err(format!(
            "{at}: name the keys to keep fresh (`keys = [...]`) or select them by name (`select = \"prod-*\"`)"
        ));
    }
    let duration = |what: &str, value: &Option<String>| -> Result<Option<Duration>, String> {
        value
            .as_deref()
            .map(rotate::parse_duration)
            .transpose()
            .map_err(|e| format!("{at}: {what}: {e}"))
    };
    let max_age = duration("max_age", &rules.max_age)?
        .ok_or_else(|| format!("{at}: no max_age (here or in [defaults])"))?;
    let sink_text = rules
        .sink
        .clone()
        .ok_or_else(|| format!("{at}: no sink (here or in [defaults])"))?;
    let sink_text = match sink_text.strip_prefix("file:") {
        Some(file) if Path::new(file).is_relative() => {
            format!("file:{}", base.join(file).display())
        }
        _ => sink_text,
    };
    parse_sink(&sink_text.replace("{key}", "k")).map_err(|e| format!("{at}: {e}"))?;
    let mut table = BTreeMap::new();
    for (name, value) in p.settings {
        let source = match value {
            SettingValue::Text(text) => Source::Text(text),
            SettingValue::Integer(n) => Source::Text(n.to_string()),
            SettingValue::Env { env } => Source::Env(env),
            SettingValue::File { file } if file.is_relative() => Source::File(base.join(file)),
            SettingValue::File { file } => Source::File(file),
        };
        if let (Some(s), Source::Text(_)) =
            (provider.settings.iter().find(|s| s.name == name), &source)
            && s.secret
        {
            return Err(format!(
                "{at}: `{name}` is a credential: give it as {{ env = \"VAR\" }} or {{ file = \"PATH\" }}, not in the file"
            ));
        }
        table.insert(name, source);
    }
    let settings = Settings::from_table(table);
    let unknown = settings.unknown(provider);
    if !unknown.is_empty() {
        let known: Vec<&str> = provider.settings.iter().map(|s| s.name).collect();
        return Err(format!(
            "{at}: {} reads no setting {} (it reads {})",
            provider.name,
            unknown.join(", "),
            known.join(", ")
        ));
    }
    let grace = duration("grace", &rules.grace)?.unwrap_or(apikeys_lifecycle::DEFAULT_GRACE);
    let new_key_lifetime = duration("new_key_lifetime", &rules.new_key_lifetime)?;
    apikeys_lifecycle::lifetime_fits(new_key_lifetime, grace).map_err(|e| format!("{at}: {e}"))?;
    Ok(Profile {
        options: rotate::Options {
            state: state.clone(),
            // Empty: each new key takes its predecessor's name.
            name_prefix: rules.name_prefix.clone().unwrap_or_default(),
            accept_unverifiable: rules.accept_unverifiable.unwrap_or(false),
            grace,
            wait_idle: duration("wait_idle", &rules.wait_idle)?,
            new_key_lifetime,
            allow_unreadable_sink: rules.allow_unreadable_sink.unwrap_or(false),
        },
        name: p.name,
        provider,
        keys: p.keys,
        select: p.select,
        settings,
        sink: sink_text,
        max_age,
        unknown_age: rules.unknown_age.unwrap_or_default(),
    })
}

/// What a run did (or, dry, would do) with one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Did {
    /// Within its maximum age.
    Fresh,
    /// Rotated: a new key is stored and verified (the old one is live
    /// until the grace has passed, or revoked if there is none).
    Rotated,
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
    Busy,
    /// A call, the sink or the configuration failed.
    Failed,
}

impl Did {
    fn word(self) -> &'static str {
        match self {
            Self::Fresh => "fresh",
            Self::Rotated => "rotated",
            Self::Finished => "finished",
            Self::Overlapping => "overlapping",
            Self::WouldRotate => "would-rotate",
            Self::WouldFinish => "would-finish",
            Self::AgeUnknown => "age-unknown",
            Self::Stopped => "stopped",
            Self::Busy => "in-progress",
            Self::Failed => "failed",
        }
    }

    /// The exit status this outcome asks for; the run exits with the most
    /// urgent one: failed (1) over stopped (4) over busy (5) over age
    /// unknown (3) over everything fine (0). A key another runner is
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

/// One line of the report.
#[derive(Debug, Serialize)]
struct Line {
    profile: String,
    provider: &'static str,
    key: String,
    action: Did,
    #[serde(skip_serializing_if = "Option::is_none")]
    new: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    old_live_until: Option<DateTime<Utc>>,
    detail: String,
}

struct Report {
    output: Output,
    lines: Vec<Line>,
}

impl Report {
    fn add(&mut self, line: Line) {
        match self.output {
            Output::Json => println!("{}", serde_json::to_string(&line).unwrap_or_default()),
            Output::Table => println!(
                "{:<16} {:<11} {:<28} {:<13} {}",
                line.profile,
                line.provider,
                line.key,
                line.action.word(),
                line.detail
            ),
        }
        self.lines.push(line);
    }

    /// Prints the summary; returns the run's exit status.
    fn finish(self) -> u8 {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for line in &self.lines {
            *counts.entry(line.action.word()).or_default() += 1;
        }
        let worst = self
            .lines
            .iter()
            .map(|l| l.action)
            .max_by_key(|d| d.urgency())
            .map_or(0, Did::status);
        match self.output {
            Output::Json => println!(
                "{}",
                serde_json::json!({"summary": counts, "keys": self.lines.len(), "exit": worst})
            ),
            Output::Table => {
                let mut text = format!("{} key(s):", self.lines.len());
                for (word, n) in &counts {
                    let _ = write!(text, " {n} {word},");
                }
                println!("{}", text.trim_end_matches(','));
            }
        }
        worst
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

/// The ids `keys` name, and every key that rotations journaled here made
/// from them, however many times over.
fn lineage(keys: &[String], journals: &[Journaled]) -> HashSet<String> {
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

/// The first key of the lineage `shown` belongs to: followed back through
/// the rotations journaled here. What `{key}` in a sink stands for, so
/// that every successor of a key is stored where its first one was.
fn root(shown: &str, journals: &[Journaled]) -> String {
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

/// The sink of the lineage `root`: `{key}` replaced by it, made safe as
/// one file name or word.
fn sink_for(profile: &Profile, root: &str) -> Result<Box<dyn Sink>, String> {
    let safe: String = root
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() || "-_.:".contains(c) {
            true => c,
            false => '_',
        })
        .collect();
    parse_sink(&profile.sink.replace("{key}", &safe))
}

/// Runs the policy in `config`; returns the exit status.
pub async fn run(config: &Path, dry_run: bool, output: Output) -> Result<u8, Failure> {
    let profiles = load(config).await?;
    let now = rotate::now();
    let mut report = Report {
        output,
        lines: Vec::new(),
    };
    for profile in &profiles {
        run_profile(profile, now, dry_run, &mut report).await;
    }
    Ok(report.finish())
}

async fn run_profile(profile: &Profile, now: DateTime<Utc>, dry_run: bool, report: &mut Report) {
    let line = |key: &str, action: Did, detail: String| Line {
        profile: profile.name.clone(),
        provider: profile.provider.name,
        key: key.to_owned(),
        action,
        new: None,
        old_live_until: None,
        detail,
    };
    let lifecycle = match profile.provider.lifecycle(&profile.settings) {
        Ok(lifecycle) => lifecycle,
        Err(e) => return report.add(line("-", Did::Failed, e)),
    };
    let lifecycle = lifecycle.as_ref();
    let journals: Vec<Journaled> = match journaled(profile.options.state.as_ref()).await {
        Ok(journals) => journals
            .into_iter()
            .filter(|j| j.provider == lifecycle.provider())
            .collect(),
        Err(e) => return report.add(line("-", Did::Failed, e.to_string())),
    };
    let mut listed = lifecycle.list().await;
    if matches!(&listed, Err(e) if e.kind == LifecycleErrorKind::Refused) {
        // The configured key may be one a rotation replaced and revoked:
        // call with a stored successor, if there is one.
        for j in journals.iter().filter(|j| j.step >= Step::Stored) {
            let Ok(sink) = sink_for(profile, &root(&j.old, &journals)) else {
                continue;
            };
            let Ok(rotation) =
                rotate::rotation(lifecycle, sink.as_ref(), &profile.options, &profile.name)
            else {
                continue;
            };
            if matches!(rotation.adopt_stored(&j.old).await, Ok(true)) {
                listed = lifecycle.list().await;
                break;
            }
        }
    }
    let listed = match listed {
        Ok(keys) => Some(keys),
        Err(e) if e.kind == LifecycleErrorKind::Unsupported => None,
        Err(e) => return report.add(line("-", Did::Failed, e.to_string())),
    };
    let in_flight: Vec<&Journaled> = journals.iter().filter(|j| j.step != Step::Done).collect();
    let busy: HashSet<&str> = in_flight
        .iter()
        .flat_map(|j| [Some(j.old.as_str()), j.new.as_deref()])
        .flatten()
        .collect();

    // What earlier runs started: finished once due, else reported.
    for j in &in_flight {
        let old = listed
            .iter()
            .flatten()
            .map(|k| &k.id)
            .find(|id| id.shown() == j.old)
            .cloned()
            .unwrap_or_else(|| KeyId::new(j.old.clone()));
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
        let outcome = rotate_one(profile, lifecycle, &old, None, &journals, false).await;
        report.add(outcome_line(profile, &j.old, outcome, Did::Finished));
    }

    // The keys the profile keeps fresh.
    let wanted = lineage(&profile.keys, &journals);
    let candidates: Vec<KeyInfo> = match &listed {
        Some(keys) => keys
            .iter()
            .filter(|k| {
                wanted.contains(&k.id.shown())
                    || (!k.id.is_secret() && wanted.contains(k.id.expose()))
                    || profile
                        .select
                        .as_deref()
                        .is_some_and(|s| k.name.as_deref().is_some_and(|n| glob(s, n)))
            })
            .cloned()
            .collect(),
        // Without a list, the current key of each lineage: the one no
        // journaled rotation replaced.
        None => wanted
            .iter()
            .filter(|id| !journals.iter().any(|j| &j.old == *id && j.new.is_some()))
            .map(|id| KeyInfo::new(KeyId::new(id.clone())))
            .collect(),
    };
    if candidates.is_empty() && in_flight.is_empty() {
        report.add(line(
            "-",
            Did::Failed,
            "the profile selects no key: check `keys` or `select`".into(),
        ));
    }
    let lineages: HashSet<String> = candidates
        .iter()
        .map(|k| root(&k.id.shown(), &journals))
        .chain(in_flight.iter().map(|j| root(&j.old, &journals)))
        .collect();
    if lineages.len() > 1 && !profile.sink.contains("{key}") {
        return report.add(line(
            "-",
            Did::Failed,
            format!(
                "the profile keeps {} keys fresh and its sink has no {{key}}: each would overwrite the others' credentials",
                lineages.len()
            ),
        ));
    }
    for key in candidates {
        let shown = key.id.shown();
        if busy.contains(shown.as_str()) {
            continue;
        }
        let age = crate::age(&key, &journals, now);
        let max_age = chrono::Duration::from_std(profile.max_age).unwrap_or(chrono::Duration::MAX);
        match age {
            Some(age) if age <= max_age => {
                report.add(line(&shown, Did::Fresh, format!("{} old", days(age))));
                continue;
            }
            None if profile.unknown_age == UnknownAge::Report => {
                report.add(line(
                    &shown,
                    Did::AgeUnknown,
                    "the provider gives no creation time and no rotation of this profile created it: rotate it once, or set unknown_age = \"rotate\"".into(),
                ));
                continue;
            }
            _ => {}
        }
        let why = age.map_or("age unknown".into(), |a| {
            format!("{} old, over {}", days(a), shown_duration(profile.max_age))
        });
        if dry_run {
            report.add(line(&shown, Did::WouldRotate, why));
            continue;
        }
        let outcome = rotate_one(
            profile,
            lifecycle,
            &key.id,
            key.name.as_deref(),
            &journals,
            true,
        )
        .await;
        report.add(outcome_line(profile, &shown, outcome, Did::Rotated));
    }
}

/// Rotates `old` (named `name`), or with `start` unset only goes on with
/// its journaled rotation.
async fn rotate_one(
    profile: &Profile,
    lifecycle: &dyn KeyLifecycle,
    old: &KeyId,
    name: Option<&str>,
    journals: &[Journaled],
    start: bool,
) -> Result<Option<RotationOutcome>, (u8, String)> {
    let sink = sink_for(profile, &root(&old.shown(), journals)).map_err(|e| (exit::USAGE, e))?;
    let mut options = profile.options.clone();
    if options.name_prefix.is_empty() {
        options.name_prefix = apikeys_lifecycle::successor_name(name, &profile.name);
    }
    let rotation = rotate::rotation(lifecycle, sink.as_ref(), &options, &profile.name)?;
    let outcome = match start {
        true => rotation.rotate(old).await.map(Some),
        false => rotation.finish(old).await,
    };
    outcome.map_err(|e: RotationError| (rotate::status_of(&e), e.to_string()))
}

fn outcome_line(
    profile: &Profile,
    key: &str,
    outcome: Result<Option<RotationOutcome>, (u8, String)>,
    done: Did,
) -> Line {
    let (action, new, until, detail) = match outcome {
        Ok(Some(o)) => match o.pending {
            Some(p) if done == Did::Finished => {
                (Did::Overlapping, Some(o.new), Some(p.until), p.to_string())
            }
            Some(p) => (
                Did::Rotated,
                Some(o.new.clone()),
                Some(p.until),
                format!("to {}; {p}", o.new),
            ),
            None => (
                done,
                Some(o.new.clone()),
                None,
                match done {
                    Did::Finished => format!("the old key is revoked; {} remains", o.new),
                    _ => format!("to {}; the old key is revoked", o.new),
                },
            ),
        },
        Ok(None) => (Did::Finished, None, None, "nothing journaled".into()),
        Err((code, message)) => (
            match code {
                exit::BUSY => Did::Busy,
                exit::RESUMABLE => Did::Stopped,
                _ => Did::Failed,
            },
            None,
            None,
            message,
        ),
    };
    Line {
        profile: profile.name.clone(),
        provider: profile.provider.name,
        key: key.to_owned(),
        action,
        new,
        old_live_until: until,
        detail,
    }
}

fn days(age: chrono::Duration) -> String {
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

    #[test]
    fn a_lineage_follows_rotations_and_stops() {
        let j = |old: &str, new: &str| Journaled {
            provider: "p".into(),
            old: old.into(),
            new: Some(new.into()),
            step: Step::Done,
            created_at: None,
            revoke_after: None,
        };
        let journals = [j("a", "b"), j("b", "c"), j("x", "y"), j("c", "a")];
        let wanted = lineage(&["a".into()], &journals);
        let mut wanted: Vec<String> = wanted.into_iter().collect();
        wanted.sort();
        assert_eq!(wanted, ["a", "b", "c"]);
    }
}
