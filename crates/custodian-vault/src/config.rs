//! [`VaultConfig`]: where Vault is, how to authenticate, which mounts and prefixes to use, timeouts and the
//! data key cache. Credentials are `SecretString`s; `Debug` never shows them.

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;

use crate::error::VaultError;

/// How the client authenticates.
pub enum VaultAuth {
    /// A token, used as is. If Vault reports it renewable with a TTL, it is renewed before it expires.
    Token(SecretString),
    /// AppRole login at `auth/<mount>/login`; the resulting token is renewed before it expires, and a new
    /// login happens when renewal is no longer possible.
    AppRole { mount: String, role_id: SecretString, secret_id: SecretString },
}

impl fmt::Debug for VaultAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VaultAuth::Token(_) => f.write_str("Token([REDACTED])"),
            VaultAuth::AppRole { mount, .. } => f
                .debug_struct("AppRole")
                .field("mount", mount)
                .field("role_id", &"[REDACTED]")
                .field("secret_id", &"[REDACTED]")
                .finish(),
        }
    }
}

/// Which certificate authorities an `https` Vault address is verified against.
#[derive(Clone, PartialEq, Eq)]
pub enum TlsRoots {
    /// The platform's trust store (rustls-platform-verifier).
    Platform,
    /// Only these CA certificates (PEM), e.g. the internal CA that issued Vault's certificate.
    Pem(Vec<u8>),
}

impl fmt::Debug for TlsRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsRoots::Platform => f.write_str("Platform"),
            TlsRoots::Pem(pem) => write!(f, "Pem({} bytes)", pem.len()),
        }
    }
}

/// Configuration of a [`crate::VaultClient`]. Start from [`VaultConfig::new`] and adjust fields.
#[derive(Debug)]
pub struct VaultConfig {
    /// Base address, e.g. `https://vault.internal:8200` (no `/v1`).
    pub address: String,
    pub auth: VaultAuth,
    /// Allows `http://` to a literal loopback address (tests, local development). Off by default.
    pub allow_plain_http_loopback: bool,
    pub tls_roots: TlsRoots,
    /// The KV v2 mount (default `secret`).
    pub kv_mount: String,
    /// The path below the KV mount that holds everything of Custodian (default `custodian`).
    pub kv_prefix: String,
    /// The Transit mount (default `transit`).
    pub transit_mount: String,
    /// The prefix of Custodian's Transit key names (default `custodian`).
    pub transit_key_prefix: String,
    /// TCP and TLS connect timeout (default 5 s).
    pub connect_timeout: Duration,
    /// Whole-request timeout (default 10 s).
    pub request_timeout: Duration,
    /// Attempts per idempotent request, the first included (default 3); writes are sent once.
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt, with jitter (default 100 ms).
    pub retry_base_delay: Duration,
    /// How long an unwrapped data key stays cached (default 5 minutes; zero disables the cache).
    pub key_cache_ttl: Duration,
    /// The most data keys cached at once (default 10,000).
    pub key_cache_capacity: usize,
}

impl VaultConfig {
    /// A configuration with the defaults above.
    pub fn new(address: impl Into<String>, auth: VaultAuth) -> Self {
        Self {
            address: address.into(),
            auth,
            allow_plain_http_loopback: false,
            tls_roots: TlsRoots::Platform,
            kv_mount: "secret".to_owned(),
            kv_prefix: "custodian".to_owned(),
            transit_mount: "transit".to_owned(),
            transit_key_prefix: "custodian".to_owned(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            max_attempts: 3,
            retry_base_delay: Duration::from_millis(100),
            key_cache_ttl: Duration::from_secs(300),
            key_cache_capacity: 10_000,
        }
    }

    /// Checks mounts and prefixes: path segments of `[A-Za-z0-9._-]` (a mount or prefix may have several,
    /// joined by `/`), no empty, `.` or `..` segment; the Transit key prefix is a single segment.
    pub(crate) fn validate(&self) -> Result<(), VaultError> {
        check_path("kv mount", &self.kv_mount)?;
        check_path("kv prefix", &self.kv_prefix)?;
        check_path("transit mount", &self.transit_mount)?;
        check_path("transit key prefix", &self.transit_key_prefix)?;
        if self.transit_key_prefix.contains('/') {
            return Err(VaultError::Config("transit key prefix must be a single path segment"));
        }
        if let VaultAuth::AppRole { mount, .. } = &self.auth {
            check_path("approle mount", mount)?;
        }
        if self.max_attempts == 0 {
            return Err(VaultError::Config("max attempts must be at least 1"));
        }
        Ok(())
    }
}

fn check_path(what: &'static str, path: &str) -> Result<(), VaultError> {
    let ok = !path.is_empty()
        && path.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        });
    if ok { Ok(()) } else { Err(VaultError::InvalidPath(what)) }
}
