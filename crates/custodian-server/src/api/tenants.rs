//! Handlers for tenants, contacts and the audit trail: parse, call the use cases in
//! [`crate::usecase::tenants`] and [`crate::usecase::audit`], shape the JSON.

use axum::extract::State;

use super::{Answered, created, ok};
use crate::authn::Authenticated;
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::state::AppState;
use crate::usecase::{audit as audit_uc, tenants as uc};
use crate::wire::{
    AuditPage, AuditQuery, ChainFailureView, ChainHeadView, ChainVerification, ContactAdded, ContactList,
    ContactRefView, ContactView, CreateContactBody, CreateTenantBody, TenantAnswer, TenantList,
    audit_record_view, tenant_view,
};

pub(super) async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    AppJson(body): AppJson<CreateTenantBody>,
) -> Answered {
    let tenant = uc::create_tenant(&state, &auth, body).await?;
    created(TenantAnswer { tenant: tenant_view(&tenant) })
}

pub(super) async fn list(State(state): State<AppState>, auth: Authenticated) -> Answered {
    let tenants = uc::list_tenants(&state, &auth).await?;
    ok(TenantList { tenants: tenants.iter().map(tenant_view).collect() })
}

pub(super) async fn get(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Answered {
    let tenant = uc::get_tenant(&state, &auth, &id).await?;
    ok(TenantAnswer { tenant: tenant_view(&tenant) })
}

pub(super) async fn add_contact(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<CreateContactBody>,
) -> Answered {
    let (contact, role) = uc::add_contact(&state, &auth, &id, body).await?;
    created(ContactAdded { contact: ContactRefView { id: contact.as_str(), role: &role } })
}

pub(super) async fn contacts(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Answered {
    let contacts = uc::list_contacts(&state, &auth, &id).await?;
    ok(ContactList {
        contacts: contacts
            .iter()
            .map(|c| ContactView {
                id: c.id.as_str(),
                name: &c.details.name,
                email: c.details.email.as_deref(),
                phone: c.details.phone.as_deref(),
                role: &c.role,
            })
            .collect(),
    })
}

pub(super) async fn audit(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
    AppQuery(query): AppQuery<AuditQuery>,
) -> Answered {
    let page = audit_uc::read(&state, &auth, &id, query).await?;
    ok(AuditPage {
        records: page.records.iter().map(audit_record_view).collect(),
        next_from_seq: page.next_from_seq,
    })
}

pub(super) async fn verify_audit(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Answered {
    let report = audit_uc::verify(&state, &auth, &id).await?;
    ok(ChainVerification {
        tenant: report.tenant.as_str(),
        valid: report.is_valid(),
        records_checked: report.records_checked,
        checkpoint_seq: report.checkpoint_seq,
        head: ChainHeadView { seq: report.head.seq, hash: report.head.hash.to_string() },
        failure: report.failure.as_ref().map(|f| ChainFailureView { seq: f.seq, reason: &f.reason }),
    })
}
