//! Orders API 2026-01-01: `GET /orders/2026-01-01/orders` (searchOrders, 0.0056/s, burst 20) with
//! `lastUpdatedAfter`/`lastUpdatedBefore`, `marketplaceIds`, `maxResultsPerPage`, `paginationToken` and
//! `includedData` (`FULFILLMENT,PROCEEDS`, plus `BUYER,RECIPIENT` only with PII: MIN-2).

use custodian_http::{Response, Url};
use secrecy::SecretString;

use crate::client::Client;
use crate::error::AmazonError;
use crate::rate::Operation;

/// The datasets asked for without PII: order status and totals.
pub(crate) const INCLUDED_PLAIN: &str = "FULFILLMENT,PROCEEDS";
/// The datasets asked for with PII.
pub(crate) const INCLUDED_PII: &str = "FULFILLMENT,PROCEEDS,BUYER,RECIPIENT";

/// One search page.
#[derive(Debug)]
pub(crate) struct Search<'a> {
    pub marketplace: &'a str,
    pub updated_after: &'a str,
    pub updated_before: &'a str,
    pub page_size: &'a str,
    pub pagination_token: Option<&'a str>,
    pub included: &'static str,
}

/// The answer is returned undecoded: the caller decodes it in place into
/// [`crate::wire::SearchOrdersResponse`].
pub(crate) async fn search_orders(
    client: &Client,
    base: &Url,
    seller: &str,
    token: &SecretString,
    search: &Search<'_>,
) -> Result<Response, AmazonError> {
    let url = super::endpoint(base, &["orders", "2026-01-01", "orders"]);
    let mut query = vec![
        ("lastUpdatedAfter", search.updated_after),
        ("lastUpdatedBefore", search.updated_before),
        ("marketplaceIds", search.marketplace),
        ("maxResultsPerPage", search.page_size),
        ("includedData", search.included),
    ];
    if let Some(next) = search.pagination_token {
        query.push(("paginationToken", next));
    }
    client.sp_raw(Operation::SearchOrders, seller, super::get(url, token).query(&query)).await
}
