//! User access keys through the provider-neutral lifecycle of
//! `apikeys-lifecycle`: list, create (with its secret), verify, revoke,
//! and so rotation.
//!
//! CartoVista names a key by the key itself (the `apiKey` header value is
//! the id in the delete path), so ids are [`KeyId::secret`]: shown and
//! journaled only as fingerprints. The key's `notes` carry its name.
//!
//! The key model has two forms of the key, `accessKey` and
//! `accessKeyString`, and the provider does not say which one the `apiKey`
//! header takes. A new key's credentials carry `accessKey` as `api_key`;
//! [`KeyLifecycle::settle`] makes one call with it and, if that is refused
//! while `accessKeyString` differs, one with the other form, and stores the
//! form that authenticated. `accessKey` stays the key's id in paths.

use apikeys_lifecycle::settings::Setting;
use apikeys_lifecycle::{
    BoxFuture, CreateRequest, Credential, KeyId, KeyInfo, KeyLifecycle, LifecycleError,
    LifecycleErrorKind, NewKey, Own, Provider, Secret, Settings, Swappable, Verification,
    call_error, revoked,
};
use apikeys_runtime::de::Lenient;
use apikeys_runtime::deps::chrono::{DateTime, Utc};

use crate::{Client, TenantUser, credentials, types};

/// The access keys of one user of one tenant.
#[derive(Debug, Clone)]
pub struct Keys {
    client: Swappable<Client>,
    tenant: String,
    user: String,
    own_api_key: Option<Secret>,
    /// The id (`accessKey`) of the key the tool calls with, when a list
    /// showed that its `apiKey` is that key's `accessKeyString`.
    own_id: Swappable<Option<Secret>>,
}

const API_KEY: Setting = Setting {
    name: "api_key",
    env: "CARTOVISTA_API_KEY",
    required: true,
    secret: true,
    about: "the access key the tool calls with",
};
const SECRET_KEY: Setting = Setting {
    name: "secret_key",
    env: "CARTOVISTA_SECRET_KEY",
    required: false,
    secret: true,
    about: "its secret, once it has one",
};
const TENANT: Setting = Setting {
    name: "tenant",
    env: "CARTOVISTA_TENANT",
    required: true,
    secret: false,
    about: "the tenant",
};
const USER: Setting = Setting {
    name: "user",
    env: "CARTOVISTA_USER",
    required: true,
    secret: false,
    about: "the user whose keys are managed",
};
const BASE_URL: Setting = Setting {
    name: "base_url",
    env: "CARTOVISTA_BASE_URL",
    required: false,
    secret: false,
    about: "the service's base URL",
};

/// CartoVista as a program registers it: settings `api_key`, `secret_key`,
/// `tenant`, `user` and `base_url` (`CARTOVISTA_*` in the environment).
pub const PROVIDER: Provider = Provider {
    name: "cartovista",
    about: "CartoVista user access keys",
    settings: &[API_KEY, SECRET_KEY, TENANT, USER, BASE_URL],
    build: |settings| Ok(Box::new(Keys::from_settings(settings)?)),
    configured: None,
};

impl Keys {
    /// The keys of `user` in `tenant`, managed with `client`'s credentials.
    pub fn new(client: Client, tenant: impl Into<String>, user: impl Into<String>) -> Self {
        Self {
            client: Swappable::new(client),
            tenant: tenant.into(),
            user: user.into(),
            own_api_key: None,
            own_id: Swappable::new(None),
        }
    }

    /// Says that `client` calls with access key `api_key`, so that a
    /// rotation of that key switches to the new one.
    #[must_use]
    pub fn calling_as(mut self, api_key: impl Into<Secret>) -> Self {
        self.own_api_key = Some(api_key.into());
        self
    }

    /// The keys `settings` name, called with the key they give.
    pub fn from_settings(settings: &Settings) -> Result<Self, String> {
        let api_key = settings.require(&API_KEY)?;
        let client = Client::builder()
            .base_url(
                settings
                    .text(&BASE_URL)?
                    .unwrap_or_else(|| "https://cloud.cartovista.com".into()),
            )
            .auth(
                credentials(api_key.clone(), settings.get(&SECRET_KEY)?)
                    .map_err(|e| e.to_string())?,
            )
            .build()
            .map_err(|e| e.to_string())?;
        let text = |s: &Setting| settings.text(s).map(Option::unwrap_or_default);
        Ok(Self::new(client, text(&TENANT)?, text(&USER)?).calling_as(api_key))
    }

    /// One authenticated call (listing keys) with `api_key` and `secret`.
    async fn lists_with(&self, api_key: &Secret, secret: &Secret) -> Result<(), LifecycleError> {
        let with_new_key = credentials(api_key.clone(), Some(secret.clone()))
            .and_then(|auth| self.client.get().with_auth(auth))
            .map_err(LifecycleError::refused)?;
        self.user(&with_new_key)
            .get_access_keys()
            .await
            .map_err(|e| call_error("listing keys with the new key", &e))?;
        Ok(())
    }

    fn user(&self, client: &Client) -> TenantUser {
        client.tenant(self.tenant.clone()).user(self.user.clone())
    }
}

