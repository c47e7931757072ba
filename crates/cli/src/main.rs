//! `apikeys`: list, create, revoke and rotate API keys of several
//! providers, audit their age, and run a rotation policy. See the README
//! for configuration and exit statuses.

mod audit;
mod keys;
mod policy;
mod providers;
mod report;
mod rotate;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use apikeys_lifecycle::{CommandSink, FileSink, Sink, StdoutSink};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

/// What `apikeys run --help` says of the policy file.
const POLICY_HELP: &str = "\
The policy file (TOML):

  state = \"state\"            # a folder (relative to the file) or postgres://…
  [defaults]                 # rules every profile takes unless it sets its own
  max_age = \"90d\"
  grace = \"1h\"

  [[profile]]
  name = \"lusid\"             # letters, digits, - and _: names its journals
  provider = \"finbourne\"     # sunshine, finbourne, cartovista, finicity
  select = \"svc-*\"           # keys by name (* and ?), or keys = [\"id\", …]
  sink = \"file:keys/lusid-{key}.json\"   # {key}: the first key of the lineage
  settings = { identity_url = \"https://…\", access_token = { env = \"LUSID_TOKEN\" } }

Rules (in a profile or [defaults]): max_age, grace, wait_idle,
new_key_lifetime, accept_unverifiable, allow_unreadable_sink, unknown_age
(report | rotate), name_prefix, sink. Settings take the names
`apikeys <provider> --help` lists; a credential is given as { env = \"VAR\" }
or { file = \"PATH\" }, never as text.

Before its first change a run reads every profile's journals and keys, and
refuses the whole run (exit 2, nothing changed) for any mistake found: an
unknown rule or setting, a setting the provider cannot honour, a profile
that selects no key, two keys whose credentials would share a sink.

Each key gets one line: fresh, rotated, resumed, overlapping, finished,
in-progress, age-unknown, stopped or failed (would-rotate, would-finish
with --dry-run). Exit: 0 all fine, 1 failed, 2 refused, 3 age unknown,
4 stopped part-way (rerun goes on).";

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
        /// provider gives none for): a folder or `postgres://…`
        /// (`APIKEYS_JOURNAL`, its older name, is read too).
        #[arg(long, visible_alias = "journal", env = "APIKEYS_STATE")]
        state: Option<String>,
    },
    /// Runs a rotation policy: rotates every key its profiles select that
    /// is past its maximum age, and revokes every old key whose grace has
    /// passed. One line per key, then a summary.
    #[command(after_long_help = POLICY_HELP)]
    Run {
        /// The policy file (TOML); `--help` describes it.
        #[arg(long)]
        config: PathBuf,
        /// Print what would be done, and do nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Rotation state in a shared database.
    #[command(subcommand)]
    State(StateCommand),
    /// Prints a completion script for a shell, to be sourced or installed
    /// (`apikeys completions bash > /etc/bash_completion.d/apikeys`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Prints the manual page, in roff (`apikeys man > apikeys.1`).
    Man,
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
    /// by runners on several machines (`APIKEYS_JOURNAL`, its older
    /// name, is read too).
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
                runtime.block_on(keys::provider_command(provider, keys, output))
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

async fn run(which: Command, output: Output) -> Result<u8, Failure> {
    match which {
        Command::Audit { max_age, state } => {
            let state = rotate::open_state(&rotate::state_spec(state), Path::new(".")).await?;
            audit::audit(max_age, state.as_ref(), output).await
        }
        // Rendered in memory, then written: a closed pipe ends the output
        // quietly instead of failing inside the generator.
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command(), "apikeys", &mut script);
            let _ = std::io::Write::write_all(&mut std::io::stdout(), &script);
            Ok(0)
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command())
                .render(&mut page)
                .map_err(|e| Failure(exit::FAILED, e.to_string()))?;
            let _ = std::io::Write::write_all(&mut std::io::stdout(), &page);
            Ok(0)
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

/// Where rotation state lives when nothing names it:
/// `$XDG_STATE_HOME/apikeys/rotations` (or under `~/.local/state`).
pub(crate) fn default_journal() -> PathBuf {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("."));
    state.join("apikeys/rotations")
}
