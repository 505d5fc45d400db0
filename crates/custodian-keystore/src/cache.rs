//! The cache of unwrapped data keys: per scope, the current version and the keys by version, each valid for a
//! bounded time from when it was unwrapped. Evicted keys are dropped, and a `DataKey` zeroizes its key
//! schedule on drop. The cache has a fixed capacity; when it is full, expired entries go first, then all.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use custodian_core::data::{DataKey, KeyVersion};
use custodian_core::ports::KeyScope;
use custodian_core::tenant::TenantId;
use time::{Duration, OffsetDateTime};

/// Unwrapped data keys for a bounded time.
pub(crate) struct KeyCache {
    ttl: Duration,
    capacity: usize,
    scopes: Mutex<HashMap<KeyScope, ScopeCache>>,
}

#[derive(Default)]
struct ScopeCache {
    current: Option<(u32, OffsetDateTime)>,
    keys: BTreeMap<u32, (DataKey, OffsetDateTime)>,
}

impl KeyCache {
    pub(crate) fn new(ttl: Duration, capacity: usize) -> Self {
        Self { ttl, capacity, scopes: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<KeyScope, ScopeCache>> {
        self.scopes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn fresh(&self, loaded: OffsetDateTime, now: OffsetDateTime) -> bool {
        let age = now - loaded;
        age >= Duration::ZERO && age < self.ttl
    }

    /// The scope's current key, if cached and fresh.
    pub(crate) fn current(&self, scope: &KeyScope, now: OffsetDateTime) -> Option<DataKey> {
        let scopes = self.lock();
        let entry = scopes.get(scope)?;
        let (version, loaded) = entry.current?;
        if !self.fresh(loaded, now) {
            return None;
        }
        let (key, loaded) = entry.keys.get(&version)?;
        self.fresh(*loaded, now).then(|| key.clone())
    }

    /// A version of the scope's key, if cached and fresh.
    pub(crate) fn get(&self, scope: &KeyScope, version: KeyVersion, now: OffsetDateTime) -> Option<DataKey> {
        let scopes = self.lock();
        let (key, loaded) = scopes.get(scope)?.keys.get(&version.0)?;
        self.fresh(*loaded, now).then(|| key.clone())
    }

    /// Caches `key`; `current` marks it as the scope's current version.
    pub(crate) fn put(&self, scope: &KeyScope, key: &DataKey, current: bool, now: OffsetDateTime) {
        if self.capacity == 0 || self.ttl <= Duration::ZERO {
            return;
        }
        let mut scopes = self.lock();
        let entries: usize = scopes.values().map(|s| s.keys.len()).sum();
        if entries >= self.capacity {
            for entry in scopes.values_mut() {
                entry.keys.retain(|_, (_, loaded)| {
                    let age = now - *loaded;
                    age >= Duration::ZERO && age < self.ttl
                });
            }
            scopes.retain(|_, s| !s.keys.is_empty());
            if scopes.values().map(|s| s.keys.len()).sum::<usize>() >= self.capacity {
                scopes.clear();
            }
        }
        let entry = scopes.entry(scope.clone()).or_default();
        entry.keys.insert(key.version().0, (key.clone(), now));
        if current {
            entry.current = Some((key.version().0, now));
        }
    }

    /// Forgets the scope's current version (after a rotation), keeping its keys.
    pub(crate) fn forget_current(&self, scope: &KeyScope) {
        if let Some(entry) = self.lock().get_mut(scope) {
            entry.current = None;
        }
    }

    /// Drops every key of the scope.
    pub(crate) fn forget_scope(&self, scope: &KeyScope) {
        self.lock().remove(scope);
    }

    /// Drops every key of the tenant.
    pub(crate) fn forget_tenant(&self, tenant: &TenantId) {
        self.lock().retain(|scope, _| &scope.tenant != tenant);
    }

    /// How many keys are cached.
    pub(crate) fn len(&self) -> usize {
        self.lock().values().map(|s| s.keys.len()).sum()
    }
}
