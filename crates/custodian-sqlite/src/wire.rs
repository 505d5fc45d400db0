//! The JSON written into structured columns (contract terms, grant review and revocation, change diffs and
//! states, incident details, hold scopes, receipt entries, role and tenant sets), as private serde types,
//! and their conversion from and to the domain types. Domain types stay free of serde (style rule 12).
//! Timestamps are Unix nanoseconds, enumerations their stored names, identifiers their text.

use std::collections::{BTreeMap, BTreeSet};

use custodian_core::approval::{ChangeDiff, ChangeState, ChangeValue, ExecutionOutcome, FieldChange};
use custodian_core::data::{CampaignStatus, DataClass};
use custodian_core::grant::{EvidenceChange, RevocationCause};
use custodian_core::incident::{
    IsolationScope, Notification, PostIncidentReview, Recipient, RemediationStep,
};
use custodian_core::platform::{Platform, Scope};
use custodian_core::ports::StoreError;
use custodian_core::retention::{
    DeletionCause, HoldScope, ReceiptItem, RecheckItem, RetentionDays, StoreKind,
};
use custodian_core::tenant::ContractTerms;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::codec::{Named, account, at, named, nanos, opt_at, opt_nanos, parse_id};
use crate::error::corrupt;

/// Serializes a wire value (serialization of these types cannot fail; a failure would be a bug).
pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Invalid(format!("cannot encode a value: {e}")))
}

/// Parses a stored JSON column.
pub(crate) fn from_json<T: DeserializeOwned>(what: &'static str, raw: &str) -> Result<T, StoreError> {
    serde_json::from_str(raw).map_err(|e| corrupt(what, e))
}

/// A set of enumeration values as a JSON array of names.
pub(crate) fn names_json<T: Named>(values: impl IntoIterator<Item = T>) -> Result<String, StoreError> {
    to_json(&values.into_iter().map(Named::name).collect::<Vec<_>>())
}

/// A stored JSON array of names.
pub(crate) fn names_set<T: Named + Ord>(what: &'static str, raw: &str) -> Result<BTreeSet<T>, StoreError> {
    let names: Vec<String> = from_json(what, raw)?;
    names.iter().map(|n| named(n)).collect()
}

/// A set of identifiers as a JSON array of strings.
pub(crate) fn ids_json<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<String, StoreError> {
    to_json(&values.into_iter().collect::<Vec<_>>())
}

