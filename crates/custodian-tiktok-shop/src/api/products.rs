//! Products and stock: `POST /product/202309/products/search` (paged; SKUs with per-warehouse
//! `inventory`), `POST /product/202309/inventory/search` (the product of each SKU, at most 100 ids) and
//! `POST /product/202309/products/{product_id}/inventory/update` (absolute quantities per warehouse; an
//! absolute set is safe to repeat, so it is retried like a read).

use custodian_http::Method;
use secrecy::SecretString;

use crate::client::{Call, Client, ShopScope};
use crate::error::TikTokShopError;
use crate::wire::{
    InventoryData, InventorySearchBody, InventoryUpdateBody, ProductPage, ProductSearchBody, UpdateData,
};

/// The most SKU ids one inventory search takes.
pub(crate) const MAX_SEARCH_IDS: usize = 100;

fn json<T: serde::Serialize>(body: &T) -> Result<Vec<u8>, TikTokShopError> {
    serde_json::to_vec(body).map_err(|_| TikTokShopError::Config("a request body cannot be encoded"))
}

/// One page of the shop's active products.
pub(crate) async fn search(
    client: &Client,
    token: &SecretString,
    shop: ShopScope<'_>,
    page_token: Option<&str>,
) -> Result<ProductPage, TikTokShopError> {
    let mut query = vec![("page_size", client.config().page_size().to_string())];
    if let Some(page_token) = page_token {
        query.push(("page_token", page_token.to_owned()));
    }
    let call = Call {
        method: Method::POST,
        path: "/product/202309/products/search",
        query,
        body: Some(json(&ProductSearchBody { status: "ACTIVATE" })?),
        shop: Some(shop),
        idempotent: true,
    };
    client.open_api(&call, token).await
}

/// The inventory of `sku_ids` (at most [`MAX_SEARCH_IDS`]), grouped by product.
pub(crate) async fn inventory_search(
    client: &Client,
    token: &SecretString,
    shop: ShopScope<'_>,
    sku_ids: &[&str],
) -> Result<InventoryData, TikTokShopError> {
    let call = Call {
        method: Method::POST,
        path: "/product/202309/inventory/search",
        query: Vec::new(),
        body: Some(json(&InventorySearchBody { sku_ids })?),
        shop: Some(shop),
        idempotent: true,
    };
    client.open_api(&call, token).await
}

/// Sets absolute quantities for SKUs of `product_id` (digits only: it goes into the path).
pub(crate) async fn update_inventory(
    client: &Client,
    token: &SecretString,
    shop: ShopScope<'_>,
    product_id: &str,
    body: &InventoryUpdateBody<'_>,
) -> Result<UpdateData, TikTokShopError> {
    if product_id.is_empty() || !product_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TikTokShopError::Data("a product id is not digits".to_owned()));
    }
    let path = format!("/product/202309/products/{product_id}/inventory/update");
    let call = Call {
        method: Method::POST,
        path: &path,
        query: Vec::new(),
        body: Some(json(body)?),
        shop: Some(shop),
        idempotent: true,
    };
    client.open_api(&call, token).await
}
