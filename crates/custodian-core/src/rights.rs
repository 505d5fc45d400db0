//! Client and data-subject rights requests (RGT-1..3) with statutory deadlines, and the portability
//! exporter (JSON and CSV).
//!
//! ```text
//! received ──acknowledge──▶ acknowledged ──extend──▶ extended
//!    │  └──────────────extend─────────────────────────▲  │
//!    └──────── complete | reject (from any open state) ──┴─▶ completed | rejected
//! ```
//! `completed` and `rejected` are terminal; every other transition is a [`RightsError::IllegalTransition`].
//!
//! Deadlines (peers.md 4.3):
//! - GDPR Art. 12(3): respond within one calendar month of receipt (Jan 31 → Feb 28/29). One extension, to
//!   three calendar months from receipt ("two further months"), only if the notice and its reason are given
//!   within the first month (at or before the original due instant). No acknowledgement deadline.
//! - CCPA, 11 CCR § 7021: acknowledge within 10 business days (Monday to Friday, minus the caller's holiday
//!   list, the day of receipt not counted); respond within 45 calendar days of receipt; one extension of up to
//!   45 more days (90 in total), with notice and reason strictly before the original due instant.
//!
//! Every deadline is an instant: the due date at the time of day of receipt, in the receipt's UTC offset
//! (never later than the end of the due day). Late acknowledgements and completions are accepted (acting late
//! still beats not acting) and [`RightsRequest::is_overdue`] reports them while open; an extension is refused
//! outside its window because the law grants it only on that condition. An extension notice also confirms
//! receipt, so it sets the acknowledgement time when none was recorded.

mod export;

use std::fmt;

use time::{Date, Duration, OffsetDateTime};

use crate::data::Purpose;
use crate::id::string_id;
use crate::retention::calendar;
use crate::tenant::TenantId;

pub use export::{
    CsvFile, ExportBundle, ExportError, ExportFile, ExportOrder, ExportRecords, ExportSection, ExportWriter,
    csv_cell, export_csv, export_json, json_string,
};

string_id!(
    /// A rights request.
    RightsRequestId,
    "rights request id"
);

/// A standing restriction or objection that [`crate::authz::decide`] enforces (RGT-1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProcessingRestriction {
    /// Restriction: processing of the tenant's data is frozen; data is kept and may be exported.
    Restricted { tenant: TenantId },
    /// Objection: processing of the tenant's data for this purpose stops.
    Objection { tenant: TenantId, purpose: Purpose },
}

impl ProcessingRestriction {
    /// The tenant it applies to.
    pub fn tenant(&self) -> &TenantId {
        match self {
            ProcessingRestriction::Restricted { tenant }
            | ProcessingRestriction::Objection { tenant, .. } => tenant,
        }
    }
}

/// GDPR: months from receipt to the response.
pub const GDPR_RESPONSE_MONTHS: u32 = 1;
/// GDPR: months from receipt to the response when extended (one month plus two further months).
pub const GDPR_EXTENDED_MONTHS: u32 = 3;
/// CCPA: business days to confirm receipt.
pub const CCPA_ACKNOWLEDGE_BUSINESS_DAYS: u32 = 10;
/// CCPA: calendar days from receipt to the response.
pub const CCPA_RESPONSE_DAYS: i64 = 45;
/// CCPA: the most an extension may add, in calendar days.
pub const CCPA_EXTENSION_DAYS: i64 = 45;

/// What the client or data subject asks for (RGT-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RightsKind {
    Access,
    Correction,
    Portability,
    Restriction,
    Objection(Purpose),
    Deletion,
}

impl RightsKind {
    /// Stable lowercase name (without the objection's purpose).
    pub fn as_str(self) -> &'static str {
        match self {
            RightsKind::Access => "access",
            RightsKind::Correction => "correction",
            RightsKind::Portability => "portability",
            RightsKind::Restriction => "restriction",
            RightsKind::Objection(_) => "objection",
            RightsKind::Deletion => "deletion",
        }
    }
}

