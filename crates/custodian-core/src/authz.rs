//! `decide(&Request, &Context, now) -> Decision`: every authorization in Custodian (AUTH-1..5, ACC-1/2/4,
//! SEG-1, INC-1, RGT-1, ENV-1, MIN-2).
//!
//! Rules: default deny; any deny wins over any permit; a missing or contradictory fact is a deny; the
//! decision lists every rule that fired, with the requirement it enforces (AUTH-7). The function is pure and
//! total: it reads only its arguments, allocates only the decision, and cannot panic.

use std::fmt;

use time::{Duration, OffsetDateTime};

use crate::data::{DataClass, Purpose};
use crate::grant::{DEFAULT_FRESHNESS, Freshness, Grant, GrantState};
use crate::incident::IsolationScope;
use crate::personnel::{ApiKey, Permission, PersonSession, roles_allow};
use crate::platform::{AccountRef, Platform, Task, missing_scopes, required_scopes};
use crate::rights::ProcessingRestriction;
use crate::tenant::{TenantId, TenantStatus};

/// Deployment environment (ENV-1). Stamped into every audit record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Environment {
    Development,
    Staging,
    Production,
}

impl Environment {
    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Staging => "staging",
            Environment::Production => "production",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Environment {
    type Err = crate::id::IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "development" => Ok(Environment::Development),
            "staging" => Ok(Environment::Staging),
            "production" => Ok(Environment::Production),
            _ => Err(crate::id::IdError::Format {
                kind: "environment",
                value: crate::id::shorten(s),
                expected: "development, staging or production",
            }),
        }
    }
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A logged-in member of personnel.
    Person(PersonSession),
    /// An integrator's API key (ACC-4).
    ApiKey(ApiKey),
    /// A background job of Custodian itself (scheduled syncs, sweeps, purges).
    System,
    /// A verified platform signal (AUTH-6): may only revoke.
    PlatformSignal(Platform),
}

/// What is asked. Each action needs one [`Permission`]; some need a grant, a task and MFA step-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    ReadTenant,
    ManageTenant,
    ConnectGrant,
    ValidateGrant,
    ReviewGrant,
    RevokeGrant,
    /// Pull data from the platform for `Task` (sync).
    Sync(Task),
    /// Read stored data of a class.
    ReadData(DataClass),
    /// Push stock levels to the platform.
    UpdateStock,
    ProposeChange,
    ApproveChange,
    /// Apply an approved campaign change on the platform.
    ExecuteChange,
    ReadCredentialsMeta,
    ExportData,
    ManageRetention,
    PlaceHold,
    LiftHold,
    ReadAudit,
    VerifyAudit,
    ManageRights,
    ManageIncident,
    ManagePersonnel,
    ManageApiKeys,
}

impl Action {
    /// The permission the action needs.
    pub fn permission(self) -> Permission {
        use Permission as P;
        match self {
            Action::ReadTenant => P::TenantRead,
            Action::ManageTenant => P::TenantManage,
            Action::ConnectGrant => P::GrantConnect,
            Action::ValidateGrant => P::GrantValidate,
            Action::ReviewGrant => P::GrantReview,
            Action::RevokeGrant => P::GrantRevoke,
            Action::Sync(_) => P::SyncRun,
            Action::ReadData(DataClass::BuyerPii) => P::PiiRead,
            Action::ReadData(DataClass::AuditRecord) => P::AuditRead,
            Action::ReadData(DataClass::Credential) => P::CredentialsMetaRead,
            Action::ReadData(_) => P::DatasetRead,
            Action::UpdateStock => P::StockUpdate,
            Action::ProposeChange => P::ChangePropose,
            Action::ApproveChange => P::ChangeApprove,
            Action::ExecuteChange => P::ChangeExecute,
            Action::ReadCredentialsMeta => P::CredentialsMetaRead,
            Action::ExportData => P::DataExport,
            Action::ManageRetention => P::RetentionManage,
            Action::PlaceHold | Action::LiftHold => P::HoldManage,
            Action::ReadAudit => P::AuditRead,
            Action::VerifyAudit => P::AuditVerify,
            Action::ManageRights => P::RightsManage,
            Action::ManageIncident => P::IncidentManage,
            Action::ManagePersonnel => P::PersonnelManage,
            Action::ManageApiKeys => P::ApiKeyManage,
        }
    }

