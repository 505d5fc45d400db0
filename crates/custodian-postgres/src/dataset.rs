//! `DatasetStore`: report rows, campaigns, orders (with lines and sealed buyer PII) and stock levels.
//!
//! Ingest: one transaction per batch. Records are checked (all of the batch's tenant, values within the
//! schema), deduplicated by natural key (the last one wins) and sorted by it, then written from column
//! arrays in chunks of [`records::CHUNK`], each under a savepoint. A row equal to the stored one is never
//! rewritten, so re-ingesting a page writes nothing, and the counts are exact. Report rows, the bulk of
//! every sync, are written by the cheapest correct plan for the chunk (`report_rows`: a plain insert of new
//! rows, else classify and write only what differs); the other kinds by one statement of data-modifying
//! CTEs (update the differing rows, insert the missing ones). Whenever a concurrent writer gets in between
//! (a unique violation), the chunk is rolled back to its savepoint and written with `INSERT … ON CONFLICT
//! (natural key) DO UPDATE … WHERE (row) IS DISTINCT FROM (new row)`, counted by `RETURNING (xmax = 0)`.
//! The checkpoint and the audit events are written in the same transaction, so a failure anywhere leaves
//! nothing half-written. That transaction commits with `synchronous_commit = off`
//! ([`crate::INGEST_SYNCHRONOUS_COMMIT`]): a server crash may lose the last acknowledged pages, each
//! whole and together with its checkpoint and audit events, so the next sync pulls them again.
//!
//! Natural keys, as [`RecordMeta::key`] text (parts joined by a space, which no identifier contains, so the
//! text sorts like the key): report rows `account level object day`, campaigns `account campaign`, orders
//! `account order`, stock `account sku location` (location empty when none).
//!
//! Purges delete at most `batch` rows per call by `ctid`, so no statement holds locks on a whole table.

mod records;
mod report_rows;

use async_trait::async_trait;
use custodian_core::audit::NewAuditEvent;
use custodian_core::data::{Campaign, DataClass, Order, RecordKind, ReportRow, StockLevel};
use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, Task};
use custodian_core::ports::{
    DatasetQuery, DatasetStore, IngestBatch, StoreError, SyncCheckpoint, UpsertCounts,
};
use custodian_core::retention::RecordMeta;
use custodian_core::tenant::TenantId;
use futures::future::BoxFuture;
use sqlx::{PgConnection, Postgres, Transaction};
use time::{Date, OffsetDateTime, Time, UtcOffset};

use crate::check::{self, MAX_CURSOR_BYTES, parse};
use crate::error;
use crate::{PgStore, micros};

use records::AccountKeys;
pub(crate) use records::Kind;

/// A record kind the dataset store holds.
pub(crate) trait Record: Sized + Send + Sync + 'static {
    fn tenant(&self) -> &TenantId;
    /// The natural key within the tenant, as sortable text (see the module documentation).
    fn natural_key(&self, accounts: &mut AccountKeys) -> String;
    /// Checks the record's values against the schema.
    fn check(&self) -> Result<(), StoreError>;
    /// Upserts deduplicated, sorted records of one tenant, whose natural keys are `keys`, and returns the
    /// counts.
    fn upsert<'a>(
        conn: &'a mut PgConnection,
        tenant: &'a TenantId,
        records: &'a [Self],
        keys: &'a [String],
        now: OffsetDateTime,
    ) -> BoxFuture<'a, Result<UpsertCounts, StoreError>>;
    /// Whether two records are equal (for counting in-batch duplicates).
    fn same(&self, other: &Self) -> bool;
}

/// The filters of a dataset read, as bind parameters.
pub(crate) struct Filters {
    pub(crate) tenant: String,
    pub(crate) grant: Option<String>,
    pub(crate) account: Option<String>,
    pub(crate) from: Option<Date>,
    pub(crate) to: Option<Date>,
    /// `from` as the first instant of the day (UTC), for kinds filtered by a timestamp.
    pub(crate) from_at: Option<OffsetDateTime>,
    /// The day after `to`, as its first instant (UTC): an exclusive upper bound.
    pub(crate) to_at: Option<OffsetDateTime>,
    /// Only keys after this one (`DatasetQuery::after`; `""`, before every key, when it is unset): the
    /// primary key `(tenant_id, natural_key)` seeks to it.
    pub(crate) after: String,
    pub(crate) offset: i64,
    pub(crate) limit: i64,
}

