//! Tenants (the clients Custodian processes data for), their contract terms and business contacts.

use std::collections::BTreeMap;

use crate::data::{DataClass, Sealed};
use crate::id::{IdError, string_id};
use crate::retention::RetentionDays;

string_id!(
    /// A client of the agency or seller-services company: the unit of segregation (SEG-1).
    TenantId,
    "tenant id"
);
string_id!(
    /// A business contact of a tenant.
    ContactId,
    "contact id"
);

/// A client and what its contract says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: TenantName,
    pub contract: ContractTerms,
    pub status: TenantStatus,
}

/// Lifecycle of a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TenantStatus {
    Active,
    /// Offboarding started (RGT-3): no new processing, export then deletion.
    Offboarding,
    /// Everything deleted; only the audit trail and the receipt remain.
    Offboarded,
}

/// A tenant's display name: 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantName(String);

impl TenantName {
    /// Validates a display name.
    pub fn new(raw: impl Into<String>) -> Result<Self, IdError> {
        let raw = raw.into();
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(IdError::Empty { kind: "tenant name" });
        }
        if trimmed.chars().count() > 200 {
            return Err(IdError::TooLong { kind: "tenant name", max: 200 });
        }
        if let Some(at) = trimmed.char_indices().find(|(_, c)| c.is_control()).map(|(i, _)| i) {
            return Err(IdError::BadChar { kind: "tenant name", at });
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the client's contract says about processing (RET-2: overrides can only shorten).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContractTerms {
    /// Retention periods the contract sets per data class. [`crate::retention`] applies the shorter of
    /// this and the policy period, so a longer value here has no effect.
    pub retention_overrides: BTreeMap<DataClass, RetentionDays>,
}

/// A client representative's business contact (MIN-1: business contact details only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessContact {
    pub tenant: TenantId,
    pub id: ContactId,
    /// Name, email and phone, sealed with the tenant's data key (ENC-1).
    pub details: Sealed<crate::data::ContactDetails>,
    /// Free-text role ("marketing lead"), screened by [`crate::intake`] before it is stored (MIN-3).
    pub role: String,
}
