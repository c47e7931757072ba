//! Personal access tokens through the provider-neutral lifecycle of
//! `apikeys-lifecycle`: list, create, verify, revoke, and so rotation.

use apikeys_lifecycle::settings::Setting;
use apikeys_lifecycle::{
    BoxFuture, CreateRequest, Credential, KeyId, KeyInfo, KeyLifecycle, LifecycleError,
    LifecycleErrorKind, NewKey, Own, Provider, Settings, Swappable, Verification, call_error,
    revoked,
};

use crate::config::{self, Key};
use crate::{Client, Configuration, FbnAuth, types};

/// The personal access tokens of the user `client` authenticates as.
#[derive(Debug, Clone)]
pub struct Keys {
    client: Swappable<Client>,
    /// Set when the client calls with a personal access token, which may
    /// be the one being rotated: its application name, kept when the
    /// client switches to a new token.
    token_app_name: Option<Option<String>>,
}

impl Keys {
    /// The tokens of `client`'s user.
    pub fn new(client: Client) -> Self {
        Self {
            client: Swappable::new(client),
            token_app_name: None,
        }
    }

    /// Says that `client` calls with a personal access token (sending
    /// `app_name`): a rotation of any token then switches to the new one
    /// once it is stored, since the API does not tell which token id a
    /// token is.
    #[must_use]
    pub fn calling_with_token(mut self, app_name: Option<String>) -> Self {
        self.token_app_name = Some(app_name);
        self
    }

    /// The tokens of the user `settings` sign in as: from the environment
    /// and `secrets.json` as [`Configuration`] reads them, or from a policy
    /// file's profile alone.
    pub fn from_settings(settings: &Settings) -> Result<Self, String> {
        let resolved = configuration(settings)?;
        let client = resolved
            .client_builder()
            .and_then(|b| b.build())
            .map_err(|e| e.to_string())?;
        let keys = Self::new(client);
        Ok(if resolved.uses_access_token() {
            keys.calling_with_token(
                resolved
                    .get(config::APP_NAME)
                    .map(|s| s.expose().to_owned()),
            )
        } else {
            keys
        })
    }
}

/// The settings of a policy file's profile, under the names of
/// `secrets.json`'s keys in snake case; `secrets_file` names a
/// `secrets.json` to read besides.
const SETTINGS: [Setting; 9] = [
    setting(
        "token_url",
        config::TOKEN_URL,
        false,
        "the OAuth2 token URL",
    ),
    setting(
        "identity_url",
        config::IDENTITY_URL,
        false,
        "the Identity base URL",
    ),
    setting(
        "username",
        config::USERNAME,
        false,
        "the user (password grant)",
    ),
    setting("password", config::PASSWORD, true, "the password"),
    setting(
        "client_id",
        config::CLIENT_ID,
        false,
        "the OAuth2 client id",
    ),
    setting(
        "client_secret",
        config::CLIENT_SECRET,
        true,
        "the OAuth2 client secret",
    ),
    setting(
        "access_token",
        config::ACCESS_TOKEN,
        true,
        "a personal access token",
    ),
    setting(
        "app_name",
        config::APP_NAME,
        false,
        "the application name sent",
    ),
    Setting {
        name: "secrets_file",
        env: "FBN_SECRETS_FILE",
        required: false,
        secret: false,
        about: "a secrets.json to read",
    },
];

const fn setting(name: &'static str, key: Key, secret: bool, about: &'static str) -> Setting {
    Setting {
        name,
        env: key.env,
        required: false,
        secret,
        about,
    }
}

/// What `settings` resolve to: the environment and `./secrets.json` as
/// [`Configuration`] reads them, or a profile's values (and the
/// `secrets_file` it names) without the environment.
fn configuration(settings: &Settings) -> Result<crate::Resolved, String> {
    let mut configuration = Configuration::new();
    if !settings.is_table() {
        if let Some(path) = settings.text(&SETTINGS[8])? {
            configuration = configuration.secrets_file(path);
        }
        return configuration.resolve().map_err(|e| e.to_string());
    }
    for s in &SETTINGS {
        let Some(value) = settings.get(s)? else {
            continue;
        };
        let value = value.expose().to_owned();
        configuration = match s.name {
            "token_url" => configuration.token_url(value),
            "identity_url" => configuration.identity_url(value),
            "username" => configuration.username(value),
            "password" => configuration.password(value),
            "client_id" => configuration.client_id(value),
            "client_secret" => configuration.client_secret(value),
            "access_token" => configuration.access_token(value),
            "app_name" => configuration.app_name(value),
            _ => configuration.secrets_file(value),
        };
    }
    configuration
        .resolve_with(|_| None)
        .map_err(|e| e.to_string())
}

