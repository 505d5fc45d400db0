//! The deliberate mapping of every documented Amazon error onto the port's errors (style rule 14).

use custodian_http::Evidence;

use super::*;
use crate::wire::{ErrorList, LwaError};

#[track_caller]
fn check_api(status: u16, code: Option<&str>, details: Option<&str>, expect: ApiErrorKind) {
    assert_eq!(classify_api(status, code, details), expect, "{status} {code:?} {details:?}");
}

#[test]
fn sp_api_errors_are_classified_deliberately() {
    use ApiErrorKind as K;
    // commerce-apis.md §2.5 and the models' ErrorList answers.
    check_api(429, Some("QuotaExceeded"), Some(""), K::Throttled);
    check_api(429, None, None, K::Throttled);
    // §2.3: the token of a revoked authorization.
    check_api(
        403,
        Some("Unauthorized"),
        Some("The access token you provided is revoked, malformed or invalid."),
        K::TokenRejected,
    );
    check_api(
        403,
        Some("Unauthorized"),
        Some("The access token you provided has expired."),
        K::TokenRejected,
    );
    check_api(
        403,
        Some("Unauthorized"),
        Some("The security token included in the request is expired"),
        K::TokenRejected,
    );
    // A valid token of an app without the role (selling-partner-api-models#943).
    check_api(403, Some("Unauthorized"), Some(""), K::Forbidden);
    check_api(403, Some("Unauthorized"), None, K::Forbidden);
    check_api(403, Some("MissingAuthenticationToken"), None, K::Unauthenticated);
    check_api(401, Some("Unauthorized"), None, K::Unauthenticated);
    check_api(400, Some("InvalidInput"), Some(""), K::Invalid);
    check_api(400, Some("InvalidRequest"), Some("Resource not provided."), K::Invalid);
    check_api(400, Some("BAD_REQUEST"), Some("Invalid input"), K::Invalid);
    check_api(404, Some("NotFound"), None, K::NotFound);
    check_api(413, Some("RequestTooLarge"), None, K::Invalid);
    check_api(415, Some("UnsupportedMediaType"), None, K::Invalid);
    check_api(500, Some("InternalFailure"), None, K::Server);
    check_api(503, Some("ServiceUnavailable"), None, K::Server);
    check_api(502, None, None, K::Server);
}

#[track_caller]
fn check_lwa(status: u16, error: Option<&str>, expect: LwaErrorKind) {
    assert_eq!(classify_lwa(status, error), expect, "{status} {error:?}");
}

#[test]
fn lwa_errors_are_classified_deliberately() {
    use LwaErrorKind as K;
    check_lwa(400, Some("invalid_grant"), K::InvalidGrant);
    check_lwa(401, Some("invalid_client"), K::InvalidClient);
    check_lwa(400, Some("unauthorized_client"), K::InvalidClient);
    check_lwa(400, Some("invalid_request"), K::InvalidRequest);
    check_lwa(400, Some("unsupported_grant_type"), K::InvalidRequest);
    check_lwa(400, Some("invalid_scope"), K::InvalidRequest);
    check_lwa(500, Some("server_error"), K::Server);
    check_lwa(503, Some("temporarily_unavailable"), K::Throttled);
    check_lwa(429, None, K::Throttled);
    check_lwa(502, None, K::Server);
    check_lwa(401, None, K::InvalidClient);
}

fn api(kind: ApiErrorKind) -> AmazonError {
    AmazonError::Api {
        operation: "ordersV0.getOrders",
        kind,
        evidence: Box::new(Evidence { status: 400, ..Evidence::default() }),
    }
}

#[test]
fn every_kind_maps_to_the_port_error_it_means() {
    use ApiErrorKind as K;
    assert!(matches!(api(K::Throttled).into(), PlatformError::RateLimited { .. }));
    assert!(matches!(api(K::TokenRejected).into(), PlatformError::Unauthorized { .. }));
    assert!(matches!(api(K::Unauthenticated).into(), PlatformError::Unauthorized { .. }));
    assert!(matches!(api(K::Forbidden).into(), PlatformError::Forbidden { .. }));
    assert!(matches!(api(K::NotFound).into(), PlatformError::NotFound { .. }));
    assert!(matches!(api(K::Invalid).into(), PlatformError::Invalid { .. }));
    assert!(matches!(api(K::Server).into(), PlatformError::Unavailable(_)));
    let lwa = |kind| AmazonError::Lwa { kind, evidence: Box::default() };
    assert!(matches!(lwa(LwaErrorKind::InvalidGrant).into(), PlatformError::Revoked { .. }), "AUTH-6");
    assert!(matches!(lwa(LwaErrorKind::InvalidClient).into(), PlatformError::Invalid { .. }));
    assert!(matches!(lwa(LwaErrorKind::InvalidRequest).into(), PlatformError::Invalid { .. }));
    assert!(matches!(lwa(LwaErrorKind::Throttled).into(), PlatformError::RateLimited { .. }));
    assert!(matches!(lwa(LwaErrorKind::Server).into(), PlatformError::Unavailable(_)));
    let throttled = AmazonError::Throttled {
        operation: "x",
        wait: Some(std::time::Duration::from_secs(60)),
        evidence: Box::default(),
    };
    assert!(matches!(
        throttled.into(),
        PlatformError::RateLimited { retry_after: Some(d) } if d == time::Duration::seconds(60)
    ));
    assert!(matches!(AmazonError::Data("x".into()).into(), PlatformError::Unavailable(_)));
    assert!(matches!(AmazonError::Request("x".into()).into(), PlatformError::Invalid { .. }));
}

#[test]
fn the_reference_error_bodies_classify_as_documented() {
    let body: ErrorList =
        serde_json::from_str(include_str!("../../tests/fixtures/reference/sp-api.429.json")).unwrap();
    let first = body.errors.first().unwrap();
    assert_eq!(classify_api(429, Some(&first.code), first.details.as_deref()), ApiErrorKind::Throttled);
    let body: ErrorList =
        serde_json::from_str(include_str!("../../tests/fixtures/reference/sp-api.403.revoked.json")).unwrap();
    let first = body.errors.first().unwrap();
    assert_eq!(classify_api(403, Some(&first.code), first.details.as_deref()), ApiErrorKind::TokenRejected);
    let body: ErrorList =
        serde_json::from_str(include_str!("../../tests/fixtures/reference/ordersV0.getOrders.400.json"))
            .unwrap();
    let first = body.errors.first().unwrap();
    assert_eq!(classify_api(400, Some(&first.code), first.details.as_deref()), ApiErrorKind::Invalid);
    let body: LwaError =
        serde_json::from_str(include_str!("../../tests/fixtures/reference/lwa.400.invalid_grant.json"))
            .unwrap();
    assert_eq!(classify_lwa(400, Some(&body.error)), LwaErrorKind::InvalidGrant);
}

#[test]
fn error_messages_are_lowercase_evidence_without_bodies() {
    let evidence = Evidence {
        status: 403,
        code: Some("Unauthorized".into()),
        subcode: None,
        message: Some("Access to requested resource is denied.".into()),
        request_id: Some("rid-1".into()),
    };
    let error = AmazonError::Api {
        operation: "sellers.getMarketplaceParticipations",
        kind: ApiErrorKind::Forbidden,
        evidence: Box::new(evidence),
    };
    assert_eq!(
        error.to_string(),
        "sellers.getMarketplaceParticipations failed: http 403, code `Unauthorized`, request `rid-1`: Access to requested resource is denied."
    );
}
