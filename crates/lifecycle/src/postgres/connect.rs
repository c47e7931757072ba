//! How the state database is reached: the connection string read as libpq
//! reads it (`sslmode`, `sslrootcert`), TLS through rustls, every step
//! bounded by a timeout, and errors that carry the server's reason.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config};

use crate::state::StateError;

/// The longest a connection (TCP, TLS and the startup) may take unless the
/// connection string's `connect_timeout` says otherwise.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest any one statement may take, on the client; the server's
/// `statement_timeout` is set a little shorter, so that it usually answers
/// first, with its reason.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(15);
/// How often a held lock's session proves to the server that its runner
/// is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(3);
/// How long the server keeps a lock's session that has said nothing:
/// the bound on how long a holder whose node or network went silent keeps
/// others out (`idle_session_timeout`, PostgreSQL 14 and later).
pub const SILENT_SESSION: Duration = Duration::from_secs(12);

/// The session settings every connection starts with.
const SESSION_SETTINGS: &str = "SET statement_timeout = '12s'; SET lock_timeout = '10s'";

/// Settings that end a session whose peer vanished, on the server's side:
/// TCP keepalives and user timeout (PostgreSQL 12 and later), and the
/// end of a session silent for [`SILENT_SESSION`] (14 and later). Each one
/// an older server does not know is left out.
fn liveness_settings() -> [String; 5] {
    [
        "SET tcp_keepalives_idle = 10".into(),
        "SET tcp_keepalives_interval = 5".into(),
        "SET tcp_keepalives_count = 3".into(),
        "SET tcp_user_timeout = 20000".into(),
        format!("SET idle_session_timeout = {}", SILENT_SESSION.as_millis()),
    ]
}

/// How much TLS a connection asks for: libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain text only.
    Disable,
    /// TLS when the server offers it, unverified; plain text otherwise,
    /// but only to this machine.
    Prefer,
    /// TLS, the certificate unverified (verified as `verify-ca` when
    /// `sslrootcert` is given, as libpq does).
    Require,
    /// TLS, the certificate chained to a trusted root; any host name.
    VerifyCa,
    /// TLS, the certificate chained to a trusted root and naming the host.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "disable" => Self::Disable,
            "prefer" | "allow" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            _ => return None,
        })
    }

    /// Its name in a connection string.
    pub fn name(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }
}

/// A connection string, read.
pub(crate) struct Target {
    pub config: Config,
    pub ssl: SslMode,
    pub root_cert: Option<PathBuf>,
}

fn config_error(why: impl std::fmt::Display) -> StateError {
    StateError::Config(format!(
        "the state database's connection string: {why}; nothing was tried"
    ))
}

/// Splits `text` (a URL's query, or a key/value string) into its TLS
/// settings and the rest, which tokio-postgres reads.
fn take_tls_settings(text: &str) -> Result<(String, Option<String>, Option<String>), StateError> {
    let mut mode = None;
    let mut root = None;
    if let Some((base, query)) = text
        .split_once('?')
        .filter(|_| text.starts_with("postgres://") || text.starts_with("postgresql://"))
    {
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "sslmode" => mode = Some(percent_decode(value)?),
                "sslrootcert" => root = Some(percent_decode(value)?),
                _ => kept.push(pair),
            }
        }
        let rest = match kept.is_empty() {
            true => base.to_owned(),
            false => format!("{base}?{}", kept.join("&")),
        };
        return Ok((rest, mode, root));
    }
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        return Ok((text.to_owned(), None, None));
    }
    let mut kept = Vec::new();
    for (key, value) in key_values(text)? {
        match key.as_str() {
            "sslmode" => mode = Some(value),
            "sslrootcert" => root = Some(value),
            _ => kept.push(format!(
                "{key}='{}'",
                value.replace('\\', "\\\\").replace('\'', "\\'")
            )),
        }
    }
    Ok((kept.join(" "), mode, root))
}

