//! Orders API 2026-01-01 (`orders_2026-01-01.json`): searchOrders with `paginationToken` and getOrder, both
//! with `includedData`. Without `BUYER` there is no `buyer`, without `RECIPIENT` no `recipient`, and so on
//! for `PROCEEDS` and `FULFILLMENT`; order items with their product always come back.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;

use super::data::{Order, Status, amount, push_amount};
use super::envelope::{
    ApiError, Operation, access_denied, admit, invalid_input, not_found, reply, reply_error, reply_json,
};
use super::orders::{
    Filter, Params, TOO_RECENT_MESSAGE, TimeError, marketplaces, page_size, page_token, read_page_token,
    scan, time_filter,
};
use super::{AmazonSim, ROLE_PII, iso};

/// The `includedData` values of the model.
const DATASETS: [&str; 11] = [
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
];

/// Which datasets an answer includes.
#[derive(Debug, Clone, Copy, Default)]
struct Included {
    buyer: bool,
    recipient: bool,
    proceeds: bool,
    fulfillment: bool,
}

fn included(params: &Params) -> Result<Included, String> {
    let mut out = Included::default();
    for name in params.list("includedData").unwrap_or_default() {
        match name.as_str() {
            "BUYER" => out.buyer = true,
            "RECIPIENT" => out.recipient = true,
            "PROCEEDS" => out.proceeds = true,
            "FULFILLMENT" => out.fulfillment = true,
            other if DATASETS.contains(&other) => {}
            other => return Err(format!("Invalid includedData value [{other}]")),
        }
    }
    Ok(out)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Money<'a> {
    amount: String,
    currency_code: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SalesChannel<'a> {
    channel_name: &'static str,
    marketplace_id: &'a str,
    marketplace_name: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Buyer<'a> {
    buyer_name: &'a str,
    buyer_email: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CustomerAddress<'a> {
    name: &'a str,
    address_line1: &'a str,
    city: &'a str,
    state_or_region: &'a str,
    postal_code: &'a str,
    country_code: &'a str,
    phone: &'a str,
    address_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Recipient<'a> {
    delivery_address: CustomerAddress<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderProceeds<'a> {
    grand_total: Money<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderFulfillment {
    fulfillment_status: &'static str,
    fulfilled_by: &'static str,
    fulfillment_service_level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Condition {
    condition_type: &'static str,
    condition_subtype: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemPrice<'a> {
    unit_price: Money<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemProduct<'a> {
    asin: &'a str,
    title: &'a str,
    seller_sku: &'a str,
    condition: Condition,
    #[serde(skip_serializing_if = "Option::is_none")]
    price: Option<ItemPrice<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemProceeds<'a> {
    proceeds_total: Money<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemFulfillment {
    quantity_fulfilled: u32,
    quantity_unfulfilled: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderItem<'a> {
    order_item_id: &'a str,
    quantity_ordered: u32,
    product: ItemProduct<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    proceeds: Option<ItemProceeds<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fulfillment: Option<ItemFulfillment>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Order26<'a> {
    order_id: &'a str,
    created_time: String,
    last_updated_time: String,
    programs: Vec<&'static str>,
    sales_channel: SalesChannel<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    buyer: Option<Buyer<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient: Option<Recipient<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    proceeds: Option<OrderProceeds<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fulfillment: Option<OrderFulfillment>,
    order_items: Vec<OrderItem<'a>>,
}

fn order_26(order: &Order, inc: Included) -> Order26<'_> {
    let currency = order.info.currency;
    let priced = order.status.priced();
    let items = order
        .items
        .iter()
        .map(|item| {
            let shipped = order.item_shipped(item);
            OrderItem {
                order_item_id: &item.id,
                quantity_ordered: item.quantity,
                product: ItemProduct {
                    asin: &item.asin,
                    title: item.title,
                    seller_sku: &item.sku,
                    condition: Condition { condition_type: "NEW", condition_subtype: "NEW" },
                    price: priced.then(|| ItemPrice {
                        unit_price: Money { amount: amount(item.unit_cents), currency_code: currency },
                    }),
                },
                proceeds: (inc.proceeds && priced).then(|| ItemProceeds {
                    proceeds_total: Money {
                        amount: amount(item.unit_cents * u64::from(item.quantity)),
                        currency_code: currency,
                    },
                }),
                fulfillment: inc.fulfillment.then_some(ItemFulfillment {
                    quantity_fulfilled: shipped,
                    quantity_unfulfilled: item.quantity - shipped,
                }),
            }
        })
        .collect();
    Order26 {
        order_id: &order.id,
        created_time: iso::format(order.created),
        last_updated_time: iso::format(order.updated),
        programs: if order.prime { vec!["PRIME"] } else { Vec::new() },
        sales_channel: SalesChannel {
            channel_name: "AMAZON",
            marketplace_id: &order.marketplace,
            marketplace_name: order.info.name,
        },
        buyer: inc.buyer.then(|| Buyer { buyer_name: &order.buyer.name, buyer_email: &order.buyer.email }),
        recipient: (inc.recipient && order.status.has_shipping_address()).then(|| Recipient {
            delivery_address: CustomerAddress {
                name: &order.buyer.name,
                address_line1: &order.buyer.line1,
                city: order.buyer.city,
                state_or_region: order.buyer.region,
                postal_code: &order.buyer.postal_code,
                country_code: order.info.country,
                phone: &order.buyer.phone,
                address_type: "RESIDENTIAL",
            },
        }),
        proceeds: (inc.proceeds && priced).then(|| OrderProceeds {
            grand_total: Money { amount: amount(order.total_cents()), currency_code: currency },
        }),
        fulfillment: inc.fulfillment.then(|| OrderFulfillment {
            fulfillment_status: order.status.v2026(),
            fulfilled_by: if order.afn { "AMAZON" } else { "MERCHANT" },
            fulfillment_service_level: "STANDARD",
        }),
        order_items: items,
    }
}

#[cfg(test)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Pagination {
    next_token: String,
}

#[cfg(test)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SearchOrdersResponse<'a> {
    orders: Vec<Order26<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pagination: Option<Pagination>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_updated_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_before: Option<String>,
}

