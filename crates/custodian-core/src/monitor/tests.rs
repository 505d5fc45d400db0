//! Tests of the monitoring detectors (MON-1): each detector on clean input (no alert) and on each anomaly.

use expect_test::{Expect, expect};
use time::macros::{date, datetime};

use super::*;

const T0: OffsetDateTime = datetime!(2026-03-02 12:00 UTC);

/// Renders alerts one per line, with their time, and compares with `expect`.
#[track_caller]
fn check(alerts: Vec<Alert>, expect: Expect) {
    let text: String = alerts.iter().map(|a| format!("{} {a}\n", utc_text(a.at))).collect();
    expect.assert_eq(&text);
}

fn tenant(id: &str) -> TenantId {
    TenantId::new(id).unwrap()
}

// ---------------------------------------------------------------------------------------------------------
// Failed synchronization
// ---------------------------------------------------------------------------------------------------------

/// `pattern` is one character per run, a minute apart: `.` success, `x` failure.
fn syncs(tenant_id: &str, grant: &str, pattern: &str) -> Vec<SyncOutcome> {
    pattern
        .chars()
        .enumerate()
        .map(|(i, c)| SyncOutcome {
            tenant: tenant(tenant_id),
            grant: GrantId::new(grant).unwrap(),
            at: T0 + Duration::minutes(i64::try_from(i).unwrap()),
            ok: c == '.',
        })
        .collect()
}

