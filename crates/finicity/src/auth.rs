//! Finicity credentials: the app key on every request, and a partner token
//! on every request but partner authentication, obtained and renewed by the
//! client itself.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use apikeys_runtime::{
    Auth, AuthContext, AuthError, AuthErrorKind, BoxFuture, Clock, ErrorKind, GeneratedClient,
    HeaderCredentials, RetryPolicy, Runtime, Secret, SystemClock, TokenCache, check_credential,
};
use reqwest::header::{HeaderName, HeaderValue};

use crate::{Client, types};

/// Tokens last two hours; the client renews them after 90 minutes, well
/// before any call can meet an expired one.
pub const TOKEN_RENEW_AFTER: Duration = Duration::from_secs(90 * 60);

/// The error code of an expired token.
pub const EXPIRED_TOKEN_CODE: i64 = 10023;

const APP_KEY: &str = "finicity-app-key";
const APP_TOKEN: HeaderName = HeaderName::from_static("finicity-app-token");
const AUTHENTICATION: &str = "createToken";

/// Finicity's credentials: an app key, and partner credentials the client
/// exchanges for a token (or a token of your own).
///
/// One token serves every call and every clone of the client; it is renewed
/// after [`TOKEN_RENEW_AFTER`], or at once when a call is answered 401 with
/// code 10023 (that call is then sent once more). Concurrent callers share
/// one authentication and its outcome, success or failure. A refused
/// authentication (a 4xx) is never repeated automatically — five refusals
/// lock the partner account — and later calls fail with the same error
/// until [`FinicityAuth::reset`]. An authentication endpoint that is
/// unavailable (5xx, timeout, no connection) gives a retryable error, and
/// is tried again by the first call after a backoff (1 s, doubling to 30 s).
pub struct FinicityAuth {
    app_key: HeaderCredentials,
    partner: Option<(String, Secret)>,
    token: TokenCache<HeaderValue>,
}

impl fmt::Debug for FinicityAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FinicityAuth")
            .field("app_key", &self.app_key)
            .field("partner_id", &self.partner.as_ref().map(|(id, _)| id))
            .field("partner_secret", &self.partner.as_ref().map(|(_, s)| s))
            .field("token", &self.token)
            .finish()
    }
}

impl FinicityAuth {
    /// An app key and the partner credentials to obtain tokens with.
    pub fn partner(
        app_key: impl Into<Secret>,
        partner_id: impl Into<String>,
        partner_secret: impl Into<Secret>,
    ) -> Result<Self, AuthError> {
        let (partner_id, partner_secret) = (partner_id.into(), partner_secret.into());
        check_credential("the partner id", &partner_id)?;
        check_credential("the partner secret", partner_secret.expose())?;
        Ok(Self {
            app_key: HeaderCredentials::new().with(APP_KEY, &app_key.into())?,
            partner: Some((partner_id, partner_secret)),
            token: TokenCache::new(Arc::new(SystemClock)),
        })
    }

    /// An app key and a token you obtained yourself. Without partner
    /// credentials the token is never renewed.
    pub fn token(app_key: impl Into<Secret>, token: impl Into<Secret>) -> Result<Self, AuthError> {
        Ok(Self {
            app_key: HeaderCredentials::new().with(APP_KEY, &app_key.into())?,
            partner: None,
            token: TokenCache::holding(
                Arc::new(SystemClock),
                token_header(&token.into())?,
                Duration::MAX,
            ),
        })
    }

    /// Starts with `token` (renewed after [`TOKEN_RENEW_AFTER`] with the
    /// partner credentials).
    pub fn with_token(mut self, token: impl Into<Secret>) -> Result<Self, AuthError> {
        let clock = self.token.clock().clone();
        self.token = TokenCache::holding(clock, token_header(&token.into())?, TOKEN_RENEW_AFTER);
        Ok(self)
    }

    /// Reads time from `clock` (for tests). Forgets any token held.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.token = TokenCache::new(clock);
        self
    }

    /// Forgets a failed authentication, so that the next call tries again
    /// at once. Mind the lock: five refusals in a row lock the partner
    /// account.
    pub async fn reset(&self) {
        self.token.reset().await;
    }

    async fn authenticate(
        &self,
        ctx: AuthContext<'_>,
    ) -> Result<(HeaderValue, Duration), AuthError> {
        let Some((partner_id, partner_secret)) = &self.partner else {
            return Err(AuthError::new(
                "no token is held and no partner credentials were given to obtain one",
            ));
        };
        // A client of our own for the one call: the app key only, and no
        // retries whatever the caller's policy.
        let runtime = Runtime::new(
            Some(Arc::new(self.app_key.clone())),
            Client::USER_AGENT,
            ctx.timeouts.total(ctx.remaining()),
            RetryPolicy::never(),
        );
        let client = Client::from_parts(ctx.base_url, ctx.http.clone(), runtime);
        let credentials = types::PartnerCredentials {
            partner_id: partner_id.clone(),
            partner_secret: partner_secret.clone(),
        };
        match client.create_token(&credentials).await {
            Ok(answer) => Ok((token_header(&answer.into_inner().token)?, TOKEN_RENEW_AFTER)),
            Err(e) => Err(authentication_failed(e)),
        }
    }
}

