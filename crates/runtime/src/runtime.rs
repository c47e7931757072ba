//! The per-call machinery behind every generated operation: progenitor's
//! hooks call [`Runtime::pre`] and [`Runtime::exec`], and each operation
//! method runs inside [`call`].

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use progenitor_client::ResponseValue;
use reqwest::header::{
    CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER, USER_AGENT,
};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tracing::Instrument;
use tracing::field::Empty;

use crate::error::is_retryable_status;
use crate::{Auth, AuthContext, AuthError, AuthErrorKind, Error, ErrorKind, RetryPolicy, Timeouts};

/// Headers in which providers send a request id, looked up in this order.
const REQUEST_ID_HEADERS: [&str; 5] = [
    "x-request-id",
    "x-zendesk-request-id",
    "x-correlation-id",
    "request-id",
    "x-amzn-requestid",
];

/// What one call has seen so far; shared between [`call`] and the hooks
/// through a task-local, so that concurrent calls never mix.
#[derive(Default)]
struct CallRecord {
    /// When the whole call must be over (`Timeouts::total` after it began).
    deadline: Option<Instant>,
    attempts: u32,
    status: Option<StatusCode>,
    headers: HeaderMap,
    body: Bytes,
    /// A failure of ours that progenitor's error type cannot carry.
    failure: Option<Failure>,
}

/// Failures found by the hooks, reported by [`call`].
enum Failure {
    /// Credentials could not be obtained (found by the pre-hook).
    Auth(AuthError),
    /// The answer's body passed the limit (found by the exec hook).
    TooLarge { limit: usize },
}

tokio::task_local! {
    static CALL: Arc<Mutex<CallRecord>>;
}

fn with_record<R>(f: impl FnOnce(&mut CallRecord) -> R) -> Option<R> {
    CALL.try_with(|r| {
        let mut guard = r.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    })
    .ok()
}

