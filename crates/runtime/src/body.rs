//! Reading answers: every body whole and within the limit, inside the
//! attempt (so a body cut short is retried like a failed connection), into
//! an [`Answer`] that generated code decodes without reading anything again.

use bytes::{Bytes, BytesMut};
use progenitor_client::ResponseValue;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::loose;

/// An answer read whole: status, headers and body. What generated
/// operations decode.
#[doc(hidden)]
#[derive(Debug)]
pub struct Answer {
    method: Method,
    status: StatusCode,
    version: reqwest::Version,
    headers: HeaderMap,
    body: Bytes,
    /// Why the body is still content-coded (a coding this client cannot
    /// undo, or a body that does not decode): the body is as it came.
    undecoded: Option<String>,
}

impl Answer {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// As a `reqwest::Response` (for progenitor's error of an undeclared
    /// status: the rare path, so the rebuild's cost does not matter).
    fn into_response(self) -> reqwest::Response {
        let mut rebuilt = http::Response::new(self.body);
        *rebuilt.status_mut() = self.status;
        *rebuilt.version_mut() = self.version;
        *rebuilt.headers_mut() = self.headers;
        reqwest::Response::from(rebuilt)
    }
}

/// What one attempt gave.
pub(crate) enum Outcome {
    /// An answer, its body read whole.
    Answer(Answer),
    /// An answer whose body passed the limit (its body is left empty).
    TooLarge(Answer),
    /// No answer, or one whose body could not be read: then the status and
    /// headers that did arrive are kept (in an `Answer` with an empty body).
    Failed(reqwest::Error, Option<Answer>),
}

impl Outcome {
    /// The status that arrived, even when the body then failed.
    pub(crate) fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Answer(a) | Self::TooLarge(a) | Self::Failed(_, Some(a)) => Some(a.status),
            Self::Failed(_, None) => None,
        }
    }

    /// Whether trying again may help: no whole answer, or a status worth
    /// retrying.
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            Self::Failed(e, _) => !crate::transport::is_tls(e),
            other => other.status().is_some_and(crate::is_retryable_status),
        }
    }

    pub(crate) fn into_result(self) -> reqwest::Result<Answer> {
        match self {
            Self::Answer(a) | Self::TooLarge(a) => Ok(a),
            Self::Failed(e, _) => Err(e),
        }
    }
}

/// Reads an answer's whole body, at most `limit` bytes of it. A body over
/// the limit (by its `Content-Length`, or as it streams) is not read
/// further: the response is dropped, and its connection with it.
// Not an `async fn`: that would keep the response twice in the future.
#[allow(clippy::manual_async_fn)]
pub(crate) fn read_answer(
    method: Method,
    mut response: reqwest::Response,
    limit: usize,
) -> impl Future<Output = Outcome> + Send {
    async move {
        // The answer is made after the read, so that the future holds the
        // response alone while the body arrives, not both.
        let read = read_limited(&mut response, limit).await;
        let mut answer = Answer {
            method,
            status: response.status(),
            version: response.version(),
            headers: std::mem::take(response.headers_mut()),
            body: Bytes::new(),
            undecoded: None,
        };
        match read {
            Ok(Some(body)) => {
                answer.body = body;
                // A coding reqwest left (another spelling, an alias, several):
                // undone here, or the body kept as it came and the reason kept.
                if answer
                    .headers
                    .contains_key(reqwest::header::CONTENT_ENCODING)
                {
                    match crate::coding::undo(&mut answer.headers, answer.body.clone(), limit) {
                        Ok(body) => answer.body = body,
                        Err(why) => answer.undecoded = Some(why),
                    }
                }
                Outcome::Answer(answer)
            }
            Ok(None) => Outcome::TooLarge(answer),
            Err(e) => Outcome::Failed(e, Some(answer)),
        }
    }
}

/// The most reserved ahead of the bytes that arrived, whatever the
/// `Content-Length` says: a server that announces 2^62 bytes gets a buffer
/// that grows as they come.
const MAX_PREALLOCATION: usize = 1 << 20;

