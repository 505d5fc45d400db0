//! `KeyManager` on the keystore: per-tenant KEKs, per-scope wrapping secrets, wrapped data key versions, and
//! crypto-shredding by deleting the wrapping secret (and, for a tenant, the KEK).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use async_trait::async_trait;
use custodian_core::data::{DataKey, KeyVersion};
use custodian_core::ports::{KeyError, KeyManager, KeyScope, Rng};
use custodian_core::tenant::TenantId;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use zeroize::Zeroizing;

use crate::error::KeystoreError;
use crate::keystore::Keystore;
use crate::state::{Kek, State, Wrapped};

fn random<const N: usize>(rng: &dyn Rng) -> Zeroizing<[u8; N]> {
    let mut bytes = Zeroizing::new([0u8; N]);
    rng.fill(bytes.as_mut_slice());
    bytes
}

/// The scope's wrapping cipher: AES-256-GCM under `HMAC-SHA256(KEK, label ‖ scope secret)`.
fn wrapping_cipher(kek: &[u8; 32], scope_secret: &[u8; 32]) -> Result<Aes256Gcm, KeyError> {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(kek).map_err(|_| KeyError::from(KeystoreError::Encrypt))?;
    mac.update(b"custodian-keystore.wrapping-key.v1\0");
    mac.update(scope_secret);
    let key = Zeroizing::new(<[u8; 32]>::from(mac.finalize().into_bytes()));
    Aes256Gcm::new_from_slice(key.as_slice()).map_err(|_| KeyError::from(KeystoreError::Encrypt))
}

/// Binds a wrapped key to its tenant, grant, data key version and KEK version.
fn aad(scope: &KeyScope, version: u32, kek_version: u32) -> Vec<u8> {
    let mut aad = b"custodian-keystore.wrapped-key.v1\0".to_vec();
    aad.extend_from_slice(scope.tenant.as_str().as_bytes());
    aad.push(0);
    match &scope.grant {
        None => aad.push(0),
        Some(grant) => {
            aad.push(1);
            aad.extend_from_slice(grant.as_str().as_bytes());
        }
    }
    aad.push(0);
    aad.extend_from_slice(&version.to_be_bytes());
    aad.extend_from_slice(&kek_version.to_be_bytes());
    aad
}

impl State {
    /// Makes sure the tenant has a KEK and the scope a wrapping secret.
    fn ensure_kek(&mut self, scope: &KeyScope, rng: &dyn Rng) {
        let kek = self.keks.entry(scope.tenant.clone()).or_insert_with(|| Kek {
            version: 1,
            key: random(rng),
            scope_secrets: BTreeMap::new(),
        });
        kek.scope_secrets.entry(scope.grant.clone()).or_insert_with(|| random(rng));
    }

    fn wrap(
        &self,
        scope: &KeyScope,
        version: u32,
        key: &[u8; 32],
        rng: &dyn Rng,
    ) -> Result<Wrapped, KeyError> {
        let kek = self.keks.get(&scope.tenant).ok_or(KeyError::NotFound)?;
        let secret = kek.scope_secrets.get(&scope.grant).ok_or(KeyError::NotFound)?;
        let cipher = wrapping_cipher(&kek.key, secret)?;
        let nonce: [u8; 12] = *random::<12>(rng);
        let ciphertext = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload { msg: key.as_slice(), aad: &aad(scope, version, kek.version) },
            )
            .map_err(|_| KeyError::from(KeystoreError::Encrypt))?;
        Ok(Wrapped { kek_version: kek.version, nonce, ciphertext })
    }

    /// Unwraps a data key version. Without the KEK or the scope's wrapping secret (destroyed), or when the
    /// wrapped bytes do not authenticate, the key is [`KeyError::NotFound`].
    pub(crate) fn unwrap_bytes(
        &self,
        scope: &KeyScope,
        version: u32,
    ) -> Result<Zeroizing<[u8; 32]>, KeyError> {
        let keys = self.wrapped.get(scope).ok_or(KeyError::NotFound)?;
        let wrapped = keys.versions.get(&version).ok_or(KeyError::VersionUnavailable(version))?;
        let kek = self.keks.get(&scope.tenant).ok_or(KeyError::NotFound)?;
        if kek.version != wrapped.kek_version {
            return Err(KeyError::NotFound);
        }
        let secret = kek.scope_secrets.get(&scope.grant).ok_or(KeyError::NotFound)?;
        let cipher = wrapping_cipher(&kek.key, secret)?;
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    Nonce::from_slice(&wrapped.nonce),
                    Payload { msg: &wrapped.ciphertext, aad: &aad(scope, version, kek.version) },
                )
                .map_err(|_| KeyError::NotFound)?,
        );
        let mut key = Zeroizing::new([0u8; 32]);
        if plain.len() != key.len() {
            return Err(KeyError::NotFound);
        }
        key.copy_from_slice(&plain);
        Ok(key)
    }

    /// Creates data key `version` of the scope and makes it current.
    fn add_version(&mut self, scope: &KeyScope, version: u32, rng: &dyn Rng) -> Result<(), KeyError> {
        self.ensure_kek(scope, rng);
        let key = random::<32>(rng);
        let wrapped = self.wrap(scope, version, &key, rng)?;
        let keys = self.wrapped.entry(scope.clone()).or_default();
        keys.versions.insert(version, wrapped);
        keys.current = version;
        Ok(())
    }
}

