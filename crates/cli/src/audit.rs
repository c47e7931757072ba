//! `apikeys audit`: every configured provider's keys older than a policy,
//! or of unknown age; and the key table `list` prints too.

use apikeys_lifecycle::lineage::{Age, Due, due};
use apikeys_lifecycle::seen::Seen;
use apikeys_lifecycle::{
    Journaled, KeyInfo, LifecycleError, LifecycleErrorKind, Provider, Settings,
};
use chrono::{DateTime, Utc};

use crate::args::Output;
use crate::common::{Failure, exit};
use crate::report::days;
use crate::{providers, rotate};

/// Lists every configured provider's keys older than `max_age` or of
/// unknown age; exits 3 when there are any. Ages the provider does not
/// give come from `state`'s journals, else from when the key was first
/// seen: a key of unknown age is recorded as seen now, so that the next
/// audit knows it is at least that old.
pub(crate) async fn audit(
    max_age: std::time::Duration,
    state: &dyn apikeys_lifecycle::StateStore,
    output: Output,
) -> Result<u8, Failure> {
    let now = rotate::now();
    let settings = Settings::from_env();
    let configured: Vec<&Provider> = providers::PROVIDERS
        .iter()
        .filter(|p| p.is_configured(&settings))
        .collect();
    if configured.is_empty() {
        return Err(Failure(
            exit::USAGE,
            "no provider is configured (see the README for the variables)".into(),
        ));
    }
    let unavailable = |e: apikeys_lifecycle::StateError| Failure(exit::FAILED, e.to_string());
    let rotations = apikeys_lifecycle::journaled(state)
        .await
        .map_err(unavailable)?;
    let seen = apikeys_lifecycle::seen::seen(state)
        .await
        .map_err(unavailable)?;
    let mut found = Vec::new();
    let (mut failed, mut unknown) = (false, 0);
    for provider in configured {
        let lifecycle = provider.lifecycle(&settings)?;
        match lifecycle.list().await {
            Ok(keys) => {
                let mut flagged = Vec::new();
                let mut unseen = Vec::new();
                let theirs: Vec<_> = seen
                    .iter()
                    .filter(|s| s.provider == provider.name)
                    .cloned()
                    .collect();
                for key in keys {
                    match due(&key, &rotations, &theirs, now, max_age) {
                        Due::Fresh(_) => {}
                        Due::Over(_) => flagged.push(key),
                        Due::Unknown => {
                            unknown += 1;
                            unseen.push(key.id.shown());
                            eprintln!(
                                "{}: {} ({}): age unknown (the provider gives no creation time and no rotation of ours created it); first seen now, and from now on at least as old as that",
                                provider.name,
                                key.id,
                                key.name.as_deref().unwrap_or("-")
                            );
                            flagged.push(key);
                        }
                    }
                }
                apikeys_lifecycle::seen::record(state, provider.name, &unseen, now)
                    .await
                    .map_err(unavailable)?;
                found.push((lifecycle.provider(), flagged));
            }
            Err(e) if e.kind == LifecycleErrorKind::Unsupported => {
                eprintln!("{}: cannot be audited ({e})", provider.name);
            }
            Err(e) => {
                eprintln!("{}: {}", provider.name, explain(provider, &e));
                failed = true;
            }
        }
    }
    let ages = Ages {
        journals: &rotations,
        seen: &seen,
        now,
    };
    print_keys_to(&mut std::io::stdout().lock(), &found, output, Some(&ages));
    let flagged = found.iter().map(|(_, keys)| keys.len()).sum::<usize>();
    if failed {
        Err(Failure(
            exit::FAILED,
            "some providers could not be listed".into(),
        ))
    } else if flagged > 0 {
        Err(Failure(
            exit::POLICY,
            format!(
                "{} key(s) older than the policy, {unknown} of unknown age",
                flagged - unknown
            ),
        ))
    } else {
        Ok(0)
    }
}

