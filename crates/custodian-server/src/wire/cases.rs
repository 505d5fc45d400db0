//! Wire formats of cases: campaign change requests (CAM-1, CAM-2), retention and legal holds (RET-1..6),
//! client rights requests (RGT-1..3) and incidents (INC-1). Request bodies refuse unknown fields; response
//! views are built from core's domain types (which derive no serde). Nothing here shows record contents
//! except the export a rights request asked for.

use custodian_core::approval::{ChangeRequest, ChangeState, ChangeValue, ExecutionOutcome};
use custodian_core::incident::{Incident, IsolationScope, Recipient, Severity};
use custodian_core::retention::{
    ClassCounts, Disposal, HoldScope, LegalHold, RetentionPeriod, RetentionSummary,
};
use custodian_core::rights::{RightsKind, RightsRequest};
use custodian_core::service::IncidentAssessment;
use data_encoding::HEXLOWER;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::ts;

// ---- requests ----

/// One field change of a campaign change request. `to` (and `from`, what the proposer saw, if known) is a
/// status name for `status`, an amount in micros for `daily_budget`, `lifetime_budget` and `bid`, and
/// `{"start": rfc 3339, "end": rfc 3339 or null}` for `schedule`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FieldChangeBody {
    pub(crate) field: String,
    #[serde(default)]
    pub(crate) from: Option<Value>,
    pub(crate) to: Value,
}

/// The exact diff of a change: the account (`AccountRef` key, e.g. `meta:act_1`), the campaign and the
/// field changes.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DiffBody {
    pub(crate) account: String,
    pub(crate) campaign: String,
    pub(crate) changes: Vec<FieldChangeBody>,
}

/// `POST /v1/tenants/{id}/changes`: propose `diff` under `grant` (CAM-1).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProposeChangeBody {
    pub(crate) grant: String,
    #[serde(flatten)]
    pub(crate) diff: DiffBody,
}

/// `POST /v1/tenants/{id}/retention/holds` (RET-5). `scope` is `tenant`, `grant:<grant id>` or
/// `class:<data class>`; `ends_at` is RFC 3339.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HoldBody {
    pub(crate) scope: String,
    pub(crate) reason: String,
    pub(crate) ends_at: String,
}

/// `POST /v1/tenants/{id}/rights` (RGT-2). `kind`: access, correction, portability, restriction, objection
/// (with `purpose`) or deletion; `regime`: gdpr or ccpa; `received_at` (RFC 3339) defaults to now.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OpenRightsBody {
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) purpose: Option<String>,
    pub(crate) regime: String,
    #[serde(default)]
    pub(crate) received_at: Option<String>,
}

/// `POST /v1/tenants/{id}/rights/{rid}/update`: `action` acknowledge, extend (`reason`, `new_due`),
/// complete or reject (`reason`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateRightsBody {
    pub(crate) action: String,
    #[serde(default)]
    pub(crate) reason: Option<String>,
    #[serde(default)]
    pub(crate) new_due: Option<String>,
}

/// `GET /v1/tenants/{id}/rights/export` query: `format` json (default) or csv; with csv, `file` names one
/// of the files (`orders`, `order_lines`, `report_rows`, `campaigns`, `stock`, `contacts`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportQuery {
    #[serde(default)]
    pub(crate) format: Option<String>,
    #[serde(default)]
    pub(crate) file: Option<String>,
}

/// `POST /v1/tenants/{id}/incidents` (INC-1): isolates the tenant, or only the listed grants of it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OpenIncidentBody {
    pub(crate) severity: String,
    pub(crate) summary: String,
    #[serde(default)]
    pub(crate) grants: Vec<String>,
}

/// `POST .../incidents/{iid}/assess`: the window (RFC 3339, inclusive).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssessBody {
    pub(crate) from: String,
    pub(crate) to: String,
}

/// `POST .../incidents/{iid}/notify`: the affected client is the path's tenant; `platforms` adds partners.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NotifyBody {
    #[serde(default)]
    pub(crate) platforms: Vec<String>,
}

