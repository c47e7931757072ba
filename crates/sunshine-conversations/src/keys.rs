//! Custom integration keys through the provider-neutral lifecycle of
//! `apikeys-lifecycle`: list, create, verify, revoke, and so rotation.

use apikeys_lifecycle::settings::Setting;
use apikeys_lifecycle::{
    BoxFuture, CreateRequest, Credential, KeyId, KeyInfo, KeyLifecycle, LifecycleError,
    LifecycleErrorKind, NewKey, Own, Provider, Settings, Swappable, Verification, call_error,
    revoked,
};

use crate::{Client, basic_auth, types};

/// The custom integration keys of one integration of one app.
#[derive(Debug, Clone)]
pub struct Keys {
    client: Swappable<Client>,
    app_id: String,
    integration_id: String,
    own_key_id: Option<String>,
}

const KEY_ID: Setting = Setting {
    name: "key_id",
    env: "SUNSHINE_KEY_ID",
    required: true,
    secret: false,
    about: "the id of the key the tool calls with",
};
const KEY_SECRET: Setting = Setting {
    name: "key_secret",
    env: "SUNSHINE_KEY_SECRET",
    required: true,
    secret: true,
    about: "its secret",
};
const APP_ID: Setting = Setting {
    name: "app_id",
    env: "SUNSHINE_APP_ID",
    required: true,
    secret: false,
    about: "the app",
};
const INTEGRATION_ID: Setting = Setting {
    name: "integration_id",
    env: "SUNSHINE_INTEGRATION_ID",
    required: true,
    secret: false,
    about: "the custom integration whose keys are managed",
};
const BASE_URL: Setting = Setting {
    name: "base_url",
    env: "SUNSHINE_BASE_URL",
    required: false,
    secret: false,
    about: "the API's base URL (the US region by default)",
};

/// Sunshine Conversations as a program registers it: settings
/// `key_id`, `key_secret`, `app_id`, `integration_id` and `base_url`
/// (`SUNSHINE_*` in the environment).
pub const PROVIDER: Provider = Provider {
    name: "sunshine",
    about: "Sunshine Conversations custom integration keys",
    settings: &[KEY_ID, KEY_SECRET, APP_ID, INTEGRATION_ID, BASE_URL],
    build: |settings| Ok(Box::new(Keys::from_settings(settings)?)),
    configured: None,
};

impl Keys {
    /// The keys of `integration_id` in `app_id`, managed with `client`'s
    /// credentials.
    pub fn new(
        client: Client,
        app_id: impl Into<String>,
        integration_id: impl Into<String>,
    ) -> Self {
        Self {
            client: Swappable::new(client),
            app_id: app_id.into(),
            integration_id: integration_id.into(),
            own_key_id: None,
        }
    }

    /// Says that `client` authenticates with key `key_id`, so that a
    /// rotation of that key switches to the new one ([`KeyLifecycle::adopt`]).
    #[must_use]
    pub fn calling_as(mut self, key_id: impl Into<String>) -> Self {
        self.own_key_id = Some(key_id.into());
        self
    }

    /// The keys `settings` name, called with the key they give (HTTP
    /// Basic).
    pub fn from_settings(settings: &Settings) -> Result<Self, String> {
        let text = |s: &Setting| settings.text(s).map(Option::unwrap_or_default);
        let key_id = text(&KEY_ID)?;
        let auth =
            basic_auth(&key_id, settings.require(&KEY_SECRET)?).map_err(|e| e.to_string())?;
        let client = Client::builder()
            .base_url(
                settings
                    .text(&BASE_URL)?
                    .unwrap_or_else(|| crate::US.into()),
            )
            .auth(auth)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self::new(client, text(&APP_ID)?, text(&INTEGRATION_ID)?).calling_as(key_id))
    }
}

impl KeyLifecycle for Keys {
    fn provider(&self) -> &'static str {
        "sunshine"
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<KeyInfo>, LifecycleError>> {
        Box::pin(async move {
            let answer = self
                .client
                .get()
                .list_custom_integration_keys(&self.app_id, &self.integration_id)
                .await
                .map_err(|e| call_error("listing keys", &e))?;
            Ok(answer
                .into_inner()
                .keys
                .into_iter()
                .filter_map(|k| {
                    let mut info = KeyInfo::new(KeyId::new(k.id?));
                    info.name = k.display_name;
                    Some(info)
                })
                .collect())
        })
    }

    fn create<'a>(
        &'a self,
        request: &'a CreateRequest,
    ) -> BoxFuture<'a, Result<NewKey, LifecycleError>> {
        Box::pin(async move {
            let display_name = types::IntegrationApiKeyDisplayName::try_from(request.name.clone())
                .map_err(|e| {
                    LifecycleError::new(LifecycleErrorKind::Api, format!("key name: {e}"))
                })?;
            let body = types::IntegrationApiKey { display_name };
            let key = self
                .client
                .get()
                .create_custom_integration_key(&self.app_id, &self.integration_id, &body)
                .await
                .map_err(|e| call_error("creating a key", &e))?
                .into_inner()
                .key;
            let (Some(id), Some(secret)) = key
                .as_ref()
                .map_or((None, None), |k| (k.id.clone(), k.secret.clone()))
            else {
                return Err(LifecycleError::new(
                    LifecycleErrorKind::Api,
                    "the new key's answer carried no id or no secret",
                ));
            };
            let id = KeyId::new(id);
            let mut info = KeyInfo::new(id.clone());
            info.name = key.and_then(|k| k.display_name);
            let credential = Credential::new(
                "sunshine",
                &id,
                vec![("key_id", id.expose().into()), ("secret", secret)],
            );
            Ok(NewKey { info, credential })
        })
    }

    fn verify<'a>(
        &'a self,
        credential: &'a Credential,
    ) -> BoxFuture<'a, Result<Verification, LifecycleError>> {
        Box::pin(async move {
            let key_id = credential.require("key_id")?;
            let secret = credential.require("secret")?.clone();
            let with_new_key = basic_auth(key_id.expose(), secret)
                .and_then(|auth| self.client.get().with_auth(auth))
                .map_err(LifecycleError::refused)?;
            with_new_key
                .get_custom_integration_key(&self.app_id, &self.integration_id, key_id.expose())
                .await
                .map_err(|e| call_error("reading the new key with itself", &e))?;
            Ok(Verification::Verified)
        })
    }

    fn revoke<'a>(&'a self, id: &'a KeyId) -> BoxFuture<'a, Result<(), LifecycleError>> {
        Box::pin(async move {
            let result = self
                .client
                .get()
                .delete_custom_integration_key(&self.app_id, &self.integration_id, id.expose())
                .await;
            revoked(result, "revoking a key")
        })
    }

    fn calls_with(&self, id: &KeyId) -> Own {
        match &self.own_key_id {
            Some(own) if own == id.expose() => Own::Yes,
            _ => Own::No,
        }
    }

    fn adopt(&self, credential: &Credential) -> Result<(), LifecycleError> {
        let key_id = credential.require("key_id")?;
        let secret = credential.require("secret")?.clone();
        let client = basic_auth(key_id.expose(), secret)
            .and_then(|auth| self.client.get().with_auth(auth))
            .map_err(LifecycleError::refused)?;
        self.client.set(client);
        Ok(())
    }
}
