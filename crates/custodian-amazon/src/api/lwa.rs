//! Login with Amazon: `POST /auth/o2/token` with the `authorization_code` and `refresh_token` grants
//! (`commerce-apis.md` §2.1). The client secret, code and refresh token are exposed only to build the form.

use custodian_http::Url;
use secrecy::{ExposeSecret as _, SecretString};

use crate::client::Client;
use crate::error::AmazonError;
use crate::wire::LwaTokens;

/// The token endpoint under `lwa_base`.
pub(crate) fn token_url(lwa_base: &Url) -> Url {
    super::endpoint(lwa_base, &["auth", "o2", "token"])
}

/// `grant_type=authorization_code`: single-use, so never retried after a transport failure.
pub(crate) async fn exchange_code(
    client: &Client,
    url: &Url,
    code: &SecretString,
    redirect_uri: &str,
    client_id: &str,
    client_secret: &SecretString,
) -> Result<LwaTokens, AmazonError> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.expose_secret()),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
        ("client_secret", client_secret.expose_secret()),
    ];
    client.lwa(url, &form, false).await
}

/// `grant_type=refresh_token`: repeatable, so retried after transport and server failures.
pub(crate) async fn refresh(
    client: &Client,
    url: &Url,
    refresh_token: &SecretString,
    client_id: &str,
    client_secret: &SecretString,
) -> Result<LwaTokens, AmazonError> {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose_secret()),
        ("client_id", client_id),
        ("client_secret", client_secret.expose_secret()),
    ];
    client.lwa(url, &form, true).await
}
