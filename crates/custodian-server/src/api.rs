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
//! | `POST /v1/tenants/{id}/grants` | `grant_connect` | `access_decided`, `grant_changed` pending [+ `access_decided`, `grant_changed` pii] (tenant) |
//! | `GET /v1/oauth/{platform}/callback` | the `state` of a pending connect; its initiator's `grant_connect` | `access_decided`, `secret_accessed` put, `grant_changed` active (tenant); a bad state: `access_decided` deny (system) |
//! | `GET /v1/tenants/{id}/grants`, `GET .../grants/{grant}` | `tenant_read` | `access_decided` (tenant) |
//! | `POST .../grants/{grant}/validate` | `grant_validate` | `access_decided`, `grant_changed` (tenant) |
//! | `POST .../grants/{grant}/review` | `grant_review` | `access_decided`, `grant_changed` (tenant) |
//! | `PUT .../grants/{grant}/pii` | `grant_connect` (step-up where core's policy says) | `access_decided`, `grant_changed` (tenant) |
//! | `POST .../grants/{grant}/revoke` | `grant_revoke` | `access_decided`, `grant_changed` revoked, `key_changed`, `secret_accessed` delete, `records_purged` (tenant) |
//! | `POST .../grants/{grant}/syncs` | `tenant_read`, then `sync_run` per account and task | `access_decided`, `sync_progressed` per page, `sync_failed` (tenant) |
//! | `GET .../grants/{grant}/syncs` | `tenant_read` | `access_decided` (tenant) |
//! | `GET /v1/tenants/{id}/report-rows`, `/campaigns` | `dataset_read` | `access_decided` (tenant) |
//! | `GET /v1/tenants/{id}/orders`, `/stock` | `dataset_read` [+ `pii_read` with `with_pii=true`] | `access_decided`, `data_read` order_detail [+ buyer_pii] (tenant) |
//! | `POST`, `GET /v1/webhooks/{platform}[/{topic}]` | the platform's signature (AUTH-6) | `signal_received` or `signal_rejected` (system); revocations as above (tenant) |
//! | `POST /v1/tenants/{id}/changes` | `change_propose` (people) | `access_decided`, `change_proposed` (tenant) |
//! | `GET /v1/tenants/{id}/changes`, `GET .../changes/{cid}` | `tenant_read` | `access_decided` (tenant) |
//! | `POST .../changes/{cid}/approve` | `change_approve`, step-up MFA, not the proposer (CAM-1, ACC-2) | `access_decided`, `change_approved` (tenant) |
//! | `POST .../changes/{cid}/execute` | `change_execute`; the body repeats the approved diff | `access_decided`, `change_executed` (tenant) |
//! | `GET /v1/tenants/{id}/retention`, `.../retention/holds`, `.../retention/receipts` | `tenant_read` | `access_decided` (tenant) |
//! | `POST .../retention/sweep` | `retention_manage` | `access_decided`, `retention_ran` (tenant) |
//! | `POST .../retention/holds` | `hold_manage` (people) | `access_decided`, `hold_changed` (tenant) |
//! | `POST .../retention/holds/{hid}/lift`, `DELETE .../retention/holds/{hid}` | `hold_manage`, step-up MFA | `access_decided`, `hold_changed` (tenant) |
//! | `POST /v1/tenants/{id}/rights`, `POST .../rights/{rid}/update` | `rights_manage` | `access_decided`, `rights_request_changed` (tenant) |
//! | `GET /v1/tenants/{id}/rights`, `GET .../rights/{rid}` | `rights_manage` | `access_decided` (tenant) |
//! | `GET .../rights/export?format=json\|csv[&file=…]` | `data_export`, step-up MFA | `access_decided`, `data_read` per class (tenant) |
//! | `POST .../rights/{rid}/delete-data` | `rights_manage`; a deletion request of the tenant | `access_decided`, `grant_changed` per grant, `key_changed`, `records_purged` (tenant) |
//! | `POST .../rights/offboard` | `rights_manage`, `data_export` with step-up MFA | as export and delete-data, `tenant_changed` offboarding/offboarded (tenant) |
//! | `POST /v1/tenants/{id}/incidents` | `incident_manage` on the tenant (people) | `access_decided` (tenant), `access_decided`, `incident_changed` (system) |
//! | `GET /v1/tenants/{id}/incidents`, `GET .../incidents/{iid}` | `incident_manage` on the tenant | `access_decided` (tenant) |
//! | `POST .../incidents/{iid}/assess`, `/notify`, `/remediate`, `/close` | `incident_manage` on the tenant | `access_decided` (tenant), `access_decided`, `incident_changed` [not for assess] (system) |
//! | `GET /healthz`, `/readyz`, `/metrics` | nothing | none |
//!
//! Decisions about a tenant that does not exist go to the system chain. Layers, outermost first: sensitive
//! `Authorization`/`Cookie` headers, [`middleware::observe`], [`middleware::timeout`], the body limit.

