//! Verification of a tenant's audit chain straight from the database (AUD-2: "verifiable by a command").
//!
//! In one read-only, repeatable-read transaction: the tenant's checkpoints are verified as their own chain;
//! the records after the latest checkpoint are streamed with `COPY … TO STDOUT (FORMAT binary)` (no
//! per-row overhead) and checked from the checkpoint's head (or genesis) with the rules of
//! [`custodian_core::audit::verify`]; finally the end of the chain must be the stored head, so records cut
//! off the end are found too. The first position that fails is reported with its sequence number. A record
//! that does not even decode fails as a hash mismatch at its position.
//!
//! The work is split so that reading never waits for hashing, and a long chain is read on two server
//! processes at once:
//!
//! - A chain of more than [`RANGE`] records is read in seq ranges of that size, alternately on the
//!   transaction's connection and on a second one (an idle connection of the pool, else a new one) whose
//!   transaction imports the first one's snapshot (`pg_export_snapshot`, `SET TRANSACTION SNAPSHOT`), so both
//!   read the same chain. The last range has no upper bound: records past the stored head are read too.
//! - Each range's stream is cut into blocks of raw records, and each block is decoded and hashed on a thread
//!   of its own ([`IN_FLIGHT`] blocks at a time per reader) while the next block is read. Per record that
//!   thread keeps only what the chain rules need (tenant matches, seq, prev hash, stored hash, whether
//!   SHA-256 of the record's canonical bytes equals the stored hash).
//! - The rules are applied to the ranges in chain order, record by record, so the verdict and the position
//!   named are exactly those of [`custodian_core::audit::verify`] over the whole chain, whatever the range
//!   boundaries. The hash is computed over the stored canonical bytes themselves (a blob is those bytes
//!   followed by the hash, and [`AuditRecord::decode`] accepts only the canonical form), which is what
//!   re-encoding the decoded record would produce, without the copy.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::audit::{checkpoints, hash_of};
use crate::error::{self, corrupt};
use crate::{APP_ROLE, PgStore, check};
use custodian_core::audit::{AuditRecord, ChainHead, Hash, TamperKind, Tampered, verify_checkpoints};
use custodian_core::ports::StoreError;
use custodian_core::tenant::TenantId;
use futures::channel::{mpsc, oneshot};
use futures::{SinkExt as _, StreamExt as _, TryStreamExt as _};
use sqlx::pool::PoolConnection;
use sqlx::{Connection as _, PgConnection, Postgres, Transaction};

/// Records per block handed to a checking thread.
const BLOCK: usize = 8_192;
/// Blocks checked at once, each on its own thread, while the stream is read.
const IN_FLIGHT: usize = 2;

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

/// The binary COPY stream of `(record bytea)` tuples, parsed incrementally.
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

    /// The next blob if complete in the buffer; `Ok(None)` when more bytes are needed.
    fn next(&mut self) -> Result<Option<&[u8]>, StoreError> {
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
        if fields != 1 {
            return Err(bad());
        }
        let Some(blob_len) = self.int(at + 2, 4) else { return Ok(None) };
        let blob_len = usize::try_from(blob_len).map_err(|_| bad())?;
        if self.buf.len() < at + 6 + blob_len {
            return Ok(None);
        }
        self.pos = at + 6 + blob_len;
        let blob = self.take(at + 6, blob_len).ok_or_else(bad)?;
        Ok(Some(blob))
    }
}

/// Raw records, back to back, and where each ends.
#[derive(Default)]
struct Block {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Block {
    fn push(&mut self, blob: &[u8]) {
        self.bytes.extend_from_slice(blob);
        self.ends.push(self.bytes.len());
    }

