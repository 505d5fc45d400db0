//! [`MemoryStore`]: every storage port in memory, behind one mutex, so that a mutating call and its audit
//! events commit together or not at all (AUD-2).

mod audit;
mod cases;
mod dataset;
mod flow;
mod jobs;
mod personnel;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use custodian_core::approval::{ChangeId, ChangeRequest};
use custodian_core::audit::{AuditRecord, ChainHead, Checkpoint, Hash, NewAuditEvent, system_tenant};
use custodian_core::authz::Environment;
use custodian_core::data::{Campaign, Order, ReportRow, StockLevel};
use custodian_core::grant::{Grant, GrantId, GrantState};
use custodian_core::incident::{Incident, IncidentId};
use custodian_core::personnel::{ApiKey, ApiKeyId, Person, PersonId};
use custodian_core::platform::{AccountRef, Platform};
use custodian_core::ports::{
    Clock, GrantStore, PendingConsent, PersonCredential, SessionRecord, StoreError, SyncCheckpoint,
    TenantStore,
};
use custodian_core::retention::{DeletionReceipt, HoldId, LegalHold, ReceiptId};
use custodian_core::rights::{RightsRequest, RightsRequestId};
use custodian_core::tenant::{BusinessContact, ContactId, Tenant, TenantId, TenantStatus};
use time::{Duration, OffsetDateTime};

pub use jobs::JobStatus;

use super::{InjectedFailure, lock};

/// Every storage port (`TenantStore`, `GrantStore`, `DatasetStore`, `AuditLog`, `PersonnelStore`,
/// `CaseStore`, `JobQueue`) over one `Mutex`-guarded state.
///
/// - Audit: each mutating call's events are appended with [`custodian_core::audit::extend`] from the
///   chain head of the tenant the call is about (the system chain, [`custodian_core::audit::SYSTEM_CHAIN`],
///   for personnel, API keys and incidents), stamped with the store's [`Environment`], under the same lock
///   as the change.
/// - Tenant scoping: another tenant's record is [`StoreError::NotFound`]; tenant-scoped keys include the
///   tenant, so two tenants may use the same grant id or natural key.
/// - Datasets: idempotent upserts by natural key with exact counts; `stored_at` is the clock's time when a
///   record was inserted or last changed (an unchanged re-upsert does not touch it).
/// - Faults: [`MemoryStore::fail_audit`] makes every call that has audit events to append return
///   [`StoreError::AuditFailed`] and write nothing; [`MemoryStore::fail_next`] makes the next `n` calls of
///   any port return `Unavailable`.
/// - Foreign keys are not enforced: a grant may name a tenant that was never created.
pub struct MemoryStore {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
    environment: Environment,
    fail_audit: AtomicBool,
    fail_next: AtomicU64,
}

/// A stored dataset record and when it was last written.
#[derive(Debug, Clone)]
struct Stored<T> {
    record: T,
    stored_at: OffsetDateTime,
}

/// Records of one kind by (tenant, natural key).
type Table<T> = BTreeMap<(TenantId, String), Stored<T>>;

/// A tenant's audit chain: the head survives truncation by checkpoints.
#[derive(Debug, Clone)]
struct Chain {
    head: ChainHead,
    records: Vec<AuditRecord>,
    checkpoints: Vec<Checkpoint>,
}

