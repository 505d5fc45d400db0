//! Where things live in Vault: KV paths (ids hex-encoded, so any printable id is a safe segment and lists
//! decode back to ids) and Transit key names (hash prefixes, short and free of id characters).

use custodian_core::grant::GrantId;
use custodian_core::ports::KeyScope;
use custodian_core::tenant::TenantId;
use data_encoding::HEXLOWER;
use sha2::{Digest, Sha256};

/// The segment of a tenant's own scope.
const TENANT_SCOPE: &str = "tenant";
/// The prefix of a grant scope's segment.
const GRANT_SCOPE: &str = "grant-";
/// The tombstone of a whole tenant.
const ALL_SCOPES: &str = "all-scopes";

/// Path and name builder for one configuration.
#[derive(Debug, Clone)]
pub(crate) struct Paths {
    kv_prefix: String,
    transit_key_prefix: String,
}

pub(crate) fn hex(id: &str) -> String {
    HEXLOWER.encode(id.as_bytes())
}

pub(crate) fn unhex(segment: &str) -> Option<String> {
    HEXLOWER.decode(segment.as_bytes()).ok().and_then(|bytes| String::from_utf8(bytes).ok())
}

/// 128 bits of SHA-256 over a labelled value, as 32 hex digits.
fn short_hash(label: &str, value: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(label.as_bytes());
    digest.update([0]);
    digest.update(value.as_bytes());
    let digest = digest.finalize();
    HEXLOWER.encode(digest.get(..16).unwrap_or_default())
}

impl Paths {
    pub(crate) fn new(kv_prefix: &str, transit_key_prefix: &str) -> Self {
        Self { kv_prefix: kv_prefix.to_owned(), transit_key_prefix: transit_key_prefix.to_owned() }
    }

    pub(crate) fn kv_prefix(&self) -> &str {
        &self.kv_prefix
    }

    pub(crate) fn transit_key_prefix(&self) -> &str {
        &self.transit_key_prefix
    }

    pub(crate) fn credentials_dir(&self, tenant: &TenantId) -> String {
        format!("{}/credentials/{}", self.kv_prefix, hex(tenant.as_str()))
    }

    pub(crate) fn credentials(&self, tenant: &TenantId, grant: &GrantId) -> String {
        format!("{}/{}", self.credentials_dir(tenant), hex(grant.as_str()))
    }

    pub(crate) fn keys_dir(&self, tenant: &TenantId) -> String {
        format!("{}/keys/{}", self.kv_prefix, hex(tenant.as_str()))
    }

    pub(crate) fn scope_record(&self, scope: &KeyScope) -> String {
        format!("{}/{}", self.keys_dir(&scope.tenant), segment(scope))
    }

    pub(crate) fn shredded_dir(&self, tenant: &TenantId) -> String {
        format!("{}/shredded/{}", self.kv_prefix, hex(tenant.as_str()))
    }

    pub(crate) fn tombstone(&self, scope: &KeyScope) -> String {
        format!("{}/{}", self.shredded_dir(&scope.tenant), segment(scope))
    }

    pub(crate) fn tenant_tombstone(&self, tenant: &TenantId) -> String {
        format!("{}/{ALL_SCOPES}", self.shredded_dir(tenant))
    }

    /// The Transit key of a scope: `<prefix>-<tenant hash>-<scope hash>`.
    pub(crate) fn transit_key(&self, scope: &KeyScope) -> String {
        format!("{}{}", self.transit_tenant_prefix(&scope.tenant), short_hash("scope", &segment(scope)))
    }

    /// The common prefix of a tenant's Transit keys.
    pub(crate) fn transit_tenant_prefix(&self, tenant: &TenantId) -> String {
        format!("{}-{}-", self.transit_key_prefix, short_hash("tenant", tenant.as_str()))
    }
}

/// A scope's path segment: `tenant` or `grant-<hex grant id>`.
pub(crate) fn segment(scope: &KeyScope) -> String {
    match &scope.grant {
        None => TENANT_SCOPE.to_owned(),
        Some(grant) => format!("{GRANT_SCOPE}{}", hex(grant.as_str())),
    }
}

/// The scope a segment names, if it names one.
pub(crate) fn parse_segment(tenant: &TenantId, segment: &str) -> Option<KeyScope> {
    if segment == TENANT_SCOPE {
        return Some(KeyScope::tenant(tenant));
    }
    let grant: GrantId = unhex(segment.strip_prefix(GRANT_SCOPE)?)?.parse().ok()?;
    Some(KeyScope::grant(tenant, &grant))
}

/// Whether a tombstone listing marks `scope` (or its whole tenant) as destroyed.
pub(crate) fn tombstoned(listing: &[String], scope: &KeyScope) -> bool {
    let own = segment(scope);
    listing.iter().any(|key| key == ALL_SCOPES || *key == own)
}

/// Whether a tombstone listing marks the whole tenant as destroyed.
pub(crate) fn tenant_tombstoned(listing: &[String]) -> bool {
    listing.iter().any(|key| key == ALL_SCOPES)
}

#[cfg(test)]
mod tests;
