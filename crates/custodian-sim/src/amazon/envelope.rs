//! What every SP-API answer shares: the operations and their official usage plans, the `errors` envelope,
//! the `x-amzn-RequestId` and `x-amzn-RateLimit-Limit` headers, and the admission of a call (access token,
//! Restricted Data Token coverage, role, rate limit).

use std::borrow::Cow;
use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;

use super::auth::{Access, RdtResource};
use super::{AmazonSim, ROLE_LISTINGS, ROLE_ORDERS};
use crate::faults::SimPlatform;
use crate::rate::Limit;

/// An SP-API operation the simulator serves; each has its own usage plan (token bucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    GetOrders,
    GetOrder,
    GetOrderBuyerInfo,
    GetOrderAddress,
    GetOrderItems,
    SearchOrders,
    GetOrder2026,
    CreateRestrictedDataToken,
    PatchListingsItem,
    GetInventorySummaries,
    GetMarketplaceParticipations,
}

/// The official default usage plans, `(operation name, rate per second, burst)`, from the models'
/// "Usage Plan" tables.
pub const OFFICIAL_USAGE_PLANS: &[(&str, f64, f64)] = &[
    ("ordersV0.getOrders", 0.0167, 20.0),
    ("ordersV0.getOrder", 0.5, 30.0),
    ("ordersV0.getOrderBuyerInfo", 0.5, 30.0),
    ("ordersV0.getOrderAddress", 0.5, 30.0),
    ("ordersV0.getOrderItems", 0.5, 30.0),
    ("orders2026.searchOrders", 0.0056, 20.0),
    ("orders2026.getOrder", 0.5, 30.0),
    ("tokens.createRestrictedDataToken", 1.0, 10.0),
    ("listingsItems.patchListingsItem", 5.0, 5.0),
    ("fbaInventory.getInventorySummaries", 2.0, 2.0),
    ("sellers.getMarketplaceParticipations", 0.016, 15.0),
];

/// [`OFFICIAL_USAGE_PLANS`] as a map.
pub(super) fn official_usage_plans() -> BTreeMap<String, Limit> {
    OFFICIAL_USAGE_PLANS
        .iter()
        .map(|(name, rate, burst)| ((*name).to_owned(), Limit::new(*rate, *burst)))
        .collect()
}

impl Operation {
    /// The operation's name: the model's `operationId`, qualified by its API.
    pub fn name(self) -> &'static str {
        match self {
            Self::GetOrders => "ordersV0.getOrders",
            Self::GetOrder => "ordersV0.getOrder",
            Self::GetOrderBuyerInfo => "ordersV0.getOrderBuyerInfo",
            Self::GetOrderAddress => "ordersV0.getOrderAddress",
            Self::GetOrderItems => "ordersV0.getOrderItems",
            Self::SearchOrders => "orders2026.searchOrders",
            Self::GetOrder2026 => "orders2026.getOrder",
            Self::CreateRestrictedDataToken => "tokens.createRestrictedDataToken",
            Self::PatchListingsItem => "listingsItems.patchListingsItem",
            Self::GetInventorySummaries => "fbaInventory.getInventorySummaries",
            Self::GetMarketplaceParticipations => "sellers.getMarketplaceParticipations",
        }
    }

    /// The role an app needs for the operation (restricted data additionally needs the PII role, checked
    /// where it is asked for). Sellers data needs no role.
    fn role(self) -> Option<&'static str> {
        match self {
            Self::GetOrders
            | Self::GetOrder
            | Self::GetOrderBuyerInfo
            | Self::GetOrderAddress
            | Self::GetOrderItems
            | Self::SearchOrders
            | Self::GetOrder2026
            | Self::GetInventorySummaries => Some(ROLE_ORDERS),
            Self::PatchListingsItem => Some(ROLE_LISTINGS),
            Self::CreateRestrictedDataToken | Self::GetMarketplaceParticipations => None,
        }
    }
}

/// One entry of the `errors` envelope (model `Error`).
#[derive(Debug, Clone, Serialize)]
pub(super) struct ApiError {
    pub code: &'static str,
    pub message: Cow<'static, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Cow<'static, str>>,
}

#[derive(Serialize)]
struct ErrorList<'a> {
    errors: [&'a ApiError; 1],
}

/// The generic `InvalidInput` Amazon answers malformed requests with.
pub(super) const INVALID_INPUT_MESSAGE: &str =
    "The input you have submitted is not valid. Please check your input and try again.";

