//! CartoVista Cloud: every operation on the wire (the contract we chose:
//! no body where there is none), both API-mode forms, errors without a
//! published shape, tenant binding, and the shared runtime contract.

mod common;

use apikeys_cartovista::mock::MockServerExt;
use apikeys_cartovista::{ApiModeEnum, Client, Secret, credentials, types};
use apikeys_runtime::{ErrorKind, Timeouts};
use common::{Outcome, Provider, Reply, ScriptedServer};
use httpmock::prelude::*;
use serde_json::json;

const API_KEY: &str = "cv-api-key-77aa";
const SECRET_KEY: &str = "cv-secret-key-88bb";
const TENANT: &str = "acme";
const USER: &str = "u-42";

fn client(base: &str) -> Client {
    Client::builder()
        .base_url(base)
        .auth(credentials(API_KEY, Some(Secret::new(SECRET_KEY))).unwrap())
        .build()
        .unwrap()
}

fn dto(mode: serde_json::Value) -> serde_json::Value {
    json!({
        "accessKey": "the-key-itself",
        "accessKeyString": "the-k…",
        "hasAccessKey": true,
        "mode": mode,
        "enabled": true,
        "userId": USER,
        "tenantId": "t-1",
        "creationTime": "2026-11-22T05:00:00",
        "lastUsedTime": "2026-11-22T05:10:00.123+01:00",
        "ipWhitelisting": ["192.0.2.0/24"],
        "notes": "ci"
    })
}

#[tokio::test]
async fn create_and_list_send_headers_body_and_decode_keys() {
    let server = MockServer::start_async().await;
    let create = server.mock(|when, then| {
        when.method(POST)
            .path(format!("/{TENANT}/api/v2/User/{USER}/ApiKey"))
            .header("apikey", API_KEY)
            .header("secretkey", SECRET_KEY)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .header_missing("api-version")
            .json_body(json!({"ipWhitelisting": ["192.0.2.0/24"], "notes": "ci"}));
        then.status(200).json_body(dto(json!("1")));
    });
    let list = server.mock(|when, then| {
        when.method(GET)
            .path(format!("/{TENANT}/api/v2/User/{USER}/ApiKey"))
            .header("apikey", API_KEY)
            .header("secretkey", SECRET_KEY)
            .header("accept", "application/json")
            .header_missing("content-type");
        then.status(200)
            .json_body(json!([dto(json!(1)), dto(json!("0"))]));
    });
    let c = client(&server.base_url());
    let body = types::CreateApiKeyParameter {
        ip_whitelisting: Some(vec!["192.0.2.0/24".into()]),
        notes: Some("ci".into()),
    };
    let key = c
        .api_key_create_access_key(TENANT, USER, &body)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(key.mode, Some(ApiModeEnum::Mode1));
    assert_eq!(key.access_key.as_ref().unwrap().expose(), "the-key-itself");
    assert!(!format!("{key:?}").contains("the-key-itself"));
    assert_eq!(key.creation_time.as_deref(), Some("2026-11-22T05:00:00"));

    let keys = c.api_key_get_access_keys(TENANT, USER).await.unwrap();
    assert_eq!(keys[0].mode, Some(ApiModeEnum::Mode1), "integer 1 decodes");
    assert_eq!(
        keys[1].mode,
        Some(ApiModeEnum::Mode0),
        "string \"0\" decodes"
    );
    create.assert_async().await;
    list.assert_async().await;
}

#[test]
fn modes_are_written_as_the_declared_strings_and_bad_ones_refused() {
    let key: types::AccessKeyDto = serde_json::from_value(json!({"mode": 0})).unwrap();
    assert_eq!(serde_json::to_value(&key).unwrap()["mode"], json!("0"));
    let key: types::AccessKeyDto = serde_json::from_value(json!({"mode": "1"})).unwrap();
    assert_eq!(serde_json::to_value(&key).unwrap()["mode"], json!("1"));
    // A mode added later keeps its value and is written back as text.
    for (later, text) in [(json!(2), "2"), (json!("2"), "2"), (json!(-1), "-1")] {
        let key: types::AccessKeyDto = serde_json::from_value(json!({"mode": later})).unwrap();
        assert_eq!(key.mode, Some(ApiModeEnum::Other(text.into())));
        assert_eq!(serde_json::to_value(&key).unwrap()["mode"], json!(text));
    }
    assert!(serde_json::from_value::<types::AccessKeyDto>(json!({"mode": true})).is_err());
}

