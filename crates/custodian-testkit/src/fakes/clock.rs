//! [`ManualClock`]: a clock that moves only when a test says so.

use std::sync::Mutex;

use custodian_core::ports::Clock;
use time::{Duration, OffsetDateTime};

use super::lock;

/// A [`Clock`] set and advanced by hand. Share it as `Arc<ManualClock>` (it coerces to `Arc<dyn Clock>`).
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<OffsetDateTime>,
}

impl ManualClock {
    /// A clock showing `now`.
    pub fn new(now: OffsetDateTime) -> Self {
        Self { now: Mutex::new(now) }
    }

    /// Sets the time (it may go backwards, to test clock skew).
    pub fn set(&self, now: OffsetDateTime) {
        *lock(&self.now) = now;
    }

    /// Moves the time by `by` (negative moves it back) and returns the new time.
    pub fn advance(&self, by: Duration) -> OffsetDateTime {
        let mut now = lock(&self.now);
        *now = now.saturating_add(by);
        *now
    }
}

impl Default for ManualClock {
    /// A clock at [`crate::fixtures::T0`].
    fn default() -> Self {
        Self::new(crate::fixtures::T0)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *lock(&self.now)
    }
}
