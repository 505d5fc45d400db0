//! Incidents (INC-1): open and isolate at once, assess scope from the audit trail, notify with tracked
//! deadlines, record remediation, close with a review.

use time::OffsetDateTime;

use super::{ServiceError, Services, Subject};
use crate::audit::{AuditEvent, IncidentChanged, system_tenant};
use crate::authz::{Action, Actor};
use crate::data::DataClass;
use crate::incident::{
    AccessFact, Incident, IncidentId, IsolationScope, Recipient, ScopeAssessment, Severity, assess_scope,
    plan_notifications,
};
use crate::personnel::PersonSession;
use crate::platform::{Platform, Task};
use crate::ports::Notification;
use crate::tenant::TenantId;

/// A scope assessment and the audit records it read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentAssessment {
    pub assessment: ScopeAssessment,
    pub records_read: u64,
}

fn person_of(actor: &Actor) -> Result<&PersonSession, ServiceError> {
    match actor {
        Actor::Person(s) => Ok(s),
        _ => Err(ServiceError::Invalid("incidents are handled by people".into())),
    }
}

/// Maximum audit records read per tenant for one assessment.
const ASSESS_LIMIT: u32 = 100_000;

fn class_of_task(task: Task) -> DataClass {
    match task {
        Task::ReadReporting => DataClass::ReportingDataset,
        Task::ReadCampaigns | Task::ChangeCampaign => DataClass::CampaignMetadata,
        Task::ReadOrders | Task::UpdateStock => DataClass::OrderDetail,
        Task::ReadBuyerPii => DataClass::BuyerPii,
    }
}

impl Services {
    /// Opens an incident; its scopes are isolated at once (every later decision there is a deny).
    pub async fn open_incident(
        &self,
        actor: &Actor,
        severity: Severity,
        summary: &str,
        scopes: Vec<IsolationScope>,
    ) -> Result<Incident, ServiceError> {
        let session = person_of(actor)?;
        self.authorize(actor, Action::ManageIncident, Subject::default()).await?;
        let incident = Incident::open(
            IncidentId::new(self.new_id("incident"))?,
            session.person.id.clone(),
            severity,
            summary,
            scopes,
            self.now(),
        )?;
        let event = IncidentChanged::new(incident.id().clone(), "opened and isolated");
        self.deps.cases.put_incident(&incident, vec![self.event(actor, event)]).await?;
        Ok(incident)
    }

