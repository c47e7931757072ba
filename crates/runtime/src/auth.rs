//! Credentials: the [`Auth`] trait every provider's scheme implements, the
//! common schemes, and a token cache that renews once for all callers.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};

use crate::Secret;

/// A boxed, sendable future (what [`Auth`] methods return).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why credentials could not be put on a request.
///
/// Its message never holds a secret: implementations word it themselves.
pub struct AuthError {
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl AuthError {
    /// An error with a message (which must not contain secrets).
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// An error caused by `source` (an error of the token endpoint, say).
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Debug for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthError")
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

    /// Told of a 401 answer to `sent` (and the answer's body); returns
    /// whether fresh credentials are worth one more attempt. The default
    /// never retries.
    fn renew_on_unauthorized<'a>(
        &'a self,
        _sent: &'a reqwest::Request,
        _body: &'a [u8],
    ) -> BoxFuture<'a, bool> {
        Box::pin(async { false })
    }

    /// A short name of the scheme for `Debug` output ("basic", "bearer").
    fn scheme(&self) -> &'static str;
}

/// Marks a header value as sensitive so that HTTP/2 never indexes it and
/// `Debug` of the header map hides it.
pub fn sensitive_header(value: &str) -> Result<HeaderValue, AuthError> {
    let mut v = HeaderValue::from_str(value)
        .map_err(|_| AuthError::new("a credential holds characters a header cannot carry"))?;
    v.set_sensitive(true);
    Ok(v)
}

/// A fixed `Authorization` header: HTTP Basic credentials or a bearer token.
#[derive(Clone)]
pub struct AuthorizationHeader {
    header: HeaderValue,
    scheme: &'static str,
}

impl AuthorizationHeader {
    /// HTTP Basic credentials: a user (a key id, say) and a password (a secret).
    pub fn basic(user: impl AsRef<str>, password: &Secret) -> Result<Self, AuthError> {
        let pair = format!("{}:{}", user.as_ref(), password.expose());
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        Ok(Self {
            header: sensitive_header(&format!("Basic {encoded}"))?,
            scheme: "basic",
        })
    }

    /// A bearer token, sent as `Authorization: Bearer <token>`.
    pub fn bearer(token: &Secret) -> Result<Self, AuthError> {
        Ok(Self {
            header: sensitive_header(&format!("Bearer {}", token.expose()))?,
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
        request
            .headers_mut()
            .insert(AUTHORIZATION, self.header.clone());
        Box::pin(async { Ok(()) })
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

    /// Adds header `name` carrying `value`.
    pub fn with(mut self, name: &'static str, value: &Secret) -> Result<Self, AuthError> {
        self.headers.push((
            HeaderName::from_static(name),
            sensitive_header(value.expose())?,
        ));
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

    fn scheme(&self) -> &'static str {
        "headers"
    }
}

/// The time source token caches use; tests inject a [`ManualClock`].
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

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<SystemTime>);

impl ManualClock {
    /// A clock that reads `start`.
    pub fn new(start: SystemTime) -> Self {
        Self(Mutex::new(start))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }
}

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

/// Holds one token (or a header made from it) for every caller, and renews
/// it when it is due.
///
/// Concurrent callers that find the token missing or due wait for a single
/// renewal and all use its result.
pub struct TokenCache<T = Secret> {
    clock: Arc<dyn Clock>,
    slot: tokio::sync::Mutex<Option<Cached<T>>>,
}

impl<T> fmt::Debug for TokenCache<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenCache([REDACTED])")
    }
}

impl<T: Clone + PartialEq> TokenCache<T> {
    /// An empty cache reading time from `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            slot: tokio::sync::Mutex::new(None),
        }
    }

    /// A cache holding `value` for `use_for` from now.
    pub fn holding(clock: Arc<dyn Clock>, value: T, use_for: Duration) -> Self {
        let renew_at = later(clock.now(), use_for);
        Self {
            clock,
            slot: tokio::sync::Mutex::new(Some(Cached { value, renew_at })),
        }
    }

    /// The clock this cache reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The cached value, or a fresh one from `renew` when none is cached or
    /// the cached one is due. `renew` returns the value and how long to use
    /// it before renewing.
    pub async fn get<F, Fut>(&self, renew: F) -> Result<T, AuthError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(T, Duration), AuthError>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(cached) = slot.as_ref()
            && self.clock.now() < cached.renew_at
        {
            return Ok(cached.value.clone());
        }
        let (value, use_for) = renew().await?;
        *slot = Some(Cached {
            value: value.clone(),
            renew_at: later(self.clock.now(), use_for),
        });
        Ok(value)
    }

    /// Forgets the cached value if it is still `stale`, so that the next
    /// [`TokenCache::get`] renews; a value another caller already renewed
    /// is kept.
    pub async fn invalidate(&self, stale: &T) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|c| &c.value == stale) {
            *slot = None;
        }
    }
}
