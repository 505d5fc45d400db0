//! Webhook verification: the `Authorization` HMAC over app key + exact body, constant-time, the two
//! authorization types, staleness, and refusal of everything else.

use custodian_core::platform::{AccountRef, Platform, TikTokShopId};
use custodian_core::ports::{RawSignal, SignalError, SignalKind, SignalSubject};
use hmac::{Hmac, Mac};
use secrecy::SecretString;
use sha2::Sha256;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::*;

const KEY: &str = "6c3ss9h2kq4mt";
const SECRET: &str = "5f0e3c1d9b7a4e2f8c6d0b1a3e5f7c9d2b4a6e8f";
const DEAUTHORIZED: &str = include_str!("../../tests/fixtures/seller_deauthorization.json");
const EXPIRING: &str = include_str!("../../tests/fixtures/upcoming_authorization_expiration.json");
/// The fixtures' `timestamp`.
const SENT: OffsetDateTime = datetime!(2022-02-09 13:21:25 UTC);

fn authorization(key: &str, secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(key.as_bytes());
    mac.update(body);
    data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
}

fn raw(body: &str, header: (&str, String), received_at: OffsetDateTime) -> RawSignal {
    RawSignal {
        method: "POST".to_owned(),
        path: "/signals/tiktok-shop".to_owned(),
        query: Vec::new(),
        headers: vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            (header.0.to_owned(), header.1),
        ],
        body: body.as_bytes().to_vec(),
        received_at,
    }
}

fn signed(body: &str, received_at: OffsetDateTime) -> RawSignal {
    raw(body, ("authorization", authorization(KEY, SECRET, body.as_bytes())), received_at)
}

fn check(raw: &RawSignal) -> Result<VerifiedSignal, SignalError> {
    verify(KEY, &SecretString::from(SECRET), Duration::hours(24), raw)
}

fn shop() -> Option<SignalSubject> {
    Some(SignalSubject::Account(AccountRef::TikTokShop(TikTokShopId::new("7494049642642441621").unwrap())))
}

#[test]
fn the_documented_deauthorization_verifies_to_deauthorized() {
    let verified = check(&signed(DEAUTHORIZED, SENT + Duration::seconds(3))).unwrap();
    assert_eq!(verified.platform, Platform::TikTokShop);
    assert_eq!(verified.id, "7327112393057371910", "the dedupe id is tts_notification_id");
    assert_eq!(verified.kind, SignalKind::Deauthorized);
    assert_eq!(verified.subject, shop());
}

#[test]
fn upcoming_expiration_verifies_to_expiring_soon() {
    let verified = check(&signed(EXPIRING, SENT)).unwrap();
    assert_eq!(
        verified.kind,
        SignalKind::ExpiringSoon { expires_at: Some(datetime!(2022-03-11 13:21:25 UTC)) }
    );
    assert_eq!(verified.subject, shop());
}

#[test]
fn header_name_and_hex_case_do_not_matter() {
    let upper = authorization(KEY, SECRET, DEAUTHORIZED.as_bytes()).to_ascii_uppercase();
    assert!(check(&raw(DEAUTHORIZED, ("Authorization", upper), SENT)).is_ok());
}

#[test]
fn any_signature_problem_is_bad_signature() {
    let good = authorization(KEY, SECRET, DEAUTHORIZED.as_bytes());
    let cases = [
        ("authorization", authorization(KEY, "other-secret", DEAUTHORIZED.as_bytes())),
        ("authorization", authorization("other-key", SECRET, DEAUTHORIZED.as_bytes())),
        ("authorization", format!("Bearer {good}")),
        ("authorization", good[..62].to_owned()),
        ("authorization", String::new()),
        ("x-signature", good.clone()),
    ];
    for header in cases {
        let label = header.0;
        let result = check(&raw(DEAUTHORIZED, header, SENT));
        assert!(matches!(result, Err(SignalError::BadSignature)), "{label}: {result:?}");
    }
    // The exact bytes: the same JSON with other whitespace is another body.
    let mut tampered = signed(DEAUTHORIZED, SENT);
    tampered.body.push(b' ');
    assert!(matches!(check(&tampered), Err(SignalError::BadSignature)));
}

#[test]
fn old_or_future_notifications_are_stale() {
    assert!(matches!(check(&signed(DEAUTHORIZED, SENT + Duration::hours(25))), Err(SignalError::Stale)));
    assert!(matches!(check(&signed(DEAUTHORIZED, SENT - Duration::minutes(6))), Err(SignalError::Stale)));
    assert!(check(&signed(DEAUTHORIZED, SENT - Duration::minutes(4))).is_ok(), "small clock skew is fine");
}

#[test]
fn other_types_and_bad_bodies_are_malformed() {
    let order_status = r#"{"type":1,"tts_notification_id":"1","shop_id":"7494049642642441621","timestamp":1644412885,"data":{}}"#;
    assert!(matches!(check(&signed(order_status, SENT)), Err(SignalError::Malformed(_))));
    let bad_shop = r#"{"type":6,"tts_notification_id":"1","shop_id":"shop-1","timestamp":1644412885}"#;
    assert!(matches!(check(&signed(bad_shop, SENT)), Err(SignalError::Malformed(_))));
    let no_id = r#"{"type":6,"tts_notification_id":"","shop_id":"1","timestamp":1644412885}"#;
    assert!(matches!(check(&signed(no_id, SENT)), Err(SignalError::Malformed(_))));
    assert!(matches!(check(&signed("not json", SENT)), Err(SignalError::Malformed(_))));
}
