//! Retention (RET-1..6): periods per data class, contract overrides that can only shorten, legal holds,
//! delete or anonymize per class, purge plans for revocation, deletion receipts.
//!
//! # The standard policy ([`RetentionPolicy::standard`])
//!
//! | class | period | disposal | source |
//! |---|---|---|---|
//! | operational log | 90 days | delete | RET-1 |
//! | reporting dataset | 13 calendar months | delete | RET-2 |
//! | campaign metadata | 13 calendar months | delete | RET-2 (it is part of the reporting dataset) |
//! | order detail | 13 calendar months after the order's last update | delete | RET-3 + choice |
//! | buyer PII | 30 days after the order's last update | anonymize | RET-3 + choice |
//! | business contact | 13 calendar months after last use | delete | RET-4 choice |
//! | audit record | 6 years (72 calendar months) | delete | compliance choice |
//! | credential | not time-based | delete | SEC-1, RET-3 |
//!
//! Choices, and why:
//! - Order details and buyer PII are kept only while the grant is active (RET-3): revocation purges them at
//!   once through [`purge_plan`]. While the grant stays active, finished orders still must not live forever:
//!   order rows go after 13 months without an update (the reporting horizon, covering returns, chargebacks and
//!   year-on-year comparison). Buyer PII is needed only for fulfilment: 30 days after the order's last update
//!   (for a delivered order, its delivery) the sealed buyer column is removed and the order row stays. This is
//!   [`Disposal::Anonymize`] (anonymize by deletion of the PII column); it matches the commonly quoted
//!   Amazon SP-API Data Protection Policy rule of "no longer than 30 days after order delivery".
//!   A record's `stored_at` is therefore the time of its last write, not of its first.
//! - Business contacts go 13 months after their last use (the caller stamps `stored_at` on use).
//! - Audit records are kept 6 years for compliance and deleted by whole checkpointed segments, so what
//!   remains still verifies.
//! - Credentials are not time-based: secrets are deleted on revocation (RET-3) and offboarding (RGT-3).
//!
//! # Shortening only (RET-2)
//!
//! [`effective_period`] takes the shorter of the policy's and the contract's period. A contract period is in
//! days, a policy period may be in calendar months; when neither is shorter for every start date (a contract
//! of 395 days against 13 months, which last 393 to 397 days), the result is the shortest length the month
//! period can have, in days, so the effective period is never longer than either for any record.
//! [`RetentionPolicy::new`] likewise accepts a configured policy only if no rule is longer than the standard
//! one. Expiry is `stored_at + period`; a record is disposed of at or after its expiry.

pub(crate) mod calendar;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::data::{DataClass, RecordKind};
use crate::grant::GrantId;
use crate::id::{IdError, string_id};
use crate::personnel::PersonId;
use crate::platform::Platform;
use crate::rights::RightsRequestId;
use crate::tenant::{ContractTerms, TenantId};

string_id!(
    /// A legal hold (RET-5).
    HoldId,
    "hold id"
);
string_id!(
    /// A deletion receipt (RET-6).
    ReceiptId,
    "receipt id"
);

/// A retention period in whole days: 1 to 3,650.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RetentionDays(u32);

impl RetentionDays {
    /// Validates a period.
    pub fn new(days: u32) -> Result<Self, IdError> {
        if (1..=3650).contains(&days) {
            Ok(Self(days))
        } else {
            Err(IdError::Format {
                kind: "retention period",
                value: days.to_string(),
                expected: "1 to 3650 days",
            })
        }
    }

    /// The number of days.
    pub fn days(self) -> u32 {
        self.0
    }

    /// The period as a duration.
    pub fn duration(self) -> Duration {
        Duration::days(i64::from(self.0))
    }
}

/// How long a record of a class is kept after it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetentionPeriod {
    /// A fixed number of days (24-hour days: offsets are fixed, so there is no daylight saving).
    Days(RetentionDays),
    /// Calendar months, at the same time of day, clamped to the end of a shorter month.
    Months(u32),
}

