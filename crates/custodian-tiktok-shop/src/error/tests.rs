//! Every documented code maps to its deliberate kind, retry class and port error.

use custodian_core::ports::PlatformError;
use custodian_http::{Evidence, Failure};

use super::*;

#[track_caller]
fn check(code: i64, kind: Option<ErrorKind>, failure: Option<Failure>) {
    assert_eq!(kind_of(code), kind, "code {code}");
    assert_eq!(kind_of(code).map(|k| k.failure(200)), failure, "code {code}");
}

#[test]
fn every_documented_code_has_its_kind() {
    let server = Failure::Server { status: 200 };
    let table: &[(i64, Option<ErrorKind>, Option<Failure>)] = &[
        (0, None, None),
        (105_001, Some(ErrorKind::Unauthorized), Some(Failure::Auth)),
        (105_002, Some(ErrorKind::Unauthorized), Some(Failure::Auth)),
        (105_005, Some(ErrorKind::Forbidden), Some(Failure::Auth)),
        (106_001, Some(ErrorKind::Invalid), Some(Failure::Invalid)),
        (36_004_001, Some(ErrorKind::Revoked), Some(Failure::Auth)),
        (36_004_005, Some(ErrorKind::Revoked), Some(Failure::Auth)),
        (36_004_003, Some(ErrorKind::Invalid), Some(Failure::Invalid)),
        (36_004_004, Some(ErrorKind::Invalid), Some(Failure::Invalid)),
        (36_009_002, Some(ErrorKind::RateLimited), Some(Failure::Throttled { wait: None })),
        (36_009_003, Some(ErrorKind::Unavailable), Some(server)),
        (36_009_004, Some(ErrorKind::Invalid), Some(Failure::Invalid)),
        (36_009_009, Some(ErrorKind::Invalid), Some(Failure::Invalid)),
        (12_052_032, Some(ErrorKind::NotFound), Some(Failure::Invalid)),
        (12_052_055, Some(ErrorKind::Invalid), Some(Failure::Invalid)),
        (12_052_097, Some(ErrorKind::Invalid), Some(Failure::Invalid)),
        (1, Some(ErrorKind::Invalid), Some(Failure::Invalid)),
    ];
    for (code, kind, failure) in table {
        check(*code, *kind, failure.clone());
    }
}

fn api(code: i64, status: u16) -> TikTokShopError {
    let evidence = Evidence {
        status,
        code: Some(code.to_string()),
        subcode: None,
        message: Some("message".to_owned()),
        request_id: Some("202203070749000101890810281E8C70B7".to_owned()),
    };
    TikTokShopError::Api { kind: kind_of(code).unwrap(), evidence: Box::new(evidence) }
}

#[test]
fn kinds_become_the_matching_port_errors() {
    type Check = fn(&PlatformError) -> bool;
    let cases: Vec<(TikTokShopError, Check)> = vec![
        (api(105_001, 401), |e| matches!(e, PlatformError::Unauthorized { .. })),
        (api(105_002, 401), |e| matches!(e, PlatformError::Unauthorized { .. })),
        (api(36_004_005, 200), |e| matches!(e, PlatformError::Revoked { .. })),
        (api(36_004_001, 200), |e| matches!(e, PlatformError::Revoked { .. })),
        (api(105_005, 403), |e| matches!(e, PlatformError::Forbidden { .. })),
        (api(106_001, 401), |e| matches!(e, PlatformError::Invalid { .. })),
        (api(36_004_004, 200), |e| matches!(e, PlatformError::Invalid { .. })),
        (api(36_009_002, 429), |e| matches!(e, PlatformError::RateLimited { retry_after: None })),
        (api(36_009_003, 500), |e| matches!(e, PlatformError::Unavailable(_))),
        (api(12_052_032, 200), |e| matches!(e, PlatformError::NotFound { .. })),
        (TikTokShopError::Status { status: 502 }, |e| matches!(e, PlatformError::Unavailable(_))),
        (TikTokShopError::Status { status: 429 }, |e| matches!(e, PlatformError::RateLimited { .. })),
        (TikTokShopError::Status { status: 401 }, |e| matches!(e, PlatformError::Unauthorized { .. })),
        (TikTokShopError::Status { status: 404 }, |e| matches!(e, PlatformError::Invalid { .. })),
        (TikTokShopError::Data("x".to_owned()), |e| matches!(e, PlatformError::Unavailable(_))),
    ];
    for (error, expected) in cases {
        let text = error.to_string();
        let mapped = PlatformError::from(error);
        assert!(expected(&mapped), "{text} became {mapped:?}");
    }
}

#[test]
fn evidence_is_kept_in_the_message() {
    let error = api(105_002, 401);
    assert_eq!(
        error.to_string(),
        "tiktok shop refused the request: http 401, code `105002`, request `202203070749000101890810281E8C70B7`: message"
    );
    assert_eq!(error.kind(), Some(ErrorKind::Unauthorized));
}
