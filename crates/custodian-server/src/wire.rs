//! Wire formats: request bodies (serde, unknown fields refused) and response views built from domain types
//! (which derive no serde, style rule 12). Secrets arrive as [`SecretString`] and leave only in the
//! one-time reveals ([`Revealed`]).

use std::collections::BTreeMap;
use std::fmt;

use custodian_core::audit::{ActorRef, AuditEvent, AuditRecord, KeyOperation, SecretOperation};
use custodian_core::personnel::{ApiKey, Person};
use custodian_core::tenant::{Tenant, TenantStatus};
use data_encoding::BASE32_NOPAD;
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub(crate) mod cases;
pub(crate) mod flows;

/// Lowercase unpadded base32.
pub(crate) fn base32_lower(bytes: &[u8]) -> String {
    let mut text = BASE32_NOPAD.encode(bytes);
    text.make_ascii_lowercase();
    text
}

/// RFC 3339 in UTC (falls back to Unix seconds for years RFC 3339 cannot show).
pub(crate) fn ts(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC).format(&Rfc3339).unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Deserializes a string straight into a [`SecretString`].
pub(crate) fn secret<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SecretString, D::Error> {
    String::deserialize(deserializer).map(SecretString::from)
}

/// Deserializes an optional string straight into a [`SecretString`].
pub(crate) fn optional_secret<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SecretString>, D::Error> {
    Option::<String>::deserialize(deserializer).map(|v| v.map(SecretString::from))
}

// ---- requests ----

/// `POST /v1/auth/login`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginBody {
    pub(crate) email: String,
    #[serde(deserialize_with = "secret")]
    #[schemars(with = "String")]
    pub(crate) password: SecretString,
    /// The current TOTP code; required whenever MFA is (ACC-2).
    #[serde(default, deserialize_with = "optional_secret")]
    #[schemars(with = "Option<String>")]
    pub(crate) code: Option<SecretString>,
}

/// `POST /v1/auth/step-up`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepUpBody {
    #[serde(deserialize_with = "secret")]
    #[schemars(with = "String")]
    pub(crate) code: SecretString,
}

/// `POST /v1/people`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreatePersonBody {
    pub(crate) email: String,
    #[serde(default)]
    pub(crate) display_name: Option<String>,
    #[serde(deserialize_with = "secret")]
    #[schemars(with = "String")]
    pub(crate) password: SecretString,
    #[serde(default)]
    pub(crate) roles: Vec<String>,
    #[serde(default)]
    pub(crate) tenants: Vec<String>,
}

impl fmt::Debug for LoginBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginBody").field("email", &self.email).finish_non_exhaustive()
    }
}

impl fmt::Debug for StepUpBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StepUpBody").finish_non_exhaustive()
    }
}

impl fmt::Debug for CreatePersonBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatePersonBody")
            .field("email", &self.email)
            .field("display_name", &self.display_name)
            .field("roles", &self.roles)
            .field("tenants", &self.tenants)
            .finish_non_exhaustive()
    }
}

/// `PUT /v1/people/{id}/access`: the complete new roles and tenant assignments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccessBody {
    pub(crate) roles: Vec<String>,
    pub(crate) tenants: Vec<String>,
}

/// `POST /v1/api-keys`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateApiKeyBody {
    pub(crate) name: String,
    pub(crate) tenants: Vec<String>,
    pub(crate) permissions: Vec<String>,
    #[serde(default)]
    pub(crate) expires_in_days: Option<u32>,
}

/// `POST /v1/tenants`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateTenantBody {
    pub(crate) id: String,
    pub(crate) name: String,
    /// Contract retention overrides by data class name, in days (RET-2: only shorter periods take effect).
    #[serde(default)]
    pub(crate) retention_days: BTreeMap<String, u32>,
}

/// `POST /v1/tenants/{id}/contacts`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateContactBody {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) email: Option<String>,
    #[serde(default)]
    pub(crate) phone: Option<String>,
    pub(crate) role: String,
}

/// `GET /v1/tenants/{id}/audit` query.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditQuery {
    #[serde(default)]
    pub(crate) from_seq: Option<u64>,
    #[serde(default)]
    pub(crate) limit: Option<u32>,
}

