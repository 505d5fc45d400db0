//! The router: every endpoint, its permission and its audit events, and the layers around them.
//!
//! | method and path | needs | audit events (chain) |
//! |---|---|---|
//! | `POST /v1/auth/login` | email, password, TOTP code (ACC-2) | `login_attempted` (system) |
//! | `POST /v1/auth/logout` | session | `login_attempted` "logout" (system) |
//! | `POST /v1/auth/step-up` | session, TOTP code | `login_attempted` "step-up" (system) |
//! | `GET /v1/me` | session or API key | none |
//! | `POST /v1/people` | `personnel_manage` | `access_decided`, `personnel_changed` (system) |
//! | `GET /v1/people`, `GET /v1/people/{id}` | `personnel_manage` | `access_decided` (system) |
//! | `PUT /v1/people/{id}/access` | `personnel_manage` | `access_decided`, `personnel_changed` (system) |
//! | `POST /v1/people/{id}/totp` | `personnel_manage` | `access_decided`, `personnel_changed` (system) |
//! | `POST /v1/people/{id}/disable` | `personnel_manage` | `access_decided`, `personnel_changed` (system) |
//! | `POST /v1/api-keys` | `api_key_manage` (people) | `access_decided`, `api_key_changed` (system) |
//! | `GET /v1/api-keys` | `api_key_manage` | `access_decided` (system) |
//! | `DELETE /v1/api-keys/{id}` | `api_key_manage` | `access_decided`, `api_key_changed` (system) |
//! | `POST /v1/tenants` | `tenant_manage` (+ `personnel_manage` to self-assign) | [`access_decided`, `personnel_changed`,] `access_decided` (system), `tenant_changed` (tenant) |
//! | `GET /v1/tenants` | `tenant_read` per assigned tenant | `access_decided` (each tenant) |
//! | `GET /v1/tenants/{id}` | `tenant_read` | `access_decided` (tenant) |
//! | `POST /v1/tenants/{id}/contacts` | `tenant_manage` | `access_decided`, `tenant_changed` (tenant) |
//! | `GET /v1/tenants/{id}/contacts` | `dataset_read` (business contacts) | `access_decided`, `data_read` (tenant) |
//! | `GET /v1/tenants/{id}/audit` | `audit_read` | `access_decided` (tenant) |
//! | `POST /v1/tenants/{id}/audit/verify` | `audit_verify` | `access_decided` (tenant) |
//! | `GET /healthz`, `/readyz`, `/metrics` | nothing | none |
//!
//! Decisions about a tenant that does not exist go to the system chain. Layers, outermost first: sensitive
//! `Authorization`/`Cookie` headers, [`middleware::observe`], [`middleware::timeout`], the body limit.

mod ops;
mod people;
mod tenants;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post, put};
use tower_http::sensitive_headers::SetSensitiveHeadersLayer;

use crate::middleware;
use crate::state::AppState;

/// The whole HTTP API over `state`.
pub fn router(state: AppState) -> Router {
    let max_body = state.limits().max_body_bytes;
    Router::new()
        .route("/v1/auth/login", post(people::login))
        .route("/v1/auth/logout", post(people::logout))
        .route("/v1/auth/step-up", post(people::step_up))
        .route("/v1/me", get(people::me))
        .route("/v1/people", get(people::list).post(people::create))
        .route("/v1/people/{id}", get(people::get))
        .route("/v1/people/{id}/access", put(people::set_access))
        .route("/v1/people/{id}/totp", post(people::enrol_totp))
        .route("/v1/people/{id}/disable", post(people::disable))
        .route("/v1/api-keys", get(people::list_keys).post(people::create_key))
        .route("/v1/api-keys/{id}", delete(people::revoke_key))
        .route("/v1/tenants", get(tenants::list).post(tenants::create))
        .route("/v1/tenants/{id}", get(tenants::get))
        .route("/v1/tenants/{id}/contacts", get(tenants::contacts).post(tenants::add_contact))
        .route("/v1/tenants/{id}/audit", get(tenants::audit))
        .route("/v1/tenants/{id}/audit/verify", post(tenants::verify_audit))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(from_fn_with_state(state.clone(), middleware::timeout))
        .layer(from_fn_with_state(state.clone(), middleware::observe))
        .layer(SetSensitiveHeadersLayer::new([
            header::AUTHORIZATION,
            header::PROXY_AUTHORIZATION,
            header::COOKIE,
            header::SET_COOKIE,
        ]))
        .with_state(state)
}
