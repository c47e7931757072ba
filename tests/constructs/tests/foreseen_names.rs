//! Inline schemas whose generated names another schema has keep their own
//! types: every field the service sends is read into the type its schema
//! describes, and the error body into its own type, not the success's.

use apikeys_constructs::foreseen_names::{Client, types};
use httpmock::prelude::*;

fn client(base: &str) -> Client {
    Client::builder().base_url(base).build().unwrap()
}

#[tokio::test]
async fn every_inline_schema_keeps_its_own_type() {
    let server = MockServer::start_async().await;
    let found = server.mock(|when, then| {
        when.method(GET).path("/vaults/v_1");
        then.status(200)
            .header("content-type", "application/json")
            .body(
                r#"{"seal":"s","vault":{
                    "keys":[{"id":"k1","state":"live"}],
                    "labels":{"env":{"text":"prod"}},
                    "owner":{"tier":"gold"},
                    "history":{"entries":[{"at":"2026-12-07"}]},
                    "pair":{"list":[{"x":"one"}],"list_item":{"y":2}},
                    "payment":{"kind":"bank","status":"verified"},
                    "plan":{"kind":"yearly","cap":"top"}
                }}"#,
            );
    });
    let id: types::OpenVaultVaultId2 = "v_1".parse().unwrap();
    let answer = client(&server.base_url()).open_vault(&id).await.unwrap();
    let vault = answer.into_inner().vault.expect("a vault");
    assert_eq!(vault.keys[0].id.as_deref(), Some("k1"));
    assert_eq!(vault.keys[0].state, Some(types::VaultKeysItem2State::Live));
    assert_eq!(vault.labels["env"].text.as_deref(), Some("prod"));
    assert_eq!(
        vault.owner.and_then(|o| o.tier),
        Some(types::VaultOwnerTier2::Gold)
    );
    match vault.history {
        Some(types::VaultHistory::AuditTrail { entries }) => {
            assert_eq!(entries[0].at.as_deref(), Some("2026-12-07"));
        }
        other => panic!("not the titled arm: {other:?}"),
    }
    let pair = vault.pair.expect("a pair");
    assert_eq!(pair.list[0].x.as_deref(), Some("one"));
    assert_eq!(pair.list_item.and_then(|i| i.y), Some(2));
    // Each arm's `status` is its own enum (typify gave both one name,
    // and read the bank's as the card's).
    match vault.payment {
        Some(types::PaymentMethod::Bank { status }) => {
            assert_eq!(status, Some(types::PaymentMethodStatus2::Verified));
        }
        other => panic!("not the bank arm: {other:?}"),
    }
    match vault.plan {
        Some(types::PaymentPlan::Yearly { cap }) => {
            assert_eq!(cap, Some(types::PaymentPlanCap2::Top));
        }
        other => panic!("not the yearly arm: {other:?}"),
    }
    assert_eq!(found.calls(), 1);
    // A value the parameter's pattern refuses is refused before sending.
    assert!("not-a-vault".parse::<types::OpenVaultVaultId2>().is_err());
}

#[tokio::test]
async fn the_error_body_is_read_as_its_own_type() {
    let server = MockServer::start_async().await;
    let missing = server.mock(|when, then| {
        when.method(GET).path("/vaults/v_2");
        then.status(404)
            .header("content-type", "application/json")
            .body(r#"{"reason":"sealed away","retry_in":30}"#);
    });
    let id: types::OpenVaultVaultId2 = "v_2".parse().unwrap();
    let err = client(&server.base_url())
        .open_vault(&id)
        .await
        .unwrap_err();
    let typed: &types::OpenVaultError = err.provider_error().expect("the 404 body decodes");
    assert_eq!(typed.reason, "sealed away");
    assert_eq!(typed.retry_in, Some(30));
    assert_eq!(missing.calls(), 1);
}
