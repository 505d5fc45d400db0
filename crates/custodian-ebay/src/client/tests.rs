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