#[derive(Debug, Default)]
struct State {
    tenants: BTreeMap<TenantId, Tenant>,
    contacts: BTreeMap<(TenantId, ContactId), BusinessContact>,
    grants: BTreeMap<(TenantId, GrantId), Grant>,
    report_rows: Table<ReportRow>,
    campaigns: Table<Campaign>,
    orders: Table<Order>,
    stock: Table<StockLevel>,
    /// By (tenant, grant, task, account key).
    sync_checkpoints: BTreeMap<(TenantId, GrantId, &'static str, String), SyncCheckpoint>,
    chains: BTreeMap<TenantId, Chain>,
    people: BTreeMap<PersonId, Person>,
    credentials: BTreeMap<PersonId, PersonCredential>,
    sessions: HashMap<[u8; 32], SessionRecord>,
    api_keys: BTreeMap<ApiKeyId, (ApiKey, [u8; 32])>,
    changes: BTreeMap<(TenantId, ChangeId), ChangeRequest>,
    incidents: BTreeMap<IncidentId, Incident>,
    rights: BTreeMap<(TenantId, RightsRequestId), RightsRequest>,
    holds: BTreeMap<(TenantId, HoldId), LegalHold>,
    receipts: BTreeMap<(TenantId, ReceiptId), DeletionReceipt>,
    jobs: jobs::Jobs,
    /// Pending consents and signal claims (not audited).
    flow: flow::Flow,
}

impl MemoryStore {
    /// An empty store in the development environment.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self::with_environment(clock, Environment::Development)
    }

    /// An empty store whose audit records carry `environment` (ENV-1).
    pub fn with_environment(clock: Arc<dyn Clock>, environment: Environment) -> Self {
        Self {
            state: Mutex::new(State::default()),
            clock,
            environment,
            fail_audit: AtomicBool::new(false),
            fail_next: AtomicU64::new(0),
        }
    }

    /// The environment stamped into audit records.
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// With `true`, every mutating call that has audit events to append returns [`StoreError::AuditFailed`]
    /// and writes nothing, as does a non-empty [`custodian_core::ports::AuditLog::append`] (AUD-2).
    pub fn fail_audit(&self, on: bool) {
        self.fail_audit.store(on, Ordering::SeqCst);
    }

    /// The next `n` calls, of any port, return `Unavailable` and do nothing.
    pub fn fail_next(&self, n: u64) {
        self.fail_next.store(n, Ordering::SeqCst);
    }

    /// Every stored audit record of the tenant's chain (the system chain included), ascending.
    pub fn audit_records(&self, tenant: &TenantId) -> Vec<AuditRecord> {
        lock(&self.state).chains.get(tenant).map(|c| c.records.clone()).unwrap_or_default()
    }

    /// The tenant's checkpoints, oldest first.
    pub fn audit_checkpoints(&self, tenant: &TenantId) -> Vec<Checkpoint> {
        lock(&self.state).chains.get(tenant).map(|c| c.checkpoints.clone()).unwrap_or_default()
    }

    /// Changes the stored record `seq` of the tenant's chain in place, as an attacker with database access
    /// could, so tests can show that verification catches it. Returns whether the record existed. The head
    /// is left as it was.
    pub fn tamper_audit(&self, tenant: &TenantId, seq: u64, f: impl FnOnce(&mut AuditRecord)) -> bool {
        let mut state = lock(&self.state);
        let record =
            state.chains.get_mut(tenant).and_then(|chain| chain.records.iter_mut().find(|r| r.seq == seq));
        match record {
            Some(record) => {
                f(record);
                true
            }
            None => false,
        }
    }

    /// Removes the stored record `seq` without a checkpoint (tampering by deletion). Returns whether it
    /// existed.
    pub fn delete_audit_record(&self, tenant: &TenantId, seq: u64) -> bool {
        let mut state = lock(&self.state);
        let Some(chain) = state.chains.get_mut(tenant) else { return false };
        let before = chain.records.len();
        chain.records.retain(|r| r.seq != seq);
        chain.records.len() != before
    }

    /// Consumes one injected `Unavailable`, if any is pending.
    fn injected(&self) -> bool {
        self.fail_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
    }

    /// The preamble of every read: an injected failure, or nothing.
    fn gate(&self) -> Result<(), StoreError> {
        if self.injected() {
            return Err(StoreError::Unavailable(InjectedFailure::boxed("memory store")));
        }
        Ok(())
    }

    /// Runs a read under the lock.
    fn read<T>(&self, f: impl FnOnce(&State) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.gate()?;
        f(&lock(&self.state))
    }

