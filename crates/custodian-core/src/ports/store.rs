//! Storage ports. Every method is scoped to one tenant unless its doc says otherwise (SEG-1), and every
//! mutating method takes the audit events that describe it: the store MUST append them in the same
//! transaction as the change, to the chain of the record's tenant (the system chain,
//! [`crate::audit::system_tenant`], for global records: people, API keys, incidents), and MUST write nothing
//! if the append fails (AUD-2). The exception is the short-lived flow state of [`GrantStore`] (pending OAuth
//! consents, claimed platform signals): shared by every process on the store, not audited itself, since
//! the server audits what it leads to.

use std::fmt;

use time::{Date, OffsetDateTime};

use super::BoxError;
use super::platform::Cursor;
use crate::approval::{ChangeId, ChangeRequest};
use crate::audit::{AuditRecord, ChainHead, Checkpoint, Hash, NewAuditEvent};
use crate::data::{Campaign, DataClass, Order, RecordKind, ReportRow, StockLevel};
use crate::grant::{Grant, GrantId};
use crate::incident::{Incident, IncidentId};
use crate::personnel::token::TokenHash;
use crate::personnel::{ApiKey, ApiKeyId, Person, PersonId};
use crate::platform::{AccountRef, Platform, Task};
use crate::retention::{DeletionReceipt, HoldId, LegalHold, ReceiptId, RecordMeta};
use crate::rights::{RightsRequest, RightsRequestId};
use crate::tenant::{BusinessContact, ContactId, Tenant, TenantId, TenantStatus};

