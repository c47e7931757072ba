//! Finicity: every operation on the wire, typed answers and errors, the
//! partner token's life cycle, and the shared runtime contract.

mod common;

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use apikeys_finicity::mock::MockServerExt;
use apikeys_finicity::{Client, FinicityAuth, TOKEN_RENEW_AFTER, types};
use apikeys_runtime::{ErrorKind, ManualClock, Timeouts};
use common::{Outcome, Provider, Reply, ScriptedServer};
use httpmock::prelude::*;
use serde_json::json;

const APP_KEY: &str = "finicity-app-key-9f8e7d";
const PARTNER_ID: &str = "2445580000000";
const PARTNER_SECRET: &str = "partner-secret-Qw3rty";
const TOKEN: &str = "token-AAAA1111";
const RECEIPT: &str = "cr_7QkTn2Lw9XbPz4RcV1mHsEaYd0UfGj";
const AUTH_PATH: &str = "/aggregation/v2/partners/authentication";
const KEY_PATH: &str = "/aggregation/v1/partners/accessKey";

fn partner() -> FinicityAuth {
    FinicityAuth::partner(APP_KEY, PARTNER_ID, PARTNER_SECRET).unwrap()
}

fn client_with(base: &str, auth: FinicityAuth) -> Client {
    Client::builder().base_url(base).auth(auth).build().unwrap()
}

/// An authentication endpoint that answers `token` and checks what it is sent.
fn auth_mock<'a>(server: &'a MockServer, token: &str) -> httpmock::Mock<'a> {
    server.mock(|when, then| {
        when.method(POST)
            .path(AUTH_PATH)
            .header("finicity-app-key", APP_KEY)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .header_missing("finicity-app-token")
            .json_body(json!({"partnerId": PARTNER_ID, "partnerSecret": PARTNER_SECRET}));
        then.status(200).json_body(json!({ "token": token }));
    })
}

fn full_key_data() -> serde_json::Value {
    json!({
        "customerId": "1005061234",
        "partnerId": PARTNER_ID,
        "thirdPartyPartnerId": "2445589999999",
        "provenance": {
            "clientFingerprint": "fp-123",
            "ipAddress": "192.0.2.10",
            "token": "consent-token"
        },
        "products": [{
            "product": "moneyTransferDetails",
            "payorId": "2445580000123",
            "maxCalls": 150,
            "accountId": "5011640001",
            "accessPeriod": {
                "type": "timeframe",
                "startTime": "2026-11-01T00:00:00Z",
                "endTime": "2027-11-01T00:00:00Z"
            }
        }]
    })
}

fn minimal_key_data() -> serde_json::Value {
    json!({
        "customerId": "1005061234",
        "partnerId": PARTNER_ID,
        "thirdPartyPartnerId": "2445589999999",
        "products": [{
            "product": "moneyTransferDetails",
            "accountId": "5011640001",
            "accessPeriod": {
                "type": "timeframe",
                "startTime": "2026-11-01T00:00:00Z",
                "endTime": "2027-11-01T00:00:00Z"
            }
        }]
    })
}

fn receipt() -> serde_json::Value {
    json!({"data": [{
        "receipt": {
            "profile": 3,
            "version": "1",
            "receiptId": RECEIPT,
            "customerId": "1005061234",
            "partnerId": PARTNER_ID,
            "products": full_key_data()["products"],
            "timestamp": "2026-11-22T05:00:00.042584549Z"
        },
        "proof": {"signature": "c2ln", "keyId": "867-530-900", "timestamp": "2026-11-22T05:00:01Z"}
    }]})
}

