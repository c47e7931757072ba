//! The hand-written glue every generated client gets, as a template:
//! the runtime's view of the client (`GeneratedClient`), its builder and
//! constructors.

use quote::quote;

/// The hand-written glue every generated client gets: the runtime's view
/// of the client, and the constructors.
pub(crate) fn glue(spec: &openapiv3::OpenAPI) -> proc_macro2::TokenStream {
    let servers = spec.servers.iter().map(|s| s.url.as_str());
    let title = &spec.info.title;
    let requires_auth = requires_auth(spec);
    quote! {
        // progenitor checks that the hooks exist; operations do not call
        // them: each hands its request to `apikeys_runtime::Call::send`.
        impl ClientHooks<::apikeys_runtime::Runtime> for Client {}

        impl ::apikeys_runtime::GeneratedClient for Client {
            const API: &'static str = #title;
            const USER_AGENT: &'static str =
                concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));
            const SERVERS: &'static [&'static str] = &[#(#servers),*];
            const REQUIRES_AUTH: bool = #requires_auth;

            fn from_parts(
                baseurl: &str,
                http: reqwest::Client,
                runtime: ::apikeys_runtime::Runtime,
            ) -> Self {
                Self::new_with_client(baseurl, http, runtime)
            }

            fn runtime(&self) -> &::apikeys_runtime::Runtime {
                &self.inner
            }

            fn http(&self) -> &reqwest::Client {
                &self.client
            }

            fn base_url(&self) -> &str {
                &self.baseurl
            }
        }

        impl Client {
            /// Starts configuring a client: base URL, credentials, timeouts
            /// and retry policy.
            pub fn builder() -> ::apikeys_runtime::ClientBuilder<Self> {
                ::apikeys_runtime::ClientBuilder::new()
            }

            /// A copy of this client that retries as `policy` says; the
            /// copy shares the connection pool and the credentials.
            pub fn with_retry_policy(&self, policy: ::apikeys_runtime::RetryPolicy) -> Self {
                Self::new_with_client(
                    &self.baseurl,
                    self.client.clone(),
                    self.inner.with_retry_policy(policy),
                )
            }

            /// A copy of this client that authenticates with `auth`
            /// instead: same base URL, connection pool (and so TLS and
            /// proxy settings), timeouts and retry policy. What a new key
            /// is verified with.
            pub fn with_auth(
                &self,
                auth: impl ::apikeys_runtime::Auth,
            ) -> Result<Self, ::apikeys_runtime::AuthError> {
                Ok(Self::new_with_client(
                    &self.baseurl,
                    self.client.clone(),
                    self.inner.with_auth(auth)?,
                ))
            }

            /// A copy of this client with other timeouts, all of them
            /// applied; it shares the credentials, and the connection pool
            /// unless the connect timeout changes (see
            /// `Runtime::with_timeouts_and_http`).
            pub fn with_timeouts(&self, timeouts: ::apikeys_runtime::Timeouts) -> Self {
                let (runtime, client) = self.inner.with_timeouts_and_http(&self.client, timeouts);
                Self::new_with_client(&self.baseurl, client, runtime)
            }

            /// A copy of this client that reads answers of up to `limit`
            /// bytes (a large download, say); the copy shares the
            /// connection pool and the credentials.
            pub fn with_max_response_bytes(&self, limit: usize) -> Self {
                Self::new_with_client(
                    &self.baseurl,
                    self.client.clone(),
                    self.inner.clone().with_max_response_bytes(limit),
                )
            }

            /// The base URL every path is joined to.
            pub fn base_url(&self) -> &str {
                &self.baseurl
            }

            /// Forgets a kept failure to obtain credentials (a token
            /// endpoint that refused, or answered without a token), so that
            /// the next call tries again at once: the way out once the
            /// cause is fixed. Shared with every copy of this client.
            pub async fn reset_credentials(&self) {
                self.inner.reset_credentials().await
            }
        }
    }
}

/// Whether some operation needs credentials: its security requirements
/// (its own, or the spec's) are not empty and none of them is the empty
/// requirement `{}`, which makes credentials optional.
fn requires_auth(spec: &openapiv3::OpenAPI) -> bool {
    spec.operations().any(|(_, _, op)| {
        op.security
            .as_ref()
            .or(spec.security.as_ref())
            .is_some_and(|reqs| !reqs.is_empty() && reqs.iter().all(|r| !r.is_empty()))
    })
}
