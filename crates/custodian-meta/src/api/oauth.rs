//! Facebook Login and token inspection: `oauth/access_token` (code exchange, long-lived exchange) and
//! `debug_token` (ads-apis.md §1.2, §1.4).

use secrecy::SecretString;

use crate::client::{Auth, Call};

/// `GET oauth/access_token?client_id&redirect_uri&client_secret&code` → a short-lived user token. Not
/// idempotent: a code works once.
pub(crate) fn code_exchange<'a>(
    app_id: &str,
    app_secret: &'a SecretString,
    code: &'a SecretString,
    redirect_uri: &str,
) -> Call<'a> {
    Call::get("oauth/access_token", Auth::None)
        .param("client_id", app_id)
        .param("redirect_uri", redirect_uri)
        .secret("client_secret", app_secret)
        .secret("code", code)
        .idempotent(false)
}

/// `GET oauth/access_token?grant_type=fb_exchange_token&client_id&client_secret&fb_exchange_token` → a
/// long-lived user token (about 60 days).
pub(crate) fn long_lived<'a>(
    app_id: &str,
    app_secret: &'a SecretString,
    token: &'a SecretString,
) -> Call<'a> {
    Call::get("oauth/access_token", Auth::None)
        .param("grant_type", "fb_exchange_token")
        .param("client_id", app_id)
        .secret("client_secret", app_secret)
        .secret("fb_exchange_token", token)
}

/// `GET debug_token?input_token=…` with the app token: what Meta says about `input` (AUTH-2).
pub(crate) fn debug_token(input: &SecretString) -> Call<'_> {
    Call::get("debug_token", Auth::App).secret("input_token", input)
}
