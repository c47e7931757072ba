//! Personal access tokens through the provider-neutral lifecycle of
//! `apikeys-lifecycle`: list, create, verify, revoke, and so rotation.

use apikeys_lifecycle::{
    BoxFuture, Credential, KeyId, KeyInfo, KeyLifecycle, LifecycleError, LifecycleErrorKind,
    NewKey, Verification, call_error, revoked,
};

use crate::{Client, FbnAuth, types};

/// The personal access tokens of the user `client` authenticates as.
#[derive(Debug, Clone)]
pub struct Keys {
    client: Client,
}

impl Keys {
    /// The tokens of `client`'s user.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

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

    fn create<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<NewKey, LifecycleError>> {
        Box::pin(async move {
            let display_name =
                types::CreateApiKeyDisplayName::try_from(name.to_owned()).map_err(|e| {
                    LifecycleError::new(LifecycleErrorKind::Api, format!("token name: {e}"))
                })?;
            let body = types::CreateApiKey {
                display_name,
                deactivation_date: None,
            };
            let created = self
                .client
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
                .and_then(|auth| self.client.with_auth(auth))
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
                self.client.delete_api_key(id.expose()).await,
                "revoking a token",
            )
        })
    }
}
