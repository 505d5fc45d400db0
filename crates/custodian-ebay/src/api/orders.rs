//! Fulfillment `getOrders` (`GET /sell/fulfillment/v1/order`).

use custodian_core::ports::PlatformError;
use custodian_http::Request;

use crate::client::Client;

/// getOrders with an already percent-encoded `filter` (see [`crate::lastmodified_filter`]), `limit` (at
/// most 200) and a 0-based `offset`. The query string is written by hand so that the filter reaches eBay
/// exactly as encoded (`%5B`, `%5D`; `:` and `..` as they are).
pub(crate) fn get_orders(
    client: &Client,
    filter: &str,
    limit: u32,
    offset: u64,
) -> Result<Request, PlatformError> {
    let mut url = client.api_url("/sell/fulfillment/v1/order")?;
    url.set_query(Some(&format!("filter={filter}&limit={limit}&offset={offset}")));
    Ok(Request::get(url))
}
