//! Benchmarks that print figures side by side (not timed tests):
//!
//! ```sh
//! cargo bench -p apikeys-bench     # or: cargo xtask bench
//! ```
//!
//! A canned-response HTTP/1.1 server runs on loopback in a child process of
//! this binary. Against it: per-call time of each provider's generated client
//! against a hand-written reqwest call with the same `reqwest::Client` and
//! the same serde decode; per-call cost at 1, 16 and 64 calls in flight,
//! instructions and allocations per call, for every provider; the
//! auth layer's share (Sunshine Basic, cached JWT, JWT minted per call); the
//! peak memory of a process holding one client per provider; and the time
//! the shared codegen takes per spec.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use apikeys_runtime::{Auth, AuthContext, AuthError, BoxFuture, GeneratedClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Counts heap allocations, so that a call's allocations can be compared
/// between the generated client and the hand-written one.
struct CountingAllocator;

static ALLOCATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

// SAFETY: every method forwards to the system allocator unchanged; the
// counter is a relaxed atomic add.
unsafe impl std::alloc::GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Allocations per call of `f`, over `calls` sequential calls.
async fn allocations_per_call<F, Fut>(calls: u64, mut f: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    for _ in 0..50 {
        f().await;
    }
    let before = ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed);
    for _ in 0..calls {
        f().await;
    }
    (ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed) - before) as f64 / calls as f64
}

/// One way of making a call, shareable across tasks.
type MakeCall = Arc<dyn Fn() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// The ratio of per-call cost, generated over hand-written, at `in_flight`
/// calls in flight: the median over `blocks` interleaved pairs of
/// throughput runs (each a block of `THROUGHPUT_CALLS` calls).
async fn cost_ratio(in_flight: usize, blocks: usize, generated: &MakeCall, hand: &MakeCall) -> f64 {
    let run = |make: MakeCall| throughput(in_flight, THROUGHPUT_CALLS, move || make());
    let mut ratios = Vec::with_capacity(blocks);
    for block in 0..blocks {
        // Swap which goes first, so that neither always meets a warmer
        // or colder machine.
        let (g, h) = if block % 2 == 0 {
            let g = run(generated.clone()).await;
            (g, run(hand.clone()).await)
        } else {
            let h = run(hand.clone()).await;
            (run(generated.clone()).await, h)
        };
        // Cost per call is 1 / throughput.
        ratios.push(h / g);
    }
    ratios.sort_by(f64::total_cmp);
    ratios[ratios.len() / 2]
}

/// Sequential calls per measured variant.
const CALLS: usize = 4000;
/// Calls per throughput measurement.
const THROUGHPUT_CALLS: usize = 4000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--serve") {
        serve();
    } else if let Some(i) = args.iter().position(|a| a == "--hold-clients") {
        hold_clients(&args[i + 1]);
    } else if let Some(i) = args.iter().position(|a| a == "--huge-body") {
        huge_body(&args[i + 1], args.get(i + 2).and_then(|l| l.parse().ok()));
    } else if args.iter().any(|a| a == "--sizes") {
        let s = sunshine(
            "http://127.0.0.1:1",
            apikeys_sunshine_conversations::basic_auth(KEY_ID, KEY_SECRET).unwrap(),
        );
        let generated = s.list_custom_integration_keys(APP, INTEGRATION);
        let hand = hand_written::<serde_json::Value>(
            s.http(),
            reqwest::Method::GET,
            "http://127.0.0.1:1/",
            &[],
            None,
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _guard = rt.enter();
        let pending = s.http().get("http://127.0.0.1:1/").send();
        println!(
            "future sizes: generated {} B, hand-written {} B, reqwest Pending {} B",
            std::mem::size_of_val(&generated),
            std::mem::size_of_val(&hand),
            std::mem::size_of_val(&pending)
        );
    } else if let Some(i) = args.iter().position(|a| a == "--only-call") {
        only_call(
            args[i + 1].parse().unwrap_or(0),
            &args[i + 2],
            args[i + 3].parse().unwrap_or(1000),
        );
    } else if args.iter().any(|a| a == "--instructions") {
        let server = start_server();
        instruction_counts(&server.base);
        drop(server);
    } else if args.iter().any(|a| a == "--costs") {
        let server = start_server();
        per_provider_costs(&server.base);
    } else if args.iter().any(|a| a == "--empty-process") {
        empty_process();
    } else if let Some(i) = args.iter().position(|a| a == "--only") {
        only(&args[i + 1], args[i + 2].parse().unwrap_or(10_000));
    } else {
        run();
    }
}

