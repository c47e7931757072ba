//! FINBOURNE Identity: every operation on the wire, typed answers and
//! errors, the configuration sources, the OAuth2 token's life cycle, and the
//! shared runtime contract.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use apikeys_finbourne_identity::mock::MockServerExt;
use apikeys_finbourne_identity::{BuildError, Client, Configuration, FbnAuth, types};
use apikeys_runtime::{ErrorKind, ManualClock, Timeouts};
use chrono::{TimeZone, Utc};
use common::{Outcome, Provider, Reply, ScriptedServer};
use httpmock::prelude::*;
use serde_json::json;

const PAT: &str = "pat-value-5e5e5e";
const PASSWORD: &str = "user-password-Xy7";
const CLIENT_SECRET: &str = "client-secret-Pq2";

fn pat_client(base: &str) -> Client {
    Client::builder()
        .base_url(base)
        .auth(FbnAuth::access_token(PAT, Some("reconciler".into())).unwrap())
        .build()
        .unwrap()
}

fn api_key(id: &str) -> serde_json::Value {
    json!({
        "id": id,
        "displayName": "Nightly reconciliation",
        "createdDate": "2022-12-08T13:30:12.0000000+00:00",
        "deactivationDate": "2023-06-01T00:00:00.1234567+02:00"
    })
}

#[tokio::test]
async fn create_sends_application_json_and_accepts_200_and_201() {
    for status in [200, 201] {
        let server = MockServer::start_async().await;
        let mock = server.mock(|when, then| {
            when.method(POST)
                .path("/api/keys")
                .header("authorization", format!("Bearer {PAT}"))
                .header("content-type", "application/json")
                .header("accept", "application/json")
                .header("x-lusid-application", "reconciler")
                .header_missing("api-version")
                .json_body(json!({
                    "displayName": "Nightly reconciliation",
                    "deactivationDate": "2023-06-01T00:00:00Z"
                }));
            then.status(status).json_body(json!({
                "key": "new-token-value",
                "id": "f45f",
                "displayName": "Nightly reconciliation",
                "createdDate": "2022-12-08T13:30:12.0000000+00:00",
                "deactivationDate": null
            }));
        });
        let body = types::CreateApiKey {
            display_name: "Nightly reconciliation".parse().unwrap(),
            deactivation_date: Some(Utc.with_ymd_and_hms(2023, 6, 1, 0, 0, 0).unwrap()),
        };
        let created = pat_client(&server.base_url())
            .create_api_key(&body)
            .await
            .unwrap();
        mock.assert_async().await;
        assert_eq!(created.status().as_u16(), status);
        let created = created.into_inner();
        assert_eq!(created.key.expose(), "new-token-value");
        assert_eq!(created.deactivation_date, None);
        assert!(!format!("{created:?}").contains("new-token-value"));
    }
}

#[tokio::test]
async fn a_create_without_expiry_leaves_the_field_out() {
    let server = MockServer::start_async().await;
    let mock = server.mock(|when, then| {
        when.method(POST)
            .path("/api/keys")
            .json_body(json!({"displayName": "no expiry"}));
        then.status(201).json_body(json!({
            "key": "k", "id": "i", "displayName": "no expiry",
            "createdDate": "2022-12-08T13:30:12.0000000+00:00"
        }));
    });
    let body = types::CreateApiKey {
        display_name: "no expiry".parse().unwrap(),
        deactivation_date: None,
    };
    pat_client(&server.base_url())
        .create_api_key(&body)
        .await
        .unwrap();
    mock.assert_async().await;
}

#[test]
fn display_names_longer_than_fifty_characters_are_refused_before_sending() {
    assert!(
        "x".repeat(50)
            .parse::<types::CreateApiKeyDisplayName>()
            .is_ok()
    );
    assert!(
        "x".repeat(51)
            .parse::<types::CreateApiKeyDisplayName>()
            .is_err()
    );
}

