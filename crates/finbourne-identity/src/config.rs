//! Configuration from the official SDK's sources, under the official SDK's
//! names: builder values, then `FBN_*` environment variables, then a
//! `secrets.json` file.

use std::fmt;
use std::path::{Path, PathBuf};

use apikeys_runtime::{BuildError, ClientBuilder, Secret};

use crate::Client;
use crate::auth::{FbnAuth, PasswordGrant};

/// One configuration key: its builder name, environment variable and key
/// under `api` in `secrets.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    pub env: &'static str,
    pub json: &'static str,
}

pub(crate) const TOKEN_URL: Key = Key {
    env: "FBN_TOKEN_URL",
    json: "tokenUrl",
};
pub(crate) const IDENTITY_URL: Key = Key {
    env: "FBN_IDENTITY_URL",
    json: "identityUrl",
};
pub(crate) const USERNAME: Key = Key {
    env: "FBN_USERNAME",
    json: "username",
};
pub(crate) const PASSWORD: Key = Key {
    env: "FBN_PASSWORD",
    json: "password",
};
pub(crate) const CLIENT_ID: Key = Key {
    env: "FBN_CLIENT_ID",
    json: "clientId",
};
pub(crate) const CLIENT_SECRET: Key = Key {
    env: "FBN_CLIENT_SECRET",
    json: "clientSecret",
};
pub(crate) const ACCESS_TOKEN: Key = Key {
    env: "FBN_ACCESS_TOKEN",
    json: "accessToken",
};
pub(crate) const APP_NAME: Key = Key {
    env: "FBN_APP_NAME",
    json: "applicationName",
};

const ALL: [Key; 8] = [
    TOKEN_URL,
    IDENTITY_URL,
    USERNAME,
    PASSWORD,
    CLIENT_ID,
    CLIENT_SECRET,
    ACCESS_TOKEN,
    APP_NAME,
];

/// Where a client's settings come from.
///
/// Each setting is looked up in three places, first found wins:
///
/// 1. a value set on this builder;
/// 2. the environment variable (`FBN_TOKEN_URL`, `FBN_IDENTITY_URL`,
///    `FBN_USERNAME`, `FBN_PASSWORD`, `FBN_CLIENT_ID`, `FBN_CLIENT_SECRET`,
///    `FBN_ACCESS_TOKEN`, `FBN_APP_NAME`);
/// 3. `secrets.json` — `./secrets.json` unless [`Configuration::secrets_file`]
///    names another — under `api`: `tokenUrl`, `identityUrl`, `username`,
///    `password`, `clientId`, `clientSecret`, `accessToken`,
///    `applicationName`.
///
/// With an access token (from any source) the client sends it as a bearer
/// token; without one it needs the five password-grant settings. The
/// identity URL (the base URL) is always needed.
#[derive(Default, Clone)]
pub struct Configuration {
    values: Vec<(Key, Secret)>,
    secrets_file: Option<PathBuf>,
}

impl fmt::Debug for Configuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set: Vec<&str> = self.values.iter().map(|(k, _)| k.env).collect();
        f.debug_struct("Configuration")
            .field("set", &set)
            .field("secrets_file", &self.secrets_file)
            .finish()
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident => $key:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, value: impl Into<String>) -> Self {
                self.values.retain(|(k, _)| *k != $key);
                self.values.push(($key, Secret::new(value.into())));
                self
            }
        )*
    };
}

impl Configuration {
    /// Nothing set: everything comes from the environment or `secrets.json`.
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        /// The customer's OAuth2 token URL (`FBN_TOKEN_URL`).
        token_url => TOKEN_URL;
        /// The Identity service's base URL, `https://<domain>.lusid.com/identity` (`FBN_IDENTITY_URL`).
        identity_url => IDENTITY_URL;
        /// The user to sign in as (`FBN_USERNAME`).
        username => USERNAME;
        /// The user's password (`FBN_PASSWORD`).
        password => PASSWORD;
        /// The OAuth2 client id (`FBN_CLIENT_ID`).
        client_id => CLIENT_ID;
        /// The OAuth2 client secret (`FBN_CLIENT_SECRET`).
        client_secret => CLIENT_SECRET;
        /// A personal access token, used instead of the password grant (`FBN_ACCESS_TOKEN`).
        access_token => ACCESS_TOKEN;
        /// The application name sent as `X-LUSID-Application` (`FBN_APP_NAME`).
        app_name => APP_NAME;
    }

    /// Reads `path` instead of `./secrets.json`; unlike the default file, a
    /// named file must exist.
    pub fn secrets_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.secrets_file = Some(path.into());
        self
    }

    /// Resolves the settings from the builder, the process environment and
    /// `secrets.json`.
    pub fn resolve(self) -> Result<Resolved, BuildError> {
        self.resolve_with(|name| std::env::var(name).ok())
    }

    /// Resolves with `env` standing in for the process environment.
    pub fn resolve_with(
        self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Resolved, BuildError> {
        let file = match &self.secrets_file {
            Some(path) => Some(read_secrets(path)?),
            None => {
                let default = Path::new("secrets.json");
                if default.is_file() {
                    Some(read_secrets(default)?)
                } else {
                    None
                }
            }
        };
        // A setting of the wrong type is named, not silently skipped (the
        // error would otherwise ask for settings the file seems to have).
        if let Some(file) = &file {
            for key in ALL {
                let kind = match file.get(key.json) {
                    None | Some(serde_json::Value::Null | serde_json::Value::String(_)) => continue,
                    Some(serde_json::Value::Number(_)) => "a number",
                    Some(serde_json::Value::Bool(_)) => "a boolean",
                    Some(serde_json::Value::Array(_)) => "a list",
                    Some(serde_json::Value::Object(_)) => "an object",
                };
                return Err(BuildError::Config(format!(
                    "api.{} in secrets.json is {kind}: write it as a string, in quotes",
                    key.json
                )));
            }
        }
        let lookup = |key: Key| -> Option<Secret> {
            self.values
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
                .or_else(|| env(key.env).filter(|v| !v.is_empty()).map(Secret::new))
                .or_else(|| {
                    file.as_ref()
                        .and_then(|f| f.get(key.json))
                        .and_then(|v| v.as_str())
                        .filter(|v| !v.is_empty())
                        .map(Secret::new)
                })
        };
        let mut values = Vec::new();
        for key in ALL {
            if let Some(v) = lookup(key) {
                values.push((key, v));
            }
        }
        Ok(Resolved { values })
    }

    /// Resolves the settings and returns a [`ClientBuilder`] with the base
    /// URL and credentials set, for timeouts or a retry policy to be added.
    pub fn client_builder(self) -> Result<ClientBuilder<Client>, BuildError> {
        self.resolve()?.client_builder()
    }

    /// Resolves the settings and builds a client with the default timeouts
    /// and retry policy.
    pub fn build(self) -> Result<Client, BuildError> {
        self.client_builder()?.build()
    }
}

