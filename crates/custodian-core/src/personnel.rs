//! People, roles, permissions and tenant assignments (ACC-1), MFA state (ACC-2) and integrator API keys
//! (ACC-4). The password rule, Argon2id hashing and TOTP live in the submodules.

use std::collections::BTreeSet;
use std::fmt;

use time::OffsetDateTime;

use crate::id::{IdError, shorten, string_id};
use crate::tenant::TenantId;

string_id!(
    /// A member of personnel.
    PersonId,
    "person id"
);
string_id!(
    /// An integrator API key's public id (the secret part is never stored, only its hash).
    ApiKeyId,
    "api key id"
);

/// Something a role allows. Each authorization [`crate::authz::Action`] needs exactly one permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    TenantRead,
    TenantManage,
    GrantConnect,
    GrantValidate,
    GrantRevoke,
    GrantReview,
    SyncRun,
    DatasetRead,
    PiiRead,
    StockUpdate,
    ChangePropose,
    ChangeApprove,
    ChangeExecute,
    CredentialsMetaRead,
    DataExport,
    RetentionManage,
    HoldManage,
    AuditRead,
    AuditVerify,
    RightsManage,
    IncidentManage,
    PersonnelManage,
    ApiKeyManage,
}

impl Permission {
    /// Every permission, in a stable order.
    pub const ALL: [Permission; 23] = [
        Permission::TenantRead,
        Permission::TenantManage,
        Permission::GrantConnect,
        Permission::GrantValidate,
        Permission::GrantRevoke,
        Permission::GrantReview,
        Permission::SyncRun,
        Permission::DatasetRead,
        Permission::PiiRead,
        Permission::StockUpdate,
        Permission::ChangePropose,
        Permission::ChangeApprove,
        Permission::ChangeExecute,
        Permission::CredentialsMetaRead,
        Permission::DataExport,
        Permission::RetentionManage,
        Permission::HoldManage,
        Permission::AuditRead,
        Permission::AuditVerify,
        Permission::RightsManage,
        Permission::IncidentManage,
        Permission::PersonnelManage,
        Permission::ApiKeyManage,
    ];

    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::TenantRead => "tenant_read",
            Permission::TenantManage => "tenant_manage",
            Permission::GrantConnect => "grant_connect",
            Permission::GrantValidate => "grant_validate",
            Permission::GrantRevoke => "grant_revoke",
            Permission::GrantReview => "grant_review",
            Permission::SyncRun => "sync_run",
            Permission::DatasetRead => "dataset_read",
            Permission::PiiRead => "pii_read",
            Permission::StockUpdate => "stock_update",
            Permission::ChangePropose => "change_propose",
            Permission::ChangeApprove => "change_approve",
            Permission::ChangeExecute => "change_execute",
            Permission::CredentialsMetaRead => "credentials_meta_read",
            Permission::DataExport => "data_export",
            Permission::RetentionManage => "retention_manage",
            Permission::HoldManage => "hold_manage",
            Permission::AuditRead => "audit_read",
            Permission::AuditVerify => "audit_verify",
            Permission::RightsManage => "rights_manage",
            Permission::IncidentManage => "incident_manage",
            Permission::PersonnelManage => "personnel_manage",
            Permission::ApiKeyManage => "api_key_manage",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Permission {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| IdError::Format {
            kind: "permission",
            value: shorten(s),
            expected: "a known permission",
        })
    }
}

/// A personnel role: a named, least-privilege set of permissions (ACC-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Manages personnel, API keys and tenants. Sees client data only in assigned tenants.
    Admin,
    /// Incidents, holds, retention and audit.
    SecurityOfficer,
    /// Owns client relationships: grants, approvals, rights requests, exports.
    AccountManager,
    /// Reads reporting and proposes campaign changes.
    Analyst,
    /// Order fulfilment: orders, buyer PII (when enabled), stock.
    Fulfillment,
    /// Read-only access to the audit trail.
    Auditor,
}

impl Role {
    /// Every role, in a stable order.
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::SecurityOfficer,
        Role::AccountManager,
        Role::Analyst,
        Role::Fulfillment,
        Role::Auditor,
    ];

    /// The permissions of the role.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission as P;
        match self {
            Role::Admin => &[
                P::TenantRead,
                P::TenantManage,
                P::PersonnelManage,
                P::ApiKeyManage,
                P::CredentialsMetaRead,
                P::AuditRead,
                P::AuditVerify,
            ],
            Role::SecurityOfficer => &[
                P::TenantRead,
                P::IncidentManage,
                P::HoldManage,
                P::RetentionManage,
                P::AuditRead,
                P::AuditVerify,
                P::GrantRevoke,
                P::CredentialsMetaRead,
            ],
            Role::AccountManager => &[
                P::TenantRead,
                P::GrantConnect,
                P::GrantValidate,
                P::GrantRevoke,
                P::GrantReview,
                P::SyncRun,
                P::DatasetRead,
                P::ChangePropose,
                P::ChangeApprove,
                P::ChangeExecute,
                P::DataExport,
                P::RightsManage,
            ],
            Role::Analyst => &[P::TenantRead, P::DatasetRead, P::SyncRun, P::ChangePropose],
            Role::Fulfillment => &[P::TenantRead, P::DatasetRead, P::PiiRead, P::SyncRun, P::StockUpdate],
            Role::Auditor => &[P::TenantRead, P::AuditRead, P::AuditVerify],
        }
    }

    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::SecurityOfficer => "security_officer",
            Role::AccountManager => "account_manager",
            Role::Analyst => "analyst",
            Role::Fulfillment => "fulfillment",
            Role::Auditor => "auditor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| IdError::Format {
            kind: "role",
            value: shorten(s),
            expected: "admin, security_officer, account_manager, analyst, fulfillment or auditor",
        })
    }
}

/// Whether any of `roles` grants `permission`.
pub fn roles_allow(roles: &BTreeSet<Role>, permission: Permission) -> bool {
    roles.iter().any(|r| r.permissions().contains(&permission))
}

/// A member of personnel as stored (no secrets: the password hash and TOTP secret live in the store's own
/// credential records, never in this type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: PersonId,
    pub display_name: String,
    pub roles: BTreeSet<Role>,
    /// Tenants this person is assigned to (need-to-know, ACC-1). No role implies all tenants.
    pub tenants: BTreeSet<TenantId>,
    pub mfa_enrolled: bool,
    pub active: bool,
}

/// The authenticated person behind a request, with the session's MFA facts (ACC-2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonSession {
    pub person: Person,
    /// When this session last verified a TOTP code: at login, or later for step-up. `None`: not verified.
    pub mfa_verified_at: Option<OffsetDateTime>,
}

/// An integrator API key's grants (ACC-4). The key secret is stored only as a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub tenants: BTreeSet<TenantId>,
    pub permissions: BTreeSet<Permission>,
    pub created_by: PersonId,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl ApiKey {
    /// Whether the key may be used at `now`.
    pub fn is_usable(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none_or(|t| t > now) && self.expires_at.is_none_or(|t| t > now)
    }
}

pub mod password;
pub mod token;
pub mod totp;

#[cfg(test)]
mod tests;
