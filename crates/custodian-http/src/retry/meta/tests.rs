//! Unit tests of the Meta usage headers and error codes (ads-apis.md §1.10, §1.11, §4.4).

use expect_test::{Expect, expect};
use reqwest::header::{HeaderName, HeaderValue};

use super::*;

/// The samples of ads-apis.md §1.11.
const APP: &str = r#"{"call_count": 28, "total_time": 25, "total_cputime": 25}"#;
const ACCOUNT: &str =
    r#"{"acc_id_util_pct": 9.67, "reset_time_duration": 100, "ads_api_access_tier": "standard_access"}"#;
/// The documentation's own sample, single-quoted (not JSON).
const ACCOUNT_SINGLE_QUOTED: &str =
    r#"{"acc_id_util_pct": 9.67, "reset_time_duration": 100, "ads_api_access_tier": 'standard_access'}"#;
const BUC: &str = r#"{"10153848260347724": [{"type": "ads_insights", "call_count": 97, "total_cputime": 23,
    "total_time": 23, "estimated_time_to_regain_access": 0, "ads_api_access_tier": "development_access"}]}"#;
const THROTTLE: &str =
    r#"{ "app_id_util_pct": 100, "acc_id_util_pct": 10, "ads_api_access_tier": "standard_access" }"#;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let value = value.replace('\n', " ");
        map.insert(HeaderName::from_static(name), HeaderValue::from_str(&value).unwrap());
    }
    map
}

