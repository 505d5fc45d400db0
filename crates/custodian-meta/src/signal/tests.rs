//! The signed_request vectors of ads-apis.md §4.2 and §4.3, and the callback rules.

use custodian_core::ports::{RawSignal, SignalError, SignalKind, SignalSubject};
use secrecy::SecretString;
use time::macros::datetime;

use super::*;

/// §4.2: deauthorize-shaped, unpadded, app secret `key`.
const VALID: &str = "Mf_s6nTb38UYqioBmPqu0Ewm9souPZB9I2fIGwV729U.eyJ1c2VyX2lkIjoiMCIsImFsZ29yaXRobSI6IkhNQUMtU0hBMjU2IiwiaXNzdWVkX2F0IjoxNjI0MjQ0MTU2fQ";
/// §4.3: the same signature over a payload with `user_id` "1".
const TAMPERED: &str = "Mf_s6nTb38UYqioBmPqu0Ewm9souPZB9I2fIGwV729U.eyJ1c2VyX2lkIjoiMSIsImFsZ29yaXRobSI6IkhNQUMtU0hBMjU2IiwiaXNzdWVkX2F0IjoxNjI0MjQ0MTU2fQ";

fn key() -> SecretString {
    SecretString::from("key")
}

/// Signs `payload_json` as Meta does, optionally with `=` padding on both segments.
fn sign(secret: &str, payload_json: &str, padded: bool) -> String {
    let encoding = if padded { &data_encoding::BASE64URL } else { &data_encoding::BASE64URL_NOPAD };
    let payload = encoding.encode(payload_json.as_bytes());
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(payload.as_bytes());
    format!("{}.{payload}", encoding.encode(&mac.finalize().into_bytes()))
}

#[test]
fn the_reference_vector_verifies() {
    let payload = parse_signed_request(&key(), VALID).unwrap();
    assert_eq!(payload.user_id, "0");
    assert_eq!(payload.issued_at, 1_624_244_156);
}

#[test]
fn the_must_reject_vectors_are_rejected() {
    let cases: Vec<(&str, String)> = vec![
        ("changed payload", TAMPERED.to_owned()),
        ("no dot", VALID.replace('.', "")),
        ("three segments", format!("{VALID}.eyJ9")),
        ("signature not base64url", VALID.replacen("Mf_s", "Mf$s", 1)),
        ("empty", String::new()),
        ("short signature", format!("AAAA.{}", VALID.split_once('.').unwrap().1)),
        ("wrong algorithm", sign("key", r#"{"user_id":"0","algorithm":"HMAC-SHA1","issued_at":1}"#, false)),
        ("no algorithm", sign("key", r#"{"user_id":"0","issued_at":1}"#, false)),
        ("other secret", sign("other", r#"{"user_id":"0","algorithm":"HMAC-SHA256","issued_at":1}"#, false)),
    ];
    for (name, signed) in cases {
        let result = parse_signed_request(&key(), &signed);
        assert!(matches!(result, Err(SignalError::BadSignature)), "{name}: {result:?}");
    }
}

#[test]
fn padding_is_part_of_the_mac_and_tolerated_when_decoding() {
    // 16 bytes of JSON: the payload segment ends in `=`.
    let json = r#"{"user_id":"01","algorithm":"hmac-sha256","issued_at":5}"#;
    let padded = sign("key", json, true);
    assert!(padded.ends_with('='), "{padded}");
    assert_eq!(parse_signed_request(&key(), &padded).unwrap().user_id, "01");
    // Dropping the padding changes the MAC input: the signature no longer matches.
    let stripped = padded.trim_end_matches('=');
    assert!(matches!(parse_signed_request(&key(), stripped), Err(SignalError::BadSignature)));
}

#[test]
fn user_ids_may_be_numbers() {
    let signed = sign(
        "key",
        r#"{"user_id":218471,"algorithm":"HMAC-SHA256","issued_at":1291836800,"expires":1291840400}"#,
        false,
    );
    assert_eq!(parse_signed_request(&key(), &signed).unwrap().user_id, "218471");
    let signed = sign("key", r#"{"algorithm":"HMAC-SHA256","issued_at":1}"#, false);
    assert!(matches!(parse_signed_request(&key(), &signed), Err(SignalError::Malformed(_))));
}

fn settings(secret: &SecretString) -> SignalSettings<'_> {
    SignalSettings {
        app_secret: secret,
        deauthorize_path: "/meta/deauthorize",
        data_deletion_path: "/meta/deletion",
        max_age: std::time::Duration::from_secs(3600),
    }
}

fn raw(path: &str, body: &str, received_at: time::OffsetDateTime) -> RawSignal {
    RawSignal {
        method: "POST".to_owned(),
        path: path.to_owned(),
        query: Vec::new(),
        headers: vec![("content-type".to_owned(), "application/x-www-form-urlencoded".to_owned())],
        body: body.as_bytes().to_vec(),
        received_at,
    }
}

#[test]
fn callbacks_become_signals_about_the_user() {
    let secret = key();
    let at = datetime!(2021-06-21 03:00 UTC);
    let body = format!("signed_request={VALID}");
    let deauth = verify(&settings(&secret), &raw("/meta/deauthorize", &body, at)).unwrap();
    assert_eq!(deauth.kind, SignalKind::Deauthorized);
    assert_eq!(deauth.subject, Some(SignalSubject::Owner("0".parse().unwrap())));
    assert_eq!(deauth.id, "meta:deauthorize:0:1624244156");

    let deletion = verify(&settings(&secret), &raw("/meta/deletion", &body, at)).unwrap();
    let SignalKind::DeletionRequested { confirmation: Some(code) } = &deletion.kind else {
        panic!("{deletion:?}");
    };
    assert_eq!(code.len(), 20);
    let again = verify(&settings(&secret), &raw("/meta/deletion", &body, at)).unwrap();
    assert_eq!(again, deletion, "deterministic: a replay gets the same id and code");

    let late = datetime!(2021-06-21 05:00 UTC);
    assert!(matches!(
        verify(&settings(&secret), &raw("/meta/deletion", &body, late)),
        Err(SignalError::Stale)
    ));
    let early = datetime!(2021-06-21 02:00 UTC);
    assert!(matches!(
        verify(&settings(&secret), &raw("/meta/deletion", &body, early)),
        Err(SignalError::Stale)
    ));
    assert!(verify(&settings(&secret), &raw("/meta/other", &body, at)).is_err());
    let twice = format!("{body}&signed_request={VALID}");
    assert!(matches!(
        verify(&settings(&secret), &raw("/meta/deletion", &twice, at)),
        Err(SignalError::BadSignature)
    ));
    assert!(matches!(
        verify(&settings(&secret), &raw("/meta/deletion", "", at)),
        Err(SignalError::BadSignature)
    ));
}

#[test]
fn the_deletion_answer_is_the_documented_json() {
    // M12.
    let answer: serde_json::Value =
        serde_json::from_str(&data_deletion_answer("https://example.com/deletion?id=abc123", "abc123"))
            .unwrap();
    assert_eq!(
        answer,
        serde_json::json!({ "url": "https://example.com/deletion?id=abc123", "confirmation_code": "abc123" })
    );
}
