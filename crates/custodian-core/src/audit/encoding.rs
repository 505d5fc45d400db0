//! The canonical byte encoding of audit records and checkpoints (specified in the `audit` module
//! documentation): a writer of plain bytes and a strict reader that never panics and rejects every byte
//! sequence the writer would not produce.

use time::OffsetDateTime;

use super::{ActorRef, AuditError, AuditEvent, AuditRecord, Checkpoint, ENCODING_VERSION, Hash};
use crate::approval::ChangeId;
use crate::authz::Environment;
use crate::data::{DataClass, Purpose};
use crate::grant::{GrantId, GrantState};
use crate::incident::IncidentId;
use crate::personnel::{ApiKeyId, PersonId};
use crate::platform::{Platform, Task};
use crate::retention::{HoldId, ReceiptId};
use crate::rights::RightsRequestId;
use crate::tenant::TenantId;

use super::event::{KeyOperation, MAX_LIST_ITEMS, MAX_TEXT_CHARS, SecretOperation};

/// Domain-separation prefix of checkpoint digests.
const CHECKPOINT_DOMAIN: &[u8] = b"custodian-audit-checkpoint";

/// Writes the canonical bytes of `record` without its hash.
pub(super) fn put_record(record: &AuditRecord, out: &mut Vec<u8>) {
    out.push(ENCODING_VERSION);
    record.tenant.put(out);
    record.seq.put(out);
    record.prev_hash.put(out);
    record.at.put(out);
    record.environment.put(out);
    record.actor.put(out);
    record.event.put(out);
}

/// Reads a blob: the canonical bytes followed by the hash, and nothing else.
pub(super) fn decode_record(bytes: &[u8]) -> Result<AuditRecord, AuditError> {
    let mut r = Reader::new(bytes);
    let version = r.u8("version")?;
    if version != ENCODING_VERSION {
        return Err(AuditError::UnknownVersion { version });
    }
    let record = AuditRecord {
        tenant: Field::get(&mut r, "tenant")?,
        seq: Field::get(&mut r, "seq")?,
        prev_hash: Field::get(&mut r, "prev_hash")?,
        at: Field::get(&mut r, "at")?,
        environment: Field::get(&mut r, "environment")?,
        actor: Field::get(&mut r, "actor")?,
        event: AuditEvent::get(&mut r)?,
        hash: Field::get(&mut r, "hash")?,
    };
    r.finish()?;
    Ok(record)
}

/// Writes the bytes a checkpoint's digest is computed over.
pub(super) fn put_checkpoint(checkpoint: &Checkpoint, out: &mut Vec<u8>) {
    out.extend_from_slice(CHECKPOINT_DOMAIN);
    out.push(ENCODING_VERSION);
    checkpoint.tenant.put(out);
    checkpoint.seq.put(out);
    checkpoint.hash.put(out);
    checkpoint.at.put(out);
    checkpoint.prev.put(out);
}

/// A cursor over untrusted bytes. Every read is bounds-checked and names the field it was reading.
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], AuditError> {
        let end = self.pos.checked_add(n).ok_or(AuditError::Truncated { field })?;
        let slice = self.bytes.get(self.pos..end).ok_or(AuditError::Truncated { field })?;
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], AuditError> {
        <[u8; N]>::try_from(self.take(N, field)?).map_err(|_| AuditError::Truncated { field })
    }

    pub(super) fn u8(&mut self, field: &'static str) -> Result<u8, AuditError> {
        let [byte] = self.array::<1>(field)?;
        Ok(byte)
    }

    fn len(&mut self, field: &'static str) -> Result<usize, AuditError> {
        let n = u32::from_be_bytes(self.array(field)?);
        usize::try_from(n).map_err(|_| AuditError::Truncated { field })
    }

    fn str(&mut self, field: &'static str) -> Result<&'a str, AuditError> {
        let len = self.len(field)?;
        let bytes = self.take(len, field)?;
        std::str::from_utf8(bytes).map_err(|_| AuditError::BadUtf8 { field })
    }

    fn finish(self) -> Result<(), AuditError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(AuditError::TrailingBytes { count }),
        }
    }
}

