//! Orders API v0 (`ordersV0.json`): getOrders with `NextToken` paging and the two-minute rule, getOrder,
//! getOrderBuyerInfo, getOrderAddress and getOrderItems. Restricted buyer and address fields come back only
//! with a Restricted Data Token whose `dataElements` name them.
//!
//! Also the order search shared with Orders 2026-01-01: [`Filter`], [`scan`] and the opaque page tokens.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;

use super::data::{Order, SellerData, Status, amount};
use super::envelope::{Caller, Operation, admit, invalid_input, not_found, reply, reply_error, reply_sized};
use super::{AmazonSim, iso};
use crate::seed::{text, value};

/// The default and largest page size of both order searches.
pub(crate) const MAX_PAGE: usize = 100;
/// How long before now the latest data is (seconds): `*Before` must be at least this far in the past.
pub(crate) const DATA_DELAY_SECS: i64 = 120;
/// The 400 message Amazon sends for a `*Before` less than two minutes ago (Airbyte PR #52592).
pub(crate) const TOO_RECENT_MESSAGE: &str = "The input you have submitted is not valid. Note that the error may be due to a systematic delay in data retrieval. The most updated data is 2 minutes after an order is created or last updated. If you set the CreatedBefore or LastUpdatedBefore parameters, please provide a date that is at least 2 minutes before current time and try again.";

/// Query parameters in order, arrays either comma-separated or repeated.
#[derive(Debug)]
pub(crate) struct Params(pub Vec<(String, String)>);

impl Params {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub(crate) fn list(&self, name: &str) -> Option<Vec<String>> {
        let values: Vec<String> = self
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned))
            .collect();
        (!values.is_empty()).then_some(values)
    }
}

/// Which orders a search asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filter {
    /// Marketplace ids (all of the seller's when the request names none).
    pub marketplaces: Vec<String>,
    /// `(after, before)` on the creation time, or on the last-update time.
    pub created: Option<(i64, i64)>,
    pub updated: Option<(i64, i64)>,
    pub statuses: Option<Vec<Status>>,
    /// `Some(true)`: AFN only; `Some(false)`: MFN only.
    pub afn: Option<bool>,
}

impl Filter {
    /// The index range that can hold matches.
    fn range(&self, data: &SellerData<'_>) -> (u64, u64) {
        match (self.updated, self.created) {
            (Some((after, before)), _) => (data.first_updated_from(after), data.end_updated_until(before)),
            (None, Some((after, before))) => (
                data.first_updated_from(after),
                data.end_updated_until(before.saturating_add(super::data::MAX_CREATION_LAG_SECS)),
            ),
            (None, None) => (0, data.seller.orders),
        }
    }

    fn matches(&self, order: &Order) -> bool {
        self.created.is_none_or(|(a, b)| a <= order.created && order.created <= b)
            && self.updated.is_none_or(|(a, b)| a <= order.updated && order.updated <= b)
            && self.statuses.as_ref().is_none_or(|s| s.contains(&order.status))
            && self.afn.is_none_or(|afn| afn == order.afn)
    }

    /// A stable summary binding a page token to its search.
    fn fingerprint(&self, seller: usize) -> u64 {
        let canonical = format!(
            "{seller}|{:?}|{:?}|{:?}|{:?}|{:?}",
            self.marketplaces, self.created, self.updated, self.statuses, self.afn
        );
        text(&canonical)
    }
}

/// Up to `size` matching orders from index `from`, and the index of the next match (the next page), if
/// any.
pub(crate) fn scan(
    data: &SellerData<'_>,
    filter: &Filter,
    from: u64,
    size: usize,
) -> (Vec<Order>, Option<u64>) {
    let (start, end) = filter.range(data);
    let mut i = from.max(start);
    let mut out = Vec::with_capacity(size.min(MAX_PAGE));
    while i < end {
        let market_ok = data
            .seller
            .marketplaces
            .get(data.marketplace_of(i))
            .is_some_and(|m| filter.marketplaces.iter().any(|f| f == m));
        if market_ok {
            let order = data.order(i);
            if filter.matches(&order) {
                if out.len() == size {
                    return (out, Some(i));
                }
                out.push(order);
            }
        }
        i += 1;
    }
    (out, None)
}

/// An opaque page token bound to the seller and search.
pub(crate) fn page_token(seed: u64, seller: usize, filter: &Filter, next: u64) -> String {
    let fingerprint = filter.fingerprint(seller);
    let check = value(seed, &[text("amazon-page"), next, fingerprint]);
    format!("{next:x}.{fingerprint:x}.{check:x}")
}

