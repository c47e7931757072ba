//! User access keys through the provider-neutral lifecycle of
//! `apikeys-lifecycle`: list, create (with its secret), verify, revoke,
//! and so rotation.
//!
//! CartoVista names a key by the key itself (the `apiKey` header value is
//! the id in the delete path), so ids are [`KeyId::secret`]: shown and
//! journaled only as fingerprints. The key's `notes` carry its name.

use apikeys_lifecycle::{
    BoxFuture, Credential, KeyId, KeyInfo, KeyLifecycle, LifecycleError, LifecycleErrorKind,
    NewKey, Verification, call_error, revoked,
};
use apikeys_runtime::de::Lenient;
use apikeys_runtime::deps::chrono::{DateTime, Utc};

use crate::{Client, TenantUser, credentials, types};

/// The access keys of one user of one tenant.
#[derive(Debug, Clone)]
pub struct Keys {
    client: Client,
    tenant: String,
    user: String,
}

impl Keys {
    /// The keys of `user` in `tenant`, managed with `client`'s credentials.
    pub fn new(client: Client, tenant: impl Into<String>, user: impl Into<String>) -> Self {
        Self {
            client,
            tenant: tenant.into(),
            user: user.into(),
        }
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
                .user(&self.client)
                .get_access_keys()
                .await
                .map_err(|e| call_error("listing keys", &e))?
                .into_inner();
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

    fn create<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<NewKey, LifecycleError>> {
        Box::pin(async move {
            let user = self.user(&self.client);
            let body = types::CreateApiKeyParameter {
                ip_whitelisting: None,
                notes: Some(name.to_owned()),
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
            let credential = Credential::new(
                "cartovista",
                &id,
                vec![("api_key", api_key), ("secret_key", secret)],
            );
            Ok(NewKey { info, credential })
        })
    }

    fn verify<'a>(
        &'a self,
        credential: &'a Credential,
    ) -> BoxFuture<'a, Result<Verification, LifecycleError>> {
        Box::pin(async move {
            let api_key = credential.require("api_key")?.clone();
            let secret = credential.require("secret_key")?.clone();
            let with_new_key = credentials(api_key, Some(secret))
                .and_then(|auth| self.client.with_auth(auth))
                .map_err(LifecycleError::refused)?;
            self.user(&with_new_key)
                .get_access_keys()
                .await
                .map_err(|e| call_error("listing keys with the new key", &e))?;
            Ok(Verification::Verified)
        })
    }

    fn revoke<'a>(&'a self, id: &'a KeyId) -> BoxFuture<'a, Result<(), LifecycleError>> {
        Box::pin(async move {
            let result = self
                .user(&self.client)
                .tenant()
                .delete_api_key(id.expose())
                .await;
            revoked(result, "revoking a key")
        })
    }
}
