//! Tokens API 2021-03-01 (`tokens_2021-03-01.json`): createRestrictedDataToken. The requested restricted
//! resources are checked: a known restricted Orders operation, `GET`, `dataElements` where the model
//! requires them (getOrders, getOrder, getOrderItems), and the restricted role on the app.

use std::borrow::Cow;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::auth::RdtResource;
use super::envelope::{ApiError, Operation, access_denied, admit, reply, reply_error};
use super::{AmazonSim, ROLE_PII};

const PATH: &str = "/tokens/2021-03-01/restrictedDataToken";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRestrictedDataTokenRequest {
    target_application: Option<String>,
    restricted_resources: Option<Vec<ResourceIn>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceIn {
    method: Option<String>,
    path: Option<String>,
    data_elements: Option<Vec<String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateRestrictedDataTokenResponse {
    restricted_data_token: String,
    expires_in: i64,
}

/// The model's sandbox 400: `InvalidRequest` / "Request is missing or has invalid parameters".
fn invalid_request(details: impl Into<Cow<'static, str>>) -> ApiError {
    ApiError {
        code: "InvalidRequest",
        message: Cow::Borrowed("Request is missing or has invalid parameters"),
        details: Some(details.into()),
    }
}

/// Which data elements a restricted path accepts: `Some(elements)` when they are required.
fn restricted(path: &str) -> Option<Option<&'static [&'static str]>> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let order = |s: &str| !s.is_empty();
    match segments.as_slice() {
        ["", "orders", "v0", "orders"] => {
            Some(Some(&["buyerInfo", "shippingAddress", "buyerTaxInformation"]))
        }
        ["", "orders", "v0", "orders", id] if order(id) => {
            Some(Some(&["buyerInfo", "shippingAddress", "buyerTaxInformation"]))
        }
        ["", "orders", "v0", "orders", id, "orderItems"] if order(id) => Some(Some(&["buyerInfo"])),
        ["", "orders", "v0", "orders", id, "address" | "buyerInfo"] if order(id) => Some(None),
        ["", "orders", "v0", "orders", id, "orderItems", "buyerInfo"] if order(id) => Some(None),
        _ => None,
    }
}

/// `POST /tokens/2021-03-01/restrictedDataToken`.
pub(super) async fn create_restricted_data_token(
    State(sim): State<Arc<AmazonSim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let op = Operation::CreateRestrictedDataToken;
    if let Err(response) = admit(&sim, &headers, op, "POST", PATH) {
        return response;
    }
    let bad =
        |details: String| reply_error(&sim, StatusCode::BAD_REQUEST, Some(op), &invalid_request(details));
    let Ok(request) = serde_json::from_slice::<CreateRestrictedDataTokenRequest>(&body) else {
        return bad("The request body is not valid JSON for this operation.".to_owned());
    };
    if request.target_application.as_deref().is_some_and(|app| app != sim.config.application_id) {
        return bad(
            "The targetApplication is not an application this selling partner delegated to.".to_owned()
        );
    }
    let resources = request.restricted_resources.unwrap_or_default();
    if resources.is_empty() || resources.len() > 50 {
        return bad("Resource not provided.".to_owned());
    }
    let mut granted = Vec::with_capacity(resources.len());
    for resource in resources {
        let (Some(method), Some(path)) = (resource.method, resource.path) else {
            return bad("Resource not provided.".to_owned());
        };
        if !matches!(method.as_str(), "GET" | "PUT" | "POST" | "DELETE") || path.is_empty() {
            return bad("Resource not provided.".to_owned());
        }
        let Some(elements) = restricted(&path).filter(|_| method == "GET") else {
            return bad(format!("The resource {method} {path} is not a restricted resource."));
        };
        let data_elements = resource.data_elements.unwrap_or_default();
        match elements {
            Some(allowed) => {
                if data_elements.is_empty() {
                    return bad(format!("dataElements is required for the resource {path}."));
                }
                if let Some(unknown) = data_elements.iter().find(|e| !allowed.contains(&e.as_str())) {
                    return bad(format!(
                        "The dataElements value {unknown} is not valid for the resource {path}."
                    ));
                }
            }
            None if !data_elements.is_empty() => {
                return bad(format!("dataElements is not supported for the resource {path}."));
            }
            None => {}
        }
        granted.push(RdtResource { method, path, data_elements });
    }
    if !sim.has_role(ROLE_PII) {
        return reply_error(&sim, StatusCode::FORBIDDEN, Some(op), &access_denied());
    }
    let token = headers.get("x-amz-access-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let now = sim.ctx.clock.now_unix();
    let ttl = sim.config.rdt_ttl_secs;
    let issued = sim.auth().issue_rdt(sim.ctx.seed, token, granted, now, ttl);
    match issued {
        Some(rdt) => reply(
            &sim,
            StatusCode::OK,
            Some(op),
            &CreateRestrictedDataTokenResponse { restricted_data_token: rdt, expires_in: ttl },
        ),
        None => reply_error(&sim, StatusCode::FORBIDDEN, Some(op), &super::envelope::token_rejected()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricted_paths_and_their_data_elements() {
        assert!(matches!(restricted("/orders/v0/orders"), Some(Some(e)) if e.contains(&"shippingAddress")));
        assert!(matches!(restricted("/orders/v0/orders/{orderId}"), Some(Some(_))));
        assert!(
            matches!(restricted("/orders/v0/orders/902-1/orderItems"), Some(Some(e)) if e == ["buyerInfo"])
        );
        assert!(matches!(restricted("/orders/v0/orders/{orderId}/address"), Some(None)));
        assert!(matches!(restricted("/orders/v0/orders/1/orderItems/buyerInfo"), Some(None)));
        assert!(restricted("/orders/v1/orders/902-1845936-5435065/address").is_none());
        assert!(restricted("/fba/inventory/v1/summaries").is_none());
    }
}
