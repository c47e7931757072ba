//! The error every generated operation returns.

use std::fmt;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::AuthError;

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The service answered with a status that is not a success (any
    /// non-2xx, declared in the spec or not).
    Status,
    /// A success status whose body does not decode into the declared type;
    /// the raw bytes are kept.
    Decode,
    /// The connection failed or broke before an answer was read.
    Transport,
    /// The call ran past one of its timeouts.
    Timeout,
    /// Credentials could not be obtained or put on the request.
    Auth,
    /// The request could not be built (a value a header cannot carry, or a
    /// path parameter that is empty, `.` or `..`, say); nothing was sent.
    InvalidRequest,
    /// The answer's body was larger than the client's limit
    /// (`ClientBuilder::max_response_bytes`); it was not read further and
    /// the connection was dropped.
    TooLarge,
    /// A call that must not run twice (a POST or PATCH: a create) was
    /// sent, but its answer was not read whole: the connection broke or
    /// timed out after the request left, or the body was cut short. The
    /// service may have carried it out. Never retryable: look (list the
    /// keys) before repeating it. The status and headers are kept when
    /// they arrived.
    OutcomeUnknown,
    /// TLS failed: the server's certificate was refused, the server
    /// answered an `https` URL in plain HTTP, or the handshake failed. Not
    /// retried: the next attempt would fail the same way.
    Tls,
}

/// A failed call: which operation, what the service answered, and why.
///
/// `E` is the provider's error body for the operation; it is decoded when
/// the body matches, and the raw body is kept in all cases.
#[non_exhaustive]
pub struct Error<E> {
    /// Boxed, so that a `Result` holding an error stays the size of its
    /// success value (and the futures that hold one stay small).
    pub(crate) inner: Box<Inner<E>>,
}

/// What an [`Error`] holds.
pub(crate) struct Inner<E> {
    pub(crate) kind: ErrorKind,
    pub(crate) operation_id: &'static str,
    pub(crate) attempts: u32,
    pub(crate) status: Option<StatusCode>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) provider: Option<E>,
    pub(crate) request_id: Option<String>,
    pub(crate) source: Option<Box<dyn std::error::Error + Send + Sync>>,
    /// For [`ErrorKind::Auth`]: whether the credentials' endpoint failed in
    /// a way that passes.
    pub(crate) transient_auth: bool,
}

impl<E> Error<E> {
    pub(crate) fn new(kind: ErrorKind, operation_id: &'static str) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                operation_id,
                attempts: 0,
                status: None,
                headers: HeaderMap::new(),
                body: Bytes::new(),
                provider: None,
                request_id: None,
                source: None,
                transient_auth: false,
            }),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The spec's operation id of the call (`createCustomIntegrationKey`).
    pub fn operation_id(&self) -> &'static str {
        self.inner.operation_id
    }

    /// How many attempts were sent (0 when none was).
    pub fn attempts(&self) -> u32 {
        self.inner.attempts
    }

    /// The HTTP status of the last answer, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status
    }

    /// The headers of the last answer (empty when there was none).
    pub fn headers(&self) -> &HeaderMap {
        &self.inner.headers
    }

    /// The provider's request id, when the answer carried one.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// The provider's error body, when it decoded into the declared type.
    pub fn provider_error(&self) -> Option<&E> {
        self.inner.provider.as_ref()
    }

    /// Takes the provider's error body out of the error.
    pub fn into_provider_error(self) -> Option<E> {
        self.inner.provider
    }

    /// The raw body of the last answer (empty when there was none).
    pub fn body(&self) -> &[u8] {
        &self.inner.body
    }

    /// The raw body as text, when it is UTF-8.
    pub fn body_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.inner.body).ok()
    }

    /// The raw body as a [`Secret`](crate::Secret): for a success answer that did not
    /// decode (`ErrorKind::Decode`), this is the only copy of what the
    /// service returned, a new key's secret included.
    pub fn body_secret(&self) -> crate::Secret {
        crate::Secret::new(String::from_utf8_lossy(&self.inner.body))
    }

    /// The raw body parsed as JSON, when it is JSON.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.inner.body).ok()
    }

    /// Whether trying the same call again may succeed: connection failures,
    /// timeouts, the statuses 408, 429, 502, 503 and 504, and a credentials
    /// endpoint that was unavailable (never a refusal of the credentials).
    ///
    /// Never for [`ErrorKind::OutcomeUnknown`], [`ErrorKind::Tls`] or
    /// [`ErrorKind::Decode`].
    pub fn is_retryable(&self) -> bool {
        match self.inner.kind {
            ErrorKind::Transport | ErrorKind::Timeout => true,
            ErrorKind::Status => self.inner.status.is_some_and(is_retryable_status),
            ErrorKind::Auth => self.inner.transient_auth,
            _ => false,
        }
    }

    /// Where the service redirected the call, for a 3xx answer: redirects
    /// are never followed, so that credentials stay with the origin they
    /// were configured for.
    pub fn redirect_location(&self) -> Option<&str> {
        if !self.inner.status.is_some_and(|s| s.is_redirection()) {
            return None;
        }
        self.inner
            .headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    /// Whether the call ran out of time.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }
}