impl RetentionPeriod {
    /// When a record stored at `stored_at` expires. Saturates at the latest representable instant.
    pub fn expires_at(self, stored_at: OffsetDateTime) -> OffsetDateTime {
        match self {
            RetentionPeriod::Days(days) => calendar::add_duration(stored_at, days.duration()),
            RetentionPeriod::Months(months) => calendar::add_months(stored_at, months),
        }
    }

    /// The shortest and longest length of the period in days, over every start date.
    pub fn day_bounds(self) -> (i64, i64) {
        match self {
            RetentionPeriod::Days(days) => (i64::from(days.0), i64::from(days.0)),
            RetentionPeriod::Months(months) => calendar::month_day_bounds(months),
        }
    }

    /// Whether this period ends no later than `other` for every start instant.
    pub fn never_longer_than(self, other: RetentionPeriod) -> bool {
        match (self, other) {
            (RetentionPeriod::Days(a), RetentionPeriod::Days(b)) => a <= b,
            (RetentionPeriod::Months(a), RetentionPeriod::Months(b)) => a <= b,
            _ => self.day_bounds().1 <= other.day_bounds().0,
        }
    }

    /// The shorter of two periods: one that is never longer than either, for every start instant.
    pub fn shorter(self, other: RetentionPeriod) -> RetentionPeriod {
        if self.never_longer_than(other) {
            self
        } else if other.never_longer_than(self) {
            other
        } else {
            // Only a days period against a months period gets here: take the least either can last.
            let least = self.day_bounds().0.min(other.day_bounds().0);
            let days = u32::try_from(least).ok().and_then(|d| RetentionDays::new(d).ok());
            RetentionPeriod::Days(days.unwrap_or(RetentionDays(1)))
        }
    }
}

impl fmt::Display for RetentionPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetentionPeriod::Days(d) => write!(f, "{} days", d.0),
            RetentionPeriod::Months(m) => write!(f, "{m} months"),
        }
    }
}

/// What happens to a record whose period is over (RET-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Disposal {
    /// The record is deleted.
    Delete,
    /// The personal part of the record is deleted and the rest is kept (for buyer PII: the sealed buyer
    /// column of the order is removed, the order row stays).
    Anonymize,
}

/// The rule for one data class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RetentionRule {
    pub class: DataClass,
    /// `None`: not time-based; such data goes when its grant is revoked or its tenant offboarded.
    pub period: Option<RetentionPeriod>,
    pub disposal: Disposal,
}

/// The retention rules of every data class (RET-1..4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    rules: BTreeMap<DataClass, RetentionRule>,
}

/// Why a configured retention policy is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("retention policy has no rule for `{0}`")]
    MissingRule(DataClass),
    #[error("retention policy has more than one rule for `{0}`")]
    DuplicateRule(DataClass),
    #[error("retention rule for `{0}` is longer than the standard policy allows")]
    LongerThanStandard(DataClass),
    #[error("retention rule for `{0}` may only delete")]
    DisposalNotAllowed(DataClass),
}

/// The standard rule of a class (see the module documentation).
fn standard_rule(class: DataClass) -> RetentionRule {
    let days = |d| Some(RetentionPeriod::Days(RetentionDays(d)));
    let months = |m| Some(RetentionPeriod::Months(m));
    let (period, disposal) = match class {
        DataClass::OperationalLog => (days(90), Disposal::Delete),
        DataClass::ReportingDataset | DataClass::CampaignMetadata => (months(13), Disposal::Delete),
        DataClass::OrderDetail => (months(13), Disposal::Delete),
        DataClass::BuyerPii => (days(30), Disposal::Anonymize),
        DataClass::BusinessContact => (months(13), Disposal::Delete),
        DataClass::AuditRecord => (months(72), Disposal::Delete),
        DataClass::Credential => (None, Disposal::Delete),
    };
    RetentionRule { class, period, disposal }
}

