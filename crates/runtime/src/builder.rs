//! Configuring a generated client.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::{Auth, BuildError, RetryPolicy, Runtime, Timeouts};

/// What the runtime needs of a generated client; implemented by the code
/// `apikeys-codegen` generates, not by hand.
pub trait GeneratedClient: Sized {
    /// The API's title, from the spec.
    const API: &'static str;
    /// `<crate name>/<crate version>`, sent as the User-Agent.
    const USER_AGENT: &'static str;
    /// The spec's server URLs, in its order.
    const SERVERS: &'static [&'static str];

    /// Assembles a client.
    fn from_parts(base_url: &str, http: reqwest::Client, runtime: Runtime) -> Self;
    /// The client's runtime.
    fn runtime(&self) -> &Runtime;
    /// The client's HTTP client.
    fn http(&self) -> &reqwest::Client;
    /// The client's base URL.
    fn base_url(&self) -> &str;
}

/// Builds a generated client: base URL, credentials, timeouts, retry policy
/// and, optionally, a `reqwest::Client` of the caller's.
pub struct ClientBuilder<C> {
    base_url: Option<String>,
    auth: Option<Arc<dyn Auth>>,
    timeouts: Timeouts,
    retry: RetryPolicy,
    http: Option<reqwest::Client>,
    client: PhantomData<fn() -> C>,
}

impl<C> std::fmt::Debug for ClientBuilder<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url_set", &self.base_url.is_some())
            .field("auth", &self.auth.as_ref().map(|a| a.scheme()))
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("custom_http_client", &self.http.is_some())
            .finish()
    }
}

impl<C: GeneratedClient> Default for ClientBuilder<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: GeneratedClient> ClientBuilder<C> {
    /// A builder with the default timeouts and retry policy, no
    /// credentials, and the spec's first server without variables.
    pub fn new() -> Self {
        Self {
            base_url: None,
            auth: None,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            http: None,
            client: PhantomData,
        }
    }

    /// Sends requests to `url` (scheme, host, optional port and path stem).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Puts these credentials on every request.
    pub fn auth(self, auth: impl Auth) -> Self {
        self.shared_auth(Arc::new(auth))
    }

    /// Puts these (shared) credentials on every request.
    pub fn shared_auth(mut self, auth: Arc<dyn Auth>) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Sets all timeouts.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.timeouts.connect = d;
        self
    }

    /// Sets the timeout of one attempt.
    pub fn attempt_timeout(mut self, d: Duration) -> Self {
        self.timeouts.attempt = d;
        self
    }

    /// Sets the timeout of a whole call, retries included.
    pub fn total_timeout(mut self, d: Duration) -> Self {
        self.timeouts.total = d;
        self
    }

    /// Sets the retry policy.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Uses this `reqwest::Client` (its connect timeout and TLS settings
    /// apply; the attempt and total timeouts and the User-Agent are still
    /// set per request).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<C, BuildError> {
        let base = match self.base_url {
            Some(url) => url,
            None => C::SERVERS
                .iter()
                .find(|s| !s.contains('{'))
                .map(|s| s.to_string())
                .ok_or(BuildError::MissingBaseUrl)?,
        };
        let parsed =
            reqwest::Url::parse(&base).map_err(|e| BuildError::InvalidBaseUrl(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(BuildError::InvalidBaseUrl(format!(
                "the scheme must be http or https, not {}",
                parsed.scheme()
            )));
        }
        let mut runtime = Runtime::new(self.auth, C::USER_AGENT, self.timeouts, self.retry);
        let http = match self.http {
            Some(http) => http,
            None => {
                runtime = runtime.with_own_client();
                reqwest::Client::builder()
                    .connect_timeout(self.timeouts.connect)
                    .timeout(self.timeouts.attempt)
                    .user_agent(C::USER_AGENT)
                    .build()
                    .map_err(BuildError::Http)?
            }
        };
        Ok(C::from_parts(base.trim_end_matches('/'), http, runtime))
    }
}
