//! Private serde DTOs of the Vault HTTP API and of what this crate stores in KV. Fields that hold secrets
//! are zeroized when the DTO is dropped; outgoing DTOs borrow secrets only while the body is encoded.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

/// Vault's response envelope.
#[derive(Deserialize)]
pub(crate) struct Envelope<T> {
    pub(crate) data: Option<T>,
}

/// Vault's response envelope of a login or renewal.
#[derive(Deserialize)]
pub(crate) struct AuthEnvelope {
    pub(crate) auth: Option<AuthDto>,
}

#[derive(Deserialize)]
pub(crate) struct AuthDto {
    pub(crate) client_token: String,
    pub(crate) lease_duration: u64,
    pub(crate) renewable: bool,
}

impl Drop for AuthDto {
    fn drop(&mut self) {
        self.client_token.zeroize();
    }
}

/// `auth/token/lookup-self` (the response also holds the token as `id`; it is not read).
#[derive(Deserialize)]
pub(crate) struct LookupDto {
    pub(crate) ttl: u64,
    pub(crate) renewable: bool,
}

#[derive(Serialize)]
pub(crate) struct AppRoleLogin<'a> {
    pub(crate) role_id: &'a str,
    pub(crate) secret_id: &'a str,
}

/// `{"errors": [...]}`.
#[derive(Deserialize, Default)]
pub(crate) struct ErrorsDto {
    #[serde(default)]
    pub(crate) errors: Vec<String>,
}

#[derive(Deserialize)]
pub(crate) struct HealthDto {
    pub(crate) initialized: bool,
    pub(crate) sealed: bool,
    pub(crate) standby: bool,
    #[serde(default)]
    pub(crate) version: String,
}

/// A LIST response.
#[derive(Deserialize)]
pub(crate) struct ListDto {
    pub(crate) keys: Vec<String>,
}

// ---- KV v2 ----

#[derive(Serialize)]
pub(crate) struct KvWrite<'a, T> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) options: Option<KvOptions>,
    pub(crate) data: &'a T,
}

#[derive(Serialize)]
pub(crate) struct KvOptions {
    pub(crate) cas: u64,
}

#[derive(Deserialize)]
pub(crate) struct KvWritten {
    pub(crate) version: u64,
}

#[derive(Deserialize)]
pub(crate) struct KvRead<T> {
    pub(crate) data: Option<T>,
    pub(crate) metadata: KvVersionMeta,
}

#[derive(Deserialize)]
pub(crate) struct KvVersionMeta {
    pub(crate) version: u64,
    #[serde(default)]
    pub(crate) deletion_time: String,
    #[serde(default)]
    pub(crate) destroyed: bool,
}

#[derive(Deserialize)]
pub(crate) struct KvMetadata {
    pub(crate) current_version: u64,
    pub(crate) created_time: String,
    pub(crate) updated_time: String,
}

/// Credentials as stored in KV (format 1). Read side: secrets zeroized on drop.
#[derive(Deserialize)]
pub(crate) struct CredentialsDto {
    pub(crate) format: u32,
    pub(crate) access_token: String,
    pub(crate) refresh_token: Option<String>,
    pub(crate) access_expires_at: Option<String>,
    pub(crate) refresh_expires_at: Option<String>,
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
    #[serde(default)]
    pub(crate) accounts: Vec<String>,
}

impl Drop for CredentialsDto {
    fn drop(&mut self) {
        self.access_token.zeroize();
        self.refresh_token.zeroize();
    }
}

/// Credentials as stored in KV (format 1). Write side: borrows the exposed secrets.
#[derive(Serialize)]
pub(crate) struct CredentialsOut<'a> {
    pub(crate) format: u32,
    pub(crate) access_token: &'a str,
    pub(crate) refresh_token: Option<&'a str>,
    pub(crate) access_expires_at: Option<String>,
    pub(crate) refresh_expires_at: Option<String>,
    pub(crate) scopes: Vec<&'a str>,
    pub(crate) accounts: Vec<String>,
}

/// A scope's wrapped data keys as stored in KV (format 1): `vault:vN:…` ciphertexts by data key version.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub(crate) struct ScopeRecord {
    pub(crate) format: u32,
    pub(crate) transit_key: String,
    pub(crate) current: u32,
    pub(crate) versions: BTreeMap<u32, String>,
}

/// A tombstone of a destroyed scope or tenant (no secrets).
#[derive(Serialize, Deserialize)]
pub(crate) struct Tombstone {
    pub(crate) format: u32,
}

// ---- Transit ----

#[derive(Serialize)]
pub(crate) struct CreateKey {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) exportable: bool,
    pub(crate) allow_plaintext_backup: bool,
}

#[derive(Serialize, Default)]
pub(crate) struct KeyConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) deletion_allowed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) min_decryption_version: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) min_encryption_version: Option<u32>,
}

#[derive(Serialize)]
pub(crate) struct Trim {
    pub(crate) min_available_version: u32,
}

#[derive(Deserialize)]
pub(crate) struct KeyInfo {
    pub(crate) latest_version: u32,
}

#[derive(Serialize)]
pub(crate) struct DatakeyRequest {
    pub(crate) bits: u32,
}

#[derive(Deserialize)]
pub(crate) struct CiphertextDto {
    pub(crate) ciphertext: String,
}

#[derive(Serialize)]
pub(crate) struct DecryptRequest<'a> {
    pub(crate) ciphertext: &'a str,
}

/// The base64 plaintext of a decrypted data key: zeroized on drop.
#[derive(Deserialize)]
pub(crate) struct PlaintextDto {
    pub(crate) plaintext: String,
}

impl Drop for PlaintextDto {
    fn drop(&mut self) {
        self.plaintext.zeroize();
    }
}

#[derive(Serialize)]
pub(crate) struct RewrapRequest<'a> {
    pub(crate) batch_input: Vec<DecryptRequest<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct RewrapResponse {
    pub(crate) batch_results: Vec<RewrapResult>,
}

#[derive(Deserialize)]
pub(crate) struct RewrapResult {
    #[serde(default)]
    pub(crate) ciphertext: String,
    #[serde(default)]
    pub(crate) error: String,
}