/// 400 `InvalidInput`, naming what is wrong in `details`.
pub(super) fn invalid_input(details: impl Into<Cow<'static, str>>) -> ApiError {
    ApiError {
        code: "InvalidInput",
        message: Cow::Borrowed(INVALID_INPUT_MESSAGE),
        details: Some(details.into()),
    }
}

/// 429 body (`jlevers/selling-partner-api#477`).
pub(super) fn quota_exceeded() -> ApiError {
    ApiError {
        code: "QuotaExceeded",
        message: Cow::Borrowed("You exceeded your quota for the requested resource."),
        details: Some(Cow::Borrowed("")),
    }
}

/// 403 for a revoked, expired, unknown or out-of-scope token (`selling-partner-api-models#2333`).
pub(super) fn token_rejected() -> ApiError {
    ApiError {
        code: "Unauthorized",
        message: Cow::Borrowed("Access to requested resource is denied."),
        details: Some(Cow::Borrowed("The access token you provided is revoked, malformed or invalid.")),
    }
}

/// 403 for a valid token whose app lacks the role (`selling-partner-api-models#943`).
pub(super) fn access_denied() -> ApiError {
    ApiError {
        code: "Unauthorized",
        message: Cow::Borrowed("Access to requested resource is denied."),
        details: Some(Cow::Borrowed("")),
    }
}

/// 403 without `x-amz-access-token` (`selling-partner-api-docs#76`).
fn missing_token() -> ApiError {
    ApiError {
        code: "MissingAuthenticationToken",
        message: Cow::Borrowed("Access to requested resource is denied."),
        details: None,
    }
}

/// 404 for an order, SKU or resource that does not exist.
pub(super) fn not_found(details: impl Into<Cow<'static, str>>) -> ApiError {
    ApiError {
        code: "NotFound",
        message: Cow::Borrowed("The requested resource was not found."),
        details: Some(details.into()),
    }
}

/// 5xx body of an injected fault.
pub(super) fn internal_failure(status: StatusCode) -> ApiError {
    if status == StatusCode::SERVICE_UNAVAILABLE {
        ApiError {
            code: "ServiceUnavailable",
            message: Cow::Borrowed("The service is temporarily unavailable. Please try again later."),
            details: Some(Cow::Borrowed("")),
        }
    } else {
        ApiError {
            code: "InternalFailure",
            message: Cow::Borrowed("We encountered an internal error. Please try again."),
            details: Some(Cow::Borrowed("")),
        }
    }
}

/// A JSON answer with `x-amzn-RequestId`, and `x-amzn-RateLimit-Limit` when `op` is given.
pub(super) fn reply_json(
    sim: &AmazonSim,
    status: StatusCode,
    op: Option<Operation>,
    body: Vec<u8>,
) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(id) = HeaderValue::from_str(&sim.next_uuid()) {
        headers.insert("x-amzn-RequestId", id);
    }
    if let Some(limit) = op.and_then(|op| sim.config.usage_plans.get(op.name()))
        && let Ok(value) = HeaderValue::from_str(&rate_text(limit.per_second))
    {
        headers.insert("x-amzn-RateLimit-Limit", value);
    }
    response
}

/// A serializable value as a JSON answer (see [`reply_json`]).
pub(super) fn reply<T: Serialize>(
    sim: &AmazonSim,
    status: StatusCode,
    op: Option<Operation>,
    body: &T,
) -> Response {
    reply_sized(sim, status, op, body, 256)
}

/// [`reply`] into a buffer of `capacity` bytes up front (pages of orders are large; growing the buffer
/// step by step costs copies).
pub(super) fn reply_sized<T: Serialize>(
    sim: &AmazonSim,
    status: StatusCode,
    op: Option<Operation>,
    body: &T,
    capacity: usize,
) -> Response {
    let mut bytes = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut bytes, body) {
        Ok(()) => reply_json(sim, status, op, bytes),
        Err(_) => reply_error(
            sim,
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            &internal_failure(StatusCode::INTERNAL_SERVER_ERROR),
        ),
    }
}

/// An `{"errors":[…]}` answer. The rate-limit header goes only with 400 and 404, as the models say.
pub(super) fn reply_error(
    sim: &AmazonSim,
    status: StatusCode,
    op: Option<Operation>,
    error: &ApiError,
) -> Response {
    let op = op.filter(|_| matches!(status, StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND));
    let body = serde_json::to_vec(&ErrorList { errors: [error] }).unwrap_or_default();
    reply_json(sim, status, op, body)
}

