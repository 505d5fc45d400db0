//! Each suite can fail: a deliberately broken wrapper around a fake makes the suite return `Err` naming the
//! check that catches the bug.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use async_trait::async_trait;
use custodian_core::audit::{AuditRecord, ChainHead, Checkpoint, Hash, NewAuditEvent, extend};
use custodian_core::authz::Environment;
use custodian_core::data::{
    Campaign, DataClass, DataKey, KeyVersion, Order, RecordKind, ReportRow, StockLevel,
};
use custodian_core::grant::{Grant, GrantId};
use custodian_core::platform::{AccountRef, Platform, Task};
use custodian_core::ports::{
    AuditLog, Credentials, DatasetQuery, DatasetStore, GrantStore, IngestBatch, Job, JobQueue, JobQueueError,
    JobSpec, KeyError, KeyManager, KeyScope, Lease, PendingConsent, SecretMeta, SecretStore,
    SecretStoreError, StoreError, SyncCheckpoint, TenantStore, UpsertCounts,
};
use custodian_core::retention::RecordMeta;
use custodian_core::tenant::{BusinessContact, ContactId, Tenant, TenantId, TenantStatus};
use custodian_testkit::contract::{self, ContractViolation, Setup};
use custodian_testkit::fakes::{MemoryKeyManager, MemorySecretStore, MemoryStore};
use custodian_testkit::fixtures;
use futures::executor::block_on;
use time::{Duration, OffsetDateTime};

use crate::kit;

#[track_caller]
fn check_fails(result: Result<(), ContractViolation>, suite: &str, check: &str) {
    let err = result.expect_err("the broken implementation passed the suite");
    assert_eq!((err.suite, err.check), (suite, check), "wrong check failed: {err}");
    assert!(!err.detail.is_empty());
    assert!(err.to_string().starts_with(&format!("{suite} contract failed check `{check}`: ")), "{err}");
}

/// Returns `Pending` once, so concurrent callers interleave at this point.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

fn yield_now() -> YieldNow {
    YieldNow(false)
}

// ---------------------------------------------------------------------------------------------------------
// Tenant store: lists every tenant's contacts.

struct LeakyContacts<'a>(&'a MemoryStore);

#[async_trait]
impl TenantStore for LeakyContacts<'_> {
    async fn create_tenant(&self, tenant: &Tenant, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        self.0.create_tenant(tenant, audit).await
    }
    async fn tenant(&self, id: &TenantId) -> Result<Tenant, StoreError> {
        self.0.tenant(id).await
    }
    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        self.0.tenants().await
    }
    async fn update_tenant(&self, tenant: &Tenant, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        self.0.update_tenant(tenant, audit).await
    }
    async fn set_tenant_status(
        &self,
        id: &TenantId,
        status: TenantStatus,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        self.0.set_tenant_status(id, status, audit).await
    }
    async fn put_contact(
        &self,
        contact: &BusinessContact,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        self.0.put_contact(contact, audit).await
    }
    async fn contacts(&self, _tenant: &TenantId) -> Result<Vec<BusinessContact>, StoreError> {
        let mut all = Vec::new();
        for tenant in self.0.tenants().await? {
            all.extend(self.0.contacts(&tenant.id).await?);
        }
        Ok(all)
    }
    async fn delete_contacts(
        &self,
        tenant: &TenantId,
        ids: Option<Vec<ContactId>>,
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError> {
        self.0.delete_contacts(tenant, ids, audit).await
    }
}

#[test]
fn tenant_suite_catches_leaked_contacts() {
    let kit = kit();
    check_fails(
        block_on(contract::tenant_store(&LeakyContacts(&kit.store), &kit.store, "run-1")),
        "tenant_store",
        "tenant isolation",
    );
}

// ---------------------------------------------------------------------------------------------------------
// Dataset store: three bugs behind one wrapper.

#[derive(Clone, Copy, PartialEq, Eq)]
enum DatasetBug {
    /// Report-row reads ignore the tenant.
    Leak,
    /// A re-ingested row is stored again instead of being recognized.
    Duplicate,
    /// Counts every upserted record as inserted.
    Miscount,
    /// Purges everything at once, ignoring the batch size.
    UnboundedPurge,
    /// Deletes by key across tenants.
    CrossTenantDelete,
}