/// Reads the `api` object of a `secrets.json` file.
fn read_secrets(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>, BuildError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BuildError::Config(format!("cannot read {}: {e}", path.display())))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        BuildError::Config(format!(
            "{} is not valid JSON (line {}, column {}): {}",
            path.display(),
            e.line(),
            e.column(),
            classify(&e)
        ))
    })?;
    match doc.get("api") {
        Some(serde_json::Value::Object(api)) => Ok(api.clone()),
        _ => Err(BuildError::Config(format!(
            "{} has no \"api\" object (expected {{\"api\": {{\"tokenUrl\": …, …}}}})",
            path.display()
        ))),
    }
}

/// serde_json's message without the text it quotes (which could be a secret).
fn classify(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Eof => "the file ends too early",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected value",
        serde_json::error::Category::Io => "read error",
    }
}

/// Settings after resolution; ready to make a client.
#[derive(Clone)]
pub struct Resolved {
    values: Vec<(Key, Secret)>,
}

impl fmt::Debug for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set: Vec<&str> = self.values.iter().map(|(k, _)| k.env).collect();
        f.debug_struct("Resolved").field("set", &set).finish()
    }
}

impl Resolved {
    pub(crate) fn get(&self, key: Key) -> Option<&Secret> {
        self.values.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    fn require(&self, key: Key) -> Result<&Secret, BuildError> {
        self.get(key).ok_or_else(|| missing(&[key], false))
    }

    /// The base URL the settings name.
    pub fn identity_url(&self) -> Option<&str> {
        self.get(IDENTITY_URL).map(Secret::expose)
    }

    /// Whether a personal access token will be used (rather than the
    /// password grant).
    pub fn uses_access_token(&self) -> bool {
        self.get(ACCESS_TOKEN).is_some()
    }

    /// The credentials these settings describe.
    pub fn auth(&self) -> Result<FbnAuth, BuildError> {
        let app_name = self.get(APP_NAME).map(|s| s.expose().to_owned());
        if let Some(token) = self.get(ACCESS_TOKEN) {
            return Ok(FbnAuth::access_token(token.clone(), app_name)?);
        }
        let needed = [TOKEN_URL, USERNAME, PASSWORD, CLIENT_ID, CLIENT_SECRET];
        let absent: Vec<Key> = needed
            .into_iter()
            .filter(|k| self.get(*k).is_none())
            .collect();
        if !absent.is_empty() {
            return Err(missing(&absent, true));
        }
        let grant = PasswordGrant {
            token_url: self.require(TOKEN_URL)?.expose().to_owned(),
            username: self.require(USERNAME)?.clone(),
            password: self.require(PASSWORD)?.clone(),
            client_id: self.require(CLIENT_ID)?.clone(),
            client_secret: self.require(CLIENT_SECRET)?.clone(),
        };
        Ok(FbnAuth::password_grant(grant, app_name)?)
    }

    /// A [`ClientBuilder`] with the base URL and credentials set.
    pub fn client_builder(&self) -> Result<ClientBuilder<Client>, BuildError> {
        let base = self.require(IDENTITY_URL)?.expose().to_owned();
        Ok(Client::builder().base_url(base).auth(self.auth()?))
    }
}

fn missing(keys: &[Key], for_grant: bool) -> BuildError {
    let names: Vec<String> = keys
        .iter()
        .map(|k| format!("{} (or api.{} in secrets.json)", k.env, k.json))
        .collect();
    BuildError::Config(format!(
        "missing setting{}: {}; set {} on Configuration, in the environment, or in secrets.json{}",
        if keys.len() > 1 { "s" } else { "" },
        names.join(", "),
        if keys.len() > 1 { "them" } else { "it" },
        if for_grant {
            ", or give an access token (FBN_ACCESS_TOKEN) instead"
        } else {
            ""
        },
    ))
}
