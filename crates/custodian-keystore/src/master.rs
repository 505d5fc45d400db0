//! [`MasterKey`]: what seals the keystore file. Either 32 random bytes from the caller, or a passphrase
//! stretched with Argon2id; both become, through HMAC-SHA256, the file key and a key check value.

use std::fmt;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::KeyInit;
use argon2::{Algorithm, Argon2, Params, Version};
use data_encoding::BASE64;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::KeystoreError;

/// The shortest accepted passphrase, in characters.
pub(crate) const MIN_PASSPHRASE_CHARS: usize = 12;

/// The key that seals the keystore file. `Debug` shows only which kind it is.
pub struct MasterKey {
    source: Source,
}

enum Source {
    Key(Zeroizing<[u8; 32]>),
    Passphrase(SecretString),
}

impl MasterKey {
    /// A master key of 32 random bytes.
    pub fn from_bytes(bytes: Zeroizing<[u8; 32]>) -> Self {
        Self { source: Source::Key(bytes) }
    }

    /// A master key given as standard base64 of 32 bytes (surrounding whitespace ignored): the form an
    /// operator puts in the environment, e.g. from `head -c 32 /dev/urandom | base64`.
    pub fn from_base64(encoded: &SecretString) -> Result<Self, KeystoreError> {
        let decoded = Zeroizing::new(
            BASE64
                .decode(encoded.expose_secret().trim().as_bytes())
                .map_err(|_| KeystoreError::MasterKey("not valid base64"))?,
        );
        let mut key = Zeroizing::new([0u8; 32]);
        if decoded.len() != key.len() {
            return Err(KeystoreError::MasterKey("must decode to exactly 32 bytes"));
        }
        key.copy_from_slice(&decoded);
        Ok(Self::from_bytes(key))
    }

    /// A master key derived from a passphrase of at least 12 characters with Argon2id.
    pub fn from_passphrase(passphrase: SecretString) -> Result<Self, KeystoreError> {
        if passphrase.expose_secret().chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(KeystoreError::MasterKey("a passphrase needs at least 12 characters"));
        }
        Ok(Self { source: Source::Passphrase(passphrase) })
    }

    pub(crate) fn is_passphrase(&self) -> bool {
        matches!(self.source, Source::Passphrase(_))
    }

    /// The file keys for a file whose header names `kdf`.
    pub(crate) fn derive(&self, kdf: &Kdf) -> Result<FileKeys, KeystoreError> {
        let mut root = Zeroizing::new([0u8; 32]);
        match (&self.source, kdf) {
            (Source::Key(key), Kdf::Raw) => root.copy_from_slice(key.as_slice()),
            (Source::Passphrase(passphrase), Kdf::Argon2id { params, salt }) => {
                params.check()?;
                let params = Params::new(params.memory_kib, params.iterations, params.parallelism, Some(32))
                    .map_err(|_| KeystoreError::Argon2("rejected by argon2"))?;
                Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                    .hash_password_into(passphrase.expose_secret().as_bytes(), salt, root.as_mut_slice())
                    .map_err(|_| KeystoreError::Argon2("key derivation failed"))?;
            }
            (Source::Key(_), Kdf::Argon2id { .. }) => {
                return Err(KeystoreError::MasterKey(
                    "the keystore file is sealed with a passphrase, not a key",
                ));
            }
            (Source::Passphrase(_), Kdf::Raw) => {
                return Err(KeystoreError::MasterKey(
                    "the keystore file is sealed with a key, not a passphrase",
                ));
            }
        }
        let file_key = hmac(root.as_slice(), b"custodian-keystore.file-key.v1")?;
        let check = hmac(root.as_slice(), b"custodian-keystore.key-check.v1")?;
        let mut key_check = [0u8; 16];
        key_check.copy_from_slice(check.get(..16).ok_or(KeystoreError::Encrypt)?);
        let cipher = Aes256Gcm::new_from_slice(file_key.as_slice()).map_err(|_| KeystoreError::Encrypt)?;
        Ok(FileKeys { cipher, key_check })
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.source {
            Source::Key(_) => "key",
            Source::Passphrase(_) => "passphrase",
        };
        f.debug_struct("MasterKey").field("kind", &kind).finish_non_exhaustive()
    }
}

fn hmac(key: &[u8], label: &[u8]) -> Result<Zeroizing<[u8; 32]>, KeystoreError> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| KeystoreError::Encrypt)?;
    mac.update(label);
    Ok(Zeroizing::new(mac.finalize().into_bytes().into()))
}

/// Argon2id cost parameters for passphrase-sealed files, stored in the file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB.
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Argon2Params {
    /// The most memory a header may ask for (1 GiB), so a doctored header cannot exhaust memory.
    pub const MAX_MEMORY_KIB: u32 = 1 << 20;
    /// The most iterations a header may ask for.
    pub const MAX_ITERATIONS: u32 = 64;
    /// The most lanes a header may ask for.
    pub const MAX_PARALLELISM: u32 = 16;

    pub(crate) fn check(&self) -> Result<(), KeystoreError> {
        if self.memory_kib > Self::MAX_MEMORY_KIB {
            return Err(KeystoreError::Argon2("memory above 1 GiB"));
        }
        if self.iterations == 0 || self.iterations > Self::MAX_ITERATIONS {
            return Err(KeystoreError::Argon2("iterations must be 1 to 64"));
        }
        if self.parallelism == 0 || self.parallelism > Self::MAX_PARALLELISM {
            return Err(KeystoreError::Argon2("parallelism must be 1 to 16"));
        }
        if self.memory_kib < 8 * self.parallelism {
            return Err(KeystoreError::Argon2("memory below 8 KiB per lane"));
        }
        Ok(())
    }
}

impl Default for Argon2Params {
    /// 64 MiB, 3 iterations, 1 lane (above OWASP's minimum for Argon2id).
    fn default() -> Self {
        Self { memory_kib: 64 * 1024, iterations: 3, parallelism: 1 }
    }
}

/// How the file key is derived from the master key (recorded in the file header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kdf {
    Raw,
    Argon2id { params: Argon2Params, salt: [u8; 16] },
}

/// The keys derived from the master key for one file.
pub(crate) struct FileKeys {
    pub(crate) cipher: Aes256Gcm,
    /// Lets a wrong master key be told apart from a tampered file.
    pub(crate) key_check: [u8; 16],
}

impl fmt::Debug for FileKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileKeys").finish_non_exhaustive()
    }
}
