//! Unit tests of the TikTok return codes: every code of ads-apis.md §2.7, mapped deliberately.

use expect_test::expect;

use super::*;

#[test]
fn every_documented_code() {
    let codes = [
        0, 20001, // OK, partial success
        40000, 40002, 40006, 40051, 40007, 40011, // invalid parameters, versions, objects
        40016, 40100, 40132, 40133, 61000, // too frequent
        40001, 40101, 40102, 40103, 40104, 40105, 40106, 40107, 40110, // authorization
        40113, 40117, 40118, 40125, 40130, // app, method, whitelist, developer, scope
        40200, 40201, 40202, // async task, not ready, write conflict
        40300, 40301, // advertiser missing, role
        40700, // RPC validation
        41000, // blocked
        50000, 50002, 51000, 51234, 52000, // server
        60001, // maintenance
        12345, 40003, 40999, 60002, -1, // undocumented
    ];
    let table: Vec<String> = codes.iter().map(|&code| format!("{code}: {:?}", failure(code))).collect();
    expect![[r#"
        0: None
        20001: None
        40000: Some(Invalid)
        40002: Some(Invalid)
        40006: Some(Invalid)
        40051: Some(Invalid)
        40007: Some(Invalid)
        40011: Some(Invalid)
        40016: Some(Throttled { wait: None })
        40100: Some(Throttled { wait: None })
        40132: Some(Throttled { wait: None })
        40133: Some(Throttled { wait: None })
        61000: Some(Throttled { wait: None })
        40001: Some(Auth)
        40101: Some(Auth)
        40102: Some(Auth)
        40103: Some(Auth)
        40104: Some(Auth)
        40105: Some(Auth)
        40106: Some(Auth)
        40107: Some(Auth)
        40110: Some(Auth)
        40113: Some(Auth)
        40117: Some(Auth)
        40118: Some(Auth)
        40125: Some(Auth)
        40130: Some(Auth)
        40200: Some(Server { status: 200 })
        40201: Some(Server { status: 200 })
        40202: Some(Server { status: 200 })
        40300: Some(Invalid)
        40301: Some(Auth)
        40700: Some(Server { status: 200 })
        41000: Some(Auth)
        50000: Some(Server { status: 200 })
        50002: Some(Server { status: 200 })
        51000: Some(Server { status: 200 })
        51234: Some(Server { status: 200 })
        52000: Some(Server { status: 200 })
        60001: Some(Server { status: 200 })
        12345: Some(Invalid)
        40003: Some(Invalid)
        40999: Some(Invalid)
        60002: Some(Invalid)
        -1: Some(Invalid)"#]]
    .assert_eq(&table.join("\n"));
}

#[test]
fn reference_fixtures_t5_t6() {
    // ads-apis.md §4.4: T5 (HTTP 200, code 40104) is an auth error; T6 (HTTP 200, code 40100) is retryable.
    assert_eq!(failure(40104), Some(Failure::Auth));
    let policy = crate::RetryPolicy::default();
    let t6 = failure(40100).unwrap();
    assert!(matches!(policy.classify(&t6, 1, false, 0.5), crate::RetryAction::Retry { .. }));
}