// ---------------------------------------------------------------- server

fn sunshine_body() -> String {
    let key = r#"{"id":"int_64f0c0ffee0000000000c003","displayName":"Billing sync","secret":"c2VjcmV0LXZhbHVlLWZvci1iZW5jaA"}"#;
    format!(r#"{{"keys":[{key},{key},{key}]}}"#)
}

fn finbourne_body() -> String {
    let key = r#"{"id":"f45fcf4e7942422bb6c99ff74de30f40","displayName":"Nightly","createdDate":"2022-12-08T13:30:12.0000000+00:00","deactivationDate":"2023-06-01T00:00:00.0000000+00:00"}"#;
    format!("[{key},{key},{key}]")
}

fn cartovista_body() -> String {
    let key = r#"{"accessKeyString":"cv-abc","hasAccessKey":true,"mode":"1","enabled":true,"userId":"u-42","tenantId":"t-1","creationTime":"2026-11-22T05:00:00","ipWhitelisting":["192.0.2.0/24"],"notes":"etl"}"#;
    format!("[{key},{key},{key}]")
}

fn finicity_body() -> String {
    r#"{"data":[{"receipt":{"profile":3,"version":"1","receiptId":"cr_7QkTn2Lw9XbPz4RcV1mHsEaYd0UfGj","customerId":"1005061234","partnerId":"2445580000000","timestamp":"2026-11-22T05:00:00Z"},"proof":{"signature":"c2ln","keyId":"867-530-900","timestamp":"2026-11-22T05:00:01Z"}}]}"#.to_owned()
}

fn serve() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("server runtime");
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("{}", listener.local_addr().unwrap().port());
        let replies: Arc<Vec<(&'static str, Vec<u8>)>> = Arc::new(
            [
                ("/v2/apps", sunshine_body()),
                ("/api/keys", finbourne_body()),
                ("/acme/api/v2/User", cartovista_body()),
                ("/aggregation", finicity_body()),
            ]
            .into_iter()
            .map(|(prefix, body)| {
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                (prefix, reply.into_bytes())
            })
            .collect(),
        );
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            socket.set_nodelay(true).ok();
            let replies = replies.clone();
            tokio::spawn(async move {
                let mut buf = Vec::with_capacity(8192);
                let mut chunk = [0u8; 8192];
                loop {
                    // One request: head, then content-length bytes of body.
                    let head_end = loop {
                        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break p + 4;
                        }
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while buf.len() < head_end + length {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                    buf.drain(..head_end + length);
                    let reply = replies
                        .iter()
                        .find(|(prefix, _)| path.starts_with(&prefix.to_ascii_lowercase()))
                        .map(|(_, r)| r.as_slice())
                        .unwrap_or(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
                    if socket.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn start_server() -> Server {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg("--serve")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the canned server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    Server {
        child,
        base: format!("http://127.0.0.1:{}", line.trim()),
    }
}

// ---------------------------------------------------------------- clients

const KEY_ID: &str = "int_64f0c0ffee0000000000c003";
const KEY_SECRET: &str = "bench-secret";
const APP: &str = "64f0c0ffee0000000000a001";
const INTEGRATION: &str = "64f0c0ffee0000000000b002";

/// Mints a new JWT for every request: what not caching would cost.
struct JwtPerCall(apikeys_sunshine_conversations::JwtAuth);

impl Auth for JwtPerCall {
    fn authorize<'a>(
        &'a self,
        _ctx: AuthContext<'a>,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), AuthError>> {
        Box::pin(async move {
            let token = self.0.mint()?;
            let value = apikeys_runtime::bearer_header("the token", &token)?;
            request
                .headers_mut()
                .insert(reqwest::header::AUTHORIZATION, value);
            Ok(())
        })
    }

    fn scheme(&self) -> &'static str {
        "jwt-per-call"
    }
}

fn sunshine(base: &str, auth: impl Auth) -> apikeys_sunshine_conversations::Client {
    apikeys_sunshine_conversations::Client::builder()
        .base_url(base)
        .auth(auth)
        .build()
        .unwrap()
}

fn finbourne(base: &str) -> apikeys_finbourne_identity::Client {
    apikeys_finbourne_identity::Client::builder()
        .base_url(base)
        .auth(apikeys_finbourne_identity::FbnAuth::access_token("bench-pat", None).unwrap())
        .build()
        .unwrap()
}

fn cartovista(base: &str) -> apikeys_cartovista::Client {
    apikeys_cartovista::Client::builder()
        .base_url(base)
        .auth(apikeys_cartovista::credentials("bench-api-key", None).unwrap())
        .build()
        .unwrap()
}

fn finicity(base: &str) -> apikeys_finicity::Client {
    apikeys_finicity::Client::builder()
        .base_url(base)
        .auth(apikeys_finicity::FinicityAuth::token("bench-app-key", "bench-token").unwrap())
        .build()
        .unwrap()
}

fn finicity_body_data() -> apikeys_finicity::types::ThirdPartyAccessKeyData {
    serde_json::from_value(serde_json::json!({
        "customerId": "1005061234", "partnerId": "2445580000000", "thirdPartyPartnerId": "2445589999999",
        "products": [{"product": "moneyTransferDetails", "accountId": "5011640001",
            "accessPeriod": {"type": "timeframe", "startTime": "2026-11-01T00:00:00Z", "endTime": "2027-11-01T00:00:00Z"}}]
    }))
    .unwrap()
}

/// A hand-written call: the same `reqwest::Client`, the same headers, the
/// same status check and the same serde decode as the generated one.
async fn hand_written<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    headers: &[(&'static str, &str)],
    body: Option<&apikeys_finicity::types::ThirdPartyAccessKeyData>,
) -> T {
    let mut request = http
        .request(method, url)
        .header(reqwest::header::ACCEPT, "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        // Serialized on every call, as the generated client does.
        request = request.json(body);
    }
    let response = request.send().await.expect("send");
    assert!(response.status().is_success());
    let bytes = response.bytes().await.expect("body");
    serde_json::from_slice(&bytes).expect("decode")
}

// ---------------------------------------------------------------- stats

struct Stats {
    median: Duration,
    p99: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Stats {
        median: at(0.5),
        p99: at(0.99),
    }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Times `calls` sequential calls of `a` and of `b`, interleaved in blocks of
/// 100 so that both see the same machine noise.
async fn paired<A, AF, B, BF>(calls: usize, mut a: A, mut b: B) -> (Stats, Stats)
where
    A: FnMut() -> AF,
    AF: Future<Output = ()>,
    B: FnMut() -> BF,
    BF: Future<Output = ()>,
{
    for _ in 0..200 {
        a().await;
        b().await;
    }
    let (mut sa, mut sb) = (Vec::with_capacity(calls), Vec::with_capacity(calls));
    for _ in 0..calls / 100 {
        for _ in 0..100 {
            let t = Instant::now();
            a().await;
            sa.push(t.elapsed());
        }
        for _ in 0..100 {
            let t = Instant::now();
            b().await;
            sb.push(t.elapsed());
        }
    }
    (stats(sa), stats(sb))
}

/// Calls per second with `in_flight` tasks sharing `calls` calls; each task
/// makes its calls one after another, creating each future when it starts.
async fn throughput<F, Fut>(in_flight: usize, calls: usize, make: F) -> f64
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let per_task = calls / in_flight;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..in_flight {
        let make = make.clone();
        tasks.spawn(async move {
            for _ in 0..per_task {
                make().await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    (per_task * in_flight) as f64 / started.elapsed().as_secs_f64()
}

// ---------------------------------------------------------------- memory

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn empty_process() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        drop(http);
    });
    println!("{}", peak_rss_kib());
}

fn hold_clients(base: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = sunshine(
            base,
            apikeys_sunshine_conversations::basic_auth(KEY_ID, KEY_SECRET).unwrap(),
        );
        let f = finbourne(base);
        let c = cartovista(base);
        let n = finicity(base);
        s.list_custom_integration_keys(APP, INTEGRATION)
            .await
            .unwrap();
        f.list_own_api_keys().await.unwrap();
        c.api_key_get_access_keys("acme", "u-42").await.unwrap();
        n.update_third_party_access_key("cr_1", &finicity_body_data())
            .await
            .unwrap();
        println!("{}", peak_rss_kib());
        drop((s, f, c, n));
    });
}

/// `--huge-body declared|chunked|endless [limit]`: one Sunshine call
/// against a loopback server of this process that answers 200 MB with a
/// `Content-Length`, 200 MB chunked, or chunks without end (for 20 s at
/// most); prints the peak RSS. The server streams a fixed 64 KiB chunk, so
/// what grows is the client.
fn huge_body(mode: &str, limit: Option<usize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mode = mode.to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            const TOTAL: usize = 200 * 1000 * 1000;
            let chunk = vec![b' '; 64 * 1024];
            let head = match mode.as_str() {
                "declared" => format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {TOTAL}\r\n\r\n"),
                _ => "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n".to_owned(),
            };
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let until = Instant::now() + Duration::from_secs(20);
            let mut sent = 0;
            while Instant::now() < until && (mode == "endless" || sent < TOTAL) {
                let n = chunk.len().min(TOTAL - sent.min(TOTAL)).max(1);
                let ok = if mode == "declared" {
                    socket.write_all(&chunk[..n]).await.is_ok()
                } else {
                    let framed = [format!("{n:x}\r\n").as_bytes(), &chunk[..n], b"\r\n"].concat();
                    socket.write_all(&framed).await.is_ok()
                };
                if !ok {
                    return;
                }
                sent += n;
            }
            let _ = socket.write_all(b"0\r\n\r\n").await;
        });
        let mut builder = apikeys_sunshine_conversations::Client::builder()
            .base_url(&base)
            .auth(apikeys_sunshine_conversations::basic_auth(KEY_ID, KEY_SECRET).unwrap());
        if let Some(limit) = limit {
            builder = builder.max_response_bytes(limit);
        }
        let client = builder.build().unwrap();
        let outcome = client.list_custom_integration_keys(APP, INTEGRATION).await;
        eprintln!("{:?}", outcome.as_ref().err().map(|e| e.kind()));
        println!("{}", peak_rss_kib());
    });
}