    /// Sensitive actions need a fresh MFA verification (step-up, ACC-2).
    pub fn needs_step_up(self) -> bool {
        matches!(
            self,
            Action::ApproveChange
                | Action::ReadCredentialsMeta
                | Action::ReadData(DataClass::Credential)
                | Action::ExportData
                | Action::LiftHold
        )
    }

    /// The platform task the action performs, if it calls the platform under a grant (AUTH-1..4).
    pub fn platform_task(self) -> Option<Task> {
        match self {
            Action::Sync(task) => Some(task),
            Action::UpdateStock => Some(Task::UpdateStock),
            Action::ExecuteChange => Some(Task::ChangeCampaign),
            _ => None,
        }
    }

    /// Whether the action processes client data and therefore stops under a restriction (RGT-1), an
    /// offboarding, or an isolation (INC-1). Reading the audit trail, exports for rights requests and
    /// revocation are not processing: they must stay possible.
    pub fn is_processing(self) -> bool {
        matches!(
            self,
            Action::Sync(_)
                | Action::UpdateStock
                | Action::ExecuteChange
                | Action::ConnectGrant
                | Action::ValidateGrant
                | Action::ReadData(_)
                | Action::ProposeChange
                | Action::ApproveChange
        )
    }

    /// Whether the action is about one tenant (and so needs `Request::tenant`).
    pub fn is_tenant_scoped(self) -> bool {
        !matches!(self, Action::ManagePersonnel | Action::ManageApiKeys | Action::ManageIncident)
    }

    /// Actions Custodian's own background jobs may take.
    fn allowed_for_system(self) -> bool {
        matches!(
            self,
            Action::Sync(_)
                | Action::ValidateGrant
                | Action::RevokeGrant
                | Action::ManageRetention
                | Action::UpdateStock
                | Action::ExecuteChange
                | Action::VerifyAudit
        )
    }
}

/// One authorization question (AUTH-7: the decision answers it with reasons).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub actor: Actor,
    pub action: Action,
    /// The tenant whose data is touched; `None` only for global actions.
    pub tenant: Option<TenantId>,
    /// The platform account the action targets, for platform calls (AUTH-3).
    pub target: Option<AccountRef>,
    /// The purpose of the processing (PUR-1; objections are per purpose).
    pub purpose: Purpose,
}

/// The facts the decision is made on. Every field the request needs must be present; absent means deny.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub environment: Environment,
    /// Configuration problems found at start-up (ENV-1). In production any of them denies everything.
    pub environment_violations: &'a [String],
    /// Whether MFA is enforced for personnel (ENV-1 refuses production without it).
    pub mfa_required: bool,
    /// The grant the action runs under, when it calls a platform.
    pub grant: Option<&'a Grant>,
    /// Status of the request's tenant.
    pub tenant_status: Option<TenantStatus>,
    /// Validation freshness window (AUTH-2).
    pub freshness: Duration,
    /// How long a login's MFA stays valid for ordinary actions.
    pub session_mfa_max_age: Duration,
    /// How recent an MFA verification must be for sensitive actions (step-up).
    pub step_up_max_age: Duration,
    /// Isolations of open incidents (INC-1).
    pub isolations: &'a [IsolationScope],
    /// Standing restrictions and objections (RGT-1).
    pub restrictions: &'a [ProcessingRestriction],
}

