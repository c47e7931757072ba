//! One call of a generated operation, from the method to the wire and
//! back. The generated method creates a [`Call`], passes it to the
//! operation's body, which hands its request to [`Call::send`], and turns
//! the outcome into our [`Error`] with [`Call::finish`]. Everything a call
//! learns (its deadline, attempts, the last answer's status, headers and
//! body, a failure of ours) lives in the `Call`: no task-locals, no
//! globals. See `DESIGN.md` for the whole flow.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use progenitor_client::ResponseValue;
use reqwest::header::{CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tracing::field::Empty;

use crate::body::{Answer, Outcome, read_answer};
use crate::retry::{Decision, Facts, decide, is_idempotent, retry_after};
use crate::transport::{is_tls, surely_not_sent, tls_problem};
use crate::{AuthContext, AuthError, AuthErrorKind, Error, ErrorKind, Runtime};

/// A copy of `request` for the next attempt. Without a body (GET, DELETE)
/// the copy takes method, URL, headers and version only: reqwest's own
/// `try_clone` also copies the timeout through the extensions map, an
/// allocation per call for a value each attempt sets again anyway.
fn clone_request(request: &reqwest::Request) -> Option<reqwest::Request> {
    if request.body().is_some() {
        return request.try_clone();
    }
    let mut copy = reqwest::Request::new(request.method().clone(), request.url().clone());
    *copy.headers_mut() = request.headers().clone();
    *copy.version_mut() = request.version();
    if let Some(timeout) = request.timeout() {
        *copy.timeout_mut() = Some(*timeout);
    }
    Some(copy)
}

/// Headers in which providers send a request id, looked up in this order.
const REQUEST_ID_HEADERS: [&str; 5] = [
    "x-request-id",
    "x-zendesk-request-id",
    "x-correlation-id",
    "request-id",
    "x-amzn-requestid",
];

/// What a call has seen so far.
#[derive(Default)]
struct CallRecord {
    attempts: u32,
    status: Option<StatusCode>,
    /// What only an error needs, made once an attempt did not succeed:
    /// boxed, so that a call that succeeds carries a pointer, not 180 bytes,
    /// in its future, and allocates nothing for it.
    kept: Option<Box<Kept>>,
    /// Whether the request may not be repeated (POST, PATCH).
    non_idempotent: bool,
    /// Whether the last attempt failed after its request may have reached
    /// the service (so, for a create, the outcome is unknown).
    maybe_carried_out: bool,
}

/// What an error reports of the call beyond its status and attempts.
#[derive(Default)]
struct Kept {
    /// The last answer's headers and body, when it was not a success (a
    /// success answer's are in the `ResponseValue`).
    headers: HeaderMap,
    body: Bytes,
    /// A failure progenitor's error type cannot carry.
    failure: Option<Failure>,
}

impl CallRecord {
    /// What an error will report, made on first use.
    fn kept(&mut self) -> &mut Kept {
        self.kept.get_or_insert_with(Box::default)
    }
}

/// Failures found while sending, reported by [`Call::finish`].
enum Failure {
    /// Credentials could not be obtained.
    Auth(AuthError),
    /// The answer's body passed the limit.
    TooLarge { limit: usize },
}

/// The call stopped in the runtime (credentials, a body past the limit);
/// the typed reason is in the [`Call`], which [`Call::finish`] reports.
/// Converts into progenitor's error so that generated code can use `?`.
#[doc(hidden)]
#[derive(Debug)]
pub struct Stopped;

impl<E> From<Stopped> for progenitor_client::Error<E> {
    fn from(_: Stopped) -> Self {
        Self::Custom("stopped by apikeys-runtime; the reason is in the call".into())
    }
}

/// One call of a generated operation: its runtime, its deadline, its span,
/// and what it has seen. Created and used by generated code only.
#[doc(hidden)]
pub struct Call<'r> {
    runtime: &'r Runtime,
    operation_id: &'static str,
    started: Instant,
    span: tracing::Span,
    record: Mutex<CallRecord>,
}

