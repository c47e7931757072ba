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

mod auth;
#[cfg(feature = "lifecycle")]
mod keys;

apikeys_runtime::include_generated!();

/// The provider-neutral key lifecycle and rotation (`apikeys-lifecycle`),
/// re-exported: [`Keys`] implements [`lifecycle::KeyLifecycle`].
#[cfg(feature = "lifecycle")]
#[cfg_attr(docsrs, doc(cfg(feature = "lifecycle")))]
pub use apikeys_lifecycle as lifecycle;
pub use apikeys_runtime::{
    AuthError, AuthorizationHeader, BuildError, ClientBuilder, ErrorKind, ResponseValue,
    RetryPolicy, Secret, Timeouts,
};
pub use auth::{JwtAuth, Scope};
#[cfg(feature = "lifecycle")]
#[cfg_attr(docsrs, doc(cfg(feature = "lifecycle")))]
pub use keys::{Keys, PROVIDER};

/// The error every operation of this crate returns.
pub type Error = apikeys_runtime::Error<types::ErrorResponse>;

/// The United States region (the default base URL).
pub const US: &str = "https://api.smooch.io";

/// The European Union region.
pub const EU: &str = "https://api.eu-1.smooch.io";

/// The base URL that reaches the API through a Zendesk account's own host,
/// `https://{subdomain}.zendesk.com/sc`.
///
/// The subdomain may hold only ASCII letters, digits and `-`.
pub fn zendesk_base_url(subdomain: &str) -> Result<String, BuildError> {
    let valid = !subdomain.is_empty()
        && subdomain.len() <= 63
        && subdomain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !valid {
        return Err(BuildError::Config(
            "a Zendesk subdomain holds only ASCII letters, digits and `-`".into(),
        ));
    }
    Ok(format!("https://{subdomain}.zendesk.com/sc"))
}

/// HTTP Basic credentials from a key id and its secret.
pub fn basic_auth(
    key_id: &str,
    secret: impl Into<Secret>,
) -> Result<AuthorizationHeader, AuthError> {
    AuthorizationHeader::basic(key_id, &secret.into())
}
