//! `apikeys <provider> keys …`: list, create, revoke, rotate and finish
//! one provider's keys, configured from the environment.

use std::io::Write as _;

use apikeys_lifecycle::{
    CreateRequest, KeyId, KeyInfo, KeyLifecycle, LifecycleErrorKind, Provider, Settings, Sink,
};

use crate::args::{Keys, Output};
use apikeys_lifecycle::lineage::list_recovering;

use crate::audit::{credential_vars, explain, print_keys_to};
use crate::common::{Failure, exit, parse_sink};
use crate::{report, rotate};

/// Whether `--sink` names standard output.
fn sink_is_stdout(text: &str) -> bool {
    text == "stdout"
}

fn provider_failed(e: impl std::fmt::Display) -> Failure {
    Failure(exit::FAILED, e.to_string())
}

/// Runs one of `provider`'s key commands, configured from the environment.
pub(crate) async fn provider_command(
    provider: &Provider,
    command: Keys,
    output: Output,
) -> Result<u8, Failure> {
    let lifecycle = provider.lifecycle(&Settings::from_env())?;
    let lifecycle = lifecycle.as_ref();
    match command {
        Keys::List => {
            let keys = lifecycle
                .list()
                .await
                .map_err(|e| Failure(exit::FAILED, explain(provider, &e)))?;
            let groups = [(lifecycle.provider(), keys)];
            print_keys_to(&mut std::io::stdout().lock(), &groups, output, None);
            Ok(0)
        }
        Keys::Create { name, sink } => {
            let sink_text = sink.sink;
            let sink = parse_sink(&sink_text)?;
            let new = lifecycle
                .create(&CreateRequest::named(name))
                .await
                .map_err(provider_failed)?;
            if let Err(e) = sink.store(&new.credential) {
                // Shown once and not stored: the key must not stay live.
                let revoked = lifecycle.revoke(&new.info.id).await;
                return Err(Failure(
                    exit::FAILED,
                    format!(
                        "{e}; the new key {} was {}",
                        new.info.id,
                        if revoked.is_ok() {
                            "revoked"
                        } else {
                            "NOT revoked: revoke it by hand"
                        }
                    ),
                ));
            }
            eprintln!(
                "created {} and stored its credentials in {}",
                new.info.id,
                sink.describe()
            );
            print_keys_to(
                &mut results(sink_is_stdout(&sink_text)),
                &[(lifecycle.provider(), vec![new.info])],
                output,
                None,
            );
            Ok(0)
        }
        Keys::Revoke { id } => {
            let Some(key) = key_info(lifecycle, &id).await? else {
                return Err(Failure(
                    exit::NOT_FOUND,
                    format!(
                        "no key `{id}` among the {} keys these credentials can see (`apikeys {} keys list` shows them); nothing was revoked",
                        lifecycle.provider(),
                        lifecycle.provider()
                    ),
                ));
            };
            lifecycle.revoke(&key.id).await.map_err(provider_failed)?;
            eprintln!("revoked {id}");
            Ok(0)
        }
        Keys::Rotate {
            old,
            sink,
            options,
            dry_run,
        } => {
            let to_stdout = sink_is_stdout(&sink.sink);
            let sink = parse_sink(&sink.sink)?;
            let mut options = options.options().await?;
            // Settings that cannot work are refused before the first call.
            rotate::rotation(lifecycle, sink.as_ref(), &options, "")?
                .check()
                .map_err(|e| Failure(rotate::status_of(&e), e.to_string()))?;
            let old = key_info_resuming(lifecycle, sink.as_ref(), &options, &old).await?;
            if options.name_prefix.is_empty() {
                options.name_prefix =
                    apikeys_lifecycle::successor_name(old.name.as_deref(), "rotated");
            }
            let old = old.id;
            let label = lifecycle.provider();
            let rotation = rotate::rotation(lifecycle, sink.as_ref(), &options, label)?;
            let was = rotation.status(&old).await.map_err(provider_failed)?;
            if dry_run {
                match was {
                    Some(step) => {
                        let _ = writeln!(
                            results(to_stdout),
                            "would go on with the rotation of {old}, left at step {step:?}"
                        );
                    }
                    None => drop(writeln!(
                        results(to_stdout),
                        "would create a key named `{} rot-…`, store its credentials in {}, verify it, keep {old} live for {}, then revoke it",
                        options.name_prefix,
                        sink.describe(),
                        report::shown_duration(options.grace)
                    )),
                }
                return Ok(0);
            }
            let outcome = rotation.rotate(&old).await.map(Some);
            let own = lifecycle.calls_with(&old).maybe() && outcome.is_ok();
            let status = rotation_result(label, &old, outcome, was, &options, output, to_stdout)?;
            if own {
                own_key_moved(provider, &sink.describe());
            }
            Ok(status)
        }
        Keys::Finish { old, sink, options } => {
            let to_stdout = sink_is_stdout(&sink.sink);
            let sink = parse_sink(&sink.sink)?;
            let options = options.options().await?;
            let old = key_info_resuming(lifecycle, sink.as_ref(), &options, &old)
                .await?
                .id;
            let label = lifecycle.provider();
            let rotation = rotate::rotation(lifecycle, sink.as_ref(), &options, label)?;
            let was = rotation.status(&old).await.map_err(provider_failed)?;
            let outcome = rotation.finish(&old).await;
            rotation_result(label, &old, outcome, was, &options, output, to_stdout)
        }
    }
}