/// The index a page token continues at, if it was issued for this seller and search.
pub(crate) fn read_page_token(seed: u64, seller: usize, filter: &Filter, token: &str) -> Option<u64> {
    let mut parts = token.split('.');
    let next = u64::from_str_radix(parts.next()?, 16).ok()?;
    let fingerprint = u64::from_str_radix(parts.next()?, 16).ok()?;
    let check = u64::from_str_radix(parts.next()?, 16).ok()?;
    let valid = parts.next().is_none()
        && fingerprint == filter.fingerprint(seller)
        && check == value(seed, &[text("amazon-page"), next, fingerprint]);
    valid.then_some(next)
}

/// Reads a date-time parameter: `Ok(None)` when absent, `Err` with the answer when malformed.
pub(crate) fn time_param(params: &Params, name: &'static str) -> Result<Option<i64>, String> {
    match params.get(name) {
        None => Ok(None),
        Some(raw) => iso::parse(raw).map(Some).ok_or_else(|| format!("Invalid date/time field [{name}]")),
    }
}

impl AmazonSim {
    pub(crate) fn seller_data(&self, index: usize) -> Option<SellerData<'_>> {
        let seller = self.config.sellers.get(index)?;
        Some(SellerData::new(
            self.ctx.seed,
            index,
            seller,
            self.config.orders_epoch_unix,
            self.config.order_interval_ms,
        ))
    }
}

/// Checks the requested marketplaces against the seller's: all of them when `None`.
pub(crate) fn marketplaces(
    data: &SellerData<'_>,
    requested: Option<Vec<String>>,
) -> Result<Vec<String>, String> {
    match requested {
        None => Ok(data.seller.marketplaces.clone()),
        Some(list) if list.len() > 50 => Err("At most 50 marketplace ids are allowed".to_owned()),
        Some(list) => match list.iter().find(|m| !data.seller.marketplaces.contains(m)) {
            Some(unknown) => Err(format!("Invalid marketplace id [{unknown}]")),
            None => Ok(list),
        },
    }
}

/// The time filters of an order search, both APIs: exactly one of `created_after` and `updated_after`,
/// a `*Before` not later than two minutes ago (defaulting to it), never mixing the two families.
pub(crate) struct TimeFilter {
    pub created: Option<(i64, i64)>,
    pub updated: Option<(i64, i64)>,
}

pub(crate) enum TimeError {
    Invalid(String),
    TooRecent,
}

/// `[created_after, created_before, updated_after, updated_before]` by name, as the API spells them.
pub(crate) fn time_filter(
    params: &Params,
    names: [&'static str; 4],
    now: i64,
) -> Result<TimeFilter, TimeError> {
    let [ca, cb, ua, ub] = names;
    let read = |n| time_param(params, n).map_err(TimeError::Invalid);
    let (created_after, created_before) = (read(ca)?, read(cb)?);
    let (updated_after, updated_before) = (read(ua)?, read(ub)?);
    let latest = now - DATA_DELAY_SECS;
    match (created_after, updated_after) {
        (Some(after), None) => {
            if updated_before.is_some() {
                return Err(TimeError::Invalid(format!("{ub} cannot be set when {ca} is set")));
            }
            let before = created_before.unwrap_or(latest);
            if before > latest {
                return Err(TimeError::TooRecent);
            }
            if before < after {
                return Err(TimeError::Invalid(format!("{cb} must be equal to or after {ca}")));
            }
            Ok(TimeFilter { created: Some((after, before)), updated: None })
        }
        (None, Some(after)) => {
            if created_before.is_some() {
                return Err(TimeError::Invalid(format!("{cb} cannot be set when {ua} is set")));
            }
            let before = updated_before.unwrap_or(latest);
            if before > latest {
                return Err(TimeError::TooRecent);
            }
            if before < after {
                return Err(TimeError::Invalid(format!("{ub} must be equal to or after {ua}")));
            }
            Ok(TimeFilter { created: None, updated: Some((after, before)) })
        }
        (Some(_), Some(_)) => Err(TimeError::Invalid(format!("{ua} cannot be set when {ca} is set"))),
        (None, None) => Err(TimeError::Invalid(format!("Either {ca} or {ua} is required"))),
    }
}

/// The page size parameter: 1 to 100, default 100.
pub(crate) fn page_size(params: &Params, name: &str) -> Result<usize, String> {
    match params.get(name) {
        None => Ok(MAX_PAGE),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            _ => Err(format!("{name} must be between 1 and {MAX_PAGE}")),
        },
    }
}