impl RetentionPolicy {
    /// The standard policy of the module documentation.
    pub fn standard() -> Self {
        Self { rules: DataClass::ALL.into_iter().map(|c| (c, standard_rule(c))).collect() }
    }

    /// A configured policy: exactly one rule per class, none longer than the standard rule, and a class the
    /// standard policy deletes may not be anonymized instead.
    pub fn new(rules: impl IntoIterator<Item = RetentionRule>) -> Result<Self, PolicyError> {
        let mut map = BTreeMap::new();
        for rule in rules {
            let standard = standard_rule(rule.class);
            let longer = match (rule.period, standard.period) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(p), Some(s)) => !p.never_longer_than(s),
            };
            if longer {
                return Err(PolicyError::LongerThanStandard(rule.class));
            }
            if rule.disposal != standard.disposal && rule.disposal != Disposal::Delete {
                return Err(PolicyError::DisposalNotAllowed(rule.class));
            }
            if map.insert(rule.class, rule).is_some() {
                return Err(PolicyError::DuplicateRule(rule.class));
            }
        }
        if let Some(missing) = DataClass::ALL.into_iter().find(|c| !map.contains_key(c)) {
            return Err(PolicyError::MissingRule(missing));
        }
        Ok(Self { rules: map })
    }

    /// The rule of a class.
    pub fn rule(&self, class: DataClass) -> RetentionRule {
        // Every class has a rule by construction; the standard rule is the safe fallback regardless.
        self.rules.get(&class).copied().unwrap_or_else(|| standard_rule(class))
    }

    /// Every rule, in class order.
    pub fn rules(&self) -> impl Iterator<Item = &RetentionRule> {
        self.rules.values()
    }
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self::standard()
    }
}

/// The period that applies to `class` for a tenant: the shorter of the policy's and the contract's (RET-2).
/// A contract can only shorten; `None` only if neither sets a period.
pub fn effective_period(
    class: DataClass,
    contract: &ContractTerms,
    policy: &RetentionPolicy,
) -> Option<RetentionPeriod> {
    let from_policy = policy.rule(class).period;
    let from_contract = contract.retention_overrides.get(&class).map(|d| RetentionPeriod::Days(*d));
    match (from_policy, from_contract) {
        (Some(p), Some(c)) => Some(p.shorter(c)),
        (p, c) => p.or(c),
    }
}

/// What [`plan`] knows about a stored record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordMeta {
    pub tenant: TenantId,
    /// The grant it was fetched under; `None` for tenant-level data (contacts, logs).
    pub grant: Option<GrantId>,
    pub class: DataClass,
    /// The store's key of the record (natural key), opaque to retention.
    pub key: String,
    /// When the record was last written (for contacts: last used). Its period runs from here.
    pub stored_at: OffsetDateTime,
}

/// What a legal hold covers within its tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HoldScope {
    /// Everything of the tenant.
    Tenant,
    /// Everything fetched under one grant.
    Grant(GrantId),
    /// One data class of the tenant.
    Class(DataClass),
}

/// Who lifted a hold early, and when.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HoldLift {
    pub by: PersonId,
    pub at: OffsetDateTime,
}

/// A legal or contractual obligation to keep data past its period (RET-5): with a reason, an owner and an
/// end. It is active from `placed_at` until `ends_at` or until it is lifted, whichever is first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalHold {
    id: HoldId,
    tenant: TenantId,
    scope: HoldScope,
    reason: String,
    owner: PersonId,
    placed_at: OffsetDateTime,
    ends_at: OffsetDateTime,
    lifted: Option<HoldLift>,
}

/// Why a legal hold cannot be placed or changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoldError {
    #[error("legal hold reason is empty")]
    EmptyReason,
    #[error("legal hold reason is longer than {max} characters")]
    ReasonTooLong { max: usize },
    #[error("legal hold reason contains a control character")]
    ReasonControlChar,
    #[error("legal hold must end after it is placed")]
    EndsBeforePlaced,
    #[error("legal hold `{0}` is already lifted")]
    AlreadyLifted(HoldId),
    #[error("legal hold `{0}` has already ended")]
    AlreadyEnded(HoldId),
    #[error("legal hold `{0}` cannot be lifted before it is placed")]
    LiftedBeforePlaced(HoldId),
}

