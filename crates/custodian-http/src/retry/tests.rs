//! Unit tests of the retry decisions (style rule 19) and the retry loop (with paused tokio time).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use expect_test::{Expect, expect};
use reqwest::header::HeaderValue;

use super::*;

fn policy() -> RetryPolicy {
    RetryPolicy::default()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[track_caller]
fn check(failure: Failure, attempt: u32, idempotent: bool, jitter: f64, expect: Expect) {
    let action = policy().classify(&failure, attempt, idempotent, jitter);
    expect.assert_eq(&format!("{action:?}"));
}

#[test]
fn classify() {
    // Auth and validation errors are never retried, whatever else holds.
    check(Failure::Auth, 1, true, 0.5, expect![[r#"DontRetry("authentication or permission refused")"#]]);
    check(Failure::Invalid, 1, true, 0.5, expect![[r#"DontRetry("the request is invalid")"#]]);
    check(Failure::Auth, 1, false, 0.0, expect![[r#"DontRetry("authentication or permission refused")"#]]);
    // Throttled with a hint waits the hint, plus up to 10% jitter.
    check(Failure::Throttled { wait: Some(secs(7)) }, 1, true, 0.0, expect!["Retry { after: 7s }"]);
    check(Failure::Throttled { wait: Some(secs(10)) }, 1, true, 0.5, expect!["Retry { after: 10.5s }"]);
    check(Failure::Throttled { wait: Some(secs(300)) }, 4, true, 0.0, expect!["Retry { after: 300s }"]);
    // A hint over max_wait_hint gives up (the caller reports rate limited).
    check(
        Failure::Throttled { wait: Some(secs(301)) },
        1,
        true,
        0.0,
        expect![[r#"DontRetry("the platform asks to wait longer than allowed")"#]],
    );
    // Throttled without a hint: backoff.
    check(Failure::Throttled { wait: None }, 1, true, 0.5, expect!["Retry { after: 250ms }"]);
    // Non-idempotent requests are retried only when throttled.
    check(Failure::Throttled { wait: Some(secs(2)) }, 1, false, 0.0, expect!["Retry { after: 2s }"]);
    check(Failure::Throttled { wait: None }, 2, false, 0.5, expect!["Retry { after: 500ms }"]);
    check(Failure::Transport, 1, false, 0.5, expect![[r#"DontRetry("the request is not idempotent")"#]]);
    check(
        Failure::Server { status: 503 },
        1,
        false,
        0.5,
        expect![[r#"DontRetry("the request is not idempotent")"#]],
    );
    // Idempotent transport and server failures: full-jitter backoff.
    check(Failure::Transport, 1, true, 0.5, expect!["Retry { after: 250ms }"]);
    check(Failure::Server { status: 502 }, 3, true, 0.5, expect!["Retry { after: 1s }"]);
    check(Failure::Server { status: 500 }, 2, true, 0.0, expect!["Retry { after: 0ns }"]);
    // Attempts are bounded: 5 attempts in all, whatever the failure.
    check(Failure::Transport, 4, true, 0.5, expect!["Retry { after: 2s }"]);
    check(Failure::Transport, 5, true, 0.5, expect![[r#"DontRetry("attempts exhausted")"#]]);
    check(
        Failure::Throttled { wait: Some(secs(1)) },
        5,
        false,
        0.5,
        expect![[r#"DontRetry("attempts exhausted")"#]],
    );
    check(Failure::Server { status: 500 }, 50, true, 0.5, expect![[r#"DontRetry("attempts exhausted")"#]]);
    // Jitter outside [0, 1) is clamped; NaN counts as 0.
    check(Failure::Transport, 1, true, -3.0, expect!["Retry { after: 0ns }"]);
    check(Failure::Transport, 1, true, 7.0, expect!["Retry { after: 500ms }"]);
    check(Failure::Transport, 1, true, f64::NAN, expect!["Retry { after: 0ns }"]);
}

#[test]
fn backoff_grows_then_is_capped() {
    let policy = RetryPolicy { max_attempts: 100, ..RetryPolicy::default() };
    let ceilings: Vec<String> = (1..=9)
        .chain([32, 33, 99])
        .map(|attempt| match policy.classify(&Failure::Transport, attempt, true, 1.0) {
            RetryAction::Retry { after } => format!("{after:?}"),
            RetryAction::DontRetry(reason) => reason.to_owned(),
        })
        .collect();
    expect![[r#"["500ms", "1s", "2s", "4s", "8s", "16s", "30s", "30s", "30s", "30s", "30s", "30s"]"#]]
        .assert_eq(&format!("{ceilings:?}"));
}

#[test]
fn jitter_stays_within_bounds() {
    let policy = policy();
    for attempt in 1..5 {
        let ceiling = policy.base_delay * (1 << (attempt - 1));
        for step in 0..100 {
            let jitter = f64::from(step) / 100.0;
            let RetryAction::Retry { after } = policy.classify(&Failure::Transport, attempt, true, jitter)
            else {
                panic!("attempt {attempt} not retried");
            };
            assert!(after <= ceiling, "{after:?} > {ceiling:?}");
            let hinted = policy.classify(&Failure::Throttled { wait: Some(secs(20)) }, attempt, true, jitter);
            let RetryAction::Retry { after } = hinted else { panic!("hint not honoured") };
            assert!(after >= secs(20) && after < secs(22), "{after:?}");
        }
    }
    for _ in 0..1_000 {
        let u = unit_interval(RandomState::new().hash_one(1u32));
        assert!((0.0..1.0).contains(&u), "{u}");
    }
    assert_eq!(unit_interval(0), 0.0);
    assert!(unit_interval(u64::MAX) < 1.0);
}

fn headers(retry_after: Option<&str>) -> HeaderMap {
    let mut map = HeaderMap::new();
    if let Some(value) = retry_after {
        map.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
    }
    map
}

/// 1994-11-06T08:49:37Z, the RFC's example date.
fn rfc_example() -> SystemTime {
    UNIX_EPOCH + secs(784_111_777)
}

#[track_caller]
fn check_retry_after(value: Option<&str>, expect: Expect) {
    let now = rfc_example() - secs(90);
    expect.assert_eq(&format!("{:?}", retry_after(&headers(value), now)));
}

#[test]
fn retry_after_reads_seconds_and_dates() {
    check_retry_after(None, expect!["None"]);
    check_retry_after(Some("120"), expect!["Some(120s)"]);
    check_retry_after(Some(" 0 "), expect!["Some(0ns)"]);
    check_retry_after(Some("99999999999999999999999"), expect!["Some(18446744073709551615s)"]);
    check_retry_after(Some("Sun, 06 Nov 1994 08:49:37 GMT"), expect!["Some(90s)"]);
    check_retry_after(Some("Sunday, 06-Nov-94 08:49:37 GMT"), expect!["Some(90s)"]);
    check_retry_after(Some("Sun Nov  6 08:49:37 1994"), expect!["Some(90s)"]);
    // A date in the past is no wait.
    check_retry_after(Some("Sat, 05 Nov 1994 08:49:37 GMT"), expect!["Some(0ns)"]);
    // Unreadable values are ignored.
    for bad in [
        "-5",
        "1.5",
        "soon",
        "",
        "Sun, 06 Nov 1994 08:49:37 CET",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:49 GMT",
    ] {
        check_retry_after(Some(bad), expect!["None"]);
    }
}

#[test]
fn http_dates() {
    let at = |text: &str| http_date(text).map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_secs());
    assert_eq!(at("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
    assert_eq!(at("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
    assert_eq!(at("Tue, 29 Feb 2000 12:00:00 GMT"), Some(951_825_600));
    assert_eq!(at("Wed, 21 Oct 2026 07:28:00 GMT"), Some(1_792_567_680));
    assert_eq!(at("Monday, 01-Mar-21 00:00:00 GMT"), Some(1_614_556_800));
    assert_eq!(at("Wed, 31 Dec 1969 23:59:59 GMT"), None);
}

#[track_caller]
fn check_status(status: u16, retry_after: Option<&str>, expect: Expect) {
    let failure = failure_from_status(status, &headers(retry_after), rfc_example());
    expect.assert_eq(&format!("{failure:?}"));
}

#[test]
fn failures_from_status() {
    check_status(200, None, expect!["None"]);
    check_status(204, Some("5"), expect!["None"]);
    check_status(429, Some("5"), expect!["Some(Throttled { wait: Some(5s) })"]);
    check_status(429, None, expect!["Some(Throttled { wait: None })"]);
    check_status(401, None, expect!["Some(Auth)"]);
    check_status(403, None, expect!["Some(Auth)"]);
    check_status(400, None, expect!["Some(Invalid)"]);
    check_status(404, None, expect!["Some(Invalid)"]);
    check_status(409, None, expect!["Some(Invalid)"]);
    check_status(422, None, expect!["Some(Invalid)"]);
    check_status(302, None, expect!["Some(Invalid)"]);
    check_status(408, None, expect!["Some(Server { status: 408 })"]);
    check_status(500, None, expect!["Some(Server { status: 500 })"]);
    check_status(503, Some("5"), expect!["Some(Server { status: 503 })"]);
}

/// Runs `with_retry` over failures `script` (then success), recording when each attempt started.
async fn run(script: Vec<Failure>, idempotent: bool) -> (Result<u32, String>, Vec<Duration>) {
    let start = tokio::time::Instant::now();
    let calls = Arc::new(std::sync::Mutex::new(Vec::new()));
    let count = Arc::new(AtomicU32::new(0));
    let result = with_retry(&policy(), idempotent, |attempt| {
        let calls = Arc::clone(&calls);
        let count = Arc::clone(&count);
        let script = script.clone();
        async move {
            calls.lock().unwrap().push(start.elapsed());
            assert_eq!(count.fetch_add(1, Ordering::SeqCst) + 1, attempt, "attempts are numbered from 1");
            match script.get(attempt as usize - 1) {
                Some(failure) => Err((format!("failed attempt {attempt}"), failure.clone())),
                None => Ok(attempt),
            }
        }
    })
    .await;
    let calls = calls.lock().unwrap().clone();
    (result, calls)
}

#[tokio::test(start_paused = true)]
async fn with_retry_sleeps_the_hinted_time() {
    let (result, calls) = run(
        vec![Failure::Throttled { wait: Some(secs(42)) }, Failure::Throttled { wait: Some(secs(7)) }],
        false,
    )
    .await;
    assert_eq!(result, Ok(3));
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0], Duration::ZERO);
    let first = calls[1] - calls[0];
    let second = calls[2] - calls[1];
    assert!(first >= secs(42) && first < Duration::from_millis(46_200), "{first:?}");
    assert!(second >= secs(7) && second < Duration::from_millis(7_700), "{second:?}");
}

#[tokio::test(start_paused = true)]
async fn with_retry_stops_after_max_attempts() {
    let (result, calls) = run(vec![Failure::Transport; 10], true).await;
    assert_eq!(result, Err("failed attempt 5".to_owned()));
    assert_eq!(calls.len(), 5);
    // Each wait is within its full-jitter ceiling: 0.5 s, 1 s, 2 s, 4 s.
    for (i, pair) in calls.windows(2).enumerate() {
        let ceiling = Duration::from_millis(500) * (1 << i);
        assert!(pair[1] - pair[0] <= ceiling, "wait {i}: {:?}", pair[1] - pair[0]);
    }
}

#[tokio::test(start_paused = true)]
async fn with_retry_never_retries_auth_or_invalid() {
    for failure in [Failure::Auth, Failure::Invalid] {
        let (result, calls) = run(vec![failure, Failure::Transport], true).await;
        assert_eq!(result, Err("failed attempt 1".to_owned()));
        assert_eq!(calls, vec![Duration::ZERO]);
    }
}

#[tokio::test(start_paused = true)]
async fn with_retry_gives_up_on_long_hints_and_non_idempotent_failures() {
    let (result, calls) = run(vec![Failure::Throttled { wait: Some(secs(3_600)) }], true).await;
    assert_eq!(result, Err("failed attempt 1".to_owned()));
    assert_eq!(calls.len(), 1);
    let (result, calls) = run(vec![Failure::Server { status: 500 }], false).await;
    assert_eq!(result, Err("failed attempt 1".to_owned()));
    assert_eq!(calls.len(), 1);
    let (result, _) = run(vec![Failure::Server { status: 500 }, Failure::Transport], true).await;
    assert_eq!(result, Ok(3));
}
