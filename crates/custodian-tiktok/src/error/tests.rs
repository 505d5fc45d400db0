//! Every documented return code is decided deliberately (a data-driven check over the official table), and
//! the decisions agree with the shared retry classes.

use custodian_core::ports::PlatformError;
use custodian_http::{Evidence, Failure};

use super::{CodeClass, RETURN_CODES, TikTokError, class_of, failure_of};

/// The official table, as copied into `tests/fixtures/return-codes.md`.
fn documented() -> Vec<(i64, String)> {
    include_str!("../../tests/fixtures/return-codes.md")
        .lines()
        .filter_map(|line| {
            let mut cells = line.split('|').map(str::trim).filter(|c| !c.is_empty());
            let code = cells.next()?.parse().ok()?;
            Some((code, cells.next()?.to_owned()))
        })
        .collect()
}

fn kind(error: &PlatformError) -> &'static str {
    match error {
        PlatformError::Revoked { .. } => "revoked",
        PlatformError::Unauthorized { .. } => "unauthorized",
        PlatformError::Forbidden { .. } => "forbidden",
        PlatformError::NotFound { .. } => "not_found",
        PlatformError::RateLimited { .. } => "rate_limited",
        PlatformError::Invalid { .. } => "invalid",
        PlatformError::Unsupported(_) => "unsupported",
        PlatformError::Unavailable(_) => "unavailable",
        _ => "other",
    }
}

fn api(code: i64) -> TikTokError {
    let evidence = Evidence {
        status: 200,
        code: Some(code.to_string()),
        message: Some("platform says no".to_owned()),
        request_id: Some("2024010100000000000000000000ABCD".to_owned()),
        ..Evidence::default()
    };
    TikTokError::Api { code, evidence: Box::new(evidence) }
}

#[track_caller]
fn check(code: i64, expected: &str) {
    assert_eq!(kind(&PlatformError::from(api(code))), expected, "code {code}");
}

#[test]
fn every_documented_code_is_in_the_table_under_its_sdk_name() {
    let documented = documented();
    assert!(documented.len() > 150, "the fixture holds the whole table: {}", documented.len());
    for (code, name) in &documented {
        let entry = RETURN_CODES.iter().find(|(c, _, _)| c == code);
        assert_eq!(entry.map(|(_, n, _)| *n), Some(name.as_str()), "code {code} must be decided");
    }
    let extra: Vec<i64> =
        RETURN_CODES.iter().map(|(c, _, _)| *c).filter(|c| !documented.iter().any(|(d, _)| d == c)).collect();
    assert_eq!(extra, [40133], "only the reference's advertiser QPS code is added");
    let mut codes: Vec<i64> = RETURN_CODES.iter().map(|(c, _, _)| *c).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), RETURN_CODES.len(), "no code twice");
}

/// AUTH-5/AUTH-6: the authorization family starts the revocation or the review flow, never a retry.
#[test]
fn authorization_codes_map_to_revocation_review_or_refusal() {
    for (code, expected) in [
        (40105, "revoked"),
        (40102, "revoked"),
        (40103, "revoked"),
        (40107, "revoked"),
        (40114, "revoked"),
        (40106, "forbidden"),
        (40001, "forbidden"),
        (40130, "forbidden"),
        (40301, "forbidden"),
        (41000, "forbidden"),
        (40104, "unauthorized"),
        (40101, "unauthorized"),
        (40110, "invalid"),
        (40002, "invalid"),
        (40000, "invalid"),
        (40007, "not_found"),
        (40300, "not_found"),
        (40100, "rate_limited"),
        (40016, "rate_limited"),
        (40132, "rate_limited"),
        (40133, "rate_limited"),
        (61000, "rate_limited"),
        (50000, "unavailable"),
        (50002, "unavailable"),
        (51010, "unavailable"),
        (40201, "unavailable"),
        (60001, "unavailable"),
        (40199, "unauthorized"),
        (59999, "unavailable"),
        (12345, "invalid"),
    ] {
        check(code, expected);
    }
}

#[test]
fn every_code_maps_to_the_port_error_of_its_class() {
    for (code, _, class) in RETURN_CODES {
        let expected = match class {
            CodeClass::Revoked => "revoked",
            CodeClass::Unauthorized => "unauthorized",
            CodeClass::Forbidden => "forbidden",
            CodeClass::NotFound => "not_found",
            CodeClass::RateLimited => "rate_limited",
            CodeClass::Invalid => "invalid",
            CodeClass::Transient | CodeClass::Success | CodeClass::PartialSuccess => "unavailable",
        };
        check(*code, expected);
    }
}

/// Throttles are retried (and paced), transient codes retried when idempotent, everything else never.
#[test]
fn retry_classes_agree_with_the_code_classes() {
    for (code, name, class) in RETURN_CODES {
        let failure = failure_of(*code);
        let agrees = match class {
            CodeClass::Success | CodeClass::PartialSuccess => failure.is_none(),
            CodeClass::RateLimited => failure == Some(Failure::Throttled { wait: None }),
            CodeClass::Transient => failure == Some(Failure::Server { status: 200 }),
            CodeClass::Revoked
            | CodeClass::Unauthorized
            | CodeClass::Forbidden
            | CodeClass::NotFound
            | CodeClass::Invalid => matches!(failure, Some(Failure::Auth | Failure::Invalid)),
        };
        assert!(agrees, "{code} {name}: {class:?} vs {failure:?}");
        assert_eq!(class_of(*code), *class);
    }
}

#[test]
fn error_statuses_without_an_answer_from_the_api() {
    let status =
        |status: u16| TikTokError::Status { evidence: Box::new(Evidence { status, ..Evidence::default() }) };
    assert_eq!(kind(&status(429).into()), "rate_limited");
    assert_eq!(kind(&status(503).into()), "unavailable");
    assert_eq!(kind(&status(404).into()), "invalid");
}

#[test]
fn messages_carry_the_evidence() {
    let message = PlatformError::from(api(40105)).to_string();
    assert_eq!(
        message,
        "authorization revoked by the platform: http 200, code `40105`, request `2024010100000000000000000000ABCD`: \
         platform says no"
    );
    assert_eq!(api(40001).code(), Some(40001));
}
