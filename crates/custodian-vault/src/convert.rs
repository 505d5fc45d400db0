//! Wire ↔ domain: credentials as stored in KV, and KV metadata as [`SecretMeta`].

use custodian_core::platform::{AccountRef, Scope};
use custodian_core::ports::{Credentials, SecretMeta};
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::VaultError;
use crate::wire::{CredentialsDto, CredentialsOut, KvMetadata};

/// The format of stored credentials.
const CREDENTIALS_FORMAT: u32 = 1;

fn time_str(t: OffsetDateTime) -> Result<String, VaultError> {
    t.format(&Rfc3339).map_err(|_| VaultError::Invalid("an instant cannot be written as rfc 3339"))
}

fn parse_time(s: &str) -> Result<OffsetDateTime, VaultError> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|_| VaultError::Invalid("an instant is not rfc 3339"))
}

/// The KV form of `credentials`, borrowing its secrets (call only where the request body is built).
pub(crate) fn credentials_out(credentials: &Credentials) -> Result<CredentialsOut<'_>, VaultError> {
    Ok(CredentialsOut {
        format: CREDENTIALS_FORMAT,
        access_token: credentials.access_token.expose_secret(),
        refresh_token: credentials.refresh_token.as_ref().map(|t| t.expose_secret()),
        access_expires_at: credentials.access_expires_at.map(time_str).transpose()?,
        refresh_expires_at: credentials.refresh_expires_at.map(time_str).transpose()?,
        scopes: credentials.scopes.iter().map(Scope::as_str).collect(),
        accounts: credentials.accounts.iter().map(AccountRef::key).collect(),
    })
}

/// Credentials from their KV form.
pub(crate) fn credentials(dto: &CredentialsDto) -> Result<Credentials, VaultError> {
    if dto.format != CREDENTIALS_FORMAT {
        return Err(VaultError::Invalid("stored credentials have an unknown format"));
    }
    let scopes = dto
        .scopes
        .iter()
        .map(|s| Scope::new(s.as_str()))
        .collect::<Result<_, _>>()
        .map_err(|_| VaultError::Invalid("a stored scope is invalid"))?;
    let accounts = dto
        .accounts
        .iter()
        .map(|a| AccountRef::parse_key(a))
        .collect::<Result<_, _>>()
        .map_err(|_| VaultError::Invalid("a stored account reference is invalid"))?;
    Ok(Credentials {
        access_token: SecretString::from(dto.access_token.as_str()),
        refresh_token: dto.refresh_token.as_deref().map(SecretString::from),
        access_expires_at: dto.access_expires_at.as_deref().map(parse_time).transpose()?,
        refresh_expires_at: dto.refresh_expires_at.as_deref().map(parse_time).transpose()?,
        scopes,
        accounts,
    })
}

/// KV metadata as secret metadata.
pub(crate) fn meta(metadata: &KvMetadata) -> Result<SecretMeta, VaultError> {
    Ok(SecretMeta {
        version: metadata.current_version,
        created_at: parse_time(&metadata.created_time)?,
        updated_at: parse_time(&metadata.updated_time)?,
    })
}
