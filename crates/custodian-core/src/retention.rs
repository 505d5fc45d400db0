//! Retention (RET-1..6): periods per data class, contract overrides that can only shorten, legal holds,
//! delete or anonymize per class, purge plans for revocation, deletion receipts.

use time::Duration;

use crate::id::{IdError, string_id};

string_id!(
    /// A legal hold (RET-5).
    HoldId,
    "hold id"
);
string_id!(
    /// A deletion receipt (RET-6).
    ReceiptId,
    "receipt id"
);

/// A retention period in whole days: 1 to 3,650.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RetentionDays(u32);

impl RetentionDays {
    /// Validates a period.
    pub fn new(days: u32) -> Result<Self, IdError> {
        if (1..=3650).contains(&days) {
            Ok(Self(days))
        } else {
            Err(IdError::Format { kind: "retention period", value: days.to_string(), expected: "1 to 3650 days" })
        }
    }

    /// The number of days.
    pub fn days(self) -> u32 {
        self.0
    }

    /// The period as a duration.
    pub fn duration(self) -> Duration {
        Duration::days(i64::from(self.0))
    }
}
