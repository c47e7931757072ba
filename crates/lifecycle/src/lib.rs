#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod journal;
pub mod lineage;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod protocol;
mod rotate;
pub mod seen;
pub mod settings;
mod sink;
pub mod state;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::Digest;

pub use apikeys_runtime::Secret;
pub use protocol::{Own, Step, WaitReason};
pub use rotate::{
    DEFAULT_GRACE, FaultPoint, Journaled, MIN_NEW_KEY_LIFETIME, Pending, Progress, Rotation,
    RotationError, RotationOutcome, journaled, lifetime_fits, successor_name,
};
pub use settings::{Provider, Settings};
pub use sink::{CommandSink, FileSink, Sink, SinkError, SinkFence, Staged, StdoutSink};
pub use state::{FileStore, StateError, StateStore};

/// A boxed future that can cross threads: what [`KeyLifecycle`]'s methods
/// return, so that a program can hold any provider as `dyn KeyLifecycle`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How a provider names one of its keys.
///
/// Some providers identify a key by the key itself (CartoVista's access
/// key is both the id in the path and the `apiKey` header): such an id is
/// secret, and shows only as a fingerprint in `Debug`, `Display` and JSON.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyId {
    value: String,
    secret: bool,
}

impl KeyId {
    /// An id that may be shown.
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            secret: false,
        }
    }

    /// An id that is itself a credential.
    pub fn secret(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            secret: true,
        }
    }

    /// The id as the provider's API takes it.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Whether the id is a credential.
    pub fn is_secret(&self) -> bool {
        self.secret
    }

    /// A short, stable fingerprint of the id (SHA-256, 12 hex digits): how
    /// the journal and the output name a secret id.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.value)
    }

    /// What may be shown of the id: itself, or `fp:<fingerprint>`.
    pub fn shown(&self) -> String {
        if self.secret {
            format!("fp:{}", self.fingerprint())
        } else {
            self.value.clone()
        }
    }
}

pub(crate) fn fingerprint(value: &str) -> String {
    let digest = sha2::Sha256::digest(value.as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.shown())
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

impl Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.shown())
    }
}

/// One key as a provider lists it; what the API does not say is `None`.
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    /// The key's id.
    pub id: KeyId,
    /// Its name or label.
    pub name: Option<String>,
    /// When it was created.
    pub created: Option<DateTime<Utc>>,
    /// When it stops working.
    pub expires: Option<DateTime<Utc>>,
    /// When it was last used.
    pub last_used: Option<DateTime<Utc>>,
}

impl KeyInfo {
    /// A key known only by its id.
    pub fn new(id: KeyId) -> Self {
        Self {
            id,
            name: None,
            created: None,
            expires: None,
            last_used: None,
        }
    }
}

/// The credentials of a new key, as named parts (`key_id` and `secret`;
/// `token`; `api_key` and `secret_key`…). `Debug` shows only the names.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Credential {
    /// The provider the key belongs to.
    pub provider: String,
    /// The key's id as it may be shown ([`KeyId::shown`]).
    pub key: String,
    /// The named parts, in the order the provider gives them.
    pub parts: Vec<(String, Secret)>,
}

impl Credential {
    /// A credential of `provider`'s key `key`, made of `parts`.
    pub fn new(provider: &str, key: &KeyId, parts: Vec<(&str, Secret)>) -> Self {
        Self {
            provider: provider.to_owned(),
            key: key.shown(),
            parts: Vec::new(),
        }
        .with_parts(parts)
    }

    /// The same key's credential made of other `parts` (a provider that
    /// settles a key changes what authenticates with it).
    pub fn with_parts(&self, parts: Vec<(&str, Secret)>) -> Self {
        Self {
            provider: self.provider.clone(),
            key: self.key.clone(),
            parts: parts.into_iter().map(|(n, s)| (n.to_owned(), s)).collect(),
        }
    }

    /// The part named `name`.
    pub fn part(&self, name: &str) -> Option<&Secret> {
        self.parts.iter().find(|(n, _)| n == name).map(|(_, s)| s)
    }

    /// The part named `name`, or an error saying it is missing.
    pub fn require(&self, name: &str) -> Result<&Secret, LifecycleError> {
        self.part(name).ok_or_else(|| {
            LifecycleError::new(
                LifecycleErrorKind::Api,
                format!("the {} credential has no `{name}`", self.provider),
            )
        })
    }

