//! Connect, validate, review and revoke grants; purge on revocation with a receipt; platform signals
//! (AUTH-1..7, SEC-1, RET-3, RET-6).

use std::collections::BTreeSet;

use secrecy::SecretString;

use super::{ServiceError, Services, Subject};
use crate::audit::{
    GrantChanged, KeyChanged, KeyOperation, RecordsPurged, SecretAccessed, SecretOperation, SignalReceived,
    SignalRejected, system_tenant,
};
use crate::authz::{Action, Actor};
use crate::grant::{Freshness, Grant, GrantId, GrantState, RevalidateOutcome, RevocationCause};
use crate::monitor::{Alert, AlertKind, Severity};
use crate::platform::{Platform, Task, consent_scopes};
use crate::ports::{
    ConsentRequest, Credentials, KeyScope, Notification, PlatformError, RawSignal, SignalKind, SignalSubject,
    StoreError,
};
use crate::retention::{DeletionCause, DeletionReceipt, ReceiptId, StoreKind, purge_plan};
use crate::tenant::TenantId;

/// The first step of connecting a grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectStart {
    /// The new grant, `pending`.
    pub grant: Grant,
    /// Where to send the client: asks only for the enabled tasks' scopes (AUTH-4).
    pub consent_url: String,
    /// The anti-forgery state in the URL. The caller keeps it and checks it on the callback.
    pub state: String,
}

/// What a validation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidationOutcome {
    /// Validated; nothing that needs review changed.
    Active(Grant),
    /// Validated, but the owner, accounts or scopes changed: processing stops until a review (AUTH-5).
    NeedsReview(Grant),
    /// The platform authorization lapsed.
    Expired(Grant),
}

/// What handling a platform signal did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignalOutcome {
    /// An endpoint challenge: answer with this.
    Challenge(String),
    /// Grants revoked and purged, with their receipts.
    Revoked(Vec<DeletionReceipt>),
    /// An expiry warning raised as an alert.
    Alerted,
    /// Verified, but no grant matches (already revoked, or unknown).
    NoMatchingGrant,
}

impl Services {
    /// Starts connecting `platform` for `tenant` with the tasks the client enabled (AUTH-4).
    pub async fn start_connect(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        platform: Platform,
        tasks: BTreeSet<Task>,
        redirect_uri: &str,
    ) -> Result<ConnectStart, ServiceError> {
        self.authorize(actor, Action::ConnectGrant, Subject { tenant: Some(tenant), ..Subject::default() })
            .await?;
        if tasks.is_empty() {
            return Err(ServiceError::Invalid("no task enabled".into()));
        }
        consent_scopes(platform, &tasks).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let adapters = self.platform(platform)?;
        let grant =
            Grant::new(GrantId::new(self.new_id("grant"))?, tenant.clone(), platform, tasks, self.now());
        let state = self.new_id("state");
        let consent_url = adapters.authorizer.consent_url(&ConsentRequest {
            tenant: tenant.clone(),
            grant: grant.id.clone(),
            tasks: grant.tasks.clone(),
            redirect_uri: redirect_uri.to_owned(),
            state: state.clone(),
        })?;
        let event =
            GrantChanged::new(grant.id.clone(), platform, None, GrantState::Pending, "consent started");
        self.deps.grants.insert_grant(&grant, vec![self.event(actor, event)]).await?;
        Ok(ConnectStart { grant, consent_url, state })
    }

