//! The audit trail (AUD-1, AUD-2, AUTH-7): typed events, one canonical byte encoding, a SHA-256 hash chain
//! per tenant, verification that names the first bad record, and checkpoints so retention can drop old
//! segments while the rest still verifies.
//!
//! Events carry only domain types (ids, enums, counts, hashes) and short bounded strings: no field can hold
//! a secret, a token or buyer PII. [`extend`] is the only way records are made: it numbers them, links each
//! to the previous hash, truncates every string to [`MAX_TEXT_CHARS`] characters and every list to
//! [`MAX_LIST_ITEMS`] items, and hashes them. [`verify`] recomputes the chain.
//!
//! # Canonical encoding, version 1
//!
//! All integers are big-endian. The building blocks:
//!
//! | value | bytes |
//! |---|---|
//! | `u8` tag, `bool` | 1 byte; `bool` is `0` or `1`, any other byte is an error |
//! | `u32`, `u64`, `i128` | 4, 8, 16 bytes big-endian |
//! | string, identifier | `u32` byte length, then the UTF-8 bytes (identifiers re-validated on decode) |
//! | `Option<T>` | `0` for `None`; `1` then `T` for `Some` |
//! | `Vec<T>` | `u32` item count, then the items |
//! | [`Hash`] | 32 raw bytes |
//! | timestamp | Unix time in nanoseconds as `i128` (the UTC offset is not kept: records decode in UTC) |
//!
//! Enum tags start at 1 so that a run of zero bytes never decodes:
//!
//! - environment: development 1, staging 2, production 3
//! - actor: person 1 + person id, api key 2 + api key id, system 3, platform 4 + platform
//! - platform: meta 1, tiktok 2, tiktok-shop 3, amazon 4, ebay 5
//! - task: read_reporting 1, read_campaigns 2, change_campaign 3, read_orders 4, read_buyer_pii 5,
//!   update_stock 6
//! - grant state: pending 1, active 2, needs_review 3, revoked 4, expired 5
//! - data class: operational_log 1, audit_record 2, reporting_dataset 3, campaign_metadata 4,
//!   order_detail 5, buyer_pii 6, business_contact 7, credential 8
//! - purpose: service_delivery 1, communication 2, compliance 3, improvement 4
//! - secret operation: put 1, get 2, delete 3
//! - key operation: created 1, unwrapped 2, rotated 3, rewrapped 4, destroyed 5
//!
//! A record is encoded for hashing as, in this order:
//!
//! ```text
//! u8      version (= 1)
//! string  tenant
//! u64     seq
//! [32]    prev_hash
//! i128    at
//! u8      environment
//! actor
//! u8      event kind tag (see AuditEvent::tag), then the event's fields in declared order
//! ```
//!
//! `hash = SHA-256(those bytes)`. The stored blob ([`AuditRecord::encode`]) is those bytes followed by the 32
//! bytes of `hash`; [`AuditRecord::decode`] reads it back and rejects anything it would not have written
//! (unknown version or tag, a `bool` other than 0/1, invalid UTF-8 or identifier, a timestamp out of range,
//! missing or trailing bytes), so every record has exactly one encoding and a flipped bit either fails to
//! decode or changes a value that [`verify`] checks.
//!
//! A checkpoint's digest is `SHA-256("custodian-audit-checkpoint" ‖ u8 version (= 1) ‖ string tenant ‖
//! u64 seq ‖ [32] hash ‖ i128 at ‖ [32] prev)`; the text prefix keeps it apart from record hashes.

mod encoding;
mod event;

use std::fmt;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::authz::{Actor, Environment};
use crate::id::{IdError, shorten};
use crate::personnel::{ApiKeyId, PersonId};
use crate::platform::Platform;
use crate::tenant::TenantId;

pub use event::{
    AccessDecided, ApiKeyChanged, AuditCategory, AuditEvent, ChangeApproved, ChangeExecuted, ChangeProposed,
    DataRead, GrantChanged, HoldChanged, IncidentChanged, KeyChanged, KeyOperation, LoginAttempted,
    MAX_LIST_ITEMS, MAX_TEXT_CHARS, PersonnelChanged, RecordsPurged, RetentionRan, RightsRequestChanged,
    SecretAccessed, SecretOperation, SessionChanged, SignalReceived, SignalRejected, SyncFailed,
    SyncProgressed, TenantChanged, action_name,
};

