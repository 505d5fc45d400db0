//! [`VaultError`]: the client's errors, keeping Vault's evidence (status, error messages, method and path)
//! and never a secret; and their mapping onto the port errors.

use std::time::Duration;

use custodian_core::ports::{KeyError, SecretStoreError};

/// An error of the Vault client. Paths hold hex-encoded ids and Transit key names, never secrets; Vault's
/// own error messages are kept (truncated), response bodies are not.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The address is not usable; it is not quoted, as it might carry credentials.
    #[error("vault address is invalid: {0}")]
    Address(&'static str),
    #[error("vault address scheme `{0}` is not supported: use https")]
    Scheme(String),
    /// `http://` without [`crate::VaultConfig::allow_plain_http_loopback`].
    #[error(
        "plain http to `{0}` refused: use https (plain http is allowed only to loopback, when configured)"
    )]
    PlainHttpNotAllowed(String),
    /// `http://` to an address that is not a literal loopback address.
    #[error("plain http to `{0}` refused: only literal loopback addresses may use plain http")]
    PlainHttpNotLoopback(String),
    #[error("invalid {0}: use path segments of letters, digits, `.`, `_` and `-`")]
    InvalidPath(&'static str),
    #[error("invalid vault configuration: {0}")]
    Config(&'static str),
    #[error("tls configuration failed")]
    Tls(#[source] rustls::Error),
    #[error("cannot build the http client")]
    Client(#[source] reqwest::Error),
    /// Vault answered 503 and says it is sealed.
    #[error("vault is sealed: `{method} {path}` refused")]
    Sealed { method: &'static str, path: String },
    #[error("vault rate limited `{method} {path}`")]
    RateLimited { method: &'static str, path: String, retry_after: Option<Duration> },
    /// Any other unsuccessful status.
    #[error("vault returned {status} for `{method} {path}`: {}", messages(.errors))]
    Status { status: u16, method: &'static str, path: String, errors: Vec<String> },
    #[error("vault request `{method} {path}` timed out")]
    Timeout { method: &'static str, path: String },
    #[error("cannot reach vault for `{method} {path}`")]
    Transport {
        method: &'static str,
        path: String,
        #[source]
        source: reqwest::Error,
    },
    /// The response did not have the expected shape; `at` is the JSON path.
    #[error("vault response to `{method} {path}` is malformed at `{at}`: {detail}")]
    Decode { method: &'static str, path: String, at: String, detail: String },
    /// A check-and-set write found another version.
    #[error("check-and-set conflict writing `{0}`")]
    CasMismatch(String),
    /// Vault refused the AppRole login (unknown role, wrong or used-up secret id).
    #[error("vault refused the approle login")]
    LoginRejected(#[source] Box<VaultError>),
    /// The token expired and cannot be renewed (token auth).
    #[error("vault token expired and cannot be renewed")]
    TokenExpired,
    /// Stored data (a wrapped key record, a data key) is not what this crate writes.
    #[error("invalid data in vault: {0}")]
    Invalid(&'static str),
}

fn messages(errors: &[String]) -> String {
    if errors.is_empty() { "no error message".to_owned() } else { errors.join("; ") }
}

impl VaultError {
    /// The HTTP status Vault answered with, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            VaultError::Status { status, .. } => Some(*status),
            VaultError::Sealed { .. } => Some(503),
            VaultError::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    pub(crate) fn is_denied(&self) -> bool {
        self.status() == Some(403) || matches!(self, VaultError::LoginRejected(_))
    }

    /// Vault's error messages mention that the thing does not exist (Transit answers 400 for those).
    pub(crate) fn is_not_found(&self) -> bool {
        match self {
            VaultError::Status { status: 404, .. } => true,
            VaultError::Status { status: 400, errors, .. } => {
                errors.iter().any(|e| e.contains("not found") || e.contains("no existing key"))
            }
            _ => false,
        }
    }
}

impl From<VaultError> for SecretStoreError {
    fn from(error: VaultError) -> Self {
        if error.is_denied() {
            tracing::warn!(error = %error, "vault denied access");
            SecretStoreError::Denied
        } else {
            SecretStoreError::Unavailable(Box::new(error))
        }
    }
}

impl From<VaultError> for KeyError {
    fn from(error: VaultError) -> Self {
        if error.is_denied() {
            tracing::warn!(error = %error, "vault denied access");
            KeyError::Denied
        } else {
            KeyError::Unavailable(Box::new(error))
        }
    }
}
