//! eBay OAuth: the consent page (auth.ebay.com `/oauth2/authorize`) and the token endpoint (api.ebay.com
//! `/identity/v1/oauth2/token`) with its three grant types.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use serde::Serialize;

use super::envelope::{self, oauth_error, pct_decode, pct_encode};
use super::{AccessToken, Code, EbaySim, Grant, SCOPE_API, USER_SCOPES};

const INVALID_CODE: &str = "the provided authorization grant code is invalid or was issued to another client";
const INVALID_REFRESH: &str =
    "the provided authorization refresh token is invalid or was issued to another client";
const INVALID_SCOPE: &str =
    "The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client";

/// `GET /oauth2/authorize`: checks the app and the RuName, then redirects to the accept URL with a code,
/// as if the user had logged in and agreed.
pub(super) async fn authorize(
    State(sim): State<Arc<EbaySim>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or("");
    if param("client_id") != sim.config.client_id || param("redirect_uri") != sim.config.ru_name {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the client_id or redirect_uri is not registered",
        );
    }
    let state = param("state");
    let redirect = |query: String| {
        let sep = if sim.config.accept_url.contains('?') { '&' } else { '?' };
        let location = format!("{}{sep}{query}", sim.config.accept_url);
        let mut response = StatusCode::FOUND.into_response();
        if let Ok(value) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
        response
    };
    if param("response_type") != "code" {
        return redirect(format!("error=unsupported_response_type&state={}", pct_encode(state)));
    }
    let scopes: Vec<&str> = param("scope").split(' ').filter(|s| !s.is_empty()).collect();
    if scopes.is_empty() || scopes.iter().any(|s| !USER_SCOPES.contains(s)) {
        return redirect(format!("error=invalid_scope&state={}", pct_encode(state)));
    }
    let user = params
        .get("sim_user")
        .map_or_else(|| sim.config.sellers.first().map(|s| s.user_id.clone()), |u| Some(u.clone()));
    let Some(code) = user.and_then(|u| sim.issue_code(&u, &scopes)) else {
        return redirect(format!("error=access_denied&state={}", pct_encode(state)));
    };
    redirect(format!(
        "state={}&code={}&expires_in={}",
        pct_encode(state),
        pct_encode(&code),
        sim.config.code_secs
    ))
}

#[derive(Serialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token_expires_in: Option<i64>,
    token_type: &'static str,
}

/// Whether `Authorization` is `Basic base64(client_id:client_secret)` of the registered app.
fn client_authenticated(sim: &EbaySim, headers: &HeaderMap) -> bool {
    let Some(encoded) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    let Ok(decoded) = data_encoding::BASE64.decode(encoded.trim().as_bytes()) else { return false };
    let expected = format!("{}:{}", sim.config.client_id, sim.config.client_secret);
    decoded == expected.as_bytes()
}

/// Parses an `application/x-www-form-urlencoded` body.
fn form(body: &[u8]) -> Option<HashMap<String, String>> {
    let text = std::str::from_utf8(body).ok()?;
    let mut out = HashMap::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.insert(pct_decode(k, true)?, pct_decode(v, true)?);
    }
    Some(out)
}

/// `POST /identity/v1/oauth2/token`.
pub(super) async fn token(
    State(sim): State<Arc<EbaySim>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !client_authenticated(&sim, &headers) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed");
    }
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let Some(params) = form(&body).filter(|_| is_form) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "request is missing a required parameter or malformed",
        );
    };
    let param = |name: &str| params.get(name).map(String::as_str);
    let limits = sim.config.limits;
    match param("grant_type") {
        Some("authorization_code") => {
            if let Err(throttled) = sim.throttle("oauth-authorization-code", limits.authorization_code) {
                return throttled;
            }
            exchange(&sim, param("code"), param("redirect_uri"))
        }
        Some("refresh_token") => {
            if let Err(throttled) = sim.throttle("oauth-refresh-token", limits.refresh_token) {
                return throttled;
            }
            refresh(&sim, param("refresh_token"), param("scope"))
        }
        Some("client_credentials") => {
            if let Err(throttled) = sim.throttle("oauth-client-credentials", limits.client_credentials) {
                return throttled;
            }
            client_credentials(&sim, param("scope"))
        }
        Some(_) => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant type in request is not supported by the authorization server",
        ),
        None => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "request is missing a required parameter or malformed",
        ),
    }
}

