//! The JSON encoding of [`State`] inside the sealed file (private DTOs). Byte strings are standard base64,
//! instants RFC 3339. DTO fields holding secrets are zeroized when the DTO is dropped, and the encoded
//! buffer is a zeroizing one.

use std::collections::BTreeMap;

use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, Scope};
use custodian_core::ports::{Credentials, KeyScope};
use custodian_core::tenant::TenantId;
use data_encoding::BASE64;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::{Zeroize, Zeroizing};

use crate::error::KeystoreError;
use crate::state::{Kek, ScopeKeys, SecretEntry, State, Wrapped};

/// The format of the decrypted contents.
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    format: u32,
    generation: u64,
    secrets: Vec<SecretDto>,
    keks: Vec<KekDto>,
    wrapped: Vec<ScopeKeysDto>,
    destroyed_scopes: Vec<ScopeDto>,
    destroyed_tenants: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretDto {
    tenant: String,
    grant: String,
    version: u64,
    created_at: String,
    updated_at: String,
    access_token: String,
    refresh_token: Option<String>,
    access_expires_at: Option<String>,
    refresh_expires_at: Option<String>,
    scopes: Vec<String>,
    accounts: Vec<String>,
}

impl Drop for SecretDto {
    fn drop(&mut self) {
        self.access_token.zeroize();
        self.refresh_token.zeroize();
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KekDto {
    tenant: String,
    version: u32,
    key: String,
    scope_secrets: Vec<ScopeSecretDto>,
}

impl Drop for KekDto {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeSecretDto {
    grant: Option<String>,
    secret: String,
}

impl Drop for ScopeSecretDto {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeKeysDto {
    tenant: String,
    grant: Option<String>,
    current: u32,
    versions: Vec<WrappedDto>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WrappedDto {
    version: u32,
    kek_version: u32,
    nonce: String,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeDto {
    tenant: String,
    grant: Option<String>,
}

fn time_str(t: OffsetDateTime) -> Result<String, KeystoreError> {
    t.format(&Rfc3339).map_err(|_| KeystoreError::Contents("an instant cannot be written as rfc 3339"))
}

fn parse_time(s: &str) -> Result<OffsetDateTime, KeystoreError> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|_| KeystoreError::Contents("an instant is not rfc 3339"))
}

fn tenant(s: &str) -> Result<TenantId, KeystoreError> {
    TenantId::new(s).map_err(|_| KeystoreError::Contents("a tenant id is invalid"))
}

fn grant(s: &str) -> Result<GrantId, KeystoreError> {
    GrantId::new(s).map_err(|_| KeystoreError::Contents("a grant id is invalid"))
}

fn key32(s: &str) -> Result<Zeroizing<[u8; 32]>, KeystoreError> {
    let bytes = Zeroizing::new(BASE64.decode(s.as_bytes()).map_err(|_| KeystoreError::Contents("bad key"))?);
    let mut key = Zeroizing::new([0u8; 32]);
    if bytes.len() != 32 {
        return Err(KeystoreError::Contents("a key is not 32 bytes"));
    }
    key.copy_from_slice(&bytes);
    Ok(key)
}

fn scope_dto(scope: &KeyScope) -> ScopeDto {
    ScopeDto {
        tenant: scope.tenant.as_str().to_owned(),
        grant: scope.grant.as_ref().map(|g| g.as_str().to_owned()),
    }
}

fn scope(dto: &ScopeDto) -> Result<KeyScope, KeystoreError> {
    Ok(KeyScope { tenant: tenant(&dto.tenant)?, grant: dto.grant.as_deref().map(grant).transpose()? })
}

/// Encodes `state` as the file's plaintext.
pub(crate) fn encode(state: &State) -> Result<Zeroizing<Vec<u8>>, KeystoreError> {
    let mut secrets = Vec::with_capacity(state.secrets.len());
    for ((t, g), entry) in &state.secrets {
        let c = &entry.credentials;
        secrets.push(SecretDto {
            tenant: t.as_str().to_owned(),
            grant: g.as_str().to_owned(),
            version: entry.version,
            created_at: time_str(entry.created_at)?,
            updated_at: time_str(entry.updated_at)?,
            access_token: c.access_token.expose_secret().to_owned(),
            refresh_token: c.refresh_token.as_ref().map(|r| r.expose_secret().to_owned()),
            access_expires_at: c.access_expires_at.map(time_str).transpose()?,
            refresh_expires_at: c.refresh_expires_at.map(time_str).transpose()?,
            scopes: c.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            accounts: c.accounts.iter().map(AccountRef::key).collect(),
        });
    }
    let keks = state
        .keks
        .iter()
        .map(|(t, kek)| KekDto {
            tenant: t.as_str().to_owned(),
            version: kek.version,
            key: BASE64.encode(kek.key.as_slice()),
            scope_secrets: kek
                .scope_secrets
                .iter()
                .map(|(g, secret)| ScopeSecretDto {
                    grant: g.as_ref().map(|g| g.as_str().to_owned()),
                    secret: BASE64.encode(secret.as_slice()),
                })
                .collect(),
        })
        .collect();
    let wrapped = state
        .wrapped
        .iter()
        .map(|(scope, keys)| ScopeKeysDto {
            tenant: scope.tenant.as_str().to_owned(),
            grant: scope.grant.as_ref().map(|g| g.as_str().to_owned()),
            current: keys.current,
            versions: keys
                .versions
                .iter()
                .map(|(v, w)| WrappedDto {
                    version: *v,
                    kek_version: w.kek_version,
                    nonce: BASE64.encode(&w.nonce),
                    ciphertext: BASE64.encode(&w.ciphertext),
                })
                .collect(),
        })
        .collect();
    let body = Body {
        format: FORMAT,
        generation: state.generation,
        secrets,
        keks,
        wrapped,
        destroyed_scopes: state.destroyed_scopes.iter().map(scope_dto).collect(),
        destroyed_tenants: state.destroyed_tenants.iter().map(|t| t.as_str().to_owned()).collect(),
    };
    let mut out = Zeroizing::new(Vec::new());
    serde_json::to_writer(&mut *out, &body).map_err(|_| KeystoreError::Contents("cannot be encoded"))?;
    Ok(out)
}

/// Decodes the file's plaintext.
pub(crate) fn decode(plain: &[u8]) -> Result<State, KeystoreError> {
    let body: Body =
        serde_json::from_slice(plain).map_err(|_| KeystoreError::Contents("not a keystore document"))?;
    if body.format != FORMAT {
        return Err(KeystoreError::Contents("unknown contents format"));
    }
    let mut state = State { generation: body.generation, ..State::default() };
    for dto in &body.secrets {
        let scopes = dto
            .scopes
            .iter()
            .map(|s| Scope::new(s.as_str()))
            .collect::<Result<_, _>>()
            .map_err(|_| KeystoreError::Contents("a scope is invalid"))?;
        let accounts = dto
            .accounts
            .iter()
            .map(|a| AccountRef::parse_key(a))
            .collect::<Result<_, _>>()
            .map_err(|_| KeystoreError::Contents("an account reference is invalid"))?;
        let credentials = Credentials {
            access_token: SecretString::from(dto.access_token.as_str()),
            refresh_token: dto.refresh_token.as_deref().map(SecretString::from),
            access_expires_at: dto.access_expires_at.as_deref().map(parse_time).transpose()?,
            refresh_expires_at: dto.refresh_expires_at.as_deref().map(parse_time).transpose()?,
            scopes,
            accounts,
        };
        let entry = SecretEntry {
            credentials,
            version: dto.version,
            created_at: parse_time(&dto.created_at)?,
            updated_at: parse_time(&dto.updated_at)?,
        };
        state.secrets.insert((tenant(&dto.tenant)?, grant(&dto.grant)?), entry);
    }
    for dto in &body.keks {
        let mut scope_secrets = BTreeMap::new();
        for s in &dto.scope_secrets {
            scope_secrets.insert(s.grant.as_deref().map(grant).transpose()?, key32(&s.secret)?);
        }
        state
            .keks
            .insert(tenant(&dto.tenant)?, Kek { version: dto.version, key: key32(&dto.key)?, scope_secrets });
    }
    for dto in &body.wrapped {
        let mut keys = ScopeKeys { current: dto.current, versions: BTreeMap::new() };
        for w in &dto.versions {
            let nonce: [u8; 12] = BASE64
                .decode(w.nonce.as_bytes())
                .ok()
                .and_then(|n| n.try_into().ok())
                .ok_or(KeystoreError::Contents("a wrapped key nonce is invalid"))?;
            let ciphertext = BASE64
                .decode(w.ciphertext.as_bytes())
                .map_err(|_| KeystoreError::Contents("a wrapped key is invalid"))?;
            keys.versions.insert(w.version, Wrapped { kek_version: w.kek_version, nonce, ciphertext });
        }
        let scope = scope(&ScopeDto { tenant: dto.tenant.clone(), grant: dto.grant.clone() })?;
        state.wrapped.insert(scope, keys);
    }
    for dto in &body.destroyed_scopes {
        state.destroyed_scopes.insert(scope(dto)?);
    }
    for t in &body.destroyed_tenants {
        state.destroyed_tenants.insert(tenant(t)?);
    }
    Ok(state)
}
