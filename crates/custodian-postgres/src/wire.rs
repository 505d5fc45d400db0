//! The JSON documents of the structured columns (contract terms, grant review reasons and revocation
//! causes, change requests, incidents, rights requests, legal holds, deletion receipts): private serde DTOs
//! and their conversions to and from the domain types (style rule 12: domain types derive no serde).
//!
//! Times inside documents are Unix nanoseconds (decimal strings), so they round-trip exactly: a change diff's hash
//! and a receipt's digest cover nanoseconds. Enums are stored by their stable lowercase names. Reading a
//! document that does not convert back is a corrupt row ([`crate::error::corrupt`]).

use std::collections::BTreeMap;

use custodian_core::approval::{
    ChangeDiff, ChangeField, ChangeRequest, ChangeState, ChangeValue, ExecutionOutcome, FieldChange,
};
use custodian_core::data::{CampaignStatus, DataClass, Purpose};
use custodian_core::grant::{EvidenceChange, RevocationCause};
use custodian_core::incident::{
    Incident, IncidentState, IsolationScope, Notification, PostIncidentReview, Recipient, RemediationStep,
    Severity,
};
use custodian_core::platform::{AccountRef, Platform};
use custodian_core::ports::StoreError;
use custodian_core::retention::{
    DeletionCause, DeletionReceipt, HoldLift, HoldScope, LegalHold, RetentionDays, StoreKind,
};
use custodian_core::rights::{Extension, Regime, RightsKind, RightsRequest, RightsStatus};
use custodian_core::tenant::{ContractTerms, TenantId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::check::{self, MAX_TEXT_CHARS, parse};
use crate::error::corrupt;

/// Serializes a document; checks every string for NUL bytes first (`jsonb` rejects `\u0000`).
pub(crate) fn to_json<T: Serialize>(doc: &T) -> Result<String, StoreError> {
    let json = serde_json::to_string(doc).map_err(|e| StoreError::Invalid(format!("cannot encode: {e}")))?;
    if json.contains("\\u0000") {
        return Err(StoreError::Invalid("a text field contains a NUL byte".to_owned()));
    }
    Ok(json)
}

/// Parses a stored document.
pub(crate) fn from_json<T: for<'de> Deserialize<'de>>(what: &str, json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|e| corrupt(format!("stored {what} is not readable: {e}")))
}

/// A time as decimal Unix nanoseconds. A string, not a JSON number: serde's internally tagged enums cannot
/// carry 128-bit integers.
fn nanos(t: OffsetDateTime) -> String {
    t.unix_timestamp_nanos().to_string()
}

fn time(field: &str, nanos: String) -> Result<OffsetDateTime, StoreError> {
    nanos
        .parse::<i128>()
        .ok()
        .and_then(|n| OffsetDateTime::from_unix_timestamp_nanos(n).ok())
        .ok_or_else(|| corrupt(format!("stored {field} `{nanos}` is not a valid time")))
}

fn opt_time(field: &str, nanos: Option<String>) -> Result<Option<OffsetDateTime>, StoreError> {
    nanos.map(|n| time(field, n)).transpose()
}

/// Finds the variant of `all` whose name is `raw`.
pub(crate) fn by_name<T: Copy>(
    field: &str,
    all: &[T],
    name: fn(T) -> &'static str,
    raw: &str,
) -> Result<T, StoreError> {
    all.iter().copied().find(|v| name(*v) == raw).ok_or_else(|| {
        corrupt(format!("stored {field} `{}` is unknown", raw.chars().take(40).collect::<String>()))
    })
}

// Enum names the core spells but does not parse ----------------------------------------------------------

pub(crate) const CAMPAIGN_STATUSES: [CampaignStatus; 4] =
    [CampaignStatus::Active, CampaignStatus::Paused, CampaignStatus::Archived, CampaignStatus::Deleted];
const SEVERITIES: [Severity; 4] = [Severity::Low, Severity::Medium, Severity::High, Severity::Critical];
const INCIDENT_STATES: [IncidentState; 4] =
    [IncidentState::Open, IncidentState::Contained, IncidentState::Resolved, IncidentState::Closed];