    fn len(&self) -> usize {
        self.ends.len()
    }
}

/// What the chain rules need of one stored record.
enum Checked {
    /// The blob does not decode.
    Undecodable,
    Record {
        /// The record names the chain's tenant.
        tenant: bool,
        seq: u64,
        prev: Hash,
        hash: Hash,
        /// SHA-256 of the record's canonical bytes is its stored hash.
        hash_ok: bool,
    },
}

/// Decodes and hashes every record of `block` (the part of the work that needs no order).
fn check_block(tenant: &TenantId, block: &Block) -> Vec<Checked> {
    let mut start = 0;
    block
        .ends
        .iter()
        .map(|&end| {
            let blob = block.bytes.get(start..end).unwrap_or_default();
            start = end;
            check_record(tenant, blob)
        })
        .collect()
}

fn check_record(tenant: &TenantId, blob: &[u8]) -> Checked {
    let Ok(record) = AuditRecord::decode(blob) else { return Checked::Undecodable };
    // A decoded blob is the record's canonical bytes followed by its 32-byte hash.
    let body = blob.len().checked_sub(32).and_then(|n| blob.get(..n));
    Checked::Record {
        tenant: record.tenant == *tenant,
        seq: record.seq,
        prev: record.prev_hash,
        hash: record.hash,
        hash_ok: body.is_some_and(|body| Hash::of(body) == record.hash),
    }
}

/// Applies the chain rules of [`custodian_core::audit::verify`] to `checked`, in order, from `head`: the
/// tenant, then the seq (`head.seq + 1`), then the link to the previous hash, then the hash itself; an
/// undecodable record is a hash mismatch. Moves `head` past every record that passes.
fn link(head: &mut ChainHead, checked: &[Checked]) -> Result<(), Tampered> {
    for c in checked {
        let Some(expected) = head.seq.checked_add(1) else {
            return Err(Tampered { seq: head.seq, kind: TamperKind::SequenceGap });
        };
        let fail = |kind| Err(Tampered { seq: expected, kind });
        match c {
            Checked::Undecodable => return fail(TamperKind::HashMismatch),
            Checked::Record { tenant: false, .. } => return fail(TamperKind::WrongTenant),
            Checked::Record { seq, .. } if *seq != expected => return fail(TamperKind::SequenceGap),
            Checked::Record { prev, .. } if *prev != head.hash => return fail(TamperKind::BrokenLink),
            Checked::Record { hash_ok: false, .. } => return fail(TamperKind::HashMismatch),
            Checked::Record { hash, .. } => {
                head.seq = expected;
                head.hash = *hash;
            }
        }
    }
    Ok(())
}

/// Checks `block` on a thread of its own; the receiver yields the result.
fn spawn_check(tenant: &TenantId, block: Block) -> Result<oneshot::Receiver<Vec<Checked>>, StoreError> {
    let (tx, rx) = oneshot::channel();
    let tenant = tenant.clone();
    std::thread::Builder::new()
        .name("custodian-verify".to_owned())
        .spawn(move || {
            let _ = tx.send(check_block(&tenant, &block));
        })
        .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
    Ok(rx)
}

/// The result of the oldest block in flight.
async fn finished(rx: oneshot::Receiver<Vec<Checked>>) -> Result<Vec<Checked>, StoreError> {
    rx.await.map_err(|_| corrupt("an audit verification thread stopped"))
}

impl PgStore {
    /// Verifies `tenant`'s whole stored chain (checkpoints, records and head) from the database.
    pub async fn verify_chain(&self, tenant: &TenantId) -> Result<ChainReport, StoreError> {
        let mut tx = self.begin_snapshot(tenant).await?;
        let report = self.verify_in(&mut tx, tenant).await;
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
        scope_reader(&mut tx, tenant).await?;
        Ok(tx)
    }

    /// A connection for the second reader of a long chain: an idle one of the pool, else a new one with the
    /// pool's options (never a wait for a busy pool).
    async fn second_connection(&self) -> Result<Second, StoreError> {
        match self.pool.try_acquire() {
            Some(conn) => Ok(Second::Pooled(conn)),
            None => PgConnection::connect_with(&self.pool.connect_options())
                .await
                .map(Second::Own)
                .map_err(error::store),
        }
    }