fn child_peak(args: &[&str]) -> u64 {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(args)
        .output()
        .expect("memory child");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

/// `--only generated|hand N`: N sequential Sunshine list calls of one kind
/// and nothing else, for instruction counts (`perf stat --no-inherit`).
fn only(which: &str, calls: usize) {
    let server = start_server();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = sunshine(
            &server.base,
            apikeys_sunshine_conversations::basic_auth(KEY_ID, KEY_SECRET).unwrap(),
        );
        let header = "Basic aW50XzY0ZjBjMGZmZWUwMDAwMDAwMDAwYzAwMzpiZW5jaC1zZWNyZXQ=";
        for _ in 0..calls {
            // Built per call, as a hand-written client would.
            let url = format!(
                "{}/v2/apps/{}/integrations/{}/keys",
                server.base, APP, INTEGRATION
            );
            if which == "generated" {
                s.list_custom_integration_keys(APP, INTEGRATION)
                    .await
                    .unwrap();
            } else {
                let _: apikeys_sunshine_conversations::types::IntegrationApiKeyListResponse =
                    hand_written(
                        s.http(),
                        reqwest::Method::GET,
                        &url,
                        &[("authorization", header)],
                        None,
                    )
                    .await;
            }
        }
    });
}

// ---------------------------------------------------------------- per provider

