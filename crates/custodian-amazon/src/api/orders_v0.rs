//! Orders API v0: `GET /orders/v0/orders` (getOrders, 0.0167/s, burst 20) with `MarketplaceIds`,
//! `LastUpdatedAfter`/`LastUpdatedBefore`, `MaxResultsPerPage` and `NextToken`; and
//! `GET /orders/v0/orders/{orderId}/orderItems` (getOrderItems, 0.5/s, burst 30) with `NextToken`.

use custodian_http::Url;
use secrecy::SecretString;
use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::error::AmazonError;
use crate::rate::Operation;
use crate::wire::{GetOrderItemsResponse, GetOrdersResponse};

/// The restricted resource of bulk `getOrders` (for the RDT).
pub(crate) const GET_ORDERS_PATH: &str = "/orders/v0/orders";
/// The PII the RDT asks for: buyer name and e-mail, shipping address and phone.
pub(crate) const PII_ELEMENTS: &[&str] = &["buyerInfo", "shippingAddress"];

/// One getOrders page.
#[derive(Debug)]
pub(crate) struct Orders<'a> {
    pub marketplace: &'a str,
    pub updated_after: &'a str,
    pub updated_before: &'a str,
    pub page_size: &'a str,
    pub next_token: Option<&'a str>,
}

/// `token` is the LWA access token, or an RDT for [`GET_ORDERS_PATH`] when PII is wanted.
pub(crate) async fn get_orders<B: DeserializeOwned, A: DeserializeOwned>(
    client: &Client,
    base: &Url,
    seller: &str,
    token: &SecretString,
    page: &Orders<'_>,
) -> Result<GetOrdersResponse<B, A>, AmazonError> {
    let url = super::endpoint(base, &["orders", "v0", "orders"]);
    let mut query = vec![
        ("MarketplaceIds", page.marketplace),
        ("LastUpdatedAfter", page.updated_after),
        ("LastUpdatedBefore", page.updated_before),
        ("MaxResultsPerPage", page.page_size),
    ];
    if let Some(next) = page.next_token {
        query.push(("NextToken", next));
    }
    client.sp(Operation::GetOrders, seller, super::get(url, token).query(&query)).await
}

pub(crate) async fn get_order_items(
    client: &Client,
    base: &Url,
    seller: &str,
    token: &SecretString,
    order_id: &str,
    next_token: Option<&str>,
) -> Result<GetOrderItemsResponse, AmazonError> {
    let url = super::endpoint(base, &["orders", "v0", "orders", order_id, "orderItems"]);
    let mut request = super::get(url, token);
    if let Some(next) = next_token {
        request = request.query(&[("NextToken", next)]);
    }
    client.sp(Operation::GetOrderItems, seller, request).await
}