#[track_caller]
fn check_usage(pairs: &[(&'static str, &str)], expect: Expect) {
    expect.assert_eq(&format!("{:?}", usage(&headers(pairs))));
}

#[test]
fn usage_headers() {
    check_usage(&[], expect!["None"]);
    check_usage(&[("x-app-usage", "")], expect!["None"]);
    check_usage(&[("x-app-usage", "not json")], expect!["None"]);
    check_usage(&[("x-app-usage", APP)], expect!["Some(Usage { max_percent: 28, regain_access: None })"]);
    check_usage(
        &[("x-ad-account-usage", ACCOUNT)],
        expect!["Some(Usage { max_percent: 10, regain_access: None })"],
    );
    check_usage(
        &[("x-ad-account-usage", ACCOUNT_SINGLE_QUOTED)],
        expect!["Some(Usage { max_percent: 10, regain_access: None })"],
    );
    check_usage(
        &[("x-business-use-case-usage", BUC)],
        expect!["Some(Usage { max_percent: 97, regain_access: None })"],
    );
    // All of §1.11 together: the highest is the BUC's 97 (X-FB-Ads-Insights-Throttle is not read).
    check_usage(
        &[
            ("x-app-usage", APP),
            ("x-ad-account-usage", ACCOUNT),
            ("x-business-use-case-usage", BUC),
            ("x-fb-ads-insights-throttle", THROTTLE),
        ],
        expect!["Some(Usage { max_percent: 97, regain_access: None })"],
    );
    // Blocked: the time to regain access is in minutes; the largest of all use cases wins.
    check_usage(
        &[(
            "x-business-use-case-usage",
            r#"{"1": [{"type": "ads_insights", "call_count": 100, "total_cputime": 12, "total_time": 40,
                "estimated_time_to_regain_access": 5}],
               "2": [{"type": "ads_management", "call_count": 3, "total_cputime": 101.5, "total_time": 1,
                "estimated_time_to_regain_access": 12},
                     {"type": "pages", "call_count": 1, "estimated_time_to_regain_access": 0}]}"#,
        )],
        expect!["Some(Usage { max_percent: 102, regain_access: Some(720s) })"],
    );
    // An exhausted ad account: its reset time is in seconds.
    check_usage(
        &[("x-ad-account-usage", r#"{"acc_id_util_pct": 100, "reset_time_duration": 270}"#)],
        expect!["Some(Usage { max_percent: 100, regain_access: Some(270s) })"],
    );
    // Both: the longer wait.
    check_usage(
        &[
            ("x-ad-account-usage", r#"{"acc_id_util_pct": 100.0, "reset_time_duration": 270}"#),
            (
                "x-business-use-case-usage",
                r#"{"1": [{"call_count": 100, "estimated_time_to_regain_access": 2}]}"#,
            ),
        ],
        expect!["Some(Usage { max_percent: 100, regain_access: Some(270s) })"],
    );
    // Odd values: strings, negatives, nulls, unknown shapes are ignored, not fatal.
    check_usage(
        &[
            ("x-app-usage", r#"{"call_count": "45", "total_time": -3, "total_cputime": null}"#),
            ("x-business-use-case-usage", r#"{"1": {"call_count": 99}}"#),
        ],
        expect!["Some(Usage { max_percent: 45, regain_access: None })"],
    );
}

#[track_caller]
fn check(
    status: u16,
    code: Option<i64>,
    subcode: Option<i64>,
    pairs: &[(&'static str, &str)],
    expect: Expect,
) {
    expect.assert_eq(&format!("{:?}", failure(status, code, subcode, &headers(pairs))));
}

#[test]
fn error_codes() {
    let blocked: &[(&'static str, &str)] = &[(
        "x-business-use-case-usage",
        r#"{"1": [{"call_count": 100, "estimated_time_to_regain_access": 3}]}"#,
    )];
    let account: &[(&'static str, &str)] = &[("x-ad-account-usage", ACCOUNT)];
    // Throttles: the wait comes from the usage headers.
    for code in
        [4, 17, 32, 613, 80_000, 80_001, 80_002, 80_003, 80_004, 80_005, 80_006, 80_008, 80_009, 80_014]
    {
        assert_eq!(
            failure(400, Some(code), None, &HeaderMap::new()),
            Failure::Throttled { wait: None },
            "{code}"
        );
        assert_eq!(
            failure(400, Some(code), None, &headers(blocked)),
            Failure::Throttled { wait: Some(Duration::from_secs(180)) },
            "{code}"
        );
    }
    check(400, Some(4), Some(1_504_022), &[], expect!["Throttled { wait: None }"]);
    check(400, Some(17), Some(2_446_079), account, expect!["Throttled { wait: Some(100s) }"]);
    check(400, Some(80_000), Some(2_446_079), blocked, expect!["Throttled { wait: Some(180s) }"]);
    check(429, None, None, blocked, expect!["Throttled { wait: Some(180s) }"]);
    // Authorization and permission: never retried.
    for (code, subcode) in [
        (190, None),
        (190, Some(460)),
        (190, Some(463)),
        (102, None),
        (10, None),
        (3, None),
        (200, None),
        (294, None),
        (299, None),
    ] {
        assert_eq!(failure(400, Some(code), subcode, &HeaderMap::new()), Failure::Auth, "{code}");
    }
    check(401, None, None, &[], expect!["Auth"]);
    check(403, None, None, &[], expect!["Auth"]);
    // Transient.
    check(500, Some(1), None, &[], expect!["Server { status: 500 }"]);
    check(400, Some(2), None, &[], expect!["Server { status: 400 }"]);
    check(400, Some(960), None, &[], expect!["Server { status: 400 }"]);
    check(503, Some(12_345), None, &[], expect!["Server { status: 503 }"]);
    check(500, None, None, &[], expect!["Server { status: 500 }"]);
    check(502, None, None, &[], expect!["Server { status: 502 }"]);
    // Invalid: 100 (with any subcode) and anything else.
    check(400, Some(100), None, &[], expect!["Invalid"]);
    check(400, Some(100), Some(1_487_534), &[], expect!["Invalid"]);
    check(400, Some(100), Some(33), &[], expect!["Invalid"]);
    check(400, Some(300), None, &[], expect!["Invalid"]);
    check(400, Some(80_015), None, &[], expect!["Invalid"]);
    check(404, None, None, &[], expect!["Invalid"]);
}