/// Words a failed partner authentication by what it means for the next
/// call: a refusal counts towards the lockout, an outage does not.
fn authentication_failed<E>(e: apikeys_runtime::Error<E>) -> AuthError
where
    E: fmt::Debug + Send + Sync + 'static,
{
    let (kind, message) = match (e.kind(), e.status()) {
        (ErrorKind::Timeout, _) => (
            AuthErrorKind::Timeout,
            "partner authentication did not answer in time; a later call tries again".to_owned(),
        ),
        (ErrorKind::Transport | ErrorKind::OutcomeUnknown, _) => (
            AuthErrorKind::Unavailable,
            "partner authentication could not be reached; a later call tries again".to_owned(),
        ),
        // A success without a token: a proxy's or a login portal's page,
        // or a body cut short. Not a refusal: an outage that passes.
        (_, Some(status)) if status.is_success() => (
            AuthErrorKind::Unavailable,
            format!(
                "partner authentication answered HTTP {} without a usable token (a proxy's or portal's page, say); a later call tries again after a backoff, or at once after Client::reset_credentials",
                status.as_u16()
            ),
        ),
        (_, Some(status)) => {
            let kind = AuthErrorKind::of_status(status);
            let code = status.as_u16();
            let message = match kind {
                AuthErrorKind::Refused => format!(
                    "partner authentication was refused (HTTP {code}); it is not repeated automatically, since five refusals lock the partner account: check the partner id and secret, then call Client::reset_credentials (or FinicityAuth::reset), or build the client again"
                ),
                AuthErrorKind::Unavailable => format!(
                    "partner authentication is unavailable (HTTP {code}); a later call tries again"
                ),
                _ if status.is_redirection() => format!(
                    "partner authentication answered HTTP {code}, a redirect, which is not followed so that the partner secret stays with the configured origin; check the base URL, then call Client::reset_credentials"
                ),
                _ => format!(
                    "partner authentication answered HTTP {code}, which is neither a token nor a refusal; check the base URL, then call Client::reset_credentials"
                ),
            };
            (kind, message)
        }
        (_, None) => (
            AuthErrorKind::Unavailable,
            "partner authentication gave no usable token; a later call tries again".to_owned(),
        ),
    };
    AuthError::of(kind, message).because(e)
}

/// The `code` of a Finicity error body, a number or a numeric string;
/// nothing else of the body matters (its other fields vary in type), so
/// nothing else is read.
fn error_code(body: &[u8]) -> Option<i64> {
    #[derive(serde::Deserialize)]
    struct Code {
        code: serde_json::Value,
    }
    match serde_json::from_slice::<Code>(body).ok()?.code {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn token_header(token: &Secret) -> Result<HeaderValue, AuthError> {
    apikeys_runtime::sensitive_header("the Finicity-App-Token", token.expose())
}

impl Auth for FinicityAuth {
    fn authorize<'a>(
        &'a self,
        ctx: AuthContext<'a>,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), AuthError>> {
        Box::pin(async move {
            self.app_key.apply(request);
            if ctx.operation_id == AUTHENTICATION {
                return Ok(());
            }
            let token = self
                .token
                .get(ctx.deadline, || self.authenticate(ctx))
                .await?;
            request.headers_mut().insert(APP_TOKEN, token);
            Ok(())
        })
    }

    /// The token a call carried, when the client obtains tokens itself
    /// (partner authentication's own call carries none).
    fn sent_credentials(&self, request: &reqwest::Request) -> Option<HeaderValue> {
        self.partner.as_ref()?;
        request.headers().get(APP_TOKEN).cloned()
    }

    fn renew_on_unauthorized<'a>(
        &'a self,
        sent: &'a HeaderValue,
        body: &'a [u8],
    ) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            if error_code(body) != Some(EXPIRED_TOKEN_CODE) {
                return false;
            }
            self.token.invalidate(sent).await;
            true
        })
    }

    fn reset(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.token.reset())
    }

    fn scheme(&self) -> &'static str {
        "finicity"
    }
}
