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
    /// When its credentials last authenticated (CartoVista lists it).
    pub last_used: Option<String>,
    /// The end of the last grant period a Finicity receipt was given, or
    /// the `deactivationDate` a FINBOURNE token was created with.
    pub grant_end: Option<String>,
}

impl FakeKey {
    /// A live key; ids starting with `old` were created long ago.
    pub fn new(id: &str, name: &str, secret: &str) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            secret: secret.into(),
            live: true,
            last_used: None,
            grant_end: None,
        }
    }
}

/// The `accessKeyString` a CartoVista fake gives key `id`.
pub fn key_string(id: &str) -> String {
    format!("str-{id}")
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

/// Called with each request once the fake has acted on it, before it
/// answers.
pub type AfterRequest = Box<dyn Fn(&Seen) + Send + Sync>;

/// A running fake and what it holds.
pub struct Fake {
    pub kind: Kind,
    pub server: ScriptedServer,
    pub keys: Arc<Mutex<Vec<FakeKey>>>,
    after: Arc<Mutex<Option<AfterRequest>>>,
}

impl Fake {
    /// A fake of `kind` holding one live key, `old` (secret `old-secret`).
    pub async fn start(kind: Kind) -> Self {
        Self::start_with(
            kind,
            vec![FakeKey::new("old", "production", "old-secret")],
            false,
        )
        .await
    }

    /// A fake of `kind` holding `keys`. A CartoVista fake whose `apiKey`
    /// header takes the `accessKeyString` form of new keys when
    /// `key_string` is set.
    pub async fn start_with(kind: Kind, keys: Vec<FakeKey>, key_string: bool) -> Self {
        let keys = Arc::new(Mutex::new(keys));
        let after: Arc<Mutex<Option<AfterRequest>>> = Arc::default();
        let (state, hook) = (keys.clone(), after.clone());
        let server = ScriptedServer::serve(move |req| {
            let reply = handle(kind, req, &mut state.lock().unwrap(), key_string);
            if let Some(f) = hook.lock().unwrap().as_ref() {
                f(req);
            }
            reply
        })
        .await;
        Self {
            kind,
            server,
            keys,
            after,
        }
    }

    /// Calls `f` with every request from now on, after the fake acted on
    /// it and before it answers (a test pauses the caller there).
    pub fn after_request(&self, f: impl Fn(&Seen) + Send + Sync + 'static) {
        *self.after.lock().unwrap() = Some(Box::new(f));
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

    /// Whether the credentials `credential` holds work at the fake now
    /// (a Finicity receipt: whether it is live).
    pub fn works_with(&self, credential: &apikeys_lifecycle::Credential) -> bool {
        let part = |n: &str| {
            credential
                .part(n)
                .map(|s| s.expose().to_owned())
                .unwrap_or_default()
        };
        match self.kind {
            Kind::Sunshine => self.works(&part("key_id"), &part("secret")),
            Kind::Finbourne => self.live().iter().any(|k| k.secret == part("token")),
            Kind::Cartovista => self.live().iter().any(|k| {
                (part("api_key") == k.id || part("api_key") == key_string(&k.id))
                    && k.secret == part("secret_key")
                    && !k.secret.is_empty()
            }),
            Kind::Finicity => self.key(&credential.key).is_some_and(|k| k.live),
        }
    }

    /// At this moment a working key is held: the old one, or the one in
    /// the sink.
    pub fn holds_a_working_key(&self, sink: &apikeys_lifecycle::FileSink) -> bool {
        use apikeys_lifecycle::Sink;
        self.key("old").is_some_and(|k| k.live) || sink.load().is_some_and(|c| self.works_with(&c))
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

/// Whether the request carries the admin's or a live key's credentials;
/// a key that authenticates is marked used.
fn authorized(kind: Kind, req: &Seen, keys: &mut [FakeKey], takes_string: bool) -> bool {
    let header = |k: &FakeKey| match takes_string && !k.id.starts_with("old") {
        true => key_string(&k.id),
        false => k.id.clone(),
    };
    if let Some(k) = keys.iter_mut().find(|k| {
        k.live
            && !k.secret.is_empty()
            && match kind {
                Kind::Sunshine => req.header("authorization") == Some(&basic(&k.id, &k.secret)),
                Kind::Finbourne => {
                    req.header("authorization") == Some(&format!("Bearer {}", k.secret))
                }
                Kind::Cartovista => {
                    req.header("apikey") == Some(&header(k))
                        && req.header("secretkey") == Some(&k.secret)
                }
                Kind::Finicity => false,
            }
    }) {
        k.last_used = Some(now());
        return true;
    }
    match kind {
        Kind::Sunshine => req.header("authorization") == Some(&basic(ADMIN_ID, ADMIN_SECRET)),
        Kind::Finbourne => req.header("authorization") == Some(&format!("Bearer {ADMIN_SECRET}")),
        Kind::Cartovista => {
            req.header("apikey") == Some(ADMIN_ID) && req.header("secretkey") == Some(ADMIN_SECRET)
        }
        Kind::Finicity => {
            req.header("finicity-app-key") == Some(FINICITY_APP_KEY)
                && req.header("finicity-app-token") == Some("partner-token")
        }
    }
}

/// The time now, as the fakes write it.
fn now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    chrono::DateTime::from_timestamp(now, 0)
        .unwrap_or_default()
        .to_rfc3339()
}

/// When a key was created, as the fakes that say so write it: keys whose
/// id starts with `old` long ago, the others now.
fn created(id: &str) -> String {
    if id.starts_with("old") {
        return "2026-01-02T03:04:05Z".into();
    }
    now()
}

/// The latest end of the periods a Finicity grant gives.
fn grant_end(body: &Value) -> Option<String> {
    body["products"]
        .as_array()?
        .iter()
        .filter_map(|p| p["accessPeriod"]["endTime"].as_str())
        .max()
        .map(str::to_owned)
}

fn new_id(keys: &[FakeKey]) -> String {
    format!("k{}", keys.len() + 1)
}

fn handle(kind: Kind, req: &Seen, keys: &mut Vec<FakeKey>, takes_string: bool) -> Reply {
    let path = req.path.split('?').next().unwrap_or("").to_owned();
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    if kind == Kind::Finicity && path == "/aggregation/v2/partners/authentication" {
        return Reply::json(200, r#"{"token":"partner-token"}"#);
    }
    if !authorized(kind, req, keys, takes_string) {
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
            let key = FakeKey::new(
                &new_id(keys),
                body["displayName"].as_str().unwrap_or(""),
                &format!("sec-{}", keys.len() + 1),
            );
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
            let key = FakeKey::new(
                &new_id(keys),
                body["displayName"].as_str().unwrap_or(""),
                &format!("pat-{}", keys.len() + 1),
            );
            let mut key = key;
            key.grant_end = body["deactivationDate"].as_str().map(str::to_owned);
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
                .map(|k| json!({"accessKey": k.id, "accessKeyString": key_string(&k.id), "notes": k.name, "creationTime": created(&k.id).trim_end_matches("+00:00").trim_end_matches('Z'), "lastUsedTime": k.last_used}))
                .collect();
            Reply::json(200, &Value::Array(listed).to_string())
        }
        (Kind::Cartovista, "POST", [TENANT, "api", "v2", "User", USER, "ApiKey"]) => {
            let key = FakeKey::new(
                &format!("cv-{}", keys.len() + 1),
                body["notes"].as_str().unwrap_or(""),
                "",
            );
            keys.push(key.clone());
            Reply::json(
                200,
                &json!({"accessKey": key.id, "accessKeyString": key_string(&key.id), "notes": key.name, "enabled": true}).to_string(),
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
            let mut key = FakeKey::new(&format!("rcpt-{}", keys.len() + 1), "", "");
            key.grant_end = grant_end(&body);
            keys.push(key.clone());
            Reply::json(
                200,
                &json!({"data": [{"receipt": {"receiptId": key.id, "customerId": body["customerId"]}, "proof": {"signature": "sig"}}]})
                    .to_string(),
            )
        }
        (Kind::Finicity, "PUT", ["aggregation", "v1", "partners", "accessKey", id]) => {
            match keys.iter_mut().find(|k| k.live && k.id == *id) {
                Some(k) => {
                    k.grant_end = grant_end(&body);
                    Reply::json(
                        200,
                        &json!({"receipt": {"receiptId": k.id, "customerId": body["customerId"]}, "proof": {"signature": "sig-2"}})
                            .to_string(),
                    )
                }
                None => Reply::json(404, r#"{"code":404,"message":"no such receipt"}"#),
            }
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
