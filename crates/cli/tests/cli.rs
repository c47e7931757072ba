//! The `apikeys` binary against stateful loopback fakes: what it prints,
//! its exit statuses, a dry run, and a rotation whose process is killed
//! and then rerun.

#[path = "../../../tests/common/mod.rs"]
mod common;
mod support;

use std::path::Path;
use std::process::Output;

use common::fakes::{ADMIN_ID, ADMIN_SECRET, APP, Fake, INTEGRATION, Kind};
use support::{command, finish, strings, temp, text};

/// Runs `apikeys args…` configured for the FINBOURNE fake (and the
/// Sunshine one when given), in an empty folder with no other settings.
async fn apikeys(
    finbourne: &Fake,
    sunshine: Option<&Fake>,
    cwd: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Output {
    let mut all = vec![
        ("FBN_IDENTITY_URL", finbourne.base_url()),
        ("FBN_ACCESS_TOKEN", ADMIN_SECRET),
    ];
    if let Some(sunshine) = sunshine {
        all.extend([
            ("SUNSHINE_BASE_URL", sunshine.base_url()),
            ("SUNSHINE_KEY_ID", ADMIN_ID),
            ("SUNSHINE_KEY_SECRET", ADMIN_SECRET),
            ("SUNSHINE_APP_ID", APP),
            ("SUNSHINE_INTEGRATION_ID", INTEGRATION),
        ]);
    }
    all.extend_from_slice(env);
    finish(command(cwd, &strings(args), &all)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_audit_dry_run_and_rotate() {
    let fake = Fake::start(Kind::Finbourne).await;
    let sunshine = Fake::start(Kind::Sunshine).await;
    let cwd = temp("rotate");

    let listed = apikeys(
        &fake,
        None,
        &cwd,
        &["--output", "json", "finbourne", "keys", "list"],
        &[],
    )
    .await;
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let keys: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(keys[0]["id"], "old");
    assert_eq!(keys[0]["provider"], "finbourne");

    // Both configured providers are audited; only FINBOURNE says when its
    // keys were made, and its one key is older than 90 days: exit 3.
    let audit = apikeys(
        &fake,
        Some(&sunshine),
        &cwd,
        &["audit", "--max-age", "90d"],
        &[],
    )
    .await;
    assert_eq!(audit.status.code(), Some(3), "{}", text(&audit.stderr));
    assert!(
        text(&audit.stdout).contains("old"),
        "{}",
        text(&audit.stdout)
    );

    let sink = format!("file:{}", cwd.join("new-key.json").display());
    let journal = cwd.join("journal");
    let rotate = |extra: &'static [&'static str]| {
        let mut args = vec![
            "finbourne",
            "keys",
            "rotate",
            "old",
            "--sink",
            sink.as_str(),
            "--journal",
        ];
        args.push(journal.to_str().unwrap());
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<String>>()
    };

    let dry = rotate(&["--dry-run"]);
    let dry_args: Vec<&str> = dry.iter().map(String::as_str).collect();
    let planned = apikeys(&fake, None, &cwd, &dry_args, &[]).await;
    assert!(planned.status.success(), "{}", text(&planned.stderr));
    assert!(
        text(&planned.stdout).starts_with("would create"),
        "{}",
        text(&planned.stdout)
    );
    assert_eq!(
        fake.keys.lock().unwrap().len(),
        1,
        "a dry run changed something"
    );

    // The default grace: the new key is stored and verified, and both
    // keys stay live for a day.
    let args = rotate(&[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let overlapping = apikeys(&fake, None, &cwd, &args, &[]).await;
    assert!(
        overlapping.status.success(),
        "{}",
        text(&overlapping.stderr)
    );
    let progress = text(&overlapping.stderr);
    for step in ["created", "stored", "verified", "both keys stay live until"] {
        assert!(progress.contains(step), "{progress}");
    }
    assert_eq!(fake.live().len(), 2, "{progress}");
    // Rerun before the grace has passed: nothing changes.
    let early = apikeys(&fake, None, &cwd, &args, &[]).await;
    assert!(early.status.success(), "{}", text(&early.stderr));
    assert_eq!(fake.live().len(), 2);
    assert_eq!(fake.keys.lock().unwrap().len(), 2, "a second key was made");

    // A day and an hour later (a clock the test sets), `finish` revokes
    // the old key.
    let later = (chrono::Utc::now() + chrono::Duration::hours(25)).to_rfc3339();
    let mut finish: Vec<&str> = args.clone();
    finish[2] = "finish";
    let done = apikeys(&fake, None, &cwd, &finish, &[("APIKEYS_NOW", &later)]).await;
    assert!(done.status.success(), "{}", text(&done.stderr));
    let progress = text(&done.stderr);
    assert!(progress.contains("revoked the old key"), "{progress}");
    let new = fake.live();
    assert_eq!(new.len(), 1);
    assert!(!fake.key("old").unwrap().live);
    // The secret went to the file only.
    for output in [&overlapping, &early, &done] {
        assert!(!text(&output.stdout).contains(&new[0].secret));
        assert!(!text(&output.stderr).contains(&new[0].secret));
    }
    assert!(
        std::fs::read_to_string(cwd.join("new-key.json"))
            .unwrap()
            .contains(&new[0].secret)
    );

    // A fresh audit finds nothing over the policy.
    let audit = apikeys(&fake, None, &cwd, &["audit", "--max-age", "90d"], &[]).await;
    assert_eq!(audit.status.code(), Some(0), "{}", text(&audit.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_killed_mid_way_is_finished_by_the_same_command() {
    for point in [
        "created",
        "created-journaled",
        "stored-journaled",
        "revoked",
    ] {
        let fake = Fake::start(Kind::Finbourne).await;
        let cwd = temp(point);
        let sink = format!("file:{}", cwd.join("new-key.json").display());
        let journal = cwd.join("journal");
        let args = [
            "finbourne",
            "keys",
            "rotate",
            "old",
            "--sink",
            &sink,
            "--journal",
            journal.to_str().unwrap(),
            "--grace",
            "0",
        ];
        let killed = apikeys(&fake, None, &cwd, &args, &[("APIKEYS_FAULT", point)]).await;
        assert!(
            !killed.status.success() && killed.status.code().is_none(),
            "{point}: {:?}",
            killed.status
        );
        // A working key is held: the old one still works.
        assert!(
            fake.key("old").unwrap().live || point == "revoked",
            "{point}"
        );

        let resumed = apikeys(&fake, None, &cwd, &args, &[]).await;
        assert!(
            resumed.status.success(),
            "{point}: {}",
            text(&resumed.stderr)
        );
        assert!(
            text(&resumed.stderr).contains("resuming"),
            "{point}: {}",
            text(&resumed.stderr)
        );
        let live = fake.live();
        assert_eq!(live.len(), 1, "{point}: {live:?}");
        assert_ne!(live[0].id, "old");
        let stored = std::fs::read_to_string(cwd.join("new-key.json")).unwrap();
        assert!(stored.contains(&live[0].secret), "{point}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_revoke_and_what_is_printed() {
    let fake = Fake::start(Kind::Finbourne).await;
    let cwd = temp("create");
    // A secret is printed only when asked for.
    let shown = apikeys(
        &fake,
        None,
        &cwd,
        &[
            "finbourne",
            "keys",
            "create",
            "--name",
            "ci",
            "--sink",
            "stdout",
        ],
        &[],
    )
    .await;
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let secret = fake.key("k2").unwrap().secret;
    // Standard output carries the secret document and nothing else (the
    // table goes to standard error), so `> key.json` is a JSON file.
    let document: serde_json::Value = serde_json::from_str(text(&shown.stdout).trim())
        .unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON document ({e}): {}",
                text(&shown.stdout)
            )
        });
    assert_eq!(document["token"], secret.as_str());
    assert!(
        text(&shown.stderr).contains("k2"),
        "{}",
        text(&shown.stderr)
    );
    let file = format!("file:{}", cwd.join("k.json").display());
    let quiet = apikeys(
        &fake,
        None,
        &cwd,
        &[
            "finbourne",
            "keys",
            "create",
            "--name",
            "ci2",
            "--sink",
            &file,
        ],
        &[],
    )
    .await;
    assert!(quiet.status.success());
    let secret = fake.key("k3").unwrap().secret;
    assert!(!text(&quiet.stdout).contains(&secret) && !text(&quiet.stderr).contains(&secret));

    // No sink: a usage error, and nothing created.
    let refused = apikeys(
        &fake,
        None,
        &cwd,
        &["finbourne", "keys", "create", "--name", "x"],
        &[],
    )
    .await;
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(fake.keys.lock().unwrap().len(), 3);

    let revoked = apikeys(
        &fake,
        None,
        &cwd,
        &["finbourne", "keys", "revoke", "k2"],
        &[],
    )
    .await;
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    assert!(!fake.key("k2").unwrap().live);

    // A provider that is not configured is named, with what to set.
    let unset = apikeys(&fake, None, &cwd, &["cartovista", "keys", "list"], &[]).await;
    assert_eq!(unset.status.code(), Some(2));
    assert!(
        text(&unset.stderr).contains("CARTOVISTA_API_KEY"),
        "{}",
        text(&unset.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_providers_help_lists_every_setting_it_reads() {
    let fake = Fake::start(Kind::Finbourne).await;
    let cwd = temp("help");
    for provider in [
        apikeys_sunshine_conversations::PROVIDER,
        apikeys_finbourne_identity::PROVIDER,
        apikeys_cartovista::PROVIDER,
        apikeys_finicity::PROVIDER,
    ] {
        let help = apikeys(&fake, None, &cwd, &[provider.name, "--help"], &[]).await;
        assert!(help.status.success(), "{}", provider.name);
        let shown = text(&help.stdout);
        assert!(shown.contains(provider.about), "{}: {shown}", provider.name);
        for setting in provider.settings {
            assert!(
                shown.contains(setting.name) && shown.contains(setting.env),
                "{}: {} / {} missing from\n{shown}",
                provider.name,
                setting.name,
                setting.env
            );
        }
    }
}

/// A rotation into `--sink stdout`, in both output forms and as a dry run:
/// standard output carries the secret document alone (progress and
/// results go to standard error), so `> key.json` is a JSON file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdout_sink_gets_the_secret_document_and_nothing_else() {
    let fake = Fake::start(Kind::Finbourne).await;
    let cwd = temp("stdout-sink");
    for (i, form) in ["table", "json"].into_iter().enumerate() {
        let old = ["old", "k2"][i];
        for dry in [true, false] {
            let mut args = vec![
                "--output",
                form,
                "finbourne",
                "keys",
                "rotate",
                old,
                "--grace",
                "0",
                "--sink",
                "stdout",
                "--allow-unreadable-sink",
            ];
            if dry {
                args.push("--dry-run");
            }
            let journal = cwd.join("journal");
            args.extend(["--journal", journal.to_str().unwrap()]);
            let out = apikeys(&fake, None, &cwd, &args, &[]).await;
            assert!(out.status.success(), "{form} {old}: {}", text(&out.stderr));
            let stdout = text(&out.stdout);
            if dry {
                assert_eq!(stdout, "", "{form} dry run: {stdout}");
                continue;
            }
            let document: serde_json::Value =
                serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
                    panic!("{form}: stdout is not one JSON document ({e}): {stdout}")
                });
            assert_eq!(document["provider"], "finbourne", "{form}: {stdout}");
            assert!(
                document["token"].as_str().is_some_and(|t| !t.is_empty()),
                "{form}"
            );
        }
    }
}

/// A key whose age nobody knows (Sunshine gives no creation time) is
/// recorded as first seen by the audit that finds it: later audits know it
/// is at least that old, and flag it once that passes the policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_records_when_a_key_of_unknown_age_was_first_seen() {
    let fake = Fake::start(Kind::Finbourne).await;
    let sunshine = Fake::start(Kind::Sunshine).await;
    let cwd = temp("first-seen");
    let start = chrono::Utc::now();
    let audit = |days: i64| {
        let now = (start + chrono::Duration::days(days)).to_rfc3339();
        let (fake, sunshine, cwd) = (&fake, &sunshine, cwd.clone());
        async move {
            let args = ["audit", "--max-age", "400d", "--state", "state"];
            apikeys(fake, Some(sunshine), &cwd, &args, &[("APIKEYS_NOW", &now)]).await
        }
    };
    let first = audit(0).await;
    assert_eq!(first.status.code(), Some(3), "{}", text(&first.stderr));
    assert!(
        text(&first.stderr).contains("first seen now"),
        "{}",
        text(&first.stderr)
    );
    assert!(
        text(&first.stderr).contains("1 of unknown age"),
        "{}",
        text(&first.stderr)
    );
    // A day later it is at least a day old, within the policy: nothing
    // is listed.
    let second = audit(1).await;
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert!(
        !text(&second.stdout).contains("old"),
        "{}",
        text(&second.stdout)
    );
    assert!(
        !text(&second.stderr).contains("age unknown"),
        "{}",
        text(&second.stderr)
    );
    // Past the policy since it was first seen: flagged, and its age known.
    let late = audit(401).await;
    assert_eq!(late.status.code(), Some(3), "{}", text(&late.stderr));
    assert!(
        text(&late.stderr).contains("0 of unknown age"),
        "{}",
        text(&late.stderr)
    );
    assert!(
        text(&late.stdout).contains(">=401d"),
        "{}",
        text(&late.stdout)
    );
}
