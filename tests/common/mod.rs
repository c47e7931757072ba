//! Shared test helpers: a scripted loopback HTTP server, and the runtime
//! contract (retries, timeouts, secrecy) every provider crate must meet.
#![allow(dead_code)]

pub mod fakes;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
    pub misbehave: Misbehave,
}

/// Ways a reply's body can go wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehave {
    /// The body is sent as it is.
    No,
    /// A chunked body that never ends: 64 KiB chunks until the client
    /// hangs up (or 20 s pass, so that a broken test still ends).
    Endless,
    /// `Content-Length` announces the body plus 1,000 bytes; the body is
    /// sent and the connection closed (a reset mid-body).
    CutShort,
    /// `Content-Length` announces this many bytes; the body is sent and the
    /// connection closed.
    Announces(u64),
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
            delay: Duration::ZERO,
            misbehave: Misbehave::No,
        }
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Self {
        Self::text(status, "moved").header("location", location)
    }

    pub fn misbehave(mut self, how: Misbehave) -> Self {
        self.misbehave = how;
        self
    }

    pub fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.into(),
            delay: Duration::ZERO,
            misbehave: Misbehave::No,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The body encoded with `coding` (gzip, deflate or br), and the
    /// `content-encoding` header that says so.
    pub fn encoded(mut self, coding: &str) -> Self {
        self.body = encode(coding, &self.body);
        self.header("content-encoding", coding)
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// `body` encoded with `coding` as a `Content-Encoding` names it: gzip
/// (or x-gzip), deflate (zlib, as HTTP means it), br or identity, in any
/// case, or several of them in the order applied (`deflate, gzip`).
pub fn encode(coding: &str, body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut out = body.to_vec();
    for name in coding.split(',').map(|n| n.trim().to_ascii_lowercase()) {
        out = match name.as_str() {
            "gzip" | "x-gzip" => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(&out).unwrap();
                e.finish().unwrap()
            }
            "deflate" => {
                let mut e =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(&out).unwrap();
                e.finish().unwrap()
            }
            "br" => {
                let mut coded = Vec::new();
                {
                    let mut e = brotli::CompressorWriter::new(&mut coded, 4096, 5, 22);
                    e.write_all(&out).unwrap();
                }
                coded
            }
            "identity" => out,
            other => panic!("no encoder for {other}"),
        };
    }
    out
}

/// A loopback HTTP/1.1 server that answers requests with a script, in
/// order (the last reply repeats), and records what it was sent.
pub struct ScriptedServer {
    pub base_url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ScriptedServer {
    pub async fn start(script: Vec<Reply>) -> Self {
        let script = Mutex::new(VecDeque::from(script));
        Self::serve(move |_| {
            let mut script = script.lock().unwrap();
            if script.len() > 1 {
                script.pop_front().unwrap()
            } else {
                script.front().cloned().unwrap()
            }
        })
        .await
    }

    /// A server whose every answer `handler` computes from the request:
    /// the base of stateful fakes.
    pub async fn serve(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler = Arc::new(handler);
        let seen2 = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let (seen, handler) = (seen2.clone(), handler.clone());
                tokio::spawn(async move {
                    while let Some(request) = read_request(&mut socket).await {
                        let reply = handler(&request);
                        seen.lock().unwrap().push(request);
                        tokio::time::sleep(reply.delay).await;
                        if !write_reply(&mut socket, &reply).await {
                            return;
                        }
                    }
                });
            }
        });
        Self {
            base_url,
            seen,
            task,
        }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Writes one reply; `false` when the connection is to be closed.
async fn write_reply(socket: &mut tokio::net::TcpStream, reply: &Reply) -> bool {
    let mut head = format!("HTTP/1.1 {} X\r\n", reply.status);
    match reply.misbehave {
        Misbehave::No => head.push_str(&format!("content-length: {}\r\n", reply.body.len())),
        Misbehave::CutShort => {
            head.push_str(&format!("content-length: {}\r\n", reply.body.len() + 1000))
        }
        Misbehave::Endless => head.push_str("transfer-encoding: chunked\r\n"),
        Misbehave::Announces(n) => head.push_str(&format!("content-length: {n}\r\n")),
    }
    for (n, v) in &reply.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    if socket.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    match reply.misbehave {
        Misbehave::No => socket.write_all(&reply.body).await.is_ok(),
        Misbehave::CutShort | Misbehave::Announces(_) => {
            let _ = socket.write_all(&reply.body).await;
            false
        }
        Misbehave::Endless => {
            let chunk = format!("10000\r\n{}\r\n", "x".repeat(0x10000));
            let until = std::time::Instant::now() + Duration::from_secs(20);
            while std::time::Instant::now() < until {
                if socket.write_all(chunk.as_bytes()).await.is_err() {
                    break;
                }
            }
            false
        }
    }
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Seen {
        method,
        path,
        headers,
        body,
    })
}