    /// The credential as one JSON object, `{"provider": …, "key": …,
    /// "<part>": …}`: what sinks receive. The returned text holds the
    /// secrets.
    pub fn to_json(&self) -> Secret {
        let mut map = serde_json::Map::new();
        map.insert("provider".into(), self.provider.clone().into());
        map.insert("key".into(), self.key.clone().into());
        for (name, secret) in &self.parts {
            map.insert(name.clone(), secret.expose().into());
        }
        Secret::new(serde_json::Value::Object(map).to_string())
    }

    /// Reads what [`Credential::to_json`] wrote.
    pub fn from_json(text: &str) -> Option<Self> {
        let serde_json::Value::Object(map) = serde_json::from_str(text).ok()? else {
            return None;
        };
        let provider = map.get("provider")?.as_str()?.to_owned();
        let key = map.get("key")?.as_str()?.to_owned();
        let parts = map
            .into_iter()
            .filter(|(k, _)| k != "provider" && k != "key")
            .filter_map(|(k, v)| Some((k, Secret::new(v.as_str()?.to_owned()))))
            .collect();
        Some(Self {
            provider,
            key,
            parts,
        })
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.parts.iter().map(|(n, _)| n.as_str()).collect();
        write!(
            f,
            "Credential({} {} {names:?}, redacted)",
            self.provider, self.key
        )
    }
}

/// A key just created: its id, what is known of it, and its credentials
/// (shown once by the provider).
#[derive(Debug, Clone)]
pub struct NewKey {
    /// The key as a list would show it.
    pub info: KeyInfo,
    /// What authenticates with it.
    pub credential: Credential,
}

/// What to create: the name, and what the provider may take beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRequest {
    /// The key's name (providers without names ignore it).
    pub name: String,
    /// When the key should stop working, where the provider takes an
    /// expiry ([`KeyLifecycle::takes_expiry`]); others ignore it.
    pub expires: Option<DateTime<Utc>>,
    /// Whether the key is created for a rotation, which calls
    /// [`KeyLifecycle::settle`] once its credentials are stored: a
    /// provider may then create it with a short life first (Finicity).
    pub provisional: bool,
}

impl CreateRequest {
    /// A key named `name`, with nothing else asked.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            expires: None,
            provisional: false,
        }
    }
}

/// What verifying a new key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// An authenticated call made with the new credentials succeeded.
    Verified,
    /// The provider's API has no call that authenticates with this kind
    /// of key; the reason says what was checked instead, if anything.
    NotPossible(&'static str),
}

/// What went wrong in one lifecycle call.
#[derive(Debug)]
pub struct LifecycleError {
    /// What kind of failure.
    pub kind: LifecycleErrorKind,
    /// What happened, in words (never a secret).
    pub message: String,
}

/// The kinds of [`LifecycleError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LifecycleErrorKind {
    /// The provider's API has no such operation (Finicity lists no keys).
    Unsupported,
    /// The call failed at the provider or on the way.
    Api,
    /// The new credentials were refused.
    Refused,
}

impl LifecycleError {
    /// A failure of kind `kind`.
    pub fn new(kind: LifecycleErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// A failed API call; `what` names the step.
    pub fn api(what: &str, error: impl fmt::Display) -> Self {
        Self::new(LifecycleErrorKind::Api, format!("{what}: {error}"))
    }

    /// Credentials that cannot be used (refused before any call).
    pub fn refused(error: impl fmt::Display) -> Self {
        Self::new(
            LifecycleErrorKind::Refused,
            format!("the new credentials: {error}"),
        )
    }
}

impl fmt::Display for LifecycleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LifecycleError {}

/// The lifecycle of one provider's keys. Every provider crate implements
/// it for its own type (`apikeys_finbourne_identity::Keys`, …).
pub trait KeyLifecycle: Send + Sync {
    /// The provider's short name (`finbourne`, `sunshine`…).
    fn provider(&self) -> &'static str;

    /// The keys the configured credentials can see.
    fn list(&self) -> BoxFuture<'_, Result<Vec<KeyInfo>, LifecycleError>>;

    /// Creates a key as `request` asks.
    fn create<'a>(
        &'a self,
        request: &'a CreateRequest,
    ) -> BoxFuture<'a, Result<NewKey, LifecycleError>>;

