//! [`MemorySecretStore`]: credentials by tenant and grant with check-and-set versions.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use custodian_core::grant::GrantId;
use custodian_core::ports::{Clock, Credentials, SecretMeta, SecretStore, SecretStoreError};
use custodian_core::tenant::TenantId;
use time::OffsetDateTime;

use super::{InjectedFailure, lock};

/// A [`SecretStore`] in memory. Versions start at 1 and increase by one per write; [`SecretStore::delete`]
/// drops every version and the metadata, so a later create starts at 1 again (as Vault KV v2 does after a
/// metadata delete). [`MemorySecretStore::fail`] makes every call `Unavailable`.
pub struct MemorySecretStore {
    entries: Mutex<BTreeMap<(TenantId, GrantId), Entry>>,
    clock: Arc<dyn Clock>,
    failing: AtomicBool,
    reads: Mutex<u64>,
}

struct Entry {
    credentials: Credentials,
    version: u64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl MemorySecretStore {
    /// An empty store; `clock` stamps the metadata.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { entries: Mutex::default(), clock, failing: AtomicBool::new(false), reads: Mutex::new(0) }
    }

    /// With `true`, every call returns [`SecretStoreError::Unavailable`] (sealed, unreachable).
    pub fn fail(&self, on: bool) {
        self.failing.store(on, Ordering::SeqCst);
    }

    /// How many times credentials were read with [`SecretStore::get`] (for "no secret was read" checks).
    pub fn reads(&self) -> u64 {
        *lock(&self.reads)
    }

    /// How many credentials are stored, over every tenant.
    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn gate(&self) -> Result<(), SecretStoreError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(SecretStoreError::Unavailable(InjectedFailure::boxed("memory secret store")));
        }
        Ok(())
    }
}

impl fmt::Debug for MemorySecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemorySecretStore").field("entries", &self.len()).finish_non_exhaustive()
    }
}

#[async_trait]
impl SecretStore for MemorySecretStore {
    async fn put(
        &self,
        tenant: &TenantId,
        grant: &GrantId,
        credentials: &Credentials,
        expected_version: Option<u64>,
    ) -> Result<u64, SecretStoreError> {
        self.gate()?;
        let now = self.clock.now();
        let mut entries = lock(&self.entries);
        let key = (tenant.clone(), grant.clone());
        match (entries.get_mut(&key), expected_version) {
            (None, None) => {
                entries.insert(
                    key,
                    Entry { credentials: credentials.clone(), version: 1, created_at: now, updated_at: now },
                );
                Ok(1)
            }
            (None, Some(expected)) => Err(SecretStoreError::Conflict { expected, found: 0 }),
            (Some(entry), None) => Err(SecretStoreError::Conflict { expected: 0, found: entry.version }),
            (Some(entry), Some(expected)) if entry.version != expected => {
                Err(SecretStoreError::Conflict { expected, found: entry.version })
            }
            (Some(entry), Some(_)) => {
                entry.credentials = credentials.clone();
                entry.version += 1;
                entry.updated_at = now;
                Ok(entry.version)
            }
        }
    }

    async fn get(&self, tenant: &TenantId, grant: &GrantId) -> Result<(Credentials, u64), SecretStoreError> {
        self.gate()?;
        *lock(&self.reads) += 1;
        lock(&self.entries)
            .get(&(tenant.clone(), grant.clone()))
            .map(|e| (e.credentials.clone(), e.version))
            .ok_or(SecretStoreError::NotFound)
    }

    async fn meta(&self, tenant: &TenantId, grant: &GrantId) -> Result<SecretMeta, SecretStoreError> {
        self.gate()?;
        lock(&self.entries)
            .get(&(tenant.clone(), grant.clone()))
            .map(|e| SecretMeta { version: e.version, created_at: e.created_at, updated_at: e.updated_at })
            .ok_or(SecretStoreError::NotFound)
    }

    async fn delete(&self, tenant: &TenantId, grant: &GrantId) -> Result<bool, SecretStoreError> {
        self.gate()?;
        Ok(lock(&self.entries).remove(&(tenant.clone(), grant.clone())).is_some())
    }

    async fn list(&self, tenant: &TenantId) -> Result<Vec<GrantId>, SecretStoreError> {
        self.gate()?;
        Ok(lock(&self.entries).keys().filter(|(t, _)| t == tenant).map(|(_, g)| g.clone()).collect())
    }
}
