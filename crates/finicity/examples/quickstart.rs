//! Generates and revokes a third-party access key against a local stand-in
//! for the service (the crate's typed mock), so it runs anywhere:
//!
//! ```sh
//! cargo run -p apikeys-finicity --features mock --example quickstart
//! ```

use apikeys_finicity::mock::MockServerExt;
use apikeys_finicity::{Client, FinicityAuth, types};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = httpmock::MockServer::start_async().await;
    server.create_token(|_, then| {
        then.ok(&types::AccessToken {
            token: "demo-token".into(),
        });
    });
    let receipt: types::ThirdPartyAccessKeyReceiptData = serde_json::from_value(
        serde_json::json!({"data": [{"receipt": {"receiptId": "cr_demo"}}]}),
    )?;
    server.generate_third_party_access_key(|_, then| {
        then.ok(&receipt);
    });
    server.revoke_third_party_access_key(|when, then| {
        when.consent_receipt_id("cr_demo");
        then.no_content();
    });

    let client = Client::builder()
        .base_url(server.base_url())
        .auth(FinicityAuth::partner(
            "app-key",
            "2445580000000",
            "partner-secret",
        )?)
        .build()?;

    let grant: types::ThirdPartyAccessKeyData = serde_json::from_value(serde_json::json!({
        "customerId": "1005061234",
        "partnerId": "2445580000000",
        "thirdPartyPartnerId": "2445589999999",
        "products": [{
            "product": "moneyTransferDetails",
            "accountId": "5011640001",
            "accessPeriod": {
                "type": "timeframe",
                "startTime": "2026-12-01T00:00:00Z",
                "endTime": "2027-12-01T00:00:00Z"
            }
        }]
    }))?;
    let receipts = client
        .generate_third_party_access_key(&grant)
        .await?
        .into_inner();
    let id = receipts.data[0]
        .receipt
        .as_ref()
        .and_then(|r| r.receipt_id.clone())
        .ok_or("no receipt id")?;
    println!("granted, consent receipt {id}");
    client.revoke_third_party_access_key(&id).await?;
    println!("revoked {id}");
    Ok(())
}
