//! Configuring a generated client.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::{Auth, BuildError, RetryPolicy, Runtime, Timeouts};

/// What the runtime needs of a generated client; implemented by the code
/// `apikeys-codegen` generates, not by hand.
pub trait GeneratedClient: Sized {
    /// The API's title, from the spec.
    const API: &'static str;
    /// `<crate name>/<crate version>`, sent as the User-Agent.
    const USER_AGENT: &'static str;
    /// The spec's server URLs, in its order.
    const SERVERS: &'static [&'static str];
    /// Whether the spec's operations need credentials (it declares a
    /// security requirement).
    const REQUIRES_AUTH: bool;

    /// Assembles a client.
    fn from_parts(base_url: &str, http: reqwest::Client, runtime: Runtime) -> Self;
    /// The client's runtime.
    fn runtime(&self) -> &Runtime;
    /// The client's HTTP client.
    fn http(&self) -> &reqwest::Client;
    /// The client's base URL.
    fn base_url(&self) -> &str;
}

/// Builds a generated client: base URL, credentials, timeouts, retry policy
/// and, optionally, a `reqwest::ClientBuilder` of the caller's.
#[must_use = "a builder does nothing until .build() is called"]
pub struct ClientBuilder<C> {
    base_url: Option<String>,
    auth: Option<Arc<dyn Auth>>,
    no_auth: bool,
    allow_insecure_http: bool,
    timeouts: Timeouts,
    retry: RetryPolicy,
    max_response_bytes: usize,
    http: Option<reqwest::ClientBuilder>,
    client: PhantomData<fn() -> C>,
}

impl<C> std::fmt::Debug for ClientBuilder<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url_set", &self.base_url.is_some())
            .field("auth", &self.auth.as_ref().map(|a| a.scheme()))
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("custom_http_client", &self.http.is_some())
            .finish()
    }
}

impl<C: GeneratedClient> Default for ClientBuilder<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: GeneratedClient> ClientBuilder<C> {
    /// A builder with the default timeouts and retry policy, no
    /// credentials, and the spec's first server without variables.
    pub fn new() -> Self {
        Self {
            base_url: None,
            auth: None,
            no_auth: false,
            allow_insecure_http: false,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            max_response_bytes: crate::DEFAULT_MAX_RESPONSE_BYTES,
            http: None,
            client: PhantomData,
        }
    }

    /// Sends requests to `url`: scheme (`https://`, or `http://` for a
    /// local test server), host, optional port and path stem. A query, a
    /// fragment or a `user:password@` part is refused by
    /// [`ClientBuilder::build`].
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Puts these credentials on every request.
    pub fn auth(self, auth: impl Auth) -> Self {
        self.shared_auth(Arc::new(auth))
    }

    /// Puts these (shared) credentials on every request.
    pub fn shared_auth(mut self, auth: Arc<dyn Auth>) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Sends requests without credentials although the API needs them
    /// (behind a proxy that adds them, say). Without this, building a
    /// client of such an API with no `.auth(...)` fails.
    pub fn no_auth(mut self) -> Self {
        self.no_auth = true;
        self
    }

    /// Allows plain `http://` to a host that is not this machine, for the
    /// base URL and any URL the credentials call (a token URL). Without it
    /// [`ClientBuilder::build`] refuses such a URL: credentials and keys
    /// would cross the network unencrypted. `http://localhost` and
    /// loopback addresses need no opt-in. Building with it logs a warning.
    pub fn allow_insecure_http(mut self) -> Self {
        self.allow_insecure_http = true;
        self
    }

