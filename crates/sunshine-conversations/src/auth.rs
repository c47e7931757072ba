//! Sunshine Conversations credentials: HTTP Basic with a key id and secret,
//! or a JSON Web Token signed with them.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use apikeys_runtime::{
    Auth, AuthContext, AuthError, BoxFuture, Clock, Secret, SystemClock, TokenCache,
};
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use sha2::Sha256;

/// What a token may act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One app: for keys that belong to an app or to one of its integrations.
    App,
    /// Every app of the account: for account keys.
    Account,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::App => "app",
            Scope::Account => "account",
        }
    }
}

/// Bearer JSON Web Tokens minted from a key id and secret (HS256, the key
/// id in the `kid` header, the scope in the `scope` claim).
///
/// A token is minted on first use and reused by every call until it is
/// close to its expiry (when one is set with [`JwtAuth::expires_after`]);
/// without an expiry one token serves the client's whole life.
pub struct JwtAuth {
    key_id: String,
    secret: Secret,
    scope: Scope,
    ttl: Option<Duration>,
    cache: TokenCache<HeaderValue>,
}

impl fmt::Debug for JwtAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAuth")
            .field("key_id", &self.key_id)
            .field("secret", &self.secret)
            .field("scope", &self.scope)
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl JwtAuth {
    /// Tokens for key `key_id` signed with `secret`, acting on `scope`.
    pub fn new(key_id: impl Into<String>, secret: impl Into<Secret>, scope: Scope) -> Self {
        Self {
            key_id: key_id.into(),
            secret: secret.into(),
            scope,
            ttl: None,
            cache: TokenCache::new(Arc::new(SystemClock)),
        }
    }

    /// The shortest lifetime [`JwtAuth::expires_after`] takes: a minute.
    /// The service's clock and this machine's may differ by up to that
    /// (the skew JWT readers commonly allow), so a token that lived less
    /// could arrive already expired.
    pub const MIN_LIFETIME: Duration = Duration::from_secs(60);

    /// Gives every token an `exp` claim `ttl` after it is minted (at most
    /// the end of year 9999, whatever `ttl`); a new token is minted once 90%
    /// of `ttl` has passed. A `ttl` shorter than [`JwtAuth::MIN_LIFETIME`]
    /// (zero included) is refused here: such tokens would be expired, or
    /// nearly, when the service reads them.
    pub fn expires_after(mut self, ttl: Duration) -> Result<Self, AuthError> {
        if ttl < Self::MIN_LIFETIME {
            return Err(AuthError::new(format!(
                "a token lifetime of {} s is shorter than the {} s a token must outlive the clock skew between this machine and the service by: give at least {} s",
                ttl.as_secs_f64(),
                Self::MIN_LIFETIME.as_secs(),
                Self::MIN_LIFETIME.as_secs()
            )));
        }
        self.ttl = Some(ttl);
        Ok(self)
    }

    /// Reads time from `clock` (for tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.cache = TokenCache::new(clock);
        self
    }

    /// Mints a new token now.
    pub fn mint(&self) -> Result<Secret, AuthError> {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = serde_json::json!({ "alg": "HS256", "typ": "JWT", "kid": self.key_id });
        let now = self
            .cache
            .clock()
            .now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| AuthError::new("the clock reads before 1970"))?
            .as_secs();
        let mut claims = serde_json::json!({ "scope": self.scope.as_str(), "iat": now });
        if let Some(ttl) = self.ttl {
            // However long the ttl, the expiry stays a date every JWT
            // reader takes (at most the last second of year 9999).
            const LATEST_EXP: u64 = 253_402_300_799;
            claims["exp"] = now.saturating_add(ttl.as_secs()).min(LATEST_EXP).into();
        }
        let signing_input = format!(
            "{}.{}",
            b64.encode(header.to_string()),
            b64.encode(claims.to_string())
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.expose().as_bytes())
            .map_err(|_| AuthError::new("the key secret cannot be used as an HMAC key"))?;
        mac.update(signing_input.as_bytes());
        let signature = b64.encode(mac.finalize().into_bytes());
        Ok(Secret::new(format!("{signing_input}.{signature}")))
    }

    /// How long a token is used before a new one is minted.
    fn use_for(&self) -> Duration {
        match self.ttl {
            Some(ttl) => ttl - ttl / 10,
            None => Duration::MAX,
        }
    }
}

impl Auth for JwtAuth {
    fn authorize<'a>(
        &'a self,
        ctx: AuthContext<'a>,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), AuthError>> {
        Box::pin(async move {
            let header = self
                .cache
                .get(ctx.deadline, || async {
                    let token = self.mint()?;
                    let value = apikeys_runtime::bearer_header("the signed token", &token)?;
                    Ok((value, self.use_for()))
                })
                .await?;
            request.headers_mut().insert(AUTHORIZATION, header);
            Ok(())
        })
    }

    fn scheme(&self) -> &'static str {
        "jwt"
    }

    fn validate(&self) -> Result<(), AuthError> {
        apikeys_runtime::sensitive_header("the key id", &self.key_id)?;
        apikeys_runtime::check_credential("the key secret", self.secret.expose())
    }
}
