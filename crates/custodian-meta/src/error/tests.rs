//! Every documented Graph error code (ads-apis.md §1.10) maps to the intended `PlatformError`.

use custodian_core::ports::PlatformError;
use custodian_http::Evidence;

use super::{Class, MetaError, classify};

#[track_caller]
fn check(status: u16, code: Option<i64>, subcode: Option<i64>, expect: Class) {
    assert_eq!(classify(status, code, subcode), expect, "http {status}, code {code:?}, subcode {subcode:?}");
}

#[test]
fn documented_codes_map_deliberately() {
    use Class::*;
    let cases: &[(u16, Option<i64>, Option<i64>, Class)] = &[
        // 190: token expired, revoked or invalid.
        (400, Some(190), None, Revoked),
        (400, Some(190), Some(458), Revoked),
        (400, Some(190), Some(459), Unauthorized),
        (400, Some(190), Some(460), Revoked),
        (400, Some(190), Some(463), Unauthorized),
        (400, Some(190), Some(464), Unauthorized),
        (400, Some(190), Some(467), Revoked),
        (400, Some(190), Some(492), Revoked),
        (400, Some(102), None, Unauthorized),
        (400, Some(104), None, Unauthorized),
        // Permissions.
        (400, Some(3), None, Forbidden),
        (403, Some(10), None, Forbidden),
        (400, Some(200), None, Forbidden),
        (400, Some(294), None, Forbidden),
        (400, Some(299), None, Forbidden),
        // Throttles.
        (400, Some(4), Some(1_504_022), RateLimited),
        (400, Some(4), Some(1_504_039), RateLimited),
        (400, Some(17), Some(2_446_079), RateLimited),
        (400, Some(32), None, RateLimited),
        (400, Some(613), Some(1_487_742), RateLimited),
        (400, Some(613), Some(1996), RateLimited),
        (400, Some(80_000), Some(2_446_079), RateLimited),
        (400, Some(80_001), None, RateLimited),
        (400, Some(80_004), None, RateLimited),
        (400, Some(80_014), None, RateLimited),
        // Parameters and objects.
        (400, Some(100), None, Invalid),
        (400, Some(100), Some(1_487_534), Invalid),
        (400, Some(100), Some(33), NotFound),
        (400, Some(2635), None, Invalid),
        (400, Some(3018), None, Invalid),
        // Transient.
        (500, Some(1), None, Unavailable),
        (500, Some(2), None, Unavailable),
        (400, Some(960), None, Unavailable),
        (503, Some(12345), None, Unavailable),
        // No code: by status.
        (401, None, None, Unauthorized),
        (403, None, None, Forbidden),
        (404, None, None, NotFound),
        (429, None, None, RateLimited),
        (502, None, None, Unavailable),
        (400, None, None, Invalid),
    ];
    for (status, code, subcode, expect) in cases {
        check(*status, *code, *subcode, *expect);
    }
}

fn api(status: u16, code: i64, subcode: Option<i64>) -> MetaError {
    MetaError::Api {
        evidence: Box::new(Evidence {
            status,
            code: Some(code.to_string()),
            subcode: subcode.map(|s| s.to_string()),
            message: Some("(#17) User request limit reached".to_owned()),
            request_id: Some("AbCdEf".to_owned()),
        }),
        code: Some(code),
        subcode,
        wait: Some(std::time::Duration::from_secs(90)),
    }
}

#[test]
fn platform_errors_keep_the_evidence_and_the_wait() {
    match PlatformError::from(api(400, 17, Some(2_446_079))) {
        PlatformError::RateLimited { retry_after } => {
            assert_eq!(retry_after, Some(time::Duration::seconds(90)))
        }
        other => panic!("{other:?}"),
    }
    match PlatformError::from(api(400, 190, Some(460))) {
        PlatformError::Revoked { detail } => {
            assert!(
                detail.contains("190") && detail.contains("460") && detail.contains("AbCdEf"),
                "{detail}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(PlatformError::from(api(500, 2, None)), PlatformError::Unavailable(_)));
    assert!(matches!(
        PlatformError::from(MetaError::TokenInvalid { code: Some(190), subcode: Some(463) }),
        PlatformError::Unauthorized { .. }
    ));
    assert!(matches!(
        PlatformError::from(MetaError::TokenInvalid { code: None, subcode: None }),
        PlatformError::Revoked { .. }
    ));
}

#[test]
fn the_data_per_call_limit_is_recognized() {
    assert!(api(400, 100, Some(1_487_534)).is_too_much_data());
    assert!(!api(400, 100, Some(33)).is_too_much_data());
    let reduce = MetaError::Api {
        evidence: Box::new(Evidence {
            status: 500,
            message: Some(
                "Please reduce the amount of data you're asking for, then retry your request".to_owned(),
            ),
            ..Evidence::default()
        }),
        code: Some(1),
        subcode: None,
        wait: None,
    };
    assert!(reduce.is_too_much_data());
}