#[tokio::test]
async fn list_and_delete_decode_seven_digit_dates_exactly() {
    let server = MockServer::start_async().await;
    let list = server.mock(|when, then| {
        when.method(GET)
            .path("/api/keys")
            .header("authorization", format!("Bearer {PAT}"))
            .header("accept", "application/json")
            .header_missing("content-type");
        then.status(200).json_body(json!([
            api_key("a"),
            {"id": "b", "displayName": "no expiry", "createdDate": "2020-01-01T00:00:00.0000000+00:00"},
            {"id": "c", "displayName": "null expiry", "createdDate": "2020-01-01T00:00:00Z", "deactivationDate": null}
        ]));
    });
    let delete = server.mock(|when, then| {
        when.method(DELETE)
            .path("/api/keys/f45f%2Fx")
            .header("authorization", format!("Bearer {PAT}"));
        then.status(200).json_body(api_key("f45f/x"));
    });
    let c = pat_client(&server.base_url());
    let keys = c.list_own_api_keys().await.unwrap().into_inner();
    assert_eq!(keys.len(), 3);
    assert_eq!(
        keys[0].created_date,
        Utc.with_ymd_and_hms(2022, 12, 8, 13, 30, 12).unwrap()
    );
    let expected = Utc.with_ymd_and_hms(2023, 5, 31, 22, 0, 0).unwrap()
        + chrono::Duration::nanoseconds(123_456_700);
    assert_eq!(keys[0].deactivation_date, Some(expected));
    assert_eq!(keys[1].deactivation_date, None);
    assert_eq!(keys[2].deactivation_date, None);

    let deleted = c.delete_api_key("f45f/x").await.unwrap().into_inner();
    assert_eq!(deleted.expect("the deleted key").id, "f45f/x");
    list.assert_async().await;
    delete.assert_async().await;
}

#[tokio::test]
async fn the_typed_mock_helpers_work() {
    let server = MockServer::start_async().await;
    let mock = server.list_own_api_keys(|_, then| {
        then.ok(&vec![serde_json::from_value(api_key("a")).unwrap()]);
    });
    let keys = pat_client(&server.base_url())
        .list_own_api_keys()
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(keys[0].id, "a");
}

#[tokio::test]
async fn a_400_is_a_validation_problem_and_other_statuses_a_problem() {
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method(DELETE).path("/api/keys/bad");
        then.status(400).json_body(json!({
            "name": "ValidationError", "code": 104, "status": 400,
            "errors": {"id": ["The id is not valid."]}
        }));
    });
    server.mock(|when, then| {
        when.method(DELETE).path("/api/keys/gone");
        then.status(404).json_body(json!({
            "name": "ApiKeyNotFound", "code": 640, "status": 404, "detail": "No such key"
        }));
    });
    server.mock(|when, then| {
        when.method(GET).path("/api/keys");
        then.status(500)
            .json_body(json!({"name": "InternalError", "code": 1, "status": 500}));
    });
    let c = pat_client(&server.base_url()).with_retry_policy(apikeys_runtime::RetryPolicy::never());

    let bad = c.delete_api_key("bad").await.unwrap_err();
    assert_eq!(bad.status().unwrap().as_u16(), 400);
    match bad.provider_error() {
        Some(
            types::LusidValidationProblemDetailsOrLusidProblemDetails::ValidationProblemDetails(v),
        ) => {
            assert_eq!(v.errors.as_ref().unwrap()["id"][0], "The id is not valid.");
        }
        other => panic!("expected a validation problem, got {other:?}"),
    }

    let gone = c.delete_api_key("gone").await.unwrap_err();
    assert_eq!(gone.status().unwrap().as_u16(), 404);
    match gone.provider_error() {
        Some(types::LusidValidationProblemDetailsOrLusidProblemDetails::ProblemDetails(p)) => {
            assert_eq!(p.name, "ApiKeyNotFound");
        }
        other => panic!("a 404 is the plain problem, got {other:?}"),
    }
    assert!(gone.body_text().unwrap().contains("No such key"));

    let failed = c.list_own_api_keys().await.unwrap_err();
    assert_eq!(failed.kind(), ErrorKind::Status);
    let problem = failed.provider_error().expect("a typed problem");
    assert_eq!(problem.name, "InternalError");
    assert_eq!(problem.code, 1);
}

/// An OAuth2 token endpoint answering each grant in turn.
fn token_answer(access: &str, refresh: Option<&str>, expires_in: u64) -> String {
    let mut answer =
        json!({"access_token": access, "token_type": "Bearer", "expires_in": expires_in});
    if let Some(r) = refresh {
        answer["refresh_token"] = json!(r);
    }
    answer.to_string()
}

fn grant_settings(token_url: &str, identity_url: &str) -> Configuration {
    Configuration::new()
        .token_url(token_url)
        .identity_url(identity_url)
        .username("ada@example.com")
        .password(PASSWORD)
        .client_id("client-1")
        .client_secret(CLIENT_SECRET)
        .secrets_file(write_secrets("{\"api\": {}}"))
}

