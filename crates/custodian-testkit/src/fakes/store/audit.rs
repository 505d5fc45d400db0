//! `AuditLog` for [`MemoryStore`]: per-tenant chains built with `audit::extend`, appends serialized by the
//! store's lock, checkpoints that drop the records they cover.

use std::sync::atomic::Ordering;

use async_trait::async_trait;
use custodian_core::audit::{AuditRecord, ChainHead, Checkpoint, NewAuditEvent};
use custodian_core::ports::{AuditLog, StoreError};
use custodian_core::tenant::TenantId;
use time::OffsetDateTime;

use super::{InjectedFailure, MemoryStore, count, lock};

#[async_trait]
impl AuditLog for MemoryStore {
    async fn append(&self, tenant: &TenantId, events: Vec<NewAuditEvent>) -> Result<ChainHead, StoreError> {
        self.gate()?;
        if !events.is_empty() && self.fail_audit.load(Ordering::SeqCst) {
            return Err(StoreError::AuditFailed(InjectedFailure::boxed("audit append")));
        }
        Ok(lock(&self.state).append(self.environment, tenant, events))
    }

    async fn head(&self, tenant: &TenantId) -> Result<ChainHead, StoreError> {
        self.read(|state| Ok(state.head(tenant)))
    }

    async fn read(
        &self,
        tenant: &TenantId,
        from_seq: u64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.read(|state| {
            let Some(chain) = state.chains.get(tenant) else { return Ok(Vec::new()) };
            let start = chain.records.partition_point(|r| r.seq < from_seq);
            Ok(chain.records.iter().skip(start).take(limit as usize).cloned().collect())
        })
    }

    async fn read_between(
        &self,
        tenant: &TenantId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.read(|state| {
            let Some(chain) = state.chains.get(tenant) else { return Ok(Vec::new()) };
            Ok(chain
                .records
                .iter()
                .filter(|r| from <= r.at && r.at < to)
                .take(limit as usize)
                .cloned()
                .collect())
        })
    }

    async fn chains(&self) -> Result<Vec<TenantId>, StoreError> {
        self.read(|state| Ok(state.chains.keys().cloned().collect()))
    }

    async fn latest_checkpoint(&self, tenant: &TenantId) -> Result<Option<Checkpoint>, StoreError> {
        self.read(|state| Ok(state.chains.get(tenant).and_then(|c| c.checkpoints.last().cloned())))
    }

    async fn checkpoint_and_truncate(&self, checkpoint: &Checkpoint) -> Result<u64, StoreError> {
        self.gate()?;
        let mut state = lock(&self.state);
        let conflict =
            |why: &str| Err(StoreError::Conflict(format!("checkpoint at seq {}: {why}", checkpoint.seq)));
        let Some(chain) = state.chains.get_mut(&checkpoint.tenant) else {
            return conflict("the tenant has no audit chain");
        };
        if checkpoint.verify_link(chain.checkpoints.last()).is_err() {
            return conflict("it does not link to the latest checkpoint");
        }
        if checkpoint.seq > chain.head.seq {
            return conflict("it is beyond the head of the chain");
        }
        let matches_chain = if checkpoint.seq == chain.head.seq {
            checkpoint.hash == chain.head.hash
        } else {
            chain.records.iter().find(|r| r.seq == checkpoint.seq).is_some_and(|r| r.hash == checkpoint.hash)
        };
        if !matches_chain {
            return conflict("its hash is not the chain's hash at that seq");
        }
        let before = chain.records.len();
        chain.records.retain(|r| r.seq > checkpoint.seq);
        chain.checkpoints.push(checkpoint.clone());
        Ok(count(before - chain.records.len()))
    }
}
