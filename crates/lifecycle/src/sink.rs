//! Where a new key's credentials go, the moment they exist.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::Credential;
use crate::journal::{Lock, write_atomically};

/// What [`Sink::fence`] returns: while held, no other run commits a
/// write to the sink.
pub struct SinkFence(#[allow(dead_code)] Option<Lock>);

impl SinkFence {
    /// A sink with nothing to fence (a command, standard output).
    pub fn none() -> Self {
        Self(None)
    }
}

/// Credentials written where the sink will take them from, not yet in
/// place ([`Sink::stage`]); dropping it without committing leaves the sink
/// as it was.
pub trait Staged: Send {
    /// Puts the credentials in place.
    fn commit(self: Box<Self>) -> Result<(), SinkError>;
}

/// A staged store of a sink that stores in one step.
struct Deferred<'a, S: ?Sized> {
    sink: &'a S,
    credential: Credential,
}

impl<S: Sink + ?Sized> Staged for Deferred<'_, S> {
    fn commit(self: Box<Self>) -> Result<(), SinkError> {
        self.sink.store(&self.credential)
    }
}

/// A file written beside its target, renamed over it on commit.
struct StagedFile {
    tmp: PathBuf,
    path: PathBuf,
}

impl Staged for StagedFile {
    fn commit(self: Box<Self>) -> Result<(), SinkError> {
        let done = std::fs::rename(&self.tmp, &self.path);
        if let Some(dir) = self.path.parent()
            && let Ok(d) = std::fs::File::open(dir)
        {
            let _ = d.sync_all();
        }
        done.map_err(|e| SinkError(format!("cannot write {}: {e}", self.path.display())))
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// How long a writer waits for another's commit to end (a rename: only a
/// writer paused in the middle of one makes it wait).
const FENCE_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

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

    /// Prepares a store of `credential` that [`Staged::commit`] finishes:
    /// what lets a rotation prove it still holds its lock between the two.
    /// By default the whole store happens on commit.
    fn stage<'a>(&'a self, credential: &Credential) -> Result<Box<dyn Staged + 'a>, SinkError> {
        Ok(Box::new(Deferred {
            sink: self,
            credential: credential.clone(),
        }))
    }

    /// Excludes other runs' commits while held, waiting (boundedly) for one
    /// in progress to end. A rotation commits under it after proving its
    /// lock, and takes it once when it takes a rotation over: a runner
    /// that lost its lock then either committed before (and its key is
    /// what the sink holds) or finds out before it commits.
    fn fence(&self) -> Result<SinkFence, SinkError> {
        Ok(SinkFence::none())
    }
}

/// A fresh temporary name beside `path`.
fn staging_path(path: &std::path::Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("sink");
    path.with_file_name(format!(
        ".{name}.{}.{:08x}.tmp",
        std::process::id(),
        fastrand::u32(..)
    ))
}

/// Writes `bytes` to the new file `path` (mode 0600) and syncs it.
fn write_new(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
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

    /// A temporary file beside the target, mode 0600, synced.
    fn stage<'a>(&'a self, credential: &Credential) -> Result<Box<dyn Staged + 'a>, SinkError> {
        let failed =
            |e: std::io::Error| SinkError(format!("cannot write {}: {e}", self.path.display()));
        let tmp = staging_path(&self.path);
        write_new(&tmp, credential.to_json().expose().as_bytes()).map_err(failed)?;
        Ok(Box::new(StagedFile {
            tmp,
            path: self.path.clone(),
        }))
    }

    /// An `flock` on `.<name>.lock` beside the file (the kernel releases
    /// it when its holder dies), waited for at most 20 s (`FENCE_WAIT`).
    fn fence(&self) -> Result<SinkFence, SinkError> {
        let name = self
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("sink");
        let path = self.path.with_file_name(format!(".{name}.lock"));
        let start = std::time::Instant::now();
        loop {
            let file = Lock::open(&path).map_err(SinkError)?;
            match Lock::take(file, &path) {
                Ok(lock) => return Ok(SinkFence(Some(lock))),
                Err(why) if start.elapsed() >= FENCE_WAIT => {
                    return Err(SinkError(format!(
                        "the sink {}: {why} (waited {} s for its write to end)",
                        self.path.display(),
                        FENCE_WAIT.as_secs()
                    )));
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        }
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
