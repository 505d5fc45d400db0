//! Handlers for client rights (RGT-1..3): requests with their statutory deadlines (open, list, show,
//! acknowledge, extend, complete, reject), the portable export (JSON, or CSV one file at a time; step-up
//! MFA, ACC-2), deletion of the client's data under a deletion request with a receipt (RET-6), and
//! offboarding. Writes call core's use cases, which authorize (`rights_manage`, `data_export`), audit and
//! store; reads authorize `rights_manage` and come from the case store.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use custodian_core::authz::Action;
use custodian_core::data::Purpose;
use custodian_core::retention::DeletionCause;
use custodian_core::rights::{Regime, RightsKind, RightsRequestId};
use custodian_core::service::{ExportFormat, RightsChange};
use serde_json::Value;

use super::changes::{case_error, parse_time};
use super::{Answered, created, ok};
use crate::authn::Authenticated;
use crate::error::AppError;
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::guard::authorize;
use crate::state::AppState;
use crate::usecase::display_text;
use crate::usecase::tenants::tenant_from_path;
use crate::wire::cases::{
    CsvFileView, ExportQuery, ListedRights, ListedRightsAnswer, Offboarded, OpenRightsBody, RightsAnswer,
    RightsList, UpdateRightsBody, rights_view,
};
use crate::wire::flows::{ReceiptAnswer, receipt_view};

/// Longest extension or rejection reason accepted.
const MAX_REASON: usize = 500;

/// The files of a CSV export (core's `export_csv`), by the name `file` takes.
const CSV_FILES: [&str; 6] = ["report_rows", "campaigns", "orders", "order_lines", "stock", "contacts"];

fn request_from_path(raw: &str) -> Result<RightsRequestId, AppError> {
    RightsRequestId::new(raw).map_err(|_| AppError::not_found())
}

fn parse_purpose(raw: Option<&str>) -> Result<Purpose, AppError> {
    let raw = raw.ok_or_else(|| AppError::invalid("`purpose` is required for an objection"))?;
    Purpose::ALL.into_iter().find(|p| p.as_str() == raw).ok_or_else(|| {
        AppError::invalid("`purpose` must be one of service_delivery, communication, compliance, improvement")
    })
}

fn parse_kind(body: &OpenRightsBody) -> Result<RightsKind, AppError> {
    let kind = match body.kind.as_str() {
        "access" => RightsKind::Access,
        "correction" => RightsKind::Correction,
        "portability" => RightsKind::Portability,
        "restriction" => RightsKind::Restriction,
        "objection" => RightsKind::Objection(parse_purpose(body.purpose.as_deref())?),
        "deletion" => RightsKind::Deletion,
        _ => {
            return Err(AppError::invalid(
                "`kind` must be one of access, correction, portability, restriction, objection, deletion",
            ));
        }
    };
    if body.purpose.is_some() && !matches!(kind, RightsKind::Objection(_)) {
        return Err(AppError::invalid("`purpose` applies only to an objection"));
    }
    Ok(kind)
}

fn parse_regime(raw: &str) -> Result<Regime, AppError> {
    match raw {
        "gdpr" => Ok(Regime::Gdpr),
        "ccpa" => Ok(Regime::Ccpa),
        _ => Err(AppError::invalid("`regime` must be gdpr or ccpa")),
    }
}

/// `POST /v1/tenants/{id}/rights` (`rights_manage`): records a request; deadlines run from `received_at`
/// (RGT-2).
pub(super) async fn open(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<OpenRightsBody>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    let kind = parse_kind(&body)?;
    let regime = parse_regime(&body.regime)?;
    let received_at = match body.received_at.as_deref() {
        Some(raw) => parse_time("received_at", raw)?,
        None => state.now(),
    };
    let request = state
        .services()
        .open_rights_request(&auth.actor, &tenant, kind, regime, received_at)
        .await
        .map_err(case_error)?;
    let holidays = &state.settings().holidays;
    created(RightsAnswer { request: rights_view(&request, holidays) })
}

/// `GET /v1/tenants/{id}/rights` (`rights_manage`): every request, newest first, with its deadlines and
/// whether it is overdue.
pub(super) async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    authorize(&state, &auth.actor, Action::ManageRights, Some(&tenant)).await?;
    let mut requests = state.deps().cases.rights_requests(&tenant).await?;
    requests.sort_by(|a, b| b.received_at().cmp(&a.received_at()).then_with(|| a.id().cmp(b.id())));
    let holidays = &state.settings().holidays;
    let now = state.now();
    ok(RightsList {
        requests: requests
            .iter()
            .map(|r| ListedRights { request: rights_view(r, holidays), overdue: r.is_overdue(now, holidays) })
            .collect(),
    })
}

/// `GET /v1/tenants/{id}/rights/{rid}` (`rights_manage`).
pub(super) async fn get(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath((id, rid)): AppPath<(String, String)>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    let rid = request_from_path(&rid)?;
    authorize(&state, &auth.actor, Action::ManageRights, Some(&tenant)).await?;
    let request = state.deps().cases.rights_request(&tenant, &rid).await?;
    let holidays = &state.settings().holidays;
    ok(ListedRightsAnswer {
        request: ListedRights {
            request: rights_view(&request, holidays),
            overdue: request.is_overdue(state.now(), holidays),
        },
    })
}