impl<'a> Context<'a> {
    /// A context with the defaults: MFA required, 24 h freshness, 12 h session MFA, 5 min step-up, and no
    /// grant, isolations or restrictions.
    pub fn new(environment: Environment) -> Self {
        Self {
            environment,
            environment_violations: &[],
            mfa_required: true,
            grant: None,
            tenant_status: None,
            freshness: DEFAULT_FRESHNESS,
            session_mfa_max_age: Duration::hours(12),
            step_up_max_age: Duration::minutes(5),
            isolations: &[],
            restrictions: &[],
        }
    }
}

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// Why a rule fired. Each names the requirement it enforces via [`Reason::policy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    // permits
    PermissionGranted(Permission),
    GrantCovers { task: Task },
    // denies
    UnsafeEnvironment,
    ActorInactive,
    PermissionMissing(Permission),
    TenantNotAssigned,
    MfaNotEnrolled,
    MfaMissing,
    MfaStale,
    StepUpRequired,
    ApiKeyUnusable,
    ApiKeyCannotStepUp,
    SystemActionNotAllowed,
    SignalMayOnlyRevoke,
    TenantMissing,
    GrantMissing,
    GrantOtherTenant,
    GrantOtherPlatform,
    GrantNotActive(GrantState),
    GrantInReview,
    ValidationNever,
    ValidationStale,
    AuthorizationLapsed,
    DataAccessExpired,
    TargetMissing,
    TargetNotAuthorized,
    TaskUnsupported(Task),
    TaskNotEnabled(Task),
    ScopeMissing { task: Task, scopes: Vec<String> },
    PiiNotEnabled,
    Isolated(IsolationScope),
    Restricted,
    Objection(Purpose),
    TenantOffboarding,
    TenantStatusUnknown,
}

impl Reason {
    /// The requirement id this rule enforces.
    pub fn policy(&self) -> &'static str {
        use Reason as R;
        match self {
            R::PermissionGranted(_) | R::ActorInactive | R::PermissionMissing(_) | R::TenantNotAssigned => {
                "ACC-1"
            }
            R::MfaNotEnrolled | R::MfaMissing | R::MfaStale | R::StepUpRequired => "ACC-2",
            R::ApiKeyUnusable | R::ApiKeyCannotStepUp => "ACC-4",
            R::UnsafeEnvironment => "ENV-1",
            R::TenantMissing | R::GrantOtherTenant => "SEG-1",
            R::SystemActionNotAllowed | R::SignalMayOnlyRevoke | R::GrantMissing | R::GrantNotActive(_) => {
                "AUTH-1"
            }
            R::GrantOtherPlatform | R::TenantStatusUnknown => "AUTH-1",
            R::ValidationNever | R::ValidationStale | R::AuthorizationLapsed | R::DataAccessExpired => {
                "AUTH-2"
            }
            R::TargetMissing | R::TargetNotAuthorized => "AUTH-3",
            R::GrantCovers { .. } | R::TaskUnsupported(_) | R::TaskNotEnabled(_) | R::ScopeMissing { .. } => {
                "AUTH-4"
            }
            R::GrantInReview => "AUTH-5",
            R::PiiNotEnabled => "MIN-2",
            R::Isolated(_) => "INC-1",
            R::Restricted | R::Objection(_) => "RGT-1",
            R::TenantOffboarding => "RGT-3",
        }
    }

    /// Whether the rule denies.
    pub fn is_deny(&self) -> bool {
        !matches!(self, Reason::PermissionGranted(_) | Reason::GrantCovers { .. })
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Reason as R;
        let p = self.policy();
        match self {
            R::PermissionGranted(perm) => write!(f, "{p}: permission `{perm}` held"),
            R::GrantCovers { task } => write!(f, "{p}: active validated grant covers task `{task}`"),
            R::UnsafeEnvironment => write!(f, "{p}: production refuses unsafe configuration"),
            R::ActorInactive => write!(f, "{p}: person is not active"),
            R::PermissionMissing(perm) => write!(f, "{p}: permission `{perm}` missing"),
            R::TenantNotAssigned => write!(f, "{p}: tenant not assigned to the actor"),
            R::MfaNotEnrolled => write!(f, "{p}: mfa not enrolled"),
            R::MfaMissing => write!(f, "{p}: session has no mfa verification"),
            R::MfaStale => write!(f, "{p}: session mfa verification expired"),
            R::StepUpRequired => write!(f, "{p}: action needs a fresh mfa verification"),
            R::ApiKeyUnusable => write!(f, "{p}: api key revoked or expired"),
            R::ApiKeyCannotStepUp => write!(f, "{p}: api keys cannot perform step-up actions"),
            R::SystemActionNotAllowed => write!(f, "{p}: background jobs may not take this action"),
            R::SignalMayOnlyRevoke => write!(f, "{p}: platform signals may only revoke"),
            R::TenantMissing => write!(f, "{p}: request names no tenant"),
            R::GrantMissing => write!(f, "{p}: no grant covers the request"),
            R::GrantOtherTenant => write!(f, "{p}: grant belongs to another tenant"),
            R::GrantOtherPlatform => write!(f, "{p}: grant is for another platform than the target"),
            R::GrantNotActive(s) => write!(f, "{p}: grant is {s}"),
            R::GrantInReview => write!(f, "{p}: grant needs review after an ownership or scope change"),
            R::ValidationNever => write!(f, "{p}: grant was never validated"),
            R::ValidationStale => write!(f, "{p}: grant validation is older than the freshness window"),
            R::AuthorizationLapsed => write!(f, "{p}: platform authorization expired"),
            R::DataAccessExpired => write!(f, "{p}: platform data access expired"),
            R::TargetMissing => write!(f, "{p}: request names no target account"),
            R::TargetNotAuthorized => write!(f, "{p}: target account is not among the grant's accounts"),
            R::TaskUnsupported(t) => write!(f, "{p}: task `{t}` is not available on the platform"),
            R::TaskNotEnabled(t) => write!(f, "{p}: task `{t}` is not enabled on the grant"),
            R::ScopeMissing { task, scopes } => {
                write!(f, "{p}: task `{task}` needs scopes the grant lacks: {}", scopes.join(", "))
            }
            R::PiiNotEnabled => write!(f, "{p}: buyer pii is not enabled on the grant"),
            R::Isolated(scope) => write!(f, "{p}: isolated by an open incident ({scope:?})"),
            R::Restricted => write!(f, "{p}: processing is restricted at the client's request"),
            R::Objection(purpose) => {
                write!(f, "{p}: client objected to processing for `{}`", purpose.as_str())
            }
            R::TenantOffboarding => write!(f, "{p}: tenant is offboarding"),
            R::TenantStatusUnknown => write!(f, "{p}: tenant status unknown"),
        }
    }
}

