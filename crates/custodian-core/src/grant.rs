//! A client's authorization for one platform: the state machine, validation evidence, freshness and
//! change detection (AUTH-1, AUTH-2, AUTH-3, AUTH-5).
//!
//! ```text
//! pending ──activate──▶ active ◀──approve_review── needs_review
//!                         │  └──revalidate (owner changed, accounts removed, scopes shrunk)──▶ needs_review
//!                         ├──revoke──▶ revoked      (also from pending and needs_review)
//!                         └──expire──▶ expired      (also from needs_review)
//! ```
//! `revoked` and `expired` are terminal. Every other transition is an [`GrantError::IllegalTransition`].

use std::collections::BTreeSet;
use std::fmt;

use time::{Duration, OffsetDateTime};

use crate::id::string_id;
use crate::personnel::PersonId;
use crate::platform::{AccountRef, Platform, Scope, Task};
use crate::tenant::TenantId;

string_id!(
    /// A grant's id, unique within its tenant.
    GrantId,
    "grant id"
);
string_id!(
    /// The owner the platform reports for a grant: Meta user or business id, TikTok Shop `open_id`,
    /// Amazon selling partner id, eBay user id. A change is an AUTH-5 review trigger.
    OwnerId,
    "owner id"
);

/// The default freshness window for validation (AUTH-2): 24 hours.
pub const DEFAULT_FRESHNESS: Duration = Duration::hours(24);

/// Where a grant is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantState {
    /// Consent started, not yet validated. No processing.
    Pending,
    /// Validated; processing allowed within its evidence.
    Active,
    /// Validation showed a change (AUTH-5); all processing stops until a person re-approves.
    NeedsReview,
    /// The client or platform revoked it (AUTH-6). Terminal; commerce data is purged (RET-3).
    Revoked,
    /// The platform authorization lapsed. Terminal.
    Expired,
}

impl GrantState {
    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantState::Pending => "pending",
            GrantState::Active => "active",
            GrantState::NeedsReview => "needs_review",
            GrantState::Revoked => "revoked",
            GrantState::Expired => "expired",
        }
    }

    /// Whether no further transition is possible.
    pub fn is_terminal(self) -> bool {
        matches!(self, GrantState::Revoked | GrantState::Expired)
    }
}

impl fmt::Display for GrantState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a live validation against the platform showed (AUTH-2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantEvidence {
    /// The owner identity the platform reported.
    pub owner: OwnerId,
    /// Accounts the platform reported as reachable under this grant (AUTH-3).
    pub accounts: BTreeSet<AccountRef>,
    /// Scopes the platform reported as granted (AUTH-4).
    pub scopes: BTreeSet<Scope>,
    /// When the access (or refresh) authorization ends, if the platform says.
    pub expires_at: Option<OffsetDateTime>,
    /// Meta's `data_access_expires_at`: after it, no data may be read even with a valid token.
    pub data_access_expires_at: Option<OffsetDateTime>,
    /// When this validation ran.
    pub validated_at: OffsetDateTime,
}

/// A difference between two validations that requires a person's review (AUTH-5).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum EvidenceChange {
    OwnerChanged { from: OwnerId, to: OwnerId },
    AccountsRemoved(BTreeSet<AccountRef>),
    ScopesShrunk(BTreeSet<Scope>),
}

impl fmt::Display for EvidenceChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvidenceChange::OwnerChanged { from, to } => write!(f, "owner changed from `{from}` to `{to}`"),
            EvidenceChange::AccountsRemoved(a) => {
                write!(f, "accounts removed: {}", crate::id::join(a.iter(), ", "))
            }
            EvidenceChange::ScopesShrunk(s) => {
                write!(f, "scopes removed: {}", crate::id::join(s.iter(), ", "))
            }
        }
    }
}

/// Compares a new validation with the previous one. Additions are not review triggers; an owner change, a
/// removed account or a removed scope is (AUTH-5).
pub fn detect_changes(previous: &GrantEvidence, current: &GrantEvidence) -> Vec<EvidenceChange> {
    let mut changes = Vec::new();
    if previous.owner != current.owner {
        changes
            .push(EvidenceChange::OwnerChanged { from: previous.owner.clone(), to: current.owner.clone() });
    }
    let removed: BTreeSet<AccountRef> = previous.accounts.difference(&current.accounts).cloned().collect();
    if !removed.is_empty() {
        changes.push(EvidenceChange::AccountsRemoved(removed));
    }
    let shrunk: BTreeSet<Scope> =
        previous.scopes.iter().filter(|s| !current.scopes.iter().any(|c| c.satisfies(s))).cloned().collect();
    if !shrunk.is_empty() {
        changes.push(EvidenceChange::ScopesShrunk(shrunk));
    }
    changes
}

