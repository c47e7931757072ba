//! A broken server, or any setting a user can type, never crashes, hangs,
//! misleads or multiplies load: settings at their extremes, a service that
//! fails every call (the retry budget), TLS failures, and URLs that would
//! send credentials in the clear.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use apikeys_runtime::{ErrorKind, GeneratedClient, RetryPolicy, Timeouts};
use apikeys_sunshine_conversations::{Client, JwtAuth, Scope, basic_auth};
use common::{Reply, ScriptedServer};
use proptest::prelude::*;

const APP: &str = "app1";
const INTEGRATION: &str = "int1";

fn builder(base: &str) -> apikeys_runtime::ClientBuilder<Client> {
    Client::builder()
        .base_url(base)
        .auth(basic_auth("key-id", "key-secret").unwrap())
}

fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::from_nanos(1)),
        Just(Duration::MAX),
        (0u64..1500).prop_map(Duration::from_millis),
        any::<u64>().prop_map(Duration::from_secs),
    ]
}

/// Settings as a user could type them.
#[derive(Debug, Clone)]
struct Settings {
    connect: Duration,
    attempt: Duration,
    total: Duration,
    attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    budget: (u32, u32, u32),
    body_limit: usize,
}

fn settings() -> impl Strategy<Value = Settings> {
    (
        (duration(), duration(), duration()),
        prop_oneof![Just(0u32), Just(1), Just(u32::MAX), 1u32..5],
        (duration(), duration(), duration()),
        (
            prop_oneof![Just(0u32), Just(1), Just(500)],
            prop_oneof![Just(1u32), Just(5), Just(u32::MAX)],
            prop_oneof![Just(1u32), Just(10), Just(u32::MAX)],
        ),
        prop_oneof![Just(0usize), Just(1), Just(usize::MAX), 0usize..(1 << 20)],
    )
        .prop_map(
            |((connect, attempt, total), attempts, (ib, mb, mra), budget, body_limit)| Settings {
                connect,
                attempt,
                total,
                attempts,
                initial_backoff: ib,
                max_backoff: mb,
                max_retry_after: mra,
                budget,
                body_limit,
            },
        )
}

