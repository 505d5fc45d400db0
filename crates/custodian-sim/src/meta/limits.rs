//! Meta's published rate limits (ads-apis.md §1.11) as draining buckets, and the usage headers that report
//! them (`X-App-Usage`, `X-Ad-Account-Usage`, `X-Business-Use-Case-Usage`, `X-FB-Ads-Insights-Throttle`).
//!
//! `crate::rate::Limiter` answers only "allowed or wait"; Meta's headers report how full each quota is, so
//! the buckets here keep their level readable. A bucket of capacity `C` drains at `C / window` per second
//! (a rolling window's used share decays to zero over the window); a call adds its points; a call that
//! would overflow is refused and, for the ad account score, blocks the account for the tier's block time.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue};

/// The Marketing API access tier of the simulated app (renamed "Limited"/"Full" access in 2026, §1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessTier {
    Development,
    Standard,
}

impl AccessTier {
    /// As the headers' `ads_api_access_tier` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessTier::Development => "development_access",
            AccessTier::Standard => "standard_access",
        }
    }
}

/// The limits the simulator enforces (derived from §1.11; see the module doc of [`crate::meta`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetaLimits {
    pub tier: AccessTier,
    /// Windows, decays and blocks are divided by this (1.0: real time).
    pub time_scale: f64,
    /// The app's calls per (scaled) hour. Meta: 200 × users; default 200 000 (1000 users).
    pub app_calls_per_hour: f64,
}

impl Default for MetaLimits {
    fn default() -> Self {
        Self { tier: AccessTier::Standard, time_scale: 1.0, app_calls_per_hour: 200_000.0 }
    }
}

impl MetaLimits {
    /// Limits of `tier` in real time.
    pub fn tier(tier: AccessTier) -> Self {
        Self { tier, ..Self::default() }
    }

    /// The same limits with every window `factor` times shorter.
    pub fn scaled(self, factor: f64) -> Self {
        Self { time_scale: factor, ..self }
    }

    fn scale(&self) -> f64 {
        if self.time_scale.is_finite() && self.time_scale > 0.0 { self.time_scale } else { 1.0 }
    }

    /// The rolling window of the business use cases and the app, in seconds (3600 / scale).
    pub fn hour_secs(&self) -> f64 {
        3600.0 / self.scale()
    }

    /// `ads_insights` calls per window: `600 + 400 × active ads` (development) or `190000 + 400 × active ads`.
    pub fn insights_calls(&self, active_ads: u64) -> f64 {
        let base = match self.tier {
            AccessTier::Development => 600.0,
            AccessTier::Standard => 190_000.0,
        };
        base + 400.0 * active_ads as f64
    }

    /// `ads_management` calls per window: `300 + 40 × active ads` or `100000 + 40 × active ads`.
    pub fn management_calls(&self, active_ads: u64) -> f64 {
        let base = match self.tier {
            AccessTier::Development => 300.0,
            AccessTier::Standard => 100_000.0,
        };
        base + 40.0 * active_ads as f64
    }

    /// The ad account score's maximum: 60 (development) or 9000 points.
    pub fn score_max(&self) -> f64 {
        match self.tier {
            AccessTier::Development => 60.0,
            AccessTier::Standard => 9_000.0,
        }
    }

    /// The score decays fully over 300 s (scaled).
    pub fn score_decay_secs(&self) -> f64 {
        300.0 / self.scale()
    }

    /// How long an account is blocked after exceeding its score: 300 s (development) or 60 s (scaled).
    pub fn score_block_secs(&self) -> f64 {
        let secs = match self.tier {
            AccessTier::Development => 300.0,
            AccessTier::Standard => 60.0,
        };
        secs / self.scale()
    }

    pub(super) fn insights_meter(&self, active_ads: u64) -> Meter {
        Meter { capacity: self.insights_calls(active_ads), window_secs: self.hour_secs(), block_secs: None }
    }