// ---- responses ----

/// A session as the session lists answer it: never its token or the token's hash.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "Session")]
pub(crate) struct SessionView {
    /// RFC 3339.
    pub(crate) created_at: String,
    /// RFC 3339.
    pub(crate) expires_at: String,
    /// The last password + TOTP or step-up verification (RFC 3339), if any.
    pub(crate) mfa_verified_at: Option<String>,
    /// Whether this is the session making the request.
    pub(crate) current: bool,
}

/// `GET /v1/me/sessions`, `GET /v1/people/{id}/sessions`: the live sessions, newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SessionList {
    pub(crate) sessions: Vec<SessionView>,
}

/// `POST /v1/me/sessions/revoke`, `POST /v1/people/{id}/sessions/revoke`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SessionsRevoked {
    /// How many live sessions ended (0 when none was live).
    pub(crate) revoked: u64,
}

/// `GET /healthz` and `GET /readyz`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Health {
    /// `ok` (the process answers) or `ready` (the store answers too).
    pub(crate) status: &'static str,
}

/// A TOTP enrolment shown exactly once, in the response that created it.
#[derive(Serialize, JsonSchema)]
#[serde(rename = "TotpEnrolment")]
pub(crate) struct RevealedTotp {
    /// The shared secret, base32 (shown once: store it in an authenticator app).
    pub(crate) secret: String,
    /// The `otpauth://totp/…` URI with the secret, for a QR code (shown once).
    pub(crate) otpauth_uri: String,
}

impl fmt::Debug for RevealedTotp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RevealedTotp([REDACTED])")
    }
}

/// A person as the API shows them: never a password hash, TOTP secret or session.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "Person")]
pub(crate) struct PersonView<'a> {
    /// The person's id (derived from their email).
    pub(crate) id: &'a str,
    /// The name shown for the person.
    pub(crate) display_name: &'a str,
    /// Role names, e.g. `admin`, `analyst`.
    pub(crate) roles: Vec<&'a str>,
    /// The tenants the person is assigned to (need-to-know, ACC-1).
    pub(crate) tenants: Vec<&'a str>,
    /// Whether a TOTP secret is enrolled (ACC-2).
    pub(crate) mfa_enrolled: bool,
    /// `false` once disabled: a disabled person's sessions stop working.
    pub(crate) active: bool,
}

pub(crate) fn person_view(person: &Person) -> PersonView<'_> {
    PersonView {
        id: person.id.as_str(),
        display_name: &person.display_name,
        roles: person.roles.iter().map(|r| r.as_str()).collect(),
        tenants: person.tenants.iter().map(|t| t.as_str()).collect(),
        mfa_enrolled: person.mfa_enrolled,
        active: person.active,
    }
}

/// An integrator API key as the API shows it: never the key itself (but once, at creation).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "ApiKey")]
pub(crate) struct ApiKeyView<'a> {
    /// The key's public id (part of the key itself).
    pub(crate) id: &'a str,
    /// What the key is for, as its creator named it.
    pub(crate) name: &'a str,
    /// The tenants the key may act on.
    pub(crate) tenants: Vec<&'a str>,
    /// Permission names, e.g. `dataset_read`.
    pub(crate) permissions: Vec<&'a str>,
    /// The person accountable for the key.
    pub(crate) created_by: &'a str,
    /// RFC 3339.
    pub(crate) created_at: String,
    /// RFC 3339; `null` for no expiry.
    pub(crate) expires_at: Option<String>,
    /// RFC 3339; `null` while not revoked.
    pub(crate) revoked_at: Option<String>,
}

pub(crate) fn api_key_view(key: &ApiKey) -> ApiKeyView<'_> {
    ApiKeyView {
        id: key.id.as_str(),
        name: &key.name,
        tenants: key.tenants.iter().map(|t| t.as_str()).collect(),
        permissions: key.permissions.iter().map(|p| p.as_str()).collect(),
        created_by: key.created_by.as_str(),
        created_at: ts(key.created_at),
        expires_at: key.expires_at.map(ts),
        revoked_at: key.revoked_at.map(ts),
    }
}