/// Writes a `u32` length (strings and lists are far below 4 GiB; a longer one is cut, and then fails to
/// decode rather than decode wrongly).
fn put_len(len: usize, out: &mut Vec<u8>) -> usize {
    let n = u32::try_from(len).unwrap_or(u32::MAX);
    out.extend_from_slice(&n.to_be_bytes());
    usize::try_from(n).unwrap_or(len)
}

fn put_str(s: &str, out: &mut Vec<u8>) {
    let n = put_len(s.len(), out);
    out.extend_from_slice(s.as_bytes().get(..n).unwrap_or(s.as_bytes()));
}

/// Truncates `s` to at most `max` characters, on a character boundary.
pub(super) fn truncate_chars(s: &mut String, max: usize) {
    if let Some((at, _)) = s.char_indices().nth(max) {
        s.truncate(at);
    }
}

/// A value with a canonical encoding.
pub(super) trait Field: Sized {
    fn put(&self, out: &mut Vec<u8>);
    fn get(r: &mut Reader<'_>, field: &'static str) -> Result<Self, AuditError>;
    /// Enforces the size bounds of audit text (no-op for everything but strings and lists).
    fn bound(&mut self) {}
}

impl Field for String {
    fn put(&self, out: &mut Vec<u8>) {
        put_str(self, out);
    }
    fn get(r: &mut Reader<'_>, field: &'static str) -> Result<Self, AuditError> {
        r.str(field).map(str::to_owned)
    }
    fn bound(&mut self) {
        truncate_chars(self, MAX_TEXT_CHARS);
    }
}

impl Field for bool {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    fn get(r: &mut Reader<'_>, field: &'static str) -> Result<Self, AuditError> {
        match r.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            tag => Err(AuditError::UnknownTag { field, tag }),
        }
    }
}

impl Field for u32 {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
    fn get(r: &mut Reader<'_>, field: &'static str) -> Result<Self, AuditError> {
        r.array(field).map(u32::from_be_bytes)
    }
}

impl Field for u64 {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
    fn get(r: &mut Reader<'_>, field: &'static str) -> Result<Self, AuditError> {
        r.array(field).map(u64::from_be_bytes)
    }
}

impl Field for Hash {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn get(r: &mut Reader<'_>, field: &'static str) -> Result<Self, AuditError> {
        r.array(field).map(Hash)
    }
}

impl Field for OffsetDateTime {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.unix_timestamp_nanos().to_be_bytes());
    }
    fn get(r: &mut Reader<'_>, field: &'static str) -> Result<Self, AuditError> {
        let nanos = i128::from_be_bytes(r.array(field)?);
        OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| AuditError::BadTimestamp { nanos })
    }
}

impl<T: Field> Field for Option<T> {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(value) => {
                out.push(1);
                value.put(out);
            }
        }
    }
    fn get(r: &mut Reader<'_>, field: &'static str) -> Result<Self, AuditError> {
        match r.u8(field)? {
            0 => Ok(None),
            1 => T::get(r, field).map(Some),
            tag => Err(AuditError::UnknownTag { field, tag }),
        }
    }
    fn bound(&mut self) {
        if let Some(value) = self {
            value.bound();
        }
    }
}

impl<T: Field> Field for Vec<T> {
    fn put(&self, out: &mut Vec<u8>) {
        let n = put_len(self.len(), out);
        for item in self.iter().take(n) {
            item.put(out);
        }
    }
    fn get(r: &mut Reader<'_>, field: &'static str) -> Result<Self, AuditError> {
        let count = r.len(field)?;
        // Every item takes at least one byte: never reserve more than the input could hold.
        let mut items = Vec::with_capacity(count.min(r.remaining()));
        for _ in 0..count {
            items.push(T::get(r, field)?);
        }
        Ok(items)
    }
    fn bound(&mut self) {
        self.truncate(MAX_LIST_ITEMS);
        self.iter_mut().for_each(Field::bound);
    }
}