/// The whole body of `response`, or `None` when it is larger than `limit`
/// bytes (announced by `Content-Length`, or as it streams): reading stops
/// there, so memory stays near the limit. For every answer the runtime
/// reads, and for credential endpoints a provider calls itself.
pub async fn read_limited(
    response: &mut reqwest::Response,
    limit: usize,
) -> reqwest::Result<Option<Bytes>> {
    let announced = response.content_length();
    if announced.is_some_and(|n| n > limit as u64) {
        return Ok(None);
    }
    // The usual answer comes in one chunk: keep it without a copy.
    let mut first: Option<Bytes> = None;
    let mut rest = BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        let read = first.as_ref().map_or(0, Bytes::len) + rest.len();
        if read.saturating_add(chunk.len()) > limit {
            return Ok(None);
        }
        match &first {
            None => first = Some(chunk),
            Some(head) => {
                if rest.is_empty() {
                    // One allocation of the announced size, not a series
                    // of doublings; but never more than is read in a
                    // moment, whatever a server announces.
                    let announced = usize::try_from(announced.unwrap_or(0)).unwrap_or(usize::MAX);
                    rest.reserve(
                        announced
                            .min(limit)
                            .min(MAX_PREALLOCATION)
                            .max(read + chunk.len()),
                    );
                    rest.extend_from_slice(head);
                }
                rest.extend_from_slice(&chunk);
            }
        }
    }
    Ok(Some(if rest.is_empty() {
        first.unwrap_or_default()
    } else {
        rest.freeze()
    }))
}

/// A body that does not decode into its declared type; becomes
/// progenitor's `InvalidResponsePayload` (so generated code can use `?`).
#[doc(hidden)]
#[derive(Debug)]
pub struct Undecodable(Bytes, serde_json::Error);

impl<E> From<Undecodable> for progenitor_client::Error<E> {
    fn from(Undecodable(body, e): Undecodable) -> Self {
        Self::InvalidResponsePayload(body, e)
    }
}

/// Decodes an answer's JSON body into `T` (an error body, say), strictly
/// and then tolerantly (see [`success`]).
#[doc(hidden)]
pub fn decode<T: DeserializeOwned>(answer: Answer) -> Result<ResponseValue<T>, Undecodable> {
    if let Some(why) = &answer.undecoded {
        return Err(Undecodable(answer.body, still_coded(why)));
    }
    let read = serde_json::from_slice(&answer.body).or_else(|_| loose::from_slice(&answer.body));
    match read {
        Ok(inner) => Ok(ResponseValue::new(inner, answer.status, answer.headers)),
        Err(e) => Err(Undecodable(answer.body, e)),
    }
}

/// Decodes a success answer (any 2xx) into the operation's success type.
///
/// The strict reading comes first (it is the fast one). When it fails:
/// - an empty body reads as `{}`, then `null`, so that an operation whose
///   success carries no data succeeds however the service says so; but a
///   POST or PATCH (a create) reads it as `null` only, so that a create
///   answered without its key is an error, never an empty success;
/// - JSON the strict reading refused is read tolerantly (see `loose.rs`:
///   a byte-order mark, lone surrogates, repeated keys, scalars in another
///   JSON type, `null` lists);
/// - a body that is not JSON reads as a string where the success type is
///   one (a secret sent as `text/plain`), and a DELETE's as an empty body.
#[doc(hidden)]
// The error type is progenitor's: the generated code this plugs into
// returns it.
#[allow(clippy::result_large_err)]
pub fn success<T, E>(answer: Answer) -> Result<ResponseValue<T>, progenitor_client::Error<E>>
where
    T: DeserializeOwned,
{
    match read_success(&answer) {
        Ok(inner) => Ok(ResponseValue::new(inner, answer.status, answer.headers)),
        Err(e) => Err(Undecodable(answer.body, e).into()),
    }
}

