//! [`Runtime`]: the settings a generated client carries into every call
//! (credentials, timeouts, retry policy, body limit). The call itself is in
//! `call.rs`.

use std::fmt;
use std::sync::Arc;

use reqwest::header::HeaderValue;

use crate::retry::Budget;
use crate::{Auth, RetryPolicy, Timeouts};

/// State a generated client carries: credentials, timeouts, retry policy
/// and body limit. Cloning is cheap; clones share the credentials.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) auth: Option<Arc<dyn Auth>>,
    pub(crate) user_agent: HeaderValue,
    pub(crate) timeouts: Timeouts,
    pub(crate) retry: RetryPolicy,
    /// The retry budget, shared by every call of this client and its
    /// copies.
    pub(crate) budget: Arc<Budget>,
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
            .field("retry_tokens", &self.budget.tokens())
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
            budget: Arc::new(Budget::new(retry.retry_budget)),
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

    /// A copy with another retry policy. It shares this client's retry
    /// budget unless the policy sets another size.
    #[must_use]
    pub fn with_retry_policy(&self, retry: RetryPolicy) -> Self {
        let budget = if retry.retry_budget == self.retry.retry_budget {
            Arc::clone(&self.budget)
        } else {
            Arc::new(Budget::new(retry.retry_budget))
        };
        Self {
            retry,
            budget,
            ..self.clone()
        }
    }

    /// Forgets a kept failure to obtain credentials (see
    /// [`Auth::reset`]): the way out after a token endpoint refused or
    /// answered garbage, once the cause is fixed.
    pub async fn reset_credentials(&self) {
        if let Some(auth) = &self.auth {
            auth.reset().await;
        }
    }

    /// Tokens left in the retry budget (see [`RetryPolicy::retry_budget`]).
    pub fn retry_tokens(&self) -> u32 {
        self.budget.tokens()
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

    /// A copy with other timeouts (set on each request from now on). The
    /// connect timeout is the HTTP client's: see
    /// [`Runtime::with_timeouts_and_http`], which applies it too.
    #[must_use]
    pub fn with_timeouts(&self, timeouts: Timeouts) -> Self {
        Self {
            timeouts,
            own_client: false,
            ..self.clone()
        }
    }

    /// A copy with other timeouts, and the HTTP client that goes with it.
    /// For an HTTP client [`crate::ClientBuilder`] made, a new one when the
    /// connect timeout changes (it does not share the first one's
    /// connections); a caller's own HTTP client is kept, and its connect
    /// timeout stays the caller's.
    pub fn with_timeouts_and_http(
        &self,
        http: &reqwest::Client,
        timeouts: Timeouts,
    ) -> (Self, reqwest::Client) {
        if self.own_client && timeouts.connect != self.timeouts.connect {
            match crate::builder::own_http_client(timeouts, &self.user_agent).build() {
                Ok(fresh) => {
                    let runtime = Self {
                        timeouts,
                        ..self.clone()
                    };
                    return (runtime, fresh);
                }
                Err(e) => tracing::warn!(
                    error = %e,
                    "could not build an HTTP client with the new connect timeout; keeping the old one"
                ),
            }
        }
        (self.with_timeouts(timeouts), http.clone())
    }
}
