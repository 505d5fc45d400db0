//! Wire formats of cases: campaign change requests (CAM-1, CAM-2), retention and legal holds (RET-1..6),
//! client rights requests (RGT-1..3) and incidents (INC-1). Request bodies refuse unknown fields; response
//! views are built from core's domain types (which derive no serde). Nothing here shows record contents
//! except the export a rights request asked for.

use std::collections::BTreeMap;

use custodian_core::approval::{ChangeRequest, ChangeState, ChangeValue, ExecutionOutcome};
use custodian_core::incident::{Incident, IsolationScope, Recipient, Severity};
use custodian_core::retention::{
    ClassCounts, Disposal, HoldScope, LegalHold, RetentionPeriod, RetentionSummary,
};
use custodian_core::rights::{RightsKind, RightsRequest};
use custodian_core::service::IncidentAssessment;
use data_encoding::HEXLOWER;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::flows::ReceiptView;
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

/// A value of a changed field: a status name for `status`, an amount in micros for `daily_budget`,
/// `lifetime_budget` and `bid`, a schedule for `schedule`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged, rename = "ChangeValue")]
pub(crate) enum ChangeValueView {
    /// A campaign status: `active`, `paused`, `archived` or `deleted`.
    Status(&'static str),
    /// An amount in micros of the account's currency.
    Micros(i64),
    /// A schedule: RFC 3339 start and end (`null`: open-ended).
    Schedule { start: String, end: Option<String> },
}

fn value_view(value: &ChangeValue) -> ChangeValueView {
    match value {
        ChangeValue::Status(s) => ChangeValueView::Status(s.as_str()),
        ChangeValue::Micros(m) => ChangeValueView::Micros(*m),
        ChangeValue::Schedule { start, end } => {
            ChangeValueView::Schedule { start: ts(*start), end: end.map(ts) }
        }
    }
}

/// One field change of a change request.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "FieldChange")]
pub(crate) struct FieldChangeView {
    /// `status`, `daily_budget`, `lifetime_budget`, `bid` or `schedule`.
    field: &'static str,
    /// What the proposer saw, if they said.
    from: Option<ChangeValueView>,
    to: ChangeValueView,
}

/// Who decided or did what to a change request, by its state; `null` while proposed.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged, rename = "ChangeDetail")]
pub(crate) enum ChangeDetailView<'a> {
    /// `approved`.
    Approved {
        approved_by: &'a str,
        /// RFC 3339.
        approved_at: String,
        /// The approver's step-up verification (RFC 3339).
        mfa_verified_at: String,
    },
    /// `rejected`.
    Rejected {
        rejected_by: &'a str,
        /// RFC 3339.
        rejected_at: String,
        reason: &'a str,
    },
    /// `executed`.
    Executed {
        /// RFC 3339.
        executed_at: String,
        outcome: OutcomeView,
    },
    /// `failed`.
    Failed {
        /// RFC 3339.
        failed_at: String,
        error: &'a str,
    },
}

/// A campaign change request (CAM-1) with its exact diff and where it stands.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "ChangeRequest")]
pub(crate) struct ChangeView<'a> {
    /// The change request's id.
    id: &'a str,
    /// The grant the change is made under.
    grant: &'a str,
    /// The account key, e.g. `meta:act_1`.
    account: String,
    /// The campaign's id on the platform.
    campaign: &'a str,
    /// The field changes, in canonical order.
    changes: Vec<FieldChangeView>,
    /// The hex SHA-256 of the diff the approval binds to.
    diff_hash: String,
    /// The person who proposed it.
    proposed_by: &'a str,
    /// RFC 3339.
    proposed_at: String,
    /// `proposed`, `approved`, `rejected`, `executed` or `failed`.
    state: &'static str,
    /// Who decided or did what, by state; `null` while proposed.
    detail: Option<ChangeDetailView<'a>>,
}

