//! The two TikTok Shop signatures, as the platform computes them: the Open API request `sign`
//! ("Sign your API request", reference §1.2) and the webhook `Authorization` header (§1.3).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA256 keyed with `secret` (HMAC takes keys of any length, so this is always `Some`).
fn mac(secret: &str) -> Option<Hmac<Sha256>> {
    Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()
}

/// Whether a `Content-Type` value is `multipart/form-data` (media type only, parameters such as
/// `boundary` ignored, case-insensitive), as Go's `mime.ParseMediaType` sees it.
pub(crate) fn is_multipart(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("multipart/form-data"))
}

/// The request signature: every query parameter except `sign` and `access_token`, keys sorted
/// (byte order), each as `{key}{value}` (a repeated key counts once, with its first value), appended to
/// the request path, then the exact body bytes unless the content type is `multipart/form-data`, the whole
/// wrapped in the app secret and HMAC-SHA256'd with the app secret; lowercase hex.
pub fn sign_request(
    app_secret: &str,
    path: &str,
    query: &[(String, String)],
    body: &[u8],
    content_type: Option<&str>,
) -> String {
    let mut keys: Vec<&(String, String)> = Vec::with_capacity(query.len());
    for pair in query {
        if pair.0 != "sign" && pair.0 != "access_token" && !keys.iter().any(|k| k.0 == pair.0) {
            keys.push(pair);
        }
    }
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    let Some(mut mac) = mac(app_secret) else { return String::new() };
    mac.update(app_secret.as_bytes());
    mac.update(path.as_bytes());
    for (key, value) in keys {
        mac.update(key.as_bytes());
        mac.update(value.as_bytes());
    }
    if !is_multipart(content_type) {
        mac.update(body);
    }
    mac.update(app_secret.as_bytes());
    data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
}

/// The webhook `Authorization` header: lowercase hex HMAC-SHA256 (key: app secret) of the app key followed
/// by the raw body.
pub fn sign_webhook(app_key: &str, app_secret: &str, body: &[u8]) -> String {
    let Some(mut mac) = mac(app_secret) else { return String::new() };
    mac.update(app_key.as_bytes());
    mac.update(body);
    data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
}

/// Whether `given` (hex, any case) is the signature `expected` (lowercase hex), compared in constant time.
pub(crate) fn same_signature(expected: &str, given: &str) -> bool {
    let (Ok(a), Ok(b)) = (
        data_encoding::HEXLOWER_PERMISSIVE.decode(expected.as_bytes()),
        data_encoding::HEXLOWER_PERMISSIVE.decode(given.as_bytes()),
    ) else {
        return false;
    };
    a.len() == 32 && constant_time_eq(&a, &b)
}

/// Whether two byte strings are equal, in time independent of where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