/// The law whose deadlines apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Regime {
    Gdpr,
    Ccpa,
}

impl Regime {
    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Regime::Gdpr => "gdpr",
            Regime::Ccpa => "ccpa",
        }
    }
}

/// Where a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RightsStatus {
    Received,
    Acknowledged,
    Extended,
    Completed,
    Rejected,
}

impl RightsStatus {
    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            RightsStatus::Received => "received",
            RightsStatus::Acknowledged => "acknowledged",
            RightsStatus::Extended => "extended",
            RightsStatus::Completed => "completed",
            RightsStatus::Rejected => "rejected",
        }
    }

    /// Whether the request is answered (completed or rejected).
    pub fn is_closed(self) -> bool {
        matches!(self, RightsStatus::Completed | RightsStatus::Rejected)
    }
}

impl fmt::Display for RightsStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A transition of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RightsEvent {
    Acknowledge,
    Extend,
    Complete,
    Reject,
}

impl fmt::Display for RightsEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RightsEvent::Acknowledge => "acknowledge",
            RightsEvent::Extend => "extend",
            RightsEvent::Complete => "complete",
            RightsEvent::Reject => "reject",
        })
    }
}

/// A deadline extension and its notice.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Extension {
    /// When the requester was told of the extension and its reason.
    pub notified_at: OffsetDateTime,
    pub reason: String,
    pub new_due: OffsetDateTime,
}

/// A request's deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Deadlines {
    /// CCPA only: confirm receipt by then.
    pub acknowledge_by: Option<OffsetDateTime>,
    /// Respond by then (the extended due date once extended).
    pub respond_by: OffsetDateTime,
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RightsError {
    #[error("rights request in state {from} cannot {event}")]
    IllegalTransition { from: RightsStatus, event: RightsEvent },
    #[error("rights request was already extended once")]
    AlreadyExtended,
    #[error("extension notice must be given by {deadline}")]
    ExtensionNoticeTooLate { deadline: OffsetDateTime },
    #[error("extended due date must be after {original} and no later than {max}")]
    ExtensionOutOfRange { original: OffsetDateTime, max: OffsetDateTime },
    #[error("a reason is required")]
    EmptyReason,
    #[error("reason contains a control character")]
    ReasonControlChar,
    #[error("event at {at} is earlier than the request's last event")]
    BeforeLastEvent { at: OffsetDateTime },
    #[error("stored rights request is inconsistent: {0}")]
    Inconsistent(&'static str),
}

/// A rights request with its statutory deadlines (RGT-2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RightsRequest {
    id: RightsRequestId,
    tenant: TenantId,
    kind: RightsKind,
    regime: Regime,
    received_at: OffsetDateTime,
    status: RightsStatus,
    acknowledged_at: Option<OffsetDateTime>,
    extension: Option<Extension>,
    completed_at: Option<OffsetDateTime>,
    rejection_reason: Option<String>,
}

fn check_reason(reason: &str) -> Result<String, RightsError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(RightsError::EmptyReason);
    }
    if reason.chars().any(char::is_control) {
        return Err(RightsError::ReasonControlChar);
    }
    Ok(reason.to_owned())
}

