//! `appsecret_proof` against the reference vector, and the pacing curve.

use secrecy::SecretString;

use super::appsecret_proof;
use crate::config::Pacing;

#[test]
fn appsecret_proof_matches_the_reference_vector() {
    // ads-apis.md §4.1.
    let proof = appsecret_proof(&SecretString::from("foo_app_secret"), &SecretString::from("foo_token"));
    assert_eq!(proof, "857d5f035a894f16b4180f19966e055cdeab92d4d53017b13dccd6d43b6497af");
}

#[test]
fn pacing_slows_down_linearly_towards_full_usage() {
    let pacing = Pacing { max_per_second: 100.0, slow_down_from: 50, min_share: 0.01 };
    let cases = [(0, 100.0), (50, 100.0), (75, 50.0), (90, 20.0), (99, 2.0), (100, 1.0), (250, 1.0)];
    for (percent, expect) in cases {
        let rate = pacing.rate(percent);
        assert!((rate - expect).abs() < 1e-9, "{percent}% → {rate}, expected {expect}");
    }
    let weird = Pacing { max_per_second: 10.0, slow_down_from: 200, min_share: 0.0 };
    assert!(weird.rate(100) > 0.0, "never zero");
}

fn headers(pairs: &[(&'static str, &str)]) -> custodian_http::HeaderMap {
    let mut map = custodian_http::HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, value.parse().unwrap());
    }
    map
}

#[test]
fn the_reference_usage_headers_drive_the_pacing() {
    // ads-apis.md §1.11 samples and the §4.4 vectors: the fullest quota is the BUC's 97%.
    let samples = headers(&[
        ("x-app-usage", r#"{"call_count": 28, "total_time": 25, "total_cputime": 25}"#),
        (
            "x-ad-account-usage",
            r#"{"acc_id_util_pct": 9.67, "reset_time_duration": 100, "ads_api_access_tier": 'standard_access'}"#,
        ),
        (
            "x-business-use-case-usage",
            r#"{"10153848260347724": [{"type": "ads_insights", "call_count": 97, "total_cputime": 23, "total_time": 23, "estimated_time_to_regain_access": 0, "ads_api_access_tier": "development_access"}]}"#,
        ),
    ]);
    let usage = custodian_http::meta::usage(&samples).unwrap();
    assert_eq!((usage.max_percent, usage.regain_access), (97, None));
    let pacing = Pacing::default();
    assert!((pacing.rate(usage.max_percent) - 200.0 * 0.06).abs() < 1e-9);
    assert!(custodian_http::meta::usage(&headers(&[])).is_none(), "no headers: no pacing change");

    let blocked = headers(&[(
        "x-business-use-case-usage",
        r#"{"1": [{"type": "ads_insights", "call_count": 100, "estimated_time_to_regain_access": 3}]}"#,
    )]);
    let usage = custodian_http::meta::usage(&blocked).unwrap();
    assert_eq!(usage.regain_access, Some(std::time::Duration::from_secs(180)), "minutes × 60");
}