    pub(super) fn management_meter(&self, active_ads: u64) -> Meter {
        Meter { capacity: self.management_calls(active_ads), window_secs: self.hour_secs(), block_secs: None }
    }

    pub(super) fn score_meter(&self) -> Meter {
        Meter {
            capacity: self.score_max(),
            window_secs: self.score_decay_secs(),
            block_secs: Some(self.score_block_secs()),
        }
    }

    pub(super) fn app_meter(&self) -> Meter {
        Meter { capacity: self.app_calls_per_hour.max(1.0), window_secs: self.hour_secs(), block_secs: None }
    }
}

/// A bucket's shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Meter {
    pub(super) capacity: f64,
    pub(super) window_secs: f64,
    pub(super) block_secs: Option<f64>,
}

impl Meter {
    fn drain_per_sec(&self) -> f64 {
        self.capacity / self.window_secs.max(1e-9)
    }
}

/// Which quota a bucket measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Quota {
    App,
    Insights,
    Management,
    Score,
}

#[derive(Debug, Clone, Copy)]
struct Level {
    used: f64,
    at: Instant,
    blocked_until: Option<Instant>,
}

/// What taking from a bucket gave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Reading {
    /// How full the quota is, in percent (over 100 while throttled).
    pub(super) percent: f64,
    /// Seconds until the quota is empty again.
    pub(super) reset_secs: f64,
    /// `Some(seconds)` when the call was refused: until the next call can go.
    pub(super) blocked_secs: Option<f64>,
}

/// Every bucket of the simulated Meta, keyed by quota and account index (`usize::MAX` for the app).
#[derive(Debug, Default)]
pub(super) struct Meters {
    levels: Mutex<HashMap<(Quota, usize), Level>>,
}

impl Meters {
    /// Adds `points` to the bucket, or refuses (throttled calls still count, as Meta warns, up to twice the
    /// capacity).
    pub(super) fn take(&self, quota: Quota, account: usize, meter: Meter, points: f64) -> Reading {
        let now = Instant::now();
        let mut levels = self.levels.lock().unwrap_or_else(PoisonError::into_inner);
        let level =
            levels.entry((quota, account)).or_insert(Level { used: 0.0, at: now, blocked_until: None });
        let rate = meter.drain_per_sec();
        let elapsed = now.saturating_duration_since(level.at).as_secs_f64();
        level.used = (level.used - elapsed * rate).max(0.0);
        level.at = now;
        if let Some(until) = level.blocked_until {
            if until > now {
                level.used = (level.used + points).min(2.0 * meter.capacity);
                return Reading {
                    percent: percent(level.used, meter.capacity).max(100.0),
                    reset_secs: level.used / rate,
                    blocked_secs: Some(until.saturating_duration_since(now).as_secs_f64()),
                };
            }
            level.blocked_until = None;
        }
        if level.used + points > meter.capacity + 1e-9 {
            level.used = (level.used + points).min(2.0 * meter.capacity);
            let wait = match meter.block_secs {
                Some(block) => {
                    level.blocked_until = now.checked_add(Duration::from_secs_f64(block.max(0.0)));
                    block
                }
                None => ((level.used - meter.capacity + points) / rate).max(0.0),
            };
            return Reading {
                percent: percent(level.used, meter.capacity).max(100.0),
                reset_secs: level.used / rate,
                blocked_secs: Some(wait),
            };
        }
        level.used += points;
        Reading {
            percent: percent(level.used, meter.capacity),
            reset_secs: level.used / rate,
            blocked_secs: None,
        }
    }

    /// The bucket's level without taking from it.
    pub(super) fn peek(&self, quota: Quota, account: usize, meter: Meter) -> Reading {
        let now = Instant::now();
        let levels = self.levels.lock().unwrap_or_else(PoisonError::into_inner);
        let rate = meter.drain_per_sec();
        let used = levels.get(&(quota, account)).map_or(0.0, |level| {
            (level.used - now.saturating_duration_since(level.at).as_secs_f64() * rate).max(0.0)
        });
        Reading { percent: percent(used, meter.capacity), reset_secs: used / rate, blocked_secs: None }
    }
}

