//! Advertiser authorization: the authorization page, the auth code exchange, `oauth2/advertiser/get/`,
//! revocation and the (always refused) refresh.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::envelope::{ApiError, ApiResult, body_str, ok, parse_body, respond};
use super::{SCOPE_READ_AD_ACCOUNT, TikTokSim};

type Params = Query<HashMap<String, String>>;

fn page(status: StatusCode, text: &'static str) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

/// Percent-encodes everything but the unreserved characters (RFC 3986).
fn percent_encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `GET /portal/auth?app_id=&state=&redirect_uri=`: the advertiser approves at once; 302 to the registered
/// `redirect_uri` with `auth_code` and `state`. An unknown app or an unregistered redirect URI is an error
/// page (HTTP 400), never a redirect.
pub(super) async fn auth_page(State(sim): State<Arc<TikTokSim>>, Query(params): Params) -> Response {
    if params.get("app_id") != Some(&sim.config.app_id) {
        return page(StatusCode::BAD_REQUEST, "Invalid app_id.");
    }
    let Some(redirect) = params.get("redirect_uri").filter(|r| sim.config.redirect_uris.contains(r)) else {
        return page(
            StatusCode::BAD_REQUEST,
            "The redirect_uri does not match the app's registered redirect URLs.",
        );
    };
    let code = sim.issue_auth_code();
    let mut location = redirect.clone();
    location.push(if location.contains('?') { '&' } else { '?' });
    location.push_str("auth_code=");
    location.push_str(&percent_encode(&code));
    if let Some(state) = params.get("state") {
        location.push_str("&state=");
        location.push_str(&percent_encode(state));
    }
    let mut response = page(StatusCode::FOUND, "");
    match HeaderValue::from_str(&location) {
        Ok(value) => {
            response.headers_mut().insert(header::LOCATION, value);
            response
        }
        Err(_) => page(StatusCode::BAD_REQUEST, "Invalid redirect_uri."),
    }
}

/// `POST oauth2/access_token/` with JSON `{app_id, secret, auth_code}` → `{access_token, advertiser_ids,
/// scope}`. A used, expired or unknown code is 40110.
pub(super) async fn access_token(State(sim): State<Arc<TikTokSim>>, body: Bytes) -> Response {
    let result = exchange(&sim, &body);
    respond(&sim, result)
}

fn exchange(sim: &TikTokSim, body: &[u8]) -> ApiResult<Response> {
    sim.throttle()?;
    let body = parse_body(body)?;
    sim.check_app(body_str(&body, "app_id").as_deref(), body_str(&body, "secret").as_deref())?;
    let code = body_str(&body, "auth_code").ok_or_else(|| ApiError::missing("auth_code"))?;
    let now = sim.ctx.clock.now_unix();
    let ttl = i64::try_from(sim.config.auth_code_ttl.as_secs()).unwrap_or(i64::MAX);
    let grant = {
        let mut state = sim.state();
        match state.codes.get_mut(&code) {
            Some(c) if !c.used && now.saturating_sub(c.issued_at) <= ttl => {
                c.used = true;
                c.grant.clone()
            }
            _ => return Err(ApiError::new(40_110, "Auth code is invalid, expired or has been used.")),
        }
    };
    let data = serde_json::json!({
        "advertiser_ids": grant.advertisers,
        "scope": grant.scopes,
        "access_token": sim.store_token(grant.clone()),
    });
    Ok(ok(sim, &data))
}

/// `GET oauth2/advertiser/get/?app_id=&secret=` with `Access-Token` → `data.list[] = {advertiser_id,
/// advertiser_name}`.
pub(super) async fn advertiser_get(
    State(sim): State<Arc<TikTokSim>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    let result = (|| {
        sim.throttle()?;
        sim.check_app(params.get("app_id").map(String::as_str), params.get("secret").map(String::as_str))?;
        let grant = sim.authorize(&headers)?;
        if !grant.has_scope(SCOPE_READ_AD_ACCOUNT) {
            return Err(ApiError::permission(format!(
                "No permission to perform the related operation: scope {SCOPE_READ_AD_ACCOUNT} is not authorized."
            )));
        }
        let list: Vec<serde_json::Value> = grant
            .advertisers
            .iter()
            .filter_map(|id| {
                let adv = sim.config.advertisers.get(*sim.advertiser_index.get(id)?)?;
                Some(serde_json::json!({"advertiser_id": adv.id, "advertiser_name": adv.name}))
            })
            .collect();
        Ok(ok(&sim, &serde_json::json!({ "list": list })))
    })();
    respond(&sim, result)
}

/// `POST oauth2/revoke_token/` with JSON `{app_id, secret, access_token}`: the token stops working.
pub(super) async fn revoke_token(State(sim): State<Arc<TikTokSim>>, body: Bytes) -> Response {
    let result = (|| {
        sim.throttle()?;
        let body = parse_body(&body)?;
        sim.check_app(body_str(&body, "app_id").as_deref(), body_str(&body, "secret").as_deref())?;
        let token = body_str(&body, "access_token").ok_or_else(|| ApiError::missing("access_token"))?;
        if !sim.revoke_token(&token) {
            return Err(ApiError::new(40_105, "Access token is invalid or has been revoked."));
        }
        Ok(ok(&sim, &serde_json::json!({})))
    })();
    respond(&sim, result)
}

/// `POST oauth2/refresh_token/`: advertiser tokens are long-term and carry no refresh token, so any
/// refresh is 40107 (`invalid_refresh_token`, §2.2).
pub(super) async fn refresh_token(State(sim): State<Arc<TikTokSim>>, body: Bytes) -> Response {
    let result = (|| {
        sim.throttle()?;
        let body = parse_body(&body)?;
        sim.check_app(body_str(&body, "app_id").as_deref(), body_str(&body, "secret").as_deref())?;
        Err(ApiError::new(40_107, "The refresh token is invalid."))
    })();
    respond(&sim, result)
}
