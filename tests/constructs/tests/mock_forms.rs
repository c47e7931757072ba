//! The typed mock helpers take every parameter and body kind the client
//! takes (an enum in the path, an enum and a list in the query, a number in
//! a header, a JSON body that is not an object), and a download returns its
//! bytes within the body limit. Generated from our own `specs/mock_forms.yaml`.

use apikeys_constructs::mock_forms::mock::MockServerExt;
use apikeys_constructs::mock_forms::{Client, types};
use httpmock::MockServer;

fn client(base: &str) -> Client {
    Client::builder().base_url(base).build().unwrap()
}

#[tokio::test]
async fn mock_helpers_match_every_parameter_kind() {
    let server = MockServer::start_async().await;
    let tags = vec!["blue".to_owned(), "a b".to_owned()];
    let listed = server.list_region_keys(|when, then| {
        when.region(types::Region::Eu)
            .scope(types::Scope::Write)
            .tag(&tags)
            .x_limit(5);
        then.ok(&vec!["k1".to_owned()]);
    });
    let keys = client(&server.base_url())
        .list_region_keys(types::Region::Eu, Some(types::Scope::Write), &tags, Some(5))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(keys, ["k1"]);
    listed.assert_async().await;

    let enabled = server.set_key_enabled(|when, then| {
        when.id(7).body(false);
        then.no_content();
    });
    client(&server.base_url())
        .set_key_enabled(7, false)
        .await
        .unwrap();
    enabled.assert_async().await;
}

#[tokio::test]
async fn a_download_returns_its_bytes_within_the_limit() {
    use futures_util::StreamExt as _;
    let server = MockServer::start_async().await;
    let pdf: Vec<u8> = b"%PDF-1.7 "
        .iter()
        .copied()
        .cycle()
        .take(64 * 1024)
        .collect();
    server.mock(|when, then| {
        when.path("/keys/k1/audit.pdf");
        then.status(200)
            .header("content-type", "application/pdf")
            .body(&pdf);
    });
    let answer = client(&server.base_url())
        .download_key_audit("k1")
        .await
        .unwrap();
    let mut stream = answer.into_inner();
    let mut read = Vec::new();
    while let Some(chunk) = stream.next().await {
        read.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(read, pdf);

    // Past the client's limit, the download is refused whole; a copy of the
    // client with a higher limit reads it.
    let small = Client::builder()
        .base_url(server.base_url())
        .max_response_bytes(1024)
        .build()
        .unwrap();
    let Err(err) = small.download_key_audit("k1").await else {
        panic!("read past the limit");
    };
    assert_eq!(err.kind(), apikeys_runtime::ErrorKind::TooLarge);
    small
        .with_max_response_bytes(1 << 20)
        .download_key_audit("k1")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_download_not_ready_yet_is_a_success_with_its_status_and_headers() {
    use futures_util::StreamExt as _;
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.path("/keys/k2/audit.pdf");
        then.status(202).header("retry-after", "30");
    });
    let answer = client(&server.base_url())
        .download_key_audit("k2")
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 202);
    assert_eq!(answer.headers()["retry-after"], "30");
    let mut stream = answer.into_inner();
    let mut read = Vec::new();
    while let Some(chunk) = stream.next().await {
        read.extend_from_slice(&chunk.unwrap());
    }
    assert!(read.is_empty(), "no bytes to read: {read:?}");
}
