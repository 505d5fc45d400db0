//! Handlers for client rights (RGT-1..3): requests with their statutory deadlines (open, list, show,
//! acknowledge, extend, complete, reject), the portable export (JSON, or CSV one file at a time; step-up
//! MFA, ACC-2), deletion of the client's data under a deletion request with a receipt (RET-6), and
//! offboarding. Writes call core's use cases, which authorize (`rights_manage`, `data_export`), audit and
//! store; reads authorize `rights_manage` and come from the case store.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use custodian_core::authz::Action;
use custodian_core::data::Purpose;
use custodian_core::retention::DeletionCause;
use custodian_core::rights::ExportFile;
use custodian_core::rights::{Regime, RightsKind, RightsRequestId};
use custodian_core::service::RightsChange;
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
/// portable of the client with buyer PII opened (RGT-1). `format=json` (the default) answers the one JSON
/// document; `format=csv` answers one file as `text/csv`, and reads only what that file holds.
///
/// The answer is streamed a page of records at a time (core's `ExportStream`): each page's reads are in
/// the audit trail before the page is sent (AUD-1), and memory holds one page whatever the export's size.
/// The first page is read before the answer starts, so a refusal or a failure there is a JSON error with
/// its status; a failure after that cuts the answer off (no terminating chunk), so that no client can take
/// an incomplete export for a whole one.
pub(super) async fn export(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
    AppQuery(query): AppQuery<ExportQuery>,
) -> Result<Response, AppError> {
    let tenant = tenant_from_path(&id)?;
    let csv_files = || ExportFile::CSV.map(ExportFile::stem).join(", ");
    let file = match (query.format.as_deref().unwrap_or("json"), query.file.as_deref()) {
        ("json", None) => ExportFile::Json,
        ("json", Some(_)) => return Err(AppError::invalid("`file` applies only to format=csv")),
        ("csv", Some(name)) => ExportFile::csv(name)
            .ok_or_else(|| AppError::invalid(format!("`file` must be one of {}", csv_files())))?,
        ("csv", None) => {
            return Err(AppError::invalid(format!("format=csv needs `file`, one of {}", csv_files())));
        }
        _ => return Err(AppError::invalid("`format` must be json or csv")),
    };
    let mut stream = state.services().export_stream(&auth.actor, &tenant, file).await.map_err(case_error)?;
    let first = stream.next_chunk().await.map_err(case_error)?;
    let chunks = futures::stream::unfold((first, Some(stream)), |(pending, stream)| async move {
        if let Some(chunk) = pending {
            return Some((Ok(Bytes::from(chunk)), (None, stream)));
        }
        let mut stream = stream?;
        match stream.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok(Bytes::from(chunk)), (None, Some(stream)))),
            Ok(None) => None,
            Err(error) => {
                tracing::error!(file = stream.file().stem(), %error, "export stopped mid-answer");
                Some((Err(std::io::Error::other("export stopped")), (None, None)))
            }
        }
    });
    let content_type = match file {
        ExportFile::Json => "application/json",
        _ => "text/csv; charset=utf-8",
    };
    let disposition = format!("attachment; filename=\"{}-{}\"", tenant.as_str(), file.name());
    let mut response = (StatusCode::OK, Body::from_stream(chunks)).into_response();
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
