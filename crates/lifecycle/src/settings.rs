//! How a program configures a provider without knowing it: each provider
//! crate describes its settings and builds its own lifecycle from them
//! ([`Provider`]); a program lists the providers it offers, one line each,
//! and hands them [`Settings`] read from the environment or from one
//! profile of a policy file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::{KeyLifecycle, Secret};

/// One setting a provider reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// Its name in a policy file's profile (`app_id`).
    pub name: &'static str,
    /// The environment variable read without a policy file
    /// (`SUNSHINE_APP_ID`).
    pub env: &'static str,
    /// Whether the provider cannot work without it.
    pub required: bool,
    /// Whether it is a credential: a policy file should give it as
    /// `{ env = "VAR" }` or `{ file = "PATH" }`, not as text.
    pub secret: bool,
    /// What it is, in a few words.
    pub about: &'static str,
}

/// A provider, as its crate registers it for programs such as the
/// `apikeys` CLI.
#[derive(Clone, Copy)]
pub struct Provider {
    /// Its short name on the command line and in policy files
    /// (`sunshine`).
    pub name: &'static str,
    /// What its keys are, in a few words.
    pub about: &'static str,
    /// The settings it reads.
    pub settings: &'static [Setting],
    /// Builds its lifecycle from `settings`; the error says what is
    /// missing or wrong (never a secret).
    pub build: fn(&Settings) -> Result<Box<dyn KeyLifecycle>, String>,
    /// Whether `settings` configure it (by default: every required setting
    /// is given).
    pub configured: Option<fn(&Settings) -> bool>,
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .finish()
    }
}

impl Provider {
    /// Whether `settings` configure this provider.
    pub fn is_configured(&self, settings: &Settings) -> bool {
        match self.configured {
            Some(f) => f(settings),
            None => self
                .settings
                .iter()
                .filter(|s| s.required)
                .all(|s| matches!(settings.get(s), Ok(Some(_)))),
        }
    }

    /// Its lifecycle, built from `settings`; a missing required setting is
    /// named, with where it was looked for.
    pub fn lifecycle(&self, settings: &Settings) -> Result<Box<dyn KeyLifecycle>, String> {
        let mut missing = Vec::new();
        for s in self.settings.iter().filter(|s| s.required) {
            if settings.get(s)?.is_none() {
                missing.push(settings.where_(s));
            }
        }
        if !missing.is_empty() {
            return Err(format!(
                "{} is not configured: set {}",
                self.name,
                missing.join(", ")
            ));
        }
        (self.build)(settings).map_err(|e| format!("{}: {e}", self.name))
    }
}

/// Where one setting's value comes from, in a policy file.
#[derive(Clone, PartialEq, Eq)]
pub enum Source {
    /// The value itself.
    Text(String),
    /// An environment variable.
    Env(String),
    /// A file's content, without its trailing newline.
    File(PathBuf),
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(_) => f.write_str("Text(..)"),
            Self::Env(name) => write!(f, "Env({name})"),
            Self::File(path) => write!(f, "File({})", path.display()),
        }
    }
}

/// The values a provider is configured with: the environment (each
/// setting's variable), or one profile's table of a policy file, where
/// nothing falls back to the environment unless the profile says so
/// (`{ env = "VAR" }`), so that two profiles of one provider never mix.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    table: Option<BTreeMap<String, Source>>,
}

impl Settings {
    /// Every setting from its environment variable.
    pub fn from_env() -> Self {
        Self { table: None }
    }

    /// Every setting from `table` (a policy file's profile).
    pub fn from_table(table: BTreeMap<String, Source>) -> Self {
        Self { table: Some(table) }
    }

    /// Whether the values come from a policy file rather than the
    /// environment.
    pub fn is_table(&self) -> bool {
        self.table.is_some()
    }

    /// The value of `setting`, if given (an empty value counts as not
    /// given); an environment variable or file a profile names that cannot
    /// be read is an error.
    pub fn get(&self, setting: &Setting) -> Result<Option<Secret>, String> {
        let value = match &self.table {
            None => std::env::var(setting.env).ok(),
            Some(table) => match table.get(setting.name) {
                None => None,
                Some(Source::Text(text)) => Some(text.clone()),
                Some(Source::Env(name)) => Some(std::env::var(name).map_err(|_| {
                    format!(
                        "`{}` names the variable {name}, which is not set",
                        setting.name
                    )
                })?),
                Some(Source::File(path)) => Some(
                    std::fs::read_to_string(path)
                        .map_err(|e| format!("`{}`: {}: {e}", setting.name, path.display()))?
                        .trim_end_matches(['\r', '\n'])
                        .to_owned(),
                ),
            },
        };
        Ok(value.filter(|v| !v.is_empty()).map(Secret::new))
    }

    /// The value of `setting`, or an error naming where it was looked for.
    pub fn require(&self, setting: &Setting) -> Result<Secret, String> {
        self.get(setting)?
            .ok_or_else(|| format!("{} is not set", self.where_(setting)))
    }

    /// The value of `setting` as plain text (ids, URLs): for settings that
    /// are not secrets.
    pub fn text(&self, setting: &Setting) -> Result<Option<String>, String> {
        Ok(self.get(setting)?.map(|s| s.expose().to_owned()))
    }

    /// Where `setting` is looked for: its variable, or its profile key.
    pub fn where_(&self, setting: &Setting) -> String {
        match self.table {
            None => setting.env.to_owned(),
            Some(_) => format!("`{}`", setting.name),
        }
    }

    /// Names in the profile that no setting of `provider` reads: typos a
    /// policy file should not hide.
    pub fn unknown(&self, provider: &Provider) -> Vec<String> {
        self.table
            .iter()
            .flat_map(|t| t.keys())
            .filter(|k| !provider.settings.iter().any(|s| s.name == k.as_str()))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: Setting = Setting {
        name: "app_id",
        env: "APIKEYS_SETTINGS_TEST_APP_ID",
        required: true,
        secret: false,
        about: "the app",
    };

    #[test]
    fn a_profile_never_falls_back_to_the_environment() {
        // SAFETY: this test alone sets the variable, before any thread
        // reads it.
        unsafe { std::env::set_var("APIKEYS_SETTINGS_TEST_APP_ID", "from-env") };
        let env = Settings::from_env();
        assert_eq!(env.text(&ID).unwrap().as_deref(), Some("from-env"));
        let empty = Settings::from_table(BTreeMap::new());
        assert_eq!(empty.text(&ID).unwrap(), None);
        assert_eq!(empty.require(&ID).unwrap_err(), "`app_id` is not set");
        let named = Settings::from_table(BTreeMap::from([(
            "app_id".to_owned(),
            Source::Env("APIKEYS_SETTINGS_TEST_APP_ID".into()),
        )]));
        assert_eq!(named.text(&ID).unwrap().as_deref(), Some("from-env"));
        let missing = Settings::from_table(BTreeMap::from([(
            "app_id".to_owned(),
            Source::Env("APIKEYS_SETTINGS_TEST_UNSET".into()),
        )]));
        assert!(missing.get(&ID).unwrap_err().contains("not set"));
        let text = Settings::from_table(BTreeMap::from([(
            "app_id".to_owned(),
            Source::Text("s3cr3t".into()),
        )]));
        assert!(!format!("{text:?}").contains("s3cr3t"));
    }
}