pub(crate) fn change_view(change: &ChangeRequest) -> ChangeView<'_> {
    let diff = change.diff();
    let detail = match change.state() {
        ChangeState::Proposed => None,
        ChangeState::Approved { by, at, mfa_verified_at } => Some(ChangeDetailView::Approved {
            approved_by: by.as_str(),
            approved_at: ts(*at),
            mfa_verified_at: ts(*mfa_verified_at),
        }),
        ChangeState::Rejected { by, at, reason } => {
            Some(ChangeDetailView::Rejected { rejected_by: by.as_str(), rejected_at: ts(*at), reason })
        }
        ChangeState::Executed { at, outcome } => {
            Some(ChangeDetailView::Executed { executed_at: ts(*at), outcome: outcome_view(outcome) })
        }
        ChangeState::Failed { at, error } => Some(ChangeDetailView::Failed { failed_at: ts(*at), error }),
    };
    ChangeView {
        id: change.id().as_str(),
        grant: change.grant().as_str(),
        account: diff.account().key(),
        campaign: diff.campaign().as_str(),
        changes: diff
            .changes()
            .iter()
            .map(|c| FieldChangeView {
                field: c.field().as_str(),
                from: c.from().map(value_view),
                to: value_view(c.to()),
            })
            .collect(),
        diff_hash: HEXLOWER.encode(change.diff_hash()),
        proposed_by: change.proposed_by().as_str(),
        proposed_at: ts(change.proposed_at()),
        state: change.state().as_str(),
        detail,
    }
}

/// The read-back after executing a change (CAM-2).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "ExecutionOutcome")]
pub(crate) struct OutcomeView {
    /// Whether every changed field reads back as approved.
    confirmed: bool,
    /// The fields that read back differently (or could not be read).
    mismatched: Vec<&'static str>,
}

pub(crate) fn outcome_view(outcome: &ExecutionOutcome) -> OutcomeView {
    match outcome {
        ExecutionOutcome::Confirmed => OutcomeView { confirmed: true, mismatched: Vec::new() },
        ExecutionOutcome::Mismatch(fields) => {
            OutcomeView { confirmed: false, mismatched: fields.iter().map(|f| f.as_str()).collect() }
        }
    }
}

/// One change request.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ChangeAnswer<'a> {
    pub(crate) change: ChangeView<'a>,
}

/// `GET /v1/tenants/{id}/changes`: newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ChangeList<'a> {
    /// The tenant's change requests, newest first.
    pub(crate) changes: Vec<ChangeView<'a>>,
}

/// `POST /v1/tenants/{id}/changes/{cid}/execute`: the executed change and the read-back's outcome.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ChangeExecution<'a> {
    pub(crate) change: ChangeView<'a>,
    pub(crate) outcome: OutcomeView,
}

/// A retention period.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged, rename = "RetentionPeriod")]
pub(crate) enum PeriodView {
    /// A fixed number of days.
    Days { days: u32 },
    /// Calendar months.
    Months { months: u32 },
}

pub(crate) fn period_view(period: Option<RetentionPeriod>) -> Option<PeriodView> {
    match period? {
        RetentionPeriod::Days(d) => Some(PeriodView::Days { days: d.days() }),
        RetentionPeriod::Months(m) => Some(PeriodView::Months { months: m }),
    }
}

/// What happens to data past its period.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", rename = "Disposal")]
pub(crate) enum DisposalName {
    Delete,
    Anonymize,
}

pub(crate) fn disposal_name(disposal: Disposal) -> DisposalName {
    match disposal {
        Disposal::Delete => DisposalName::Delete,
        Disposal::Anonymize => DisposalName::Anonymize,
    }
}

/// The retention of one data class for one tenant (RET-1, RET-2).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "RetentionClassPolicy")]
pub(crate) struct PolicyView {
    /// The data class, e.g. `order_detail`.
    pub(crate) class: &'static str,
    /// The policy's period; `null`: not time-based (the data goes with its grant or tenant).
    pub(crate) policy: Option<PeriodView>,
    /// The contract's override in days, if any.
    pub(crate) contract_days: Option<u32>,
    /// The period that applies: the shorter of policy and contract.
    pub(crate) effective: Option<PeriodView>,
    pub(crate) disposal: DisposalName,
}

/// `GET /v1/tenants/{id}/retention`: per data class.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RetentionPolicies {
    /// One per data class the policy knows.
    pub(crate) policies: Vec<PolicyView>,
}

/// What a sweep did to one data class (or in total).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "SweepCounts")]
pub(crate) struct CountsView {
    /// Records deleted.
    deleted: u64,
    /// Records anonymized.
    anonymized: u64,
    /// Kept within their period or not time-based.
    kept: u64,
    /// Past their period but kept by a legal hold.
    held: u64,
}

fn counts_view(counts: &ClassCounts) -> CountsView {
    CountsView {
        deleted: counts.deleted,
        anonymized: counts.anonymized,
        kept: counts.kept,
        held: counts.held,
    }
}

