//! `SecretStore` on the keystore: credentials by tenant and grant, with check-and-set versions. A delete
//! removes every trace from the file (the next write replaces the file; no version history is kept).

use async_trait::async_trait;
use custodian_core::grant::GrantId;
use custodian_core::ports::{Credentials, SecretMeta, SecretStore, SecretStoreError};
use custodian_core::tenant::TenantId;

use crate::keystore::Keystore;
use crate::state::SecretEntry;

#[async_trait]
impl SecretStore for Keystore {
    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %tenant, grant = %grant))]
    async fn put(
        &self,
        tenant: &TenantId,
        grant: &GrantId,
        credentials: &Credentials,
        expected_version: Option<u64>,
    ) -> Result<u64, SecretStoreError> {
        let now = self.clock.now();
        self.update(|state| {
            let key = (tenant.clone(), grant.clone());
            match (state.secrets.get_mut(&key), expected_version) {
                (None, None) => {
                    let entry = SecretEntry {
                        credentials: credentials.clone(),
                        version: 1,
                        created_at: now,
                        updated_at: now,
                    };
                    state.secrets.insert(key, entry);
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
        })
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %tenant, grant = %grant))]
    async fn get(&self, tenant: &TenantId, grant: &GrantId) -> Result<(Credentials, u64), SecretStoreError> {
        self.read(|state| {
            state
                .secrets
                .get(&(tenant.clone(), grant.clone()))
                .map(|e| (e.credentials.clone(), e.version))
                .ok_or(SecretStoreError::NotFound)
        })
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %tenant, grant = %grant))]
    async fn meta(&self, tenant: &TenantId, grant: &GrantId) -> Result<SecretMeta, SecretStoreError> {
        self.read(|state| {
            state
                .secrets
                .get(&(tenant.clone(), grant.clone()))
                .map(|e| SecretMeta {
                    version: e.version,
                    created_at: e.created_at,
                    updated_at: e.updated_at,
                })
                .ok_or(SecretStoreError::NotFound)
        })
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %tenant, grant = %grant))]
    async fn delete(&self, tenant: &TenantId, grant: &GrantId) -> Result<bool, SecretStoreError> {
        let key = (tenant.clone(), grant.clone());
        if !self.read(|state| Ok::<_, SecretStoreError>(state.secrets.contains_key(&key)))? {
            return Ok(false);
        }
        self.update(|state| Ok(state.secrets.remove(&key).is_some()))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(tenant = %tenant))]
    async fn list(&self, tenant: &TenantId) -> Result<Vec<GrantId>, SecretStoreError> {
        self.read(|state| {
            Ok(state.secrets.keys().filter(|(t, _)| t == tenant).map(|(_, g)| g.clone()).collect())
        })
    }
}
