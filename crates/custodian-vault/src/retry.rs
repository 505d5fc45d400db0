//! Retry decisions as pure functions (style rule 19): what to do after an attempt, and the delay before the
//! next one. Only idempotent requests are retried, a bounded number of times, with exponential backoff and
//! jitter, honouring `Retry-After` up to a cap. Authorization and validation errors are never retried.

use std::time::Duration;

/// The longest `Retry-After` honoured; a longer one fails the request at once (fail closed, no stall).
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);
/// The longest backoff between attempts.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryAction {
    /// The response is final (a success, or an answer the caller interprets, like 404).
    Done,
    /// Try again after this delay.
    Retry { after: Duration },
    /// Give up: the last response or error is the result.
    GiveUp(&'static str),
}

/// Decides after attempt `attempt` (1-based) of `max_attempts`. `status` is `None` when no response came
/// (timeout, connection failure).
pub(crate) fn classify(
    status: Option<u16>,
    retry_after: Option<Duration>,
    attempt: u32,
    max_attempts: u32,
    idempotent: bool,
    base_delay: Duration,
) -> RetryAction {
    if !matches!(status, None | Some(429 | 500 | 502 | 503 | 504)) {
        return RetryAction::Done;
    }
    if !idempotent {
        return RetryAction::GiveUp("the request is not idempotent");
    }
    if attempt >= max_attempts {
        return RetryAction::GiveUp("attempts exhausted");
    }
    match retry_after {
        Some(after) if after > MAX_RETRY_AFTER => RetryAction::GiveUp("retry-after is too long"),
        Some(after) => RetryAction::Retry { after },
        None => RetryAction::Retry { after: backoff(attempt, base_delay) },
    }
}

/// `base · 2^(attempt-1)`, capped at [`MAX_BACKOFF`].
pub(crate) fn backoff(attempt: u32, base: Duration) -> Duration {
    let factor = 1u32.checked_shl(attempt.saturating_sub(1).min(16)).unwrap_or(u32::MAX);
    base.saturating_mul(factor).min(MAX_BACKOFF)
}

/// "Equal jitter": half the delay fixed, half scaled by `random` in `[0, 1)`.
pub(crate) fn with_jitter(delay: Duration, random: f64) -> Duration {
    let half = delay / 2;
    half + half.mul_f64(random.clamp(0.0, 1.0))
}

/// Parses a `Retry-After` header given in seconds (HTTP dates are not used by Vault).
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests;