/// Identifiers: encoded as strings, re-validated on decode.
macro_rules! id_field {
    ($($ty:ty),* $(,)?) => {$(
        impl Field for $ty {
            fn put(&self, out: &mut Vec<u8>) {
                put_str(self.as_str(), out);
            }
            fn get(r: &mut Reader<'_>, field: &'static str) -> Result<Self, AuditError> {
                <$ty>::new(r.str(field)?).map_err(|error| AuditError::BadId { field, error })
            }
        }
    )*};
}

id_field!(TenantId, GrantId, PersonId, ApiKeyId, HoldId, ReceiptId, ChangeId, IncidentId, RightsRequestId);

/// Fieldless enums: one tag byte each, from 1, fixed here (never derived from declaration order).
macro_rules! tag_field {
    ($ty:ty { $($variant:path = $tag:literal),* $(,)? }) => {
        impl Field for $ty {
            fn put(&self, out: &mut Vec<u8>) {
                out.push(match self { $($variant => $tag,)* });
            }
            fn get(r: &mut Reader<'_>, field: &'static str) -> Result<Self, AuditError> {
                match r.u8(field)? {
                    $($tag => Ok($variant),)*
                    tag => Err(AuditError::UnknownTag { field, tag }),
                }
            }
        }
    };
}

tag_field!(Environment {
    Environment::Development = 1,
    Environment::Staging = 2,
    Environment::Production = 3,
});
tag_field!(Platform {
    Platform::Meta = 1,
    Platform::TikTok = 2,
    Platform::TikTokShop = 3,
    Platform::Amazon = 4,
    Platform::Ebay = 5,
});
tag_field!(Task {
    Task::ReadReporting = 1,
    Task::ReadCampaigns = 2,
    Task::ChangeCampaign = 3,
    Task::ReadOrders = 4,
    Task::ReadBuyerPii = 5,
    Task::UpdateStock = 6,
});
tag_field!(GrantState {
    GrantState::Pending = 1,
    GrantState::Active = 2,
    GrantState::NeedsReview = 3,
    GrantState::Revoked = 4,
    GrantState::Expired = 5,
});
tag_field!(DataClass {
    DataClass::OperationalLog = 1,
    DataClass::AuditRecord = 2,
    DataClass::ReportingDataset = 3,
    DataClass::CampaignMetadata = 4,
    DataClass::OrderDetail = 5,
    DataClass::BuyerPii = 6,
    DataClass::BusinessContact = 7,
    DataClass::Credential = 8,
});
tag_field!(Purpose {
    Purpose::ServiceDelivery = 1,
    Purpose::Communication = 2,
    Purpose::Compliance = 3,
    Purpose::Improvement = 4,
});
tag_field!(SecretOperation {
    SecretOperation::Put = 1,
    SecretOperation::Get = 2,
    SecretOperation::Delete = 3,
});
tag_field!(KeyOperation {
    KeyOperation::Created = 1,
    KeyOperation::Unwrapped = 2,
    KeyOperation::Rotated = 3,
    KeyOperation::Rewrapped = 4,
    KeyOperation::Destroyed = 5,
});

impl Field for ActorRef {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            ActorRef::Person(id) => {
                out.push(1);
                id.put(out);
            }
            ActorRef::ApiKey(id) => {
                out.push(2);
                id.put(out);
            }
            ActorRef::System => out.push(3),
            ActorRef::Platform(platform) => {
                out.push(4);
                platform.put(out);
            }
        }
    }
    fn get(r: &mut Reader<'_>, field: &'static str) -> Result<Self, AuditError> {
        match r.u8(field)? {
            1 => Field::get(r, field).map(ActorRef::Person),
            2 => Field::get(r, field).map(ActorRef::ApiKey),
            3 => Ok(ActorRef::System),
            4 => Field::get(r, field).map(ActorRef::Platform),
            tag => Err(AuditError::UnknownTag { field, tag }),
        }
    }
}
