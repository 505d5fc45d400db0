//! Meta (Graph / Marketing API): the usage headers and the error codes as retry [`Failure`]s
//! (reference: ads-apis.md §1.10 error codes, §1.11 rate limiting).
//!
//! Usage headers are JSON objects whose values are percentages of a quota:
//! - `X-App-Usage`: `call_count`, `total_time`, `total_cputime`;
//! - `X-Ad-Account-Usage`: `acc_id_util_pct`, and `reset_time_duration` in **seconds**;
//! - `X-Business-Use-Case-Usage`: per business/object id, a list of use cases each with `call_count`,
//!   `total_cputime`, `total_time` and `estimated_time_to_regain_access` in **minutes**.
//!
//! Meta's own documentation shows a sample with a single-quoted string value, so a value that is not JSON is
//! read again with single quotes as double quotes. `X-FB-Ads-Insights-Throttle` is not read.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::Failure;

const APP_USAGE: &str = "x-app-usage";
const AD_ACCOUNT_USAGE: &str = "x-ad-account-usage";
const BUSINESS_USE_CASE_USAGE: &str = "x-business-use-case-usage";

/// The quota use Meta reported on a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// The highest percentage of any quota in any of the three headers, rounded up (may exceed 100).
    pub max_percent: u32,
    /// How long until access is regained when a quota is exhausted: the largest
    /// `estimated_time_to_regain_access` (minutes) of the business use cases, or the ad account's
    /// `reset_time_duration` (seconds) when `acc_id_util_pct` is at 100 or more. `None` when nothing is
    /// blocked (or Meta did not say).
    pub regain_access: Option<Duration>,
}

/// What the headers say, including the ad account's reset time whatever its usage.
#[derive(Debug, Default)]
struct Reading {
    seen: bool,
    max_percent: f64,
    regain: Option<Duration>,
    account_reset: Option<Duration>,
}

/// Reads `X-App-Usage`, `X-Ad-Account-Usage` and `X-Business-Use-Case-Usage`; `None` when none of them is
/// present and readable.
pub fn usage(headers: &HeaderMap) -> Option<Usage> {
    let reading = read(headers);
    reading
        .seen
        .then(|| Usage { max_percent: percent_u32(reading.max_percent), regain_access: reading.regain })
}

/// The retry class of a Meta error (`error.code`, `error.error_subcode`) on a response of `status`:
/// - 4, 17, 32, 613 and 80000–80014 (app, user/ad-account, pages, custom and business-use-case limits) →
///   `Throttled`, waiting as the usage headers say (the time to regain access, else the ad account's reset
///   time; else no hint: backoff);
/// - 190, 102 (token invalid, expired, revoked), 10, 200–299 (permission) and 3 (the app lacks the
///   capability) → `Auth`;
/// - 1, 2 (unknown, service: transient) and 960 (batch, transient) → `Server`;
/// - any other code → `Server` on a 5xx, else `Invalid` (e.g. 100, invalid parameter);
/// - no code: by status (429 → `Throttled`, 401/403 → `Auth`, 408/5xx → `Server`, else `Invalid`).
///
/// No documented subcode changes the class (the 190 subcodes all mean "re-authorize"; 100/33 is treated as
/// invalid), so `_subcode` is accepted for the adapters' evidence and future use.
pub fn failure(status: u16, code: Option<i64>, _subcode: Option<i64>, headers: &HeaderMap) -> Failure {
    let server = Failure::Server { status };
    match code {
        Some(4 | 17 | 32 | 613 | 80_000..=80_014) => Failure::Throttled { wait: throttle_wait(headers) },
        Some(190 | 102 | 10 | 3 | 200..=299) => Failure::Auth,
        Some(1 | 2 | 960) => server,
        Some(_) if (500..=599).contains(&status) => server,
        Some(_) => Failure::Invalid,
        None => match status {
            429 => Failure::Throttled { wait: throttle_wait(headers) },
            401 | 403 => Failure::Auth,
            408 | 500..=599 => server,
            _ => Failure::Invalid,
        },
    }
}

/// The wait a throttled response asks for: the time to regain access, else the ad account's reset time.
fn throttle_wait(headers: &HeaderMap) -> Option<Duration> {
    let reading = read(headers);
    reading.regain.or(reading.account_reset)
}

fn read(headers: &HeaderMap) -> Reading {
    let mut reading = Reading::default();
    if let Some(app) = header_json(headers, APP_USAGE) {
        reading.seen = true;
        reading.note_percents(&app, &["call_count", "total_time", "total_cputime"]);
    }
    if let Some(account) = header_json(headers, AD_ACCOUNT_USAGE) {
        reading.seen = true;
        reading.note_percents(&account, &["acc_id_util_pct"]);
        let reset = number(account.get("reset_time_duration")).and_then(seconds);
        reading.account_reset = reset;
        if number(account.get("acc_id_util_pct")).is_some_and(|p| p >= 100.0) {
            reading.note_regain(reset);
        }
    }
    if let Some(Value::Object(objects)) = header_json(headers, BUSINESS_USE_CASE_USAGE) {
        reading.seen = true;
        for uses in objects.values() {
            for use_case in uses.as_array().into_iter().flatten() {
                reading.note_percents(use_case, &["call_count", "total_cputime", "total_time"]);
                let minutes = number(use_case.get("estimated_time_to_regain_access"));
                reading.note_regain(minutes.and_then(|m| seconds(m * 60.0)));
            }
        }
    }
    reading
}

impl Reading {
    fn note_percents(&mut self, object: &Value, fields: &[&str]) {
        for field in fields {
            if let Some(p) = number(object.get(field)) {
                self.max_percent = self.max_percent.max(p);
            }
        }
    }

    fn note_regain(&mut self, wait: Option<Duration>) {
        if let Some(wait) = wait {
            self.regain = Some(self.regain.map_or(wait, |r| r.max(wait)));
        }
    }
}

/// A header's value as JSON, leniently (single quotes read as double quotes).
fn header_json(headers: &HeaderMap, name: &str) -> Option<Value> {
    let text = headers.get(name)?.to_str().ok()?.trim();
    serde_json::from_str(text).ok().or_else(|| serde_json::from_str(&text.replace('\'', "\"")).ok())
}

/// A finite non-negative number, from a JSON number or a numeric string.
fn number(value: Option<&Value>) -> Option<f64> {
    let n = match value? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (n.is_finite() && n >= 0.0).then_some(n)
}

/// A positive number of seconds as a duration (`None` for zero: nothing to wait).
fn seconds(value: f64) -> Option<Duration> {
    (value > 0.0).then(|| Duration::try_from_secs_f64(value).ok()).flatten()
}

fn percent_u32(value: f64) -> u32 {
    let rounded = value.ceil();
    if rounded >= f64::from(u32::MAX) {
        u32::MAX
    } else if rounded > 0.0 {
        rounded as u32
    } else {
        0
    }
}

#[cfg(test)]
mod tests;