/// The answer: effect plus every rule that fired (AUTH-7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub effect: Effect,
    pub reasons: Vec<Reason>,
}

impl Decision {
    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        self.effect == Effect::Allow
    }

    /// The deny reasons only.
    pub fn denials(&self) -> impl Iterator<Item = &Reason> {
        self.reasons.iter().filter(|r| r.is_deny())
    }

    /// The requirement ids of the deny reasons, deduplicated, in order.
    pub fn denied_by(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for r in self.denials() {
            if !out.contains(&r.policy()) {
                out.push(r.policy());
            }
        }
        out
    }
}

/// Decides `request` in `ctx` at `now`. Default deny: allows only if the actor holds the action's permission
/// and no deny rule fires.
pub fn decide(request: &Request, ctx: &Context<'_>, now: OffsetDateTime) -> Decision {
    let mut reasons = Vec::new();
    let action = request.action;

    // ENV-1
    if ctx.environment == Environment::Production
        && (!ctx.environment_violations.is_empty() || !ctx.mfa_required)
    {
        reasons.push(Reason::UnsafeEnvironment);
    }

    // SEG-1: tenant-scoped actions must name their tenant.
    if action.is_tenant_scoped() && request.tenant.is_none() {
        reasons.push(Reason::TenantMissing);
    }

    check_actor(request, ctx, now, &mut reasons);
    check_tenant_state(request, ctx, &mut reasons);
    check_isolation(request, ctx, &mut reasons);
    if let Some(task) = action.platform_task() {
        check_grant(request, ctx, task, now, &mut reasons);
    }

    let effect = if reasons.iter().any(Reason::is_deny) {
        Effect::Deny
    } else if reasons.iter().any(|r| matches!(r, Reason::PermissionGranted(_))) {
        Effect::Allow
    } else {
        // Nothing permitted it (e.g. a signal actor asking to revoke holds no permission table): a signal's
        // revoke is permitted explicitly below; everything else stays denied.
        Effect::Deny
    };
    Decision { effect, reasons }
}

