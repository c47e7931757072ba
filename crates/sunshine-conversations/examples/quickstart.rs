//! Creates, lists and deletes a key against a local stand-in for the
//! service (the crate's typed mock), so it runs anywhere:
//!
//! ```sh
//! cargo run -p apikeys-sunshine-conversations --features mock --example quickstart
//! ```
//!
//! Point `base_url` at `US`, `EU` or `zendesk_base_url(..)` and use real
//! credentials to run the same code against the service.

use apikeys_sunshine_conversations::mock::MockServerExt;
use apikeys_sunshine_conversations::{Client, JwtAuth, Scope, types};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (app, integration) = ("64f0c0ffee0000000000a001", "64f0c0ffee0000000000b002");

    // A stand-in service on loopback, answering as the real one would.
    let server = httpmock::MockServer::start_async().await;
    let issued: types::IntegrationApiKeyResponse = serde_json::from_value(serde_json::json!({
        "key": {"id": "int_demo", "displayName": "Billing sync", "secret": "demo-secret"}
    }))?;
    server.create_custom_integration_key(|when, then| {
        when.app_id(app).integration_id(integration);
        then.created(&issued);
    });
    server.list_custom_integration_keys(|when, then| {
        when.app_id(app).integration_id(integration);
        then.ok(&types::IntegrationApiKeyListResponse {
            keys: issued.key.clone().into_iter().collect(),
        });
    });
    server.delete_custom_integration_key(|when, then| {
        when.app_id(app)
            .integration_id(integration)
            .key_id("int_demo");
        then.ok(&types::EmptyResponse(Default::default()));
    });

    let client = Client::builder()
        .base_url(server.base_url())
        .auth(JwtAuth::new("int_admin", "admin-secret", Scope::App))
        .build()?;

    let request = types::IntegrationApiKey {
        display_name: "Billing sync".parse()?,
    };
    let key = client
        .create_custom_integration_key(app, integration, &request)
        .await?
        .into_inner()
        .key
        .ok_or("no key in the answer")?;
    // The secret prints redacted; `key.secret.expose()` reads it.
    println!("created {:?}", key);

    let keys = client
        .list_custom_integration_keys(app, integration)
        .await?
        .into_inner()
        .keys;
    println!("the integration has {} key(s)", keys.len());

    client
        .delete_custom_integration_key(app, integration, "int_demo")
        .await?;
    println!("deleted int_demo");
    Ok(())
}