fn exchange(sim: &EbaySim, code: Option<&str>, redirect_uri: Option<&str>) -> Response {
    let (Some(code), Some(redirect_uri)) = (code, redirect_uri) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "request is missing a required parameter or malformed",
        );
    };
    let now = sim.now();
    let mut state = sim.state();
    let grant = match state.codes.get_mut(code) {
        Some(entry) if !entry.used && entry.expires_at > now && redirect_uri == sim.config.ru_name => {
            entry.used = true;
            let Code { user, scopes, .. } = entry.clone();
            Grant { user, scopes, refresh_expires_at: now + sim.config.refresh_token_secs, revoked: false }
        }
        _ => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", INVALID_CODE),
    };
    let index = state.grants.len();
    let scopes = grant.scopes.clone();
    state.grants.push(grant);
    let refresh_token = sim.mint(&mut state, "v^1.1#i^1#p^3#r^1#f^0#I^3#t^Ul4xMF8");
    state.refresh.insert(refresh_token.clone(), index);
    let access_token = sim.mint(&mut state, "v^1.1#i^1#p^3#r^1#I^3#f^0#t^H4sIAAAAAAAA");
    state.access.insert(
        access_token.clone(),
        AccessToken { grant: Some(index), scopes, expires_at: now + sim.config.access_token_secs },
    );
    envelope::json(
        StatusCode::OK,
        &TokenAnswer {
            access_token,
            expires_in: sim.config.access_token_secs,
            refresh_token: Some(refresh_token),
            refresh_token_expires_in: Some(sim.config.refresh_token_secs),
            token_type: "User Access Token",
        },
    )
}

fn refresh(sim: &EbaySim, refresh_token: Option<&str>, scope: Option<&str>) -> Response {
    let (Some(refresh_token), Some(scope)) = (refresh_token, scope) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "request is missing a required parameter or malformed",
        );
    };
    let now = sim.now();
    let mut state = sim.state();
    let Some(&index) = state.refresh.get(refresh_token) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", INVALID_REFRESH);
    };
    let Some(grant) = state.grants.get(index).filter(|g| !g.revoked && g.refresh_expires_at > now) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", INVALID_REFRESH);
    };
    let asked: Vec<String> = scope.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect();
    if asked.is_empty() || asked.iter().any(|s| !grant.scopes.contains(s)) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", INVALID_SCOPE);
    }
    let access_token = sim.mint(&mut state, "v^1.1#i^1#p^3#r^1#I^3#f^0#t^H4sIAAAAAAAA");
    state.access.insert(
        access_token.clone(),
        AccessToken { grant: Some(index), scopes: asked, expires_at: now + sim.config.access_token_secs },
    );
    envelope::json(
        StatusCode::OK,
        &TokenAnswer {
            access_token,
            expires_in: sim.config.access_token_secs,
            refresh_token: None,
            refresh_token_expires_in: None,
            token_type: "User Access Token",
        },
    )
}

fn client_credentials(sim: &EbaySim, scope: Option<&str>) -> Response {
    let asked: Vec<&str> = scope.unwrap_or("").split(' ').filter(|s| !s.is_empty()).collect();
    if asked.is_empty() || asked.iter().any(|s| *s != SCOPE_API) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", INVALID_SCOPE);
    }
    let now = sim.now();
    let mut state = sim.state();
    let access_token = sim.mint(&mut state, "v^1.1#i^1#p^1#r^0#I^3#f^0#t^H4sIAAAAAAAA");
    state.access.insert(
        access_token.clone(),
        AccessToken {
            grant: None,
            scopes: vec![SCOPE_API.to_owned()],
            expires_at: now + sim.config.access_token_secs,
        },
    );
    envelope::json(
        StatusCode::OK,
        &TokenAnswer {
            access_token,
            expires_in: sim.config.access_token_secs,
            refresh_token: None,
            refresh_token_expires_in: None,
            token_type: "Application Access Token",
        },
    )
}
