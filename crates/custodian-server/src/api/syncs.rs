//! Handlers for syncs: run one now (inline, answering with the counts) and show where each stands.
//!
//! A run calls core's `sync_reporting`, `sync_orders` and `sync_stock` once per account and kind: each
//! re-validates a stale grant (AUTH-2), authorizes `sync_run` with the grant, the target account and the
//! task (AUTH-1, AUTH-3, AUTH-4; buyer PII only with the switch on and `pii_read`, MIN-2), and commits
//! every page with its checkpoint and a `sync_progressed` event (AUD-1, AUD-2). The handler first checks
//! `tenant_read` so that nothing about the grant (its platform, its accounts) shapes an answer to someone
//! who may not see the tenant.
//!
//! Status comes from the checkpoints the dataset store keeps (one per grant, task and account: resume
//! cursor, watermark, time). Core keeps no run history beyond them; failed runs are in the audit trail
//! (`sync_failed`).

use axum::extract::State;
use custodian_core::authz::Action;
use custodian_core::data::ReportLevel;
use custodian_core::grant::Grant;
use custodian_core::platform::{AccountRef, Task};
use custodian_core::ports::{OrderQuery, ReportQuery};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime};

use super::grants::{grant_from_path, service_error};
use super::{Answered, ok};
use crate::authn::Authenticated;
use crate::error::AppError;
use crate::extract::{AppJson, AppPath};
use crate::guard::authorize;
use crate::state::AppState;
use crate::usecase::tenants::tenant_from_path;
use crate::wire::flows::{SyncBody, SyncRuns, SyncStatus, checkpoint_view, grant_view, sync_run_view};
use crate::worker::{default_orders_delay, orders_window_end};

/// The default report window: the last 28 days (Meta's late-attribution window), today included.
const DEFAULT_REPORT_DAYS: i64 = 28;
/// The longest report window one run may ask for.
const MAX_REPORT_DAYS: i64 = 400;
/// The default order window of a first run.
const DEFAULT_ORDER_DAYS: i64 = 30;

/// What a run pulls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Reporting,
    Orders,
    Stock,
}

impl Kind {
    fn parse(raw: &str) -> Result<Self, AppError> {
        match raw {
            "reporting" => Ok(Kind::Reporting),
            "orders" => Ok(Kind::Orders),
            "stock" => Ok(Kind::Stock),
            other => Err(AppError::invalid(format!(
                "`kinds`: `{}` is not one of reporting, orders, stock",
                other.chars().take(32).collect::<String>()
            ))),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Kind::Reporting => "reporting",
            Kind::Orders => "orders",
            Kind::Stock => "stock",
        }
    }
}

/// Parses a `YYYY-MM-DD` date.
pub(super) fn parse_date(field: &str, raw: &str) -> Result<Date, AppError> {
    Date::parse(raw, format_description!("[year]-[month]-[day]"))
        .map_err(|_| AppError::invalid(format!("`{field}` must be a date as `YYYY-MM-DD`")))
}

fn parse_time(field: &str, raw: &str) -> Result<OffsetDateTime, AppError> {
    OffsetDateTime::parse(raw, &Rfc3339)
        .map_err(|_| AppError::invalid(format!("`{field}` must be an rfc 3339 timestamp")))
}

fn parse_level(raw: Option<&str>) -> Result<ReportLevel, AppError> {
    match raw.unwrap_or("campaign") {
        "account" => Ok(ReportLevel::Account),
        "campaign" => Ok(ReportLevel::Campaign),
        "ad_group" => Ok(ReportLevel::AdGroup),
        "ad" => Ok(ReportLevel::Ad),
        _ => Err(AppError::invalid("`level` must be one of account, campaign, ad_group, ad")),
    }
}

/// The validated request: which accounts and kinds, with their windows.
struct Plan {
    accounts: Vec<AccountRef>,
    kinds: Vec<Kind>,
    report: ReportQuery,
    orders_after: Option<OffsetDateTime>,
    orders_before: OffsetDateTime,
}

