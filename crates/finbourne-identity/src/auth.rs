//! FINBOURNE credentials: a personal access token, or an OAuth2 password
//! grant against the customer's token URL, refreshed before it expires.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apikeys_runtime::{
    Auth, AuthContext, AuthError, AuthErrorKind, BoxFuture, Clock, Secret, SystemClock, TokenCache,
    bearer_header, check_credential,
};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderName, HeaderValue};
use serde::Deserialize;

const APP_HEADER: HeaderName = HeaderName::from_static("x-lusid-application");

/// The scopes the official SDK asks for.
const SCOPE: &str = "openid client groups offline_access";

/// What the password grant needs.
#[derive(Clone)]
pub(crate) struct PasswordGrant {
    pub token_url: String,
    pub username: Secret,
    pub password: Secret,
    pub client_id: Secret,
    pub client_secret: Secret,
}

enum Mode {
    /// A fixed `Authorization` value: nothing to renew, nothing to lock.
    AccessToken(HeaderValue),
    Grant(PasswordGrant),
}

/// FINBOURNE credentials. Built by [`crate::Configuration`], or directly.
///
/// With the password grant, one access token serves every caller; it is
/// renewed after 90% of its life (and at least 30 s before it expires) with
/// the refresh token when the token endpoint gave one, else with the
/// password grant again. Concurrent callers share one renewal and its
/// outcome: a refused grant (a 4xx from the token URL) is never sent again
/// by this client, so that wrong credentials cannot lock the account; an
/// unavailable token URL (5xx, timeout, no connection) gives a retryable
/// error and is tried again by the first call after a backoff (1 s,
/// doubling to 30 s). A call answered 401 renews the token and is sent
/// once more.
pub struct FbnAuth {
    mode: Mode,
    app_name: Option<HeaderValue>,
    token: TokenCache<HeaderValue>,
    refresh: Mutex<Option<Secret>>,
}

impl fmt::Debug for FbnAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match &self.mode {
            Mode::AccessToken(_) => "access token",
            Mode::Grant(_) => "password grant",
        };
        f.debug_struct("FbnAuth")
            .field("mode", &mode)
            .field("app_name", &self.app_name)
            .field("token", &self.token)
            .finish()
    }
}

/// The token endpoint's answer.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Secret,
    /// Read leniently (see [`lifetime`]): services send it as a number, a
    /// string, a float, or a negative "unknown".
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    refresh_token: Option<Secret>,
}

