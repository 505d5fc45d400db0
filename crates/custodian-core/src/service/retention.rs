//! Retention sweeps (RET-1..4) and legal holds (RET-5).

use time::{Duration, OffsetDateTime};

use super::{ServiceError, Services, Subject};
use crate::audit::{HoldChanged, RetentionRan};
use crate::authz::{Action, Actor};
use crate::data::{DataClass, RecordKind};
use crate::personnel::PersonSession;
use crate::retention::{
    ClassCounts, HoldId, HoldScope, LegalHold, RetentionAction, RetentionSummary, effective_period, plan,
};
use crate::tenant::TenantId;

/// What a retention sweep did, per class.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RetentionReport {
    pub summary: RetentionSummary,
}

impl RetentionReport {
    /// Totals over every class.
    pub fn total(&self) -> ClassCounts {
        self.summary.total()
    }
}

fn person_of(actor: &Actor) -> Result<&PersonSession, ServiceError> {
    match actor {
        Actor::Person(s) => Ok(s),
        _ => Err(ServiceError::Invalid("legal holds are placed and lifted by people".into())),
    }
}

impl Services {
    /// Sweeps one tenant: deletes or anonymizes every record past its effective period (the shorter of the
    /// policy and the contract, RET-2) unless an active hold covers it (RET-5); audited with counts (RET-4).
    pub async fn retention_sweep(
        &self,
        actor: &Actor,
        tenant_id: &TenantId,
    ) -> Result<RetentionReport, ServiceError> {
        self.authorize(
            actor,
            Action::ManageRetention,
            Subject { tenant: Some(tenant_id), ..Subject::default() },
        )
        .await?;
        let tenant = self.deps.tenants.tenant(tenant_id).await?;
        let holds = self.deps.cases.holds(tenant_id).await?;
        let now = self.now();
        let policy = &self.settings.retention;
        let mut actions_all: Vec<RetentionAction> = Vec::new();
        // Buyer PII is a class inside orders: its own (shorter) period anonymizes orders.
        let passes: [(RecordKind, DataClass); 5] = [
            (RecordKind::ReportRow, DataClass::ReportingDataset),
            (RecordKind::Campaign, DataClass::CampaignMetadata),
            (RecordKind::Order, DataClass::BuyerPii),
            (RecordKind::Order, DataClass::OrderDetail),
            (RecordKind::StockLevel, DataClass::OrderDetail),
        ];
        for (kind, class) in passes {
            let Some(period) = effective_period(class, &tenant.contract, policy) else { continue };
            // Candidates: stored before now minus the shortest the period can be; `plan` decides exactly.
            let (min_days, _) = period.day_bounds();
            let cutoff: OffsetDateTime = now - Duration::days(min_days);
            // Kept records (held, or within a longer exact period) stay at the front of the ordered
            // candidates; disposed ones leave it. So each round skips the kept prefix.
            let mut kept_prefix = 0u32;
            let batch = self.settings.delete_batch.max(1);
            loop {
                let limit = batch.saturating_add(kept_prefix);
                let metas = self.deps.datasets.expired(tenant_id, kind, class, cutoff, limit).await?;
                let fresh: Vec<_> = metas.into_iter().skip(kept_prefix as usize).collect();
                if fresh.is_empty() {
                    break;
                }
                let actions = plan(&fresh, &holds, &tenant.contract, policy, now);
                let keys_of = |want_delete: bool| -> Vec<String> {
                    actions
                        .iter()
                        .filter_map(|a| match (a, want_delete) {
                            (RetentionAction::Delete(m), true) | (RetentionAction::Anonymize(m), false) => {
                                Some(m.key.clone())
                            }
                            _ => None,
                        })
                        .collect()
                };
                let (deletes, anonymize) = (keys_of(true), keys_of(false));
                if !deletes.is_empty() {
                    self.deps.datasets.delete_records(tenant_id, kind, &deletes, Vec::new()).await?;
                }
                if !anonymize.is_empty() {
                    self.deps.datasets.anonymize_orders(tenant_id, &anonymize, Vec::new()).await?;
                }
                let kept = actions.iter().filter(|a| !a.is_disposal()).count();
                let full = fresh.len() >= batch as usize;
                actions_all.extend(actions);
                kept_prefix = kept_prefix.saturating_add(u32::try_from(kept).unwrap_or(u32::MAX));
                if !full {
                    break;
                }
            }
        }
        let summary = RetentionSummary::of(&actions_all);
        let total = summary.total();
        let event = RetentionRan::new(total.deleted, total.anonymized, total.kept.saturating_add(total.held));
        self.audit(tenant_id, vec![self.event(actor, event)]).await?;
        Ok(RetentionReport { summary })
    }

    /// Places a legal hold (RET-5): reason, owner (the acting person) and end are required.
    pub async fn place_hold(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        scope: HoldScope,
        reason: &str,
        ends_at: OffsetDateTime,
    ) -> Result<LegalHold, ServiceError> {
        let session = person_of(actor)?;
        self.authorize(actor, Action::PlaceHold, Subject { tenant: Some(tenant), ..Subject::default() })
            .await?;
        let hold = LegalHold::new(
            HoldId::new(self.new_id("hold"))?,
            tenant.clone(),
            scope,
            reason,
            session.person.id.clone(),
            self.now(),
            ends_at,
        )?;
        let event = HoldChanged::new(hold.id().clone(), format!("placed until {ends_at}"));
        self.deps.cases.put_hold(&hold, vec![self.event(actor, event)]).await?;
        Ok(hold)
    }

    /// Lifts a legal hold (step-up MFA, ACC-2).
    pub async fn lift_hold(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &HoldId,
    ) -> Result<LegalHold, ServiceError> {
        let session = person_of(actor)?;
        self.authorize(actor, Action::LiftHold, Subject { tenant: Some(tenant), ..Subject::default() })
            .await?;
        let mut hold = self.deps.cases.hold(tenant, id).await?;
        hold.lift(session.person.id.clone(), self.now())?;
        let event = HoldChanged::new(hold.id().clone(), "lifted");
        self.deps.cases.put_hold(&hold, vec![self.event(actor, event)]).await?;
        Ok(hold)
    }
}