/// Decodes a success answer of an operation whose purpose is to return a
/// new secret (a create, a generate; the spec marks it with
/// `x-apikeys-returns-secret`): a success without a value at any of
/// `pointers` (JSON pointers; an empty one: the whole body) is an error,
/// since the key was probably made and its secret did not arrive. The raw
/// answer stays in the error's `body_secret()`.
#[doc(hidden)]
#[allow(clippy::result_large_err)]
pub fn success_with_secret<T, E>(
    answer: Answer,
    pointers: &[&str],
) -> Result<ResponseValue<T>, progenitor_client::Error<E>>
where
    T: DeserializeOwned,
{
    if answer.undecoded.is_none() && !pointers.iter().any(|p| holds_secret(&answer.body, p)) {
        let at: Vec<String> = pointers.iter().map(|p| format!("`{p}`")).collect();
        let why = format!(
            "the answer has no secret at {}: what it created was probably made, and its secret did not arrive; find it among the keys and revoke it, or create another",
            at.join(" or ")
        );
        return Err(Undecodable(answer.body, still_coded(&why)).into());
    }
    success(answer)
}

/// Whether `body` holds something at `pointer`: not `null`, not an empty
/// or blank string, not an empty object or list. The whole body (an empty
/// pointer) may also be the secret as bare text.
fn holds_secret(body: &[u8], pointer: &str) -> bool {
    let present = |v: &serde_json::Value| match v {
        serde_json::Value::Null => false,
        serde_json::Value::String(s) => !s.trim().is_empty(),
        serde_json::Value::Object(m) => !m.is_empty(),
        serde_json::Value::Array(a) => !a.is_empty(),
        _ => true,
    };
    match loose::parse(body) {
        Ok(value) => value.pointer(pointer).is_some_and(present),
        Err(_) => {
            pointer.is_empty() && std::str::from_utf8(body).is_ok_and(|t| !t.trim().is_empty())
        }
    }
}

/// A JSON body read as a success answer's is: strictly, then tolerantly
/// (without the rules for empty and non-JSON bodies).
pub(crate) fn read_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice(body).or_else(|_| loose::from_slice(body))
}

fn read_success<T: DeserializeOwned>(answer: &Answer) -> Result<T, serde_json::Error> {
    if let Some(why) = &answer.undecoded {
        return Err(still_coded(why));
    }
    let body = &answer.body;
    let strict = match serde_json::from_slice(body) {
        Ok(inner) => return Ok(inner),
        Err(e) => e,
    };
    let creates = matches!(answer.method, Method::POST | Method::PATCH);
    if body.iter().all(u8::is_ascii_whitespace) {
        return read_empty(creates).ok_or(strict);
    }
    match loose::parse(body) {
        Ok(value) => loose::from_value(value),
        Err(_) => {
            // Not JSON: the strict reading's error says so, whatever the
            // readings below find.
            let Ok(text) = std::str::from_utf8(body) else {
                return Err(strict);
            };
            let as_text = loose::from_value(serde_json::Value::String(text.trim().to_owned()));
            match as_text {
                Ok(inner) => Ok(inner),
                Err(_) if answer.method == Method::DELETE => read_empty(false).ok_or(strict),
                Err(_) => Err(strict),
            }
        }
    }
}

/// The error of a body still content-coded: an I/O error carrying `why`
/// (which names the coding, never a value), so that the message shown is
/// ours.
fn still_coded(why: &str) -> serde_json::Error {
    serde_json::Error::io(std::io::Error::other(why.to_owned()))
}

/// The success type read from nothing: `{}` then `null`, or `null` alone.
fn read_empty<T: DeserializeOwned>(null_only: bool) -> Option<T> {
    if !null_only && let Ok(inner) = serde_json::from_str("{}") {
        return Some(inner);
    }
    serde_json::from_str("null").ok()
}

/// A success that carries no data (`ResponseValue<()>`), whatever the body.
#[doc(hidden)]
pub fn empty(answer: Answer) -> ResponseValue<()> {
    ResponseValue::new((), answer.status, answer.headers)
}

/// A success answer whose body is bytes (a file download): progenitor's
/// `ByteStream` over the body, which was read whole within the client's
/// body limit (4 MiB unless raised: `ClientBuilder::max_response_bytes`,
/// or per copy of a client, `Client::with_max_response_bytes`). A stream,
/// so that the signature is progenitor's; one chunk, so that no connection
/// outlives the call.
#[doc(hidden)]
pub fn stream(answer: Answer) -> ResponseValue<progenitor_client::ByteStream> {
    let chunks = OneChunk(Some(answer.body));
    ResponseValue::new(
        progenitor_client::ByteStream::new(Box::pin(chunks)),
        answer.status,
        answer.headers,
    )
}