/// For every provider: the generated call and the hand-written one, as
/// shareable closures.
fn provider_calls(base: &str) -> Vec<(&'static str, MakeCall, MakeCall)> {
    use base64::Engine as _;
    let basic_header = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{KEY_ID}:{KEY_SECRET}"))
    );
    let s = Arc::new(sunshine(
        base,
        apikeys_sunshine_conversations::basic_auth(KEY_ID, KEY_SECRET).unwrap(),
    ));
    let f = Arc::new(finbourne(base));
    let c = Arc::new(cartovista(base));
    let n = Arc::new(finicity(base));
    let data = Arc::new(finicity_body_data());
    let urls = Arc::new([
        format!("{base}/v2/apps/{APP}/integrations/{INTEGRATION}/keys"),
        format!("{base}/api/keys"),
        format!("{base}/acme/api/v2/User/u-42/ApiKey"),
        format!("{base}/aggregation/v1/partners/accessKey/cr_1"),
        base.to_owned(),
    ]);
    let header = Arc::new(basic_header);
    macro_rules! make {
        (|$($v:ident),*| $body:expr) => {{
            $(let $v = $v.clone();)*
            Arc::new(move || {
                $(let $v = $v.clone();)*
                Box::pin(async move { $body; }) as std::pin::Pin<Box<dyn Future<Output = ()> + Send>>
            }) as MakeCall
        }};
    }
    vec![
        (
            "Sunshine list",
            make!(|s| s
                .list_custom_integration_keys(APP, INTEGRATION)
                .await
                .unwrap()),
            make!(|s, urls, header| {
                let _: apikeys_sunshine_conversations::types::IntegrationApiKeyListResponse =
                    hand_written(
                        s.http(),
                        reqwest::Method::GET,
                        &urls[0],
                        &[("authorization", &header)],
                        None,
                    )
                    .await;
            }),
        ),
        (
            "FINBOURNE list",
            make!(|f| f.list_own_api_keys().await.unwrap()),
            make!(|f, urls| {
                let _: Vec<apikeys_finbourne_identity::types::ApiKey> = hand_written(
                    f.http(),
                    reqwest::Method::GET,
                    &urls[1],
                    &[("authorization", "Bearer bench-pat")],
                    None,
                )
                .await;
            }),
        ),
        (
            "CartoVista list",
            make!(|c| c.api_key_get_access_keys("acme", "u-42").await.unwrap()),
            make!(|c, urls| {
                let _: Vec<apikeys_cartovista::types::AccessKeyDto> = hand_written(
                    c.http(),
                    reqwest::Method::GET,
                    &urls[2],
                    &[("apikey", "bench-api-key")],
                    None,
                )
                .await;
            }),
        ),
        (
            "Finicity update (PUT)",
            make!(|n, data| n
                .update_third_party_access_key("cr_1", &data)
                .await
                .unwrap()),
            make!(|n, urls, data| {
                let url = format!("{}/aggregation/v1/partners/accessKey/{}", urls[4], "cr_1");
                let _: apikeys_finicity::types::ThirdPartyAccessKeyReceiptData = hand_written(
                    n.http(),
                    reqwest::Method::PUT,
                    &url,
                    &[
                        ("finicity-app-key", "bench-app-key"),
                        ("finicity-app-token", "bench-token"),
                    ],
                    Some(&data),
                )
                .await;
            }),
        ),
    ]
}

