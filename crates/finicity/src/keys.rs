//! Third-party access keys through the provider-neutral lifecycle of
//! `apikeys-lifecycle`: create (generate) and revoke, and so rotation.
//!
//! What the API does not allow, and how it is handled:
//! - **no list**: [`KeyLifecycle::list`] is `Unsupported`; a rotation knows
//!   its keys from its journal only;
//! - **no names**: a receipt generated in the instant before the journal
//!   records it cannot be found again (nothing to search by): the one
//!   window in which a rotation can leave a live receipt behind. A rotation
//!   bounds it: its receipt is generated with every product's period
//!   ending within [`PROVISIONAL_PERIOD`], and extended to the grant's
//!   periods ([`KeyLifecycle::settle`]) once it is stored, so that a
//!   receipt lost in that window stops working by itself;
//! - **no verification**: no call authenticates with a receipt, so
//!   [`KeyLifecycle::verify`] answers `NotPossible`; a rotation revokes the
//!   old receipt only when told to accept that (`accept_unverifiable`).

use std::time::Duration;

use apikeys_lifecycle::settings::Setting;
use apikeys_lifecycle::{
    BoxFuture, CreateRequest, Credential, KeyId, KeyInfo, KeyLifecycle, LifecycleError,
    LifecycleErrorKind, NewKey, Provider, Secret, Settings, Verification, call_error, revoked,
};
use apikeys_runtime::deps::chrono::{DateTime, Utc};

use crate::{Client, FinicityAuth, types};

/// How long a receipt generated for a rotation works before it is stored
/// and extended: the most a receipt lost in a crash stays usable.
pub const PROVISIONAL_PERIOD: Duration = Duration::from_secs(15 * 60);

const APP_KEY: Setting = Setting {
    name: "app_key",
    env: "FINICITY_APP_KEY",
    required: true,
    secret: true,
    about: "the Finicity-App-Key",
};
const PARTNER_ID: Setting = Setting {
    name: "partner_id",
    env: "FINICITY_PARTNER_ID",
    required: true,
    secret: false,
    about: "the partner id",
};
const PARTNER_SECRET: Setting = Setting {
    name: "partner_secret",
    env: "FINICITY_PARTNER_SECRET",
    required: true,
    secret: true,
    about: "the partner secret",
};
const GRANT_FILE: Setting = Setting {
    name: "grant_file",
    env: "FINICITY_GRANT_FILE",
    required: false,
    secret: false,
    about: "what a new key grants: a ThirdPartyAccessKeyData JSON file",
};
const CUSTOMER_ID: Setting = Setting {
    name: "customer_id",
    env: "FINICITY_CUSTOMER_ID",
    required: false,
    secret: false,
    about: "the customer (without a grant file)",
};
const THIRD_PARTY_PARTNER_ID: Setting = Setting {
    name: "third_party_partner_id",
    env: "FINICITY_THIRD_PARTY_PARTNER_ID",
    required: false,
    secret: false,
    about: "the third party (without a grant file)",
};
const BASE_URL: Setting = Setting {
    name: "base_url",
    env: "FINICITY_BASE_URL",
    required: false,
    secret: false,
    about: "the API's base URL",
};

