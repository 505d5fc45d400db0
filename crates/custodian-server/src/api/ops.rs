//! `/healthz` (the process answers), `/readyz` (the store answers a cheap call), `/metrics` (Prometheus
//! text), and the JSON 404 and 405 for everything else.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use custodian_core::audit::system_tenant;
use serde_json::json;

use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

pub(super) async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// Ready when the store answers: the head of the system chain is one indexed read.
pub(super) async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, AppError> {
    state
        .deps()
        .audit
        .head(&system_tenant())
        .await
        .map_err(|e| AppError::unavailable("store", e.to_string()))?;
    Ok(Json(json!({"status": "ready"})))
}

pub(super) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics().render())
}

pub(super) async fn not_found() -> AppError {
    AppError::not_found()
}

pub(super) async fn method_not_allowed() -> AppError {
    AppError::new(ErrorCode::MethodNotAllowed, "method not allowed")
}