/// `POST /v1/auth/login`: the session token, shown once (Debug redacts it).
#[derive(Serialize, JsonSchema)]
#[serde(rename = "LoginAnswer")]
pub(crate) struct LoginAnswer<'a> {
    /// The session token (shown once): send it as `Authorization: Bearer <token>`.
    pub(crate) token: &'a str,
    /// Always `Bearer`.
    pub(crate) token_type: &'static str,
    /// RFC 3339.
    pub(crate) expires_at: String,
    /// When this login verified a TOTP code (RFC 3339); `null` when MFA was not required.
    pub(crate) mfa_verified_at: Option<String>,
    pub(crate) person: PersonView<'a>,
}

impl fmt::Debug for LoginAnswer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginAnswer")
            .field("token", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .field("person", &self.person)
            .finish_non_exhaustive()
    }
}

/// `POST /v1/auth/step-up`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct StepUpAnswer {
    /// When the verification was recorded (RFC 3339): step-up actions are allowed for a while from then.
    pub(crate) mfa_verified_at: String,
}

/// The session of `GET /v1/me`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "MeSession")]
pub(crate) struct MeSessionView {
    /// RFC 3339.
    pub(crate) created_at: String,
    /// RFC 3339.
    pub(crate) expires_at: String,
    /// The last password + TOTP or step-up verification (RFC 3339), if any.
    pub(crate) mfa_verified_at: Option<String>,
}

/// `GET /v1/me`: a person with their session, or an API key; `kind` says which.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", rename = "Me")]
pub(crate) enum MeAnswer<'a> {
    /// A person's session.
    Person { person: PersonView<'a>, session: MeSessionView },
    /// An integrator's API key.
    ApiKey { api_key: ApiKeyView<'a> },
}

/// One person.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct PersonAnswer<'a> {
    pub(crate) person: PersonView<'a>,
}

/// `POST /v1/people`, `POST /v1/people/{id}/totp`: the person and their new TOTP enrolment (shown once).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct PersonEnrolled<'a> {
    pub(crate) person: PersonView<'a>,
    pub(crate) totp: RevealedTotp,
}

/// `GET /v1/people`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct PeopleList<'a> {
    /// Every person.
    pub(crate) people: Vec<PersonView<'a>>,
}

/// `POST /v1/api-keys`: the key's record and the key itself (shown once; Debug redacts it).
#[derive(Serialize, JsonSchema)]
pub(crate) struct ApiKeyCreated<'a> {
    pub(crate) api_key: ApiKeyView<'a>,
    /// The key (shown once): send it as `Authorization: ApiKey <key>`.
    pub(crate) key: &'a str,
}

impl fmt::Debug for ApiKeyCreated<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyCreated").field("api_key", &self.api_key).field("key", &"[REDACTED]").finish()
    }
}

/// One API key.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ApiKeyAnswer<'a> {
    pub(crate) api_key: ApiKeyView<'a>,
}

/// `GET /v1/api-keys`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ApiKeyList<'a> {
    /// Every API key, revoked and expired ones included.
    pub(crate) api_keys: Vec<ApiKeyView<'a>>,
}

/// Where a tenant is in its lifecycle (RGT-3).
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", rename = "TenantStatus")]
pub(crate) enum TenantStatusName {
    Active,
    Offboarding,
    Offboarded,
}

fn tenant_status(status: TenantStatus) -> TenantStatusName {
    match status {
        TenantStatus::Active => TenantStatusName::Active,
        TenantStatus::Offboarding => TenantStatusName::Offboarding,
        TenantStatus::Offboarded => TenantStatusName::Offboarded,
    }
}

/// A tenant (a client).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "Tenant")]
pub(crate) struct TenantView<'a> {
    /// The tenant's id, e.g. `acme`.
    pub(crate) id: &'a str,
    /// The client's display name.
    pub(crate) name: &'a str,
    pub(crate) status: TenantStatusName,
    /// The contract's retention overrides, in days by data class name (RET-2: only shorter periods take
    /// effect).
    pub(crate) retention_days: BTreeMap<&'a str, u32>,
}