    /// Completes the OAuth callback: exchange the code, store the tokens in the secret store only (SEC-1),
    /// validate live (AUTH-2) and activate. On any failure the grant stays `pending` and no token is kept.
    pub async fn complete_connect(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        grant_id: &GrantId,
        code: &SecretString,
        redirect_uri: &str,
    ) -> Result<Grant, ServiceError> {
        let mut grant = self.deps.grants.grant(tenant, grant_id).await?;
        self.authorize(
            actor,
            Action::ConnectGrant,
            Subject { tenant: Some(tenant), grant: Some(&grant), ..Subject::default() },
        )
        .await?;
        if grant.state() != GrantState::Pending {
            return Err(ServiceError::Conflict(format!("grant is {}, not pending", grant.state())));
        }
        let authorizer = &self.platform(grant.platform)?.authorizer;
        let credentials = authorizer.exchange(code, redirect_uri).await?;
        let evidence = authorizer.validate(&credentials, self.now()).await?;
        if evidence.accounts.is_empty() {
            return Err(ServiceError::Invalid("the platform reported no authorized account".into()));
        }
        let expected = grant.updated_at();
        grant.activate(evidence, self.now())?;
        self.deps.secrets.put(tenant, grant_id, &credentials, None).await?;
        let audit = vec![
            self.event(actor, SecretAccessed::new(grant_id.clone(), SecretOperation::Put)),
            self.event(
                actor,
                GrantChanged::new(
                    grant_id.clone(),
                    grant.platform,
                    Some(GrantState::Pending),
                    GrantState::Active,
                    "validated",
                ),
            ),
        ];
        if let Err(e) = self.deps.grants.save_grant(&grant, expected, audit).await {
            // Compensate: tokens of a grant that did not activate are not kept.
            let _ = self.deps.secrets.delete(tenant, grant_id).await;
            return Err(e.into());
        }
        Ok(grant)
    }

    /// Validates a grant live (AUTH-2): refreshes tokens if needed, compares with the last evidence and
    /// moves the grant to `needs_review` on an owner, account or scope change (AUTH-5). A platform that says
    /// the authorization is gone revokes and purges the grant (AUTH-6, RET-3).
    pub async fn validate(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        grant_id: &GrantId,
    ) -> Result<ValidationOutcome, ServiceError> {
        let grant = self.deps.grants.grant(tenant, grant_id).await?;
        self.authorize(
            actor,
            Action::ValidateGrant,
            Subject { tenant: Some(tenant), grant: Some(&grant), ..Subject::default() },
        )
        .await?;
        self.revalidate(actor, grant).await
    }

    pub(super) async fn revalidate(
        &self,
        actor: &Actor,
        mut grant: Grant,
    ) -> Result<ValidationOutcome, ServiceError> {
        if !matches!(grant.state(), GrantState::Active | GrantState::NeedsReview) {
            return Err(ServiceError::Conflict(format!("grant is {}", grant.state())));
        }
        let credentials = self.credentials(actor, &grant).await?;
        let authorizer = &self.platform(grant.platform)?.authorizer;
        let evidence = match authorizer.validate(&credentials, self.now()).await {
            Ok(e) => e,
            Err(PlatformError::Revoked { detail }) => {
                self.revoke_on_platform_rejection(&grant, detail).await?;
                return Err(ServiceError::GrantRevoked);
            }
            Err(e) => return Err(e.into()),
        };
        let expected = grant.updated_at();
        let from = grant.state();
        let now = self.now();
        let outcome = grant.revalidate(evidence, now)?;
        if grant.is_lapsed(now) {
            grant.expire(now)?;
        }
        let detail = match &outcome {
            RevalidateOutcome::Refreshed => "validated".to_owned(),
            RevalidateOutcome::NeedsReview(changes) => {
                let changes: Vec<String> = changes.iter().map(ToString::to_string).collect();
                format!("needs review: {}", changes.join("; "))
            }
        };
        let event = GrantChanged::new(grant.id.clone(), grant.platform, Some(from), grant.state(), detail);
        self.deps.grants.save_grant(&grant, expected, vec![self.event(actor, event)]).await?;
        Ok(match grant.state() {
            GrantState::NeedsReview => ValidationOutcome::NeedsReview(grant),
            GrantState::Expired => ValidationOutcome::Expired(grant),
            _ => ValidationOutcome::Active(grant),
        })
    }