struct BrokenDataset<'a> {
    inner: &'a MemoryStore,
    bug: DatasetBug,
    tenants: Mutex<Vec<TenantId>>,
    seen: Mutex<Vec<ReportRow>>,
    duplicates: Mutex<Vec<ReportRow>>,
}

impl<'a> BrokenDataset<'a> {
    fn new(inner: &'a MemoryStore, bug: DatasetBug) -> Self {
        Self { inner, bug, tenants: Mutex::default(), seen: Mutex::default(), duplicates: Mutex::default() }
    }
}

#[async_trait]
impl DatasetStore for BrokenDataset<'_> {
    async fn upsert_report_rows(&self, batch: IngestBatch<ReportRow>) -> Result<UpsertCounts, StoreError> {
        self.tenants.lock().unwrap().push(batch.tenant.clone());
        let records = batch.records.clone();
        let mut counts = self.inner.upsert_report_rows(batch).await?;
        if self.bug == DatasetBug::Duplicate {
            let mut seen = self.seen.lock().unwrap();
            for row in records {
                if seen.contains(&row) {
                    self.duplicates.lock().unwrap().push(row);
                } else {
                    seen.push(row);
                }
            }
        }
        if self.bug == DatasetBug::Miscount {
            counts = UpsertCounts {
                inserted: counts.inserted + counts.updated + counts.unchanged,
                updated: 0,
                unchanged: 0,
            };
        }
        Ok(counts)
    }
    async fn upsert_campaigns(&self, batch: IngestBatch<Campaign>) -> Result<UpsertCounts, StoreError> {
        self.inner.upsert_campaigns(batch).await
    }
    async fn upsert_orders(&self, batch: IngestBatch<Order>) -> Result<UpsertCounts, StoreError> {
        self.inner.upsert_orders(batch).await
    }
    async fn upsert_stock(&self, batch: IngestBatch<StockLevel>) -> Result<UpsertCounts, StoreError> {
        self.inner.upsert_stock(batch).await
    }
    async fn checkpoint(
        &self,
        tenant: &TenantId,
        grant: &GrantId,
        task: Task,
        account: &AccountRef,
    ) -> Result<Option<SyncCheckpoint>, StoreError> {
        self.inner.checkpoint(tenant, grant, task, account).await
    }
    async fn report_rows(&self, query: &DatasetQuery) -> Result<Vec<ReportRow>, StoreError> {
        let mut rows = self.inner.report_rows(query).await?;
        match self.bug {
            DatasetBug::Leak => {
                let tenants = self.tenants.lock().unwrap().clone();
                for tenant in tenants.into_iter().filter(|t| t != &query.tenant) {
                    rows.extend(self.inner.report_rows(&DatasetQuery { tenant, ..query.clone() }).await?);
                }
            }
            DatasetBug::Duplicate => {
                let duplicates = self.duplicates.lock().unwrap();
                rows.extend(duplicates.iter().filter(|r| r.tenant == query.tenant).cloned());
            }
            _ => {}
        }
        Ok(rows)
    }
    async fn campaigns(&self, query: &DatasetQuery) -> Result<Vec<Campaign>, StoreError> {
        self.inner.campaigns(query).await
    }
    async fn orders(&self, query: &DatasetQuery) -> Result<Vec<Order>, StoreError> {
        self.inner.orders(query).await
    }
    async fn stock(&self, query: &DatasetQuery) -> Result<Vec<StockLevel>, StoreError> {
        self.inner.stock(query).await
    }
    async fn expired(
        &self,
        tenant: &TenantId,
        kind: RecordKind,
        class: DataClass,
        stored_before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<RecordMeta>, StoreError> {
        self.inner.expired(tenant, kind, class, stored_before, limit).await
    }
    async fn delete_records(
        &self,
        tenant: &TenantId,
        kind: RecordKind,
        keys: &[String],
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError> {
        if self.bug == DatasetBug::CrossTenantDelete {
            let mut deleted = 0;
            let tenants = self.tenants.lock().unwrap().clone();
            for other in tenants.iter().filter(|t| *t != tenant) {
                deleted += self.inner.delete_records(other, kind, keys, Vec::new()).await?;
            }
            return Ok(deleted + self.inner.delete_records(tenant, kind, keys, audit).await?);
        }
        self.inner.delete_records(tenant, kind, keys, audit).await
    }
    async fn anonymize_orders(
        &self,
        tenant: &TenantId,
        keys: &[String],
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError> {
        self.inner.anonymize_orders(tenant, keys, audit).await
    }
    async fn purge(
        &self,
        tenant: &TenantId,
        grant: Option<GrantId>,
        kind: RecordKind,
        batch: u32,
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError> {
        let batch = if self.bug == DatasetBug::UnboundedPurge { u32::MAX } else { batch };
        self.inner.purge(tenant, grant, kind, batch, audit).await
    }
    async fn count(
        &self,
        tenant: &TenantId,
        grant: Option<GrantId>,
        kind: RecordKind,
    ) -> Result<u64, StoreError> {
        let count = self.inner.count(tenant, grant, kind).await?;
        if self.bug == DatasetBug::Duplicate && kind == RecordKind::ReportRow {
            let extra = self.duplicates.lock().unwrap().iter().filter(|r| &r.tenant == tenant).count();
            return Ok(count + extra as u64);
        }
        Ok(count)
    }
}

#[track_caller]
fn dataset_fails(bug: DatasetBug, check: &str) {
    let kit = kit();
    let broken = BrokenDataset::new(&kit.store, bug);
    check_fails(
        block_on(contract::dataset_store(&broken, &kit.store, Setup::of(&kit.store), "run-1")),
        "dataset_store",
        check,
    );
}

#[test]
fn dataset_suite_catches_leaked_rows() {
    dataset_fails(DatasetBug::Leak, "tenant isolation");
}

#[test]
fn dataset_suite_catches_duplicates_on_re_upsert() {
    dataset_fails(DatasetBug::Duplicate, "read back ordered");
}

#[test]
fn dataset_suite_catches_wrong_upsert_counts() {
    dataset_fails(DatasetBug::Miscount, "re-upsert unchanged");
}

#[test]
fn dataset_suite_catches_unbounded_purges() {
    dataset_fails(DatasetBug::UnboundedPurge, "purge bounded");
}

#[test]
fn dataset_suite_catches_cross_tenant_deletes() {
    dataset_fails(DatasetBug::CrossTenantDelete, "tenant isolation");
}

// ---------------------------------------------------------------------------------------------------------
// Audit log: reads the head, yields, then writes from the stale head, so concurrent appends fork.

#[derive(Default)]
struct ForkingAudit {
    chains: Mutex<BTreeMap<TenantId, Vec<AuditRecord>>>,
    checkpoints: Mutex<BTreeMap<TenantId, Vec<Checkpoint>>>,
}

impl ForkingAudit {
    fn head_of(&self, tenant: &TenantId) -> ChainHead {
        let chains = self.chains.lock().unwrap();
        chains
            .get(tenant)
            .and_then(|c| c.last())
            .map_or_else(|| ChainHead::genesis(tenant.clone()), AuditRecord::head)
    }
}

#[async_trait]
impl AuditLog for ForkingAudit {
    async fn append(&self, tenant: &TenantId, events: Vec<NewAuditEvent>) -> Result<ChainHead, StoreError> {
        let head = self.head_of(tenant);
        yield_now().await;
        let records = extend(&head, Environment::Development, events);
        let new_head = records.last().map_or(head, AuditRecord::head);
        self.chains.lock().unwrap().entry(tenant.clone()).or_default().extend(records);
        Ok(new_head)
    }
    async fn head(&self, tenant: &TenantId) -> Result<ChainHead, StoreError> {
        Ok(self.head_of(tenant))
    }
    async fn read(
        &self,
        tenant: &TenantId,
        from_seq: u64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let chains = self.chains.lock().unwrap();
        let records = chains.get(tenant).cloned().unwrap_or_default();
        Ok(records.into_iter().filter(|r| r.seq >= from_seq).take(limit as usize).collect())
    }
    async fn read_between(
        &self,
        tenant: &TenantId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let chains = self.chains.lock().unwrap();
        let records = chains.get(tenant).cloned().unwrap_or_default();
        Ok(records.into_iter().filter(|r| from <= r.at && r.at < to).take(limit as usize).collect())
    }
    async fn chains(&self) -> Result<Vec<TenantId>, StoreError> {
        Ok(self.chains.lock().unwrap().keys().cloned().collect())
    }
    async fn latest_checkpoint(&self, tenant: &TenantId) -> Result<Option<Checkpoint>, StoreError> {
        Ok(self.checkpoints.lock().unwrap().get(tenant).and_then(|c| c.last().cloned()))
    }
    async fn checkpoint_and_truncate(&self, checkpoint: &Checkpoint) -> Result<u64, StoreError> {
        let mut chains = self.chains.lock().unwrap();
        let records = chains.entry(checkpoint.tenant.clone()).or_default();
        let before = records.len();
        records.retain(|r| r.seq > checkpoint.seq);
        self.checkpoints
            .lock()
            .unwrap()
            .entry(checkpoint.tenant.clone())
            .or_default()
            .push(checkpoint.clone());
        Ok((before - records.len()) as u64)
    }
}

#[test]
fn audit_suite_catches_forked_chains() {
    check_fails(
        block_on(contract::audit_log(&ForkingAudit::default(), "run-1")),
        "audit_log",
        "concurrent appends",
    );
}

// ---------------------------------------------------------------------------------------------------------
// Grant store flow state: consents and signal claims that are not one use, or not atomic.

#[derive(Clone, Copy, PartialEq, Eq)]
enum FlowBug {
    /// A take returns the consent and leaves it in place.
    ReusableConsent,
    /// A take checks, yields, then removes: concurrent takes all get the consent.
    RacyTake,
    /// A claim ignores earlier claims.
    ForgetfulClaim,
    /// A claim checks, yields, then records: concurrent claims all succeed.
    RacyClaim,
    /// The count of pending consents includes expired ones.
    CountsExpired,
}

struct BrokenFlow<'a> {
    inner: &'a MemoryStore,
    bug: FlowBug,
}

#[async_trait]
impl GrantStore for BrokenFlow<'_> {
    async fn insert_grant(&self, grant: &Grant, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        self.inner.insert_grant(grant, audit).await
    }
    async fn grant(&self, tenant: &TenantId, id: &GrantId) -> Result<Grant, StoreError> {
        self.inner.grant(tenant, id).await
    }
    async fn grants(&self, tenant: &TenantId) -> Result<Vec<Grant>, StoreError> {
        self.inner.grants(tenant).await
    }
    async fn save_grant(
        &self,
        grant: &Grant,
        expected_updated_at: OffsetDateTime,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        self.inner.save_grant(grant, expected_updated_at, audit).await
    }
    async fn locate_by_account(
        &self,
        platform: Platform,
        account: &AccountRef,
    ) -> Result<Vec<(TenantId, GrantId)>, StoreError> {
        self.inner.locate_by_account(platform, account).await
    }
    async fn locate_by_owner(
        &self,
        platform: Platform,
        owner: &str,
    ) -> Result<Vec<(TenantId, GrantId)>, StoreError> {
        self.inner.locate_by_owner(platform, owner).await
    }
    async fn stale_grants(
        &self,
        validated_before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<(TenantId, GrantId)>, StoreError> {
        self.inner.stale_grants(validated_before, limit).await
    }
    async fn put_consent(
        &self,
        consent: &PendingConsent,
        max_pending: usize,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.inner.put_consent(consent, max_pending, now).await
    }
    async fn pending_consents(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        match self.bug {
            FlowBug::CountsExpired => self.inner.pending_consents(OffsetDateTime::UNIX_EPOCH).await,
            _ => self.inner.pending_consents(now).await,
        }
    }
    async fn take_consent(
        &self,
        state_hash: &Hash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingConsent>, StoreError> {
        let taken = self.inner.take_consent(state_hash, now).await?;
        match self.bug {
            FlowBug::ReusableConsent | FlowBug::RacyTake => {
                if let Some(consent) = &taken {
                    self.inner.put_consent(consent, usize::MAX, now).await?;
                }
            }
            FlowBug::ForgetfulClaim | FlowBug::RacyClaim | FlowBug::CountsExpired => return Ok(taken),
        }
        if self.bug == FlowBug::RacyTake {
            yield_now().await;
            self.inner.take_consent(state_hash, now).await?;
        }
        Ok(taken)
    }
    async fn claim_signal(
        &self,
        key: &Hash,
        now: OffsetDateTime,
        window: Duration,
    ) -> Result<bool, StoreError> {
        match self.bug {
            FlowBug::ForgetfulClaim => {
                self.inner.release_signal(key).await?;
                self.inner.claim_signal(key, now, window).await
            }
            FlowBug::RacyClaim => {
                let free = self.inner.claim_signal(key, now, window).await?;
                if free {
                    self.inner.release_signal(key).await?;
                    yield_now().await;
                    self.inner.claim_signal(key, now, window).await?;
                }
                Ok(free)
            }
            FlowBug::ReusableConsent | FlowBug::RacyTake | FlowBug::CountsExpired => {
                self.inner.claim_signal(key, now, window).await
            }
        }
    }
    async fn release_signal(&self, key: &Hash) -> Result<(), StoreError> {
        self.inner.release_signal(key).await
    }
}

fn flow_fails(bug: FlowBug, check: &str) {
    let kit = kit();
    let broken = BrokenFlow { inner: &kit.store, bug };
    check_fails(
        block_on(contract::grant_store(&broken, &kit.store, &kit.store, "run-1")),
        "grant_store",
        check,
    );
}

#[test]
fn grant_suite_catches_reusable_consents() {
    flow_fails(FlowBug::ReusableConsent, "consent one use");
}

#[test]
fn grant_suite_catches_racy_consent_takes() {
    flow_fails(FlowBug::RacyTake, "consent race");
}

#[test]
fn grant_suite_catches_forgotten_signal_claims() {
    flow_fails(FlowBug::ForgetfulClaim, "signal claim");
}

#[test]
fn grant_suite_catches_counts_of_expired_consents() {
    flow_fails(FlowBug::CountsExpired, "consent count");
}

#[test]
fn grant_suite_catches_racy_signal_claims() {
    flow_fails(FlowBug::RacyClaim, "signal race");
}

// ---------------------------------------------------------------------------------------------------------
// Job queue: concurrent lessees all get the first one's lease.

struct DoubleLease<'a> {
    inner: &'a MemoryStore,
    in_flight: Mutex<usize>,
    last: Mutex<Option<Lease>>,
}

#[async_trait]
impl JobQueue for DoubleLease<'_> {
    async fn enqueue(&self, spec: &JobSpec) -> Result<Option<u64>, JobQueueError> {
        self.inner.enqueue(spec).await
    }
    async fn lease(
        &self,
        worker: &str,
        kinds: &[String],
        now: OffsetDateTime,
        lease_for: Duration,
    ) -> Result<Option<Lease>, JobQueueError> {
        let concurrent = {
            let mut in_flight = self.in_flight.lock().unwrap();
            *in_flight += 1;
            *in_flight > 1
        };
        yield_now().await;
        let replay = self.last.lock().unwrap().clone().filter(|_| concurrent);
        let result = match replay {
            Some(lease) => Ok(Some(Lease { worker: worker.to_owned(), ..lease })),
            None => {
                let result = self.inner.lease(worker, kinds, now, lease_for).await;
                if let Ok(lease) = &result {
                    *self.last.lock().unwrap() = lease.clone();
                }
                result
            }
        };
        *self.in_flight.lock().unwrap() -= 1;
        result
    }
    async fn renew(
        &self,
        lease: &Lease,
        now: OffsetDateTime,
        lease_for: Duration,
    ) -> Result<Lease, JobQueueError> {
        self.inner.renew(lease, now, lease_for).await
    }
    async fn complete(&self, lease: &Lease, now: OffsetDateTime) -> Result<(), JobQueueError> {
        self.inner.complete(lease, now).await
    }
    async fn fail(&self, lease: &Lease, error: &str, retry_at: OffsetDateTime) -> Result<(), JobQueueError> {
        self.inner.fail(lease, error, retry_at).await
    }
    async fn job(&self, id: u64) -> Result<Job, JobQueueError> {
        self.inner.job(id).await
    }
}

#[test]
fn job_suite_catches_double_leases() {
    let kit = kit();
    let broken = DoubleLease { inner: &kit.store, in_flight: Mutex::new(0), last: Mutex::new(None) };
    check_fails(block_on(contract::job_queue(&broken, "run-1")), "job_queue", "leased once");
}

// ---------------------------------------------------------------------------------------------------------
// Secret store: writes ignore the expected version (no check-and-set).

struct NoCheckAndSet<'a>(&'a MemorySecretStore);

