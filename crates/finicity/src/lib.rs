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
    AuthError, BuildError, ClientBuilder, ErrorKind, ResponseValue, RetryPolicy, Secret, Timeouts,
};
pub use auth::{EXPIRED_TOKEN_CODE, FinicityAuth, TOKEN_RENEW_AFTER};
#[cfg(feature = "lifecycle")]
#[cfg_attr(docsrs, doc(cfg(feature = "lifecycle")))]
pub use keys::{Keys, PROVIDER, PROVISIONAL_PERIOD};

/// The error of the third-party access operations.
pub type Error = apikeys_runtime::Error<types::ErrorMessage>;

impl types::ErrorCode {
    /// The code as a number, whichever form it was sent in.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Int64(n) => Some(*n),
            Self::String(s) => s.trim().parse().ok(),
        }
    }
}