/// `url` without a `user:password@` part.
fn without_userinfo(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url.strip_prefix("//").unwrap_or(url)),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let rest = match rest[..authority_end].rfind('@') {
        Some(at) => &rest[at + 1..],
        None => rest,
    };
    match scheme {
        Some(scheme) => format!("{scheme}://{rest}"),
        None if url.starts_with("//") => format!("//{rest}"),
        None => rest.to_owned(),
    }
}

/// The statuses worth retrying.
pub fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 502 | 503 | 504)
}

impl<E: fmt::Debug> fmt::Debug for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("operation_id", &self.inner.operation_id)
            .field("attempts", &self.inner.attempts)
            .field("status", &self.inner.status)
            .field("request_id", &self.inner.request_id)
            // A body decoded as the error type is shown only for error
            // statuses: a success body may carry a secret.
            .field(
                "provider",
                &self
                    .inner
                    .provider
                    .as_ref()
                    .filter(|_| !self.inner.status.is_some_and(|s| s.is_success())),
            )
            .field("body_len", &self.inner.body.len())
            .field("source", &self.inner.source)
            .finish()
    }
}

impl<E> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: ", self.inner.operation_id)?;
        match self.inner.kind {
            ErrorKind::Status => write!(f, "HTTP {}", self.inner.status.unwrap_or_default())?,
            ErrorKind::Decode if self.inner.body.iter().all(u8::is_ascii_whitespace) => write!(
                f,
                "the service carried out the call (HTTP {}) but its answer carried no data: whatever it created (a key, a secret) did not reach us; list before repeating the call",
                self.inner.status.map(|s| s.as_u16()).unwrap_or_default()
            )?,
            ErrorKind::Decode => write!(
                f,
                "the service carried out the call (HTTP {}) but its answer does not decode, so do not repeat the call: the raw answer, which may hold a secret shown only once, is in Error::body_secret()",
                self.inner.status.map(|s| s.as_u16()).unwrap_or_default()
            )?,
            ErrorKind::OutcomeUnknown => {
                f.write_str("the request was sent but its answer was not read whole")?;
                if let Some(status) = self.inner.status {
                    write!(
                        f,
                        " (HTTP {} arrived, then the body broke off)",
                        status.as_u16()
                    )?;
                }
                f.write_str(
                    ", so the service may have carried it out: check (list the keys) before repeating it, or a second key may be created",
                )?;
            }
            ErrorKind::Tls => f.write_str("TLS failed")?,
            ErrorKind::Transport => f.write_str("the connection failed")?,
            ErrorKind::Timeout => f.write_str("timed out")?,
            ErrorKind::Auth => f.write_str("authentication failed")?,
            ErrorKind::InvalidRequest => f.write_str("the request could not be built")?,
            ErrorKind::TooLarge => write!(
                f,
                "the HTTP {} answer is larger than the client's limit",
                self.inner.status.map(|s| s.as_u16()).unwrap_or_default()
            )?,
        }
        if let Some(location) = self.redirect_location() {
            // Without the query, which may carry a token of the
            // redirecting service, nor a user or password.
            let shown = without_userinfo(location.split(['?', '#']).next().unwrap_or_default());
            write!(
                f,
                ": the service redirects to {shown}, which is not followed so that credentials never leave the configured origin; if the API has moved, set the base URL to the new address"
            )?;
        }
        if self.inner.attempts > 1 {
            write!(f, " after {} attempts", self.inner.attempts)?;
        }
        if let Some(id) = &self.inner.request_id {
            write!(f, " (request id {id})")?;
        }
        if let Some(message) = self.provider_message() {
            write!(f, ": the service says \"{message}\"")?;
        }
        match (&self.inner.source, self.inner.kind) {
            // A connection's cause is at the end of its chain ("connection
            // refused"), not in reqwest's own words ("error sending
            // request").
            (Some(source), ErrorKind::Transport | ErrorKind::Timeout) => {
                let mut root: &(dyn std::error::Error + 'static) = &**source;
                while let Some(next) = root.source() {
                    root = next;
                }
                write!(f, ": {root}")?;
            }
            (Some(source), _) => write!(f, ": {source}")?,
            (None, _) => {}
        }
        Ok(())
    }
}

