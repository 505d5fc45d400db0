//! Tests of TOTP (ACC-2): the RFC 6238 Appendix B vectors, skew, replay, bad input and redaction.

use time::macros::datetime;

use crate::ports::MockRng;

use super::*;

fn rfc_secret(algorithm: TotpAlgorithm) -> TotpSecret {
    let seed = b"1234567890".repeat(7);
    let len = match algorithm {
        TotpAlgorithm::Sha1 => 20,
        TotpAlgorithm::Sha256 => 32,
        TotpAlgorithm::Sha512 => 64,
    };
    TotpSecret::from_bytes(&seed[..len]).unwrap()
}

fn config(algorithm: TotpAlgorithm, digits: u8) -> TotpConfig {
    TotpConfig::new(algorithm, digits, 30, 1).unwrap()
}

#[track_caller]
fn check(algorithm: TotpAlgorithm, unix_time: i64, expect: &str) {
    let secret = rfc_secret(algorithm);
    let config = config(algorithm, 8);
    assert_eq!(code_at(&secret, &config, unix_time), expect, "{algorithm} at {unix_time}");
    // The same code verifies at that instant, matching its own step.
    let now = OffsetDateTime::from_unix_timestamp(unix_time).unwrap();
    assert_eq!(verify(&secret, &config, expect, now, None), Ok(config.step_at(unix_time).unwrap()));
}

#[test]
fn rfc6238_appendix_b() {
    use TotpAlgorithm::*;
    let vectors: [(i64, [&str; 3]); 6] = [
        (59, ["94287082", "46119246", "90693936"]),
        (1_111_111_109, ["07081804", "68084774", "25091201"]),
        (1_111_111_111, ["14050471", "67062674", "99943326"]),
        (1_234_567_890, ["89005924", "91819424", "93441116"]),
        (2_000_000_000, ["69279037", "90698825", "38618901"]),
        (20_000_000_000, ["65353130", "77737706", "47863826"]),
    ];
    for (time, [sha1, sha256, sha512]) in vectors {
        check(Sha1, time, sha1);
        check(Sha256, time, sha256);
        check(Sha512, time, sha512);
    }
}

#[test]
fn six_digit_codes_are_the_low_digits() {
    let secret = rfc_secret(TotpAlgorithm::Sha1);
    assert_eq!(code_at(&secret, &config(TotpAlgorithm::Sha1, 6), 59), "287082");
    assert_eq!(code_at(&secret, &config(TotpAlgorithm::Sha1, 6), 1_111_111_109), "081804");
    assert_eq!(code_at(&secret, &config(TotpAlgorithm::Sha1, 7), 1_111_111_109), "7081804");
    // Before 1970: step 0, never a panic.
    assert_eq!(code_at(&secret, &TotpConfig::default(), -5), code_at(&secret, &TotpConfig::default(), 0));
}

#[test]
fn skew_window() {
    let secret = rfc_secret(TotpAlgorithm::Sha1);
    let cfg = TotpConfig::default();
    let now = datetime!(2026-03-01 12:00:15 UTC);
    let t = now.unix_timestamp();
    let step = cfg.step_at(t).unwrap();
    let at = |offset_steps: i64| code_at(&secret, &cfg, t + offset_steps * 30);
    assert_eq!(verify(&secret, &cfg, &at(0), now, None), Ok(step));
    assert_eq!(verify(&secret, &cfg, &at(-1), now, None), Ok(step - 1));
    assert_eq!(verify(&secret, &cfg, &at(1), now, None), Ok(step + 1));
    assert_eq!(verify(&secret, &cfg, &at(-2), now, None), Err(TotpError::Mismatch));
    assert_eq!(verify(&secret, &cfg, &at(2), now, None), Err(TotpError::Mismatch));
    // No skew: only the current step.
    let strict = TotpConfig::new(TotpAlgorithm::Sha1, 6, 30, 0).unwrap();
    assert_eq!(verify(&secret, &strict, &at(0), now, None), Ok(step));
    assert_eq!(verify(&secret, &strict, &at(-1), now, None), Err(TotpError::Mismatch));
    // Another secret's code does not match.
    let other = TotpSecret::from_bytes(&[9; 20]).unwrap();
    assert_eq!(verify(&other, &cfg, &at(0), now, None), Err(TotpError::Mismatch));
}