fn percent(used: f64, capacity: f64) -> f64 {
    if capacity > 0.0 { used / capacity * 100.0 } else { 100.0 }
}

fn set(headers: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(name, value);
    }
}

/// Whole percent as the headers carry them (integers, as in the doc samples).
fn whole(percent: f64) -> u64 {
    if percent.is_finite() && percent > 0.0 { percent.floor() as u64 } else { 0 }
}

/// `X-App-Usage: {"call_count": 28, "total_time": 25, "total_cputime": 25}`.
pub(super) fn app_usage(headers: &mut HeaderMap, app: Reading) {
    let p = whole(app.percent);
    set(
        headers,
        "x-app-usage",
        format!(r#"{{"call_count":{p},"total_time":{},"total_cputime":{}}}"#, p * 3 / 5, p / 2),
    );
}

/// `X-Ad-Account-Usage: {"acc_id_util_pct": 9.67, "reset_time_duration": 100, "ads_api_access_tier": "…"}`.
pub(super) fn account_usage(headers: &mut HeaderMap, score: Reading, tier: AccessTier) {
    let pct = (score.percent * 100.0).round() / 100.0;
    let reset = score.blocked_secs.unwrap_or(score.reset_secs).ceil().max(0.0) as u64;
    set(
        headers,
        "x-ad-account-usage",
        format!(
            r#"{{"acc_id_util_pct":{pct},"reset_time_duration":{reset},"ads_api_access_tier":"{}"}}"#,
            tier.as_str()
        ),
    );
}

/// `X-Business-Use-Case-Usage: {"<account id>": [{"type": "ads_insights", "call_count": 97, …}]}`, with
/// `estimated_time_to_regain_access` in minutes.
pub(super) fn business_usage(
    headers: &mut HeaderMap,
    account: &str,
    kind: &str,
    buc: Reading,
    tier: AccessTier,
) {
    let p = whole(buc.percent);
    let regain_minutes = buc.blocked_secs.map_or(0, |s| (s / 60.0).ceil().max(1.0) as u64);
    set(
        headers,
        "x-business-use-case-usage",
        format!(
            r#"{{"{account}":[{{"type":"{kind}","call_count":{p},"total_cputime":{},"total_time":{},"estimated_time_to_regain_access":{regain_minutes},"ads_api_access_tier":"{}"}}]}}"#,
            p / 2,
            p * 3 / 5,
            tier.as_str()
        ),
    );
}

/// `X-FB-Ads-Insights-Throttle: {"app_id_util_pct": 100, "acc_id_util_pct": 10, "ads_api_access_tier": "…"}`.
pub(super) fn insights_throttle(headers: &mut HeaderMap, app: Reading, account: Reading, tier: AccessTier) {
    set(
        headers,
        "x-fb-ads-insights-throttle",
        format!(
            r#"{{"app_id_util_pct":{},"acc_id_util_pct":{},"ads_api_access_tier":"{}"}}"#,
            whole(app.percent),
            whole(account.percent),
            tier.as_str()
        ),
    );
}

/// The headers of an injected throttle: the ad account at 100%, reset in `reset_secs`.
pub(super) fn throttled_headers(headers: &mut HeaderMap, tier: AccessTier, reset_secs: u64) {
    set(
        headers,
        "x-ad-account-usage",
        format!(
            r#"{{"acc_id_util_pct":100,"reset_time_duration":{reset_secs},"ads_api_access_tier":"{}"}}"#,
            tier.as_str()
        ),
    );
    set(headers, "x-app-usage", r#"{"call_count":100,"total_time":60,"total_cputime":50}"#.to_owned());
}