impl<'r> Call<'r> {
    /// Starts a call of `operation_id` with `runtime`'s settings.
    pub fn start(runtime: &'r Runtime, operation_id: &'static str) -> Self {
        let started = Instant::now();
        let span = tracing::info_span!(
            "apikeys.call",
            operation_id,
            method = Empty,
            path = Empty,
            status = Empty,
            attempts = Empty,
            duration_ms = Empty,
        );
        Self {
            runtime,
            operation_id,
            started,
            span,
            record: Mutex::new(CallRecord::default()),
        }
    }

    /// When the whole call must be over (`Timeouts::total` after it
    /// began): computed when asked, not kept, as every call's future
    /// carries the `Call`.
    fn deadline(&self) -> Instant {
        deadline_after(self.started, self.runtime.timeouts.total)
    }

    fn record<R>(&self, f: impl FnOnce(&mut CallRecord) -> R) -> R {
        f(&mut self.record.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn auth_context<'a>(&self, http: &'a reqwest::Client, base_url: &'a str) -> AuthContext<'a> {
        AuthContext {
            operation_id: self.operation_id,
            http,
            base_url,
            timeouts: self.runtime.timeouts,
            deadline: self.deadline(),
        }
    }

    /// Sends the operation's request: prepares it (User-Agent, a length for
    /// a body-less POST/PUT/PATCH, credentials), then makes attempts until
    /// [`decide`] says to return. Redirects are not followed (the HTTP
    /// client is built so). `Err(Stopped)` when the runtime stopped the
    /// call; `Ok` holds the last attempt's outcome for progenitor to read.
    ///
    /// Written as a function returning its future rather than as an `async
    /// fn`, here and in [`Call::attempt`] and `read_answer`: an `async fn`
    /// keeps its parameters twice (as given, and moved into the body), and
    /// a request is 264 bytes. The future of every call carries these.
    #[allow(clippy::manual_async_fn)]
    pub fn send<'s>(
        &'s self,
        http: &'s reqwest::Client,
        base_url: &'s str,
        mut request: reqwest::Request,
        rebuild: Option<Rebuild<'s>>,
    ) -> impl Future<Output = Result<reqwest::Result<Answer>, Stopped>> + Send + 's {
        async move {
            self.prepare(http, base_url, &mut request).await?;
            let runtime = self.runtime;
            let safe = is_idempotent(request.method());
            self.record(|r| r.non_idempotent = !safe);
            let idempotent = safe || runtime.retry.retry_non_idempotent;
            // Retry tokens this call drew from the client's budget.
            let mut drawn = 0u32;
            let mut renewed = false;
            let mut attempt = 0u32;
            loop {
                attempt += 1;
                // What a renewal after a 401 would judge: the credentials
                // this attempt carries (a token, not the request), while
                // the call has not renewed yet. Boxed, as the copy below:
                // the call's future carries a pointer beside the attempt in
                // flight (a few bytes more put it past glibc's thread cache,
                // which costs every call more than this allocation costs a
                // call that renews).
                let sent = match &runtime.auth {
                    Some(auth) if !renewed => auth.sent_credentials(&request).map(Box::new),
                    _ => None,
                };
                // How a next attempt gets its request, settled before this
                // one consumes the request: built again when the method
                // can, copied only when it cannot. Nothing is copied when
                // no attempt may follow.
                let may_retry = idempotent && attempt < runtime.retry.max_attempts;
                let next = match rebuild {
                    _ if !may_retry && sent.is_none() => None,
                    Some(build) => Some(Again::Rebuild(build)),
                    None => clone_request(&request).map(|copy| Again::Copy(Box::new(copy))),
                };
                // What follows is decided without waiting, in a block that
                // ends the attempt's outcome; each wait below binds only what
                // it needs, so that the call's future keeps no retry's state
                // beside the attempt in flight.
                let then = {
                    let outcome = self.attempt(http, request).await;
                    self.record_attempt(attempt, &outcome);
                    let facts = (attempt, idempotent);
                    self.after(facts, &mut renewed, &mut drawn, outcome, (next, sent))
                };
                // Most calls end here; only a retry or a renewal waits, in
                // a future boxed apart from the call's.
                let between = match then {
                    Next::Return(result) => return result,
                    wait => Box::pin(self.between(http, base_url, wait)),
                };
                match between.await {
                    Ok(again) => request = again,
                    Err(result) => return result,
                }
            }
        }
    }

