//! Verification of a tenant's audit chain straight from the database (AUD-2: "verifiable by a command").
//!
//! In one read-only, repeatable-read transaction: the tenant's checkpoints are verified as their own chain;
//! the records after the latest checkpoint are streamed with `COPY … TO STDOUT (FORMAT binary)` (no
//! per-row overhead), decoded and checked with [`custodian_core::audit::verify`] from the checkpoint's head
//! (or genesis); finally the end of the chain must be the stored head, so records cut off the end are
//! found too. The first position that fails is reported with its sequence number. A record that does not
//! even decode fails as a hash mismatch at its position.
//!
//! Records are verified in blocks; each block is split in two halves checked on two threads, the second
//! from the head its first half claims (sound: the first half's check covers that claim).

use custodian_core::audit::{AuditRecord, ChainHead, TamperKind, Tampered, verify, verify_checkpoints};
use custodian_core::ports::StoreError;
use custodian_core::tenant::TenantId;
use futures::TryStreamExt;
use sqlx::{Postgres, Transaction};

use crate::audit::{checkpoints, hash_of};
use crate::error::{self, corrupt};
use crate::{APP_ROLE, PgStore, check};

/// Records decoded before a block is verified.
const BLOCK: usize = 16_384;

/// What verifying one chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub tenant: TenantId,
    /// Records read (after the latest checkpoint).
    pub records: u64,
    pub status: ChainStatus,
}

/// Whether a chain verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainStatus {
    /// Checkpoints and records verify and end at the stored head.
    Intact { head: ChainHead },
    /// The first bad position.
    Tampered(Tampered),
}

/// The binary COPY stream of `(seq bigint, record bytea)` tuples, parsed incrementally.
struct CopyReader {
    buf: Vec<u8>,
    pos: usize,
    header_done: bool,
    finished: bool,
}

impl CopyReader {
    const SIGNATURE: &'static [u8] = b"PGCOPY\n\xff\r\n\0";

    fn new() -> Self {
        Self { buf: Vec::with_capacity(1 << 20), pos: 0, header_done: false, finished: false }
    }

    fn push(&mut self, chunk: &[u8]) {
        if self.pos > 0 && self.pos * 2 > self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    fn take(&self, at: usize, n: usize) -> Option<&[u8]> {
        self.buf.get(at..at.checked_add(n)?)
    }

    fn int(&self, at: usize, n: usize) -> Option<i64> {
        let bytes = self.take(at, n)?;
        Some(match n {
            2 => i64::from(i16::from_be_bytes(bytes.try_into().ok()?)),
            4 => i64::from(i32::from_be_bytes(bytes.try_into().ok()?)),
            _ => i64::from_be_bytes(bytes.try_into().ok()?),
        })
    }

    /// The next `(seq, blob)` if complete in the buffer; `Ok(None)` when more bytes are needed.
    fn next(&mut self) -> Result<Option<(i64, &[u8])>, StoreError> {
        let bad = || corrupt("the audit record stream is malformed");
        if !self.header_done {
            let fixed = Self::SIGNATURE.len() + 8;
            let Some(ext) = self.int(Self::SIGNATURE.len() + 4, 4) else { return Ok(None) };
            let ext = usize::try_from(ext).map_err(|_| bad())?;
            if self.buf.len() < fixed + ext {
                return Ok(None);
            }
            if self.take(0, Self::SIGNATURE.len()) != Some(Self::SIGNATURE) {
                return Err(bad());
            }
            self.pos = fixed + ext;
            self.header_done = true;
        }
        let at = self.pos;
        let Some(fields) = self.int(at, 2) else { return Ok(None) };
        if fields == -1 {
            self.finished = true;
            return Ok(None);
        }
        if fields != 2 {
            return Err(bad());
        }
        let Some(seq_len) = self.int(at + 2, 4) else { return Ok(None) };
        if seq_len != 8 {
            return Err(bad());
        }
        let Some(seq) = self.int(at + 6, 8) else { return Ok(None) };
        let Some(blob_len) = self.int(at + 14, 4) else { return Ok(None) };
        let blob_len = usize::try_from(blob_len).map_err(|_| bad())?;
        if self.buf.len() < at + 18 + blob_len {
            return Ok(None);
        }
        self.pos = at + 18 + blob_len;
        let blob = self.take(at + 18, blob_len).ok_or_else(bad)?;
        Ok(Some((seq, blob)))
    }
}

/// Verifies `records` from `start`: two halves on two threads (the second from the head the first half's
/// last record claims). Returns the new head or the first failure.
fn verify_block(start: &ChainHead, records: &[AuditRecord]) -> Result<ChainHead, Tampered> {
    if records.len() < 1024 {
        return verify(start, records);
    }
    let (first, second) = records.split_at(records.len() / 2);
    let Some(mid) = first.last().map(AuditRecord::head) else { return verify(start, records) };
    let mid = ChainHead { tenant: start.tenant.clone(), ..mid };
    let (a, b) = std::thread::scope(|s| {
        let second_half = s.spawn(|| verify(&mid, second));
        let a = verify(start, first);
        (a, second_half.join())
    });
    a?;
    match b {
        Ok(result) => result,
        // A panic in the verifier thread cannot happen (verify is total); treat it as a failed block.
        Err(_) => Err(Tampered { seq: mid.seq.saturating_add(1), kind: TamperKind::HashMismatch }),
    }
}

impl PgStore {
    /// Verifies `tenant`'s whole stored chain (checkpoints, records and head) from the database.
    pub async fn verify_chain(&self, tenant: &TenantId) -> Result<ChainReport, StoreError> {
        let mut tx = self.begin_snapshot(tenant).await?;
        let report = verify_in(&mut tx, tenant).await;
        tx.commit().await.map_err(error::store)?;
        report
    }