impl LegalHold {
    /// Maximum length of a reason, in characters.
    pub const MAX_REASON_CHARS: usize = 1000;

    /// Places a hold. The reason must be non-empty text and the end after the start.
    pub fn new(
        id: HoldId,
        tenant: TenantId,
        scope: HoldScope,
        reason: impl Into<String>,
        owner: PersonId,
        placed_at: OffsetDateTime,
        ends_at: OffsetDateTime,
    ) -> Result<Self, HoldError> {
        let reason = reason.into().trim().to_owned();
        if reason.is_empty() {
            return Err(HoldError::EmptyReason);
        }
        if reason.chars().count() > Self::MAX_REASON_CHARS {
            return Err(HoldError::ReasonTooLong { max: Self::MAX_REASON_CHARS });
        }
        if reason.chars().any(char::is_control) {
            return Err(HoldError::ReasonControlChar);
        }
        if ends_at <= placed_at {
            return Err(HoldError::EndsBeforePlaced);
        }
        Ok(Self { id, tenant, scope, reason, owner, placed_at, ends_at, lifted: None })
    }

    /// Rebuilds a stored hold, with the same checks as [`LegalHold::new`] and [`LegalHold::lift`].
    #[expect(clippy::too_many_arguments, reason = "a plain constructor of every stored field")]
    pub fn restore(
        id: HoldId,
        tenant: TenantId,
        scope: HoldScope,
        reason: impl Into<String>,
        owner: PersonId,
        placed_at: OffsetDateTime,
        ends_at: OffsetDateTime,
        lifted: Option<HoldLift>,
    ) -> Result<Self, HoldError> {
        let mut hold = Self::new(id, tenant, scope, reason, owner, placed_at, ends_at)?;
        if let Some(lift) = lifted {
            if lift.at < hold.placed_at {
                return Err(HoldError::LiftedBeforePlaced(hold.id));
            }
            hold.lifted = Some(lift);
        }
        Ok(hold)
    }

    /// Lifts the hold early. Lifting twice, lifting an ended hold or lifting before it is placed is an error.
    pub fn lift(&mut self, by: PersonId, now: OffsetDateTime) -> Result<(), HoldError> {
        if self.lifted.is_some() {
            return Err(HoldError::AlreadyLifted(self.id.clone()));
        }
        if now < self.placed_at {
            return Err(HoldError::LiftedBeforePlaced(self.id.clone()));
        }
        if now >= self.ends_at {
            return Err(HoldError::AlreadyEnded(self.id.clone()));
        }
        self.lifted = Some(HoldLift { by, at: now });
        Ok(())
    }

    /// Whether the hold is in force at `now`.
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.placed_at <= now && now < self.ends_at && self.lifted.as_ref().is_none_or(|l| now < l.at)
    }

    /// Whether the hold is in force at `now` and covers `record`.
    pub fn covers(&self, record: &RecordMeta, now: OffsetDateTime) -> bool {
        self.is_active(now)
            && record.tenant == self.tenant
            && match &self.scope {
                HoldScope::Tenant => true,
                HoldScope::Grant(g) => record.grant.as_ref() == Some(g),
                HoldScope::Class(c) => record.class == *c,
            }
    }

    pub fn id(&self) -> &HoldId {
        &self.id
    }

    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    pub fn scope(&self) -> &HoldScope {
        &self.scope
    }

    pub fn reason(&self) -> &str {
        &self.reason
    }

    pub fn owner(&self) -> &PersonId {
        &self.owner
    }

    pub fn placed_at(&self) -> OffsetDateTime {
        self.placed_at
    }

    pub fn ends_at(&self) -> OffsetDateTime {
        self.ends_at
    }

    pub fn lifted(&self) -> Option<&HoldLift> {
        self.lifted.as_ref()
    }
}