    /// Carries out what [`Call::after`] decided: the request to send again
    /// (after renewing the credentials, or after a pause), or how the call
    /// ends. One future of its own, so that the call's future holds the
    /// retry's state only while it waits.
    #[allow(clippy::manual_async_fn)]
    fn between<'s>(
        &'s self,
        http: &'s reqwest::Client,
        base_url: &'s str,
        then: Next<'s>,
    ) -> impl Future<Output = Result<reqwest::Request, Result<reqwest::Result<Answer>, Stopped>>>
    + Send
    + 's {
        async move {
            match then {
                Next::Return(result) => Err(result),
                Next::Renew(outcome, sent, again) => {
                    let Some(retry) = self.renew(http, base_url, &outcome, &sent, again).await
                    else {
                        return Err(Ok(outcome.into_result()));
                    };
                    tracing::info!(
                        parent: &self.span,
                        "credentials renewed after 401; sending again"
                    );
                    Ok(retry)
                }
                Next::Sleep(delay, mut retry, prepared) => {
                    tokio::time::sleep(delay).await;
                    if !prepared {
                        self.prepare(http, base_url, &mut retry)
                            .await
                            .map_err(Err)?;
                    }
                    Ok(retry)
                }
            }
        }
    }

    /// After attempt number `attempt`: whether to return its outcome, renew
    /// the credentials and send `next`, or wait and send `next`. Draws a
    /// retry from the client's budget, and settles the budget when the
    /// call ends.
    fn after<'s>(
        &self,
        (attempt, idempotent): (u32, bool),
        renewed: &mut bool,
        drawn: &mut u32,
        outcome: Outcome,
        (next, sent): (Option<Again<'s>>, Option<Box<HeaderValue>>),
    ) -> Next<'s> {
        let runtime = self.runtime;
        // A body past the limit is not asked for again: the next answer
        // would be as large.
        if let Outcome::TooLarge(_) = outcome {
            runtime.budget.settle(&outcome, *drawn);
            return Next::Return(Err(Stopped));
        }
        let Some(again) = next else {
            runtime.budget.settle(&outcome, *drawn);
            return Next::Return(Ok(outcome.into_result()));
        };
        let facts = Facts {
            attempt,
            idempotent,
            status: outcome.status(),
            retry_after: match &outcome {
                Outcome::Answer(a) => retry_after(a.headers()),
                _ => None,
            },
            // A TLS failure repeats: it is returned, not retried.
            failed: matches!(&outcome, Outcome::Failed(e, _) if !is_tls(e)),
            may_renew: sent.is_some(),
            // The clock is read only when a retry is possible.
            time_left: if outcome.is_transient() {
                self.deadline().saturating_duration_since(Instant::now())
            } else {
                Duration::ZERO
            },
        };
        match decide(&facts, &runtime.retry) {
            Decision::Return => {}
            // A renewal is decided only when the credentials sent were
            // kept (`may_renew`).
            Decision::Renew => {
                if let Some(sent) = sent {
                    *renewed = true;
                    return Next::Renew(outcome, sent, again);
                }
            }
            // A retry is paid from the client's budget; an empty budget
            // means the service has been failing for many calls, and
            // another attempt would only add to its load. A request built
            // again (the same closure built the first one, so it does not
            // fail) is prepared after the wait, as the first was.
            Decision::Retry(delay) => {
                if let (Some(retry), prepared) = again.request() {
                    match runtime.budget.draw(&outcome, &runtime.retry) {
                        Some(cost) => {
                            *drawn += cost;
                            tracing::info!(
                                parent: &self.span,
                                attempt,
                                delay_ms = delay.as_millis() as u64,
                                "retrying after a transient failure"
                            );
                            return Next::Sleep(delay, retry, prepared);
                        }
                        None => tracing::info!(
                            parent: &self.span,
                            attempt,
                            "not retrying: the client's retry budget is spent"
                        ),
                    }
                }
            }
        }
        runtime.budget.settle(&outcome, *drawn);
        Next::Return(Ok(outcome.into_result()))
    }

    /// One attempt: the request handed to the HTTP client at once (so that
    /// the attempt's future holds the client's small pending future, not
    /// the request), and its answer read whole (within the limit and the
    /// attempt's time).
    fn attempt<'s>(
        &'s self,
        http: &'s reqwest::Client,
        mut request: reqwest::Request,
    ) -> impl Future<Output = Outcome> + Send + 's {
        let runtime = self.runtime;
        // The HTTP client's own timeout is the attempt timeout; a request
        // needs one of its own only when the call's deadline is nearer
        // (after a slow token request or a retry, say), or when the client
        // is the caller's.
        let attempt_timeout = runtime.timeouts.attempt;
        let remaining = self.deadline().saturating_duration_since(Instant::now());
        if !runtime.own_client || remaining < attempt_timeout {
            *request.timeout_mut() = Some(attempt_timeout.min(remaining));
        }
        let method = request.method().clone();
        let pending = http.execute(request);
        async move {
            // The response is bound on its own, so that the future does not
            // keep the client's `Result` beside the body's read.
            let response = match pending.await {
                Ok(response) => response,
                Err(e) => return attempt_finished(&self.span, Outcome::Failed(e, None)),
            };
            let outcome = read_answer(method, response, runtime.max_response_bytes).await;
            attempt_finished(&self.span, outcome)
        }
    }

    async fn prepare(
        &self,
        http: &reqwest::Client,
        base_url: &str,
        request: &mut reqwest::Request,
    ) -> Result<(), Stopped> {
        self.prepare_headers(request);
        if let Some(auth) = &self.runtime.auth
            && !auth.authorize_now(request)
            && let Err(e) = auth
                .authorize(self.auth_context(http, base_url), request)
                .await
        {
            self.record(|r| r.kept().failure = Some(Failure::Auth(e)));
            return Err(Stopped);
        }
        Ok(())
    }

    /// What [`Call::prepare`] puts on every request but credentials.
    fn prepare_headers(&self, request: &mut reqwest::Request) {
        if tracing::level_enabled!(tracing::Level::INFO) {
            self.span.record("method", request.method().as_str());
            self.span.record("path", request.url().path());
        }
        let runtime = self.runtime;
        if !runtime.own_client {
            request
                .headers_mut()
                .entry(USER_AGENT)
                .or_insert_with(|| runtime.user_agent.clone());
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
    }

    /// After a 401 to a request that carried `sent`: the request to send
    /// again with renewed credentials, or `None` when they were not
    /// renewed (the 401 is then the call's answer).
    async fn renew(
        &self,
        http: &reqwest::Client,
        base_url: &str,
        outcome: &Outcome,
        sent: &HeaderValue,
        again: Again<'_>,
    ) -> Option<reqwest::Request> {
        let (Outcome::Answer(answer), Some(auth)) = (outcome, &self.runtime.auth) else {
            return None;
        };
        if !auth.renew_on_unauthorized(sent, answer.body()).await {
            return None;
        }
        let (next, prepared) = again.request();
        let mut next = next?;
        if !prepared {
            self.prepare_headers(&mut next);
        }
        auth.authorize(self.auth_context(http, base_url), &mut next)
            .await
            .ok()
            .map(|()| next)
    }

    /// Keeps what an error needs of the attempt just made. Only the last
    /// attempt's: a later failure never shows an earlier answer.
    fn record_attempt(&self, attempt: u32, outcome: &Outcome) {
        let limit = self.runtime.max_response_bytes;
        self.record(|r| {
            r.attempts = attempt;
            r.status = outcome.status();
            r.maybe_carried_out = matches!(outcome, Outcome::Failed(e, _) if !surely_not_sent(e));
            match outcome {
                Outcome::Answer(answer) if !answer.status().is_success() => {
                    let kept = r.kept();
                    kept.headers = answer.headers().clone();
                    kept.body = answer.body().clone();
                }
                Outcome::TooLarge(answer) => {
                    let kept = r.kept();
                    kept.headers = answer.headers().clone();
                    kept.body = Bytes::new();
                    kept.failure = Some(Failure::TooLarge { limit });
                }
                // The status and headers arrived, the body did not.
                Outcome::Failed(_, Some(answer)) => {
                    let kept = r.kept();
                    kept.headers = answer.headers().clone();
                    kept.body = Bytes::new();
                }
                _ => {
                    if let Some(kept) = &mut r.kept {
                        kept.headers = HeaderMap::new();
                        kept.body = Bytes::new();
                    }
                }
            }
        });
    }

    /// Ends the call: translates progenitor's error into [`Error`] with
    /// everything the call saw, and closes the span.
    pub fn finish<T, E>(
        self,
        outcome: Result<ResponseValue<T>, progenitor_client::Error<E>>,
    ) -> Result<ResponseValue<T>, Error<E>>
    where
        E: DeserializeOwned,
    {
        let record = self.record.into_inner().unwrap_or_else(|p| p.into_inner());
        let attempts = record.attempts;
        let result = match outcome {
            Ok(value) => Ok(value),
            Err(e) => Err(translate(self.operation_id, e, record)),
        };
        let span = &self.span;
        let status = match &result {
            Ok(v) => Some(v.status()),
            Err(e) => e.status(),
        };
        if let Some(status) = status {
            span.record("status", status.as_u16());
        }
        if !span.is_disabled() {
            span.record("attempts", attempts);
            span.record("duration_ms", self.started.elapsed().as_millis() as u64);
        }
        match &result {
            Ok(_) => tracing::debug!(parent: span, "call succeeded"),
            Err(e) => tracing::warn!(parent: span, error = %e, "call failed"),
        }
        result
    }
}

