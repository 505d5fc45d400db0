//! Incidents (INC-1): isolation scopes, scope assessment, notification deadlines, remediation and review.
//!
//! ```text
//! open ──contain──▶ contained ──resolve──▶ resolved ──close──▶ closed
//! ```
//! An incident isolates its scopes from the moment it is opened until it is closed: [`active_isolations`]
//! feeds [`crate::authz::decide`], which denies all processing there. Closing needs a post-incident review
//! and every planned notification sent. Remediation steps can be recorded until it is closed; scopes can be
//! widened while it is open or contained. Every other transition is an [`IncidentError`].

use std::collections::BTreeSet;
use std::fmt;

use time::{Duration, OffsetDateTime};

use crate::data::DataClass;
use crate::grant::GrantId;
use crate::id::string_id;
use crate::personnel::{ApiKeyId, PersonId};
use crate::platform::Platform;
use crate::retention::calendar;
use crate::tenant::TenantId;

string_id!(
    /// An incident.
    IncidentId,
    "incident id"
);

/// What an open incident isolates: all processing there is denied by [`crate::authz::decide`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IsolationScope {
    Tenant(TenantId),
    Grant { tenant: TenantId, grant: GrantId },
    Platform(Platform),
    Person(PersonId),
    ApiKey(ApiKeyId),
}

/// How bad an incident is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// Where an incident is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IncidentState {
    /// Opened; its scopes are isolated.
    Open,
    /// The threat is contained; scopes stay isolated.
    Contained,
    /// Remediated; awaiting review and notifications.
    Resolved,
    /// Reviewed and every notification sent. Terminal; isolation ends.
    Closed,
}

impl IncidentState {
    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentState::Open => "open",
            IncidentState::Contained => "contained",
            IncidentState::Resolved => "resolved",
            IncidentState::Closed => "closed",
        }
    }
}

impl fmt::Display for IncidentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who must be told.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Recipient {
    /// An affected client.
    Client(TenantId),
    /// An affected marketplace or ad platform partner.
    Platform(Platform),
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recipient::Client(t) => write!(f, "client {t}"),
            Recipient::Platform(p) => write!(f, "platform {p}"),
        }
    }
}

/// A notification owed to one recipient, with its deadline.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Notification {
    pub recipient: Recipient,
    pub due_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
}

/// How soon recipients must be told, counted from the incident's opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NotificationPolicy {
    pub client_deadline: Duration,
    pub platform_deadline: Duration,
}

impl Default for NotificationPolicy {
    /// Clients within 72 hours (GDPR Art. 33's window, which the client as controller needs from us), platform
    /// partners within 24 hours (marketplace developer agreements expect prompt notice).
    fn default() -> Self {
        Self { client_deadline: Duration::hours(72), platform_deadline: Duration::hours(24) }
    }
}

/// A remediation action taken.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RemediationStep {
    pub at: OffsetDateTime,
    pub by: PersonId,
    pub action: String,
}

/// The post-incident review.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PostIncidentReview {
    pub at: OffsetDateTime,
    pub by: PersonId,
    pub summary: String,
    pub follow_ups: Vec<String>,
}

/// A transition of an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncidentEvent {
    Contain,
    Resolve,
    Close,
    Isolate,
    Notify,
    Remediate,
    Review,
}

impl fmt::Display for IncidentEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IncidentEvent::Contain => "contain",
            IncidentEvent::Resolve => "resolve",
            IncidentEvent::Close => "close",
            IncidentEvent::Isolate => "isolate",
            IncidentEvent::Notify => "notify",
            IncidentEvent::Remediate => "record remediation",
            IncidentEvent::Review => "record a review",
        })
    }
}

