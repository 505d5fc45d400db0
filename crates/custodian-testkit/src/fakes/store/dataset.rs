//! `DatasetStore` for [`MemoryStore`]: idempotent upserts by natural key, reads ordered by natural key,
//! retention queries and bounded purges.

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
use time::{Date, OffsetDateTime, UtcOffset};

use super::{MemoryStore, State, Stored, Table, count};

/// What the store needs to know about a record kind.
trait Record: Clone + PartialEq + Send + Sync + 'static {
    const KIND: RecordKind;
    fn tenant(&self) -> &TenantId;
    fn grant(&self) -> &GrantId;
    fn account(&self) -> &AccountRef;
    /// The natural key within the tenant, as text that sorts like the key: its parts joined by a space,
    /// which no identifier contains.
    fn natural_key(&self) -> String;
    /// The day [`DatasetQuery::from`] and [`DatasetQuery::to`] filter on.
    fn day(&self) -> Date;
    /// Whether the record holds data of `class` besides its kind's own class (an order's buyer PII).
    fn holds(&self, _class: DataClass) -> bool {
        false
    }
    fn table(state: &State) -> &Table<Self>;
    fn table_mut(state: &mut State) -> &mut Table<Self>;
}

fn utc_day(at: OffsetDateTime) -> Date {
    at.to_offset(UtcOffset::UTC).date()
}

impl Record for ReportRow {
    const KIND: RecordKind = RecordKind::ReportRow;
    fn tenant(&self) -> &TenantId {
        &self.tenant
    }
    fn grant(&self) -> &GrantId {
        &self.grant
    }
    fn account(&self) -> &AccountRef {
        &self.account
    }
    fn natural_key(&self) -> String {
        ReportRow::natural_key(self)
    }
    /// Report rows by their day.
    fn day(&self) -> Date {
        self.date
    }
    fn table(state: &State) -> &Table<Self> {
        &state.report_rows
    }
    fn table_mut(state: &mut State) -> &mut Table<Self> {
        &mut state.report_rows
    }
}

impl Record for Campaign {
    const KIND: RecordKind = RecordKind::Campaign;
    fn tenant(&self) -> &TenantId {
        &self.tenant
    }
    fn grant(&self) -> &GrantId {
        &self.grant
    }
    fn account(&self) -> &AccountRef {
        &self.account
    }
    fn natural_key(&self) -> String {
        Campaign::natural_key(self)
    }
    /// Campaigns by the day they were last updated.
    fn day(&self) -> Date {
        utc_day(self.updated_at)
    }
    fn table(state: &State) -> &Table<Self> {
        &state.campaigns
    }
    fn table_mut(state: &mut State) -> &mut Table<Self> {
        &mut state.campaigns
    }
}

impl Record for Order {
    const KIND: RecordKind = RecordKind::Order;
    fn tenant(&self) -> &TenantId {
        &self.tenant
    }
    fn grant(&self) -> &GrantId {
        &self.grant
    }
    fn account(&self) -> &AccountRef {
        &self.account
    }
    fn natural_key(&self) -> String {
        Order::natural_key(self)
    }
    /// Orders by the day they were created.
    fn day(&self) -> Date {
        utc_day(self.created_at)
    }
    fn holds(&self, class: DataClass) -> bool {
        class == DataClass::BuyerPii && self.buyer.is_some()
    }
    fn table(state: &State) -> &Table<Self> {
        &state.orders
    }
    fn table_mut(state: &mut State) -> &mut Table<Self> {
        &mut state.orders
    }
}

impl Record for StockLevel {
    const KIND: RecordKind = RecordKind::StockLevel;
    fn tenant(&self) -> &TenantId {
        &self.tenant
    }
    fn grant(&self) -> &GrantId {
        &self.grant
    }
    fn account(&self) -> &AccountRef {
        &self.account
    }
    fn natural_key(&self) -> String {
        StockLevel::natural_key(self)
    }
    /// Stock by the day it was observed.
    fn day(&self) -> Date {
        utc_day(self.observed_at)
    }
    fn table(state: &State) -> &Table<Self> {
        &state.stock
    }
    fn table_mut(state: &mut State) -> &mut Table<Self> {
        &mut state.stock
    }
}

fn checkpoint_key(cp: &SyncCheckpoint) -> (TenantId, GrantId, &'static str, String) {
    (cp.tenant.clone(), cp.grant.clone(), cp.task.as_str(), cp.account.key())
}