/// Why a record is kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeepReason {
    /// Its period runs until `until`.
    WithinPeriod { until: OffsetDateTime },
    /// Its period is over, but this active hold covers it (RET-5).
    Held(HoldId),
    /// Its class has no time-based period.
    NotTimeBased,
}

/// What a retention run does with one record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RetentionAction {
    Delete(RecordMeta),
    Anonymize(RecordMeta),
    Keep { record: RecordMeta, reason: KeepReason },
}

impl RetentionAction {
    /// The record the action is about.
    pub fn record(&self) -> &RecordMeta {
        match self {
            RetentionAction::Delete(r) | RetentionAction::Anonymize(r) => r,
            RetentionAction::Keep { record, .. } => record,
        }
    }

    /// Whether the action removes data (delete or anonymize).
    pub fn is_disposal(&self) -> bool {
        !matches!(self, RetentionAction::Keep { .. })
    }
}

/// Plans a retention run (RET-1..5): exactly one action per record, in input order.
///
/// A record whose effective period ([`effective_period`]) is over at `now` (`now >= stored_at + period`) is
/// deleted or anonymized as its class's rule says, unless an active hold covers it; then it is kept with the
/// first covering hold in `holds` order. A record within its period, or of a class without a period, is kept.
pub fn plan(
    records: &[RecordMeta],
    holds: &[LegalHold],
    contract: &ContractTerms,
    policy: &RetentionPolicy,
    now: OffsetDateTime,
) -> Vec<RetentionAction> {
    let rules: BTreeMap<DataClass, (Option<RetentionPeriod>, Disposal)> = DataClass::ALL
        .into_iter()
        .map(|c| (c, (effective_period(c, contract, policy), policy.rule(c).disposal)))
        .collect();
    records
        .iter()
        .map(|record| {
            let (period, disposal) =
                rules.get(&record.class).copied().unwrap_or((None, policy.rule(record.class).disposal));
            let Some(period) = period else {
                return RetentionAction::Keep { record: record.clone(), reason: KeepReason::NotTimeBased };
            };
            let until = period.expires_at(record.stored_at);
            if now < until {
                return RetentionAction::Keep {
                    record: record.clone(),
                    reason: KeepReason::WithinPeriod { until },
                };
            }
            if let Some(hold) = holds.iter().find(|h| h.covers(record, now)) {
                return RetentionAction::Keep {
                    record: record.clone(),
                    reason: KeepReason::Held(hold.id.clone()),
                };
            }
            match disposal {
                Disposal::Delete => RetentionAction::Delete(record.clone()),
                Disposal::Anonymize => RetentionAction::Anonymize(record.clone()),
            }
        })
        .collect()
}

/// Counts of a retention run for one class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ClassCounts {
    pub deleted: u64,
    pub anonymized: u64,
    /// Kept within their period or not time-based.
    pub kept: u64,
    /// Past their period but kept by a legal hold.
    pub held: u64,
}

/// Counts per class of a retention run, for its audit event (RET-4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionSummary {
    pub per_class: BTreeMap<DataClass, ClassCounts>,
}

impl RetentionSummary {
    /// Counts the actions of a plan.
    pub fn of(actions: &[RetentionAction]) -> Self {
        let mut per_class: BTreeMap<DataClass, ClassCounts> = BTreeMap::new();
        for action in actions {
            let counts = per_class.entry(action.record().class).or_default();
            let slot = match action {
                RetentionAction::Delete(_) => &mut counts.deleted,
                RetentionAction::Anonymize(_) => &mut counts.anonymized,
                RetentionAction::Keep { reason: KeepReason::Held(_), .. } => &mut counts.held,
                RetentionAction::Keep { .. } => &mut counts.kept,
            };
            *slot = slot.saturating_add(1);
        }
        Self { per_class }
    }