/// Why a grant was revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationCause {
    /// A verified platform signal (AUTH-6): deauthorize callback, webhook, notification.
    PlatformSignal { platform: Platform, signal: String },
    /// The platform refused the credentials (`invalid_grant`, 403 revoked, Meta 190, TikTok 40105 …).
    CredentialsRejected { detail: String },
    /// A person revoked it on the client's request.
    Requested { by: PersonId },
    /// The client was offboarded (RGT-3) or asked for deletion (RGT-1).
    Offboarding,
}

/// How fresh the last validation is (AUTH-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Validated within the window.
    Fresh,
    /// Validated, but longer ago than the window: re-validate before work starts.
    Stale,
    /// Never validated.
    Never,
}

/// One platform authorization of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: GrantId,
    pub tenant: TenantId,
    pub platform: Platform,
    state: GrantState,
    /// Tasks the client enabled; consent asked for exactly their scopes (AUTH-4).
    pub tasks: BTreeSet<Task>,
    /// The per-grant buyer PII switch (MIN-2), off by default.
    pub pii_enabled: bool,
    evidence: Option<GrantEvidence>,
    review: Vec<EvidenceChange>,
    revocation: Option<RevocationCause>,
    pub created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

/// An event applied to a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantEvent {
    Activate,
    Revalidate,
    ApproveReview,
    Revoke,
    Expire,
    SetPii,
}

/// A transition the state machine does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("grant in state {from} cannot {event:?}")]
    IllegalTransition { from: GrantState, event: GrantEvent },
    #[error("evidence belongs to {found} but the grant is for {expected}")]
    WrongPlatform { expected: Platform, found: Platform },
    #[error("evidence validated at {validated_at} is older than the grant's last update")]
    OutdatedEvidence { validated_at: OffsetDateTime },
}

/// What a re-validation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevalidateOutcome {
    /// Nothing that needs review changed; the evidence was refreshed.
    Refreshed,
    /// The grant moved to `needs_review` for these changes (AUTH-5).
    NeedsReview(Vec<EvidenceChange>),
}

impl Grant {
    /// A new grant in `pending`, with the tasks the client enabled and the PII switch off.
    pub fn new(
        id: GrantId,
        tenant: TenantId,
        platform: Platform,
        tasks: BTreeSet<Task>,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            tenant,
            platform,
            state: GrantState::Pending,
            tasks,
            pii_enabled: false,
            evidence: None,
            review: Vec::new(),
            revocation: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Rebuilds a grant from storage. Stores call this; it does not check transitions.
    #[allow(clippy::too_many_arguments, reason = "a plain constructor of every stored field")]
    pub fn restore(
        id: GrantId,
        tenant: TenantId,
        platform: Platform,
        state: GrantState,
        tasks: BTreeSet<Task>,
        pii_enabled: bool,
        evidence: Option<GrantEvidence>,
        review: Vec<EvidenceChange>,
        revocation: Option<RevocationCause>,
        created_at: OffsetDateTime,
        updated_at: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            tenant,
            platform,
            state,
            tasks,
            pii_enabled,
            evidence,
            review,
            revocation,
            created_at,
            updated_at,
        }
    }

    /// The current state.
    pub fn state(&self) -> GrantState {
        self.state
    }

    /// The last validation's evidence, if any.
    pub fn evidence(&self) -> Option<&GrantEvidence> {
        self.evidence.as_ref()
    }

    /// The changes that put the grant in review.
    pub fn review_reasons(&self) -> &[EvidenceChange] {
        &self.review
    }

    /// Why it was revoked.
    pub fn revocation(&self) -> Option<&RevocationCause> {
        self.revocation.as_ref()
    }

    /// When the grant last changed.
    pub fn updated_at(&self) -> OffsetDateTime {
        self.updated_at
    }

    /// Freshness of the last validation against `window` (AUTH-2). A validation in the future (clock skew)
    /// counts as stale: unclear means no.
    pub fn freshness(&self, now: OffsetDateTime, window: Duration) -> Freshness {
        match &self.evidence {
            None => Freshness::Never,
            Some(e) if e.validated_at <= now && now - e.validated_at <= window => Freshness::Fresh,
            Some(_) => Freshness::Stale,
        }
    }