fn check_actor(request: &Request, ctx: &Context<'_>, now: OffsetDateTime, reasons: &mut Vec<Reason>) {
    let action = request.action;
    let permission = action.permission();
    match &request.actor {
        Actor::Person(session) => {
            let person = &session.person;
            if !person.active {
                reasons.push(Reason::ActorInactive);
            }
            if roles_allow(&person.roles, permission) {
                reasons.push(Reason::PermissionGranted(permission));
            } else {
                reasons.push(Reason::PermissionMissing(permission));
            }
            if let Some(t) = &request.tenant
                && !person.tenants.contains(t)
            {
                reasons.push(Reason::TenantNotAssigned);
            }
            check_mfa(session, action, ctx, now, reasons);
        }
        Actor::ApiKey(key) => {
            if !key.is_usable(now) {
                reasons.push(Reason::ApiKeyUnusable);
            }
            if key.permissions.contains(&permission) {
                reasons.push(Reason::PermissionGranted(permission));
            } else {
                reasons.push(Reason::PermissionMissing(permission));
            }
            if let Some(t) = &request.tenant
                && !key.tenants.contains(t)
            {
                reasons.push(Reason::TenantNotAssigned);
            }
            if action.needs_step_up() {
                reasons.push(Reason::ApiKeyCannotStepUp);
            }
        }
        Actor::System => {
            if action.allowed_for_system() {
                reasons.push(Reason::PermissionGranted(permission));
            } else {
                reasons.push(Reason::SystemActionNotAllowed);
            }
        }
        Actor::PlatformSignal(platform) => {
            let grant_platform_matches = ctx.grant.is_some_and(|g| g.platform == *platform);
            if action == Action::RevokeGrant && grant_platform_matches {
                reasons.push(Reason::PermissionGranted(permission));
            } else if action == Action::RevokeGrant {
                reasons.push(Reason::GrantOtherPlatform);
            } else {
                reasons.push(Reason::SignalMayOnlyRevoke);
            }
            if let (Some(g), Some(t)) = (ctx.grant, &request.tenant)
                && &g.tenant != t
            {
                reasons.push(Reason::GrantOtherTenant);
            }
        }
    }
}

fn check_mfa(
    session: &PersonSession,
    action: Action,
    ctx: &Context<'_>,
    now: OffsetDateTime,
    reasons: &mut Vec<Reason>,
) {
    // Outside production MFA may be switched off for local work; in production `mfa_required = false` is
    // itself a deny (ENV-1 above). Step-up is enforced whenever MFA is required.
    if !ctx.mfa_required {
        return;
    }
    if !session.person.mfa_enrolled {
        reasons.push(Reason::MfaNotEnrolled);
        return;
    }
    let Some(verified) = session.mfa_verified_at else {
        reasons.push(Reason::MfaMissing);
        return;
    };
    // A verification time in the future is not trusted (clock skew or forgery).
    let age = now - verified;
    if verified > now || age > ctx.session_mfa_max_age {
        reasons.push(Reason::MfaStale);
    } else if action.needs_step_up() && age > ctx.step_up_max_age {
        reasons.push(Reason::StepUpRequired);
    }
}

fn check_tenant_state(request: &Request, ctx: &Context<'_>, reasons: &mut Vec<Reason>) {
    let action = request.action;
    let Some(tenant) = &request.tenant else { return };
    if action.is_processing() {
        match ctx.tenant_status {
            Some(TenantStatus::Active) => {}
            Some(TenantStatus::Offboarding | TenantStatus::Offboarded) => {
                reasons.push(Reason::TenantOffboarding)
            }
            None => reasons.push(Reason::TenantStatusUnknown),
        }
    }
    if !action.is_processing() {
        return;
    }
    for r in ctx.restrictions.iter().filter(|r| r.tenant() == tenant) {
        match r {
            ProcessingRestriction::Restricted { .. } => reasons.push(Reason::Restricted),
            ProcessingRestriction::Objection { purpose, .. } if *purpose == request.purpose => {
                reasons.push(Reason::Objection(*purpose));
            }
            ProcessingRestriction::Objection { .. } => {}
        }
    }
}

