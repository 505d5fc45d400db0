//! Unit tests of JSON parsing: each failure's status and message, and that no value is ever echoed.

use expect_test::{Expect, expect};
use serde::Deserialize;

use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(dead_code, reason = "only the parse result matters")]
struct Body {
    name: String,
    count: u32,
    #[serde(default)]
    tags: Vec<String>,
}

#[track_caller]
fn check(input: &str, expect: Expect) {
    let actual = match parse_json::<Body>(input.as_bytes()) {
        Ok(_) => "ok".to_owned(),
        Err(e) => format!("{} {}", e.code().status().as_u16(), e.describe()),
    };
    expect.assert_eq(&actual);
}

#[test]
fn parse_errors_name_fields_never_values() {
    check(r#"{"name": "a", "count": 1}"#, expect!["ok"]);
    check(r#"{"name": "a", "count": 1"#, expect!["400 bad_request: request body is not well-formed json"]);
    check(
        r#"{"name": "a", "count": 1} {}"#,
        expect!["400 bad_request: request body has trailing characters"],
    );
    check("", expect!["400 bad_request: request body is not well-formed json"]);
    check(
        r#"{"name": "a"}"#,
        expect!["422 invalid_input: request body: a required field is missing: `count`"],
    );
    check(
        r#"{"name": "a", "count": "hunter2-secret"}"#,
        expect!["422 invalid_input: request body: invalid value: `count`"],
    );
    check(
        r#"{"name": "a", "count": 1, "password": "hunter2"}"#,
        expect!["422 invalid_input: request body: unknown field: `password`"],
    );
    check(
        r#"{"name": "a", "count": 1, "tags": ["ok", 7]}"#,
        expect!["422 invalid_input: request body: invalid value: `tags[1]`"],
    );
    check(r#"["hunter2", 1]"#, expect!["ok"]);
    check(r#"[5, 1]"#, expect!["422 invalid_input: request body: invalid value: `[0]`"]);
    check("42", expect!["422 invalid_input: request body: invalid value: `the body`"]);
}

#[test]
fn json_content_types() {
    let mut headers = axum::http::HeaderMap::new();
    assert!(!is_json(&headers));
    for (value, json) in [
        ("application/json", true),
        ("application/json; charset=utf-8", true),
        ("Application/JSON", true),
        ("application/merge-patch+json", true),
        ("text/plain", false),
        ("application/jsonx", false),
        ("multipart/form-data", false),
    ] {
        headers.insert(header::CONTENT_TYPE, value.parse().unwrap());
        assert_eq!(is_json(&headers), json, "{value}");
    }
}
