//! Form bodies go out as the spec's encoding object spells each field, on
//! the first attempt and on a retry alike.

#[path = "../../common/mod.rs"]
mod common;

use std::time::Duration;

use apikeys_constructs::form_bodies::mock::MockServerExt;
use apikeys_constructs::form_bodies::{Client, types};
use apikeys_runtime::RetryPolicy;
use common::{Reply, ScriptedServer};

fn customer() -> types::CreateCustomerBody {
    types::CreateCustomerBody {
        name: "Ada & Co".into(),
        billing: Some(types::CreateCustomerBodyBilling {
            city: Some("Oslo".into()),
            zip: Some("0150".into()),
        }),
        plans: Some(vec!["basic".into(), "support".into()]),
        channels: Some(vec!["mail".into(), "sms".into()]),
        extra: [("ref".to_owned(), "q4".to_owned())].into(),
    }
}

#[tokio::test]
async fn a_form_is_spelt_as_its_encoding_says_and_sent_again_the_same() {
    let server = ScriptedServer::start(vec![Reply::json(503, "{}"), Reply::json(204, "")]).await;
    let client = Client::builder()
        .base_url(&server.base_url)
        .retry_policy(
            RetryPolicy::new()
                .retry_non_idempotent(true)
                .initial_backoff(Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    let body = customer();
    client.create_customer(&body).await.unwrap();
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    common::assert_same_requests(&seen);
    assert_eq!(
        seen[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        String::from_utf8_lossy(&seen[0].body),
        "billing%5Bcity%5D=Oslo&billing%5Bzip%5D=0150\
         &channels=mail%7Csms\
         &extra=%7B%22ref%22%3A%22q4%22%7D\
         &name=Ada+%26+Co\
         &plans=basic&plans=support"
    );
}

#[tokio::test]
async fn the_mock_helper_matches_the_form_the_client_sends() {
    let server = httpmock::MockServer::start_async().await;
    let body = customer();
    let created = server.create_customer(|when, then| {
        when.body(&body);
        then.no_content();
    });
    let client = Client::builder()
        .base_url(server.base_url())
        .build()
        .unwrap();
    client.create_customer(&body).await.unwrap();
    created.assert_async().await;
    // Another form does not match.
    let other = types::CreateCustomerBody {
        name: "Someone else".into(),
        ..customer()
    };
    assert!(client.create_customer(&other).await.is_err());
}

#[tokio::test]
async fn a_multipart_form_goes_out_part_by_part_and_is_not_sent_twice() {
    use apikeys_runtime::deps::multipart::{Form, Part};
    let server = httpmock::MockServer::start_async().await;
    let attached = server.upload_document(|when, then| {
        when.id("c 1")
            .part("title", "Q4 contract")
            .part("file", "%PDF-1.7 fake");
        then.created();
    });
    let client = Client::builder()
        .base_url(server.base_url())
        .build()
        .unwrap();
    let form = || {
        Form::new().text("title", "Q4 contract").part(
            "file",
            Part::bytes(b"%PDF-1.7 fake".to_vec())
                .file_name("contract.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        )
    };
    client.upload_document("c 1", form()).await.unwrap();
    attached.assert_async().await;

    // A form is a stream: it is sent once, even where a retry is allowed.
    let busy = ScriptedServer::start(vec![Reply::json(503, "{}"), Reply::json(201, "")]).await;
    let retrying = Client::builder()
        .base_url(&busy.base_url)
        .retry_policy(
            RetryPolicy::new()
                .retry_non_idempotent(true)
                .initial_backoff(Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    let err = retrying.upload_document("c1", form()).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    let seen = busy.requests();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0]
            .header("content-type")
            .is_some_and(|t| t.starts_with("multipart/form-data; boundary=")),
        "{:?}",
        seen[0].header("content-type")
    );
    let body = String::from_utf8_lossy(&seen[0].body);
    assert!(body.contains("filename=\"contract.pdf\""), "{body}");
}
