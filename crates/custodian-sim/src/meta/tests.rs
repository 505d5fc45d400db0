//! Unit tests of the simulated Meta: dates, cursors, signed requests, proofs and the limits' buckets.

use super::dates;
use super::insights::{decode_cursor, encode_cursor};
use super::params::appsecret_proof;
use super::signed_request;

#[test]
fn days_round_trip_and_reject_impossible_dates() {
    assert_eq!(dates::parse_day("1970-01-01"), Some(0));
    assert_eq!(dates::parse_day("2025-03-01"), Some(20_148));
    assert_eq!(dates::day_string(20_148), "2025-03-01");
    assert_eq!(dates::parse_day("2025-02-29"), None);
    assert_eq!(dates::parse_day("2024-02-29").map(dates::day_string).as_deref(), Some("2024-02-29"));
    assert_eq!(dates::parse_day("2025-1-01"), None);
}

#[test]
fn datetimes_parse_graph_forms() {
    assert_eq!(dates::parse_datetime("2016-03-11T10:00:00-0800"), Some(1_457_719_200));
    assert_eq!(dates::parse_datetime("2016-03-11T18:00:00+00:00"), Some(1_457_719_200));
    assert_eq!(dates::parse_datetime("2016-03-11T18:00:00Z"), Some(1_457_719_200));
    assert_eq!(dates::parse_datetime("1457719200"), Some(1_457_719_200));
    assert_eq!(dates::datetime_string(1_457_719_200), "2016-03-11T18:00:00+0000");
    assert_eq!(dates::parse_datetime("2016-03-11 18:00"), None);
}

#[test]
fn cursors_look_like_graph_cursors() {
    // M1: rows 0 and 1 are `MAZDZD` and `MQZDZD`.
    assert_eq!(encode_cursor(0), "MAZDZD");
    assert_eq!(encode_cursor(1), "MQZDZD");
    assert_eq!(encode_cursor(24), "MjQZD");
    for n in [0, 1, 24, 999, 123_456, 1_000_000] {
        assert_eq!(decode_cursor(&encode_cursor(n)), Some(n));
    }
    assert_eq!(decode_cursor("not a cursor"), None);
}

#[test]
fn appsecret_proof_matches_the_reference_vector() {
    // ads-apis.md §4.1.
    assert_eq!(
        appsecret_proof("foo_app_secret", "foo_token"),
        "857d5f035a894f16b4180f19966e055cdeab92d4d53017b13dccd6d43b6497af"
    );
}

#[test]
fn signed_requests_match_the_reference_vector() {
    // ads-apis.md §4.2.
    assert_eq!(
        signed_request("key", r#"{"user_id":"0","algorithm":"HMAC-SHA256","issued_at":1624244156}"#, false),
        "Mf_s6nTb38UYqioBmPqu0Ewm9souPZB9I2fIGwV729U.eyJ1c2VyX2lkIjoiMCIsImFsZ29yaXRobSI6IkhNQUMtU0hBMjU2IiwiaXNzdWVkX2F0IjoxNjI0MjQ0MTU2fQ"
    );
    // 16 bytes of payload: one `=` of padding, kept in the signed segment.
    let padded = signed_request("key", r#"{"user_id":"01"}"#, true);
    let (signature, payload) = padded.split_once('.').unwrap();
    assert!(payload.ends_with('=') && signature.ends_with('='), "{padded}");
}

#[test]
fn published_limits_follow_the_reference_formulas() {
    use super::{AccessTier, MetaLimits};
    let dev = MetaLimits::tier(AccessTier::Development);
    let standard = MetaLimits::tier(AccessTier::Standard);
    assert_eq!(dev.insights_calls(10), 600.0 + 4000.0);
    assert_eq!(standard.insights_calls(10), 190_000.0 + 4000.0);
    assert_eq!(dev.management_calls(10), 300.0 + 400.0);
    assert_eq!(standard.management_calls(10), 100_000.0 + 400.0);
    assert_eq!((dev.score_max(), dev.score_decay_secs(), dev.score_block_secs()), (60.0, 300.0, 300.0));
    assert_eq!(
        (standard.score_max(), standard.score_decay_secs(), standard.score_block_secs()),
        (9000.0, 300.0, 60.0)
    );
    let fast = dev.scaled(100.0);
    assert_eq!((fast.hour_secs(), fast.score_decay_secs(), fast.score_block_secs()), (36.0, 3.0, 3.0));
}

#[test]
fn buckets_fill_refuse_and_block() {
    use super::limits::{Meter, Meters, Quota};
    let meters = Meters::default();
    let score = Meter { capacity: 6.0, window_secs: 3600.0, block_secs: Some(3600.0) };
    let first = meters.take(Quota::Score, 0, score, 3.0);
    assert!((first.percent - 50.0).abs() < 0.01 && first.blocked_secs.is_none(), "{first:?}");
    assert!(meters.take(Quota::Score, 0, score, 3.0).blocked_secs.is_none());
    let refused = meters.take(Quota::Score, 0, score, 1.0);
    assert!(refused.blocked_secs.is_some_and(|s| s > 3599.0), "{refused:?}");
    assert!(refused.percent >= 100.0);
    // Blocked: even a free call is refused until the block ends.
    assert!(meters.take(Quota::Score, 0, score, 0.0).blocked_secs.is_some());
    // Other accounts and quotas are independent.
    assert!(meters.take(Quota::Score, 1, score, 1.0).blocked_secs.is_none());
    assert!(meters.peek(Quota::Insights, 0, score).percent < 0.01);

    let buc = Meter { capacity: 2.0, window_secs: 3600.0, block_secs: None };
    meters.take(Quota::Insights, 0, buc, 2.0);
    let refused = meters.take(Quota::Insights, 0, buc, 1.0);
    // Throttled calls still count (Meta: "the call count will continue to increase").
    assert!(refused.blocked_secs.is_some_and(|s| s > 1800.0), "{refused:?}");
}

#[test]
fn digits_are_written_like_fmt() {
    use super::insights::{push_padded, push_u64};
    for n in [0u64, 7, 10, 99, 1234, u64::MAX] {
        let mut out = String::new();
        push_u64(&mut out, n);
        assert_eq!(out, n.to_string());
    }
    let mut out = String::new();
    push_padded(&mut out, 5, 2);
    push_padded(&mut out, 2025, 4);
    push_padded(&mut out, 12, 6);
    assert_eq!(out, "052025000012");
}
