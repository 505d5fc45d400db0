//! `GET /authorization/202309/shops`: the shops the token's seller authorized, with their ciphers.

use custodian_http::Method;
use secrecy::SecretString;

use crate::client::{Call, Client};
use crate::error::TikTokShopError;
use crate::wire::{ShopWire, ShopsData};

pub(crate) async fn authorized_shops(
    client: &Client,
    token: &SecretString,
) -> Result<Vec<ShopWire>, TikTokShopError> {
    let call = Call {
        method: Method::GET,
        path: "/authorization/202309/shops",
        query: Vec::new(),
        body: None,
        shop: None,
        idempotent: true,
    };
    let data: ShopsData = client.open_api(&call, token).await?;
    Ok(data.shops)
}
