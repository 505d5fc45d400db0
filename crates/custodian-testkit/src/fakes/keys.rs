//! [`MemoryKeyManager`]: data keys per [`KeyScope`], kept only wrapped (AES-256-GCM) under a per-tenant
//! key-encryption key that lives apart from them, so destroying key material really makes data unreadable.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use async_trait::async_trait;
use custodian_core::data::{DataKey, KeyVersion};
use custodian_core::grant::GrantId;
use custodian_core::ports::{KeyError, KeyManager, KeyScope, Rng};
use custodian_core::tenant::TenantId;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{InjectedFailure, lock};

/// A [`KeyManager`] in memory, shaped like the real ones:
///
/// - The **wrapped** side (what a database backup holds): per scope, every data key version encrypted with
///   AES-256-GCM. Copy it with [`MemoryKeyManager::backup_wrapped`], put a copy back with
///   [`MemoryKeyManager::restore_wrapped`].
/// - The **key service** side (Vault Transit, the keystore): per tenant a key-encryption key (KEK) and per
///   scope a wrapping secret; a scope's wrapping key is `SHA-256(domain ‖ KEK ‖ scope secret)`.
///
/// [`KeyManager::destroy`] deletes the scope's wrapped keys and its secret, [`KeyManager::destroy_tenant`]
/// the tenant's KEK too, so a backup copy of wrapped keys restored afterwards still cannot be unwrapped
/// (RET-3). Destroyed scopes are remembered and never silently re-created. Key material comes from the
/// injected [`Rng`]. Every successful unwrap is counted ([`MemoryKeyManager::unwraps`]).
pub struct MemoryKeyManager {
    rng: Arc<dyn Rng>,
    state: Mutex<State>,
    failing: AtomicBool,
}

/// A copy of the wrapped data keys, as a database backup would hold them.
#[derive(Clone)]
pub struct WrappedBackup {
    wrapped: BTreeMap<KeyScope, ScopeKeys>,
}

impl WrappedBackup {
    /// How many wrapped key versions the copy holds.
    pub fn versions(&self) -> usize {
        self.wrapped.values().map(|s| s.versions.len()).sum()
    }

    /// Whether the copy holds wrapped keys of `scope`.
    pub fn contains(&self, scope: &KeyScope) -> bool {
        self.wrapped.contains_key(scope)
    }
}

impl fmt::Debug for WrappedBackup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedBackup")
            .field("scopes", &self.wrapped.len())
            .field("versions", &self.versions())
            .finish()
    }
}

#[derive(Clone)]
struct Wrapped {
    kek_version: u32,
    nonce: [u8; 12],
    ciphertext: Vec<u8>,
}

#[derive(Clone, Default)]
struct ScopeKeys {
    current: u32,
    versions: BTreeMap<u32, Wrapped>,
}

struct Kek {
    version: u32,
    key: Zeroizing<[u8; 32]>,
    scope_secrets: BTreeMap<Option<GrantId>, Zeroizing<[u8; 32]>>,
}

#[derive(Default)]
struct State {
    keks: BTreeMap<TenantId, Kek>,
    wrapped: BTreeMap<KeyScope, ScopeKeys>,
    destroyed_scopes: BTreeSet<KeyScope>,
    destroyed_tenants: BTreeSet<TenantId>,
    unwraps: u64,
}

impl State {
    fn destroyed(&self, scope: &KeyScope) -> bool {
        self.destroyed_tenants.contains(&scope.tenant) || self.destroyed_scopes.contains(scope)
    }
}

fn not_available(_: aes_gcm::Error) -> KeyError {
    KeyError::NotFound
}

fn wrapping_cipher(kek: &[u8; 32], scope_secret: &[u8; 32]) -> Result<Aes256Gcm, KeyError> {
    let mut digest = Sha256::new();
    digest.update(b"custodian-testkit.wrapping-key.v1\0");
    digest.update(kek);
    digest.update(scope_secret);
    let key = Zeroizing::new(<[u8; 32]>::from(digest.finalize()));
    Aes256Gcm::new_from_slice(key.as_slice())
        .map_err(|_| KeyError::Unavailable(InjectedFailure::boxed("key length")))
}

fn aad(scope: &KeyScope, version: u32) -> Vec<u8> {
    let mut aad = b"custodian-testkit.wrapped-key.v1\0".to_vec();
    aad.extend_from_slice(scope.tenant.as_str().as_bytes());
    aad.push(0);
    aad.extend_from_slice(scope.grant.as_ref().map_or("", |g| g.as_str()).as_bytes());
    aad.push(0);
    aad.extend_from_slice(&version.to_be_bytes());
    aad
}

impl MemoryKeyManager {
    /// An empty key manager drawing key material and nonces from `rng`.
    pub fn new(rng: Arc<dyn Rng>) -> Self {
        Self { rng, state: Mutex::default(), failing: AtomicBool::new(false) }
    }

