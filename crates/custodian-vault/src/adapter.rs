//! The ports on Vault: [`VaultSecretStore`] (`SecretStore` on KV v2) and [`VaultKeyManager`] (`KeyManager`
//! on Transit, wrapped keys in KV). See the crate documentation for the layout and the shredding design.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use custodian_core::data::{DataKey, KeyVersion};
use custodian_core::grant::GrantId;
use custodian_core::ports::{
    Credentials, KeyError, KeyManager, KeyScope, SecretMeta, SecretStore, SecretStoreError,
};
use custodian_core::tenant::TenantId;

use crate::cache::KeyCache;
use crate::client::VaultClient;
use crate::convert;
use crate::error::VaultError;
use crate::paths::{parse_segment, tenant_tombstoned, tombstoned, unhex};
use crate::wire::{CredentialsDto, KeyConfig, ScopeRecord, Tombstone};

/// The format of stored scope records and tombstones.
const RECORD_FORMAT: u32 = 1;
/// How often a check-and-set update of a scope record is retried after losing a race.
const CAS_ROUNDS: usize = 3;

/// `SecretStore` on KV v2: one path per tenant and grant, check-and-set writes, deletion of every version
/// and the metadata.
pub struct VaultSecretStore {
    client: Arc<VaultClient>,
}

impl VaultSecretStore {
    pub fn new(client: Arc<VaultClient>) -> Self {
        Self { client }
    }
}

impl fmt::Debug for VaultSecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultSecretStore").field("client", &self.client).finish()
    }
}

#[async_trait]
impl SecretStore for VaultSecretStore {
    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %tenant, grant = %grant))]
    async fn put(
        &self,
        tenant: &TenantId,
        grant: &GrantId,
        credentials: &Credentials,
        expected_version: Option<u64>,
    ) -> Result<u64, SecretStoreError> {
        let path = self.client.paths.credentials(tenant, grant);
        let expected = expected_version.unwrap_or(0);
        let written = {
            let body = convert::credentials_out(credentials)?;
            self.client.kv_write(&path, Some(expected), &body).await
        };
        match written {
            Ok(version) => Ok(version),
            Err(VaultError::CasMismatch(_)) => {
                let found = self.client.kv_metadata(&path).await?.map_or(0, |m| m.current_version);
                Err(SecretStoreError::Conflict { expected, found })
            }
            Err(error) => Err(error.into()),
        }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %tenant, grant = %grant))]
    async fn get(&self, tenant: &TenantId, grant: &GrantId) -> Result<(Credentials, u64), SecretStoreError> {
        let path = self.client.paths.credentials(tenant, grant);
        let (dto, version) =
            self.client.kv_read::<CredentialsDto>(&path).await?.ok_or(SecretStoreError::NotFound)?;
        Ok((convert::credentials(&dto)?, version))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %tenant, grant = %grant))]
    async fn meta(&self, tenant: &TenantId, grant: &GrantId) -> Result<SecretMeta, SecretStoreError> {
        let path = self.client.paths.credentials(tenant, grant);
        let metadata = self.client.kv_metadata(&path).await?.ok_or(SecretStoreError::NotFound)?;
        if metadata.current_version == 0 {
            return Err(SecretStoreError::NotFound);
        }
        Ok(convert::meta(&metadata)?)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %tenant, grant = %grant))]
    async fn delete(&self, tenant: &TenantId, grant: &GrantId) -> Result<bool, SecretStoreError> {
        let path = self.client.paths.credentials(tenant, grant);
        if self.client.kv_metadata(&path).await?.is_none() {
            return Ok(false);
        }
        self.client.kv_destroy(&path).await?;
        tracing::info!("credentials destroyed");
        Ok(true)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %tenant))]
    async fn list(&self, tenant: &TenantId) -> Result<Vec<GrantId>, SecretStoreError> {
        let keys = self.client.kv_list(&self.client.paths.credentials_dir(tenant)).await?;
        let mut grants = Vec::with_capacity(keys.len());
        for key in keys.iter().filter(|k| !k.ends_with('/')) {
            match unhex(key).and_then(|raw| raw.parse().ok()) {
                Some(grant) => grants.push(grant),
                None => {
                    tracing::warn!(key = %key, "a credentials path is not a hex-encoded grant id; skipped")
                }
            }
        }
        Ok(grants)
    }
}