/// CartoVista writes times with or without an offset (without one, UTC):
/// read as the runtime reads every date-time field.
fn time(text: Option<&str>) -> Option<DateTime<Utc>> {
    text.and_then(<DateTime<Utc> as Lenient>::from_str)
}

impl KeyLifecycle for Keys {
    fn provider(&self) -> &'static str {
        "cartovista"
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<KeyInfo>, LifecycleError>> {
        Box::pin(async move {
            let keys = self
                .user(&self.client.get())
                .get_access_keys()
                .await
                .map_err(|e| call_error("listing keys", &e))?
                .into_inner();
            let own = self.own_api_key.as_ref().map(Secret::expose);
            if let Some(k) = keys
                .iter()
                .find(|k| k.access_key_string.as_ref().map(Secret::expose) == own && own.is_some())
            {
                self.own_id.set(k.access_key.clone());
            }
            Ok(keys
                .into_iter()
                .filter_map(|k| {
                    let mut info = KeyInfo::new(KeyId::secret(k.access_key?.expose()));
                    info.name = k.notes;
                    info.created = time(k.creation_time.as_deref());
                    info.last_used = time(k.last_used_time.as_deref());
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
            let user = self.user(&self.client.get());
            let body = types::CreateApiKeyParameter {
                ip_whitelisting: None,
                notes: Some(request.name.clone()),
            };
            let created = user
                .create_access_key(&body)
                .await
                .map_err(|e| call_error("creating a key", &e))?
                .into_inner();
            let api_key = created.access_key.ok_or_else(|| {
                LifecycleError::new(
                    LifecycleErrorKind::Api,
                    "the new key's answer carried no key",
                )
            })?;
            // The secret half is made by a second call; a crash between the
            // two leaves a key that resume finds by its name and revokes.
            let secret = user
                .tenant()
                .generate_secret_key(api_key.expose())
                .await
                .map_err(|e| call_error("generating the new key's secret", &e))?
                .into_inner();
            let id = KeyId::secret(api_key.expose());
            let mut info = KeyInfo::new(id.clone());
            info.name = created.notes;
            info.created = time(created.creation_time.as_deref());
            let mut parts = vec![("api_key", api_key.clone()), ("secret_key", secret)];
            // The second form, where it differs, for `settle` to try.
            if let Some(other) = created
                .access_key_string
                .filter(|s| !s.expose().is_empty() && s.expose() != api_key.expose())
            {
                parts.push(("api_key_string", other));
            }
            let credential = Credential::new("cartovista", &id, parts);
            Ok(NewKey { info, credential })
        })
    }

    fn settle<'a>(
        &'a self,
        _id: Option<&'a KeyId>,
        credential: &'a Credential,
    ) -> BoxFuture<'a, Result<Option<Credential>, LifecycleError>> {
        Box::pin(async move {
            let Some(other) = credential.part("api_key_string") else {
                return Ok(None);
            };
            let secret = credential.require("secret_key")?;
            match self
                .lists_with(credential.require("api_key")?, secret)
                .await
            {
                // `accessKey` authenticates: the other form is not needed.
                Ok(()) => {}
                Err(e) if e.kind == LifecycleErrorKind::Refused => {
                    // The header takes the other form, if anything.
                    self.lists_with(other, secret).await?;
                    let parts = vec![("api_key", other.clone()), ("secret_key", secret.clone())];
                    return Ok(Some(credential.with_parts(parts)));
                }
                Err(e) => return Err(e),
            }
            let mut kept = credential.clone();
            kept.parts.retain(|(n, _)| n != "api_key_string");
            Ok(Some(kept))
        })
    }

    fn verify<'a>(
        &'a self,
        credential: &'a Credential,
    ) -> BoxFuture<'a, Result<Verification, LifecycleError>> {
        Box::pin(async move {
            self.lists_with(
                credential.require("api_key")?,
                credential.require("secret_key")?,
            )
            .await?;
            Ok(Verification::Verified)
        })
    }

    fn revoke<'a>(&'a self, id: &'a KeyId) -> BoxFuture<'a, Result<(), LifecycleError>> {
        Box::pin(async move {
            let result = self
                .user(&self.client.get())
                .tenant()
                .delete_api_key(id.expose())
                .await;
            revoked(result, "revoking a key")
        })
    }

    fn reports_last_use(&self) -> bool {
        true
    }

    fn calls_with(&self, id: &KeyId) -> Own {
        let own = [self.own_api_key.clone(), self.own_id.get()];
        match own.iter().flatten().any(|own| own.expose() == id.expose()) {
            true => Own::Yes,
            false => Own::No,
        }
    }

    fn adopt(&self, credential: &Credential) -> Result<(), LifecycleError> {
        let api_key = credential.require("api_key")?.clone();
        let secret = credential.require("secret_key")?.clone();
        let client = credentials(api_key, Some(secret))
            .and_then(|auth| self.client.get().with_auth(auth))
            .map_err(LifecycleError::refused)?;
        self.client.set(client);
        Ok(())
    }
}