    /// Runs a mutating call: `f` checks and writes (it writes only once every check passed), then `events`
    /// are appended to `chain`'s audit chain under the same lock. With [`MemoryStore::fail_audit`] on and
    /// events to append, nothing runs.
    fn mutate<T>(
        &self,
        chain: &TenantId,
        events: Vec<NewAuditEvent>,
        f: impl FnOnce(&mut State, OffsetDateTime) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.gate()?;
        if !events.is_empty() && self.fail_audit.load(Ordering::SeqCst) {
            return Err(StoreError::AuditFailed(InjectedFailure::boxed("audit append")));
        }
        let now = self.clock.now();
        let mut state = lock(&self.state);
        let out = f(&mut state, now)?;
        state.append(self.environment, chain, events);
        Ok(out)
    }
}

impl State {
    /// Appends events to the tenant's chain and returns the new head. An empty append creates no chain.
    fn append(
        &mut self,
        environment: Environment,
        tenant: &TenantId,
        events: Vec<NewAuditEvent>,
    ) -> ChainHead {
        if events.is_empty() {
            return self.head(tenant);
        }
        let chain = self.chains.entry(tenant.clone()).or_insert_with(|| Chain {
            head: ChainHead::genesis(tenant.clone()),
            records: Vec::new(),
            checkpoints: Vec::new(),
        });
        let records = custodian_core::audit::extend(&chain.head, environment, events);
        if let Some(last) = records.last() {
            chain.head = last.head();
        }
        chain.records.extend(records);
        chain.head.clone()
    }