#[tokio::test]
async fn generate_sends_both_headers_and_every_field_set_or_unset() {
    for data in [full_key_data(), minimal_key_data()] {
        let server = MockServer::start_async().await;
        let auth = auth_mock(&server, TOKEN);
        let generate = server.mock(|when, then| {
            when.method(POST)
                .path(KEY_PATH)
                .header("finicity-app-key", APP_KEY)
                .header("finicity-app-token", TOKEN)
                .header("content-type", "application/json")
                .header("accept", "application/json")
                .header_missing("api-version")
                .json_body(data.clone());
            then.status(200).json_body(receipt());
        });
        let body: types::ThirdPartyAccessKeyData = serde_json::from_value(data.clone()).unwrap();
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            data,
            "optional fields are omitted, not null"
        );
        let answer = client_with(&server.base_url(), partner())
            .generate_third_party_access_key(&body)
            .await
            .unwrap()
            .into_inner();
        generate.assert_async().await;
        auth.assert_async().await;
        let first = &answer.data[0];
        let r = first.receipt.as_ref().unwrap();
        assert_eq!(r.receipt_id.as_deref(), Some(RECEIPT));
        assert_eq!(r.profile, Some(3));
        assert_eq!(r.products[0].max_calls, Some(150));
        assert_eq!(
            r.timestamp.unwrap().timestamp_subsec_nanos(),
            42_584_549,
            "nanosecond timestamps decode exactly"
        );
        assert_eq!(
            first.proof.as_ref().unwrap().key_id.as_deref(),
            Some("867-530-900")
        );
    }
}

#[tokio::test]
async fn update_and_revoke_reach_their_paths() {
    let server = MockServer::start_async().await;
    auth_mock(&server, TOKEN);
    let update = server.mock(|when, then| {
        when.method(PUT)
            .path(format!("{KEY_PATH}/{RECEIPT}"))
            .header("finicity-app-key", APP_KEY)
            .header("finicity-app-token", TOKEN)
            .header("content-type", "application/json")
            .json_body(minimal_key_data());
        then.status(200).json_body(receipt());
    });
    let revoke = server.mock(|when, then| {
        when.method(DELETE)
            .path(format!("{KEY_PATH}/{RECEIPT}"))
            .header("finicity-app-key", APP_KEY)
            .header("finicity-app-token", TOKEN)
            .header_missing("content-type")
            .header_missing("content-length");
        then.status(204);
    });
    let c = client_with(&server.base_url(), partner());
    let body = serde_json::from_value(minimal_key_data()).unwrap();
    let updated = c
        .update_third_party_access_key(RECEIPT, &body)
        .await
        .unwrap();
    assert_eq!(updated.into_inner().data.len(), 1);
    let revoked = c.revoke_third_party_access_key(RECEIPT).await.unwrap();
    assert_eq!(revoked.status().as_u16(), 204);
    update.assert_async().await;
    revoke.assert_async().await;
}

#[tokio::test]
async fn the_typed_mock_helpers_work() {
    let server = MockServer::start_async().await;
    auth_mock(&server, TOKEN);
    let mock = server.revoke_third_party_access_key(|when, then| {
        when.consent_receipt_id(RECEIPT);
        then.no_content();
    });
    client_with(&server.base_url(), partner())
        .revoke_third_party_access_key(RECEIPT)
        .await
        .unwrap();
    mock.assert_async().await;
}

#[tokio::test]
async fn errors_are_typed_with_numeric_or_string_codes() {
    let server = MockServer::start_async().await;
    auth_mock(&server, TOKEN);
    let cases = [
        (
            400,
            json!({"code": 10010, "status": "400", "message": "invalid field"}),
            10010,
        ),
        (
            401,
            json!({"code": "10022", "message": "Invalid (Finicity-App-Token)"}),
            10022,
        ),
        (
            404,
            json!({"code": "14001", "message": "Resource not found."}),
            14001,
        ),
    ];
    for (status, body, _) in &cases {
        let body = body.clone();
        server.mock(|when, then| {
            when.method(DELETE).path(format!("{KEY_PATH}/r{status}"));
            then.status(*status).json_body(body);
        });
    }
    let c = client_with(&server.base_url(), partner());
    for (status, _, code) in cases {
        let err = c
            .revoke_third_party_access_key(&format!("r{status}"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Status);
        assert_eq!(err.status().unwrap().as_u16(), status);
        assert_eq!(err.operation_id(), "revokeThirdPartyAccessKey");
        let message = err.provider_error().expect("typed ErrorMessage");
        assert_eq!(message.code.as_i64(), Some(code));
    }
}

#[tokio::test]
async fn a_text_plain_error_is_kept_as_text() {
    let server = MockServer::start_async().await;
    auth_mock(&server, TOKEN);
    server.mock(|when, then| {
        when.method(DELETE);
        then.status(401)
            .header("content-type", "text/plain")
            .body("Invalid (Finicity-App-Key)");
    });
    let err = client_with(&server.base_url(), partner())
        .revoke_third_party_access_key(RECEIPT)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Status);
    assert_eq!(err.status().unwrap().as_u16(), 401);
    assert!(err.provider_error().is_none());
    assert_eq!(err.body_text(), Some("Invalid (Finicity-App-Key)"));
}

