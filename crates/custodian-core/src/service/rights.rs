//! Client rights (RGT-1..3): requests with deadlines (the portable export is in `export`), deletion of a client's
//! data with a receipt, and offboarding (export, then delete everything).

use time::OffsetDateTime;

use super::{ServiceError, Services, Subject};
use crate::audit::{KeyChanged, KeyOperation, RecordsPurged, RightsRequestChanged, TenantChanged};
use crate::authz::{Action, Actor};
use crate::data::RecordKind;
use crate::grant::RevocationCause;
use crate::ports::{KeyScope, SecretStoreError};
use crate::retention::{DeletionCause, DeletionReceipt, ReceiptId, StoreKind};
use crate::rights::{CsvFile, Regime, RightsKind, RightsRequest, RightsRequestId, export_csv, export_json};
use crate::tenant::{TenantId, TenantStatus};

/// What offboarding produced (RGT-3): the export handed to the client and the deletion receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offboarding {
    pub json: String,
    pub csv: Vec<CsvFile>,
    pub receipt: DeletionReceipt,
}

impl Services {
    /// Records a rights request received at `received_at` (deadlines run from receipt, RGT-2).
    pub async fn open_rights_request(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        kind: RightsKind,
        regime: Regime,
        received_at: OffsetDateTime,
    ) -> Result<RightsRequest, ServiceError> {
        self.authorize(actor, Action::ManageRights, Subject { tenant: Some(tenant), ..Subject::default() })
            .await?;
        if received_at > self.now() {
            return Err(ServiceError::Invalid("a request cannot be received in the future".into()));
        }
        let request = RightsRequest::new(
            RightsRequestId::new(self.new_id("rights"))?,
            tenant.clone(),
            kind,
            regime,
            received_at,
        );
        let event = RightsRequestChanged::new(request.id().clone(), format!("received: {}", kind.as_str()));
        self.deps.cases.put_rights_request(&request, vec![self.event(actor, event)]).await?;
        Ok(request)
    }

    /// Applies a transition to a rights request (acknowledge, extend, complete, reject) and stores it.
    pub async fn update_rights_request(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &RightsRequestId,
        change: RightsChange<'_>,
    ) -> Result<RightsRequest, ServiceError> {
        self.authorize(actor, Action::ManageRights, Subject { tenant: Some(tenant), ..Subject::default() })
            .await?;
        let mut request = self.deps.cases.rights_request(tenant, id).await?;
        let now = self.now();
        let what = match change {
            RightsChange::Acknowledge => {
                request.acknowledge(now)?;
                "acknowledged".to_owned()
            }
            RightsChange::Extend { reason, new_due } => {
                request.extend(reason, new_due, now)?;
                format!("extended to {new_due}")
            }
            RightsChange::Complete => {
                request.complete(now)?;
                "completed".to_owned()
            }
            RightsChange::Reject { reason } => {
                request.reject(reason, now)?;
                "rejected".to_owned()
            }
        };
        let event = RightsRequestChanged::new(request.id().clone(), what);
        self.deps.cases.put_rights_request(&request, vec![self.event(actor, event)]).await?;
        Ok(request)
    }

