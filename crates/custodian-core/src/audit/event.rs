//! The typed audit events (AUD-1, AUTH-7): one struct per kind, each with a stable snake_case kind name, a
//! stable tag byte in the encoding, and an [`AuditCategory`].
//!
//! Fields are ids, enums, counts, hashes and short descriptive strings; none can hold a secret, a token or
//! buyer PII. Strings are cut to [`MAX_TEXT_CHARS`] characters and lists to [`MAX_LIST_ITEMS`] items by
//! each event's `new` and again by [`crate::audit::extend`], whichever way the event was built.

use std::fmt;

use super::encoding::{Field, Reader};
use super::{AuditError, Hash};
use crate::approval::ChangeId;
use crate::authz::{Action, Decision, Request};
use crate::data::{DataClass, Purpose};
use crate::grant::{GrantId, GrantState};
use crate::incident::IncidentId;
use crate::personnel::{ApiKeyId, PersonId};
use crate::platform::{Platform, Task};
use crate::retention::{HoldId, ReceiptId};
use crate::rights::RightsRequestId;
use crate::tenant::TenantId;

/// The most characters an audit string keeps.
pub const MAX_TEXT_CHARS: usize = 512;

/// The most items an audit list keeps.
pub const MAX_LIST_ITEMS: usize = 64;

/// The AUD-1 categories of significant operations, plus authorization decisions (AUTH-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuditCategory {
    /// Grants connected, validated, reviewed, revoked or expired; platform signals; tenant lifecycle.
    AuthorizationChange,
    /// One per authorization decision (AUTH-7), and login attempts.
    AccessDecision,
    /// Reporting and sync job progress and failures.
    JobUpdate,
    /// Reads of stored data, secrets and the keys that guard data.
    DataAccess,
    /// Retention runs and legal holds.
    Retention,
    /// Purges, secret deletions and key destruction.
    Deletion,
    /// Personnel, roles and API keys.
    PersonnelChange,
    /// Campaign change requests: proposal, approval, execution.
    Approval,
    Incident,
    RightsRequest,
}

impl AuditCategory {
    /// Every category, in a stable order.
    pub const ALL: [AuditCategory; 10] = [
        AuditCategory::AuthorizationChange,
        AuditCategory::AccessDecision,
        AuditCategory::JobUpdate,
        AuditCategory::DataAccess,
        AuditCategory::Retention,
        AuditCategory::Deletion,
        AuditCategory::PersonnelChange,
        AuditCategory::Approval,
        AuditCategory::Incident,
        AuditCategory::RightsRequest,
    ];

    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditCategory::AuthorizationChange => "authorization_change",
            AuditCategory::AccessDecision => "access_decision",
            AuditCategory::JobUpdate => "job_update",
            AuditCategory::DataAccess => "data_access",
            AuditCategory::Retention => "retention",
            AuditCategory::Deletion => "deletion",
            AuditCategory::PersonnelChange => "personnel_change",
            AuditCategory::Approval => "approval",
            AuditCategory::Incident => "incident",
            AuditCategory::RightsRequest => "rights_request",
        }
    }
}

impl fmt::Display for AuditCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What was done to a stored credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecretOperation {
    Put,
    Get,
    Delete,
}

/// What was done to a tenant data key (ENC-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyOperation {
    Created,
    Unwrapped,
    Rotated,
    Rewrapped,
    /// Crypto-shredding: the data the key sealed is unreadable from now on (RET-3).
    Destroyed,
}

/// Declares the event structs and [`AuditEvent`]: the field order here is the encoding order, and each
/// tag is fixed forever once records carry it.
macro_rules! audit_events {
    ($(
        $(#[$meta:meta])*
        $name:ident = $tag:literal, $kind:literal {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)?
        }
    )*) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, PartialEq, Eq)]
            pub struct $name {
                $( $(#[$fmeta])* pub $field: $ty, )*
            }

            impl $name {
                /// The event's stable kind name.
                pub const KIND: &'static str = $kind;

                /// The event, with its strings and lists cut to their bounds.
                pub fn new($($field: impl Into<$ty>),*) -> Self {
                    let mut event = Self { $($field: $field.into(),)* };
                    event.bound_fields();
                    event
                }

                fn bound_fields(&mut self) {
                    $( Field::bound(&mut self.$field); )*
                }

                fn put_fields(&self, out: &mut Vec<u8>) {
                    $( Field::put(&self.$field, out); )*
                }

                fn get_fields(r: &mut Reader<'_>) -> Result<Self, AuditError> {
                    Ok(Self { $($field: Field::get(r, concat!($kind, ".", stringify!($field)))?,)* })
                }
            }

            impl From<$name> for AuditEvent {
                fn from(event: $name) -> Self {
                    AuditEvent::$name(event)
                }
            }
        )*

        /// Every kind of audited operation (AUD-1), one variant per event struct.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum AuditEvent {
            $( $name($name), )*
        }

        impl AuditEvent {
            /// The stable kind names, in tag order.
            pub const KINDS: &'static [&'static str] = &[$($kind),*];

            /// The event's stable snake_case kind name.
            pub fn kind(&self) -> &'static str {
                match self { $( AuditEvent::$name(_) => $kind, )* }
            }

            /// The event's tag byte in the canonical encoding.
            pub fn tag(&self) -> u8 {
                match self { $( AuditEvent::$name(_) => $tag, )* }
            }

            /// The event with every string and list cut to its bound.
            pub fn bounded(mut self) -> Self {
                match &mut self { $( AuditEvent::$name(e) => e.bound_fields(), )* }
                self
            }

            pub(super) fn put(&self, out: &mut Vec<u8>) {
                out.push(self.tag());
                match self { $( AuditEvent::$name(e) => e.put_fields(out), )* }
            }

            pub(super) fn get(r: &mut Reader<'_>) -> Result<Self, AuditError> {
                match r.u8("event kind")? {
                    $( $tag => $name::get_fields(r).map(AuditEvent::$name), )*
                    tag => Err(AuditError::UnknownTag { field: "event kind", tag }),
                }
            }
        }
    };
}