#[test]
fn replay_is_refused() {
    let secret = rfc_secret(TotpAlgorithm::Sha1);
    let cfg = TotpConfig::default();
    let now = datetime!(2026-03-01 12:00:15 UTC);
    let t = now.unix_timestamp();
    let code = code_at(&secret, &cfg, t);
    let step = verify(&secret, &cfg, &code, now, None).unwrap();
    assert_eq!(verify(&secret, &cfg, &code, now, Some(step)), Err(TotpError::Replayed));
    assert_eq!(
        verify(&secret, &cfg, &code, now + time::Duration::seconds(20), Some(step)),
        Err(TotpError::Replayed)
    );
    // An older code inside the window after a newer one was used is also a replay.
    let previous = code_at(&secret, &cfg, t - 30);
    assert_eq!(verify(&secret, &cfg, &previous, now, Some(step)), Err(TotpError::Replayed));
    // The next step's code is fresh.
    let next = code_at(&secret, &cfg, t + 30);
    assert_eq!(verify(&secret, &cfg, &next, now + time::Duration::seconds(30), Some(step)), Ok(step + 1));
    assert_eq!(verify(&secret, &cfg, &code, now, Some(step - 1)), Ok(step));
}

#[test]
fn malformed_codes() {
    let secret = rfc_secret(TotpAlgorithm::Sha1);
    let cfg = TotpConfig::default();
    let now = datetime!(2026-03-01 12:00:15 UTC);
    let bad = |code: &str| verify(&secret, &cfg, code, now, None);
    assert_eq!(bad("12345"), Err(TotpError::WrongLength { expected: 6, actual: 5 }));
    assert_eq!(bad("1234567"), Err(TotpError::WrongLength { expected: 6, actual: 7 }));
    assert_eq!(bad(""), Err(TotpError::WrongLength { expected: 6, actual: 0 }));
    assert_eq!(bad("12345a"), Err(TotpError::NotDigits));
    assert_eq!(bad("123 456"), Err(TotpError::NotDigits));
    assert_eq!(bad("-12345"), Err(TotpError::NotDigits));
    assert_eq!(bad("１２３４５６"), Err(TotpError::NotDigits));
    assert_eq!(
        verify(&secret, &cfg, "123456", datetime!(1969-12-31 23:59:00 UTC), None),
        Err(TotpError::ClockBeforeEpoch)
    );
    assert_eq!(
        TotpError::WrongLength { expected: 6, actual: 5 }.to_string(),
        "code must have 6 digits, got 5"
    );
}

#[test]
fn config_validation() {
    assert_eq!(TotpConfig::new(TotpAlgorithm::Sha1, 5, 30, 1), Err(TotpConfigError::Digits(5)));
    assert_eq!(TotpConfig::new(TotpAlgorithm::Sha1, 9, 30, 1), Err(TotpConfigError::Digits(9)));
    assert_eq!(TotpConfig::new(TotpAlgorithm::Sha1, 6, 0, 1), Err(TotpConfigError::Step(0)));
    assert_eq!(TotpConfig::new(TotpAlgorithm::Sha1, 6, 301, 1), Err(TotpConfigError::Step(301)));
    assert_eq!(TotpConfig::new(TotpAlgorithm::Sha1, 6, 30, 11), Err(TotpConfigError::Skew(11)));
    let cfg = TotpConfig::new(TotpAlgorithm::Sha512, 8, 60, 2).unwrap();
    assert_eq!(
        (cfg.algorithm(), cfg.digits(), cfg.step_seconds(), cfg.skew_steps()),
        (TotpAlgorithm::Sha512, 8, 60, 2)
    );
    let default = TotpConfig::default();
    assert_eq!(
        (default.algorithm(), default.digits(), default.step_seconds(), default.skew_steps()),
        (TotpAlgorithm::Sha1, 6, 30, 1)
    );
}