/// Why an incident operation is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncidentError {
    #[error("incident in state {from} cannot {event}")]
    IllegalTransition { from: IncidentState, event: IncidentEvent },
    #[error("an incident must isolate at least one scope")]
    NoScope,
    #[error("{0} must not be empty or contain control characters")]
    BadText(&'static str),
    #[error("incident cannot be closed without a post-incident review")]
    ReviewMissing,
    #[error("incident cannot be closed before every notification is sent: {pending} pending")]
    NotificationsPending { pending: usize },
    #[error("no notification is planned for `{0}`")]
    UnknownRecipient(Recipient),
    #[error("notification to `{0}` is already planned")]
    DuplicateRecipient(Recipient),
    #[error("notification to `{0}` was already sent")]
    AlreadySent(Recipient),
    #[error("a post-incident review is already recorded")]
    AlreadyReviewed,
    #[error("event at {at} is earlier than the incident's opening")]
    BeforeOpening { at: OffsetDateTime },
}

fn check_text(what: &'static str, s: &str) -> Result<String, IncidentError> {
    let s = s.trim();
    if s.is_empty() || s.chars().any(char::is_control) {
        return Err(IncidentError::BadText(what));
    }
    Ok(s.to_owned())
}

/// A security incident (INC-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    id: IncidentId,
    opened_by: PersonId,
    opened_at: OffsetDateTime,
    severity: Severity,
    summary: String,
    scopes: Vec<IsolationScope>,
    state: IncidentState,
    notifications: Vec<Notification>,
    remediation: Vec<RemediationStep>,
    review: Option<PostIncidentReview>,
}

impl Incident {
    /// Opens an incident and isolates `scopes` at once (at least one; duplicates are dropped).
    pub fn open(
        id: IncidentId,
        opened_by: PersonId,
        severity: Severity,
        summary: &str,
        scopes: Vec<IsolationScope>,
        now: OffsetDateTime,
    ) -> Result<Self, IncidentError> {
        let summary = check_text("incident summary", summary)?;
        let scopes: Vec<IsolationScope> = scopes.into_iter().collect::<BTreeSet<_>>().into_iter().collect();
        if scopes.is_empty() {
            return Err(IncidentError::NoScope);
        }
        Ok(Self {
            id,
            opened_by,
            opened_at: now,
            severity,
            summary,
            scopes,
            state: IncidentState::Open,
            notifications: Vec::new(),
            remediation: Vec::new(),
            review: None,
        })
    }

    /// Rebuilds a stored incident. Only structural checks: a closed incident has its review and sent
    /// notifications, and there is at least one scope.
    #[expect(clippy::too_many_arguments, reason = "a plain constructor of every stored field")]
    pub fn restore(
        id: IncidentId,
        opened_by: PersonId,
        opened_at: OffsetDateTime,
        severity: Severity,
        summary: String,
        scopes: Vec<IsolationScope>,
        state: IncidentState,
        notifications: Vec<Notification>,
        remediation: Vec<RemediationStep>,
        review: Option<PostIncidentReview>,
    ) -> Result<Self, IncidentError> {
        if scopes.is_empty() {
            return Err(IncidentError::NoScope);
        }
        let incident = Self {
            id,
            opened_by,
            opened_at,
            severity,
            summary,
            scopes,
            state,
            notifications,
            remediation,
            review,
        };
        if state == IncidentState::Closed {
            incident.check_closable()?;
        }
        Ok(incident)
    }

    fn check_time(&self, now: OffsetDateTime) -> Result<(), IncidentError> {
        if now < self.opened_at { Err(IncidentError::BeforeOpening { at: now }) } else { Ok(()) }
    }

    fn require(&self, allowed: &[IncidentState], event: IncidentEvent) -> Result<(), IncidentError> {
        if allowed.contains(&self.state) {
            Ok(())
        } else {
            Err(IncidentError::IllegalTransition { from: self.state, event })
        }
    }

    fn check_closable(&self) -> Result<(), IncidentError> {
        if self.review.is_none() {
            return Err(IncidentError::ReviewMissing);
        }
        let pending = self.notifications.iter().filter(|n| n.sent_at.is_none()).count();
        if pending > 0 {
            return Err(IncidentError::NotificationsPending { pending });
        }
        Ok(())
    }

