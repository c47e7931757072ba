//! Creates, lists and invalidates a personal access token against a local
//! stand-in for the service (the crate's typed mock), so it runs anywhere:
//!
//! ```sh
//! cargo run -p apikeys-finbourne-identity --features mock --example quickstart
//! ```

use apikeys_finbourne_identity::mock::MockServerExt;
use apikeys_finbourne_identity::{Configuration, types};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = httpmock::MockServer::start_async().await;
    let key = serde_json::json!({
        "id": "f45f", "displayName": "Nightly reconciliation",
        "createdDate": "2026-11-22T05:00:00.0000000+00:00"
    });
    let mut created = key.clone();
    created["key"] = "demo-token-value".into();
    server.create_api_key(|_, then| {
        then.created(&serde_json::from_value(created).unwrap());
    });
    server.list_own_api_keys(|_, then| {
        then.ok(&vec![serde_json::from_value(key.clone()).unwrap()]);
    });
    server.delete_api_key(|when, then| {
        when.id("f45f");
        then.ok(&serde_json::from_value(key.clone()).unwrap());
    });

    // In real use these come from FBN_* variables or secrets.json.
    let client = Configuration::new()
        .identity_url(server.base_url())
        .access_token("demo-personal-access-token")
        .app_name("quickstart")
        .build()?;

    let created = client
        .create_api_key(&types::CreateApiKey {
            display_name: "Nightly reconciliation".parse()?,
            deactivation_date: None,
        })
        .await?
        .into_inner();
    println!("created {created:?}");
    for key in client.list_own_api_keys().await?.iter() {
        println!("{} {}", key.id, key.display_name);
    }
    client.delete_api_key(&created.id).await?;
    println!("invalidated {}", created.id);
    Ok(())
}
