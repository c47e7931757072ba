//! Where a new key's credentials go, the moment they exist.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::Credential;
use crate::journal::write_atomically;

/// A failure to hand credentials over.
#[derive(Debug)]
pub struct SinkError(pub String);

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SinkError {}

/// Somewhere a new secret is stored. A rotation hands the credentials to
/// the sink before it verifies the key or revokes the old one.
pub trait Sink: Send + Sync {
    /// Stores `credential` durably; returns only once it is stored.
    fn store(&self, credential: &Credential) -> Result<(), SinkError>;

    /// Reads back what was stored, where the sink can (a file can; a
    /// command cannot): lets a resumed rotation verify the stored key
    /// instead of replacing it.
    fn load(&self) -> Option<Credential> {
        None
    }

    /// Whether [`Sink::load`] can give stored credentials back: what lets
    /// the tool rotate the key it calls with safely.
    fn readable(&self) -> bool {
        false
    }

    /// What the sink is, for progress lines (never a secret).
    fn describe(&self) -> String;
}

/// A file, written atomically with mode 0600: the credentials as one JSON
/// object (`{"provider": …, "<part>": …}`).
#[derive(Debug, Clone)]
pub struct FileSink {
    path: PathBuf,
}

impl FileSink {
    /// A sink writing `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

impl Sink for FileSink {
    fn store(&self, credential: &Credential) -> Result<(), SinkError> {
        write_atomically(&self.path, credential.to_json().expose().as_bytes(), 0o600)
            .map_err(|e| SinkError(format!("cannot write {}: {e}", self.path.display())))
    }

    fn load(&self) -> Option<Credential> {
        Credential::from_json(&std::fs::read_to_string(&self.path).ok()?)
    }

    fn readable(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
}

/// An external program that receives the credentials (one JSON object) on
/// its standard input, so that `vault kv put secret/app -`, a cloud secret
/// manager's CLI or `kubectl create secret … --from-file=/dev/stdin` work
/// without code of ours. The secret never appears in its arguments or
/// environment. A non-zero exit status is a failure.
#[derive(Debug, Clone)]
pub struct CommandSink {
    program: String,
    args: Vec<String>,
}

impl CommandSink {
    /// Runs `program` with `args`.
    pub fn new(program: impl Into<String>, args: Vec<String>) -> Self {
        Self {
            program: program.into(),
            args,
        }
    }
}

impl Sink for CommandSink {
    fn store(&self, credential: &Credential) -> Result<(), SinkError> {
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| SinkError(format!("cannot run {}: {e}", self.program)))?;
        let written = child
            .stdin
            .take()
            .map(|mut stdin| stdin.write_all(credential.to_json().expose().as_bytes()));
        let status = child
            .wait()
            .map_err(|e| SinkError(format!("{} did not finish: {e}", self.program)))?;
        if !matches!(written, Some(Ok(()))) {
            return Err(SinkError(format!(
                "{} did not read the credentials from its standard input",
                self.program
            )));
        }
        if !status.success() {
            return Err(SinkError(format!(
                "{} failed ({status}): the credentials may not be stored",
                self.program
            )));
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("command {}", self.program)
    }
}

/// Standard output: only when asked for explicitly (`--sink stdout`).
#[derive(Debug, Clone, Default)]
pub struct StdoutSink;

impl Sink for StdoutSink {
    fn store(&self, credential: &Credential) -> Result<(), SinkError> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", credential.to_json().expose())
            .and_then(|()| out.flush())
            .map_err(|e| SinkError(format!("cannot write to standard output: {e}")))
    }

    fn describe(&self) -> String {
        "standard output".into()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::{Credential, KeyId, Secret};

    fn credential() -> Credential {
        Credential::new(
            "test",
            &KeyId::new("k9"),
            vec![("token", Secret::new("s3cr3t-value"))],
        )
    }

    #[test]
    fn a_command_receives_the_credentials_on_stdin_only() {
        let dir = std::env::temp_dir().join(format!("apikeys-sink-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("received.json");
        let script = format!(
            "cat > '{}'; echo \"$@\" > '{}.args'",
            out.display(),
            out.display()
        );
        let sink = CommandSink::new("sh", vec!["-c".into(), script, "sh".into()]);
        sink.store(&credential()).unwrap();
        let received = std::fs::read_to_string(&out).unwrap();
        assert_eq!(Credential::from_json(&received), Some(credential()));
        let args = std::fs::read_to_string(format!("{}.args", out.display())).unwrap();
        assert!(!args.contains("s3cr3t"), "{args}");
        assert!(!sink.describe().contains("s3cr3t"));
    }

    #[test]
    fn a_command_that_fails_is_a_failure() {
        let sink = CommandSink::new("sh", vec!["-c".into(), "cat > /dev/null; exit 3".into()]);
        let err = sink.store(&credential()).unwrap_err();
        assert!(err.to_string().contains("failed"), "{err}");
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        let missing = CommandSink::new("/nonexistent/apikeys-sink", vec![]);
        assert!(missing.store(&credential()).is_err());
    }

    #[test]
    fn a_file_is_replaced_whole_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let path =
            std::env::temp_dir().join(format!("apikeys-file-sink-{}.json", std::process::id()));
        std::fs::write(&path, "an older key").unwrap();
        let sink = FileSink::new(&path);
        sink.store(&credential()).unwrap();
        assert_eq!(sink.load(), Some(credential()));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let debug = format!("{:?}", credential());
        assert!(!debug.contains("s3cr3t"), "{debug}");
    }
}
