//! `/healthz` (the process answers), `/readyz` (the store answers a cheap call), `/metrics` (Prometheus
//! text), and the JSON 404 and 405 for everything else.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use custodian_core::audit::system_tenant;
use secrecy::ExposeSecret as _;
use subtle::ConstantTimeEq as _;

use crate::error::{AppError, ErrorCode};
use crate::state::AppState;
use crate::wire::Health;

pub(super) async fn healthz() -> impl IntoResponse {
    Json(Health { status: "ok" })
}

/// Ready when the store answers: the head of the system chain is one indexed read.
pub(super) async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, AppError> {
    state
        .deps()
        .audit
        .head(&system_tenant())
        .await
        .map_err(|e| AppError::unavailable("store", e.to_string()))?;
    Ok(Json(Health { status: "ready" }))
}

/// The metrics; with `security.metrics_token` set, only for `Authorization: Bearer <token>` (compared in
/// constant time; anything else is the usual 401).
pub(super) async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, AppError> {
    if let Some(token) = &state.limits().metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, credential)| credential.trim());
        let matches =
            given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(token.expose_secret().trim().as_bytes())));
        if !matches {
            return Err(AppError::unauthenticated().with_detail("metrics token missing or wrong"));
        }
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics().render()))
}

pub(super) async fn not_found() -> AppError {
    AppError::not_found()
}

pub(super) async fn method_not_allowed() -> AppError {
    AppError::new(ErrorCode::MethodNotAllowed, "method not allowed")
}