/// Prints a rotation's outcome and gives its exit status. `was`: the step
/// the rotation was journaled at before this run (none: not journaled).
fn rotation_result(
    provider: &'static str,
    old: &KeyId,
    outcome: Result<Option<apikeys_lifecycle::RotationOutcome>, apikeys_lifecycle::RotationError>,
    was: Option<apikeys_lifecycle::Step>,
    options: &rotate::Options,
    output: Output,
    sink_is_stdout: bool,
) -> Result<u8, Failure> {
    let outcome = outcome.map_err(|e| {
        let code = rotate::status_of(&e);
        let message = match code {
            exit::RESUMABLE => format!("{e} (state: {})", options.state.describe()),
            _ => e.to_string(),
        };
        Failure(code, message)
    })?;
    let line = report::Line::outcome(None, provider, &old.shown(), Ok(outcome), was);
    // A person reads a sentence on standard error; a script reads the
    // line (`--output json`) where results go.
    eprintln!("{old}: {}: {}", line.action.word(), line.detail);
    if output == Output::Json {
        let mut report = report::Report::new(output, sink_is_stdout);
        report.add(line);
    }
    Ok(0)
}

/// After a rotation of the key the tool calls with (or may: FINBOURNE
/// cannot tell): where the new credentials are, and how to point the tool
/// at them. This process switched to them; the next one reads its
/// settings again, and the old key goes once the grace has passed.
fn own_key_moved(provider: &Provider, sink: &str) {
    let vars = credential_vars(provider);
    eprintln!(
        "note: this rotation replaced the key apikeys calls {} with (or may have: the provider cannot tell). The new credentials are in {sink}: set {} from them before the old key goes; `keys rotate` and `keys finish` of this key find them by themselves.",
        provider.name,
        vars.join(", ")
    );
}

/// [`key_info`], for a rotation: when the configured credentials are
/// refused and a rotation of `shown` stored a new key (the tool's own, it
/// may be, revoked before the process died), calls with that one instead.
async fn key_info_resuming(
    lifecycle: &dyn KeyLifecycle,
    sink: &dyn Sink,
    options: &rotate::Options,
    shown: &str,
) -> Result<KeyInfo, Failure> {
    let rotation = rotate::rotation(lifecycle, sink, options, lifecycle.provider())?;
    let listed = list_recovering(lifecycle, async || {
        matches!(rotation.adopt_stored(shown).await, Ok(true))
    })
    .await;
    if let Some(key) = resolve(listed, shown)? {
        return Ok(key);
    }
    // Not listed: a rotation journaled for it goes on (its old key may be
    // revoked already); otherwise the id is mistyped, and nothing starts.
    let rotation = rotate::rotation(lifecycle, sink, options, lifecycle.provider())?;
    // A secret id (CartoVista's) is journaled by its fingerprint.
    for id in [KeyId::new(shown), KeyId::secret(shown)] {
        if let Ok(Some(_)) = rotation.status(&id).await {
            return Ok(KeyInfo::new(id));
        }
    }
    Err(Failure(
        exit::USAGE,
        format!(
            "no key `{shown}` among the {} keys these credentials can see, and no rotation of it is journaled (`apikeys {} keys list` shows the keys); nothing was done",
            lifecycle.provider(),
            lifecycle.provider()
        ),
    ))
}

/// The key named `shown` on the command line (see [`resolve`]).
async fn key_info(lifecycle: &dyn KeyLifecycle, shown: &str) -> Result<Option<KeyInfo>, Failure> {
    resolve(lifecycle.list().await, shown)
}

/// The key named `shown` among the listed keys: by its shown id
/// (CartoVista's ids are shown as `fp:…` fingerprints), or a secret id
/// typed as itself. `None`: the provider lists its keys and this one is
/// not among them. A provider that cannot list (Finicity) gives a key known only by
/// the text.
fn resolve(
    listed: Result<Vec<KeyInfo>, apikeys_lifecycle::LifecycleError>,
    shown: &str,
) -> Result<Option<KeyInfo>, Failure> {
    match listed {
        // A secret id typed as itself (CartoVista's key) is listed, and
        // known by that text, as it always was (journals are named by it).
        Ok(keys) => Ok(keys
            .iter()
            .find(|k| k.id.shown() == shown)
            .cloned()
            .or_else(|| {
                keys.iter()
                    .any(|k| k.id.expose() == shown)
                    .then(|| KeyInfo::new(KeyId::new(shown)))
            })),
        Err(e) if e.kind == LifecycleErrorKind::Unsupported => {
            Ok(Some(KeyInfo::new(KeyId::new(shown))))
        }
        Err(e) => Err(provider_failed(e)),
    }
}

/// Where results go: standard output, unless that carries the secret
/// document (`--sink stdout`), which then is all it carries, so that
/// `apikeys … --sink stdout > key.json` gives a JSON file.
fn results(sink_is_stdout: bool) -> Box<dyn std::io::Write> {
    match sink_is_stdout {
        true => Box::new(std::io::stderr()),
        false => Box::new(std::io::stdout()),
    }
}