    fn illegal(&self, event: GrantEvent) -> GrantError {
        GrantError::IllegalTransition { from: self.state, event }
    }

    fn check_evidence(&self, evidence: &GrantEvidence) -> Result<(), GrantError> {
        if let Some(found) = evidence.accounts.iter().map(AccountRef::platform).find(|p| *p != self.platform)
        {
            return Err(GrantError::WrongPlatform { expected: self.platform, found });
        }
        if let Some(prev) = &self.evidence
            && evidence.validated_at < prev.validated_at
        {
            return Err(GrantError::OutdatedEvidence { validated_at: evidence.validated_at });
        }
        Ok(())
    }

    /// `pending → active` with the first validation's evidence.
    pub fn activate(&mut self, evidence: GrantEvidence, now: OffsetDateTime) -> Result<(), GrantError> {
        if self.state != GrantState::Pending {
            return Err(self.illegal(GrantEvent::Activate));
        }
        self.check_evidence(&evidence)?;
        self.evidence = Some(evidence);
        self.state = GrantState::Active;
        self.updated_at = now;
        Ok(())
    }

    /// Applies a new validation to an active grant: refreshes the evidence, or moves to `needs_review` when
    /// the owner changed, an account disappeared or a scope was removed (AUTH-5). In `needs_review` the new
    /// evidence is recorded and further changes are added to the review reasons.
    pub fn revalidate(
        &mut self,
        evidence: GrantEvidence,
        now: OffsetDateTime,
    ) -> Result<RevalidateOutcome, GrantError> {
        if !matches!(self.state, GrantState::Active | GrantState::NeedsReview) {
            return Err(self.illegal(GrantEvent::Revalidate));
        }
        self.check_evidence(&evidence)?;
        let changes = match &self.evidence {
            Some(prev) => detect_changes(prev, &evidence),
            None => Vec::new(),
        };
        self.evidence = Some(evidence);
        self.updated_at = now;
        if changes.is_empty() && self.state == GrantState::Active {
            return Ok(RevalidateOutcome::Refreshed);
        }
        for c in &changes {
            if !self.review.contains(c) {
                self.review.push(c.clone());
            }
        }
        self.state = GrantState::NeedsReview;
        Ok(RevalidateOutcome::NeedsReview(self.review.clone()))
    }

    /// `needs_review → active` after a person re-approved the grant as it now is. The current evidence
    /// becomes the new baseline.
    pub fn approve_review(&mut self, now: OffsetDateTime) -> Result<(), GrantError> {
        if self.state != GrantState::NeedsReview {
            return Err(self.illegal(GrantEvent::ApproveReview));
        }
        self.review.clear();
        self.state = GrantState::Active;
        self.updated_at = now;
        Ok(())
    }

    /// Moves any non-terminal grant to `revoked` (AUTH-6).
    pub fn revoke(&mut self, cause: RevocationCause, now: OffsetDateTime) -> Result<(), GrantError> {
        if self.state.is_terminal() {
            return Err(self.illegal(GrantEvent::Revoke));
        }
        self.state = GrantState::Revoked;
        self.revocation = Some(cause);
        self.updated_at = now;
        Ok(())
    }

    /// `active | needs_review → expired` when the platform authorization lapsed.
    pub fn expire(&mut self, now: OffsetDateTime) -> Result<(), GrantError> {
        if !matches!(self.state, GrantState::Active | GrantState::NeedsReview) {
            return Err(self.illegal(GrantEvent::Expire));
        }
        self.state = GrantState::Expired;
        self.updated_at = now;
        Ok(())
    }

    /// Switches buyer PII on or off (MIN-2). Refused on a terminal grant.
    pub fn set_pii_enabled(&mut self, enabled: bool, now: OffsetDateTime) -> Result<(), GrantError> {
        if self.state.is_terminal() {
            return Err(GrantError::IllegalTransition { from: self.state, event: GrantEvent::SetPii });
        }
        self.pii_enabled = enabled;
        self.updated_at = now;
        Ok(())
    }

    /// Whether the evidence says the authorization itself has lapsed at `now`.
    pub fn is_lapsed(&self, now: OffsetDateTime) -> bool {
        self.evidence.as_ref().and_then(|e| e.expires_at).is_some_and(|t| t <= now)
    }
}

#[cfg(test)]
mod tests;
