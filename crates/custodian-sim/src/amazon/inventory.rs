//! FBA Inventory API v1 (`fbaInventory.json`): getInventorySummaries at marketplace granularity, pages of
//! 50 with `nextToken` (valid for 30 seconds, as the model says), `details`, `sellerSkus`, `sellerSku` and
//! `startDateTime`.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;

use super::data::{SellerData, sku_name, sku_number};
use super::envelope::{Operation, admit, invalid_input, reply, reply_error};
use super::orders::Params;
use super::{AmazonSim, iso};
use crate::seed::{text, value};

/// Summaries per page.
const PAGE: u64 = 50;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Granularity<'a> {
    granularity_type: &'static str,
    granularity_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReservedQuantity {
    total_reserved_quantity: u64,
    pending_customer_order_quantity: u64,
    pending_transshipment_quantity: u64,
    fc_processing_quantity: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResearchingQuantity {
    total_researching_quantity: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UnfulfillableQuantity {
    total_unfulfillable_quantity: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InventoryDetails {
    fulfillable_quantity: u64,
    inbound_working_quantity: u64,
    inbound_shipped_quantity: u64,
    inbound_receiving_quantity: u64,
    reserved_quantity: ReservedQuantity,
    researching_quantity: ResearchingQuantity,
    unfulfillable_quantity: UnfulfillableQuantity,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InventorySummary {
    asin: String,
    fn_sku: String,
    seller_sku: String,
    condition: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    inventory_details: Option<InventoryDetails>,
    last_updated_time: String,
    product_name: &'static str,
    total_quantity: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload<'a> {
    granularity: Granularity<'a>,
    inventory_summaries: Vec<InventorySummary>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Pagination {
    next_token: String,
}

#[derive(Serialize)]
struct GetInventorySummariesResponse<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pagination: Option<Pagination>,
    payload: Payload<'a>,
}

/// When SKU `n`'s quantities last changed: within 30 days after the orders' epoch.
fn last_updated(data: &SellerData<'_>, epoch: i64, n: u64) -> i64 {
    let offset = value(data.seed, &[text("amazon-fba-time"), text(&data.seller.id), n]) % (30 * 86_400);
    epoch + i64::try_from(offset).unwrap_or(0)
}

fn summary(data: &SellerData<'_>, epoch: i64, n: u64, details: bool) -> InventorySummary {
    let (fulfillable, inbound, reserved, unfulfillable) = data.fba_quantities(n);
    InventorySummary {
        asin: data.asin(n),
        fn_sku: data.fnsku(n),
        seller_sku: sku_name(n),
        condition: "NewItem",
        inventory_details: details.then_some(InventoryDetails {
            fulfillable_quantity: fulfillable,
            inbound_working_quantity: inbound / 2,
            inbound_shipped_quantity: inbound - inbound / 2,
            inbound_receiving_quantity: 0,
            reserved_quantity: ReservedQuantity {
                total_reserved_quantity: reserved,
                pending_customer_order_quantity: reserved,
                pending_transshipment_quantity: 0,
                fc_processing_quantity: 0,
            },
            researching_quantity: ResearchingQuantity { total_researching_quantity: 0 },
            unfulfillable_quantity: UnfulfillableQuantity { total_unfulfillable_quantity: unfulfillable },
        }),
        last_updated_time: iso::format(last_updated(data, epoch, n)),
        product_name: data.title(n),
        total_quantity: fulfillable + inbound + reserved + unfulfillable,
    }
}

fn next_token(seed: u64, seller: usize, index: u64, issued: i64, query: u64) -> String {
    let check = value(seed, &[text("amazon-fba-next"), seller as u64, index, issued.cast_unsigned(), query]);
    format!("{index:x}.{issued:x}.{query:x}.{check:x}")
}

/// The index a `nextToken` continues at; `Err(true)` when it expired, `Err(false)` when it is not ours.
fn read_next_token(
    seed: u64,
    seller: usize,
    token: &str,
    query: u64,
    now: i64,
    ttl: i64,
) -> Result<u64, bool> {
    let mut parts = token.split('.');
    let mut field = || parts.next().and_then(|p| u64::from_str_radix(p, 16).ok()).ok_or(false);
    let (index, issued, fingerprint, check) = (field()?, field()?, field()?, field()?);
    let expected = value(seed, &[text("amazon-fba-next"), seller as u64, index, issued, fingerprint]);
    if check != expected || fingerprint != query {
        return Err(false);
    }
    if now - issued.cast_signed() > ttl {
        return Err(true);
    }
    Ok(index)
}

/// `GET /fba/inventory/v1/summaries`.
pub(super) async fn get_inventory_summaries(
    State(sim): State<Arc<AmazonSim>>,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let op = Operation::GetInventorySummaries;
    let caller = match admit(&sim, &headers, op, "GET", "/fba/inventory/v1/summaries") {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let params = Params(params);
    let bad = |details: String| reply_error(&sim, StatusCode::BAD_REQUEST, Some(op), &invalid_input(details));
    let Some(data) = sim.seller_data(caller.seller) else { return bad("Unknown seller".to_owned()) };
    if params.get("granularityType") != Some("Marketplace") {
        return bad("Invalid or missing granularityType: Marketplace is the only supported value".to_owned());
    }
    let Some(granularity_id) = params.get("granularityId") else {
        return bad("Missing required parameter [granularityId]".to_owned());
    };
    match params.list("marketplaceIds").as_deref() {
        Some([one]) if data.seller.marketplaces.contains(one) && one == granularity_id => {}
        Some([_]) => return bad(format!("Invalid marketplace id [{granularity_id}]")),
        Some(_) => return bad("Exactly one marketplace id is allowed [marketplaceIds]".to_owned()),
        None => return bad("Missing required parameter [marketplaceIds]".to_owned()),
    }
    let details = match params.get("details") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return bad("Invalid value for [details]".to_owned()),
    };
    let start = match params.get("startDateTime") {
        None => None,
        Some(raw) => match iso::parse(raw) {
            Some(t) => Some(t),
            None => return bad("Invalid date/time field [startDateTime]".to_owned()),
        },
    };
    let epoch = sim.config.orders_epoch_unix;
    let mut candidates: Option<Vec<u64>> = None;
    if start.is_none() {
        if let Some(skus) = params.list("sellerSkus") {
            if skus.len() > 50 {
                return bad("At most 50 sellerSkus are allowed".to_owned());
            }
            candidates = Some(skus.iter().filter_map(|s| sku_number(data.seller, s)).collect());
        } else if let Some(sku) = params.get("sellerSku") {
            candidates = Some(sku_number(data.seller, sku).into_iter().collect());
        }
    }
    let query = text(&format!("{granularity_id}|{details}|{start:?}|{candidates:?}"));
    let now = sim.ctx.clock.now_unix();
    let from = match params.get("nextToken") {
        None => 0,
        Some(token) => {
            match read_next_token(
                sim.ctx.seed,
                caller.seller,
                token,
                query,
                now,
                sim.config.fba_next_token_ttl_secs,
            ) {
                Ok(i) => i,
                Err(true) => return bad("The nextToken has expired".to_owned()),
                Err(false) => return bad("Invalid nextToken".to_owned()),
            }
        }
    };
    let matches = |n: u64| start.is_none_or(|s| last_updated(&data, epoch, n) >= s);
    let mut summaries = Vec::new();
    let mut next = None;
    match &candidates {
        Some(list) => {
            for &n in list.iter().skip(usize::try_from(from).unwrap_or(usize::MAX)) {
                summaries.push(summary(&data, epoch, n, details));
            }
        }
        None => {
            let mut n = from;
            while n < data.seller.skus {
                if matches(n) {
                    if summaries.len() as u64 == PAGE {
                        next = Some(n);
                        break;
                    }
                    summaries.push(summary(&data, epoch, n, details));
                }
                n += 1;
            }
        }
    }
    let body = GetInventorySummariesResponse {
        pagination: next
            .map(|n| Pagination { next_token: next_token(sim.ctx.seed, caller.seller, n, now, query) }),
        payload: Payload {
            granularity: Granularity { granularity_type: "Marketplace", granularity_id },
            inventory_summaries: summaries,
        },
    };
    reply(&sim, StatusCode::OK, Some(op), &body)
}
