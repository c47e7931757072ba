#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
mod body;
mod builder;
mod call;
mod coding;
mod config;
#[doc(hidden)]
pub mod de;
mod error;
mod form;
pub mod lax;
mod loose;
mod path;
mod retry;
mod runtime;
mod secret;
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod testing;
mod transport;

#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub use auth::ManualClock;
pub use auth::{
    Auth, AuthContext, AuthError, AuthErrorKind, AuthorizationHeader, BoxFuture, Clock,
    HeaderCredentials, SystemClock, TokenCache, bearer_header, check_credential, sensitive_header,
};
pub use body::{
    Answer, Undecodable, body_bytes, decode, empty, offered_media, read_limited, stream, success,
    success_with_secret, unexpected,
};
pub use builder::{ClientBuilder, GeneratedClient, is_loopback_host};
/// The body of an answer asked for in another media type than JSON (what
/// a generated `{operation}_as` method returns), as the `bytes` crate
/// holds it.
pub use bytes::Bytes;
pub use call::{Call, Stopped};
pub use config::{DEFAULT_MAX_RESPONSE_BYTES, RetryPolicy, Timeouts};
pub use error::{BuildError, Error, ErrorKind, Unsendable, is_retryable_status};
pub use form::{FormStyle, form_body};
pub use path::{
    DeepObject, InvalidPathSegment, MAX_PATH_SEGMENT, encode_display, encode_path, path_segment,
};
pub use progenitor_client::ResponseValue;
pub use retry::retry_after;
pub use runtime::Runtime;
pub use secret::Secret;

/// Includes the client `apikeys-codegen` generated into `OUT_DIR`, and its
/// typed httpmock helpers as module `mock` behind the crate's `mock`
/// feature; re-exports `Client` and `types`. Every provider crate's
/// `lib.rs` calls it once.
#[macro_export]
macro_rules! include_generated {
    () => {
        #[allow(clippy::all, clippy::pedantic)]
        mod generated {
            include!(concat!(env!("OUT_DIR"), "/client.rs"));
        }

        /// Typed httpmock helpers: `use mock::MockServerExt` adds one method
        /// per operation to `httpmock::MockServer`.
        #[cfg(feature = "mock")]
        #[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
        #[allow(clippy::all, missing_docs)]
        pub mod mock {
            include!(concat!(env!("OUT_DIR"), "/mock.rs"));
        }

        pub use generated::{Client, types};
    };
}

/// Crates that generated types use, re-exported so that a provider crate's
/// manifest does not have to list them (the codegen writes `::uuid::…`,
/// `::regress::…` and `::chrono::…` as paths under this module), and so
/// that callers can name them: `apikeys_runtime::deps::uuid::Uuid` for a
/// `format: uuid` parameter, `deps::chrono::DateTime` for a date-time.
///
/// `uuid`, `regress` and `multipart` are here only with the features of
/// those names: a provider crate turns them on when its spec uses `format:
/// uuid`, `pattern` or a `multipart/form-data` body (its build script says
/// so when a regenerated spec starts to).
pub mod deps {
    pub use chrono;
    #[cfg(feature = "regress")]
    #[cfg_attr(docsrs, doc(cfg(feature = "regress")))]
    pub use regress;
    /// reqwest's multipart forms: what an operation with a
    /// `multipart/form-data` body takes (`Form::new().text(..).part(..)`).
    #[cfg(feature = "multipart")]
    #[cfg_attr(docsrs, doc(cfg(feature = "multipart")))]
    pub use reqwest::multipart;
    #[cfg(feature = "uuid")]
    #[cfg_attr(docsrs, doc(cfg(feature = "uuid")))]
    pub use uuid;
}
