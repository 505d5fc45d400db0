//! `AuditLog`: per-tenant hash chains (AUD-2). Appends run in a `BEGIN IMMEDIATE` transaction, so the head
//! they extend is the current one and the chain never forks; checkpoints let retention drop old records
//! while what remains still verifies.
//!
//! Group commit (the queue and writer loop are `custodian_core::ports::group_commit`; this store is its
//! `GroupWriter`): stand-alone appends ([`AuditLog::append`]) are queued to one group writer per store,
//! which writes every queued append (of any tenants) in one transaction, one commit and one fsync for
//! the group, then answers each caller with its own head. Per tenant, queued events are appended in
//! queue order, so each chain grows exactly as if the appends had run one after another and never forks.
//! A caller is answered only after its events are committed (durable: synchronous `FULL`). If the group
//! fails before its commit it is rolled back and every append of it is retried alone, so each caller
//! gets its own result and nothing is lost or written twice; if the commit itself fails, every caller of
//! the group gets the error and nothing is retried. Appends that are part of another write's transaction
//! (`append_in`) are not queued.

use async_trait::async_trait;
use custodian_core::audit::{AuditRecord, ChainHead, Checkpoint, NewAuditEvent};
use custodian_core::ports::group_commit::{
    GroupFailure, GroupHeads, GroupWriter, QueuedAppend, abandoned, write_queued,
};
use custodian_core::ports::{AuditLog, StoreError};
use custodian_core::tenant::TenantId;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;
use tokio::sync::oneshot;

use crate::SqliteStore;
use crate::codec::{int, invalid, nanos, parse_id};
use crate::error::{audit_failed, corrupt, db};
use crate::store::{checkpoints_in, hash_of, head_in};

/// Most events in one append.
const MAX_EVENTS: usize = 100_000;

fn record(tenant: &TenantId, row: &SqliteRow) -> Result<AuditRecord, StoreError> {
    let seq: i64 = row.try_get("seq").map_err(db)?;
    let blob: Vec<u8> = row.try_get("record").map_err(db)?;
    let record =
        AuditRecord::decode(&blob).map_err(|e| corrupt("audit record", format!("seq {seq}: {e}")))?;
    if &record.tenant != tenant || i64::try_from(record.seq).ok() != Some(seq) {
        return Err(corrupt("audit record", format!("seq {seq} is filed under the wrong key")));
    }
    Ok(record)
}

/// A time bound as nanoseconds, clamped to the storable range.
fn bound(at: OffsetDateTime) -> i64 {
    let n = at.unix_timestamp_nanos();
    i64::try_from(n).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX })
}

#[async_trait]
impl GroupWriter for SqliteStore {
    /// One append in its own transaction.
    async fn append_alone(
        &self,
        tenant: &TenantId,
        events: Vec<NewAuditEvent>,
    ) -> Result<ChainHead, StoreError> {
        let mut tx = self.begin().await?;
        let head = self.append_in(&mut tx, tenant, events).await?;
        tx.commit().await.map_err(audit_failed)?;
        Ok(head)
    }

    /// Appends every pending append of `group` in one transaction: per tenant (in tenant order, as every
    /// writer locks heads), its appends' events in queue order, in one extension of its chain. Returns each
    /// append's head, in `group` order.
    async fn commit_group(&self, group: &[QueuedAppend]) -> Result<Vec<ChainHead>, GroupFailure> {
        let (mut heads, shares) = GroupHeads::split(group);
        let mut tx = self.begin().await.map_err(|_| GroupFailure::Write)?;
        for mut share in shares {
            let events = std::mem::take(&mut share.events);
            let Ok((start, hashes)) = self.extend_in(&mut tx, share.tenant, events).await else {
                let _ = tx.rollback().await;
                return Err(GroupFailure::Write);
            };
            heads.extended(&share, &start, &hashes);
        }
        let Some(heads) = heads.heads() else {
            let _ = tx.rollback().await;
            return Err(GroupFailure::Write);
        };
        tx.commit().await.map_err(|e| GroupFailure::Commit(audit_failed(e)))?;
        Ok(heads)
    }
}

#[async_trait]
impl AuditLog for SqliteStore {
    async fn append(&self, tenant: &TenantId, events: Vec<NewAuditEvent>) -> Result<ChainHead, StoreError> {
        if events.len() > MAX_EVENTS {
            return Err(invalid(format!("at most {MAX_EVENTS} events can be appended at once")));
        }
        if events.is_empty() {
            return self.head(tenant).await;
        }
        // Checked before queueing, so that one caller's bad input cannot fail a group.
        for event in &events {
            nanos(event.at)?;
        }
        let (reply, answer) = oneshot::channel();
        let append = QueuedAppend::new(tenant.clone(), events, move |result| drop(reply.send(result)));
        if self.appends.push(append) {
            let store = self.clone();
            match tokio::runtime::Handle::try_current() {
                // The writer runs on its own task: a caller that stops waiting does not stop its group.
                Ok(runtime) => drop(runtime.spawn(async move { write_queued(&store.appends, &store).await })),
                Err(_) => write_queued(&store.appends, &store).await,
            }
        }
        answer.await.unwrap_or_else(|_| Err(abandoned()))
    }

