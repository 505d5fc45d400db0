//! Input checks before anything reaches SQL: free text within the schema's limits and without NUL bytes
//! (PostgreSQL text cannot hold NUL), integers within `BIGINT`/`INT`. Identifiers are already validated
//! newtypes of `custodian-core` (printable ASCII, at most 128 bytes). A failed check is
//! [`StoreError::Invalid`] naming the field, never a panic and never a database round trip.

use custodian_core::ports::StoreError;

/// Longest free text the schema accepts in most columns, in characters.
pub(crate) const MAX_TEXT_CHARS: usize = 1000;
/// Longest display name (people, API keys), in characters.
pub(crate) const MAX_NAME_CHARS: usize = 200;
/// Longest sync cursor, in bytes.
pub(crate) const MAX_CURSOR_BYTES: usize = 4096;

fn invalid(message: String) -> StoreError {
    StoreError::Invalid(message)
}

/// `value` has at most `max_chars` characters and no NUL byte.
pub(crate) fn text(field: &str, value: &str, max_chars: usize) -> Result<(), StoreError> {
    if value.contains('\0') {
        return Err(invalid(format!("{field} contains a NUL byte")));
    }
    if value.chars().count() > max_chars {
        return Err(invalid(format!("{field} is longer than {max_chars} characters")));
    }
    Ok(())
}

/// `value` has at most `max_bytes` bytes and no NUL byte.
pub(crate) fn text_bytes(field: &str, value: &str, max_bytes: usize) -> Result<(), StoreError> {
    if value.contains('\0') {
        return Err(invalid(format!("{field} contains a NUL byte")));
    }
    if value.len() > max_bytes {
        return Err(invalid(format!("{field} is longer than {max_bytes} bytes")));
    }
    Ok(())
}

/// A `u64` as `BIGINT`.
pub(crate) fn big(field: &str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| invalid(format!("{field} `{value}` is too large")))
}

/// A `u32` as `INT`.
pub(crate) fn int(field: &str, value: u32) -> Result<i32, StoreError> {
    i32::try_from(value).map_err(|_| invalid(format!("{field} `{value}` is too large")))
}

/// A stored `BIGINT` as `u64`; a negative value is a corrupt row.
pub(crate) fn unsigned(field: &str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| crate::error::corrupt(format!("stored {field} is negative")))
}

/// A stored `INT` as `u32`; a negative value is a corrupt row.
pub(crate) fn unsigned32(field: &str, value: i32) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| crate::error::corrupt(format!("stored {field} is negative")))
}

/// Parses a stored value with its domain parser; failure is a corrupt row.
pub(crate) fn parse<T: std::str::FromStr>(field: &str, raw: &str) -> Result<T, StoreError> {
    raw.parse().map_err(|_| crate::error::corrupt(format!("stored {field} `{}` is not valid", short(raw))))
}

/// At most 40 characters of a stored value, for messages.
fn short(raw: &str) -> String {
    raw.chars().take(40).collect()
}
