//! Handlers for campaign change requests (CAM-1, CAM-2): propose, list and show, approve (four eyes and
//! step-up MFA, ACC-2) and execute exactly the approved diff with a read-back. Each write calls core's use
//! case (`propose_change`, `approve_change`, `execute_change`), which authorizes, audits the decision and
//! stores the change with its event (AUTH-7, AUD-2). Reads authorize `tenant_read` and come from the case
//! store. No policy is decided here.

use axum::extract::State;
use custodian_core::approval::{ApprovalError, ChangeDiff, ChangeField, ChangeId, ChangeValue, FieldChange};
use custodian_core::authz::Action;
use custodian_core::data::{CampaignId, CampaignStatus};
use custodian_core::grant::GrantId;
use custodian_core::platform::AccountRef;
use custodian_core::service::ServiceError;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::grants::service_error;
use super::{Answered, created, ok};
use crate::authn::Authenticated;
use crate::error::{AppError, ErrorCode};
use crate::extract::{AppJson, AppPath};
use crate::guard::authorize;
use crate::state::AppState;
use crate::usecase::tenants::tenant_from_path;
use crate::wire::cases::{
    ChangeAnswer, ChangeExecution, ChangeList, DiffBody, ProposeChangeBody, change_view, outcome_view,
};

/// Most field changes one diff may carry (there are five fields).
const MAX_CHANGES: usize = 5;

/// Parses an RFC 3339 timestamp of a body field.
pub(super) fn parse_time(field: &str, raw: &str) -> Result<OffsetDateTime, AppError> {
    OffsetDateTime::parse(raw, &Rfc3339)
        .map_err(|_| AppError::invalid(format!("`{field}` must be an rfc 3339 timestamp")))
}

/// Beginnings of core's conflict messages of these use cases (state rules, not storage): shown as they are.
const SAFE_CONFLICTS: [&str; 9] = [
    "change request in state",
    "diff does not match the approved diff",
    "approval is older than the approval window",
    "a reason is required",
    "event at ",
    "affected clients not notified",
    "deletion re-check found data left",
    "grant in state",
    "export bundle holds",
];

/// Maps a use-case error of the case handlers (changes, retention, rights, incidents). Core's conflict
/// messages that name the rule that refused (a state transition, a missing notification) are shown;
/// a self-approval is a 403 (CAM-1 four eyes), a missing or stale step-up a 403 `mfa_required` (ACC-2).
pub(super) fn case_error(error: ServiceError) -> AppError {
    match error {
        ServiceError::Conflict(message) => {
            if message == ApprovalError::SelfApproval.to_string() {
                AppError::forbidden(message)
            } else if [ApprovalError::MfaMissing, ApprovalError::MfaStale, ApprovalError::MfaInFuture]
                .iter()
                .any(|e| e.to_string() == message)
            {
                AppError::new(ErrorCode::MfaRequired, message)
            } else if SAFE_CONFLICTS.iter().any(|p| message.starts_with(p)) {
                AppError::conflict(message)
            } else {
                // A store's conflict may name its schema: keep it for the log.
                AppError::conflict("the request conflicts with the current state").with_detail(message)
            }
        }
        other => service_error(other),
    }
}

fn change_from_path(raw: &str) -> Result<ChangeId, AppError> {
    ChangeId::new(raw).map_err(|_| AppError::not_found())
}

fn parse_field(raw: &str) -> Result<ChangeField, AppError> {
    ChangeField::ALL.into_iter().find(|f| f.as_str() == raw).ok_or_else(|| {
        AppError::invalid("`field` must be one of status, daily_budget, lifetime_budget, bid, schedule")
    })
}

fn parse_status(raw: &str) -> Option<CampaignStatus> {
    [CampaignStatus::Active, CampaignStatus::Paused, CampaignStatus::Archived, CampaignStatus::Deleted]
        .into_iter()
        .find(|s| s.as_str() == raw)
}

