//! Campaign change requests (CAM-1, CAM-2): propose, approve with four eyes and step-up MFA, execute
//! exactly the approved diff, confirm by read-back.

use super::{ServiceError, Services, Subject};
use crate::approval::{ChangeDiff, ChangeId, ChangeRequest, ChangeState, ExecutionOutcome};
use crate::audit::{ChangeApproved, ChangeExecuted, ChangeProposed, Hash};
use crate::authz::{Action, Actor};
use crate::grant::GrantId;
use crate::ports::{PlatformError, Target};
use crate::tenant::TenantId;

/// The result of executing a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeExecution {
    pub change: ChangeRequest,
    pub outcome: ExecutionOutcome,
}

fn person_of(actor: &Actor) -> Result<&crate::personnel::PersonSession, ServiceError> {
    match actor {
        Actor::Person(s) => Ok(s),
        _ => Err(ServiceError::Invalid("campaign changes are proposed and approved by people".into())),
    }
}

impl Services {
    /// Proposes a change to a live campaign under `grant`.
    pub async fn propose_change(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        grant_id: &GrantId,
        diff: ChangeDiff,
    ) -> Result<ChangeRequest, ServiceError> {
        let session = person_of(actor)?;
        let grant = self.deps.grants.grant(tenant, grant_id).await?;
        let subject = Subject {
            tenant: Some(tenant),
            target: Some(diff.account()),
            grant: Some(&grant),
            ..Subject::default()
        };
        self.authorize(actor, Action::ProposeChange, subject).await?;
        if diff.account().platform() != grant.platform {
            return Err(ServiceError::Invalid("the change targets another platform than the grant".into()));
        }
        let change = ChangeRequest::propose(
            ChangeId::new(self.new_id("change"))?,
            tenant.clone(),
            grant_id.clone(),
            diff,
            session.person.id.clone(),
            self.now(),
        );
        let event = ChangeProposed::new(change.id().clone(), Hash(*change.diff_hash()), grant_id.clone());
        self.deps.cases.put_change(&change, vec![self.event(actor, event)]).await?;
        Ok(change)
    }

    /// Approves a change: a different person than the proposer, with a fresh MFA verification (the
    /// decision checks step-up; the change checks four eyes).
    pub async fn approve_change(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &ChangeId,
    ) -> Result<ChangeRequest, ServiceError> {
        let session = person_of(actor)?;
        let mut change = self.deps.cases.change(tenant, id).await?;
        let grant = self.deps.grants.grant(tenant, change.grant()).await?;
        let subject = Subject {
            tenant: Some(tenant),
            target: Some(change.diff().account()),
            grant: Some(&grant),
            ..Subject::default()
        };
        self.authorize(actor, Action::ApproveChange, subject).await?;
        change.approve(
            &session.person.id,
            session.mfa_verified_at,
            self.now(),
            self.settings.step_up_max_age,
        )?;
        let event = ChangeApproved::new(change.id().clone(), Hash(*change.diff_hash()));
        self.deps.cases.put_change(&change, vec![self.event(actor, event)]).await?;
        Ok(change)
    }

    /// Executes `diff`, which must be exactly the approved one (CAM-1), then reads the campaign back and
    /// records whether it shows the approved values (CAM-2).
    pub async fn execute_change(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &ChangeId,
        diff: &ChangeDiff,
    ) -> Result<ChangeExecution, ServiceError> {
        let mut change = self.deps.cases.change(tenant, id).await?;
        let grant = self.fresh_grant(tenant, change.grant()).await?;
        let subject = Subject {
            tenant: Some(tenant),
            target: Some(diff.account()),
            grant: Some(&grant),
            ..Subject::default()
        };
        self.authorize(actor, Action::ExecuteChange, subject).await?;
        change.authorize_execution(diff, self.now())?;
        let control = self
            .platform(grant.platform)?
            .campaigns
            .clone()
            .ok_or(ServiceError::PlatformNotConfigured(grant.platform))?;
        let credentials = self.credentials(actor, &grant).await?;
        let target =
            Target { tenant: tenant.clone(), grant: grant.id.clone(), account: diff.account().clone() };
        let applied = match control.apply(&target, &credentials, diff).await {
            Ok(()) => control.read_back(&target, &credentials, diff.campaign()).await,
            Err(e) => Err(e),
        };
        let readback = match applied {
            Ok(r) => r,
            Err(e) => {
                change.record_failure(&e.to_string(), self.now())?;
                let event = ChangeExecuted::new(change.id().clone(), Hash(*change.diff_hash()), false);
                self.deps.cases.put_change(&change, vec![self.event(actor, event)]).await?;
                if let PlatformError::Revoked { detail } = e {
                    self.revoke_on_platform_rejection(&grant, detail).await?;
                    return Err(ServiceError::GrantRevoked);
                }
                return Err(e.into());
            }
        };
        let outcome = change.record_execution(&readback, self.now())?;
        let confirmed = outcome == ExecutionOutcome::Confirmed;
        let event = ChangeExecuted::new(change.id().clone(), Hash(*change.diff_hash()), confirmed);
        self.deps.cases.put_change(&change, vec![self.event(actor, event)]).await?;
        debug_assert!(matches!(change.state(), ChangeState::Executed { .. }));
        Ok(ChangeExecution { change, outcome })
    }
}