    /// Deletes everything of a client (RGT-1 deletion, also the second half of offboarding): revokes every
    /// grant, destroys every key of the tenant (unreadable at once), deletes secrets, records and contacts in
    /// bounded batches, re-checks and stores the receipt (RET-6).
    pub async fn delete_client_data(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        cause: DeletionCause,
    ) -> Result<DeletionReceipt, ServiceError> {
        self.authorize(actor, Action::ManageRights, Subject { tenant: Some(tenant), ..Subject::default() })
            .await?;
        let started = self.now();
        let mut builder = DeletionReceipt::builder(
            ReceiptId::new(self.new_id("receipt"))?,
            tenant.clone(),
            None,
            cause,
            started,
        );
        let mut audit = Vec::new();

        // Stop all processing first: every live grant is revoked.
        for grant in self.deps.grants.grants(tenant).await? {
            if grant.state().is_terminal() {
                continue;
            }
            let mut g = grant.clone();
            let expected = g.updated_at();
            let from = g.state();
            g.revoke(RevocationCause::Offboarding, self.now())?;
            let event = crate::audit::GrantChanged::new(
                g.id.clone(),
                g.platform,
                Some(from),
                crate::grant::GrantState::Revoked,
                "revoked for client deletion",
            );
            self.deps.grants.save_grant(&g, expected, vec![self.event(actor, event)]).await?;
        }
        // Unreadable at once: every key of the tenant, the key-encryption key included.
        let keys = self.deps.keys.destroy_tenant(tenant).await?;
        builder = builder.deleted(StoreKind::Keys, "data key versions", keys);
        audit.push(self.event(actor, KeyChanged::new(KeyOperation::Destroyed, 0u32)));
        let mut secrets = 0u64;
        for grant in self.deps.secrets.list(tenant).await? {
            secrets += u64::from(self.deps.secrets.delete(tenant, &grant).await?);
        }
        builder = builder.deleted(StoreKind::Secrets, "credentials", secrets);
        let mut rows = 0u64;
        for kind in RecordKind::ALL {
            let mut deleted = 0u64;
            loop {
                let n = self
                    .deps
                    .datasets
                    .purge(tenant, None, kind, self.settings.delete_batch, Vec::new())
                    .await?;
                if n == 0 {
                    break;
                }
                deleted += n;
            }
            rows += deleted;
            builder = builder.deleted(StoreKind::Dataset, kind.as_str(), deleted);
        }
        let contacts = self.deps.tenants.delete_contacts(tenant, None, Vec::new()).await?;
        builder = builder.deleted(StoreKind::Contacts, "business contacts", contacts);

        for kind in RecordKind::ALL {
            let left = self.deps.datasets.count(tenant, None, kind).await?;
            builder = builder.rechecked(StoreKind::Dataset, kind.as_str(), left);
        }
        let secrets_left = match self.deps.secrets.list(tenant).await {
            Ok(l) => l.len() as u64,
            Err(SecretStoreError::NotFound) => 0,
            Err(e) => return Err(e.into()),
        };
        builder = builder.rechecked(StoreKind::Secrets, "credentials", secrets_left);
        let keys_left = u64::from(self.deps.keys.exists(&KeyScope::tenant(tenant)).await?);
        builder = builder.rechecked(StoreKind::Keys, "data key versions", keys_left);
        let contacts_left = self.deps.tenants.contacts(tenant).await?.len() as u64;
        builder = builder.rechecked(StoreKind::Contacts, "business contacts", contacts_left);

        let receipt = builder.build(self.now())?;
        audit.push(
            self.event(actor, RecordsPurged::new(None, receipt.id().clone(), rows + contacts, secrets, keys)),
        );
        self.deps.cases.put_receipt(&receipt, audit).await?;
        Ok(receipt)
    }

    /// Offboards a client (RGT-3): marks it offboarding (processing stops), exports everything portable,
    /// deletes everything with a receipt, and marks it offboarded.
    pub async fn offboard(&self, actor: &Actor, tenant: &TenantId) -> Result<Offboarding, ServiceError> {
        self.authorize(actor, Action::ManageRights, Subject { tenant: Some(tenant), ..Subject::default() })
            .await?;
        let event = self.event(actor, TenantChanged::new("offboarding started"));
        self.deps.tenants.set_tenant_status(tenant, TenantStatus::Offboarding, vec![event]).await?;
        let bundle = self.export(actor, tenant).await?;
        let json = export_json(&bundle);
        let csv = export_csv(&bundle);
        drop(bundle);
        let receipt = self.delete_client_data(actor, tenant, DeletionCause::Offboarding).await?;
        if !receipt.is_clean() {
            return Err(ServiceError::Conflict(
                "deletion re-check found data left; offboarding not completed".into(),
            ));
        }
        let event = self.event(actor, TenantChanged::new("offboarded"));
        self.deps.tenants.set_tenant_status(tenant, TenantStatus::Offboarded, vec![event]).await?;
        Ok(Offboarding { json, csv, receipt })
    }
}

/// A transition of a rights request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RightsChange<'a> {
    Acknowledge,
    Extend { reason: &'a str, new_due: OffsetDateTime },
    Complete,
    Reject { reason: &'a str },
}