    /// With `true`, every call returns [`KeyError::Unavailable`].
    pub fn fail(&self, on: bool) {
        self.failing.store(on, Ordering::SeqCst);
    }

    /// How many data keys were unwrapped so far.
    pub fn unwraps(&self) -> u64 {
        lock(&self.state).unwraps
    }

    /// A copy of every wrapped data key (a database backup).
    pub fn backup_wrapped(&self) -> WrappedBackup {
        WrappedBackup { wrapped: lock(&self.state).wrapped.clone() }
    }

    /// Puts the wrapped keys of `backup` back, replacing what is stored for those scopes (a restore). The
    /// key service side is not touched: keys whose KEK or scope secret was destroyed stay unusable.
    pub fn restore_wrapped(&self, backup: WrappedBackup) {
        lock(&self.state).wrapped.extend(backup.wrapped);
    }

    /// Whether the tenant's key-encryption key exists.
    pub fn has_kek(&self, tenant: &TenantId) -> bool {
        lock(&self.state).keks.contains_key(tenant)
    }

    /// How many wrapped versions of `scope` are stored.
    pub fn wrapped_versions(&self, scope: &KeyScope) -> usize {
        lock(&self.state).wrapped.get(scope).map_or(0, |s| s.versions.len())
    }

    fn gate(&self) -> Result<(), KeyError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(KeyError::Unavailable(InjectedFailure::boxed("memory key manager")));
        }
        Ok(())
    }

    fn random<const N: usize>(&self) -> Zeroizing<[u8; N]> {
        let mut bytes = Zeroizing::new([0u8; N]);
        self.rng.fill(bytes.as_mut_slice());
        bytes
    }

    /// Makes sure the tenant has a KEK and the scope a wrapping secret.
    fn ensure_kek(&self, state: &mut State, scope: &KeyScope) {
        let kek = state.keks.entry(scope.tenant.clone()).or_insert_with(|| Kek {
            version: 1,
            key: self.random(),
            scope_secrets: BTreeMap::new(),
        });
        if !kek.scope_secrets.contains_key(&scope.grant) {
            let secret = self.random();
            kek.scope_secrets.insert(scope.grant.clone(), secret);
        }
    }

    fn wrap(
        &self,
        state: &State,
        scope: &KeyScope,
        version: u32,
        key: &[u8; 32],
    ) -> Result<Wrapped, KeyError> {
        let kek = state.keks.get(&scope.tenant).ok_or(KeyError::NotFound)?;
        let secret = kek.scope_secrets.get(&scope.grant).ok_or(KeyError::NotFound)?;
        let cipher = wrapping_cipher(&kek.key, secret)?;
        let nonce: [u8; 12] = *self.random::<12>();
        let ciphertext = cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: key.as_slice(), aad: &aad(scope, version) })
            .map_err(|_| KeyError::Unavailable(InjectedFailure::boxed("wrap")))?;
        Ok(Wrapped { kek_version: kek.version, nonce, ciphertext })
    }

    fn unwrap_bytes(state: &State, scope: &KeyScope, version: u32) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let keys = state.wrapped.get(scope).ok_or(KeyError::NotFound)?;
        let wrapped = keys.versions.get(&version).ok_or(KeyError::VersionUnavailable(version))?;
        let kek = state.keks.get(&scope.tenant).ok_or(KeyError::NotFound)?;
        if kek.version != wrapped.kek_version {
            return Err(KeyError::NotFound);
        }
        let secret = kek.scope_secrets.get(&scope.grant).ok_or(KeyError::NotFound)?;
        let cipher = wrapping_cipher(&kek.key, secret)?;
        let plain = cipher
            .decrypt(
                &Nonce::from(wrapped.nonce),
                Payload { msg: wrapped.ciphertext.as_slice(), aad: &aad(scope, version) },
            )
            .map_err(not_available)?;
        Ok(Zeroizing::new(plain))
    }

    fn unwrap_key(state: &mut State, scope: &KeyScope, version: u32) -> Result<DataKey, KeyError> {
        let bytes = Self::unwrap_bytes(state, scope, version)?;
        let key = DataKey::from_slice(KeyVersion(version), &bytes).map_err(|_| KeyError::NotFound)?;
        state.unwraps += 1;
        Ok(key)
    }

    /// Creates version `version` of the scope's data key and makes it current.
    fn add_version(&self, state: &mut State, scope: &KeyScope, version: u32) -> Result<(), KeyError> {
        self.ensure_kek(state, scope);
        let key = self.random::<32>();
        let wrapped = self.wrap(state, scope, version, &key)?;
        let keys = state.wrapped.entry(scope.clone()).or_default();
        keys.versions.insert(version, wrapped);
        keys.current = version;
        Ok(())
    }
}