    /// Assesses what was touched between `from` and `to` in the incident's tenants (or every tenant, for a
    /// platform, person or API-key scope), from the audit trail: tenants, data classes, records.
    pub async fn assess_incident(
        &self,
        actor: &Actor,
        id: &IncidentId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<IncidentAssessment, ServiceError> {
        self.authorize(actor, Action::ManageIncident, Subject::default()).await?;
        let incident = self.deps.cases.incident(id).await?;
        let only_tenants: Option<Vec<TenantId>> = if incident
            .scopes()
            .iter()
            .all(|s| matches!(s, IsolationScope::Tenant(_) | IsolationScope::Grant { .. }))
        {
            Some(
                incident
                    .scopes()
                    .iter()
                    .filter_map(|s| match s {
                        IsolationScope::Tenant(t) | IsolationScope::Grant { tenant: t, .. } => {
                            Some(t.clone())
                        }
                        _ => None,
                    })
                    .collect(),
            )
        } else {
            None
        };
        let chains = match only_tenants {
            Some(t) => t,
            None => self.deps.audit.chains().await?.into_iter().filter(|t| *t != system_tenant()).collect(),
        };
        let mut facts = Vec::new();
        let mut read = 0u64;
        for tenant in chains {
            let records = self.deps.audit.read_between(&tenant, from, to, ASSESS_LIMIT).await?;
            read += records.len() as u64;
            for r in records {
                let fact = match &r.event {
                    AuditEvent::DataRead(e) => Some((Some(e.class), e.records)),
                    AuditEvent::SyncProgressed(e) => Some((Some(class_of_task(e.task)), e.records)),
                    AuditEvent::AccessDecided(e) if e.allowed => Some((None, 0)),
                    _ => None,
                };
                if let Some((class, records)) = fact {
                    facts.push(AccessFact { tenant: r.tenant.clone(), class, records, at: r.at });
                }
            }
        }
        Ok(IncidentAssessment { assessment: assess_scope(facts, from, to), records_read: read })
    }

    /// Plans notifications for the affected clients and platforms (deadlines from the policy), sends them
    /// through the notifier and marks the delivered ones sent.
    pub async fn notify_incident(
        &self,
        actor: &Actor,
        id: &IncidentId,
        tenants: Vec<TenantId>,
        platforms: Vec<Platform>,
    ) -> Result<Incident, ServiceError> {
        self.authorize(actor, Action::ManageIncident, Subject::default()).await?;
        let mut incident = self.deps.cases.incident(id).await?;
        let planned = plan_notifications(&incident, tenants, platforms, &self.settings.notifications);
        incident.add_notifications(planned)?;
        let pending: Vec<(Recipient, OffsetDateTime)> = incident
            .notifications()
            .iter()
            .filter(|n| n.sent_at.is_none())
            .map(|n| (n.recipient.clone(), n.due_at))
            .collect();
        let mut sent = 0;
        for (recipient, due_at) in pending {
            let note = Notification::Incident {
                incident: incident.id().clone(),
                recipient: recipient.clone(),
                due_at,
                summary: incident.summary().to_owned(),
            };
            if self.deps.notifier.notify(&note).await.is_ok() {
                incident.mark_sent(&recipient, self.now())?;
                sent += 1;
            }
        }
        let event = IncidentChanged::new(incident.id().clone(), format!("{sent} notifications sent"));
        self.deps.cases.put_incident(&incident, vec![self.event(actor, event)]).await?;
        Ok(incident)
    }

    /// Records a remediation step.
    pub async fn remediate_incident(
        &self,
        actor: &Actor,
        id: &IncidentId,
        action: &str,
    ) -> Result<Incident, ServiceError> {
        let session = person_of(actor)?;
        self.authorize(actor, Action::ManageIncident, Subject::default()).await?;
        let mut incident = self.deps.cases.incident(id).await?;
        incident.record_remediation(session.person.id.clone(), action, self.now())?;
        let event = IncidentChanged::new(incident.id().clone(), "remediation recorded");
        self.deps.cases.put_incident(&incident, vec![self.event(actor, event)]).await?;
        Ok(incident)
    }

    /// Contains, resolves, reviews and closes in the order the incident allows; closing needs every
    /// notification sent and a post-incident review, and lifts the isolation.
    pub async fn close_incident(
        &self,
        actor: &Actor,
        id: &IncidentId,
        review: &str,
        follow_ups: &[&str],
    ) -> Result<Incident, ServiceError> {
        let session = person_of(actor)?;
        self.authorize(actor, Action::ManageIncident, Subject::default()).await?;
        let mut incident = self.deps.cases.incident(id).await?;
        let now = self.now();
        if incident.state() == crate::incident::IncidentState::Open {
            incident.contain(now)?;
        }
        if incident.state() == crate::incident::IncidentState::Contained {
            incident.resolve(now)?;
        }
        // Every client whose tenant or grant was isolated must have been told (INC-1).
        let unnotified: Vec<String> = incident
            .scopes()
            .iter()
            .filter_map(|s| match s {
                IsolationScope::Tenant(t) | IsolationScope::Grant { tenant: t, .. } => Some(t),
                _ => None,
            })
            .filter(|t| {
                !incident
                    .notifications()
                    .iter()
                    .any(|n| n.recipient == Recipient::Client((*t).clone()) && n.sent_at.is_some())
            })
            .map(|t| format!("`{t}`"))
            .collect();
        if !unnotified.is_empty() {
            return Err(ServiceError::Conflict(format!(
                "affected clients not notified: {}",
                unnotified.join(", ")
            )));
        }
        incident.record_review(session.person.id.clone(), review, follow_ups, now)?;
        incident.close(now)?;
        let event = IncidentChanged::new(incident.id().clone(), "closed after review");
        self.deps.cases.put_incident(&incident, vec![self.event(actor, event)]).await?;
        Ok(incident)
    }
}
