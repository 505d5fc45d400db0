//! Client and data-subject rights requests (RGT-1..3) with statutory deadlines.

use crate::data::Purpose;
use crate::id::string_id;
use crate::tenant::TenantId;

string_id!(
    /// A rights request.
    RightsRequestId,
    "rights request id"
);

/// A standing restriction or objection that [`crate::authz::decide`] enforces (RGT-1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProcessingRestriction {
    /// Restriction: processing of the tenant's data is frozen; data is kept and may be exported.
    Restricted { tenant: TenantId },
    /// Objection: processing of the tenant's data for this purpose stops.
    Objection { tenant: TenantId, purpose: Purpose },
}

impl ProcessingRestriction {
    /// The tenant it applies to.
    pub fn tenant(&self) -> &TenantId {
        match self {
            ProcessingRestriction::Restricted { tenant } | ProcessingRestriction::Objection { tenant, .. } => tenant,
        }
    }
}
