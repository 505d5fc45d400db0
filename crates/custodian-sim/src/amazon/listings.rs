//! Listings Items API 2021-08-01 (`listingsItems_2021-08-01.json`): patchListingsItem with the JSON-patch
//! operations `add`, `replace`, `merge` and `delete` on top-level attributes. A `merge` (or `add`/`replace`)
//! of `/attributes/fulfillment_availability` with `fulfillment_channel_code` `DEFAULT` sets the MFN
//! quantity. Answers are the model's `ListingsItemSubmissionResponse`: `ACCEPTED` (or `VALID` in
//! `VALIDATION_PREVIEW` mode) with no issues, or `INVALID` with the issues; an unknown SKU is the sandbox's
//! 400 `BAD_REQUEST` "Invalid input".

use std::borrow::Cow;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::AmazonSim;
use super::data::sku_number;
use super::envelope::{ApiError, Operation, access_denied, admit, invalid_input, reply, reply_error};
use super::orders::Params;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PatchRequest {
    product_type: Option<String>,
    patches: Option<Vec<PatchOperation>>,
}

#[derive(Deserialize)]
struct PatchOperation {
    op: Option<String>,
    path: Option<String>,
    value: Option<Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Issue {
    code: &'static str,
    message: String,
    severity: &'static str,
    attribute_names: Vec<String>,
    categories: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SubmissionResponse<'a> {
    sku: &'a str,
    status: &'static str,
    submission_id: String,
    issues: Vec<Issue>,
}

fn invalid_attribute(attribute: &str, message: String) -> Issue {
    Issue {
        code: "90000900",
        message,
        severity: "ERROR",
        attribute_names: vec![attribute.to_owned()],
        categories: vec!["INVALID_ATTRIBUTE"],
    }
}

/// Checks a `fulfillment_availability` value: every entry has a channel code and a non-negative integer
/// quantity, and only the `DEFAULT` (merchant) channel takes a quantity. The MFN quantity to set, if any.
fn fulfillment_availability(value: Option<&Value>, issues: &mut Vec<Issue>) -> Option<u32> {
    const ATTRIBUTE: &str = "fulfillment_availability";
    let Some(entries) = value.and_then(Value::as_array).filter(|a| !a.is_empty()) else {
        issues.push(invalid_attribute(ATTRIBUTE, "The value must be a non-empty array.".to_owned()));
        return None;
    };
    let mut quantity = None;
    for entry in entries {
        let code = entry.get("fulfillment_channel_code").and_then(Value::as_str);
        let amount = entry.get("quantity").map(|q| q.as_u64().and_then(|q| u32::try_from(q).ok()));
        match (code, amount) {
            (None, _) => issues.push(invalid_attribute(
                ATTRIBUTE,
                "The attribute 'fulfillment_channel_code' is required.".to_owned(),
            )),
            (Some(_), Some(None)) => issues.push(invalid_attribute(
                ATTRIBUTE,
                "The attribute 'quantity' must be a whole number of at least 0.".to_owned(),
            )),
            (Some("DEFAULT"), Some(Some(q))) => quantity = Some(q),
            (Some("DEFAULT"), None) => {}
            (Some(other), Some(Some(_))) => issues.push(invalid_attribute(
                ATTRIBUTE,
                format!("The fulfillment channel '{other}' does not accept quantity updates."),
            )),
            (Some(_), None) => {}
        }
    }
    quantity
}

/// `PATCH /listings/2021-08-01/items/{sellerId}/{sku}`.
pub(super) async fn patch_listings_item(
    State(sim): State<Arc<AmazonSim>>,
    headers: HeaderMap,
    Path((seller_id, sku)): Path<(String, String)>,
    Query(params): Query<Vec<(String, String)>>,
    body: Bytes,
) -> Response {
    let op = Operation::PatchListingsItem;
    let path = format!("/listings/2021-08-01/items/{seller_id}/{sku}");
    let caller = match admit(&sim, &headers, op, "PATCH", &path) {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let Some(seller) = sim.config.sellers.get(caller.seller) else {
        return reply_error(&sim, StatusCode::FORBIDDEN, Some(op), &access_denied());
    };
    if seller.id != seller_id {
        return reply_error(&sim, StatusCode::FORBIDDEN, Some(op), &access_denied());
    }
    let params = Params(params);
    let bad = |details: String| reply_error(&sim, StatusCode::BAD_REQUEST, Some(op), &invalid_input(details));
    match params.list("marketplaceIds") {
        None => return bad("Missing required parameter [marketplaceIds]".to_owned()),
        Some(list) => {
            if let Some(unknown) = list.iter().find(|m| !seller.marketplaces.contains(m)) {
                return bad(format!("Invalid marketplace id [{unknown}]"));
            }
        }
    }
    if sku_number(seller, &sku).is_none() {
        let error = ApiError {
            code: "BAD_REQUEST",
            message: Cow::Borrowed("Invalid input"),
            details: Some(Cow::Borrowed("Invalid input")),
        };
        return reply_error(&sim, StatusCode::BAD_REQUEST, Some(op), &error);
    }
    let Ok(request) = serde_json::from_slice::<PatchRequest>(&body) else {
        return bad("The request body is not a valid ListingsItemPatchRequest".to_owned());
    };
    if request.product_type.as_deref().is_none_or(str::is_empty) {
        return bad("Missing required field [productType]".to_owned());
    }
    let patches = request.patches.unwrap_or_default();
    if patches.is_empty() {
        return bad("At least one patch is required [patches]".to_owned());
    }
    let mut issues = Vec::new();
    let mut quantity = None;
    for patch in &patches {
        let op_name = patch.op.as_deref().unwrap_or_default();
        let Some(attribute) = patch.path.as_deref().and_then(|p| p.strip_prefix("/attributes/")) else {
            issues.push(invalid_attribute(
                "",
                "Only top-level attributes (/attributes/<name>) can be patched.".into(),
            ));
            continue;
        };
        if attribute.is_empty() || attribute.contains('/') {
            issues.push(invalid_attribute(
                attribute,
                "Patching nested attributes is not supported.".to_owned(),
            ));
            continue;
        }
        match (op_name, attribute) {
            ("add" | "replace" | "merge", "fulfillment_availability") => {
                if let Some(q) = fulfillment_availability(patch.value.as_ref(), &mut issues) {
                    quantity = Some(q);
                }
            }
            ("merge", other) => issues.push(invalid_attribute(
                other,
                format!("The merge operation is not supported for the attribute '{other}'."),
            )),
            ("add" | "replace", _) if patch.value.as_ref().and_then(Value::as_array).is_none() => {
                issues.push(invalid_attribute(attribute, "The value must be an array.".to_owned()));
            }
            ("add" | "replace" | "delete", _) => {}
            (other, _) => {
                return bad(format!("Invalid patch operation [{other}]"));
            }
        }
    }
    let preview = params.get("mode") == Some("VALIDATION_PREVIEW");
    let status = if !issues.is_empty() {
        "INVALID"
    } else if preview {
        "VALID"
    } else {
        "ACCEPTED"
    };
    if status == "ACCEPTED"
        && let Some(q) = quantity
    {
        sim.mfn().insert((caller.seller, sku.clone()), q);
    }
    let body = SubmissionResponse { sku: &sku, status, submission_id: sim.next_uuid(), issues };
    reply(&sim, StatusCode::OK, Some(op), &body)
}
