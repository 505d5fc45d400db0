//! Amazon SP-API rate signals (reference: commerce-apis.md §2.5): a token bucket per operation and
//! account-application pair, whose applied rate comes back in `x-amzn-RateLimit-Limit` (requests per
//! second) when present. Throttling is HTTP 429 `QuotaExceeded`, which [`crate::failure_from_status`]
//! reads as `Throttled`; feed the rate to [`crate::RateLimiter::set_rate`].

use reqwest::header::HeaderMap;

/// The `x-amzn-RateLimit-Limit` header: the applied rate in requests per second; `None` when absent, not a
/// number, or not positive.
pub fn rate_limit(headers: &HeaderMap) -> Option<f64> {
    let rate: f64 = headers.get("x-amzn-ratelimit-limit")?.to_str().ok()?.trim().parse().ok()?;
    (rate.is_finite() && rate > 0.0).then_some(rate)
}

#[cfg(test)]
mod tests;