/// A provider's error, with what to do when the credentials were refused:
/// the tool's own key may have been rotated, its successor stored in the
/// rotation's sink.
pub(crate) fn explain(provider: &Provider, e: &LifecycleError) -> String {
    if e.kind != LifecycleErrorKind::Refused {
        return e.to_string();
    }
    let vars = credential_vars(provider);
    format!(
        "{e}. If a rotation replaced the key these credentials are, its successor is in that rotation's sink (the file or command given with --sink): set {} from it, or rerun `apikeys {} keys finish <old key> --sink …`, which calls with the stored successor by itself",
        vars.join(", "),
        provider.name
    )
}

/// The variables that give the credentials `provider` calls with: those
/// of its credential settings this process was given (all of them, if it
/// was given none).
pub(crate) fn credential_vars(provider: &Provider) -> Vec<&'static str> {
    let all: Vec<&'static str> = provider
        .settings
        .iter()
        .filter(|s| s.secret || s.name.ends_with("_id"))
        .map(|s| s.env)
        .collect();
    let given: Vec<&'static str> = all
        .iter()
        .copied()
        .filter(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()))
        .collect();
    if given.is_empty() { all } else { given }
}

/// What a key's age is read from: its provider, else the journals.
pub(crate) struct Ages<'a> {
    journals: &'a [Journaled],
    seen: &'a [Seen],
    now: DateTime<Utc>,
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

/// Prints `groups` (each provider's keys) as a table or a JSON array into
/// `out`, with an age column when `ages` is given; a failed write (a
/// closed pipe) is dropped.
pub(crate) fn print_keys_to(
    out: &mut dyn std::io::Write,
    groups: &[(&str, Vec<KeyInfo>)],
    output: Output,
    ages: Option<&Ages<'_>>,
) {
    // The age, or (`≥`) the time since the key was first seen; none: unknown.
    let age = |provider: &str, k: &KeyInfo| {
        ages.map(|a| {
            let theirs: Vec<Seen> = a
                .seen
                .iter()
                .filter(|s| s.provider == provider)
                .cloned()
                .collect();
            match due(k, a.journals, &theirs, a.now, std::time::Duration::MAX) {
                Due::Fresh(age) | Due::Over(age) => Some(age),
                Due::Unknown => None,
            }
        })
    };
    match output {
        Output::Json => {
            let all: Vec<serde_json::Value> = groups
                .iter()
                .flat_map(|(provider, keys)| {
                    keys.iter().map(move |k| {
                        let mut v = serde_json::to_value(k).unwrap_or_default();
                        v["provider"] = (*provider).into();
                        if let Some(age) = age(provider, k) {
                            v["age_seconds"] = age.map(|a| a.duration().num_seconds()).into();
                            v["age_since_first_seen"] =
                                matches!(age, Some(Age::SinceSeen(_))).into();
                        }
                        v
                    })
                })
                .collect();
            let _ = writeln!(out, "{}", serde_json::Value::Array(all));
        }
        Output::Table => {
            let column = |age: Option<Option<Age>>| match age {
                None => String::new(),
                Some(None) => format!(" {:<8}", "unknown"),
                Some(Some(Age::Known(a))) => format!(" {:<8}", days(a)),
                Some(Some(Age::SinceSeen(a))) => format!(" {:<8}", format!(">={}", days(a))),
            };
            let head = ages.map_or(String::new(), |_| format!(" {:<8}", "AGE"));
            let _ = writeln!(
                out,
                "{:<11} {:<28} {:<30}{head} {:<16} {:<16} {:<16}",
                "PROVIDER", "ID", "NAME", "CREATED", "EXPIRES", "LAST USED"
            );
            for (provider, keys) in groups {
                for k in keys {
                    let _ = writeln!(
                        out,
                        "{:<11} {:<28} {:<30}{} {:<16} {:<16} {:<16}",
                        provider,
                        k.id.shown(),
                        k.name.as_deref().unwrap_or("-"),
                        column(age(provider, k)),
                        when(k.created),
                        when(k.expires),
                        when(k.last_used)
                    );
                }
            }
        }
    }
}
