//! The server's own use cases: what `custodian_core::service` does not offer yet (people, sessions, API
//! keys, tenants, contacts, the audit trail), written as wiring over the ports in the same shape as core's:
//! authorize through `decide` and audit the decision ([`crate::guard::authorize`]), then act through one
//! store call that commits its audit events with the change (AUD-2). They may move into core later.
//!
//! Shared here: input parsing (ids, roles, permissions), and sealing TOTP secrets with the system key.

pub(crate) mod audit;
pub(crate) mod personnel;
pub(crate) mod tenants;

use std::collections::BTreeSet;

use custodian_core::audit::system_tenant;
use custodian_core::data::{ContactDetails, SealContext, Sealed, open, seal};
use custodian_core::personnel::totp::TotpSecret;
use custodian_core::personnel::{Permission, PersonId, Role};
use custodian_core::ports::KeyScope;
use custodian_core::service::Deps;
use custodian_core::tenant::TenantId;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroize;

use crate::error::AppError;

/// The record kind TOTP secrets are sealed under (bound into the ciphertext with the person id).
const TOTP_SEAL_KIND: &str = "totp";

/// The issuer shown by authenticator apps.
pub(crate) const TOTP_ISSUER: &str = "Custodian";

/// A person's id is their email address, trimmed and lowercased (it is what they log in with). Anything
/// the id rules refuse (whitespace, non-ASCII, over 128 bytes) or without an `@` is not an email here.
pub(crate) fn person_id_from_email(email: &str) -> Result<PersonId, AppError> {
    let normalized = email.trim().to_ascii_lowercase();
    let valid_shape = normalized
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
    if !valid_shape {
        return Err(AppError::invalid("`email` must be an email address"));
    }
    PersonId::new(normalized).map_err(|e| AppError::invalid(format!("`email`: {e}")))
}

/// Parses role names.
pub(crate) fn parse_roles(raw: &[String]) -> Result<BTreeSet<Role>, AppError> {
    raw.iter().map(|r| r.parse::<Role>().map_err(|e| AppError::invalid(format!("`roles`: {e}")))).collect()
}

/// Parses permission names.
pub(crate) fn parse_permissions(raw: &[String]) -> Result<BTreeSet<Permission>, AppError> {
    raw.iter()
        .map(|p| p.parse::<Permission>().map_err(|e| AppError::invalid(format!("`permissions`: {e}"))))
        .collect()
}

/// Parses tenant ids.
pub(crate) fn parse_tenants(raw: &[String]) -> Result<BTreeSet<TenantId>, AppError> {
    raw.iter()
        .map(|t| TenantId::new(t.as_str()).map_err(|e| AppError::invalid(format!("`tenants`: {e}"))))
        .collect()
}

/// Checks a short display text: 1 to `max` characters after trimming, no control characters.
pub(crate) fn display_text(field: &str, raw: &str, max: usize) -> Result<String, AppError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(AppError::invalid(format!("`{field}` is empty")));
    }
    if text.chars().count() > max {
        return Err(AppError::invalid(format!("`{field}` is longer than {max} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(AppError::invalid(format!("`{field}` contains a control character")));
    }
    Ok(text.to_owned())
}

/// The sealable form of a TOTP secret: its base32 text in the one payload type core lets other crates
/// seal. (Core's `SealPayload` cannot be implemented outside core: its `Encoder` and `Decoder` are not
/// exported, so the server borrows `ContactDetails`; the seal context's record kind `totp` and the person
/// id keep it apart from real contacts.)
fn totp_payload(secret: &TotpSecret) -> ContactDetails {
    ContactDetails { name: secret.to_base32().expose_secret().to_owned(), email: None, phone: None }
}

fn totp_context(person: &PersonId) -> SealContext {
    SealContext::new(&system_tenant(), TOTP_SEAL_KIND, person.as_str())
}

/// Seals `secret` for `person` with the system key (the credential record never holds it in clear).
pub(crate) async fn seal_totp(
    deps: &Deps,
    person: &PersonId,
    secret: &TotpSecret,
) -> Result<Vec<u8>, AppError> {
    let key = deps
        .keys
        .current_key(&KeyScope::tenant(&system_tenant()))
        .await
        .map_err(|e| AppError::unavailable("key manager", e.to_string()))?;
    let mut payload = totp_payload(secret);
    let sealed = seal(&key, &totp_context(person), &payload, deps.rng.as_ref());
    payload.zeroize();
    let sealed = sealed.map_err(|e| AppError::internal(format!("sealing a totp secret failed: {e}")))?;
    Ok(sealed.to_bytes())
}

/// Opens a sealed TOTP secret of `person`.
pub(crate) async fn open_totp(deps: &Deps, person: &PersonId, bytes: &[u8]) -> Result<TotpSecret, AppError> {
    let sealed: Sealed<ContactDetails> =
        Sealed::from_bytes(bytes).map_err(|e| AppError::internal(format!("stored totp secret: {e}")))?;
    let key = deps
        .keys
        .key(&KeyScope::tenant(&system_tenant()), sealed.key_version())
        .await
        .map_err(|e| AppError::unavailable("key manager", e.to_string()))?;
    let mut payload = open(&key, &totp_context(person), &sealed)
        .map_err(|e| AppError::internal(format!("opening a totp secret failed: {e}")))?;
    let secret = TotpSecret::from_base32(&SecretString::from(std::mem::take(&mut payload.name)));
    payload.zeroize();
    secret.map_err(|e| AppError::internal(format!("stored totp secret: {e}")))
}

/// 16 random bytes for an Argon2id salt.
pub(crate) fn salt(deps: &Deps) -> [u8; 16] {
    let mut salt = [0u8; 16];
    deps.rng.fill(&mut salt);
    salt
}

#[cfg(test)]
mod tests;
