//! Policy runs of the `apikeys` binary as operators drive them, against
//! stateful loopback fakes: many keys in several profiles over days on a
//! clock the test sets, mistakes refused before anything changes, and a
//! policy that rotates the tool's own key.

#[path = "../../../tests/common/mod.rs"]
mod common;
mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::fakes::{ADMIN_ID, ADMIN_SECRET, APP, Fake, FakeKey, INTEGRATION, Kind, TENANT, USER};
use support::{command, env_for, finish, name, refused_with, strings, temp, text};

async fn apikeys(cwd: &Path, args: &[String], env: &[(String, String)]) -> Output {
    finish(command(cwd, args, env)).await
}

/// A policy file of three profiles over three providers, `n` keys each.
fn policy(cwd: &Path, fakes: &[Fake]) -> PathBuf {
    let [sunshine, finbourne, cartovista] = fakes else {
        panic!("three fakes")
    };
    let text = format!(
        r#"state = "state"

[defaults]
max_age = "30d"
grace = "1h"

[[profile]]
name = "chat"
provider = "sunshine"
select = "svc-*"
unknown_age = "rotate"
sink = "file:keys/chat-{{key}}.json"
settings = {{ key_id = "{ADMIN_ID}", key_secret = {{ env = "CHAT_SECRET" }}, app_id = "{APP}", integration_id = "{INTEGRATION}", base_url = "{}" }}

[[profile]]
name = "lusid"
provider = "finbourne"
keys = ["old-0", "old-1", "old-2", "old-3", "old-4", "old-5"]
sink = "file:keys/lusid-{{key}}.json"
settings = {{ identity_url = "{}", access_token = {{ env = "LUSID_TOKEN" }} }}

[[profile]]
name = "maps"
provider = "cartovista"
select = "*"
max_age = "400d"
sink = "file:keys/maps-{{key}}.json"
grace = "0"
settings = {{ api_key = {{ env = "MAPS_KEY" }}, secret_key = {{ env = "MAPS_SECRET" }}, tenant = "{TENANT}", user = "{USER}", base_url = "{}" }}
"#,
        sunshine.base_url(),
        finbourne.base_url(),
        cartovista.base_url()
    );
    let path = cwd.join("policy.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn many(prefix: &str, secret: &str, n: usize) -> Vec<FakeKey> {
    (0..n)
        .map(|i| {
            FakeKey::new(
                &format!("{prefix}-{i}"),
                &format!("svc-{i}"),
                &format!("{secret}-{i}"),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_run_over_many_keys_in_several_profiles() {
    let fakes = vec![
        Fake::start_with(Kind::Sunshine, many("key", "s", 6), false).await,
        Fake::start_with(Kind::Finbourne, many("old", "t", 6), false).await,
        Fake::start_with(Kind::Cartovista, many("cv", "c", 6), false).await,
    ];
    let cwd = temp("policy");
    let config = policy(&cwd, &fakes);
    let env: Vec<(String, String)> = [
        ("CHAT_SECRET", ADMIN_SECRET),
        ("LUSID_TOKEN", ADMIN_SECRET),
        ("MAPS_KEY", ADMIN_ID),
        ("MAPS_SECRET", ADMIN_SECRET),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let run = |hours: i64, extra: &'static [&'static str]| {
        let mut args = strings(&["--output", "json", "run", "--config"]);
        args.push(config.display().to_string());
        args.extend(strings(extra));
        let mut env = env.clone();
        env.push((
            "APIKEYS_NOW".into(),
            (chrono::Utc::now() + chrono::Duration::hours(hours)).to_rfc3339(),
        ));
        let cwd = cwd.clone();
        async move { apikeys(&cwd, &args, &env).await }
    };
    let actions = |output: &Output| -> Vec<(String, String)> {
        text(&output.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v.get("action").is_some())
            .map(|v| {
                (
                    v["profile"].as_str().unwrap_or("").to_owned(),
                    v["action"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    };
    let count = |lines: &[(String, String)], profile: &str, action: &str| {
        lines
            .iter()
            .filter(|(p, a)| p == profile && a == action)
            .count()
    };

    let plan = run(0, &["--dry-run"]).await;
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stderr));
    let planned = actions(&plan);
    assert_eq!(count(&planned, "chat", "would-rotate"), 6, "{planned:?}");
    assert_eq!(count(&planned, "lusid", "would-rotate"), 6, "{planned:?}");
    assert_eq!(count(&planned, "maps", "fresh"), 6, "{planned:?}");
    assert_eq!(
        fakes[0].keys.lock().unwrap().len(),
        6,
        "a dry run made a key"
    );

    // Rotate: every key past its age gets a successor; the old ones stay
    // live for the grace (an hour).
    let first = run(0, &[]).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let did = actions(&first);
    assert_eq!(count(&did, "chat", "rotated"), 6, "{did:?}");
    assert_eq!(count(&did, "lusid", "rotated"), 6, "{did:?}");
    assert_eq!(fakes[0].live().len(), 12);
    assert_eq!(fakes[1].live().len(), 12);

    // Two hours later: the old keys go; nothing new is made.
    let second = run(2, &[]).await;
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    let did = actions(&second);
    assert_eq!(count(&did, "chat", "finished"), 6, "{did:?}");
    assert_eq!(count(&did, "lusid", "finished"), 6, "{did:?}");
    for fake in &fakes[..2] {
        assert_eq!(fake.live().len(), 6, "{:?}", fake.kind);
        assert_eq!(fake.keys.lock().unwrap().len(), 12, "{:?}", fake.kind);
        assert!(
            fake.live()
                .iter()
                .all(|k| !k.id.starts_with("old") && !k.id.starts_with("key"))
        );
    }

    // Once more: every key is fresh (Sunshine's ages come from the
    // journal of the rotations that made them).
    let third = run(3, &[]).await;
    assert_eq!(third.status.code(), Some(0), "{}", text(&third.stderr));
    let did = actions(&third);
    for profile in ["chat", "lusid", "maps"] {
        assert_eq!(count(&did, profile, "fresh"), 6, "{profile}: {did:?}");
    }
    assert_eq!(fakes[2].keys.lock().unwrap().len(), 6, "maps was rotated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_file_with_a_mistake_runs_nothing() {
    let fake = Fake::start(Kind::Finbourne).await;
    let cwd = temp("bad-policy");
    for (body, says) in [
        (
            "provider = \"nope\"\nkeys = [\"old\"]",
            "no provider `nope`",
        ),
        ("provider = \"finbourne\"", "name the keys"),
        (
            "provider = \"finbourne\"\nkeys = [\"old\"]\ngrase = \"1h\"",
            "grase",
        ),
        (
            "provider = \"finbourne\"\nkeys = [\"old\"]\nsettings = { token = \"x\" }",
            "reads no setting token",
        ),
        (
            "provider = \"finbourne\"\nkeys = [\"old\"]\nsettings = { access_token = \"in-the-file\" }",
            "is a credential",
        ),
        (
            "provider = \"finbourne\"\nkeys = [\"old\"]\nmax_age = \"99999999999999999w\"",
            "too long",
        ),
        (
            "provider = \"finbourne\"\nkeys = [\"old\"]\n\n[[profile]]\nname = \"p\"\nprovider = \"finbourne\"\nkeys = [\"k\"]\nsink = \"file:j.json\"",
            "two profiles have this name",
        ),
        (
            "provider = \"finbourne\"\nkeys = [\"old\"]\n\n[[profile]]\nname = \"../up\"\nprovider = \"finbourne\"\nkeys = [\"k\"]\nsink = \"file:j.json\"",
            "names its journal folder",
        ),
        (
            "provider = \"finbourne\"\nkeys = [\"old\"]\nsink = \"ftp:k\"",
            "sink `ftp:k`",
        ),
    ] {
        // `[defaults]` gives the age and sink a profile may override.
        let text_ = format!(
            "[defaults]\nmax_age = \"1d\"\nsink = \"file:k.json\"\n\n[[profile]]\nname = \"p\"\n{body}\n"
        );
        let path = cwd.join("policy.toml");
        std::fs::write(&path, text_).unwrap();
        let args = vec!["run".into(), "--config".into(), path.display().to_string()];
        let env = vec![("FBN_IDENTITY_URL".to_owned(), fake.base_url().to_owned())];
        let out = apikeys(&cwd, &args, &env).await;
        assert_eq!(out.status.code(), Some(2), "{body}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains(says),
            "{body}: {}",
            text(&out.stderr)
        );
        assert!(!text(&out.stderr).contains("in-the-file"), "{body}");
        assert_eq!(fake.keys.lock().unwrap().len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_that_rotates_the_tools_own_key_keeps_working() {
    // The profile's configured key is the one it keeps fresh: once a run
    // revoked it, the next run calls with its stored successor.
    for (kind, settings) in [
        (
            Kind::Sunshine,
            format!(
                r#"key_id = "old", key_secret = {{ env = "OWN_SECRET" }}, app_id = "{APP}", integration_id = "{INTEGRATION}""#
            ),
        ),
        (
            Kind::Cartovista,
            format!(
                r#"api_key = {{ env = "OWN_KEY" }}, secret_key = {{ env = "OWN_SECRET" }}, tenant = "{TENANT}", user = "{USER}""#
            ),
        ),
        (
            Kind::Finbourne,
            r#"access_token = { env = "OWN_SECRET" }"#.to_owned(),
        ),
    ] {
        let what = format!("{kind:?}");
        let fake = Fake::start(kind).await;
        let cwd = temp("own-policy");
        let base = match kind {
            Kind::Finbourne => "identity_url",
            _ => "base_url",
        };
        // Keys are named as `list` shows them: CartoVista's by fingerprint.
        let shown = match kind {
            Kind::Cartovista => apikeys_lifecycle::KeyId::secret("old").shown(),
            _ => "old".to_owned(),
        };
        let config = cwd.join("policy.toml");
        std::fs::write(
            &config,
            format!(
                "[[profile]]\nname = \"own\"\nprovider = \"{}\"\nkeys = [\"{shown}\"]\nmax_age = \"30d\"\ngrace = \"1h\"\nunknown_age = \"rotate\"\nsink = \"file:keys/own-{{key}}.json\"\nsettings = {{ {settings}, {base} = \"{}\" }}\n",
                name(kind),
                fake.base_url()
            ),
        )
        .unwrap();
        let env = vec![
            ("OWN_SECRET".to_owned(), "old-secret".to_owned()),
            ("OWN_KEY".to_owned(), "old".to_owned()),
        ];
        let run = |hours: i64| {
            let mut env = env.clone();
            env.push((
                "APIKEYS_NOW".into(),
                (chrono::Utc::now() + chrono::Duration::hours(hours)).to_rfc3339(),
            ));
            let args = vec![
                "run".into(),
                "--config".into(),
                config.display().to_string(),
            ];
            let cwd = cwd.clone();
            async move { apikeys(&cwd, &args, &env).await }
        };
        for (hours, expected) in [(0, "rotated"), (2, "finished"), (3, "fresh")] {
            let out = run(hours).await;
            assert_eq!(
                out.status.code(),
                Some(0),
                "{what} at +{hours}h: {}{}",
                text(&out.stdout),
                text(&out.stderr)
            );
            assert!(
                text(&out.stdout).contains(expected),
                "{what} at +{hours}h: {}",
                text(&out.stdout)
            );
        }
        assert!(!fake.key("old").unwrap().live, "{what}");
        assert_eq!(fake.live().len(), 1, "{what}");
        assert_eq!(fake.keys.lock().unwrap().len(), 2, "{what}");
    }
}

/// Mistakes found only once the keys are listed (a read) still refuse
/// the whole run before anything changes: lineages sharing a sink, within
/// a profile or across profiles, and a profile that selects nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_profiles_would_collide_changes_nothing() {
    let keys = |p: &str| {
        (0..2)
            .map(|i| FakeKey::new(&format!("old-{p}{i}"), &format!("{p}-{i}"), "s"))
            .collect::<Vec<_>>()
    };
    let sun = Fake::start_with(Kind::Sunshine, keys("a"), false).await;
    let fbn = Fake::start_with(Kind::Finbourne, keys("b"), false).await;
    let cwd = temp("collide");
    let env: Vec<(String, String)> = [("S", ADMIN_SECRET), ("T", ADMIN_SECRET)]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let sunshine = format!(
        "provider = \"sunshine\"\nunknown_age = \"rotate\"\nsettings = {{ key_id = \"{ADMIN_ID}\", key_secret = {{ env = \"S\" }}, app_id = \"{APP}\", integration_id = \"{INTEGRATION}\", base_url = \"{}\" }}",
        sun.base_url()
    );
    let finbourne = format!(
        "provider = \"finbourne\"\nsettings = {{ identity_url = \"{}\", access_token = {{ env = \"T\" }} }}",
        fbn.base_url()
    );
    for (profiles, says) in [
        // Two profiles, one file.
        (
            vec![
                format!("{sunshine}\nkeys = [\"old-a0\"]\nsink = \"file:shared.json\""),
                format!("{finbourne}\nkeys = [\"old-b0\"]\nsink = \"file:shared.json\""),
            ],
            "would hold the credentials of 2 keys",
        ),
        // One profile selecting two keys into one file.
        (
            vec![format!(
                "{finbourne}\nselect = \"b-*\"\nsink = \"file:one.json\""
            )],
            "would hold the credentials of 2 keys",
        ),
        // One command for two lineages.
        (
            vec![format!(
                "{sunshine}\nselect = \"a-*\"\nsink = \"command:store-it\""
            )],
            "command:store-it would hold",
        ),
        // A selection of nothing, beside a profile that would rotate.
        (
            vec![
                format!("{finbourne}\nselect = \"b-*\"\nsink = \"file:{{key}}.json\""),
                format!("{sunshine}\nselect = \"nobody-*\"\nsink = \"file:s-{{key}}.json\""),
            ],
            "selects no key",
        ),
        // Templates with {{key}} that still meet: the same lineage id.
        (
            vec![
                format!("{finbourne}\nkeys = [\"old-b0\"]\nsink = \"file:{{key}}.json\""),
                format!("{finbourne}\nkeys = [\"old-b0\"]\nsink = \"file:{{key}}.json\""),
            ],
            "would hold the credentials of 2 keys",
        ),
    ] {
        let mut text_ = String::from("state = \"state\"\n[defaults]\nmax_age = \"1d\"\n");
        for (i, p) in profiles.iter().enumerate() {
            text_.push_str(&format!("\n[[profile]]\nname = \"p{i}\"\n{p}\n"));
        }
        std::fs::write(cwd.join("policy.toml"), &text_).unwrap();
        for dry in [true, false] {
            let mut args = strings(&["run", "--config", "policy.toml"]);
            if dry {
                args.push("--dry-run".into());
            }
            let out = apikeys(&cwd, &args, &env).await;
            refused_with(&out, 2, says, &text_);
            assert!(
                text(&out.stdout).is_empty(),
                "{text_}: {}",
                text(&out.stdout)
            );
            for fake in [&sun, &fbn] {
                assert_eq!(
                    fake.keys.lock().unwrap().len(),
                    2,
                    "{text_}: a key was made"
                );
                assert_eq!(fake.live().len(), 2, "{text_}: a key was revoked");
            }
        }
    }
}

/// Finicity's preconditions of a rotation are checked before any call:
/// a grant to give the new key, and consent to a key that cannot be
/// verified. A refused command sends nothing and journals nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finicity_is_refused_before_its_first_call() {
    let fake = Fake::start(Kind::Finicity).await;
    let cwd = temp("finicity-refused");
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = seen.clone();
    fake.after_request(move |_| {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    let env = env_for(Kind::Finicity, &fake, false, &cwd);
    let without_grant: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| k != "FINICITY_GRANT_FILE")
        .cloned()
        .collect();
    let rotate = |extra: &[&str]| {
        let mut args = strings(&[name(Kind::Finicity), "keys", "rotate", "old"]);
        args.extend(strings(&["--sink", "file:new.json", "--state", "state"]));
        args.extend(strings(extra));
        args
    };
    for (args, env, says) in [
        (rotate(&[]), &env, "--accept-unverifiable"),
        (rotate(&["--dry-run"]), &env, "--accept-unverifiable"),
        (
            rotate(&["--accept-unverifiable"]),
            &without_grant,
            "grant_file",
        ),
        (
            rotate(&["--accept-unverifiable", "--dry-run"]),
            &without_grant,
            "grant_file",
        ),
    ] {
        let out = apikeys(&cwd, &args, env).await;
        refused_with(&out, 2, says, &args.join(" "));
        assert_eq!(
            seen.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "{args:?}: a call was made"
        );
        assert!(
            !cwd.join("state").exists(),
            "{args:?}: something was journaled"
        );
        assert!(!cwd.join("new.json").exists(), "{args:?}");
    }
    // The same in a policy: the profile that would stop part-way refuses
    // the run.
    let settings: Vec<String> = apikeys_finicity::PROVIDER
        .settings
        .iter()
        .filter(|s| env.iter().any(|(k, _)| k == s.env))
        .map(|s| format!("{} = {{ env = \"{}\" }}", s.name, s.env))
        .collect();
    let policy = format!(
        "state = \"state\"\n[[profile]]\nname = \"f\"\nprovider = \"finicity\"\nkeys = [\"old\"]\nmax_age = \"1d\"\nunknown_age = \"rotate\"\nsink = \"file:new.json\"\nsettings = {{ {} }}\n",
        settings.join(", ")
    );
    std::fs::write(cwd.join("policy.toml"), policy).unwrap();
    let out = apikeys(&cwd, &strings(&["run", "--config", "policy.toml"]), &env).await;
    refused_with(&out, 2, "accept_unverifiable = true", "policy");
    assert_eq!(
        seen.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "policy: a call was made"
    );
    assert!(fake.key("old").unwrap().live);
}

/// A key whose age nobody knows is reported (exit 3) once, and recorded as
/// first seen then (not by a dry run); later runs count its age from then,
/// and rotate it once that passes the policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_of_unknown_age_counts_from_when_a_run_first_saw_it() {
    let keys = vec![FakeKey::new("int-1", "svc-1", "s1")];
    let fake = Fake::start_with(Kind::Sunshine, keys, false).await;
    let cwd = temp("first-seen-policy");
    let policy = format!(
        "state = \"state\"\n[[profile]]\nname = \"chat\"\nprovider = \"sunshine\"\nselect = \"svc-*\"\nmax_age = \"30d\"\ngrace = \"0\"\nsink = \"file:keys/{{key}}.json\"\nsettings = {{ key_id = \"{ADMIN_ID}\", key_secret = {{ env = \"S\" }}, app_id = \"{APP}\", integration_id = \"{INTEGRATION}\", base_url = \"{}\" }}\n",
        fake.base_url()
    );
    std::fs::write(cwd.join("policy.toml"), policy).unwrap();
    let start = chrono::Utc::now();
    let run = |days: i64, dry: bool| {
        let mut args = strings(&["--output", "json", "run", "--config", "policy.toml"]);
        if dry {
            args.push("--dry-run".into());
        }
        let env = vec![
            ("S".to_owned(), ADMIN_SECRET.to_owned()),
            (
                "APIKEYS_NOW".to_owned(),
                (start + chrono::Duration::days(days)).to_rfc3339(),
            ),
        ];
        let cwd = cwd.clone();
        async move { apikeys(&cwd, &args, &env).await }
    };
    let line = |out: &Output| -> serde_json::Value {
        text(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v.get("action").is_some())
            .unwrap_or_default()
    };
    // A dry run reports and records nothing.
    for dry in [true, false] {
        let out = run(0, dry).await;
        assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
        assert_eq!(line(&out)["action"], "age-unknown", "{}", text(&out.stdout));
        let said = line(&out)["detail"].as_str().unwrap_or_default().to_owned();
        assert_eq!(said.contains("first seen now"), !dry, "{said}");
    }
    let out = run(1, false).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(line(&out)["action"], "fresh", "{}", text(&out.stdout));
    assert_eq!(line(&out)["detail"], "1d since first seen");
    assert_eq!(fake.keys.lock().unwrap().len(), 1, "a key was made");
    let out = run(31, false).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(line(&out)["action"], "rotated", "{}", text(&out.stdout));
    assert_eq!(fake.live().len(), 1);
    assert!(fake.live()[0].name.starts_with("svc-1 "));
}

/// A profile that would rotate the key the tool calls with into a sink
/// that cannot give it back is refused before anything changes, not when
/// the run reaches that key; `allow_unreadable_sink` lets it through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tools_own_key_into_an_unreadable_sink_is_refused_before_the_run() {
    let keys = vec![
        FakeKey::new("old-a", "svc-a", "sa"),
        FakeKey::new("old-b", "svc-b", "sb"),
    ];
    let fake = Fake::start_with(Kind::Finbourne, keys, false).await;
    let cwd = temp("own-unreadable");
    let profile = |extra: &str| {
        format!(
            "state = \"state\"\n[[profile]]\nname = \"p\"\nprovider = \"finbourne\"\nselect = \"svc-*\"\nmax_age = \"1d\"\nsink = \"command:true {{key}}\"\n{extra}settings = {{ identity_url = \"{}\", access_token = {{ env = \"T\" }} }}\n",
            fake.base_url()
        )
    };
    let env = vec![("T".to_owned(), ADMIN_SECRET.to_owned())];
    let args = strings(&["run", "--config", "policy.toml"]);
    std::fs::write(cwd.join("policy.toml"), profile("")).unwrap();
    let out = apikeys(&cwd, &args, &env).await;
    refused_with(&out, 2, "allow_unreadable_sink", "own key, command sink");
    assert_eq!(fake.keys.lock().unwrap().len(), 2, "a key was made");
    std::fs::write(
        cwd.join("policy.toml"),
        profile("allow_unreadable_sink = true\n"),
    )
    .unwrap();
    // With allow_unreadable_sink the plan lets it through (a dry run).
    let mut dry = args.clone();
    dry.push("--dry-run".into());
    let out = apikeys(&cwd, &dry, &env).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(fake.keys.lock().unwrap().len(), 2, "a dry run made a key");
}
