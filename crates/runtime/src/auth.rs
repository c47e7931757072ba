//! Credentials: the [`Auth`] trait every provider's scheme implements, the
//! common schemes, and a token cache that renews once for all callers.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};

use crate::Secret;

/// A boxed, sendable future (what [`Auth`] methods return).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why credentials could not be obtained, and so whether trying later can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// The provider refused the credentials (a 4xx from a token endpoint,
    /// say). Never repeated automatically: build the client again with
    /// corrected credentials.
    Refused,
    /// The token endpoint failed in a way that passes (a 5xx, 408 or 429,
    /// or a connection that could not be made or broke): a later call may
    /// succeed.
    Unavailable,
    /// The token endpoint did not answer within the call's time.
    Timeout,
    /// Anything else: a credential that cannot be used, an answer without
    /// a token. Permanent until the configuration changes.
    Invalid,
}

impl AuthErrorKind {
    /// What an answer of a credentials endpoint (a token URL, a partner
    /// authentication) with a status that is not a success means: a
    /// redirect is `Invalid` (it is not followed, the configuration must
    /// change); 408, 429 and 5xx are `Unavailable`; other 4xx are `Refused`.
    pub fn of_status(status: reqwest::StatusCode) -> Self {
        if status.is_redirection() {
            Self::Invalid
        } else if status.is_server_error() || crate::is_retryable_status(status) {
            Self::Unavailable
        } else if status.is_client_error() {
            Self::Refused
        } else {
            Self::Invalid
        }
    }
}

/// Why credentials could not be put on a request.
///
/// Its message never holds a secret: implementations word it themselves.
/// Cloning is cheap (the source is shared), so that every caller waiting on
/// one failed authentication gets the same error.
#[derive(Clone)]
pub struct AuthError {
    kind: AuthErrorKind,
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl AuthError {
    /// A permanent error ([`AuthErrorKind::Invalid`]) with a message, which
    /// must not contain secrets.
    pub fn new(message: impl Into<String>) -> Self {
        Self::of(AuthErrorKind::Invalid, message)
    }

    /// An error of `kind` with a message, which must not contain secrets.
    pub fn of(kind: AuthErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// A permanent error caused by `source` (see [`AuthError::because`] to
    /// set the kind).
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::new(message).because(source)
    }

    /// This error, caused by `source` (an error of the token endpoint, say).
    #[must_use]
    pub fn because(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> AuthErrorKind {
        self.kind
    }

    /// Whether a later attempt may succeed without a change of
    /// configuration (the endpoint was unavailable or slow).
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            AuthErrorKind::Unavailable | AuthErrorKind::Timeout
        )
    }
}

impl fmt::Debug for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|s| &**s as &(dyn std::error::Error + 'static))
    }
}

/// What an [`Auth`] may use to obtain credentials: the operation being
/// authorized, and the client's HTTP client, base URL and timeouts (to call
/// the provider's own token endpoint, say).
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct AuthContext<'a> {
    /// The spec's operation id of the call being authorized.
    pub operation_id: &'static str,
    /// The client's HTTP client (its connection pool).
    pub http: &'a reqwest::Client,
    /// The client's base URL.
    pub base_url: &'a str,
    /// The client's timeouts.
    pub timeouts: crate::Timeouts,
    /// When the call being authorized must be over.
    pub deadline: std::time::Instant,
}

impl AuthContext<'_> {
    /// The time left before the call's deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline
            .saturating_duration_since(std::time::Instant::now())
    }

    /// The timeout for one request made to obtain credentials: the attempt
    /// timeout, cut to the time left.
    pub fn attempt_timeout(&self) -> Duration {
        self.timeouts.attempt.min(self.remaining())
    }
}

