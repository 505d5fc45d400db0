//! Campaign change requests (CAM-1, CAM-2): a change bound to the hash of its diff, four-eyes approval with
//! step-up MFA, execution only of exactly the approved diff, and confirmation by read-back.
//!
//! ```text
//! proposed ──approve (another person, fresh MFA)──▶ approved ──record_execution──▶ executed {confirmed | mismatch}
//!     └──reject──▶ rejected                            └──────record_failure────▶ failed
//! ```
//! `rejected`, `executed` and `failed` are terminal; every other transition is an
//! [`ApprovalError::IllegalTransition`]. Execution is authorized only for a diff whose hash equals the
//! approved one, within [`APPROVAL_TTL`] of the approval.

use std::fmt;

use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::data::{CampaignId, CampaignStatus};
use crate::grant::GrantId;
use crate::id::string_id;
use crate::personnel::PersonId;
use crate::platform::AccountRef;
use crate::tenant::TenantId;

string_id!(
    /// A campaign change request.
    ChangeId,
    "change id"
);

/// How long an approval may be used to execute: 24 hours. Later, the campaign may have moved on and the
/// change must be proposed again.
pub const APPROVAL_TTL: Duration = Duration::hours(24);

/// A field of a campaign a change request may set, in canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeField {
    Status,
    DailyBudget,
    LifetimeBudget,
    Bid,
    Schedule,
}

impl ChangeField {
    /// Every field, in canonical order.
    pub const ALL: [ChangeField; 5] = [
        ChangeField::Status,
        ChangeField::DailyBudget,
        ChangeField::LifetimeBudget,
        ChangeField::Bid,
        ChangeField::Schedule,
    ];

    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeField::Status => "status",
            ChangeField::DailyBudget => "daily_budget",
            ChangeField::LifetimeBudget => "lifetime_budget",
            ChangeField::Bid => "bid",
            ChangeField::Schedule => "schedule",
        }
    }

    fn tag(self) -> u8 {
        match self {
            ChangeField::Status => 0,
            ChangeField::DailyBudget => 1,
            ChangeField::LifetimeBudget => 2,
            ChangeField::Bid => 3,
            ChangeField::Schedule => 4,
        }
    }
}

impl fmt::Display for ChangeField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value of a field: a status, an amount in micros of the account's currency, or a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeValue {
    Status(CampaignStatus),
    Micros(i64),
    Schedule { start: OffsetDateTime, end: Option<OffsetDateTime> },
}

impl ChangeValue {
    fn fits(&self, field: ChangeField) -> bool {
        matches!(
            (field, self),
            (ChangeField::Status, ChangeValue::Status(_))
                | (
                    ChangeField::DailyBudget | ChangeField::LifetimeBudget | ChangeField::Bid,
                    ChangeValue::Micros(_)
                )
                | (ChangeField::Schedule, ChangeValue::Schedule { .. })
        )
    }

    fn encode(&self, h: &mut Sha256) {
        match self {
            ChangeValue::Status(s) => {
                h.update([0]);
                h.update([match s {
                    CampaignStatus::Active => 0,
                    CampaignStatus::Paused => 1,
                    CampaignStatus::Archived => 2,
                    CampaignStatus::Deleted => 3,
                }]);
            }
            ChangeValue::Micros(m) => {
                h.update([1]);
                h.update(m.to_be_bytes());
            }
            ChangeValue::Schedule { start, end } => {
                h.update([2]);
                h.update(start.unix_timestamp_nanos().to_be_bytes());
                match end {
                    None => h.update([0]),
                    Some(end) => {
                        h.update([1]);
                        h.update(end.unix_timestamp_nanos().to_be_bytes());
                    }
                }
            }
        }
    }
}

/// One field's change. Validated: the values fit the field, amounts are positive, a schedule ends after it
/// starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldChange {
    field: ChangeField,
    from: Option<ChangeValue>,
    to: ChangeValue,
}

impl FieldChange {
    /// Validates a change of `field` from `from` (what the proposer saw, if known) to `to`.
    pub fn new(
        field: ChangeField,
        from: Option<ChangeValue>,
        to: ChangeValue,
    ) -> Result<Self, ApprovalError> {
        for value in from.iter().chain([&to]) {
            if !value.fits(field) {
                return Err(ApprovalError::ValueKind(field));
            }
            match value {
                ChangeValue::Micros(m) if *m <= 0 => return Err(ApprovalError::NotPositive(field)),
                ChangeValue::Schedule { start, end: Some(end) } if end <= start => {
                    return Err(ApprovalError::ScheduleEndsBeforeStart);
                }
                _ => {}
            }
        }
        Ok(Self { field, from, to })
    }

