//! Use cases: connect, validate, sync, revoke and purge, retention, approved changes, rights, incidents.
//!
//! Every use case follows one shape: load the facts, ask [`crate::authz::decide`], append the decision to
//! the audit chain (AUTH-7; if that append fails the operation does not happen, AUD-2), act through ports,
//! and record what changed with audit events committed together with the change. Use cases take
//! `Arc<dyn Port>`s through [`Deps`], read time only from [`Clock`] and randomness only from [`Rng`].

mod changes;
mod export;
mod grants;
mod incidents;
mod retention;
mod rights;
mod sync;

use std::collections::BTreeMap;
use std::sync::Arc;

use time::{Date, Duration, OffsetDateTime};

use crate::audit::{AccessDecided, ActorRef, AuditEvent, NewAuditEvent, system_tenant};
use crate::authz::{Action, Actor, Context, Decision, Environment, Request, decide};
use crate::data::Purpose;
use crate::grant::{DEFAULT_FRESHNESS, Grant, GrantError};
use crate::incident::{IncidentError, NotificationPolicy, active_isolations};
use crate::platform::{AccountRef, Platform};
use crate::ports::{
    AuditLog, Authorizer, BoxError, CampaignControl, CaseStore, Clock, CommerceChannel, DatasetStore,
    GrantStore, KeyError, KeyManager, Notifier, PersonnelStore, PlatformError, ReportingSource, Rng,
    SecretStore, SecretStoreError, SignalError, SignalVerifier, StoreError, TenantStore,
};
use crate::retention::{HoldError, ReceiptError, RetentionPolicy};
use crate::rights::{RightsError, restriction_for};
use crate::tenant::TenantId;

pub use changes::ChangeExecution;
pub use export::ExportStream;
pub use grants::{ConnectStart, SignalOutcome, ValidationOutcome};
pub use incidents::IncidentAssessment;
pub use retention::RetentionReport;
pub use rights::{Offboarding, RightsChange};
pub use sync::{OrderView, SyncReport};

/// The adapters of one platform. Only the authorizer is required; the rest depend on what the platform
/// offers (ads: reporting and campaigns; commerce: orders and stock; both: signals).
#[derive(Clone)]
pub struct PlatformAdapters {
    pub authorizer: Arc<dyn Authorizer>,
    pub reporting: Option<Arc<dyn ReportingSource>>,
    pub campaigns: Option<Arc<dyn CampaignControl>>,
    pub commerce: Option<Arc<dyn CommerceChannel>>,
    pub signals: Option<Arc<dyn SignalVerifier>>,
}

impl std::fmt::Debug for PlatformAdapters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformAdapters")
            .field("platform", &self.authorizer.platform())
            .field("reporting", &self.reporting.is_some())
            .field("campaigns", &self.campaigns.is_some())
            .field("commerce", &self.commerce.is_some())
            .field("signals", &self.signals.is_some())
            .finish()
    }
}

/// Every port a use case may need.
#[derive(Clone)]
pub struct Deps {
    pub tenants: Arc<dyn TenantStore>,
    pub grants: Arc<dyn GrantStore>,
    pub datasets: Arc<dyn DatasetStore>,
    pub audit: Arc<dyn AuditLog>,
    pub personnel: Arc<dyn PersonnelStore>,
    pub cases: Arc<dyn CaseStore>,
    pub secrets: Arc<dyn SecretStore>,
    pub keys: Arc<dyn KeyManager>,
    pub notifier: Arc<dyn Notifier>,
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn Rng>,
    pub platforms: BTreeMap<Platform, PlatformAdapters>,
}

impl std::fmt::Debug for Deps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deps").field("platforms", &self.platforms).finish_non_exhaustive()
    }
}

/// Policy settings of a deployment.
#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: Environment,
    /// Unsafe configuration found at start-up (ENV-1); in production any entry denies everything.
    pub environment_violations: Vec<String>,
    pub mfa_required: bool,
    /// Validation freshness window (AUTH-2), default 24 h.
    pub freshness: Duration,
    pub session_mfa_max_age: Duration,
    pub step_up_max_age: Duration,
    pub retention: RetentionPolicy,
    pub notifications: NotificationPolicy,
    /// Rows per purge or retention batch (bounded deletes).
    pub delete_batch: u32,
    /// Records per page an export reads: a streamed export holds about one page in memory (RGT-1).
    pub export_page: u32,
    /// Safety bound on pages per sync run (a platform that never ends its cursor chain).
    pub max_pages: u32,
    /// Access tokens expiring within this margin are refreshed before use.
    pub refresh_margin: Duration,
    /// Public holidays for CCPA business-day deadlines.
    pub holidays: Vec<Date>,
}