impl fmt::Debug for AuthContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthContext")
            .field("operation_id", &self.operation_id)
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// A way of putting credentials on requests.
///
/// The runtime calls [`Auth::authorize`] before a call's first attempt, and
/// [`Auth::renew_on_unauthorized`] when an attempt is answered 401: if that
/// returns `true`, the request is authorized again and sent once more.
pub trait Auth: Send + Sync + 'static {
    /// Adds credentials to `request`.
    fn authorize<'a>(
        &'a self,
        ctx: AuthContext<'a>,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), AuthError>>;

    /// Puts credentials that need no waiting (fixed headers) on `request`
    /// and returns `true`; the runtime then skips [`Auth::authorize`]. The
    /// default returns `false`: credentials come from `authorize`.
    fn authorize_now(&self, _request: &mut reqwest::Request) -> bool {
        false
    }

    /// The credentials on `request`, about to be sent, that a 401 answer
    /// would prove stale: what [`Auth::renew_on_unauthorized`] is handed
    /// if it comes. Called before each attempt that may still renew.
    /// `None`, the default, means a 401 to this request is never worth a
    /// renewal; credentials that are never renewed (fixed keys, a minted
    /// token whose key was refused) keep the default, and the runtime then
    /// keeps nothing of what it sends.
    fn sent_credentials(&self, _request: &reqwest::Request) -> Option<HeaderValue> {
        None
    }

    /// Told of a 401 answer to a request that carried `sent` (what
    /// [`Auth::sent_credentials`] returned for it) and of the answer's
    /// body; returns whether fresh credentials are worth one more attempt.
    /// Renewing only while `sent` is still the current credential lets
    /// many calls refused at once renew once. The default never renews.
    fn renew_on_unauthorized<'a>(
        &'a self,
        _sent: &'a HeaderValue,
        _body: &'a [u8],
    ) -> BoxFuture<'a, bool> {
        Box::pin(async { false })
    }

    /// Forgets a kept failure to obtain credentials (a refused or
    /// unreadable token answer), so that the next call tries again at
    /// once. What `Client::reset_credentials` calls; the default, for
    /// credentials that are never obtained, does nothing.
    fn reset(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    /// URLs these credentials call besides the base URL (a token URL), so
    /// that [`crate::ClientBuilder::build`] holds them to the same rules
    /// (no plain http off this machine without an opt-in). The default:
    /// none.
    fn endpoints(&self) -> Vec<String> {
        Vec::new()
    }

    /// A short name of the scheme for `Debug` output ("basic", "bearer").
    fn scheme(&self) -> &'static str;

    /// Checks the configuration before the client is built (empty or
    /// unusable credentials, say); [`crate::ClientBuilder::build`] turns an
    /// error into a `BuildError`. The default accepts everything.
    fn validate(&self) -> Result<(), AuthError> {
        Ok(())
    }
}

/// Checks a credential setting before it is used: it must not be empty (or
/// only white space) and must hold no control characters (a stray newline
/// from a file or a terminal, say). The error names `setting`, never the
/// value.
pub fn check_credential(setting: &str, value: &str) -> Result<(), AuthError> {
    if value.trim().is_empty() {
        return Err(AuthError::new(format!(
            "{setting} is empty: set it to the value the provider issued"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(AuthError::new(format!(
            "{setting} holds a control character (a trailing newline, say): remove it"
        )));
    }
    Ok(())
}

/// A credential as a header value: checked like [`check_credential`], and
/// visible ASCII only, since that is all a header carries faithfully.
/// Marked sensitive, so that HTTP/2 never indexes it and `Debug` of the
/// header map hides it. The error names `setting`, never the value.
pub fn sensitive_header(setting: &str, value: &str) -> Result<HeaderValue, AuthError> {
    check_credential(setting, value)?;
    let mut v = HeaderValue::from_str(value)
        .ok()
        .filter(|_| value.is_ascii())
        .ok_or_else(|| {
            AuthError::new(format!(
                "{setting} holds a character a header cannot carry (only printable ASCII is sent): check that the whole value was copied, and nothing else"
            ))
        })?;
    v.set_sensitive(true);
    Ok(v)
}

/// `Bearer <token>` as a sensitive header value; the token is checked like
/// [`sensitive_header`], and errors name `setting`.
pub fn bearer_header(setting: &str, token: &Secret) -> Result<HeaderValue, AuthError> {
    sensitive_header(setting, token.expose())?;
    sensitive_header(setting, &format!("Bearer {}", token.expose()))
}

/// A fixed `Authorization` header: HTTP Basic credentials or a bearer token.
#[derive(Clone)]
pub struct AuthorizationHeader {
    header: HeaderValue,
    scheme: &'static str,
}

impl AuthorizationHeader {
    /// HTTP Basic credentials: a user (a key id, say) and a password (a secret).
    /// Neither may be empty or hold control characters, and the user may
    /// not hold a `:` (Basic could not tell where it ends).
    pub fn basic(user: impl AsRef<str>, password: &Secret) -> Result<Self, AuthError> {
        let user = user.as_ref();
        check_credential("the Basic user", user)?;
        check_credential("the Basic password", password.expose())?;
        if user.contains(':') {
            return Err(AuthError::new(
                "the Basic user holds a ':', which Basic authentication cannot carry",
            ));
        }
        let pair = format!("{user}:{}", password.expose());
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        Ok(Self {
            header: sensitive_header("the Basic credentials", &format!("Basic {encoded}"))?,
            scheme: "basic",
        })
    }

    /// A bearer token, sent as `Authorization: Bearer <token>`.
    pub fn bearer(token: &Secret) -> Result<Self, AuthError> {
        Ok(Self {
            header: bearer_header("the bearer token", token)?,
            scheme: "bearer",
        })
    }
}

impl fmt::Debug for AuthorizationHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthorizationHeader({}, [REDACTED])", self.scheme)
    }
}

impl Auth for AuthorizationHeader {
    fn authorize<'a>(
        &'a self,
        _ctx: AuthContext<'a>,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), AuthError>> {
        self.authorize_now(request);
        Box::pin(async { Ok(()) })
    }

    fn authorize_now(&self, request: &mut reqwest::Request) -> bool {
        request
            .headers_mut()
            .insert(AUTHORIZATION, self.header.clone());
        true
    }

    fn scheme(&self) -> &'static str {
        self.scheme
    }
}

