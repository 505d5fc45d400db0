//! Unit tests of the redaction (SEC-1).

use expect_test::{Expect, expect};

use super::*;

#[track_caller]
fn check(url: &str, expect: Expect) {
    let url = Url::parse(url).unwrap();
    expect.assert_eq(&redact_url(&url));
}

#[test]
fn sec1_redact_url_hides_sensitive_query_values() {
    check("https://graph.facebook.com/v25.0/me", expect!["https://graph.facebook.com/v25.0/me"]);
    check(
        "https://graph.facebook.com/v25.0/act_1/insights?fields=spend&access_token=EAAB123&appsecret_proof=abc",
        expect![
            "https://graph.facebook.com/v25.0/act_1/insights?fields=spend&access_token=[REDACTED]&appsecret_proof=[REDACTED]"
        ],
    );
    check(
        "https://graph.facebook.com/debug_token?input_token=T1&access_token=1%7Csecret",
        expect!["https://graph.facebook.com/debug_token?input_token=[REDACTED]&access_token=[REDACTED]"],
    );
    // Names are matched case-insensitively and after percent-decoding; other values are kept as sent.
    check(
        "https://h.example/x?Access_Token=a&acc%65ss_token=b&page=2&code=c&next_page_token=d&X-Amz-Signature=e",
        expect![
            "https://h.example/x?Access_Token=[REDACTED]&acc%65ss_token=[REDACTED]&page=2&code=[REDACTED]&next_page_token=[REDACTED]&X-Amz-Signature=[REDACTED]"
        ],
    );
    // TikTok Shop signing parameters, OAuth secrets.
    check(
        "https://open-api.tiktokglobalshop.com/order/202309/orders?app_key=k&sign=s&timestamp=1&client_secret=cs&refresh_token=r",
        expect![
            "https://open-api.tiktokglobalshop.com/order/202309/orders?app_key=k&sign=[REDACTED]&timestamp=1&client_secret=[REDACTED]&refresh_token=[REDACTED]"
        ],
    );
    // A parameter without a value, an empty query, a port, credentials and a fragment.
    check("https://h.example:8443/a?flag&x=1", expect!["https://h.example:8443/a?flag&x=1"]);
    check("https://h.example/a?", expect!["https://h.example/a?"]);
    check("https://user:pw@h.example/a", expect!["https://user:[REDACTED]@h.example/a"]);
    check("https://h.example/cb#access_token=x", expect!["https://h.example/cb#[REDACTED]"]);
}

#[test]
fn sensitive_names() {
    for name in SENSITIVE_HEADERS {
        assert!(is_sensitive_header(name), "{name}");
        assert!(is_sensitive_header(&name.to_ascii_uppercase()), "{name}");
    }
    for name in SENSITIVE_PARAMS {
        assert!(is_sensitive_param(name), "{name}");
    }
    for name in ["x-api-key", "X-TTS-Access-Token", "x-client-secret"] {
        assert!(is_sensitive_header(name), "{name}");
    }
    for name in ["content-type", "accept", "x-amzn-requestid", "x-app-usage", "user-agent"] {
        assert!(!is_sensitive_header(name), "{name}");
    }
    for name in ["fields", "page", "after", "limit", "advertiser_id", "app_key", "timestamp"] {
        assert!(!is_sensitive_param(name), "{name}");
    }
}