/// What the server does with every request of one case.
fn answer() -> impl Strategy<Value = Reply> {
    prop_oneof![
        Just(Reply::json(200, r#"{"keys":[]}"#)),
        Just(Reply::json(503, "{}")),
        Just(Reply::json(503, "{}").header("retry-after", "18446744073709551615")),
        Just(Reply::json(429, "{}").header("retry-after", "0")),
        Just(Reply::json(200, r#"{"keys":[]}"#).misbehave(common::Misbehave::CutShort)),
        // A length no memory holds, announced: 2^62 bytes.
        Just(Reply::json(200, r#"{"keys":[]}"#).misbehave(common::Misbehave::Announces(1 << 62))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 40,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Every combination builds or is refused with an error, and every call
    /// returns (within its total timeout when that is short) without a panic.
    #[test]
    fn every_setting_takes_every_value(s in settings(), reply in answer()) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let server = ScriptedServer::start(vec![reply]).await;
            let retry = RetryPolicy::new()
                .max_attempts(s.attempts)
                .initial_backoff(s.initial_backoff)
                .max_backoff(s.max_backoff)
                .max_retry_after(s.max_retry_after)
                .retry_budget(s.budget.0, s.budget.1, s.budget.2);
            let built = builder(&server.base_url)
                .timeouts(Timeouts::new().connect(s.connect).attempt(s.attempt).total(s.total))
                .retry_policy(retry)
                .max_response_bytes(s.body_limit)
                .build();
            let Ok(client) = built else { return };
            let copy = client.with_timeouts(Timeouts::new().connect(s.attempt).total(s.total));
            for c in [client, copy] {
                let started = Instant::now();
                let call = tokio::spawn(async move {
                    c.list_custom_integration_keys(APP, INTEGRATION).await.map(|_| ())
                });
                let outer = Duration::from_secs(4);
                match tokio::time::timeout(outer, call).await {
                    Ok(joined) => {
                        let outcome = joined.expect("the call panicked");
                        if let Err(e) = outcome {
                            // Every failure says something.
                            assert!(!e.to_string().is_empty());
                        }
                    }
                    Err(_) => {
                        // Only settings that allow a long call may take one.
                        assert!(
                            s.total > Duration::from_secs(3),
                            "{s:?}: the call outlived its total timeout ({:?})",
                            started.elapsed()
                        );
                    }
                }
            }
        });
    }
}

/// Every token lifetime a user can set, at its extremes and around the
/// bound: refused below `JwtAuth::MIN_LIFETIME` (zero included), and
/// otherwise a token that lives at least that long after it is issued and
/// no later than the end of year 9999.
#[test]
fn a_jwt_lives_as_long_as_asked_and_no_longer_than_year_9999() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let min = JwtAuth::MIN_LIFETIME;
    let refused = [
        Duration::ZERO,
        Duration::from_nanos(1),
        Duration::from_secs(1),
        min - Duration::from_nanos(1),
    ];
    for ttl in refused {
        let err = JwtAuth::new("kid", "secret", Scope::App)
            .expires_after(ttl)
            .unwrap_err();
        assert!(err.to_string().contains("at least 60 s"), "{ttl:?}: {err}");
    }
    let accepted = [
        min,
        min + Duration::from_nanos(1),
        Duration::from_secs(3600),
        Duration::from_secs(u64::MAX),
        Duration::MAX,
    ];
    for ttl in accepted {
        let jwt = JwtAuth::new("kid", "secret", Scope::App)
            .expires_after(ttl)
            .unwrap();
        let token = jwt.mint().unwrap();
        let claims = token.expose().split('.').nth(1).unwrap().to_owned();
        let claims: serde_json::Value =
            serde_json::from_slice(&b64.decode(claims).unwrap()).unwrap();
        let (iat, exp) = (
            claims["iat"].as_u64().unwrap(),
            claims["exp"].as_u64().unwrap(),
        );
        assert!(exp >= iat + min.as_secs(), "{ttl:?}: lives {} s", exp - iat);
        assert!(exp <= 253_402_300_799, "{ttl:?}: {exp}");
    }
}

/// Against a service that answers 503 to everything, the retry budget
/// brings attempts per call down to one once it is spent, and calls
/// succeed at once when the service comes back. Prints the figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_service_gets_about_its_callers_load() {
    let failing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let down = failing.clone();
    let server = ScriptedServer::serve(move |_| {
        if down.load(std::sync::atomic::Ordering::SeqCst) {
            Reply::json(503, "{}")
        } else {
            Reply::json(200, r#"{"keys":[]}"#)
        }
    })
    .await;
    let retry = RetryPolicy::new()
        .max_attempts(10)
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(2));
    let client = Arc::new(
        builder(&server.base_url)
            .retry_policy(retry)
            .build()
            .unwrap(),
    );
    let wave = |n: usize| {
        let calls: Vec<_> = (0..n)
            .map(|_| {
                let c = client.clone();
                tokio::spawn(async move { c.list_custom_integration_keys(APP, INTEGRATION).await })
            })
            .collect();
        async move {
            for call in calls {
                let _ = call.await.unwrap();
            }
        }
    };
    let mut figures = Vec::new();
    let mut seen = 0;
    for round in 1..=3 {
        wave(100).await;
        let now = server.requests().len();
        figures.push((round, now - seen));
        seen = now;
    }
    println!("100 concurrent calls, max_attempts(10), the service failing every call:");
    for (round, attempts) in &figures {
        println!(
            "  wave {round}: {attempts} attempts, {:.2} per call",
            *attempts as f64 / 100.0
        );
    }
    // The budget (500 tokens, 5 a retry) pays for 100 retries in all.
    let first = figures[0].1;
    assert!(first <= 200, "first wave: {first} attempts for 100 calls");
    assert_eq!(figures[2].1, 100, "once spent, one attempt per call");
    // One after another, the same.
    for _ in 0..20 {
        let _ = client.list_custom_integration_keys(APP, INTEGRATION).await;
    }
    assert_eq!(server.requests().len() - seen, 20);
    assert_eq!(client.runtime().retry_tokens(), 0);
    // The service recovers: calls succeed at once, and each refills a token.
    failing.store(false, std::sync::atomic::Ordering::SeqCst);
    let seen = server.requests().len();
    wave(100).await;
    assert_eq!(server.requests().len() - seen, 100);
    assert_eq!(client.runtime().retry_tokens(), 100);
    println!("  after recovery: 100 calls, 100 attempts, 100 tokens back (20 retries' worth)");
}

/// Plain http to a host that is not this machine is refused when any
/// provider's client is built, unless the caller opts in; loopback is fine.
#[test]
fn plain_http_off_this_machine_needs_an_opt_in() {
    let far = [
        "http://api.example.com",
        "http://10.1.2.3:8080/v2",
        "http://[2001:db8::1]/",
        "HTTP://Example.COM",
    ];
    let near = [
        "http://localhost:1",
        "http://127.0.0.1:1",
        "http://127.8.9.10:1",
        "http://[::1]:1",
        "https://api.example.com",
    ];
    let cartovista = |url: &str, opt_in: bool| {
        let b = apikeys_cartovista::Client::builder()
            .base_url(url)
            .auth(apikeys_cartovista::credentials("k", None).unwrap());
        if opt_in { b.allow_insecure_http() } else { b }
            .build()
            .map(|_| ())
    };
    let finicity = |url: &str, opt_in: bool| {
        let auth = apikeys_finicity::FinicityAuth::partner("app", "p", "s").unwrap();
        let b = apikeys_finicity::Client::builder().base_url(url).auth(auth);
        if opt_in { b.allow_insecure_http() } else { b }
            .build()
            .map(|_| ())
    };
    let finbourne = |url: &str, opt_in: bool| {
        let auth = apikeys_finbourne_identity::FbnAuth::access_token("pat", None).unwrap();
        let b = apikeys_finbourne_identity::Client::builder()
            .base_url(url)
            .auth(auth);
        if opt_in { b.allow_insecure_http() } else { b }
            .build()
            .map(|_| ())
    };
    let sunshine = |url: &str, opt_in: bool| {
        let b = builder(url);
        if opt_in { b.allow_insecure_http() } else { b }
            .build()
            .map(|_| ())
    };
    type Build = dyn Fn(&str, bool) -> Result<(), apikeys_runtime::BuildError>;
    let providers: [(&str, &Build); 4] = [
        ("cartovista", &cartovista),
        ("finicity", &finicity),
        ("finbourne", &finbourne),
        ("sunshine", &sunshine),
    ];
    for (name, build) in providers {
        for url in far {
            let err = build(url, false).expect_err(url);
            let text = err.to_string();
            assert!(text.contains("allow_insecure_http"), "{name} {url}: {text}");
            assert!(
                !text.contains("example") && !text.contains("10.1"),
                "{text}"
            );
            build(url, true).unwrap_or_else(|e| panic!("{name} {url} opted in: {e}"));
        }
        for url in near {
            build(url, false).unwrap_or_else(|e| panic!("{name} {url}: {e}"));
        }
    }
}

/// An `https` URL answered in plain HTTP: one attempt, `ErrorKind::Tls`,
/// and a message that says what happened.
/// A loopback server handing every connection to `serve`, and a call of
/// the client at `https://{host}:{port}`: the error, and how many
/// connections the server saw.
async fn call_over_tls<F, Fut>(
    host: &str,
    serve: F,
) -> (apikeys_sunshine_conversations::Error, usize)
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counted = accepted.clone();
    let serving = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve(socket));
        }
    });
    let client = builder(&format!("https://{host}:{port}")).build().unwrap();
    let err = client
        .list_custom_integration_keys(APP, INTEGRATION)
        .await
        .unwrap_err();
    serving.abort();
    (err, accepted.load(Ordering::SeqCst))
}

