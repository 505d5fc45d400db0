//! Server-side enforcement of published rate limits: token buckets keyed by whatever the platform limits
//! by (app, account, operation), refilled continuously.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A published limit: a sustained rate and a burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub per_second: f64,
    pub burst: f64,
}

impl Limit {
    pub const fn new(per_second: f64, burst: f64) -> Self {
        Self { per_second, burst }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets by key. Clones share state.
#[derive(Debug, Clone, Default)]
pub struct Limiter {
    buckets: Arc<Mutex<HashMap<String, Bucket>>>,
}

impl Limiter {
    /// Takes one token from `key`'s bucket under `limit`; `Err(wait)` when empty, with the time until a
    /// token is back.
    pub fn check(&self, key: &str, limit: Limit) -> Result<(), Duration> {
        self.check_at(key, limit, Instant::now())
    }

    fn check_at(&self, key: &str, limit: Limit, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket { tokens: limit.burst, at: now });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * limit.per_second).min(limit.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else if limit.per_second > 0.0 {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / limit.per_second))
        } else {
            Err(Duration::from_secs(3600))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill_at_the_rate() {
        let limiter = Limiter::default();
        let limit = Limit::new(2.0, 3.0);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check_at("k", limit, t0), Ok(()));
        }
        let wait = limiter.check_at("k", limit, t0).err();
        assert_eq!(wait, Some(Duration::from_millis(500)));
        assert_eq!(limiter.check_at("other", limit, t0), Ok(()), "keys are independent");
        assert_eq!(limiter.check_at("k", limit, t0 + Duration::from_millis(500)), Ok(()));
        assert!(limiter.check_at("k", limit, t0 + Duration::from_millis(500)).is_err());
    }
}
