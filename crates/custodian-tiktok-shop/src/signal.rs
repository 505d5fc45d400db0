//! Webhook verification (reference §1.3, AUTH-6): the `Authorization` header is the lowercase hex
//! HMAC-SHA256, keyed with the app secret, of the app key followed by the raw body (no `Bearer` prefix),
//! compared in constant time over the exact received bytes. TikTok Shop signs no timestamp, so replays are
//! stopped by the caller's de-duplication on `tts_notification_id` (the signal's id) and by refusing
//! notifications whose `timestamp` is older than the configured age or more than five minutes ahead.
//!
//! Types: 6 `SELLER_DEAUTHORIZATION` → [`SignalKind::Deauthorized`]; 7
//! `UPCOMING_AUTHORIZATION_EXPIRATION` → [`SignalKind::ExpiringSoon`] with `data.expiration_time`. Custodian
//! subscribes to nothing else, so any other type is refused as malformed (after the signature check).

use custodian_core::platform::{AccountRef, Platform, TikTokShopId};
use custodian_core::ports::{RawSignal, SignalError, SignalKind, SignalSubject, VerifiedSignal};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};

use crate::wire::NotificationWire;

/// `SELLER_DEAUTHORIZATION`.
pub(crate) const SELLER_DEAUTHORIZATION: i64 = 6;
/// `UPCOMING_AUTHORIZATION_EXPIRATION`.
pub(crate) const UPCOMING_AUTHORIZATION_EXPIRATION: i64 = 7;
/// How far in the future a notification's timestamp may be (clock skew).
const MAX_SKEW: Duration = Duration::minutes(5);

fn malformed(why: &str) -> SignalError {
    SignalError::Malformed(why.to_owned())
}

/// Verifies and parses a TikTok Shop notification.
pub(crate) fn verify(
    app_key: &str,
    app_secret: &SecretString,
    max_age: Duration,
    raw: &RawSignal,
) -> Result<VerifiedSignal, SignalError> {
    let given = raw
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, value)| data_encoding::HEXLOWER_PERMISSIVE.decode(value.trim().as_bytes()).ok())
        .filter(|bytes| bytes.len() == 32)
        .ok_or(SignalError::BadSignature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.expose_secret().as_bytes())
        .map_err(|_| SignalError::BadSignature)?;
    mac.update(app_key.as_bytes());
    mac.update(&raw.body);
    // Constant-time comparison.
    mac.verify_slice(&given).map_err(|_| SignalError::BadSignature)?;

    let notification: NotificationWire = serde_json::from_slice(&raw.body)
        .map_err(|_| malformed("the body is not a tiktok shop notification"))?;
    let sent_at = OffsetDateTime::from_unix_timestamp(notification.timestamp)
        .map_err(|_| malformed("the timestamp is out of range"))?;
    if sent_at > raw.received_at + MAX_SKEW || raw.received_at - sent_at > max_age {
        return Err(SignalError::Stale);
    }
    let id = notification.tts_notification_id.into_string();
    if id.is_empty() {
        return Err(malformed("the tts_notification_id is empty"));
    }
    let shop = TikTokShopId::new(notification.shop_id.into_string())
        .map_err(|_| malformed("the shop_id is not a tiktok shop id"))?;
    let kind = match notification.kind {
        SELLER_DEAUTHORIZATION => SignalKind::Deauthorized,
        UPCOMING_AUTHORIZATION_EXPIRATION => SignalKind::ExpiringSoon {
            expires_at: match notification.data.and_then(|d| d.expiration_time) {
                None => None,
                Some(t) => Some(
                    OffsetDateTime::from_unix_timestamp(t)
                        .map_err(|_| malformed("the expiration_time is out of range"))?,
                ),
            },
        },
        other => {
            return Err(SignalError::Malformed(format!(
                "notification type `{other}` is not an authorization signal"
            )));
        }
    };
    Ok(VerifiedSignal {
        platform: Platform::TikTokShop,
        id,
        kind,
        subject: Some(SignalSubject::Account(AccountRef::TikTokShop(shop))),
    })
}

#[cfg(test)]
mod tests;
