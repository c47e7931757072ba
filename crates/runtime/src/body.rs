//! Reading answers: every body whole and within the limit, inside the
//! attempt (so a body cut short is retried like a failed connection), and
//! success bodies decoded tolerantly.

use bytes::Bytes;
use progenitor_client::ResponseValue;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use std::time::Duration;

use crate::retry::retry_after;

/// What one attempt gave.
pub(crate) enum Outcome {
    /// An answer, its body read whole (the response holds it too).
    Answer(reqwest::Response, Bytes),
    /// An answer whose body passed the limit: the response holds no body.
    TooLarge(reqwest::Response),
    /// No answer, or one whose body could not be read.
    Failed(reqwest::Error),
}

impl Outcome {
    pub(crate) fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Answer(r, _) | Self::TooLarge(r) => Some(r.status()),
            Self::Failed(_) => None,
        }
    }

    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Answer(r, _) => retry_after(r.headers()),
            _ => None,
        }
    }

    pub(crate) fn into_result(self) -> reqwest::Result<reqwest::Response> {
        match self {
            Self::Answer(r, _) | Self::TooLarge(r) => Ok(r),
            Self::Failed(e) => Err(e),
        }
    }
}

/// Reads an answer's whole body, at most `limit` bytes of it, and puts it
/// back into a response for progenitor to decode. A body over the limit
/// (by its `Content-Length`, or as it streams) is not read further: the
/// response is dropped, and its connection with it.
pub(crate) async fn read_answer(mut response: reqwest::Response, limit: usize) -> Outcome {
    let status = response.status();
    let version = response.version();
    let headers = std::mem::take(response.headers_mut());
    let rebuild = |body: Bytes| {
        let mut rebuilt = http::Response::new(body);
        *rebuilt.status_mut() = status;
        *rebuilt.version_mut() = version;
        *rebuilt.headers_mut() = headers;
        reqwest::Response::from(rebuilt)
    };
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Outcome::TooLarge(rebuild(Bytes::new()));
    }
    // The usual answer comes in one chunk: keep it without a copy.
    let mut first: Option<Bytes> = None;
    let mut rest = bytes::BytesMut::new();
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => return Outcome::Failed(e),
        };
        let read = first.as_ref().map_or(0, Bytes::len) + rest.len();
        if read + chunk.len() > limit {
            drop(response);
            return Outcome::TooLarge(rebuild(Bytes::new()));
        }
        match &first {
            None => first = Some(chunk),
            Some(head) => {
                if rest.is_empty() {
                    rest.extend_from_slice(head);
                }
                rest.extend_from_slice(&chunk);
            }
        }
    }
    let body = if rest.is_empty() {
        first.unwrap_or_default()
    } else {
        rest.freeze()
    };
    Outcome::Answer(rebuild(body.clone()), body)
}

/// Decodes a success answer (any 2xx) into the operation's success type.
/// An empty body (a 204, or a 200 without content) is read as `{}`, then
/// as `null`, so that an operation whose success carries no data succeeds
/// however the service says so; a body the type needs stays an error.
#[doc(hidden)]
pub async fn success<T, E>(
    mut response: reqwest::Response,
) -> Result<ResponseValue<T>, progenitor_client::Error<E>>
where
    T: DeserializeOwned,
{
    use progenitor_client::Error as P;
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let body = response.bytes().await.map_err(P::ResponseBodyError)?;
    let inner = match serde_json::from_slice(&body) {
        Ok(inner) => inner,
        Err(e) if body.iter().all(u8::is_ascii_whitespace) => serde_json::from_str("{}")
            .or_else(|_| serde_json::from_str("null"))
            .map_err(|_| P::InvalidResponsePayload(body, e))?,
        Err(e) => return Err(P::InvalidResponsePayload(body, e)),
    };
    Ok(ResponseValue::new(inner, status, headers))
}