/// A client using the password grant against `token_url`.
fn grant_client(token_url: &str, identity_url: &str) -> Client {
    grant_settings(token_url, identity_url)
        .resolve_with(|_| None)
        .unwrap()
        .client_builder()
        .unwrap()
        .build()
        .unwrap()
}

fn form(seen: &common::Seen) -> HashMap<String, String> {
    String::from_utf8(seen.body.clone())
        .unwrap()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace('+', " ").replace("%40", "@")))
        .collect()
}

#[tokio::test]
async fn the_password_grant_runs_once_then_refreshes_before_expiry() {
    let tokens = ScriptedServer::start(vec![
        Reply::json(200, &token_answer("access-1", Some("refresh-1"), 3600)),
        Reply::json(200, &token_answer("access-2", Some("refresh-2"), 3600)),
    ])
    .await;
    let api = ScriptedServer::start(vec![Reply::json(200, "[]")]).await;
    let clock = Arc::new(ManualClock::new(
        UNIX_EPOCH + Duration::from_secs(1_900_000_000),
    ));
    let auth = grant_settings(&format!("{}/oauth2/token", tokens.base_url), &api.base_url)
        .resolve_with(|_| None)
        .unwrap()
        .auth()
        .unwrap()
        .with_clock(clock.clone());
    let c = Client::builder()
        .base_url(&api.base_url)
        .auth(auth)
        .build()
        .unwrap();

    c.list_own_api_keys().await.unwrap();
    clock.advance(Duration::from_secs(3000)); // 50 min: still fresh
    c.list_own_api_keys().await.unwrap();
    clock.advance(Duration::from_secs(300)); // 55 min: within the last 10%
    c.list_own_api_keys().await.unwrap();

    let grants = tokens.requests();
    assert_eq!(grants.len(), 2);
    assert_eq!(grants[0].path, "/oauth2/token");
    assert_eq!(
        grants[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let first = form(&grants[0]);
    assert_eq!(first["grant_type"], "password");
    assert_eq!(first["username"], "ada@example.com");
    assert_eq!(first["password"], PASSWORD);
    assert_eq!(first["client_id"], "client-1");
    assert_eq!(first["client_secret"], CLIENT_SECRET);
    let second = form(&grants[1]);
    assert_eq!(second["grant_type"], "refresh_token");
    assert_eq!(second["refresh_token"], "refresh-1");

    let calls = api.requests();
    assert_eq!(calls[0].header("authorization"), Some("Bearer access-1"));
    assert_eq!(calls[1].header("authorization"), Some("Bearer access-1"));
    assert_eq!(calls[2].header("authorization"), Some("Bearer access-2"));
}

/// A 401 to a call made with a granted token renews the token once and
/// sends the same request again with the new one; a POST too (the service
/// did nothing with a refused token). A second 401 is the answer.
#[tokio::test]
async fn a_refused_token_is_renewed_once_and_the_call_sent_again() {
    let created = json!({"key": "k", "id": "f45f", "displayName": "Nightly",
        "createdDate": "2022-12-08T13:30:12.0000000+00:00"});
    for (second, renewed) in [
        (Reply::json(201, &created.to_string()), true),
        (Reply::json(401, "{}"), false),
    ] {
        let tokens = ScriptedServer::start(vec![
            Reply::json(200, &token_answer("access-1", None, 3600)),
            Reply::json(200, &token_answer("access-2", None, 3600)),
        ])
        .await;
        let api = ScriptedServer::start(vec![Reply::json(401, "{}"), second]).await;
        let c = grant_client(&tokens.base_url, &api.base_url);
        let body = types::CreateApiKey {
            display_name: "Nightly".parse().unwrap(),
            deactivation_date: None,
        };
        let result = c.create_api_key(&body).await;
        assert_eq!(result.is_ok(), renewed, "{result:?}");
        if let Err(e) = result {
            assert_eq!(e.status().map(|s| s.as_u16()), Some(401));
        }
        assert_eq!(tokens.requests().len(), 2, "one renewal");
        let calls = api.requests();
        assert_eq!(calls.len(), 2, "sent once more, not again after that");
        assert_eq!(calls[0].header("authorization"), Some("Bearer access-1"));
        assert_eq!(calls[1].header("authorization"), Some("Bearer access-2"));
        common::assert_same_requests_but(&calls, "authorization");
    }
}

/// A personal access token is what it is: a 401 is the answer, sent once.
#[tokio::test]
async fn a_refused_personal_access_token_is_not_renewed() {
    let api = ScriptedServer::start(vec![Reply::json(401, "{}")]).await;
    let err = pat_client(&api.base_url)
        .list_own_api_keys()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(api.requests().len(), 1);
}

#[tokio::test]
async fn concurrent_callers_share_one_token_request() {
    let tokens = ScriptedServer::start(vec![
        Reply::json(200, &token_answer("access-1", None, 3600)).after(Duration::from_millis(200)),
    ])
    .await;
    let api = ScriptedServer::start(vec![Reply::json(200, "[]")]).await;
    let c = Arc::new(grant_client(&tokens.base_url, &api.base_url));
    let calls: Vec<_> = (0..30)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.list_own_api_keys().await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(tokens.requests().len(), 1);
    assert_eq!(api.requests().len(), 30);
}

#[tokio::test]
async fn a_refused_grant_is_an_auth_error_without_secrets() {
    let tokens = ScriptedServer::start(vec![Reply::json(
        400,
        r#"{"error":"invalid_grant","error_description":"bad password"}"#,
    )])
    .await;
    let api = ScriptedServer::start(vec![Reply::json(200, "[]")]).await;
    let c = grant_client(&tokens.base_url, &api.base_url);
    let err = c.list_own_api_keys().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(err.to_string().contains("invalid_grant"), "{err}");
    assert!(api.requests().is_empty());
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains(PASSWORD) && !shown.contains(CLIENT_SECRET),
        "{shown}"
    );
}

fn write_secrets(text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "apikeys-secrets-{}-{}.json",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn builder_values_beat_the_environment_which_beats_secrets_json() {
    let file = write_secrets(
        r#"{"api": {
            "tokenUrl": "https://file/token",
            "identityUrl": "https://file.lusid.com/identity",
            "username": "file-user",
            "password": "file-password",
            "clientId": "file-client",
            "clientSecret": "file-secret",
            "applicationName": "file-app"
        }}"#,
    );
    let env = HashMap::from([
        ("FBN_IDENTITY_URL", "https://env.lusid.com/identity"),
        ("FBN_USERNAME", "env-user"),
        ("FBN_APP_NAME", "env-app"),
    ]);
    let resolved = Configuration::new()
        .identity_url("https://builder.lusid.com/identity")
        .secrets_file(&file)
        .resolve_with(|name| env.get(name).map(|v| v.to_string()))
        .unwrap();
    assert_eq!(
        resolved.identity_url(),
        Some("https://builder.lusid.com/identity")
    );
    assert!(!resolved.uses_access_token());
    let shown = format!("{resolved:?}");
    assert!(!shown.contains("file-password"), "{shown}");

    let resolved = Configuration::new()
        .secrets_file(&file)
        .resolve_with(|name| env.get(name).map(|v| v.to_string()))
        .unwrap();
    assert_eq!(
        resolved.identity_url(),
        Some("https://env.lusid.com/identity")
    );
    let resolved = Configuration::new()
        .secrets_file(&file)
        .resolve_with(|_| None)
        .unwrap();
    assert_eq!(
        resolved.identity_url(),
        Some("https://file.lusid.com/identity")
    );
    resolved.client_builder().unwrap().build().unwrap();
    std::fs::remove_file(file).ok();
}

