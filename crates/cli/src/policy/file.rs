//! The policy file: what it may say, and the checks that turn it into
//! [`Profile`]s before anything runs.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use apikeys_lifecycle::settings::Source;
use apikeys_lifecycle::{Provider, Settings, StateStore};
use serde::Deserialize;

use crate::common::{Failure, exit, parse_sink};
use crate::{providers, rotate};

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
pub(super) enum UnknownAge {
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
pub(super) struct Profile {
    pub(super) name: String,
    pub(super) provider: &'static Provider,
    pub(super) keys: Vec<String>,
    pub(super) select: Option<String>,
    pub(super) settings: Settings,
    /// The sink, where `{key}` stands for the key's lineage.
    pub(super) sink: String,
    pub(super) max_age: Duration,
    pub(super) unknown_age: UnknownAge,
    pub(super) options: rotate::Options,
}

/// Reads and checks a policy file; every mistake is reported before
/// anything runs.
pub(super) async fn load(path: &Path) -> Result<Vec<Profile>, Failure> {
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