    /// Totals over every class.
    pub fn total(&self) -> ClassCounts {
        self.per_class.values().fold(ClassCounts::default(), |a, c| ClassCounts {
            deleted: a.deleted.saturating_add(c.deleted),
            anonymized: a.anonymized.saturating_add(c.anonymized),
            kept: a.kept.saturating_add(c.kept),
            held: a.held.saturating_add(c.held),
        })
    }
}

/// What revoking a grant removes (RET-3), computed by [`purge_plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgePlan {
    pub tenant: TenantId,
    pub grant: GrantId,
    /// Destroy the data key that seals this grant's data first (crypto-shredding: unreadable at once).
    pub destroy_data_key: bool,
    /// Record kinds of the grant to delete physically, right after the key.
    pub delete_kinds: Vec<RecordKind>,
    /// Delete the grant's credentials from the secret store.
    pub delete_secrets: bool,
    /// Active holds that keep some of the grant's data (sorted, without duplicates).
    pub held_by: Vec<HoldId>,
}

impl PurgePlan {
    /// Whether the plan removes every record kind and the key.
    pub fn is_complete(&self) -> bool {
        self.destroy_data_key && self.delete_kinds.len() == RecordKind::ALL.len()
    }
}

/// The purge that follows a grant's revocation (RET-3). Choices:
/// - Commerce grants (TikTok Shop, Amazon, eBay): everything of the grant goes at once: the data key is
///   destroyed, every record kind of the grant is deleted, the secrets are deleted.
/// - Ad grants (Meta, TikTok): the secrets are deleted and processing stops (the grant is revoked), but
///   reporting datasets and campaign metadata follow their periods (RET-2): the client may still need the
///   reports already delivered. No key is destroyed and no kind is deleted here.
/// - An active hold of the tenant covering the whole tenant or the grant keeps all of the grant's data and
///   its key; a hold of one class keeps the kinds of that class (a buyer-PII hold keeps orders) and the key.
///   Secrets are deleted regardless: a hold preserves evidence, never the ability to call the platform.
pub fn purge_plan(
    tenant: &TenantId,
    grant: &GrantId,
    platform: Platform,
    holds: &[LegalHold],
    now: OffsetDateTime,
) -> PurgePlan {
    let active: Vec<&LegalHold> = holds.iter().filter(|h| &h.tenant == tenant && h.is_active(now)).collect();
    let holds_kind = |h: &LegalHold, kind: RecordKind| match &h.scope {
        HoldScope::Tenant => true,
        HoldScope::Grant(g) => g == grant,
        HoldScope::Class(c) => *c == kind.class() || (kind == RecordKind::Order && *c == DataClass::BuyerPii),
    };
    let kinds: &[RecordKind] = if platform.is_commerce() {
        &RecordKind::ALL
    } else {
        &[RecordKind::ReportRow, RecordKind::Campaign]
    };
    let mut held_by = BTreeSet::new();
    let mut delete_kinds = Vec::new();
    for &kind in kinds {
        let holding: Vec<&HoldId> = active.iter().filter(|h| holds_kind(h, kind)).map(|h| &h.id).collect();
        if holding.is_empty() {
            delete_kinds.push(kind);
        }
        held_by.extend(holding.into_iter().cloned());
    }
    if platform.is_commerce() {
        PurgePlan {
            tenant: tenant.clone(),
            grant: grant.clone(),
            destroy_data_key: held_by.is_empty(),
            delete_kinds,
            delete_secrets: true,
            held_by: held_by.into_iter().collect(),
        }
    } else {
        PurgePlan {
            tenant: tenant.clone(),
            grant: grant.clone(),
            destroy_data_key: false,
            delete_kinds: Vec::new(),
            delete_secrets: true,
            held_by: held_by.into_iter().collect(),
        }
    }
}