/// State a generated client carries: credentials, timeouts and retry
/// policy. Cloning is cheap; clones share the credentials.
#[derive(Clone)]
pub struct Runtime {
    auth: Option<Arc<dyn Auth>>,
    user_agent: HeaderValue,
    timeouts: Timeouts,
    retry: RetryPolicy,
    /// The largest body read from an answer.
    max_response_bytes: usize,
    /// Whether the HTTP client was built by [`crate::ClientBuilder`], with
    /// `timeouts.attempt` as its timeout and our User-Agent (else each
    /// request gets them).
    own_client: bool,
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
    /// A runtime with these parts; [`crate::ClientBuilder`] is the usual way.
    pub fn new(
        auth: Option<Arc<dyn Auth>>,
        user_agent: &'static str,
        timeouts: Timeouts,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            auth,
            user_agent: HeaderValue::from_static(user_agent),
            timeouts,
            retry,
            max_response_bytes: crate::DEFAULT_MAX_RESPONSE_BYTES,
            own_client: false,
        }
    }

    /// A copy that reads at most `limit` bytes of an answer's body.
    pub fn with_max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Marks the HTTP client as built by [`crate::ClientBuilder`] (with
    /// `timeouts.attempt` as its timeout and our User-Agent), so that
    /// requests need neither of their own unless the call's deadline is
    /// nearer than an attempt.
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
    pub fn with_retry_policy(&self, retry: RetryPolicy) -> Self {
        Self {
            retry,
            ..self.clone()
        }
    }

    /// A copy with other timeouts (set on each request from now on).
    pub fn with_timeouts(&self, timeouts: Timeouts) -> Self {
        Self {
            timeouts,
            own_client: false,
            ..self.clone()
        }
    }

    fn context<'a>(
        &self,
        http: &'a reqwest::Client,
        base_url: &'a str,
        operation_id: &'static str,
    ) -> AuthContext<'a> {
        AuthContext {
            operation_id,
            http,
            base_url,
            timeouts: self.timeouts,
            deadline: self.deadline(),
        }
    }

    /// The current call's deadline (or one a full budget away, outside a call).
    fn deadline(&self) -> Instant {
        with_record(|r| r.deadline)
            .flatten()
            .unwrap_or_else(|| Instant::now() + self.timeouts.total)
    }

    /// progenitor's pre-hook: names the request in the call's span, sets
    /// the User-Agent and puts the credentials on. An error here stops the
    /// call before anything is sent.
    pub async fn pre(
        &self,
        http: &reqwest::Client,
        base_url: &str,
        request: &mut reqwest::Request,
        operation_id: &'static str,
    ) -> Result<(), String> {
        if tracing::level_enabled!(tracing::Level::INFO) {
            let span = tracing::Span::current();
            span.record("method", request.method().as_str());
            span.record("path", request.url().path());
        }
        if !self.own_client {
            request
                .headers_mut()
                .entry(USER_AGENT)
                .or_insert_with(|| self.user_agent.clone());
        }
        // A POST, PUT or PATCH without a body says so: some front ends
        // (IIS, Azure) answer 411 Length Required to one that does not.
        if request.body().is_none()
            && matches!(
                *request.method(),
                Method::POST | Method::PUT | Method::PATCH
            )
        {
            request
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
        }
        if let Some(auth) = &self.auth
            && let Err(e) = auth
                .authorize(self.context(http, base_url, operation_id), request)
                .await
        {
            let message = e.to_string();
            with_record(|r| r.failure = Some(Failure::Auth(e)));
            return Err(message);
        }
        Ok(())
    }

    /// progenitor's post-hook: stops the call when the exec hook found a
    /// failure that progenitor's error type cannot carry (a body over the
    /// limit).
    pub async fn post(&self) -> Result<(), String> {
        match with_record(|r| matches!(r.failure, Some(Failure::TooLarge { .. }))) {
            Some(true) => Err("the answer's body is larger than the limit".into()),
            _ => Ok(()),
        }
    }

    /// progenitor's exec hook: sends the request and reads the answer's
    /// whole body (within the limit) as one attempt, and tries again as
    /// the retry rule (`decide`) says. Redirects are not followed (the HTTP client is
    /// built so): a 3xx is returned like any other answer.
    pub async fn exec(
        &self,
        client: &reqwest::Client,
        base_url: &str,
        mut request: reqwest::Request,
        operation_id: &'static str,
    ) -> reqwest::Result<reqwest::Response> {
        let deadline = self.deadline();
        let idempotent = is_idempotent(request.method()) || self.retry.retry_non_idempotent;
        let mut renewed = false;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if !self.own_client || remaining < self.timeouts.attempt {
                *request.timeout_mut() = Some(self.timeouts.attempt.min(remaining));
            }
            let spare = request.try_clone();
            let outcome = match client.execute(request).await {
                Ok(response) => read_answer(response, self.max_response_bytes).await,
                Err(e) => Outcome::Failed(e),
            };
            let status = outcome.status();
            tracing::debug!(
                attempt,
                status = status.map(|s| s.as_u16()),
                "attempt finished"
            );
            self.record_attempt(attempt, &outcome);

            // A body past the limit is not asked for again: the next
            // answer would be as large.
            let (Some(mut next), false) = (spare, matches!(outcome, Outcome::TooLarge(_))) else {
                return outcome.into_result();
            };
            let facts = Facts {
                attempt,
                idempotent,
                status,
                retry_after: outcome.retry_after(),
                failed: matches!(outcome, Outcome::Failed(_)),
                may_renew: !renewed && self.auth.is_some(),
                time_left: deadline.saturating_duration_since(Instant::now()),
            };
            match decide(&facts, &self.retry) {
                Decision::Return => return outcome.into_result(),
                Decision::Renew => {
                    let Outcome::Answer(_, body) = &outcome else {
                        return outcome.into_result();
                    };
                    let Some(auth) = &self.auth else {
                        return outcome.into_result();
                    };
                    renewed = true;
                    if !auth.renew_on_unauthorized(&next, body).await {
                        return outcome.into_result();
                    }
                    let ctx = self.context(client, base_url, operation_id);
                    if auth.authorize(ctx, &mut next).await.is_err() {
                        return outcome.into_result();
                    }
                    tracing::info!(attempt, "credentials renewed after 401; sending again");
                }
                Decision::Retry(delay) => {
                    tracing::info!(
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        "retrying after a transient failure"
                    );
                    tokio::time::sleep(delay).await;
                }
            }
            request = next;
        }
    }

    /// Keeps what an error needs of the attempt just made: its status, and
    /// the headers and body of an answer that is not a success (a success
    /// answer's are in the `ResponseValue`). Only the last attempt's: a
    /// later failure never shows an earlier answer.
    fn record_attempt(&self, attempt: u32, outcome: &Outcome) {
        with_record(|r| {
            r.attempts = attempt;
            r.status = outcome.status();
            match outcome {
                Outcome::Answer(response, body) if !response.status().is_success() => {
                    r.headers = response.headers().clone();
                    r.body = body.clone();
                }
                Outcome::TooLarge(response) => {
                    r.headers = response.headers().clone();
                    r.body = Bytes::new();
                    r.failure = Some(Failure::TooLarge {
                        limit: self.max_response_bytes,
                    });
                }
                _ if !r.body.is_empty() || !r.headers.is_empty() => {
                    r.headers = HeaderMap::new();
                    r.body = Bytes::new();
                }
                _ => {}
            }
        });
    }
}

