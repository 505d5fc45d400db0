//! eBay OAuth (reference §3.1): the consent URL and the `authorization_code` and `refresh_token` grants.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use custodian_core::platform::Scope;
use custodian_core::ports::PlatformError;
use secrecy::{ExposeSecret as _, SecretString};

use crate::client::Client;
use crate::error::Grant;
use crate::wire::TokenResponse;

/// Percent-encodes everything but RFC 3986 unreserved characters (spaces as `%20`, as eBay shows).
pub(crate) fn encode_component(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() * 3);
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// `https://auth.ebay.com/oauth2/authorize?client_id=…&redirect_uri=<RuName>&response_type=code&scope=…&state=…&prompt=login`.
pub(crate) fn consent_url(
    client: &Client,
    scopes: &BTreeSet<Scope>,
    state: &str,
) -> Result<String, PlatformError> {
    let mut url = client.auth_url("/oauth2/authorize")?;
    let scope = scopes.iter().map(Scope::as_str).collect::<Vec<_>>().join(" ");
    let query = format!(
        "client_id={}&redirect_uri={}&response_type=code&scope={}&state={}&prompt=login",
        encode_component(&client.config.client_id),
        encode_component(&client.config.ru_name),
        encode_component(&scope),
        encode_component(state),
    );
    url.set_query(Some(&query));
    Ok(url.to_string())
}

/// `grant_type=authorization_code&code=…&redirect_uri=<RuName>`.
pub(crate) async fn exchange(client: &Client, code: &SecretString) -> Result<TokenResponse, PlatformError> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.expose_secret()),
        ("redirect_uri", client.config.ru_name.as_str()),
    ];
    client.token(Grant::AuthorizationCode, &form).await
}

/// `grant_type=refresh_token&refresh_token=…&scope=…`: the scopes must be those consented or fewer.
pub(crate) async fn refresh(
    client: &Client,
    refresh_token: &SecretString,
    scopes: &[&str],
) -> Result<TokenResponse, PlatformError> {
    let scope = scopes.join(" ");
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose_secret()),
        ("scope", scope.as_str()),
    ];
    client.token(Grant::RefreshToken, &form).await
}