fn check_isolation(request: &Request, ctx: &Context<'_>, reasons: &mut Vec<Reason>) {
    // Revocation, incident handling and audit stay possible inside an isolated scope.
    if matches!(
        request.action,
        Action::RevokeGrant
            | Action::ManageIncident
            | Action::ReadAudit
            | Action::VerifyAudit
            | Action::PlaceHold
    ) {
        return;
    }
    for scope in ctx.isolations {
        let hit = match scope {
            IsolationScope::Tenant(t) => request.tenant.as_ref() == Some(t),
            IsolationScope::Grant { tenant, grant } => {
                ctx.grant.is_some_and(|g| &g.id == grant && &g.tenant == tenant)
            }
            IsolationScope::Platform(p) => {
                ctx.grant.is_some_and(|g| g.platform == *p)
                    || request.target.as_ref().is_some_and(|t| t.platform() == *p)
            }
            IsolationScope::Person(id) => matches!(&request.actor, Actor::Person(s) if &s.person.id == id),
            IsolationScope::ApiKey(id) => matches!(&request.actor, Actor::ApiKey(k) if &k.id == id),
        };
        if hit {
            reasons.push(Reason::Isolated(scope.clone()));
        }
    }
}

fn check_grant(
    request: &Request,
    ctx: &Context<'_>,
    task: Task,
    now: OffsetDateTime,
    reasons: &mut Vec<Reason>,
) {
    let Some(grant) = ctx.grant else {
        reasons.push(Reason::GrantMissing);
        return;
    };
    let before = reasons.len();
    if request.tenant.as_ref() != Some(&grant.tenant) {
        reasons.push(Reason::GrantOtherTenant);
    }
    match grant.state() {
        GrantState::Active => {}
        GrantState::NeedsReview => reasons.push(Reason::GrantInReview),
        s => reasons.push(Reason::GrantNotActive(s)),
    }
    match grant.freshness(now, ctx.freshness) {
        Freshness::Fresh => {}
        Freshness::Stale => reasons.push(Reason::ValidationStale),
        Freshness::Never => reasons.push(Reason::ValidationNever),
    }
    let evidence = grant.evidence();
    if let Some(e) = evidence {
        if e.expires_at.is_some_and(|t| t <= now) {
            reasons.push(Reason::AuthorizationLapsed);
        }
        if e.data_access_expires_at.is_some_and(|t| t <= now) {
            reasons.push(Reason::DataAccessExpired);
        }
    }
    // Without evidence no account is authorized and no scope is granted.
    match &request.target {
        None => reasons.push(Reason::TargetMissing),
        Some(t) if t.platform() != grant.platform => reasons.push(Reason::GrantOtherPlatform),
        Some(t) if !evidence.is_some_and(|e| e.accounts.contains(t)) => {
            reasons.push(Reason::TargetNotAuthorized)
        }
        Some(_) => {}
    }
    match required_scopes(grant.platform, task) {
        Err(_) => reasons.push(Reason::TaskUnsupported(task)),
        Ok(required) => {
            let missing = match evidence {
                Some(e) => missing_scopes(&e.scopes, required),
                None => required.to_vec(),
            };
            if !missing.is_empty() {
                reasons.push(Reason::ScopeMissing {
                    task,
                    scopes: missing.into_iter().map(str::to_owned).collect(),
                });
            }
        }
    }
    if !grant.tasks.contains(&task) {
        reasons.push(Reason::TaskNotEnabled(task));
    }
    if task == Task::ReadBuyerPii && !grant.pii_enabled {
        reasons.push(Reason::PiiNotEnabled);
    }
    if reasons.len() == before {
        reasons.push(Reason::GrantCovers { task });
    }
}

#[cfg(test)]
mod tests;
