//! Unit tests of the errors and the evidence (style rule 22).

use expect_test::{Expect, expect};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::*;

fn response(status: u16, headers: &[(&'static str, &str)], body: &str) -> Response {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(HeaderName::from_static(name), HeaderValue::from_str(value).unwrap());
    }
    Response { status, headers: map, body: bytes::Bytes::from(body.to_owned()) }
}

#[track_caller]
fn check(status: u16, headers: &[(&'static str, &str)], body: &str, expect: Expect) {
    let evidence =
        Evidence::from_response(&response(status, headers, body), &["x-amzn-requestid", "x-fb-trace-id"]);
    expect.assert_eq(&format!("{evidence}\n{evidence:?}"));
}

#[test]
fn evidence_from_each_platform_error_shape() {
    // Meta.
    check(
        400,
        &[],
        r#"{"error":{"message":"Error validating access token: The user has not authorized application 1.","type":"OAuthException","code":190,"error_subcode":460,"fbtrace_id":"AbCdEf"}}"#,
        expect![[r#"
            http 400, code `190`, subcode `460`, request `AbCdEf`: Error validating access token: The user has not authorized application 1.
            Evidence { status: 400, code: Some("190"), subcode: Some("460"), message: Some("Error validating access token: The user has not authorized application 1."), request_id: Some("AbCdEf") }"#]],
    );
    // TikTok: HTTP 200 with a code.
    check(
        200,
        &[],
        r#"{"code":40105,"message":"Access token is incorrect or has been revoked.","request_id":"2023","data":{}}"#,
        expect![[r#"
            http 200, code `40105`, request `2023`: Access token is incorrect or has been revoked.
            Evidence { status: 200, code: Some("40105"), subcode: None, message: Some("Access token is incorrect or has been revoked."), request_id: Some("2023") }"#]],
    );
    // Amazon, with the request id header.
    check(
        429,
        &[("x-amzn-requestid", "req-1")],
        r#"{"errors":[{"code":"QuotaExceeded","message":"You exceeded your quota for the requested resource.","details":""}]}"#,
        expect![[r#"
            http 429, code `QuotaExceeded`, request `req-1`: You exceeded your quota for the requested resource.
            Evidence { status: 429, code: Some("QuotaExceeded"), subcode: None, message: Some("You exceeded your quota for the requested resource."), request_id: Some("req-1") }"#]],
    );
    // eBay.
    check(
        429,
        &[],
        r#"{"errors":[{"errorId":2001,"domain":"ACCESS","category":"REQUEST","message":"Too many requests.","longMessage":"The request limit has been reached for the resource."}]}"#,
        expect![[r#"
            http 429, code `2001`: Too many requests.
            Evidence { status: 429, code: Some("2001"), subcode: None, message: Some("Too many requests."), request_id: None }"#]],
    );
    // OAuth token endpoint.
    check(
        400,
        &[],
        r#"{"error":"invalid_grant","error_description":"The request has an invalid grant parameter : refresh_token"}"#,
        expect![[r#"
            http 400, code `invalid_grant`: The request has an invalid grant parameter : refresh_token
            Evidence { status: 400, code: Some("invalid_grant"), subcode: None, message: Some("The request has an invalid grant parameter : refresh_token"), request_id: None }"#]],
    );
    // Not JSON; an empty body; a header request id wins over the body's.
    check(
        502,
        &[],
        "<html>Bad Gateway</html>",
        expect![[r#"
            http 502
            Evidence { status: 502, code: None, subcode: None, message: None, request_id: None }"#]],
    );
    check(
        500,
        &[("x-fb-trace-id", "hdr")],
        r#"{"error":{"code":2,"message":"An unexpected   error\nhas occurred.","fbtrace_id":"body"}}"#,
        expect![[r#"
            http 500, code `2`, request `hdr`: An unexpected error has occurred.
            Evidence { status: 500, code: Some("2"), subcode: None, message: Some("An unexpected error has occurred."), request_id: Some("hdr") }"#]],
    );
}

#[test]
fn evidence_message_is_clipped() {
    let long = "x".repeat(1_000);
    let body = format!(r#"{{"code":50000,"message":"{long}"}}"#);
    let evidence = Evidence::from_response(&response(200, &[], &body), &[]);
    assert_eq!(evidence.message.unwrap().chars().count(), 300);
}

#[test]
fn http_error_messages() {
    let errors = [
        HttpError::Url { reason: "it has no host" },
        HttpError::PlainHttpNotAllowed { host: "example.com".to_owned() },
        HttpError::Timeout {
            method: "GET".to_owned(),
            url: "https://h/x?access_token=[REDACTED]".to_owned(),
        },
        HttpError::BodyTooLarge { limit: 10 },
        HttpError::InvalidHeader { name: "authorization" },
        HttpError::Encode { reason: "the json body cannot be serialized" },
    ];
    let text: Vec<String> = errors.iter().map(|e| format!("{e} (transient: {})", e.is_transient())).collect();
    expect![[r#"
        url is invalid: it has no host (transient: false)
        plain http to `example.com` refused: use https (plain http is allowed only to loopback, when configured) (transient: false)
        GET https://h/x?access_token=[REDACTED] timed out (transient: true)
        response body is larger than 10 bytes (transient: false)
        header `authorization` is invalid (transient: false)
        request body cannot be encoded: the json body cannot be serialized (transient: false)"#]]
    .assert_eq(&text.join("\n"));
}

#[test]
fn http_errors_are_platform_unavailable() {
    let error: PlatformError = HttpError::BodyTooLarge { limit: 1 }.into();
    assert!(matches!(error, PlatformError::Unavailable(_)), "{error:?}");
    let source = std::error::Error::source(&error).unwrap().to_string();
    assert_eq!(source, "response body is larger than 1 bytes");
}

#[test]
fn decode_error_names_the_path_not_the_value() {
    #[derive(Debug, serde::Deserialize)]
    struct Token {
        expires_in: u64,
    }
    assert_eq!(response(200, &[], r#"{"expires_in":5}"#).json::<Token>().unwrap().expires_in, 5);
    let body = r#"{"expires_in":"SECRET-VALUE-123"}"#;
    let error = response(200, &[], body).json::<Token>().unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(!text.contains("SECRET-VALUE-123"), "{text}");
    expect![[r#"response body does not decode at `expires_in`: data error at line 1 column 32"#]]
        .assert_eq(&error.to_string());
    let error = response(200, &[], r#"{"expires_in":1"#).json::<Token>().unwrap_err();
    assert_eq!(error.category, "eof");
    let error = response(200, &[], r#"{"expires_in":1} trailing"#).json::<Token>().unwrap_err();
    assert_eq!(error.category, "syntax");
}