impl Keystore {
    fn unwrap_key(&self, state: &State, scope: &KeyScope, version: u32) -> Result<DataKey, KeyError> {
        let bytes = state.unwrap_bytes(scope, version)?;
        self.unwraps.fetch_add(1, Ordering::Relaxed);
        Ok(DataKey::from_bytes(KeyVersion(version), *bytes))
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

#[async_trait]
impl KeyManager for Keystore {
    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %scope.tenant))]
    async fn current_key(&self, scope: &KeyScope) -> Result<DataKey, KeyError> {
        let now = self.clock.now();
        if let Some(key) = self.cache.current(scope, now) {
            return Ok(key);
        }
        let found = self.read(|state| {
            if state.destroyed(scope) {
                return Err(KeyError::NotFound);
            }
            state.wrapped.get(scope).map(|keys| self.unwrap_key(state, scope, keys.current)).transpose()
        })?;
        let key = match found {
            Some(key) => key,
            None => self.update(|state| {
                if state.destroyed(scope) {
                    return Err(KeyError::NotFound);
                }
                let current = match state.wrapped.get(scope) {
                    Some(keys) => keys.current,
                    None => {
                        state.add_version(scope, 1, self.rng.as_ref())?;
                        1
                    }
                };
                self.unwrap_key(state, scope, current)
            })?,
        };
        self.cache.put(scope, &key, true, now);
        Ok(key)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %scope.tenant, version = version.0))]
    async fn key(&self, scope: &KeyScope, version: KeyVersion) -> Result<DataKey, KeyError> {
        let now = self.clock.now();
        if let Some(key) = self.cache.get(scope, version, now) {
            return Ok(key);
        }
        let key = self.read(|state| {
            if state.destroyed(scope) {
                return Err(KeyError::NotFound);
            }
            self.unwrap_key(state, scope, version.0)
        })?;
        self.cache.put(scope, &key, false, now);
        Ok(key)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %scope.tenant))]
    async fn rotate_data_key(&self, scope: &KeyScope) -> Result<KeyVersion, KeyError> {
        let version = self.update(|state| {
            if state.destroyed(scope) {
                return Err(KeyError::NotFound);
            }
            let next = state.wrapped.get(scope).map_or(1, |keys| keys.current.saturating_add(1));
            state.add_version(scope, next, self.rng.as_ref())?;
            Ok(next)
        })?;
        self.cache.forget_current(scope);
        tracing::info!(version, "data key rotated");
        Ok(KeyVersion(version))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %tenant))]
    async fn rotate_kek(&self, tenant: &TenantId) -> Result<u64, KeyError> {
        let rewrapped = self.update(|state| {
            if state.destroyed_tenants.contains(tenant) {
                return Err(KeyError::NotFound);
            }
            let Some(old_version) = state.keks.get(tenant).map(|k| k.version) else { return Ok(0) };
            // Unwrap everything with the old KEK first: a failure leaves the file as it was.
            let scopes: Vec<_> = state.wrapped.keys().filter(|s| &s.tenant == tenant).cloned().collect();
            let mut plain = Vec::new();
            for scope in &scopes {
                let versions: Vec<u32> = state
                    .wrapped
                    .get(scope)
                    .map(|k| k.versions.keys().copied().collect())
                    .unwrap_or_default();
                for version in versions {
                    match state.unwrap_bytes(scope, version) {
                        Ok(bytes) => plain.push((scope.clone(), version, bytes)),
                        Err(_) => {
                            tracing::warn!(version, "a wrapped key version does not unwrap; left as is")
                        }
                    }
                }
            }
            if let Some(kek) = state.keks.get_mut(tenant) {
                kek.key = random(self.rng.as_ref());
                kek.version = old_version.saturating_add(1);
            }
            let mut rewrapped = 0u64;
            for (scope, version, bytes) in plain {
                let wrapped = state.wrap(&scope, version, &bytes, self.rng.as_ref())?;
                if let Some(keys) = state.wrapped.get_mut(&scope) {
                    keys.versions.insert(version, wrapped);
                    rewrapped += 1;
                }
            }
            Ok(rewrapped)
        })?;
        tracing::info!(rewrapped, "key-encryption key rotated");
        Ok(rewrapped)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %scope.tenant))]
    async fn destroy(&self, scope: &KeyScope) -> Result<u64, KeyError> {
        let destroyed = self.update(|state| {
            let n = state.wrapped.remove(scope).map_or(0, |keys| keys.versions.len());
            if let Some(kek) = state.keks.get_mut(&scope.tenant) {
                kek.scope_secrets.remove(&scope.grant);
            }
            state.destroyed_scopes.insert(scope.clone());
            Ok::<_, KeyError>(count(n))
        })?;
        self.cache.forget_scope(scope);
        tracing::info!(versions = destroyed, "key scope crypto-shredded");
        Ok(destroyed)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %tenant))]
    async fn destroy_tenant(&self, tenant: &TenantId) -> Result<u64, KeyError> {
        let destroyed = self.update(|state| {
            let scopes: Vec<_> = state.wrapped.keys().filter(|s| &s.tenant == tenant).cloned().collect();
            let mut n = 0;
            for scope in scopes {
                n += state.wrapped.remove(&scope).map_or(0, |keys| keys.versions.len());
            }
            state.keks.remove(tenant);
            state.destroyed_tenants.insert(tenant.clone());
            Ok::<_, KeyError>(count(n))
        })?;
        self.cache.forget_tenant(tenant);
        tracing::info!(versions = destroyed, "tenant keys crypto-shredded");
        Ok(destroyed)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %scope.tenant))]
    async fn exists(&self, scope: &KeyScope) -> Result<bool, KeyError> {
        self.read(|state| {
            let current = state.wrapped.get(scope).map(|k| k.current);
            Ok(!state.destroyed(scope) && current.is_some_and(|v| state.unwrap_bytes(scope, v).is_ok()))
        })
    }
}
