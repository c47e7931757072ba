//! `apikeys`: list, create, revoke and rotate API keys of several
//! providers, audit their age, and run a rotation policy. See the README
//! for configuration and exit statuses.

mod args;
mod audit;
mod common;
mod keys;
mod policy;
mod providers;
mod report;
mod rotate;

use std::path::Path;
use std::process::ExitCode;

use clap::FromArgMatches;

use args::{Cli, Command, KeysCommand, Output, StateCommand, command};
use common::{Failure, exit};

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