/// A base URL on loopback where nothing listens.
pub async fn refused_base_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// What a provider test needs to say about a failed call, whatever the
/// provider's error body type.
#[derive(Debug)]
pub struct Failure {
    pub kind: apikeys_runtime::ErrorKind,
    pub status: Option<u16>,
    pub attempts: u32,
    pub retryable: bool,
    pub display: String,
    pub debug: String,
}

impl<E: std::fmt::Debug> From<apikeys_runtime::Error<E>> for Failure {
    fn from(e: apikeys_runtime::Error<E>) -> Self {
        Self {
            kind: e.kind(),
            status: e.status().map(|s| s.as_u16()),
            retryable: e.is_retryable(),
            attempts: e.attempts(),
            display: e.to_string(),
            debug: format!("{e:?}"),
        }
    }
}

pub type Outcome = Result<(), Failure>;

/// A provider crate as the runtime contract sees it: a way to build a
/// client at a base URL, one idempotent call (GET, PUT or DELETE) and one
/// that is not (a POST that creates something).
pub trait Provider {
    type Client: Send + Sync + 'static;
    /// The status and body with which the idempotent call succeeds.
    const OK: (u16, &'static str);
    /// Secrets the client was configured with; none may ever be printed.
    const SECRETS: &'static [&'static str];
    fn client(base_url: &str, timeouts: apikeys_runtime::Timeouts) -> Self::Client;
    fn idempotent(client: &Self::Client) -> impl std::future::Future<Output = Outcome> + Send;
    fn create(client: &Self::Client) -> impl std::future::Future<Output = Outcome> + Send;
    /// A destructive call naming one resource by `id` in its path.
    fn destroy(
        client: &Self::Client,
        id: &str,
    ) -> impl std::future::Future<Output = Outcome> + Send;
}

fn fast_timeouts() -> apikeys_runtime::Timeouts {
    apikeys_runtime::Timeouts::new()
        .connect(Duration::from_secs(2))
        .attempt(Duration::from_millis(500))
        .total(Duration::from_secs(10))
}

/// GET answered 503, 503, 200 succeeds on the third attempt.
pub async fn get_is_retried_until_success<P: Provider>() {
    let server = ScriptedServer::start(vec![
        Reply::json(503, "{}"),
        Reply::json(503, "{}"),
        Reply::json(P::OK.0, P::OK.1),
    ])
    .await;
    let client = P::client(&server.base_url, fast_timeouts());
    P::idempotent(&client)
        .await
        .expect("the third attempt succeeds");
    let seen = server.requests();
    assert_eq!(seen.len(), 3);
    assert_same_requests(&seen);
}

/// Every attempt of one call sent the same request: method, path and
/// query, every header (credentials, User-Agent, media types) and body,
/// whether the runtime copied it or the method built it again.
pub fn assert_same_requests(seen: &[Seen]) {
    let shape = |s: &Seen| {
        let mut headers = s.headers.clone();
        headers.sort();
        (s.method.clone(), s.path.clone(), headers, s.body.clone())
    };
    let first = shape(&seen[0]);
    for (i, later) in seen.iter().enumerate().skip(1) {
        assert_eq!(
            shape(later),
            first,
            "attempt {} sent another request than the first",
            i + 1
        );
    }
}

/// [`assert_same_requests`] but for the header `renewed` (credentials that
/// were renewed between the attempts), which must differ.
pub fn assert_same_requests_but(seen: &[Seen], renewed: &str) {
    let values: Vec<Option<&str>> = seen.iter().map(|s| s.header(renewed)).collect();
    assert!(
        values.windows(2).all(|w| w[0] != w[1]),
        "`{renewed}` was not renewed between attempts: {values:?}"
    );
    let mut seen = seen.to_vec();
    for s in &mut seen {
        s.headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case(renewed));
    }
    assert_same_requests(&seen);
}

