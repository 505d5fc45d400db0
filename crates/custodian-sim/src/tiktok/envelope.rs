//! The TikTok envelope `{code, message, request_id, data}` (HTTP 200 for API errors), the return codes the
//! simulator uses, and the gate every API request passes: rate limit, `Access-Token`, scope, advertiser.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::{Grant, PLATFORM, TikTokSim};
use crate::seed;

/// A non-zero return code and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ApiError {
    pub code: i64,
    pub message: String,
}

impl ApiError {
    pub(super) fn new(code: i64, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// 40002 `param_error`.
    pub(super) fn param(message: impl Into<String>) -> Self {
        Self::new(40_002, message)
    }

    /// 40002 for a missing required field, in TikTok's wording.
    pub(super) fn missing(field: &str) -> Self {
        Self::param(format!("{field}: Missing data for required field."))
    }

    /// 40001 `permission_error`.
    pub(super) fn permission(message: impl Into<String>) -> Self {
        Self::new(40_001, message)
    }

    /// 40100 `request_too_frequent` (§2.6 T6).
    pub(super) fn rate_limited(app_id: &str) -> Self {
        Self::new(
            40_100,
            format!("Due to too many requests, requests from App {app_id} are temporarily restricted."),
        )
    }

    /// 40101 `invalid_partner`: wrong app id or secret.
    pub(super) fn bad_app() -> Self {
        Self::new(40_101, "The app_id or secret is invalid.")
    }
}

pub(super) type ApiResult<T> = Result<T, ApiError>;

/// A `request_id`: the UTC time and a counter, 32 characters, like TikTok's log ids.
fn request_id(sim: &TikTokSim) -> String {
    let n = sim.requests.fetch_add(1, Ordering::Relaxed);
    let stamp = super::data::datetime(sim.ctx.clock.now_unix()).replace(['-', ' ', ':'], "");
    let mut id = String::with_capacity(32);
    id.push_str(&stamp);
    let _ = write!(id, "{:018X}", seed::value(sim.ctx.seed, &[seed::text("tiktok-request"), n]) >> 8);
    id
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The start of an envelope up to and including `"data":`.
pub(super) fn open_envelope(sim: &TikTokSim, code: i64, message: &str, capacity: usize) -> String {
    let mut out = String::with_capacity(capacity + 128);
    let _ = write!(
        out,
        "{{\"code\":{code},\"message\":{},\"request_id\":\"{}\",\"data\":",
        serde_json::to_string(message).unwrap_or_else(|_| "\"\"".to_owned()),
        request_id(sim)
    );
    out
}

/// Closes an envelope opened by [`open_envelope`] whose data was written, and answers HTTP 200.
pub(super) fn close_envelope(mut out: String) -> Response {
    out.push('}');
    json_response(StatusCode::OK, out)
}

/// A success envelope around `data`.
pub(super) fn ok(sim: &TikTokSim, data: &serde_json::Value) -> Response {
    with_code(sim, 0, "OK", data)
}

/// An envelope with `code` and `data` (partial success carries data).
pub(super) fn with_code(sim: &TikTokSim, code: i64, message: &str, data: &serde_json::Value) -> Response {
    let mut out = open_envelope(sim, code, message, 256);
    out.push_str(&data.to_string());
    close_envelope(out)
}

/// An error envelope with `data: {}` and HTTP `status` (200 for every API error).
pub(super) fn error_response(sim: &TikTokSim, status: StatusCode, error: &ApiError) -> Response {
    let mut out = open_envelope(sim, error.code, &error.message, 2);
    out.push_str("{}}");
    json_response(status, out)
}

/// Answers a handler's result: the response, or the error in the envelope with HTTP 200.
pub(super) fn respond(sim: &TikTokSim, result: ApiResult<Response>) -> Response {
    result.unwrap_or_else(|error| error_response(sim, StatusCode::OK, &error))
}

impl TikTokSim {
    /// The app's rate limit (§2.8): every bucket must have a token, else 40100.
    pub(super) fn throttle(&self) -> ApiResult<()> {
        let Some(tier) = self.config.rate_limit else { return Ok(()) };
        for ((_, limit), key) in tier.limits().iter().zip(&self.limiter_keys) {
            if self.limiter.check(key, *limit).is_err() {
                self.ctx.faults.record_throttled(PLATFORM);
                return Err(ApiError::rate_limited(&self.config.app_id));
            }
        }
        Ok(())
    }

    /// The grant of the `Access-Token` header: 40104 when absent (§2.6 T5), 40105 when unknown or revoked.
    pub(super) fn authorize(&self, headers: &HeaderMap) -> ApiResult<Arc<Grant>> {
        let token = headers.get("access-token").and_then(|v| v.to_str().ok()).unwrap_or("").trim();
        if token.is_empty() {
            return Err(ApiError::new(
                40_104,
                "Access token is null, you should set it in http header with key Access-Token.",
            ));
        }
        match self.state().tokens.get(token) {
            Some(t) if !t.revoked => Ok(Arc::clone(&t.grant)),
            _ => Err(ApiError::new(40_105, "Access token is invalid or has been revoked.")),
        }
    }

    /// Rate limit, then token, then scope: the gate of every token-authenticated endpoint.
    pub(super) fn gate(&self, headers: &HeaderMap, scope: u32) -> ApiResult<Arc<Grant>> {
        self.throttle()?;
        let grant = self.authorize(headers)?;
        if !grant.has_scope(scope) {
            return Err(ApiError::permission(format!(
                "No permission to perform the related operation: scope {scope} is not authorized."
            )));
        }
        Ok(grant)
    }

    /// Checks `raw` is an advertiser id the grant covers; returns the advertiser's index. 40002 when
    /// missing or not a number, 40001 when not covered (an unknown advertiser looks the same).
    pub(super) fn advertiser(&self, grant: &Grant, raw: Option<&str>) -> ApiResult<usize> {
        let raw =
            raw.map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| ApiError::missing("advertiser_id"))?;
        if !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::param("advertiser_id: Not a valid integer."));
        }
        let covered = grant.advertisers.iter().any(|a| a == raw);
        match self.advertiser_index.get(raw) {
            Some(index) if covered => Ok(*index),
            _ => Err(ApiError::permission(format!("No permission to operate advertiser {raw}."))),
        }
    }

    /// Checks the app credentials of the OAuth endpoints (40101).
    pub(super) fn check_app(&self, app_id: Option<&str>, secret: Option<&str>) -> ApiResult<()> {
        let app_id = app_id.ok_or_else(|| ApiError::missing("app_id"))?;
        let secret = secret.ok_or_else(|| ApiError::missing("secret"))?;
        if app_id == self.config.app_id && secret == self.config.secret {
            Ok(())
        } else {
            Err(ApiError::bad_app())
        }
    }
}