impl MemoryStore {
    fn upsert<T: Record>(&self, batch: IngestBatch<T>) -> Result<UpsertCounts, StoreError> {
        let IngestBatch { tenant, records, checkpoint, audit } = batch;
        self.mutate(&tenant, audit, |state, now| {
            if let Some(other) = records.iter().find(|r| r.tenant() != &tenant) {
                return Err(StoreError::Invalid(format!(
                    "a record of tenant `{}` is in a batch of tenant `{tenant}`",
                    other.tenant()
                )));
            }
            if let Some(cp) = checkpoint.as_ref().filter(|cp| cp.tenant != tenant) {
                return Err(StoreError::Invalid(format!(
                    "the checkpoint of tenant `{}` is in a batch of tenant `{tenant}`",
                    cp.tenant
                )));
            }
            let mut counts = UpsertCounts::default();
            let table = T::table_mut(state);
            for record in records {
                let key = (tenant.clone(), record.natural_key());
                match table.get_mut(&key) {
                    Some(stored) if stored.record == record => counts.unchanged += 1,
                    Some(stored) => {
                        *stored = Stored { record, stored_at: now };
                        counts.updated += 1;
                    }
                    None => {
                        table.insert(key, Stored { record, stored_at: now });
                        counts.inserted += 1;
                    }
                }
            }
            if let Some(cp) = checkpoint {
                state.sync_checkpoints.insert(checkpoint_key(&cp), cp);
            }
            Ok(counts)
        })
    }

    fn query<T: Record>(&self, query: &DatasetQuery) -> Result<Vec<T>, StoreError> {
        if let Some(after) = query.after.as_deref()
            && T::KIND.key_parts(after).is_none()
        {
            return Err(StoreError::Invalid(format!("`after` is not a {} key", T::KIND.as_str())));
        }
        self.read(|state| {
            Ok(T::table(state)
                .iter()
                .filter(|((tenant, _), _)| tenant == &query.tenant)
                .filter(|((_, key), _)| query.after.as_ref().is_none_or(|after| key > after))
                .map(|(_, stored)| &stored.record)
                .filter(|r| query.grant.as_ref().is_none_or(|g| r.grant() == g))
                .filter(|r| query.account.as_ref().is_none_or(|a| r.account() == a))
                .filter(|r| query.from.is_none_or(|from| r.day() >= from))
                .filter(|r| query.to.is_none_or(|to| r.day() <= to))
                .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
                .take(query.limit as usize)
                .cloned()
                .collect())
        })
    }
}

fn expired_in<T: Record>(
    state: &State,
    tenant: &TenantId,
    class: DataClass,
    stored_before: OffsetDateTime,
    limit: u32,
) -> Vec<RecordMeta> {
    let mut found: Vec<RecordMeta> = T::table(state)
        .iter()
        .filter(|((t, _), stored)| t == tenant && stored.stored_at < stored_before)
        .filter(|(_, stored)| class == T::KIND.class() || stored.record.holds(class))
        .map(|((t, key), stored)| RecordMeta {
            tenant: t.clone(),
            grant: Some(stored.record.grant().clone()),
            class,
            key: key.clone(),
            stored_at: stored.stored_at,
        })
        .collect();
    found.sort_by(|a, b| a.stored_at.cmp(&b.stored_at).then_with(|| a.key.cmp(&b.key)));
    found.truncate(limit as usize);
    found
}

fn delete_in<T: Record>(state: &mut State, tenant: &TenantId, keys: &[String]) -> u64 {
    let table = T::table_mut(state);
    let mut deleted = 0;
    for key in keys {
        if table.remove(&(tenant.clone(), key.clone())).is_some() {
            deleted += 1;
        }
    }
    deleted
}

fn purge_in<T: Record>(state: &mut State, tenant: &TenantId, grant: Option<&GrantId>, batch: u32) -> u64 {
    let table = T::table_mut(state);
    let doomed: Vec<(TenantId, String)> = table
        .iter()
        .filter(|((t, _), stored)| t == tenant && grant.is_none_or(|g| stored.record.grant() == g))
        .take(batch as usize)
        .map(|(key, _)| key.clone())
        .collect();
    for key in &doomed {
        table.remove(key);
    }
    count(doomed.len())
}

fn count_in<T: Record>(state: &State, tenant: &TenantId, grant: Option<&GrantId>) -> u64 {
    count(
        T::table(state)
            .iter()
            .filter(|((t, _), stored)| t == tenant && grant.is_none_or(|g| stored.record.grant() == g))
            .count(),
    )
}