#[tokio::test]
async fn update_sends_the_key_and_no_accept_and_reads_an_empty_answer() {
    let server = ScriptedServer::start(vec![Reply::text(200, "")]).await;
    let body: types::AccessKeyDto = serde_json::from_value(dto(json!(1))).unwrap();
    client(&server.base_url)
        .api_key_update_access_key(TENANT, &body)
        .await
        .unwrap();
    let seen = &server.requests()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.path, format!("/{TENANT}/api/v2/ApiKey"));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    // No media type is asked for: reqwest's `*/*`, which means the same as
    // no Accept header at all (RFC 9110 §12.5.1).
    assert_eq!(seen.header("accept"), Some("*/*"));
    assert_eq!(seen.header("apikey"), Some(API_KEY));
    let sent: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
    assert_eq!(sent["mode"], json!("1"), "requests carry the string form");
    assert_eq!(sent["accessKey"], json!("the-key-itself"));
}

#[tokio::test]
async fn delete_and_generate_secret_send_no_body() {
    let server = ScriptedServer::start(vec![
        // An empty success, whatever its content type.
        Reply::json(204, ""),
        Reply::json(200, "\"brand-new-secret\""),
    ])
    .await;
    let c = client(&server.base_url);
    c.api_key_delete_api_key("ac me", "k/1").await.unwrap();
    let secret = c
        .api_key_generate_secret_key("ac me", "k/1")
        .await
        .unwrap()
        .into_inner();
    assert_eq!(secret.expose(), "brand-new-secret");
    assert!(!format!("{secret:?}").contains("brand-new-secret"));

    let seen = server.requests();
    assert_eq!(seen[0].method, "DELETE");
    assert_eq!(seen[0].path, "/ac%20me/api/v2/ApiKey/k%2F1");
    assert_eq!(seen[1].method, "POST");
    assert_eq!(seen[1].path, "/ac%20me/api/v2/ApiKey/k%2F1/generateSecret");
    for s in &seen {
        assert!(s.body.is_empty(), "{} sent a body", s.method);
        assert_eq!(s.header("content-type"), None);
    }
    assert_eq!(seen[0].header("accept"), Some("*/*"));
    assert_eq!(seen[1].header("accept"), Some("application/json"));
}

#[tokio::test]
async fn a_secret_sent_as_plain_text_reaches_the_caller() {
    // The bare secret as text/plain (with or without a newline), and as a
    // JSON string in a gzip-coded answer: each is the secret, whole.
    let server = ScriptedServer::start(vec![
        Reply::text(200, "s3cr3t-Plain\n"),
        Reply::text(200, "s3cr3t-Plain"),
        Reply::json(200, "\"s3cr3t-Plain\"").encoded("gzip"),
    ])
    .await;
    let c = client(&server.base_url);
    for _ in 0..3 {
        let secret = c
            .api_key_generate_secret_key(TENANT, "k1")
            .await
            .unwrap()
            .into_inner();
        assert_eq!(secret.expose(), "s3cr3t-Plain");
    }
}

/// A secret coded in another spelling of a registered coding, or in
/// several, reaches the caller whole; one this client cannot undo is
/// refused by name, the answer kept as it came.
#[tokio::test]
async fn a_secret_in_any_spelling_of_its_content_coding_reaches_the_caller() {
    let spellings = [
        "GZIP",
        "x-gzip",
        "X-GZip",
        "gzip, identity",
        "identity,deflate",
        "DEFLATE, x-gzip",
        "Gzip, Gzip",
    ];
    let mut replies: Vec<Reply> = spellings
        .iter()
        .map(|coding| Reply::json(200, "\"s3cr3t-Coded\"").encoded(coding))
        .collect();
    replies.push(Reply::json(200, "\"s3cr3t-Coded\"").header("content-encoding", "zstd"));
    let server = ScriptedServer::start(replies).await;
    let c = client(&server.base_url);
    for coding in spellings {
        let secret = c
            .api_key_generate_secret_key(TENANT, "k1")
            .await
            .unwrap_or_else(|e| panic!("{coding}: {e}"))
            .into_inner();
        assert_eq!(secret.expose(), "s3cr3t-Coded", "{coding}");
    }
    let err = c
        .api_key_generate_secret_key(TENANT, "k1")
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("zstd"), "{text}");
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(
        err.body_secret().expose().contains("s3cr3t-Coded"),
        "the raw answer is kept"
    );
}

#[tokio::test]
async fn the_typed_mock_helpers_work() {
    let server = MockServer::start_async().await;
    let mock = server.api_key_generate_secret_key(|when, then| {
        when.tenant_url_code(TENANT).id("k1");
        then.success(200, &Secret::new("s"));
    });
    let secret = client(&server.base_url())
        .api_key_generate_secret_key(TENANT, "k1")
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(secret.expose(), "s");
}