#[tokio::test]
async fn each_setting_is_taken_from_its_own_highest_source() {
    let tokens =
        ScriptedServer::start(vec![Reply::json(200, &token_answer("t", None, 3600))]).await;
    let api = ScriptedServer::start(vec![Reply::json(200, "[]")]).await;
    let file = write_secrets(&format!(
        r#"{{"api": {{"tokenUrl": "{}", "identityUrl": "{}", "username": "file-user",
            "password": "file-password", "clientId": "file-client", "clientSecret": "file-secret",
            "applicationName": "file-app"}}}}"#,
        tokens.base_url, api.base_url
    ));
    let env = HashMap::from([("FBN_USERNAME", "env-user"), ("FBN_APP_NAME", "env-app")]);
    let c = Configuration::new()
        .password("builder-password")
        .secrets_file(&file)
        .resolve_with(|name| env.get(name).map(|v| v.to_string()))
        .unwrap()
        .client_builder()
        .unwrap()
        .build()
        .unwrap();
    c.list_own_api_keys().await.unwrap();
    let grant = form(&tokens.requests()[0]);
    assert_eq!(grant["username"], "env-user");
    assert_eq!(grant["password"], "builder-password");
    assert_eq!(grant["client_id"], "file-client");
    assert_eq!(
        api.requests()[0].header("x-lusid-application"),
        Some("env-app")
    );
    std::fs::remove_file(file).ok();
}

