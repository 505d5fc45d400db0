//! Handlers for retention (RET-1..6) and legal holds (RET-5): the periods that apply to a tenant, a sweep
//! now (answering with its counts, RET-4), deletion receipts (RET-6), and holds placed and lifted (lifting
//! needs step-up MFA, ACC-2). Writes call core's `retention_sweep`, `place_hold` and `lift_hold`, which
//! authorize, audit and store; reads authorize `tenant_read` and come from the stores.

use axum::extract::State;
use custodian_core::authz::Action;
use custodian_core::data::DataClass;
use custodian_core::retention::{HoldId, HoldScope, effective_period};

use super::changes::{case_error, parse_time};
use super::grants::grant_from_path;
use super::{Answered, created, ok};
use crate::authn::Authenticated;
use crate::error::AppError;
use crate::extract::{AppJson, AppPath};
use crate::guard::authorize;
use crate::state::AppState;
use crate::usecase::display_text;
use crate::usecase::tenants::tenant_from_path;
use crate::wire::cases::{
    HoldAnswer, HoldBody, HoldList, ListedHold, PolicyView, ReceiptList, RetentionPolicies, SweepAnswer,
    disposal_name, hold_view, period_view, sweep_view,
};
use crate::wire::flows::receipt_view;

/// Longest hold reason accepted (core bounds it too).
const MAX_REASON: usize = 500;

fn hold_from_path(raw: &str) -> Result<HoldId, AppError> {
    HoldId::new(raw).map_err(|_| AppError::not_found())
}

fn parse_scope(raw: &str) -> Result<HoldScope, AppError> {
    let scope = match raw.split_once(':') {
        None if raw == "tenant" => HoldScope::Tenant,
        Some(("grant", grant)) => HoldScope::Grant(
            grant_from_path(grant).map_err(|_| AppError::invalid("`scope`: not a valid grant id"))?,
        ),
        Some(("class", class)) => HoldScope::Class(
            class.parse::<DataClass>().map_err(|_| AppError::invalid("`scope`: not a known data class"))?,
        ),
        _ => return Err(AppError::invalid("`scope` must be `tenant`, `grant:<id>` or `class:<data class>`")),
    };
    Ok(scope)
}

/// `GET /v1/tenants/{id}/retention` (`tenant_read`): per data class, the policy period, the contract's
/// override and the effective (shorter) period with its disposal (RET-1, RET-2).
pub(super) async fn policies(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Answered {
    let tenant_id = tenant_from_path(&id)?;
    authorize(&state, &auth.actor, Action::ReadTenant, Some(&tenant_id)).await?;
    let tenant = state.deps().tenants.tenant(&tenant_id).await?;
    let policy = &state.settings().retention;
    let policies = policy
        .rules()
        .map(|rule| PolicyView {
            class: rule.class.as_str(),
            policy: period_view(rule.period),
            contract_days: tenant.contract.retention_overrides.get(&rule.class).map(|d| d.days()),
            effective: period_view(effective_period(rule.class, &tenant.contract, policy)),
            disposal: disposal_name(rule.disposal),
        })
        .collect();
    ok(RetentionPolicies { policies })
}

/// `POST /v1/tenants/{id}/retention/sweep` (`retention_manage`): deletes or anonymizes what is past its
/// period unless held, and answers with the counts (RET-3, RET-4, RET-5).
pub(super) async fn sweep(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    let report = state.services().retention_sweep(&auth.actor, &tenant).await.map_err(case_error)?;
    ok(SweepAnswer { sweep: sweep_view(&report.summary) })
}

/// `GET /v1/tenants/{id}/retention/receipts` (`tenant_read`): deletion receipts, newest first (RET-6).
pub(super) async fn receipts(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    authorize(&state, &auth.actor, Action::ReadTenant, Some(&tenant)).await?;
    let mut receipts = state.deps().cases.receipts(&tenant).await?;
    receipts.sort_by(|a, b| b.completed_at().cmp(&a.completed_at()).then_with(|| a.id().cmp(b.id())));
    ok(ReceiptList { receipts: receipts.iter().map(receipt_view).collect() })
}

/// `GET /v1/tenants/{id}/retention/holds` (`tenant_read`): every hold, newest first.
pub(super) async fn holds(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    authorize(&state, &auth.actor, Action::ReadTenant, Some(&tenant)).await?;
    let mut holds = state.deps().cases.holds(&tenant).await?;
    holds.sort_by(|a, b| b.placed_at().cmp(&a.placed_at()).then_with(|| a.id().cmp(b.id())));
    let now = state.now();
    ok(HoldList {
        holds: holds.iter().map(|h| ListedHold { hold: hold_view(h), active: h.is_active(now) }).collect(),
    })
}

/// `POST /v1/tenants/{id}/retention/holds` (`hold_manage`): a hold with a reason, an owner (the person
/// placing it) and an end (RET-5).
pub(super) async fn place_hold(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<HoldBody>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    let scope = parse_scope(&body.scope)?;
    let reason = display_text("reason", &body.reason, MAX_REASON)?;
    let ends_at = parse_time("ends_at", &body.ends_at)?;
    let hold = state
        .services()
        .place_hold(&auth.actor, &tenant, scope, &reason, ends_at)
        .await
        .map_err(case_error)?;
    created(HoldAnswer { hold: hold_view(&hold) })
}

/// `POST /v1/tenants/{id}/retention/holds/{hid}/lift` and `DELETE .../holds/{hid}` (`hold_manage`,
/// step-up MFA): ends a hold early (RET-5, ACC-2); the hold stays on record as lifted.
pub(super) async fn lift_hold(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath((id, hid)): AppPath<(String, String)>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    let hid = hold_from_path(&hid)?;
    let hold = state.services().lift_hold(&auth.actor, &tenant, &hid).await.map_err(case_error)?;
    ok(HoldAnswer { hold: hold_view(&hold) })
}