/// `KeyManager` on Transit: a Transit key per scope, data keys from `datakey/wrapped`, their ciphertexts in
/// KV, unwrapped with `decrypt` on first use and cached for a bounded time.
pub struct VaultKeyManager {
    client: Arc<VaultClient>,
    cache: KeyCache,
}

impl VaultKeyManager {
    pub fn new(client: Arc<VaultClient>) -> Self {
        let cache = KeyCache::new(client.key_cache_ttl, client.key_cache_capacity);
        Self { client, cache }
    }

    /// How many unwrapped data keys are cached now.
    pub fn cached_keys(&self) -> usize {
        self.cache.len()
    }

    async fn tombstones(&self, tenant: &TenantId) -> Result<Vec<String>, VaultError> {
        self.client.kv_list(&self.client.paths.shredded_dir(tenant)).await
    }

    async fn check_not_destroyed(&self, scope: &KeyScope) -> Result<(), KeyError> {
        if tombstoned(&self.tombstones(&scope.tenant).await?, scope) {
            return Err(KeyError::NotFound);
        }
        Ok(())
    }

    async fn record(&self, scope: &KeyScope) -> Result<Option<(ScopeRecord, u64)>, VaultError> {
        let record = self.client.kv_read::<ScopeRecord>(&self.client.paths.scope_record(scope)).await?;
        if let Some((r, _)) = &record
            && r.format != RECORD_FORMAT
        {
            return Err(VaultError::Invalid("a wrapped key record has an unknown format"));
        }
        Ok(record)
    }

