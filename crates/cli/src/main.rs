//! `apikeys`: list, create, revoke and rotate API keys of several
//! providers, audit their age, and run a rotation policy. See the README
//! for configuration and exit statuses.

mod policy;
mod providers;
mod report;
mod rotate;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use apikeys_lifecycle::{
    CommandSink, CreateRequest, FileSink, KeyId, KeyInfo, KeyLifecycle, LifecycleErrorKind,
    Provider, Settings, Sink, StdoutSink,
};
use chrono::{DateTime, Utc};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

/// Exit statuses, for scripts and schedulers.
mod exit {
    /// A provider call or the sink failed, or the state could not be
    /// opened.
    pub const FAILED: u8 = 1;
    /// Bad usage or configuration (clap uses 2 too); nothing was done.
    pub const USAGE: u8 = 2;
    /// Keys older than the policy, or whose age is unknown.
    pub const POLICY: u8 = 3;
    /// A rotation stopped part-way; rerunning it goes on from its journal.
    pub const RESUMABLE: u8 = 4;
    /// Another run holds a rotation's lock.
    pub const BUSY: u8 = 5;
    /// `revoke` of a key the provider does not list; nothing was revoked.
    pub const NOT_FOUND: u8 = 6;
}

#[derive(Parser)]
#[command(
    name = "apikeys",
    version,
    about = "Manage and rotate API keys of Sunshine Conversations, FINBOURNE, CartoVista and Finicity",
    subcommand_required = true,
    arg_required_else_help = true
)]
struct Cli {
    /// How results are printed.
    #[arg(long, value_enum, default_value = "table", global = true)]
    output: Output,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Table,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Every configured provider's keys older than a policy, or of unknown
    /// age; exits 3 when there are any.
    Audit {
        /// The oldest a key may be: `90d`, `12w`, `36h`.
        #[arg(long, value_parser = rotate::parse_duration)]
        max_age: std::time::Duration,
        /// Where rotations are journaled (the creation time of keys the
        /// provider gives none for): a folder or `postgres://…`.
        #[arg(long, visible_alias = "journal", env = "APIKEYS_STATE")]
        state: Option<String>,
    },
    /// Runs a rotation policy: rotates every key its profiles select that
    /// is past its maximum age, and revokes every old key whose grace has
    /// passed. One line per key, then a summary.
    Run {
        /// The policy file (TOML); see the README.
        #[arg(long)]
        config: PathBuf,
        /// Print what would be done, and do nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Rotation state in a shared database.
    #[command(subcommand)]
    State(StateCommand),
}

/// `apikeys state …`.
#[derive(Subcommand)]
enum StateCommand {
    /// Creates (or migrates) the rotation tables in a PostgreSQL database:
    /// run once by a role that may create tables, so that runners need
    /// only `SELECT, INSERT, UPDATE` on `apikeys_rotations` and `SELECT`
    /// on `apikeys_schema`.
    Init {
        /// The database (`postgres://…`).
        #[arg(long, env = "APIKEYS_STATE")]
        state: String,
    },
}

/// One provider's commands (`apikeys <provider> keys …`).
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
    /// Replaces a key: create, store, verify, keep both live for the grace,
    /// then revoke the old one. Rerun (or `finish`) after an interruption
    /// or once the grace has passed.
    Rotate {
        /// The key to replace.
        old: String,
        #[command(flatten)]
        sink: SinkArgs,
        #[command(flatten)]
        options: RotateArgs,
        /// Say what would be done, and do nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Goes on with a journaled rotation, never starting one: revokes the
    /// old key once its grace has passed.
    Finish {
        /// The key being replaced.
        old: String,
        #[command(flatten)]
        sink: SinkArgs,
        #[command(flatten)]
        options: RotateArgs,
    },
}

#[derive(clap::Args)]
struct RotateArgs {
    /// Where rotations keep their journals and locks: a folder (one
    /// machine), or a PostgreSQL connection string (`postgres://…`) shared
    /// by runners on several machines.
    #[arg(long, visible_alias = "journal", env = "APIKEYS_STATE")]
    state: Option<String>,
    /// The start of the new key's name (by default the old key's name, or
    /// `rotated` for a key without one); the rotation's tag follows it.
    #[arg(long)]
    name_prefix: Option<String>,
    /// Revoke the old key even if the provider cannot verify the new one
    /// (Finicity).
    #[arg(long)]
    accept_unverifiable: bool,
    /// How long both keys stay live after the new one verified (`0`:
    /// revoke at once).
    #[arg(long, default_value = "24h", value_parser = rotate::parse_duration)]
    grace: std::time::Duration,
    /// Also wait until the old key has not been used for this long, where
    /// the provider reports last use (CartoVista).
    #[arg(long, value_parser = rotate::parse_duration)]
    wait_idle: Option<std::time::Duration>,
    /// Create the new key to expire this long after its creation, where
    /// the provider takes an expiry (FINBOURNE).
    #[arg(long, value_parser = rotate::parse_duration)]
    new_key_lifetime: Option<std::time::Duration>,
    /// Rotate the key the tool calls with even into a sink it cannot read
    /// back (a command): a rerun after a crash may then need the new
    /// credentials configured by hand.
    #[arg(long)]
    allow_unreadable_sink: bool,
}

impl RotateArgs {
    async fn options(self) -> Result<rotate::Options, Failure> {
        let spec = rotate::state_spec(self.state);
        Ok(rotate::Options {
            state: rotate::open_state(&spec, Path::new(".")).await?,
            name_prefix: self.name_prefix.unwrap_or_default(),
            accept_unverifiable: self.accept_unverifiable,
            grace: self.grace,
            wait_idle: self.wait_idle,
            new_key_lifetime: self.new_key_lifetime,
            allow_unreadable_sink: self.allow_unreadable_sink,
        })
    }
}

#[derive(clap::Args)]
struct SinkArgs {
    /// Where new credentials go: `file:PATH` (written atomically, mode
    /// 0600), `command:PROGRAM [ARGS…]` (credentials on its standard
    /// input), or `stdout` (prints the secret).
    #[arg(long)]
    sink: String,
}

/// Whether `--sink` names standard output.
fn sink_is_stdout(text: &str) -> bool {
    text == "stdout"
}

/// A sink as `--sink` or a policy file names it.
pub(crate) fn parse_sink(text: &str) -> Result<Box<dyn Sink>, String> {
    if let Some(path) = text.strip_prefix("file:") {
        return Ok(Box::new(FileSink::new(path)));
    }
    if let Some(command) = text.strip_prefix("command:") {
        let mut words = command.split_whitespace().map(str::to_owned);
        let program = words.next().ok_or("sink command: names no program")?;
        return Ok(Box::new(CommandSink::new(program, words.collect())));
    }
    if text == "stdout" {
        return Ok(Box::new(StdoutSink));
    }
    Err(format!(
        "sink `{text}`: write file:PATH, command:PROGRAM [ARGS…] or stdout"
    ))
}

/// A failure and its exit status.
struct Failure(u8, String);

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self(exit::USAGE, message)
    }
}