/// What a retention sweep did (RET-4): per class and in total.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "Sweep")]
pub(crate) struct SweepView {
    /// By data class name.
    per_class: BTreeMap<&'static str, CountsView>,
    total: CountsView,
}

/// `POST /v1/tenants/{id}/retention/sweep`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SweepAnswer {
    pub(crate) sweep: SweepView,
}

pub(crate) fn sweep_view(summary: &RetentionSummary) -> SweepView {
    SweepView {
        per_class: summary.per_class.iter().map(|(class, c)| (class.as_str(), counts_view(c))).collect(),
        total: counts_view(&summary.total()),
    }
}

/// `GET /v1/tenants/{id}/retention/receipts`: newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ReceiptList<'a> {
    /// The tenant's deletion receipts, newest first.
    pub(crate) receipts: Vec<ReceiptView<'a>>,
}

pub(crate) fn hold_scope_str(scope: &HoldScope) -> String {
    match scope {
        HoldScope::Tenant => "tenant".to_owned(),
        HoldScope::Grant(g) => format!("grant:{g}"),
        HoldScope::Class(c) => format!("class:{c}"),
    }
}

/// Who lifted a hold early, and when.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "HoldLift")]
pub(crate) struct LiftView<'a> {
    /// The person who lifted it.
    by: &'a str,
    /// RFC 3339.
    at: String,
}

/// A legal hold (RET-5).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "LegalHold")]
pub(crate) struct HoldView<'a> {
    /// The hold's id.
    id: &'a str,
    /// `tenant`, `grant:<grant id>` or `class:<data class>`.
    scope: String,
    /// Why the data is held (e.g. litigation).
    reason: &'a str,
    /// The person who placed it.
    owner: &'a str,
    /// RFC 3339.
    placed_at: String,
    /// RFC 3339.
    ends_at: String,
    /// `null` unless lifted early.
    lifted: Option<LiftView<'a>>,
}

pub(crate) fn hold_view(hold: &LegalHold) -> HoldView<'_> {
    HoldView {
        id: hold.id().as_str(),
        scope: hold_scope_str(hold.scope()),
        reason: hold.reason(),
        owner: hold.owner().as_str(),
        placed_at: ts(hold.placed_at()),
        ends_at: ts(hold.ends_at()),
        lifted: hold.lifted().map(|l| LiftView { by: l.by.as_str(), at: ts(l.at) }),
    }
}

/// One hold.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct HoldAnswer<'a> {
    pub(crate) hold: HoldView<'a>,
}

/// A hold as the list shows it: with whether it holds now.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "ListedLegalHold")]
pub(crate) struct ListedHold<'a> {
    #[serde(flatten)]
    pub(crate) hold: HoldView<'a>,
    /// Whether the hold applies now (placed, not ended, not lifted).
    pub(crate) active: bool,
}

/// `GET /v1/tenants/{id}/retention/holds`: newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct HoldList<'a> {
    /// Every hold, newest first, lifted and ended ones included.
    pub(crate) holds: Vec<ListedHold<'a>>,
}

/// An extension of a rights request's deadline (RGT-2).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "RightsExtension")]
pub(crate) struct ExtensionView<'a> {
    /// When the requester was told (RFC 3339).
    notified_at: String,
    /// Why the deadline was extended.
    reason: &'a str,
    /// The new due date (RFC 3339).
    new_due: String,
}

/// A client rights request with its deadlines (RGT-2; CCPA business days skip the configured holidays).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "RightsRequest")]
pub(crate) struct RightsView<'a> {
    /// The rights request's id.
    id: &'a str,
    /// `access`, `correction`, `portability`, `restriction`, `objection` or `deletion`.
    kind: &'static str,
    /// The purpose objected to (objections only; otherwise `null`).
    purpose: Option<&'static str>,
    /// `gdpr` or `ccpa`.
    regime: &'static str,
    /// `received`, `acknowledged`, `extended`, `completed` or `rejected`.
    status: &'static str,
    /// RFC 3339.
    received_at: String,
    /// RFC 3339; `null` until acknowledged.
    acknowledged_at: Option<String>,
    /// CCPA only: confirm receipt by then (RFC 3339).
    acknowledge_by: Option<String>,
    /// Respond by then (RFC 3339; the extended due date once extended).
    respond_by: String,
    /// `null` unless extended.
    extension: Option<ExtensionView<'a>>,
    /// RFC 3339; `null` until completed.
    completed_at: Option<String>,
    /// `null` unless rejected.
    rejection_reason: Option<&'a str>,
}

