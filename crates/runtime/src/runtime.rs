//! [`Runtime`]: the settings a generated client carries into every call
//! (credentials, timeouts, retry policy, body limit). The call itself is in
//! `call.rs`.

use std::fmt;
use std::sync::Arc;

use reqwest::header::HeaderValue;

use crate::{Auth, RetryPolicy, Timeouts};

/// State a generated client carries: credentials, timeouts, retry policy
/// and body limit. Cloning is cheap; clones share the credentials.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) auth: Option<Arc<dyn Auth>>,
    pub(crate) user_agent: HeaderValue,
    pub(crate) timeouts: Timeouts,
    pub(crate) retry: RetryPolicy,
    /// The largest body read from an answer.
    pub(crate) max_response_bytes: usize,
    /// Whether the HTTP client was built by [`crate::ClientBuilder`], with
    /// `timeouts.attempt` as its timeout and our User-Agent (else each
    /// request gets them).
    pub(crate) own_client: bool,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("auth", &self.auth.as_ref().map(|a| a.scheme()))
            .field("user_agent", &self.user_agent)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

impl Runtime {
    /// A runtime with these parts; [`crate::ClientBuilder`] is the usual
    /// way. A User-Agent a header cannot carry is replaced by `apikeys`.
    pub fn new(
        auth: Option<Arc<dyn Auth>>,
        user_agent: &str,
        timeouts: Timeouts,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            auth,
            user_agent: HeaderValue::from_str(user_agent)
                .unwrap_or_else(|_| HeaderValue::from_static("apikeys")),
            timeouts,
            retry,
            max_response_bytes: crate::DEFAULT_MAX_RESPONSE_BYTES,
            own_client: false,
        }
    }

    /// A copy that reads at most `limit` bytes of an answer's body.
    #[must_use]
    pub fn with_max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Marks the HTTP client as built by [`crate::ClientBuilder`] (with
    /// `timeouts.attempt` as its timeout and our User-Agent), so that
    /// requests need neither of their own unless the call's deadline is
    /// nearer than an attempt.
    #[must_use]
    pub fn with_own_client(mut self) -> Self {
        self.own_client = true;
        self
    }

    /// The timeouts in force.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// A copy with another retry policy.
    #[must_use]
    pub fn with_retry_policy(&self, retry: RetryPolicy) -> Self {
        Self {
            retry,
            ..self.clone()
        }
    }

    /// A copy with other credentials, checked as the builder checks them;
    /// everything else (timeouts, retries, limits) is shared.
    pub fn with_auth(&self, auth: impl Auth) -> Result<Self, crate::AuthError> {
        auth.validate()?;
        Ok(Self {
            auth: Some(Arc::new(auth)),
            ..self.clone()
        })
    }

    /// A copy with other timeouts (set on each request from now on).
    #[must_use]
    pub fn with_timeouts(&self, timeouts: Timeouts) -> Self {
        Self {
            timeouts,
            own_client: false,
            ..self.clone()
        }
    }
}