/// Why data was deleted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DeletionCause {
    /// The grant was revoked (RET-3).
    Revocation,
    /// The client asked (RGT-1).
    ClientRequest(RightsRequestId),
    /// The client was offboarded (RGT-3).
    Offboarding,
    /// A retention run (RET-4).
    Retention,
}

/// A store deletions happen in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoreKind {
    Dataset,
    Contacts,
    Secrets,
    Keys,
    Audit,
}

impl StoreKind {
    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Dataset => "dataset",
            StoreKind::Contacts => "contacts",
            StoreKind::Secrets => "secrets",
            StoreKind::Keys => "keys",
            StoreKind::Audit => "audit",
        }
    }

    fn tag(self) -> u8 {
        match self {
            StoreKind::Dataset => 0,
            StoreKind::Contacts => 1,
            StoreKind::Secrets => 2,
            StoreKind::Keys => 3,
            StoreKind::Audit => 4,
        }
    }
}

impl fmt::Display for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What was deleted in one store: `what` names it (a record kind, `credentials`, `data key v3`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReceiptItem {
    pub store: StoreKind,
    pub what: String,
    pub deleted: u64,
}

/// What a re-check after the deletion still found in one store; zero when the deletion is complete.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecheckItem {
    pub store: StoreKind,
    pub what: String,
    pub remaining: u64,
}

/// Proof of a deletion (RET-6): what was deleted per store and a re-check of what remains. Built only
/// through [`ReceiptBuilder`], which refuses a receipt without a re-check of every store it deleted from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionReceipt {
    id: ReceiptId,
    tenant: TenantId,
    grant: Option<GrantId>,
    cause: DeletionCause,
    items: Vec<ReceiptItem>,
    recheck: Vec<RecheckItem>,
    started_at: OffsetDateTime,
    completed_at: OffsetDateTime,
}

/// Why a receipt cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("deletion receipt has no re-check")]
    NoRecheck,
    #[error("deletion receipt has no re-check of the `{0}` store")]
    StoreNotRechecked(StoreKind),
    #[error("deletion receipt entry must name what it is about with printable text")]
    BadWhat,
    #[error("deletion receipt completes before it starts")]
    CompletedBeforeStarted,
}

/// Collects the items of a [`DeletionReceipt`].
#[derive(Debug, Clone)]
pub struct ReceiptBuilder {
    id: ReceiptId,
    tenant: TenantId,
    grant: Option<GrantId>,
    cause: DeletionCause,
    started_at: OffsetDateTime,
    items: Vec<ReceiptItem>,
    recheck: Vec<RecheckItem>,
}

impl ReceiptBuilder {
    /// Records what was deleted in a store.
    pub fn deleted(mut self, store: StoreKind, what: impl Into<String>, deleted: u64) -> Self {
        self.items.push(ReceiptItem { store, what: what.into(), deleted });
        self
    }

    /// Records what a re-check found remaining in a store.
    pub fn rechecked(mut self, store: StoreKind, what: impl Into<String>, remaining: u64) -> Self {
        self.recheck.push(RecheckItem { store, what: what.into(), remaining });
        self
    }

    /// Finishes the receipt. It needs at least one re-check, a re-check of every store it deleted from,
    /// non-empty printable names and `completed_at >= started_at`.
    pub fn build(self, completed_at: OffsetDateTime) -> Result<DeletionReceipt, ReceiptError> {
        if self.recheck.is_empty() {
            return Err(ReceiptError::NoRecheck);
        }
        let names = self.items.iter().map(|i| &i.what).chain(self.recheck.iter().map(|r| &r.what));
        if names.into_iter().any(|w| w.trim().is_empty() || w.chars().any(char::is_control)) {
            return Err(ReceiptError::BadWhat);
        }
        if let Some(item) = self.items.iter().find(|i| !self.recheck.iter().any(|r| r.store == i.store)) {
            return Err(ReceiptError::StoreNotRechecked(item.store));
        }
        if completed_at < self.started_at {
            return Err(ReceiptError::CompletedBeforeStarted);
        }
        Ok(DeletionReceipt {
            id: self.id,
            tenant: self.tenant,
            grant: self.grant,
            cause: self.cause,
            items: self.items,
            recheck: self.recheck,
            started_at: self.started_at,
            completed_at,
        })
    }
}

