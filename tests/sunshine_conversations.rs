//! Sunshine Conversations: every operation on the wire, typed answers and
//! errors, both auth schemes, and the shared runtime contract.

mod common;

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use apikeys_runtime::{ErrorKind, ManualClock, Timeouts};
use apikeys_sunshine_conversations::mock::MockServerExt;
use apikeys_sunshine_conversations::{
    Client, JwtAuth, RetryPolicy, Scope, basic_auth, types, zendesk_base_url,
};
use common::{Outcome, Provider, Reply, ScriptedServer};
use httpmock::prelude::*;
use serde_json::json;

const APP: &str = "64f0c0ffee0000000000a001";
const INTEGRATION: &str = "64f0c0ffee0000000000b002";
const KEY_ID: &str = "int_64f0c0ffee0000000000c003";
const KEY_SECRET: &str = "sunshine-test-secret-Zq9x";
/// base64("int_64f0c0ffee0000000000c003:sunshine-test-secret-Zq9x")
const BASIC: &str =
    "Basic aW50XzY0ZjBjMGZmZWUwMDAwMDAwMDAwYzAwMzpzdW5zaGluZS10ZXN0LXNlY3JldC1acTl4";
const USER_AGENT: &str = concat!("apikeys-sunshine-conversations/", env!("CARGO_PKG_VERSION"));

fn client(base: &str) -> Client {
    Client::builder()
        .base_url(base)
        .auth(basic_auth(KEY_ID, KEY_SECRET).unwrap())
        .build()
        .unwrap()
}

fn key_json() -> serde_json::Value {
    json!({"key": {"id": "int_new", "displayName": "Billing sync", "secret": "returned-key-secret"}})
}

#[tokio::test]
async fn create_sends_exactly_what_the_service_expects() {
    let server = MockServer::start_async().await;
    let mock = server.mock(|when, then| {
        when.method(POST)
            .path(format!("/v2/apps/{APP}/integrations/{INTEGRATION}/keys"))
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .header("authorization", BASIC)
            .header("user-agent", USER_AGENT)
            .header_missing("api-version")
            .json_body(json!({"displayName": "Billing sync"}));
        then.status(201).json_body(key_json());
    });
    let body = types::IntegrationApiKey {
        display_name: "Billing sync".parse().unwrap(),
    };
    let created = client(&server.base_url())
        .create_custom_integration_key(APP, INTEGRATION, &body)
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(created.status().as_u16(), 201);
    let key = created.into_inner().key.unwrap();
    assert_eq!(key.id.as_deref(), Some("int_new"));
    assert_eq!(key.display_name.as_deref(), Some("Billing sync"));
    let secret = key.secret.clone().unwrap();
    assert_eq!(secret.expose(), "returned-key-secret");
    assert!(!format!("{key:?}").contains("returned-key-secret"));
}

#[tokio::test]
async fn list_get_and_delete_send_no_body_and_decode_their_answers() {
    let server = MockServer::start_async().await;
    let list = server.mock(|when, then| {
        when.method(GET)
            .path(format!("/v2/apps/{APP}/integrations/{INTEGRATION}/keys"))
            .header("accept", "application/json")
            .header("authorization", BASIC)
            .header_missing("content-type")
            .header_missing("api-version")
            .header_missing("content-length");
        then.status(200).json_body(json!({"keys": [
            {"id": "int_a", "displayName": "A", "secret": "sa"},
            {"id": "int_b", "displayName": null}
        ]}));
    });
    let get = server.mock(|when, then| {
        when.method(GET)
            .path(format!(
                "/v2/apps/{APP}/integrations/{INTEGRATION}/keys/{KEY_ID}"
            ))
            .header("accept", "application/json")
            .header("authorization", BASIC)
            .header_missing("content-type")
            .header_missing("content-length");
        then.status(200).json_body(key_json());
    });
    let delete = server.mock(|when, then| {
        when.method(DELETE)
            .path(format!(
                "/v2/apps/{APP}/integrations/{INTEGRATION}/keys/{KEY_ID}"
            ))
            .header("accept", "application/json")
            .header("authorization", BASIC)
            .header_missing("content-type")
            .body("");
        then.status(200).json_body(json!({}));
    });
    let c = client(&server.base_url());

    let keys = c
        .list_custom_integration_keys(APP, INTEGRATION)
        .await
        .unwrap()
        .into_inner()
        .keys;
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].secret.as_ref().unwrap().expose(), "sa");
    assert_eq!(keys[1].display_name, None);
    assert!(keys[1].secret.is_none());

    let one = c
        .get_custom_integration_key(APP, INTEGRATION, KEY_ID)
        .await
        .unwrap();
    assert_eq!(one.into_inner().key.unwrap().id.as_deref(), Some("int_new"));

    let gone = c
        .delete_custom_integration_key(APP, INTEGRATION, KEY_ID)
        .await
        .unwrap();
    assert!(gone.into_inner().is_some_and(|body| body.is_empty()));

    list.assert_async().await;
    get.assert_async().await;
    delete.assert_async().await;
}