/// A rate as Amazon prints it (`0.0167`, `5.0`).
fn rate_text(per_second: f64) -> String {
    if per_second.fract() == 0.0 { format!("{per_second:.1}") } else { format!("{per_second}") }
}

/// Who is calling, once admitted.
#[derive(Debug, Clone)]
pub(super) struct Caller {
    /// The seller's index in the configuration.
    pub seller: usize,
    /// The Restricted Data Token's resources, when the call was made with one.
    pub rdt: Option<Vec<RdtResource>>,
}

impl Caller {
    /// Whether the RDT of this call grants `element` (`buyerInfo`, `shippingAddress`) for the resource.
    pub(super) fn grants(&self, method: &str, path: &str, element: &str) -> bool {
        self.rdt.as_ref().is_some_and(|resources| {
            resources.iter().any(|r| r.covers(method, path) && r.data_elements.iter().any(|e| e == element))
        })
    }

    /// Whether this call was made with an RDT covering the resource (for operations without data
    /// elements, such as `getOrderAddress`).
    pub(super) fn rdt_covers(&self, method: &str, path: &str) -> bool {
        self.rdt.as_ref().is_some_and(|resources| resources.iter().any(|r| r.covers(method, path)))
    }
}

/// Admits a call of `op` on the real resource `method path`: a known, live token of a live authorization
/// (an RDT only for the resources it names), the app's role for the operation, and a token from the
/// (seller, app, operation) bucket. Otherwise the answer to send.
#[expect(clippy::result_large_err, reason = "the error is the answer, sent at once")]
pub(super) fn admit(
    sim: &AmazonSim,
    headers: &HeaderMap,
    op: Operation,
    method: &str,
    path: &str,
) -> Result<Caller, Response> {
    let Some(token) = headers.get("x-amz-access-token").and_then(|v| v.to_str().ok()) else {
        return Err(reply_error(sim, StatusCode::FORBIDDEN, Some(op), &missing_token()));
    };
    let now = sim.ctx.clock.now_unix();
    let access = sim.auth().check(token, now);
    let caller = match access {
        Some(Access::Lwa { seller }) => Caller { seller, rdt: None },
        Some(Access::Rdt { seller, resources }) => {
            if !resources.iter().any(|r| r.covers(method, path)) {
                return Err(reply_error(sim, StatusCode::FORBIDDEN, Some(op), &token_rejected()));
            }
            Caller { seller, rdt: Some(resources) }
        }
        None => return Err(reply_error(sim, StatusCode::FORBIDDEN, Some(op), &token_rejected())),
    };
    if let Some(role) = op.role()
        && !sim.has_role(role)
    {
        return Err(reply_error(sim, StatusCode::FORBIDDEN, Some(op), &access_denied()));
    }
    if let Some(limit) = sim.config.usage_plans.get(op.name()) {
        let key = format!("{}/{}/{}", caller.seller, sim.config.client_id, op.name());
        if sim.limiter.check(&key, *limit).is_err() {
            sim.ctx.faults.record_throttled(SimPlatform::Amazon);
            return Err(reply_error(sim, StatusCode::TOO_MANY_REQUESTS, Some(op), &quota_exceeded()));
        }
    }
    Ok(caller)
}

impl AmazonSim {
    /// Whether the app registration holds `role`.
    pub(super) fn has_role(&self, role: &str) -> bool {
        self.config.app_roles.iter().any(|r| r == role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_print_as_amazon_prints_them() {
        assert_eq!(rate_text(0.0167), "0.0167");
        assert_eq!(rate_text(5.0), "5.0");
        assert_eq!(rate_text(0.5), "0.5");
    }

    #[test]
    fn every_operation_has_an_official_plan() {
        let plans = official_usage_plans();
        for op in [
            Operation::GetOrders,
            Operation::GetOrder,
            Operation::GetOrderBuyerInfo,
            Operation::GetOrderAddress,
            Operation::GetOrderItems,
            Operation::SearchOrders,
            Operation::GetOrder2026,
            Operation::CreateRestrictedDataToken,
            Operation::PatchListingsItem,
            Operation::GetInventorySummaries,
            Operation::GetMarketplaceParticipations,
        ] {
            assert!(plans.contains_key(op.name()), "{}", op.name());
        }
    }
}