/// Errors of the storage ports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The record does not exist in this tenant (also returned for other tenants' records: SEG-1 leaks
    /// nothing).
    #[error("not found")]
    NotFound,
    /// A unique key or an optimistic version check failed.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Input outside the schema's limits (too long, NUL bytes, invalid identifiers).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The audit events could not be appended, so nothing was written (AUD-2).
    #[error("audit append failed, nothing was written")]
    AuditFailed(#[source] BoxError),
    #[error("store unavailable")]
    Unavailable(#[source] BoxError),
}

/// Tenants and their business contacts.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait TenantStore: Send + Sync {
    /// Creates a tenant. MUST return [`StoreError::Conflict`] if the id exists.
    async fn create_tenant(&self, tenant: &Tenant, audit: Vec<NewAuditEvent>) -> Result<(), StoreError>;
    /// MUST return [`StoreError::NotFound`] for an unknown tenant.
    async fn tenant(&self, id: &TenantId) -> Result<Tenant, StoreError>;
    /// All tenants (an administrative listing; callers filter by assignment, ACC-1).
    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError>;
    /// Replaces a tenant's name, contract and status. MUST return [`StoreError::NotFound`] if missing.
    async fn update_tenant(&self, tenant: &Tenant, audit: Vec<NewAuditEvent>) -> Result<(), StoreError>;
    /// Sets only the status (offboarding).
    async fn set_tenant_status(
        &self,
        id: &TenantId,
        status: TenantStatus,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError>;
    /// Inserts or replaces a contact (details already sealed, MIN-3 already screened).
    async fn put_contact(
        &self,
        contact: &BusinessContact,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError>;
    /// The tenant's contacts.
    async fn contacts(&self, tenant: &TenantId) -> Result<Vec<BusinessContact>, StoreError>;
    /// Deletes contacts of the tenant (all if `ids` is `None`) and returns how many were deleted.
    async fn delete_contacts(
        &self,
        tenant: &TenantId,
        ids: Option<Vec<ContactId>>,
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError>;
}

/// Grants.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait GrantStore: Send + Sync {
    /// MUST return [`StoreError::Conflict`] if the grant id exists in the tenant.
    async fn insert_grant(&self, grant: &Grant, audit: Vec<NewAuditEvent>) -> Result<(), StoreError>;
    /// MUST return [`StoreError::NotFound`] for unknown ids and for other tenants' grants.
    async fn grant(&self, tenant: &TenantId, id: &GrantId) -> Result<Grant, StoreError>;
    /// The tenant's grants.
    async fn grants(&self, tenant: &TenantId) -> Result<Vec<Grant>, StoreError>;
    /// Saves a changed grant if the stored one still has `expected_updated_at` (optimistic concurrency);
    /// MUST return [`StoreError::Conflict`] otherwise.
    async fn save_grant(
        &self,
        grant: &Grant,
        expected_updated_at: OffsetDateTime,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError>;
    /// Grants on `platform` whose evidence lists `account`, across tenants. Only for routing verified
    /// platform signals (AUTH-6) to their tenant; returns (tenant, grant) pairs and nothing else.
    async fn locate_by_account(
        &self,
        platform: Platform,
        account: &AccountRef,
    ) -> Result<Vec<(TenantId, GrantId)>, StoreError>;
    /// As [`GrantStore::locate_by_account`], by the owner identity in the evidence.
    async fn locate_by_owner(
        &self,
        platform: Platform,
        owner: &str,
    ) -> Result<Vec<(TenantId, GrantId)>, StoreError>;
    /// Active grants whose validation is older than `validated_before`, across tenants, for scheduling.
    async fn stale_grants(
        &self,
        validated_before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<(TenantId, GrantId)>, StoreError>;

    // ---- flow state shared by every process on the store (scale-out) ----
    //
    // No default implementations: state kept per process is exactly what these methods exist to avoid.
    // These records are not audited themselves (no `audit` argument): the server audits the outcomes they
    // lead to (a completed or refused callback, a handled or replayed signal).

    /// Stores an OAuth consent awaiting its callback, keyed by [`PendingConsent::state_hash`], after
    /// dropping every consent expired at `now` (`expires_at <= now`). Global, not per tenant.
    ///
    /// MUST return [`StoreError::Conflict`] and store nothing if `max_pending` or more unexpired consents
    /// are stored (so `max_pending` 0 refuses every consent), or if a consent with the same state hash is
    /// stored. MUST return [`StoreError::Invalid`] if the redirect URI is longer than
    /// [`MAX_REDIRECT_URI_BYTES`] or contains a NUL byte, or an instant is outside the store's range.
    async fn put_consent(
        &self,
        consent: &PendingConsent,
        max_pending: usize,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// How many consents are stored unexpired at `now` (`expires_at > now`), across every process on the
    /// store: the server refuses to start a connect when [`GrantStore::put_consent`] would refuse its
    /// consent, before anything is created.
    async fn pending_consents(&self, now: OffsetDateTime) -> Result<usize, StoreError>;

    /// Takes the consent whose state hashes to `state_hash` out of the store, for one use: removes it and
    /// returns it if it is unexpired at `now` (`expires_at > now`); `None` if it is unknown, was taken,
    /// or expired (an expired one is removed too). MUST be atomic across processes: of concurrent calls
    /// for the same hash, at most one returns `Some`.
    async fn take_consent(
        &self,
        state_hash: &Hash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingConsent>, StoreError>;

    /// Claims a platform signal (AUTH-6 replay protection) by `key`, the SHA-256 of what identifies it,
    /// for `window` from `now`. Returns `true` if the key was not claimed or its claim ended
    /// (`claimed_at + window <= now`, by the window given when it was claimed), and then records the claim;
    /// `false` if a claim is still running, changing nothing. MUST be atomic across processes: of
    /// concurrent claims of the same key, exactly one returns `true`. Drops ended claims of other keys.
    /// MUST return [`StoreError::Invalid`] for a `window` that is not positive or an instant outside the
    /// store's range. Global, not per tenant.
    async fn claim_signal(
        &self,
        key: &Hash,
        now: OffsetDateTime,
        window: time::Duration,
    ) -> Result<bool, StoreError>;

    /// Ends the claim of `key` (its handling failed before anything happened, so a retry must be
    /// possible). Releasing a key that is not claimed does nothing and succeeds.
    async fn release_signal(&self, key: &Hash) -> Result<(), StoreError>;
}

/// When a signal claimed at `now` for `window` ends ([`GrantStore::claim_signal`]): every store checks the
/// window through this, so they refuse the same input with the same error.
///
/// # Errors
/// [`StoreError::Invalid`] when `window` is not positive or the end is outside `OffsetDateTime`'s range.
pub fn replay_window_end(now: OffsetDateTime, window: time::Duration) -> Result<OffsetDateTime, StoreError> {
    if !window.is_positive() {
        return Err(StoreError::Invalid("the replay window must be positive".to_owned()));
    }
    now.checked_add(window)
        .ok_or_else(|| StoreError::Invalid("the replay window ends out of range".to_owned()))
}

/// The longest redirect URI a [`PendingConsent`] may carry, in bytes.
pub const MAX_REDIRECT_URI_BYTES: usize = 2048;

/// Who started an OAuth connect: re-loaded at the callback, so a session or key revoked in between ends
/// the connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentInitiator {
    /// A person, by the hash of their session token (never the token).
    Session(TokenHash),
    /// An integrator API key, by its id.
    ApiKey(ApiKeyId),
}

/// An OAuth consent started and not yet called back ([`GrantStore::put_consent`]): the grant it
/// completes and who started it, stored by the SHA-256 of the anti-forgery `state` and never by the
/// state itself, so that reading the store does not let anyone complete a callback. One use, until
/// `expires_at`. Not audited itself: the server audits the connect and the callback's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingConsent {
    /// [`PendingConsent::hash_state`] of the `state` handed to the platform.
    pub state_hash: Hash,
    /// The platform the consent was asked of (a callback on another platform is refused).
    pub platform: Platform,
    pub tenant: TenantId,
    pub grant: GrantId,
    pub initiator: ConsentInitiator,
    /// The redirect URI sent with the consent request (the code exchange repeats it).
    pub redirect_uri: String,
    pub expires_at: OffsetDateTime,
}

impl PendingConsent {
    /// The key a consent is stored by: SHA-256 of its `state`.
    pub fn hash_state(state: &str) -> Hash {
        Hash::of(state.as_bytes())
    }
}

/// Where a sync stands: the cursor to resume from, saved atomically with the page it follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncCheckpoint {
    pub tenant: TenantId,
    pub grant: GrantId,
    pub task: Task,
    pub account: AccountRef,
    /// `None` when the run finished.
    pub cursor: Option<Cursor>,
    /// The high-water mark reached (e.g. orders updated before this time are in).
    pub watermark: Option<OffsetDateTime>,
    pub updated_at: OffsetDateTime,
}

/// One page of records to upsert, with its checkpoint and audit, all in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestBatch<T> {
    pub tenant: TenantId,
    pub records: Vec<T>,
    pub checkpoint: Option<SyncCheckpoint>,
    pub audit: Vec<NewAuditEvent>,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UpsertCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// A dataset read: one tenant, optionally one grant and a day or time range, in natural key order, paged
/// by key (`after`) and, within what follows it, by offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetQuery {
    pub tenant: TenantId,
    pub grant: Option<GrantId>,
    pub account: Option<AccountRef>,
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// Only records whose natural key (`natural_key()` of the record, e.g.
    /// [`Order::natural_key`](crate::data::Order::natural_key)) sorts after this one: the key of the last
    /// record of the previous page. A page read this way costs the same at the end of a large dataset as at
    /// its start, where an offset makes the store step over every record before it. A text that is not a
    /// key of the kind read is [`StoreError::Invalid`].
    pub after: Option<String>,
    pub offset: u64,
    pub limit: u32,
}

impl DatasetQuery {
    /// Every record of `tenant` (of the kind read), from the first: no grant, account or day filter, no
    /// limit but the type's. Narrow it with struct update syntax, e.g.
    /// `DatasetQuery { limit: 50, ..DatasetQuery::everything(tenant) }`.
    pub fn everything(tenant: TenantId) -> Self {
        Self {
            tenant,
            grant: None,
            account: None,
            from: None,
            to: None,
            after: None,
            offset: 0,
            limit: u32::MAX,
        }
    }
}

/// Report rows, campaigns, orders and stock.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait DatasetStore: Send + Sync {
    /// Idempotent upsert by natural key: re-ingesting a page changes nothing. All records MUST belong to
    /// `batch.tenant` ([`StoreError::Invalid`] otherwise). All or nothing, with checkpoint and audit.
    async fn upsert_report_rows(&self, batch: IngestBatch<ReportRow>) -> Result<UpsertCounts, StoreError>;
    /// As [`DatasetStore::upsert_report_rows`].
    async fn upsert_campaigns(&self, batch: IngestBatch<Campaign>) -> Result<UpsertCounts, StoreError>;
    /// As [`DatasetStore::upsert_report_rows`]; buyer PII arrives sealed and is stored as ciphertext (ENC-1).
    async fn upsert_orders(&self, batch: IngestBatch<Order>) -> Result<UpsertCounts, StoreError>;
    /// As [`DatasetStore::upsert_report_rows`].
    async fn upsert_stock(&self, batch: IngestBatch<StockLevel>) -> Result<UpsertCounts, StoreError>;

    /// The checkpoint of a sync, if any.
    async fn checkpoint(
        &self,
        tenant: &TenantId,
        grant: &GrantId,
        task: Task,
        account: &AccountRef,
    ) -> Result<Option<SyncCheckpoint>, StoreError>;

    /// Reads, ordered by natural key.
    async fn report_rows(&self, query: &DatasetQuery) -> Result<Vec<ReportRow>, StoreError>;
    /// Reads, ordered by natural key.
    async fn campaigns(&self, query: &DatasetQuery) -> Result<Vec<Campaign>, StoreError>;
    /// Reads, ordered by natural key (PII still sealed).
    async fn orders(&self, query: &DatasetQuery) -> Result<Vec<Order>, StoreError>;
    /// Reads, ordered by natural key.
    async fn stock(&self, query: &DatasetQuery) -> Result<Vec<StockLevel>, StoreError>;

    /// Records of `kind` still holding data of `class`, stored before `stored_before`, ordered by
    /// (`stored_at`, key), at most `limit` (retention, RET-4). For `class` = buyer PII only orders that still
    /// carry sealed PII are returned. `RecordMeta::class` is `class`.
    async fn expired(
        &self,
        tenant: &TenantId,
        kind: RecordKind,
        class: DataClass,
        stored_before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<RecordMeta>, StoreError>;
    /// Deletes the named records; returns the exact count deleted (RET-6).
    async fn delete_records(
        &self,
        tenant: &TenantId,
        kind: RecordKind,
        keys: &[String],
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError>;
    /// Removes the sealed PII of the named orders, keeping the rest (anonymization, RET-4).
    async fn anonymize_orders(
        &self,
        tenant: &TenantId,
        keys: &[String],
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError>;
    /// Deletes up to `batch` records of `kind` of the tenant (of one grant if given) and returns the exact
    /// count; callers loop until 0 (bounded batches, no table-long locks).
    async fn purge(
        &self,
        tenant: &TenantId,
        grant: Option<GrantId>,
        kind: RecordKind,
        batch: u32,
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError>;
    /// Counts records of `kind` of the tenant (of one grant if given), for deletion re-checks (RET-6).
    async fn count(
        &self,
        tenant: &TenantId,
        grant: Option<GrantId>,
        kind: RecordKind,
    ) -> Result<u64, StoreError>;
}

/// The tamper-evident audit trail (AUD-2). Appends are serialized per tenant so the chain never forks.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends events to the tenant's chain (built with [`crate::audit::extend`] from the current head) and
    /// returns the new head. MUST be atomic: all events or none.
    async fn append(&self, tenant: &TenantId, events: Vec<NewAuditEvent>) -> Result<ChainHead, StoreError>;
    /// The tenant's current head (`seq` 0 and the genesis hash for an empty chain).
    async fn head(&self, tenant: &TenantId) -> Result<ChainHead, StoreError>;
    /// Records with `seq >= from_seq`, ascending, at most `limit`.
    async fn read(
        &self,
        tenant: &TenantId,
        from_seq: u64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError>;
    /// Records with `from <= at < to`, ascending, at most `limit` (incident scope assessment).
    async fn read_between(
        &self,
        tenant: &TenantId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError>;
    /// Tenants that have a chain.
    async fn chains(&self) -> Result<Vec<TenantId>, StoreError>;
    /// The latest checkpoint of the tenant's chain.
    async fn latest_checkpoint(&self, tenant: &TenantId) -> Result<Option<Checkpoint>, StoreError>;
    /// Stores `checkpoint` and deletes the records it covers (`seq <= checkpoint.seq`); returns how many
    /// were deleted. MUST return [`StoreError::Conflict`] if it does not link to the latest checkpoint.
    async fn checkpoint_and_truncate(&self, checkpoint: &Checkpoint) -> Result<u64, StoreError>;
}

/// A person's login material: the Argon2id hash and the sealed TOTP secret (never plaintext, SEC-1).
#[derive(Clone, PartialEq, Eq)]
pub struct PersonCredential {
    pub person: PersonId,
    pub password_hash: crate::personnel::password::PasswordHash,
    /// The TOTP secret sealed with the system key.
    pub totp_sealed: Option<Vec<u8>>,
    /// The last accepted TOTP time step (replay protection).
    pub totp_last_step: Option<u64>,
    pub failed_logins: u32,
    pub locked_until: Option<OffsetDateTime>,
}

impl fmt::Debug for PersonCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonCredential")
            .field("person", &self.person)
            .field("failed_logins", &self.failed_logins)
            .field("locked_until", &self.locked_until)
            .finish_non_exhaustive()
    }
}

/// A login session, stored by the hash of its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub token_hash: TokenHash,
    pub person: PersonId,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub mfa_verified_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// People, their credentials, sessions and API keys (ACC-1..4). Global, not per tenant.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait PersonnelStore: Send + Sync {
    /// MUST return [`StoreError::Conflict`] if the person exists.
    async fn create_person(
        &self,
        person: &Person,
        credential: &PersonCredential,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError>;
    /// MUST return [`StoreError::NotFound`] for unknown people.
    async fn person(&self, id: &PersonId) -> Result<Person, StoreError>;
    /// Everyone.
    async fn people(&self) -> Result<Vec<Person>, StoreError>;
    /// Replaces roles, assignments, MFA enrolment and the active flag.
    async fn update_person(&self, person: &Person, audit: Vec<NewAuditEvent>) -> Result<(), StoreError>;
    /// The person's login material.
    async fn credential(&self, id: &PersonId) -> Result<PersonCredential, StoreError>;
    /// Replaces the login material (password change, TOTP enrolment, failed-login counters).
    async fn set_credential(
        &self,
        credential: &PersonCredential,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError>;
    /// Stores a new session.
    async fn create_session(
        &self,
        session: &SessionRecord,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError>;
    /// The session with this token hash. MUST return [`StoreError::NotFound`] if none.
    async fn session(&self, token_hash: &TokenHash) -> Result<SessionRecord, StoreError>;
    /// Records a step-up verification.
    async fn set_session_mfa(&self, token_hash: &TokenHash, at: OffsetDateTime) -> Result<(), StoreError>;
    /// Revokes a session.
    async fn revoke_session(
        &self,
        token_hash: &TokenHash,
        at: OffsetDateTime,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError>;
    /// The person's sessions that still authenticate at `now` (not revoked and `expires_at > now`), newest
    /// first (by `created_at`). An unknown person has none.
    async fn live_sessions(
        &self,
        person: &PersonId,
        now: OffsetDateTime,
    ) -> Result<Vec<SessionRecord>, StoreError>;
    /// Revokes, at `at`, every session of the person that is live then (sign out everywhere), in one
    /// transaction with `audit`, and returns how many it revoked. Sessions already revoked or expired keep
    /// their state. Revoking none is not an error: the audit is appended all the same.
    async fn revoke_sessions_of(
        &self,
        person: &PersonId,
        at: OffsetDateTime,
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError>;
    /// Stores a new API key with the hash of its secret.
    async fn create_api_key(
        &self,
        key: &ApiKey,
        secret_hash: &TokenHash,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError>;
    /// The key whose secret hashes to `secret_hash`. MUST return [`StoreError::NotFound`] if none.
    async fn api_key_by_hash(&self, secret_hash: &TokenHash) -> Result<ApiKey, StoreError>;
    /// All keys (never their hashes).
    async fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError>;
    /// Revokes a key.
    async fn revoke_api_key(
        &self,
        id: &ApiKeyId,
        at: OffsetDateTime,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError>;
}

/// The case facts of one authorization decision ([`CaseStore::decision_cases`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecisionCases {
    /// Incidents that isolate now (every state but closed).
    pub isolating: Vec<Incident>,
    /// The tenant's rights requests that restrict processing (restrictions and objections, not rejected).
    pub restricting: Vec<RightsRequest>,
}

/// Case files: change requests, incidents, rights requests, legal holds and deletion receipts.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait CaseStore: Send + Sync {
    /// Inserts or replaces a change request.
    async fn put_change(&self, change: &ChangeRequest, audit: Vec<NewAuditEvent>) -> Result<(), StoreError>;
    /// MUST return [`StoreError::NotFound`] for unknown ids and other tenants' changes.
    async fn change(&self, tenant: &TenantId, id: &ChangeId) -> Result<ChangeRequest, StoreError>;
    /// The tenant's change requests.
    async fn changes(&self, tenant: &TenantId) -> Result<Vec<ChangeRequest>, StoreError>;
    /// Inserts or replaces an incident (incidents are global: they may span tenants).
    async fn put_incident(&self, incident: &Incident, audit: Vec<NewAuditEvent>) -> Result<(), StoreError>;
    /// MUST return [`StoreError::NotFound`] for unknown ids.
    async fn incident(&self, id: &IncidentId) -> Result<Incident, StoreError>;
    /// All incidents (closed ones included).
    async fn incidents(&self) -> Result<Vec<Incident>, StoreError>;
    /// Inserts or replaces a rights request.
    async fn put_rights_request(
        &self,
        request: &RightsRequest,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError>;
    /// MUST return [`StoreError::NotFound`] for unknown ids and other tenants' requests.
    async fn rights_request(
        &self,
        tenant: &TenantId,
        id: &RightsRequestId,
    ) -> Result<RightsRequest, StoreError>;
    /// The tenant's rights requests.
    async fn rights_requests(&self, tenant: &TenantId) -> Result<Vec<RightsRequest>, StoreError>;
    /// What one authorization decision needs of the case files, in one call: every incident that isolates
    /// now ([`Incident::isolates`]: not closed) and, with `tenant`, that tenant's rights requests that
    /// restrict processing ([`crate::rights::restriction_for`] is `Some`: a restriction or an objection
    /// not rejected), each in the order [`CaseStore::incidents`] and [`CaseStore::rights_requests`] give.
    /// MUST equal filtering those two. The default does exactly that (two calls that read every case);
    /// stores answer from indexed state columns in one transaction, since every authorized request asks.
    async fn decision_cases<'a>(&self, tenant: Option<&'a TenantId>) -> Result<DecisionCases, StoreError> {
        let isolating = self.incidents().await?.into_iter().filter(Incident::isolates).collect();
        let restricting = match tenant {
            Some(t) => self
                .rights_requests(t)
                .await?
                .into_iter()
                .filter(|r| crate::rights::restriction_for(r).is_some())
                .collect(),
            None => Vec::new(),
        };
        Ok(DecisionCases { isolating, restricting })
    }
    /// Inserts or replaces a legal hold.
    async fn put_hold(&self, hold: &LegalHold, audit: Vec<NewAuditEvent>) -> Result<(), StoreError>;
    /// MUST return [`StoreError::NotFound`] for unknown ids and other tenants' holds.
    async fn hold(&self, tenant: &TenantId, id: &HoldId) -> Result<LegalHold, StoreError>;
    /// The tenant's holds (lifted ones included).
    async fn holds(&self, tenant: &TenantId) -> Result<Vec<LegalHold>, StoreError>;
    /// Stores a deletion receipt (immutable: MUST return [`StoreError::Conflict`] if the id exists).
    async fn put_receipt(
        &self,
        receipt: &DeletionReceipt,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError>;
    /// MUST return [`StoreError::NotFound`] for unknown ids and other tenants' receipts.
    async fn receipt(&self, tenant: &TenantId, id: &ReceiptId) -> Result<DeletionReceipt, StoreError>;
    /// The tenant's receipts.
    async fn receipts(&self, tenant: &TenantId) -> Result<Vec<DeletionReceipt>, StoreError>;
}

/// A unit of background work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    /// What to do, e.g. `sync`, `validate`, `retention`, `purge`.
    pub kind: String,
    pub tenant: Option<TenantId>,
    /// Small job parameters (ids only, never secrets or PII).
    pub payload: String,
    /// Jobs with the same key are not enqueued twice while one is pending or running.
    pub dedupe_key: Option<String>,
    pub run_at: OffsetDateTime,
    pub max_attempts: u32,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: u64,
    pub spec: JobSpec,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// The worker that leased it last: the one running it now, or the one whose attempt completed, failed
    /// or was abandoned (kept, so the queue shows which process ran each job). `None` before the first
    /// lease.
    pub worker: Option<String>,
}

/// A fencing token: increases with every lease of a job, so a stale worker is recognized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FencingToken(pub u64);

/// A leased job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub job: Job,
    pub worker: String,
    pub token: FencingToken,
    pub expires_at: OffsetDateTime,
}

/// Errors of the job queue.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobQueueError {
    /// The lease expired or was taken over: the worker MUST stop and not report results.
    #[error("lease is stale")]
    StaleLease,
    #[error("job not found")]
    NotFound,
    #[error("invalid job: {0}")]
    Invalid(String),
    #[error("job queue unavailable")]
    Unavailable(#[source] BoxError),
}

/// Leased background work shared by several processes: each job runs once at a time.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait JobQueue: Send + Sync {
    /// Enqueues a job; returns `None` if a pending or running job has the same dedupe key.
    async fn enqueue(&self, spec: &JobSpec) -> Result<Option<u64>, JobQueueError>;
    /// Leases the oldest due job of one of `kinds` (or an expired lease) until `now + lease_for`.
    async fn lease(
        &self,
        worker: &str,
        kinds: &[String],
        now: OffsetDateTime,
        lease_for: time::Duration,
    ) -> Result<Option<Lease>, JobQueueError>;
    /// Extends a lease. MUST return [`JobQueueError::StaleLease`] if the token is not the current one or
    /// the lease expired.
    async fn renew(
        &self,
        lease: &Lease,
        now: OffsetDateTime,
        lease_for: time::Duration,
    ) -> Result<Lease, JobQueueError>;
    /// Completes the job. MUST return [`JobQueueError::StaleLease`] for a stale token.
    async fn complete(&self, lease: &Lease, now: OffsetDateTime) -> Result<(), JobQueueError>;
    /// Fails the attempt: retried at `retry_at` while attempts remain, else dead. MUST return
    /// [`JobQueueError::StaleLease`] for a stale token.
    async fn fail(&self, lease: &Lease, error: &str, retry_at: OffsetDateTime) -> Result<(), JobQueueError>;
    /// A job by id.
    async fn job(&self, id: u64) -> Result<Job, JobQueueError>;
}

/// Data classes a dataset store holds, for re-checks and receipts.
pub const DATASET_CLASSES: [(RecordKind, DataClass); 4] = [
    (RecordKind::ReportRow, DataClass::ReportingDataset),
    (RecordKind::Campaign, DataClass::CampaignMetadata),
    (RecordKind::Order, DataClass::OrderDetail),
    (RecordKind::StockLevel, DataClass::OrderDetail),
];