#[tokio::test]
async fn fifty_concurrent_calls_on_a_cold_client_authenticate_once() {
    let server = MockServer::start_async().await;
    let auth = server.mock(|when, then| {
        when.method(POST).path(AUTH_PATH);
        then.status(200)
            .delay(Duration::from_millis(200))
            .json_body(json!({ "token": TOKEN }));
    });
    let revoke = server.mock(|when, then| {
        when.method(DELETE).header("finicity-app-token", TOKEN);
        then.status(204);
    });
    let c = Arc::new(client_with(&server.base_url(), partner()));
    let calls: Vec<_> = (0..50)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.revoke_third_party_access_key(&format!("cr_{i}")).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(auth.calls_async().await, 1);
    assert_eq!(revoke.calls_async().await, 50);
}

#[tokio::test]
async fn the_token_is_renewed_after_ninety_minutes() {
    let server = ScriptedServer::start(vec![
        Reply::json(200, r#"{"token":"first-token"}"#),
        Reply::json(204, ""),
        Reply::json(204, ""),
        Reply::json(200, r#"{"token":"second-token"}"#),
        Reply::json(204, ""),
    ])
    .await;
    let clock = Arc::new(ManualClock::new(
        UNIX_EPOCH + Duration::from_secs(1_900_000_000),
    ));
    let c = client_with(&server.base_url, partner().with_clock(clock.clone()));
    c.revoke_third_party_access_key("a").await.unwrap();
    clock.advance(TOKEN_RENEW_AFTER - Duration::from_secs(1));
    c.revoke_third_party_access_key("b").await.unwrap();
    clock.advance(Duration::from_secs(1));
    c.revoke_third_party_access_key("c").await.unwrap();

    let seen = server.requests();
    let paths: Vec<&str> = seen.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            AUTH_PATH,
            &format!("{KEY_PATH}/a"),
            &format!("{KEY_PATH}/b"),
            AUTH_PATH,
            &format!("{KEY_PATH}/c")
        ]
    );
    assert_eq!(seen[2].header("finicity-app-token"), Some("first-token"));
    assert_eq!(seen[4].header("finicity-app-token"), Some("second-token"));
}