    /// The largest answer body read, in bytes (default
    /// [`crate::DEFAULT_MAX_RESPONSE_BYTES`], 4 MiB; these APIs answer in
    /// kilobytes). A larger answer fails with `ErrorKind::TooLarge` without
    /// being read further, whatever its status.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Sets all timeouts.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.timeouts.connect = d;
        self
    }

    /// Sets the timeout of one attempt.
    pub fn attempt_timeout(mut self, d: Duration) -> Self {
        self.timeouts.attempt = d;
        self
    }

    /// Sets the timeout of a whole call, retries included.
    pub fn total_timeout(mut self, d: Duration) -> Self {
        self.timeouts.total = d;
        self
    }

    /// Sets the retry policy.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Builds the HTTP client from this `reqwest::ClientBuilder` (its
    /// connect timeout, proxy and TLS settings apply; the attempt and total
    /// timeouts and the User-Agent are still set per request). Its redirect
    /// policy is replaced: redirects are never followed, so that no
    /// credential reaches another origin.
    pub fn http_client_builder(mut self, http: reqwest::ClientBuilder) -> Self {
        self.http = Some(http);
        self
    }

    /// Builds the client, checking the configuration first: the base URL
    /// (absolute, http or https, no query, fragment or user info), and
    /// credentials (present when the API needs them, and usable).
    pub fn build(self) -> Result<C, BuildError> {
        let base = match self.base_url {
            Some(url) => url,
            None => C::SERVERS
                .iter()
                .find(|s| !s.contains('{'))
                .map(|s| s.to_string())
                .ok_or(BuildError::MissingBaseUrl)?,
        };
        let parsed = check_base_url(&base)?;
        if let Err(why) = check_cleartext("the base URL", &parsed, self.allow_insecure_http) {
            return Err(BuildError::InvalidBaseUrl(why));
        }
        match &self.auth {
            Some(auth) => {
                auth.validate()?;
                for endpoint in auth.endpoints() {
                    if let Ok(url) = reqwest::Url::parse(&endpoint) {
                        check_cleartext("the credentials' URL", &url, self.allow_insecure_http)
                            .map_err(|why| BuildError::Auth(crate::AuthError::new(why)))?;
                    }
                }
            }
            None if C::REQUIRES_AUTH && !self.no_auth => return Err(BuildError::MissingAuth),
            None => {}
        }
        let mut runtime = Runtime::new(self.auth, C::USER_AGENT, self.timeouts, self.retry)
            .with_max_response_bytes(self.max_response_bytes);
        let http = match self.http {
            Some(http) => http,
            None => {
                runtime = runtime.with_own_client();
                own_http_client(self.timeouts, &runtime.user_agent)
            }
        };
        let http = http
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(BuildError::Http)?;
        Ok(C::from_parts(base.trim_end_matches('/'), http, runtime))
    }
}

/// The HTTP client the builder makes when the caller gives none: the
/// connect and attempt timeouts, our User-Agent, no redirects.
pub(crate) fn own_http_client(
    timeouts: Timeouts,
    user_agent: &reqwest::header::HeaderValue,
) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.attempt)
        .user_agent(user_agent.clone())
        .redirect(reqwest::redirect::Policy::none())
}

/// Whether `url` names this machine: see [`is_loopback_host`].
fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => is_loopback_host(d),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        None => false,
    }
}

/// Whether a host, as a user writes it, names this machine: `localhost`
/// and its subdomains (RFC 6761 §6.3) in any case, with or without the
/// root's trailing dot; 127.0.0.0/8; `::1`; and 127.0.0.0/8 mapped into
/// IPv6 (`::ffff:127.0.0.1`), bracketed or not. Only these may be sent
/// credentials in plain text.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match bare.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => v4.is_loopback(),
        Ok(std::net::IpAddr::V6(v6)) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => match inet_aton(bare) {
            Some(v4) => v4.is_loopback(),
            None => {
                let lower = host.to_ascii_lowercase();
                lower == "localhost" || lower.ends_with(".localhost")
            }
        },
    }
}

/// An IPv4 address in the other spellings resolvers and URL parsers take
/// (`inet_aton`, WHATWG URL): one to four parts, each decimal, octal
/// (leading `0`) or hexadecimal (`0x`), the last filling the remaining
/// bytes (`127.1`, `0x7f000001`, `2130706433`, `0177.0.0.1`).
fn inet_aton(text: &str) -> Option<std::net::Ipv4Addr> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let numbers: Vec<u64> = parts
        .iter()
        .map(|p| {
            let (digits, radix) = match p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
                Some(hex) => (hex, 16),
                None if p.len() > 1 && p.starts_with('0') => (&p[1..], 8),
                None => (*p, 10),
            };
            if digits.is_empty() && radix == 16 {
                return Some(0);
            }
            (!digits.is_empty() && digits.len() <= 12)
                .then(|| u64::from_str_radix(digits, radix).ok())
                .flatten()
        })
        .collect::<Option<_>>()?;
    let (last, head) = numbers.split_last()?;
    if head.iter().any(|n| *n > 255) || *last >= 1u64 << (8 * (4 - head.len())) {
        return None;
    }
    let value = head
        .iter()
        .enumerate()
        .fold(*last, |acc, (i, n)| acc | (n << (8 * (3 - i))));
    Some(std::net::Ipv4Addr::from(u32::try_from(value).ok()?))
}

/// Refuses plain `http` to a host that is not this machine unless `allowed`;
/// when allowed, says so in a warning. `what` names the URL in messages;
/// the URL itself is not repeated.
fn check_cleartext(what: &str, url: &reqwest::Url, allowed: bool) -> Result<(), String> {
    if url.scheme() != "http" || is_loopback(url) {
        return Ok(());
    }
    if !allowed {
        return Err(format!(
            "{what} is plain http to a host that is not this machine, so credentials and keys would cross the network unencrypted: use https, or call .allow_insecure_http() on the builder if the network is yours"
        ));
    }
    tracing::warn!(
        host = url.host_str().unwrap_or_default(),
        "{what} is plain http: credentials and keys cross the network unencrypted (allowed by allow_insecure_http)"
    );
    Ok(())
}