/// What [`Call::send`] does after an attempt.
enum Next<'s> {
    /// The call ends with this.
    Return(Result<reqwest::Result<Answer>, Stopped>),
    /// Renew the credentials after this 401 to a request that carried
    /// these, and send the request again.
    Renew(Outcome, Box<HeaderValue>, Again<'s>),
    /// Wait this long, then send the request again (preparing it first
    /// when it is not yet: a request built again rather than copied).
    Sleep(Duration, reqwest::Request, bool),
}

/// Builds the request of a generated operation again, for a retry, from
/// the method's arguments: cheaper than keeping a copy of every request
/// for a retry that seldom happens. `None` if it cannot be built (it can:
/// the same closure built the first one).
#[doc(hidden)]
pub type Rebuild<'s> = &'s (dyn Fn() -> Option<reqwest::Request> + Sync);

/// Where the request of a next attempt comes from.
enum Again<'s> {
    /// A copy of the prepared request, kept before it was sent: boxed, so
    /// that the call's future carries a pointer beside the attempt in
    /// flight, not a request.
    Copy(Box<reqwest::Request>),
    /// The operation's own builder.
    Rebuild(Rebuild<'s>),
}

impl Again<'_> {
    /// The request, and whether it is already prepared.
    fn request(self) -> (Option<reqwest::Request>, bool) {
        match self {
            Again::Copy(request) => (Some(*request), true),
            Again::Rebuild(build) => (build(), false),
        }
    }
}