pub(crate) fn tenant_view(tenant: &Tenant) -> TenantView<'_> {
    TenantView {
        id: tenant.id.as_str(),
        name: tenant.name.as_str(),
        status: tenant_status(tenant.status),
        retention_days: tenant
            .contract
            .retention_overrides
            .iter()
            .map(|(class, days)| (class.as_str(), days.days()))
            .collect(),
    }
}

/// One tenant.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TenantAnswer<'a> {
    pub(crate) tenant: TenantView<'a>,
}

/// `GET /v1/tenants`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TenantList<'a> {
    /// The tenants the caller may read.
    pub(crate) tenants: Vec<TenantView<'a>>,
}

/// A contact as `POST /v1/tenants/{id}/contacts` answers it: the details stay sealed.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "ContactRef")]
pub(crate) struct ContactRefView<'a> {
    /// The new contact's id.
    pub(crate) id: &'a str,
    /// The contact's role at the client.
    pub(crate) role: &'a str,
}

/// `POST /v1/tenants/{id}/contacts`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ContactAdded<'a> {
    pub(crate) contact: ContactRefView<'a>,
}

/// A business contact, opened for a permitted reader (MIN-1).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "Contact")]
pub(crate) struct ContactView<'a> {
    /// The contact's id.
    pub(crate) id: &'a str,
    /// The contact's name.
    pub(crate) name: &'a str,
    /// The contact's email, if known.
    pub(crate) email: Option<&'a str>,
    /// The contact's phone number, if known.
    pub(crate) phone: Option<&'a str>,
    /// The contact's role at the client, e.g. "marketing lead".
    pub(crate) role: &'a str,
}

/// `GET /v1/tenants/{id}/contacts`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ContactList<'a> {
    /// The tenant's contacts (those whose data key still exists).
    pub(crate) contacts: Vec<ContactView<'a>>,
}

/// Who did something, as the audit trail records it; `kind` says which.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", rename = "Actor")]
pub(crate) enum ActorView<'a> {
    /// A person, by id.
    Person { id: &'a str },
    /// An integrator API key, by id.
    ApiKey { id: &'a str },
    /// A background job of Custodian itself.
    System,
    /// A verified platform signal.
    Platform { platform: &'static str },
}

fn actor_view(actor: &ActorRef) -> ActorView<'_> {
    match actor {
        ActorRef::Person(id) => ActorView::Person { id: id.as_str() },
        ActorRef::ApiKey(id) => ActorView::ApiKey { id: id.as_str() },
        ActorRef::System => ActorView::System,
        ActorRef::Platform(p) => ActorView::Platform { platform: p.as_str() },
    }
}

/// What was done to a grant's stored platform credentials.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", rename = "SecretOperation")]
pub(crate) enum SecretOperationName {
    Put,
    Get,
    Delete,
}

fn secret_operation(op: SecretOperation) -> SecretOperationName {
    match op {
        SecretOperation::Put => SecretOperationName::Put,
        SecretOperation::Get => SecretOperationName::Get,
        SecretOperation::Delete => SecretOperationName::Delete,
    }
}

/// What was done to a tenant data key (ENC-1; `destroyed` is crypto-shredding, RET-3).
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", rename = "KeyOperation")]
pub(crate) enum KeyOperationName {
    Created,
    Unwrapped,
    Rotated,
    Rewrapped,
    Destroyed,
}

fn key_operation(op: KeyOperation) -> KeyOperationName {
    match op {
        KeyOperation::Created => KeyOperationName::Created,
        KeyOperation::Unwrapped => KeyOperationName::Unwrapped,
        KeyOperation::Rotated => KeyOperationName::Rotated,
        KeyOperation::Rewrapped => KeyOperationName::Rewrapped,
        KeyOperation::Destroyed => KeyOperationName::Destroyed,
    }
}

/// `grant_changed`: a grant changed state or was validated, reviewed or reconfigured (AUTH-1..6).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct GrantChangedEvent<'a> {
    /// The grant's id.
    pub(crate) grant: &'a str,
    /// The grant's platform, e.g. `meta`.
    pub(crate) platform: &'static str,
    /// The state before; `null` for a new grant.
    pub(crate) from: Option<String>,
    /// The state after.
    pub(crate) to: String,
    /// What happened, e.g. "validated", "owner changed".
    pub(crate) detail: &'a str,
}