/// The encoding version written as the first byte of every record.
pub const ENCODING_VERSION: u8 = 1;

/// The tenant id of the chain for events that are not about one tenant (personnel, api keys, logins,
/// global incidents).
pub const SYSTEM_CHAIN: &str = "_system";

/// The tenant whose chain holds events not about one tenant ([`SYSTEM_CHAIN`]).
pub fn system_tenant() -> TenantId {
    #[expect(clippy::expect_used, reason = "`_system` passes the identifier rules; a unit test checks it")]
    TenantId::new(SYSTEM_CHAIN).expect("`_system` is a valid tenant id")
}

/// A SHA-256 digest: a record's hash, a chain head, a checkpoint digest or a change's diff hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The `prev_hash` of a chain's first record and the `prev` of the first checkpoint: all zeros.
    pub const GENESIS: Hash = Hash([0; 32]);

    /// SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Hash {
        Hash(Sha256::digest(bytes).into())
    }

    /// Parses 64 hex digits (either case).
    pub fn from_hex(raw: &str) -> Result<Hash, AuditError> {
        let bad = || AuditError::BadHex { value: shorten(raw) };
        let bytes = raw.as_bytes();
        if bytes.len() != 64 {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            let [hi, lo] = pair else { return Err(bad()) };
            *byte = (hex_value(*hi).ok_or_else(bad)? << 4) | hex_value(*lo).ok_or_else(bad)?;
        }
        Ok(Hash(out))
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for Hash {
    type Err = AuditError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Hash::from_hex(s)
    }
}

/// Who acted, as recorded: ids only, never a session, a key secret or a name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActorRef {
    Person(PersonId),
    ApiKey(ApiKeyId),
    /// A background job of Custodian itself.
    System,
    /// A verified platform signal.
    Platform(Platform),
}

impl From<&Actor> for ActorRef {
    fn from(actor: &Actor) -> Self {
        match actor {
            Actor::Person(session) => ActorRef::Person(session.person.id.clone()),
            Actor::ApiKey(key) => ActorRef::ApiKey(key.id.clone()),
            Actor::System => ActorRef::System,
            Actor::PlatformSignal(platform) => ActorRef::Platform(*platform),
        }
    }
}

/// An event to append, before [`extend`] gives it a place in a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEvent {
    pub at: OffsetDateTime,
    pub actor: ActorRef,
    pub event: AuditEvent,
}

impl NewAuditEvent {
    /// An event by `actor` at `at`.
    pub fn new(at: OffsetDateTime, actor: ActorRef, event: impl Into<AuditEvent>) -> Self {
        Self { at, actor, event: event.into() }
    }
}

/// One link of a tenant's audit chain (AUD-2). `seq` starts at 1 per tenant; `hash` is SHA-256 of the
/// canonical encoding of every other field, `prev_hash` included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub tenant: TenantId,
    pub seq: u64,
    pub at: OffsetDateTime,
    pub environment: Environment,
    pub actor: ActorRef,
    pub event: AuditEvent,
    pub prev_hash: Hash,
    pub hash: Hash,
}

impl AuditRecord {
    /// The canonical bytes the hash is computed over (every field but `hash`).
    pub fn encode_for_hash(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        self.encode_for_hash_into(&mut out);
        out
    }

    /// Appends the canonical bytes to `out` (lets [`verify`] reuse one buffer).
    pub fn encode_for_hash_into(&self, out: &mut Vec<u8>) {
        encoding::put_record(self, out);
    }

    /// SHA-256 of [`AuditRecord::encode_for_hash`]: what `hash` must be.
    pub fn compute_hash(&self) -> Hash {
        Hash::of(&self.encode_for_hash())
    }

    /// The blob a store persists: the canonical bytes followed by the 32 bytes of `hash`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.encode_for_hash();
        out.extend_from_slice(&self.hash.0);
        out
    }

    /// Reads a blob written by [`AuditRecord::encode`], losslessly. Does not check the hash: [`verify`] does.
    pub fn decode(bytes: &[u8]) -> Result<AuditRecord, AuditError> {
        encoding::decode_record(bytes)
    }

    /// The chain head this record leaves behind.
    pub fn head(&self) -> ChainHead {
        ChainHead { tenant: self.tenant.clone(), seq: self.seq, hash: self.hash }
    }
}

