//! Handlers for tenants, contacts and the audit trail: parse, call the use cases in
//! [`crate::usecase::tenants`] and [`crate::usecase::audit`], shape the JSON.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::authn::Authenticated;
use crate::error::AppError;
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::state::AppState;
use crate::usecase::{audit as audit_uc, tenants as uc};
use crate::wire::{AuditQuery, CreateContactBody, CreateTenantBody, audit_record_json, tenant_json};

type Reply = Result<(StatusCode, Json<Value>), AppError>;

fn ok(value: Value) -> Reply {
    Ok((StatusCode::OK, Json(value)))
}

pub(super) async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    AppJson(body): AppJson<CreateTenantBody>,
) -> Reply {
    let tenant = uc::create_tenant(&state, &auth, body).await?;
    Ok((StatusCode::CREATED, Json(json!({"tenant": tenant_json(&tenant)}))))
}

pub(super) async fn list(State(state): State<AppState>, auth: Authenticated) -> Reply {
    let tenants = uc::list_tenants(&state, &auth).await?;
    ok(json!({"tenants": tenants.iter().map(tenant_json).collect::<Vec<_>>()}))
}

pub(super) async fn get(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Reply {
    let tenant = uc::get_tenant(&state, &auth, &id).await?;
    ok(json!({"tenant": tenant_json(&tenant)}))
}

pub(super) async fn add_contact(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<CreateContactBody>,
) -> Reply {
    let (contact, role) = uc::add_contact(&state, &auth, &id, body).await?;
    Ok((StatusCode::CREATED, Json(json!({"contact": {"id": contact.as_str(), "role": role}}))))
}

pub(super) async fn contacts(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Reply {
    let contacts = uc::list_contacts(&state, &auth, &id).await?;
    let items: Vec<Value> = contacts
        .iter()
        .map(|c| {
            json!({
                "id": c.id.as_str(),
                "name": c.details.name,
                "email": c.details.email,
                "phone": c.details.phone,
                "role": c.role,
            })
        })
        .collect();
    ok(json!({"contacts": items}))
}

pub(super) async fn audit(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
    AppQuery(query): AppQuery<AuditQuery>,
) -> Reply {
    let page = audit_uc::read(&state, &auth, &id, query).await?;
    ok(json!({
        "records": page.records.iter().map(audit_record_json).collect::<Vec<_>>(),
        "next_from_seq": page.next_from_seq,
    }))
}

pub(super) async fn verify_audit(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Reply {
    let report = audit_uc::verify(&state, &auth, &id).await?;
    ok(json!({
        "tenant": report.tenant.as_str(),
        "valid": report.is_valid(),
        "records_checked": report.records_checked,
        "checkpoint_seq": report.checkpoint_seq,
        "head": {"seq": report.head.seq, "hash": report.head.hash.to_string()},
        "failure": report.failure.as_ref().map(|f| json!({"seq": f.seq, "reason": f.reason})),
    }))
}
