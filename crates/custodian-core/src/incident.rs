//! Incidents (INC-1): isolation scopes, scope assessment, notification deadlines, remediation and review.

use crate::grant::GrantId;
use crate::id::string_id;
use crate::personnel::{ApiKeyId, PersonId};
use crate::platform::Platform;
use crate::tenant::TenantId;

string_id!(
    /// An incident.
    IncidentId,
    "incident id"
);

/// What an open incident isolates: all processing there is denied by [`crate::authz::decide`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IsolationScope {
    Tenant(TenantId),
    Grant { tenant: TenantId, grant: GrantId },
    Platform(Platform),
    Person(PersonId),
    ApiKey(ApiKeyId),
}
