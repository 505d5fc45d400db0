//! Inventory `getInventoryItems` and `bulkUpdatePriceQuantity`.

use custodian_core::ports::PlatformError;
use custodian_http::Request;

use crate::client::Client;
use crate::wire::BulkPriceQuantity;

/// `GET /sell/inventory/v1/inventory_item?limit=…&offset=…`; `offset` is the page number per the spec.
pub(crate) fn get_inventory_items(
    client: &Client,
    limit: u32,
    offset: u64,
) -> Result<Request, PlatformError> {
    let mut url = client.api_url("/sell/inventory/v1/inventory_item")?;
    url.set_query(Some(&format!("limit={limit}&offset={offset}")));
    Ok(Request::get(url))
}

/// `POST /sell/inventory/v1/bulk_update_price_quantity` with up to 25 requests.
pub(crate) fn bulk_update_price_quantity(
    client: &Client,
    body: &BulkPriceQuantity<'_>,
) -> Result<Request, PlatformError> {
    let url = client.api_url("/sell/inventory/v1/bulk_update_price_quantity")?;
    Ok(Request::post(url).json(body))
}
