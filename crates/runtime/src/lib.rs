#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod auth;
mod builder;
mod config;
mod error;
mod path;
mod runtime;
mod secret;

pub use auth::{
    Auth, AuthContext, AuthError, BasicAuth, BearerToken, BoxFuture, Clock, HeaderCredentials,
    ManualClock, SystemClock, TokenCache, sensitive_header,
};
pub use builder::{ClientBuilder, GeneratedClient};
pub use config::{RetryPolicy, Timeouts};
pub use error::{BuildError, Error, ErrorKind, is_retryable_status};
pub use path::encode_path;
pub use progenitor_client::ResponseValue;
pub use runtime::{Runtime, call, retry_after};
pub use secret::Secret;