impl<E> Error<E> {
    /// The human-readable message of a provider's error body, when it has
    /// one in a field such services use (`message`, `detail`, `title`,
    /// `error_description`, `error`, or the first of `errors`), cut to 200
    /// characters. Only for error statuses.
    pub fn provider_message(&self) -> Option<String> {
        if !self
            .inner
            .status
            .is_some_and(|s| s.is_client_error() || s.is_server_error())
        {
            return None;
        }
        let body: serde_json::Value = serde_json::from_slice(&self.inner.body).ok()?;
        let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
        let found = ["message", "detail", "title", "error_description", "error"]
            .iter()
            .find_map(|k| body.get(*k).and_then(text))
            .or_else(|| {
                let first = body.get("errors")?.as_array()?.first()?.clone();
                ["title", "message", "detail", "code"]
                    .iter()
                    .find_map(|k| first.get(*k).and_then(text))
            })?;
        let mut shown: String = found
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        if found.chars().count() > 200 {
            shown.push('…');
        }
        Some(shown)
    }
}

impl<E: fmt::Debug> std::error::Error for Error<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|s| &**s as &(dyn std::error::Error + 'static))
    }
}

/// A client could not be configured.
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// No base URL was given and the spec has none without variables.
    MissingBaseUrl,
    /// The base URL does not parse (the URL itself is not repeated: it may
    /// carry credentials).
    InvalidBaseUrl(String),
    /// The HTTP client could not be created (TLS setup, say).
    Http(reqwest::Error),
    /// Credentials could not be set up.
    Auth(AuthError),
    /// A configuration value is missing or malformed.
    Config(String),
    /// The API needs credentials and none were given.
    MissingAuth,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingBaseUrl => f.write_str("no base URL was given"),
            Self::InvalidBaseUrl(why) => write!(f, "the base URL is invalid: {why}"),
            Self::Http(e) => write!(f, "the HTTP client could not be created: {e}"),
            Self::Auth(e) => write!(f, "credentials could not be set up: {e}"),
            Self::Config(why) => write!(f, "configuration error: {why}"),
            Self::MissingAuth => f.write_str(
                "no credentials were given and the API needs them: call .auth(...) on the builder (or .no_auth() if a proxy adds them)",
            ),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Http(e) => Some(e),
            Self::Auth(e) => Some(e),
            _ => None,
        }
    }
}

impl From<AuthError> for BuildError {
    fn from(e: AuthError) -> Self {
        Self::Auth(e)
    }
}

/// Why a request could not be written as the caller asked (a form body
/// that cannot be spelt, a media type its operation does not offer): small,
/// so that the helpers that fail with it return small results; the
/// generated method's `?` turns it into progenitor's `InvalidRequest`,
/// before anything is sent.
#[doc(hidden)]
#[derive(Debug)]
pub struct Unsendable(pub(crate) String);

impl fmt::Display for Unsendable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<E> From<Unsendable> for progenitor_client::Error<E> {
    fn from(e: Unsendable) -> Self {
        Self::InvalidRequest(e.0)
    }
}