/// `POST .../incidents/{iid}/remediate`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RemediateBody {
    pub(crate) action: String,
}

/// `POST .../incidents/{iid}/close`: the post-incident review.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CloseIncidentBody {
    pub(crate) review: String,
    #[serde(default)]
    pub(crate) follow_ups: Vec<String>,
}

// ---- responses ----

fn value_json(value: &ChangeValue) -> Value {
    match value {
        ChangeValue::Status(s) => json!(s.as_str()),
        ChangeValue::Micros(m) => json!(m),
        ChangeValue::Schedule { start, end } => json!({"start": ts(*start), "end": end.map(ts)}),
    }
}

pub(crate) fn change_json(change: &ChangeRequest) -> Value {
    let diff = change.diff();
    let mut value = json!({
        "id": change.id().as_str(),
        "grant": change.grant().as_str(),
        "account": diff.account().key(),
        "campaign": diff.campaign().as_str(),
        "changes": diff.changes().iter().map(|c| json!({
            "field": c.field().as_str(),
            "from": c.from().map(value_json),
            "to": value_json(c.to()),
        })).collect::<Vec<_>>(),
        "diff_hash": HEXLOWER.encode(change.diff_hash()),
        "proposed_by": change.proposed_by().as_str(),
        "proposed_at": ts(change.proposed_at()),
        "state": change.state().as_str(),
    });
    let detail = match change.state() {
        ChangeState::Proposed => Value::Null,
        ChangeState::Approved { by, at, mfa_verified_at } => {
            json!({"approved_by": by.as_str(), "approved_at": ts(*at), "mfa_verified_at": ts(*mfa_verified_at)})
        }
        ChangeState::Rejected { by, at, reason } => {
            json!({"rejected_by": by.as_str(), "rejected_at": ts(*at), "reason": reason})
        }
        ChangeState::Executed { at, outcome } => {
            json!({"executed_at": ts(*at), "outcome": outcome_json(outcome)})
        }
        ChangeState::Failed { at, error } => json!({"failed_at": ts(*at), "error": error}),
    };
    if let Some(object) = value.as_object_mut() {
        object.insert("detail".to_owned(), detail);
    }
    value
}

pub(crate) fn outcome_json(outcome: &ExecutionOutcome) -> Value {
    match outcome {
        ExecutionOutcome::Confirmed => json!({"confirmed": true, "mismatched": []}),
        ExecutionOutcome::Mismatch(fields) => json!({
            "confirmed": false,
            "mismatched": fields.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        }),
    }
}

pub(crate) fn period_json(period: Option<RetentionPeriod>) -> Value {
    match period {
        None => Value::Null,
        Some(RetentionPeriod::Days(d)) => json!({"days": d.days()}),
        Some(RetentionPeriod::Months(m)) => json!({"months": m}),
    }
}

pub(crate) fn disposal_str(disposal: Disposal) -> &'static str {
    match disposal {
        Disposal::Delete => "delete",
        Disposal::Anonymize => "anonymize",
    }
}

fn counts_json(counts: &ClassCounts) -> Value {
    json!({
        "deleted": counts.deleted, "anonymized": counts.anonymized, "kept": counts.kept, "held": counts.held,
    })
}

/// What a retention sweep did (RET-4): per class and in total.
pub(crate) fn sweep_json(summary: &RetentionSummary) -> Value {
    let per_class: serde_json::Map<String, Value> =
        summary.per_class.iter().map(|(class, c)| (class.as_str().to_owned(), counts_json(c))).collect();
    json!({"per_class": per_class, "total": counts_json(&summary.total())})
}

pub(crate) fn hold_scope_str(scope: &HoldScope) -> String {
    match scope {
        HoldScope::Tenant => "tenant".to_owned(),
        HoldScope::Grant(g) => format!("grant:{g}"),
        HoldScope::Class(c) => format!("class:{c}"),
    }
}