#[async_trait]
impl DatasetStore for MemoryStore {
    async fn upsert_report_rows(&self, batch: IngestBatch<ReportRow>) -> Result<UpsertCounts, StoreError> {
        self.upsert(batch)
    }

    async fn upsert_campaigns(&self, batch: IngestBatch<Campaign>) -> Result<UpsertCounts, StoreError> {
        self.upsert(batch)
    }

    async fn upsert_orders(&self, batch: IngestBatch<Order>) -> Result<UpsertCounts, StoreError> {
        self.upsert(batch)
    }

    async fn upsert_stock(&self, batch: IngestBatch<StockLevel>) -> Result<UpsertCounts, StoreError> {
        self.upsert(batch)
    }

    async fn checkpoint(
        &self,
        tenant: &TenantId,
        grant: &GrantId,
        task: Task,
        account: &AccountRef,
    ) -> Result<Option<SyncCheckpoint>, StoreError> {
        self.read(|state| {
            let key = (tenant.clone(), grant.clone(), task.as_str(), account.key());
            Ok(state.sync_checkpoints.get(&key).cloned())
        })
    }

    async fn report_rows(&self, query: &DatasetQuery) -> Result<Vec<ReportRow>, StoreError> {
        self.query(query)
    }

    async fn campaigns(&self, query: &DatasetQuery) -> Result<Vec<Campaign>, StoreError> {
        self.query(query)
    }

    async fn orders(&self, query: &DatasetQuery) -> Result<Vec<Order>, StoreError> {
        self.query(query)
    }

    async fn stock(&self, query: &DatasetQuery) -> Result<Vec<StockLevel>, StoreError> {
        self.query(query)
    }

    async fn expired(
        &self,
        tenant: &TenantId,
        kind: RecordKind,
        class: DataClass,
        stored_before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<RecordMeta>, StoreError> {
        self.read(|state| {
            let (c, b, l) = (class, stored_before, limit);
            Ok(match kind {
                RecordKind::ReportRow => expired_in::<ReportRow>(state, tenant, c, b, l),
                RecordKind::Campaign => expired_in::<Campaign>(state, tenant, c, b, l),
                RecordKind::Order => expired_in::<Order>(state, tenant, c, b, l),
                RecordKind::StockLevel => expired_in::<StockLevel>(state, tenant, c, b, l),
            })
        })
    }

    async fn delete_records(
        &self,
        tenant: &TenantId,
        kind: RecordKind,
        keys: &[String],
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError> {
        self.mutate(tenant, audit, |state, _| {
            Ok(match kind {
                RecordKind::ReportRow => delete_in::<ReportRow>(state, tenant, keys),
                RecordKind::Campaign => delete_in::<Campaign>(state, tenant, keys),
                RecordKind::Order => delete_in::<Order>(state, tenant, keys),
                RecordKind::StockLevel => delete_in::<StockLevel>(state, tenant, keys),
            })
        })
    }

    async fn anonymize_orders(
        &self,
        tenant: &TenantId,
        keys: &[String],
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError> {
        self.mutate(tenant, audit, |state, now| {
            let mut anonymized = 0;
            for key in keys {
                if let Some(stored) = state.orders.get_mut(&(tenant.clone(), key.clone()))
                    && stored.record.buyer.is_some()
                {
                    stored.record.buyer = None;
                    stored.stored_at = now;
                    anonymized += 1;
                }
            }
            Ok(anonymized)
        })
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
        self.mutate(tenant, audit, |state, _| {
            let grant = grant.as_ref();
            Ok(match kind {
                RecordKind::ReportRow => purge_in::<ReportRow>(state, tenant, grant, batch),
                RecordKind::Campaign => purge_in::<Campaign>(state, tenant, grant, batch),
                RecordKind::Order => purge_in::<Order>(state, tenant, grant, batch),
                RecordKind::StockLevel => purge_in::<StockLevel>(state, tenant, grant, batch),
            })
        })
    }

    async fn count(
        &self,
        tenant: &TenantId,
        grant: Option<GrantId>,
        kind: RecordKind,
    ) -> Result<u64, StoreError> {
        self.read(|state| {
            let grant = grant.as_ref();
            Ok(match kind {
                RecordKind::ReportRow => count_in::<ReportRow>(state, tenant, grant),
                RecordKind::Campaign => count_in::<Campaign>(state, tenant, grant),
                RecordKind::Order => count_in::<Order>(state, tenant, grant),
                RecordKind::StockLevel => count_in::<StockLevel>(state, tenant, grant),
            })
        })
    }
}
