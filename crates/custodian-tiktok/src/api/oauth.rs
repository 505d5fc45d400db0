//! `oauth2/access_token/` (AuthenticationApi.md: POST, JSON `{app_id, secret, auth_code}`) and
//! `oauth2/advertiser/get/` (GET, `app_id` and `secret` in the query, the token in `Access-Token`).

use custodian_http::Request;
use secrecy::{ExposeSecret as _, SecretString};

use crate::client::Client;
use crate::error::TikTokError;
use crate::wire::{Advertiser, List, TokenData};

/// Exchanges an auth code for the long-term advertiser token. Not retried except on throttles (a POST).
pub(crate) async fn access_token(
    client: &Client,
    auth_code: &SecretString,
) -> Result<TokenData, TikTokError> {
    let url = client.endpoint("oauth2/access_token/")?;
    let body = serde_json::json!({
        "app_id": client.app_id,
        "secret": client.secret().expose_secret(),
        "auth_code": auth_code.expose_secret(),
    });
    Ok(client.call::<TokenData>(Request::post(url).json(&body)).await?.data)
}

/// The advertisers the token may manage (AUTH-2 validation).
pub(crate) async fn advertisers(
    client: &Client,
    token: &SecretString,
) -> Result<Vec<Advertiser>, TikTokError> {
    let url = client.endpoint("oauth2/advertiser/get/")?;
    let request = Request::get(url)
        .query(&[("app_id", &client.app_id), ("secret", client.secret().expose_secret())])
        .secret_header("Access-Token", token);
    Ok(client.call::<List<Advertiser>>(request).await?.data.list)
}
