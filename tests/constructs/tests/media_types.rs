//! A success offered in JSON and in other media types: the method reads
//! JSON, and its `_as` twin asks for one of the others and returns the
//! bytes; a type the spec does not offer is refused before anything is
//! sent, and a retry asks for the same type.

use std::time::Duration;

use apikeys_constructs::media_types::Client;
use apikeys_runtime::{ErrorKind, RetryPolicy};
use httpmock::prelude::*;

fn client(base: &str) -> Client {
    Client::builder()
        .base_url(base)
        .retry_policy(RetryPolicy::new().initial_backoff(Duration::from_millis(5)))
        .build()
        .unwrap()
}

fn bytes(answer: progenitor_client::ResponseValue<apikeys_runtime::Bytes>) -> Vec<u8> {
    answer.into_inner().to_vec()
}

#[tokio::test]
async fn each_offered_media_type_is_reachable() {
    let server = MockServer::start_async().await;
    let json = server.mock(|when, then| {
        when.method(GET)
            .path("/reports/r1")
            .header("accept", "application/json");
        then.status(200)
            .header("content-type", "application/json")
            .body(r#"{"total":3}"#);
    });
    let csv = server.mock(|when, then| {
        when.method(GET)
            .path("/reports/r1")
            .header("accept", "text/csv");
        then.status(200)
            .header("content-type", "text/csv")
            .body("day,total\n1,3\n");
    });
    let xml = server.mock(|when, then| {
        when.method(GET)
            .path("/reports/r1")
            .header("accept", "application/xml; q=1");
        then.status(200).body("<report total=\"3\"/>");
    });
    let c = client(&server.base_url());
    let report = c.get_report("r1", None).await.unwrap().into_inner();
    assert_eq!(report.total, Some(3));
    let answer = c.get_report_as("r1", None, "text/csv").await.unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(bytes(answer), b"day,total\n1,3\n");
    let answer = c
        .get_report_as("r1", None, "application/xml; q=1")
        .await
        .unwrap();
    assert_eq!(bytes(answer), b"<report total=\"3\"/>");
    assert_eq!((json.calls(), csv.calls(), xml.calls()), (1, 1, 1));
}

#[tokio::test]
async fn a_media_type_not_offered_is_refused_before_sending() {
    let server = MockServer::start_async().await;
    let any = server.mock(|_, then| {
        then.status(200);
    });
    let c = client(&server.base_url());
    for accept in [
        "application/json",
        "image/png",
        "",
        "*/*",
        "text/csv\r\nX-A: 1",
    ] {
        let err = c.get_report_as("r1", None, accept).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{accept:?}: {err}");
        let text = err.to_string();
        assert!(text.contains("application/xml, text/csv"), "{text}");
    }
    assert_eq!(any.calls(), 0);
}

#[tokio::test]
async fn the_other_forms_keep_errors_retries_and_bodiless_successes() {
    let server = MockServer::start_async().await;
    let failing = server.mock(|when, then| {
        when.method(GET)
            .path("/reports/r2")
            .header("accept", "text/csv");
        then.status(503).body("busy");
    });
    let missing = server.mock(|when, then| {
        when.method(GET).path("/reports/r3");
        then.status(404)
            .header("content-type", "application/json")
            .body(r#"{"message":"no such report"}"#);
    });
    let nothing = server.mock(|when, then| {
        when.method(POST)
            .path("/exports")
            .header("accept", "application/octet-stream");
        then.status(204);
    });
    let c = client(&server.base_url());
    // Every attempt asks for the same type.
    let err = c.get_report_as("r2", None, "text/csv").await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(failing.calls(), 3);
    // A declared error is typed, as from the JSON method.
    let err = c.get_report_as("r3", None, "text/csv").await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    // Its own type, not the success's (both were `GetReportResponse` to
    // the generator).
    let typed = err.provider_error().expect("the 404 body decodes");
    assert_eq!(typed.message.as_deref(), Some("no such report"));
    assert_eq!(missing.calls(), 1);
    // A success without a body is an empty one.
    let answer = c.start_export_as("application/octet-stream").await.unwrap();
    assert_eq!(answer.status().as_u16(), 204);
    assert!(bytes(answer).is_empty());
    assert_eq!(nothing.calls(), 1);
}