#[tokio::test]
async fn errors_keep_status_headers_and_the_body_as_text_and_json() {
    let server = ScriptedServer::start(vec![
        Reply::text(403, "Forbidden: key disabled").header("x-request-id", "req-403"),
    ])
    .await;
    let err = client(&server.base_url)
        .api_key_get_access_keys(TENANT, USER)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Status);
    assert_eq!(err.status().unwrap().as_u16(), 403);
    assert_eq!(err.request_id(), Some("req-403"));
    assert_eq!(err.body_text(), Some("Forbidden: key disabled"));
    assert!(err.body_json().is_none());

    let server = ScriptedServer::start(vec![Reply::json(
        500,
        r#"{"error":{"code":"Internal","message":"db down"}}"#,
    )])
    .await;
    let err = client(&server.base_url)
        .with_retry_policy(apikeys_cartovista::RetryPolicy::never())
        .api_key_get_access_keys(TENANT, USER)
        .await
        .unwrap_err();
    assert_eq!(err.status().unwrap().as_u16(), 500);
    assert_eq!(err.body_json().unwrap()["error"]["message"], "db down");
}

#[tokio::test]
async fn a_tenant_bound_client_fills_in_tenant_and_user() {
    let server = ScriptedServer::start(vec![Reply::json(200, "[]")]).await;
    let c = client(&server.base_url);
    let acme = c.tenant(TENANT);
    acme.user(USER).get_access_keys().await.unwrap();
    acme.get_access_keys("someone else").await.unwrap();
    acme.delete_api_key("k1").await.unwrap();
    let paths: Vec<String> = server.requests().into_iter().map(|s| s.path).collect();
    assert_eq!(
        paths,
        [
            "/acme/api/v2/User/u-42/ApiKey",
            "/acme/api/v2/User/someone%20else/ApiKey",
            "/acme/api/v2/ApiKey/k1"
        ]
    );
}

#[tokio::test]
async fn two_clients_never_share_credentials() {
    let server = ScriptedServer::start(vec![Reply::json(200, "[]")]).await;
    let first = client(&server.base_url);
    let second = Client::builder()
        .base_url(&server.base_url)
        .auth(credentials("other-api-key", None).unwrap())
        .build()
        .unwrap();
    first.api_key_get_access_keys(TENANT, USER).await.unwrap();
    second.api_key_get_access_keys(TENANT, USER).await.unwrap();
    first.api_key_get_access_keys(TENANT, USER).await.unwrap();
    let seen = server.requests();
    assert_eq!(seen[0].header("apikey"), Some(API_KEY));
    assert_eq!(seen[0].header("secretkey"), Some(SECRET_KEY));
    assert_eq!(seen[1].header("apikey"), Some("other-api-key"));
    assert_eq!(seen[1].header("secretkey"), None);
    assert_eq!(seen[2].header("apikey"), Some(API_KEY));
}

struct CartoVista;

impl Provider for CartoVista {
    type Client = Client;
    const OK: (u16, &'static str) = (200, "[]");
    const SECRETS: &'static [&'static str] = &[API_KEY, SECRET_KEY];

    fn client(base_url: &str, timeouts: Timeouts) -> Client {
        Client::builder()
            .base_url(base_url)
            .timeouts(timeouts)
            .auth(credentials(API_KEY, Some(Secret::new(SECRET_KEY))).unwrap())
            .build()
            .unwrap()
    }

    async fn idempotent(client: &Client) -> Outcome {
        client
            .api_key_get_access_keys(TENANT, USER)
            .await
            .map(drop)
            .map_err(Into::into)
    }

    async fn create(client: &Client) -> Outcome {
        client
            .api_key_generate_secret_key(TENANT, "k1")
            .await
            .map(drop)
            .map_err(Into::into)
    }

    async fn destroy(client: &Client, id: &str) -> Outcome {
        client
            .api_key_delete_api_key(TENANT, id)
            .await
            .map(drop)
            .map_err(Into::into)
    }
}

runtime_contract!(CartoVista);

#[tokio::test]
async fn secrets_never_appear_in_debug_display_or_traces() {
    let creds = credentials(API_KEY, Some(Secret::new(SECRET_KEY))).unwrap();
    let c = CartoVista::client("http://127.0.0.1:9", Timeouts::default());
    let extra = vec![
        format!("{creds:?}"),
        format!("{c:?}"),
        format!("{:?}", c.tenant(TENANT).user(USER)),
    ];
    common::secrets_never_printed::<CartoVista>(&extra).await;
}

#[test]
fn unusable_credentials_are_refused_when_configured() {
    for (key, secret, named) in [
        ("", None, "apikey"),
        ("k\n", None, "apikey"),
        (API_KEY, Some(""), "secretkey"),
        (API_KEY, Some("s\u{e9}cret"), "secretkey"),
    ] {
        let err = credentials(key, secret.map(Secret::new)).unwrap_err();
        assert!(err.to_string().contains(named), "{err}");
        assert!(!err.to_string().contains("s\u{e9}cret"), "{err}");
    }
}

