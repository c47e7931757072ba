#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
mod config;
mod keys;

apikeys_runtime::include_generated!();

pub use apikeys_runtime::{
    AuthError, BuildError, ClientBuilder, Error, ErrorKind, ResponseValue, RetryPolicy, Secret,
    Timeouts,
};
pub use auth::FbnAuth;
pub use config::{Configuration, Resolved};
pub use keys::Keys;
