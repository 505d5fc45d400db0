//! Monitoring detectors (MON-1): pure functions over slices of events that return the alerts to raise.
//!
//! * failed synchronization: a grant whose syncs fail several times in a row;
//! * unexpected access: an actor's volume spiking over its own baseline, access outside working hours,
//!   one actor touching many tenants in a short window;
//! * data consistency: gaps in daily series, negative values where none are allowed, and totals that do
//!   not add up (an account's daily spend against the sum of its campaigns).
//!
//! Each detector reads only its arguments (time is a parameter) and returns its alerts ordered by time, so
//! the caller can run them on a schedule, deduplicate against alerts already raised and route them. Exposing
//! metrics is the server's job.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use time::{Date, Duration, OffsetDateTime, UtcOffset};

use crate::grant::GrantId;
use crate::tenant::TenantId;

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlertKind {
    /// A grant's syncs failed `threshold` times in a row.
    FailedSyncStreak,
    /// An actor read far more records than usual.
    VolumeSpike,
    /// An actor accessed data outside the configured working hours.
    UnusualHours,
    /// An actor accessed more tenants in one window than allowed.
    ManyTenants,
    /// A daily series has missing days.
    SeriesGap,
    /// A value that may not be negative is.
    NegativeValue,
    /// A total differs from the sum of its parts.
    SumMismatch,
    /// A platform announced that a grant's authorization expires soon (TikTok Shop
    /// `UPCOMING_AUTHORIZATION_EXPIRATION`).
    AuthorizationExpiring,
}

impl AlertKind {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::FailedSyncStreak => "failed_sync_streak",
            AlertKind::VolumeSpike => "volume_spike",
            AlertKind::UnusualHours => "unusual_hours",
            AlertKind::ManyTenants => "many_tenants",
            AlertKind::SeriesGap => "series_gap",
            AlertKind::NegativeValue => "negative_value",
            AlertKind::SumMismatch => "sum_mismatch",
            AlertKind::AuthorizationExpiring => "authorization_expiring",
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An alert to raise.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Alert {
    pub kind: AlertKind,
    /// What it is about: `tenant/grant`, an actor, or a series key.
    pub subject: String,
    /// Human-readable facts (counts, dates, limits). Never record contents.
    pub detail: String,
    /// When the condition arose (for window detectors: the `now` they ran at).
    pub at: OffsetDateTime,
    pub severity: Severity,
}

impl fmt::Display for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} `{}`: {}", self.severity, self.kind, self.subject, self.detail)
    }
}

fn sort_alerts(alerts: &mut [Alert]) {
    alerts.sort_by(|a, b| (a.at, a.kind, &a.subject).cmp(&(b.at, b.kind, &b.subject)));
}

/// `2026-01-05T03:04:05Z`.
fn utc_text(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    format!("{}T{:02}:{:02}:{:02}Z", at.date(), at.hour(), at.minute(), at.second())
}

// ---------------------------------------------------------------------------------------------------------
// Failed synchronization
// ---------------------------------------------------------------------------------------------------------

/// The result of one sync run of a grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOutcome {
    pub tenant: TenantId,
    pub grant: GrantId,
    pub at: OffsetDateTime,
    pub ok: bool,
}

/// One alert per streak of at least `threshold` consecutive failed syncs of a grant, raised at the failure
/// that reaches the threshold. A success ends the streak. Events may come in any order; they are taken in
/// time order per grant. A threshold of 0 is treated as 1.
pub fn failed_sync_alerts(events: &[SyncOutcome], threshold: u32) -> Vec<Alert> {
    let threshold = threshold.max(1);
    let mut by_grant: BTreeMap<(&TenantId, &GrantId), Vec<&SyncOutcome>> = BTreeMap::new();
    for event in events {
        by_grant.entry((&event.tenant, &event.grant)).or_default().push(event);
    }
    let mut alerts = Vec::new();
    for ((tenant, grant), mut runs) in by_grant {
        runs.sort_by_key(|e| e.at);
        let mut streak = 0u32;
        let mut since = None;
        for run in runs {
            if run.ok {
                streak = 0;
                since = None;
                continue;
            }
            streak = streak.saturating_add(1);
            let first = *since.get_or_insert(run.at);
            if streak == threshold {
                alerts.push(Alert {
                    kind: AlertKind::FailedSyncStreak,
                    subject: format!("{tenant}/{grant}"),
                    detail: format!("{threshold} consecutive failed syncs since {}", utc_text(first)),
                    at: run.at,
                    severity: Severity::Warning,
                });
            }
        }
    }
    sort_alerts(&mut alerts);
    alerts
}

