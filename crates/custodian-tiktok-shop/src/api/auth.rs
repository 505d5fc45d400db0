//! The auth host: `GET /api/v2/token/get` (code exchange, `grant_type=authorized_code`) and
//! `GET /api/v2/token/refresh` (`grant_type=refresh_token`). Neither is signed; success is `code == 0`.

use secrecy::SecretString;

use crate::client::{Client, TokenGrant};
use crate::error::TikTokShopError;
use crate::wire::TokenData;

/// Exchanges an authorization code (once: a second use is `36004004`).
pub(crate) async fn get_token(client: &Client, code: &SecretString) -> Result<TokenData, TikTokShopError> {
    client.token(TokenGrant::Code(code)).await
}

/// Refreshes: a new access token; the refresh token and the authorization's end as TikTok Shop reports them.
pub(crate) async fn refresh_token(
    client: &Client,
    refresh: &SecretString,
) -> Result<TokenData, TikTokShopError> {
    client.token(TokenGrant::Refresh(refresh)).await
}