    /// Finishes what a provisional create left for after the credentials
    /// are stored: Finicity extends the receipt's short period to the
    /// grant's; CartoVista finds which of the key's fields its `apiKey`
    /// header takes. Returns the credentials to store instead, when they
    /// changed. Called again on resume, so it must be repeatable.
    fn settle<'a>(
        &'a self,
        _id: Option<&'a KeyId>,
        _credential: &'a Credential,
    ) -> BoxFuture<'a, Result<Option<Credential>, LifecycleError>> {
        Box::pin(async { Ok(None) })
    }

    /// Makes one authenticated call with `credential`, where the API
    /// allows it.
    fn verify<'a>(
        &'a self,
        credential: &'a Credential,
    ) -> BoxFuture<'a, Result<Verification, LifecycleError>>;

    /// Revokes key `id`; a key that is already gone is not an error.
    fn revoke<'a>(&'a self, id: &'a KeyId) -> BoxFuture<'a, Result<(), LifecycleError>>;

    /// Whether [`KeyLifecycle::verify`] can ever verify a new key. A
    /// rotation of a provider that cannot is refused before its first
    /// call unless the user accepted that.
    fn verifies(&self) -> bool {
        true
    }

    /// What a create needs that these settings lack (Finicity: a grant
    /// with at least one product), found without a call: a rotation that
    /// could not create its key is refused before it starts.
    fn create_precondition(&self) -> Result<(), String> {
        Ok(())
    }

    /// Whether keys carry the names given at creation, so that a rotation
    /// can find its own key by name after a crash.
    fn names_keys(&self) -> bool {
        true
    }

    /// Whether [`CreateRequest::expires`] is honoured.
    fn takes_expiry(&self) -> bool {
        false
    }

    /// Whether [`KeyInfo::last_used`] is reported, so that a rotation can
    /// wait until the old key has been idle for a while.
    fn reports_last_use(&self) -> bool {
        false
    }

    /// Whether the credentials this lifecycle calls with are key `id`'s.
    fn calls_with(&self, _id: &KeyId) -> Own {
        Own::No
    }

    /// Makes every later call with `credential`, a key of the same account
    /// (a rotation of the tool's own key switches to the new one).
    fn adopt(&self, _credential: &Credential) -> Result<(), LifecycleError> {
        Err(LifecycleError::new(
            LifecycleErrorKind::Unsupported,
            format!(
                "{} cannot call with a new key's credentials",
                self.provider()
            ),
        ))
    }
}

/// The outcome of a revoke call: a key that is already gone (404 or 410)
/// counts as revoked; `what` names the call in an error.
pub fn revoked<T, E>(
    result: Result<T, apikeys_runtime::Error<E>>,
    what: &str,
) -> Result<(), LifecycleError>
where
    apikeys_runtime::Error<E>: fmt::Display,
{
    match result {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.status().map(|s| s.as_u16()), Some(404 | 410)) => Ok(()),
        Err(e) => Err(call_error(what, &e)),
    }
}

/// A failed provider call as a [`LifecycleError`]: 401 and 403 are
/// [`LifecycleErrorKind::Refused`], anything else `Api`. `what` names the
/// call.
pub fn call_error<E>(what: &str, error: &apikeys_runtime::Error<E>) -> LifecycleError
where
    apikeys_runtime::Error<E>: fmt::Display,
{
    let kind = match error.status().map(|s| s.as_u16()) {
        Some(401 | 403) => LifecycleErrorKind::Refused,
        _ => LifecycleErrorKind::Api,
    };
    LifecycleError::new(kind, format!("{what}: {error}"))
}

/// A client a lifecycle can switch to other credentials while it is
/// shared ([`KeyLifecycle::adopt`]): every call takes a copy of the
/// current one. Clones share the switch.
#[derive(Clone)]
pub struct Swappable<C> {
    current: std::sync::Arc<std::sync::RwLock<C>>,
}

impl<C: Clone> Swappable<C> {
    /// Starts with `client`.
    pub fn new(client: C) -> Self {
        Self {
            current: std::sync::Arc::new(std::sync::RwLock::new(client)),
        }
    }

    /// The current client.
    pub fn get(&self) -> C {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the client for every later call.
    pub fn set(&self, client: C) {
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = client;
    }
}

impl<C: fmt::Debug + Clone> fmt::Debug for Swappable<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}