// ---- v0 wire shapes -------------------------------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Money<'a> {
    currency_code: &'a str,
    amount: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BuyerInfo<'a> {
    buyer_email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    buyer_name: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Address<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address_line1: Option<&'a str>,
    city: &'a str,
    state_or_region: &'a str,
    postal_code: &'a str,
    country_code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address_type: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct OrderV0<'a> {
    amazon_order_id: &'a str,
    purchase_date: String,
    last_update_date: String,
    order_status: &'static str,
    fulfillment_channel: &'static str,
    sales_channel: &'static str,
    ship_service_level: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_total: Option<Money<'a>>,
    number_of_items_shipped: u32,
    number_of_items_unshipped: u32,
    payment_method: &'static str,
    payment_method_details: [&'static str; 1],
    is_replacement_order: bool,
    marketplace_id: &'a str,
    shipment_service_level_category: &'static str,
    order_type: &'static str,
    earliest_ship_date: String,
    latest_ship_date: String,
    is_business_order: bool,
    is_prime: bool,
    is_premium_order: bool,
    is_global_express_enabled: bool,
    #[serde(rename = "IsSoldByAB")]
    is_sold_by_ab: bool,
    #[serde(rename = "IsISPU")]
    is_ispu: bool,
    is_access_point_order: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    buyer_info: Option<BuyerInfo<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shipping_address: Option<Address<'a>>,
}

/// Which restricted data a v0 answer may carry.
#[derive(Debug, Clone, Copy)]
struct Pii {
    buyer: bool,
    address: bool,
}

fn address(order: &Order, pii: bool) -> Address<'_> {
    Address {
        name: pii.then_some(order.buyer.name.as_str()),
        address_line1: pii.then_some(order.buyer.line1.as_str()),
        city: order.buyer.city,
        state_or_region: order.buyer.region,
        postal_code: &order.buyer.postal_code,
        country_code: order.info.country,
        phone: pii.then_some(order.buyer.phone.as_str()),
        address_type: pii.then_some("Residential"),
    }
}

fn order_v0(order: &Order, pii: Pii) -> OrderV0<'_> {
    let (shipped, unshipped) = order.items_shipped();
    OrderV0 {
        amazon_order_id: &order.id,
        purchase_date: iso::format(order.created),
        last_update_date: iso::format(order.updated),
        order_status: order.status.v0(),
        fulfillment_channel: if order.afn { "AFN" } else { "MFN" },
        sales_channel: order.info.name,
        ship_service_level: "Std US D2D Dom",
        order_total: order
            .status
            .priced()
            .then(|| Money { currency_code: order.info.currency, amount: amount(order.total_cents()) }),
        number_of_items_shipped: shipped,
        number_of_items_unshipped: unshipped,
        payment_method: "Other",
        payment_method_details: ["Standard"],
        is_replacement_order: false,
        marketplace_id: &order.marketplace,
        shipment_service_level_category: "Standard",
        order_type: "StandardOrder",
        earliest_ship_date: iso::format(order.created + 86_400),
        latest_ship_date: iso::format(order.created + 3 * 86_400),
        is_business_order: false,
        is_prime: order.prime,
        is_premium_order: false,
        is_global_express_enabled: false,
        is_sold_by_ab: false,
        is_ispu: false,
        is_access_point_order: false,
        buyer_info: Some(BuyerInfo {
            buyer_email: &order.buyer.email,
            buyer_name: pii.buyer.then_some(order.buyer.name.as_str()),
        }),
        shipping_address: order.status.has_shipping_address().then(|| address(order, pii.address)),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct OrdersList<'a> {
    orders: Vec<OrderV0<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_updated_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_before: Option<String>,
}

#[derive(Serialize)]
struct Payload<T> {
    payload: T,
}

fn status_v0(name: &str) -> Option<Status> {
    Status::ALL.into_iter().find(|s| s.v0() == name)
}

const GET_ORDERS_PATH: &str = "/orders/v0/orders";