/// Fixed credentials sent in headers of their own (an `apiKey` header, say).
#[derive(Clone, Default)]
pub struct HeaderCredentials {
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl HeaderCredentials {
    /// No headers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds header `name` (any case) carrying `value`. Fails, naming the
    /// header, when the name is not a header name or the value is empty or
    /// holds characters a header cannot carry.
    pub fn with(mut self, name: &str, value: &Secret) -> Result<Self, AuthError> {
        let header = HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
            .map_err(|_| AuthError::new(format!("{name:?} is not a valid header name")))?;
        let value = sensitive_header(&format!("the {name} header"), value.expose())?;
        self.headers.push((header, value));
        Ok(self)
    }

    /// Puts the headers on `request`.
    pub fn apply(&self, request: &mut reqwest::Request) {
        for (name, value) in &self.headers {
            request.headers_mut().insert(name.clone(), value.clone());
        }
    }
}

impl fmt::Debug for HeaderCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HeaderCredentials")
            .field("headers", &names)
            .field("values", &"[REDACTED]")
            .finish()
    }
}

impl Auth for HeaderCredentials {
    fn authorize<'a>(
        &'a self,
        _ctx: AuthContext<'a>,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), AuthError>> {
        self.apply(request);
        Box::pin(async { Ok(()) })
    }

    fn authorize_now(&self, request: &mut reqwest::Request) -> bool {
        self.apply(request);
        true
    }

    fn scheme(&self) -> &'static str {
        "headers"
    }
}

/// The time source token caches use; tests inject a `ManualClock` (feature
/// `test-util`).
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told to, for tests of token expiry and
/// backoff (feature `test-util`).
#[cfg(any(test, feature = "test-util"))]
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<SystemTime>);

#[cfg(any(test, feature = "test-util"))]
impl ManualClock {
    /// A clock that reads `start`.
    pub fn new(start: SystemTime) -> Self {
        Self(std::sync::Mutex::new(start))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }
}

#[cfg(any(test, feature = "test-util"))]
impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `now + d`, saturating far in the future instead of overflowing.
fn later(now: SystemTime, d: Duration) -> SystemTime {
    now.checked_add(d)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(now)
}

/// A value and when to stop using it.
#[derive(Clone)]
struct Cached<T> {
    value: T,
    renew_at: SystemTime,
}

/// The last renewal's failure, shared with every caller that waited on it.
struct Failed {
    error: AuthError,
    /// When a later call may try again; `None`: never (a refusal).
    retry_at: Option<SystemTime>,
}

struct Slot<T> {
    cached: Option<Cached<T>>,
    failed: Option<Failed>,
    /// Transient failures in a row, for the backoff.
    streak: u32,
}

