//! Creates a key, generates its secret and deletes it against a local
//! stand-in for the service (the crate's typed mock), so it runs anywhere:
//!
//! ```sh
//! cargo run -p apikeys-cartovista --features mock --example quickstart
//! ```

use apikeys_cartovista::mock::MockServerExt;
use apikeys_cartovista::{Client, Secret, credentials, types};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = httpmock::MockServer::start_async().await;
    let created: types::AccessKeyDto = serde_json::from_value(serde_json::json!({
        "accessKeyString": "cv-demo…", "mode": 1, "enabled": true, "userId": "u-42"
    }))?;
    server.api_key_create_access_key(|when, then| {
        when.tenant_url_code("acme").user_identifier("u-42");
        then.success(200, &created);
    });
    server.api_key_generate_secret_key(|when, then| {
        when.tenant_url_code("acme").id("k1");
        then.success(200, &Secret::new("demo-secret"));
    });
    server.api_key_delete_api_key(|when, then| {
        when.tenant_url_code("acme").id("k1");
        then.success(204);
    });

    let client = Client::builder()
        .base_url(server.base_url())
        .auth(credentials("demo-api-key", None)?)
        .build()?;
    let acme = client.tenant("acme");

    let key = acme
        .user("u-42")
        .create_access_key(&types::CreateApiKeyParameter {
            ip_whitelisting: None,
            notes: Some("quickstart".into()),
        })
        .await?
        .into_inner();
    println!("created {:?} (mode {:?})", key.access_key_string, key.mode);

    let secret = acme.generate_secret_key("k1").await?.into_inner();
    println!("new secret: {secret:?} (redacted; .expose() reads it)");

    acme.delete_api_key("k1").await?;
    println!("deleted k1");
    Ok(())
}