/// An `https` URL answered in plain HTTP: one attempt, `ErrorKind::Tls`,
/// and a message that says what happened.
#[tokio::test]
async fn plain_http_on_an_https_url_is_named_and_not_retried() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // An HTTP server answers what it cannot parse (a TLS hello) with a 400,
    // as nginx and most others do.
    let (err, connections) = call_over_tls("127.0.0.1", |mut socket| async move {
        let mut hello = [0u8; 512];
        let _ = socket.read(&mut hello).await;
        let answer = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
        let _ = socket.write_all(answer).await;
    })
    .await;
    assert_eq!(err.kind(), ErrorKind::Tls, "{err:?}");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("plain HTTP"), "{err}");
    assert_eq!(connections, 1, "not retried");
}

/// A certificate no root vouches for: one attempt, `ErrorKind::Tls`, the
/// certificate named.
#[tokio::test]
async fn a_refused_certificate_is_named_and_not_retried() {
    use tokio_rustls::rustls;
    let cert = rustls::pki_types::CertificateDer::from(
        include_bytes!("fixtures/self-signed.cert.der").to_vec(),
    );
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(
        include_bytes!("fixtures/self-signed.key.der")
            .to_vec()
            .into(),
    );
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let (err, connections) = call_over_tls("localhost", move |socket| {
        let acceptor = acceptor.clone();
        async move {
            let _ = acceptor.accept(socket).await;
        }
    })
    .await;
    assert_eq!(err.kind(), ErrorKind::Tls, "{err:?}");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("certificate"), "{err}");
    assert_eq!(err.attempts(), 1);
    assert_eq!(connections, 1, "not retried");
}

/// `with_timeouts` applies the connect timeout too: against a listener
/// whose backlog is full (the kernel drops new connection attempts), a
/// copy with a short connect timeout gives up at it, not at the total.
#[tokio::test]
async fn with_timeouts_applies_the_connect_timeout() {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    let _listener = socket.listen(1).unwrap();
    // Fill the accept queue: nobody accepts.
    let mut held = Vec::new();
    for _ in 0..8 {
        let connect = tokio::net::TcpStream::connect(addr);
        match tokio::time::timeout(Duration::from_millis(300), connect).await {
            Ok(Ok(stream)) => held.push(stream),
            _ => break,
        }
    }
    let client = builder(&format!("http://{addr}"))
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let timeouts = |connect| {
        Timeouts::new()
            .connect(connect)
            .attempt(Duration::from_secs(10))
            .total(Duration::from_secs(4))
    };
    let hurried = client.with_timeouts(timeouts(Duration::from_millis(200)));
    let started = Instant::now();
    let err = hurried
        .list_custom_integration_keys(APP, INTEGRATION)
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
    assert!(took < Duration::from_millis(1500), "gave up after {took:?}");
    // The original's 10 s connect timeout runs into the 4 s total instead.
    let patient = client.with_timeouts(timeouts(Duration::from_secs(10)));
    let started = Instant::now();
    patient
        .list_custom_integration_keys(APP, INTEGRATION)
        .await
        .unwrap_err();
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    drop(held);
}