/// A success answer's body as it came (an answer asked for in another
/// media type than JSON): read whole within the client's body limit.
#[doc(hidden)]
pub fn body_bytes(answer: Answer) -> ResponseValue<Bytes> {
    ResponseValue::new(answer.body, answer.status, answer.headers)
}

/// The `Accept` header of a call that asks for one of the media types its
/// operation's success offers beside JSON (a generated `{operation}_as`
/// method): `accept` itself when its type is one of `offered`, or within
/// one of them (`text/*`, `*/*`), compared without case or parameters;
/// otherwise an error that names the offered types, before anything is
/// sent. A wildcard is taken only when the spec offers that very one.
#[doc(hidden)]
pub fn offered_media(
    accept: &str,
    offered: &[&str],
) -> Result<reqwest::header::HeaderValue, crate::Unsendable> {
    let essence = |m: &str| {
        let m = m.split(';').next().unwrap_or_default().trim();
        m.to_ascii_lowercase()
    };
    let wanted = essence(accept);
    let is_type = wanted
        .split_once('/')
        .is_some_and(|(t, s)| !t.is_empty() && !s.is_empty() && !s.contains('/'));
    let covers = |offer: &str| {
        let offer = essence(offer);
        offer == wanted
            || (!wanted.contains('*')
                && (offer == "*/*"
                    || offer
                        .strip_suffix("/*")
                        .is_some_and(|t| wanted.split('/').next() == Some(t))))
    };
    if is_type
        && offered.iter().any(|o| covers(o))
        && let Ok(value) = reqwest::header::HeaderValue::from_str(accept.trim())
    {
        return Ok(value);
    }
    let shown: String = accept.chars().take(80).collect();
    Err(crate::Unsendable(format!(
        "{shown:?} is not a media type this operation answers in; ask for one of: {}",
        offered.join(", ")
    )))
}

/// A stream of one chunk.
struct OneChunk(Option<Bytes>);

impl futures_core::Stream for OneChunk {
    type Item = reqwest::Result<Bytes>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(self.0.take().map(Ok))
    }
}

/// An answer with a status the spec does not declare, as progenitor's
/// error for it.
#[doc(hidden)]
pub fn unexpected<E>(answer: Answer) -> progenitor_client::Error<E> {
    progenitor_client::Error::UnexpectedResponse(answer.into_response())
}

#[cfg(test)]
mod tests {
    use super::offered_media;

    fn asked(accept: &str, offered: &[&str]) -> Result<String, String> {
        offered_media(accept, offered)
            .map(|v| v.to_str().unwrap().to_owned())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn only_an_offered_media_type_is_asked_for() {
        let offered = &["application/xml", "text/*"];
        for (accept, sent) in [
            ("application/xml", "application/xml"),
            ("Application/XML", "Application/XML"),
            (" application/xml ; q=1", "application/xml ; q=1"),
            ("text/csv", "text/csv"),
            ("text/plain; charset=utf-8", "text/plain; charset=utf-8"),
            ("text/*", "text/*"),
        ] {
            assert_eq!(asked(accept, offered), Ok(sent.to_owned()), "{accept}");
        }
        assert_eq!(asked("image/png", &["*/*"]), Ok("image/png".into()));
        let long = "x".repeat(100_000);
        let refused = [
            "",
            " ",
            "application/json",
            "application/xml+zip",
            "application",
            "application/",
            "/xml",
            "*/*",
            "text/csv/x",
            "image/png",
            "application/xml\r\nX-Injected: 1",
            "application/xml\u{0}",
            "applicatión/xml",
            long.as_str(),
        ];
        for accept in refused {
            let e = asked(accept, offered).unwrap_err();
            assert!(e.contains("application/xml, text/*"), "{e}");
            assert!(e.len() < 300, "{e}");
        }
    }
}