// ---------------------------------------------------------------------------------------------------------
// Access anomalies
// ---------------------------------------------------------------------------------------------------------

/// One access to tenant data: who, which tenant, when, how many records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEvent {
    /// A person id or an API key id.
    pub actor: String,
    pub tenant: TenantId,
    pub at: OffsetDateTime,
    pub records: u64,
}

/// Thresholds of the access detectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessAnomalyConfig {
    /// Length of a window: the unit of the spike and many-tenant checks. Default 1 hour.
    pub window: Duration,
    /// How many windows before the current one form an actor's baseline (at most 10 000 are used).
    /// Default 24.
    pub baseline_windows: u32,
    /// A spike is more than `spike_factor` times the baseline median. Default 10.
    pub spike_factor: u64,
    /// ... and at least this many records, so quiet actors do not alert on small reads. Default 1000.
    pub spike_floor: u64,
    /// Working hours in UTC, `[start, end)`. `start > end` wraps past midnight; `start == end` means every
    /// hour is a working hour. Default 06:00 to 20:00.
    pub work_start_hour_utc: u8,
    pub work_end_hour_utc: u8,
    /// More distinct tenants than this in one window is an alert. Default 10.
    pub max_tenants_per_window: usize,
}

impl Default for AccessAnomalyConfig {
    fn default() -> Self {
        Self {
            window: Duration::hours(1),
            baseline_windows: 24,
            spike_factor: 10,
            spike_floor: 1000,
            work_start_hour_utc: 6,
            work_end_hour_utc: 20,
            max_tenants_per_window: 10,
        }
    }
}

impl AccessAnomalyConfig {
    /// Whether `hour` (0..24, UTC) is inside working hours.
    pub fn is_working_hour(&self, hour: u8) -> bool {
        let (start, end) = (self.work_start_hour_utc, self.work_end_hour_utc);
        match start.cmp(&end) {
            std::cmp::Ordering::Equal => true,
            std::cmp::Ordering::Less => (start..end).contains(&hour),
            std::cmp::Ordering::Greater => hour >= start || hour < end,
        }
    }

    /// Which window `at` falls in, counting back from `now`: 0 is `(now - window, now]`. `None` for events
    /// after `now` or a non-positive window.
    fn window_index(&self, at: OffsetDateTime, now: OffsetDateTime) -> Option<u64> {
        let window = self.window.whole_nanoseconds();
        let elapsed = (now - at).whole_nanoseconds();
        if window <= 0 || elapsed < 0 {
            return None;
        }
        u64::try_from(elapsed / window).ok()
    }
}

/// The median (the mean of the two middle values for an even count); 0 for no values.
fn median(values: &mut [u64]) -> u64 {
    values.sort_unstable();
    let n = values.len();
    let (Some(lo), Some(hi)) = (n.checked_sub(1).and_then(|m| values.get(m / 2)), values.get(n / 2)) else {
        return 0;
    };
    u64::try_from((u128::from(*lo) + u128::from(*hi)) / 2).unwrap_or(u64::MAX)
}

