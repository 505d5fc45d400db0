//! `AuditLog` (AUD-2), and [`PgStore::append_in`], which every mutating call uses to append its events in
//! its own transaction.
//!
//! Serialization per tenant: an append first locks the tenant's `audit_heads` row (`SELECT … FOR UPDATE`,
//! creating it at genesis on the first append), extends the chain from it with
//! [`custodian_core::audit::extend`], inserts the records in one statement and moves the head. Concurrent
//! appenders of one tenant queue on the row lock, so seqs never repeat and the chain never forks; appenders
//! of different tenants do not wait for each other. Any failure while appending is
//! [`StoreError::AuditFailed`] and rolls back the whole transaction, the change it describes included.
//!
//! Group commit (the queue and writer loop are `custodian_core::ports::group_commit`; this store is its
//! `GroupWriter`): stand-alone appends ([`AuditLog::append`]) are queued to one group writer per store,
//! which appends every queued append (of any tenants) in one transaction with one commit (one WAL flush),
//! then answers each caller with its own head. The writer scopes the transaction to one tenant at a time
//! (`custodian.tenant`, so row-level security still admits only that tenant's rows, SEG-1), takes the
//! tenants' head locks in tenant order (as any other group writer does: no deadlock between processes),
//! and appends each tenant's queued events in queue order, so each chain grows exactly as if the appends
//! had run one after another. A caller is answered only after the commit. If the group fails before its
//! commit it is rolled back and every append of it is retried alone, so each caller gets its own result
//! and nothing is lost or written twice; if the commit itself fails, every caller of the group gets the
//! error. Appends inside another write's transaction ([`PgStore::append_in`]) are not queued.

use async_trait::async_trait;
use custodian_core::audit::{AuditRecord, ChainHead, Checkpoint, Hash, NewAuditEvent, extend};
use custodian_core::ports::group_commit::{
    GroupFailure, GroupHeads, GroupWriter, QueuedAppend, abandoned, write_queued,
};
use custodian_core::ports::{AuditLog, StoreError};
use custodian_core::tenant::TenantId;
use sqlx::PgConnection;
use time::OffsetDateTime;
use tokio::sync::oneshot;

use crate::error::{self, DatabaseError, corrupt};
use crate::{PgStore, check, micros};

/// Why an append failed (carried inside [`StoreError::AuditFailed`]).
#[derive(Debug, thiserror::Error)]
enum AppendError {
    #[error(transparent)]
    Database(#[from] DatabaseError),
    #[error("the stored chain head of `{0}` is not valid")]
    BadHead(String),
}

impl From<StoreError> for AppendError {
    fn from(e: StoreError) -> Self {
        AppendError::Database(DatabaseError::corrupt(e.to_string()))
    }
}

fn db(e: sqlx::Error) -> AppendError {
    match error::store(e) {
        StoreError::Unavailable(inner) => match inner.downcast::<DatabaseError>() {
            Ok(d) => AppendError::Database(*d),
            Err(other) => AppendError::Database(DatabaseError::corrupt(other.to_string())),
        },
        other => AppendError::Database(DatabaseError::corrupt(other.to_string())),
    }
}

pub(crate) fn hash_of(field: &str, bytes: &[u8]) -> Result<Hash, StoreError> {
    let raw: [u8; 32] = bytes.try_into().map_err(|_| corrupt(format!("stored {field} is not 32 bytes")))?;
    Ok(Hash(raw))
}

fn head_of(tenant: &TenantId, seq: i64, hash: &[u8]) -> Result<ChainHead, StoreError> {
    Ok(ChainHead {
        tenant: tenant.clone(),
        seq: check::unsigned("audit seq", seq)?,
        hash: hash_of("chain head", hash)?,
    })
}

impl PgStore {
    /// Appends `events` to `tenant`'s chain inside the caller's transaction and returns the new head; with
    /// no events it appends nothing and creates no chain. The transaction must be scoped to `tenant`.
    pub(crate) async fn append_in(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        events: Vec<NewAuditEvent>,
    ) -> Result<ChainHead, StoreError> {
        if events.is_empty() {
            return read_head(conn, tenant).await;
        }
        self.append_locked(conn, tenant, events).await.map_err(|e| StoreError::AuditFailed(Box::new(e)))
    }

    async fn append_locked(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        events: Vec<NewAuditEvent>,
    ) -> Result<ChainHead, AppendError> {
        let head = lock_head(conn, tenant).await?;
        let records = extend(&head, self.environment, events);
        self.insert_records(conn, tenant, head, &records).await
    }

