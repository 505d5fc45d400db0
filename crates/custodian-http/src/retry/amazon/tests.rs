//! Unit tests of the Amazon rate header.

use reqwest::header::HeaderValue;

use super::*;

#[track_caller]
fn check(value: Option<&str>, expect: Option<f64>) {
    let mut headers = HeaderMap::new();
    if let Some(value) = value {
        headers.insert("x-amzn-RateLimit-Limit", HeaderValue::from_str(value).unwrap());
    }
    assert_eq!(rate_limit(&headers), expect, "{value:?}");
}

#[test]
fn rate_limit_header() {
    check(None, None);
    check(Some("0.0167"), Some(0.0167));
    check(Some(" 2.0 "), Some(2.0));
    check(Some("0.5"), Some(0.5));
    for bad in ["", "0", "-1", "NaN", "inf", "fast"] {
        check(Some(bad), None);
    }
}