    /// Widens the isolation (after assessment found more), while open or contained.
    pub fn isolate(&mut self, scope: IsolationScope, now: OffsetDateTime) -> Result<(), IncidentError> {
        self.require(&[IncidentState::Open, IncidentState::Contained], IncidentEvent::Isolate)?;
        self.check_time(now)?;
        if !self.scopes.contains(&scope) {
            self.scopes.push(scope);
            self.scopes.sort();
        }
        Ok(())
    }

    /// `open` → `contained`.
    pub fn contain(&mut self, now: OffsetDateTime) -> Result<(), IncidentError> {
        self.require(&[IncidentState::Open], IncidentEvent::Contain)?;
        self.check_time(now)?;
        self.state = IncidentState::Contained;
        Ok(())
    }

    /// `contained` → `resolved`.
    pub fn resolve(&mut self, now: OffsetDateTime) -> Result<(), IncidentError> {
        self.require(&[IncidentState::Contained], IncidentEvent::Resolve)?;
        self.check_time(now)?;
        self.state = IncidentState::Resolved;
        Ok(())
    }

    /// `resolved` → `closed`, only with a review and every notification sent.
    pub fn close(&mut self, now: OffsetDateTime) -> Result<(), IncidentError> {
        self.require(&[IncidentState::Resolved], IncidentEvent::Close)?;
        self.check_time(now)?;
        self.check_closable()?;
        self.state = IncidentState::Closed;
        Ok(())
    }

    /// Adds planned notifications (see [`plan_notifications`]); a recipient is notified at most once.
    pub fn add_notifications(&mut self, notifications: Vec<Notification>) -> Result<(), IncidentError> {
        self.require(
            &[IncidentState::Open, IncidentState::Contained, IncidentState::Resolved],
            IncidentEvent::Notify,
        )?;
        let mut seen: BTreeSet<&Recipient> = self.notifications.iter().map(|n| &n.recipient).collect();
        for n in &notifications {
            if !seen.insert(&n.recipient) {
                return Err(IncidentError::DuplicateRecipient(n.recipient.clone()));
            }
        }
        self.notifications.extend(notifications);
        Ok(())
    }

    /// Records that `recipient` was notified at `now`.
    pub fn mark_sent(&mut self, recipient: &Recipient, now: OffsetDateTime) -> Result<(), IncidentError> {
        self.require(
            &[IncidentState::Open, IncidentState::Contained, IncidentState::Resolved],
            IncidentEvent::Notify,
        )?;
        self.check_time(now)?;
        let n = self
            .notifications
            .iter_mut()
            .find(|n| &n.recipient == recipient)
            .ok_or_else(|| IncidentError::UnknownRecipient(recipient.clone()))?;
        if n.sent_at.is_some() {
            return Err(IncidentError::AlreadySent(recipient.clone()));
        }
        n.sent_at = Some(now);
        Ok(())
    }

    /// Notifications not sent and past their deadline at `now`.
    pub fn overdue_notifications(&self, now: OffsetDateTime) -> Vec<&Notification> {
        self.notifications.iter().filter(|n| n.sent_at.is_none() && now > n.due_at).collect()
    }

    /// Records a remediation action, until the incident is closed.
    pub fn record_remediation(
        &mut self,
        by: PersonId,
        action: &str,
        now: OffsetDateTime,
    ) -> Result<(), IncidentError> {
        self.require(
            &[IncidentState::Open, IncidentState::Contained, IncidentState::Resolved],
            IncidentEvent::Remediate,
        )?;
        self.check_time(now)?;
        let action = check_text("remediation action", action)?;
        self.remediation.push(RemediationStep { at: now, by, action });
        Ok(())
    }