/// The first wait after a transient failure; doubled for each one in a row.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait after transient failures.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Holds one token (or a header made from it) for every caller, and renews
/// it when it is due.
///
/// Renewals are single-flight, and so are their failures:
///
/// - concurrent callers that find the token missing or due wait for one
///   renewal and all use its result, success or error;
/// - a refusal ([`AuthErrorKind::Refused`] or [`AuthErrorKind::Invalid`]) is
///   kept: every later call gets the same error without a request, until
///   [`TokenCache::reset`] (providers lock accounts after a few refusals);
/// - a transient failure is kept for a backoff (1 s, doubling up to 30 s):
///   calls in that time get the same error, the first call after it tries
///   again;
/// - every caller waits no longer than its own deadline, whoever renews.
pub struct TokenCache<T = Secret> {
    clock: Arc<dyn Clock>,
    slot: tokio::sync::Mutex<Slot<T>>,
    /// Renewals finished, successful or not; read before waiting for the
    /// slot, so that a waiter can tell that a renewal ended while it waited.
    renewals: std::sync::atomic::AtomicU64,
}

impl<T> fmt::Debug for TokenCache<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenCache([REDACTED])")
    }
}

impl<T: Clone + PartialEq> TokenCache<T> {
    /// An empty cache reading time from `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self::with_slot(clock, None)
    }

    /// A cache holding `value` for `use_for` from now.
    pub fn holding(clock: Arc<dyn Clock>, value: T, use_for: Duration) -> Self {
        let renew_at = later(clock.now(), use_for);
        Self::with_slot(clock, Some(Cached { value, renew_at }))
    }

    fn with_slot(clock: Arc<dyn Clock>, cached: Option<Cached<T>>) -> Self {
        Self {
            clock,
            slot: tokio::sync::Mutex::new(Slot {
                cached,
                failed: None,
                streak: 0,
            }),
            renewals: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The clock this cache reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The cached value, or a fresh one from `renew` when none is cached or
    /// the cached one is due. `renew` returns the value and how long to use
    /// it before renewing. Gives up at `deadline`, whether this caller
    /// renews or waits on another's renewal.
    pub async fn get<F, Fut>(&self, deadline: std::time::Instant, renew: F) -> Result<T, AuthError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(T, Duration), AuthError>>,
    {
        use std::sync::atomic::Ordering;
        let deadline = tokio::time::Instant::from_std(deadline);
        let seen = self.renewals.load(Ordering::Acquire);
        let mut slot = tokio::time::timeout_at(deadline, self.slot.lock())
            .await
            .map_err(|_| out_of_time("waiting for another call to obtain credentials"))?;
        let now = self.clock.now();
        if let Some(cached) = &slot.cached
            && now < cached.renew_at
        {
            return Ok(cached.value.clone());
        }
        if let Some(failed) = &slot.failed {
            let ended_while_waiting = self.renewals.load(Ordering::Acquire) != seen;
            if ended_while_waiting || failed.retry_at.is_none_or(|at| now < at) {
                return Err(failed.error.clone());
            }
        }
        let outcome = match tokio::time::timeout_at(deadline, renew()).await {
            Ok(outcome) => outcome,
            Err(_) => Err(out_of_time("obtaining credentials")),
        };
        self.renewals.fetch_add(1, Ordering::AcqRel);
        let now = self.clock.now();
        match outcome {
            Ok((value, use_for)) => {
                slot.cached = Some(Cached {
                    value: value.clone(),
                    renew_at: later(now, use_for),
                });
                slot.failed = None;
                slot.streak = 0;
                Ok(value)
            }
            Err(error) => {
                let retry_at = error.is_transient().then(|| {
                    let wait = FIRST_BACKOFF
                        .saturating_mul(2u32.saturating_pow(slot.streak))
                        .min(MAX_BACKOFF);
                    later(now, wait)
                });
                slot.streak = slot.streak.saturating_add(1);
                slot.failed = Some(Failed {
                    error: error.clone(),
                    retry_at,
                });
                Err(error)
            }
        }
    }

    /// Forgets the cached value if it is still `stale`, so that the next
    /// [`TokenCache::get`] renews; a value another caller already renewed
    /// is kept.
    pub async fn invalidate(&self, stale: &T) {
        let mut slot = self.slot.lock().await;
        if slot.cached.as_ref().is_some_and(|c| &c.value == stale) {
            slot.cached = None;
        }
    }

    /// Forgets a kept failure, so that the next call renews at once. Mind
    /// the provider's lockout before calling it after a refusal.
    pub async fn reset(&self) {
        let mut slot = self.slot.lock().await;
        slot.failed = None;
        slot.streak = 0;
    }
}

fn out_of_time(what: &str) -> AuthError {
    AuthError::of(
        AuthErrorKind::Timeout,
        format!("the call's time ran out while {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Instant, UNIX_EPOCH};

    fn clock() -> Arc<ManualClock> {
        Arc::new(ManualClock::new(
            UNIX_EPOCH + Duration::from_secs(1_900_000_000),
        ))
    }

    async fn fail_with(
        cache: &TokenCache<u32>,
        kind: AuthErrorKind,
        renewals: &AtomicUsize,
    ) -> Result<u32, AuthError> {
        cache
            .get(Instant::now() + Duration::from_secs(5), || async {
                renewals.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err(AuthError::of(kind, "no"))
            })
            .await
    }

    #[tokio::test]
    async fn waiters_share_one_failure_and_a_refusal_is_kept() {
        let cache = Arc::new(TokenCache::<u32>::new(clock()));
        let renewals = Arc::new(AtomicUsize::new(0));
        let waiters: Vec<_> = (0..20)
            .map(|_| {
                let (cache, renewals) = (cache.clone(), renewals.clone());
                tokio::spawn(
                    async move { fail_with(&cache, AuthErrorKind::Refused, &renewals).await },
                )
            })
            .collect();
        for w in waiters {
            assert_eq!(w.await.unwrap().unwrap_err().kind(), AuthErrorKind::Refused);
        }
        assert_eq!(renewals.load(Ordering::SeqCst), 1);
        // Kept for later calls too, until reset.
        fail_with(&cache, AuthErrorKind::Refused, &renewals)
            .await
            .unwrap_err();
        assert_eq!(renewals.load(Ordering::SeqCst), 1);
        cache.reset().await;
        fail_with(&cache, AuthErrorKind::Refused, &renewals)
            .await
            .unwrap_err();
        assert_eq!(renewals.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_transient_failure_is_kept_for_a_growing_backoff() {
        let clock = clock();
        let cache = TokenCache::<u32>::new(clock.clone());
        let renewals = AtomicUsize::new(0);
        let unavailable = AuthErrorKind::Unavailable;
        fail_with(&cache, unavailable, &renewals).await.unwrap_err();
        fail_with(&cache, unavailable, &renewals).await.unwrap_err();
        assert_eq!(renewals.load(Ordering::SeqCst), 1, "within 1 s");
        clock.advance(Duration::from_secs(1));
        fail_with(&cache, unavailable, &renewals).await.unwrap_err();
        assert_eq!(renewals.load(Ordering::SeqCst), 2);
        clock.advance(Duration::from_secs(1));
        fail_with(&cache, unavailable, &renewals).await.unwrap_err();
        assert_eq!(renewals.load(Ordering::SeqCst), 2, "the second wait is 2 s");
        clock.advance(Duration::from_secs(1));
        let value = cache
            .get(Instant::now() + Duration::from_secs(1), || async {
                Ok((7, Duration::from_secs(60)))
            })
            .await
            .unwrap();
        assert_eq!(value, 7);
    }

    #[tokio::test]
    async fn a_waiter_gives_up_at_its_own_deadline() {
        let cache = Arc::new(TokenCache::<u32>::new(clock()));
        let holder = {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .get(Instant::now() + Duration::from_secs(30), || async {
                        tokio::time::sleep(Duration::from_secs(20)).await;
                        Ok((1, Duration::from_secs(60)))
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let started = Instant::now();
        let err = cache
            .get(Instant::now() + Duration::from_millis(200), || async {
                Ok((2, Duration::from_secs(60)))
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), AuthErrorKind::Timeout);
        assert!(started.elapsed() < Duration::from_millis(500));
        holder.abort();
    }

    #[test]
    fn credentials_are_checked_and_never_echoed() {
        for (value, says) in [
            ("", "empty"),
            ("  ", "empty"),
            ("abc\n", "control"),
            ("clé", "printable ASCII"),
        ] {
            let err = sensitive_header("the apiKey header", value).unwrap_err();
            assert!(err.to_string().contains("the apiKey header"), "{err}");
            assert!(err.to_string().contains(says), "{value:?}: {err}");
        }
        assert!(
            HeaderCredentials::new()
                .with("X-Api-Key", &Secret::new("k"))
                .is_ok()
        );
        assert!(
            HeaderCredentials::new()
                .with("bad name", &Secret::new("k"))
                .is_err()
        );
        assert!(AuthorizationHeader::basic("a:b", &Secret::new("s")).is_err());
        assert!(AuthorizationHeader::basic("a", &Secret::new("")).is_err());
    }
}