audit_events! {
    /// A grant changed state or was validated, reviewed or reconfigured (AUTH-1..6). `from` is `None` for a
    /// new grant.
    GrantChanged = 1, "grant_changed" {
        grant: GrantId,
        platform: Platform,
        from: Option<GrantState>,
        to: GrantState,
        /// What happened, e.g. "validated", "owner changed", "revoked by platform signal".
        detail: String,
    }
    /// One authorization decision with its reasons (AUTH-7). Build it with [`AccessDecided::from_decision`].
    AccessDecided = 2, "access_decided" {
        /// The action's stable name ([`action_name`]).
        action: String,
        tenant: Option<TenantId>,
        allowed: bool,
        /// Every rule that fired, as [`crate::authz::Reason`]'s display text.
        reasons: Vec<String>,
    }
    /// A sync or report job made progress (one per batch).
    SyncProgressed = 3, "sync_progressed" {
        grant: GrantId,
        task: Task,
        records: u64,
        /// The platform's opaque resume cursor after the batch.
        cursor: Option<String>,
    }
    /// A sync or report job failed.
    SyncFailed = 4, "sync_failed" {
        grant: GrantId,
        task: Task,
        /// The safe error description (never a response body).
        error: String,
    }
    /// Stored data was read (AUD-1: reads of Confidential data included).
    DataRead = 5, "data_read" {
        class: DataClass,
        records: u64,
        purpose: Purpose,
    }
    /// A grant's platform credentials were stored, read or deleted. The secret itself is never recorded.
    SecretAccessed = 6, "secret_accessed" {
        grant: GrantId,
        operation: SecretOperation,
    }
    /// A tenant data key was created, unwrapped, rotated, rewrapped or destroyed (ENC-1, RET-3).
    KeyChanged = 7, "key_changed" {
        operation: KeyOperation,
        /// The key version ([`crate::data::KeyVersion`]).
        version: u32,
    }
    /// A retention sweep finished (RET-1..5).
    RetentionRan = 8, "retention_ran" {
        deleted: u64,
        anonymized: u64,
        kept: u64,
    }
    /// Records, secrets and keys were purged (revocation RET-3, rights RGT-1, offboarding RGT-3), with the
    /// deletion receipt (RET-6).
    RecordsPurged = 9, "records_purged" {
        grant: Option<GrantId>,
        receipt: ReceiptId,
        rows: u64,
        secrets: u64,
        keys: u64,
    }
    /// A legal hold was placed or lifted (RET-5).
    HoldChanged = 10, "hold_changed" {
        hold: HoldId,
        change: String,
    }
    /// A person was created, deactivated, or given or removed a role or tenant (ACC-1).
    PersonnelChanged = 11, "personnel_changed" {
        person: PersonId,
        change: String,
    }
    /// An API key was created, changed or revoked (ACC-4).
    ApiKeyChanged = 12, "api_key_changed" {
        key: ApiKeyId,
        change: String,
    }
    /// A login attempt (ACC-2). `person` is `None` when the login name matched nobody; the name typed is
    /// not recorded.
    LoginAttempted = 13, "login_attempted" {
        person: Option<PersonId>,
        succeeded: bool,
        reason: String,
    }
    /// A campaign change was proposed, bound to the hash of its diff (CAM-1).
    ChangeProposed = 14, "change_proposed" {
        change: ChangeId,
        diff_hash: Hash,
        grant: GrantId,
    }
    /// A campaign change was approved by a second person with step-up MFA (CAM-1).
    ChangeApproved = 15, "change_approved" {
        change: ChangeId,
        diff_hash: Hash,
    }
    /// An approved change was applied; `confirmed` when the read-back matched the diff (CAM-2).
    ChangeExecuted = 16, "change_executed" {
        change: ChangeId,
        diff_hash: Hash,
        confirmed: bool,
    }
    /// An incident was opened, isolated, notified, remediated, reviewed or closed (INC-1).
    IncidentChanged = 17, "incident_changed" {
        incident: IncidentId,
        change: String,
    }
    /// A rights request was received, progressed or answered (RGT-1..3).
    RightsRequestChanged = 18, "rights_request_changed" {
        request: RightsRequestId,
        change: String,
    }
    /// A verified platform signal was received (AUTH-6).
    SignalReceived = 19, "signal_received" {
        platform: Platform,
        kind: String,
    }
    /// A platform notification failed verification and was ignored.
    SignalRejected = 20, "signal_rejected" {
        platform: Platform,
        reason: String,
    }
    /// The tenant was created, changed, or started or finished offboarding (RGT-3).
    TenantChanged = 21, "tenant_changed" {
        change: String,
    }
    /// A person's session changed without a login (ACC-2): ended by its holder (`logout`), its MFA
    /// verified again (`step_up`), or ended after failed step-ups locked the account (`revoked_after_lockout`);
    /// or all of the person's sessions ended at once, by the person (`signed_out_everywhere`) or by someone
    /// who manages personnel (`signed_out_by_admin`).
    /// Failed step-ups are [`LoginAttempted`] events: they count towards the lockout like failed logins.
    SessionChanged = 22, "session_changed" {
        person: PersonId,
        change: String,
    }
}