fn statuses(params: &Params) -> Result<Option<Vec<Status>>, String> {
    let Some(names) = params.list("fulfillmentStatuses") else { return Ok(None) };
    let mut out = Vec::new();
    for name in names {
        if !matches!(
            name.as_str(),
            "PENDING_AVAILABILITY"
                | "PENDING"
                | "UNSHIPPED"
                | "PARTIALLY_SHIPPED"
                | "SHIPPED"
                | "CANCELLED"
                | "UNFULFILLABLE"
        ) {
            return Err(format!("Invalid fulfillmentStatuses value [{name}]"));
        }
        out.extend(Status::ALL.into_iter().filter(|s| s.v2026() == name));
    }
    Ok(Some(out))
}

/// `GET /orders/2026-01-01/orders`.
pub(super) async fn search_orders(
    State(sim): State<Arc<AmazonSim>>,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let op = Operation::SearchOrders;
    let caller = match admit(&sim, &headers, op, "GET", "/orders/2026-01-01/orders") {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let params = Params(params);
    let bad = |details: String| reply_error(&sim, StatusCode::BAD_REQUEST, Some(op), &invalid_input(details));
    let Some(data) = sim.seller_data(caller.seller) else { return bad("Unknown seller".to_owned()) };
    let inc = match included(&params) {
        Ok(inc) => inc,
        Err(details) => return bad(details),
    };
    if (inc.buyer || inc.recipient) && !sim.has_role(ROLE_PII) {
        return reply_error(&sim, StatusCode::FORBIDDEN, Some(op), &access_denied());
    }
    let markets = match marketplaces(&data, params.list("marketplaceIds")) {
        Ok(m) => m,
        Err(details) => return bad(details),
    };
    let size = match page_size(&params, "maxResultsPerPage") {
        Ok(n) => n,
        Err(details) => return bad(details),
    };
    let statuses = match statuses(&params) {
        Ok(s) => s,
        Err(details) => return bad(details),
    };
    let afn = match params.list("fulfilledBy").as_deref() {
        None => None,
        Some([one]) if one == "AMAZON" => Some(true),
        Some([one]) if one == "MERCHANT" => Some(false),
        Some(list) if list.iter().all(|c| c == "AMAZON" || c == "MERCHANT") => None,
        Some(_) => return bad("Invalid fulfilledBy value".to_owned()),
    };
    let now = sim.ctx.clock.now_unix();
    let names = ["createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore"];
    let window = match time_filter(&params, names, now) {
        Ok(w) => w,
        Err(TimeError::Invalid(details)) => return bad(details),
        Err(TimeError::TooRecent) => {
            let error = ApiError {
                code: "InvalidInput",
                message: Cow::Borrowed(TOO_RECENT_MESSAGE),
                details: Some(Cow::Borrowed("")),
            };
            return reply_error(&sim, StatusCode::BAD_REQUEST, Some(op), &error);
        }
    };
    let filter =
        Filter { marketplaces: markets, created: window.created, updated: window.updated, statuses, afn };
    let from = match params.get("paginationToken") {
        None => 0,
        Some(token) => match read_page_token(sim.ctx.seed, caller.seller, &filter, token) {
            Some(i) => i,
            None => return bad("Invalid paginationToken".to_owned()),
        },
    };
    let (orders, next) = scan(&data, &filter, from, size);
    let token = next.map(|n| page_token(sim.ctx.seed, caller.seller, &filter, n));
    let mut body = String::with_capacity(1024 * orders.len().max(1));
    write_search_page(&mut body, &orders, inc, token.as_deref(), &filter);
    reply_json(&sim, StatusCode::OK, Some(op), body.into_bytes())
}

// ---- direct JSON writing (issue 6: searchOrders pages are the simulator's hottest answer) ---------------
//
// The writers below produce, byte for byte, what `serde_json` makes of the `Serialize` shapes above (field
// order, `skip_serializing_if`, string escaping); `tests.rs` checks them against that encoding.

/// Appends `text` as a JSON string, escaped as `serde_json` escapes it: `"`, `\\` and control characters
/// (short forms for `\b \f \n \r \t`, `\u00xx` in lowercase hex for the rest); nothing else.
fn push_json_str(out: &mut String, text: &str) {
    out.push('"');
    let mut start = 0;
    for (i, byte) in text.bytes().enumerate() {
        let short = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(text.get(start..i).unwrap_or_default());
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX.get(usize::from(byte >> 4)).copied().unwrap_or(b'0')));
            out.push(char::from(HEX.get(usize::from(byte & 0xf)).copied().unwrap_or(b'0')));
        } else {
            out.push_str(short);
        }
        start = i + 1;
    }
    out.push_str(text.get(start..).unwrap_or_default());
    out.push('"');
}