impl From<(u8, String)> for Failure {
    fn from((code, message): (u8, String)) -> Self {
        Self(code, message)
    }
}

/// The command line: the fixed commands, and one per registered provider.
fn command() -> clap::Command {
    let mut command = Cli::command();
    for provider in providers::PROVIDERS {
        // The settings, as the environment and a policy profile name them.
        let mut settings = String::from("Settings (profile name, environment variable):\n");
        for s in provider.settings {
            let what = match (s.required, s.secret) {
                (true, true) => "required, a credential",
                (true, false) => "required",
                (false, true) => "a credential",
                (false, false) => "optional",
            };
            settings.push_str(&format!(
                "  {:<24} {:<32} {} ({what})\n",
                s.name, s.env, s.about
            ));
        }
        // Set after the subcommands: augmenting would put the keys
        // command's own description in their place.
        command = command.subcommand(
            KeysCommand::augment_subcommands(
                clap::Command::new(provider.name)
                    .subcommand_required(true)
                    .arg_required_else_help(true),
            )
            .about(provider.about)
            .after_help(settings),
        );
    }
    command
}

fn main() -> ExitCode {
    let matches = command().get_matches();
    let output = matches
        .get_one::<Output>("output")
        .copied()
        .unwrap_or(Output::Table);
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
    let provider = matches
        .subcommand()
        .and_then(|(name, sub)| Some((providers::find(name)?, sub)));
    let result = match provider {
        Some((provider, sub)) => match KeysCommand::from_arg_matches(sub) {
            Ok(KeysCommand::Keys(keys)) => {
                runtime.block_on(provider_command(provider, keys, output))
            }
            Err(e) => e.exit(),
        },
        None => match Cli::from_arg_matches(&matches) {
            Ok(cli) => runtime.block_on(run(cli.command, output)),
            Err(e) => e.exit(),
        },
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Failure(code, message)) => {
            eprintln!("apikeys: {message}");
            ExitCode::from(code)
        }
    }
}

