//! Retry decisions as pure functions (style rule 19): a [`Failure`] class, [`RetryPolicy::classify`]
//! (bounded attempts, full-jitter exponential backoff, platform wait hints honoured, never retrying auth or
//! validation errors, non-idempotent requests retried only when throttled), the generic
//! [`failure_from_status`] and [`retry_after`], the platform mappings in [`meta`], [`tiktok`] and
//! [`amazon`], and the [`with_retry`] loop that applies them.

pub mod amazon;
pub mod meta;
pub mod tiktok;

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::BuildHasher as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// What kind of failure an attempt ended with; decides whether and when to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Connection reset, timeout, truncated body: retried if the request is idempotent.
    Transport,
    /// 429, Meta 4/17/32/613/80000–80014, TikTok 40100, Amazon `QuotaExceeded`: retried after `wait` when
    /// the platform said how long (else with backoff), even for non-idempotent requests (the platform
    /// refused them before doing anything).
    Throttled { wait: Option<Duration> },
    /// 5xx or a platform's "temporary" code: retried if the request is idempotent.
    Server { status: u16 },
    /// 401/403, Meta 190/102/10/200–299, TikTok 401xx: never retried.
    Auth,
    /// 400/404/409/422 and other validation errors: never retried.
    Invalid,
}

/// When to try again: at most `max_attempts` attempts in all, full-jitter exponential backoff from
/// `base_delay` capped at `max_delay`, and a platform wait hint longer than `max_wait_hint` gives up (the
/// caller reports "rate limited" instead of blocking for long).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    pub max_wait_hint: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts, 500 ms base delay, 30 s cap, hints up to 300 s honoured.
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_wait_hint: Duration::from_secs(300),
        }
    }
}

/// The decision for a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryAction {
    Retry {
        after: Duration,
    },
    /// Give up; the reason is for logs.
    DontRetry(&'static str),
}

impl RetryPolicy {
    /// Decides what to do after a failed attempt. `attempt` is the number of attempts already made (1 after
    /// the first failure); `jitter` is a random number in `[0, 1)` (values outside are clamped).
    ///
    /// - `Auth` and `Invalid` are never retried, nor is anything once `attempt >= max_attempts`.
    /// - A non-idempotent request is retried only when `Throttled`.
    /// - `Throttled` with a wait hint: the hint exactly, plus up to 10% jitter; a hint over
    ///   `max_wait_hint` gives up.
    /// - Otherwise full jitter: `jitter * min(max_delay, base_delay * 2^(attempt-1))`.
    pub fn classify(&self, failure: &Failure, attempt: u32, idempotent: bool, jitter: f64) -> RetryAction {
        let jitter = if jitter.is_finite() { jitter.clamp(0.0, 1.0) } else { 0.0 };
        match failure {
            Failure::Auth => return RetryAction::DontRetry("authentication or permission refused"),
            Failure::Invalid => return RetryAction::DontRetry("the request is invalid"),
            Failure::Throttled { .. } | Failure::Transport | Failure::Server { .. } => {}
        }
        if attempt >= self.max_attempts {
            return RetryAction::DontRetry("attempts exhausted");
        }
        match failure {
            Failure::Throttled { wait: Some(wait) } => {
                if *wait > self.max_wait_hint {
                    return RetryAction::DontRetry("the platform asks to wait longer than allowed");
                }
                RetryAction::Retry { after: wait.saturating_add(wait.mul_f64(0.1 * jitter)) }
            }
            Failure::Throttled { wait: None } => RetryAction::Retry { after: self.backoff(attempt, jitter) },
            _ if !idempotent => RetryAction::DontRetry("the request is not idempotent"),
            _ => RetryAction::Retry { after: self.backoff(attempt, jitter) },
        }
    }

    /// `jitter * min(max_delay, base_delay * 2^(attempt-1))`.
    fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(31);
        let ceiling =
            self.base_delay.checked_mul(1u32 << exponent).unwrap_or(self.max_delay).min(self.max_delay);
        ceiling.mul_f64(jitter)
    }
}