    pub fn field(&self) -> ChangeField {
        self.field
    }

    pub fn from(&self) -> Option<&ChangeValue> {
        self.from.as_ref()
    }

    pub fn to(&self) -> &ChangeValue {
        &self.to
    }
}

/// The exact change to one campaign: non-empty, each field at most once, sorted in canonical field order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChangeDiff {
    account: AccountRef,
    campaign: CampaignId,
    changes: Vec<FieldChange>,
}

impl ChangeDiff {
    /// Validates and sorts a diff. Only ad platforms have campaigns.
    pub fn new(
        account: AccountRef,
        campaign: CampaignId,
        mut changes: Vec<FieldChange>,
    ) -> Result<Self, ApprovalError> {
        if account.platform().is_commerce() {
            return Err(ApprovalError::NotAnAdAccount);
        }
        if changes.is_empty() {
            return Err(ApprovalError::EmptyDiff);
        }
        changes.sort_by_key(|c| c.field);
        if let Some(pair) =
            changes.windows(2).find(|w| w.first().map(|c| c.field) == w.get(1).map(|c| c.field))
        {
            let field = pair.first().map_or(ChangeField::Status, |c| c.field);
            return Err(ApprovalError::DuplicateField(field));
        }
        Ok(Self { account, campaign, changes })
    }

    pub fn account(&self) -> &AccountRef {
        &self.account
    }

    pub fn campaign(&self) -> &CampaignId {
        &self.campaign
    }

    pub fn changes(&self) -> &[FieldChange] {
        &self.changes
    }

    /// SHA-256 of the canonical encoding:
    ///
    /// - the bytes `custodian.change-diff.v1` and a zero byte;
    /// - the account key ([`AccountRef::key`]) and the campaign id, each a string;
    /// - the number of changes (u32), then per change in canonical field order: the field byte (0 status,
    ///   1 daily budget, 2 lifetime budget, 3 bid, 4 schedule), `from` as byte 0 or byte 1 and a value, `to`
    ///   as a value.
    ///
    /// A value is a kind byte then its data: 0 and a status byte (0 active, 1 paused, 2 archived, 3 deleted);
    /// 1 and the micros (i64); 2, the start as Unix nanoseconds (i128) and the end as byte 0 or byte 1 and
    /// Unix nanoseconds. A string is its UTF-8 length (u32) and bytes; integers are big-endian.
    pub fn hash(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"custodian.change-diff.v1\0");
        let string = |h: &mut Sha256, s: &str| {
            h.update(u32::try_from(s.len()).unwrap_or(u32::MAX).to_be_bytes());
            h.update(s.as_bytes());
        };
        string(&mut h, &self.account.key());
        string(&mut h, self.campaign.as_str());
        h.update(u32::try_from(self.changes.len()).unwrap_or(u32::MAX).to_be_bytes());
        for change in &self.changes {
            h.update([change.field.tag()]);
            match &change.from {
                None => h.update([0]),
                Some(v) => {
                    h.update([1]);
                    v.encode(&mut h);
                }
            }
            change.to.encode(&mut h);
        }
        h.finalize().into()
    }
}

/// What the read-back after execution showed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExecutionOutcome {
    /// Every changed field reads back as approved.
    Confirmed,
    /// These fields read back differently (or could not be read).
    Mismatch(Vec<ChangeField>),
}

/// Where a change request is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ChangeState {
    Proposed,
    Approved { by: PersonId, at: OffsetDateTime, mfa_verified_at: OffsetDateTime },
    Rejected { by: PersonId, at: OffsetDateTime, reason: String },
    Executed { at: OffsetDateTime, outcome: ExecutionOutcome },
    Failed { at: OffsetDateTime, error: String },
}

impl ChangeState {
    /// Stable lowercase name.
    pub fn as_str(&self) -> &'static str {
        match self {
            ChangeState::Proposed => "proposed",
            ChangeState::Approved { .. } => "approved",
            ChangeState::Rejected { .. } => "rejected",
            ChangeState::Executed { .. } => "executed",
            ChangeState::Failed { .. } => "failed",
        }
    }
}

/// An operation on a change request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeEvent {
    Approve,
    Reject,
    Execute,
    RecordExecution,
    RecordFailure,
}

impl fmt::Display for ChangeEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChangeEvent::Approve => "approve",
            ChangeEvent::Reject => "reject",
            ChangeEvent::Execute => "execute",
            ChangeEvent::RecordExecution => "record an execution",
            ChangeEvent::RecordFailure => "record a failure",
        })
    }
}

