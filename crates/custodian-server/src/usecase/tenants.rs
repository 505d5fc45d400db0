//! Tenants and their business contacts (SEG-1, ACC-1, MIN-1, MIN-3, ENC-1).
//!
//! A person sees only the tenants assigned to them; a tenant they may not see answers exactly like one that
//! does not exist (404). Contact details are screened (MIN-3: no card numbers or configured sensitive
//! patterns, nothing stored otherwise), then sealed with the tenant's data key before they reach the store
//! (ENC-1); reading them is a Confidential read, audited with its count (AUD-1).

use std::collections::BTreeMap;

use custodian_core::audit::{ActorRef, DataRead, PersonnelChanged, SYSTEM_CHAIN, TenantChanged};
use custodian_core::authz::{Action, Actor};
use custodian_core::data::{ContactDetails, DataClass, Purpose, SealContext, open, seal};
use custodian_core::intake::screen;
use custodian_core::personnel::PersonSession;
use custodian_core::ports::{KeyError, KeyScope, StoreError};
use custodian_core::retention::RetentionDays;
use custodian_core::tenant::{
    BusinessContact, ContactId, ContractTerms, Tenant, TenantId, TenantName, TenantStatus,
};
use zeroize::Zeroize;

use super::display_text;
use crate::authn::Authenticated;
use crate::error::{AppError, ErrorCode};
use crate::guard::{self, authorize};
use crate::state::AppState;
use crate::wire::{CreateContactBody, CreateTenantBody};

/// The record kind contacts are sealed under (as core's rights export opens them).
pub(crate) const CONTACT_SEAL_KIND: &str = "contact";

/// A contact as shown to a permitted reader.
pub(crate) struct ContactView {
    pub(crate) id: ContactId,
    pub(crate) details: ContactDetails,
    pub(crate) role: String,
}

/// Parses a tenant id from a path: an invalid one cannot exist, so it is a 404 like any other.
pub(crate) fn tenant_from_path(raw: &str) -> Result<TenantId, AppError> {
    TenantId::new(raw).map_err(|_| AppError::not_found())
}

