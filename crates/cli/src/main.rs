//! `apikeys`: list, create, revoke and rotate API keys of four providers,
//! and audit their age. See the README for configuration and exit codes.

mod providers;

use std::path::PathBuf;
use std::process::ExitCode;

use apikeys_lifecycle::{
    CommandSink, FaultPoint, FileSink, KeyId, KeyInfo, KeyLifecycle, LifecycleErrorKind, Rotation,
    RotationError, Sink, StdoutSink,
};
use chrono::{DateTime, Duration, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use providers::Provider;

/// Exit statuses, for scripts.
mod exit {
    /// A provider call or a sink failed.
    pub const FAILED: u8 = 1;
    /// Bad usage or configuration (clap uses 2 too).
    pub const USAGE: u8 = 2;
    /// `audit` found keys older than the policy.
    pub const POLICY: u8 = 3;
    /// A rotation stopped part-way; rerunning it goes on from its journal.
    pub const RESUMABLE: u8 = 4;
    /// Another run holds the rotation's lock.
    pub const BUSY: u8 = 5;
}

#[derive(Parser)]
#[command(
    name = "apikeys",
    version,
    about = "Manage and rotate API keys of Sunshine Conversations, FINBOURNE, CartoVista and Finicity"
)]
struct Cli {
    /// How results are printed.
    #[arg(long, value_enum, default_value = "table", global = true)]
    output: Output,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Output {
    Table,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// One provider's keys.
    #[command(flatten)]
    Provider(ProviderCommand),
    /// Every configured provider's keys older than a policy; exits 3 when
    /// there are any.
    Audit {
        /// The oldest a key may be: `90d`, `12w`, `36h`.
        #[arg(long, value_parser = parse_age)]
        max_age: Duration,
    },
}

#[derive(Subcommand)]
enum ProviderCommand {
    /// Sunshine Conversations (SUNSHINE_* variables).
    Sunshine {
        #[command(subcommand)]
        keys: KeysCommand,
    },
    /// FINBOURNE Identity (FBN_* variables or secrets.json).
    Finbourne {
        #[command(subcommand)]
        keys: KeysCommand,
    },
    /// CartoVista (CARTOVISTA_* variables).
    Cartovista {
        #[command(subcommand)]
        keys: KeysCommand,
    },
    /// Finicity (FINICITY_* variables).
    Finicity {
        #[command(subcommand)]
        keys: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// The provider's keys.
    #[command(subcommand)]
    Keys(Keys),
}

#[derive(Subcommand)]
enum Keys {
    /// Lists the keys the configured credentials can see.
    List,
    /// Creates a key and hands its credentials to a sink.
    Create {
        /// The new key's name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        sink: SinkArgs,
    },
    /// Revokes a key.
    Revoke {
        /// The key's id (as `list` shows it).
        id: String,
    },
    /// Replaces a key: create, store, verify, then revoke the old one;
    /// rerun after an interruption to finish.
    Rotate {
        /// The key to replace.
        old: String,
        #[command(flatten)]
        sink: SinkArgs,
        /// Where the rotation's journal and lock live.
        #[arg(long, env = "APIKEYS_JOURNAL")]
        journal: Option<PathBuf>,
        /// The start of the new key's name.
        #[arg(long, default_value = "rotated")]
        name_prefix: String,
        /// Revoke the old key even if the provider cannot verify the new
        /// one (Finicity).
        #[arg(long)]
        accept_unverifiable: bool,
        /// Say what would be done, and do nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(clap::Args)]
struct SinkArgs {
    /// Where new credentials go: `file:PATH` (written atomically, mode
    /// 0600), `command:PROGRAM [ARGS…]` (credentials on its standard
    /// input), or `stdout` (prints the secret).
    #[arg(long)]
    sink: String,
}

impl SinkArgs {
    fn sink(&self) -> Result<Box<dyn Sink>, String> {
        if let Some(path) = self.sink.strip_prefix("file:") {
            return Ok(Box::new(FileSink::new(path)));
        }
        if let Some(command) = self.sink.strip_prefix("command:") {
            let mut words = command.split_whitespace().map(str::to_owned);
            let program = words.next().ok_or("--sink command: names no program")?;
            return Ok(Box::new(CommandSink::new(program, words.collect())));
        }
        if self.sink == "stdout" {
            return Ok(Box::new(StdoutSink));
        }
        Err("--sink takes file:PATH, command:PROGRAM [ARGS…] or stdout".into())
    }
}

fn parse_age(text: &str) -> Result<Duration, String> {
    let (number, unit) = text.split_at(text.trim_end_matches(char::is_alphabetic).len());
    let n: i64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not an age like 90d, 12w or 36h"))?;
    match unit {
        "h" => Ok(Duration::hours(n)),
        "d" => Ok(Duration::days(n)),
        "w" => Ok(Duration::weeks(n)),
        _ => Err(format!("`{text}`: the unit is h, d or w")),
    }
}

/// A failure and its exit status.
struct Failure(u8, String);

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self(exit::USAGE, message)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("apikeys: cannot start: {e}");
            return ExitCode::from(exit::FAILED);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(code, message)) => {
            eprintln!("apikeys: {message}");
            ExitCode::from(code)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Audit { max_age } => audit(max_age, cli.output).await,
        Command::Provider(command) => {
            let (provider, KeysCommand::Keys(keys)) = match command {
                ProviderCommand::Sunshine { keys } => (Provider::Sunshine, keys),
                ProviderCommand::Finbourne { keys } => (Provider::Finbourne, keys),
                ProviderCommand::Cartovista { keys } => (Provider::Cartovista, keys),
                ProviderCommand::Finicity { keys } => (Provider::Finicity, keys),
            };
            let lifecycle = provider.lifecycle()?;
            keys_command(lifecycle.as_ref(), keys, cli.output).await
        }
    }
}

fn provider_failed(e: impl std::fmt::Display) -> Failure {
    Failure(exit::FAILED, e.to_string())
}

async fn keys_command(
    lifecycle: &dyn KeyLifecycle,
    command: Keys,
    output: Output,
) -> Result<(), Failure> {
    match command {
        Keys::List => {
            let keys = lifecycle.list().await.map_err(provider_failed)?;
            print_keys(&[(lifecycle.provider(), keys)], output);
            Ok(())
        }
        Keys::Create { name, sink } => {
            let sink = sink.sink()?;
            let new = lifecycle.create(&name).await.map_err(provider_failed)?;
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
            print_keys(&[(lifecycle.provider(), vec![new.info])], output);
            Ok(())
        }
        Keys::Revoke { id } => {
            lifecycle
                .revoke(&key_id(lifecycle, &id).await?)
                .await
                .map_err(provider_failed)?;
            eprintln!("revoked {id}");
            Ok(())
        }
        Keys::Rotate {
            old,
            sink,
            journal,
            name_prefix,
            accept_unverifiable,
            dry_run,
        } => {
            let sink = sink.sink()?;
            let journal = journal.unwrap_or_else(default_journal);
            let old = key_id(lifecycle, &old).await?;
            let rotation = Rotation::new(lifecycle, sink.as_ref(), &journal)
                .name_prefix(name_prefix.clone())
                .accept_unverifiable(accept_unverifiable)
                .on_progress(|step| eprintln!("[{}] {step}", lifecycle.provider()));
            if dry_run {
                let state = rotation.status(&old).map_err(provider_failed)?;
                match state {
                    Some(step) => {
                        println!("would resume the rotation of {old}, left at step {step:?}")
                    }
                    None => println!(
                        "would create a key named `{name_prefix} rot-…`, store its credentials in {}, verify it, then revoke {old}",
                        sink.describe()
                    ),
                }
                return Ok(());
            }
            let rotation = match fault_from_env()? {
                Some(point) => rotation.inject_faults(move |p| {
                    if p == point {
                        eprintln!("APIKEYS_FAULT: stopping the process at {}", p.name());
                        std::process::abort();
                    }
                    false
                }),
                None => rotation,
            };
            match rotation.rotate(&old).await {
                Ok(outcome) => {
                    let what = if outcome.already_done {
                        "was already rotated to"
                    } else {
                        "rotated to"
                    };
                    eprintln!("{old} {what} {}", outcome.new);
                    if let Output::Json = output {
                        println!(
                            "{}",
                            serde_json::json!({"old": old.shown(), "new": outcome.new, "resumed": outcome.resumed})
                        );
                    }
                    Ok(())
                }
                Err(e @ RotationError::Busy(_)) => Err(Failure(exit::BUSY, e.to_string())),
                Err(e @ RotationError::Journal(_)) => Err(Failure(exit::FAILED, e.to_string())),
                Err(e) => Err(Failure(
                    exit::RESUMABLE,
                    format!("{e} (journal: {})", journal.display()),
                )),
            }
        }
    }
}

/// The key named `shown` on the command line: a listed key whose shown id
/// matches (CartoVista's ids are shown as `fp:…` fingerprints), else the
/// text itself.
async fn key_id(lifecycle: &dyn KeyLifecycle, shown: &str) -> Result<KeyId, Failure> {
    match lifecycle.list().await {
        Ok(keys) => Ok(keys
            .into_iter()
            .map(|k| k.id)
            .find(|id| id.shown() == shown)
            .unwrap_or_else(|| KeyId::new(shown))),
        Err(e) if e.kind == LifecycleErrorKind::Unsupported => Ok(KeyId::new(shown)),
        Err(e) => Err(provider_failed(e)),
    }
}

fn default_journal() -> PathBuf {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("."));
    state.join("apikeys/rotations")
}

/// `APIKEYS_FAULT=<point>` stops the process at that point of a rotation
/// (crash tests); the points are listed by `FaultPoint::ALL`.
fn fault_from_env() -> Result<Option<FaultPoint>, Failure> {
    match std::env::var("APIKEYS_FAULT") {
        Ok(name) => FaultPoint::parse(&name).map(Some).ok_or_else(|| {
            let names: Vec<&str> = FaultPoint::ALL.iter().map(|p| p.name()).collect();
            Failure(
                exit::USAGE,
                format!("APIKEYS_FAULT={name}: not one of {}", names.join(", ")),
            )
        }),
        Err(_) => Ok(None),
    }
}

async fn audit(max_age: Duration, output: Output) -> Result<(), Failure> {
    let now = Utc::now();
    let configured: Vec<Provider> = Provider::ALL
        .into_iter()
        .filter(|p| p.configured())
        .collect();
    if configured.is_empty() {
        return Err(Failure(
            exit::USAGE,
            "no provider is configured (see the README for the variables)".into(),
        ));
    }
    let mut found = Vec::new();
    let mut failed = false;
    for provider in configured {
        let lifecycle = provider.lifecycle()?;
        match lifecycle.list().await {
            Ok(keys) => {
                let old: Vec<KeyInfo> = keys
                    .into_iter()
                    .filter(|k| k.created.is_some_and(|c| now - c > max_age))
                    .collect();
                found.push((lifecycle.provider(), old));
            }
            Err(e) if e.kind == LifecycleErrorKind::Unsupported => {
                eprintln!("{}: cannot be audited ({e})", provider.name());
            }
            Err(e) => {
                eprintln!("{}: {e}", provider.name());
                failed = true;
            }
        }
    }
    print_keys(&found, output);
    let over = found.iter().map(|(_, keys)| keys.len()).sum::<usize>();
    if failed {
        Err(Failure(
            exit::FAILED,
            "some providers could not be listed".into(),
        ))
    } else if over > 0 {
        Err(Failure(
            exit::POLICY,
            format!("{over} key(s) older than the policy"),
        ))
    } else {
        Ok(())
    }
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

fn print_keys(groups: &[(&str, Vec<KeyInfo>)], output: Output) {
    match output {
        Output::Json => {
            let all: Vec<serde_json::Value> = groups
                .iter()
                .flat_map(|(provider, keys)| {
                    keys.iter().map(move |k| {
                        let mut v = serde_json::to_value(k).unwrap_or_default();
                        v["provider"] = (*provider).into();
                        v
                    })
                })
                .collect();
            println!("{}", serde_json::Value::Array(all));
        }
        Output::Table => {
            println!(
                "{:<11} {:<28} {:<30} {:<16} {:<16} {:<16}",
                "PROVIDER", "ID", "NAME", "CREATED", "EXPIRES", "LAST USED"
            );
            for (provider, keys) in groups {
                for k in keys {
                    println!(
                        "{:<11} {:<28} {:<30} {:<16} {:<16} {:<16}",
                        provider,
                        k.id.shown(),
                        k.name.as_deref().unwrap_or("-"),
                        when(k.created),
                        when(k.expires),
                        when(k.last_used)
                    );
                }
            }
        }
    }
}