impl Filters {
    fn of(query: &DatasetQuery, kind: RecordKind) -> Result<Self, StoreError> {
        let after = match &query.after {
            None => String::new(),
            Some(key) if kind.key_parts(key).is_some() => key.clone(),
            Some(_) => return Err(StoreError::Invalid(format!("`after` is not a {} key", kind.as_str()))),
        };
        let start = |d: Date| d.with_time(Time::MIDNIGHT).assume_offset(UtcOffset::UTC);
        Ok(Self {
            tenant: query.tenant.to_string(),
            grant: query.grant.as_ref().map(ToString::to_string),
            account: query.account.as_ref().map(AccountRef::key),
            from: query.from,
            to: query.to,
            from_at: query.from.map(start),
            to_at: query
                .to
                .map(|d| d.next_day().map_or(OffsetDateTime::new_utc(Date::MAX, Time::MIDNIGHT), start)),
            after,
            offset: check::big("offset", query.offset)?,
            limit: i64::from(query.limit),
        })
    }
}

/// Removes earlier duplicates of a natural key (the last one wins) and sorts by key. Returns the kept
/// records' keys, the kept records and the counts of the dropped ones: unchanged when equal to the record
/// that replaced them, updated otherwise.
fn dedupe<T: Record>(records: Vec<T>) -> (Vec<String>, Vec<T>, UpsertCounts) {
    let mut accounts = AccountKeys::default();
    let mut keyed: Vec<(String, usize, T)> =
        records.into_iter().enumerate().map(|(i, r)| (r.natural_key(&mut accounts), i, r)).collect();
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut extra = UpsertCounts::default();
    let mut kept: Vec<(String, T)> = Vec::with_capacity(keyed.len());
    for (key, _, record) in keyed {
        if let Some(last) = kept.last_mut()
            && last.0 == key
        {
            if last.1.same(&record) {
                extra.unchanged += 1;
            } else {
                extra.updated += 1;
            }
            last.1 = record;
            continue;
        }
        kept.push((key, record));
    }
    let (keys, kept) = kept.into_iter().unzip();
    (keys, kept, extra)
}

impl PgStore {
    /// [`PgStore::begin`] for a page read (`report_rows`, `campaigns`, `orders`, `stock`), with sorts off,
    /// in the same round trip.
    ///
    /// A page is `ORDER BY natural_key OFFSET … LIMIT …` of one tenant, which the primary key
    /// `(tenant_id, natural_key)` serves in order: an index scan that stops after `offset + limit` rows.
    /// The planner picks it only when it expects the tenant to have many rows; when it expects few (a
    /// table not yet analyzed after its first ingests: 0.5 % of the rows guessed; a generic plan, which
    /// assumes the average tenant; statistics older than the tenant's growth) it reads every row of the
    /// tenant by a bitmap scan and sorts them for the page instead. Measured on the load bench's 10,000
    /// rows of one tenant before the first `ANALYZE`: 10-12 ms per page against 0.1 ms, about 190 pages/s
    /// on 2 cores. Without sorts the page query has the ordered scan alone (an order's lines are
    /// aggregated in line order inside the aggregate, not by a sort). Row-level security is unchanged:
    /// its policy is a one-time filter on `custodian.tenant`, evaluated once per statement.
    async fn begin_read(&self, tenant: &str) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.begin_with_settings(tenant, &[("enable_sort", "off")]).await
    }

    async fn ingest<T: Record>(&self, batch: IngestBatch<T>) -> Result<UpsertCounts, StoreError> {
        let IngestBatch { tenant, records, checkpoint, audit } = batch;
        if let Some(other) = records.iter().find(|r| r.tenant() != &tenant) {
            return Err(StoreError::Invalid(format!(
                "a record of tenant `{}` is in a batch of tenant `{tenant}`",
                other.tenant()
            )));
        }
        if let Some(cp) = &checkpoint {
            if cp.tenant != tenant {
                return Err(StoreError::Invalid(format!(
                    "the checkpoint of tenant `{}` is in a batch of tenant `{tenant}`",
                    cp.tenant
                )));
            }
            if let Some(cursor) = &cp.cursor {
                check::text_bytes("cursor", &cursor.0, MAX_CURSOR_BYTES)?;
            }
        }
        for record in &records {
            record.check()?;
        }
        let (keys, records, extra) = dedupe(records);
        let now = self.now();
        let mut tx = self.begin_ingest(tenant.as_str()).await?;
        let mut counts = UpsertCounts::default();
        for (chunk, keys) in records.chunks(records::CHUNK).zip(keys.chunks(records::CHUNK)) {
            let c = T::upsert(&mut tx, &tenant, chunk, keys, now).await?;
            counts.inserted += c.inserted;
            counts.updated += c.updated;
            counts.unchanged += c.unchanged;
        }
        counts.updated += extra.updated;
        counts.unchanged += extra.unchanged;
        if let Some(cp) = &checkpoint {
            save_checkpoint(&mut tx, cp).await?;
        }
        self.append_in(&mut tx, &tenant, audit).await?;
        tx.commit().await.map_err(error::store)?;
        Ok(counts)
    }
}