impl fmt::Debug for MemoryKeyManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("MemoryKeyManager")
            .field("tenants", &state.keks.len())
            .field("scopes", &state.wrapped.len())
            .field("unwraps", &state.unwraps)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl KeyManager for MemoryKeyManager {
    async fn current_key(&self, scope: &KeyScope) -> Result<DataKey, KeyError> {
        self.gate()?;
        let mut state = lock(&self.state);
        if state.destroyed(scope) {
            return Err(KeyError::NotFound);
        }
        let current = match state.wrapped.get(scope) {
            Some(keys) => keys.current,
            None => {
                self.add_version(&mut state, scope, 1)?;
                1
            }
        };
        Self::unwrap_key(&mut state, scope, current)
    }

    async fn key(&self, scope: &KeyScope, version: KeyVersion) -> Result<DataKey, KeyError> {
        self.gate()?;
        Self::unwrap_key(&mut lock(&self.state), scope, version.0)
    }

    async fn rotate_data_key(&self, scope: &KeyScope) -> Result<KeyVersion, KeyError> {
        self.gate()?;
        let mut state = lock(&self.state);
        if state.destroyed(scope) {
            return Err(KeyError::NotFound);
        }
        let next = state.wrapped.get(scope).map_or(1, |keys| keys.current.saturating_add(1));
        self.add_version(&mut state, scope, next)?;
        Ok(KeyVersion(next))
    }

    async fn rotate_kek(&self, tenant: &TenantId) -> Result<u64, KeyError> {
        self.gate()?;
        let mut state = lock(&self.state);
        if state.destroyed_tenants.contains(tenant) {
            return Err(KeyError::NotFound);
        }
        let Some(old) = state.keks.get(tenant) else { return Ok(0) };
        let new_version = old.version.saturating_add(1);
        // Unwrap everything with the old KEK first, so a failure leaves the old state in place.
        let scopes: Vec<KeyScope> = state.wrapped.keys().filter(|s| &s.tenant == tenant).cloned().collect();
        let mut plain = Vec::new();
        for scope in &scopes {
            let versions: Vec<u32> =
                state.wrapped.get(scope).map(|k| k.versions.keys().copied().collect()).unwrap_or_default();
            for version in versions {
                // Versions that no longer unwrap (a restored copy of destroyed material) stay unusable.
                if let Ok(bytes) = Self::unwrap_bytes(&state, scope, version) {
                    plain.push((scope.clone(), version, bytes));
                }
            }
        }
        let new_key = self.random::<32>();
        if let Some(kek) = state.keks.get_mut(tenant) {
            kek.key = new_key;
            kek.version = new_version;
        }
        let mut rewrapped = 0;
        for (scope, version, bytes) in plain {
            let key: Zeroizing<[u8; 32]> =
                Zeroizing::new(bytes.as_slice().try_into().map_err(|_| KeyError::NotFound)?);
            let wrapped = self.wrap(&state, &scope, version, &key)?;
            if let Some(keys) = state.wrapped.get_mut(&scope) {
                keys.versions.insert(version, wrapped);
                rewrapped += 1;
            }
        }
        Ok(rewrapped)
    }

    async fn destroy(&self, scope: &KeyScope) -> Result<u64, KeyError> {
        self.gate()?;
        let mut state = lock(&self.state);
        let destroyed = state.wrapped.remove(scope).map_or(0, |keys| keys.versions.len());
        if let Some(kek) = state.keks.get_mut(&scope.tenant) {
            kek.scope_secrets.remove(&scope.grant);
        }
        state.destroyed_scopes.insert(scope.clone());
        Ok(u64::try_from(destroyed).unwrap_or(u64::MAX))
    }

    async fn destroy_tenant(&self, tenant: &TenantId) -> Result<u64, KeyError> {
        self.gate()?;
        let mut state = lock(&self.state);
        let scopes: Vec<KeyScope> = state.wrapped.keys().filter(|s| &s.tenant == tenant).cloned().collect();
        let mut destroyed = 0usize;
        for scope in scopes {
            destroyed += state.wrapped.remove(&scope).map_or(0, |keys| keys.versions.len());
        }
        state.keks.remove(tenant);
        state.destroyed_tenants.insert(tenant.clone());
        Ok(u64::try_from(destroyed).unwrap_or(u64::MAX))
    }

    async fn exists(&self, scope: &KeyScope) -> Result<bool, KeyError> {
        self.gate()?;
        let state = lock(&self.state);
        let current = state.wrapped.get(scope).map(|k| k.current);
        Ok(!state.destroyed(scope) && current.is_some_and(|v| Self::unwrap_bytes(&state, scope, v).is_ok()))
    }
}