const REGIMES: [Regime; 2] = [Regime::Gdpr, Regime::Ccpa];
const RIGHTS_STATUSES: [RightsStatus; 5] = [
    RightsStatus::Received,
    RightsStatus::Acknowledged,
    RightsStatus::Extended,
    RightsStatus::Completed,
    RightsStatus::Rejected,
];
const STORE_KINDS: [StoreKind; 5] =
    [StoreKind::Dataset, StoreKind::Contacts, StoreKind::Secrets, StoreKind::Keys, StoreKind::Audit];

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

// Contract terms -----------------------------------------------------------------------------------------

/// `{"reporting_dataset": 90}`: retention overrides in days per data class.
pub(crate) fn contract_to_json(terms: &ContractTerms) -> Result<String, StoreError> {
    let map: BTreeMap<&str, u32> =
        terms.retention_overrides.iter().map(|(class, days)| (class.as_str(), days.days())).collect();
    to_json(&map)
}

pub(crate) fn contract_from_json(json: &str) -> Result<ContractTerms, StoreError> {
    let map: BTreeMap<String, u32> = from_json("contract", json)?;
    let mut terms = ContractTerms::default();
    for (class, days) in map {
        let class: DataClass = parse("data class", &class)?;
        let days = RetentionDays::new(days).map_err(|_| corrupt("stored retention days are out of range"))?;
        terms.retention_overrides.insert(class, days);
    }
    Ok(terms)
}

// Grants -------------------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
enum EvidenceChangeDoc {
    OwnerChanged { from: String, to: String },
    AccountsRemoved { accounts: Vec<String> },
    ScopesShrunk { scopes: Vec<String> },
}

pub(crate) fn review_to_json(review: &[EvidenceChange]) -> Result<String, StoreError> {
    let docs: Vec<EvidenceChangeDoc> = review
        .iter()
        .map(|c| match c {
            EvidenceChange::OwnerChanged { from, to } => {
                EvidenceChangeDoc::OwnerChanged { from: from.to_string(), to: to.to_string() }
            }
            EvidenceChange::AccountsRemoved(a) => {
                EvidenceChangeDoc::AccountsRemoved { accounts: a.iter().map(AccountRef::key).collect() }
            }
            EvidenceChange::ScopesShrunk(s) => {
                EvidenceChangeDoc::ScopesShrunk { scopes: s.iter().map(ToString::to_string).collect() }
            }
        })
        .collect();
    to_json(&docs)
}

pub(crate) fn review_from_json(json: &str) -> Result<Vec<EvidenceChange>, StoreError> {
    let docs: Vec<EvidenceChangeDoc> = from_json("grant review", json)?;
    docs.into_iter()
        .map(|d| {
            Ok(match d {
                EvidenceChangeDoc::OwnerChanged { from, to } => EvidenceChange::OwnerChanged {
                    from: parse("owner id", &from)?,
                    to: parse("owner id", &to)?,
                },
                EvidenceChangeDoc::AccountsRemoved { accounts } => EvidenceChange::AccountsRemoved(
                    accounts.iter().map(|a| account(a)).collect::<Result<_, _>>()?,
                ),
                EvidenceChangeDoc::ScopesShrunk { scopes } => EvidenceChange::ScopesShrunk(
                    scopes.iter().map(|s| crate::wire::scope(s)).collect::<Result<_, _>>()?,
                ),
            })
        })
        .collect()
}

/// Parses a stored scope.
pub(crate) fn scope(raw: &str) -> Result<custodian_core::platform::Scope, StoreError> {
    custodian_core::platform::Scope::new(raw).map_err(|_| corrupt("stored scope is not valid"))
}