/// `--only-call <provider index> generated|hand N`: N sequential calls of one
/// provider's generated or hand-written call, and nothing else.
fn only_call(index: usize, which: &str, calls: usize) {
    let base = std::env::var("APIKEYS_BENCH_BASE").expect("the server's base URL");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (_, generated, hand) = provider_calls(&base).swap_remove(index);
    let make = if which == "generated" {
        generated
    } else {
        hand
    };
    rt.block_on(async {
        for _ in 0..calls {
            make().await;
        }
    });
}

/// Instructions per call, generated and hand-written, counted by callgrind
/// (deterministic, unlike time on a shared machine): the difference
/// between runs of 1,000 and 3,000 calls, so start-up cancels out.
fn instruction_counts(base: &str) {
    let has_valgrind = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    println!("\n## Instructions per call (callgrind; start-up cancelled out)\n");
    if !has_valgrind {
        println!("valgrind is not installed: skipped (apt-get install valgrind).");
        return;
    }
    let count = |index: usize, which: &str, calls: usize| -> f64 {
        let out = Command::new("valgrind")
            .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
            .arg(std::env::current_exe().unwrap())
            .args(["--only-call", &index.to_string(), which, &calls.to_string()])
            .env("APIKEYS_BENCH_BASE", base)
            .output()
            .expect("valgrind");
        let text = String::from_utf8_lossy(&out.stderr);
        text.lines()
            .find_map(|l| l.split("Collected :").nth(1))
            .and_then(|n| n.trim().parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    println!("| provider / operation | generated | hand-written | ratio |");
    println!("|---|---|---|---|");
    for (index, (name, _, _)) in provider_calls(base).into_iter().enumerate() {
        let per_call =
            |which: &str| (count(index, which, 3000) - count(index, which, 1000)) / 2000.0;
        let (g, h) = (per_call("generated"), per_call("hand"));
        println!("| {name} | {g:.0} | {h:.0} | {:.3} |", g / h);
    }
}

/// Per provider: the cost ratio at 1, 16 and 64 calls in flight, and
/// allocations per call.
fn per_provider_costs(base: &str) {
    println!("\n## Per-call cost under concurrency, every provider (generated ÷ hand-written)\n");
    println!(
        "Current-thread tokio runtime (the server runs in a child process, on the other core); median of 9 interleaved block pairs of {THROUGHPUT_CALLS} calls, the order swapped every block; target ≤ 1.05.\n"
    );
    println!(
        "| provider / operation | 1 in flight | 16 in flight | 64 in flight | allocations per call (generated / hand-written) |"
    );
    println!("|---|---|---|---|---|");
    let single = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (name, generated, hand) in provider_calls(base) {
        let ratios: Vec<f64> = [1, 16, 64]
            .into_iter()
            .map(|in_flight| single.block_on(cost_ratio(in_flight, 9, &generated, &hand)))
            .collect();
        let (ga, ha) = single.block_on(async {
            let g = allocations_per_call(2000, || generated()).await;
            let h = allocations_per_call(2000, || hand()).await;
            (g, h)
        });
        println!(
            "| {name} | {:.3} | {:.3} | {:.3} | {ga:.1} / {ha:.1} |",
            ratios[0], ratios[1], ratios[2]
        );
    }
}

// ---------------------------------------------------------------- run

fn run() {
    let server = start_server();
    let base = server.base.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "apikeys benchmarks: {} cores, {CALLS} sequential calls per variant, loopback server in a child process",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );

    rt.block_on(async {
        println!("\n## Per call: generated client vs hand-written reqwest (same client, same decode)\n");
        println!(
            "| provider / operation | generated median | hand-written median | ratio | generated p99 | hand-written p99 |"
        );
        println!("|---|---|---|---|---|---|");
        let row = |name: &str, g: Stats, h: Stats| {
            println!(
                "| {name} | {:.1} µs | {:.1} µs | {:.3} | {:.1} µs | {:.1} µs |",
                us(g.median),
                us(h.median),
                g.median.as_secs_f64() / h.median.as_secs_f64(),
                us(g.p99),
                us(h.p99)
            );
        };

        let basic = apikeys_sunshine_conversations::basic_auth(KEY_ID, KEY_SECRET).unwrap();
        let basic_header = {
            use base64::Engine as _;
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{KEY_ID}:{KEY_SECRET}"))
            )
        };
        let s = sunshine(&base, basic);
        let url = format!("{base}/v2/apps/{APP}/integrations/{INTEGRATION}/keys");
        let (g, h) = paired(
            CALLS,
            || async {
                s.list_custom_integration_keys(APP, INTEGRATION).await.unwrap();
            },
            || async {
                let _: apikeys_sunshine_conversations::types::IntegrationApiKeyListResponse =
                    hand_written(s.http(), reqwest::Method::GET, &url, &[("authorization", &basic_header)], None)
                        .await;
            },
        )
        .await;
        row("Sunshine listCustomIntegrationKeys", g, h);

        let f = finbourne(&base);
        let url = format!("{base}/api/keys");
        let (g, h) = paired(
            CALLS,
            || async {
                f.list_own_api_keys().await.unwrap();
            },
            || async {
                let _: Vec<apikeys_finbourne_identity::types::ApiKey> = hand_written(
                    f.http(),
                    reqwest::Method::GET,
                    &url,
                    &[("authorization", "Bearer bench-pat")],
                    None,
                )
                .await;
            },
        )
        .await;
        row("FINBOURNE listOwnApiKeys", g, h);

        let c = cartovista(&base);
        let url = format!("{base}/acme/api/v2/User/u-42/ApiKey");
        let (g, h) = paired(
            CALLS,
            || async {
                c.api_key_get_access_keys("acme", "u-42").await.unwrap();
            },
            || async {
                let _: Vec<apikeys_cartovista::types::AccessKeyDto> = hand_written(
                    c.http(),
                    reqwest::Method::GET,
                    &url,
                    &[("apikey", "bench-api-key")],
                    None,
                )
                .await;
            },
        )
        .await;
        row("CartoVista ApiKey_GetAccessKeys", g, h);

        let n = finicity(&base);
        let data = finicity_body_data();
        let url = format!("{base}/aggregation/v1/partners/accessKey/cr_1");
        let (g, h) = paired(
            CALLS,
            || async {
                n.update_third_party_access_key("cr_1", &data).await.unwrap();
            },
            || async {
                let _: apikeys_finicity::types::ThirdPartyAccessKeyReceiptData = hand_written(
                    n.http(),
                    reqwest::Method::PUT,
                    &url,
                    &[("finicity-app-key", "bench-app-key"), ("finicity-app-token", "bench-token")],
                    Some(&data),
                )
                .await;
            },
        )
        .await;
        row("Finicity updateThirdPartyAccessKey (PUT; no GET exists)", g, h);

        println!("\n## Auth layer (Sunshine list, per call)\n");
        let jwt = sunshine(
            &base,
            apikeys_sunshine_conversations::JwtAuth::new(KEY_ID, KEY_SECRET, apikeys_sunshine_conversations::Scope::App),
        );
        let per_call = sunshine(
            &base,
            JwtPerCall(apikeys_sunshine_conversations::JwtAuth::new(
                KEY_ID,
                KEY_SECRET,
                apikeys_sunshine_conversations::Scope::App,
            )),
        );
        let (basic_stats, jwt_stats) = paired(
            CALLS,
            || async {
                s.list_custom_integration_keys(APP, INTEGRATION).await.unwrap();
            },
            || async {
                jwt.list_custom_integration_keys(APP, INTEGRATION).await.unwrap();
            },
        )
        .await;
        let (basic_again, minted_stats) = paired(
            CALLS,
            || async {
                s.list_custom_integration_keys(APP, INTEGRATION).await.unwrap();
            },
            || async {
                per_call.list_custom_integration_keys(APP, INTEGRATION).await.unwrap();
            },
        )
        .await;
        println!("| auth | median | vs Basic (same run) |");
        println!("|---|---|---|");
        println!("| Basic | {:.1} µs | 1.000 |", us(basic_stats.median));
        println!(
            "| JWT, cached | {:.1} µs | {:.3} |",
            us(jwt_stats.median),
            jwt_stats.median.as_secs_f64() / basic_stats.median.as_secs_f64()
        );
        println!(
            "| JWT, minted per call | {:.1} µs | {:.3} |",
            us(minted_stats.median),
            minted_stats.median.as_secs_f64() / basic_again.median.as_secs_f64()
        );
        let mint = {
            let auth = apikeys_sunshine_conversations::JwtAuth::new(KEY_ID, KEY_SECRET, apikeys_sunshine_conversations::Scope::App);
            let t = Instant::now();
            for _ in 0..10_000 {
                std::hint::black_box(auth.mint().unwrap());
            }
            t.elapsed() / 10_000
        };
        println!("| (minting one JWT alone) | {:.2} µs | |", us(mint));

        // Throughput at 1, 16 and 64 calls in flight, every provider:
        // `per_provider_costs` below.
    });

    per_provider_costs(&base);
    instruction_counts(&base);

    println!("\n## Memory (peak resident set, separate processes)\n");
    let empty = child_peak(&["--empty-process"]);
    let held = child_peak(&["--hold-clients", &base]);
    println!("| process | peak RSS |");
    println!("|---|---|");
    println!("| runtime + one reqwest client, no call | {empty} KiB |");
    println!("| one client per provider (4), one call each | {held} KiB |");
    println!("| difference | {} KiB |", held.saturating_sub(empty));

    println!("\n## Memory against oversized answers (peak RSS, one call each)\n");
    println!("| answer | default limit (4 MiB) | limit lifted |");
    println!("|---|---|---|");
    for (mode, what) in [
        ("declared", "200 MB with Content-Length"),
        ("chunked", "200 MB chunked"),
        ("endless", "endless chunked (20 s)"),
    ] {
        let bounded = child_peak(&["--huge-body", mode]);
        let lifted = if mode == "endless" {
            "not run".to_owned()
        } else {
            format!(
                "{} KiB",
                child_peak(&["--huge-body", mode, &usize::MAX.to_string()])
            )
        };
        println!("| {what} | {bounded} KiB | {lifted} |");
    }

    println!("\n## Codegen (apikeys-codegen, release build, median of 20)\n");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let specs = apikeys_codegen::specs_in(&root.join("openapi")).unwrap();
    println!("| spec | time |");
    println!("|---|---|");
    let mut total = Duration::ZERO;
    for spec in &specs {
        let mut times: Vec<Duration> = (0..20)
            .map(|_| {
                let t = Instant::now();
                apikeys_codegen::generate(&spec.path).unwrap();
                t.elapsed()
            })
            .collect();
        times.sort();
        total += times[10];
        println!(
            "| {} | {:.1} ms |",
            spec.name,
            times[10].as_secs_f64() * 1e3
        );
    }
    println!(
        "| all {} | {:.1} ms |",
        specs.len(),
        total.as_secs_f64() * 1e3
    );
    drop(server);
}