    /// The grant, re-validated first if its validation is not fresh (AUTH-2: before work starts). Runs the
    /// validation as the system.
    pub(super) async fn fresh_grant(
        &self,
        tenant: &TenantId,
        grant_id: &GrantId,
    ) -> Result<Grant, ServiceError> {
        let grant = self.deps.grants.grant(tenant, grant_id).await?;
        if grant.state() != GrantState::Active
            || grant.freshness(self.now(), self.settings.freshness) == Freshness::Fresh
        {
            return Ok(grant);
        }
        match self.validate(&Actor::System, tenant, grant_id).await? {
            ValidationOutcome::Active(g)
            | ValidationOutcome::NeedsReview(g)
            | ValidationOutcome::Expired(g) => Ok(g),
        }
    }

    /// The grant's credentials, refreshed (and stored back with check-and-set) if about to expire.
    pub(super) async fn credentials(
        &self,
        actor: &Actor,
        grant: &Grant,
    ) -> Result<Credentials, ServiceError> {
        let (credentials, version) = self.deps.secrets.get(&grant.tenant, &grant.id).await?;
        if !credentials.access_needs_refresh(self.now(), self.settings.refresh_margin) {
            return Ok(credentials);
        }
        self.refresh_credentials(actor, grant, &credentials, version).await
    }