/// Logs the end of an attempt; returns its outcome.
fn attempt_finished(span: &tracing::Span, outcome: Outcome) -> Outcome {
    tracing::debug!(
        parent: span,
        status = outcome.status().map(|s| s.as_u16()),
        "attempt finished"
    );
    outcome
}

/// When a call that began at `started` must be over: `total` later, or,
/// for a total too large to add to an `Instant`, in a century.
fn deadline_after(started: Instant, total: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    started
        .checked_add(total)
        .or_else(|| started.checked_add(CENTURY))
        .unwrap_or(started)
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    REQUEST_ID_HEADERS.iter().find_map(|name| {
        headers
            .get(HeaderName::from_static(name))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
}

/// Where and how a body failed to decode, without serde's own message:
/// that quotes the offending value, which could be a secret.
fn describe_decode_error(e: &serde_json::Error) -> String {
    // Reading from memory fails with I/O only where the runtime says why
    // itself (a content coding it cannot undo): its own words, no value.
    if e.is_io() {
        return e.to_string();
    }
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
    err.inner.attempts = record.attempts;
    err.inner.status = record.status;
    let kept = record.kept.map(|k| *k).unwrap_or_default();
    err.inner.request_id = request_id(&kept.headers);
    err.inner.headers = kept.headers;
    err.inner.body = kept.body;
    err
}

fn translate<E: DeserializeOwned>(
    operation_id: &'static str,
    error: progenitor_client::Error<E>,
    mut record: CallRecord,
) -> Error<E> {
    use progenitor_client::Error as P;
    let failure = record.kept.as_mut().and_then(|k| k.failure.take());
    let last_status = record.status;
    let outcome_unknown = record.non_idempotent && record.maybe_carried_out;
    let base = |kind| with_context(Error::new(kind, operation_id), record);
    match error {
        P::ErrorResponse(value) => {
            let mut err = base(ErrorKind::Status);
            err.inner.status = Some(value.status());
            err.inner.provider = Some(value.into_inner());
            err
        }
        P::UnexpectedResponse(response) => {
            let mut err = base(ErrorKind::Status);
            err.inner.status = Some(response.status());
            err.inner.headers = response.headers().clone();
            err.inner.request_id = request_id(&err.inner.headers);
            // The body is in the record: every answer that is not a
            // success is kept there.
            // A success body is never read as an error: it may hold a
            // secret, and it is not the provider's error.
            if !response_is_success(err.inner.status) {
                err.inner.provider = serde_json::from_slice(&err.inner.body).ok();
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
            err.inner.body = bytes;
            err.inner.source = Some(describe_decode_error(&source).into());
            err
        }
        P::CommunicationError(source)
        | P::ResponseBodyError(source)
        | P::InvalidUpgrade(source) => {
            let tls = source.is_connect().then(|| tls_problem(&source)).flatten();
            let kind = if let Some(tls) = tls {
                let mut root: &(dyn std::error::Error + 'static) = &source;
                while let Some(next) = root.source() {
                    root = next;
                }
                let why = format!("{} ({root})", tls.advice());
                let mut err = base(ErrorKind::Tls);
                err.inner.source = Some(why.into());
                return err;
            } else if outcome_unknown {
                ErrorKind::OutcomeUnknown
            } else if source.is_timeout() {
                ErrorKind::Timeout
            } else {
                ErrorKind::Transport
            };
            let mut err = base(kind);
            err.inner.source = Some(Box::new(source.without_url()));
            err
        }
        P::InvalidRequest(message) => {
            let mut err = base(ErrorKind::InvalidRequest);
            err.inner.source = Some(message.into());
            err
        }
        P::Custom(message) => match failure {
            Some(Failure::TooLarge { limit }) => {
                let mut err = base(ErrorKind::TooLarge);
                err.inner.source = Some(
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
                err.inner.transient_auth = e.is_transient();
                err.inner.source = Some(Box::new(e));
                err
            }
            None => {
                let mut err = base(ErrorKind::Auth);
                err.inner.source = Some(message.into());
                err
            }
        },
    }
}