async fn save_checkpoint(conn: &mut PgConnection, cp: &SyncCheckpoint) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sync_checkpoints (tenant_id, grant_id, task, account_key, cursor, watermark, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (tenant_id, grant_id, task, account_key)
         DO UPDATE SET cursor = EXCLUDED.cursor, watermark = EXCLUDED.watermark, updated_at = EXCLUDED.updated_at",
    )
    .bind(cp.tenant.as_str())
    .bind(cp.grant.as_str())
    .bind(cp.task.as_str())
    .bind(cp.account.key())
    .bind(cp.cursor.as_ref().map(|c| c.0.as_str()))
    .bind(cp.watermark.map(micros))
    .bind(micros(cp.updated_at))
    .execute(&mut *conn)
    .await
    .map_err(error::store)?;
    Ok(())
}

#[async_trait]
impl DatasetStore for PgStore {
    async fn upsert_report_rows(&self, batch: IngestBatch<ReportRow>) -> Result<UpsertCounts, StoreError> {
        self.ingest(batch).await
    }

    async fn upsert_campaigns(&self, batch: IngestBatch<Campaign>) -> Result<UpsertCounts, StoreError> {
        self.ingest(batch).await
    }

    async fn upsert_orders(&self, batch: IngestBatch<Order>) -> Result<UpsertCounts, StoreError> {
        self.ingest(batch).await
    }

    async fn upsert_stock(&self, batch: IngestBatch<StockLevel>) -> Result<UpsertCounts, StoreError> {
        self.ingest(batch).await
    }

    async fn checkpoint(
        &self,
        tenant: &TenantId,
        grant: &GrantId,
        task: Task,
        account: &AccountRef,
    ) -> Result<Option<SyncCheckpoint>, StoreError> {
        let mut tx = self.begin(tenant.as_str()).await?;
        let row: Option<(Option<String>, Option<OffsetDateTime>, OffsetDateTime)> = sqlx::query_as(
            "SELECT cursor, watermark, updated_at FROM sync_checkpoints
             WHERE tenant_id = $1 AND grant_id = $2 AND task = $3 AND account_key = $4",
        )
        .bind(tenant.as_str())
        .bind(grant.as_str())
        .bind(task.as_str())
        .bind(account.key())
        .fetch_optional(&mut *tx)
        .await
        .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        Ok(row.map(|(cursor, watermark, updated_at)| SyncCheckpoint {
            tenant: tenant.clone(),
            grant: grant.clone(),
            task,
            account: account.clone(),
            cursor: cursor.map(custodian_core::ports::Cursor),
            watermark,
            updated_at,
        }))
    }

    async fn report_rows(&self, query: &DatasetQuery) -> Result<Vec<ReportRow>, StoreError> {
        let filters = Filters::of(query, RecordKind::ReportRow)?;
        let mut tx = self.begin_read(&filters.tenant).await?;
        let rows = records::read_report_rows(&mut tx, &filters).await?;
        tx.commit().await.map_err(error::store)?;
        Ok(rows)
    }

    async fn campaigns(&self, query: &DatasetQuery) -> Result<Vec<Campaign>, StoreError> {
        let filters = Filters::of(query, RecordKind::Campaign)?;
        let mut tx = self.begin_read(&filters.tenant).await?;
        let rows = records::read_campaigns(&mut tx, &filters).await?;
        tx.commit().await.map_err(error::store)?;
        Ok(rows)
    }