#[tokio::test]
async fn an_expired_token_is_renewed_once_and_the_call_sent_once_more() {
    let server = ScriptedServer::start(vec![
        Reply::json(200, r#"{"token":"first-token"}"#),
        Reply::json(
            401,
            r#"{"code":10023,"message":"Expired (Finicity-App-Token)"}"#,
        ),
        Reply::json(200, r#"{"token":"second-token"}"#),
        Reply::json(200, &receipt().to_string()),
    ])
    .await;
    let c = client_with(&server.base_url, partner());
    // A POST: resending after a refused token is not a transient-failure
    // retry (the service did nothing), so it applies to generate too.
    let body = serde_json::from_value(minimal_key_data()).unwrap();
    c.generate_third_party_access_key(&body).await.unwrap();
    let seen = server.requests();
    let paths: Vec<&str> = seen.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(paths, [AUTH_PATH, KEY_PATH, AUTH_PATH, KEY_PATH]);
    assert_eq!(seen[1].header("finicity-app-token"), Some("first-token"));
    assert_eq!(seen[3].header("finicity-app-token"), Some("second-token"));
    // The same request otherwise: the renewal built it again (a POST is
    // never copied for a retry), prepared as the first was.
    common::assert_same_requests_but(&[seen[1].clone(), seen[3].clone()], "finicity-app-token");
}

#[tokio::test]
async fn a_second_expired_answer_is_returned_not_renewed_again() {
    let expired = r#"{"code":"10023","message":"Expired (Finicity-App-Token)"}"#;
    let server = ScriptedServer::start(vec![
        Reply::json(200, r#"{"token":"first-token"}"#),
        Reply::json(401, expired),
        Reply::json(200, r#"{"token":"second-token"}"#),
        Reply::json(401, expired),
    ])
    .await;
    let c = client_with(&server.base_url, partner());
    let err = c.revoke_third_party_access_key(RECEIPT).await.unwrap_err();
    assert_eq!(err.status().unwrap().as_u16(), 401);
    assert_eq!(err.provider_error().unwrap().code.as_i64(), Some(10023));
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn a_refused_authentication_is_sent_once_and_says_why() {
    let server = MockServer::start_async().await;
    let auth = server.mock(|when, then| {
        when.method(POST).path(AUTH_PATH);
        then.status(401)
            .json_body(json!({"code": "10001", "message": "Invalid credentials"}));
    });
    let revoke = server.mock(|when, then| {
        when.method(DELETE);
        then.status(204);
    });
    let c = client_with(&server.base_url(), partner());
    let err = c.revoke_third_party_access_key(RECEIPT).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    let text = err.to_string();
    assert!(
        text.contains("five refusals lock the partner account"),
        "{text}"
    );
    // Later calls do not try again behind the caller's back.
    let again = c.revoke_third_party_access_key(RECEIPT).await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Auth);
    assert_eq!(auth.calls_async().await, 1);
    assert_eq!(revoke.calls_async().await, 0);
    assert!(!format!("{err:?} {again:?}").contains(PARTNER_SECRET));
    // The way out the message names, once the credentials are fixed.
    assert!(text.contains("reset_credentials"), "{text}");
    c.reset_credentials().await;
    c.revoke_third_party_access_key(RECEIPT).await.unwrap_err();
    assert_eq!(auth.calls_async().await, 2);
}

/// A 2xx without a usable token (a proxy's or login portal's page, an empty
/// body, JSON without the token) is an outage that passes, not a refusal:
/// retryable, asked again after the backoff, or at once after
/// `reset_credentials`; and its message blames no redirect.
#[tokio::test]
async fn a_success_without_a_token_is_an_outage_with_a_way_out() {
    let portal = Reply::text(200, "<html><body>Sign in to continue</body></html>")
        .header("content-type", "text/html");
    for garbage in [
        portal,
        Reply::json(200, "{}"),
        Reply::json(200, r#"{"token":null}"#),
        Reply::json(200, r#"{"token":{"value":"x"}}"#),
        Reply::text(200, ""),
    ] {
        let server = ScriptedServer::start(vec![
            garbage.clone(),
            Reply::json(200, r#"{"token":"fresh"}"#),
            Reply::json(204, ""),
        ])
        .await;
        let clock = Arc::new(ManualClock::new(
            UNIX_EPOCH + Duration::from_secs(1_900_000_000),
        ));
        let c = client_with(&server.base_url, partner().with_clock(clock));
        let err = c.revoke_third_party_access_key("a").await.unwrap_err();
        let text = err.to_string();
        assert_eq!(err.kind(), ErrorKind::Auth, "{garbage:?}: {err:?}");
        assert!(err.is_retryable(), "{garbage:?}: {text}");
        assert!(
            !text.contains("redirect") && !text.contains("lock"),
            "{text}"
        );
        assert!(text.contains("without a usable token"), "{text}");
        assert!(text.contains("reset_credentials"), "{text}");
        // Within the backoff: the same error, no second request.
        c.revoke_third_party_access_key("a").await.unwrap_err();
        assert_eq!(server.requests().len(), 1);
        c.reset_credentials().await;
        c.revoke_third_party_access_key("a").await.unwrap();
        assert_eq!(server.requests().len(), 3, "{garbage:?}");
    }
}

#[tokio::test]
async fn a_supplied_token_is_used_without_authenticating() {
    let server = MockServer::start_async().await;
    let auth = auth_mock(&server, "never");
    let revoke = server.mock(|when, then| {
        when.method(DELETE)
            .header("finicity-app-key", APP_KEY)
            .header("finicity-app-token", "my-own-token");
        then.status(204);
    });
    let c = client_with(
        &server.base_url(),
        FinicityAuth::token(APP_KEY, "my-own-token").unwrap(),
    );
    c.revoke_third_party_access_key(RECEIPT).await.unwrap();
    revoke.assert_async().await;
    assert_eq!(auth.calls_async().await, 0);
}

#[tokio::test]
async fn create_token_can_be_called_directly_with_the_app_key_only() {
    let server = MockServer::start_async().await;
    let auth = auth_mock(&server, TOKEN);
    let c = client_with(&server.base_url(), partner());
    let answer = c
        .create_token(&types::PartnerCredentials {
            partner_id: PARTNER_ID.into(),
            partner_secret: PARTNER_SECRET.into(),
        })
        .await
        .unwrap();
    assert_eq!(answer.into_inner().token.expose(), TOKEN);
    auth.assert_async().await;
}

#[tokio::test]
async fn an_unknown_partner_decodes_the_wrapper_body() {
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method(POST).path(AUTH_PATH);
        then.status(404).json_body(json!({"Errors": {"Error": [
            {"Source": "auth", "ReasonCode": "12401", "Description": "partner not found", "Recoverable": false}
        ]}}));
    });
    let err = client_with(&server.base_url(), partner())
        .create_token(&types::PartnerCredentials {
            partner_id: PARTNER_ID.into(),
            partner_secret: PARTNER_SECRET.into(),
        })
        .await
        .unwrap_err();
    match err.provider_error() {
        Some(types::ErrorMessageOrErrorWrapper::Wrapper(w)) => {
            assert_eq!(w.errors.error[0].reason_code.as_deref(), Some("12401"))
        }
        other => panic!("expected the wrapper body, got {other:?}"),
    }
}

struct Finicity;

impl Provider for Finicity {
    type Client = Client;
    const OK: (u16, &'static str) = (200, r#"{"data":[]}"#);
    const SECRETS: &'static [&'static str] = &[APP_KEY, TOKEN, PARTNER_SECRET];

    fn client(base_url: &str, timeouts: Timeouts) -> Client {
        Client::builder()
            .base_url(base_url)
            .timeouts(timeouts)
            .auth(FinicityAuth::token(APP_KEY, TOKEN).unwrap())
            .build()
            .unwrap()
    }

    async fn idempotent(client: &Client) -> Outcome {
        let body = serde_json::from_value(minimal_key_data()).unwrap();
        client
            .update_third_party_access_key(RECEIPT, &body)
            .await
            .map(drop)
            .map_err(Into::into)
    }

    async fn create(client: &Client) -> Outcome {
        let body = serde_json::from_value(minimal_key_data()).unwrap();
        client
            .generate_third_party_access_key(&body)
            .await
            .map(drop)
            .map_err(Into::into)
    }

    async fn destroy(client: &Client, id: &str) -> Outcome {
        client
            .revoke_third_party_access_key(id)
            .await
            .map(drop)
            .map_err(Into::into)
    }
}

runtime_contract!(Finicity);

#[tokio::test]
async fn secrets_never_appear_in_debug_display_or_traces() {
    let auth = partner();
    let with_token = FinicityAuth::token(APP_KEY, TOKEN).unwrap();
    let client = Finicity::client("http://127.0.0.1:9", Timeouts::default());
    let creds = types::PartnerCredentials {
        partner_id: PARTNER_ID.into(),
        partner_secret: PARTNER_SECRET.into(),
    };
    let extra = vec![
        format!("{auth:?}"),
        format!("{with_token:?}"),
        format!("{client:?}"),
        format!("{creds:?}"),
    ];
    common::secrets_never_printed::<Finicity>(&extra).await;
}

/// A hundred concurrent cold calls against `reply` for partner
/// authentication: how many authentication requests the server saw, and
/// every call's error.
async fn hundred_cold_calls(reply: Reply) -> (usize, Vec<apikeys_finicity::Error>) {
    let server = ScriptedServer::start(vec![reply.after(Duration::from_millis(100))]).await;
    let c = Arc::new(client_with(&server.base_url, partner()));
    let calls: Vec<_> = (0..100)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.revoke_third_party_access_key(&format!("cr_{i}")).await })
        })
        .collect();
    let mut errors = Vec::new();
    for call in calls {
        errors.push(call.await.unwrap().expect_err("authentication fails"));
    }
    let seen = server.requests();
    assert!(seen.iter().all(|s| s.path == AUTH_PATH), "{seen:?}");
    (seen.len(), errors)
}

#[tokio::test]
async fn an_unavailable_authentication_is_shared_by_every_waiter_and_retryable() {
    let (requests, errors) = hundred_cold_calls(Reply::json(503, "{}")).await;
    assert_eq!(requests, 1, "one authentication for a hundred waiters");
    for err in &errors {
        assert_eq!(err.kind(), ErrorKind::Auth, "{err:?}");
        assert!(err.is_retryable(), "an outage passes: {err}");
        assert!(!err.to_string().contains("lock"), "{err}");
        assert!(err.to_string().contains("unavailable (HTTP 503)"), "{err}");
    }
}

#[tokio::test]
async fn a_refused_authentication_is_shared_by_every_waiter_and_never_repeated() {
    let (requests, errors) = hundred_cold_calls(Reply::json(
        401,
        r#"{"code":"10001","message":"Invalid credentials"}"#,
    ))
    .await;
    assert_eq!(requests, 1, "one refusal for a hundred waiters");
    for err in &errors {
        assert_eq!(err.kind(), ErrorKind::Auth, "{err:?}");
        assert!(!err.is_retryable(), "{err}");
        assert!(err.to_string().contains("lock"), "{err}");
    }
}

#[tokio::test]
async fn after_an_outage_a_later_call_authenticates_again() {
    let server = ScriptedServer::start(vec![
        Reply::json(503, "{}"),
        Reply::json(200, r#"{"token":"fresh"}"#),
        Reply::json(204, ""),
    ])
    .await;
    let clock = Arc::new(ManualClock::new(
        UNIX_EPOCH + Duration::from_secs(1_900_000_000),
    ));
    let c = client_with(&server.base_url, partner().with_clock(clock.clone()));
    assert!(c.revoke_third_party_access_key("a").await.is_err());
    // Within the backoff: the outage is reported again, not asked again.
    let err = c.revoke_third_party_access_key("a").await.unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(server.requests().len(), 1);
    clock.advance(Duration::from_secs(2));
    c.revoke_third_party_access_key("a").await.unwrap();
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_call_waiting_on_a_hanging_authentication_keeps_its_own_deadline() {
    let server = ScriptedServer::start(vec![
        Reply::json(200, r#"{"token":"late"}"#).after(Duration::from_secs(8)),
    ])
    .await;
    let c = client_with(&server.base_url, partner());
    // The first call authenticates, with the default 30 s attempt timeout.
    let first = {
        let c = c.clone();
        tokio::spawn(async move { c.revoke_third_party_access_key("a").await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let hurried = c.with_timeouts(Timeouts::new().total(Duration::from_secs(1)));
    let started = std::time::Instant::now();
    let err = hurried
        .revoke_third_party_access_key("b")
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
    assert!(err.is_retryable());
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    first.abort();
}

#[tokio::test]
async fn a_redirected_authentication_sends_the_partner_secret_nowhere_else() {
    let elsewhere = ScriptedServer::start(vec![Reply::json(200, r#"{"token":"x"}"#)]).await;
    for status in [302, 307, 308] {
        let server = ScriptedServer::start(vec![Reply::redirect(
            status,
            &format!("{}{AUTH_PATH}", elsewhere.base_url),
        )])
        .await;
        let c = client_with(&server.base_url, partner());
        let err = c.revoke_third_party_access_key(RECEIPT).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth, "{err:?}");
        assert!(err.to_string().contains("redirect"), "{err}");
        assert_eq!(server.requests().len(), 1);
    }
    assert!(
        elsewhere.requests().is_empty(),
        "{:?}",
        elsewhere.requests()
    );
}

#[test]
fn unusable_credentials_are_refused_when_configured() {
    for (app_key, partner_id, secret, named) in [
        ("", PARTNER_ID, PARTNER_SECRET, "finicity-app-key"),
        (
            "clé-non-ascii",
            PARTNER_ID,
            PARTNER_SECRET,
            "finicity-app-key",
        ),
        ("key\n", PARTNER_ID, PARTNER_SECRET, "finicity-app-key"),
        (APP_KEY, " ", PARTNER_SECRET, "partner id"),
        (APP_KEY, PARTNER_ID, "", "partner secret"),
    ] {
        let err = FinicityAuth::partner(app_key, partner_id, secret).unwrap_err();
        assert!(err.to_string().contains(named), "{err}");
    }
    let err = Client::builder()
        .base_url("https://api.finicity.com")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains(".auth("), "{err}");
}

#[tokio::test]
async fn an_expired_token_is_renewed_whatever_else_the_error_body_holds() {
    let server = ScriptedServer::start(vec![
        Reply::json(200, r#"{"token":"first-token"}"#),
        Reply::json(401, r#"{"code":10023,"status":401}"#),
        Reply::json(200, r#"{"token":"second-token"}"#),
        Reply::json(200, r#""#),
    ])
    .await;
    let c = client_with(&server.base_url, partner());
    c.revoke_third_party_access_key(RECEIPT)
        .await
        .expect("renewed, then revoked (a 200 where 204 is declared)");
    let seen = server.requests();
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[3].header("finicity-app-token"), Some("second-token"));
}

#[tokio::test]
async fn a_receipt_with_null_products_decodes() {
    let server = ScriptedServer::start(vec![Reply::json(200, &{
        let mut r = receipt();
        r["data"][0]["receipt"]["products"] = serde_json::Value::Null;
        r.to_string()
    })])
    .await;
    let c = Finicity::client(&server.base_url, Timeouts::new());
    let body = serde_json::from_value(minimal_key_data()).unwrap();
    let made = c
        .generate_third_party_access_key(&body)
        .await
        .expect("null products decode as none")
        .into_inner();
    let receipt = made.data[0].receipt.as_ref().unwrap();
    assert!(receipt.products.is_empty());
    assert_eq!(receipt.receipt_id.as_deref(), Some(RECEIPT));
}

/// Generating an access key exists to return its receipt: a success
/// without one is an error that says the key was probably issued, and
/// keeps the answer.
#[tokio::test]
async fn a_generate_answered_without_its_receipt_is_an_error_that_keeps_the_answer() {
    let answers = [
        "{}",
        r#"{"data":[]}"#,
        r#"{"data":[{"receipt":{}}]}"#,
        r#"{"data":[{"receipt":{"receiptId":null}}]}"#,
    ];
    let mut replies = vec![Reply::json(200, r#"{"token":"first-token"}"#)];
    replies.extend(answers.iter().map(|a| Reply::json(200, a)));
    let server = ScriptedServer::start(replies).await;
    let c = client_with(&server.base_url, partner());
    let body: types::ThirdPartyAccessKeyData = serde_json::from_value(minimal_key_data()).unwrap();
    common::assert_secret_missing(&answers, "/data/0/receipt/receiptId", || {
        c.generate_third_party_access_key(&body)
    })
    .await;
    // Never sent twice: a create is not repeated on its own.
    assert_eq!(server.requests().len(), answers.len() + 1);
}
