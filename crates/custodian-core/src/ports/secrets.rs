//! Secret and key ports: credentials in the secret store (SEC-1), per-tenant data keys wrapped by a
//! key-encryption key (ENC-1, ENC-2), and crypto-shredding (RET-3).

use time::OffsetDateTime;

use super::BoxError;
use super::platform::Credentials;
use crate::data::{DataKey, KeyVersion};
use crate::grant::GrantId;
use crate::tenant::TenantId;

/// Errors of the secret store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretStoreError {
    #[error("secret not found")]
    NotFound,
    /// A check-and-set write found another version.
    #[error("secret version conflict: expected {expected}, found {found}")]
    Conflict { expected: u64, found: u64 },
    #[error("secret store refused access")]
    Denied,
    /// Sealed, unreachable, rate limited, timed out: processing stops (fail closed).
    #[error("secret store unavailable")]
    Unavailable(#[source] BoxError),
}

/// Metadata of a stored credential (what personnel may see after step-up: never the values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretMeta {
    pub version: u64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// Credentials by tenant and grant (SEC-1). The only place tokens live.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait SecretStore: Send + Sync {
    /// Writes credentials with check-and-set: `expected_version` `None` creates (MUST fail with
    /// [`SecretStoreError::Conflict`] if it exists), `Some(v)` replaces version `v` only. Returns the new
    /// version.
    async fn put(
        &self,
        tenant: &TenantId,
        grant: &GrantId,
        credentials: &Credentials,
        expected_version: Option<u64>,
    ) -> Result<u64, SecretStoreError>;
    /// The current credentials and their version. MUST return [`SecretStoreError::NotFound`] if none.
    async fn get(&self, tenant: &TenantId, grant: &GrantId) -> Result<(Credentials, u64), SecretStoreError>;
    /// Metadata only.
    async fn meta(&self, tenant: &TenantId, grant: &GrantId) -> Result<SecretMeta, SecretStoreError>;
    /// Destroys every version and the metadata; nothing is recoverable. Returns whether anything existed.
    async fn delete(&self, tenant: &TenantId, grant: &GrantId) -> Result<bool, SecretStoreError>;
    /// Grants of the tenant that have stored credentials (for offboarding and re-checks).
    async fn list(&self, tenant: &TenantId) -> Result<Vec<GrantId>, SecretStoreError>;
}

/// Errors of the key manager.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The tenant's key was destroyed (crypto-shredded) or never existed: its data is unreadable.
    #[error("data key not found or destroyed")]
    NotFound,
    #[error("key version {0} is no longer available")]
    VersionUnavailable(u32),
    #[error("key manager refused access")]
    Denied,
    #[error("key manager unavailable")]
    Unavailable(#[source] BoxError),
}

/// Which data key: a tenant's own (contacts, tenant-level data) or one per grant (that grant's buyer
/// PII), so revoking one commerce grant shreds exactly its data (RET-3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyScope {
    pub tenant: TenantId,
    pub grant: Option<GrantId>,
}

impl KeyScope {
    /// The tenant-level key.
    pub fn tenant(tenant: &TenantId) -> Self {
        Self { tenant: tenant.clone(), grant: None }
    }

    /// The key of one grant's data.
    pub fn grant(tenant: &TenantId, grant: &GrantId) -> Self {
        Self { tenant: tenant.clone(), grant: Some(grant.clone()) }
    }
}

/// Data keys per [`KeyScope`], wrapped by a key-encryption key (ENC-1, ENC-2, RET-3).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait KeyManager: Send + Sync {
    /// The scope's current data key, created on first use. MUST return [`KeyError::NotFound`] after
    /// [`KeyManager::destroy`]: a destroyed key is never silently re-created.
    async fn current_key(&self, scope: &KeyScope) -> Result<DataKey, KeyError>;
    /// A specific version of the scope's data key, to open older ciphertexts. MUST return
    /// [`KeyError::NotFound`] after destruction.
    async fn key(&self, scope: &KeyScope, version: KeyVersion) -> Result<DataKey, KeyError>;
    /// Starts a new data key version for new seals; old versions stay for opening.
    async fn rotate_data_key(&self, scope: &KeyScope) -> Result<KeyVersion, KeyError>;
    /// Rotates the tenant's key-encryption key and re-wraps every stored data key of the tenant without
    /// decrypting any data (ENC-2). Returns how many wrapped keys were re-wrapped.
    async fn rotate_kek(&self, tenant: &TenantId) -> Result<u64, KeyError>;
    /// Crypto-shreds one scope: afterwards no copy of any of its key versions can be unwrapped by anyone,
    /// including from an earlier backup of the database (RET-3). Returns how many versions were destroyed.
    /// Idempotent (0 the second time).
    async fn destroy(&self, scope: &KeyScope) -> Result<u64, KeyError>;
    /// Crypto-shreds every scope of the tenant, its key-encryption key included (offboarding, RGT-3).
    async fn destroy_tenant(&self, tenant: &TenantId) -> Result<u64, KeyError>;
    /// Whether the scope has usable key material (for deletion re-checks, RET-6).
    async fn exists(&self, scope: &KeyScope) -> Result<bool, KeyError>;
}
