//! Marketplace Account Deletion and authorization revocation signals (reference §3.3): the endpoint
//! challenge, `X-EBAY-SIGNATURE` verification (ECDSA P-256 with SHA-1 over the compact JSON message, key
//! fetched by `kid` with an application token and cached), and the topics' meaning.
//!
//! # How the server answers (fail closed)
//! - `Ok(VerifiedSignal { kind: Challenge { response }, .. })` (a `GET` with `challenge_code`): HTTP 200,
//!   `Content-Type: application/json`, body `{"challengeResponse": response}`. Answer every challenge,
//!   even a repeated one (its id is `challenge:<code>`; it changes nothing).
//! - `Ok(..)` for a notification: HTTP 204 (what eBay's SDKs answer), after de-duplicating on `id` (the
//!   `notificationId`).
//! - `Err(SignalError::BadSignature)` and `Err(SignalError::Unavailable(_))` (the public key could not be
//!   fetched: network, 5xx, 429, our app token refused): HTTP **412** Precondition Failed, as the SDKs
//!   answer a message they cannot verify; eBay retries later. Nothing is acted upon.
//! - `Err(SignalError::Malformed(_))`: HTTP 400 (the signature verified but the message is not one we
//!   understand, or a challenge without a code).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use custodian_core::platform::{AccountRef, EbayUserId, Platform};
use custodian_core::ports::{
    PlatformError, RawSignal, SignalError, SignalKind, SignalSubject, SignalVerifier, VerifiedSignal,
};
use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey as _;
use secrecy::{ExposeSecret as _, SecretString};
use sha1::Sha1;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use tokio::sync::Mutex;

use crate::adapter::EbayAdapter;
use crate::api;
use crate::client::{Bucket, decode};
use crate::wire;

/// The topic of a user's (buyer's or seller's) deletion request.
pub const TOPIC_ACCOUNT_DELETION: &str = "MARKETPLACE_ACCOUNT_DELETION";
/// The topic of a revoked authorization.
pub const TOPIC_AUTHORIZATION_REVOCATION: &str = "AUTHORIZATION_REVOCATION";

/// `hex(SHA-256(challenge_code ‖ verification_token ‖ endpoint))`, fed in that order, as eBay's SDKs
/// compute the `challengeResponse` (reference §3.3 and §7 vector 3). `endpoint` must be the registered URL
/// character for character.
pub fn challenge_response(challenge_code: &str, verification_token: &SecretString, endpoint: &str) -> String {
    let digest = Sha256::new()
        .chain_update(challenge_code.as_bytes())
        .chain_update(verification_token.expose_secret().as_bytes())
        .chain_update(endpoint.as_bytes())
        .finalize();
    data_encoding::HEXLOWER.encode(&digest)
}

/// The compact serialization of a JSON document, as the official SDKs feed the verifier
/// (`JSON.stringify(JSON.parse(body))`): whitespace outside strings removed, members in their order,
/// strings re-escaped the standard way, numbers as written. `None` if `body` is not JSON.
pub(crate) fn compact_json(body: &[u8]) -> Option<Vec<u8>> {
    serde_json::from_slice::<serde::de::IgnoredAny>(body).ok()?;
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while let Some(&byte) = body.get(i) {
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'"' => {
                let start = i;
                let mut j = i + 1;
                let mut escaped = false;
                loop {
                    match body.get(j)? {
                        b'\\' => {
                            escaped = true;
                            j += 2;
                        }
                        b'"' => break,
                        _ => j += 1,
                    }
                }
                let token = body.get(start..=j)?;
                if escaped {
                    let text: String = serde_json::from_slice(token).ok()?;
                    out.extend_from_slice(serde_json::to_string(&text).ok()?.as_bytes());
                } else {
                    out.extend_from_slice(token);
                }
                i = j + 1;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    Some(out)
}

/// A fetched key, or the knowledge that eBay does not know the key id.
#[derive(Clone)]
enum Entry {
    Key(VerifyingKey),
    Unknown,
}

/// Public keys by `kid`, each kept for a time-to-live (unknown ids too, so that forged ids cannot make us
/// spend the Notification API quota).
pub(crate) struct KeyCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Entry, OffsetDateTime)>>,
}

