//! The retry rule, as a pure decision: [`decide`] turns what an attempt
//! gave into what to do next, without I/O, so that it reads (and is
//! tested) as a table.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};

use crate::RetryPolicy;
use crate::body::Outcome;
use crate::error::is_retryable_status;

/// A client's retry budget, shared by all its calls (and by the copies
/// `with_retry_policy`, `with_auth` and `with_timeouts` make), as in the
/// AWS SDKs' standard retry mode: a retry draws tokens (more after a
/// timeout), a call that succeeds gives back what it drew, or one token
/// when it needed no retry. While a service fails every call the budget
/// runs dry, and from then on each call makes one attempt: the service
/// sees about the load its callers make, not three times that. It fills
/// again as calls succeed.
#[derive(Debug)]
pub(crate) struct Budget {
    tokens: AtomicU32,
    capacity: u32,
}

impl Budget {
    /// A full budget of `capacity` tokens.
    pub(crate) fn new(capacity: u32) -> Self {
        Self {
            tokens: AtomicU32::new(capacity),
            capacity,
        }
    }

    /// The tokens left.
    pub(crate) fn tokens(&self) -> u32 {
        self.tokens.load(Ordering::Relaxed)
    }

    /// Takes the cost of a retry after `outcome` (a timeout costs more);
    /// `None`, taking nothing, when too few tokens are left.
    pub(crate) fn draw(&self, outcome: &Outcome, policy: &RetryPolicy) -> Option<u32> {
        let timed_out = matches!(outcome, Outcome::Failed(e, _) if e.is_timeout());
        let cost = if timed_out {
            policy.timeout_retry_cost
        } else {
            policy.retry_cost
        };
        self.tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| t.checked_sub(cost))
            .ok()
            .map(|_| cost)
    }

    /// After a call's last attempt: an answer that is not a transient
    /// failure returns what the call drew, or one token if it drew none.
    pub(crate) fn settle(&self, outcome: &Outcome, drawn: u32) {
        if outcome.is_transient() {
            return;
        }
        let refill = drawn.max(1);
        let capacity = self.capacity;
        let _ = self
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                (t < capacity).then(|| t.saturating_add(refill).min(capacity))
            });
    }
}

/// What [`decide`] knows of an attempt.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts {
    /// The attempt just made, from 1.
    pub attempt: u32,
    /// Whether the request may be sent twice (idempotent, or allowed).
    pub idempotent: bool,
    /// The answer's status, if there was an answer.
    pub status: Option<StatusCode>,
    /// The answer's `Retry-After`, if any.
    pub retry_after: Option<Duration>,
    /// Whether the attempt failed without a whole answer (connection,
    /// timeout, or a body cut short).
    pub failed: bool,
    /// Whether credentials may still be renewed once on a 401.
    pub may_renew: bool,
    /// Time left before the call's deadline.
    pub time_left: Duration,
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Give the outcome to the caller.
    Return,
    /// Wait, then send again.
    Retry(Duration),
    /// Renew the credentials and send again at once (401 only).
    Renew,
}

/// The retry rule, with no I/O: a 401 may renew credentials once; an
/// idempotent request that failed or got a retryable status is sent again
/// after `Retry-After` (when not longer than the policy allows) or the
/// backoff, while attempts and time are left.
pub(crate) fn decide(f: &Facts, policy: &RetryPolicy) -> Decision {
    if f.status == Some(StatusCode::UNAUTHORIZED) {
        return if f.may_renew {
            Decision::Renew
        } else {
            Decision::Return
        };
    }
    let transient = f.failed || f.status.is_some_and(is_retryable_status);
    if !transient || !f.idempotent || f.attempt >= policy.max_attempts {
        return Decision::Return;
    }
    let delay = match f.retry_after {
        Some(wait) if wait > policy.max_retry_after => return Decision::Return,
        Some(wait) => wait,
        None => policy.backoff(f.attempt),
    };
    if delay >= f.time_left {
        return Decision::Return;
    }
    Decision::Retry(delay)
}

pub(crate) fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// `Retry-After` as a wait: delay-seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn the_retry_rule_as_a_table() {
        let policy = RetryPolicy::default().max_retry_after(Duration::from_secs(10));
        let base = Facts {
            attempt: 1,
            idempotent: true,
            status: None,
            retry_after: None,
            failed: false,
            may_renew: true,
            time_left: Duration::from_secs(60),
        };
        let status = |code| Some(StatusCode::from_u16(code).unwrap());
        let secs = Duration::from_secs;
        type Expect = fn(Decision) -> bool;
        let cases: &[(&str, Facts, Expect)] = &[
            (
                "200 returns",
                Facts {
                    status: status(200),
                    ..base
                },
                |d| d == Decision::Return,
            ),
            (
                "404 returns",
                Facts {
                    status: status(404),
                    ..base
                },
                |d| d == Decision::Return,
            ),
            (
                "301 returns",
                Facts {
                    status: status(301),
                    ..base
                },
                |d| d == Decision::Return,
            ),
            (
                "401 renews once",
                Facts {
                    status: status(401),
                    ..base
                },
                |d| d == Decision::Renew,
            ),
            (
                "a second 401 returns",
                Facts {
                    status: status(401),
                    may_renew: false,
                    ..base
                },
                |d| d == Decision::Return,
            ),
            (
                "503 retries",
                Facts {
                    status: status(503),
                    ..base
                },
                |d| matches!(d, Decision::Retry(w) if w <= Duration::from_millis(200)),
            ),
            (
                "a failed GET retries",
                Facts {
                    failed: true,
                    ..base
                },
                |d| matches!(d, Decision::Retry(_)),
            ),
            (
                "a failed POST returns",
                Facts {
                    failed: true,
                    idempotent: false,
                    ..base
                },
                |d| d == Decision::Return,
            ),
            (
                "the last attempt returns",
                Facts {
                    failed: true,
                    attempt: 3,
                    ..base
                },
                |d| d == Decision::Return,
            ),
            (
                "Retry-After is waited for",
                Facts {
                    status: status(429),
                    retry_after: Some(secs(7)),
                    ..base
                },
                |d| d == Decision::Retry(Duration::from_secs(7)),
            ),
            (
                "a Retry-After past the policy returns",
                Facts {
                    status: status(429),
                    retry_after: Some(secs(11)),
                    ..base
                },
                |d| d == Decision::Return,
            ),
            (
                "a wait past the deadline returns",
                Facts {
                    status: status(429),
                    retry_after: Some(secs(7)),
                    time_left: secs(5),
                    ..base
                },
                |d| d == Decision::Return,
            ),
        ];
        for (name, facts, expected) in cases {
            let decision = decide(facts, &policy);
            assert!(expected(decision), "{name}: {decision:?}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let later = std::time::SystemTime::now() + Duration::from_secs(120);
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        let wait = retry_after(&h).unwrap();
        assert!(
            wait > Duration::from_secs(110) && wait <= Duration::from_secs(120),
            "{wait:?}"
        );
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }
}