/// `access_decided`: one authorization decision with its reasons (AUTH-7).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct AccessDecidedEvent<'a> {
    /// The action's stable name, e.g. `read_tenant`.
    pub(crate) action: &'a str,
    /// The tenant the action was about, if any.
    pub(crate) tenant: Option<&'a str>,
    /// Whether the action was allowed.
    pub(crate) allowed: bool,
    /// Every rule that fired.
    pub(crate) reasons: &'a [String],
}

/// `sync_progressed`: a sync made progress (one per page).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SyncProgressedEvent<'a> {
    /// The grant's id.
    pub(crate) grant: &'a str,
    /// The task, e.g. `read_reporting`.
    pub(crate) task: String,
    /// Records stored from the page.
    pub(crate) records: u64,
    /// The platform's opaque resume cursor after the page; `null` when the run finished.
    pub(crate) cursor: Option<&'a str>,
}

/// `sync_failed`: a sync failed.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SyncFailedEvent<'a> {
    /// The grant's id.
    pub(crate) grant: &'a str,
    /// The task, e.g. `read_orders`.
    pub(crate) task: String,
    /// The safe error description (never a response body).
    pub(crate) error: &'a str,
}

/// `data_read`: stored data was read (AUD-1).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct DataReadEvent {
    /// The data class, e.g. `order_detail`.
    pub(crate) class: &'static str,
    /// How many records were read.
    pub(crate) records: u64,
    /// The purpose of the read, e.g. `service_delivery`.
    pub(crate) purpose: &'static str,
}

/// `secret_accessed`: a grant's platform credentials were stored, read or deleted (never the secret).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SecretAccessedEvent<'a> {
    /// The grant whose credentials they are.
    pub(crate) grant: &'a str,
    pub(crate) operation: SecretOperationName,
}

/// `key_changed`: a tenant data key was created, unwrapped, rotated, rewrapped or destroyed.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct KeyChangedEvent {
    pub(crate) operation: KeyOperationName,
    /// The key version.
    pub(crate) version: u32,
}

/// `retention_ran`: a retention sweep finished (RET-1..5).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RetentionRanEvent {
    /// Records deleted.
    pub(crate) deleted: u64,
    /// Records anonymized.
    pub(crate) anonymized: u64,
    /// Records kept (within their period, or held).
    pub(crate) kept: u64,
}

/// `records_purged`: records, secrets and keys were purged, with the deletion receipt (RET-6).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RecordsPurgedEvent<'a> {
    /// The grant purged; `null` for a whole tenant.
    pub(crate) grant: Option<&'a str>,
    /// The deletion receipt's id.
    pub(crate) receipt: &'a str,
    /// Dataset records deleted.
    pub(crate) rows: u64,
    /// Stored credentials deleted.
    pub(crate) secrets: u64,
    /// Data key versions destroyed.
    pub(crate) keys: u64,
}

/// `hold_changed`: a legal hold was placed or lifted (RET-5).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct HoldChangedEvent<'a> {
    /// The hold's id.
    pub(crate) hold: &'a str,
    /// What changed, e.g. `placed`, `lifted`.
    pub(crate) change: &'a str,
}

/// `personnel_changed`: a person was created, disabled, or given or removed a role or tenant (ACC-1).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct PersonnelChangedEvent<'a> {
    /// The person's id.
    pub(crate) person: &'a str,
    /// What changed, e.g. `created`, `roles: +analyst`.
    pub(crate) change: &'a str,
}

/// `api_key_changed`: an API key was created, changed or revoked (ACC-4).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ApiKeyChangedEvent<'a> {
    /// The key's id.
    pub(crate) key: &'a str,
    /// What changed, e.g. `created`, `revoked`.
    pub(crate) change: &'a str,
}