/// `%XX` escapes of a URL's query value.
fn percent_decode(value: &str) -> Result<String, StateError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| config_error("a `%` not followed by two hex digits"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| config_error("a value that is not UTF-8"))
}

/// The `key = value` pairs of a libpq key/value string; values may be
/// single-quoted, with `\'` and `\\` inside.
fn key_values(text: &str) -> Result<Vec<(String, String)>, StateError> {
    let mut pairs = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(pairs);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(config_error(format!("`{key}` has no `=` and value")));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => {
                        return Err(config_error(format!("the value of `{key}` is not closed")));
                    }
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                value.push(c);
            }
        }
        pairs.push((key, value));
    }
}

impl Target {
    /// Reads a connection string (a `postgres://` URL or libpq's key/value
    /// form). A malformed one, or an `sslmode` libpq does not know, is a
    /// [`StateError::Config`].
    pub fn parse(text: &str) -> Result<Self, StateError> {
        let (rest, mode, root) = take_tls_settings(text)?;
        let mut config: Config = rest.parse().map_err(|e: tokio_postgres::Error| {
            config_error(match std::error::Error::source(&e) {
                Some(cause) => format!("{e}: {cause}"),
                None => e.to_string(),
            })
        })?;
        let hosts = config.get_hosts();
        let local = !hosts.is_empty()
            && hosts.iter().all(|h| match h {
                Host::Tcp(name) => apikeys_runtime::is_loopback_host(name),
                #[cfg(unix)]
                Host::Unix(_) => true,
            })
            && config.get_hostaddrs().iter().all(|a| match a {
                std::net::IpAddr::V4(v4) => v4.is_loopback(),
                std::net::IpAddr::V6(v6) => {
                    v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
                }
            });
        let ssl = match mode.as_deref() {
            None if local => SslMode::Prefer,
            None => SslMode::VerifyFull,
            Some(value) => SslMode::parse(value).ok_or_else(|| {
                config_error(format!(
                    "sslmode `{value}` is not one of disable, prefer, require, verify-ca, verify-full"
                ))
            })?,
        };
        let ssl = match (ssl, &root) {
            (SslMode::Require, Some(_)) => SslMode::VerifyCa,
            (ssl, _) => ssl,
        };
        let unix_only = hosts.iter().all(|h| !matches!(h, Host::Tcp(_)));
        config.ssl_mode(match ssl {
            // TLS is not spoken over a Unix socket (libpq ignores sslmode
            // there too).
            _ if unix_only => tokio_postgres::config::SslMode::Disable,
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            // Plain text only to this machine: `prefer` to another host
            // insists on TLS.
            SslMode::Prefer if local => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });
        // The client's side of noticing a peer that vanished.
        config
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(10))
            .keepalives_interval(Duration::from_secs(5))
            .keepalives_retries(3)
            .tcp_user_timeout(Duration::from_secs(20));
        Ok(Self {
            config,
            ssl,
            root_cert: root.map(PathBuf::from),
        })
    }

    /// The TLS connector this target's `sslmode` asks for.
    fn tls(&self) -> Result<tokio_postgres_rustls::MakeRustlsConnect, StateError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| StateError::Unavailable(format!("TLS: {e}")))?;
        let verifier: Arc<dyn ServerCertVerifier> = match self.ssl {
            SslMode::Disable | SslMode::Prefer | SslMode::Require => Arc::new(Relaxed {
                chain: None,
                provider,
            }),
            SslMode::VerifyCa | SslMode::VerifyFull => {
                let roots = Arc::new(self.roots()?);
                let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
                    roots,
                    provider.clone(),
                )
                .build()
                .map_err(|e| StateError::Config(format!("the trusted roots: {e}")))?;
                match self.ssl {
                    SslMode::VerifyCa => Arc::new(Relaxed {
                        chain: Some(webpki),
                        provider,
                    }),
                    _ => webpki,
                }
            }
        };
        let config = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
    }

    /// The roots a certificate must chain to: `sslrootcert`, else the
    /// system's.
    fn roots(&self) -> Result<rustls::RootCertStore, StateError> {
        let mut store = rustls::RootCertStore::empty();
        match &self.root_cert {
            Some(path) => {
                let certs = CertificateDer::pem_file_iter(path)
                    .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| {
                        StateError::Config(format!(
                            "sslrootcert {}: cannot read certificates from it ({e}); nothing was tried",
                            path.display()
                        ))
                    })?;
                if certs.is_empty() {
                    return Err(StateError::Config(format!(
                        "sslrootcert {} holds no certificate; nothing was tried",
                        path.display()
                    )));
                }
                for cert in certs {
                    store.add(cert).map_err(|e| {
                        StateError::Config(format!("sslrootcert {}: {e}", path.display()))
                    })?;
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                store.add_parsable_certificates(found.certs);
                if store.is_empty() {
                    return Err(StateError::Config(format!(
                        "sslmode={} needs trusted roots: give sslrootcert=<file>, or install the system's CA certificates; nothing was tried",
                        self.ssl.name()
                    )));
                }
            }
        }
        Ok(store)
    }

    /// Connects, TLS and startup included, within the connection string's
    /// `connect_timeout` (else [`CONNECT_TIMEOUT`]); the connection then
    /// runs on the current tokio runtime, and the session's timeouts and
    /// keepalives are set.
    pub async fn connect(&self, describe: &str) -> Result<Client, StateError> {
        let bound = self
            .config
            .get_connect_timeout()
            .copied()
            .unwrap_or(CONNECT_TIMEOUT);
        let failed = |why: String| {
            StateError::Unavailable(format!(
                "the state database: cannot connect to {describe}: {why}"
            ))
        };
        let tls = self.tls()?;
        let connected = tokio::time::timeout(bound, self.config.connect(tls))
            .await
            .map_err(|_| failed(format!("no answer within {} s", bound.as_secs_f32())))?;
        let (client, connection) = connected.map_err(|e| failed(self.explain_connect(&e)))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        bounded(
            "setting the session's timeouts",
            client.batch_execute(SESSION_SETTINGS),
        )
        .await?;
        // All at once; where that fails (an older server), one by one,
        // keeping those the server knows.
        let liveness = liveness_settings();
        let all = liveness.join("; ");
        if bounded("setting keepalives", client.batch_execute(&all))
            .await
            .is_err()
        {
            for setting in &liveness {
                let _ = bounded("setting keepalives", client.batch_execute(setting)).await;
            }
        }
        Ok(client)
    }

    /// A connection error, with advice where the cause is TLS.
    fn explain_connect(&self, e: &tokio_postgres::Error) -> String {
        let why = explain(e);
        if why.contains("server does not support TLS") {
            return format!(
                "{why} (sslmode={}: the server offers no TLS; plain text is allowed only to this machine or with sslmode=disable)",
                self.ssl.name()
            );
        }
        if why.contains("TLS") || why.contains("certificate") {
            return format!("{why} (sslmode={})", self.ssl.name());
        }
        why
    }
}

