//! The retry decisions, without a network.

use std::time::Duration;

use super::{RetryAction, backoff, classify, parse_retry_after, with_jitter};

const BASE: Duration = Duration::from_millis(100);

#[track_caller]
fn check(status: Option<u16>, retry_after: Option<u64>, attempt: u32, idempotent: bool, expect: RetryAction) {
    let got = classify(status, retry_after.map(Duration::from_secs), attempt, 3, idempotent, BASE);
    assert_eq!(got, expect, "status {status:?}, retry-after {retry_after:?}, attempt {attempt}");
}

#[test]
fn classify_retries_only_transient_failures_of_idempotent_requests() {
    let retry = |ms| RetryAction::Retry { after: Duration::from_millis(ms) };
    check(Some(200), None, 1, true, RetryAction::Done);
    check(Some(204), None, 1, false, RetryAction::Done);
    check(Some(404), None, 1, true, RetryAction::Done);
    check(Some(400), None, 1, true, RetryAction::Done);
    check(Some(403), None, 1, true, RetryAction::Done);
    check(Some(500), None, 1, true, retry(100));
    check(Some(502), None, 2, true, retry(200));
    check(Some(503), None, 1, true, retry(100));
    check(Some(504), None, 1, true, retry(100));
    check(None, None, 1, true, retry(100));
    check(Some(429), Some(1), 1, true, retry(1000));
    check(Some(429), Some(60), 1, true, RetryAction::GiveUp("retry-after is too long"));
    check(Some(500), None, 3, true, RetryAction::GiveUp("attempts exhausted"));
    check(Some(500), None, 1, false, RetryAction::GiveUp("the request is not idempotent"));
    check(None, None, 1, false, RetryAction::GiveUp("the request is not idempotent"));
    check(Some(429), Some(1), 1, false, RetryAction::GiveUp("the request is not idempotent"));
}

#[test]
fn backoff_doubles_and_is_capped() {
    let ms: Vec<u128> = (1..=7).map(|a| backoff(a, BASE).as_millis()).collect();
    assert_eq!(ms, [100, 200, 400, 800, 1600, 2000, 2000]);
    assert_eq!(backoff(u32::MAX, BASE), Duration::from_secs(2));
}

#[test]
fn jitter_keeps_at_least_half_the_delay() {
    let d = Duration::from_millis(200);
    assert_eq!(with_jitter(d, 0.0), Duration::from_millis(100));
    assert_eq!(with_jitter(d, 0.5), Duration::from_millis(150));
    assert_eq!(with_jitter(d, 7.0), Duration::from_millis(200));
}

#[test]
fn retry_after_is_read_in_seconds() {
    assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
    assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
}