pub(crate) fn hold_json(hold: &LegalHold) -> Value {
    json!({
        "id": hold.id().as_str(),
        "scope": hold_scope_str(hold.scope()),
        "reason": hold.reason(),
        "owner": hold.owner().as_str(),
        "placed_at": ts(hold.placed_at()),
        "ends_at": ts(hold.ends_at()),
        "lifted": hold.lifted().map(|l| json!({"by": l.by.as_str(), "at": ts(l.at)})),
    })
}

fn kind_json(kind: RightsKind) -> Value {
    match kind {
        RightsKind::Objection(purpose) => json!({"kind": kind.as_str(), "purpose": purpose.as_str()}),
        other => json!({"kind": other.as_str(), "purpose": null}),
    }
}

/// A rights request with its deadlines (RGT-2; CCPA business days skip `holidays`).
pub(crate) fn rights_json(request: &RightsRequest, holidays: &[time::Date]) -> Value {
    let deadlines = request.deadlines(holidays);
    let kind = kind_json(request.kind());
    json!({
        "id": request.id().as_str(),
        "kind": kind["kind"],
        "purpose": kind["purpose"],
        "regime": request.regime().as_str(),
        "status": request.status().as_str(),
        "received_at": ts(request.received_at()),
        "acknowledged_at": request.acknowledged_at().map(ts),
        "acknowledge_by": deadlines.acknowledge_by.map(ts),
        "respond_by": ts(deadlines.respond_by),
        "extension": request.extension().map(|e| json!({
            "notified_at": ts(e.notified_at), "reason": e.reason, "new_due": ts(e.new_due),
        })),
        "completed_at": request.completed_at().map(ts),
        "rejection_reason": request.rejection_reason(),
    })
}

pub(crate) fn severity_str(severity: Severity) -> &'static str {
    match severity {
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

fn scope_json(scope: &IsolationScope) -> Value {
    match scope {
        IsolationScope::Tenant(t) => json!({"tenant": t.as_str()}),
        IsolationScope::Grant { tenant, grant } => {
            json!({"tenant": tenant.as_str(), "grant": grant.as_str()})
        }
        IsolationScope::Platform(p) => json!({"platform": p.as_str()}),
        IsolationScope::Person(p) => json!({"person": p.as_str()}),
        IsolationScope::ApiKey(k) => json!({"api_key": k.as_str()}),
    }
}

fn recipient_json(recipient: &Recipient) -> Value {
    match recipient {
        Recipient::Client(t) => json!({"client": t.as_str()}),
        Recipient::Platform(p) => json!({"platform": p.as_str()}),
    }
}

pub(crate) fn incident_json(incident: &Incident) -> Value {
    json!({
        "id": incident.id().as_str(),
        "severity": severity_str(incident.severity()),
        "summary": incident.summary(),
        "state": incident.state().as_str(),
        "isolating": incident.isolates(),
        "opened_by": incident.opened_by().as_str(),
        "opened_at": ts(incident.opened_at()),
        "scopes": incident.scopes().iter().map(scope_json).collect::<Vec<_>>(),
        "notifications": incident.notifications().iter().map(|n| json!({
            "recipient": recipient_json(&n.recipient), "due_at": ts(n.due_at), "sent_at": n.sent_at.map(ts),
        })).collect::<Vec<_>>(),
        "remediation": incident.remediation().iter().map(|r| json!({
            "at": ts(r.at), "by": r.by.as_str(), "action": r.action,
        })).collect::<Vec<_>>(),
        "review": incident.review().map(|r| json!({
            "at": ts(r.at), "by": r.by.as_str(), "summary": r.summary, "follow_ups": r.follow_ups,
        })),
    })
}

pub(crate) fn assessment_json(assessment: &IncidentAssessment) -> Value {
    let a = &assessment.assessment;
    json!({
        "tenants": a.tenants.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "classes": a.classes.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "records": a.records,
        "audit_records_read": assessment.records_read,
    })
}
