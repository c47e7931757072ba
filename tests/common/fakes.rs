//! Stateful loopback fakes of the four providers' key APIs: keys are
//! created, listed and revoked, and a key's credentials stop working once
//! it is revoked. Just the calls the lifecycle makes, shaped like the
//! specs under `openapi/`.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::{Reply, ScriptedServer, Seen};

/// One key a fake holds.
#[derive(Debug, Clone)]
pub struct FakeKey {
    pub id: String,
    pub name: String,
    pub secret: String,
    pub live: bool,
}

/// The provider a fake imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sunshine,
    Finbourne,
    Cartovista,
    Finicity,
}

/// The administrator's credentials every fake accepts, per provider.
pub const ADMIN_ID: &str = "admin";
pub const ADMIN_SECRET: &str = "admin-secret-123";
pub const APP: &str = "app1";
pub const INTEGRATION: &str = "int1";
pub const TENANT: &str = "acme";
pub const USER: &str = "me";
pub const FINICITY_APP_KEY: &str = "finicity-app-key";

/// A running fake and what it holds.
pub struct Fake {
    pub kind: Kind,
    pub server: ScriptedServer,
    pub keys: Arc<Mutex<Vec<FakeKey>>>,
}

impl Fake {
    /// A fake of `kind` holding one live key, `old` (secret `old-secret`).
    pub async fn start(kind: Kind) -> Self {
        let keys = Arc::new(Mutex::new(vec![FakeKey {
            id: "old".into(),
            name: "production".into(),
            secret: "old-secret".into(),
            live: true,
        }]));
        let state = keys.clone();
        let server = ScriptedServer::serve(move |req| {
            let mut keys = state.lock().unwrap();
            handle(kind, req, &mut keys)
        })
        .await;
        Self { kind, server, keys }
    }

    pub fn base_url(&self) -> &str {
        &self.server.base_url
    }

    pub fn key(&self, id: &str) -> Option<FakeKey> {
        self.keys
            .lock()
            .unwrap()
            .iter()
            .find(|k| k.id == id)
            .cloned()
    }

    pub fn live(&self) -> Vec<FakeKey> {
        self.keys
            .lock()
            .unwrap()
            .iter()
            .filter(|k| k.live)
            .cloned()
            .collect()
    }

    /// Whether `id` with `secret` would be accepted now.
    pub fn works(&self, id: &str, secret: &str) -> bool {
        self.key(id)
            .is_some_and(|k| k.live && k.secret == secret && !secret.is_empty())
    }
}

fn basic(user: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))
    )
}

/// Whether the request carries the admin's or a live key's credentials.
fn authorized(kind: Kind, req: &Seen, keys: &[FakeKey]) -> bool {
    let live = |id: &str, secret: &str| {
        keys.iter()
            .any(|k| k.live && k.id == id && k.secret == secret && !secret.is_empty())
    };
    match kind {
        Kind::Sunshine => {
            let got = req.header("authorization").unwrap_or("");
            got == basic(ADMIN_ID, ADMIN_SECRET)
                || keys
                    .iter()
                    .any(|k| k.live && got == basic(&k.id, &k.secret))
        }
        Kind::Finbourne => {
            let got = req.header("authorization").unwrap_or("");
            let token = got.strip_prefix("Bearer ").unwrap_or("");
            token == ADMIN_SECRET || keys.iter().any(|k| k.live && k.secret == token)
        }
        Kind::Cartovista => {
            let key = req.header("apikey").unwrap_or("");
            let secret = req.header("secretkey").unwrap_or("");
            (key == ADMIN_ID && secret == ADMIN_SECRET) || live(key, secret)
        }
        Kind::Finicity => {
            req.header("finicity-app-key") == Some(FINICITY_APP_KEY)
                && req.header("finicity-app-token") == Some("partner-token")
        }
    }
}