/// Appends `"key":` (keys are fixed ASCII names that need no escaping).
fn push_key(out: &mut String, key: &str) {
    out.push('"');
    out.push_str(key);
    out.push_str("\":");
}

fn push_u32(out: &mut String, n: u32) {
    iso::push_padded(out, u64::from(n), 1);
}

/// `{"amount":"…","currencyCode":"…"}`.
fn push_money(out: &mut String, cents: u64, currency: &str) {
    out.push_str("{\"amount\":\"");
    push_amount(out, cents);
    out.push_str("\",\"currencyCode\":");
    push_json_str(out, currency);
    out.push('}');
}

/// One order as [`order_26`] serializes.
fn write_order_26(out: &mut String, order: &Order, inc: Included) {
    let currency = order.info.currency;
    let priced = order.status.priced();
    push_key_first(out, "orderId");
    push_json_str(out, &order.id);
    out.push_str(",\"createdTime\":\"");
    iso::push(out, order.created);
    out.push_str("\",\"lastUpdatedTime\":\"");
    iso::push(out, order.updated);
    out.push_str(if order.prime { "\",\"programs\":[\"PRIME\"]" } else { "\",\"programs\":[]" });
    out.push_str(",\"salesChannel\":{\"channelName\":\"AMAZON\",\"marketplaceId\":");
    push_json_str(out, &order.marketplace);
    out.push_str(",\"marketplaceName\":");
    push_json_str(out, order.info.name);
    out.push('}');
    if inc.buyer {
        out.push_str(",\"buyer\":{\"buyerName\":");
        push_json_str(out, &order.buyer.name);
        out.push_str(",\"buyerEmail\":");
        push_json_str(out, &order.buyer.email);
        out.push('}');
    }
    if inc.recipient && order.status.has_shipping_address() {
        let b = &order.buyer;
        out.push_str(",\"recipient\":{\"deliveryAddress\":{\"name\":");
        push_json_str(out, &b.name);
        out.push_str(",\"addressLine1\":");
        push_json_str(out, &b.line1);
        out.push_str(",\"city\":");
        push_json_str(out, b.city);
        out.push_str(",\"stateOrRegion\":");
        push_json_str(out, b.region);
        out.push_str(",\"postalCode\":");
        push_json_str(out, &b.postal_code);
        out.push_str(",\"countryCode\":");
        push_json_str(out, order.info.country);
        out.push_str(",\"phone\":");
        push_json_str(out, &b.phone);
        out.push_str(",\"addressType\":\"RESIDENTIAL\"}}");
    }
    if inc.proceeds && priced {
        out.push_str(",\"proceeds\":{\"grandTotal\":");
        push_money(out, order.total_cents(), currency);
        out.push('}');
    }
    if inc.fulfillment {
        out.push_str(",\"fulfillment\":{\"fulfillmentStatus\":");
        push_json_str(out, order.status.v2026());
        out.push_str(if order.afn { ",\"fulfilledBy\":\"AMAZON\"" } else { ",\"fulfilledBy\":\"MERCHANT\"" });
        out.push_str(",\"fulfillmentServiceLevel\":\"STANDARD\"}");
    }
    out.push_str(",\"orderItems\":[");
    for (n, item) in order.items.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        push_key_first(out, "orderItemId");
        push_json_str(out, &item.id);
        out.push(',');
        push_key(out, "quantityOrdered");
        push_u32(out, item.quantity);
        out.push_str(",\"product\":{\"asin\":");
        push_json_str(out, &item.asin);
        out.push_str(",\"title\":");
        push_json_str(out, item.title);
        out.push_str(",\"sellerSku\":");
        push_json_str(out, &item.sku);
        out.push_str(",\"condition\":{\"conditionType\":\"NEW\",\"conditionSubtype\":\"NEW\"}");
        if priced {
            out.push_str(",\"price\":{\"unitPrice\":");
            push_money(out, item.unit_cents, currency);
            out.push('}');
        }
        out.push('}');
        if inc.proceeds && priced {
            out.push_str(",\"proceeds\":{\"proceedsTotal\":");
            push_money(out, item.unit_cents * u64::from(item.quantity), currency);
            out.push('}');
        }
        if inc.fulfillment {
            let shipped = order.item_shipped(item);
            out.push_str(",\"fulfillment\":{\"quantityFulfilled\":");
            push_u32(out, shipped);
            out.push_str(",\"quantityUnfulfilled\":");
            push_u32(out, item.quantity - shipped);
            out.push('}');
        }
        out.push('}');
    }
    out.push_str("]}");
}