/// `login_attempted`: a login or step-up attempt (ACC-2); the name typed is never recorded.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct LoginAttemptedEvent<'a> {
    /// `null` when the login name matched nobody.
    pub(crate) person: Option<&'a str>,
    /// Whether the attempt succeeded.
    pub(crate) succeeded: bool,
    /// Why it failed, or how it succeeded.
    pub(crate) reason: &'a str,
}

/// `session_changed`: a session ended or was verified again without a login (ACC-2).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SessionChangedEvent<'a> {
    /// The person whose session it is.
    pub(crate) person: &'a str,
    /// `logout`, `step_up`, `revoked_after_lockout`, `signed_out_everywhere` or `signed_out_by_admin`.
    pub(crate) change: &'a str,
}

/// `change_proposed`: a campaign change was proposed, bound to the hash of its diff (CAM-1).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ChangeProposedEvent<'a> {
    /// The change request's id.
    pub(crate) change: &'a str,
    /// The hex SHA-256 of the diff.
    pub(crate) diff_hash: String,
    /// The grant the change is made under.
    pub(crate) grant: &'a str,
}

/// `change_approved`: a campaign change was approved by a second person (CAM-1).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ChangeApprovedEvent<'a> {
    /// The change request's id.
    pub(crate) change: &'a str,
    /// The hex SHA-256 of the approved diff.
    pub(crate) diff_hash: String,
}

/// `change_executed`: an approved change was applied; `confirmed` when the read-back matched (CAM-2).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ChangeExecutedEvent<'a> {
    /// The change request's id.
    pub(crate) change: &'a str,
    /// The hex SHA-256 of the executed diff.
    pub(crate) diff_hash: String,
    /// Whether the read-back matched the diff (CAM-2).
    pub(crate) confirmed: bool,
}

/// `incident_changed`: an incident was opened, isolated, notified, remediated, reviewed or closed (INC-1).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct IncidentChangedEvent<'a> {
    /// The incident's id.
    pub(crate) incident: &'a str,
    /// What changed, e.g. `opened`, `notified`, `closed`.
    pub(crate) change: &'a str,
}

/// `rights_request_changed`: a rights request was received, progressed or answered (RGT-1..3).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RightsRequestChangedEvent<'a> {
    /// The rights request's id.
    pub(crate) request: &'a str,
    /// What changed, e.g. `received`, `extended`.
    pub(crate) change: &'a str,
}

/// `signal_received`: a verified platform signal (AUTH-6).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SignalReceivedEvent<'a> {
    /// The platform that sent it.
    pub(crate) platform: &'static str,
    /// `deauthorized`, `deletion_requested`, `expiring_soon` or `challenge`.
    pub(crate) kind: &'a str,
}

/// `signal_rejected`: a platform notification failed verification (or was a replay) and was ignored.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SignalRejectedEvent<'a> {
    /// The platform it claimed to come from.
    pub(crate) platform: &'static str,
    /// Why it was refused.
    pub(crate) reason: &'a str,
}

/// `tenant_changed`: the tenant was created, changed, or started or finished offboarding (RGT-3).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TenantChangedEvent<'a> {
    /// What changed, e.g. `created`, `offboarding started`.
    pub(crate) change: &'a str,
}

