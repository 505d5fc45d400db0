//! The scripted signal format: an HMAC-SHA256 signature header over a tiny `key=value;…` body.
//!
//! Body: `kind=<deauthorized|deletion|expiring|challenge>;id=<notification id>` plus optional
//! `account=<AccountRef key>` or `owner=<owner id>`, `confirmation=<code>` (deletion), `expires=<unix
//! seconds>` (expiring), `response=<text>` (challenge, required). The header [`SIGNATURE_HEADER`] holds the
//! lowercase hex HMAC-SHA256 of the exact body bytes under the script's signal secret.

use custodian_core::grant::OwnerId;
use custodian_core::platform::{AccountRef, Platform};
use custodian_core::ports::{RawSignal, SignalError, SignalKind, SignalSubject, VerifiedSignal};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use time::OffsetDateTime;

use super::ScriptedPlatform;
use crate::fakes::lock;

/// The header carrying the signature (lowercase, as [`RawSignal::headers`] are).
pub const SIGNATURE_HEADER: &str = "x-scripted-signature";

fn mac(secret: &SecretString) -> Result<Hmac<Sha256>, SignalError> {
    Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()).map_err(|_| SignalError::BadSignature)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| std::str::from_utf8(pair).ok().and_then(|p| u8::from_str_radix(p, 16).ok()))
        .collect()
}

fn malformed(why: &str) -> SignalError {
    SignalError::Malformed(why.to_owned())
}

pub(super) fn verify(
    platform: Platform,
    secret: &SecretString,
    raw: &RawSignal,
) -> Result<VerifiedSignal, SignalError> {
    let signature = raw
        .headers
        .iter()
        .find(|(name, _)| name == SIGNATURE_HEADER)
        .and_then(|(_, value)| unhex(value.trim()))
        .ok_or(SignalError::BadSignature)?;
    let mut mac = mac(secret)?;
    mac.update(&raw.body);
    mac.verify_slice(&signature).map_err(|_| SignalError::BadSignature)?;

    let body = std::str::from_utf8(&raw.body).map_err(|_| malformed("the body is not utf-8"))?;
    let mut fields = Vec::new();
    for pair in body.split(';').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').ok_or_else(|| malformed("a field has no `=`"))?;
        fields.push((key, value));
    }
    let field = |key: &str| fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let id = field("id").filter(|id| !id.is_empty()).ok_or_else(|| malformed("the id is missing"))?;
    let kind = match field("kind") {
        Some("deauthorized") => SignalKind::Deauthorized,
        Some("deletion") => {
            SignalKind::DeletionRequested { confirmation: field("confirmation").map(str::to_owned) }
        }
        Some("expiring") => SignalKind::ExpiringSoon {
            expires_at: match field("expires") {
                None => None,
                Some(raw) => Some(
                    raw.parse::<i64>()
                        .ok()
                        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
                        .ok_or_else(|| malformed("the expiry is not unix seconds"))?,
                ),
            },
        },
        Some("challenge") => SignalKind::Challenge {
            response: field("response")
                .ok_or_else(|| malformed("the challenge response is missing"))?
                .to_owned(),
        },
        _ => return Err(malformed("unknown kind")),
    };
    let subject = match (field("account"), field("owner")) {
        (Some(key), _) => {
            let account = AccountRef::parse_key(key).map_err(|e| SignalError::Malformed(e.to_string()))?;
            if account.platform() != platform {
                return Err(malformed("the account is on another platform"));
            }
            Some(SignalSubject::Account(account))
        }
        (None, Some(owner)) => Some(SignalSubject::Owner(
            OwnerId::new(owner).map_err(|e| SignalError::Malformed(e.to_string()))?,
        )),
        (None, None) => None,
    };
    Ok(VerifiedSignal { platform, id: id.to_owned(), kind, subject })
}

impl ScriptedPlatform {
    /// A signal with `body` as the platform would send it: `POST /signals/<platform>`, signed with the
    /// script's secret.
    pub fn signed_signal(&self, body: &str, received_at: OffsetDateTime) -> RawSignal {
        let state = lock(&self.state);
        let signature = mac(&state.script.signal_secret)
            .map(|mut mac| {
                mac.update(body.as_bytes());
                hex(&mac.finalize().into_bytes())
            })
            .unwrap_or_default();
        RawSignal {
            method: "POST".to_owned(),
            path: format!("/signals/{}", state.script.platform.as_str()),
            query: Vec::new(),
            headers: vec![(SIGNATURE_HEADER.to_owned(), signature)],
            body: body.as_bytes().to_vec(),
            received_at,
        }
    }
}
