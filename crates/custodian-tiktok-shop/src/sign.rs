//! The Open API request signature, a pure function ("Sign your API request", reference §1.2):
//!
//! 1. every query parameter except `sign` and `access_token`, keys in byte order (a repeated key counts once,
//!    with its first value, as Go's `url.Values.Get` reads it);
//! 2. concatenated as `{key}{value}`;
//! 3. appended to the request path (the API path, e.g. `/authorization/202309/shops`);
//! 4. followed by the exact body bytes sent, unless the media type is `multipart/form-data` (parameters
//!    such as `boundary` ignored, as Go's `mime.ParseMediaType` sees it);
//! 5. wrapped in the app secret on both sides;
//! 6. HMAC-SHA256 keyed with the app secret, as lowercase hex.
//!
//! The `x-tts-access-token` header is not part of it.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::Sha256;

/// What is signed: the API path, the query parameters as sent (decoded values), the body bytes as sent and
/// the `Content-Type`.
#[derive(Debug, Clone, Copy)]
pub struct SignInput<'a> {
    pub path: &'a str,
    pub query: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    pub content_type: Option<&'a str>,
}

/// Whether a `Content-Type` value is `multipart/form-data` (media type only, case-insensitive).
pub fn is_multipart(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("multipart/form-data"))
}

/// The `sign` query parameter of a request: lowercase hex HMAC-SHA256.
pub fn sign(app_secret: &SecretString, input: &SignInput<'_>) -> String {
    let mut params: Vec<(&str, &str)> = Vec::with_capacity(input.query.len());
    for &(key, value) in input.query {
        if key != "sign" && key != "access_token" && !params.iter().any(|(k, _)| *k == key) {
            params.push((key, value));
        }
    }
    params.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let secret = app_secret.expose_secret().as_bytes();
    // HMAC takes keys of any length: `new_from_slice` cannot fail here.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { return String::new() };
    mac.update(secret);
    mac.update(input.path.as_bytes());
    for (key, value) in params {
        mac.update(key.as_bytes());
        mac.update(value.as_bytes());
    }
    if !is_multipart(input.content_type) {
        mac.update(input.body);
    }
    mac.update(secret);
    data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests;
