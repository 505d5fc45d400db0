//! Unit tests of the request builder and the response (SEC-1: `Debug` never shows a secret).

use expect_test::expect;

use super::*;

fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

const SECRET: &str = "EAABsbCS1iHgBAZDZD-very-secret";

#[test]
fn builder_sets_query_headers_and_body() {
    let request = Request::get(url("https://h.example/v1/x?fields=a"))
        .query(&[("after", "c/d e&f"), ("limit", "50")])
        .query(&[])
        .header("accept", "application/json");
    assert_eq!(request.url().as_str(), "https://h.example/v1/x?fields=a&after=c%2Fd+e%26f&limit=50");
    assert_eq!(request.headers["accept"], "application/json");
    assert!(request.check().is_ok());
    // No query: `query(&[])` adds no `?`.
    assert_eq!(Request::get(url("https://h.example/x")).query(&[]).url().as_str(), "https://h.example/x");

    let request =
        Request::post(url("https://h.example/t")).form(&[("grant_type", "refresh_token"), ("x", "a b")]);
    assert_eq!(request.headers["content-type"], "application/x-www-form-urlencoded");
    assert_eq!(request.body.as_deref(), Some(&b"grant_type=refresh_token&x=a+b"[..]));

    let request = Request::patch(url("https://h.example/t")).json(&serde_json::json!({"quantity": 3}));
    assert_eq!(request.headers["content-type"], "application/json");
    assert_eq!(request.body.as_deref(), Some(&br#"{"quantity":3}"#[..]));

    let request = Request::put(url("https://h.example/t")).body(vec![1, 2], "application/octet-stream");
    assert_eq!(request.headers["content-type"], "application/octet-stream");
    assert_eq!(request.body, Some(vec![1, 2]));
}

#[test]
fn idempotent_by_method_unless_overridden() {
    let u = url("https://h.example/");
    let defaults = [
        Request::get(u.clone()),
        Request::put(u.clone()),
        Request::delete(u.clone()),
        Request::new(Method::HEAD, u.clone()),
        Request::post(u.clone()),
        Request::patch(u.clone()),
    ]
    .map(|r| (r.method().to_string(), r.is_idempotent()));
    expect![[r#"[("GET", true), ("PUT", true), ("DELETE", true), ("HEAD", true), ("POST", false), ("PATCH", false)]"#]]
        .assert_eq(&format!("{defaults:?}"));
    assert!(Request::post(u.clone()).idempotent(true).is_idempotent());
    assert!(!Request::get(u).idempotent(false).is_idempotent());
}

#[test]
fn invalid_headers_are_reported_at_send() {
    let u = url("https://h.example/");
    let error = Request::get(u.clone()).header("x-note", "line\nbreak").check().unwrap_err();
    assert_eq!(error.to_string(), "header `x-note` is invalid");
    let error = Request::get(u.clone()).header("bad name", "v").check().unwrap_err();
    assert_eq!(error.to_string(), "header `bad name` is invalid");
    let error = Request::get(u.clone())
        .secret_header("authorization", &SecretString::from("Bearer a\r\nb"))
        .check()
        .unwrap_err();
    assert_eq!(error.to_string(), "header `authorization` is invalid");
    // The first problem is the one reported.
    let error = Request::get(u.clone()).header("x-a", "\n").header("x-b", "\n").check().unwrap_err();
    assert_eq!(error.to_string(), "header `x-a` is invalid");
    // A value that cannot be serialized.
    let mut map = std::collections::HashMap::new();
    map.insert(vec![1u8], 1);
    let error = Request::post(u).json(&map).check().unwrap_err();
    assert_eq!(error.to_string(), "request body cannot be encoded: the json body cannot be serialized");
}

#[test]
fn sec1_request_debug_shows_no_secret() {
    let secret = SecretString::from(SECRET);
    let request =
        Request::get(url(&format!("https://graph.facebook.com/v25.0/me?fields=id&access_token={SECRET}")))
            .query(&[("appsecret_proof", SECRET), ("client_secret", SECRET)])
            .secret_header("authorization", &secret)
            .secret_header("x-custom-signature", &secret)
            .header("access-token", SECRET)
            .header("x-amz-access-token", SECRET)
            .header("accept", "application/json")
            .form(&[("refresh_token", SECRET)]);
    let debug = format!("{request:?} {request:#?}");
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(!debug.contains("very-secret"), "{debug}");
    for (name, value) in &request.headers {
        if name != "accept" && name != "content-type" {
            assert!(value.is_sensitive(), "{name} is not marked sensitive");
        }
    }
    expect![[r#"Request { method: "GET", url: "https://graph.facebook.com/v25.0/me?fields=id&access_token=[REDACTED]&appsecret_proof=[REDACTED]&client_secret=[REDACTED]", headers: {"authorization": "[REDACTED]", "x-custom-signature": "[REDACTED]", "access-token": "[REDACTED]", "x-amz-access-token": "[REDACTED]", "accept": "application/json", "content-type": "application/x-www-form-urlencoded"}, body_bytes: Some(44), idempotent: true }"#]]
        .assert_eq(&format!("{request:?}"));
}

#[test]
fn sec1_response_debug_shows_no_body_or_cookie() {
    let mut headers = HeaderMap::new();
    headers.insert("set-cookie", HeaderValue::from_static("session=SECRET-COOKIE"));
    headers.insert("x-amzn-requestid", HeaderValue::from_static("req-1"));
    let response = Response {
        status: 200,
        headers,
        body: bytes::Bytes::from_static(br#"{"access_token":"SECRET-TOKEN"}"#),
    };
    let debug = format!("{response:?}");
    assert!(!debug.contains("SECRET"), "{debug}");
    expect![[r#"Response { status: 200, headers: {"set-cookie": "[REDACTED]", "x-amzn-requestid": "req-1"}, body_bytes: 31 }"#]]
        .assert_eq(&debug);
    assert_eq!(response.header("X-Amzn-RequestId"), Some("req-1"));
    assert_eq!(response.header("missing"), None);
    assert!(response.is_success());
}