fn plan(body: &SyncBody, grant: &Grant, now: OffsetDateTime) -> Result<Plan, AppError> {
    let accounts = match &body.account {
        Some(raw) => {
            let account =
                AccountRef::parse_key(raw).map_err(|e| AppError::invalid(format!("`account`: {e}")))?;
            vec![account]
        }
        None => grant.evidence().map(|e| e.accounts.iter().cloned().collect()).unwrap_or_default(),
    };
    if accounts.is_empty() {
        return Err(AppError::conflict("the grant has no validated account to sync"));
    }
    let mut kinds = Vec::new();
    for raw in &body.kinds {
        let kind = Kind::parse(raw)?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    if kinds.is_empty() {
        kinds = if grant.platform.is_commerce() {
            vec![Kind::Orders, Kind::Stock]
        } else {
            vec![Kind::Reporting]
        };
    }
    let today = now.date();
    let to = body.to.as_deref().map(|raw| parse_date("to", raw)).transpose()?.unwrap_or(today);
    let from = match body.from.as_deref() {
        Some(raw) => parse_date("from", raw)?,
        None => to - Duration::days(DEFAULT_REPORT_DAYS - 1),
    };
    if to < from {
        return Err(AppError::invalid("`to` is before `from`"));
    }
    if (to - from).whole_days() >= MAX_REPORT_DAYS {
        return Err(AppError::invalid(format!("the report window is longer than {MAX_REPORT_DAYS} days")));
    }
    let report = ReportQuery { level: parse_level(body.level.as_deref())?, from, to };
    let orders_after =
        body.updated_after.as_deref().map(|raw| parse_time("updated_after", raw)).transpose()?;
    let orders_before = body
        .updated_before
        .as_deref()
        .map(|raw| parse_time("updated_before", raw))
        .transpose()?
        .unwrap_or_else(|| {
            // The same end as scheduled syncs: before the platform's data delay, in whole seconds.
            let delay = default_orders_delay().get(&grant.platform).copied().unwrap_or(Duration::ZERO);
            orders_window_end(delay, now)
        });
    if orders_after.is_some_and(|after| after >= orders_before) {
        return Err(AppError::invalid("`updated_after` is not before `updated_before`"));
    }
    Ok(Plan { accounts, kinds, report, orders_after, orders_before })
}

/// `POST /v1/tenants/{id}/grants/{grant}/syncs` (`tenant_read`, then `sync_run` per account and task):
/// runs the sync now and answers with what each run stored.
pub(super) async fn trigger(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath((id, grant)): AppPath<(String, String)>,
    AppJson(body): AppJson<SyncBody>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    let grant_id = grant_from_path(&grant)?;
    authorize(&state, &auth.actor, Action::ReadTenant, Some(&tenant)).await?;
    let deps = state.deps();
    let grant = deps.grants.grant(&tenant, &grant_id).await?;
    let now = state.now();
    let plan = plan(&body, &grant, now)?;
    let services = state.services();
    let actor = &auth.actor;
    let mut runs = Vec::new();
    for account in &plan.accounts {
        for kind in &plan.kinds {
            let report = match kind {
                Kind::Reporting => {
                    services.sync_reporting(actor, &tenant, &grant_id, account, &plan.report).await
                }
                Kind::Orders => {
                    let after = match plan.orders_after {
                        Some(after) => after,
                        // Continue from where the last run's window ended.
                        None => deps
                            .datasets
                            .checkpoint(&tenant, &grant_id, Task::ReadOrders, account)
                            .await?
                            .and_then(|c| c.watermark)
                            .filter(|w| *w < plan.orders_before)
                            .unwrap_or(plan.orders_before - Duration::days(DEFAULT_ORDER_DAYS)),
                    };
                    let query = OrderQuery { updated_after: after, updated_before: plan.orders_before };
                    services.sync_orders(actor, &tenant, &grant_id, account, &query).await
                }
                Kind::Stock => services.sync_stock(actor, &tenant, &grant_id, account).await,
            }
            .map_err(service_error)?;
            runs.push(sync_run_view(kind.as_str(), account.key(), &report));
        }
    }
    let grant = deps.grants.grant(&tenant, &grant_id).await?;
    ok(SyncRuns { grant: grant_view(&grant), runs })
}

/// The checkpoint kinds: (name, the task core saves the checkpoint under).
const CHECKPOINTS: [(&str, Task); 4] = [
    ("campaigns", Task::ReadCampaigns),
    ("report_rows", Task::ReadReporting),
    ("orders", Task::ReadOrders),
    ("stock", Task::UpdateStock),
];

/// `GET /v1/tenants/{id}/grants/{grant}/syncs` (`tenant_read`): the grant's state and the checkpoint of
/// every account and kind that has run.
pub(super) async fn status(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath((id, grant)): AppPath<(String, String)>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    let grant_id = grant_from_path(&grant)?;
    authorize(&state, &auth.actor, Action::ReadTenant, Some(&tenant)).await?;
    let deps = state.deps();
    let grant = deps.grants.grant(&tenant, &grant_id).await?;
    let accounts: Vec<AccountRef> =
        grant.evidence().map(|e| e.accounts.iter().cloned().collect()).unwrap_or_default();
    let mut checkpoints = Vec::new();
    for account in &accounts {
        for (name, task) in CHECKPOINTS {
            if let Some(checkpoint) = deps.datasets.checkpoint(&tenant, &grant_id, task, account).await? {
                checkpoints.push(checkpoint_view(name, &checkpoint));
            }
        }
    }
    ok(SyncStatus { grant: grant_view(&grant), checkpoints })
}

#[cfg(test)]
mod tests;