/// Finicity as a program registers it: settings `app_key`, `partner_id`,
/// `partner_secret`, and what new keys grant (`grant_file`, or
/// `customer_id` and `third_party_partner_id`) (`FINICITY_*` in the
/// environment).
pub const PROVIDER: Provider = Provider {
    name: "finicity",
    about: "Finicity third-party access keys",
    settings: &[
        APP_KEY,
        PARTNER_ID,
        PARTNER_SECRET,
        GRANT_FILE,
        CUSTOMER_ID,
        THIRD_PARTY_PARTNER_ID,
        BASE_URL,
    ],
    build: |settings| Ok(Box::new(Keys::from_settings(settings)?)),
    configured: None,
};

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

    /// The keys `settings` describe: partner credentials, and the grant
    /// of new keys from `grant_file` or from the customer and third party
    /// named (with no products).
    pub fn from_settings(settings: &Settings) -> Result<Self, String> {
        let text = |s: &Setting| settings.text(s).map(Option::unwrap_or_default);
        let auth = FinicityAuth::partner(
            settings.require(&APP_KEY)?.expose(),
            text(&PARTNER_ID)?,
            settings.require(&PARTNER_SECRET)?,
        )
        .map_err(|e| e.to_string())?;
        let client = Client::builder()
            .base_url(
                settings
                    .text(&BASE_URL)?
                    .unwrap_or_else(|| "https://api.finicity.com".into()),
            )
            .auth(auth)
            .build()
            .map_err(|e| e.to_string())?;
        let template = match settings.text(&GRANT_FILE)? {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{}: {path}: {e}", settings.where_(&GRANT_FILE)))?;
                serde_json::from_str(&text)
                    .map_err(|e| format!("{} is not a grant: {e}", settings.where_(&GRANT_FILE)))?
            }
            None => serde_json::from_value(serde_json::json!({
                "customerId": text(&CUSTOMER_ID)?,
                "partnerId": text(&PARTNER_ID)?,
                "thirdPartyPartnerId": text(&THIRD_PARTY_PARTNER_ID)?,
                "products": []
            }))
            .map_err(|e| format!("the grant: {e}"))?,
        };
        Ok(Self::new(client, template))
    }
}

/// `template` with every product's period ending within
/// [`PROVISIONAL_PERIOD`] of `now` (a product starting later keeps its
/// period: it cannot be shortened).
fn provisional(
    template: &types::ThirdPartyAccessKeyData,
    now: DateTime<Utc>,
) -> types::ThirdPartyAccessKeyData {
    let mut short = template.clone();
    let soon = chrono::Duration::from_std(PROVISIONAL_PERIOD)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(now);
    for product in &mut short.products {
        let period = &mut product.access_period;
        if period.end_time > soon && period.start_time <= soon {
            period.end_time = soon;
        }
    }
    short
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

    fn create<'a>(
        &'a self,
        request: &'a CreateRequest,
    ) -> BoxFuture<'a, Result<NewKey, LifecycleError>> {
        Box::pin(async move {
            let grant = match request.provisional {
                true => provisional(&self.template, DateTime::from(std::time::SystemTime::now())),
                false => self.template.clone(),
            };
            let answer = self
                .client
                .generate_third_party_access_key(&grant)
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

    fn settle<'a>(
        &'a self,
        id: Option<&'a KeyId>,
        credential: &'a Credential,
    ) -> BoxFuture<'a, Result<Option<Credential>, LifecycleError>> {
        Box::pin(async move {
            let Some(id) = id.filter(|_| !self.template.products.is_empty()) else {
                return Ok(None);
            };
            // The grant's own periods, in place of the provisional ones.
            let answer = self
                .client
                .update_third_party_access_key(id.expose(), &self.template)
                .await
                .map_err(|e| call_error("extending the new receipt to the grant's periods", &e))?
                .into_inner();
            let receipt = serde_json::to_string(&answer)
                .map_err(|e| LifecycleError::api("recording the receipt", e))?;
            Ok(Some(
                credential.with_parts(vec![("receipt", Secret::new(receipt))]),
            ))
        })
    }

    fn verifies(&self) -> bool {
        false
    }

    fn create_precondition(&self) -> Result<(), String> {
        let t = &self.template;
        let mut missing = Vec::new();
        for (what, value) in [
            ("customerId", &t.customer_id),
            ("partnerId", &t.partner_id),
            ("thirdPartyPartnerId", &t.third_party_partner_id),
        ] {
            if value.trim().is_empty() {
                missing.push(what);
            }
        }
        match missing.is_empty() {
            true => Ok(()),
            false => Err(format!(
                "a new Finicity key's grant names no {}: give `grant_file` (FINICITY_GRANT_FILE), a ThirdPartyAccessKeyData JSON file with the products and periods to grant, or `customer_id` and `third_party_partner_id`",
                missing.join(", no ")
            )),
        }
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