    /// A read-only repeatable-read transaction scoped to `tenant`: one snapshot for the whole check.
    async fn begin_snapshot(&self, tenant: &TenantId) -> Result<Transaction<'static, Postgres>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(error::store)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(error::store)?;
        sqlx::query("SELECT set_config('role', $1, true), set_config('custodian.tenant', $2, true)")
            .bind(APP_ROLE)
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await
            .map_err(error::store)?;
        Ok(tx)
    }
}

async fn verify_in(
    tx: &mut Transaction<'static, Postgres>,
    tenant: &TenantId,
) -> Result<ChainReport, StoreError> {
    let report = |records, status| Ok(ChainReport { tenant: tenant.clone(), records, status });
    let cps = checkpoints(tx, tenant).await?;
    let mut current = match verify_checkpoints(&cps) {
        Ok(head) => head.unwrap_or_else(|| ChainHead::genesis(tenant.clone())),
        Err(t) => return report(0, ChainStatus::Tampered(t)),
    };
    let from = check::big("checkpoint seq", current.seq)?;
    sqlx::query("SELECT set_config('custodian.verify_after', $1, true)")
        .bind(from.to_string())
        .execute(&mut **tx)
        .await
        .map_err(error::store)?;
    let mut stream = tx
        .copy_out_raw(
            "COPY (SELECT seq, record FROM audit_records
                   WHERE tenant_id = current_setting('custodian.tenant')
                     AND seq > current_setting('custodian.verify_after')::bigint
                   ORDER BY seq) TO STDOUT (FORMAT binary)",
        )
        .await
        .map_err(error::store)?;
    let mut reader = CopyReader::new();
    let mut block: Vec<AuditRecord> = Vec::with_capacity(BLOCK);
    let mut read: u64 = 0;
    let mut failure: Option<Tampered> = None;
    'stream: while let Some(chunk) = stream.try_next().await.map_err(error::store)? {
        if failure.is_some() {
            continue; // drain the stream so the connection stays usable
        }
        reader.push(&chunk);
        loop {
            let next = reader.next()?;
            let Some((_, blob)) = next else { break };
            read += 1;
            match AuditRecord::decode(blob) {
                Ok(record) => block.push(record),
                Err(_) => {
                    // Everything before this record must verify first; then this position is the failure.
                    let at = match verify_block(&current, &block) {
                        Ok(head) => {
                            Tampered { seq: head.seq.saturating_add(1), kind: TamperKind::HashMismatch }
                        }
                        Err(t) => t,
                    };
                    failure = Some(at);
                    block.clear();
                    continue 'stream;
                }
            }
            if block.len() >= BLOCK {
                match verify_block(&current, &block) {
                    Ok(head) => current = head,
                    Err(t) => {
                        failure = Some(t);
                        block.clear();
                        continue 'stream;
                    }
                }
                block.clear();
            }
        }
    }
    drop(stream);
    if let Some(t) = failure {
        return report(read, ChainStatus::Tampered(t));
    }
    if !reader.finished && reader.header_done {
        return Err(corrupt("the audit record stream ended early"));
    }
    match verify_block(&current, &block) {
        Ok(head) => current = head,
        Err(t) => return report(read, ChainStatus::Tampered(t)),
    }
    let stored: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_optional(&mut **tx)
            .await
            .map_err(error::store)?;
    let head = match stored {
        Some((seq, hash)) => ChainHead {
            tenant: tenant.clone(),
            seq: check::unsigned("audit seq", seq)?,
            hash: hash_of("chain head", &hash)?,
        },
        None => ChainHead::genesis(tenant.clone()),
    };
    if current == head {
        return report(read, ChainStatus::Intact { head });
    }
    let tampered = if current.seq < head.seq {
        // Records up to the head are missing at the end.
        Tampered { seq: current.seq.saturating_add(1), kind: TamperKind::SequenceGap }
    } else if current.seq > head.seq {
        Tampered { seq: head.seq.saturating_add(1), kind: TamperKind::SequenceGap }
    } else {
        Tampered { seq: head.seq, kind: TamperKind::HashMismatch }
    };
    report(read, ChainStatus::Tampered(tampered))
}