impl KeyCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }
}

/// Parses `getPublicKey`'s `key`: PEM markers around base64 SPKI DER, with or without line breaks (eBay
/// sends it on one line).
fn parse_public_key(pem: &str) -> Option<VerifyingKey> {
    let body =
        pem.trim().strip_prefix("-----BEGIN PUBLIC KEY-----")?.strip_suffix("-----END PUBLIC KEY-----")?;
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let der = data_encoding::BASE64.decode(compact.as_bytes()).ok()?;
    VerifyingKey::from_public_key_der(&der).ok()
}

fn header<'a>(raw: &'a RawSignal, name: &str) -> Option<&'a str> {
    raw.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Checks an ECDSA signature over SHA-1 of `message`, accepting either form of `s` (Java signs without
/// normalizing it).
fn verifies(key: &VerifyingKey, message: &[u8], signature: &Signature) -> bool {
    let digest = Sha1::digest(message);
    if key.verify_prehash(&digest, signature).is_ok() {
        return true;
    }
    signature.normalize_s().is_some_and(|low| key.verify_prehash(&digest, &low).is_ok())
}

impl EbayAdapter {
    /// The key for `kid`: from the cache while fresh, else `getPublicKey` with an application token.
    /// A 404 means eBay does not know the id (`BadSignature`); any other failure means we cannot tell
    /// (`Unavailable`: fail closed).
    async fn public_key(&self, kid: &str) -> Result<VerifyingKey, SignalError> {
        let cache = &self.inner.keys;
        let now = self.inner.client.now();
        let ttl = time::Duration::try_from(cache.ttl).unwrap_or(time::Duration::HOUR);
        let mut entries = cache.entries.lock().await;
        if let Some((entry, fetched_at)) = entries.get(kid)
            && *fetched_at + ttl > now
        {
            return match entry {
                Entry::Key(key) => Ok(*key),
                Entry::Unknown => Err(SignalError::BadSignature),
            };
        }
        let client = &self.inner.client;
        let token = client.app_token().await.map_err(|e| SignalError::Unavailable(Box::new(e)))?;
        let credentials = custodian_core::ports::Credentials::bearer(token);
        let fetched = client
            .call(Bucket::Notification, &credentials.access_token, true, || {
                api::notification::get_public_key(client, kid)
            })
            .await;
        let entry = match fetched {
            Ok(response) => {
                let body: wire::PublicKey =
                    decode(&response.body).map_err(|e| SignalError::Unavailable(Box::new(e)))?;
                let algorithm_ok = body.algorithm.as_deref().is_none_or(|a| a.eq_ignore_ascii_case("ECDSA"));
                let digest_ok = body.digest.as_deref().is_none_or(|d| d.eq_ignore_ascii_case("SHA1"));
                match parse_public_key(&body.key) {
                    Some(key) if algorithm_ok && digest_ok => Entry::Key(key),
                    _ => {
                        return Err(SignalError::Unavailable(
                            "ebay returned a public key that is not ECDSA P-256 with SHA-1".into(),
                        ));
                    }
                }
            }
            Err(PlatformError::NotFound { .. }) => Entry::Unknown,
            Err(other) => return Err(SignalError::Unavailable(Box::new(other))),
        };
        entries.insert(kid.to_owned(), (entry.clone(), now));
        match entry {
            Entry::Key(key) => Ok(key),
            Entry::Unknown => Err(SignalError::BadSignature),
        }
    }

    fn challenge(&self, raw: &RawSignal) -> Result<VerifiedSignal, SignalError> {
        let code = raw
            .query
            .iter()
            .find(|(k, _)| k == "challenge_code")
            .map(|(_, v)| v.as_str())
            .filter(|c| !c.is_empty() && c.len() <= 256 && c.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| SignalError::Malformed("a challenge without a usable challenge_code".into()))?;
        let config = self.config();
        let (Some(token), Some(endpoint)) = (&config.verification_token, &config.notification_endpoint)
        else {
            return Err(SignalError::Unavailable(
                "no verification token or notification endpoint is configured".into(),
            ));
        };
        Ok(VerifiedSignal {
            platform: Platform::Ebay,
            id: format!("challenge:{code}"),
            kind: SignalKind::Challenge { response: challenge_response(code, token, endpoint) },
            subject: None,
        })
    }
}

#[async_trait]
impl SignalVerifier for EbayAdapter {
    fn platform(&self) -> Platform {
        Platform::Ebay
    }

    /// A `GET` with `challenge_code` is the endpoint challenge; anything else must be a notification whose
    /// `X-EBAY-SIGNATURE` verifies: `MARKETPLACE_ACCOUNT_DELETION` → `DeletionRequested`,
    /// `AUTHORIZATION_REVOCATION` → `Deauthorized` (AUTH-6), about `AccountRef::EbayUser(userId)`, with the
    /// `notificationId` as de-duplication id.
    async fn verify(&self, raw: &RawSignal) -> Result<VerifiedSignal, SignalError> {
        if raw.method.eq_ignore_ascii_case("GET") {
            return self.challenge(raw);
        }
        let encoded = header(raw, "x-ebay-signature").ok_or(SignalError::BadSignature)?;
        let decoded =
            data_encoding::BASE64.decode(encoded.trim().as_bytes()).map_err(|_| SignalError::BadSignature)?;
        let signature: wire::SignatureHeader =
            serde_json::from_slice(&decoded).map_err(|_| SignalError::BadSignature)?;
        if signature.alg.as_deref().is_some_and(|a| !a.eq_ignore_ascii_case("ecdsa"))
            || signature.digest.as_deref().is_some_and(|d| !d.eq_ignore_ascii_case("SHA1"))
            || !api::notification::plausible_kid(&signature.kid)
        {
            return Err(SignalError::BadSignature);
        }
        let der = data_encoding::BASE64
            .decode(signature.signature.trim().as_bytes())
            .map_err(|_| SignalError::BadSignature)?;
        let signature_value = Signature::from_der(&der).map_err(|_| SignalError::BadSignature)?;
        let key = self.public_key(&signature.kid).await?;
        // The SDKs verify the compact serialization of the parsed message; a body that is not JSON is
        // checked as it is (and then fails).
        let message = compact_json(&raw.body).unwrap_or_else(|| raw.body.clone());
        if !verifies(&key, &message, &signature_value) {
            return Err(SignalError::BadSignature);
        }
        let parsed: wire::Message = serde_json::from_slice(&raw.body)
            .map_err(|_| SignalError::Malformed("not an ebay notification message".into()))?;
        let kind = match parsed.metadata.topic.as_str() {
            TOPIC_ACCOUNT_DELETION => SignalKind::DeletionRequested { confirmation: None },
            TOPIC_AUTHORIZATION_REVOCATION => SignalKind::Deauthorized,
            other => {
                return Err(SignalError::Malformed(format!(
                    "unsupported topic `{}`",
                    other.chars().take(64).collect::<String>()
                )));
            }
        };
        let subject = parsed
            .notification
            .data
            .user_id
            .as_deref()
            .and_then(|id| EbayUserId::new(id).ok())
            .map(|id| SignalSubject::Account(AccountRef::EbayUser(id)));
        if parsed.notification.notification_id.is_empty() {
            return Err(SignalError::Malformed("a notification without notificationId".into()));
        }
        Ok(VerifiedSignal {
            platform: Platform::Ebay,
            id: parsed.notification.notification_id,
            kind,
            subject,
        })
    }
}

#[cfg(test)]
mod tests;
