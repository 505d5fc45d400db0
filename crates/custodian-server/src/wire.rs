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
use serde_json::{Value, json};
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

/// A TOTP enrolment shown exactly once, in the response that created it.
#[derive(Serialize)]
pub(crate) struct RevealedTotp {
    pub(crate) secret: String,
    pub(crate) otpauth_uri: String,
}

impl fmt::Debug for RevealedTotp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RevealedTotp([REDACTED])")
    }
}

pub(crate) fn person_json(person: &Person) -> Value {
    json!({
        "id": person.id.as_str(),
        "display_name": person.display_name,
        "roles": person.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "tenants": person.tenants.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "mfa_enrolled": person.mfa_enrolled,
        "active": person.active,
    })
}

pub(crate) fn api_key_json(key: &ApiKey) -> Value {
    json!({
        "id": key.id.as_str(),
        "name": key.name,
        "tenants": key.tenants.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "permissions": key.permissions.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        "created_by": key.created_by.as_str(),
        "created_at": ts(key.created_at),
        "expires_at": key.expires_at.map(ts),
        "revoked_at": key.revoked_at.map(ts),
    })
}

pub(crate) fn tenant_status(status: TenantStatus) -> &'static str {
    match status {
        TenantStatus::Active => "active",
        TenantStatus::Offboarding => "offboarding",
        TenantStatus::Offboarded => "offboarded",
    }
}

pub(crate) fn tenant_json(tenant: &Tenant) -> Value {
    let retention: BTreeMap<&str, u32> = tenant
        .contract
        .retention_overrides
        .iter()
        .map(|(class, days)| (class.as_str(), days.days()))
        .collect();
    json!({
        "id": tenant.id.as_str(),
        "name": tenant.name.as_str(),
        "status": tenant_status(tenant.status),
        "retention_days": retention,
    })
}

fn actor_json(actor: &ActorRef) -> Value {
    match actor {
        ActorRef::Person(id) => json!({"kind": "person", "id": id.as_str()}),
        ActorRef::ApiKey(id) => json!({"kind": "api_key", "id": id.as_str()}),
        ActorRef::System => json!({"kind": "system"}),
        ActorRef::Platform(p) => json!({"kind": "platform", "platform": p.as_str()}),
    }
}

fn secret_operation(op: SecretOperation) -> &'static str {
    match op {
        SecretOperation::Put => "put",
        SecretOperation::Get => "get",
        SecretOperation::Delete => "delete",
    }
}

fn key_operation(op: KeyOperation) -> &'static str {
    match op {
        KeyOperation::Created => "created",
        KeyOperation::Unwrapped => "unwrapped",
        KeyOperation::Rotated => "rotated",
        KeyOperation::Rewrapped => "rewrapped",
        KeyOperation::Destroyed => "destroyed",
    }
}

/// The event's own fields (events hold ids, enums, counts, hashes and short texts: nothing secret).
fn event_json(event: &AuditEvent) -> Value {
    match event {
        AuditEvent::GrantChanged(e) => json!({
            "grant": e.grant.as_str(), "platform": e.platform.as_str(),
            "from": e.from.map(|s| s.to_string()), "to": e.to.to_string(), "detail": e.detail,
        }),
        AuditEvent::AccessDecided(e) => json!({
            "action": e.action, "tenant": e.tenant.as_ref().map(|t| t.as_str()),
            "allowed": e.allowed, "reasons": e.reasons,
        }),
        AuditEvent::SyncProgressed(e) => json!({
            "grant": e.grant.as_str(), "task": e.task.to_string(), "records": e.records, "cursor": e.cursor,
        }),
        AuditEvent::SyncFailed(e) => json!({
            "grant": e.grant.as_str(), "task": e.task.to_string(), "error": e.error,
        }),
        AuditEvent::DataRead(e) => json!({
            "class": e.class.as_str(), "records": e.records, "purpose": e.purpose.as_str(),
        }),
        AuditEvent::SecretAccessed(e) => json!({
            "grant": e.grant.as_str(), "operation": secret_operation(e.operation),
        }),
        AuditEvent::KeyChanged(e) => json!({"operation": key_operation(e.operation), "version": e.version}),
        AuditEvent::RetentionRan(e) => json!({
            "deleted": e.deleted, "anonymized": e.anonymized, "kept": e.kept,
        }),
        AuditEvent::RecordsPurged(e) => json!({
            "grant": e.grant.as_ref().map(|g| g.as_str()), "receipt": e.receipt.as_str(),
            "rows": e.rows, "secrets": e.secrets, "keys": e.keys,
        }),
        AuditEvent::HoldChanged(e) => json!({"hold": e.hold.as_str(), "change": e.change}),
        AuditEvent::PersonnelChanged(e) => json!({"person": e.person.as_str(), "change": e.change}),
        AuditEvent::ApiKeyChanged(e) => json!({"key": e.key.as_str(), "change": e.change}),
        AuditEvent::LoginAttempted(e) => json!({
            "person": e.person.as_ref().map(|p| p.as_str()), "succeeded": e.succeeded, "reason": e.reason,
        }),
        AuditEvent::SessionChanged(e) => json!({"person": e.person.as_str(), "change": e.change}),
        AuditEvent::ChangeProposed(e) => json!({
            "change": e.change.as_str(), "diff_hash": e.diff_hash.to_string(), "grant": e.grant.as_str(),
        }),
        AuditEvent::ChangeApproved(e) => json!({
            "change": e.change.as_str(), "diff_hash": e.diff_hash.to_string(),
        }),
        AuditEvent::ChangeExecuted(e) => json!({
            "change": e.change.as_str(), "diff_hash": e.diff_hash.to_string(), "confirmed": e.confirmed,
        }),
        AuditEvent::IncidentChanged(e) => json!({"incident": e.incident.as_str(), "change": e.change}),
        AuditEvent::RightsRequestChanged(e) => json!({"request": e.request.as_str(), "change": e.change}),
        AuditEvent::SignalReceived(e) => json!({"platform": e.platform.as_str(), "kind": e.kind}),
        AuditEvent::SignalRejected(e) => json!({"platform": e.platform.as_str(), "reason": e.reason}),
        AuditEvent::TenantChanged(e) => json!({"change": e.change}),
    }
}

pub(crate) fn audit_record_json(record: &AuditRecord) -> Value {
    json!({
        "seq": record.seq,
        "at": ts(record.at),
        "environment": record.environment.as_str(),
        "actor": actor_json(&record.actor),
        "kind": record.event.kind(),
        "category": record.event.category().as_str(),
        "event": event_json(&record.event),
        "prev_hash": record.prev_hash.to_string(),
        "hash": record.hash.to_string(),
    })
}

#[cfg(test)]
mod tests;
