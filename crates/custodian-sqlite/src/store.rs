//! [`SqliteStore`]: opening the database (file or memory), the writer and reader pools, write transactions
//! with their audit append (AUD-2), and chain verification straight from the stored rows.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use custodian_core::audit::{
    self, AuditRecord, ChainHead, Checkpoint, Hash, NewAuditEvent, TamperKind, Tampered,
};
use custodian_core::authz::Environment;
use custodian_core::ports::{Clock, StoreError};
use custodian_core::tenant::TenantId;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, SqliteConnection, Transaction};
use time::OffsetDateTime;

use crate::codec::{int, nanos};
use crate::error::{audit_failed, corrupt, db, migrate};
use crate::read::Readers;
use custodian_core::ports::group_commit::AppendQueue;

/// The schema, embedded: `migrations/` of this crate. [`SqliteStore::open`] runs it.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a write waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Reader connections of a file database (WAL lets them read during a write), for reads on sqlx.
const READERS: u32 = 4;
/// Read-only connections of the read path (`crate::read`): more than the threads that read at once.
const NATIVE_READERS: usize = 8;
/// Page cache of the writer and of each reader, in KiB (SQLite allocates it as pages are used).
const WRITER_CACHE_KIB: u32 = 64 * 1024;
const READER_CACHE_KIB: u32 = 16 * 1024;
/// Rows of `audit_records` inserted per statement.
const AUDIT_CHUNK: usize = 200;

/// Every storage port on one SQLite database. Cheap to clone (the pools are shared).
#[derive(Clone)]
pub struct SqliteStore {
    /// One connection: every write transaction is `BEGIN IMMEDIATE` on it.
    writer: SqlitePool,
    /// Reads; the same pool as `writer` for an in-memory database.
    reader: SqlitePool,
    /// The read path's own connections (`crate::read`); none for an in-memory database.
    readers: Option<Arc<Readers>>,
    clock: Arc<dyn Clock>,
    environment: Environment,
    path: Option<PathBuf>,
    /// Stand-alone audit appends waiting for the group writer (`AuditLog::append`).
    pub(crate) appends: Arc<AppendQueue>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("environment", &self.environment)
            .finish_non_exhaustive()
    }
}