/// Parses a stored account key.
pub(crate) fn account(raw: &str) -> Result<AccountRef, StoreError> {
    AccountRef::parse_key(raw).map_err(|_| corrupt("stored account key is not valid"))
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
enum RevocationDoc {
    PlatformSignal { platform: String, signal: String },
    CredentialsRejected { detail: String },
    Requested { by: String },
    Offboarding,
}

pub(crate) fn revocation_to_json(cause: &RevocationCause) -> Result<String, StoreError> {
    let doc = match cause {
        RevocationCause::PlatformSignal { platform, signal } => {
            check::text("revocation signal", signal, MAX_TEXT_CHARS)?;
            RevocationDoc::PlatformSignal { platform: platform.as_str().to_owned(), signal: signal.clone() }
        }
        RevocationCause::CredentialsRejected { detail } => {
            check::text("revocation detail", detail, MAX_TEXT_CHARS)?;
            RevocationDoc::CredentialsRejected { detail: detail.clone() }
        }
        RevocationCause::Requested { by } => RevocationDoc::Requested { by: by.to_string() },
        RevocationCause::Offboarding => RevocationDoc::Offboarding,
    };
    to_json(&doc)
}

pub(crate) fn revocation_from_json(json: &str) -> Result<RevocationCause, StoreError> {
    Ok(match from_json("revocation", json)? {
        RevocationDoc::PlatformSignal { platform, signal } => {
            RevocationCause::PlatformSignal { platform: parse("platform", &platform)?, signal }
        }
        RevocationDoc::CredentialsRejected { detail } => RevocationCause::CredentialsRejected { detail },
        RevocationDoc::Requested { by } => RevocationCause::Requested { by: parse("person id", &by)? },
        RevocationDoc::Offboarding => RevocationCause::Offboarding,
    })
}

// Change requests ----------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ValueDoc {
    Status { status: String },
    Micros { micros: i64 },
    Schedule { start: String, end: Option<String> },
}

