#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
mod config;
mod keys;

apikeys_runtime::include_generated!();

/// The provider-neutral key lifecycle and rotation (`apikeys-lifecycle`),
/// re-exported: [`Keys`] implements [`lifecycle::KeyLifecycle`].
pub use apikeys_lifecycle as lifecycle;
pub use apikeys_runtime::{
    AuthError, BuildError, ClientBuilder, Error, ErrorKind, ResponseValue, RetryPolicy, Secret,
    Timeouts,
};
pub use auth::FbnAuth;
pub use config::{Configuration, Resolved};
pub use keys::{Keys, PROVIDER};