    /// Records the post-incident review, once, after the incident is resolved.
    pub fn record_review(
        &mut self,
        by: PersonId,
        summary: &str,
        follow_ups: &[&str],
        now: OffsetDateTime,
    ) -> Result<(), IncidentError> {
        self.require(&[IncidentState::Resolved], IncidentEvent::Review)?;
        self.check_time(now)?;
        if self.review.is_some() {
            return Err(IncidentError::AlreadyReviewed);
        }
        let summary = check_text("review summary", summary)?;
        let follow_ups = follow_ups.iter().map(|f| check_text("follow-up", f)).collect::<Result<_, _>>()?;
        self.review = Some(PostIncidentReview { at: now, by, summary, follow_ups });
        Ok(())
    }

    /// Whether its scopes are isolated (every state but closed).
    pub fn isolates(&self) -> bool {
        self.state != IncidentState::Closed
    }

    pub fn id(&self) -> &IncidentId {
        &self.id
    }

    pub fn opened_by(&self) -> &PersonId {
        &self.opened_by
    }

    pub fn opened_at(&self) -> OffsetDateTime {
        self.opened_at
    }

    pub fn severity(&self) -> Severity {
        self.severity
    }

    pub fn summary(&self) -> &str {
        &self.summary
    }

    pub fn scopes(&self) -> &[IsolationScope] {
        &self.scopes
    }

    pub fn state(&self) -> IncidentState {
        self.state
    }

    pub fn notifications(&self) -> &[Notification] {
        &self.notifications
    }

    pub fn remediation(&self) -> &[RemediationStep] {
        &self.remediation
    }

    pub fn review(&self) -> Option<&PostIncidentReview> {
        self.review.as_ref()
    }
}

/// The scopes isolated by every incident that is not closed, sorted and without duplicates.
pub fn active_isolations(incidents: &[Incident]) -> Vec<IsolationScope> {
    incidents
        .iter()
        .filter(|i| i.isolates())
        .flat_map(|i| i.scopes.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// One notification per affected client and platform not yet planned on `incident`, due the policy's
/// deadline after the incident was opened. Duplicates in the inputs collapse; the result is sorted.
pub fn plan_notifications(
    incident: &Incident,
    affected_tenants: impl IntoIterator<Item = TenantId>,
    affected_platforms: impl IntoIterator<Item = Platform>,
    policy: &NotificationPolicy,
) -> Vec<Notification> {
    let recipients: BTreeSet<Recipient> = affected_tenants
        .into_iter()
        .map(Recipient::Client)
        .chain(affected_platforms.into_iter().map(Recipient::Platform))
        .collect();
    recipients
        .into_iter()
        .filter(|r| !incident.notifications.iter().any(|n| &n.recipient == r))
        .map(|recipient| {
            let deadline = match recipient {
                Recipient::Client(_) => policy.client_deadline,
                Recipient::Platform(_) => policy.platform_deadline,
            };
            Notification {
                recipient,
                due_at: calendar::add_duration(incident.opened_at, deadline),
                sent_at: None,
            }
        })
        .collect()
}

/// One audited access, as scope assessment needs it (decoupled from the audit module's event types).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccessFact {
    pub tenant: TenantId,
    /// The data class touched, if the access was to data.
    pub class: Option<DataClass>,
    /// How many records were touched.
    pub records: u64,
    pub at: OffsetDateTime,
}

/// What was touched in an incident's window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeAssessment {
    pub tenants: BTreeSet<TenantId>,
    pub classes: BTreeSet<DataClass>,
    /// Records touched (saturating sum).
    pub records: u64,
}

/// Which tenants, classes and how many records the accesses in `[window_start, window_end]` touched. Both
/// bounds are inclusive: in doubt, an assessment includes rather than leaves out.
pub fn assess_scope(
    facts: impl IntoIterator<Item = AccessFact>,
    window_start: OffsetDateTime,
    window_end: OffsetDateTime,
) -> ScopeAssessment {
    let mut out = ScopeAssessment::default();
    for fact in facts.into_iter().filter(|f| window_start <= f.at && f.at <= window_end) {
        out.tenants.insert(fact.tenant);
        out.classes.extend(fact.class);
        out.records = out.records.saturating_add(fact.records);
    }
    out
}

#[cfg(test)]
mod tests;
