//! Timeouts and retry policy: every default in one place.

use std::time::Duration;

/// The largest answer body a client reads unless told otherwise: 4 MiB.
/// These APIs answer in kilobytes; the limit keeps a broken or hostile
/// server from filling memory.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// How long a call may take.
///
/// | field | default | why |
/// |---|---|---|
/// | `connect` | 10 s | a TCP + TLS handshake that has not finished by then is not going to |
/// | `attempt` | 30 s | one request/answer exchange; key management answers in well under a second |
/// | `total` | 60 s | the whole call, retries and their waits included: a call never outlives it |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// Time to open a connection (TCP and TLS).
    pub connect: Duration,
    /// Time for one attempt: sending the request and reading the answer.
    pub attempt: Duration,
    /// Time for the whole call, every attempt and wait included.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            attempt: Duration::from_secs(30),
            total: Duration::from_secs(60),
        }
    }
}

impl Timeouts {
    /// The defaults (10 s connect, 30 s per attempt, 60 s in all).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the connect timeout.
    #[must_use]
    pub fn connect(mut self, d: Duration) -> Self {
        self.connect = d;
        self
    }

    /// Sets the timeout of one attempt.
    #[must_use]
    pub fn attempt(mut self, d: Duration) -> Self {
        self.attempt = d;
        self
    }

    /// Sets the timeout of the whole call.
    #[must_use]
    pub fn total(mut self, d: Duration) -> Self {
        self.total = d;
        self
    }
}

/// When and how a failed call is tried again.
///
/// Retried: connection errors, timeouts of one attempt, and the statuses 408,
/// 429, 502, 503 and 504. Only idempotent methods (GET, HEAD, PUT, DELETE,
/// OPTIONS) are retried unless [`RetryPolicy::retry_non_idempotent`] is set:
/// a POST that creates a key or a secret is never sent twice by itself.
///
/// | field | default |
/// |---|---|
/// | `max_attempts` | 3 (the first try and two retries) |
/// | `initial_backoff` | 200 ms, doubled each retry, with jitter (half fixed, half random) |
/// | `max_backoff` | 5 s |
/// | `max_retry_after` | 30 s: a longer `Retry-After` is not waited for; the error is returned |
/// | `retry_budget` | 500 tokens per client: a retry costs `retry_cost` (5), one after a timeout `timeout_retry_cost` (10); a call that succeeds returns what it drew, or 1 token. With the budget spent, calls are not retried until calls succeed again |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 turns retries off.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled for each later one.
    pub initial_backoff: Duration,
    /// Longest wait between attempts computed by backoff.
    pub max_backoff: Duration,
    /// Longest `Retry-After` the client waits for.
    pub max_retry_after: Duration,
    /// Also retry POST and PATCH. Only for calls that are safe to repeat.
    pub retry_non_idempotent: bool,
    /// Tokens in the client's retry budget, shared by all its calls.
    pub retry_budget: u32,
    /// Tokens a retry costs.
    pub retry_cost: u32,
    /// Tokens a retry after a timeout costs.
    pub timeout_retry_cost: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
            retry_non_idempotent: false,
            retry_budget: 500,
            retry_cost: 5,
            timeout_retry_cost: 10,
        }
    }
}

impl RetryPolicy {
    /// The defaults (see the type's table).
    pub fn new() -> Self {
        Self::default()
    }

    /// A policy that never retries.
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the number of attempts (at least 1).
    #[must_use]
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Sets the first backoff wait.
    #[must_use]
    pub fn initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// Sets the longest backoff wait.
    #[must_use]
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// Sets the longest `Retry-After` honoured.
    #[must_use]
    pub fn max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = d;
        self
    }

    /// Allows retrying methods that are not idempotent (POST, PATCH).
    #[must_use]
    pub fn retry_non_idempotent(mut self, yes: bool) -> Self {
        self.retry_non_idempotent = yes;
        self
    }

    /// Sets the client's retry budget (see the type's table): `tokens` in
    /// all, `cost` per retry, `timeout_cost` per retry after a timeout. A
    /// cost of 0 makes retries free, so that only `max_attempts` bounds
    /// them, as before budgets: only for a service that is yours.
    #[must_use]
    pub fn retry_budget(mut self, tokens: u32, cost: u32, timeout_cost: u32) -> Self {
        self.retry_budget = tokens;
        self.retry_cost = cost;
        self.timeout_retry_cost = timeout_cost;
        self
    }

    /// The wait before retry number `retry` (1 for the first retry):
    /// exponential, capped, and jittered over its upper half.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        let full = self
            .initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff);
        let half = full / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_stays_capped() {
        let p = RetryPolicy::default();
        for retry in 1..=10 {
            let d = p.backoff(retry);
            let full = (Duration::from_millis(200) * 2u32.pow(retry - 1)).min(p.max_backoff);
            assert!(d >= full / 2 && d <= full, "retry {retry}: {d:?}");
        }
    }
}