pub(crate) fn rights_view<'a>(request: &'a RightsRequest, holidays: &[time::Date]) -> RightsView<'a> {
    let deadlines = request.deadlines(holidays);
    let kind = request.kind();
    let purpose = match kind {
        RightsKind::Objection(purpose) => Some(purpose.as_str()),
        _ => None,
    };
    RightsView {
        id: request.id().as_str(),
        kind: kind.as_str(),
        purpose,
        regime: request.regime().as_str(),
        status: request.status().as_str(),
        received_at: ts(request.received_at()),
        acknowledged_at: request.acknowledged_at().map(ts),
        acknowledge_by: deadlines.acknowledge_by.map(ts),
        respond_by: ts(deadlines.respond_by),
        extension: request.extension().map(|e| ExtensionView {
            notified_at: ts(e.notified_at),
            reason: &e.reason,
            new_due: ts(e.new_due),
        }),
        completed_at: request.completed_at().map(ts),
        rejection_reason: request.rejection_reason(),
    }
}

/// `POST /v1/tenants/{id}/rights`, `POST .../rights/{rid}/update`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RightsAnswer<'a> {
    pub(crate) request: RightsView<'a>,
}

/// A rights request as the reads show it: with whether it is overdue.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "ListedRightsRequest")]
pub(crate) struct ListedRights<'a> {
    #[serde(flatten)]
    pub(crate) request: RightsView<'a>,
    /// Whether a deadline passed without the answer it needed.
    pub(crate) overdue: bool,
}

/// `GET /v1/tenants/{id}/rights/{rid}`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ListedRightsAnswer<'a> {
    pub(crate) request: ListedRights<'a>,
}

/// `GET /v1/tenants/{id}/rights`: newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RightsList<'a> {
    /// Every rights request, newest first.
    pub(crate) requests: Vec<ListedRights<'a>>,
}

/// One file of an export.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "CsvFile")]
pub(crate) struct CsvFileView<'a> {
    /// The file's name, e.g. `orders.csv`.
    pub(crate) name: &'a str,
    /// The CSV text.
    pub(crate) content: &'a str,
}

/// `POST /v1/tenants/{id}/rights/offboard` (RGT-3): the export and the deletion receipt.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Offboarded<'a> {
    pub(crate) receipt: ReceiptView<'a>,
    /// The portable export document, the same as `GET .../rights/export` answers (core's export format:
    /// `format`, `tenant`, `generated_at`, `report_rows`, `campaigns`, `orders` with buyer PII, `stock`,
    /// `contacts`).
    pub(crate) export: Value,
    /// Every file of the CSV export.
    pub(crate) csv: Vec<CsvFileView<'a>>,
}

/// How severe an incident is.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", rename = "Severity")]
pub(crate) enum SeverityName {
    Low,
    Medium,
    High,
    Critical,
}

fn severity_name(severity: Severity) -> SeverityName {
    match severity {
        Severity::Low => SeverityName::Low,
        Severity::Medium => SeverityName::Medium,
        Severity::High => SeverityName::High,
        Severity::Critical => SeverityName::Critical,
    }
}

/// What an incident isolates (INC-1): a tenant, one grant of a tenant, a platform, a person or an API key.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged, rename = "IsolationScope")]
pub(crate) enum ScopeView<'a> {
    /// One grant of a tenant.
    Grant { tenant: &'a str, grant: &'a str },
    /// A whole tenant.
    Tenant { tenant: &'a str },
    /// Everything on a platform.
    Platform { platform: &'static str },
    /// A person's access.
    Person { person: &'a str },
    /// An API key's access.
    ApiKey { api_key: &'a str },
}

fn scope_view(scope: &IsolationScope) -> ScopeView<'_> {
    match scope {
        IsolationScope::Tenant(t) => ScopeView::Tenant { tenant: t.as_str() },
        IsolationScope::Grant { tenant, grant } => {
            ScopeView::Grant { tenant: tenant.as_str(), grant: grant.as_str() }
        }
        IsolationScope::Platform(p) => ScopeView::Platform { platform: p.as_str() },
        IsolationScope::Person(p) => ScopeView::Person { person: p.as_str() },
        IsolationScope::ApiKey(k) => ScopeView::ApiKey { api_key: k.as_str() },
    }
}

/// Who is owed a notification: the affected client (a tenant) or a platform partner.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged, rename = "Recipient")]
pub(crate) enum RecipientView<'a> {
    /// The affected client, by tenant id.
    Client { client: &'a str },
    /// A platform partner.
    Platform { platform: &'static str },
}

/// A notification owed to one recipient, with its deadline.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "IncidentNotification")]
pub(crate) struct NotificationView<'a> {
    /// Who is owed it.
    recipient: RecipientView<'a>,
    /// RFC 3339.
    due_at: String,
    /// RFC 3339; `null` until sent.
    sent_at: Option<String>,
}

/// A remediation step taken.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "RemediationStep")]
pub(crate) struct RemediationView<'a> {
    /// RFC 3339.
    at: String,
    /// The person who recorded it.
    by: &'a str,
    /// What was done.
    action: &'a str,
}

/// The post-incident review.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "IncidentReview")]
pub(crate) struct ReviewView<'a> {
    /// RFC 3339.
    at: String,
    /// The person who recorded the review.
    by: &'a str,
    /// The review.
    summary: &'a str,
    /// Follow-up actions agreed.
    follow_ups: &'a [String],
}