/// The longest a token is used without renewal, whatever `expires_in`
/// says; also the lifetime of one whose `expires_in` is missing or
/// unreadable would be one hour.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// A token's lifetime from its `expires_in`: whole or fractional seconds,
/// as a number or a string; missing, unreadable, zero or negative values
/// mean the default hour, and anything longer than a day is a day.
fn lifetime(expires_in: Option<&serde_json::Value>) -> Duration {
    let seconds = match expires_in {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match seconds {
        Some(s) if s.is_finite() && s > 0.0 => {
            Duration::from_secs_f64(s.min(MAX_TOKEN_LIFETIME.as_secs_f64()))
        }
        _ => DEFAULT_TOKEN_LIFETIME,
    }
}

#[derive(Deserialize)]
struct TokenError {
    error: String,
}

impl FbnAuth {
    /// Sends `token` (a personal access token) as the bearer token.
    pub fn access_token(
        token: impl Into<Secret>,
        app_name: Option<String>,
    ) -> Result<Self, AuthError> {
        let header = bearer_header("the access token", &token.into())?;
        Ok(Self {
            mode: Mode::AccessToken(header),
            app_name: app_header(app_name)?,
            token: TokenCache::new(Arc::new(SystemClock)),
            refresh: Mutex::new(None),
        })
    }

    pub(crate) fn password_grant(
        grant: PasswordGrant,
        app_name: Option<String>,
    ) -> Result<Self, AuthError> {
        check_credential("the token URL", &grant.token_url)?;
        check_credential("the username", grant.username.expose())?;
        check_credential("the password", grant.password.expose())?;
        check_credential("the client id", grant.client_id.expose())?;
        check_credential("the client secret", grant.client_secret.expose())?;
        let url = reqwest::Url::parse(&grant.token_url).map_err(|_| {
            AuthError::new("the token URL is not an absolute URL: write it as https://host/path")
        })?;
        if !matches!(url.scheme(), "https" | "http")
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(AuthError::new(
                "the token URL must be https (http only for a local test server) and carry no user or password",
            ));
        }
        Ok(Self {
            mode: Mode::Grant(grant),
            app_name: app_header(app_name)?,
            token: TokenCache::new(Arc::new(SystemClock)),
            refresh: Mutex::new(None),
        })
    }

    /// Reads time from `clock` (for tests). Forgets a token obtained by the
    /// password grant.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.token = TokenCache::new(clock);
        self
    }

    /// Obtains a token: with the refresh token when there is one (falling
    /// back to the password), else with the password.
    async fn obtain(
        &self,
        ctx: AuthContext<'_>,
        grant: &PasswordGrant,
    ) -> Result<(HeaderValue, Duration), AuthError> {
        let refresh = self
            .refresh
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let answer = match refresh {
            Some(refresh) => {
                let form = [
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.expose()),
                    ("client_id", grant.client_id.expose()),
                    ("client_secret", grant.client_secret.expose()),
                ];
                match token_request(ctx, &grant.token_url, &form).await {
                    Ok(answer) => answer,
                    // An outage is not a reason to send the password too.
                    Err(e) if e.is_transient() => return Err(e),
                    Err(e) => {
                        tracing::info!(error = %e, "refresh refused; using the password grant");
                        self.password(ctx, grant).await?
                    }
                }
            }
            None => self.password(ctx, grant).await?,
        };
        *self.refresh.lock().unwrap_or_else(|p| p.into_inner()) = answer.refresh_token.clone();
        let lifetime = lifetime(answer.expires_in.as_ref());
        let margin = (lifetime / 10).max(Duration::from_secs(30));
        let use_for = lifetime.saturating_sub(margin).max(Duration::from_secs(1));
        Ok((
            bearer_header("the access token", &answer.access_token)?,
            use_for,
        ))
    }

    async fn password(
        &self,
        ctx: AuthContext<'_>,
        grant: &PasswordGrant,
    ) -> Result<TokenAnswer, AuthError> {
        let form = [
            ("grant_type", "password"),
            ("username", grant.username.expose()),
            ("password", grant.password.expose()),
            ("scope", SCOPE),
            ("client_id", grant.client_id.expose()),
            ("client_secret", grant.client_secret.expose()),
        ];
        token_request(ctx, &grant.token_url, &form).await
    }
}

fn app_header(app_name: Option<String>) -> Result<Option<HeaderValue>, AuthError> {
    app_name
        .map(|name| {
            // Visible ASCII and spaces only: other bytes reach servers as
            // whatever their header parser makes of them.
            let visible = name.bytes().all(|b| (0x20..0x7f).contains(&b));
            visible
                .then(|| HeaderValue::from_str(&name).ok())
                .flatten()
                .ok_or_else(|| {
                    AuthError::new(
                        "the application name cannot be sent in a header: use letters, digits, spaces and ASCII punctuation only",
                    )
                })
        })
        .transpose()
}