/// Why a change, an approval or an execution is refused. Exhaustive: callers handle every case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    #[error("change request in state {from} cannot {event}")]
    IllegalTransition { from: &'static str, event: ChangeEvent },
    #[error("value does not fit field `{0}`")]
    ValueKind(ChangeField),
    #[error("`{0}` must be a positive amount")]
    NotPositive(ChangeField),
    #[error("schedule must end after it starts")]
    ScheduleEndsBeforeStart,
    #[error("change has no field changes")]
    EmptyDiff,
    #[error("field `{0}` is changed more than once")]
    DuplicateField(ChangeField),
    #[error("campaign changes apply only to ad accounts")]
    NotAnAdAccount,
    #[error("the proposer cannot approve their own change")]
    SelfApproval,
    #[error("approval requires a fresh multi-factor verification")]
    MfaMissing,
    #[error("multi-factor verification is older than the step-up window")]
    MfaStale,
    #[error("multi-factor verification is in the future")]
    MfaInFuture,
    #[error("diff does not match the approved diff")]
    DiffMismatch,
    #[error("approval is older than the approval window")]
    ApprovalExpired,
    #[error("a reason is required")]
    EmptyReason,
    #[error("event at {at} is earlier than the change request's last event")]
    BeforeLastEvent { at: OffsetDateTime },
    #[error("stored diff hash does not match the stored diff")]
    StoredHashMismatch,
}

/// What reading the campaign back after execution showed (CAM-2). `None`: the platform did not return it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CampaignReadback {
    pub status: Option<CampaignStatus>,
    pub daily_budget_micros: Option<i64>,
    pub lifetime_budget_micros: Option<i64>,
    pub bid_micros: Option<i64>,
    pub schedule_start: Option<OffsetDateTime>,
    /// `Some(None)`: the campaign runs without an end.
    pub schedule_end: Option<Option<OffsetDateTime>>,
}

impl CampaignReadback {
    /// Whether the read-back shows `value` for `field`.
    fn shows(&self, field: ChangeField, value: &ChangeValue) -> bool {
        match (field, value) {
            (ChangeField::Status, ChangeValue::Status(s)) => self.status == Some(*s),
            (ChangeField::DailyBudget, ChangeValue::Micros(m)) => self.daily_budget_micros == Some(*m),
            (ChangeField::LifetimeBudget, ChangeValue::Micros(m)) => self.lifetime_budget_micros == Some(*m),
            (ChangeField::Bid, ChangeValue::Micros(m)) => self.bid_micros == Some(*m),
            (ChangeField::Schedule, ChangeValue::Schedule { start, end }) => {
                self.schedule_start == Some(*start) && self.schedule_end == Some(*end)
            }
            _ => false,
        }
    }
}

/// A change to a live campaign, bound to its diff (CAM-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRequest {
    id: ChangeId,
    tenant: TenantId,
    grant: GrantId,
    diff: ChangeDiff,
    diff_hash: [u8; 32],
    proposed_by: PersonId,
    proposed_at: OffsetDateTime,
    state: ChangeState,
}

impl ChangeRequest {
    /// A proposal, bound to the hash of `diff`.
    pub fn propose(
        id: ChangeId,
        tenant: TenantId,
        grant: GrantId,
        diff: ChangeDiff,
        proposed_by: PersonId,
        now: OffsetDateTime,
    ) -> Self {
        let diff_hash = diff.hash();
        Self {
            id,
            tenant,
            grant,
            diff,
            diff_hash,
            proposed_by,
            proposed_at: now,
            state: ChangeState::Proposed,
        }
    }

    /// Rebuilds a stored request; refuses one whose stored hash does not match its stored diff.
    #[expect(clippy::too_many_arguments, reason = "a plain constructor of every stored field")]
    pub fn restore(
        id: ChangeId,
        tenant: TenantId,
        grant: GrantId,
        diff: ChangeDiff,
        diff_hash: [u8; 32],
        proposed_by: PersonId,
        proposed_at: OffsetDateTime,
        state: ChangeState,
    ) -> Result<Self, ApprovalError> {
        if diff.hash() != diff_hash {
            return Err(ApprovalError::StoredHashMismatch);
        }
        Ok(Self { id, tenant, grant, diff, diff_hash, proposed_by, proposed_at, state })
    }

    fn illegal(&self, event: ChangeEvent) -> ApprovalError {
        ApprovalError::IllegalTransition { from: self.state.as_str(), event }
    }