#[async_trait]
impl SecretStore for NoCheckAndSet<'_> {
    async fn put(
        &self,
        tenant: &TenantId,
        grant: &GrantId,
        credentials: &Credentials,
        _expected: Option<u64>,
    ) -> Result<u64, SecretStoreError> {
        let current = match self.0.meta(tenant, grant).await {
            Ok(meta) => Some(meta.version),
            Err(SecretStoreError::NotFound) => None,
            Err(e) => return Err(e),
        };
        self.0.put(tenant, grant, credentials, current).await
    }
    async fn get(&self, tenant: &TenantId, grant: &GrantId) -> Result<(Credentials, u64), SecretStoreError> {
        self.0.get(tenant, grant).await
    }
    async fn meta(&self, tenant: &TenantId, grant: &GrantId) -> Result<SecretMeta, SecretStoreError> {
        self.0.meta(tenant, grant).await
    }
    async fn delete(&self, tenant: &TenantId, grant: &GrantId) -> Result<bool, SecretStoreError> {
        self.0.delete(tenant, grant).await
    }
    async fn list(&self, tenant: &TenantId) -> Result<Vec<GrantId>, SecretStoreError> {
        self.0.list(tenant).await
    }
}

#[test]
fn secret_suite_catches_missing_check_and_set() {
    let kit = kit();
    check_fails(
        block_on(contract::secret_store(&NoCheckAndSet(&kit.secrets), "run-1")),
        "secret_store",
        "create conflict",
    );
}

