//! `POST /order/202309/orders/search`: orders updated in a window, oldest update first, `page_size` at
//! most 100, continued with `page_token` (the previous page's `next_page_token`). A read: retried.

use custodian_http::{Failure, Method};
use secrecy::SecretString;

use crate::client::{Call, Client, ShopScope};
use crate::error::TikTokShopError;
use crate::wire::{OrderPage, OrderSearchBody, OrderShape};

/// One page of orders updated in `[updated_ge, updated_lt)` (Unix seconds), read with the buyer fields of
/// `S` and handed to `convert` while the body is at hand (the wire types borrow from it).
pub(crate) async fn search<S: OrderShape, T>(
    client: &Client,
    token: &SecretString,
    shop: ShopScope<'_>,
    updated_ge: i64,
    updated_lt: i64,
    page_token: Option<&str>,
    convert: impl for<'a> Fn(OrderPage<'a, S::Order<'a>>) -> Result<T, TikTokShopError>,
) -> Result<T, TikTokShopError> {
    let mut query = vec![
        ("page_size", client.config().page_size().to_string()),
        ("sort_field", "update_time".to_owned()),
        ("sort_order", "ASC".to_owned()),
    ];
    if let Some(page_token) = page_token {
        query.push(("page_token", page_token.to_owned()));
    }
    let body =
        serde_json::to_vec(&OrderSearchBody { update_time_ge: updated_ge, update_time_lt: updated_lt })
            .map_err(|_| TikTokShopError::Config("the order search body cannot be encoded"))?;
    let call = Call {
        method: Method::POST,
        path: "/order/202309/orders/search",
        query,
        body: Some(body),
        shop: Some(shop),
        idempotent: true,
    };
    client
        .open_api_with(&call, token, |client, response| {
            let page = client.decode::<OrderPage<'_, S::Order<'_>>>(response)?.unwrap_or_default();
            convert(page).map_err(|e| (e, Failure::Invalid))
        })
        .await
}
