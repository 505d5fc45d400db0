//! The decrypted contents of the keystore file. A `State` lives only for the duration of one operation; its
//! key material is zeroized when it is dropped.

use std::collections::{BTreeMap, BTreeSet};

use custodian_core::grant::GrantId;
use custodian_core::ports::{Credentials, KeyScope};
use custodian_core::tenant::TenantId;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// Everything the file holds.
#[derive(Default)]
pub(crate) struct State {
    /// Incremented by every write.
    pub(crate) generation: u64,
    /// Credentials by tenant and grant (the secret store).
    pub(crate) secrets: BTreeMap<(TenantId, GrantId), SecretEntry>,
    /// The key service side: per tenant a KEK and per scope a wrapping secret.
    pub(crate) keks: BTreeMap<TenantId, Kek>,
    /// The wrapped side: per scope, every data key version wrapped.
    pub(crate) wrapped: BTreeMap<KeyScope, ScopeKeys>,
    /// Scopes crypto-shredded one by one: never given a key again.
    pub(crate) destroyed_scopes: BTreeSet<KeyScope>,
    /// Tenants crypto-shredded as a whole: none of their scopes is given a key again.
    pub(crate) destroyed_tenants: BTreeSet<TenantId>,
}

impl State {
    pub(crate) fn destroyed(&self, scope: &KeyScope) -> bool {
        self.destroyed_tenants.contains(&scope.tenant) || self.destroyed_scopes.contains(scope)
    }
}

/// One grant's credentials with their check-and-set version.
#[derive(Clone)]
pub(crate) struct SecretEntry {
    pub(crate) credentials: Credentials,
    pub(crate) version: u64,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) updated_at: OffsetDateTime,
}

/// A tenant's key-encryption key and its scopes' wrapping secrets.
pub(crate) struct Kek {
    pub(crate) version: u32,
    pub(crate) key: Zeroizing<[u8; 32]>,
    pub(crate) scope_secrets: BTreeMap<Option<GrantId>, Zeroizing<[u8; 32]>>,
}

/// A scope's wrapped data keys.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct ScopeKeys {
    pub(crate) current: u32,
    pub(crate) versions: BTreeMap<u32, Wrapped>,
}

/// One wrapped data key version.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Wrapped {
    pub(crate) kek_version: u32,
    pub(crate) nonce: [u8; 12],
    pub(crate) ciphertext: Vec<u8>,
}
