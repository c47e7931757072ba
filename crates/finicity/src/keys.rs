//! Third-party access keys through the provider-neutral lifecycle of
//! `apikeys-lifecycle`: create (generate) and revoke, and so rotation.
//!
//! What the API does not allow, and how it is handled:
//! - **no list**: [`KeyLifecycle::list`] is `Unsupported`; a rotation knows
//!   its keys from its journal only;
//! - **no names**: a receipt generated in the instant before the journal
//!   records it cannot be found again (nothing to search by): the one
//!   window in which a rotation can leave a live receipt behind;
//! - **no verification**: no call authenticates with a receipt, so
//!   [`KeyLifecycle::verify`] answers `NotPossible`; a rotation revokes the
//!   old receipt only when told to accept that (`accept_unverifiable`).

use apikeys_lifecycle::{
    BoxFuture, Credential, KeyId, KeyInfo, KeyLifecycle, LifecycleError, LifecycleErrorKind,
    NewKey, Secret, Verification, call_error, revoked,
};

use crate::{Client, types};

/// Third-party access keys generated from one template (customer, partner,
/// third party, products).
#[derive(Debug, Clone)]
pub struct Keys {
    client: Client,
    template: types::ThirdPartyAccessKeyData,
}

impl Keys {
    /// Keys generated with `template`, managed with `client`.
    pub fn new(client: Client, template: types::ThirdPartyAccessKeyData) -> Self {
        Self { client, template }
    }
}

impl KeyLifecycle for Keys {
    fn provider(&self) -> &'static str {
        "finicity"
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<KeyInfo>, LifecycleError>> {
        Box::pin(async {
            Err(LifecycleError::new(
                LifecycleErrorKind::Unsupported,
                "Finicity has no call that lists third-party access keys",
            ))
        })
    }

    fn create<'a>(&'a self, _name: &'a str) -> BoxFuture<'a, Result<NewKey, LifecycleError>> {
        Box::pin(async move {
            let answer = self
                .client
                .generate_third_party_access_key(&self.template)
                .await
                .map_err(|e| call_error("generating a third-party access key", &e))?
                .into_inner();
            let first = answer.data.first();
            let id = first
                .and_then(|d| d.receipt.as_ref())
                .and_then(|r| r.receipt_id.clone())
                .ok_or_else(|| {
                    LifecycleError::new(LifecycleErrorKind::Api, "the answer carried no receipt id")
                })?;
            let mut info = KeyInfo::new(KeyId::new(id));
            info.created = first
                .and_then(|d| d.receipt.as_ref())
                .and_then(|r| r.timestamp);
            // The receipt and its proof are what the third party is given.
            let receipt = serde_json::to_string(&answer)
                .map_err(|e| LifecycleError::api("recording the receipt", e))?;
            let credential = Credential::new(
                "finicity",
                &info.id,
                vec![("receipt", Secret::new(receipt))],
            );
            Ok(NewKey { info, credential })
        })
    }

    fn verify<'a>(
        &'a self,
        _credential: &'a Credential,
    ) -> BoxFuture<'a, Result<Verification, LifecycleError>> {
        Box::pin(async {
            Ok(Verification::NotPossible(
                "Finicity has no call that authenticates with a third-party access receipt",
            ))
        })
    }

    fn revoke<'a>(&'a self, id: &'a KeyId) -> BoxFuture<'a, Result<(), LifecycleError>> {
        Box::pin(async move {
            let result = self.client.revoke_third_party_access_key(id.expose()).await;
            revoked(result, "revoking a third-party access key")
        })
    }

    fn names_keys(&self) -> bool {
        false
    }
}
