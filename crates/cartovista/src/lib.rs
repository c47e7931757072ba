// The README's rotation example needs `Keys`: it is the crate's
// documentation (and a doctest) with the `lifecycle` feature on, as on
// docs.rs and in `cargo test --workspace`.
#![cfg_attr(feature = "lifecycle", doc = include_str!("../README.md"))]
#![cfg_attr(
    not(feature = "lifecycle"),
    doc = "An async client generated from its OpenAPI spec. The crate's README (its documentation when built with the `lifecycle` feature, as on docs.rs) shows how to authenticate, call and rotate keys."
)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The generated code names `ApiModeEnum` by the crate's own name (the
// spec's `x-rust-type`).
extern crate self as apikeys_cartovista;

#[cfg(feature = "lifecycle")]
mod keys;
mod mode;
mod tenant;

apikeys_runtime::include_generated!();

/// The provider-neutral key lifecycle and rotation (`apikeys-lifecycle`),
/// re-exported: [`Keys`] implements [`lifecycle::KeyLifecycle`].
#[cfg(feature = "lifecycle")]
#[cfg_attr(docsrs, doc(cfg(feature = "lifecycle")))]
pub use apikeys_lifecycle as lifecycle;
pub use apikeys_runtime::{
    AuthError, BuildError, ClientBuilder, ErrorKind, HeaderCredentials, ResponseValue, RetryPolicy,
    Secret, Timeouts,
};
#[cfg(feature = "lifecycle")]
#[cfg_attr(docsrs, doc(cfg(feature = "lifecycle")))]
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
