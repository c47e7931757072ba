//! The command line as clap reads it: the fixed commands, and one
//! `keys` command per registered provider.

use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::common::Failure;
use crate::{providers, rotate};

/// What `apikeys run --help` says of the policy file.
pub(crate) const POLICY_HELP: &str = "\
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

#[derive(Parser)]
#[command(
    name = "apikeys",
    version,
    about = "Manage and rotate API keys of Sunshine Conversations, FINBOURNE, CartoVista and Finicity",
    subcommand_required = true,
    arg_required_else_help = true
)]
pub(crate) struct Cli {
    /// How results are printed.
    #[arg(long, value_enum, default_value = "table", global = true)]
    pub(crate) output: Output,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    Table,
    Json,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
pub(crate) enum StateCommand {
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
pub(crate) enum KeysCommand {
    /// The provider's keys.
    #[command(subcommand)]
    Keys(Keys),
}

#[derive(Subcommand)]
pub(crate) enum Keys {
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
pub(crate) struct RotateArgs {
    /// Where rotations keep their journals and locks: a folder (one
    /// machine), or a PostgreSQL connection string (`postgres://…`) shared
    /// by runners on several machines (`APIKEYS_JOURNAL`, its older
    /// name, is read too).
    #[arg(long, visible_alias = "journal", env = "APIKEYS_STATE")]
    pub(crate) state: Option<String>,
    /// The start of the new key's name (by default the old key's name, or
    /// `rotated` for a key without one); the rotation's tag follows it.
    #[arg(long)]
    pub(crate) name_prefix: Option<String>,
    /// Revoke the old key even if the provider cannot verify the new one
    /// (Finicity).
    #[arg(long)]
    pub(crate) accept_unverifiable: bool,
    /// How long both keys stay live after the new one verified (`0`:
    /// revoke at once).
    #[arg(long, default_value = "24h", value_parser = rotate::parse_duration)]
    pub(crate) grace: std::time::Duration,
    /// Also wait until the old key has not been used for this long, where
    /// the provider reports last use (CartoVista).
    #[arg(long, value_parser = rotate::parse_duration)]
    pub(crate) wait_idle: Option<std::time::Duration>,
    /// Create the new key to expire this long after its creation, where
    /// the provider takes an expiry (FINBOURNE).
    #[arg(long, value_parser = rotate::parse_duration)]
    pub(crate) new_key_lifetime: Option<std::time::Duration>,
    /// Rotate the key the tool calls with even into a sink it cannot read
    /// back (a command): a rerun after a crash may then need the new
    /// credentials configured by hand.
    #[arg(long)]
    pub(crate) allow_unreadable_sink: bool,
}

impl RotateArgs {
    /// The options of a rotation these flags describe.
    pub(crate) async fn options(self) -> Result<rotate::Options, Failure> {
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
pub(crate) struct SinkArgs {
    /// Where new credentials go: `file:PATH` (written atomically, mode
    /// 0600), `command:PROGRAM [ARGS…]` (credentials on its standard
    /// input), or `stdout` (prints the secret).
    #[arg(long)]
    pub(crate) sink: String,
}

/// The command line: the fixed commands, and one per registered provider.
pub(crate) fn command() -> clap::Command {
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