/// An audit record's event: `kind` names it and `event` holds its own fields (ids, enums, counts, hashes
/// and short texts: nothing secret). One variant per kind of core's `AuditEvent`, in its tag order.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "kind", content = "event", rename_all = "snake_case", rename = "AuditEventDetail")]
pub(crate) enum AuditEventView<'a> {
    GrantChanged(GrantChangedEvent<'a>),
    AccessDecided(AccessDecidedEvent<'a>),
    SyncProgressed(SyncProgressedEvent<'a>),
    SyncFailed(SyncFailedEvent<'a>),
    DataRead(DataReadEvent),
    SecretAccessed(SecretAccessedEvent<'a>),
    KeyChanged(KeyChangedEvent),
    RetentionRan(RetentionRanEvent),
    RecordsPurged(RecordsPurgedEvent<'a>),
    HoldChanged(HoldChangedEvent<'a>),
    PersonnelChanged(PersonnelChangedEvent<'a>),
    ApiKeyChanged(ApiKeyChangedEvent<'a>),
    LoginAttempted(LoginAttemptedEvent<'a>),
    ChangeProposed(ChangeProposedEvent<'a>),
    ChangeApproved(ChangeApprovedEvent<'a>),
    ChangeExecuted(ChangeExecutedEvent<'a>),
    IncidentChanged(IncidentChangedEvent<'a>),
    RightsRequestChanged(RightsRequestChangedEvent<'a>),
    SignalReceived(SignalReceivedEvent<'a>),
    SignalRejected(SignalRejectedEvent<'a>),
    TenantChanged(TenantChangedEvent<'a>),
    SessionChanged(SessionChangedEvent<'a>),
}

pub(crate) fn event_view(event: &AuditEvent) -> AuditEventView<'_> {
    use AuditEventView as V;
    match event {
        AuditEvent::GrantChanged(e) => V::GrantChanged(GrantChangedEvent {
            grant: e.grant.as_str(),
            platform: e.platform.as_str(),
            from: e.from.map(|s| s.to_string()),
            to: e.to.to_string(),
            detail: &e.detail,
        }),
        AuditEvent::AccessDecided(e) => V::AccessDecided(AccessDecidedEvent {
            action: &e.action,
            tenant: e.tenant.as_ref().map(|t| t.as_str()),
            allowed: e.allowed,
            reasons: &e.reasons,
        }),
        AuditEvent::SyncProgressed(e) => V::SyncProgressed(SyncProgressedEvent {
            grant: e.grant.as_str(),
            task: e.task.to_string(),
            records: e.records,
            cursor: e.cursor.as_deref(),
        }),
        AuditEvent::SyncFailed(e) => V::SyncFailed(SyncFailedEvent {
            grant: e.grant.as_str(),
            task: e.task.to_string(),
            error: &e.error,
        }),
        AuditEvent::DataRead(e) => V::DataRead(DataReadEvent {
            class: e.class.as_str(),
            records: e.records,
            purpose: e.purpose.as_str(),
        }),
        AuditEvent::SecretAccessed(e) => V::SecretAccessed(SecretAccessedEvent {
            grant: e.grant.as_str(),
            operation: secret_operation(e.operation),
        }),
        AuditEvent::KeyChanged(e) => {
            V::KeyChanged(KeyChangedEvent { operation: key_operation(e.operation), version: e.version })
        }
        AuditEvent::RetentionRan(e) => {
            V::RetentionRan(RetentionRanEvent { deleted: e.deleted, anonymized: e.anonymized, kept: e.kept })
        }
        AuditEvent::RecordsPurged(e) => V::RecordsPurged(RecordsPurgedEvent {
            grant: e.grant.as_ref().map(|g| g.as_str()),
            receipt: e.receipt.as_str(),
            rows: e.rows,
            secrets: e.secrets,
            keys: e.keys,
        }),
        AuditEvent::HoldChanged(e) => {
            V::HoldChanged(HoldChangedEvent { hold: e.hold.as_str(), change: &e.change })
        }
        AuditEvent::PersonnelChanged(e) => {
            V::PersonnelChanged(PersonnelChangedEvent { person: e.person.as_str(), change: &e.change })
        }
        AuditEvent::ApiKeyChanged(e) => {
            V::ApiKeyChanged(ApiKeyChangedEvent { key: e.key.as_str(), change: &e.change })
        }
        AuditEvent::LoginAttempted(e) => V::LoginAttempted(LoginAttemptedEvent {
            person: e.person.as_ref().map(|p| p.as_str()),
            succeeded: e.succeeded,
            reason: &e.reason,
        }),
        AuditEvent::SessionChanged(e) => {
            V::SessionChanged(SessionChangedEvent { person: e.person.as_str(), change: &e.change })
        }
        AuditEvent::ChangeProposed(e) => V::ChangeProposed(ChangeProposedEvent {
            change: e.change.as_str(),
            diff_hash: e.diff_hash.to_string(),
            grant: e.grant.as_str(),
        }),
        AuditEvent::ChangeApproved(e) => V::ChangeApproved(ChangeApprovedEvent {
            change: e.change.as_str(),
            diff_hash: e.diff_hash.to_string(),
        }),
        AuditEvent::ChangeExecuted(e) => V::ChangeExecuted(ChangeExecutedEvent {
            change: e.change.as_str(),
            diff_hash: e.diff_hash.to_string(),
            confirmed: e.confirmed,
        }),
        AuditEvent::IncidentChanged(e) => {
            V::IncidentChanged(IncidentChangedEvent { incident: e.incident.as_str(), change: &e.change })
        }
        AuditEvent::RightsRequestChanged(e) => V::RightsRequestChanged(RightsRequestChangedEvent {
            request: e.request.as_str(),
            change: &e.change,
        }),
        AuditEvent::SignalReceived(e) => {
            V::SignalReceived(SignalReceivedEvent { platform: e.platform.as_str(), kind: &e.kind })
        }
        AuditEvent::SignalRejected(e) => {
            V::SignalRejected(SignalRejectedEvent { platform: e.platform.as_str(), reason: &e.reason })
        }
        AuditEvent::TenantChanged(e) => V::TenantChanged(TenantChangedEvent { change: &e.change }),
    }
}

/// One record of a tenant's audit chain (AUD-2): who did what when, and the hashes that link it.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "AuditRecord")]
pub(crate) struct AuditRecordView<'a> {
    /// The record's place in the chain, from 1.
    pub(crate) seq: u64,
    /// RFC 3339.
    pub(crate) at: String,
    /// `development`, `staging` or `production`.
    pub(crate) environment: &'static str,
    pub(crate) actor: ActorView<'a>,
    /// `kind` (the event's stable name) and `event` (its own fields).
    #[serde(flatten)]
    pub(crate) event: AuditEventView<'a>,
    /// The AUD-1 category, e.g. `access_decision`.
    pub(crate) category: &'static str,
    /// The previous record's hash (hex).
    pub(crate) prev_hash: String,
    /// This record's hash (hex).
    pub(crate) hash: String,
}

pub(crate) fn audit_record_view(record: &AuditRecord) -> AuditRecordView<'_> {
    AuditRecordView {
        seq: record.seq,
        at: ts(record.at),
        environment: record.environment.as_str(),
        actor: actor_view(&record.actor),
        event: event_view(&record.event),
        category: record.event.category().as_str(),
        prev_hash: record.prev_hash.to_string(),
        hash: record.hash.to_string(),
    }
}

/// `GET /v1/tenants/{id}/audit`: a page of the chain.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct AuditPage<'a> {
    /// The records, in chain order.
    pub(crate) records: Vec<AuditRecordView<'a>>,
    /// Pass as `from_seq` for the next page; `null` when this page is the last.
    pub(crate) next_from_seq: Option<u64>,
}

/// The head of a chain: its last record.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "ChainHead")]
pub(crate) struct ChainHeadView {
    /// The last record's sequence number (0 for an empty chain).
    pub(crate) seq: u64,
    /// Hex.
    pub(crate) hash: String,
}

/// Where verification found the chain broken.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "ChainFailure")]
pub(crate) struct ChainFailureView<'a> {
    /// The first sequence number that is not what the chain says it must be.
    pub(crate) seq: u64,
    /// `hash mismatch`, `broken link`, `sequence gap`, `wrong tenant`, or `missing records`.
    pub(crate) reason: &'a str,
}

/// `POST /v1/tenants/{id}/audit/verify` (AUD-3).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ChainVerification<'a> {
    /// The tenant whose chain was verified.
    pub(crate) tenant: &'a str,
    /// Whether the chain verifies up to the head.
    pub(crate) valid: bool,
    /// Records recomputed.
    pub(crate) records_checked: u64,
    /// The checkpoint verification started from, if any.
    pub(crate) checkpoint_seq: Option<u64>,
    /// The head the store reports.
    pub(crate) head: ChainHeadView,
    /// `null` when the chain verifies.
    pub(crate) failure: Option<ChainFailureView<'a>>,
}

#[cfg(test)]
mod tests;
