//! Request middleware: [`observe`] (metrics, one log line per request with the error detail of a failed
//! one, `Cache-Control: no-store`) and [`timeout`] (`security.request_timeout_secs`, as a JSON 503).
//!
//! The log line carries method, route template, status, latency and, for errors, the internal detail from
//! [`ErrorDetail`]: never headers, query strings or bodies (style rule 26).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{AppError, ErrorCode, ErrorDetail};
use crate::state::AppState;

/// The route label of requests that matched no route.
pub(crate) const UNMATCHED: &str = "unmatched";

/// Records metrics and logs the request; marks every response `no-store` (tokens and personal data must
/// not sit in caches).
pub(crate) async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req.extensions().get::<MatchedPath>().map_or(UNMATCHED, MatchedPath::as_str).to_owned();
    let mut response = next.run(req).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    state.metrics().record(&route, &method, status, elapsed);
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    match response.extensions().get::<ErrorDetail>() {
        Some(error) if response.status().is_server_error() => tracing::error!(
            method = %method, route = %route, status, latency_ms, code = error.code.as_str(),
            error = %error.detail, "request failed"
        ),
        Some(error) => tracing::info!(
            method = %method, route = %route, status, latency_ms, code = error.code.as_str(),
            error = %error.detail, "request refused"
        ),
        None => tracing::debug!(method = %method, route = %route, status, latency_ms, "request served"),
    }
    response.headers_mut().entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Cuts a request off after `security.request_timeout_secs` with a JSON 503 `timeout`.
pub(crate) async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(state.limits().request_timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => AppError::new(ErrorCode::Timeout, "the request took too long and was stopped")
            .with_detail("request timeout elapsed")
            .into_response(),
    }
}

#[cfg(test)]
mod tests;
