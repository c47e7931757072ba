//! What every command shares: exit statuses, a failure and its status,
//! sinks as a user names them, and where state lives by default.

use std::path::PathBuf;

use apikeys_lifecycle::{CommandSink, FileSink, Sink, StdoutSink};

/// Exit statuses, for scripts and schedulers.
pub(crate) mod exit {
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
pub(crate) struct Failure(pub(crate) u8, pub(crate) String);

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

/// Where rotation state lives when nothing names it:
/// `$XDG_STATE_HOME/apikeys/rotations` (or under `~/.local/state`).
pub(crate) fn default_journal() -> PathBuf {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("."));
    state.join("apikeys/rotations")
}