/// `{"key":` opening an object.
fn push_key_first(out: &mut String, key: &str) {
    out.push('{');
    push_key(out, key);
}

/// A searchOrders answer as [`SearchOrdersResponse`] serializes.
fn write_search_page(
    out: &mut String,
    orders: &[Order],
    inc: Included,
    next_token: Option<&str>,
    filter: &Filter,
) {
    out.push_str("{\"orders\":[");
    for (n, order) in orders.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        write_order_26(out, order, inc);
    }
    out.push(']');
    if let Some(token) = next_token {
        out.push_str(",\"pagination\":{\"nextToken\":");
        push_json_str(out, token);
        out.push('}');
    }
    if let Some((_, before)) = filter.updated {
        out.push_str(",\"lastUpdatedBefore\":\"");
        iso::push(out, before);
        out.push('"');
    }
    if let Some((_, before)) = filter.created {
        out.push_str(",\"createdBefore\":\"");
        iso::push(out, before);
        out.push('"');
    }
    out.push('}');
}

#[derive(Serialize)]
struct GetOrderResponse<'a> {
    order: Order26<'a>,
}

/// `GET /orders/2026-01-01/orders/{orderId}`.
pub(super) async fn get_order(
    State(sim): State<Arc<AmazonSim>>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let op = Operation::GetOrder2026;
    let path = format!("/orders/2026-01-01/orders/{order_id}");
    let caller = match admit(&sim, &headers, op, "GET", &path) {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let inc = match included(&Params(params)) {
        Ok(inc) => inc,
        Err(details) => return reply_error(&sim, StatusCode::BAD_REQUEST, Some(op), &invalid_input(details)),
    };
    if (inc.buyer || inc.recipient) && !sim.has_role(ROLE_PII) {
        return reply_error(&sim, StatusCode::FORBIDDEN, Some(op), &access_denied());
    }
    let found =
        sim.seller_data(caller.seller).and_then(|data| data.order_index(&order_id).map(|i| data.order(i)));
    match found {
        Some(order) => {
            reply(&sim, StatusCode::OK, Some(op), &GetOrderResponse { order: order_26(&order, inc) })
        }
        None => reply_error(
            &sim,
            StatusCode::NOT_FOUND,
            Some(op),
            &not_found(format!("Order {order_id} was not found")),
        ),
    }
}

#[cfg(test)]
mod tests;
