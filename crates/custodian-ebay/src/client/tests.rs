//! Unit tests of the client helpers: the Basic header vector, decoding with JSON paths, error envelopes.

use secrecy::{ExposeSecret as _, SecretString};

use super::*;

#[test]
fn basic_auth_matches_the_reference_vector() {
    // Reference §7 vector 4.
    let header = basic_auth("myClientId", &SecretString::from("myClientSecret"));
    assert_eq!(header.expose_secret(), "Basic bXlDbGllbnRJZDpteUNsaWVudFNlY3JldA==");
}

#[test]
fn decode_names_the_json_path_not_the_values() {
    let body = br#"{"orders":[{"orderId":7}]}"#;
    let error = decode::<wire::OrdersPage<wire::PlainOrder<'_>>>(body).err().unwrap();
    let text = format!("{error} {:?}", std::error::Error::source(&error));
    assert!(text.contains("orders[0].orderId"), "{text}");
    let truncated = br#"{"orders":[{"orderId":"12-34567-89012","#;
    let error = decode::<wire::OrdersPage<wire::PlainOrder<'_>>>(truncated).err().unwrap();
    assert!(matches!(error, PlatformError::Unavailable(_)), "{error:?}");
}

#[test]
fn first_error_id_reads_the_envelope() {
    let body = br#"{"errors":[{"errorId":2001,"domain":"ACCESS","category":"REQUEST","message":"Too many requests."}]}"#;
    assert_eq!(first_error_id(body), Some(2001));
    assert_eq!(first_error_id(b"<html>"), None);
}

#[test]
fn decode_checks_utf8_once_and_still_refuses_invalid_text() {
    // Valid text, escapes included, decodes through the whole-body UTF-8 check (issue 6).
    let body = r#"{"orders":[{"orderId":"12-34567-89012","sellerId":"sell\u00e9r \"one\""}]}"#;
    let page = decode::<wire::OrdersPage<wire::PlainOrder<'_>>>(body.as_bytes()).unwrap();
    assert_eq!(page.orders[0].order_id, "12-34567-89012");
    assert_eq!(page.orders[0].seller_id.as_deref(), Some("sellér \"one\""));
    // Invalid UTF-8 inside a string is still a decode error, not a panic or a lossy value.
    let mut bad = br#"{"orders":[{"orderId":"12-34567-89012","sellerId":"x"#.to_vec();
    bad.extend_from_slice(&[0xff, 0xfe]);
    bad.extend_from_slice(br#""}]}"#);
    let error = decode::<wire::OrdersPage<wire::PlainOrder<'_>>>(&bad).err().unwrap();
    assert!(matches!(error, PlatformError::Unavailable(_)), "{error:?}");
}