    async fn verify_in(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        tenant: &TenantId,
    ) -> Result<ChainReport, StoreError> {
        let report = |records, status| Ok(ChainReport { tenant: tenant.clone(), records, status });
        let cps = checkpoints(tx, tenant).await?;
        let mut current = match verify_checkpoints(&cps) {
            Ok(head) => head.unwrap_or_else(|| ChainHead::genesis(tenant.clone())),
            Err(t) => return report(0, ChainStatus::Tampered(t)),
        };
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
        let ranges = ranges(check::big("checkpoint seq", current.seq)?, check::big("audit seq", head.seq)?);
        let (read, failure) = if ranges.len() > 1 {
            let (snapshot,): (String,) = sqlx::query_as("SELECT pg_export_snapshot()")
                .fetch_one(&mut **tx)
                .await
                .map_err(error::store)?;
            let mut second = self.second_connection().await?;
            let mut other = second.conn().begin().await.map_err(error::store)?;
            import_snapshot(&mut other, &snapshot).await?;
            scope_reader(&mut other, tenant).await?;
            let outcome = read_and_link(&mut [&mut **tx, &mut *other], tenant, &ranges, &mut current).await;
            other.commit().await.map_err(error::store)?;
            second.close().await;
            outcome?
        } else {
            read_and_link(&mut [&mut **tx], tenant, &ranges, &mut current).await?
        };
        if let Some(t) = failure {
            return report(read, ChainStatus::Tampered(t));
        }
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
}

/// The second reader's connection, returned to the pool or closed after the check.
enum Second {
    Pooled(PoolConnection<Postgres>),
    Own(PgConnection),
}

impl Second {
    fn conn(&mut self) -> &mut PgConnection {
        match self {
            Second::Pooled(conn) => conn,
            Second::Own(conn) => conn,
        }
    }

    async fn close(self) {
        if let Second::Own(conn) = self {
            let _ = conn.close().await;
        }
    }
}

/// Scopes a reading transaction: the application role, the tenant, and the planner settings of a check.
/// Sorting is disabled, so the records are always read in the primary key's order (`tenant_id, seq`): with
/// statistics that lag behind a fast-growing chain the planner would otherwise sort the whole chain
/// (measured: on disk, twice as slow). JIT is off too: the one query streams, it has nothing to compile.
async fn scope_reader(conn: &mut PgConnection, tenant: &TenantId) -> Result<(), StoreError> {
    sqlx::query(
        "SELECT set_config('role', $1, true), set_config('custodian.tenant', $2, true),
            set_config('enable_sort', 'off', true), set_config('jit', 'off', true)",
    )
    .bind(APP_ROLE)
    .bind(tenant.as_str())
    .execute(&mut *conn)
    .await
    .map_err(error::store)?;
    Ok(())
}

/// Makes a just-begun transaction repeatable-read and read-only on the snapshot `id` that the first
/// reader exported, so that both read the same chain.
async fn import_snapshot(conn: &mut PgConnection, id: &str) -> Result<(), StoreError> {
    // `SET TRANSACTION SNAPSHOT` takes no parameter; the id comes from the server and is checked to be
    // what the server writes (hex digits and dashes) before it is quoted into the statement.
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        return Err(corrupt("the server exported a malformed snapshot id"));
    }
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *conn)
        .await
        .map_err(error::store)?;
    sqlx::raw_sql(&format!("SET TRANSACTION SNAPSHOT '{id}'"))
        .execute(&mut *conn)
        .await
        .map_err(error::store)?;
    Ok(())
}

/// Records per range once a long chain is read in ranges.
const RANGE: i64 = 65_536;

/// The seq ranges `(after, until]` to read after `from` (the checkpoint's seq), up to the stored head at
/// `end`: one range for a short chain, else ranges of [`RANGE`] records. The last range has no upper bound,
/// so records past the stored head are read (and found) too.
fn ranges(from: i64, end: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut after = from;
    while end.saturating_sub(after) > RANGE {
        out.push((after, after + RANGE));
        after += RANGE;
    }
    out.push((after, i64::MAX));
    out
}

/// The records of one range, decoded and hashed, in chain order.
struct RangeRead {
    read: u64,
    checked: Vec<Checked>,
}