/// An incident (INC-1).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "Incident")]
pub(crate) struct IncidentView<'a> {
    /// The incident's id.
    id: &'a str,
    severity: SeverityName,
    /// What happened, in short.
    summary: &'a str,
    /// `open`, `contained`, `resolved` or `closed`.
    state: &'static str,
    /// Whether the incident isolates its scopes now (every processing decision there is a deny).
    isolating: bool,
    /// The person who opened it.
    opened_by: &'a str,
    /// RFC 3339.
    opened_at: String,
    /// What the incident isolates.
    scopes: Vec<ScopeView<'a>>,
    /// The notifications owed, with their deadlines.
    notifications: Vec<NotificationView<'a>>,
    /// The remediation steps taken, in order.
    remediation: Vec<RemediationView<'a>>,
    /// `null` until reviewed.
    review: Option<ReviewView<'a>>,
}

pub(crate) fn incident_view(incident: &Incident) -> IncidentView<'_> {
    IncidentView {
        id: incident.id().as_str(),
        severity: severity_name(incident.severity()),
        summary: incident.summary(),
        state: incident.state().as_str(),
        isolating: incident.isolates(),
        opened_by: incident.opened_by().as_str(),
        opened_at: ts(incident.opened_at()),
        scopes: incident.scopes().iter().map(scope_view).collect(),
        notifications: incident
            .notifications()
            .iter()
            .map(|n| NotificationView {
                recipient: match &n.recipient {
                    Recipient::Client(t) => RecipientView::Client { client: t.as_str() },
                    Recipient::Platform(p) => RecipientView::Platform { platform: p.as_str() },
                },
                due_at: ts(n.due_at),
                sent_at: n.sent_at.map(ts),
            })
            .collect(),
        remediation: incident
            .remediation()
            .iter()
            .map(|r| RemediationView { at: ts(r.at), by: r.by.as_str(), action: &r.action })
            .collect(),
        review: incident.review().map(|r| ReviewView {
            at: ts(r.at),
            by: r.by.as_str(),
            summary: &r.summary,
            follow_ups: &r.follow_ups,
        }),
    }
}

/// One incident.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct IncidentAnswer<'a> {
    pub(crate) incident: IncidentView<'a>,
}

/// `GET /v1/tenants/{id}/incidents`: newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct IncidentList<'a> {
    /// The incidents concerning the tenant, newest first.
    pub(crate) incidents: Vec<IncidentView<'a>>,
}

/// What the accesses in an incident's window touched, from the audit trail.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "IncidentAssessment")]
pub(crate) struct AssessmentView<'a> {
    /// The tenants whose data was touched.
    tenants: Vec<&'a str>,
    /// Data class names.
    classes: Vec<&'static str>,
    /// Records touched.
    records: u64,
    /// Audit records read for the assessment.
    audit_records_read: u64,
}

/// `POST .../incidents/{iid}/assess`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct AssessmentAnswer<'a> {
    pub(crate) assessment: AssessmentView<'a>,
}

pub(crate) fn assessment_view(assessment: &IncidentAssessment) -> AssessmentView<'_> {
    let a = &assessment.assessment;
    AssessmentView {
        tenants: a.tenants.iter().map(|t| t.as_str()).collect(),
        classes: a.classes.iter().map(|c| c.as_str()).collect(),
        records: a.records,
        audit_records_read: assessment.records_read,
    }
}