/// What one attempt gave.
enum Outcome {
    /// An answer, its body read whole (the response holds it too).
    Answer(reqwest::Response, Bytes),
    /// An answer whose body passed the limit: the response holds no body.
    TooLarge(reqwest::Response),
    /// No answer, or one whose body could not be read.
    Failed(reqwest::Error),
}

impl Outcome {
    fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Answer(r, _) | Self::TooLarge(r) => Some(r.status()),
            Self::Failed(_) => None,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Answer(r, _) => retry_after(r.headers()),
            _ => None,
        }
    }

    fn into_result(self) -> reqwest::Result<reqwest::Response> {
        match self {
            Self::Answer(r, _) | Self::TooLarge(r) => Ok(r),
            Self::Failed(e) => Err(e),
        }
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

fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// Reads an answer's whole body, at most `limit` bytes of it, and puts it
/// back into a response for progenitor to decode. A body over the limit
/// (by its `Content-Length`, or as it streams) is not read further: the
/// response is dropped, and its connection with it.
async fn read_answer(mut response: reqwest::Response, limit: usize) -> Outcome {
    let status = response.status();
    let version = response.version();
    let headers = std::mem::take(response.headers_mut());
    let rebuild = |body: Bytes| {
        let mut rebuilt = http::Response::new(body);
        *rebuilt.status_mut() = status;
        *rebuilt.version_mut() = version;
        *rebuilt.headers_mut() = headers;
        reqwest::Response::from(rebuilt)
    };
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Outcome::TooLarge(rebuild(Bytes::new()));
    }
    // The usual answer comes in one chunk: keep it without a copy.
    let mut first: Option<Bytes> = None;
    let mut rest = bytes::BytesMut::new();
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => return Outcome::Failed(e),
        };
        let read = first.as_ref().map_or(0, Bytes::len) + rest.len();
        if read + chunk.len() > limit {
            drop(response);
            return Outcome::TooLarge(rebuild(Bytes::new()));
        }
        match &first {
            None => first = Some(chunk),
            Some(head) => {
                if rest.is_empty() {
                    rest.extend_from_slice(head);
                }
                rest.extend_from_slice(&chunk);
            }
        }
    }
    let body = if rest.is_empty() {
        first.unwrap_or_default()
    } else {
        rest.freeze()
    };
    Outcome::Answer(rebuild(body.clone()), body)
}