    async fn head(&self, tenant: &TenantId) -> Result<ChainHead, StoreError> {
        let mut conn = self.reader().acquire().await.map_err(db)?;
        head_in(&mut conn, tenant).await
    }

    async fn read(
        &self,
        tenant: &TenantId,
        from_seq: u64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let Ok(from) = i64::try_from(from_seq) else { return Ok(Vec::new()) };
        let rows = sqlx::query(
            "SELECT seq, record FROM audit_records WHERE tenant_id = ? AND seq >= ? ORDER BY seq LIMIT ?",
        )
        .bind(tenant.as_str())
        .bind(from)
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await
        .map_err(db)?;
        rows.iter().map(|row| record(tenant, row)).collect()
    }

    async fn read_between(
        &self,
        tenant: &TenantId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, record FROM audit_records WHERE tenant_id = ? AND at >= ? AND at < ? \
             ORDER BY seq LIMIT ?",
        )
        .bind(tenant.as_str())
        .bind(bound(from))
        .bind(bound(to))
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await
        .map_err(db)?;
        rows.iter().map(|row| record(tenant, row)).collect()
    }

    async fn chains(&self) -> Result<Vec<TenantId>, StoreError> {
        let rows = sqlx::query("SELECT tenant_id FROM audit_heads ORDER BY tenant_id")
            .fetch_all(self.reader())
            .await
            .map_err(db)?;
        rows.iter()
            .map(|row| parse_id("tenant id", &row.try_get::<String, _>("tenant_id").map_err(db)?))
            .collect()
    }

    async fn latest_checkpoint(&self, tenant: &TenantId) -> Result<Option<Checkpoint>, StoreError> {
        let mut conn = self.reader().acquire().await.map_err(db)?;
        Ok(checkpoints_in(&mut conn, tenant).await?.pop())
    }

    async fn checkpoint_and_truncate(&self, checkpoint: &Checkpoint) -> Result<u64, StoreError> {
        let tenant = &checkpoint.tenant;
        let conflict =
            |why: &str| Err(StoreError::Conflict(format!("checkpoint at seq {}: {why}", checkpoint.seq)));
        let seq = int("checkpoint seq", checkpoint.seq)?;
        let at = nanos(checkpoint.at)?;
        let mut tx = self.begin().await?;
        let latest = checkpoints_in(&mut tx, tenant).await?.pop();
        if checkpoint.verify_link(latest.as_ref()).is_err() {
            return conflict("it does not link to the latest checkpoint");
        }
        if latest.as_ref().is_some_and(|l| l.seq >= checkpoint.seq) {
            return conflict("it does not advance past the latest checkpoint");
        }
        let head = head_in(&mut tx, tenant).await?;
        if checkpoint.seq > head.seq {
            return conflict("it is beyond the chain's head");
        }
        let hash_at_seq = if checkpoint.seq == head.seq {
            Some(head.hash)
        } else {
            let row = sqlx::query("SELECT record FROM audit_records WHERE tenant_id = ? AND seq = ?")
                .bind(tenant.as_str())
                .bind(seq)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
            match row {
                None => None,
                Some(row) => {
                    let blob: Vec<u8> = row.try_get("record").map_err(db)?;
                    let stored = blob.len().checked_sub(32).and_then(|n| blob.get(n..));
                    Some(hash_of(stored.unwrap_or_default())?)
                }
            }
        };
        if hash_at_seq != Some(checkpoint.hash) {
            return conflict("its hash is not the chain's hash at that seq");
        }
        sqlx::query(
            "INSERT INTO audit_checkpoints (tenant_id, seq, hash, at, prev, digest) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(tenant.as_str())
        .bind(seq)
        .bind(checkpoint.hash.0.as_slice())
        .bind(at)
        .bind(checkpoint.prev.0.as_slice())
        .bind(checkpoint.digest.0.as_slice())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let deleted = sqlx::query("DELETE FROM audit_records WHERE tenant_id = ? AND seq <= ?")
            .bind(tenant.as_str())
            .bind(seq)
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        tx.commit().await.map_err(db)?;
        Ok(deleted)
    }
}