/// `POST /v1/tenants` (`tenant_manage`). A person not yet assigned to the new tenant is assigned first,
/// which is itself a `personnel_manage` decision and a `personnel_changed` event, so the creator can see
/// what they created and nobody gains a tenant silently. API keys can create only tenants in their scope.
pub(crate) async fn create_tenant(
    state: &AppState,
    auth: &Authenticated,
    body: CreateTenantBody,
) -> Result<Tenant, AppError> {
    let id = TenantId::new(body.id.as_str()).map_err(|e| AppError::invalid(format!("`id`: {e}")))?;
    if id.as_str() == SYSTEM_CHAIN {
        return Err(AppError::invalid(format!("`id`: `{SYSTEM_CHAIN}` is reserved")));
    }
    let name = TenantName::new(body.name.as_str()).map_err(|e| AppError::invalid(format!("`name`: {e}")))?;
    let mut contract = ContractTerms::default();
    for (class, days) in &body.retention_days {
        let class: DataClass =
            class.parse().map_err(|e| AppError::invalid(format!("`retention_days`: {e}")))?;
        let days =
            RetentionDays::new(*days).map_err(|e| AppError::invalid(format!("`retention_days`: {e}")))?;
        contract.retention_overrides.insert(class, days);
    }
    let deps = state.deps();
    let mut actor = auth.actor.clone();
    if let Actor::Person(session) = &auth.actor
        && !session.person.tenants.contains(&id)
    {
        authorize(state, &actor, Action::ManagePersonnel, None).await?;
        match deps.tenants.tenant(&id).await {
            Ok(_) => return Err(AppError::conflict("a tenant with this id exists")),
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
        // Only admins hold `personnel_manage`, and admins also hold `tenant_manage`, so the assignment is
        // never left behind by a `manage_tenant` denial below (unless a decision fact changes in between).
        let mut person = session.person.clone();
        person.tenants.insert(id.clone());
        let change = format!("tenants: +{id} (creating it)");
        let event =
            guard::event(state, ActorRef::from(&actor), PersonnelChanged::new(person.id.clone(), change));
        deps.personnel.update_person(&person, vec![event]).await?;
        actor = Actor::Person(PersonSession { person, mfa_verified_at: session.mfa_verified_at });
    }
    authorize(state, &actor, Action::ManageTenant, Some(&id)).await?;
    let tenant = Tenant { id: id.clone(), name, contract, status: TenantStatus::Active };
    let event = guard::event(state, ActorRef::from(&actor), TenantChanged::new("created"));
    deps.tenants.create_tenant(&tenant, vec![event]).await.map_err(|e| match e {
        StoreError::Conflict(_) => AppError::conflict("a tenant with this id exists"),
        other => other.into(),
    })?;
    Ok(tenant)
}

/// The tenants the actor is assigned to (people) or scoped to (API keys).
fn assigned(actor: &Actor) -> Vec<TenantId> {
    match actor {
        Actor::Person(session) => session.person.tenants.iter().cloned().collect(),
        Actor::ApiKey(key) => key.tenants.iter().cloned().collect(),
        Actor::System | Actor::PlatformSignal(_) => Vec::new(),
    }
}

/// `GET /v1/tenants` (`tenant_read` per tenant): the assigned tenants that exist and whose read is
/// allowed, each read decided and audited on its own chain. If every decision denied, the first denial is
/// the answer (so a stale MFA is a 403, not an empty list).
pub(crate) async fn list_tenants(state: &AppState, auth: &Authenticated) -> Result<Vec<Tenant>, AppError> {
    let deps = state.deps();
    let mut visible = Vec::new();
    let mut first_denial = None;
    for id in assigned(&auth.actor) {
        let tenant = match deps.tenants.tenant(&id).await {
            Ok(t) => t,
            Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        match authorize(state, &auth.actor, Action::ReadTenant, Some(&id)).await {
            Ok(_) => visible.push(tenant),
            Err(e)
                if matches!(
                    e.code(),
                    ErrorCode::Forbidden | ErrorCode::MfaRequired | ErrorCode::NotFound
                ) =>
            {
                first_denial.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    match first_denial {
        Some(denial) if visible.is_empty() => Err(denial),
        _ => Ok(visible),
    }
}

/// `GET /v1/tenants/{id}` (`tenant_read`).
pub(crate) async fn get_tenant(state: &AppState, auth: &Authenticated, id: &str) -> Result<Tenant, AppError> {
    let id = tenant_from_path(id)?;
    authorize(state, &auth.actor, Action::ReadTenant, Some(&id)).await?;
    Ok(state.deps().tenants.tenant(&id).await?)
}

/// Screens one free-text field (MIN-3); the error names the field and the findings, never the text.
fn screened(state: &AppState, field: &str, text: &str) -> Result<(), AppError> {
    screen(text, state.intake_patterns()).map_err(|e| {
        AppError::new(ErrorCode::IntakeRejected, format!("`{field}` was refused: {e}; nothing was stored"))
    })
}

fn optional_text(field: &str, raw: Option<&str>, max: usize) -> Result<Option<String>, AppError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => display_text(field, text, max).map(Some),
    }
}

/// `POST /v1/tenants/{id}/contacts` (`tenant_manage`): a business contact (MIN-1), screened (MIN-3) and
/// sealed (ENC-1).
pub(crate) async fn add_contact(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    body: CreateContactBody,
) -> Result<(ContactId, String), AppError> {
    let tenant = tenant_from_path(id)?;
    let name = display_text("name", &body.name, 200)?;
    let email = optional_text("email", body.email.as_deref(), 254)?;
    let phone = optional_text("phone", body.phone.as_deref(), 40)?;
    let role = display_text("role", &body.role, 200)?;
    screened(state, "name", &name)?;
    screened(state, "email", email.as_deref().unwrap_or_default())?;
    screened(state, "phone", phone.as_deref().unwrap_or_default())?;
    screened(state, "role", &role)?;
    authorize(state, &auth.actor, Action::ManageTenant, Some(&tenant)).await?;
    let deps = state.deps();
    deps.tenants.tenant(&tenant).await?;
    let contact_id = ContactId::new(state.new_id("ct")).map_err(|e| AppError::internal(e.to_string()))?;
    let key = deps
        .keys
        .current_key(&KeyScope::tenant(&tenant))
        .await
        .map_err(|e| AppError::unavailable("key manager", e.to_string()))?;
    let mut details = ContactDetails { name, email, phone };
    let ctx = SealContext::new(&tenant, CONTACT_SEAL_KIND, contact_id.as_str());
    let sealed = seal(&key, &ctx, &details, deps.rng.as_ref());
    details.zeroize();
    let sealed = sealed.map_err(|e| AppError::internal(format!("sealing contact details failed: {e}")))?;
    let contact = BusinessContact {
        tenant: tenant.clone(),
        id: contact_id.clone(),
        details: sealed,
        role: role.clone(),
    };
    let event = guard::event(
        state,
        ActorRef::from(&auth.actor),
        TenantChanged::new(format!("contact `{contact_id}` added")),
    );
    deps.tenants.put_contact(&contact, vec![event]).await?;
    Ok((contact_id, role))
}

/// `GET /v1/tenants/{id}/contacts` (`dataset_read` on business contacts, Confidential): the read is
/// counted in the audit trail before anything is opened; if that fails, nothing is shown.
pub(crate) async fn list_contacts(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
) -> Result<Vec<ContactView>, AppError> {
    let tenant = tenant_from_path(id)?;
    authorize(state, &auth.actor, Action::ReadData(DataClass::BusinessContact), Some(&tenant)).await?;
    let deps = state.deps();
    let contacts = deps.tenants.contacts(&tenant).await?;
    let event = guard::event(
        state,
        ActorRef::from(&auth.actor),
        DataRead::new(DataClass::BusinessContact, contacts.len() as u64, Purpose::ServiceDelivery),
    );
    guard::audit(state, &tenant, vec![event]).await?;
    let scope = KeyScope::tenant(&tenant);
    let mut keys = BTreeMap::new();
    let mut out = Vec::with_capacity(contacts.len());
    for contact in contacts {
        let version = contact.details.key_version();
        let key = match keys.get(&version.0) {
            Some(key) => key,
            None => match deps.keys.key(&scope, version).await {
                Ok(key) => keys.entry(version.0).or_insert(key),
                // A destroyed key means the details are gone (crypto-shredded, RET-3).
                Err(KeyError::NotFound) => continue,
                Err(e) => return Err(AppError::unavailable("key manager", e.to_string())),
            },
        };
        let ctx = SealContext::new(&tenant, CONTACT_SEAL_KIND, contact.id.as_str());
        let details = open(key, &ctx, &contact.details)
            .map_err(|e| AppError::internal(format!("opening contact details failed: {e}")))?;
        out.push(ContactView { id: contact.id, details, role: contact.role });
    }
    Ok(out)
}