#[tokio::test]
async fn the_typed_mock_helpers_work() {
    let server = MockServer::start_async().await;
    let mock = server.get_custom_integration_key(|when, then| {
        when.app_id(APP).integration_id(INTEGRATION).key_id(KEY_ID);
        then.ok(&serde_json::from_value(key_json()).unwrap());
    });
    let got = client(&server.base_url())
        .get_custom_integration_key(APP, INTEGRATION, KEY_ID)
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(got.into_inner().key.unwrap().id.as_deref(), Some("int_new"));
}

#[tokio::test]
async fn path_ids_are_fully_percent_encoded() {
    let server = ScriptedServer::start(vec![Reply::json(200, r#"{"key":{}}"#)]).await;
    client(&server.base_url)
        .get_custom_integration_key("a b/ä+c", "i?d#x", "k&e=y;@:")
        .await
        .unwrap();
    assert!(server.requests()[0].body.is_empty());
    assert_eq!(
        server.requests()[0].path,
        "/v2/apps/a%20b%2F%C3%A4%2Bc/integrations/i%3Fd%23x/keys/k%26e%3Dy%3B%40%3A"
    );
}

#[tokio::test]
async fn declared_error_statuses_decode_the_error_body() {
    let server = MockServer::start_async().await;
    for (status, code) in [
        (400, "bad_request"),
        (401, "unauthorized"),
        (404, "not_found"),
        (500, "internal"),
    ] {
        let key = format!("k{status}");
        server.mock(|when, then| {
            when.method(GET).path_includes(format!("/keys/{key}"));
            then.status(status)
                .header("x-request-id", format!("req-{status}"))
                .json_body(json!({"errors": [{"code": code, "title": "why"}]}));
        });
    }
    let c = client(&server.base_url()).with_retry_policy(RetryPolicy::never());
    for (status, code) in [
        (400, "bad_request"),
        (401, "unauthorized"),
        (404, "not_found"),
        (500, "internal"),
    ] {
        let err = c
            .get_custom_integration_key(APP, INTEGRATION, &format!("k{status}"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Status);
        assert_eq!(err.status().unwrap().as_u16(), status);
        assert_eq!(err.operation_id(), "getCustomIntegrationKey");
        assert_eq!(err.request_id(), Some(format!("req-{status}").as_str()));
        let body = err.provider_error().expect("typed error body");
        assert_eq!(body.errors[0].code.as_deref(), Some(code));
        assert!(err.body_text().unwrap().contains(code), "raw body kept");
        assert!(err.to_string().contains("getCustomIntegrationKey"));
        assert!(err.to_string().contains(&status.to_string()));
    }
}

#[tokio::test]
async fn an_error_body_that_is_not_the_declared_shape_is_kept_raw() {
    let server = ScriptedServer::start(vec![Reply::text(403, "forbidden by proxy")]).await;
    let err = client(&server.base_url)
        .list_custom_integration_keys(APP, INTEGRATION)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Status);
    assert_eq!(err.status().unwrap().as_u16(), 403);
    assert!(err.provider_error().is_none());
    assert_eq!(err.body_text(), Some("forbidden by proxy"));
}

#[tokio::test]
async fn an_undeclared_status_is_an_error_with_status_headers_and_body() {
    let server = ScriptedServer::start(vec![
        Reply::json(302, r#"{"errors":[{"code":"moved","title":"elsewhere"}]}"#)
            .header("x-request-id", "req-302"),
    ])
    .await;
    let err = client(&server.base_url)
        .get_custom_integration_key(APP, INTEGRATION, KEY_ID)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Status);
    assert_eq!(err.status().unwrap().as_u16(), 302);
    assert_eq!(err.headers()["x-request-id"], "req-302");
    assert_eq!(err.request_id(), Some("req-302"));
    assert_eq!(
        err.provider_error().unwrap().errors[0].code.as_deref(),
        Some("moved")
    );
}

#[tokio::test]
async fn invalid_json_on_success_is_a_decode_error_holding_the_bytes() {
    let server = ScriptedServer::start(vec![Reply::json(200, "{not json")]).await;
    let err = client(&server.base_url)
        .list_custom_integration_keys(APP, INTEGRATION)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(err.status().unwrap().as_u16(), 200);
    assert_eq!(err.body(), b"{not json");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("invalid JSON at line 1"), "{err}");
}

#[tokio::test]
async fn a_decode_error_never_quotes_the_body() {
    // A secret where a list was expected: serde's own message would quote it.
    let server =
        ScriptedServer::start(vec![Reply::json(200, r#"{"keys":"leaked-secret-value"}"#)]).await;
    let err = client(&server.base_url)
        .list_custom_integration_keys(APP, INTEGRATION)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    let shown = format!("{err} {err:?} {:?}", std::error::Error::source(&err));
    assert!(!shown.contains("leaked-secret-value"), "{shown}");
    assert!(shown.contains("wrong type"), "{shown}");
}

fn jwt_client(base: &str, auth: JwtAuth) -> Client {
    Client::builder().base_url(base).auth(auth).build().unwrap()
}

fn decode(token: &str) -> (jsonwebtoken::Header, serde_json::Value) {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let data = jsonwebtoken::decode::<serde_json::Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(KEY_SECRET.as_bytes()),
        &validation,
    )
    .expect("the token verifies with the key secret");
    (data.header, data.claims)
}

fn bearer(seen: &common::Seen) -> String {
    seen.header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .expect("a bearer token")
        .to_string()
}

#[tokio::test]
async fn jwt_is_hs256_with_kid_and_scope_and_minted_once() {
    let server = ScriptedServer::start(vec![Reply::json(200, r#"{"keys":[]}"#)]).await;
    let c = jwt_client(
        &server.base_url,
        JwtAuth::new(KEY_ID, KEY_SECRET, Scope::App),
    );
    for _ in 0..3 {
        c.list_custom_integration_keys(APP, INTEGRATION)
            .await
            .unwrap();
    }
    let seen = server.requests();
    let (header, claims) = decode(&bearer(&seen[0]));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
    assert_eq!(header.kid.as_deref(), Some(KEY_ID));
    assert_eq!(claims["scope"], "app");
    assert!(claims.get("exp").is_none());
    assert!(
        seen.iter().all(|s| bearer(s) == bearer(&seen[0])),
        "one token serves every call"
    );
}

#[tokio::test]
async fn jwt_with_expiry_is_renewed_close_to_it() {
    let server = ScriptedServer::start(vec![Reply::json(200, r#"{"keys":[]}"#)]).await;
    let start = UNIX_EPOCH + Duration::from_secs(1_900_000_000);
    let clock = Arc::new(ManualClock::new(start));
    let auth = JwtAuth::new(KEY_ID, KEY_SECRET, Scope::Account)
        .expires_after(Duration::from_secs(3600))
        .unwrap()
        .with_clock(clock.clone());
    let c = jwt_client(&server.base_url, auth);

    c.list_custom_integration_keys(APP, INTEGRATION)
        .await
        .unwrap();
    clock.advance(Duration::from_secs(3000)); // 50 min: still fresh
    c.list_custom_integration_keys(APP, INTEGRATION)
        .await
        .unwrap();
    clock.advance(Duration::from_secs(300)); // 55 min: past 90% of the hour
    c.list_custom_integration_keys(APP, INTEGRATION)
        .await
        .unwrap();

    let seen = server.requests();
    let (_, first) = decode(&bearer(&seen[0]));
    assert_eq!(first["scope"], "account");
    assert_eq!(first["iat"], 1_900_000_000u64);
    assert_eq!(first["exp"], 1_900_003_600u64);
    assert_eq!(bearer(&seen[0]), bearer(&seen[1]));
    assert_ne!(bearer(&seen[1]), bearer(&seen[2]));
    let (_, renewed) = decode(&bearer(&seen[2]));
    assert_eq!(renewed["iat"], 1_900_003_300u64);
}

#[tokio::test]
async fn concurrent_callers_share_one_minted_jwt() {
    let server = ScriptedServer::start(vec![Reply::json(200, r#"{"keys":[]}"#)]).await;
    let c = Arc::new(jwt_client(
        &server.base_url,
        JwtAuth::new(KEY_ID, KEY_SECRET, Scope::App)
            .expires_after(Duration::from_secs(600))
            .unwrap(),
    ));
    let calls = (0..20).map(|_| {
        let c = c.clone();
        tokio::spawn(async move { c.list_custom_integration_keys(APP, INTEGRATION).await })
    });
    for call in calls {
        call.await.unwrap().unwrap();
    }
    let seen = server.requests();
    assert_eq!(seen.len(), 20);
    assert!(seen.iter().all(|s| bearer(s) == bearer(&seen[0])));
}

#[test]
fn base_urls_cover_the_regions_and_reject_bad_subdomains() {
    assert_eq!(
        zendesk_base_url("acme-support").unwrap(),
        "https://acme-support.zendesk.com/sc"
    );
    assert!(zendesk_base_url("evil.com/x").is_err());
    assert!(zendesk_base_url("").is_err());
    let us = Client::builder()
        .auth(basic_auth(KEY_ID, KEY_SECRET).unwrap())
        .build()
        .unwrap();
    assert_eq!(us.base_url(), apikeys_sunshine_conversations::US);
    let eu = Client::builder()
        .base_url(apikeys_sunshine_conversations::EU)
        .auth(basic_auth(KEY_ID, KEY_SECRET).unwrap())
        .build()
        .unwrap();
    assert_eq!(eu.base_url(), "https://api.eu-1.smooch.io");
    assert!(
        Client::builder()
            .base_url("not a url")
            .auth(basic_auth(KEY_ID, KEY_SECRET).unwrap())
            .build()
            .is_err()
    );
}

struct Sunshine;

impl Provider for Sunshine {
    type Client = Client;
    const OK: (u16, &'static str) = (200, r#"{"keys":[]}"#);
    const SECRETS: &'static [&'static str] = &[KEY_SECRET, BASIC];

    fn client(base_url: &str, timeouts: Timeouts) -> Client {
        Client::builder()
            .base_url(base_url)
            .timeouts(timeouts)
            .auth(basic_auth(KEY_ID, KEY_SECRET).unwrap())
            .build()
            .unwrap()
    }

    async fn idempotent(client: &Client) -> Outcome {
        client
            .list_custom_integration_keys(APP, INTEGRATION)
            .await
            .map(drop)
            .map_err(Into::into)
    }

    async fn create(client: &Client) -> Outcome {
        let body = types::IntegrationApiKey {
            display_name: "x".parse().unwrap(),
        };
        client
            .create_custom_integration_key(APP, INTEGRATION, &body)
            .await
            .map(drop)
            .map_err(Into::into)
    }

    async fn destroy(client: &Client, id: &str) -> Outcome {
        client
            .delete_custom_integration_key(APP, INTEGRATION, id)
            .await
            .map(drop)
            .map_err(Into::into)
    }
}

runtime_contract!(Sunshine);

#[tokio::test]
async fn secrets_never_appear_in_debug_display_or_traces() {
    let jwt = JwtAuth::new(KEY_ID, KEY_SECRET, Scope::App);
    let basic = basic_auth(KEY_ID, KEY_SECRET).unwrap();
    let client = Sunshine::client("http://127.0.0.1:9", Timeouts::default());
    let builder = Client::builder().auth(basic_auth(KEY_ID, KEY_SECRET).unwrap());
    let secret = apikeys_runtime::Secret::new(KEY_SECRET);
    let extra = vec![
        format!("{jwt:?}"),
        format!("{basic:?}"),
        format!("{client:?}"),
        format!("{builder:?}"),
        format!("{secret:?}"),
        format!("{:?}", jwt.mint().unwrap()),
    ];
    common::secrets_never_printed::<Sunshine>(&extra).await;

    // A JWT client's traffic and failures never show the token either.
    let server = ScriptedServer::start(vec![Reply::json(500, "{}")]).await;
    let c = jwt_client(
        &server.base_url,
        JwtAuth::new(KEY_ID, KEY_SECRET, Scope::App),
    );
    let err = c
        .with_retry_policy(RetryPolicy::never())
        .list_custom_integration_keys(APP, INTEGRATION)
        .await
        .unwrap_err();
    let token = bearer(&server.requests()[0]);
    let shown = format!("{err} {err:?} {c:?}");
    assert!(
        !shown.contains(&token) && !shown.contains(KEY_SECRET),
        "{shown}"
    );
}

#[tokio::test]
async fn post_retries_only_when_the_caller_opts_in() {
    let server = ScriptedServer::start(vec![
        Reply::json(503, "{}"),
        Reply::json(201, &key_json().to_string()),
    ])
    .await;
    let c = client(&server.base_url).with_retry_policy(
        RetryPolicy::new()
            .retry_non_idempotent(true)
            .initial_backoff(Duration::from_millis(10)),
    );
    let body = types::IntegrationApiKey {
        display_name: "x".parse().unwrap(),
    };
    c.create_custom_integration_key(APP, INTEGRATION, &body)
        .await
        .unwrap();
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    common::assert_same_requests(&seen);
    assert!(seen[1].body.starts_with(b"{"), "the body is sent again");
}

#[tokio::test]
async fn a_retry_after_longer_than_the_cap_is_not_waited_for() {
    let server = ScriptedServer::start(vec![
        Reply::json(503, "{}").header("retry-after", "3600"),
        Reply::json(200, r#"{"keys":[]}"#),
    ])
    .await;
    let started = std::time::Instant::now();
    let err = client(&server.base_url)
        .list_custom_integration_keys(APP, INTEGRATION)
        .await
        .unwrap_err();
    assert_eq!(err.status().unwrap().as_u16(), 503);
    assert!(err.is_retryable());
    assert_eq!(server.requests().len(), 1);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_timeout_after_an_error_answer_reports_no_stale_answer() {
    let server = ScriptedServer::start(vec![
        Reply::json(503, r#"{"errors":[{"code":"first","title":"busy"}]}"#)
            .header("x-request-id", "req-first"),
        Reply::json(200, r#"{"keys":[]}"#).after(Duration::from_secs(10)),
    ])
    .await;
    let c = Client::builder()
        .base_url(&server.base_url)
        .auth(basic_auth(KEY_ID, KEY_SECRET).unwrap())
        .timeouts(
            Timeouts::new()
                .attempt(Duration::from_millis(300))
                .total(Duration::from_secs(5)),
        )
        .retry_policy(
            RetryPolicy::new()
                .max_attempts(2)
                .initial_backoff(Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    let err = c
        .list_custom_integration_keys(APP, INTEGRATION)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
    assert_eq!(err.attempts(), 2);
    assert_eq!(err.status(), None);
    assert!(err.body().is_empty());
    assert_eq!(err.request_id(), None);
}

#[tokio::test]
async fn the_typed_mock_helpers_match_ids_that_need_encoding() {
    let server = MockServer::start_async().await;
    let odd = "k.e y/ä+1";
    let mock = server.get_custom_integration_key(|when, then| {
        when.app_id(APP).integration_id(INTEGRATION).key_id(odd);
        then.ok(&serde_json::from_value(key_json()).unwrap());
    });
    let c = client(&server.base_url()).with_retry_policy(RetryPolicy::never());
    // A lookalike that an unescaped regex would match (`.` is any character).
    let miss = c
        .get_custom_integration_key(APP, INTEGRATION, "kxe y/ä+1")
        .await
        .unwrap_err();
    assert_eq!(miss.status().unwrap().as_u16(), 404);
    c.get_custom_integration_key(APP, INTEGRATION, odd)
        .await
        .unwrap();
    mock.assert_async().await;
}

#[tokio::test]
async fn a_create_answered_200_instead_of_201_is_a_success_with_its_secret() {
    let server = ScriptedServer::start(vec![Reply::json(
        200,
        r#"{"key":{"id":"int_new","displayName":"x","secret":"shown-once-S3cr3t"}}"#,
    )])
    .await;
    let client = Sunshine::client(&server.base_url, Timeouts::new());
    let body = types::IntegrationApiKey {
        display_name: "x".parse().unwrap(),
    };
    let made = client
        .create_custom_integration_key(APP, INTEGRATION, &body)
        .await
        .expect("any 2xx is a success")
        .into_inner();
    let key = made.key.unwrap();
    assert_eq!(key.secret.unwrap().expose(), "shown-once-S3cr3t");
}

#[test]
fn unusable_credentials_are_refused_when_the_client_is_built() {
    for (id, secret) in [("", KEY_SECRET), (KEY_ID, ""), ("int_\u{e9}", KEY_SECRET)] {
        let err = Client::builder()
            .auth(JwtAuth::new(id, secret, Scope::App))
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("the key"), "{err}");
        assert!(basic_auth(id, secret).is_err() || id.contains('\u{e9}'));
    }
    let err = Client::builder()
        .base_url("api.smooch.io")
        .auth(basic_auth(KEY_ID, KEY_SECRET).unwrap())
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("add https://"), "{err}");
    let err = Client::builder().build().unwrap_err();
    assert!(err.to_string().contains(".auth("), "{err}");
    // An explicit opt-out for a proxy that adds credentials.
    assert!(Client::builder().no_auth().build().is_ok());
}

#[tokio::test]
async fn loose_answers_decode_as_the_official_sdk_reads_them() {
    let server = ScriptedServer::start(vec![
        Reply::json(200, r#"{"keys":null}"#),
        Reply::json(
            200,
            r#"{"keys":[{"id":"k","displayName":null,"extra":{"x":1}}]}"#,
        ),
        Reply::json(204, ""),
        Reply::json(200, ""),
    ])
    .await;
    let client = Sunshine::client(&server.base_url, Timeouts::new());
    let none = client
        .list_custom_integration_keys(APP, INTEGRATION)
        .await
        .unwrap();
    assert!(none.into_inner().keys.is_empty());
    let one = client
        .list_custom_integration_keys(APP, INTEGRATION)
        .await
        .unwrap();
    assert_eq!(one.into_inner().keys[0].id.as_deref(), Some("k"));
    for _ in 0..2 {
        client
            .delete_custom_integration_key(APP, INTEGRATION, "k")
            .await
            .expect("a delete without a body is a success");
    }
}

#[tokio::test]
async fn an_undecodable_create_answer_keeps_the_secret_and_says_the_key_exists() {
    let server = ScriptedServer::start(vec![Reply::json(
        201,
        r#"{"key":{"id":{"v":42},"displayName":"x","secret":"shown-once-K3y"}}"#,
    )])
    .await;
    let client = Sunshine::client(&server.base_url, Timeouts::new());
    let body = types::IntegrationApiKey {
        display_name: "x".parse().unwrap(),
    };
    let err = client
        .create_custom_integration_key(APP, INTEGRATION, &body)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("carried out"), "{err}");
    assert!(err.body_secret().expose().contains("shown-once-K3y"));
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("shown-once-K3y"), "{shown}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn display_carries_the_cause_and_the_providers_message() {
    let server = ScriptedServer::start(vec![Reply::json(
        404,
        r#"{"errors":[{"code":"not_found","title":"Integration not found"}]}"#,
    )])
    .await;
    let client = Sunshine::client(&server.base_url, Timeouts::new());
    let err = client
        .list_custom_integration_keys(APP, INTEGRATION)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Integration not found"), "{err}");

    let refused = Sunshine::client(&common::refused_base_url().await, Timeouts::new())
        .with_retry_policy(RetryPolicy::never());
    let err = refused
        .list_custom_integration_keys(APP, INTEGRATION)
        .await
        .unwrap_err();
    assert!(err.to_string().to_lowercase().contains("refused"), "{err}");
}

/// A create exists to return the new key's secret: a success without it
/// (an empty object, no key, a null or blank secret, `null`) is an error
/// that says the key was probably made, and keeps the raw answer.
#[tokio::test]
async fn a_create_answered_without_its_secret_is_an_error_that_keeps_the_answer() {
    let answers = [
        "{}",
        r#"{"key":{}}"#,
        r#"{"key":{"id":"int_9","secret":null}}"#,
        r#"{"key":{"id":"int_9","secret":"  "}}"#,
        "null",
    ];
    let server = ScriptedServer::start(answers.iter().map(|a| Reply::json(201, a)).collect()).await;
    let c = client(&server.base_url);
    let body = types::IntegrationApiKey {
        display_name: "Billing sync".parse().unwrap(),
    };
    common::assert_secret_missing(&answers, "/key/secret", || {
        c.create_custom_integration_key(APP, INTEGRATION, &body)
    })
    .await;
    // Never sent twice: a create is not repeated on its own.
    assert_eq!(server.requests().len(), answers.len());
}
