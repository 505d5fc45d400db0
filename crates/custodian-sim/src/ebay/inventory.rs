//! The Inventory API: `GET /sell/inventory/v1/inventory_item` (paged by page number) and
//! `POST /sell/inventory/v1/bulk_update_price_quantity` (up to 25 requests, 200 or 207 Multi-Status).

use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::envelope::{self, ApiError};
use super::orders::json_str;
use super::{EbaySim, SCOPE_INVENTORY, SCOPE_INVENTORY_READONLY};

const DOMAIN: &str = "API_INVENTORY";
/// The most requests `bulk_update_price_quantity` takes (the `BulkPriceQuantity` schema).
pub(super) const MAX_BULK_REQUESTS: usize = 25;

/// The index of `SKU-000123` among `count` SKUs.
pub(super) fn sku_index(sku: &str, count: u64) -> Option<u64> {
    let digits = sku.strip_prefix("SKU-")?;
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok().filter(|i| *i < count)
}

fn pagination_error(info: &str) -> Response {
    envelope::errors(
        StatusCode::BAD_REQUEST,
        &[ApiError::new(
            25706,
            DOMAIN,
            "REQUEST",
            format!("You have provided invalid pagination values. {info}."),
        )],
    )
}

/// `GET /sell/inventory/v1/inventory_item?limit=&offset=` (offset = page number).
pub(super) async fn get_inventory_items(
    State(sim): State<Arc<EbaySim>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let caller = match sim.authorize(&headers, &[SCOPE_INVENTORY, SCOPE_INVENTORY_READONLY]) {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    let Some(seller) = caller.user else { return envelope::insufficient_permissions() };
    if let Err(throttled) = sim.throttle("inventory", sim.config.limits.inventory) {
        return throttled;
    }
    let (mut limit, mut page) = (25u64, 0u64);
    for (name, value) in envelope::raw_query_pairs(uri.query()) {
        match name {
            "limit" => match value.parse::<u64>() {
                Ok(v) if (1..=200).contains(&v) => limit = v,
                _ => return pagination_error("limit must be between 1 and 200"),
            },
            "offset" => match value.parse::<u64>() {
                Ok(v) => page = v,
                Err(_) => return pagination_error("offset must be a page number from 0"),
            },
            _ => {}
        }
    }
    let total = sim.config.sellers.get(seller).map_or(0, |s| s.inventory_items);
    let pages = total.div_ceil(limit);
    let base = format!("{}/ebay/api/sell/inventory/v1/inventory_item", sim.ctx.base_url());
    let link = |page: u64| json_str(&format!("{base}?limit={limit}&offset={page}"));
    let mut out = String::with_capacity(256 + 200 * usize::try_from(limit).unwrap_or(200));
    let _ = write!(out, r#"{{"href":{},"limit":{limit}"#, link(page));
    if page.saturating_add(1) < pages {
        let _ = write!(out, r#","next":{}"#, link(page + 1));
    }
    if page > 0 {
        let _ = write!(out, r#","prev":{}"#, link(page - 1));
    }
    let _ = write!(out, r#","size":{pages},"total":{total},"inventoryItems":["#);
    let first = page.saturating_mul(limit).min(total);
    let last = first.saturating_add(limit).min(total);
    for (n, index) in (first..last).enumerate() {
        if n > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#"{{"sku":"SKU-{index:06}","locale":"en_US","product":{{"title":"Simulated item {index}","aspects":{{}},"imageUrls":[]}},"condition":"NEW","availability":{{"shipToLocationAvailability":{{"quantity":{}}}}}}}"#,
            sim.quantity(seller, index)
        );
    }
    out.push_str("]}");
    envelope::raw_json(StatusCode::OK, out.into_bytes())
}

#[derive(Deserialize)]
struct BulkPriceQuantity {
    requests: Option<Vec<PriceQuantity>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PriceQuantity {
    sku: Option<String>,
    ship_to_location_availability: Option<ShipToLocationAvailability>,
    offers: Option<Vec<OfferPriceQuantity>>,
}

#[derive(Deserialize)]
struct ShipToLocationAvailability {
    quantity: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OfferPriceQuantity {
    offer_id: Option<String>,
    available_quantity: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PriceQuantityResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    offer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sku: Option<String>,
    status_code: u16,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<ApiError>,
}

#[derive(Serialize)]
struct BulkPriceQuantityResponse {
    responses: Vec<PriceQuantityResponse>,
}

fn invalid_value(field: &str, info: &str) -> ApiError {
    ApiError::new(25709, DOMAIN, "REQUEST", format!("Invalid value for {field}. {info}"))
        .param("fieldName", field)
}

/// `POST /sell/inventory/v1/bulk_update_price_quantity`.
pub(super) async fn bulk_update_price_quantity(
    State(sim): State<Arc<EbaySim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match sim.authorize(&headers, &[SCOPE_INVENTORY]) {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    let Some(seller) = caller.user else { return envelope::insufficient_permissions() };
    if let Err(throttled) = sim.throttle("inventory", sim.config.limits.inventory) {
        return throttled;
    }
    let requests = match serde_json::from_slice::<BulkPriceQuantity>(&body) {
        Ok(BulkPriceQuantity { requests: Some(requests) })
            if (1..=MAX_BULK_REQUESTS).contains(&requests.len()) =>
        {
            requests
        }
        Ok(_) => {
            return envelope::errors(
                StatusCode::BAD_REQUEST,
                &[invalid_value("requests", "Between 1 and 25 requests are allowed per call.")],
            );
        }
        Err(_) => {
            return envelope::errors(
                StatusCode::BAD_REQUEST,
                &[invalid_value("request", "The request body is not valid JSON.")],
            );
        }
    };
    let count = sim.config.sellers.get(seller).map_or(0, |s| s.inventory_items);
    let mut responses = Vec::with_capacity(requests.len());
    for request in requests {
        let index = request.sku.as_deref().and_then(|sku| sku_index(sku, count));
        let mut errors = Vec::new();
        let mut status = 200;
        match (&request.sku, index) {
            (None, _) => {
                status = 400;
                errors.push(invalid_value("sku", "A SKU is required."));
            }
            (Some(_), None) => {
                status = 404;
                errors.push(ApiError::new(
                    25710,
                    DOMAIN,
                    "REQUEST",
                    "We didn't find the resource/entity you are requesting. Please verify the request",
                ));
            }
            (Some(_), Some(_)) => {}
        }
        let quantity = request.ship_to_location_availability.as_ref().and_then(|s| s.quantity);
        if quantity.is_some_and(|q| q < 0) {
            status = 400;
            errors.push(invalid_value("quantity", "The quantity must be zero or more."));
        }
        let offers = request.offers.unwrap_or_default();
        if offers.iter().any(|o| o.available_quantity.is_some_and(|q| q < 0)) {
            status = 400;
            errors.push(invalid_value("availableQuantity", "The quantity must be zero or more."));
        }
        if status == 200
            && let (Some(index), Some(quantity)) = (index, quantity)
        {
            sim.state().stock.insert((seller, index), quantity);
        }
        if offers.is_empty() {
            responses.push(PriceQuantityResponse {
                offer_id: None,
                sku: request.sku,
                status_code: status,
                errors,
            });
        } else {
            for offer in offers {
                responses.push(PriceQuantityResponse {
                    offer_id: offer.offer_id,
                    sku: request.sku.clone(),
                    status_code: status,
                    errors: errors.clone(),
                });
            }
        }
    }
    let all_ok = responses.iter().all(|r| r.status_code == 200);
    let status = if all_ok { StatusCode::OK } else { StatusCode::MULTI_STATUS };
    envelope::json(status, &BulkPriceQuantityResponse { responses })
}