/// A value of `field` from JSON: a status name, an integer amount in micros, or a schedule object.
fn parse_value(field: ChangeField, name: &str, raw: &Value) -> Result<ChangeValue, AppError> {
    let wrong = || AppError::invalid(format!("`{name}` does not fit field `{field}`"));
    match field {
        ChangeField::Status => raw.as_str().and_then(parse_status).map(ChangeValue::Status).ok_or_else(wrong),
        ChangeField::DailyBudget | ChangeField::LifetimeBudget | ChangeField::Bid => {
            raw.as_i64().map(ChangeValue::Micros).ok_or_else(wrong)
        }
        ChangeField::Schedule => {
            let object = raw.as_object().ok_or_else(wrong)?;
            if object.keys().any(|k| k != "start" && k != "end") {
                return Err(wrong());
            }
            let start = object.get("start").and_then(Value::as_str).ok_or_else(wrong)?;
            let start = parse_time("start", start)?;
            let end = match object.get("end") {
                None | Some(Value::Null) => None,
                Some(Value::String(end)) => Some(parse_time("end", end)?),
                Some(_) => return Err(wrong()),
            };
            Ok(ChangeValue::Schedule { start, end })
        }
    }
}

/// The validated diff of a body (core checks the values fit and the diff is non-empty, once each field).
pub(super) fn parse_diff(body: &DiffBody) -> Result<ChangeDiff, AppError> {
    let account =
        AccountRef::parse_key(&body.account).map_err(|e| AppError::invalid(format!("`account`: {e}")))?;
    let campaign =
        CampaignId::new(body.campaign.as_str()).map_err(|e| AppError::invalid(format!("`campaign`: {e}")))?;
    if body.changes.len() > MAX_CHANGES {
        return Err(AppError::invalid(format!("`changes`: at most {MAX_CHANGES} field changes")));
    }
    let mut changes = Vec::with_capacity(body.changes.len());
    for change in &body.changes {
        let field = parse_field(&change.field)?;
        let from = change.from.as_ref().map(|v| parse_value(field, "from", v)).transpose()?;
        let to = parse_value(field, "to", &change.to)?;
        changes.push(
            FieldChange::new(field, from, to).map_err(|e| AppError::invalid(format!("`changes`: {e}")))?,
        );
    }
    ChangeDiff::new(account, campaign, changes).map_err(|e| AppError::invalid(format!("`changes`: {e}")))
}

/// `POST /v1/tenants/{id}/changes` (`change_propose`): a proposed change under a grant (CAM-1).
pub(super) async fn propose(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<ProposeChangeBody>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    let grant = GrantId::new(body.grant.as_str()).map_err(|e| AppError::invalid(format!("`grant`: {e}")))?;
    let diff = parse_diff(&body.diff)?;
    let change =
        state.services().propose_change(&auth.actor, &tenant, &grant, diff).await.map_err(case_error)?;
    created(ChangeAnswer { change: change_view(&change) })
}

/// `GET /v1/tenants/{id}/changes` (`tenant_read`): the tenant's change requests, newest first.
pub(super) async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    authorize(&state, &auth.actor, Action::ReadTenant, Some(&tenant)).await?;
    let mut changes = state.deps().cases.changes(&tenant).await?;
    changes.sort_by(|a, b| b.proposed_at().cmp(&a.proposed_at()).then_with(|| a.id().cmp(b.id())));
    ok(ChangeList { changes: changes.iter().map(change_view).collect() })
}

/// `GET /v1/tenants/{id}/changes/{cid}` (`tenant_read`).
pub(super) async fn get(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath((id, cid)): AppPath<(String, String)>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    let cid = change_from_path(&cid)?;
    authorize(&state, &auth.actor, Action::ReadTenant, Some(&tenant)).await?;
    let change = state.deps().cases.change(&tenant, &cid).await?;
    ok(ChangeAnswer { change: change_view(&change) })
}

/// `POST /v1/tenants/{id}/changes/{cid}/approve` (`change_approve`, step-up MFA): another person than
/// the proposer approves (CAM-1, ACC-2).
pub(super) async fn approve(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath((id, cid)): AppPath<(String, String)>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    let cid = change_from_path(&cid)?;
    let change = state.services().approve_change(&auth.actor, &tenant, &cid).await.map_err(case_error)?;
    ok(ChangeAnswer { change: change_view(&change) })
}

/// `POST /v1/tenants/{id}/changes/{cid}/execute` (`change_execute`): the body repeats the diff, which must
/// be exactly the approved one (CAM-1); the campaign is read back after the change (CAM-2).
pub(super) async fn execute(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath((id, cid)): AppPath<(String, String)>,
    AppJson(body): AppJson<DiffBody>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    let cid = change_from_path(&cid)?;
    let diff = parse_diff(&body)?;
    let done =
        state.services().execute_change(&auth.actor, &tenant, &cid, &diff).await.map_err(case_error)?;
    ok(ChangeExecution { change: change_view(&done.change), outcome: outcome_view(&done.outcome) })
}