    /// Inserts `records` (extending `head`, whose row the transaction has locked) and moves the head.
    async fn insert_records(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        head: ChainHead,
        records: &[AuditRecord],
    ) -> Result<ChainHead, AppendError> {
        let Some(last) = records.last() else { return Ok(head) };
        let new_head = last.head();
        let mut seqs = Vec::with_capacity(records.len());
        let mut ats = Vec::with_capacity(records.len());
        let mut blobs = Vec::with_capacity(records.len());
        for record in records {
            seqs.push(i64::try_from(record.seq).map_err(|_| AppendError::BadHead(tenant.to_string()))?);
            ats.push(micros(record.at));
            blobs.push(record.encode());
        }
        let new_seq = i64::try_from(new_head.seq).map_err(|_| AppendError::BadHead(tenant.to_string()))?;
        // One statement: insert the records, then move the head (a data-modifying CTE always runs). The arrays
        // are unnested in the select list, row by row, without a tuple store.
        sqlx::query(
            "WITH ins AS (
                INSERT INTO audit_records (tenant_id, seq, at, record)
                SELECT $1, unnest($2::bigint[]), unnest($3::timestamptz[]), unnest($4::bytea[])
            )
            UPDATE audit_heads SET seq = $5, hash = $6 WHERE tenant_id = $1",
        )
        .bind(tenant.as_str())
        .bind(&seqs)
        .bind(&ats)
        .bind(&blobs)
        .bind(new_seq)
        .bind(new_head.hash.0.as_slice())
        .execute(&mut *conn)
        .await
        .map_err(db)?;
        Ok(new_head)
    }
}