/// Reads the ranges, range `i` on connection `i % n`, all connections at once, and applies the chain rules
/// to the ranges in order as they complete. Returns the records read and the first failure.
async fn read_and_link(
    conns: &mut [&mut PgConnection],
    tenant: &TenantId,
    ranges: &[(i64, i64)],
    current: &mut ChainHead,
) -> Result<(u64, Option<Tampered>), StoreError> {
    let n = conns.len().max(1);
    let stop = AtomicBool::new(false);
    let mut senders = Vec::with_capacity(n);
    let mut receivers = Vec::with_capacity(n);
    for _ in 0..n {
        // One range in the channel and one being read per connection: memory stays at a few ranges.
        let (tx, rx) = mpsc::channel::<Result<RangeRead, StoreError>>(0);
        senders.push(tx);
        receivers.push(rx);
    }
    let stop = &stop;
    let readers = conns.iter_mut().zip(senders).enumerate().map(|(k, (conn, mut out))| async move {
        for &(after, until) in ranges.iter().skip(k).step_by(n) {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let range = read_range(conn, tenant, after, until).await;
            let failed = range.is_err();
            if out.send(range).await.is_err() || failed {
                break;
            }
        }
    });
    let linker = async move {
        let mut read = 0;
        for i in 0..ranges.len() {
            let Some(range) = receivers.get_mut(i % n) else { break };
            let Some(range) = range.next().await else {
                return Err(corrupt("an audit chain reader stopped early"));
            };
            let range = range.inspect_err(|_| stop.store(true, Ordering::Relaxed))?;
            read += range.read;
            if let Err(t) = link(current, &range.checked) {
                stop.store(true, Ordering::Relaxed);
                return Ok((read, Some(t)));
            }
        }
        Ok((read, None))
    };
    let (_, outcome) = futures::future::join(futures::future::join_all(readers), linker).await;
    outcome
}

/// Streams the records with `after < seq <= until` with `COPY … TO STDOUT (FORMAT binary)` and decodes and
/// hashes them in blocks on threads of their own ([`IN_FLIGHT`] at a time) while the stream is read.
async fn read_range(
    conn: &mut PgConnection,
    tenant: &TenantId,
    after: i64,
    until: i64,
) -> Result<RangeRead, StoreError> {
    sqlx::query(
        "SELECT set_config('custodian.verify_after', $1, true),
            set_config('custodian.verify_until', $2, true)",
    )
    .bind(after.to_string())
    .bind(until.to_string())
    .execute(&mut *conn)
    .await
    .map_err(error::store)?;
    let mut stream = conn
        .copy_out_raw(
            "COPY (SELECT record FROM audit_records
                   WHERE tenant_id = current_setting('custodian.tenant')
                     AND seq > current_setting('custodian.verify_after')::bigint
                     AND seq <= current_setting('custodian.verify_until')::bigint
                   ORDER BY seq) TO STDOUT (FORMAT binary)",
        )
        .await
        .map_err(error::store)?;
    let mut reader = CopyReader::new();
    let mut block = Block::default();
    let mut in_flight: VecDeque<oneshot::Receiver<Vec<Checked>>> = VecDeque::with_capacity(IN_FLIGHT);
    let mut out = RangeRead { read: 0, checked: Vec::new() };
    while let Some(chunk) = stream.try_next().await.map_err(error::store)? {
        reader.push(&chunk);
        while let Some(blob) = reader.next()? {
            out.read += 1;
            block.push(blob);
            if block.len() < BLOCK {
                continue;
            }
            if in_flight.len() >= IN_FLIGHT
                && let Some(oldest) = in_flight.pop_front()
            {
                out.checked.extend(finished(oldest).await?);
            }
            in_flight.push_back(spawn_check(tenant, std::mem::take(&mut block))?);
        }
    }
    drop(stream);
    if !reader.finished && reader.header_done {
        return Err(corrupt("the audit record stream ended early"));
    }
    if block.len() > 0 {
        in_flight.push_back(spawn_check(tenant, block)?);
    }
    while let Some(oldest) = in_flight.pop_front() {
        out.checked.extend(finished(oldest).await?);
    }
    Ok(out)
}
