//! The embedded default for secrets and keys: [`Keystore`] implements the `SecretStore` (SEC-1) and
//! `KeyManager` (ENC-1, ENC-2, RET-3) ports on one sealed local file.
//!
//! # The file
//! One file, sealed with AES-256-GCM under a key derived from the [`MasterKey`]: 32 random bytes the caller
//! hands over (the server decodes them from its environment; this crate reads no environment variables), or
//! a passphrase stretched with Argon2id (the salt and cost parameters are in the file header). The header is
//! authenticated too, so any change to the file, and any truncation, is a clear [`KeystoreError`]. Every
//! change is written atomically: a temporary file in the same directory (mode 0600), `fsync`, `rename` over
//! the old file, `fsync` of the directory. A crash at any point leaves either the old or the new file, never a
//! mix; stray temporary files are removed at the next open. An exclusive lock on `<file>.lock` keeps a second
//! process from opening the same keystore.
//!
//! # Keys (ADR 0002)
//! Each tenant has a key-encryption key (KEK); each [`KeyScope`](custodian_core::ports::KeyScope) has its own
//! random wrapping secret. A scope's data keys are stored wrapped with AES-256-GCM under
//! `HMAC-SHA256(KEK, scope secret)`, bound to the tenant, grant, data key version and KEK version.
//! [`destroy`](custodian_core::ports::KeyManager::destroy) deletes the scope's wrapped keys and its wrapping
//! secret; [`destroy_tenant`](custodian_core::ports::KeyManager::destroy_tenant) also the KEK. Wrapped key
//! material restored from an earlier copy of the file afterwards cannot be unwrapped (RET-3). An old copy of
//! the *whole* file is, like any key backup, as good as the keys it holds for as long as its master key
//! exists: after a purge, [`Keystore::rekey`] re-seals the file under a new master key so that copies
//! sealed under the old one become useless once it is discarded.
//!
//! In memory the keystore holds only the sealed file and the key derived from the master key: every
//! operation decrypts what it needs and drops it (zeroized). Unwrapped data keys are cached for a bounded
//! time ([`KeystoreOptions::key_cache_ttl`]) so sealing stays fast, and are zeroized when evicted.

mod cache;
mod error;
mod file;
mod keys;
mod keystore;
mod master;
mod secrets;
mod state;
mod wire;

pub use error::KeystoreError;
pub use keystore::{Keystore, KeystoreOptions, KeystoreStats};
pub use master::{Argon2Params, MasterKey};