mod changes;
mod datasets;
pub(crate) mod grants;
mod incidents;
mod ops;
mod people;
mod retention;
mod rights;
mod syncs;
mod tenants;
pub(crate) mod webhooks;

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
        .route("/v1/tenants/{id}/grants", get(grants::list).post(grants::connect))
        .route("/v1/tenants/{id}/grants/{grant}", get(grants::get))
        .route("/v1/tenants/{id}/grants/{grant}/validate", post(grants::validate))
        .route("/v1/tenants/{id}/grants/{grant}/review", post(grants::review))
        .route("/v1/tenants/{id}/grants/{grant}/pii", put(grants::set_pii))
        .route("/v1/tenants/{id}/grants/{grant}/revoke", post(grants::revoke))
        .route("/v1/tenants/{id}/grants/{grant}/syncs", get(syncs::status).post(syncs::trigger))
        .route("/v1/oauth/{platform}/callback", get(grants::callback))
        .route("/v1/tenants/{id}/report-rows", get(datasets::report_rows))
        .route("/v1/tenants/{id}/campaigns", get(datasets::campaigns))
        .route("/v1/tenants/{id}/orders", get(datasets::orders))
        .route("/v1/tenants/{id}/stock", get(datasets::stock))
        .route("/v1/webhooks/{platform}", get(webhooks::receive).post(webhooks::receive))
        .route("/v1/webhooks/{platform}/{topic}", get(webhooks::receive_topic).post(webhooks::receive_topic))
        .route("/v1/tenants/{id}/changes", get(changes::list).post(changes::propose))
        .route("/v1/tenants/{id}/changes/{cid}", get(changes::get))
        .route("/v1/tenants/{id}/changes/{cid}/approve", post(changes::approve))
        .route("/v1/tenants/{id}/changes/{cid}/execute", post(changes::execute))
        .route("/v1/tenants/{id}/retention", get(retention::policies))
        .route("/v1/tenants/{id}/retention/sweep", post(retention::sweep))
        .route("/v1/tenants/{id}/retention/receipts", get(retention::receipts))
        .route("/v1/tenants/{id}/retention/holds", get(retention::holds).post(retention::place_hold))
        .route("/v1/tenants/{id}/retention/holds/{hid}", delete(retention::lift_hold))
        .route("/v1/tenants/{id}/retention/holds/{hid}/lift", post(retention::lift_hold))
        .route("/v1/tenants/{id}/rights", get(rights::list).post(rights::open))
        .route("/v1/tenants/{id}/rights/export", get(rights::export))
        .route("/v1/tenants/{id}/rights/offboard", post(rights::offboard))
        .route("/v1/tenants/{id}/rights/{rid}", get(rights::get))
        .route("/v1/tenants/{id}/rights/{rid}/update", post(rights::update))
        .route("/v1/tenants/{id}/rights/{rid}/delete-data", post(rights::delete_data))
        .route("/v1/tenants/{id}/incidents", get(incidents::list).post(incidents::open))
        .route("/v1/tenants/{id}/incidents/{iid}", get(incidents::get))
        .route("/v1/tenants/{id}/incidents/{iid}/assess", post(incidents::assess))
        .route("/v1/tenants/{id}/incidents/{iid}/notify", post(incidents::notify))
        .route("/v1/tenants/{id}/incidents/{iid}/remediate", post(incidents::remediate))
        .route("/v1/tenants/{id}/incidents/{iid}/close", post(incidents::close))
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