/// What went wrong, as the server or the connection says: a server error
/// gives its message and SQLSTATE; anything else, its chain of causes.
/// Never a password: neither carries one.
pub(crate) fn explain(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut text = format!("{} (SQLSTATE {})", db.message(), db.code().code());
        if let Some(detail) = db.detail() {
            text.push_str(&format!("; {detail}"));
        }
        if let Some(hint) = db.hint() {
            text.push_str(&format!("; hint: {hint}"));
        }
        return text;
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}

/// Runs one statement within [`QUERY_TIMEOUT`]: the server's answer,
/// or an error when there was none in time.
pub(crate) async fn within<T>(
    query: impl Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<Result<T, tokio_postgres::Error>, StateError> {
    tokio::time::timeout(QUERY_TIMEOUT, query)
        .await
        .map_err(|_| {
            StateError::Unavailable(format!(
                "the state database: no answer within {} s",
                QUERY_TIMEOUT.as_secs()
            ))
        })
}

/// Runs one statement within [`QUERY_TIMEOUT`]; `what` names it in the
/// error.
pub(crate) async fn bounded<T>(
    what: &str,
    query: impl Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, StateError> {
    match tokio::time::timeout(QUERY_TIMEOUT, query).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(StateError::Unavailable(format!(
            "the state database: {what}: {}",
            explain(&e)
        ))),
        Err(_) => Err(StateError::Unavailable(format!(
            "the state database: {what}: no answer within {} s",
            QUERY_TIMEOUT.as_secs()
        ))),
    }
}

/// The checks of `require`, `prefer` and `verify-ca`: the handshake's
/// signatures always; with `chain`, that the certificate chains to a
/// trusted root (`verify-ca`), whatever name it carries; without, nothing
/// more (libpq's meaning of `require` without a root).
#[derive(Debug)]
struct Relaxed {
    chain: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Relaxed {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(text: &str) -> SslMode {
        Target::parse(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .ssl
    }

    #[test]
    fn plain_text_only_to_this_machine_unless_asked() {
        // This machine, in the spellings a user types: prefer.
        for local in [
            "postgres://u@localhost/db",
            "postgres://u@LOCALHOST./db",
            "postgres://u@127.0.0.1:5432/db",
            "postgres://u@127.9.8.7/db",
            "postgres://u@[::1]/db",
            "postgres://u@[::ffff:127.0.0.1]/db",
            "host=/run/postgresql dbname=x",
            "host=localhost dbname=x",
        ] {
            assert_eq!(mode(local), SslMode::Prefer, "{local}");
        }
        // Any other host: verified TLS.
        for remote in [
            "postgres://u@db.example.com/db",
            "postgres://u@10.1.2.3/db",
            "postgres://u@localhost.example.com/db",
            "postgres://u@[2001:db8::1]/db",
            "host=db.internal dbname=x",
            "host=localhost,db.internal dbname=x",
        ] {
            assert_eq!(mode(remote), SslMode::VerifyFull, "{remote}");
        }
        // Said explicitly, every mode is honoured; `require` with a root
        // verifies the chain, as libpq does.
        assert_eq!(mode("postgres://h/db?sslmode=disable"), SslMode::Disable);
        assert_eq!(mode("postgres://h/db?sslmode=require"), SslMode::Require);
        assert_eq!(
            mode("postgres://h/db?sslmode=require&sslrootcert=/ca.pem"),
            SslMode::VerifyCa
        );
        assert_eq!(mode("host=h sslmode=verify-ca dbname=x"), SslMode::VerifyCa);
        assert_eq!(
            mode("host=h sslmode='verify-full' sslrootcert='/a b.pem'"),
            SslMode::VerifyFull
        );
        let t = Target::parse("postgres://h/db?sslrootcert=%2Ftmp%2Fca.pem&application_name=x")
            .unwrap();
        assert_eq!(t.root_cert, Some(PathBuf::from("/tmp/ca.pem")));
        assert_eq!(t.config.get_application_name(), Some("x"));
    }

    #[test]
    fn a_malformed_string_is_a_configuration_error_without_the_password() {
        for bad in [
            "postgres://u:hunter2@h/db?sslmode=sometimes",
            "postgres://u:hunter2@h:notaport/db",
            "host=h password=hunter2 sslmode",
            "host=h password='hunter2",
            "postgres://u:hunter2@h/db?sslrootcert=%zz",
        ] {
            match Target::parse(bad) {
                Err(StateError::Config(why)) => assert!(!why.contains("hunter2"), "{bad}: {why}"),
                Err(other) => panic!("{bad}: not a configuration error: {other}"),
                Ok(_) => panic!("{bad}: accepted"),
            }
        }
    }
}