/// The end of a tenant's chain: the last record's seq and hash (seq 0 and [`Hash::GENESIS`] when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub tenant: TenantId,
    pub seq: u64,
    pub hash: Hash,
}

impl ChainHead {
    /// The head of an empty chain.
    pub fn genesis(tenant: TenantId) -> Self {
        Self { tenant, seq: 0, hash: Hash::GENESIS }
    }
}

/// Appends `events` to the chain ending at `head`: consecutive seqs from `head.seq + 1`, each record linked
/// to the previous hash, strings and lists truncated to their bounds. Pure: the caller writes the records
/// (fail-closed, AUD-2: if they cannot be written, the operation does not happen).
pub fn extend(head: &ChainHead, environment: Environment, events: Vec<NewAuditEvent>) -> Vec<AuditRecord> {
    let mut records = Vec::with_capacity(events.len());
    let mut buf = Vec::with_capacity(256);
    let mut seq = head.seq;
    let mut prev_hash = head.hash;
    for new in events {
        // At u64::MAX the seq repeats and `verify` reports a gap; no chain gets there.
        seq = seq.saturating_add(1);
        let mut record = AuditRecord {
            tenant: head.tenant.clone(),
            seq,
            at: new.at,
            environment,
            actor: new.actor,
            event: new.event.bounded(),
            prev_hash,
            hash: Hash::GENESIS,
        };
        buf.clear();
        record.encode_for_hash_into(&mut buf);
        record.hash = Hash::of(&buf);
        prev_hash = record.hash;
        records.push(record);
    }
    records
}

/// What is wrong with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TamperKind {
    /// The stored hash is not the hash of the record's contents.
    HashMismatch,
    /// `prev_hash` is not the previous record's hash (or the start head's).
    BrokenLink,
    /// The record is not the next seq: a record was removed, inserted, reordered or renumbered.
    SequenceGap,
    /// The record belongs to another tenant's chain.
    WrongTenant,
}

impl fmt::Display for TamperKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TamperKind::HashMismatch => "hash mismatch",
            TamperKind::BrokenLink => "broken link",
            TamperKind::SequenceGap => "sequence gap",
            TamperKind::WrongTenant => "wrong tenant",
        })
    }
}

/// Verification failed at `seq`: the first position whose record is not what the chain says it must be.
/// `seq` is the sequence number expected at that position (for a checkpoint, the checkpoint's seq).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("audit chain fails verification at seq {seq}: {kind}")]
pub struct Tampered {
    pub seq: u64,
    pub kind: TamperKind,
}

/// Verifies that `records` continue the chain at `start` and returns the new head. Checks, per record in
/// order: tenant, seq (`start.seq + 1`, then consecutive), `prev_hash`, then the hash itself. Allocates one
/// reusable buffer.
///
/// A chain cut short at the end still verifies: compare the returned head with an anchored one (a
/// checkpoint or the store's head) to detect that.
pub fn verify(start: &ChainHead, records: &[AuditRecord]) -> Result<ChainHead, Tampered> {
    let mut buf = Vec::with_capacity(256);
    let mut seq = start.seq;
    let mut prev = start.hash;
    for record in records {
        let Some(expected) = seq.checked_add(1) else {
            return Err(Tampered { seq, kind: TamperKind::SequenceGap });
        };
        let fail = |kind| Err(Tampered { seq: expected, kind });
        if record.tenant != start.tenant {
            return fail(TamperKind::WrongTenant);
        }
        if record.seq != expected {
            return fail(TamperKind::SequenceGap);
        }
        if record.prev_hash != prev {
            return fail(TamperKind::BrokenLink);
        }
        buf.clear();
        record.encode_for_hash_into(&mut buf);
        if Hash::of(&buf) != record.hash {
            return fail(TamperKind::HashMismatch);
        }
        seq = expected;
        prev = record.hash;
    }
    Ok(ChainHead { tenant: start.tenant.clone(), seq, hash: prev })
}

/// A signed-off point of a tenant's chain. Checkpoints form their own hash chain (`prev` is the previous
/// checkpoint's `digest`), so records up to `seq` can be dropped by retention and what remains still
/// verifies from here ([`verify_from_checkpoint`]); changing a checkpoint breaks its digest, or the next
/// checkpoint's link, or the first remaining record's link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub tenant: TenantId,
    pub seq: u64,
    /// The chain hash at `seq`.
    pub hash: Hash,
    pub at: OffsetDateTime,
    /// The previous checkpoint's digest, [`Hash::GENESIS`] for the first.
    pub prev: Hash,
    /// SHA-256 of the checkpoint's canonical encoding (see the module documentation).
    pub digest: Hash,
}

