//! Custodian's secrets and keys on HashiCorp Vault or OpenBao: [`VaultSecretStore`] (the `SecretStore` port
//! on KV v2, SEC-1) and [`VaultKeyManager`] (the `KeyManager` port on Transit, ENC-1, ENC-2, RET-3), over a
//! thin typed client of the Vault HTTP API ([`VaultClient`]).
//!
//! # Transport (TLS-1)
//! `https` addresses use rustls with TLS 1.2 and 1.3 only (enforced in the rustls configuration built here,
//! with the ring provider), trusting the platform's roots or only the CA certificates configured. Plain
//! `http` is refused unless [`VaultConfig::allow_plain_http_loopback`] is set, and even then only to a
//! literal loopback address. Redirects are not followed. The token header is marked sensitive.
//!
//! # Layout in Vault
//! Under the KV v2 mount [`VaultConfig::kv_mount`], below [`VaultConfig::kv_prefix`], with tenant and grant
//! ids hex-encoded so any id is a safe path segment:
//! - `credentials/<tenant>/<grant>`: one grant's credentials; check-and-set writes; delete removes the
//!   metadata and every version.
//! - `keys/<tenant>/<scope>`: a scope's wrapped data keys (`vault:vN:…` ciphertexts, one per data key
//!   version) and its current version; `<scope>` is `tenant` or `grant-<grant>`.
//! - `shredded/<tenant>/<scope>` and `shredded/<tenant>/all-scopes`: tombstones of destroyed scopes and
//!   tenants, so a destroyed key is never silently re-created.
//!
//! Each scope has its own Transit key, `<transit_key_prefix>-<tenant hash>-<scope hash>` (128-bit
//! SHA-256 prefixes), created with deletion disabled. Data keys come from `datakey/wrapped` and are
//! unwrapped with `decrypt` on first use, then cached for [`VaultConfig::key_cache_ttl`] (a sync of any
//! number of orders costs O(1) Transit calls). KEK rotation (ENC-2) rotates each scope's Transit key,
//! `rewrap`s the stored wrapped keys (no data is decrypted), raises `min_decryption_version` and trims
//! the old key versions, so earlier copies of the wrapped keys stop working.
//!
//! # Crypto-shredding (RET-3)
//! `destroy` writes the tombstone, allows deletion of the scope's Transit key and deletes it, then deletes
//! the KV record. From then on no copy of the wrapped keys (a database or KV backup) can be decrypted by
//! anyone: the only key that could decrypt them is gone from Vault. (A snapshot of Vault's own storage taken
//! before the purge still holds the Transit key; Vault snapshots need the same retention as the data.)
//!
//! # Failures
//! Every failure fails closed: 5xx, 429, timeouts, a sealed Vault (503) and malformed responses are
//! `Unavailable` errors and nothing further is written. Idempotent requests are retried a bounded number of
//! times with exponential backoff and jitter (`retry::classify`); writes are not retried.
//!
//! # Not zeroized
//! Request and response bodies pass through reqwest and hyper buffers that are freed without zeroizing;
//! this crate's own copies (encoded bodies, decoded tokens and data keys) are zeroized.

mod adapter;
mod api;
mod cache;
mod client;
mod config;
mod convert;
mod error;
mod paths;
mod policy;
mod retry;
mod tls;
mod wire;

pub use adapter::{VaultKeyManager, VaultSecretStore};
pub use client::{CallCounts, Health, VaultClient};
pub use config::{TlsRoots, VaultAuth, VaultConfig};
pub use error::VaultError;