/// Why a stored chain failed verification ([`SqliteStore::verify_chain`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The chain is not what it must be, first at `seq`.
    #[error(transparent)]
    Tampered(#[from] Tampered),
    /// The chain could not be read.
    #[error("audit chain could not be read")]
    Store(#[source] StoreError),
}

impl SqliteStore {
    /// Opens (creating it with mode 0600 if missing) the database file at `path`, in WAL mode with foreign
    /// keys on, synchronous `FULL` and a busy timeout, and runs the migrations. Audit records are stamped
    /// with `environment`; `clock` stamps `stored_at` and `updated_at`.
    pub async fn open(
        path: impl AsRef<Path>,
        environment: Environment,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        create_private(&path)?;
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(false)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("temp_store", "memory");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            // A page cache large enough for bulk ingest to stay off the disk between commits.
            .connect_with(options.clone().pragma("cache_size", format!("-{WRITER_CACHE_KIB}")))
            .await
            .map_err(db)?;
        MIGRATOR.run(&writer).await.map_err(migrate)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options.pragma("cache_size", format!("-{READER_CACHE_KIB}")))
            .await
            .map_err(db)?;
        let readers = Readers::open(&path, NATIVE_READERS, READER_CACHE_KIB, BUSY_TIMEOUT)?;
        Ok(Self {
            writer,
            reader,
            readers: Some(Arc::new(readers)),
            clock,
            environment,
            path: Some(path),
            appends: Arc::default(),
        })
    }

    /// A private in-memory database (for tests): one connection serves reads and writes, and it stays open
    /// as long as the store.
    pub async fn memory(environment: Environment, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(db)?
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(db)?;
        MIGRATOR.run(&pool).await.map_err(migrate)?;
        Ok(Self {
            writer: pool.clone(),
            reader: pool,
            readers: None,
            clock,
            environment,
            path: None,
            appends: Arc::default(),
        })
    }

    /// The environment stamped into audit records (ENV-1).
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// The database file, if not in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Closes the pools (waits for connections in use).
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    /// The pool for reads.
    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// The read path's connections, for a file database.
    pub(crate) fn readers(&self) -> Option<&Arc<Readers>> {
        self.readers.as_ref()
    }

    /// The clock's time.
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Starts a write transaction: `BEGIN IMMEDIATE` takes SQLite's write lock at once, so everything the
    /// transaction reads (a chain head, a job's lease) stays current until it commits.
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(db)
    }

    /// Appends `events` to `tenant`'s chain inside `tx` and returns the new head. Any failure is
    /// [`StoreError::AuditFailed`]; the caller's transaction then rolls back, so nothing is written.
    pub(crate) async fn append_in(
        &self,
        tx: &mut SqliteConnection,
        tenant: &TenantId,
        events: Vec<NewAuditEvent>,
    ) -> Result<ChainHead, StoreError> {
        let (head, hashes) = self.extend_in(tx, tenant, events).await?;
        Ok(match hashes.last() {
            Some(hash) => {
                ChainHead { tenant: tenant.clone(), seq: head.seq + hashes.len() as u64, hash: *hash }
            }
            None => head,
        })
    }

    /// [`SqliteStore::append_in`], returning the head the events extended and the hash of every record
    /// appended, in order (record `i` has seq `head.seq + 1 + i`).
    pub(crate) async fn extend_in(
        &self,
        tx: &mut SqliteConnection,
        tenant: &TenantId,
        events: Vec<NewAuditEvent>,
    ) -> Result<(ChainHead, Vec<Hash>), StoreError> {
        let head = head_in(&mut *tx, tenant).await.map_err(|e| match e {
            StoreError::Unavailable(source) => StoreError::AuditFailed(source),
            other => other,
        })?;
        if events.is_empty() {
            return Ok((head, Vec::new()));
        }
        let records = audit::extend(&head, self.environment, events);
        let mut rows = Vec::with_capacity(records.len());
        for record in &records {
            let seq = int("audit seq", record.seq).map_err(|e| StoreError::AuditFailed(Box::new(e)))?;
            let at = nanos(record.at).map_err(|e| StoreError::AuditFailed(Box::new(e)))?;
            rows.push((seq, at, record.encode()));
        }
        for chunk in rows.chunks(AUDIT_CHUNK) {
            let mut sql =
                String::from("INSERT INTO audit_records (tenant_id, seq, at, record) VALUES (?, ?, ?, ?)");
            for _ in 1..chunk.len() {
                sql.push_str(", (?, ?, ?, ?)");
            }
            let mut query = sqlx::query(&sql);
            for (seq, at, blob) in chunk {
                query = query.bind(tenant.as_str()).bind(*seq).bind(*at).bind(blob.as_slice());
            }
            query.execute(&mut *tx).await.map_err(audit_failed)?;
        }
        let hashes: Vec<Hash> = records.iter().map(|r| r.hash).collect();
        let new_head = records.last().map_or_else(|| head.clone(), AuditRecord::head);
        let seq = int("audit seq", new_head.seq).map_err(|e| StoreError::AuditFailed(Box::new(e)))?;
        sqlx::query(
            "INSERT INTO audit_heads (tenant_id, seq, hash) VALUES (?, ?, ?) \
             ON CONFLICT (tenant_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        )
        .bind(tenant.as_str())
        .bind(seq)
        .bind(new_head.hash.0.as_slice())
        .execute(&mut *tx)
        .await
        .map_err(audit_failed)?;
        Ok((head, hashes))
    }

    /// Verifies `tenant`'s stored chain from the rows themselves: the checkpoint chain, then every record
    /// after the latest checkpoint (decoded from its blob, its `seq` and `tenant_id` columns checked against
    /// its contents), then that the chain ends at the stored head. Names the first bad sequence number; a
    /// record that no longer decodes is a [`TamperKind::HashMismatch`] at its position.
    pub async fn verify_chain(&self, tenant: &TenantId) -> Result<ChainHead, VerifyError> {
        let mut conn = self.reader.begin().await.map_err(|e| VerifyError::Store(db(e)))?;
        let checkpoints = checkpoints_in(&mut conn, tenant).await.map_err(VerifyError::Store)?;
        let start =
            audit::verify_checkpoints(&checkpoints)?.unwrap_or_else(|| ChainHead::genesis(tenant.clone()));
        let stored_head = head_in(&mut conn, tenant).await.map_err(VerifyError::Store)?;
        let mut head = start;
        let mut after = head.seq;
        loop {
            let after_i = i64::try_from(after).unwrap_or(i64::MAX);
            let rows = sqlx::query(
                "SELECT tenant_id, seq, record FROM audit_records WHERE tenant_id = ? AND seq > ? \
                 ORDER BY seq LIMIT 10000",
            )
            .bind(tenant.as_str())
            .bind(after_i)
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| VerifyError::Store(db(e)))?;
            if rows.is_empty() {
                break;
            }
            let mut records = Vec::with_capacity(rows.len());
            for row in &rows {
                let expected = head.seq.saturating_add(1).saturating_add(records.len() as u64);
                let bad = |kind| VerifyError::Tampered(Tampered { seq: expected, kind });
                let column_tenant: String =
                    row.try_get("tenant_id").map_err(|e| VerifyError::Store(db(e)))?;
                let column_seq: i64 = row.try_get("seq").map_err(|e| VerifyError::Store(db(e)))?;
                let blob: Vec<u8> = row.try_get("record").map_err(|e| VerifyError::Store(db(e)))?;
                // A row that is not what it claims to be is reported at its position, unless the records
                // before it already fail.
                let decoded = AuditRecord::decode(&blob);
                let problem = match &decoded {
                    Err(_) => Some(TamperKind::HashMismatch),
                    Ok(r) if column_tenant != r.tenant.as_str() => Some(TamperKind::WrongTenant),
                    Ok(r) if u64::try_from(column_seq).ok() != Some(r.seq) => Some(TamperKind::SequenceGap),
                    Ok(_) => None,
                };
                if let Some(kind) = problem {
                    audit::verify(&head, &records)?;
                    return Err(bad(kind));
                }
                let Ok(record) = decoded else { return Err(bad(TamperKind::HashMismatch)) };
                after = record.seq;
                records.push(record);
            }
            head = audit::verify(&head, &records)?;
        }
        if head != stored_head {
            // The stored rows end before (or beyond) the head: records were cut off or the head rewritten.
            let seq = head.seq.min(stored_head.seq).saturating_add(1);
            let kind =
                if head.seq == stored_head.seq { TamperKind::HashMismatch } else { TamperKind::SequenceGap };
            return Err(VerifyError::Tampered(Tampered { seq, kind }));
        }
        Ok(head)
    }
}

