//! Constructs of published 3.1 specs, normalized and generated: nullable
//! `anyOf`, a boolean `required` on a schema, and an operation with success
//! statuses with and without a body.

#[path = "../../common/mod.rs"]
mod common;

use apikeys_constructs::published_forms::Client;
use common::{Reply, ScriptedServer};

#[tokio::test]
async fn a_success_with_or_without_a_body_and_nullable_fields_decode() {
    let server = ScriptedServer::start(vec![
        Reply::json(
            200,
            r#"{"id":"t1","expires":"2026-12-01T00:00:00Z","owner":{"name":"ops"}}"#,
        ),
        Reply::json(200, r#"{"id":"t2","expires":null,"owner":null}"#),
        Reply::json(204, ""),
    ])
    .await;
    // The spec declares no security: no credentials are needed.
    let client = Client::builder()
        .base_url(&server.base_url)
        .build()
        .unwrap();
    let first = client
        .refresh_token("t1", Some("eyJhbGciOiJub25lIn0.e30."), Some("soon"))
        .await
        .unwrap()
        .into_inner()
        .unwrap();
    assert_eq!(first.id, "t1");
    assert!(first.expires.is_some());
    assert_eq!(first.owner.unwrap().name.as_deref(), Some("ops"));
    let second = client
        .refresh_token("t2", None, None)
        .await
        .unwrap()
        .into_inner()
        .unwrap();
    assert!(second.expires.is_none() && second.owner.is_none());
    let nothing = client.refresh_token("t3", None, None).await.unwrap();
    assert_eq!(nothing.status().as_u16(), 204);
    assert!(nothing.into_inner().is_none());
    // The header 3.1 marks nullable is an optional string: sent when given.
    let sent = server.requests();
    assert_eq!(sent[0].header("x-renewal-hint"), Some("soon"));
    assert_eq!(sent[1].header("x-renewal-hint"), None);
    // A parameter named like progenitor's own `request` local: the
    // argument is `request_`, the query keeps the name.
    assert_eq!(
        sent[0].path,
        "/tokens/t1/refresh?request=eyJhbGciOiJub25lIn0.e30."
    );
    assert_eq!(sent[1].path, "/tokens/t2/refresh");
}

/// Types whose names collide once they are Rust names: `page-info` and
/// `PageInfo`, and the union of `listKeys`' success bodies beside a
/// component already named `ListKeysResponse`. Each keeps its own type
/// (it compiles at all), and each answer reads into the right one.
#[tokio::test]
async fn types_whose_names_collide_each_keep_their_own() {
    use apikeys_constructs::name_clashes::{Client, types};
    let server = ScriptedServer::start(vec![
        Reply::json(200, r#"{"page":{"cursor":"c1"}}"#),
        Reply::json(206, r#"{"rest":{"total":3}}"#),
        Reply::json(200, r#"{"unrelated":true}"#),
    ])
    .await;
    let client = Client::builder()
        .base_url(&server.base_url)
        .build()
        .unwrap();
    match client.list_keys().await.unwrap().into_inner() {
        types::ListKeysResponse2OrListKeysResponse3::Response2(whole) => {
            // `page-info`, renamed `PageInfo2`: the cursor.
            let page: types::PageInfo2 = whole.page.unwrap();
            assert_eq!(page.cursor.as_deref(), Some("c1"));
        }
        other => panic!("the 200 body read as {other:?}"),
    }
    match client.list_keys().await.unwrap().into_inner() {
        types::ListKeysResponse2OrListKeysResponse3::Response3(part) => {
            // `PageInfo`, as the spec spells it: the total.
            let rest: types::PageInfo = part.rest.unwrap();
            assert_eq!(rest.total, Some(3));
        }
        other => panic!("the 206 body read as {other:?}"),
    }
    let summary: types::ListKeysResponse = client.get_summary().await.unwrap().into_inner();
    assert_eq!(summary.unrelated, Some(true));
}

#[tokio::test]
async fn a_body_without_an_encoder_goes_out_as_the_callers_bytes_and_declared_type() {
    let server = ScriptedServer::start(vec![Reply::json(204, "")]).await;
    let client = Client::builder()
        .base_url(&server.base_url)
        .build()
        .unwrap();
    let pem = b"-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n".to_vec();
    client.put_certificate("edge", pem.clone()).await.unwrap();
    let seen = &server.requests()[0];
    assert_eq!(seen.method, "PUT");
    assert_eq!(seen.path, "/certificates/edge");
    assert_eq!(seen.header("content-type"), Some("application/x-pem-file"));
    assert_eq!(seen.body, pem);
}