/// When a key was created, as the fakes that say so write it: the first
/// key long ago, the others now.
fn created(id: &str) -> String {
    if id == "old" {
        return "2026-01-02T03:04:05Z".into();
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    chrono::DateTime::from_timestamp(now, 0)
        .unwrap_or_default()
        .to_rfc3339()
}

fn new_id(keys: &[FakeKey]) -> String {
    format!("k{}", keys.len() + 1)
}

fn handle(kind: Kind, req: &Seen, keys: &mut Vec<FakeKey>) -> Reply {
    let path = req.path.split('?').next().unwrap_or("").to_owned();
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    if kind == Kind::Finicity && path == "/aggregation/v2/partners/authentication" {
        return Reply::json(200, r#"{"token":"partner-token"}"#);
    }
    if !authorized(kind, req, keys) {
        return Reply::json(401, r#"{"code":401,"message":"not authorized"}"#);
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = req.method.as_str();
    let revoke =
        |keys: &mut Vec<FakeKey>, id: &str| match keys.iter_mut().find(|k| k.id == id && k.live) {
            Some(k) => {
                k.live = false;
                true
            }
            None => false,
        };
    match (kind, method, segments.as_slice()) {
        (Kind::Sunshine, "GET", ["v2", "apps", APP, "integrations", INTEGRATION, "keys"]) => {
            let listed: Vec<Value> = keys
                .iter()
                .filter(|k| k.live)
                .map(|k| json!({"id": k.id, "displayName": k.name}))
                .collect();
            Reply::json(200, &json!({ "keys": listed }).to_string())
        }
        (Kind::Sunshine, "POST", ["v2", "apps", APP, "integrations", INTEGRATION, "keys"]) => {
            let key = FakeKey {
                id: new_id(keys),
                name: body["displayName"].as_str().unwrap_or("").into(),
                secret: format!("sec-{}", keys.len() + 1),
                live: true,
            };
            keys.push(key.clone());
            Reply::json(
                201,
                &json!({"key": {"id": key.id, "displayName": key.name, "secret": key.secret}})
                    .to_string(),
            )
        }
        (Kind::Sunshine, "GET", ["v2", "apps", APP, "integrations", INTEGRATION, "keys", id]) => {
            match keys.iter().find(|k| k.live && k.id == *id) {
                Some(k) => Reply::json(
                    200,
                    &json!({"key": {"id": k.id, "displayName": k.name}}).to_string(),
                ),
                None => Reply::json(404, r#"{"errors":[{"code":"not_found"}]}"#),
            }
        }
        (
            Kind::Sunshine,
            "DELETE",
            ["v2", "apps", APP, "integrations", INTEGRATION, "keys", id],
        ) => {
            if revoke(keys, id) {
                Reply::json(200, "{}")
            } else {
                Reply::json(404, r#"{"errors":[{"code":"not_found"}]}"#)
            }
        }
        (Kind::Finbourne, "GET", ["api", "keys"]) => {
            let listed: Vec<Value> = keys
                .iter()
                .filter(|k| k.live)
                .map(|k| json!({"id": k.id, "displayName": k.name, "createdDate": created(&k.id)}))
                .collect();
            Reply::json(200, &Value::Array(listed).to_string())
        }
        (Kind::Finbourne, "POST", ["api", "keys"]) => {
            let key = FakeKey {
                id: new_id(keys),
                name: body["displayName"].as_str().unwrap_or("").into(),
                secret: format!("pat-{}", keys.len() + 1),
                live: true,
            };
            keys.push(key.clone());
            Reply::json(
                201,
                &json!({"id": key.id, "displayName": key.name, "createdDate": created(&key.id), "key": key.secret})
                    .to_string(),
            )
        }
        (Kind::Finbourne, "DELETE", ["api", "keys", id]) => {
            if revoke(keys, id) {
                Reply::json(204, "")
            } else {
                Reply::json(404, r#"{"title":"not found"}"#)
            }
        }
        (Kind::Cartovista, "GET", [TENANT, "api", "v2", "User", USER, "ApiKey"]) => {
            let listed: Vec<Value> = keys
                .iter()
                .filter(|k| k.live)
                .map(|k| json!({"accessKey": k.id, "notes": k.name, "creationTime": "2026-01-02T03:04:05"}))
                .collect();
            Reply::json(200, &Value::Array(listed).to_string())
        }
        (Kind::Cartovista, "POST", [TENANT, "api", "v2", "User", USER, "ApiKey"]) => {
            let key = FakeKey {
                id: format!("cv-{}", keys.len() + 1),
                name: body["notes"].as_str().unwrap_or("").into(),
                secret: String::new(),
                live: true,
            };
            keys.push(key.clone());
            Reply::json(
                200,
                &json!({"accessKey": key.id, "notes": key.name, "enabled": true}).to_string(),
            )
        }
        (Kind::Cartovista, "POST", [TENANT, "api", "v2", "ApiKey", id, "generateSecret"]) => {
            let n = keys.len();
            match keys.iter_mut().find(|k| k.live && k.id == *id) {
                Some(k) => {
                    k.secret = format!("cvs-{n}-{}", k.id);
                    Reply::json(200, &json!(k.secret).to_string())
                }
                None => Reply::json(404, "{}"),
            }
        }
        (Kind::Cartovista, "DELETE", [TENANT, "api", "v2", "ApiKey", id]) => {
            if revoke(keys, id) {
                Reply::json(200, "")
            } else {
                Reply::json(404, "")
            }
        }
        (Kind::Finicity, "POST", ["aggregation", "v1", "partners", "accessKey"]) => {
            let key = FakeKey {
                id: format!("rcpt-{}", keys.len() + 1),
                name: String::new(),
                secret: String::new(),
                live: true,
            };
            keys.push(key.clone());
            Reply::json(
                200,
                &json!({"data": [{"receipt": {"receiptId": key.id, "customerId": body["customerId"]}, "proof": {"signature": "sig"}}]})
                    .to_string(),
            )
        }
        (Kind::Finicity, "DELETE", ["aggregation", "v1", "partners", "accessKey", id]) => {
            if revoke(keys, id) {
                Reply::json(204, "")
            } else {
                Reply::json(404, r#"{"code":404,"message":"no such receipt"}"#)
            }
        }
        _ => Reply::json(404, r#"{"message":"no such route in the fake"}"#),
    }
}