    fn head(&self, tenant: &TenantId) -> ChainHead {
        self.chains.get(tenant).map_or_else(|| ChainHead::genesis(tenant.clone()), |c| c.head.clone())
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("MemoryStore")
            .field("environment", &self.environment)
            .field("tenants", &state.tenants.len())
            .field("grants", &state.grants.len())
            .field("chains", &state.chains.len())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TenantStore for MemoryStore {
    async fn create_tenant(&self, tenant: &Tenant, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        self.mutate(&tenant.id, audit, |state, _| {
            if state.tenants.contains_key(&tenant.id) {
                return Err(StoreError::Conflict(format!("tenant `{}` exists", tenant.id)));
            }
            state.tenants.insert(tenant.id.clone(), tenant.clone());
            Ok(())
        })
    }

    async fn tenant(&self, id: &TenantId) -> Result<Tenant, StoreError> {
        self.read(|state| state.tenants.get(id).cloned().ok_or(StoreError::NotFound))
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        self.read(|state| Ok(state.tenants.values().cloned().collect()))
    }

    async fn update_tenant(&self, tenant: &Tenant, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        self.mutate(&tenant.id, audit, |state, _| {
            let stored = state.tenants.get_mut(&tenant.id).ok_or(StoreError::NotFound)?;
            *stored = tenant.clone();
            Ok(())
        })
    }

    async fn set_tenant_status(
        &self,
        id: &TenantId,
        status: TenantStatus,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        self.mutate(id, audit, |state, _| {
            state.tenants.get_mut(id).ok_or(StoreError::NotFound)?.status = status;
            Ok(())
        })
    }

    async fn put_contact(
        &self,
        contact: &BusinessContact,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        self.mutate(&contact.tenant, audit, |state, _| {
            state.contacts.insert((contact.tenant.clone(), contact.id.clone()), contact.clone());
            Ok(())
        })
    }

    async fn contacts(&self, tenant: &TenantId) -> Result<Vec<BusinessContact>, StoreError> {
        self.read(|state| {
            Ok(state.contacts.iter().filter(|((t, _), _)| t == tenant).map(|(_, c)| c.clone()).collect())
        })
    }

    async fn delete_contacts(
        &self,
        tenant: &TenantId,
        ids: Option<Vec<ContactId>>,
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError> {
        self.mutate(tenant, audit, |state, _| {
            let before = state.contacts.len();
            state
                .contacts
                .retain(|(t, id), _| t != tenant || ids.as_ref().is_some_and(|ids| !ids.contains(id)));
            Ok(count(before - state.contacts.len()))
        })
    }
}

#[async_trait]
impl GrantStore for MemoryStore {
    async fn insert_grant(&self, grant: &Grant, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        self.mutate(&grant.tenant, audit, |state, _| {
            let key = (grant.tenant.clone(), grant.id.clone());
            if state.grants.contains_key(&key) {
                return Err(StoreError::Conflict(format!("grant `{}` exists", grant.id)));
            }
            state.grants.insert(key, grant.clone());
            Ok(())
        })
    }

    async fn grant(&self, tenant: &TenantId, id: &GrantId) -> Result<Grant, StoreError> {
        self.read(|state| {
            state.grants.get(&(tenant.clone(), id.clone())).cloned().ok_or(StoreError::NotFound)
        })
    }

    async fn grants(&self, tenant: &TenantId) -> Result<Vec<Grant>, StoreError> {
        self.read(|state| {
            Ok(state.grants.iter().filter(|((t, _), _)| t == tenant).map(|(_, g)| g.clone()).collect())
        })
    }

    async fn save_grant(
        &self,
        grant: &Grant,
        expected_updated_at: OffsetDateTime,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        self.mutate(&grant.tenant, audit, |state, _| {
            let stored = state
                .grants
                .get_mut(&(grant.tenant.clone(), grant.id.clone()))
                .ok_or(StoreError::NotFound)?;
            if stored.updated_at() != expected_updated_at {
                return Err(StoreError::Conflict(format!("grant `{}` changed since it was read", grant.id)));
            }
            *stored = grant.clone();
            Ok(())
        })
    }

    async fn locate_by_account(
        &self,
        platform: Platform,
        account: &AccountRef,
    ) -> Result<Vec<(TenantId, GrantId)>, StoreError> {
        self.read(|state| {
            Ok(state
                .grants
                .iter()
                .filter(|(_, g)| {
                    g.platform == platform && g.evidence().is_some_and(|e| e.accounts.contains(account))
                })
                .map(|(key, _)| key.clone())
                .collect())
        })
    }

    async fn locate_by_owner(
        &self,
        platform: Platform,
        owner: &str,
    ) -> Result<Vec<(TenantId, GrantId)>, StoreError> {
        self.read(|state| {
            Ok(state
                .grants
                .iter()
                .filter(|(_, g)| {
                    g.platform == platform && g.evidence().is_some_and(|e| e.owner.as_str() == owner)
                })
                .map(|(key, _)| key.clone())
                .collect())
        })
    }

    async fn stale_grants(
        &self,
        validated_before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<(TenantId, GrantId)>, StoreError> {
        self.read(|state| {
            let mut stale: Vec<(OffsetDateTime, &(TenantId, GrantId))> = state
                .grants
                .iter()
                .filter(|(_, g)| g.state() == GrantState::Active)
                .filter_map(|(key, g)| g.evidence().map(|e| (e.validated_at, key)))
                .filter(|(at, _)| *at < validated_before)
                .collect();
            stale.sort();
            Ok(stale.into_iter().take(limit as usize).map(|(_, key)| key.clone()).collect())
        })
    }

    async fn put_consent(
        &self,
        consent: &PendingConsent,
        max_pending: usize,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.mutate(&system_tenant(), Vec::new(), |state, _| {
            state.flow.put_consent(consent, max_pending, now)
        })
    }

    async fn pending_consents(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        self.read(|state| Ok(state.flow.pending_consents(now)))
    }

    async fn take_consent(
        &self,
        state_hash: &Hash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingConsent>, StoreError> {
        self.mutate(&system_tenant(), Vec::new(), |state, _| Ok(state.flow.take_consent(state_hash, now)))
    }

    async fn claim_signal(
        &self,
        key: &Hash,
        now: OffsetDateTime,
        window: Duration,
    ) -> Result<bool, StoreError> {
        self.mutate(&system_tenant(), Vec::new(), |state, _| state.flow.claim_signal(key, now, window))
    }

    async fn release_signal(&self, key: &Hash) -> Result<(), StoreError> {
        self.mutate(&system_tenant(), Vec::new(), |state, _| {
            state.flow.release_signal(key);
            Ok(())
        })
    }
}

/// A `usize` count as the ports' `u64`.
fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