    /// Decrypts version `version` of `record`. Transit answers 400 when the key is deleted, the version
    /// trimmed or the ciphertext foreign: the key is then unreadable ([`KeyError::NotFound`]).
    async fn decrypt(&self, record: &ScopeRecord, version: u32) -> Result<DataKey, KeyError> {
        let ciphertext = record.versions.get(&version).ok_or(KeyError::VersionUnavailable(version))?;
        match self.client.transit_decrypt(&record.transit_key, ciphertext).await {
            Ok(bytes) => Ok(DataKey::from_slice(KeyVersion(version), &bytes)
                .map_err(|_| VaultError::Invalid("a data key is not 32 bytes"))?),
            Err(error) if error.status() == Some(400) => {
                tracing::warn!(error = %error, version, "a wrapped data key cannot be decrypted");
                Err(KeyError::NotFound)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Loads version `version` (the current one if `None`) from the stored record. A concurrent KEK
    /// rotation may re-wrap the record between the read and the decrypt: one re-read covers that.
    async fn load(&self, scope: &KeyScope, version: Option<u32>) -> Result<Option<DataKey>, KeyError> {
        let Some((record, _)) = self.record(scope).await? else { return Ok(None) };
        let version = version.unwrap_or(record.current);
        match self.decrypt(&record, version).await {
            Err(KeyError::NotFound) => match self.record(scope).await? {
                Some((again, _)) if again.versions.get(&version) != record.versions.get(&version) => {
                    self.decrypt(&again, version).await.map(Some)
                }
                _ => Err(KeyError::NotFound),
            },
            other => other.map(Some),
        }
    }

    /// Creates the scope: its Transit key, a first data key, the record (check-and-set: if another
    /// process won the race, its record is used).
    async fn create(&self, scope: &KeyScope) -> Result<DataKey, KeyError> {
        let name = self.client.paths.transit_key(scope);
        self.client.transit_create_key(&name).await?;
        let ciphertext = self.client.transit_datakey_wrapped(&name).await?;
        let record = ScopeRecord {
            format: RECORD_FORMAT,
            transit_key: name,
            current: 1,
            versions: [(1, ciphertext)].into_iter().collect(),
        };
        match self.client.kv_write(&self.client.paths.scope_record(scope), Some(0), &record).await {
            Ok(_) => {}
            Err(VaultError::CasMismatch(_)) => {
                return self.load(scope, None).await?.ok_or(KeyError::NotFound);
            }
            Err(error) => return Err(error.into()),
        }
        // A destroy racing with this creation wins: undo and refuse.
        if tombstoned(&self.tombstones(&scope.tenant).await?, scope) {
            self.shred(scope).await?;
            return Err(KeyError::NotFound);
        }
        tracing::info!("key scope created");
        self.decrypt(&record, 1).await
    }

    /// Deletes the scope's Transit key, then its record. Returns how many versions the record had.
    async fn shred(&self, scope: &KeyScope) -> Result<u64, VaultError> {
        let record = self.record(scope).await?;
        let name = self.client.paths.transit_key(scope);
        self.client.transit_delete_key(&name).await?;
        if let Some((r, _)) = &record
            && r.transit_key != name
        {
            self.client.transit_delete_key(&r.transit_key).await?;
        }
        self.client.kv_destroy(&self.client.paths.scope_record(scope)).await?;
        self.cache.forget_scope(scope);
        Ok(record.map_or(0, |(r, _)| u64::try_from(r.versions.len()).unwrap_or(u64::MAX)))
    }

    /// Rotates one scope's Transit key and re-wraps its stored data keys. Returns how many were re-wrapped.
    async fn rotate_scope_kek(&self, scope: &KeyScope) -> Result<u64, KeyError> {
        let path = self.client.paths.scope_record(scope);
        for _ in 0..CAS_ROUNDS {
            let Some((mut record, kv_version)) = self.record(scope).await? else { return Ok(0) };
            let latest = self.client.transit_rotate(&record.transit_key).await?;
            let (versions, ciphertexts): (Vec<u32>, Vec<String>) =
                record.versions.clone().into_iter().unzip();
            let rewrapped = self.client.transit_rewrap(&record.transit_key, &ciphertexts).await?;
            let prefix = format!("vault:v{latest}:");
            if rewrapped.iter().any(|c| !c.starts_with(&prefix)) {
                return Err(VaultError::Invalid("rewrap did not use the latest key version").into());
            }
            record.versions = versions.into_iter().zip(rewrapped).collect();
            match self.client.kv_write(&path, Some(kv_version), &record).await {
                Ok(_) => {}
                Err(VaultError::CasMismatch(_)) => continue,
                Err(error) => return Err(error.into()),
            }
            // Earlier copies of the wrapped keys (backups) stop working: the old key versions go away.
            let config = KeyConfig {
                min_decryption_version: Some(latest),
                min_encryption_version: Some(latest),
                ..KeyConfig::default()
            };
            self.client.transit_config(&record.transit_key, &config).await?;
            self.client.transit_trim(&record.transit_key, latest).await?;
            return Ok(u64::try_from(record.versions.len()).unwrap_or(u64::MAX));
        }
        Err(VaultError::Invalid("the wrapped key record kept changing during kek rotation").into())
    }
}

impl fmt::Debug for VaultKeyManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultKeyManager")
            .field("client", &self.client)
            .field("cached_keys", &self.cache.len())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl KeyManager for VaultKeyManager {
    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %scope.tenant))]
    async fn current_key(&self, scope: &KeyScope) -> Result<DataKey, KeyError> {
        if let Some(key) = self.cache.current(scope) {
            return Ok(key);
        }
        self.check_not_destroyed(scope).await?;
        let key = match self.load(scope, None).await? {
            Some(key) => key,
            None => self.create(scope).await?,
        };
        self.cache.put(scope, &key, true);
        Ok(key)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %scope.tenant, version = version.0))]
    async fn key(&self, scope: &KeyScope, version: KeyVersion) -> Result<DataKey, KeyError> {
        if let Some(key) = self.cache.get(scope, version) {
            return Ok(key);
        }
        self.check_not_destroyed(scope).await?;
        let key = self.load(scope, Some(version.0)).await?.ok_or(KeyError::NotFound)?;
        self.cache.put(scope, &key, false);
        Ok(key)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %scope.tenant))]
    async fn rotate_data_key(&self, scope: &KeyScope) -> Result<KeyVersion, KeyError> {
        self.check_not_destroyed(scope).await?;
        let path = self.client.paths.scope_record(scope);
        for _ in 0..CAS_ROUNDS {
            let Some((mut record, kv_version)) = self.record(scope).await? else {
                self.create(scope).await?;
                self.cache.forget_current(scope);
                return Ok(KeyVersion(1));
            };
            let ciphertext = self.client.transit_datakey_wrapped(&record.transit_key).await?;
            let next =
                record.current.checked_add(1).ok_or(VaultError::Invalid("data key versions exhausted"))?;
            record.versions.insert(next, ciphertext);
            record.current = next;
            match self.client.kv_write(&path, Some(kv_version), &record).await {
                Ok(_) => {
                    self.cache.forget_current(scope);
                    tracing::info!(version = next, "data key rotated");
                    return Ok(KeyVersion(next));
                }
                Err(VaultError::CasMismatch(_)) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(VaultError::Invalid("the wrapped key record kept changing during rotation").into())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %tenant))]
    async fn rotate_kek(&self, tenant: &TenantId) -> Result<u64, KeyError> {
        let tombstones = self.tombstones(tenant).await?;
        if tenant_tombstoned(&tombstones) {
            return Err(KeyError::NotFound);
        }
        let segments = self.client.kv_list(&self.client.paths.keys_dir(tenant)).await?;
        let mut rewrapped = 0;
        for scope in segments.iter().filter_map(|s| parse_segment(tenant, s)) {
            if tombstoned(&tombstones, &scope) {
                continue;
            }
            rewrapped += self.rotate_scope_kek(&scope).await?;
        }
        tracing::info!(rewrapped, "key-encryption keys rotated");
        Ok(rewrapped)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %scope.tenant))]
    async fn destroy(&self, scope: &KeyScope) -> Result<u64, KeyError> {
        let tombstone = Tombstone { format: RECORD_FORMAT };
        self.client.kv_write(&self.client.paths.tombstone(scope), None, &tombstone).await?;
        let destroyed = self.shred(scope).await?;
        tracing::info!(versions = destroyed, "key scope crypto-shredded");
        Ok(destroyed)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %tenant))]
    async fn destroy_tenant(&self, tenant: &TenantId) -> Result<u64, KeyError> {
        let tombstone = Tombstone { format: RECORD_FORMAT };
        self.client.kv_write(&self.client.paths.tenant_tombstone(tenant), None, &tombstone).await?;
        let segments = self.client.kv_list(&self.client.paths.keys_dir(tenant)).await?;
        let mut destroyed = 0;
        for scope in segments.iter().filter_map(|s| parse_segment(tenant, s)) {
            destroyed += self.shred(&scope).await?;
        }
        // Transit keys without a record (a creation interrupted before its record was written).
        let prefix = self.client.paths.transit_tenant_prefix(tenant);
        for name in self.client.transit_list_keys().await?.iter().filter(|n| n.starts_with(&prefix)) {
            self.client.transit_delete_key(name).await?;
        }
        self.cache.forget_tenant(tenant);
        tracing::info!(versions = destroyed, "tenant keys crypto-shredded");
        Ok(destroyed)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %scope.tenant))]
    async fn exists(&self, scope: &KeyScope) -> Result<bool, KeyError> {
        // The Transit key is what could decrypt any copy of the wrapped keys: it decides.
        Ok(self.client.transit_key_exists(&self.client.paths.transit_key(scope)).await?)
    }
}