async fn run(command: Command, output: Output) -> Result<u8, Failure> {
    match command {
        Command::Audit { max_age, state } => {
            let state = rotate::open_state(&rotate::state_spec(state), Path::new(".")).await?;
            audit(max_age, state.as_ref(), output).await
        }
        Command::Run { config, dry_run } => policy::run(&config, dry_run, output).await,
        Command::State(StateCommand::Init { state }) => {
            if !rotate::is_database(&state) {
                return Err(Failure(
                    exit::USAGE,
                    format!(
                        "`{state}` is not a postgres:// connection string: a folder needs no init"
                    ),
                ));
            }
            let version = apikeys_lifecycle::postgres::PgStore::init(&state)
                .await
                .map_err(rotate::state_failure)?;
            println!("the rotation tables are at schema version {version}");
            Ok(0)
        }
    }
}

fn provider_failed(e: impl std::fmt::Display) -> Failure {
    Failure(exit::FAILED, e.to_string())
}

async fn provider_command(
    provider: &Provider,
    command: Keys,
    output: Output,
) -> Result<u8, Failure> {
    let lifecycle = provider.lifecycle(&Settings::from_env())?;
    let lifecycle = lifecycle.as_ref();
    match command {
        Keys::List => {
            let keys = lifecycle.list().await.map_err(provider_failed)?;
            print_keys(&[(lifecycle.provider(), keys)], output);
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
            rotation_result(label, &old, outcome, was, &options, output, to_stdout)
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
    eprintln!("{old}: {} {}", line.action.word(), line.detail);
    if output == Output::Json {
        let mut report = report::Report::new(output, sink_is_stdout);
        report.add(line);
    }
    Ok(0)
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
    let listed = match lifecycle.list().await {
        Err(e) if e.kind == LifecycleErrorKind::Refused => {
            let rotation = rotate::rotation(lifecycle, sink, options, lifecycle.provider())?;
            match rotation.adopt_stored(shown).await {
                Ok(true) => lifecycle.list().await,
                _ => Err(e),
            }
        }
        listed => listed,
    };
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

pub(crate) fn default_journal() -> PathBuf {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("."));
    state.join("apikeys/rotations")
}

async fn audit(
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
                    match apikeys_lifecycle::lineage::age(&key, &rotations, now) {
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
                eprintln!("{}: {e}", provider.name);
                failed = true;
            }
        }
    }
    print_keys(&found, output);
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

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

fn print_keys(groups: &[(&str, Vec<KeyInfo>)], output: Output) {
    print_keys_to(&mut std::io::stdout().lock(), groups, output);
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

/// [`print_keys`] into `out`; a failed write (a closed pipe) is dropped.
fn print_keys_to(out: &mut dyn std::io::Write, groups: &[(&str, Vec<KeyInfo>)], output: Output) {
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
            let _ = writeln!(out, "{}", serde_json::Value::Array(all));
        }
        Output::Table => {
            let _ = writeln!(
                out,
                "{:<11} {:<28} {:<30} {:<16} {:<16} {:<16}",
                "PROVIDER", "ID", "NAME", "CREATED", "EXPIRES", "LAST USED"
            );
            for (provider, keys) in groups {
                for k in keys {
                    let _ = writeln!(
                        out,
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
