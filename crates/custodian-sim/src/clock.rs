//! The simulator's clock: the system clock plus an adjustable offset, so tests can let tokens and
//! authorizations expire without waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// System time shifted by an offset that tests may advance. Clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct SimClock {
    offset_secs: Arc<AtomicI64>,
}

impl SimClock {
    /// Seconds since the Unix epoch, shifted by the offset.
    pub fn now_unix(&self) -> i64 {
        #[expect(
            clippy::disallowed_methods,
            reason = "the simulator stands for remote platforms, whose clock is the wall clock (shifted for tests)"
        )]
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        system.saturating_add(self.offset_secs.load(Ordering::Relaxed))
    }

    /// Moves the clock forward by `secs` (negative moves it back).
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
    }
}
