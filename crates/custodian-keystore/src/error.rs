//! [`KeystoreError`]: what can go wrong with the keystore file, and its mapping onto the port errors.

use std::io;
use std::path::PathBuf;

use custodian_core::ports::{KeyError, SecretStoreError};

/// An error of the keystore. Messages never contain key material, passphrases or credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeystoreError {
    /// Reading, writing or locking the file failed.
    #[error("cannot {action} keystore file `{path}`")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("keystore file `{0}` does not exist")]
    Missing(PathBuf),
    #[error("keystore file `{0}` already exists")]
    Exists(PathBuf),
    #[error("keystore file `{0}` is in use by another process")]
    InUse(PathBuf),
    /// Group or other users may read or write the file.
    #[error("keystore file `{path}` has mode {mode:04o}: it must be 0600 (readable by its owner only)")]
    Permissions { path: PathBuf, mode: u32 },
    #[error("keystore file is truncated: expected {expected} bytes, found {found}")]
    Truncated { expected: u64, found: u64 },
    #[error("keystore file is malformed: {0}")]
    Format(&'static str),
    /// The master key (or passphrase) is not the one the file was sealed with, or the file header was altered.
    #[error("master key does not match the keystore file (wrong key or passphrase, or an altered header)")]
    WrongMasterKey,
    /// The master key matches but the sealed contents do not authenticate: the file was changed or corrupted.
    #[error("keystore file failed authentication: it was modified or corrupted")]
    Tampered,
    #[error("invalid master key: {0}")]
    MasterKey(&'static str),
    #[error("invalid argon2id parameters: {0}")]
    Argon2(&'static str),
    /// The contents decrypted but do not describe a valid keystore (a bug or a newer format).
    #[error("keystore contents are invalid: {0}")]
    Contents(&'static str),
    #[error("encryption failed")]
    Encrypt,
    /// A write was stopped on purpose (tests simulating a crash).
    #[error("keystore write interrupted")]
    Interrupted,
}

impl KeystoreError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { action, path, source }
    }
}

impl From<KeystoreError> for KeyError {
    fn from(error: KeystoreError) -> Self {
        KeyError::Unavailable(Box::new(error))
    }
}

impl From<KeystoreError> for SecretStoreError {
    fn from(error: KeystoreError) -> Self {
        SecretStoreError::Unavailable(Box::new(error))
    }
}