/// An alert per actor whose records in the current window `(now - window, now]` exceed both the floor and
/// `spike_factor` times the median of its per-window totals over the `baseline_windows` windows before
/// (windows without access count as 0, so a new actor's baseline is 0).
pub fn volume_spike_alerts(
    events: &[AccessEvent],
    now: OffsetDateTime,
    config: &AccessAnomalyConfig,
) -> Vec<Alert> {
    let baseline_len = usize::try_from(config.baseline_windows).unwrap_or(usize::MAX).min(10_000);
    let mut per_actor: BTreeMap<&str, (u64, Vec<u64>)> = BTreeMap::new();
    for event in events {
        let Some(index) = config.window_index(event.at, now) else { continue };
        let Ok(index) = usize::try_from(index) else { continue };
        if index > baseline_len {
            continue;
        }
        let (current, baseline) =
            per_actor.entry(event.actor.as_str()).or_insert_with(|| (0, vec![0; baseline_len]));
        if index == 0 {
            *current = current.saturating_add(event.records);
        } else if let Some(slot) = baseline.get_mut(index - 1) {
            *slot = slot.saturating_add(event.records);
        }
    }
    let mut alerts = Vec::new();
    for (actor, (current, mut baseline)) in per_actor {
        let median = median(&mut baseline);
        if current >= config.spike_floor && current > median.saturating_mul(config.spike_factor) {
            alerts.push(Alert {
                kind: AlertKind::VolumeSpike,
                subject: actor.to_owned(),
                detail: format!(
                    "{current} records in the last {} min, baseline median {median} per window over {} windows",
                    config.window.whole_minutes(),
                    baseline_len
                ),
                at: now,
                severity: Severity::Warning,
            });
        }
    }
    sort_alerts(&mut alerts);
    alerts
}

/// One alert per actor and UTC day with access outside working hours, at the first such access.
pub fn unusual_hours_alerts(events: &[AccessEvent], config: &AccessAnomalyConfig) -> Vec<Alert> {
    let mut per_day: BTreeMap<(&str, Date), (OffsetDateTime, u64, u64)> = BTreeMap::new();
    for event in events {
        let at = event.at.to_offset(UtcOffset::UTC);
        if config.is_working_hour(at.hour()) {
            continue;
        }
        let entry = per_day.entry((event.actor.as_str(), at.date())).or_insert((event.at, 0, 0));
        entry.0 = entry.0.min(event.at);
        entry.1 += 1;
        entry.2 = entry.2.saturating_add(event.records);
    }
    let mut alerts: Vec<Alert> = per_day
        .into_iter()
        .map(|((actor, date), (first, count, records))| Alert {
            kind: AlertKind::UnusualHours,
            subject: actor.to_owned(),
            detail: format!(
                "{count} accesses ({records} records) on {date} outside working hours {:02}:00-{:02}:00 UTC, first at {}",
                config.work_start_hour_utc,
                config.work_end_hour_utc,
                utc_text(first)
            ),
            at: first,
            severity: Severity::Warning,
        })
        .collect();
    sort_alerts(&mut alerts);
    alerts
}

/// An alert per actor that accessed more than `max_tenants_per_window` distinct tenants in the current
/// window `(now - window, now]`.
pub fn many_tenants_alerts(
    events: &[AccessEvent],
    now: OffsetDateTime,
    config: &AccessAnomalyConfig,
) -> Vec<Alert> {
    let mut per_actor: BTreeMap<&str, BTreeSet<&TenantId>> = BTreeMap::new();
    for event in events.iter().filter(|e| config.window_index(e.at, now) == Some(0)) {
        per_actor.entry(event.actor.as_str()).or_default().insert(&event.tenant);
    }
    let mut alerts: Vec<Alert> = per_actor
        .into_iter()
        .filter(|(_, tenants)| tenants.len() > config.max_tenants_per_window)
        .map(|(actor, tenants)| Alert {
            kind: AlertKind::ManyTenants,
            subject: actor.to_owned(),
            detail: format!(
                "{} tenants in the last {} min (limit {}): {}",
                tenants.len(),
                config.window.whole_minutes(),
                config.max_tenants_per_window,
                crate::id::join(tenants, ", ")
            ),
            at: now,
            severity: Severity::Critical,
        })
        .collect();
    sort_alerts(&mut alerts);
    alerts
}

/// All three access detectors.
pub fn access_anomaly_alerts(
    events: &[AccessEvent],
    now: OffsetDateTime,
    config: &AccessAnomalyConfig,
) -> Vec<Alert> {
    let mut alerts = volume_spike_alerts(events, now, config);
    alerts.extend(unusual_hours_alerts(events, config));
    alerts.extend(many_tenants_alerts(events, now, config));
    sort_alerts(&mut alerts);
    alerts
}