impl Settings {
    /// Defaults for `environment`: MFA required, 24 h freshness, 12 h session MFA, 5 min step-up, the
    /// standard retention policy, 72 h / 24 h incident notification deadlines.
    pub fn new(environment: Environment) -> Self {
        Self {
            environment,
            environment_violations: Vec::new(),
            mfa_required: true,
            freshness: DEFAULT_FRESHNESS,
            session_mfa_max_age: Duration::hours(12),
            step_up_max_age: Duration::minutes(5),
            retention: RetentionPolicy::standard(),
            notifications: NotificationPolicy::default(),
            delete_batch: 5_000,
            export_page: 1_000,
            max_pages: 100_000,
            refresh_margin: Duration::minutes(5),
            holidays: Vec::new(),
        }
    }
}

/// Why a use case did not complete. Messages are safe to show: no secrets, no record contents.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("denied: {}", denial_text(.0))]
    Denied(Decision),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The audit trail could not record the operation, so it was not performed (AUD-2).
    #[error("audit trail unavailable: the operation was not performed")]
    AuditUnavailable,
    #[error("platform {0} is not configured for this operation")]
    PlatformNotConfigured(Platform),
    /// The platform reports the authorization gone; the grant was revoked and purged (AUTH-6, RET-3).
    #[error("authorization revoked by the platform: grant revoked and purged")]
    GrantRevoked,
    #[error("platform call failed")]
    Platform(#[source] PlatformError),
    #[error("platform signal rejected")]
    SignalRejected(#[source] SignalError),
    #[error("{0} unavailable")]
    Unavailable(&'static str, #[source] BoxError),
}

fn denial_text(d: &Decision) -> String {
    let reasons: Vec<String> = d.denials().map(ToString::to_string).collect();
    reasons.join("; ")
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::Conflict(m) => ServiceError::Conflict(m),
            StoreError::Invalid(m) => ServiceError::Invalid(m),
            StoreError::AuditFailed(_) => ServiceError::AuditUnavailable,
            StoreError::Unavailable(e) => ServiceError::Unavailable("store", e),
        }
    }
}

impl From<SecretStoreError> for ServiceError {
    fn from(e: SecretStoreError) -> Self {
        match e {
            SecretStoreError::NotFound => {
                ServiceError::Conflict("credentials for the grant are missing".into())
            }
            SecretStoreError::Conflict { .. } => {
                ServiceError::Conflict("credentials changed concurrently".into())
            }
            other => ServiceError::Unavailable("secret store", Box::new(other)),
        }
    }
}

impl From<KeyError> for ServiceError {
    fn from(e: KeyError) -> Self {
        ServiceError::Unavailable("key manager", Box::new(e))
    }
}

impl From<PlatformError> for ServiceError {
    fn from(e: PlatformError) -> Self {
        ServiceError::Platform(e)
    }
}

macro_rules! invalid_from {
    ($($t:ty),*) => {$(
        impl From<$t> for ServiceError {
            fn from(e: $t) -> Self {
                ServiceError::Invalid(e.to_string())
            }
        }
    )*};
}
invalid_from!(crate::IdError, HoldError, RightsError, IncidentError, ReceiptError);

impl From<GrantError> for ServiceError {
    fn from(e: GrantError) -> Self {
        ServiceError::Conflict(e.to_string())
    }
}

impl From<crate::approval::ApprovalError> for ServiceError {
    fn from(e: crate::approval::ApprovalError) -> Self {
        ServiceError::Conflict(e.to_string())
    }
}

/// The use cases over a set of ports.
#[derive(Debug, Clone)]
pub struct Services {
    deps: Deps,
    settings: Settings,
}

/// What an authorization is about, beyond actor and action.
#[derive(Debug, Clone, Copy, Default)]
pub struct Subject<'a> {
    pub tenant: Option<&'a TenantId>,
    pub target: Option<&'a AccountRef>,
    pub grant: Option<&'a Grant>,
    pub purpose: Option<Purpose>,
}

/// A decision made and not yet recorded ([`Services::decide_unrecorded`]): the `access_decided` event and
/// the chain it belongs on (the tenant's if it exists, else the system chain).
#[derive(Debug)]
pub(crate) struct PendingDecision {
    pub(crate) chain: TenantId,
    pub(crate) event: NewAuditEvent,
    pub(crate) decision: Decision,
}

