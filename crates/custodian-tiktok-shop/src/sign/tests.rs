//! The signer against the documented example (reference §7 vector 1) and the must-hold edge cases
//! (§7 vector 2): `sign` and `access_token` excluded, parameter order irrelevant, the body byte-exact,
//! multipart bodies left out, an empty body the same as none.

use secrecy::SecretString;

use super::*;

const SECRET: &str = "e59af819cc";
const PATH: &str = "/authorization/202309/shops";
/// The documented signature of `GET /authorization/202309/shops?app_key=29a39d&timestamp=1623812664`.
const DOCUMENTED: &str = "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8";

#[track_caller]
fn check(query: &[(&str, &str)], body: &[u8], content_type: Option<&str>, expect: &str) {
    let secret = SecretString::from(SECRET);
    let got = sign(&secret, &SignInput { path: PATH, query, body, content_type });
    assert_eq!(got, expect);
}

#[test]
fn the_documented_example_passes() {
    check(&[("app_key", "29a39d"), ("timestamp", "1623812664")], b"", None, DOCUMENTED);
}

#[test]
fn sign_and_access_token_do_not_count() {
    for query in [
        [("app_key", "29a39d"), ("timestamp", "1623812664"), ("sign", "b596b73e")],
        [("access_token", "TTP_pwSm2AAAAAB"), ("app_key", "29a39d"), ("timestamp", "1623812664")],
        [("timestamp", "1623812664"), ("sign", ""), ("app_key", "29a39d")],
    ] {
        check(&query, b"", Some("application/json"), DOCUMENTED);
    }
}

#[test]
fn parameter_order_does_not_count_and_a_repeated_key_counts_once() {
    check(&[("timestamp", "1623812664"), ("app_key", "29a39d")], b"", None, DOCUMENTED);
    check(&[("app_key", "29a39d"), ("timestamp", "1623812664"), ("app_key", "other")], b"", None, DOCUMENTED);
}

#[test]
fn an_empty_body_is_no_body() {
    check(&[("app_key", "29a39d"), ("timestamp", "1623812664")], b"", Some("application/json"), DOCUMENTED);
}

#[test]
fn the_body_is_appended_byte_exact() {
    let secret = SecretString::from(SECRET);
    let query = [("app_key", "29a39d"), ("timestamp", "1623812664")];
    let signed = |body: &[u8]| {
        sign(&secret, &SignInput { path: PATH, query: &query, body, content_type: Some("application/json") })
    };
    let compact = signed(br#"{"a":1}"#);
    assert_ne!(compact, DOCUMENTED);
    assert_ne!(compact, signed(br#"{"a": 1}"#), "whitespace is part of the signed bytes");
    assert_ne!(
        compact,
        signed(br#"{"a":1}"#.as_slice().iter().chain(b"\n").copied().collect::<Vec<u8>>().as_slice())
    );
    // Independent computation of the documented layout: secret + path + params + body + secret.
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(br#"e59af819cc/authorization/202309/shopsapp_key29a39dtimestamp1623812664{"a":1}e59af819cc"#);
    assert_eq!(compact, data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes()));
}

#[test]
fn multipart_bodies_are_left_out() {
    let query = [("app_key", "29a39d"), ("timestamp", "1623812664")];
    for content_type in
        ["multipart/form-data", "multipart/form-data; boundary=x", "Multipart/Form-Data ;boundary=y"]
    {
        check(&query, b"--x\r\ncontent\r\n--x--", Some(content_type), DOCUMENTED);
    }
    assert!(!is_multipart(Some("application/json")));
    assert!(!is_multipart(Some("multipart/mixed")));
    assert!(!is_multipart(None));
}

#[test]
fn the_update_webhook_example_layout_is_followed() {
    // The doc's second illustration: path + sorted params (shop_cipher among them) + body.
    use hmac::{Hmac, Mac};
    let secret = SecretString::from(SECRET);
    let query = [
        ("timestamp", "1696909648"),
        ("shop_cipher", "ROW_xkMbgAAAeVAQra0eZWebFQq5aIK"),
        ("app_key", "68xu9ks5p4i8"),
    ];
    let body = br#"{"address":"https://partner.tiktokshop.com","event_type":"PACKAGE_UPDATE"}"#;
    let got = sign(
        &secret,
        &SignInput {
            path: "/event/202309/webhooks",
            query: &query,
            body,
            content_type: Some("application/json"),
        },
    );
    let documented_input = r#"/event/202309/webhooksapp_key68xu9ks5p4i8shop_cipherROW_xkMbgAAAeVAQra0eZWebFQq5aIKtimestamp1696909648{"address":"https://partner.tiktokshop.com","event_type":"PACKAGE_UPDATE"}"#;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{SECRET}{documented_input}{SECRET}").as_bytes());
    assert_eq!(got, data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes()));
}