/// One request to the token URL. Redirects are not followed (the client's
/// HTTP client is built so), so the form's password and client secret go
/// to the token URL's origin and nowhere else.
async fn token_request(
    ctx: AuthContext<'_>,
    token_url: &str,
    form: &[(&str, &str)],
) -> Result<TokenAnswer, AuthError> {
    let unavailable = |what: &str, e: reqwest::Error| {
        let kind = if e.is_timeout() {
            AuthErrorKind::Timeout
        } else {
            AuthErrorKind::Unavailable
        };
        AuthError::of(
            kind,
            format!("the token endpoint {what}; a later call tries again"),
        )
        .because(e.without_url())
    };
    let mut response = ctx
        .http
        .post(token_url)
        .header(ACCEPT, "application/json")
        .form(form)
        .timeout(ctx.attempt_timeout())
        .send()
        .await
        .map_err(|e| unavailable("could not be reached", e))?;
    let status = response.status();
    let body = apikeys_runtime::read_limited(&mut response, MAX_TOKEN_ANSWER)
        .await
        .map_err(|e| unavailable("answer could not be read", e))?
        .ok_or_else(|| AuthError::new("the token endpoint's answer is too large"))?;
    let reason = serde_json::from_slice::<TokenError>(&body).ok();
    if !status.is_success() {
        let reason = reason
            .map(|e| format!(" ({})", e.error))
            .unwrap_or_default();
        let kind = AuthErrorKind::of_status(status);
        let code = status.as_u16();
        let message = match kind {
            AuthErrorKind::Refused => format!(
                "the token endpoint refused the grant: HTTP {code}{reason}; it is not sent again by this client: check the username, password, client id and secret, then call Client::reset_credentials or build the client again"
            ),
            AuthErrorKind::Unavailable => format!(
                "the token endpoint is unavailable: HTTP {code}{reason}; a later call tries again"
            ),
            _ => format!(
                "the token endpoint answered HTTP {code} (a redirect is not followed, so that the password stays with the configured token URL); check the token URL, then call Client::reset_credentials"
            ),
        };
        return Err(AuthError::of(kind, message));
    }
    // An OAuth error in a success answer is still a refusal.
    if let Some(refusal) = reason {
        return Err(AuthError::of(
            AuthErrorKind::Refused,
            format!(
                "the token endpoint refused the grant ({}); it is not sent again by this client: check the settings, then call Client::reset_credentials or build the client again",
                refusal.error
            ),
        ));
    }
    // Anything else unreadable (a proxy's or portal's page, a body cut
    // short) is an outage: retried after the backoff.
    let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|_| {
        AuthError::of(
            AuthErrorKind::Unavailable,
            format!(
                "the token endpoint answered HTTP {} without an access_token (a proxy's or portal's page, say); a later call tries again after a backoff, or at once after Client::reset_credentials",
                status.as_u16()
            ),
        )
    })?;
    match answer.token_type.as_deref().map(str::trim) {
        None | Some("") => Ok(answer),
        Some(t) if t.eq_ignore_ascii_case("bearer") => Ok(answer),
        Some(other) => Err(AuthError::new(format!(
            "the token endpoint issued a token of type \"{}\", which this client cannot send (it sends bearer tokens only): ask for a bearer token, then call Client::reset_credentials",
            other
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .take(40)
                .collect::<String>()
        ))),
    }
}

const MAX_TOKEN_ANSWER: usize = 256 * 1024;

impl Auth for FbnAuth {
    fn reset(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.token.reset())
    }

    fn endpoints(&self) -> Vec<String> {
        match &self.mode {
            Mode::Grant(grant) => vec![grant.token_url.clone()],
            Mode::AccessToken(_) => Vec::new(),
        }
    }

    fn authorize<'a>(
        &'a self,
        ctx: AuthContext<'a>,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), AuthError>> {
        Box::pin(async move {
            if let Some(app) = &self.app_name {
                request.headers_mut().insert(APP_HEADER, app.clone());
            }
            let header = match &self.mode {
                Mode::AccessToken(header) => header.clone(),
                Mode::Grant(grant) => {
                    self.token
                        .get(ctx.deadline, || self.obtain(ctx, grant))
                        .await?
                }
            };
            request.headers_mut().insert(AUTHORIZATION, header);
            Ok(())
        })
    }

    fn authorize_now(&self, request: &mut reqwest::Request) -> bool {
        let Mode::AccessToken(header) = &self.mode else {
            return false;
        };
        if let Some(app) = &self.app_name {
            request.headers_mut().insert(APP_HEADER, app.clone());
        }
        request.headers_mut().insert(AUTHORIZATION, header.clone());
        true
    }

    /// A token of the password grant is renewed on a 401; a personal
    /// access token, given as it is, is not.
    fn sent_credentials(&self, request: &reqwest::Request) -> Option<HeaderValue> {
        let Mode::Grant(_) = self.mode else {
            return None;
        };
        request.headers().get(AUTHORIZATION).cloned()
    }

    fn renew_on_unauthorized<'a>(
        &'a self,
        sent: &'a HeaderValue,
        _body: &'a [u8],
    ) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            self.token.invalidate(sent).await;
            true
        })
    }

    fn scheme(&self) -> &'static str {
        match self.mode {
            Mode::AccessToken(_) => "bearer",
            Mode::Grant(_) => "oauth2-password",
        }
    }
}