// ---------------------------------------------------------------------------------------------------------
// Key manager: hands out a fresh key when the scope's key was destroyed.

struct Recreating<'a>(&'a MemoryKeyManager);

#[async_trait]
impl KeyManager for Recreating<'_> {
    async fn current_key(&self, scope: &KeyScope) -> Result<DataKey, KeyError> {
        match self.0.current_key(scope).await {
            Err(KeyError::NotFound) => Ok(fixtures::data_key(scope.tenant.as_str(), 1)),
            other => other,
        }
    }
    async fn key(&self, scope: &KeyScope, version: KeyVersion) -> Result<DataKey, KeyError> {
        self.0.key(scope, version).await
    }
    async fn rotate_data_key(&self, scope: &KeyScope) -> Result<KeyVersion, KeyError> {
        self.0.rotate_data_key(scope).await
    }
    async fn rotate_kek(&self, tenant: &TenantId) -> Result<u64, KeyError> {
        self.0.rotate_kek(tenant).await
    }
    async fn destroy(&self, scope: &KeyScope) -> Result<u64, KeyError> {
        self.0.destroy(scope).await
    }
    async fn destroy_tenant(&self, tenant: &TenantId) -> Result<u64, KeyError> {
        self.0.destroy_tenant(tenant).await
    }
    async fn exists(&self, scope: &KeyScope) -> Result<bool, KeyError> {
        self.0.exists(scope).await
    }
}

#[test]
fn key_suite_catches_re_created_keys() {
    let kit = kit();
    check_fails(
        block_on(contract::key_manager(&Recreating(&kit.keys), "run-1")),
        "key_manager",
        "no silent re-creation",
    );
}