/// Decodes a success answer (any 2xx) into the operation's success type.
/// An empty body (a 204, or a 200 without content) is read as `{}`, then
/// as `null`, so that an operation whose success carries no data succeeds
/// however the service says so; a body the type needs stays an error.
#[doc(hidden)]
pub async fn success<T, E>(
    mut response: reqwest::Response,
) -> Result<ResponseValue<T>, progenitor_client::Error<E>>
where
    T: DeserializeOwned,
{
    use progenitor_client::Error as P;
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let body = response.bytes().await.map_err(P::ResponseBodyError)?;
    let inner = match serde_json::from_slice(&body) {
        Ok(inner) => inner,
        Err(e) if body.iter().all(u8::is_ascii_whitespace) => serde_json::from_str("{}")
            .or_else(|_| serde_json::from_str("null"))
            .map_err(|_| P::InvalidResponsePayload(body, e))?,
        Err(e) => return Err(P::InvalidResponsePayload(body, e)),
    };
    Ok(ResponseValue::new(inner, status, headers))
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

fn request_id(headers: &HeaderMap) -> Option<String> {
    REQUEST_ID_HEADERS.iter().find_map(|name| {
        headers
            .get(HeaderName::from_static(name))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
}

/// Runs one generated operation: a tracing span, the call's deadline, and
/// the translation of progenitor's error into [`Error`].
///
/// The deadline (`Timeouts::total`) holds without a timer of its own: each
/// attempt's timeout is cut to the time left, no retry waits past it, and
/// credential renewals get the time left too.
pub async fn call<T, E, F>(
    runtime: &Runtime,
    operation_id: &'static str,
    operation: F,
) -> Result<ResponseValue<T>, Error<E>>
where
    F: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>>,
    E: DeserializeOwned,
{
    let span = tracing::info_span!(
        "apikeys.call",
        operation_id,
        method = Empty,
        path = Empty,
        status = Empty,
        attempts = Empty,
        duration_ms = Empty,
    );
    let started = Instant::now();
    let record = Arc::new(Mutex::new(CallRecord {
        deadline: Some(started + runtime.timeouts.total),
        ..CallRecord::default()
    }));
    let outcome = CALL
        .scope(record.clone(), operation)
        .instrument(span.clone())
        .await;
    let record = std::mem::take(&mut *record.lock().unwrap_or_else(|p| p.into_inner()));
    let attempts = record.attempts;

    let result = match outcome {
        Ok(value) => Ok(value),
        Err(e) => Err(translate(operation_id, e, record).await),
    };
    let status = match &result {
        Ok(v) => Some(v.status()),
        Err(e) => e.status(),
    };
    if let Some(status) = status {
        span.record("status", status.as_u16());
    }
    span.record("attempts", attempts);
    span.record("duration_ms", started.elapsed().as_millis() as u64);
    match &result {
        Ok(_) => tracing::debug!(parent: &span, "call succeeded"),
        Err(e) => tracing::warn!(parent: &span, error = %e, "call failed"),
    }
    result
}

/// Where and how a body failed to decode, without serde's own message:
/// that quotes the offending value, which could be a secret.
fn describe_decode_error(e: &serde_json::Error) -> String {
    let what = match e.classify() {
        serde_json::error::Category::Data => "a value of the wrong type or shape",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Eof => "JSON that ends too early",
        serde_json::error::Category::Io => "an unreadable body",
    };
    format!("{what} at line {}, column {}", e.line(), e.column())
}

fn response_is_success(status: Option<StatusCode>) -> bool {
    status.is_some_and(|s| s.is_success())
}

fn with_context<E>(mut err: Error<E>, record: CallRecord) -> Error<E> {
    err.attempts = record.attempts;
    err.status = record.status;
    err.request_id = request_id(&record.headers);
    err.headers = record.headers;
    err.body = record.body;
    err
}

async fn translate<E: DeserializeOwned>(
    operation_id: &'static str,
    error: progenitor_client::Error<E>,
    mut record: CallRecord,
) -> Error<E> {
    use progenitor_client::Error as P;
    let failure = record.failure.take();
    let last_status = record.status;
    let base = |kind| with_context(Error::new(kind, operation_id), record);
    match error {
        P::ErrorResponse(value) => {
            let mut err = base(ErrorKind::Status);
            err.status = Some(value.status());
            err.provider = Some(value.into_inner());
            err
        }
        P::UnexpectedResponse(response) => {
            let mut err = base(ErrorKind::Status);
            err.status = Some(response.status());
            err.headers = response.headers().clone();
            err.request_id = request_id(&err.headers);
            if err.body.is_empty() {
                err.body = response.bytes().await.unwrap_or_default();
            }
            // A success body is never read as an error: it may hold a
            // secret, and it is not the provider's error.
            if !response_is_success(err.status) {
                err.provider = serde_json::from_slice(&err.body).ok();
            }
            err
        }
        P::InvalidResponsePayload(bytes, source) => {
            // A declared error status whose body does not decode is still a
            // status error; a success status is a decode error.
            let success = last_status.is_none_or(|s| s.is_success());
            let mut err = base(if success {
                ErrorKind::Decode
            } else {
                ErrorKind::Status
            });
            err.body = bytes;
            err.source = Some(describe_decode_error(&source).into());
            err
        }
        P::CommunicationError(source)
        | P::ResponseBodyError(source)
        | P::InvalidUpgrade(source) => {
            let kind = if source.is_timeout() {
                ErrorKind::Timeout
            } else {
                ErrorKind::Transport
            };
            let mut err = base(kind);
            err.source = Some(Box::new(source.without_url()));
            err
        }
        P::InvalidRequest(message) => {
            let mut err = base(ErrorKind::InvalidRequest);
            err.source = Some(message.into());
            err
        }
        P::Custom(message) => match failure {
            Some(Failure::TooLarge { limit }) => {
                let mut err = base(ErrorKind::TooLarge);
                err.source = Some(
                    format!(
                        "more than {limit} bytes; raise ClientBuilder::max_response_bytes if the service is trusted to send that much"
                    )
                    .into(),
                );
                err
            }
            Some(Failure::Auth(e)) => {
                let kind = match e.kind() {
                    AuthErrorKind::Timeout => ErrorKind::Timeout,
                    _ => ErrorKind::Auth,
                };
                let mut err = base(kind);
                err.transient_auth = e.is_transient();
                err.source = Some(Box::new(e));
                err
            }
            None => {
                let mut err = base(ErrorKind::Auth);
                err.source = Some(message.into());
                err
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
