#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod auth;

#[allow(clippy::all, clippy::pedantic)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/client.rs"));
}

/// Typed httpmock helpers: `use mock::MockServerExt` adds one method per
/// operation to `httpmock::MockServer`.
#[cfg(feature = "mock")]
#[allow(clippy::all, missing_docs)]
pub mod mock {
    include!(concat!(env!("OUT_DIR"), "/mock.rs"));
}

pub use apikeys_runtime::{
    AuthError, BuildError, ClientBuilder, ErrorKind, ResponseValue, RetryPolicy, Secret, Timeouts,
};
pub use auth::{EXPIRED_TOKEN_CODE, FinicityAuth, TOKEN_RENEW_AFTER};
pub use generated::{Client, types};

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