#[test]
fn secrets_from_bytes_and_base32() {
    assert_eq!(TotpSecret::from_bytes(&[1; 15]).unwrap_err(), TotpSecretError::TooShort { len: 15 });
    assert_eq!(TotpSecret::from_bytes(&[1; 129]).unwrap_err(), TotpSecretError::TooLong { len: 129 });
    assert!(TotpSecret::from_bytes(&[1; 16]).is_ok());

    let secret = rfc_secret(TotpAlgorithm::Sha1);
    let encoded = secret.to_base32();
    assert_eq!(encoded.expose_secret(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    for text in [
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "gezdgnbvgy3tqojqgezdgnbvgy3tqojq",
        "gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ====",
    ] {
        let decoded = TotpSecret::from_base32(&SecretString::from(text)).unwrap();
        assert_eq!(decoded.expose_bytes(), secret.expose_bytes(), "{text}");
    }
    for bad in ["GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1", "GEZDGNBVGY3TQOJQ-GEZDGNBVGY3TQOJQ", "GEZDGNBV\u{e9}"] {
        assert_eq!(
            TotpSecret::from_base32(&SecretString::from(bad)).unwrap_err(),
            TotpSecretError::Base32,
            "{bad}"
        );
    }
    // Valid base32 but too short.
    assert_eq!(
        TotpSecret::from_base32(&SecretString::from("GEZDGNBV")).unwrap_err(),
        TotpSecretError::TooShort { len: 5 }
    );
}

#[test]
fn generate_uses_the_rng() {
    let mut rng = MockRng::new();
    rng.expect_fill().times(1).returning(|buf| buf.fill(0xab));
    let secret = TotpSecret::generate(&rng);
    assert_eq!(secret.expose_bytes(), &[0xab; 20]);
}

#[test]
fn otpauth_uri_is_encoded() {
    let secret = rfc_secret(TotpAlgorithm::Sha1);
    let uri = otpauth_uri("Acme Agency", "jane+ops@acme.example", &secret, &TotpConfig::default());
    assert_eq!(
        uri.expose_secret(),
        "otpauth://totp/Acme%20Agency:jane%2Bops%40acme.example?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
         &issuer=Acme%20Agency&algorithm=SHA1&digits=6&period=30"
    );
    let cfg = TotpConfig::new(TotpAlgorithm::Sha256, 8, 60, 1).unwrap();
    let uri = otpauth_uri("Ünï:co", "a/b?c", &secret, &cfg);
    assert_eq!(
        uri.expose_secret(),
        "otpauth://totp/%C3%9Cn%C3%AF%3Aco:a%2Fb%3Fc?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
         &issuer=%C3%9Cn%C3%AF%3Aco&algorithm=SHA256&digits=8&period=60"
    );
}

#[test]
fn debug_does_not_leak() {
    let secret = rfc_secret(TotpAlgorithm::Sha1);
    let debug = format!("{secret:?}");
    assert_eq!(debug, "TotpSecret([REDACTED])");
    assert!(!debug.contains("12345678"));
    let uri = otpauth_uri("Acme", "jane", &secret, &TotpConfig::default());
    assert!(!format!("{uri:?}").contains("GEZDGNBV"));
    assert!(!format!("{:?}", secret.to_base32()).contains("GEZDGNBV"));
    let err = TotpSecret::from_base32(&SecretString::from("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1")).unwrap_err();
    assert!(!format!("{err:?} {err}").contains("GEZDGNBV"));
}