#[test]
fn an_access_token_from_the_environment_needs_no_grant_settings() {
    let env = HashMap::from([
        ("FBN_ACCESS_TOKEN", PAT),
        ("FBN_IDENTITY_URL", "https://acme.lusid.com/identity"),
    ]);
    let resolved = Configuration::new()
        .secrets_file(write_secrets("{\"api\": {}}"))
        .resolve_with(|name| env.get(name).map(|v| v.to_string()))
        .unwrap();
    assert!(resolved.uses_access_token());
    let client = resolved.client_builder().unwrap().build().unwrap();
    assert_eq!(client.base_url(), "https://acme.lusid.com/identity");
    assert!(!format!("{client:?} {resolved:?}").contains(PAT));
}

#[test]
fn missing_settings_are_named() {
    let env = HashMap::from([
        ("FBN_IDENTITY_URL", "https://acme.lusid.com/identity"),
        ("FBN_USERNAME", "ada"),
    ]);
    let err = Configuration::new()
        .secrets_file(write_secrets("{\"api\": {}}"))
        .resolve_with(|name| env.get(name).map(|v| v.to_string()))
        .unwrap()
        .client_builder()
        .unwrap_err();
    let text = err.to_string();
    for name in [
        "FBN_TOKEN_URL",
        "FBN_PASSWORD",
        "FBN_CLIENT_ID",
        "FBN_CLIENT_SECRET",
        "api.tokenUrl",
    ] {
        assert!(text.contains(name), "{name} not named in: {text}");
    }
    assert!(!text.contains("FBN_USERNAME"), "{text}");

    let no_url = Configuration::new()
        .access_token(PAT)
        .secrets_file(write_secrets("{\"api\": {}}"))
        .resolve_with(|_| None)
        .unwrap()
        .client_builder()
        .unwrap_err();
    assert!(no_url.to_string().contains("FBN_IDENTITY_URL"), "{no_url}");
}

#[test]
fn malformed_or_missing_secrets_files_name_the_file_and_line() {
    let file = write_secrets("{\n  \"api\": {\n    \"password\": \"hunter2\",,\n  }\n}");
    let err = Configuration::new()
        .secrets_file(&file)
        .resolve_with(|_| None)
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, BuildError::Config(_)));
    assert!(text.contains(&file.display().to_string()), "{text}");
    assert!(text.contains("line 3"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");

    let absent = std::env::temp_dir().join("apikeys-no-such-secrets.json");
    let err = Configuration::new()
        .secrets_file(&absent)
        .resolve_with(|_| None)
        .unwrap_err();
    assert!(
        err.to_string().contains("apikeys-no-such-secrets.json"),
        "{err}"
    );

    let no_api = write_secrets("{\"other\": {}}");
    let err = Configuration::new()
        .secrets_file(&no_api)
        .resolve_with(|_| None)
        .unwrap_err();
    assert!(err.to_string().contains("no \"api\" object"), "{err}");
    for f in [file, no_api] {
        std::fs::remove_file(f).ok();
    }
}

struct Finbourne;

impl Provider for Finbourne {
    type Client = Client;
    const OK: (u16, &'static str) = (200, "[]");
    const SECRETS: &'static [&'static str] = &[PAT];

    fn client(base_url: &str, timeouts: Timeouts) -> Client {
        Client::builder()
            .base_url(base_url)
            .timeouts(timeouts)
            .auth(FbnAuth::access_token(PAT, None).unwrap())
            .build()
            .unwrap()
    }

    async fn idempotent(client: &Client) -> Outcome {
        client
            .list_own_api_keys()
            .await
            .map(drop)
            .map_err(Into::into)
    }

    async fn create(client: &Client) -> Outcome {
        let body = types::CreateApiKey {
            display_name: "x".parse().unwrap(),
            deactivation_date: None,
        };
        client
            .create_api_key(&body)
            .await
            .map(drop)
            .map_err(Into::into)
    }

    async fn destroy(client: &Client, id: &str) -> Outcome {
        client
            .delete_api_key(id)
            .await
            .map(drop)
            .map_err(Into::into)
    }
}

runtime_contract!(Finbourne);

#[tokio::test]
async fn secrets_never_appear_in_debug_display_or_traces() {
    let settings = grant_settings("http://127.0.0.1:9/token", "http://127.0.0.1:9");
    let resolved = settings.clone().resolve_with(|_| None).unwrap();
    let grant = resolved.auth().unwrap();
    let extra = vec![
        format!("{settings:?}"),
        format!("{resolved:?}"),
        format!("{grant:?}"),
        format!("{:?}", FbnAuth::access_token(PAT, None).unwrap()),
        format!(
            "{:?}",
            Finbourne::client("http://127.0.0.1:9", Timeouts::default())
        ),
    ];
    for shown in &extra {
        assert!(
            !shown.contains(PASSWORD) && !shown.contains(CLIENT_SECRET),
            "{shown}"
        );
    }
    common::secrets_never_printed::<Finbourne>(&extra).await;
}

/// A hundred concurrent cold calls through a token URL answering `reply`:
/// how many grants it saw, and every call's error.
async fn hundred_cold_calls(
    reply: Reply,
) -> (
    usize,
    Vec<apikeys_runtime::Error<types::LusidProblemDetails>>,
) {
    let tokens = ScriptedServer::start(vec![reply.after(Duration::from_millis(100))]).await;
    let api = ScriptedServer::start(vec![Reply::json(200, "[]")]).await;
    let c = Arc::new(grant_client(&tokens.base_url, &api.base_url));
    let calls: Vec<_> = (0..100)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.list_own_api_keys().await })
        })
        .collect();
    let mut errors = Vec::new();
    for call in calls {
        errors.push(call.await.unwrap().expect_err("the grant fails"));
    }
    assert!(api.requests().is_empty());
    (tokens.requests().len(), errors)
}