/// 429 with `Retry-After: 1` waits at least a second before the retry.
pub async fn retry_after_is_honoured<P: Provider>() {
    let server = ScriptedServer::start(vec![
        Reply::json(429, "{}").header("retry-after", "1"),
        Reply::json(P::OK.0, P::OK.1),
    ])
    .await;
    let client = P::client(&server.base_url, fast_timeouts());
    let started = std::time::Instant::now();
    P::idempotent(&client).await.expect("the retry succeeds");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(1), "retried after {waited:?}");
    assert_eq!(server.requests().len(), 2);
}

/// POST answered 503 reaches the server exactly once and returns the error.
pub async fn post_is_never_repeated<P: Provider>() {
    let server = ScriptedServer::start(vec![Reply::json(503, "{}")]).await;
    let client = P::client(&server.base_url, fast_timeouts());
    let failure = P::create(&client).await.expect_err("503 is an error");
    assert_eq!(failure.status, Some(503));
    assert_eq!(failure.attempts, 1);
    assert_eq!(server.requests().len(), 1);
}

/// A server slower than the attempt timeout gives a timeout error within
/// the timeout plus a small margin (every retry included).
pub async fn slow_server_times_out<P: Provider>() {
    let server = ScriptedServer::start(vec![
        Reply::json(P::OK.0, P::OK.1).after(Duration::from_secs(30)),
    ])
    .await;
    let timeouts = apikeys_runtime::Timeouts::new()
        .attempt(Duration::from_millis(300))
        .total(Duration::from_millis(800));
    let client = P::client(&server.base_url, timeouts);
    let started = std::time::Instant::now();
    let failure = P::idempotent(&client)
        .await
        .expect_err("the call times out");
    let took = started.elapsed();
    assert_eq!(
        failure.kind,
        apikeys_runtime::ErrorKind::Timeout,
        "{failure:?}"
    );
    assert!(took < Duration::from_millis(800 + 300), "took {took:?}");
}