#[derive(Serialize, Deserialize)]
struct FieldChangeDoc {
    field: String,
    from: Option<ValueDoc>,
    to: ValueDoc,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum ChangeStateDoc {
    Proposed,
    Approved { by: String, at: String, mfa_verified_at: String },
    Rejected { by: String, at: String, reason: String },
    Executed { at: String, mismatch: Option<Vec<String>> },
    Failed { at: String, error: String },
}

#[derive(Serialize, Deserialize)]
struct ChangeDoc {
    account: String,
    campaign: String,
    changes: Vec<FieldChangeDoc>,
    proposed_by: String,
    proposed_at: String,
    state: ChangeStateDoc,
}

fn value_doc(v: &ChangeValue) -> ValueDoc {
    match v {
        ChangeValue::Status(s) => ValueDoc::Status { status: s.as_str().to_owned() },
        ChangeValue::Micros(m) => ValueDoc::Micros { micros: *m },
        ChangeValue::Schedule { start, end } => {
            ValueDoc::Schedule { start: nanos(*start), end: end.map(nanos) }
        }
    }
}

fn value_of(doc: ValueDoc) -> Result<ChangeValue, StoreError> {
    Ok(match doc {
        ValueDoc::Status { status } => ChangeValue::Status(by_name(
            "campaign status",
            &CAMPAIGN_STATUSES,
            CampaignStatus::as_str,
            &status,
        )?),
        ValueDoc::Micros { micros } => ChangeValue::Micros(micros),
        ValueDoc::Schedule { start, end } => ChangeValue::Schedule {
            start: time("schedule start", start)?,
            end: opt_time("schedule end", end)?,
        },
    })
}

pub(crate) fn change_to_json(change: &ChangeRequest) -> Result<String, StoreError> {
    let state = match change.state() {
        ChangeState::Proposed => ChangeStateDoc::Proposed,
        ChangeState::Approved { by, at, mfa_verified_at } => ChangeStateDoc::Approved {
            by: by.to_string(),
            at: nanos(*at),
            mfa_verified_at: nanos(*mfa_verified_at),
        },
        ChangeState::Rejected { by, at, reason } => {
            check::text("rejection reason", reason, MAX_TEXT_CHARS)?;
            ChangeStateDoc::Rejected { by: by.to_string(), at: nanos(*at), reason: reason.clone() }
        }
        ChangeState::Executed { at, outcome } => ChangeStateDoc::Executed {
            at: nanos(*at),
            mismatch: match outcome {
                ExecutionOutcome::Confirmed => None,
                ExecutionOutcome::Mismatch(fields) => {
                    Some(fields.iter().map(|f| f.as_str().to_owned()).collect())
                }
            },
        },
        ChangeState::Failed { at, error } => {
            check::text("failure", error, MAX_TEXT_CHARS)?;
            ChangeStateDoc::Failed { at: nanos(*at), error: error.clone() }
        }
    };
    let diff = change.diff();
    to_json(&ChangeDoc {
        account: diff.account().key(),
        campaign: diff.campaign().to_string(),
        changes: diff
            .changes()
            .iter()
            .map(|c| FieldChangeDoc {
                field: c.field().as_str().to_owned(),
                from: c.from().map(value_doc),
                to: value_doc(c.to()),
            })
            .collect(),
        proposed_by: change.proposed_by().to_string(),
        proposed_at: nanos(change.proposed_at()),
        state,
    })
}

/// Rebuilds a change request from its row: tenant, id, grant and diff hash columns plus the document.
pub(crate) fn change_from_json(
    tenant: &str,
    id: &str,
    grant: &str,
    diff_hash: &[u8],
    json: &str,
) -> Result<ChangeRequest, StoreError> {
    let doc: ChangeDoc = from_json("change request", json)?;
    let field = |raw: &str| by_name("change field", &ChangeField::ALL, ChangeField::as_str, raw);
    let changes = doc
        .changes
        .into_iter()
        .map(|c| {
            FieldChange::new(field(&c.field)?, c.from.map(value_of).transpose()?, value_of(c.to)?)
                .map_err(|e| corrupt(format!("stored change is not valid: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let diff = ChangeDiff::new(account(&doc.account)?, parse("campaign id", &doc.campaign)?, changes)
        .map_err(|e| corrupt(format!("stored diff is not valid: {e}")))?;
    let state = match doc.state {
        ChangeStateDoc::Proposed => ChangeState::Proposed,
        ChangeStateDoc::Approved { by, at, mfa_verified_at } => ChangeState::Approved {
            by: parse("person id", &by)?,
            at: time("approved at", at)?,
            mfa_verified_at: time("mfa verified at", mfa_verified_at)?,
        },
        ChangeStateDoc::Rejected { by, at, reason } => {
            ChangeState::Rejected { by: parse("person id", &by)?, at: time("rejected at", at)?, reason }
        }
        ChangeStateDoc::Executed { at, mismatch } => ChangeState::Executed {
            at: time("executed at", at)?,
            outcome: match mismatch {
                None => ExecutionOutcome::Confirmed,
                Some(fields) => {
                    ExecutionOutcome::Mismatch(fields.iter().map(|f| field(f)).collect::<Result<_, _>>()?)
                }
            },
        },
        ChangeStateDoc::Failed { at, error } => ChangeState::Failed { at: time("failed at", at)?, error },
    };
    let hash: [u8; 32] = diff_hash.try_into().map_err(|_| corrupt("stored diff hash is not 32 bytes"))?;
    ChangeRequest::restore(
        parse("change id", id)?,
        parse("tenant id", tenant)?,
        parse("grant id", grant)?,
        diff,
        hash,
        parse("person id", &doc.proposed_by)?,
        time("proposed at", doc.proposed_at)?,
        state,
    )
    .map_err(|e| corrupt(format!("stored change request is not valid: {e}")))
}

// Incidents ----------------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "snake_case")]
enum ScopeDoc {
    Tenant { tenant: String },
    Grant { tenant: String, grant: String },
    Platform { platform: String },
    Person { person: String },
    ApiKey { api_key: String },
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "snake_case")]
enum RecipientDoc {
    Client { tenant: String },
    Platform { platform: String },
}

#[derive(Serialize, Deserialize)]
struct NotificationDoc {
    recipient: RecipientDoc,
    due_at: String,
    sent_at: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StepDoc {
    at: String,
    by: String,
    action: String,
}

#[derive(Serialize, Deserialize)]
struct ReviewDoc {
    at: String,
    by: String,
    summary: String,
    follow_ups: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct IncidentDoc {
    opened_by: String,
    opened_at: String,
    severity: String,
    summary: String,
    scopes: Vec<ScopeDoc>,
    state: String,
    notifications: Vec<NotificationDoc>,
    remediation: Vec<StepDoc>,
    review: Option<ReviewDoc>,
}

pub(crate) fn incident_to_json(incident: &Incident) -> Result<String, StoreError> {
    check::text("incident summary", incident.summary(), MAX_TEXT_CHARS)?;
    let scopes = incident
        .scopes()
        .iter()
        .map(|s| match s {
            IsolationScope::Tenant(t) => ScopeDoc::Tenant { tenant: t.to_string() },
            IsolationScope::Grant { tenant, grant } => {
                ScopeDoc::Grant { tenant: tenant.to_string(), grant: grant.to_string() }
            }
            IsolationScope::Platform(p) => ScopeDoc::Platform { platform: p.as_str().to_owned() },
            IsolationScope::Person(p) => ScopeDoc::Person { person: p.to_string() },
            IsolationScope::ApiKey(k) => ScopeDoc::ApiKey { api_key: k.to_string() },
        })
        .collect();
    let notifications = incident
        .notifications()
        .iter()
        .map(|n| NotificationDoc {
            recipient: match &n.recipient {
                Recipient::Client(t) => RecipientDoc::Client { tenant: t.to_string() },
                Recipient::Platform(p) => RecipientDoc::Platform { platform: p.as_str().to_owned() },
            },
            due_at: nanos(n.due_at),
            sent_at: n.sent_at.map(nanos),
        })
        .collect();
    let mut remediation = Vec::new();
    for step in incident.remediation() {
        check::text("remediation action", &step.action, MAX_TEXT_CHARS)?;
        remediation.push(StepDoc {
            at: nanos(step.at),
            by: step.by.to_string(),
            action: step.action.clone(),
        });
    }
    let review = match incident.review() {
        None => None,
        Some(r) => {
            check::text("review summary", &r.summary, MAX_TEXT_CHARS)?;
            for f in &r.follow_ups {
                check::text("review follow-up", f, MAX_TEXT_CHARS)?;
            }
            Some(ReviewDoc {
                at: nanos(r.at),
                by: r.by.to_string(),
                summary: r.summary.clone(),
                follow_ups: r.follow_ups.clone(),
            })
        }
    };
    to_json(&IncidentDoc {
        opened_by: incident.opened_by().to_string(),
        opened_at: nanos(incident.opened_at()),
        severity: severity_name(incident.severity()).to_owned(),
        summary: incident.summary().to_owned(),
        scopes,
        state: incident.state().as_str().to_owned(),
        notifications,
        remediation,
        review,
    })
}

pub(crate) fn incident_from_json(id: &str, json: &str) -> Result<Incident, StoreError> {
    let doc: IncidentDoc = from_json("incident", json)?;
    let platform = |raw: &str| parse::<Platform>("platform", raw);
    let scopes = doc
        .scopes
        .into_iter()
        .map(|s| {
            Ok(match s {
                ScopeDoc::Tenant { tenant } => IsolationScope::Tenant(parse("tenant id", &tenant)?),
                ScopeDoc::Grant { tenant, grant } => IsolationScope::Grant {
                    tenant: parse("tenant id", &tenant)?,
                    grant: parse("grant id", &grant)?,
                },
                ScopeDoc::Platform { platform: p } => IsolationScope::Platform(platform(&p)?),
                ScopeDoc::Person { person } => IsolationScope::Person(parse("person id", &person)?),
                ScopeDoc::ApiKey { api_key } => IsolationScope::ApiKey(parse("api key id", &api_key)?),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let notifications = doc
        .notifications
        .into_iter()
        .map(|n| {
            Ok(Notification {
                recipient: match n.recipient {
                    RecipientDoc::Client { tenant } => Recipient::Client(parse("tenant id", &tenant)?),
                    RecipientDoc::Platform { platform: p } => Recipient::Platform(platform(&p)?),
                },
                due_at: time("due at", n.due_at)?,
                sent_at: opt_time("sent at", n.sent_at)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let remediation = doc
        .remediation
        .into_iter()
        .map(|s| {
            Ok(RemediationStep {
                at: time("step at", s.at)?,
                by: parse("person id", &s.by)?,
                action: s.action,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let review = doc
        .review
        .map(|r| {
            Ok::<_, StoreError>(PostIncidentReview {
                at: time("review at", r.at)?,
                by: parse("person id", &r.by)?,
                summary: r.summary,
                follow_ups: r.follow_ups,
            })
        })
        .transpose()?;
    Incident::restore(
        parse("incident id", id)?,
        parse("person id", &doc.opened_by)?,
        time("opened at", doc.opened_at)?,
        by_name("severity", &SEVERITIES, severity_name, &doc.severity)?,
        doc.summary,
        scopes,
        by_name("incident state", &INCIDENT_STATES, IncidentState::as_str, &doc.state)?,
        notifications,
        remediation,
        review,
    )
    .map_err(|e| corrupt(format!("stored incident is not valid: {e}")))
}

// Rights requests ----------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct ExtensionDoc {
    notified_at: String,
    reason: String,
    new_due: String,
}

#[derive(Serialize, Deserialize)]
struct RightsDoc {
    kind: String,
    /// The purpose objected to, for an objection.
    purpose: Option<String>,
    regime: String,
    received_at: String,
    status: String,
    acknowledged_at: Option<String>,
    extension: Option<ExtensionDoc>,
    completed_at: Option<String>,
    rejection_reason: Option<String>,
}

pub(crate) fn rights_to_json(r: &RightsRequest) -> Result<String, StoreError> {
    let extension = match r.extension() {
        None => None,
        Some(e) => {
            check::text("extension reason", &e.reason, MAX_TEXT_CHARS)?;
            Some(ExtensionDoc {
                notified_at: nanos(e.notified_at),
                reason: e.reason.clone(),
                new_due: nanos(e.new_due),
            })
        }
    };
    if let Some(reason) = r.rejection_reason() {
        check::text("rejection reason", reason, MAX_TEXT_CHARS)?;
    }
    to_json(&RightsDoc {
        kind: r.kind().as_str().to_owned(),
        purpose: match r.kind() {
            RightsKind::Objection(p) => Some(p.as_str().to_owned()),
            _ => None,
        },
        regime: r.regime().as_str().to_owned(),
        received_at: nanos(r.received_at()),
        status: r.status().as_str().to_owned(),
        acknowledged_at: r.acknowledged_at().map(nanos),
        extension,
        completed_at: r.completed_at().map(nanos),
        rejection_reason: r.rejection_reason().map(str::to_owned),
    })
}

pub(crate) fn rights_from_json(tenant: &str, id: &str, json: &str) -> Result<RightsRequest, StoreError> {
    let doc: RightsDoc = from_json("rights request", json)?;
    let kind = match (doc.kind.as_str(), doc.purpose) {
        ("access", None) => RightsKind::Access,
        ("correction", None) => RightsKind::Correction,
        ("portability", None) => RightsKind::Portability,
        ("restriction", None) => RightsKind::Restriction,
        ("deletion", None) => RightsKind::Deletion,
        ("objection", Some(p)) => {
            RightsKind::Objection(by_name("purpose", &Purpose::ALL, Purpose::as_str, &p)?)
        }
        _ => return Err(corrupt("stored rights request kind is not valid")),
    };
    let extension = doc
        .extension
        .map(|e| {
            Ok::<_, StoreError>(Extension {
                notified_at: time("extension notice", e.notified_at)?,
                reason: e.reason,
                new_due: time("new due", e.new_due)?,
            })
        })
        .transpose()?;
    RightsRequest::restore(
        parse("rights request id", id)?,
        parse("tenant id", tenant)?,
        kind,
        by_name("regime", &REGIMES, Regime::as_str, &doc.regime)?,
        time("received at", doc.received_at)?,
        by_name("rights status", &RIGHTS_STATUSES, RightsStatus::as_str, &doc.status)?,
        opt_time("acknowledged at", doc.acknowledged_at)?,
        extension,
        opt_time("completed at", doc.completed_at)?,
        doc.rejection_reason,
    )
    .map_err(|e| corrupt(format!("stored rights request is not valid: {e}")))
}

// Legal holds --------------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "snake_case")]
enum HoldScopeDoc {
    Tenant,
    Grant { grant: String },
    Class { class: String },
}

#[derive(Serialize, Deserialize)]
struct HoldDoc {
    scope: HoldScopeDoc,
    reason: String,
    owner: String,
    placed_at: String,
    ends_at: String,
    lifted_by: Option<String>,
    lifted_at: Option<String>,
}

pub(crate) fn hold_to_json(hold: &LegalHold) -> Result<String, StoreError> {
    check::text("hold reason", hold.reason(), MAX_TEXT_CHARS)?;
    to_json(&HoldDoc {
        scope: match hold.scope() {
            HoldScope::Tenant => HoldScopeDoc::Tenant,
            HoldScope::Grant(g) => HoldScopeDoc::Grant { grant: g.to_string() },
            HoldScope::Class(c) => HoldScopeDoc::Class { class: c.as_str().to_owned() },
        },
        reason: hold.reason().to_owned(),
        owner: hold.owner().to_string(),
        placed_at: nanos(hold.placed_at()),
        ends_at: nanos(hold.ends_at()),
        lifted_by: hold.lifted().map(|l| l.by.to_string()),
        lifted_at: hold.lifted().map(|l| nanos(l.at)),
    })
}

pub(crate) fn hold_from_json(tenant: &str, id: &str, json: &str) -> Result<LegalHold, StoreError> {
    let doc: HoldDoc = from_json("legal hold", json)?;
    let scope = match doc.scope {
        HoldScopeDoc::Tenant => HoldScope::Tenant,
        HoldScopeDoc::Grant { grant } => HoldScope::Grant(parse("grant id", &grant)?),
        HoldScopeDoc::Class { class } => HoldScope::Class(parse("data class", &class)?),
    };
    let lifted = match (doc.lifted_by, doc.lifted_at) {
        (Some(by), Some(at)) => Some(HoldLift { by: parse("person id", &by)?, at: time("lifted at", at)? }),
        (None, None) => None,
        _ => return Err(corrupt("stored hold lift is incomplete")),
    };
    LegalHold::restore(
        parse("hold id", id)?,
        parse("tenant id", tenant)?,
        scope,
        doc.reason,
        parse("person id", &doc.owner)?,
        time("placed at", doc.placed_at)?,
        time("ends at", doc.ends_at)?,
        lifted,
    )
    .map_err(|e| corrupt(format!("stored legal hold is not valid: {e}")))
}

// Deletion receipts --------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct ItemDoc {
    store: String,
    what: String,
    count: u64,
}

#[derive(Serialize, Deserialize)]
struct ReceiptDoc {
    cause: String,
    /// The rights request of a client-requested deletion.
    request: Option<String>,
    deleted: Vec<ItemDoc>,
    recheck: Vec<ItemDoc>,
    started_at: String,
    completed_at: String,
}

pub(crate) fn receipt_to_json(r: &DeletionReceipt) -> Result<String, StoreError> {
    let (cause, request) = match r.cause() {
        DeletionCause::Revocation => ("revocation", None),
        DeletionCause::ClientRequest(id) => ("client_request", Some(id.to_string())),
        DeletionCause::Offboarding => ("offboarding", None),
        DeletionCause::Retention => ("retention", None),
    };
    let mut deleted = Vec::new();
    for i in r.items() {
        check::text("receipt item", &i.what, MAX_TEXT_CHARS)?;
        deleted.push(ItemDoc { store: i.store.as_str().to_owned(), what: i.what.clone(), count: i.deleted });
    }
    let mut recheck = Vec::new();
    for i in r.recheck() {
        check::text("receipt re-check", &i.what, MAX_TEXT_CHARS)?;
        recheck.push(ItemDoc {
            store: i.store.as_str().to_owned(),
            what: i.what.clone(),
            count: i.remaining,
        });
    }
    to_json(&ReceiptDoc {
        cause: cause.to_owned(),
        request,
        deleted,
        recheck,
        started_at: nanos(r.started_at()),
        completed_at: nanos(r.completed_at()),
    })
}

pub(crate) fn receipt_from_json(
    tenant: &str,
    id: &str,
    grant: Option<&str>,
    json: &str,
) -> Result<DeletionReceipt, StoreError> {
    let doc: ReceiptDoc = from_json("deletion receipt", json)?;
    let cause = match (doc.cause.as_str(), doc.request) {
        ("revocation", None) => DeletionCause::Revocation,
        ("client_request", Some(r)) => DeletionCause::ClientRequest(parse("rights request id", &r)?),
        ("offboarding", None) => DeletionCause::Offboarding,
        ("retention", None) => DeletionCause::Retention,
        _ => return Err(corrupt("stored deletion cause is not valid")),
    };
    let store = |raw: &str| by_name("store kind", &STORE_KINDS, StoreKind::as_str, raw);
    let tenant: TenantId = parse("tenant id", tenant)?;
    let grant = grant.map(|g| parse("grant id", g)).transpose()?;
    let mut builder = DeletionReceipt::builder(
        parse("receipt id", id)?,
        tenant,
        grant,
        cause,
        time("started at", doc.started_at)?,
    );
    for i in doc.deleted {
        builder = builder.deleted(store(&i.store)?, i.what, i.count);
    }
    for i in doc.recheck {
        builder = builder.rechecked(store(&i.store)?, i.what, i.count);
    }
    builder
        .build(time("completed at", doc.completed_at)?)
        .map_err(|e| corrupt(format!("stored deletion receipt is not valid: {e}")))
}

#[cfg(test)]
mod tests;