impl DeletionReceipt {
    /// Starts a receipt.
    pub fn builder(
        id: ReceiptId,
        tenant: TenantId,
        grant: Option<GrantId>,
        cause: DeletionCause,
        started_at: OffsetDateTime,
    ) -> ReceiptBuilder {
        ReceiptBuilder { id, tenant, grant, cause, started_at, items: Vec::new(), recheck: Vec::new() }
    }

    /// Whether the re-check found nothing left anywhere.
    pub fn is_clean(&self) -> bool {
        self.recheck.iter().all(|r| r.remaining == 0)
    }

    /// Total of deleted items over every store.
    pub fn total_deleted(&self) -> u64 {
        self.items.iter().fold(0, |a, i| a.saturating_add(i.deleted))
    }

    /// SHA-256 of the canonical encoding, to be recorded in the audit trail. The encoding, in order:
    ///
    /// - the bytes `custodian.receipt.v1` and a zero byte;
    /// - id, tenant: each a string;
    /// - grant: byte 0, or byte 1 and a string;
    /// - cause: one byte, 0 revocation, 1 client request followed by the request id string, 2 offboarding,
    ///   3 retention;
    /// - items: count (u32), then per item the store byte (0 dataset, 1 contacts, 2 secrets, 3 keys,
    ///   4 audit), `what` string, `deleted` (u64);
    /// - recheck: count (u32), then per item store byte, `what` string, `remaining` (u64);
    /// - `started_at`, `completed_at`: Unix time in nanoseconds (i128).
    ///
    /// A string is its UTF-8 length (u32) followed by its bytes; integers are big-endian.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"custodian.receipt.v1\0");
        let string = |h: &mut Sha256, s: &str| {
            h.update(u32::try_from(s.len()).unwrap_or(u32::MAX).to_be_bytes());
            h.update(s.as_bytes());
        };
        let count = |h: &mut Sha256, n: usize| h.update(u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes());
        string(&mut h, self.id.as_str());
        string(&mut h, self.tenant.as_str());
        match &self.grant {
            None => h.update([0]),
            Some(g) => {
                h.update([1]);
                string(&mut h, g.as_str());
            }
        }
        match &self.cause {
            DeletionCause::Revocation => h.update([0]),
            DeletionCause::ClientRequest(id) => {
                h.update([1]);
                string(&mut h, id.as_str());
            }
            DeletionCause::Offboarding => h.update([2]),
            DeletionCause::Retention => h.update([3]),
        }
        count(&mut h, self.items.len());
        for item in &self.items {
            h.update([item.store.tag()]);
            string(&mut h, &item.what);
            h.update(item.deleted.to_be_bytes());
        }
        count(&mut h, self.recheck.len());
        for item in &self.recheck {
            h.update([item.store.tag()]);
            string(&mut h, &item.what);
            h.update(item.remaining.to_be_bytes());
        }
        h.update(self.started_at.unix_timestamp_nanos().to_be_bytes());
        h.update(self.completed_at.unix_timestamp_nanos().to_be_bytes());
        h.finalize().into()
    }

    pub fn id(&self) -> &ReceiptId {
        &self.id
    }

    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    pub fn grant(&self) -> Option<&GrantId> {
        self.grant.as_ref()
    }

    pub fn cause(&self) -> &DeletionCause {
        &self.cause
    }

    pub fn items(&self) -> &[ReceiptItem] {
        &self.items
    }

    pub fn recheck(&self) -> &[RecheckItem] {
        &self.recheck
    }

    pub fn started_at(&self) -> OffsetDateTime {
        self.started_at
    }

    pub fn completed_at(&self) -> OffsetDateTime {
        self.completed_at
    }
}

#[cfg(test)]
mod tests;