impl Services {
    /// Wires the use cases.
    pub fn new(deps: Deps, settings: Settings) -> Self {
        Self { deps, settings }
    }

    /// The ports.
    pub fn deps(&self) -> &Deps {
        &self.deps
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.deps.clock.now()
    }

    /// A new random identifier: `prefix` + 26 base32 characters (128 bits).
    pub(crate) fn new_id(&self, prefix: &str) -> String {
        let mut bytes = [0u8; 16];
        self.deps.rng.fill(&mut bytes);
        let encoded = data_encoding::BASE32_NOPAD.encode(&bytes).to_ascii_lowercase();
        format!("{prefix}-{encoded}")
    }

    pub(crate) fn platform(&self, platform: Platform) -> Result<&PlatformAdapters, ServiceError> {
        self.deps.platforms.get(&platform).ok_or(ServiceError::PlatformNotConfigured(platform))
    }

    /// Decides, audits the decision (AUTH-7), and returns it if allowed. Fail closed: a store error while
    /// loading facts or appending the decision is an error, never an allow. Public so that wiring crates
    /// (the server's own use cases) authorize exactly as the core's use cases do.
    pub async fn authorize(
        &self,
        actor: &Actor,
        action: Action,
        subject: Subject<'_>,
    ) -> Result<Decision, ServiceError> {
        let pending = self.decide_unrecorded(actor, action, subject).await?;
        self.deps
            .audit
            .append(&pending.chain, vec![pending.event])
            .await
            .map_err(|_| ServiceError::AuditUnavailable)?;
        if pending.decision.is_allowed() {
            Ok(pending.decision)
        } else {
            Err(ServiceError::Denied(pending.decision))
        }
    }

    /// Loads the facts and decides, without recording the decision: the caller MUST append
    /// [`PendingDecision::event`] to [`PendingDecision::chain`] before acting on an allow or returning
    /// anything it read (AUTH-7, AUD-2); [`Services::authorize`] does both at once. Fail closed: a store
    /// error while loading facts is an error, never an allow.
    pub(crate) async fn decide_unrecorded(
        &self,
        actor: &Actor,
        action: Action,
        subject: Subject<'_>,
    ) -> Result<PendingDecision, ServiceError> {
        let now = self.now();
        let tenant_status = match subject.tenant {
            Some(t) => match self.deps.tenants.tenant(t).await {
                Ok(tenant) => Some(tenant.status),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let known_tenant = subject.tenant.filter(|_| tenant_status.is_some());
        let cases = self.deps.cases.decision_cases(known_tenant).await?;
        let isolations = active_isolations(&cases.isolating);
        let restrictions: Vec<_> = cases.restricting.iter().filter_map(restriction_for).collect();
        let ctx = Context {
            environment_violations: &self.settings.environment_violations,
            mfa_required: self.settings.mfa_required,
            grant: subject.grant,
            tenant_status,
            freshness: self.settings.freshness,
            session_mfa_max_age: self.settings.session_mfa_max_age,
            step_up_max_age: self.settings.step_up_max_age,
            isolations: &isolations,
            restrictions: &restrictions,
            ..Context::new(self.settings.environment)
        };
        let request = Request {
            actor: actor.clone(),
            action,
            tenant: subject.tenant.cloned(),
            target: subject.target.cloned(),
            purpose: subject.purpose.unwrap_or(Purpose::ServiceDelivery),
        };
        let decision = decide(&request, &ctx, now);
        // Decisions about a tenant that exists go to its chain; the rest to the system chain.
        let chain = match (subject.tenant, tenant_status) {
            (Some(t), Some(_)) => t.clone(),
            _ => system_tenant(),
        };
        let event =
            NewAuditEvent::new(now, ActorRef::from(actor), AccessDecided::from_decision(&request, &decision));
        Ok(PendingDecision { chain, event, decision })
    }

    /// An audit event stamped now, by `actor`.
    pub(crate) fn event(&self, actor: &Actor, event: impl Into<AuditEvent>) -> NewAuditEvent {
        NewAuditEvent::new(self.now(), ActorRef::from(actor), event)
    }

    /// Appends events to a chain on their own (for events not tied to a store write). Fail closed.
    pub(crate) async fn audit(
        &self,
        chain: &TenantId,
        events: Vec<NewAuditEvent>,
    ) -> Result<(), ServiceError> {
        self.deps.audit.append(chain, events).await.map(|_| ()).map_err(|_| ServiceError::AuditUnavailable)
    }
}

#[cfg(test)]
mod tests;
