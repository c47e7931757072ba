#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The generated code names `ApiModeEnum` by the crate's own name (the
// spec's `x-rust-type`).
extern crate self as apikeys_cartovista;

mod keys;
mod mode;
mod tenant;

apikeys_runtime::include_generated!();

/// The provider-neutral key lifecycle and rotation (`apikeys-lifecycle`),
/// re-exported: [`Keys`] implements [`lifecycle::KeyLifecycle`].
pub use apikeys_lifecycle as lifecycle;
pub use apikeys_runtime::{
    AuthError, BuildError, ClientBuilder, ErrorKind, HeaderCredentials, ResponseValue, RetryPolicy,
    Secret, Timeouts,
};
pub use keys::{Keys, PROVIDER};
pub use mode::ApiModeEnum;
pub use tenant::{Tenant, TenantUser};

/// The error every operation returns. No error bodies are published, so
/// there is no typed one: read `body_text()` or `body_json()`.
pub type Error = apikeys_runtime::Error<()>;

/// Credentials: the `apiKey` header on every call, and `secretKey` too once
/// the key has a secret.
pub fn credentials(
    api_key: impl Into<Secret>,
    secret_key: Option<Secret>,
) -> Result<HeaderCredentials, AuthError> {
    let headers = HeaderCredentials::new().with("apikey", &api_key.into())?;
    match secret_key {
        Some(secret) => headers.with("secretkey", &secret),
        None => Ok(headers),
    }
}