    /// Approves: only from `proposed`, only by someone other than the proposer, only with an MFA verification
    /// at most `step_up_max_age` old and not in the future (ACC-2 step-up).
    pub fn approve(
        &mut self,
        by: &PersonId,
        mfa_verified_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
        step_up_max_age: Duration,
    ) -> Result<(), ApprovalError> {
        if self.state != ChangeState::Proposed {
            return Err(self.illegal(ChangeEvent::Approve));
        }
        if now < self.proposed_at {
            return Err(ApprovalError::BeforeLastEvent { at: now });
        }
        if by == &self.proposed_by {
            return Err(ApprovalError::SelfApproval);
        }
        let mfa = mfa_verified_at.ok_or(ApprovalError::MfaMissing)?;
        if mfa > now {
            return Err(ApprovalError::MfaInFuture);
        }
        if now - mfa > step_up_max_age {
            return Err(ApprovalError::MfaStale);
        }
        self.state = ChangeState::Approved { by: by.clone(), at: now, mfa_verified_at: mfa };
        Ok(())
    }

    /// Rejects a proposal (anyone may, the proposer included, to withdraw it).
    pub fn reject(&mut self, by: &PersonId, reason: &str, now: OffsetDateTime) -> Result<(), ApprovalError> {
        if self.state != ChangeState::Proposed {
            return Err(self.illegal(ChangeEvent::Reject));
        }
        if now < self.proposed_at {
            return Err(ApprovalError::BeforeLastEvent { at: now });
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().any(char::is_control) {
            return Err(ApprovalError::EmptyReason);
        }
        self.state = ChangeState::Rejected { by: by.clone(), at: now, reason: reason.to_owned() };
        Ok(())
    }

    /// Allows executing `diff` at `now` only if the request is approved, `diff` hashes to the approved hash and
    /// the approval is at most [`APPROVAL_TTL`] old.
    pub fn authorize_execution(&self, diff: &ChangeDiff, now: OffsetDateTime) -> Result<(), ApprovalError> {
        let ChangeState::Approved { at, .. } = &self.state else {
            return Err(self.illegal(ChangeEvent::Execute));
        };
        if diff.hash() != self.diff_hash || self.diff.hash() != self.diff_hash {
            return Err(ApprovalError::DiffMismatch);
        }
        if now < *at {
            return Err(ApprovalError::BeforeLastEvent { at: now });
        }
        if now - *at > APPROVAL_TTL {
            return Err(ApprovalError::ApprovalExpired);
        }
        Ok(())
    }

    /// Compares a read-back with the approved `to` values (CAM-2) and records the outcome.
    pub fn record_execution(
        &mut self,
        readback: &CampaignReadback,
        now: OffsetDateTime,
    ) -> Result<ExecutionOutcome, ApprovalError> {
        let approved_at = match &self.state {
            ChangeState::Approved { at, .. } => *at,
            _ => return Err(self.illegal(ChangeEvent::RecordExecution)),
        };
        if now < approved_at {
            return Err(ApprovalError::BeforeLastEvent { at: now });
        }
        let mismatched: Vec<ChangeField> =
            self.diff.changes.iter().filter(|c| !readback.shows(c.field, &c.to)).map(|c| c.field).collect();
        let outcome = if mismatched.is_empty() {
            ExecutionOutcome::Confirmed
        } else {
            ExecutionOutcome::Mismatch(mismatched)
        };
        self.state = ChangeState::Executed { at: now, outcome: outcome.clone() };
        Ok(outcome)
    }

    /// Records that the platform refused or failed the approved change.
    pub fn record_failure(&mut self, error: &str, now: OffsetDateTime) -> Result<(), ApprovalError> {
        let approved_at = match &self.state {
            ChangeState::Approved { at, .. } => *at,
            _ => return Err(self.illegal(ChangeEvent::RecordFailure)),
        };
        if now < approved_at {
            return Err(ApprovalError::BeforeLastEvent { at: now });
        }
        let error: String = error.chars().filter(|c| !c.is_control()).collect();
        let error =
            if error.trim().is_empty() { "unknown error".to_owned() } else { error.trim().to_owned() };
        self.state = ChangeState::Failed { at: now, error };
        Ok(())
    }

    pub fn id(&self) -> &ChangeId {
        &self.id
    }

    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    pub fn grant(&self) -> &GrantId {
        &self.grant
    }

    pub fn diff(&self) -> &ChangeDiff {
        &self.diff
    }

    pub fn diff_hash(&self) -> &[u8; 32] {
        &self.diff_hash
    }

    pub fn proposed_by(&self) -> &PersonId {
        &self.proposed_by
    }

    pub fn proposed_at(&self) -> OffsetDateTime {
        self.proposed_at
    }

    pub fn state(&self) -> &ChangeState {
        &self.state
    }
}

#[cfg(test)]
mod tests;
