#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
mod keys;

apikeys_runtime::include_generated!();

/// The provider-neutral key lifecycle and rotation (`apikeys-lifecycle`),
/// re-exported: [`Keys`] implements [`lifecycle::KeyLifecycle`].
pub use apikeys_lifecycle as lifecycle;
pub use apikeys_runtime::{
    AuthError, BuildError, ClientBuilder, ErrorKind, ResponseValue, RetryPolicy, Secret, Timeouts,
};
pub use auth::{EXPIRED_TOKEN_CODE, FinicityAuth, TOKEN_RENEW_AFTER};
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