impl AuditEvent {
    /// The AUD-1 category. Depends only on the kind, except that deleting a secret and destroying a key are
    /// deletions.
    pub fn category(&self) -> AuditCategory {
        use AuditCategory as C;
        match self {
            AuditEvent::GrantChanged(_)
            | AuditEvent::SignalReceived(_)
            | AuditEvent::SignalRejected(_)
            | AuditEvent::TenantChanged(_) => C::AuthorizationChange,
            AuditEvent::AccessDecided(_) | AuditEvent::LoginAttempted(_) | AuditEvent::SessionChanged(_) => {
                C::AccessDecision
            }
            AuditEvent::SyncProgressed(_) | AuditEvent::SyncFailed(_) => C::JobUpdate,
            AuditEvent::SecretAccessed(e) if e.operation == SecretOperation::Delete => C::Deletion,
            AuditEvent::KeyChanged(e) if e.operation == KeyOperation::Destroyed => C::Deletion,
            AuditEvent::DataRead(_) | AuditEvent::SecretAccessed(_) | AuditEvent::KeyChanged(_) => {
                C::DataAccess
            }
            AuditEvent::RetentionRan(_) | AuditEvent::HoldChanged(_) => C::Retention,
            AuditEvent::RecordsPurged(_) => C::Deletion,
            AuditEvent::PersonnelChanged(_) | AuditEvent::ApiKeyChanged(_) => C::PersonnelChange,
            AuditEvent::ChangeProposed(_) | AuditEvent::ChangeApproved(_) | AuditEvent::ChangeExecuted(_) => {
                C::Approval
            }
            AuditEvent::IncidentChanged(_) => C::Incident,
            AuditEvent::RightsRequestChanged(_) => C::RightsRequest,
        }
    }
}

impl AccessDecided {
    /// The audit event of one decision (AUTH-7): the action's stable name, the tenant, the effect and
    /// every reason's display text. The actor is recorded on the record ([`super::ActorRef`]).
    pub fn from_decision(request: &Request, decision: &Decision) -> Self {
        Self::new(
            action_name(request.action),
            request.tenant.clone(),
            decision.is_allowed(),
            decision.reasons.iter().take(MAX_LIST_ITEMS).map(ToString::to_string).collect::<Vec<_>>(),
        )
    }
}

/// The stable snake_case name of an authorization action, e.g. `sync:read_orders`, `read_data:buyer_pii`,
/// `approve_change`.
pub fn action_name(action: Action) -> String {
    let name = match action {
        Action::Sync(task) => return format!("sync:{task}"),
        Action::ReadData(class) => return format!("read_data:{class}"),
        Action::ReadTenant => "read_tenant",
        Action::ManageTenant => "manage_tenant",
        Action::ConnectGrant => "connect_grant",
        Action::ValidateGrant => "validate_grant",
        Action::ReviewGrant => "review_grant",
        Action::RevokeGrant => "revoke_grant",
        Action::UpdateStock => "update_stock",
        Action::ProposeChange => "propose_change",
        Action::ApproveChange => "approve_change",
        Action::ExecuteChange => "execute_change",
        Action::ReadCredentialsMeta => "read_credentials_meta",
        Action::ExportData => "export_data",
        Action::ManageRetention => "manage_retention",
        Action::PlaceHold => "place_hold",
        Action::LiftHold => "lift_hold",
        Action::ReadAudit => "read_audit",
        Action::VerifyAudit => "verify_audit",
        Action::ManageRights => "manage_rights",
        Action::ManageIncident => "manage_incident",
        Action::ManagePersonnel => "manage_personnel",
        Action::ManageApiKeys => "manage_api_keys",
    };
    name.to_owned()
}
