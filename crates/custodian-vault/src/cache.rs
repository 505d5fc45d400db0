//! The cache of unwrapped data keys: per scope, the current version and the keys by version, each valid for
//! a bounded time from when it was unwrapped (monotonic clock). Evicted keys are dropped, and a `DataKey`
//! zeroizes its key schedule on drop. When full, expired entries go first, then everything.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use custodian_core::data::{DataKey, KeyVersion};
use custodian_core::ports::KeyScope;
use custodian_core::tenant::TenantId;

/// Unwrapped data keys for a bounded time.
pub(crate) struct KeyCache {
    ttl: Duration,
    capacity: usize,
    scopes: Mutex<HashMap<KeyScope, ScopeCache>>,
}

#[derive(Default)]
struct ScopeCache {
    current: Option<(u32, Instant)>,
    keys: BTreeMap<u32, (DataKey, Instant)>,
}

impl KeyCache {
    pub(crate) fn new(ttl: Duration, capacity: usize) -> Self {
        Self { ttl, capacity, scopes: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<KeyScope, ScopeCache>> {
        self.scopes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn fresh(&self, loaded: Instant) -> bool {
        loaded.elapsed() < self.ttl
    }

    /// The scope's current key, if cached and fresh.
    pub(crate) fn current(&self, scope: &KeyScope) -> Option<DataKey> {
        let scopes = self.lock();
        let entry = scopes.get(scope)?;
        let (version, loaded) = entry.current?;
        if !self.fresh(loaded) {
            return None;
        }
        let (key, loaded) = entry.keys.get(&version)?;
        self.fresh(*loaded).then(|| key.clone())
    }

    /// A version of the scope's key, if cached and fresh.
    pub(crate) fn get(&self, scope: &KeyScope, version: KeyVersion) -> Option<DataKey> {
        let scopes = self.lock();
        let (key, loaded) = scopes.get(scope)?.keys.get(&version.0)?;
        self.fresh(*loaded).then(|| key.clone())
    }

    /// Caches `key`; `current` marks it as the scope's current version.
    pub(crate) fn put(&self, scope: &KeyScope, key: &DataKey, current: bool) {
        if self.capacity == 0 || self.ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut scopes = self.lock();
        if scopes.values().map(|s| s.keys.len()).sum::<usize>() >= self.capacity {
            for entry in scopes.values_mut() {
                entry.keys.retain(|_, (_, loaded)| loaded.elapsed() < self.ttl);
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

    pub(crate) fn forget_scope(&self, scope: &KeyScope) {
        self.lock().remove(scope);
    }

    pub(crate) fn forget_tenant(&self, tenant: &TenantId) {
        self.lock().retain(|scope, _| &scope.tenant != tenant);
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().values().map(|s| s.keys.len()).sum()
    }
}