/// Connection refused is an error, not a hang.
pub async fn refused_connection_fails_fast<P: Provider>() {
    let base = refused_base_url().await;
    let client = P::client(&base, fast_timeouts());
    let started = std::time::Instant::now();
    let failure = P::idempotent(&client).await.expect_err("nothing listens");
    assert_eq!(
        failure.kind,
        apikeys_runtime::ErrorKind::Transport,
        "{failure:?}"
    );
    assert_eq!(
        failure.attempts, 3,
        "connection errors of a GET are retried"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A redirect to another origin (another port) is not followed, whatever
/// its status and the method: the other server receives nothing, so no
/// credential reaches it, and the error names where the service pointed.
pub async fn redirects_are_not_followed<P: Provider>() {
    let elsewhere = ScriptedServer::start(vec![Reply::json(P::OK.0, P::OK.1)]).await;
    for status in [301, 302, 303, 307, 308] {
        let location = format!("{}/stolen?token=abc", elsewhere.base_url);
        let server = ScriptedServer::start(vec![Reply::redirect(status, &location)]).await;
        let client = P::client(&server.base_url, fast_timeouts());
        for failure in [
            P::idempotent(&client)
                .await
                .expect_err("a redirect is an error"),
            P::create(&client)
                .await
                .expect_err("a redirect is an error"),
        ] {
            assert_eq!(failure.status, Some(status), "{failure:?}");
            assert_eq!(failure.attempts, 1, "{failure:?}");
            assert!(
                failure
                    .display
                    .contains(&format!("{}/stolen", elsewhere.base_url))
                    && failure.display.contains("not followed")
                    && !failure.display.contains("token=abc"),
                "{}",
                failure.display
            );
        }
        assert_eq!(server.requests().len(), 2);
    }
    assert!(
        elsewhere.requests().is_empty(),
        "the other origin was sent {:?}",
        elsewhere.requests()
    );
}

/// An id that is empty, `.` or `..`, or absurdly long, is refused before
/// anything is sent, naming the parameter.
pub async fn path_segments_stay_in_place<P: Provider>() {
    let server = ScriptedServer::start(vec![Reply::json(200, "{}")]).await;
    let client = P::client(&server.base_url, fast_timeouts());
    let long = "k".repeat(100_000);
    for id in ["", ".", "..", long.as_str()] {
        let failure = P::destroy(&client, id).await.expect_err("refused");
        assert_eq!(
            failure.kind,
            apikeys_runtime::ErrorKind::InvalidRequest,
            "{failure:?}"
        );
        assert_eq!(failure.attempts, 0);
        assert!(
            failure.display.contains("path parameter `"),
            "{}",
            failure.display
        );
        assert!(!failure.display.contains("kkkk"), "the value is not echoed");
    }
    assert!(server.requests().is_empty(), "{:?}", server.requests());
    // A dot inside an id is an ordinary character.
    P::destroy(&client, "a.b").await.ok();
    assert_eq!(server.requests().len(), 1);
    assert!(
        server.requests()[0].path.contains("/a.b"),
        "{:?}",
        server.requests()
    );
}

/// Bodies past the limit fail as `TooLarge`, whatever the status, without
/// being read: announced by `Content-Length`, or endless and chunked.
pub async fn bodies_are_bounded<P: Provider>() {
    let limit = apikeys_runtime::DEFAULT_MAX_RESPONSE_BYTES;
    let big = "x".repeat(limit + 1);
    for reply in [
        Reply::json(P::OK.0, &big),
        Reply::text(502, &big),
        Reply::json(P::OK.0, "").misbehave(Misbehave::Endless),
    ] {
        let server = ScriptedServer::start(vec![reply]).await;
        let client = P::client(&server.base_url, fast_timeouts());
        let started = std::time::Instant::now();
        let failure = P::idempotent(&client).await.expect_err("too large");
        assert_eq!(
            failure.kind,
            apikeys_runtime::ErrorKind::TooLarge,
            "{failure:?}"
        );
        assert_eq!(failure.attempts, 1, "a body past the limit is not retried");
        assert!(
            failure.display.contains("larger than"),
            "{}",
            failure.display
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
}

/// An idempotent call whose answer is cut mid-body is sent again, like one
/// whose connection failed before the headers.
pub async fn cut_bodies_are_retried<P: Provider>() {
    let server = ScriptedServer::start(vec![
        Reply::json(P::OK.0, P::OK.1).misbehave(Misbehave::CutShort),
        Reply::json(P::OK.0, P::OK.1),
    ])
    .await;
    let client = P::client(&server.base_url, fast_timeouts());
    P::idempotent(&client)
        .await
        .expect("the second attempt succeeds");
    assert_eq!(server.requests().len(), 2);

    // A POST is not: the service may have acted on the first.
    let server = ScriptedServer::start(vec![
        Reply::json(P::OK.0, P::OK.1).misbehave(Misbehave::CutShort),
    ])
    .await;
    let client = P::client(&server.base_url, fast_timeouts());
    let failure = P::create(&client).await.expect_err("cut short");
    assert_eq!(
        failure.kind,
        apikeys_runtime::ErrorKind::OutcomeUnknown,
        "{failure:?}"
    );
    assert!(!failure.retryable, "{failure:?}");
    assert_eq!(
        failure.status,
        Some(P::OK.0),
        "the status that arrived is kept"
    );
    assert!(
        failure
            .display
            .contains("check (list the keys) before repeating"),
        "{}",
        failure.display
    );
    assert_eq!(server.requests().len(), 1);
}

/// Answers in every content coding the clients advertise (with the
/// `brotli` feature on, as this package turns it on) read as plain ones;
/// the clients advertise exactly those; and the body limit counts
/// decoded bytes, so a small answer that inflates past it is `TooLarge`.
pub async fn coded_answers_decode<P: Provider>() {
    for coding in ["gzip", "deflate", "br"] {
        let server =
            ScriptedServer::start(vec![Reply::json(P::OK.0, P::OK.1).encoded(coding)]).await;
        let client = P::client(&server.base_url, fast_timeouts());
        P::idempotent(&client)
            .await
            .unwrap_or_else(|e| panic!("{coding}: {e:?}"));
        let asked = server.requests()[0]
            .header("accept-encoding")
            .unwrap_or_default()
            .to_owned();
        let mut offered: Vec<&str> = asked.split(',').map(str::trim).collect();
        offered.sort_unstable();
        assert_eq!(offered, ["br", "deflate", "gzip"], "{asked}");
    }
    // 64 MiB of spaces (valid JSON padding) in about 64 KiB of gzip.
    let mut bomb = Reply::json(P::OK.0, "");
    bomb.body = vec![b' '; 64 << 20];
    let server = ScriptedServer::start(vec![bomb.encoded("gzip")]).await;
    let client = P::client(&server.base_url, fast_timeouts());
    let failure = P::idempotent(&client)
        .await
        .expect_err("inflates past the limit");
    assert_eq!(
        failure.kind,
        apikeys_runtime::ErrorKind::TooLarge,
        "{failure:?}"
    );
}

/// A create answered 2xx without a body is an error that says nothing it
/// created reached us, never an empty success; a delete answered with any
/// body (`200 text/plain OK`) is a success.
pub async fn data_less_answers<P: Provider>() {
    for status in [200, 201] {
        let server = ScriptedServer::start(vec![Reply::text(status, "")]).await;
        let client = P::client(&server.base_url, fast_timeouts());
        let failure = P::create(&client).await.expect_err("no key in the answer");
        assert_eq!(
            failure.kind,
            apikeys_runtime::ErrorKind::Decode,
            "{failure:?}"
        );
        assert!(!failure.retryable);
        assert!(
            failure.display.contains("carried no data"),
            "{}",
            failure.display
        );
    }
    for body in ["OK", "<html>done</html>", ""] {
        let server = ScriptedServer::start(vec![Reply::text(200, body)]).await;
        let client = P::client(&server.base_url, fast_timeouts());
        P::destroy(&client, "k1")
            .await
            .unwrap_or_else(|e| panic!("{body:?}: {e:?}"));
    }
}

/// A create whose answer never comes (the attempt times out after the
/// request left) has an unknown outcome: not retryable, not repeated.
pub async fn unanswered_creates_are_outcome_unknown<P: Provider>() {
    let server = ScriptedServer::start(vec![
        Reply::json(P::OK.0, P::OK.1).after(Duration::from_secs(3)),
    ])
    .await;
    let client = P::client(&server.base_url, fast_timeouts());
    let failure = P::create(&client).await.expect_err("no answer in time");
    assert_eq!(
        failure.kind,
        apikeys_runtime::ErrorKind::OutcomeUnknown,
        "{failure:?}"
    );
    assert!(!failure.retryable);
    assert_eq!(server.requests().len(), 1);
}

/// A subscriber that writes every event and span field into a buffer.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).to_string()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Failing calls, formatted every way and traced at the finest level,
/// never show a configured secret; the tracing span carries the operation.
pub async fn secrets_never_printed<P: Provider>(extra: &[String]) {
    // One global subscriber for the whole test binary: a thread-scoped one
    // can miss events when other tests register callsites first. It
    // captures every test's traces, so the check below covers them all.
    static CAPTURED: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    let captured = CAPTURED
        .get_or_init(|| {
            use tracing_subscriber::layer::SubscriberExt;
            use tracing_subscriber::{Layer, filter};
            let captured = Captured::default();
            // Everything the client side traces (our crates, reqwest,
            // hyper), at every level; not the mock servers' own logs of
            // what they received.
            let only_clients = filter::Targets::new()
                .with_default(tracing::Level::TRACE)
                .with_target("httpmock", filter::LevelFilter::OFF);
            let subscriber = tracing_subscriber::registry().with(
                tracing_subscriber::fmt::layer()
                    .with_writer(captured.clone())
                    .with_ansi(false)
                    .with_filter(only_clients),
            );
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber in the tests");
            captured
        })
        .clone();

    let server = ScriptedServer::start(vec![Reply::json(
        500,
        r#"{"errors":[{"code":"boom","title":"failed"}]}"#,
    )])
    .await;
    let client = P::client(&server.base_url, fast_timeouts());
    let get = P::idempotent(&client).await.expect_err("500");
    let post = P::create(&client).await.expect_err("500");
    let refused = P::client(&refused_base_url().await, fast_timeouts());
    let transport = P::idempotent(&refused).await.expect_err("refused");
    // A redirect whose Location carries a user and password (of the
    // redirecting service): shown without them, in the error and the log.
    let mover = ScriptedServer::start(vec![Reply::redirect(
        302,
        "https://admin:pa55-in-Location@elsewhere.example/v2?sig=abc",
    )])
    .await;
    let moved = P::idempotent(&P::client(&mover.base_url, fast_timeouts()))
        .await
        .expect_err("a redirect");
    assert!(
        moved.display.contains("https://elsewhere.example/v2"),
        "{}",
        moved.display
    );

    let mut printed = vec![
        moved.display,
        moved.debug,
        get.display,
        get.debug,
        post.display,
        post.debug,
        transport.display,
        transport.debug,
        captured.text(),
    ];
    printed.extend(extra.iter().cloned());
    let all = printed.join("\n");
    assert!(all.contains("apikeys.call"), "no span was traced: {all}");
    assert!(all.contains("attempt"), "no attempt was traced: {all}");
    for secret in P::SECRETS
        .iter()
        .chain(&["pa55-in-Location", "admin:", "sig=abc"])
    {
        assert!(
            !all.contains(secret),
            "secret {secret:?} printed in:\n{all}"
        );
    }
    // And the server did receive the credentials: the check above is not
    // passing because they were never sent.
    let sent = format!("{:?}", server.requests());
    assert!(
        P::SECRETS.iter().any(|s| sent.contains(s))
            || sent.contains("authorization")
            || sent.contains("apikey")
            || sent.contains("finicity-app-key"),
        "no credentials reached the server: {sent}"
    );
}

/// One `#[tokio::test]` per part of the runtime contract, for provider `$p`.
#[macro_export]
macro_rules! runtime_contract {
    ($p:ty) => {
        mod runtime_contract {
            use super::*;

            #[tokio::test]
            async fn get_is_retried_until_success() {
                common::get_is_retried_until_success::<$p>().await;
            }

            #[tokio::test]
            async fn retry_after_is_honoured() {
                common::retry_after_is_honoured::<$p>().await;
            }

            #[tokio::test]
            async fn post_is_never_repeated() {
                common::post_is_never_repeated::<$p>().await;
            }

            #[tokio::test]
            async fn slow_server_times_out() {
                common::slow_server_times_out::<$p>().await;
            }

            #[tokio::test]
            async fn refused_connection_fails_fast() {
                common::refused_connection_fails_fast::<$p>().await;
            }

            #[tokio::test]
            async fn redirects_are_not_followed() {
                common::redirects_are_not_followed::<$p>().await;
            }

            #[tokio::test]
            async fn path_segments_stay_in_place() {
                common::path_segments_stay_in_place::<$p>().await;
            }

            #[tokio::test]
            async fn bodies_are_bounded() {
                common::bodies_are_bounded::<$p>().await;
            }

            #[tokio::test]
            async fn cut_bodies_are_retried() {
                common::cut_bodies_are_retried::<$p>().await;
            }

            #[tokio::test]
            async fn coded_answers_decode() {
                common::coded_answers_decode::<$p>().await;
            }

            #[tokio::test]
            async fn data_less_answers() {
                common::data_less_answers::<$p>().await;
            }

            #[tokio::test]
            async fn unanswered_creates_are_outcome_unknown() {
                common::unanswered_creates_are_outcome_unknown::<$p>().await;
            }
        }
    };
}

/// Gives each of `answers` to `call` in turn (the server answers them in
/// that order) and checks that each is an error saying that what the call
/// created was probably made and its secret, at `pointer`, did not arrive,
/// with the raw answer kept in `body_secret()`.
pub async fn assert_secret_missing<T, E, Fut>(
    answers: &[&str],
    pointer: &str,
    call: impl Fn() -> Fut,
) where
    Fut: std::future::Future<Output = Result<T, apikeys_runtime::Error<E>>>,
    apikeys_runtime::Error<E>: std::fmt::Display,
{
    for answer in answers {
        let Err(err) = call().await else {
            panic!("{answer}: a success without its secret");
        };
        let text = err.to_string();
        assert!(
            text.contains(&format!("no secret at `{pointer}`")),
            "{answer}: {text}"
        );
        assert!(text.contains("probably made"), "{answer}: {text}");
        assert_eq!(
            err.body_secret().expose(),
            *answer,
            "the raw answer is kept"
        );
    }
}
