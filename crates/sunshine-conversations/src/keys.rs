//! Custom integration keys through the provider-neutral lifecycle of
//! `apikeys-lifecycle`: list, create, verify, revoke, and so rotation.

use apikeys_lifecycle::{
    BoxFuture, Credential, KeyId, KeyInfo, KeyLifecycle, LifecycleError, LifecycleErrorKind,
    NewKey, Verification, call_error, revoked,
};

use crate::{Client, basic_auth, types};

/// The custom integration keys of one integration of one app.
#[derive(Debug, Clone)]
pub struct Keys {
    client: Client,
    app_id: String,
    integration_id: String,
}

impl Keys {
    /// The keys of `integration_id` in `app_id`, managed with `client`'s
    /// credentials.
    pub fn new(
        client: Client,
        app_id: impl Into<String>,
        integration_id: impl Into<String>,
    ) -> Self {
        Self {
            client,
            app_id: app_id.into(),
            integration_id: integration_id.into(),
        }
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

    fn create<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<NewKey, LifecycleError>> {
        Box::pin(async move {
            let display_name = types::IntegrationApiKeyDisplayName::try_from(name.to_owned())
                .map_err(|e| {
                    LifecycleError::new(LifecycleErrorKind::Api, format!("key name: {e}"))
                })?;
            let body = types::IntegrationApiKey { display_name };
            let key = self
                .client
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
                .and_then(|auth| self.client.with_auth(auth))
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
                .delete_custom_integration_key(&self.app_id, &self.integration_id, id.expose())
                .await;
            revoked(result, "revoking a key")
        })
    }
}
