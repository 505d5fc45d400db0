//! Authorization for the server's own use cases: `custodian_core::service::Services::authorize` loads the
//! facts (tenant status, open incidents' isolations, the tenant's standing restrictions, the ENV-1
//! violations, the MFA windows), asks `custodian_core::authz::decide`, appends the decision to the tenant's
//! chain (or the system chain) (AUTH-7), and returns it only if it allows. Fail closed: a store error while
//! loading facts or appending is an error, never an allow; if the decision cannot be audited nothing
//! happens (AUD-2).

use custodian_core::audit::{ActorRef, AuditEvent, NewAuditEvent};
use custodian_core::authz::{Action, Actor, Decision};
use custodian_core::service::Subject;
use custodian_core::tenant::TenantId;

use crate::error::AppError;
use crate::state::AppState;

/// Decides `action` on `tenant` for `actor`, audits the decision, and returns it if allowed; a denial is
/// [`AppError::denied`] (404 for a tenant the actor may not see, 403 otherwise).
pub(crate) async fn authorize(
    state: &AppState,
    actor: &Actor,
    action: Action,
    tenant: Option<&TenantId>,
) -> Result<Decision, AppError> {
    let subject = Subject { tenant, ..Subject::default() };
    Ok(state.services().authorize(actor, action, subject).await?)
}

/// An audit event by `actor`, stamped now.
pub(crate) fn event(state: &AppState, actor: ActorRef, event: impl Into<AuditEvent>) -> NewAuditEvent {
    NewAuditEvent::new(state.now(), actor, event)
}

/// Appends events not tied to a store write to `chain`. Fail closed (AUD-2).
pub(crate) async fn audit(
    state: &AppState,
    chain: &TenantId,
    events: Vec<NewAuditEvent>,
) -> Result<(), AppError> {
    state
        .deps()
        .audit
        .append(chain, events)
        .await
        .map(|_| ())
        .map_err(|e| AppError::unavailable("audit trail", format!("audit append failed (AUD-2): {e}")))
}
