//! [`RateLimiter`]: client-side rate limiting per [`RateKey`] with GCRA (the generic cell rate algorithm,
//! equivalent to a token bucket of `burst` tokens refilled at `per_second`), on `tokio::time::Instant` so
//! tests run with paused time. One limiter is shared by all tasks of a process (clone it).
//!
//! Each key keeps a theoretical arrival time `tat`; with the emission interval `T = 1 / per_second` and the
//! tolerance `τ = (burst - 1) · T`, a request arriving at `t` may go at `max(t, tat - τ)` and moves `tat` to
//! `max(tat, that time) + T`. [`RateLimiter::acquire`] reserves its slot under the lock and then sleeps
//! outside it, so concurrent tasks get distinct slots in the order they asked (fair, FIFO). A dropped
//! `acquire` leaves its slot unused (the limiter errs on the slow side).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// The slowest rate a key can have (one request a day): smaller, zero, negative or NaN rates are raised
/// to it, so a misread header can slow a key down but never stop it forever.
const MIN_PER_SECOND: f64 = 1.0 / 86_400.0;
/// The fastest rate a key can have.
const MAX_PER_SECOND: f64 = 1e9;

/// What a rate applies to: a platform, an app (client id), an account (ad account, seller, shop) and a
/// bucket (an operation such as Amazon's `getOrders`, or `""` for the whole account).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RateKey {
    pub platform: &'static str,
    pub app: String,
    pub account: String,
    pub bucket: String,
}

impl RateKey {
    pub fn new(
        platform: &'static str,
        app: impl Into<String>,
        account: impl Into<String>,
        bucket: impl Into<String>,
    ) -> Self {
        Self { platform, app: app.into(), account: account.into(), bucket: bucket.into() }
    }
}

/// A sustained rate and how many requests may go at once after a quiet period (at least 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: u32,
}

impl Rate {
    pub fn new(per_second: f64, burst: u32) -> Self {
        Self { per_second, burst }
    }

    /// The time between two requests at the sustained rate (at most a day).
    fn interval(self) -> Duration {
        let slowest = Duration::from_secs(86_400);
        if self.per_second.is_nan() || self.per_second <= MIN_PER_SECOND {
            return slowest;
        }
        Duration::try_from_secs_f64(1.0 / self.per_second.min(MAX_PER_SECOND)).unwrap_or(slowest)
    }

    /// How far ahead of now `tat` may be while a request can still go at once.
    fn tolerance(self) -> Duration {
        self.interval().saturating_mul(self.burst.max(1) - 1)
    }
}

/// The state of one key.
#[derive(Debug, Clone, Copy)]
struct Cell {
    rate: Rate,
    tat: Instant,
    /// Nobody sends before this (a platform's throttle hint).
    paused_until: Option<Instant>,
}

impl Cell {
    fn new(rate: Rate, now: Instant) -> Self {
        Self { rate, tat: now, paused_until: None }
    }

    /// The earliest time a request arriving `now` may go.
    fn slot(&self, now: Instant) -> Instant {
        let by_rate = self.tat.checked_sub(self.rate.tolerance()).unwrap_or(now);
        let mut slot = now.max(by_rate);
        if let Some(until) = self.paused_until {
            slot = slot.max(until);
        }
        slot
    }

    /// Takes the slot at `slot`.
    fn take(&mut self, slot: Instant) {
        let from = self.tat.max(slot);
        self.tat = from.checked_add(self.rate.interval()).unwrap_or(from);
    }
}

/// A rate limiter shared across tasks (cheap to clone). Unknown keys get the default rate.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    default: Rate,
    cells: Mutex<HashMap<RateKey, Cell>>,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("default", &self.inner.default)
            .field("keys", &self.cells().len())
            .finish()
    }
}

impl RateLimiter {
    /// A limiter whose keys start at `default` until configured otherwise.
    pub fn new(default: Rate) -> Self {
        Self { inner: Arc::new(Inner { default, cells: Mutex::new(HashMap::new()) }) }
    }

    /// Sets a key's rate and burst (e.g. an Amazon operation's documented rate and burst). Slots already
    /// taken stay taken.
    pub fn configure(&self, key: &RateKey, rate: Rate) {
        self.with_cell(key, Instant::now(), |cell| cell.rate = rate);
    }

    /// Changes a key's sustained rate, keeping its burst (e.g. from Amazon's `x-amzn-RateLimit-Limit`).
    /// A rate that is not a positive number is ignored.
    pub fn set_rate(&self, key: &RateKey, per_second: f64) {
        if !per_second.is_finite() || per_second <= 0.0 {
            tracing::debug!(platform = key.platform, per_second, "ignoring an invalid rate");
            return;
        }
        self.with_cell(key, Instant::now(), |cell| cell.rate.per_second = per_second);
    }

    /// A platform's throttle hint: nobody sends on this key for `wait` from now, and then requests resume
    /// at the sustained rate (no burst right after a throttle). A shorter pause never shortens a longer one.
    pub fn pause(&self, key: &RateKey, wait: Duration) {
        let now = Instant::now();
        let until = now.checked_add(wait).unwrap_or(now);
        self.with_cell(key, now, |cell| {
            cell.paused_until = Some(cell.paused_until.map_or(until, |p| p.max(until)));
            let empty_bucket = until.checked_add(cell.rate.tolerance()).unwrap_or(until);
            cell.tat = cell.tat.max(empty_bucket);
        });
    }

    /// Waits for this key's next slot. Concurrent callers get distinct slots, in the order they called.
    pub async fn acquire(&self, key: &RateKey) {
        let now = Instant::now();
        let slot = self.with_cell(key, now, |cell| {
            let slot = cell.slot(now);
            cell.take(slot);
            slot
        });
        if slot > now {
            tokio::time::sleep_until(slot).await;
        }
    }

    /// Takes a slot if one is free now; otherwise how long until the next one (nothing is taken).
    pub fn try_acquire(&self, key: &RateKey) -> Result<(), Duration> {
        let now = Instant::now();
        self.with_cell(key, now, |cell| {
            let slot = cell.slot(now);
            if slot > now {
                return Err(slot - now);
            }
            cell.take(slot);
            Ok(())
        })
    }

    /// Runs `f` on the key's cell (created with the default rate if new) under the lock; the key is
    /// cloned only when it is new.
    fn with_cell<R>(&self, key: &RateKey, now: Instant, f: impl FnOnce(&mut Cell) -> R) -> R {
        let mut cells = self.cells();
        if let Some(cell) = cells.get_mut(key) {
            return f(cell);
        }
        f(cells.entry(key.clone()).or_insert_with(|| Cell::new(self.inner.default, now)))
    }

    /// The map; a panic while holding the lock cannot leave a cell half-updated, so poisoning is ignored.
    fn cells(&self) -> std::sync::MutexGuard<'_, HashMap<RateKey, Cell>> {
        self.inner.cells.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests;