/// Locks the tenant's head row, creating it at genesis for a new chain, and returns it.
async fn lock_head(conn: &mut PgConnection, tenant: &TenantId) -> Result<ChainHead, AppendError> {
    let select = "SELECT seq, hash FROM audit_heads WHERE tenant_id = $1 FOR UPDATE";
    let row: Option<(i64, Vec<u8>)> =
        sqlx::query_as(select).bind(tenant.as_str()).fetch_optional(&mut *conn).await.map_err(db)?;
    let row = match row {
        Some(row) => row,
        None => {
            sqlx::query(
                "INSERT INTO audit_heads (tenant_id, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (tenant_id) DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(Hash::GENESIS.0.as_slice())
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            sqlx::query_as(select).bind(tenant.as_str()).fetch_one(&mut *conn).await.map_err(db)?
        }
    };
    head_of(tenant, row.0, &row.1).map_err(|_| AppendError::BadHead(tenant.to_string()))
}

/// The tenant's head without locking it (genesis for a tenant without a chain).
async fn read_head(conn: &mut PgConnection, tenant: &TenantId) -> Result<ChainHead, StoreError> {
    let row: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(error::store)?;
    match row {
        Some((seq, hash)) => head_of(tenant, seq, &hash),
        None => Ok(ChainHead::genesis(tenant.clone())),
    }
}

/// Decodes stored record blobs.
pub(crate) fn decode(rows: Vec<(i64, Vec<u8>)>) -> Result<Vec<AuditRecord>, StoreError> {
    rows.into_iter()
        .map(|(seq, blob)| {
            AuditRecord::decode(&blob)
                .map_err(|e| corrupt(format!("stored audit record {seq} does not decode: {e}")))
        })
        .collect()
}

/// A stored checkpoint: seq, hash, at (microseconds), the nanosecond of its second, prev, digest.
type CheckpointRow = (i64, Vec<u8>, OffsetDateTime, i32, Vec<u8>, Vec<u8>);

/// Reads a stored checkpoint row.
fn checkpoint_of(tenant: &TenantId, row: CheckpointRow) -> Result<Checkpoint, StoreError> {
    let (seq, hash, at, subsec, prev, digest) = row;
    let nanos = u32::try_from(subsec).map_err(|_| corrupt("stored checkpoint nanoseconds are negative"))?;
    let at = at
        .replace_nanosecond(nanos)
        .map_err(|_| corrupt("stored checkpoint nanoseconds are out of range"))?;
    Ok(Checkpoint {
        tenant: tenant.clone(),
        seq: check::unsigned("checkpoint seq", seq)?,
        hash: hash_of("checkpoint hash", &hash)?,
        at,
        prev: hash_of("checkpoint prev", &prev)?,
        digest: hash_of("checkpoint digest", &digest)?,
    })
}

const CHECKPOINT_COLUMNS: &str = "seq, hash, at, at_subsec_nanos, prev, digest";

/// Every checkpoint of the tenant, oldest first.
pub(crate) async fn checkpoints(
    conn: &mut PgConnection,
    tenant: &TenantId,
) -> Result<Vec<Checkpoint>, StoreError> {
    let rows: Vec<CheckpointRow> = sqlx::query_as(&format!(
        "SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY n"
    ))
    .bind(tenant.as_str())
    .fetch_all(&mut *conn)
    .await
    .map_err(error::store)?;
    rows.into_iter().map(|row| checkpoint_of(tenant, row)).collect()
}

/// `limit` as a SQL `LIMIT`.
fn limit(limit: u32) -> i64 {
    i64::from(limit)
}

#[async_trait]
impl GroupWriter for PgStore {
    /// One append in its own transaction, scoped to its tenant.
    async fn append_alone(
        &self,
        tenant: &TenantId,
        events: Vec<NewAuditEvent>,
    ) -> Result<ChainHead, StoreError> {
        let mut tx = self.begin(tenant.as_str()).await?;
        let head = self.append_in(&mut tx, tenant, events).await?;
        tx.commit().await.map_err(error::store)?;
        Ok(head)
    }

    /// Appends every pending append of `group` in one transaction: per tenant (in tenant order), scoped to
    /// that tenant, its appends' events in queue order, in one extension of its chain. Returns each
    /// append's head, in `group` order.
    async fn commit_group(&self, group: &[QueuedAppend]) -> Result<Vec<ChainHead>, GroupFailure> {
        let (mut heads, shares) = GroupHeads::split(group);
        let mut tx = self.begin("").await.map_err(|_| GroupFailure::Write)?;
        for mut share in shares {
            let tenant = share.tenant;
            let events = std::mem::take(&mut share.events);
            let scoped = sqlx::query("SELECT set_config('custodian.tenant', $1, true)")
                .bind(tenant.as_str())
                .execute(&mut *tx)
                .await;
            let extended = match scoped {
                Ok(_) => match lock_head(&mut tx, tenant).await {
                    Ok(head) => {
                        let records = extend(&head, self.environment, events);
                        self.insert_records(&mut tx, tenant, head.clone(), &records)
                            .await
                            .map(|_| (head, records.iter().map(|r| r.hash).collect::<Vec<Hash>>()))
                    }
                    Err(e) => Err(e),
                },
                Err(e) => Err(db(e)),
            };
            let Ok((start, hashes)) = extended else {
                let _ = tx.rollback().await;
                return Err(GroupFailure::Write);
            };
            heads.extended(&share, &start, &hashes);
        }
        let Some(heads) = heads.heads() else {
            let _ = tx.rollback().await;
            return Err(GroupFailure::Write);
        };
        tx.commit().await.map_err(|e| GroupFailure::Commit(StoreError::AuditFailed(Box::new(db(e)))))?;
        Ok(heads)
    }
}

#[async_trait]
impl AuditLog for PgStore {
    async fn append(&self, tenant: &TenantId, events: Vec<NewAuditEvent>) -> Result<ChainHead, StoreError> {
        if events.is_empty() {
            return self.head(tenant).await;
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
        let mut tx = self.begin(tenant.as_str()).await?;
        let head = read_head(&mut tx, tenant).await?;
        tx.commit().await.map_err(error::store)?;
        Ok(head)
    }

    async fn read(&self, tenant: &TenantId, from_seq: u64, max: u32) -> Result<Vec<AuditRecord>, StoreError> {
        let Ok(from) = i64::try_from(from_seq) else { return Ok(Vec::new()) };
        let mut tx = self.begin(tenant.as_str()).await?;
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT seq, record FROM audit_records WHERE tenant_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3",
        )
        .bind(tenant.as_str())
        .bind(from)
        .bind(limit(max))
        .fetch_all(&mut *tx)
        .await
        .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        decode(rows)
    }

    async fn read_between(
        &self,
        tenant: &TenantId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        max: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        // The `at` column holds each record's time floored to the microsecond, so the query below selects a
        // superset ([floor(from), floor(to)]) and the exact bounds are applied to the decoded times.
        let mut out = Vec::new();
        if max == 0 || from >= to {
            return Ok(out);
        }
        let mut tx = self.begin(tenant.as_str()).await?;
        let mut after: i64 = 0;
        loop {
            let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
                "SELECT seq, record FROM audit_records
                 WHERE tenant_id = $1 AND at >= $2 AND at <= $3 AND seq > $4 ORDER BY seq LIMIT $5",
            )
            .bind(tenant.as_str())
            .bind(micros(from))
            .bind(micros(to))
            .bind(after)
            .bind(limit(max))
            .fetch_all(&mut *tx)
            .await
            .map_err(error::store)?;
            let fetched = rows.len();
            if let Some((seq, _)) = rows.last() {
                after = *seq;
            }
            for record in decode(rows)? {
                if from <= record.at && record.at < to {
                    out.push(record);
                    if out.len() >= max as usize {
                        tx.commit().await.map_err(error::store)?;
                        return Ok(out);
                    }
                }
            }
            if fetched < max as usize {
                break;
            }
        }
        tx.commit().await.map_err(error::store)?;
        Ok(out)
    }

    async fn chains(&self) -> Result<Vec<TenantId>, StoreError> {
        let mut tx = self.begin("").await?;
        let rows: Vec<(String,)> = sqlx::query_as("SELECT tenant_id FROM custodian_audit_chains()")
            .fetch_all(&mut *tx)
            .await
            .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        rows.iter().map(|(t,)| check::parse("tenant id", t)).collect()
    }

    async fn latest_checkpoint(&self, tenant: &TenantId) -> Result<Option<Checkpoint>, StoreError> {
        let mut tx = self.begin(tenant.as_str()).await?;
        let row: Option<CheckpointRow> = sqlx::query_as(&format!(
            "SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY n DESC LIMIT 1"
        ))
        .bind(tenant.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        row.map(|row| checkpoint_of(tenant, row)).transpose()
    }

    async fn checkpoint_and_truncate(&self, checkpoint: &Checkpoint) -> Result<u64, StoreError> {
        let tenant = &checkpoint.tenant;
        let conflict =
            |why: &str| StoreError::Conflict(format!("checkpoint at seq {}: {why}", checkpoint.seq));
        let seq = check::big("checkpoint seq", checkpoint.seq)?;
        let mut tx = self.begin(tenant.as_str()).await?;
        let head: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE tenant_id = $1 FOR UPDATE")
                .bind(tenant.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(error::store)?;
        let Some((head_seq, head_hash)) = head else { return Err(conflict("the tenant has no audit chain")) };
        let head = head_of(tenant, head_seq, &head_hash)?;
        #[expect(clippy::type_complexity, reason = "the position n, then a checkpoint row")]
        let latest: Option<(i64, i64, Vec<u8>, OffsetDateTime, i32, Vec<u8>, Vec<u8>)> = sqlx::query_as(&format!(
            "SELECT n, {CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY n DESC LIMIT 1"
        ))
        .bind(tenant.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(error::store)?;
        let (n, latest) = match latest {
            Some((n, s, h, a, ns, p, d)) => (n, Some(checkpoint_of(tenant, (s, h, a, ns, p, d))?)),
            None => (0, None),
        };
        if checkpoint.verify_link(latest.as_ref()).is_err() {
            return Err(conflict("it does not link to the latest checkpoint"));
        }
        if checkpoint.seq > head.seq {
            return Err(conflict("it is beyond the head of the chain"));
        }
        let matches_chain = if checkpoint.seq == head.seq {
            checkpoint.hash == head.hash
        } else {
            let row: Option<(Vec<u8>,)> =
                sqlx::query_as("SELECT record FROM audit_records WHERE tenant_id = $1 AND seq = $2")
                    .bind(tenant.as_str())
                    .bind(seq)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(error::store)?;
            row.is_some_and(|(blob,)| blob.len() >= 32 && blob[blob.len() - 32..] == checkpoint.hash.0)
        };
        if !matches_chain {
            return Err(conflict("its hash is not the chain's hash at that seq"));
        }
        sqlx::query(
            "INSERT INTO audit_checkpoints (tenant_id, n, seq, hash, at, at_subsec_nanos, prev, digest)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(tenant.as_str())
        .bind(n + 1)
        .bind(seq)
        .bind(checkpoint.hash.0.as_slice())
        .bind(micros(checkpoint.at))
        .bind(i32::try_from(checkpoint.at.nanosecond()).unwrap_or(0))
        .bind(checkpoint.prev.0.as_slice())
        .bind(checkpoint.digest.0.as_slice())
        .execute(&mut *tx)
        .await
        .map_err(error::store)?;
        let deleted = sqlx::query("DELETE FROM audit_records WHERE tenant_id = $1 AND seq <= $2")
            .bind(tenant.as_str())
            .bind(seq)
            .execute(&mut *tx)
            .await
            .map_err(error::store)?
            .rows_affected();
        tx.commit().await.map_err(error::store)?;
        Ok(deleted)
    }
}