// ---------------------------------------------------------------------------------------------------------
// Data consistency
// ---------------------------------------------------------------------------------------------------------

/// One day's value of a series: spend of an ad account, orders of a shop, ... Money is in micros.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyTotal {
    /// The series: `meta:act_123:spend`, `campaign:456:spend`, ...
    pub key: String,
    pub date: Date,
    pub value: i64,
}

fn start_of(date: Date) -> OffsetDateTime {
    date.midnight().assume_utc()
}

/// Per series key, an alert for each run of missing days between its first and last date, at the first
/// missing day.
pub fn series_gap_alerts(series: &[DailyTotal]) -> Vec<Alert> {
    let mut dates: BTreeMap<&str, BTreeSet<Date>> = BTreeMap::new();
    for total in series {
        dates.entry(total.key.as_str()).or_default().insert(total.date);
    }
    let mut alerts = Vec::new();
    for (key, dates) in dates {
        let mut previous: Option<Date> = None;
        for date in dates {
            if let Some(prev) = previous
                && let (Some(first_missing), Some(last_missing)) = (prev.next_day(), date.previous_day())
                && first_missing <= last_missing
            {
                let days = (last_missing - first_missing).whole_days() + 1;
                let detail = if days == 1 {
                    format!("no value on {first_missing}")
                } else {
                    format!("no value from {first_missing} to {last_missing} ({days} days)")
                };
                alerts.push(Alert {
                    kind: AlertKind::SeriesGap,
                    subject: key.to_owned(),
                    detail,
                    at: start_of(first_missing),
                    severity: Severity::Warning,
                });
            }
            previous = Some(date);
        }
    }
    sort_alerts(&mut alerts);
    alerts
}

/// An alert for every negative value. Pass only series that cannot be negative (spend, impressions, stock
/// levels); refunds and adjustments belong in series of their own.
pub fn negative_value_alerts(series: &[DailyTotal]) -> Vec<Alert> {
    let mut alerts: Vec<Alert> = series
        .iter()
        .filter(|t| t.value < 0)
        .map(|t| Alert {
            kind: AlertKind::NegativeValue,
            subject: t.key.clone(),
            detail: format!("value {} on {} is negative", t.value, t.date),
            at: start_of(t.date),
            severity: Severity::Warning,
        })
        .collect();
    sort_alerts(&mut alerts);
    alerts
}

/// Per date, compares the `parent` total (e.g. account-level spend) with the sum of `children` (e.g. its
/// campaigns' spend) and alerts when they differ by more than `tolerance_micros`. A date present on only
/// one side counts the other side as 0, so missing parts and a missing total are both reported.
pub fn sum_mismatch(parent: &[DailyTotal], children: &[DailyTotal], tolerance_micros: u64) -> Vec<Alert> {
    let mut by_date: BTreeMap<Date, (Option<i128>, Option<i128>)> = BTreeMap::new();
    for total in parent {
        let entry = by_date.entry(total.date).or_default();
        entry.0 = Some(entry.0.unwrap_or(0) + i128::from(total.value));
    }
    for total in children {
        let entry = by_date.entry(total.date).or_default();
        entry.1 = Some(entry.1.unwrap_or(0) + i128::from(total.value));
    }
    let parent_keys: BTreeSet<&str> = parent.iter().map(|t| t.key.as_str()).collect();
    let subject =
        if parent_keys.is_empty() { "parent".to_owned() } else { crate::id::join(parent_keys, ",") };
    let mut alerts = Vec::new();
    for (date, (total, parts)) in by_date {
        let difference = total.unwrap_or(0) - parts.unwrap_or(0);
        if difference.unsigned_abs() <= u128::from(tolerance_micros) {
            continue;
        }
        let describe = |side: Option<i128>| side.map_or_else(|| "missing".to_owned(), |v| v.to_string());
        alerts.push(Alert {
            kind: AlertKind::SumMismatch,
            subject: subject.clone(),
            detail: format!(
                "total {} on {date} but parts sum to {} (difference {difference}, tolerance {tolerance_micros})",
                describe(total),
                describe(parts)
            ),
            at: start_of(date),
            severity: Severity::Warning,
        });
    }
    alerts
}

#[cfg(test)]
mod tests;