/// `expires_in` in the forms token endpoints write gives a token that is
/// used, for an hour when the value says nothing usable and at most a day.
#[tokio::test]
async fn expires_in_is_read_leniently() {
    for expires_in in [
        json!(-1),
        json!("3600"),
        json!(1e20),
        json!(3599.5),
        json!(null),
        json!("soon"),
        json!(0),
    ] {
        let answer =
            json!({"access_token": "t1", "token_type": "bearer", "expires_in": expires_in});
        let tokens = ScriptedServer::start(vec![Reply::json(200, &answer.to_string())]).await;
        let api = ScriptedServer::start(vec![Reply::json(200, "[]")]).await;
        let c = grant_client(&tokens.base_url, &api.base_url);
        for _ in 0..2 {
            c.list_own_api_keys()
                .await
                .unwrap_or_else(|e| panic!("{expires_in}: {e}"));
        }
        assert_eq!(tokens.requests().len(), 1, "reused: {expires_in}");
        assert_eq!(api.requests()[1].header("authorization"), Some("Bearer t1"));
    }
}

/// A token of another type is refused with a clear error, never sent as a
/// bearer token; a 2xx without a token is an outage, retryable, with
/// `reset_credentials` as the way out; an OAuth error in a 2xx is a refusal.
#[tokio::test]
async fn token_answers_are_classified_by_what_they_mean() {
    let api = ScriptedServer::start(vec![Reply::json(200, "[]")]).await;
    let mac = json!({"access_token": "t1", "token_type": "mac", "expires_in": 60}).to_string();
    let tokens = ScriptedServer::start(vec![Reply::json(200, &mac)]).await;
    let c = grant_client(&tokens.base_url, &api.base_url);
    let err = c.list_own_api_keys().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("\"mac\""), "{err}");
    assert!(err.to_string().contains("bearer tokens only"), "{err}");

    let portal = Reply::text(200, "<html>Sign in</html>").header("content-type", "text/html");
    for garbage in [portal, Reply::json(200, "{}"), Reply::text(200, "")] {
        let tokens = ScriptedServer::start(vec![
            garbage.clone(),
            Reply::json(200, &token_answer("t2", None, 3600)),
        ])
        .await;
        let c = grant_client(&tokens.base_url, &api.base_url);
        let err = c.list_own_api_keys().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth);
        assert!(err.is_retryable(), "{garbage:?}: {err}");
        assert!(err.to_string().contains("without an access_token"), "{err}");
        assert!(err.to_string().contains("reset_credentials"), "{err}");
        c.list_own_api_keys().await.unwrap_err();
        assert_eq!(tokens.requests().len(), 1, "kept for the backoff");
        c.reset_credentials().await;
        c.list_own_api_keys().await.unwrap();
        assert_eq!(tokens.requests().len(), 2);
    }

    let refusal = json!({"error": "invalid_grant"}).to_string();
    let tokens = ScriptedServer::start(vec![Reply::json(200, &refusal)]).await;
    let c = grant_client(&tokens.base_url, &api.base_url);
    let err = c.list_own_api_keys().await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert!(err.to_string().contains("invalid_grant"), "{err}");
}