/// `POST /v1/tenants/{id}/rights/{rid}/update` (`rights_manage`): acknowledge, extend (with a reason and
/// the new due date, within the statutory maximum), complete or reject (with a reason) (RGT-2).
pub(super) async fn update(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath((id, rid)): AppPath<(String, String)>,
    AppJson(body): AppJson<UpdateRightsBody>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    let rid = request_from_path(&rid)?;
    let reason = body
        .reason
        .as_deref()
        .map(|r| display_text("reason", r, MAX_REASON))
        .transpose()?
        .unwrap_or_default();
    let needs_reason = || AppError::invalid(format!("`reason` is required to {}", body.action));
    let change = match body.action.as_str() {
        "acknowledge" => RightsChange::Acknowledge,
        "complete" => RightsChange::Complete,
        "extend" => {
            if reason.is_empty() {
                return Err(needs_reason());
            }
            let new_due = body
                .new_due
                .as_deref()
                .ok_or_else(|| AppError::invalid("`new_due` is required to extend"))
                .and_then(|raw| parse_time("new_due", raw))?;
            RightsChange::Extend { reason: &reason, new_due }
        }
        "reject" => {
            if reason.is_empty() {
                return Err(needs_reason());
            }
            RightsChange::Reject { reason: &reason }
        }
        _ => return Err(AppError::invalid("`action` must be one of acknowledge, extend, complete, reject")),
    };
    if body.new_due.is_some() && !matches!(change, RightsChange::Extend { .. }) {
        return Err(AppError::invalid("`new_due` applies only to extend"));
    }
    let request = state
        .services()
        .update_rights_request(&auth.actor, &tenant, &rid, change)
        .await
        .map_err(case_error)?;
    ok(RightsAnswer { request: rights_view(&request, &state.settings().holidays) })
}

/// `GET /v1/tenants/{id}/rights/export?format=json|csv[&file=…]` (`data_export`, step-up MFA): everything
/// portable of the client with buyer PII opened (RGT-1); each class read is audited with its count.
/// `format=json` (the default) answers the one JSON document; `format=csv` answers one file as `text/csv`.
pub(super) async fn export(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
    AppQuery(query): AppQuery<ExportQuery>,
) -> Result<Response, AppError> {
    let tenant = tenant_from_path(&id)?;
    let (format, file) = match (query.format.as_deref().unwrap_or("json"), query.file.as_deref()) {
        ("json", None) => (ExportFormat::Json, "export.json".to_owned()),
        ("json", Some(_)) => return Err(AppError::invalid("`file` applies only to format=csv")),
        ("csv", Some(name)) if CSV_FILES.contains(&name) => (ExportFormat::Csv, format!("{name}.csv")),
        ("csv", _) => {
            return Err(AppError::invalid(format!(
                "format=csv needs `file`, one of {}",
                CSV_FILES.join(", ")
            )));
        }
        _ => return Err(AppError::invalid("`format` must be json or csv")),
    };
    let files = state.services().export_as(&auth.actor, &tenant, format).await.map_err(case_error)?;
    let content = files
        .into_iter()
        .find(|f| f.name == file)
        .map(|f| f.content)
        .ok_or_else(|| AppError::internal(format!("export has no file `{file}`")))?;
    let content_type = match format {
        ExportFormat::Json => "application/json",
        ExportFormat::Csv => "text/csv; charset=utf-8",
    };
    let disposition = format!("attachment; filename=\"{}-{file}\"", tenant.as_str());
    let mut response = (StatusCode::OK, content).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `POST /v1/tenants/{id}/rights/{rid}/delete-data` (`rights_manage`): under a deletion request of the
/// tenant, revokes every grant, destroys the tenant's keys, deletes its secrets, records and contacts,
/// re-checks and answers with the receipt (RGT-1, RET-6).
pub(super) async fn delete_data(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath((id, rid)): AppPath<(String, String)>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    let rid = request_from_path(&rid)?;
    // The receipt names the request as its cause: it must be this tenant's, and a deletion request.
    authorize(&state, &auth.actor, Action::ManageRights, Some(&tenant)).await?;
    let request = state.deps().cases.rights_request(&tenant, &rid).await?;
    if request.kind() != RightsKind::Deletion {
        return Err(AppError::conflict("the rights request is not a deletion request"));
    }
    if request.status().is_closed() {
        return Err(AppError::conflict("the rights request is already closed"));
    }
    let receipt = state
        .services()
        .delete_client_data(&auth.actor, &tenant, DeletionCause::ClientRequest(rid))
        .await
        .map_err(case_error)?;
    ok(ReceiptAnswer { receipt: receipt_view(&receipt) })
}

/// `POST /v1/tenants/{id}/rights/offboard` (`rights_manage`, and `data_export` with step-up MFA for the
/// export): stops processing, exports everything portable, deletes everything with a receipt and marks
/// the tenant offboarded (RGT-3). The answer carries the export (the JSON document and every CSV file).
pub(super) async fn offboard(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    // Core marks the tenant offboarding before it exports: ask both decisions first, so that a missing
    // permission or a stale step-up changes nothing.
    authorize(&state, &auth.actor, Action::ManageRights, Some(&tenant)).await?;
    authorize(&state, &auth.actor, Action::ExportData, Some(&tenant)).await?;
    let done = state.services().offboard(&auth.actor, &tenant).await.map_err(case_error)?;
    // The data is gone by now: never fail here, whatever the document looks like.
    let export: Value = serde_json::from_str(&done.json).unwrap_or_else(|_| Value::String(done.json.clone()));
    ok(Offboarded {
        receipt: receipt_view(&done.receipt),
        export,
        csv: done.csv.iter().map(|f| CsvFileView { name: &f.name, content: &f.content }).collect(),
    })
}
