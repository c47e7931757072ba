//! What a failed exchange says about itself: a TLS problem (not worth
//! retrying), or a failure before the request left (safe to send again).

/// Why TLS failed, as far as the error chain tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsProblem {
    /// The server's certificate was refused (unknown issuer, expired,
    /// another name, ...).
    Certificate,
    /// The server answered an `https` URL in plain HTTP.
    PlainHttp,
    /// Another handshake failure (no common protocol version or cipher, an
    /// alert from the server).
    Handshake,
}

impl TlsProblem {
    /// What to tell the user.
    pub(crate) fn advice(self) -> &'static str {
        match self {
            Self::Certificate => {
                "the server's TLS certificate was refused; check the base URL's host name, or, for a private CA, add its root to the reqwest::ClientBuilder given to ClientBuilder::http_client_builder"
            }
            Self::PlainHttp => {
                "the server answered in plain HTTP to an https URL: the port speaks HTTP, not TLS; check the base URL's scheme and port"
            }
            Self::Handshake => {
                "the TLS handshake failed; the server and this client share no protocol version or cipher, or the server refused the connection"
            }
        }
    }
}

/// The TLS problem behind `error`, if it is one. TLS libraries do not share
/// an error type, so the chain's messages are read (rustls and OpenSSL
/// word them as below).
pub(crate) fn tls_problem(error: &(dyn std::error::Error + 'static)) -> Option<TlsProblem> {
    let mut messages = String::new();
    let mut next = Some(error);
    while let Some(e) = next {
        messages.push_str(&e.to_string().to_ascii_lowercase());
        messages.push('\n');
        next = e.source();
    }
    let has = |words: &[&str]| words.iter().any(|w| messages.contains(w));
    if has(&[
        "invalidcontenttype",
        "corrupt message",
        "wrong version number",
        "http request",
        "packet length too long",
    ]) {
        Some(TlsProblem::PlainHttp)
    } else if has(&["certificate", "unknownissuer", "notvalidforname"]) {
        Some(TlsProblem::Certificate)
    } else if has(&[
        "handshake",
        "ssl routines",
        "peer sent alert",
        "received fatal alert",
        "tls",
    ]) {
        Some(TlsProblem::Handshake)
    } else {
        None
    }
}

/// Whether `error` is a TLS failure: such a failure repeats, so it is not
/// retried.
pub(crate) fn is_tls(error: &reqwest::Error) -> bool {
    error.is_connect() && tls_problem(error).is_some()
}

/// Whether the request surely did not reach the service: the connection
/// was never made. Anything else (a timeout while waiting, a reset, a body
/// cut short) may have come after the service acted.
pub(crate) fn surely_not_sent(error: &reqwest::Error) -> bool {
    error.is_connect() || error.is_builder()
}