/// A stored JSON array of identifiers.
pub(crate) fn ids_set<T>(what: &'static str, raw: &str) -> Result<BTreeSet<T>, StoreError>
where
    T: std::str::FromStr + Ord,
    T::Err: std::fmt::Display,
{
    let ids: Vec<String> = from_json(what, raw)?;
    ids.iter().map(|id| parse_id(what, id)).collect()
}

// ---- contract terms ----

#[derive(Serialize, Deserialize)]
struct ContractWire {
    retention_overrides: BTreeMap<String, u32>,
}

pub(crate) fn contract_json(contract: &ContractTerms) -> Result<String, StoreError> {
    to_json(&ContractWire {
        retention_overrides: contract
            .retention_overrides
            .iter()
            .map(|(class, days)| (class.name().to_owned(), days.days()))
            .collect(),
    })
}

pub(crate) fn contract(raw: &str) -> Result<ContractTerms, StoreError> {
    let wire: ContractWire = from_json("contract terms", raw)?;
    let mut retention_overrides = BTreeMap::new();
    for (class, days) in wire.retention_overrides {
        let class: DataClass = named(&class)?;
        let days = RetentionDays::new(days).map_err(|e| corrupt("contract terms", e))?;
        retention_overrides.insert(class, days);
    }
    Ok(ContractTerms { retention_overrides })
}

// ---- grants ----

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum EvidenceChangeWire {
    OwnerChanged { from: String, to: String },
    AccountsRemoved(Vec<String>),
    ScopesShrunk(Vec<String>),
}

pub(crate) fn review_json(review: &[EvidenceChange]) -> Result<String, StoreError> {
    let wire: Vec<EvidenceChangeWire> = review
        .iter()
        .map(|change| match change {
            EvidenceChange::OwnerChanged { from, to } => {
                EvidenceChangeWire::OwnerChanged { from: from.to_string(), to: to.to_string() }
            }
            EvidenceChange::AccountsRemoved(accounts) => {
                EvidenceChangeWire::AccountsRemoved(accounts.iter().map(|a| a.key()).collect())
            }
            EvidenceChange::ScopesShrunk(scopes) => {
                EvidenceChangeWire::ScopesShrunk(scopes.iter().map(|s| s.as_str().to_owned()).collect())
            }
        })
        .collect();
    to_json(&wire)
}

pub(crate) fn review(raw: &str) -> Result<Vec<EvidenceChange>, StoreError> {
    let wire: Vec<EvidenceChangeWire> = from_json("grant review", raw)?;
    wire.into_iter()
        .map(|change| {
            Ok(match change {
                EvidenceChangeWire::OwnerChanged { from, to } => EvidenceChange::OwnerChanged {
                    from: parse_id("owner id", &from)?,
                    to: parse_id("owner id", &to)?,
                },
                EvidenceChangeWire::AccountsRemoved(accounts) => EvidenceChange::AccountsRemoved(
                    accounts.iter().map(|a| account(a)).collect::<Result<_, _>>()?,
                ),
                EvidenceChangeWire::ScopesShrunk(scopes) => EvidenceChange::ScopesShrunk(
                    scopes
                        .into_iter()
                        .map(|s| Scope::new(s).map_err(|e| corrupt("scope", e)))
                        .collect::<Result<_, _>>()?,
                ),
            })
        })
        .collect()
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RevocationWire {
    PlatformSignal { platform: String, signal: String },
    CredentialsRejected { detail: String },
    Requested { by: String },
    Offboarding,
}

pub(crate) fn revocation_json(cause: &RevocationCause) -> Result<String, StoreError> {
    to_json(&match cause {
        RevocationCause::PlatformSignal { platform, signal } => {
            RevocationWire::PlatformSignal { platform: platform.name().to_owned(), signal: signal.clone() }
        }
        RevocationCause::CredentialsRejected { detail } => {
            RevocationWire::CredentialsRejected { detail: detail.clone() }
        }
        RevocationCause::Requested { by } => RevocationWire::Requested { by: by.to_string() },
        RevocationCause::Offboarding => RevocationWire::Offboarding,
    })
}

pub(crate) fn revocation(raw: &str) -> Result<RevocationCause, StoreError> {
    Ok(match from_json("grant revocation", raw)? {
        RevocationWire::PlatformSignal { platform, signal } => {
            RevocationCause::PlatformSignal { platform: named::<Platform>(&platform)?, signal }
        }
        RevocationWire::CredentialsRejected { detail } => RevocationCause::CredentialsRejected { detail },
        RevocationWire::Requested { by } => RevocationCause::Requested { by: parse_id("person id", &by)? },
        RevocationWire::Offboarding => RevocationCause::Offboarding,
    })
}

// ---- change requests ----

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ValueWire {
    Status(String),
    Micros(i64),
    Schedule { start: i64, end: Option<i64> },
}

fn value_wire(value: &ChangeValue) -> Result<ValueWire, StoreError> {
    Ok(match value {
        ChangeValue::Status(status) => ValueWire::Status(status.name().to_owned()),
        ChangeValue::Micros(micros) => ValueWire::Micros(*micros),
        ChangeValue::Schedule { start, end } => {
            ValueWire::Schedule { start: nanos(*start)?, end: opt_nanos(*end)? }
        }
    })
}

fn value(wire: ValueWire) -> Result<ChangeValue, StoreError> {
    Ok(match wire {
        ValueWire::Status(status) => ChangeValue::Status(named::<CampaignStatus>(&status)?),
        ValueWire::Micros(micros) => ChangeValue::Micros(micros),
        ValueWire::Schedule { start, end } => ChangeValue::Schedule { start: at(start)?, end: opt_at(end)? },
    })
}

#[derive(Serialize, Deserialize)]
struct FieldChangeWire {
    field: String,
    from: Option<ValueWire>,
    to: ValueWire,
}

#[derive(Serialize, Deserialize)]
struct DiffWire {
    account: String,
    campaign: String,
    changes: Vec<FieldChangeWire>,
}

pub(crate) fn diff_json(diff: &ChangeDiff) -> Result<String, StoreError> {
    let changes = diff
        .changes()
        .iter()
        .map(|c| {
            Ok(FieldChangeWire {
                field: c.field().name().to_owned(),
                from: c.from().map(value_wire).transpose()?,
                to: value_wire(c.to())?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    to_json(&DiffWire { account: diff.account().key(), campaign: diff.campaign().to_string(), changes })
}

pub(crate) fn diff(raw: &str) -> Result<ChangeDiff, StoreError> {
    let wire: DiffWire = from_json("change diff", raw)?;
    let changes = wire
        .changes
        .into_iter()
        .map(|c| {
            FieldChange::new(named(&c.field)?, c.from.map(value).transpose()?, value(c.to)?)
                .map_err(|e| corrupt("change diff", e))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    ChangeDiff::new(account(&wire.account)?, parse_id("campaign id", &wire.campaign)?, changes)
        .map_err(|e| corrupt("change diff", e))
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ChangeStateWire {
    Approved { by: String, at: i64, mfa_verified_at: i64 },
    Rejected { by: String, at: i64, reason: String },
    Executed { at: i64, mismatch: Option<Vec<String>> },
    Failed { at: i64, error: String },
}

/// The state's name and, except for `proposed`, its details.
pub(crate) fn change_state_json(state: &ChangeState) -> Result<(&'static str, Option<String>), StoreError> {
    let wire = match state {
        ChangeState::Proposed => None,
        ChangeState::Approved { by, at, mfa_verified_at } => Some(ChangeStateWire::Approved {
            by: by.to_string(),
            at: nanos(*at)?,
            mfa_verified_at: nanos(*mfa_verified_at)?,
        }),
        ChangeState::Rejected { by, at, reason } => {
            Some(ChangeStateWire::Rejected { by: by.to_string(), at: nanos(*at)?, reason: reason.clone() })
        }
        ChangeState::Executed { at, outcome } => Some(ChangeStateWire::Executed {
            at: nanos(*at)?,
            mismatch: match outcome {
                ExecutionOutcome::Confirmed => None,
                ExecutionOutcome::Mismatch(fields) => {
                    Some(fields.iter().map(|f| f.name().to_owned()).collect())
                }
            },
        }),
        ChangeState::Failed { at, error } => {
            Some(ChangeStateWire::Failed { at: nanos(*at)?, error: error.clone() })
        }
    };
    Ok((state.as_str(), wire.as_ref().map(to_json).transpose()?))
}

pub(crate) fn change_state(name: &str, detail: Option<&str>) -> Result<ChangeState, StoreError> {
    let wire = detail.map(|raw| from_json::<ChangeStateWire>("change state", raw)).transpose()?;
    let state = match wire {
        None => ChangeState::Proposed,
        Some(ChangeStateWire::Approved { by, at: when, mfa_verified_at }) => ChangeState::Approved {
            by: parse_id("person id", &by)?,
            at: at(when)?,
            mfa_verified_at: at(mfa_verified_at)?,
        },
        Some(ChangeStateWire::Rejected { by, at: when, reason }) => {
            ChangeState::Rejected { by: parse_id("person id", &by)?, at: at(when)?, reason }
        }
        Some(ChangeStateWire::Executed { at: when, mismatch }) => ChangeState::Executed {
            at: at(when)?,
            outcome: match mismatch {
                None => ExecutionOutcome::Confirmed,
                Some(fields) => {
                    ExecutionOutcome::Mismatch(fields.iter().map(|f| named(f)).collect::<Result<_, _>>()?)
                }
            },
        },
        Some(ChangeStateWire::Failed { at: when, error }) => ChangeState::Failed { at: at(when)?, error },
    };
    if state.as_str() != name {
        return Err(corrupt("change state", format!("`{name}` does not match its details")));
    }
    Ok(state)
}

// ---- incidents ----

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ScopeWire {
    Tenant(String),
    Grant { tenant: String, grant: String },
    Platform(String),
    Person(String),
    ApiKey(String),
}

pub(crate) fn scopes_json(scopes: &[IsolationScope]) -> Result<String, StoreError> {
    let wire: Vec<ScopeWire> = scopes
        .iter()
        .map(|scope| match scope {
            IsolationScope::Tenant(t) => ScopeWire::Tenant(t.to_string()),
            IsolationScope::Grant { tenant, grant } => {
                ScopeWire::Grant { tenant: tenant.to_string(), grant: grant.to_string() }
            }
            IsolationScope::Platform(p) => ScopeWire::Platform(p.name().to_owned()),
            IsolationScope::Person(p) => ScopeWire::Person(p.to_string()),
            IsolationScope::ApiKey(k) => ScopeWire::ApiKey(k.to_string()),
        })
        .collect();
    to_json(&wire)
}

pub(crate) fn scopes(raw: &str) -> Result<Vec<IsolationScope>, StoreError> {
    let wire: Vec<ScopeWire> = from_json("isolation scopes", raw)?;
    wire.into_iter()
        .map(|scope| {
            Ok(match scope {
                ScopeWire::Tenant(t) => IsolationScope::Tenant(parse_id("tenant id", &t)?),
                ScopeWire::Grant { tenant, grant } => IsolationScope::Grant {
                    tenant: parse_id("tenant id", &tenant)?,
                    grant: parse_id("grant id", &grant)?,
                },
                ScopeWire::Platform(p) => IsolationScope::Platform(named(&p)?),
                ScopeWire::Person(p) => IsolationScope::Person(parse_id("person id", &p)?),
                ScopeWire::ApiKey(k) => IsolationScope::ApiKey(parse_id("api key id", &k)?),
            })
        })
        .collect()
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RecipientWire {
    Client(String),
    Platform(String),
}

#[derive(Serialize, Deserialize)]
struct NotificationWire {
    recipient: RecipientWire,
    due_at: i64,
    sent_at: Option<i64>,
}

pub(crate) fn notifications_json(notifications: &[Notification]) -> Result<String, StoreError> {
    let wire = notifications
        .iter()
        .map(|n| {
            Ok(NotificationWire {
                recipient: match &n.recipient {
                    Recipient::Client(t) => RecipientWire::Client(t.to_string()),
                    Recipient::Platform(p) => RecipientWire::Platform(p.name().to_owned()),
                },
                due_at: nanos(n.due_at)?,
                sent_at: opt_nanos(n.sent_at)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    to_json(&wire)
}

pub(crate) fn notifications(raw: &str) -> Result<Vec<Notification>, StoreError> {
    let wire: Vec<NotificationWire> = from_json("incident notifications", raw)?;
    wire.into_iter()
        .map(|n| {
            Ok(Notification {
                recipient: match n.recipient {
                    RecipientWire::Client(t) => Recipient::Client(parse_id("tenant id", &t)?),
                    RecipientWire::Platform(p) => Recipient::Platform(named(&p)?),
                },
                due_at: at(n.due_at)?,
                sent_at: opt_at(n.sent_at)?,
            })
        })
        .collect()
}

#[derive(Serialize, Deserialize)]
struct StepWire {
    at: i64,
    by: String,
    action: String,
}

pub(crate) fn remediation_json(steps: &[RemediationStep]) -> Result<String, StoreError> {
    let wire = steps
        .iter()
        .map(|s| Ok(StepWire { at: nanos(s.at)?, by: s.by.to_string(), action: s.action.clone() }))
        .collect::<Result<Vec<_>, StoreError>>()?;
    to_json(&wire)
}

pub(crate) fn remediation(raw: &str) -> Result<Vec<RemediationStep>, StoreError> {
    let wire: Vec<StepWire> = from_json("incident remediation", raw)?;
    wire.into_iter()
        .map(|s| Ok(RemediationStep { at: at(s.at)?, by: parse_id("person id", &s.by)?, action: s.action }))
        .collect()
}

#[derive(Serialize, Deserialize)]
struct ReviewWire {
    at: i64,
    by: String,
    summary: String,
    follow_ups: Vec<String>,
}

pub(crate) fn incident_review_json(review: &PostIncidentReview) -> Result<String, StoreError> {
    to_json(&ReviewWire {
        at: nanos(review.at)?,
        by: review.by.to_string(),
        summary: review.summary.clone(),
        follow_ups: review.follow_ups.clone(),
    })
}

pub(crate) fn incident_review(raw: &str) -> Result<PostIncidentReview, StoreError> {
    let wire: ReviewWire = from_json("incident review", raw)?;
    Ok(PostIncidentReview {
        at: at(wire.at)?,
        by: parse_id("person id", &wire.by)?,
        summary: wire.summary,
        follow_ups: wire.follow_ups,
    })
}

// ---- holds and receipts ----

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum HoldScopeWire {
    Tenant,
    Grant(String),
    Class(String),
}

pub(crate) fn hold_scope_json(scope: &HoldScope) -> Result<String, StoreError> {
    to_json(&match scope {
        HoldScope::Tenant => HoldScopeWire::Tenant,
        HoldScope::Grant(g) => HoldScopeWire::Grant(g.to_string()),
        HoldScope::Class(c) => HoldScopeWire::Class(c.name().to_owned()),
    })
}

pub(crate) fn hold_scope(raw: &str) -> Result<HoldScope, StoreError> {
    Ok(match from_json("hold scope", raw)? {
        HoldScopeWire::Tenant => HoldScope::Tenant,
        HoldScopeWire::Grant(g) => HoldScope::Grant(parse_id("grant id", &g)?),
        HoldScopeWire::Class(c) => HoldScope::Class(named(&c)?),
    })
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum CauseWire {
    Revocation,
    ClientRequest(String),
    Offboarding,
    Retention,
}

pub(crate) fn cause_json(cause: &DeletionCause) -> Result<String, StoreError> {
    to_json(&match cause {
        DeletionCause::Revocation => CauseWire::Revocation,
        DeletionCause::ClientRequest(id) => CauseWire::ClientRequest(id.to_string()),
        DeletionCause::Offboarding => CauseWire::Offboarding,
        DeletionCause::Retention => CauseWire::Retention,
    })
}

pub(crate) fn cause(raw: &str) -> Result<DeletionCause, StoreError> {
    Ok(match from_json("deletion cause", raw)? {
        CauseWire::Revocation => DeletionCause::Revocation,
        CauseWire::ClientRequest(id) => DeletionCause::ClientRequest(parse_id("rights request id", &id)?),
        CauseWire::Offboarding => DeletionCause::Offboarding,
        CauseWire::Retention => DeletionCause::Retention,
    })
}

#[derive(Serialize, Deserialize)]
pub(crate) struct EntryWire {
    store: String,
    what: String,
    count: u64,
}

pub(crate) fn items_json(items: &[ReceiptItem]) -> Result<String, StoreError> {
    to_json(
        &items
            .iter()
            .map(|i| EntryWire { store: i.store.name().to_owned(), what: i.what.clone(), count: i.deleted })
            .collect::<Vec<_>>(),
    )
}

pub(crate) fn recheck_json(items: &[RecheckItem]) -> Result<String, StoreError> {
    to_json(
        &items
            .iter()
            .map(|i| EntryWire { store: i.store.name().to_owned(), what: i.what.clone(), count: i.remaining })
            .collect::<Vec<_>>(),
    )
}

/// Stored receipt entries as (store, what, count).
pub(crate) fn entries(what: &'static str, raw: &str) -> Result<Vec<(StoreKind, String, u64)>, StoreError> {
    let wire: Vec<EntryWire> = from_json(what, raw)?;
    wire.into_iter().map(|e| Ok((named(&e.store)?, e.what, e.count))).collect()
}

#[cfg(test)]
mod tests;
