#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod auth;
mod config;

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
    AuthError, BuildError, ClientBuilder, Error, ErrorKind, ResponseValue, RetryPolicy, Secret,
    Timeouts,
};
pub use auth::FbnAuth;
pub use config::{Configuration, Resolved};
pub use generated::{Client, types};
