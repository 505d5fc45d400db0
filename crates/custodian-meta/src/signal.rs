//! Meta's deauthorize and data-deletion callbacks (ads-apis.md §1.5): a form POST with one field,
//! `signed_request=<signature>.<payload>`, verified exactly as Meta's reference `parse_signed_request`:
//!
//! 1. split once at the first `.` into the signature and the payload segment (a second `.` is refused);
//! 2. the signature must be base64url (padding tolerated) of 32 bytes;
//! 3. HMAC-SHA256 under the app secret is computed over the payload segment **exactly as received** (its
//!    `=` padding, if any, is part of the MAC input) and compared in constant time;
//! 4. only then is the payload decoded (base64url, padding tolerated) and parsed: `algorithm` must be
//!    `HMAC-SHA256` (case-insensitive), `user_id` a string or a number, `issued_at` a number.
//!
//! Any signature problem is [`SignalError::BadSignature`]; nothing of an unverified payload is trusted.
//! Which callback it is comes from the path it arrived at (the two URLs registered in the App Dashboard).

use custodian_core::grant::OwnerId;
use custodian_core::platform::Platform;
use custodian_core::ports::{RawSignal, SignalError, SignalKind, SignalSubject, VerifiedSignal};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime};

use crate::wire::Id;

/// How far in the future `issued_at` may be (clock skew).
const MAX_FUTURE_SKEW: Duration = Duration::minutes(5);

/// The verified payload of a signed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignedPayload {
    pub(crate) user_id: String,
    pub(crate) issued_at: i64,
    /// The raw signature bytes (to derive a confirmation code from).
    pub(crate) signature: Vec<u8>,
}

#[derive(Deserialize)]
struct PayloadWire {
    algorithm: Option<String>,
    user_id: Option<Id>,
    issued_at: Option<i64>,
}

/// base64url with or without `=` padding.
fn base64url(text: &str) -> Option<Vec<u8>> {
    data_encoding::BASE64URL_NOPAD.decode(text.trim_end_matches('=').as_bytes()).ok()
}

/// Verifies a `signed_request` value under `app_secret` and returns its payload (steps 1–4 above).
pub(crate) fn parse_signed_request(
    app_secret: &SecretString,
    signed: &str,
) -> Result<SignedPayload, SignalError> {
    let (encoded_signature, payload) = signed.split_once('.').ok_or(SignalError::BadSignature)?;
    if payload.contains('.') || payload.is_empty() {
        return Err(SignalError::BadSignature);
    }
    let signature = base64url(encoded_signature).ok_or(SignalError::BadSignature)?;
    if signature.len() != 32 {
        return Err(SignalError::BadSignature);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.expose_secret().as_bytes())
        .map_err(|_| SignalError::BadSignature)?;
    mac.update(payload.as_bytes());
    mac.verify_slice(&signature).map_err(|_| SignalError::BadSignature)?;

    let json = base64url(payload)
        .ok_or_else(|| SignalError::Malformed("the payload is not base64url".to_owned()))?;
    let wire: PayloadWire = serde_json::from_slice(&json)
        .map_err(|_| SignalError::Malformed("the payload is not the documented json".to_owned()))?;
    if !wire.algorithm.as_deref().is_some_and(|a| a.eq_ignore_ascii_case("HMAC-SHA256")) {
        return Err(SignalError::BadSignature);
    }
    let user_id =
        wire.user_id.ok_or_else(|| SignalError::Malformed("the payload has no user_id".to_owned()))?;
    let issued_at =
        wire.issued_at.ok_or_else(|| SignalError::Malformed("the payload has no issued_at".to_owned()))?;
    Ok(SignedPayload { user_id: user_id.0, issued_at, signature })
}

/// The confirmation code answered to a data-deletion request: 20 hex characters derived from the request's
/// signature (deterministic, so a replay gets the same code; unguessable without the app secret).
pub(crate) fn confirmation_code(signature: &[u8]) -> String {
    let digest =
        Sha256::new().chain_update(b"custodian.meta.data-deletion\0").chain_update(signature).finalize();
    data_encoding::HEXLOWER.encode(digest.get(..10).unwrap_or_default())
}

/// What the verifier needs.
pub(crate) struct SignalSettings<'a> {
    pub(crate) app_secret: &'a SecretString,
    pub(crate) deauthorize_path: &'a str,
    pub(crate) data_deletion_path: &'a str,
    pub(crate) max_age: std::time::Duration,
}

/// Verifies a callback as received and says what it asks for (AUTH-6).
pub(crate) fn verify(settings: &SignalSettings<'_>, raw: &RawSignal) -> Result<VerifiedSignal, SignalError> {
    let deletion = if raw.path == settings.data_deletion_path {
        true
    } else if raw.path == settings.deauthorize_path {
        false
    } else {
        return Err(SignalError::Malformed("the signal arrived at an unknown path".to_owned()));
    };
    if !raw.method.eq_ignore_ascii_case("POST") {
        return Err(SignalError::Malformed("meta callbacks are posted".to_owned()));
    }
    let mut values = url::form_urlencoded::parse(&raw.body).filter(|(k, _)| k == "signed_request");
    let signed = values.next().ok_or(SignalError::BadSignature)?.1;
    if values.next().is_some() {
        return Err(SignalError::BadSignature);
    }
    let payload = parse_signed_request(settings.app_secret, &signed)?;

    let issued = OffsetDateTime::from_unix_timestamp(payload.issued_at).map_err(|_| SignalError::Stale)?;
    let max_age = Duration::try_from(settings.max_age).unwrap_or(Duration::days(1));
    if issued < raw.received_at - max_age || issued > raw.received_at + MAX_FUTURE_SKEW {
        return Err(SignalError::Stale);
    }
    let owner = OwnerId::new(payload.user_id.clone()).map_err(|e| SignalError::Malformed(e.to_string()))?;
    let (label, kind) = if deletion {
        (
            "data-deletion",
            SignalKind::DeletionRequested { confirmation: Some(confirmation_code(&payload.signature)) },
        )
    } else {
        ("deauthorize", SignalKind::Deauthorized)
    };
    Ok(VerifiedSignal {
        platform: Platform::Meta,
        id: format!("meta:{label}:{}:{}", payload.user_id, payload.issued_at),
        kind,
        subject: Some(SignalSubject::Owner(owner)),
    })
}

/// The JSON a data-deletion callback answers (§1.5, M12): `{"url": "<status url>", "confirmation_code":
/// "<code>"}`.
pub fn data_deletion_answer(status_url: &str, confirmation_code: &str) -> String {
    serde_json::json!({ "url": status_url, "confirmation_code": confirmation_code }).to_string()
}

#[cfg(test)]
mod tests;
