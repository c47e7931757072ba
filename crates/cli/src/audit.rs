//! `apikeys audit`: every configured provider's keys older than a policy,
//! or of unknown age; and the key table `list` prints too.

use apikeys_lifecycle::lineage::age;
use apikeys_lifecycle::{
    Journaled, KeyInfo, LifecycleError, LifecycleErrorKind, Provider, Settings,
};
use chrono::{DateTime, Utc};

use crate::args::Output;
use crate::common::{Failure, exit};
use crate::report::days;
use crate::{providers, rotate};

/// Lists every configured provider's keys older than `max_age` or of
/// unknown age (ages the provider does not give come from `state`'s
/// journals); exits 3 when there are any.
pub(crate) async fn audit(
    max_age: std::time::Duration,
    state: &dyn apikeys_lifecycle::StateStore,
    output: Output,
) -> Result<u8, Failure> {
    let now = rotate::now();
    let max_age = chrono::Duration::from_std(max_age).unwrap_or(chrono::Duration::MAX);
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
    let rotations = apikeys_lifecycle::journaled(state)
        .await
        .map_err(|e| Failure(exit::FAILED, e.to_string()))?;
    let mut found = Vec::new();
    let (mut failed, mut unknown) = (false, 0);
    for provider in configured {
        let lifecycle = provider.lifecycle(&settings)?;
        match lifecycle.list().await {
            Ok(keys) => {
                let mut flagged = Vec::new();
                for key in keys {
                    match age(&key, &rotations, now) {
                        Some(age) if age <= max_age => {}
                        Some(_) => flagged.push(key),
                        None => {
                            unknown += 1;
                            eprintln!(
                                "{}: {} ({}): age unknown (the provider gives no creation time and no rotation of ours created it)",
                                provider.name,
                                key.id,
                                key.name.as_deref().unwrap_or("-")
                            );
                            flagged.push(key);
                        }
                    }
                }
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
    let vars: Vec<&str> = provider
        .settings
        .iter()
        .filter(|s| s.secret || s.name.ends_with("_id"))
        .map(|s| s.env)
        .collect();
    format!(
        "{e}. If a rotation replaced the key these credentials are, its successor is in that rotation's sink (the file or command given with --sink): set {} from it, or rerun `apikeys {} keys finish <old key> --sink …`, which calls with the stored successor by itself",
        vars.join(", "),
        provider.name
    )
}

/// What a key's age is read from: its provider, else the journals.
pub(crate) struct Ages<'a> {
    journals: &'a [Journaled],
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
    let age = |k: &KeyInfo| ages.map(|a| age(k, a.journals, a.now));
    match output {
        Output::Json => {
            let all: Vec<serde_json::Value> = groups
                .iter()
                .flat_map(|(provider, keys)| {
                    keys.iter().map(move |k| {
                        let mut v = serde_json::to_value(k).unwrap_or_default();
                        v["provider"] = (*provider).into();
                        if let Some(age) = age(k) {
                            v["age_seconds"] = age.map(|a| a.num_seconds()).into();
                        }
                        v
                    })
                })
                .collect();
            let _ = writeln!(out, "{}", serde_json::Value::Array(all));
        }
        Output::Table => {
            let column = |age: Option<Option<chrono::Duration>>| match age {
                None => String::new(),
                Some(None) => format!(" {:<8}", "unknown"),
                Some(Some(a)) => format!(" {:<8}", days(a)),
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
                        column(age(k)),
                        when(k.created),
                        when(k.expires),
                        when(k.last_used)
                    );
                }
            }
        }
    }
}
