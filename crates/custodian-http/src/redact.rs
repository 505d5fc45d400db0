//! Redaction (SEC-1): which headers and query parameters carry secrets, and URLs with those values replaced,
//! for logs, errors and `Debug` output.

use reqwest::Url;

/// The replacement text for a secret value.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// Headers whose values are secrets (lowercase). [`crate::Request`] marks them sensitive and never prints
/// them; so does any header whose name contains `token`, `secret`, `password`, `authorization`, `cookie`
/// or `api-key` (see `is_sensitive_header`).
pub const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "access-token",
    "x-amz-access-token",
    "x-amz-security-token",
    "x-tts-access-token",
    "x-access-token",
];

/// Query (and form) parameters whose values are secrets (lowercase). [`redact_url`] also redacts any
/// parameter whose name contains `token`, `secret`, `password` or `signature`.
pub const SENSITIVE_PARAMS: &[&str] = &[
    "access_token",
    "appsecret_proof",
    "client_secret",
    "secret",
    "app_secret",
    "code",
    "auth_code",
    "refresh_token",
    "fb_exchange_token",
    "input_token",
    "sign",
    "signature",
    "password",
    "token",
];

/// Name fragments that make a header sensitive even when it is not listed.
const HEADER_FRAGMENTS: &[&str] =
    &["token", "secret", "password", "authorization", "cookie", "api-key", "apikey"];
/// Name fragments that make a query parameter sensitive even when it is not listed.
const PARAM_FRAGMENTS: &[&str] = &["token", "secret", "password", "signature"];

/// Whether a header's value must never be shown (case-insensitive).
pub(crate) fn is_sensitive_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SENSITIVE_HEADERS.contains(&name.as_str()) || HEADER_FRAGMENTS.iter().any(|f| name.contains(f))
}

/// Whether a query parameter's value must never be shown (case-insensitive).
pub(crate) fn is_sensitive_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SENSITIVE_PARAMS.contains(&name.as_str()) || PARAM_FRAGMENTS.iter().any(|f| name.contains(f))
}

/// The URL as text with the values of sensitive query parameters replaced by `[REDACTED]`, a password in
/// the userinfo replaced too, and any fragment replaced (OAuth implicit flows put tokens there).
/// Parameter names and other values are kept as they were sent (percent-encoded).
pub fn redact_url(url: &Url) -> String {
    let mut out = String::with_capacity(url.as_str().len());
    out.push_str(url.scheme());
    out.push_str("://");
    if !url.username().is_empty() || url.password().is_some() {
        out.push_str(url.username());
        if url.password().is_some() {
            out.push(':');
            out.push_str(REDACTED);
        }
        out.push('@');
    }
    if let Some(host) = url.host_str() {
        out.push_str(host);
    }
    if let Some(port) = url.port() {
        out.push(':');
        out.push_str(&port.to_string());
    }
    out.push_str(url.path());
    if let Some(query) = url.query() {
        out.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((name, _)) if param_name_is_sensitive(name) => {
                    out.push_str(name);
                    out.push('=');
                    out.push_str(REDACTED);
                }
                _ => out.push_str(pair),
            }
        }
    }
    if url.fragment().is_some() {
        out.push('#');
        out.push_str(REDACTED);
    }
    out
}

/// Decodes a raw (percent- or plus-encoded) parameter name and checks it.
fn param_name_is_sensitive(raw: &str) -> bool {
    url::form_urlencoded::parse(raw.as_bytes()).any(|(name, _)| is_sensitive_param(&name))
}

#[cfg(test)]
mod tests;
