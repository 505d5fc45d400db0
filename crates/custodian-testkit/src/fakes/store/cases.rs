//! `CaseStore` for [`MemoryStore`]: change requests, incidents (global, audited on the system chain),
//! rights requests, legal holds and immutable deletion receipts.

use async_trait::async_trait;
use custodian_core::approval::{ChangeId, ChangeRequest};
use custodian_core::audit::{NewAuditEvent, system_tenant};
use custodian_core::incident::{Incident, IncidentId};
use custodian_core::ports::{CaseStore, StoreError};
use custodian_core::retention::{DeletionReceipt, HoldId, LegalHold, ReceiptId};
use custodian_core::rights::{RightsRequest, RightsRequestId};
use custodian_core::tenant::TenantId;

use super::MemoryStore;

#[async_trait]
impl CaseStore for MemoryStore {
    async fn put_change(&self, change: &ChangeRequest, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        self.mutate(change.tenant(), audit, |state, _| {
            state.changes.insert((change.tenant().clone(), change.id().clone()), change.clone());
            Ok(())
        })
    }

    async fn change(&self, tenant: &TenantId, id: &ChangeId) -> Result<ChangeRequest, StoreError> {
        self.read(|state| {
            state.changes.get(&(tenant.clone(), id.clone())).cloned().ok_or(StoreError::NotFound)
        })
    }

    async fn changes(&self, tenant: &TenantId) -> Result<Vec<ChangeRequest>, StoreError> {
        self.read(|state| {
            Ok(state.changes.iter().filter(|((t, _), _)| t == tenant).map(|(_, c)| c.clone()).collect())
        })
    }

    async fn put_incident(&self, incident: &Incident, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        self.mutate(&system_tenant(), audit, |state, _| {
            state.incidents.insert(incident.id().clone(), incident.clone());
            Ok(())
        })
    }

    async fn incident(&self, id: &IncidentId) -> Result<Incident, StoreError> {
        self.read(|state| state.incidents.get(id).cloned().ok_or(StoreError::NotFound))
    }

    async fn incidents(&self) -> Result<Vec<Incident>, StoreError> {
        self.read(|state| Ok(state.incidents.values().cloned().collect()))
    }

    async fn put_rights_request(
        &self,
        request: &RightsRequest,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        self.mutate(request.tenant(), audit, |state, _| {
            state.rights.insert((request.tenant().clone(), request.id().clone()), request.clone());
            Ok(())
        })
    }

    async fn rights_request(
        &self,
        tenant: &TenantId,
        id: &RightsRequestId,
    ) -> Result<RightsRequest, StoreError> {
        self.read(|state| {
            state.rights.get(&(tenant.clone(), id.clone())).cloned().ok_or(StoreError::NotFound)
        })
    }

    async fn rights_requests(&self, tenant: &TenantId) -> Result<Vec<RightsRequest>, StoreError> {
        self.read(|state| {
            Ok(state.rights.iter().filter(|((t, _), _)| t == tenant).map(|(_, r)| r.clone()).collect())
        })
    }

    async fn put_hold(&self, hold: &LegalHold, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        self.mutate(hold.tenant(), audit, |state, _| {
            state.holds.insert((hold.tenant().clone(), hold.id().clone()), hold.clone());
            Ok(())
        })
    }

    async fn hold(&self, tenant: &TenantId, id: &HoldId) -> Result<LegalHold, StoreError> {
        self.read(|state| state.holds.get(&(tenant.clone(), id.clone())).cloned().ok_or(StoreError::NotFound))
    }

    async fn holds(&self, tenant: &TenantId) -> Result<Vec<LegalHold>, StoreError> {
        self.read(|state| {
            Ok(state.holds.iter().filter(|((t, _), _)| t == tenant).map(|(_, h)| h.clone()).collect())
        })
    }

    async fn put_receipt(
        &self,
        receipt: &DeletionReceipt,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        self.mutate(receipt.tenant(), audit, |state, _| {
            let key = (receipt.tenant().clone(), receipt.id().clone());
            if state.receipts.contains_key(&key) {
                return Err(StoreError::Conflict(format!("deletion receipt `{}` exists", receipt.id())));
            }
            state.receipts.insert(key, receipt.clone());
            Ok(())
        })
    }

    async fn receipt(&self, tenant: &TenantId, id: &ReceiptId) -> Result<DeletionReceipt, StoreError> {
        self.read(|state| {
            state.receipts.get(&(tenant.clone(), id.clone())).cloned().ok_or(StoreError::NotFound)
        })
    }

    async fn receipts(&self, tenant: &TenantId) -> Result<Vec<DeletionReceipt>, StoreError> {
        self.read(|state| {
            Ok(state.receipts.iter().filter(|((t, _), _)| t == tenant).map(|(_, r)| r.clone()).collect())
        })
    }
}