/// The generic reading of an HTTP status: `None` for 2xx; 429 → `Throttled` (wait from `Retry-After`);
/// 401/403 → `Auth`; 408 and 5xx → `Server`; every other status (3xx: redirects are not followed; 4xx)
/// → `Invalid`. Platforms that put their verdict in the body refine this ([`meta`], [`tiktok`]).
pub fn failure_from_status(status: u16, headers: &HeaderMap, now: SystemTime) -> Option<Failure> {
    match status {
        200..=299 => None,
        429 => Some(Failure::Throttled { wait: retry_after(headers, now) }),
        401 | 403 => Some(Failure::Auth),
        408 | 500..=599 => Some(Failure::Server { status }),
        _ => Some(Failure::Invalid),
    }
}

/// The `Retry-After` header as a wait from `now`: delta-seconds, or an HTTP-date (IMF-fixdate, and the
/// obsolete RFC 850 and asctime forms); a date in the past is a zero wait. `None` when absent or unreadable.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let at = http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses an HTTP-date (RFC 9110 §5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`,
/// `Sunday, 06-Nov-94 08:49:37 GMT` or `Sun Nov  6 08:49:37 1994`.
pub(crate) fn http_date(text: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = text.split([' ', ',']).filter(|p| !p.is_empty()).collect();
    let (day, month, year, time) = match parts.as_slice() {
        // IMF-fixdate: [Sun] [06] [Nov] [1994] [08:49:37] [GMT]
        [_, day, month, year, time, "GMT"] if year.len() == 4 => (*day, *month, year.parse().ok()?, *time),
        // RFC 850: [Sunday] [06-Nov-94] [08:49:37] [GMT]
        [_, date, time, "GMT"] => {
            let mut fields = date.split('-');
            let (day, month, year) = (fields.next()?, fields.next()?, fields.next()?);
            let year: i64 = year.parse().ok()?;
            // RFC 9110: a two-digit year more than 50 years in the future is in the past century.
            let year = if year < 50 { 2000 + year } else { 1900 + year };
            (day, month, year, *time)
        }
        // asctime: [Sun] [Nov] [6] [08:49:37] [1994]
        [_, month, day, time, year] => (*day, *month, year.parse().ok()?, *time),
        _ => return None,
    };
    let day: i64 = day.parse().ok()?;
    let month = match month {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let mut clock = time.split(':').map(str::parse::<i64>);
    let (h, m, s) = (clock.next()?.ok()?, clock.next()?.ok()?, clock.next()?.ok()?);
    if clock.next().is_some() || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 || year < 1970 {
        return None;
    }
    let seconds = days_from_civil(year, month, day) * 86_400 + h * 3_600 + m * 60 + s;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).ok()?))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12; // March = 0
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Runs `op` with retries per `policy`: `op` receives the attempt number (1-based) and returns `Ok(T)` or
/// `Err((E, Failure))`; between attempts it sleeps (tokio time) as [`RetryPolicy::classify`] says, with
/// jitter drawn here. Returns the first success or the error of the last attempt.
pub async fn with_retry<T, E, F, Fut>(policy: &RetryPolicy, idempotent: bool, mut op: F) -> Result<T, E>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, (E, Failure)>>,
{
    let random = RandomState::new();
    let mut attempt: u32 = 0;
    loop {
        attempt = attempt.saturating_add(1);
        let (error, failure) = match op(attempt).await {
            Ok(value) => return Ok(value),
            Err(failed) => failed,
        };
        let jitter = unit_interval(random.hash_one(attempt));
        match policy.classify(&failure, attempt, idempotent, jitter) {
            RetryAction::Retry { after } => {
                tracing::debug!(attempt, ?failure, after_ms = millis(after), "retrying");
                tokio::time::sleep(after).await;
            }
            RetryAction::DontRetry(reason) => {
                tracing::debug!(attempt, ?failure, reason, "not retrying");
                return Err(error);
            }
        }
    }
}

/// A hash mapped to `[0, 1)`.
fn unit_interval(hash: u64) -> f64 {
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