/// A string field of a JSON body, accepting numbers too (ids arrive either way).
pub(super) fn body_str(body: &serde_json::Value, field: &str) -> Option<String> {
    match body.get(field)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parses a JSON request body; 40002 when it is not a JSON object.
pub(super) fn parse_body(bytes: &[u8]) -> ApiResult<serde_json::Value> {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(value) if value.is_object() => Ok(value),
        _ => Err(ApiError::param("The request body is not a valid JSON object.")),
    }
}

/// Parses a JSON-array query parameter (`["a","b"]`); 40002 naming the parameter otherwise.
pub(super) fn query_list(raw: Option<&String>, name: &str) -> ApiResult<Option<Vec<String>>> {
    let Some(raw) = raw else { return Ok(None) };
    serde_json::from_str::<Vec<serde_json::Value>>(raw)
        .ok()
        .and_then(|items| {
            items
                .into_iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => Some(s),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect::<Option<Vec<String>>>()
        })
        .map(Some)
        .ok_or_else(|| ApiError::param(format!("{name}: Not a valid list.")))
}

/// Parses an integer query parameter within `min..=max`, or its default.
pub(super) fn query_int(
    raw: Option<&String>,
    name: &str,
    default: u64,
    min: u64,
    max: u64,
) -> ApiResult<u64> {
    let Some(raw) = raw else { return Ok(default) };
    let value: u64 =
        raw.trim().parse().map_err(|_| ApiError::param(format!("{name}: Not a valid integer.")))?;
    if value < min || value > max {
        return Err(ApiError::param(format!(
            "{name}: Must be greater than or equal to {min} and less than or equal to {max}."
        )));
    }
    Ok(value)
}

/// `page_info` of a listing.
pub(super) fn page_info(page: u64, page_size: u64, total: u64) -> serde_json::Value {
    serde_json::json!({
        "page": page,
        "page_size": page_size,
        "total_number": total,
        "total_page": total.div_ceil(page_size.max(1)),
    })
}