#[tokio::test]
async fn an_empty_tenant_is_refused_before_sending() {
    let server = ScriptedServer::start(vec![Reply::json(200, "[]")]).await;
    let client = CartoVista::client(&server.base_url, Timeouts::new());
    let err = client.tenant("").get_access_keys(USER).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("tenant_url_code"), "{err}");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn loose_answers_decode_as_the_official_sdk_reads_them() {
    let server = ScriptedServer::start(vec![
        Reply::json(
            200,
            r#"[{"accessKeyString":"k1","ipWhitelisting":null,"enabled":"true","mode":2,"hasAccessKey":"False"},
                {"accessKeyString":"k2","ipWhitelisting":["192.0.2.0/24"],"enabled":false,"mode":"0"}]"#,
        ),
        Reply::json(200, r#"{"accessKeyString":"k3","ipWhitelisting":null,"enabled":true}"#),
    ])
    .await;
    let client = CartoVista::client(&server.base_url, Timeouts::new());
    let keys = client
        .api_key_get_access_keys(TENANT, USER)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(keys[0].ip_whitelisting, None);
    assert_eq!(keys[0].enabled, Some(true));
    assert_eq!(keys[0].has_access_key, Some(false));
    assert_eq!(keys[0].mode, Some(ApiModeEnum::Other("2".into())));
    assert_eq!(
        keys[1].ip_whitelisting.as_deref(),
        Some(&["192.0.2.0/24".to_owned()][..])
    );
    let body = types::CreateApiKeyParameter {
        ..serde_json::from_value(json!({})).unwrap()
    };
    let made = client
        .api_key_create_access_key(TENANT, USER, &body)
        .await
        .expect("a create answered with null arrays decodes")
        .into_inner();
    assert_eq!(
        made.access_key_string.as_ref().map(|s| s.expose()),
        Some("k3")
    );
}

#[tokio::test]
async fn an_emptied_whitelist_is_sent_and_an_unset_one_is_not() {
    let server = ScriptedServer::start(vec![Reply::json(204, "")]).await;
    let client = CartoVista::client(&server.base_url, Timeouts::new());
    let mut key: types::AccessKeyDto =
        serde_json::from_value(json!({"accessKeyString": "k1"})).unwrap();
    client
        .api_key_update_access_key(TENANT, &key)
        .await
        .unwrap();
    key.ip_whitelisting = Some(vec![]);
    client
        .api_key_update_access_key(TENANT, &key)
        .await
        .unwrap();
    let sent: Vec<serde_json::Value> = server
        .requests()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert!(sent[0].get("ipWhitelisting").is_none(), "{}", sent[0]);
    assert_eq!(sent[1]["ipWhitelisting"], json!([]));
}

#[tokio::test]
async fn a_bodyless_post_says_its_length() {
    let server = ScriptedServer::start(vec![Reply::json(200, r#""new-secret""#)]).await;
    let client = CartoVista::client(&server.base_url, Timeouts::new());
    let secret = client
        .api_key_generate_secret_key(TENANT, "k1")
        .await
        .unwrap()
        .into_inner();
    assert_eq!(secret.expose(), "new-secret");
    let seen = &server.requests()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.header("content-length"), Some("0"), "{seen:?}");
    assert!(seen.body.is_empty());
}

/// A create exists to return the new key, and a generate its secret: a
/// success without it is an error that says it was probably made, and
/// keeps the answer. A bare-text secret is still a secret.
#[tokio::test]
async fn a_create_or_generate_answered_without_its_secret_is_an_error_that_keeps_the_answer() {
    let answers = [
        "{}",
        r#"{"accessKey":null,"hasAccessKey":true}"#,
        r#"{"accessKey":"","accessKeyString":" "}"#,
    ];
    let server = ScriptedServer::start(answers.iter().map(|a| Reply::json(200, a)).collect()).await;
    let c = client(&server.base_url);
    let body = types::CreateApiKeyParameter {
        ip_whitelisting: None,
        notes: None,
    };
    common::assert_secret_missing(&answers, "/accessKey` or `/accessKeyString", || {
        c.api_key_create_access_key(TENANT, USER, &body)
    })
    .await;
    // Never sent twice: a create is not repeated on its own.
    assert_eq!(server.requests().len(), answers.len());
}

#[tokio::test]
async fn a_generated_secret_that_did_not_arrive_is_an_error() {
    let answers = ["", "\"\"", "null", "  \n"];
    let server = ScriptedServer::start(answers.iter().map(|a| Reply::json(200, a)).collect()).await;
    let c = client(&server.base_url);
    common::assert_secret_missing(&answers, "", || c.api_key_generate_secret_key(TENANT, "k1"))
        .await;
    // Never sent twice: a create is not repeated on its own.
    assert_eq!(server.requests().len(), answers.len());
}
