//! Tests of bearer token issue, parsing and hashing (ACC-4).

use std::sync::atomic::{AtomicU8, Ordering};

use crate::ports::MockRng;

use super::*;

/// A generator that counts up byte by byte, so consecutive tokens differ.
fn counting_rng() -> MockRng {
    let next = AtomicU8::new(0);
    let mut rng = MockRng::new();
    rng.expect_fill()
        .returning(move |buf| buf.iter_mut().for_each(|b| *b = next.fetch_add(1, Ordering::Relaxed)));
    rng
}

#[test]
fn issue_format_and_round_trip() {
    let rng = counting_rng();
    for kind in [TokenKind::Session, TokenKind::ApiKey] {
        let issued = issue(kind, &rng);
        let text = issued.secret.expose_secret();
        let parts: Vec<&str> = text.split('_').collect();
        assert_eq!(parts.len(), 4, "{text}");
        assert_eq!(parts[0], "cus");
        assert_eq!(parts[1], kind.as_str());
        assert_eq!(parts[2], issued.id);
        assert_eq!(parts[2].len(), 26);
        assert_eq!(parts[3].len(), 52);
        assert!(text.bytes().all(|b| b == b'_' || b.is_ascii_lowercase() || b.is_ascii_digit()));

        let parsed = parse(text).unwrap();
        assert_eq!(parsed.kind(), kind);
        assert_eq!(parsed.id(), issued.id);
        assert!(parsed.hash().matches(&issued.hash));
        assert!(issued.hash.matches(&TokenHash::from_bytes(*issued.hash.as_bytes())));
    }
}

#[test]
fn known_bytes_give_known_token() {
    let mut rng = MockRng::new();
    rng.expect_fill().returning(|buf| buf.fill(0));
    let issued = issue(TokenKind::Session, &rng);
    assert_eq!(issued.secret.expose_secret(), format!("cus_session_{}_{}", "a".repeat(26), "a".repeat(52)));
    // SHA-256 of 52 ASCII `a`s.
    let expected: [u8; 32] = Sha256::digest("a".repeat(52).as_bytes()).into();
    assert!(issued.hash.matches(&TokenHash::from_bytes(expected)));
}

#[test]
fn different_tokens_do_not_match() {
    let rng = counting_rng();
    let a = issue(TokenKind::ApiKey, &rng);
    let b = issue(TokenKind::ApiKey, &rng);
    assert_ne!(a.id, b.id);
    assert!(!a.hash.matches(&b.hash));
    // Same id, another secret: the hash decides.
    let forged = format!("cus_apikey_{}_{}", a.id, "q".repeat(52));
    assert!(!parse(&forged).unwrap().hash().matches(&a.hash));
}

#[track_caller]
fn check(input: &str, expect: Result<TokenKind, TokenError>) {
    let got = parse(input).map(|t| t.kind());
    assert_eq!(got, expect, "input {input:?}");
}

#[test]
fn garbage_is_rejected() {
    let id = "a".repeat(26);
    let secret = "q".repeat(52);
    check(&format!("cus_session_{id}_{secret}"), Ok(TokenKind::Session));
    check(&format!("cus_apikey_{id}_{secret}"), Ok(TokenKind::ApiKey));
    check("", Err(TokenError::Malformed));
    check("cus", Err(TokenError::Malformed));
    check("Bearer xyz", Err(TokenError::Malformed));
    check(&format!("cus_session_{id}"), Err(TokenError::Malformed));
    check(&format!("cus_session_{id}_{secret}_x"), Err(TokenError::Malformed));
    check(&format!("xyz_session_{id}_{secret}"), Err(TokenError::Malformed));
    check(&format!("CUS_session_{id}_{secret}"), Err(TokenError::Malformed));
    check(&format!("cus_admin_{id}_{secret}"), Err(TokenError::UnknownKind));
    check(&format!("cus_Session_{id}_{secret}"), Err(TokenError::UnknownKind));
    check(&format!("cus_session_{}_{secret}", "a".repeat(25)), Err(TokenError::BadId));
    check(&format!("cus_session_{}_{secret}", "A".repeat(26)), Err(TokenError::BadId));
    check(&format!("cus_session_{}_{secret}", "1".repeat(26)), Err(TokenError::BadId));
    // Non-canonical: the last character of a 26-character id may only carry 3 bits.
    check(&format!("cus_session_{}b_{secret}", "a".repeat(25)), Err(TokenError::BadId));
    check(&format!("cus_session_{id}_{}", "b".repeat(51)), Err(TokenError::BadSecret));
    check(&format!("cus_session_{id}_{}", "Q".repeat(52)), Err(TokenError::BadSecret));
    check(&format!("cus_session_{id}_{}b", "a".repeat(51)), Err(TokenError::BadSecret));
    check(&format!("cus_session_{id}_{}é", "b".repeat(51)), Err(TokenError::BadSecret));
    check(&format!("cus_session_{id}_{} ", "q".repeat(52)), Err(TokenError::BadSecret));
    check(&format!("cus_session_{id}_{}", "b".repeat(5000)), Err(TokenError::Malformed));
    check("cus_session__", Err(TokenError::BadId));
    check("cus_session___", Err(TokenError::Malformed));
}

#[test]
fn errors_and_debug_never_show_the_secret() {
    let rng = counting_rng();
    let issued = issue(TokenKind::Session, &rng);
    let text = issued.secret.expose_secret().to_owned();
    let secret_part = text.rsplit('_').next().unwrap().to_owned();
    let parsed = parse(&text).unwrap();
    for debug in [format!("{issued:?}"), format!("{parsed:?}"), format!("{:?}", parsed.hash())] {
        assert!(!debug.contains(&secret_part), "{debug}");
        assert!(!debug.contains(&secret_part[..8]), "{debug}");
    }
    assert!(format!("{issued:?}").contains("[REDACTED]"));
    let bad = format!("cus_session_{}_{}X", issued.id, &secret_part[..51]);
    let err = parse(&bad).unwrap_err();
    assert_eq!(err.to_string(), "token secret is not 52 lowercase base32 characters");
    assert!(!format!("{err:?} {err}").contains(&secret_part[..20]));
}