#[test]
fn failed_sync_streaks() {
    check(failed_sync_alerts(&syncs("t1", "g1", ""), 3), expect![[""]]);
    check(failed_sync_alerts(&syncs("t1", "g1", "........"), 3), expect![[""]]);
    check(failed_sync_alerts(&syncs("t1", "g1", "xx.xx.xx."), 3), expect![[""]]);
    check(
        failed_sync_alerts(&syncs("t1", "g1", "..xxx"), 3),
        expect![[r#"
        2026-03-02T12:04:00Z warning failed_sync_streak `t1/g1`: 3 consecutive failed syncs since 2026-03-02T12:02:00Z
    "#]],
    );
    // One alert per streak, however long.
    check(
        failed_sync_alerts(&syncs("t1", "g1", "xxxxxxxx"), 3),
        expect![[r#"
        2026-03-02T12:02:00Z warning failed_sync_streak `t1/g1`: 3 consecutive failed syncs since 2026-03-02T12:00:00Z
    "#]],
    );
    // A success ends the streak; the next streak alerts again.
    check(
        failed_sync_alerts(&syncs("t1", "g1", "xxx.xx.xxx"), 3),
        expect![[r#"
        2026-03-02T12:02:00Z warning failed_sync_streak `t1/g1`: 3 consecutive failed syncs since 2026-03-02T12:00:00Z
        2026-03-02T12:09:00Z warning failed_sync_streak `t1/g1`: 3 consecutive failed syncs since 2026-03-02T12:07:00Z
    "#]],
    );
    // Threshold 0 behaves as 1.
    check(
        failed_sync_alerts(&syncs("t1", "g1", ".x"), 0),
        expect![[r#"
        2026-03-02T12:01:00Z warning failed_sync_streak `t1/g1`: 1 consecutive failed syncs since 2026-03-02T12:01:00Z
    "#]],
    );
}

#[test]
fn failed_sync_streaks_are_per_grant_and_in_time_order() {
    // Interleaved grants: each grant's own sequence decides.
    let mut events = syncs("t1", "g1", "x.xx");
    events.extend(syncs("t1", "g2", "xxx."));
    // Same grant id in another tenant is another grant.
    events.extend(syncs("t2", "g1", "xx"));
    check(
        failed_sync_alerts(&events, 2),
        expect![[r#"
        2026-03-02T12:01:00Z warning failed_sync_streak `t1/g2`: 2 consecutive failed syncs since 2026-03-02T12:00:00Z
        2026-03-02T12:01:00Z warning failed_sync_streak `t2/g1`: 2 consecutive failed syncs since 2026-03-02T12:00:00Z
        2026-03-02T12:03:00Z warning failed_sync_streak `t1/g1`: 2 consecutive failed syncs since 2026-03-02T12:02:00Z
    "#]],
    );
    // Shuffled input gives the same answer as sorted input.
    let mut shuffled = syncs("t1", "g1", "xx.xxx");
    shuffled.reverse();
    shuffled.swap(1, 4);
    assert_eq!(failed_sync_alerts(&shuffled, 3), failed_sync_alerts(&syncs("t1", "g1", "xx.xxx"), 3));
}

// ---------------------------------------------------------------------------------------------------------
// Access anomalies
// ---------------------------------------------------------------------------------------------------------

fn access(actor: &str, tenant_id: &str, at: OffsetDateTime, records: u64) -> AccessEvent {
    AccessEvent { actor: actor.to_owned(), tenant: tenant(tenant_id), at, records }
}

/// `per_window` records in each of the 24 hours before `T0`'s window, at half past.
fn history(actor: &str, per_window: u64) -> Vec<AccessEvent> {
    (1..=24)
        .map(|h| access(actor, "t1", T0 - Duration::hours(h) - Duration::minutes(30), per_window))
        .collect()
}

#[test]
fn volume_spikes() {
    let cfg = AccessAnomalyConfig::default();
    let spikes = |events: &[AccessEvent]| volume_spike_alerts(events, T0, &cfg);
    // Steady use: no alert.
    let mut steady = history("alice", 300);
    steady.push(access("alice", "t1", T0 - Duration::minutes(10), 350));
    check(spikes(&steady), expect![[""]]);
    check(spikes(&[]), expect![[""]]);
    // Ten times the median is still fine; more is a spike.
    let mut events = history("alice", 300);
    events.push(access("alice", "t1", T0 - Duration::minutes(10), 3000));
    check(spikes(&events), expect![[""]]);
    events.push(access("alice", "t2", T0 - Duration::minutes(5), 1));
    check(
        spikes(&events),
        expect![[r#"
        2026-03-02T12:00:00Z warning volume_spike `alice`: 3001 records in the last 60 min, baseline median 300 per window over 24 windows
    "#]],
    );
    // Below the floor nothing alerts, even from a zero baseline.
    check(spikes(&[access("bob", "t1", T0 - Duration::minutes(1), 999)]), expect![[""]]);
    check(
        spikes(&[access("mallory", "t1", T0 - Duration::minutes(1), 1000)]),
        expect![[r#"
        2026-03-02T12:00:00Z warning volume_spike `mallory`: 1000 records in the last 60 min, baseline median 0 per window over 24 windows
    "#]],
    );
    // The median ignores a few busy hours in the baseline.
    let mut bursty = history("carol", 100);
    bursty.extend(
        (1..=3).map(|h| access("carol", "t1", T0 - Duration::hours(h) - Duration::minutes(5), 50_000)),
    );
    bursty.push(access("carol", "t1", T0 - Duration::minutes(1), 5000));
    check(
        spikes(&bursty),
        expect![[r#"
        2026-03-02T12:00:00Z warning volume_spike `carol`: 5000 records in the last 60 min, baseline median 100 per window over 24 windows
    "#]],
    );
    // Events after `now` and before the baseline are not counted.
    let outside = [
        access("dave", "t1", T0 + Duration::minutes(1), 1_000_000),
        access("dave", "t1", T0 - Duration::hours(26), 1_000_000),
    ];
    check(spikes(&outside), expect![[""]]);
    // A non-positive window disables the check instead of dividing by zero.
    let broken = AccessAnomalyConfig { window: Duration::ZERO, ..AccessAnomalyConfig::default() };
    assert!(volume_spike_alerts(&events, T0, &broken).is_empty());
}

#[test]
fn median_of_windows() {
    for (mut values, expect) in [
        (vec![], 0),
        (vec![5], 5),
        (vec![9, 1], 5),
        (vec![3, 1, 2], 2),
        (vec![0, 0, 7, 100], 3),
        (vec![u64::MAX, u64::MAX], u64::MAX),
    ] {
        assert_eq!(median(&mut values), expect, "{values:?}");
    }
}

#[test]
fn working_hours() {
    let cfg = |start, end| AccessAnomalyConfig {
        work_start_hour_utc: start,
        work_end_hour_utc: end,
        ..AccessAnomalyConfig::default()
    };
    let hours = |c: &AccessAnomalyConfig| (0..24).filter(|h| c.is_working_hour(*h)).collect::<Vec<u8>>();
    assert_eq!(hours(&cfg(6, 20)), (6..20).collect::<Vec<u8>>());
    assert_eq!(hours(&cfg(22, 6)), vec![0, 1, 2, 3, 4, 5, 22, 23]);
    assert_eq!(hours(&cfg(0, 0)).len(), 24);
}

#[test]
fn unusual_hours() {
    let cfg = AccessAnomalyConfig::default();
    let day = date!(2026 - 03 - 02);
    let at = |h, m| day.with_hms(h, m, 0).unwrap().assume_utc();
    let clean = [access("alice", "t1", at(6, 0), 10), access("alice", "t1", at(19, 59), 10)];
    check(unusual_hours_alerts(&clean, &cfg), expect![[""]]);
    let events = [
        access("alice", "t1", at(20, 0), 10),
        access("alice", "t2", at(3, 15), 5),
        access("alice", "t1", at(12, 0), 1000),
        access("bob", "t1", at(23, 30), 1),
        // 08:00 at +05:00 is 03:00 UTC.
        access("carol", "t1", datetime!(2026-03-02 08:00 +5), 7),
    ];
    check(
        unusual_hours_alerts(&events, &cfg),
        expect![[r#"
        2026-03-02T03:00:00Z warning unusual_hours `carol`: 1 accesses (7 records) on 2026-03-02 outside working hours 06:00-20:00 UTC, first at 2026-03-02T03:00:00Z
        2026-03-02T03:15:00Z warning unusual_hours `alice`: 2 accesses (15 records) on 2026-03-02 outside working hours 06:00-20:00 UTC, first at 2026-03-02T03:15:00Z
        2026-03-02T23:30:00Z warning unusual_hours `bob`: 1 accesses (1 records) on 2026-03-02 outside working hours 06:00-20:00 UTC, first at 2026-03-02T23:30:00Z
    "#]],
    );
}

#[test]
fn many_tenants() {
    let cfg = AccessAnomalyConfig { max_tenants_per_window: 3, ..AccessAnomalyConfig::default() };
    let recent = |actor: &str, t: &str| access(actor, t, T0 - Duration::minutes(20), 1);
    // Three tenants, one of them twice: at the limit, no alert.
    let clean = [recent("alice", "t1"), recent("alice", "t2"), recent("alice", "t3"), recent("alice", "t3")];
    check(many_tenants_alerts(&clean, T0, &cfg), expect![[""]]);
    // A fourth tenant outside the window does not count.
    let mut events = clean.to_vec();
    events.push(access("alice", "t4", T0 - Duration::minutes(61), 1));
    check(many_tenants_alerts(&events, T0, &cfg), expect![[""]]);
    events.push(recent("alice", "t5"));
    events.extend(["t1", "t2"].map(|t| recent("bob", t)));
    check(
        many_tenants_alerts(&events, T0, &cfg),
        expect![[r#"
        2026-03-02T12:00:00Z critical many_tenants `alice`: 4 tenants in the last 60 min (limit 3): t1, t2, t3, t5
    "#]],
    );
}

#[test]
fn all_access_detectors_together() {
    let cfg = AccessAnomalyConfig { max_tenants_per_window: 1, ..AccessAnomalyConfig::default() };
    let events = [
        access("eve", "t1", T0 - Duration::minutes(1), 5000),
        access("eve", "t2", T0 - Duration::hours(10), 1),
    ];
    check(
        access_anomaly_alerts(&events, T0, &cfg),
        expect![[r#"
        2026-03-02T02:00:00Z warning unusual_hours `eve`: 1 accesses (1 records) on 2026-03-02 outside working hours 06:00-20:00 UTC, first at 2026-03-02T02:00:00Z
        2026-03-02T12:00:00Z warning volume_spike `eve`: 5000 records in the last 60 min, baseline median 0 per window over 24 windows
    "#]],
    );
}

// ---------------------------------------------------------------------------------------------------------
// Data consistency
// ---------------------------------------------------------------------------------------------------------

/// A series from `(day of March 2026, value)` pairs.
fn series(key: &str, days: &[(u8, i64)]) -> Vec<DailyTotal> {
    days.iter()
        .map(|(d, value)| DailyTotal {
            key: key.to_owned(),
            date: Date::from_calendar_date(2026, time::Month::March, *d).unwrap(),
            value: *value,
        })
        .collect()
}

#[test]
fn series_gaps() {
    check(series_gap_alerts(&[]), expect![[""]]);
    check(series_gap_alerts(&series("spend", &[(1, 5)])), expect![[""]]);
    // Unordered and duplicated days without a hole.
    check(series_gap_alerts(&series("spend", &[(3, 5), (1, 5), (2, 5), (2, 6)])), expect![[""]]);
    let mut data = series("spend", &[(1, 5), (3, 5), (4, 5), (9, 5)]);
    data.extend(series("orders", &[(1, 1), (2, 1), (5, 1)]));
    check(
        series_gap_alerts(&data),
        expect![[r#"
        2026-03-02T00:00:00Z warning series_gap `spend`: no value on 2026-03-02
        2026-03-03T00:00:00Z warning series_gap `orders`: no value from 2026-03-03 to 2026-03-04 (2 days)
        2026-03-05T00:00:00Z warning series_gap `spend`: no value from 2026-03-05 to 2026-03-08 (4 days)
    "#]],
    );
    // Across a month end.
    let across = vec![
        DailyTotal { key: "k".into(), date: date!(2026 - 02 - 27), value: 1 },
        DailyTotal { key: "k".into(), date: date!(2026 - 03 - 02), value: 1 },
    ];
    check(
        series_gap_alerts(&across),
        expect![[r#"
        2026-02-28T00:00:00Z warning series_gap `k`: no value from 2026-02-28 to 2026-03-01 (2 days)
    "#]],
    );
}

#[test]
fn negative_values() {
    check(negative_value_alerts(&series("spend", &[(1, 0), (2, 10), (3, i64::MAX)])), expect![[""]]);
    check(
        negative_value_alerts(&series("spend", &[(2, -1), (1, 3), (4, i64::MIN)])),
        expect![[r#"
        2026-03-02T00:00:00Z warning negative_value `spend`: value -1 on 2026-03-02 is negative
        2026-03-04T00:00:00Z warning negative_value `spend`: value -9223372036854775808 on 2026-03-04 is negative
    "#]],
    );
}

#[test]
fn sums_that_do_not_add_up() {
    let account = series("act_1:spend", &[(1, 1_000_000), (2, 2_000_000), (3, 500)]);
    let mut campaigns = series("c1:spend", &[(1, 600_000), (2, 2_000_000), (3, 250)]);
    campaigns.extend(series("c2:spend", &[(1, 400_000), (3, 250)]));
    check(sum_mismatch(&account, &campaigns, 0), expect![[""]]);
    check(sum_mismatch(&[], &[], 0), expect![[""]]);
    // Rounding within the tolerance is fine; beyond it is not.
    let rounded = series("c1:spend", &[(1, 1_000_010), (2, 1_999_989), (3, 500)]);
    check(
        sum_mismatch(&account, &rounded, 10),
        expect![[r#"
        2026-03-02T00:00:00Z warning sum_mismatch `act_1:spend`: total 2000000 on 2026-03-02 but parts sum to 1999989 (difference 11, tolerance 10)
    "#]],
    );
    // Missing parts and a missing total are both mismatches.
    let mut partial = series("c1:spend", &[(1, 1_000_000), (3, 500), (4, 7)]);
    partial.extend(series("c2:spend", &[(4, 3)]));
    check(
        sum_mismatch(&account, &partial, 0),
        expect![[r#"
        2026-03-02T00:00:00Z warning sum_mismatch `act_1:spend`: total 2000000 on 2026-03-02 but parts sum to missing (difference 2000000, tolerance 0)
        2026-03-04T00:00:00Z warning sum_mismatch `act_1:spend`: total missing on 2026-03-04 but parts sum to 10 (difference -10, tolerance 0)
    "#]],
    );
    // Extreme values do not overflow.
    let big = series("act", &[(1, i64::MAX)]);
    let parts = series("c", &[(1, i64::MAX), (1, i64::MAX)]);
    check(sum_mismatch(&big, &parts, u64::MAX), expect![[""]]);
    check(
        sum_mismatch(&big, &parts, 0),
        expect![[r#"
        2026-03-01T00:00:00Z warning sum_mismatch `act`: total 9223372036854775807 on 2026-03-01 but parts sum to 18446744073709551614 (difference -9223372036854775807, tolerance 0)
    "#]],
    );
}

#[test]
fn alert_display_names_kind_and_subject() {
    let alert = Alert {
        kind: AlertKind::SeriesGap,
        subject: "k".into(),
        detail: "no value on 2026-03-02".into(),
        at: T0,
        severity: Severity::Info,
    };
    assert_eq!(alert.to_string(), "info series_gap `k`: no value on 2026-03-02");
    assert!(Severity::Critical > Severity::Warning && Severity::Warning > Severity::Info);
}
