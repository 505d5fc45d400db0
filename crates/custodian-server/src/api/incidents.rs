//! Handlers for incidents (INC-1) as seen from one tenant: open (the tenant, or some of its grants, are
//! isolated at once: every later processing decision there is a deny), list and show, assess the scope
//! from the audit trail, notify the client (and platform partners) with tracked deadlines, record
//! remediation, and close with a post-incident review (which lifts the isolation).
//!
//! Core's incidents are not bound to one tenant (`incident_manage` is a global permission). Under
//! `/v1/tenants/{id}` every handler first authorizes `incident_manage` on the tenant (so a tenant the actor
//! may not see is a 404 like everywhere else; incident handling stays possible inside an isolation, which
//! `tenant_read` would not) and shows or touches only incidents whose scopes include it; then core
//! authorizes `incident_manage` again and audits on the system chain (AUTH-7, AUD-2).

use axum::extract::State;
use custodian_core::authz::Action;
use custodian_core::grant::GrantId;
use custodian_core::incident::{Incident, IncidentId, IsolationScope, Severity};
use custodian_core::platform::Platform;
use custodian_core::tenant::TenantId;

use super::changes::{case_error, parse_time};
use super::{Answered, created, ok};
use crate::authn::Authenticated;
use crate::error::AppError;
use crate::extract::{AppJson, AppPath};
use crate::guard::authorize;
use crate::state::AppState;
use crate::usecase::display_text;
use crate::usecase::tenants::tenant_from_path;
use crate::wire::cases::{
    AssessBody, AssessmentAnswer, CloseIncidentBody, IncidentAnswer, IncidentList, NotifyBody,
    OpenIncidentBody, RemediateBody, assessment_view, incident_view,
};

/// Longest summary, remediation action or review accepted.
const MAX_TEXT: usize = 2_000;
/// Most grants one incident isolates, and most follow-ups of a review.
const MAX_ITEMS: usize = 100;

fn incident_from_path(raw: &str) -> Result<IncidentId, AppError> {
    IncidentId::new(raw).map_err(|_| AppError::not_found())
}

fn parse_severity(raw: &str) -> Result<Severity, AppError> {
    match raw {
        "low" => Ok(Severity::Low),
        "medium" => Ok(Severity::Medium),
        "high" => Ok(Severity::High),
        "critical" => Ok(Severity::Critical),
        _ => Err(AppError::invalid("`severity` must be one of low, medium, high, critical")),
    }
}

/// Whether `incident` isolates `tenant` or one of its grants.
fn touches(incident: &Incident, tenant: &TenantId) -> bool {
    incident.scopes().iter().any(|s| match s {
        IsolationScope::Tenant(t) | IsolationScope::Grant { tenant: t, .. } => t == tenant,
        _ => false,
    })
}

/// `incident_manage` on the tenant, then the incident if it concerns the tenant (otherwise a 404).
async fn visible(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    iid: &str,
) -> Result<(TenantId, IncidentId), AppError> {
    let tenant = tenant_from_path(id)?;
    let iid = incident_from_path(iid)?;
    authorize(state, &auth.actor, Action::ManageIncident, Some(&tenant)).await?;
    let incident = state.deps().cases.incident(&iid).await?;
    if !touches(&incident, &tenant) {
        return Err(AppError::not_found());
    }
    Ok((tenant, iid))
}

/// `POST /v1/tenants/{id}/incidents` (`incident_manage`): opens an incident that isolates
/// the tenant, or only `grants` of it (INC-1).
pub(super) async fn open(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<OpenIncidentBody>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    let severity = parse_severity(&body.severity)?;
    let summary = display_text("summary", &body.summary, MAX_TEXT)?;
    if body.grants.len() > MAX_ITEMS {
        return Err(AppError::invalid(format!("`grants`: at most {MAX_ITEMS}")));
    }
    let mut scopes = Vec::new();
    for raw in &body.grants {
        let grant = GrantId::new(raw.as_str()).map_err(|e| AppError::invalid(format!("`grants`: {e}")))?;
        scopes.push(IsolationScope::Grant { tenant: tenant.clone(), grant });
    }
    if scopes.is_empty() {
        scopes.push(IsolationScope::Tenant(tenant.clone()));
    }
    authorize(&state, &auth.actor, Action::ManageIncident, Some(&tenant)).await?;
    let incident =
        state.services().open_incident(&auth.actor, severity, &summary, scopes).await.map_err(case_error)?;
    created(IncidentAnswer { incident: incident_view(&incident) })
}