/// `GET /orders/v0/orders`.
pub(super) async fn get_orders(
    State(sim): State<Arc<AmazonSim>>,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let op = Operation::GetOrders;
    let caller = match admit(&sim, &headers, op, "GET", GET_ORDERS_PATH) {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let params = Params(params);
    let bad = |details: String| reply_error(&sim, StatusCode::BAD_REQUEST, Some(op), &invalid_input(details));
    let Some(data) = sim.seller_data(caller.seller) else { return bad("Unknown seller".to_owned()) };
    let Some(requested) = params.list("MarketplaceIds") else {
        return bad("Missing required parameter [MarketplaceIds]".to_owned());
    };
    let markets = match marketplaces(&data, Some(requested)) {
        Ok(m) => m,
        Err(details) => return bad(details),
    };
    let size = match page_size(&params, "MaxResultsPerPage") {
        Ok(n) => n,
        Err(details) => return bad(details),
    };
    let statuses = match params.list("OrderStatuses") {
        None => None,
        Some(names) => match names.iter().map(|n| status_v0(n).ok_or(n)).collect::<Result<Vec<_>, _>>() {
            Ok(s) => Some(s),
            Err(name) => return bad(format!("Invalid OrderStatuses value [{name}]")),
        },
    };
    let afn = match params.list("FulfillmentChannels").as_deref() {
        None => None,
        Some([one]) if one == "AFN" => Some(true),
        Some([one]) if one == "MFN" => Some(false),
        Some(list) if list.iter().all(|c| c == "AFN" || c == "MFN") => None,
        Some(_) => return bad("Invalid FulfillmentChannels value".to_owned()),
    };
    let pii = Pii {
        buyer: caller.grants("GET", GET_ORDERS_PATH, "buyerInfo"),
        address: caller.grants("GET", GET_ORDERS_PATH, "shippingAddress"),
    };
    if let Some(ids) = params.list("AmazonOrderIds") {
        if ids.len() > 50 {
            return bad("At most 50 AmazonOrderIds are allowed".to_owned());
        }
        let found: Vec<Order> = ids
            .iter()
            .filter_map(|id| data.order_index(id))
            .map(|i| data.order(i))
            .filter(|o| markets.contains(&o.marketplace))
            .collect();
        let list = OrdersList {
            orders: found.iter().map(|o| order_v0(o, pii)).collect(),
            next_token: None,
            last_updated_before: None,
            created_before: None,
        };
        return reply(&sim, StatusCode::OK, Some(op), &Payload { payload: list });
    }
    let now = sim.ctx.clock.now_unix();
    let names = ["CreatedAfter", "CreatedBefore", "LastUpdatedAfter", "LastUpdatedBefore"];
    let window = match time_filter(&params, names, now) {
        Ok(w) => w,
        Err(TimeError::Invalid(details)) => return bad(details),
        Err(TimeError::TooRecent) => {
            let error = super::envelope::ApiError {
                code: "InvalidInput",
                message: std::borrow::Cow::Borrowed(TOO_RECENT_MESSAGE),
                details: Some(std::borrow::Cow::Borrowed("")),
            };
            return reply_error(&sim, StatusCode::BAD_REQUEST, Some(op), &error);
        }
    };
    let filter =
        Filter { marketplaces: markets, created: window.created, updated: window.updated, statuses, afn };
    let from = match params.get("NextToken") {
        None => 0,
        Some(token) => match read_page_token(sim.ctx.seed, caller.seller, &filter, token) {
            Some(i) => i,
            None => return bad("Invalid NextToken".to_owned()),
        },
    };
    let (orders, next) = scan(&data, &filter, from, size);
    let list = OrdersList {
        orders: orders.iter().map(|o| order_v0(o, pii)).collect(),
        next_token: next.map(|n| page_token(sim.ctx.seed, caller.seller, &filter, n)),
        last_updated_before: filter.updated.map(|(_, b)| iso::format(b)),
        created_before: filter.created.map(|(_, b)| iso::format(b)),
    };
    let capacity = 1024 * list.orders.len().max(1);
    reply_sized(&sim, StatusCode::OK, Some(op), &Payload { payload: list }, capacity)
}

/// Admits a call on one order and finds it; otherwise the answer to send.
#[expect(clippy::result_large_err, reason = "the error is the answer, sent at once")]
fn one_order(
    sim: &AmazonSim,
    headers: &HeaderMap,
    op: Operation,
    order_id: &str,
    path: &str,
) -> Result<(Caller, Order), Response> {
    let caller = admit(sim, headers, op, "GET", path)?;
    let order = sim
        .seller_data(caller.seller)
        .and_then(|data| data.order_index(order_id).map(|i| data.order(i)))
        .ok_or_else(|| {
            reply_error(
                sim,
                StatusCode::NOT_FOUND,
                Some(op),
                &not_found(format!("Order {order_id} was not found")),
            )
        })?;
    Ok((caller, order))
}

/// `GET /orders/v0/orders/{orderId}`.
pub(super) async fn get_order(
    State(sim): State<Arc<AmazonSim>>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> Response {
    let path = format!("/orders/v0/orders/{order_id}");
    let (caller, order) = match one_order(&sim, &headers, Operation::GetOrder, &order_id, &path) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let pii = Pii {
        buyer: caller.grants("GET", &path, "buyerInfo"),
        address: caller.grants("GET", &path, "shippingAddress"),
    };
    reply(&sim, StatusCode::OK, Some(Operation::GetOrder), &Payload { payload: order_v0(&order, pii) })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct OrderBuyerInfo<'a> {
    amazon_order_id: &'a str,
    buyer_email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    buyer_name: Option<&'a str>,
}

/// `GET /orders/v0/orders/{orderId}/buyerInfo` (restricted: the name needs an RDT).
pub(super) async fn get_order_buyer_info(
    State(sim): State<Arc<AmazonSim>>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> Response {
    let path = format!("/orders/v0/orders/{order_id}/buyerInfo");
    let op = Operation::GetOrderBuyerInfo;
    let (caller, order) = match one_order(&sim, &headers, op, &order_id, &path) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let body = OrderBuyerInfo {
        amazon_order_id: &order.id,
        buyer_email: &order.buyer.email,
        buyer_name: caller.rdt_covers("GET", &path).then_some(order.buyer.name.as_str()),
    };
    reply(&sim, StatusCode::OK, Some(op), &Payload { payload: body })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct OrderAddress<'a> {
    amazon_order_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    shipping_address: Option<Address<'a>>,
}

/// `GET /orders/v0/orders/{orderId}/address` (restricted: name, street and phone need an RDT).
pub(super) async fn get_order_address(
    State(sim): State<Arc<AmazonSim>>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> Response {
    let path = format!("/orders/v0/orders/{order_id}/address");
    let op = Operation::GetOrderAddress;
    let (caller, order) = match one_order(&sim, &headers, op, &order_id, &path) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let pii = caller.rdt_covers("GET", &path);
    let body = OrderAddress {
        amazon_order_id: &order.id,
        shipping_address: order.status.has_shipping_address().then(|| address(&order, pii)),
    };
    reply(&sim, StatusCode::OK, Some(op), &Payload { payload: body })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct OrderItemV0<'a> {
    #[serde(rename = "ASIN")]
    asin: &'a str,
    order_item_id: &'a str,
    #[serde(rename = "SellerSKU")]
    seller_sku: &'a str,
    title: &'a str,
    quantity_ordered: u32,
    quantity_shipped: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    item_price: Option<Money<'a>>,
    is_gift: &'static str,
    condition_id: &'static str,
    condition_subtype_id: &'static str,
    is_transparency: bool,
    serial_number_required: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct OrderItemsList<'a> {
    amazon_order_id: &'a str,
    order_items: Vec<OrderItemV0<'a>>,
}

/// `GET /orders/v0/orders/{orderId}/orderItems`. `ItemPrice` is the unit price times the quantity; pending
/// orders have no prices.
pub(super) async fn get_order_items(
    State(sim): State<Arc<AmazonSim>>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> Response {
    let path = format!("/orders/v0/orders/{order_id}/orderItems");
    let op = Operation::GetOrderItems;
    let (_, order) = match one_order(&sim, &headers, op, &order_id, &path) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let items = order
        .items
        .iter()
        .map(|item| OrderItemV0 {
            asin: &item.asin,
            order_item_id: &item.id,
            seller_sku: &item.sku,
            title: item.title,
            quantity_ordered: item.quantity,
            quantity_shipped: order.item_shipped(item),
            item_price: order.status.priced().then(|| Money {
                currency_code: order.info.currency,
                amount: amount(item.unit_cents * u64::from(item.quantity)),
            }),
            is_gift: "false",
            condition_id: "New",
            condition_subtype_id: "New",
            is_transparency: false,
            serial_number_required: false,
        })
        .collect();
    let body = OrderItemsList { amazon_order_id: &order.id, order_items: items };
    reply(&sim, StatusCode::OK, Some(op), &Payload { payload: body })
}