/// Refuses a base URL that is not absolute http(s), or that carries a
/// query, a fragment or user info. The URL is never repeated: it may hold
/// a password.
fn check_base_url(base: &str) -> Result<reqwest::Url, BuildError> {
    let invalid = |why: &str| Err(BuildError::InvalidBaseUrl(why.to_owned()));
    let parsed = match reqwest::Url::parse(base) {
        Ok(url) => url,
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            return invalid("it has no scheme: add https:// in front of the host");
        }
        Err(e) => return Err(BuildError::InvalidBaseUrl(e.to_string())),
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return invalid("the scheme must be https (or http for a local test server)");
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return invalid("it names no host");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return invalid(
            "it carries a user or password (user:password@host): remove them and give credentials with .auth(...)",
        );
    }
    if parsed.query().is_some() {
        return invalid("it has a query (?...): remove it; operations add their own");
    }
    if parsed.fragment().is_some() {
        return invalid("it has a fragment (#...): remove it");
    }
    Ok(parsed)
}

#[cfg(test)]
mod loopback_tests {
    use super::{inet_aton, is_loopback, is_loopback_host};

    /// Every spelling of an IPv4 address that resolvers and URL parsers
    /// read: dotted, short forms, one number, hex, octal.
    fn spellings(a: [u8; 4]) -> Vec<String> {
        let n = u32::from_be_bytes(a);
        vec![
            format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]),
            format!(
                "{}.{}.{}",
                a[0],
                a[1],
                u32::from(a[2]) << 8 | u32::from(a[3])
            ),
            format!("{}.{}", a[0], n & 0x00ff_ffff),
            format!("{n}"),
            format!("0x{n:x}"),
            format!("0{:o}.{}.{}.{}", a[0], a[1], a[2], a[3]),
            format!("0x{:x}.0x{:x}.{}.{}", a[0], a[1], a[2], a[3]),
        ]
    }

    /// The class, generated: every address of 127.0.0.0/8 sampled at its
    /// ends and inside, in every IPv4 spelling, bare and mapped into IPv6;
    /// `::1` in its spellings; `localhost` and its subdomains in any case,
    /// with or without the root's dot. And what lies just outside it.
    #[test]
    fn every_spelling_of_this_machine_and_nothing_else() {
        let mut this_machine = Vec::new();
        for a in [
            [127, 0, 0, 1],
            [127, 0, 0, 0],
            [127, 255, 255, 255],
            [127, 1, 2, 3],
        ] {
            let dotted = format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]);
            this_machine.extend(spellings(a));
            this_machine.push(format!("[::ffff:{dotted}]"));
            this_machine.push(format!("::FFFF:{dotted}"));
            this_machine.push(format!(
                "[::ffff:{:x}{:02x}:{:x}{:02x}]",
                a[0], a[1], a[2], a[3]
            ));
        }
        for v6 in ["::1", "[::1]", "0:0:0:0:0:0:0:1", "[0000::0001]"] {
            this_machine.push(v6.into());
        }
        for name in ["localhost", "a.localhost", "x.y.localhost"] {
            for spelled in [
                name.to_owned(),
                name.to_uppercase(),
                format!("{name}."),
                format!("{}.", name.to_uppercase()),
            ] {
                this_machine.push(spelled);
            }
        }
        for host in &this_machine {
            assert!(is_loopback_host(host), "{host} is this machine");
            if let Ok(url) = reqwest::Url::parse(&format!("http://{host}:8080/x")) {
                assert!(is_loopback(&url), "http://{host} is this machine");
            }
        }
        let elsewhere = [
            "128.0.0.1",
            "126.255.255.255",
            "10.0.0.1",
            "0.0.0.0",
            "::",
            "::2",
            "[::ffff:10.0.0.1]",
            "::ffff:128.0.0.1",
            "localhost.example.com",
            "mylocalhost",
            "localhost..",
            "127.0.0.1.example",
            "2130706431",
            "0x80000000",
            "127.256.0.1",
            "",
            ".",
        ];
        for host in elsewhere {
            assert!(!is_loopback_host(host), "{host} is not this machine");
        }
        assert_eq!(
            inet_aton("127.1"),
            Some(std::net::Ipv4Addr::new(127, 0, 0, 1))
        );
        assert_eq!(inet_aton("1.2.3.4.5"), None);
    }
}