    pub(super) async fn refresh_credentials(
        &self,
        actor: &Actor,
        grant: &Grant,
        credentials: &Credentials,
        version: u64,
    ) -> Result<Credentials, ServiceError> {
        let authorizer = &self.platform(grant.platform)?.authorizer;
        match authorizer.refresh(credentials).await {
            Ok(fresh) => {
                self.deps.secrets.put(&grant.tenant, &grant.id, &fresh, Some(version)).await?;
                self.audit(
                    &grant.tenant,
                    vec![self.event(actor, SecretAccessed::new(grant.id.clone(), SecretOperation::Put))],
                )
                .await?;
                Ok(fresh)
            }
            Err(PlatformError::Revoked { detail }) => {
                self.revoke_on_platform_rejection(grant, detail).await?;
                Err(ServiceError::GrantRevoked)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Turns the grant's buyer PII switch on or off (MIN-2). Turning it on does not fetch anything by
    /// itself; it lets later syncs request PII if the grant's scopes allow it.
    pub async fn set_pii_enabled(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        grant_id: &GrantId,
        enabled: bool,
    ) -> Result<Grant, ServiceError> {
        let mut grant = self.deps.grants.grant(tenant, grant_id).await?;
        self.authorize(
            actor,
            Action::ConnectGrant,
            Subject { tenant: Some(tenant), grant: Some(&grant), ..Subject::default() },
        )
        .await?;
        if !grant.platform.is_commerce() && enabled {
            return Err(ServiceError::Invalid("buyer pii exists only on commerce platforms".into()));
        }
        let expected = grant.updated_at();
        grant.set_pii_enabled(enabled, self.now())?;
        let detail = if enabled { "buyer pii switched on" } else { "buyer pii switched off" };
        let event =
            GrantChanged::new(grant.id.clone(), grant.platform, Some(grant.state()), grant.state(), detail);
        self.deps.grants.save_grant(&grant, expected, vec![self.event(actor, event)]).await?;
        Ok(grant)
    }

    /// Re-approves a grant in review as it now is (AUTH-5).
    pub async fn approve_review(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        grant_id: &GrantId,
    ) -> Result<Grant, ServiceError> {
        let mut grant = self.deps.grants.grant(tenant, grant_id).await?;
        self.authorize(
            actor,
            Action::ReviewGrant,
            Subject { tenant: Some(tenant), grant: Some(&grant), ..Subject::default() },
        )
        .await?;
        let expected = grant.updated_at();
        grant.approve_review(self.now())?;
        let event = GrantChanged::new(
            grant.id.clone(),
            grant.platform,
            Some(GrantState::NeedsReview),
            GrantState::Active,
            "review approved",
        );
        self.deps.grants.save_grant(&grant, expected, vec![self.event(actor, event)]).await?;
        Ok(grant)
    }

    /// Revokes a grant and purges what RET-3 says (commerce: everything of the grant, key first), with a
    /// verified receipt (RET-6). A purge interrupted midway leaves the grant revoked (no processing) and can
    /// be re-run with [`Services::purge_grant`].
    pub async fn revoke(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        grant_id: &GrantId,
        cause: RevocationCause,
    ) -> Result<DeletionReceipt, ServiceError> {
        let mut grant = self.deps.grants.grant(tenant, grant_id).await?;
        self.authorize(
            actor,
            Action::RevokeGrant,
            Subject { tenant: Some(tenant), grant: Some(&grant), ..Subject::default() },
        )
        .await?;
        let from = grant.state();
        let expected = grant.updated_at();
        grant.revoke(cause, self.now())?;
        let event =
            GrantChanged::new(grant.id.clone(), grant.platform, Some(from), GrantState::Revoked, "revoked");
        self.deps.grants.save_grant(&grant, expected, vec![self.event(actor, event)]).await?;
        self.purge_grant(actor, &grant, DeletionCause::Revocation).await
    }

    /// The platform rejected the credentials for good: revoke as the system and purge.
    pub(super) async fn revoke_on_platform_rejection(
        &self,
        grant: &Grant,
        detail: String,
    ) -> Result<(), ServiceError> {
        let cause = RevocationCause::CredentialsRejected { detail };
        match self.revoke(&Actor::System, &grant.tenant, &grant.id, cause).await {
            Ok(_) => Ok(()),
            Err(ServiceError::Conflict(_)) => Ok(()), // already revoked by a concurrent path
            Err(e) => Err(e),
        }
    }

    /// Purges a revoked grant per [`purge_plan`]: destroys its data key first (unreadable at once), deletes
    /// its secrets and records in bounded batches, re-checks that nothing remains, and stores the receipt.
    pub async fn purge_grant(
        &self,
        actor: &Actor,
        grant: &Grant,
        cause: DeletionCause,
    ) -> Result<DeletionReceipt, ServiceError> {
        if grant.state() != GrantState::Revoked {
            return Err(ServiceError::Conflict("only revoked grants are purged".into()));
        }
        let tenant = &grant.tenant;
        let started = self.now();
        let holds = self.deps.cases.holds(tenant).await?;
        let plan = purge_plan(tenant, &grant.id, grant.platform, &holds, started);
        let scope = KeyScope::grant(tenant, &grant.id);
        let receipt_id = ReceiptId::new(self.new_id("receipt"))?;
        let mut builder =
            DeletionReceipt::builder(receipt_id, tenant.clone(), Some(grant.id.clone()), cause, started);
        let mut audit = Vec::new();

        let mut keys = 0;
        if plan.destroy_data_key {
            keys = self.deps.keys.destroy(&scope).await?;
            builder = builder.deleted(StoreKind::Keys, "grant data key versions", keys);
            audit.push(self.event(actor, KeyChanged::new(KeyOperation::Destroyed, 0u32)));
        }
        let mut secrets = 0;
        if plan.delete_secrets {
            secrets = u64::from(self.deps.secrets.delete(tenant, &grant.id).await?);
            builder = builder.deleted(StoreKind::Secrets, "credentials", secrets);
            audit.push(self.event(actor, SecretAccessed::new(grant.id.clone(), SecretOperation::Delete)));
        }
        let mut rows = 0;
        for kind in &plan.delete_kinds {
            let mut deleted = 0u64;
            loop {
                let n = self
                    .deps
                    .datasets
                    .purge(tenant, Some(grant.id.clone()), *kind, self.settings.delete_batch, Vec::new())
                    .await?;
                if n == 0 {
                    break;
                }
                deleted += n;
            }
            rows += deleted;
            builder = builder.deleted(StoreKind::Dataset, kind.as_str(), deleted);
        }

        // Re-check (RET-6).
        for kind in &plan.delete_kinds {
            let left = self.deps.datasets.count(tenant, Some(grant.id.clone()), *kind).await?;
            builder = builder.rechecked(StoreKind::Dataset, kind.as_str(), left);
        }
        if plan.delete_secrets {
            let left = match self.deps.secrets.get(tenant, &grant.id).await {
                Err(crate::ports::SecretStoreError::NotFound) => 0,
                Ok(_) => 1,
                Err(e) => return Err(e.into()),
            };
            builder = builder.rechecked(StoreKind::Secrets, "credentials", left);
        }
        if plan.destroy_data_key {
            let left = u64::from(self.deps.keys.exists(&scope).await?);
            builder = builder.rechecked(StoreKind::Keys, "grant data key versions", left);
        }
        let receipt = builder.build(self.now())?;
        audit.push(self.event(
            actor,
            RecordsPurged::new(Some(grant.id.clone()), receipt.id().clone(), rows, secrets, keys),
        ));
        self.deps.cases.put_receipt(&receipt, audit).await?;
        Ok(receipt)
    }

    /// Handles an incoming platform signal (AUTH-6): verifies it, audits it either way, and acts: revoke and
    /// purge every matching grant, raise an expiry alert, or answer an endpoint challenge. Unverifiable
    /// signals are rejected and audited.
    pub async fn handle_signal(
        &self,
        platform: Platform,
        raw: &RawSignal,
    ) -> Result<SignalOutcome, ServiceError> {
        let verifier =
            self.platform(platform)?.signals.clone().ok_or(ServiceError::PlatformNotConfigured(platform))?;
        let actor = Actor::PlatformSignal(platform);
        let signal = match verifier.verify(raw).await {
            Ok(s) => s,
            Err(e) => {
                let event = self.event(&actor, SignalRejected::new(platform, e.to_string()));
                self.audit(&system_tenant(), vec![event]).await?;
                return Err(ServiceError::SignalRejected(e));
            }
        };
        let kind = match &signal.kind {
            SignalKind::Deauthorized => "deauthorized",
            SignalKind::DeletionRequested { .. } => "deletion_requested",
            SignalKind::ExpiringSoon { .. } => "expiring_soon",
            SignalKind::Challenge { .. } => "challenge",
        };
        self.audit(&system_tenant(), vec![self.event(&actor, SignalReceived::new(platform, kind))]).await?;
        match signal.kind {
            SignalKind::Challenge { response } => Ok(SignalOutcome::Challenge(response)),
            SignalKind::ExpiringSoon { expires_at } => {
                let alert = Alert {
                    kind: AlertKind::AuthorizationExpiring,
                    subject: subject_text(signal.subject.as_ref()),
                    detail: match expires_at {
                        Some(at) => format!("{platform} authorization expires at {at}"),
                        None => format!("{platform} authorization expires soon"),
                    },
                    at: self.now(),
                    severity: Severity::Warning,
                };
                self.deps
                    .notifier
                    .notify(&Notification::Alert(alert))
                    .await
                    .map_err(|e| ServiceError::Unavailable("notifier", Box::new(e)))?;
                Ok(SignalOutcome::Alerted)
            }
            SignalKind::Deauthorized | SignalKind::DeletionRequested { .. } => {
                let located = match &signal.subject {
                    Some(SignalSubject::Account(account)) => {
                        self.deps.grants.locate_by_account(platform, account).await?
                    }
                    Some(SignalSubject::Owner(owner)) => {
                        self.deps.grants.locate_by_owner(platform, owner.as_str()).await?
                    }
                    None => Vec::new(),
                };
                let mut receipts = Vec::new();
                for (tenant, grant_id) in located {
                    let grant = match self.deps.grants.grant(&tenant, &grant_id).await {
                        Ok(g) => g,
                        Err(StoreError::NotFound) => continue,
                        Err(e) => return Err(e.into()),
                    };
                    if grant.state().is_terminal() {
                        continue;
                    }
                    let cause = RevocationCause::PlatformSignal { platform, signal: kind.to_owned() };
                    receipts.push(self.revoke(&actor, &tenant, &grant_id, cause).await?);
                }
                if receipts.is_empty() {
                    Ok(SignalOutcome::NoMatchingGrant)
                } else {
                    Ok(SignalOutcome::Revoked(receipts))
                }
            }
        }
    }
}

fn subject_text(subject: Option<&SignalSubject>) -> String {
    match subject {
        Some(SignalSubject::Account(a)) => a.key(),
        Some(SignalSubject::Owner(o)) => format!("owner:{o}"),
        None => "unknown".into(),
    }
}