impl Checkpoint {
    /// A checkpoint of `head` at `at`, following `prev`.
    pub fn new(prev: Option<&Checkpoint>, head: &ChainHead, at: OffsetDateTime) -> Self {
        let mut checkpoint = Self {
            tenant: head.tenant.clone(),
            seq: head.seq,
            hash: head.hash,
            at,
            prev: prev.map_or(Hash::GENESIS, |p| p.digest),
            digest: Hash::GENESIS,
        };
        checkpoint.digest = checkpoint.compute_digest();
        checkpoint
    }

    /// What `digest` must be.
    pub fn compute_digest(&self) -> Hash {
        let mut buf = Vec::with_capacity(128);
        encoding::put_checkpoint(self, &mut buf);
        Hash::of(&buf)
    }

    /// The chain head the checkpoint vouches for.
    pub fn head(&self) -> ChainHead {
        ChainHead { tenant: self.tenant.clone(), seq: self.seq, hash: self.hash }
    }

    /// Checks this checkpoint's digest and its link to `prev` (`None`: it must be the first). Failures name
    /// this checkpoint's seq: [`TamperKind::HashMismatch`] for a wrong digest, [`TamperKind::WrongTenant`],
    /// [`TamperKind::SequenceGap`] when it goes back before `prev`, [`TamperKind::BrokenLink`] for a wrong
    /// `prev`.
    pub fn verify_link(&self, prev: Option<&Checkpoint>) -> Result<(), Tampered> {
        let fail = |kind| Err(Tampered { seq: self.seq, kind });
        if self.compute_digest() != self.digest {
            return fail(TamperKind::HashMismatch);
        }
        match prev {
            None if self.prev != Hash::GENESIS => fail(TamperKind::BrokenLink),
            None => Ok(()),
            Some(p) if p.tenant != self.tenant => fail(TamperKind::WrongTenant),
            Some(p) if p.seq > self.seq => fail(TamperKind::SequenceGap),
            Some(p) if p.digest != self.prev => fail(TamperKind::BrokenLink),
            Some(_) => Ok(()),
        }
    }
}

/// Verifies a tenant's checkpoints from the first; returns the last one's head, or `None` when empty.
pub fn verify_checkpoints(checkpoints: &[Checkpoint]) -> Result<Option<ChainHead>, Tampered> {
    let mut prev: Option<&Checkpoint> = None;
    for checkpoint in checkpoints {
        checkpoint.verify_link(prev)?;
        prev = Some(checkpoint);
    }
    Ok(prev.map(Checkpoint::head))
}

/// Verifies the records kept after `checkpoint` (they must start at `checkpoint.seq + 1`) and returns the
/// new head. A checkpoint whose digest does not match is [`TamperKind::HashMismatch`] at its seq; check the
/// checkpoint chain itself with [`verify_checkpoints`].
pub fn verify_from_checkpoint(
    checkpoint: &Checkpoint,
    records_after: &[AuditRecord],
) -> Result<ChainHead, Tampered> {
    if checkpoint.compute_digest() != checkpoint.digest {
        return Err(Tampered { seq: checkpoint.seq, kind: TamperKind::HashMismatch });
    }
    verify(&checkpoint.head(), records_after)
}

/// Why a hash or a stored record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    #[error("hash `{value}` is not 64 hex digits")]
    BadHex { value: String },
    #[error("audit record ends early: {field} is cut off")]
    Truncated { field: &'static str },
    #[error("unknown audit encoding version `{version}`")]
    UnknownVersion { version: u8 },
    #[error("unknown {field} tag `{tag}`")]
    UnknownTag { field: &'static str, tag: u8 },
    #[error("{field} is not valid utf-8")]
    BadUtf8 { field: &'static str },
    #[error("invalid {field}: {error}")]
    BadId { field: &'static str, error: IdError },
    #[error("timestamp `{nanos}` ns is out of range")]
    BadTimestamp { nanos: i128 },
    #[error("{count} unexpected bytes after the audit record")]
    TrailingBytes { count: usize },
}

#[cfg(test)]
mod tests;