/// `GET /v1/tenants/{id}/incidents` (`incident_manage`): the incidents concerning the
/// tenant, newest first.
pub(super) async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    authorize(&state, &auth.actor, Action::ManageIncident, Some(&tenant)).await?;
    let mut incidents: Vec<Incident> =
        state.deps().cases.incidents().await?.into_iter().filter(|i| touches(i, &tenant)).collect();
    incidents.sort_by(|a, b| b.opened_at().cmp(&a.opened_at()).then_with(|| a.id().cmp(b.id())));
    ok(IncidentList { incidents: incidents.iter().map(incident_view).collect() })
}

/// `GET /v1/tenants/{id}/incidents/{iid}` (`incident_manage`).
pub(super) async fn get(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath((id, iid)): AppPath<(String, String)>,
) -> Answered {
    let (_, iid) = visible(&state, &auth, &id, &iid).await?;
    let incident = state.deps().cases.incident(&iid).await?;
    ok(IncidentAnswer { incident: incident_view(&incident) })
}

/// `POST .../incidents/{iid}/assess` (`incident_manage`): what was touched in the window, from the audit
/// trail of the isolated tenants: tenants, data classes, records.
pub(super) async fn assess(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath((id, iid)): AppPath<(String, String)>,
    AppJson(body): AppJson<AssessBody>,
) -> Answered {
    let from = parse_time("from", &body.from)?;
    let to = parse_time("to", &body.to)?;
    if to < from {
        return Err(AppError::invalid("`to` is before `from`"));
    }
    let (_, iid) = visible(&state, &auth, &id, &iid).await?;
    let assessment =
        state.services().assess_incident(&auth.actor, &iid, from, to).await.map_err(case_error)?;
    ok(AssessmentAnswer { assessment: assessment_view(&assessment) })
}

/// `POST .../incidents/{iid}/notify` (`incident_manage`): plans the client's notification (and the listed
/// platforms') with the policy's deadlines, sends them and marks the delivered ones sent.
pub(super) async fn notify(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath((id, iid)): AppPath<(String, String)>,
    AppJson(body): AppJson<NotifyBody>,
) -> Answered {
    let mut platforms = Vec::new();
    for raw in &body.platforms {
        let platform: Platform = raw.parse().map_err(|e| AppError::invalid(format!("`platforms`: {e}")))?;
        if !platforms.contains(&platform) {
            platforms.push(platform);
        }
    }
    let (tenant, iid) = visible(&state, &auth, &id, &iid).await?;
    let incident = state
        .services()
        .notify_incident(&auth.actor, &iid, vec![tenant], platforms)
        .await
        .map_err(case_error)?;
    ok(IncidentAnswer { incident: incident_view(&incident) })
}

/// `POST .../incidents/{iid}/remediate` (`incident_manage`): records a remediation step.
pub(super) async fn remediate(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath((id, iid)): AppPath<(String, String)>,
    AppJson(body): AppJson<RemediateBody>,
) -> Answered {
    let action = display_text("action", &body.action, MAX_TEXT)?;
    let (_, iid) = visible(&state, &auth, &id, &iid).await?;
    let incident =
        state.services().remediate_incident(&auth.actor, &iid, &action).await.map_err(case_error)?;
    ok(IncidentAnswer { incident: incident_view(&incident) })
}

/// `POST .../incidents/{iid}/close` (`incident_manage`): contains and resolves as needed, records the
/// review and closes; refused (409) while an affected client has not been notified. Closing lifts the
/// isolation.
pub(super) async fn close(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath((id, iid)): AppPath<(String, String)>,
    AppJson(body): AppJson<CloseIncidentBody>,
) -> Answered {
    let review = display_text("review", &body.review, MAX_TEXT)?;
    if body.follow_ups.len() > MAX_ITEMS {
        return Err(AppError::invalid(format!("`follow_ups`: at most {MAX_ITEMS}")));
    }
    let follow_ups = body
        .follow_ups
        .iter()
        .map(|f| display_text("follow_ups", f, MAX_TEXT))
        .collect::<Result<Vec<_>, _>>()?;
    let follow_refs: Vec<&str> = follow_ups.iter().map(String::as_str).collect();
    let (_, iid) = visible(&state, &auth, &id, &iid).await?;
    let incident = state
        .services()
        .close_incident(&auth.actor, &iid, &review, &follow_refs)
        .await
        .map_err(case_error)?;
    ok(IncidentAnswer { incident: incident_view(&incident) })
}
