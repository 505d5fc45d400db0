//! Unit tests of the error mapping: every documented eBay code and OAuth error, data-driven.

use custodian_core::ports::PlatformError;
use custodian_http::Evidence;

use super::*;

fn evidence(status: u16, code: &str) -> Evidence {
    Evidence { status, code: Some(code.to_owned()), ..Evidence::default() }
}

#[track_caller]
fn check_api(status: u16, error_id: Option<i64>, expect: &str) {
    let got = api_error(verdict(status, error_id), evidence(status, &format!("{error_id:?}")), None);
    let name = match got {
        PlatformError::Unauthorized { .. } => "unauthorized",
        PlatformError::Forbidden { .. } => "forbidden",
        PlatformError::NotFound { .. } => "not_found",
        PlatformError::RateLimited { .. } => "rate_limited",
        PlatformError::Invalid { .. } => "invalid",
        PlatformError::Unavailable(_) => "unavailable",
        PlatformError::Revoked { .. } => "revoked",
        _ => "other",
    };
    assert_eq!(name, expect, "status {status}, errorId {error_id:?}");
}

#[test]
fn every_documented_error_id_maps_deliberately() {
    for (status, id, verdict) in KNOWN_ERRORS {
        let expect = match verdict {
            Verdict::Unauthorized => "unauthorized",
            Verdict::Forbidden => "forbidden",
            Verdict::NotFound => "not_found",
            Verdict::Throttled => "rate_limited",
            Verdict::Invalid => "invalid",
            Verdict::Server => "unavailable",
        };
        check_api(*status, Some(*id), expect);
    }
    // The documented meanings, spelled out.
    check_api(401, Some(1001), "unauthorized");
    check_api(403, Some(1100), "forbidden");
    check_api(429, Some(2001), "rate_limited");
    check_api(400, Some(30800), "invalid");
    check_api(404, Some(25710), "not_found");
    check_api(500, Some(25001), "unavailable");
    check_api(404, Some(195001), "not_found");
}

#[test]
fn unknown_error_ids_fall_back_to_the_status() {
    check_api(401, None, "unauthorized");
    check_api(403, Some(99), "forbidden");
    check_api(404, None, "not_found");
    check_api(429, None, "rate_limited");
    check_api(400, Some(12345), "invalid");
    check_api(409, None, "invalid");
    check_api(502, None, "unavailable");
    check_api(503, Some(1), "unavailable");
}

#[track_caller]
fn check_oauth(grant: Grant, error: &str, expect: &str) {
    let got = oauth_error(grant, error, evidence(400, error));
    let name = match got {
        PlatformError::Revoked { .. } => "revoked",
        PlatformError::Forbidden { .. } => "forbidden",
        PlatformError::Invalid { .. } => "invalid",
        PlatformError::Unavailable(_) => "unavailable",
        _ => "other",
    };
    assert_eq!(name, expect, "{grant:?} {error}");
}

#[test]
fn oauth_errors_depend_on_the_grant_auth_6() {
    check_oauth(Grant::RefreshToken, "invalid_grant", "revoked");
    check_oauth(Grant::AuthorizationCode, "invalid_grant", "invalid");
    check_oauth(Grant::RefreshToken, "invalid_scope", "forbidden");
    check_oauth(Grant::AuthorizationCode, "invalid_scope", "invalid");
    check_oauth(Grant::ClientCredentials, "invalid_scope", "invalid");
    check_oauth(Grant::RefreshToken, "invalid_client", "invalid");
    check_oauth(Grant::AuthorizationCode, "unauthorized_client", "invalid");
    check_oauth(Grant::RefreshToken, "invalid_request", "invalid");
    check_oauth(Grant::RefreshToken, "unsupported_grant_type", "invalid");
    check_oauth(Grant::ClientCredentials, "server_error", "unavailable");
    check_oauth(Grant::RefreshToken, "temporarily_unavailable", "unavailable");
}