    async fn orders(&self, query: &DatasetQuery) -> Result<Vec<Order>, StoreError> {
        let filters = Filters::of(query, RecordKind::Order)?;
        let mut tx = self.begin_read(&filters.tenant).await?;
        let rows = records::read_orders(&mut tx, &filters).await?;
        tx.commit().await.map_err(error::store)?;
        Ok(rows)
    }

    async fn stock(&self, query: &DatasetQuery) -> Result<Vec<StockLevel>, StoreError> {
        let filters = Filters::of(query, RecordKind::StockLevel)?;
        let mut tx = self.begin_read(&filters.tenant).await?;
        let rows = records::read_stock(&mut tx, &filters).await?;
        tx.commit().await.map_err(error::store)?;
        Ok(rows)
    }

    async fn expired(
        &self,
        tenant: &TenantId,
        kind: RecordKind,
        class: DataClass,
        stored_before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<RecordMeta>, StoreError> {
        let pii_only = match (kind, class) {
            (kind, class) if class == kind.class() => false,
            (RecordKind::Order, DataClass::BuyerPii) => true,
            _ => return Ok(Vec::new()),
        };
        // `stored_at` is written floored to the microsecond, and the bound is compared the same way.
        let before = micros(stored_before);
        let before = if before == stored_before { before } else { before + time::Duration::microseconds(1) };
        let sql = Kind::of(kind).expired_sql(pii_only);
        let mut tx = self.begin(tenant.as_str()).await?;
        let rows: Vec<(String, String, OffsetDateTime)> = sqlx::query_as(&sql)
            .bind(tenant.as_str())
            .bind(before)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await
            .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        rows.into_iter()
            .map(|(key, grant, stored_at)| {
                Ok(RecordMeta {
                    tenant: tenant.clone(),
                    grant: Some(parse("grant id", &grant)?),
                    class,
                    key,
                    stored_at,
                })
            })
            .collect()
    }

    async fn delete_records(
        &self,
        tenant: &TenantId,
        kind: RecordKind,
        keys: &[String],
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError> {
        let keys = records::usable_keys(keys);
        let mut tx = self.begin(tenant.as_str()).await?;
        let deleted = Kind::of(kind).delete_keys(&mut tx, tenant, &keys).await?;
        self.append_in(&mut tx, tenant, audit).await?;
        tx.commit().await.map_err(error::store)?;
        Ok(deleted)
    }

    async fn anonymize_orders(
        &self,
        tenant: &TenantId,
        keys: &[String],
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError> {
        let keys = records::usable_keys(keys);
        let mut tx = self.begin(tenant.as_str()).await?;
        let n = sqlx::query(
            "UPDATE orders SET buyer = NULL, buyer_key_version = NULL, stored_at = $3
             WHERE tenant_id = $1 AND natural_key = ANY($2) AND buyer IS NOT NULL",
        )
        .bind(tenant.as_str())
        .bind(&keys)
        .bind(self.now())
        .execute(&mut *tx)
        .await
        .map_err(error::store)?
        .rows_affected();
        self.append_in(&mut tx, tenant, audit).await?;
        tx.commit().await.map_err(error::store)?;
        Ok(n)
    }

    async fn purge(
        &self,
        tenant: &TenantId,
        grant: Option<GrantId>,
        kind: RecordKind,
        batch: u32,
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError> {
        if batch == 0 {
            return Err(StoreError::Invalid("purge batch size must be at least 1".to_owned()));
        }
        let sql = Kind::of(kind).purge_sql();
        let mut tx = self.begin(tenant.as_str()).await?;
        let n = sqlx::query(&sql)
            .bind(tenant.as_str())
            .bind(grant.as_ref().map(GrantId::as_str))
            .bind(i64::from(batch))
            .execute(&mut *tx)
            .await
            .map_err(error::store)?
            .rows_affected();
        self.append_in(&mut tx, tenant, audit).await?;
        tx.commit().await.map_err(error::store)?;
        Ok(n)
    }

    async fn count(
        &self,
        tenant: &TenantId,
        grant: Option<GrantId>,
        kind: RecordKind,
    ) -> Result<u64, StoreError> {
        let sql = Kind::of(kind).count_sql();
        let mut tx = self.begin(tenant.as_str()).await?;
        let (n,): (i64,) = sqlx::query_as(&sql)
            .bind(tenant.as_str())
            .bind(grant.as_ref().map(GrantId::as_str))
            .fetch_one(&mut *tx)
            .await
            .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        Ok(crate::count(n))
    }
}