/// FINBOURNE Identity as a program registers it: the settings of
/// [`Configuration`] (`FBN_*` and `secrets.json`, or a profile's
/// `identity_url`, `access_token`, …).
pub const PROVIDER: Provider = Provider {
    name: "finbourne",
    about: "FINBOURNE personal access tokens",
    settings: &SETTINGS,
    build: |settings| Ok(Box::new(Keys::from_settings(settings)?)),
    configured: Some(|settings| configuration(settings).is_ok_and(|r| r.client_builder().is_ok())),
};

fn info(
    id: String,
    name: String,
    created: Option<chrono::DateTime<chrono::Utc>>,
    expires: Option<chrono::DateTime<chrono::Utc>>,
) -> KeyInfo {
    let mut info = KeyInfo::new(KeyId::new(id));
    info.name = Some(name);
    info.created = created;
    info.expires = expires;
    info
}

impl KeyLifecycle for Keys {
    fn provider(&self) -> &'static str {
        "finbourne"
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<KeyInfo>, LifecycleError>> {
        Box::pin(async move {
            let keys = self
                .client
                .get()
                .list_own_api_keys()
                .await
                .map_err(|e| call_error("listing tokens", &e))?
                .into_inner();
            Ok(keys
                .into_iter()
                .map(|k| {
                    info(
                        k.id,
                        k.display_name,
                        Some(k.created_date),
                        k.deactivation_date,
                    )
                })
                .collect())
        })
    }

    fn create<'a>(
        &'a self,
        request: &'a CreateRequest,
    ) -> BoxFuture<'a, Result<NewKey, LifecycleError>> {
        Box::pin(async move {
            let display_name = types::CreateApiKeyDisplayName::try_from(request.name.clone())
                .map_err(|e| {
                    LifecycleError::new(LifecycleErrorKind::Api, format!("token name: {e}"))
                })?;
            let body = types::CreateApiKey {
                display_name,
                deactivation_date: request.expires,
            };
            let created = self
                .client
                .get()
                .create_api_key(&body)
                .await
                .map_err(|e| call_error("creating a token", &e))?
                .into_inner();
            let key = info(
                created.id,
                created.display_name,
                Some(created.created_date),
                created.deactivation_date,
            );
            let credential = Credential::new("finbourne", &key.id, vec![("token", created.key)]);
            Ok(NewKey {
                info: key,
                credential,
            })
        })
    }

    fn verify<'a>(
        &'a self,
        credential: &'a Credential,
    ) -> BoxFuture<'a, Result<Verification, LifecycleError>> {
        Box::pin(async move {
            let token = credential.require("token")?.clone();
            let with_new_token = FbnAuth::access_token(token, None)
                .and_then(|auth| self.client.get().with_auth(auth))
                .map_err(LifecycleError::refused)?;
            with_new_token
                .list_own_api_keys()
                .await
                .map_err(|e| call_error("listing tokens with the new token", &e))?;
            Ok(Verification::Verified)
        })
    }

    fn revoke<'a>(&'a self, id: &'a KeyId) -> BoxFuture<'a, Result<(), LifecycleError>> {
        Box::pin(async move {
            revoked(
                self.client.get().delete_api_key(id.expose()).await,
                "revoking a token",
            )
        })
    }

    fn takes_expiry(&self) -> bool {
        true
    }

    fn calls_with(&self, _id: &KeyId) -> Own {
        // A personal access token does not say which token id it is.
        match self.token_app_name {
            Some(_) => Own::Unknown,
            None => Own::No,
        }
    }

    fn adopt(&self, credential: &Credential) -> Result<(), LifecycleError> {
        let Some(app_name) = &self.token_app_name else {
            // Signed in with the password grant: no token to replace.
            return Ok(());
        };
        let token = credential.require("token")?.clone();
        let client = FbnAuth::access_token(token, app_name.clone())
            .and_then(|auth| self.client.get().with_auth(auth))
            .map_err(LifecycleError::refused)?;
        self.client.set(client);
        Ok(())
    }
}