/// Plain http to a token URL off this machine is refused when the client is
/// built, unless the caller opts in; so is an application name a header
/// cannot carry faithfully.
#[test]
fn insecure_token_urls_and_unsendable_names_are_refused_when_built() {
    let settings = || {
        grant_settings(
            "http://login.example.com/oauth2/token",
            "https://fbn.example.com/identity",
        )
        .resolve_with(|_| None)
        .unwrap()
    };
    let err = settings().client_builder().unwrap().build().unwrap_err();
    assert!(err.to_string().contains("allow_insecure_http"), "{err}");
    settings()
        .client_builder()
        .unwrap()
        .allow_insecure_http()
        .build()
        .expect("opted in");
    for name in ["Résumé tool", "tab\there", "emoji 🔑"] {
        let err = Configuration::new()
            .access_token(PAT)
            .identity_url("https://fbn.example.com/identity")
            .app_name(name)
            .secrets_file(write_secrets("{\"api\": {}}"))
            .resolve_with(|_| None)
            .unwrap()
            .client_builder()
            .err()
            .unwrap_or_else(|| panic!("{name} was taken"));
        assert!(err.to_string().contains("application name"), "{err}");
    }
}

#[tokio::test]
async fn a_refused_grant_is_sent_once_for_a_hundred_callers() {
    let (grants, errors) =
        hundred_cold_calls(Reply::json(400, r#"{"error":"invalid_grant"}"#)).await;
    assert_eq!(grants, 1, "the password went out once");
    for err in &errors {
        assert_eq!(err.kind(), ErrorKind::Auth);
        assert!(!err.is_retryable(), "{err}");
        assert!(err.to_string().contains("invalid_grant"), "{err}");
    }
}

#[tokio::test]
async fn an_unavailable_token_url_is_asked_once_and_reported_as_transient() {
    let (grants, errors) = hundred_cold_calls(Reply::text(503, "busy")).await;
    assert_eq!(grants, 1);
    for err in &errors {
        assert_eq!(err.kind(), ErrorKind::Auth);
        assert!(err.is_retryable(), "{err}");
        assert!(!err.to_string().contains("refused"), "{err}");
    }
}

#[tokio::test]
async fn a_token_url_that_refuses_connections_is_transient() {
    let api = ScriptedServer::start(vec![Reply::json(200, "[]")]).await;
    let c = grant_settings(&common::refused_base_url().await, &api.base_url)
        .resolve_with(|_| None)
        .unwrap()
        .client_builder()
        .unwrap()
        .build()
        .unwrap();
    let err = c.list_own_api_keys().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err:?}");
    assert!(err.is_retryable(), "{err}");
}

#[tokio::test]
async fn a_call_waiting_on_a_hanging_token_url_keeps_its_own_deadline() {
    let tokens = ScriptedServer::start(vec![
        Reply::json(200, &token_answer("late", None, 3600)).after(Duration::from_secs(8)),
    ])
    .await;
    let api = ScriptedServer::start(vec![Reply::json(200, "[]")]).await;
    let c = grant_client(&tokens.base_url, &api.base_url);
    let first = {
        let c = c.clone();
        tokio::spawn(async move { c.list_own_api_keys().await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let hurried = c.with_timeouts(Timeouts::new().total(Duration::from_secs(1)));
    let started = std::time::Instant::now();
    let err = hurried.list_own_api_keys().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    first.abort();
}

#[tokio::test]
async fn a_redirected_grant_sends_the_password_nowhere_else() {
    let elsewhere =
        ScriptedServer::start(vec![Reply::json(200, &token_answer("x", None, 60))]).await;
    for status in [301, 302, 307, 308] {
        let tokens = ScriptedServer::start(vec![Reply::redirect(
            status,
            &format!("{}/oauth2/token", elsewhere.base_url),
        )])
        .await;
        let api = ScriptedServer::start(vec![Reply::json(200, "[]")]).await;
        let c = grant_client(&tokens.base_url, &api.base_url);
        let err = c.list_own_api_keys().await.unwrap_err();
        assert!(err.to_string().contains("redirect"), "{err}");
        assert_eq!(tokens.requests().len(), 1);
        assert!(api.requests().is_empty());
    }
    assert!(
        elsewhere.requests().is_empty(),
        "{:?}",
        elsewhere.requests()
    );
}

#[test]
fn unusable_settings_are_refused_when_the_client_is_built() {
    let empty_password = grant_settings("https://example.invalid/token", "https://example.invalid")
        .password("")
        .resolve_with(|_| None)
        .and_then(|r| r.client_builder())
        .and_then(|b| b.build());
    let err = empty_password.unwrap_err().to_string();
    assert!(err.contains("password"), "{err}");
    for bad in ["", "pat\r\n", "jeton-élevé"] {
        assert!(
            FbnAuth::access_token(bad, None).is_err(),
            "{bad:?} accepted"
        );
    }
    for (url, says) in [
        ("fbn-demo.lusid.com/identity", "add https://"),
        (
            "https://user:hunter2@fbn.example/identity",
            "user or password",
        ),
        ("https://fbn.example/identity?x=1", "query"),
        ("https://fbn.example/identity#top", "fragment"),
    ] {
        let err = Client::builder()
            .base_url(url)
            .auth(FbnAuth::access_token(PAT, None).unwrap())
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains(says), "{url}: {err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}

#[tokio::test]
async fn loose_answers_decode_as_the_official_sdk_reads_them() {
    let server = ScriptedServer::start(vec![
        // Dates without an offset, and a status as a string.
        Reply::json(
            200,
            r#"[{"id":"k1","displayName":"a","createdDate":"2026-11-01T10:00:00.1234567","deactivationDate":null}]"#,
        ),
        // A delete answered 204 with no body.
        Reply::json(204, ""),
        // A 401, 429 and 503 problem are plain problems, whatever their fields.
        Reply::json(401, r#"{"name":"Unauthorized","code":"3","status":"401","title":"No"}"#),
    ])
    .await;
    let c = pat_client(&server.base_url);
    let keys = c.list_own_api_keys().await.unwrap().into_inner();
    assert_eq!(
        keys[0].created_date,
        Utc.with_ymd_and_hms(2026, 11, 1, 10, 0, 0).unwrap()
            + chrono::Duration::nanoseconds(123_456_700)
    );
    assert_eq!(keys[0].deactivation_date, None);
    let deleted = c.delete_api_key("k1").await.expect("a 204 is a success");
    assert_eq!(deleted.status().as_u16(), 204);
    assert!(deleted.into_inner().is_none());
    let err = c.list_own_api_keys().await.unwrap_err();
    let problem = err.provider_error().expect("decodes");
    assert_eq!((problem.code, problem.status), (3, Some(401)));
}

#[test]
fn a_setting_of_the_wrong_type_in_secrets_json_is_named() {
    let err = Configuration::new()
        .secrets_file(write_secrets(
            r#"{"api": {"accessToken": 12345, "identityUrl": "https://x.invalid"}}"#,
        ))
        .resolve_with(|_| None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("api.accessToken") && err.contains("a number"),
        "{err}"
    );
    assert!(!err.contains("12345"), "{err}");
}

/// A create exists to return the token's value: a success without it is
/// an error that says the token was probably made, and keeps the answer.
#[tokio::test]
async fn a_create_answered_without_its_secret_is_an_error_that_keeps_the_answer() {
    let answers = [
        "{}",
        r#"{"id":"f45f","displayName":"x","createdDate":"2022-12-08T13:30:12Z"}"#,
        r#"{"key":null,"id":"f45f"}"#,
        r#"{"key":"","id":"f45f"}"#,
    ];
    let server = ScriptedServer::start(answers.iter().map(|a| Reply::json(201, a)).collect()).await;
    let c = pat_client(&server.base_url);
    let body = types::CreateApiKey {
        display_name: "Nightly reconciliation".parse().unwrap(),
        deactivation_date: None,
    };
    common::assert_secret_missing(&answers, "/key", || c.create_api_key(&body)).await;
    // Never sent twice: a create is not repeated on its own.
    assert_eq!(server.requests().len(), answers.len());
}