/// Creates the database file with mode 0600 if it does not exist (WAL and shared-memory files inherit
/// its permissions).
fn create_private(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Unavailable(Box::new(e))),
    }
}

/// The tenant's head inside a transaction (genesis when it has no chain).
pub(crate) async fn head_in(conn: &mut SqliteConnection, tenant: &TenantId) -> Result<ChainHead, StoreError> {
    let row = sqlx::query("SELECT seq, hash FROM audit_heads WHERE tenant_id = ?")
        .bind(tenant.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    let Some(row) = row else { return Ok(ChainHead::genesis(tenant.clone())) };
    let seq: i64 = row.try_get("seq").map_err(db)?;
    let hash: Vec<u8> = row.try_get("hash").map_err(db)?;
    Ok(ChainHead {
        tenant: tenant.clone(),
        seq: u64::try_from(seq).map_err(|_| corrupt("audit head", "negative seq"))?,
        hash: hash_of(&hash)?,
    })
}

/// A stored 32-byte hash.
pub(crate) fn hash_of(bytes: &[u8]) -> Result<Hash, StoreError> {
    let raw: [u8; 32] = bytes.try_into().map_err(|_| corrupt("hash", "not 32 bytes"))?;
    Ok(Hash(raw))
}

/// The tenant's checkpoints, oldest first.
pub(crate) async fn checkpoints_in(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
) -> Result<Vec<Checkpoint>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, hash, at, prev, digest FROM audit_checkpoints WHERE tenant_id = ? ORDER BY seq",
    )
    .bind(tenant.as_str())
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    rows.iter()
        .map(|row| {
            let seq: i64 = row.try_get("seq").map_err(db)?;
            Ok(Checkpoint {
                tenant: tenant.clone(),
                seq: u64::try_from(seq).map_err(|_| corrupt("audit checkpoint", "negative seq"))?,
                hash: hash_of(&row.try_get::<Vec<u8>, _>("hash").map_err(db)?)?,
                at: crate::codec::at(row.try_get("at").map_err(db)?)?,
                prev: hash_of(&row.try_get::<Vec<u8>, _>("prev").map_err(db)?)?,
                digest: hash_of(&row.try_get::<Vec<u8>, _>("digest").map_err(db)?)?,
            })
        })
        .collect()
}