impl RightsRequest {
    /// A request received at `received_at`.
    pub fn new(
        id: RightsRequestId,
        tenant: TenantId,
        kind: RightsKind,
        regime: Regime,
        received_at: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            tenant,
            kind,
            regime,
            received_at,
            status: RightsStatus::Received,
            acknowledged_at: None,
            extension: None,
            completed_at: None,
            rejection_reason: None,
        }
    }

    /// Rebuilds a stored request, checking that its fields agree with its status.
    #[expect(clippy::too_many_arguments, reason = "a plain constructor of every stored field")]
    pub fn restore(
        id: RightsRequestId,
        tenant: TenantId,
        kind: RightsKind,
        regime: Regime,
        received_at: OffsetDateTime,
        status: RightsStatus,
        acknowledged_at: Option<OffsetDateTime>,
        extension: Option<Extension>,
        completed_at: Option<OffsetDateTime>,
        rejection_reason: Option<String>,
    ) -> Result<Self, RightsError> {
        let consistent = match status {
            RightsStatus::Received => {
                acknowledged_at.is_none() && extension.is_none() && completed_at.is_none()
            }
            RightsStatus::Acknowledged => {
                acknowledged_at.is_some() && extension.is_none() && completed_at.is_none()
            }
            RightsStatus::Extended => {
                acknowledged_at.is_some() && extension.is_some() && completed_at.is_none()
            }
            RightsStatus::Completed | RightsStatus::Rejected => completed_at.is_some(),
        };
        if !consistent {
            return Err(RightsError::Inconsistent("its dates do not match its status"));
        }
        if rejection_reason.is_some() != (status == RightsStatus::Rejected) {
            return Err(RightsError::Inconsistent("only a rejected request has a rejection reason"));
        }
        let mut events =
            [acknowledged_at, extension.as_ref().map(|e| e.notified_at), completed_at].into_iter().flatten();
        if events.any(|at| at < received_at) {
            return Err(RightsError::Inconsistent("an event precedes the receipt"));
        }
        Ok(Self {
            id,
            tenant,
            kind,
            regime,
            received_at,
            status,
            acknowledged_at,
            extension,
            completed_at,
            rejection_reason,
        })
    }

    /// The due instant before any extension.
    pub fn original_due(&self) -> OffsetDateTime {
        match self.regime {
            Regime::Gdpr => calendar::add_months(self.received_at, GDPR_RESPONSE_MONTHS),
            Regime::Ccpa => calendar::add_duration(self.received_at, Duration::days(CCPA_RESPONSE_DAYS)),
        }
    }

    /// The latest due instant an extension may set.
    pub fn max_extended_due(&self) -> OffsetDateTime {
        match self.regime {
            Regime::Gdpr => calendar::add_months(self.received_at, GDPR_EXTENDED_MONTHS),
            Regime::Ccpa => calendar::add_duration(
                self.received_at,
                Duration::days(CCPA_RESPONSE_DAYS + CCPA_EXTENSION_DAYS),
            ),
        }
    }

    /// The request's deadlines; `holidays` are the non-business days besides weekends (CCPA).
    pub fn deadlines(&self, holidays: &[Date]) -> Deadlines {
        let acknowledge_by = match self.regime {
            Regime::Gdpr => None,
            Regime::Ccpa => {
                Some(calendar::add_business_days(self.received_at, CCPA_ACKNOWLEDGE_BUSINESS_DAYS, holidays))
            }
        };
        let respond_by = self.extension.as_ref().map_or_else(|| self.original_due(), |e| e.new_due);
        Deadlines { acknowledge_by, respond_by }
    }

    /// Whether an open request has missed its acknowledgement or response deadline at `now`. Closed requests
    /// are never overdue.
    pub fn is_overdue(&self, now: OffsetDateTime, holidays: &[Date]) -> bool {
        if self.status.is_closed() {
            return false;
        }
        let deadlines = self.deadlines(holidays);
        let ack_late = self.acknowledged_at.is_none() && deadlines.acknowledge_by.is_some_and(|by| now > by);
        ack_late || now > deadlines.respond_by
    }

    fn last_event(&self) -> OffsetDateTime {
        [self.acknowledged_at, self.extension.as_ref().map(|e| e.notified_at), self.completed_at]
            .into_iter()
            .flatten()
            .fold(self.received_at, OffsetDateTime::max)
    }

    fn check_time(&self, now: OffsetDateTime) -> Result<(), RightsError> {
        if now < self.last_event() { Err(RightsError::BeforeLastEvent { at: now }) } else { Ok(()) }
    }

    /// Confirms receipt: `received` → `acknowledged`.
    pub fn acknowledge(&mut self, now: OffsetDateTime) -> Result<(), RightsError> {
        if self.status != RightsStatus::Received {
            return Err(RightsError::IllegalTransition {
                from: self.status,
                event: RightsEvent::Acknowledge,
            });
        }
        self.check_time(now)?;
        self.status = RightsStatus::Acknowledged;
        self.acknowledged_at = Some(now);
        Ok(())
    }

    /// Extends the deadline to `new_due` with a notice sent at `now`: once, inside the notice window, to a due
    /// date after the original one and no later than [`RightsRequest::max_extended_due`].
    pub fn extend(
        &mut self,
        reason: &str,
        new_due: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<(), RightsError> {
        match self.status {
            RightsStatus::Received | RightsStatus::Acknowledged => {}
            RightsStatus::Extended => return Err(RightsError::AlreadyExtended),
            from => return Err(RightsError::IllegalTransition { from, event: RightsEvent::Extend }),
        }
        self.check_time(now)?;
        let reason = check_reason(reason)?;
        let original = self.original_due();
        let in_window = match self.regime {
            Regime::Gdpr => now <= original,
            Regime::Ccpa => now < original,
        };
        if !in_window {
            return Err(RightsError::ExtensionNoticeTooLate { deadline: original });
        }
        let max = self.max_extended_due();
        if new_due <= original || new_due > max {
            return Err(RightsError::ExtensionOutOfRange { original, max });
        }
        self.status = RightsStatus::Extended;
        self.acknowledged_at.get_or_insert(now);
        self.extension = Some(Extension { notified_at: now, reason, new_due });
        Ok(())
    }

    /// Records the response: the request is done.
    pub fn complete(&mut self, now: OffsetDateTime) -> Result<(), RightsError> {
        if self.status.is_closed() {
            return Err(RightsError::IllegalTransition { from: self.status, event: RightsEvent::Complete });
        }
        self.check_time(now)?;
        self.status = RightsStatus::Completed;
        self.completed_at = Some(now);
        Ok(())
    }

    /// Refuses the request, telling the requester why (GDPR Art. 12(4)). `completed_at` records when.
    pub fn reject(&mut self, reason: &str, now: OffsetDateTime) -> Result<(), RightsError> {
        if self.status.is_closed() {
            return Err(RightsError::IllegalTransition { from: self.status, event: RightsEvent::Reject });
        }
        self.check_time(now)?;
        let reason = check_reason(reason)?;
        self.status = RightsStatus::Rejected;
        self.completed_at = Some(now);
        self.rejection_reason = Some(reason);
        Ok(())
    }

    pub fn id(&self) -> &RightsRequestId {
        &self.id
    }

    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    pub fn kind(&self) -> RightsKind {
        self.kind
    }

    pub fn regime(&self) -> Regime {
        self.regime
    }

    pub fn received_at(&self) -> OffsetDateTime {
        self.received_at
    }

    pub fn status(&self) -> RightsStatus {
        self.status
    }

    pub fn acknowledged_at(&self) -> Option<OffsetDateTime> {
        self.acknowledged_at
    }

    pub fn extension(&self) -> Option<&Extension> {
        self.extension.as_ref()
    }

    /// When the request was completed or rejected.
    pub fn completed_at(&self) -> Option<OffsetDateTime> {
        self.completed_at
    }

    pub fn rejection_reason(&self) -> Option<&str> {
        self.rejection_reason.as_deref()
    }
}

/// The restriction a request puts in force (RGT-1): restriction and objection requests, from receipt on
/// (processing stops while the request is handled), unless the request was rejected.
pub fn restriction_for(request: &RightsRequest) -> Option<ProcessingRestriction> {
    if request.status == RightsStatus::Rejected {
        return None;
    }
    let tenant = request.tenant.clone();
    match request.kind {
        RightsKind::Restriction => Some(ProcessingRestriction::Restricted { tenant }),
        RightsKind::Objection(purpose) => Some(ProcessingRestriction::Objection { tenant, purpose }),
        RightsKind::Access | RightsKind::Correction | RightsKind::Portability | RightsKind::Deletion => None,
    }
}

#[cfg(test)]
mod tests;
