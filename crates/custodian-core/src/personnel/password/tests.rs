//! Tests of the password rule (ACC-3) and Argon2id hashing.

use expect_test::expect;

use super::*;

fn secret(s: &str) -> SecretString {
    SecretString::from(s)
}

#[track_caller]
fn check(password: &str, expect: Result<(), Vec<PasswordRule>>) {
    let got = check_password(&secret(password));
    assert_eq!(got, expect.map_err(PasswordError::Weak), "password {password:?}");
}

#[test]
fn password_rule() {
    use PasswordRule::*;
    check("Correct-Horse-9", Ok(()));
    check("correcthorse9!", Ok(()));
    check("CORRECTHORSE9!", Ok(()));
    check("CorrectHorse99", Ok(()));
    check("correct horse Battery", Ok(()));
    // Exactly 12 characters passes, 11 fails.
    check("abcdefghiJ1!", Ok(()));
    check("abcdefghJ1!", Err(vec![MinLength]));
    // Characters, not bytes: 12 two-byte letters plus classes.
    check("ééééééééééÉ1", Ok(()));
    check("éééééÉ1", Err(vec![MinLength]));
    check("correcthorsebattery", Err(vec![CharacterClasses]));
    check("correcthorse99", Err(vec![CharacterClasses]));
    check("", Err(vec![MinLength, CharacterClasses, NotRepeated]));
    check("aaaaaaaaaaaa", Err(vec![CharacterClasses, NotRepeated]));
    check("short", Err(vec![MinLength, CharacterClasses]));
    check(&format!("Aa1!{}", "x".repeat(252)), Ok(()));
    check(&format!("Aa1!{}", "x".repeat(253)), Err(vec![MaxLength]));
    check(&"!".repeat(300), Err(vec![MaxLength, CharacterClasses, NotRepeated]));
}

#[test]
fn weak_error_lists_every_rule() {
    let err = check_password(&secret("short")).unwrap_err();
    expect![[r#"password does not meet the policy: needs at least 12 characters, at least 3 of lowercase letters, uppercase letters, digits and other characters"#]]
        .assert_eq(&err.to_string());
}

#[test]
fn hash_and_verify() {
    let password = secret("Correct-Horse-9");
    let hash = hash_password(&password, &[7; 16]).unwrap();
    assert!(hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", hash.as_phc());
    assert!(!hash.needs_rehash());
    assert!(verify_password(&password, &hash));
    assert!(!verify_password(&secret("Correct-Horse-8"), &hash));
    assert!(!verify_password(&secret(""), &hash));
    // Same password and salt give the same hash; another salt gives another.
    assert_eq!(hash_password(&password, &[7; 16]).unwrap().as_phc(), hash.as_phc());
    let other = hash_password(&password, &[8; 16]).unwrap();
    assert_ne!(other.as_phc(), hash.as_phc());
    assert!(verify_password(&password, &other));
    // Round trip through the store.
    let stored = PasswordHash::from_phc(hash.as_phc()).unwrap();
    assert!(verify_password(&password, &stored));
}

#[test]
fn weak_password_is_never_hashed() {
    assert_eq!(
        hash_password(&secret("password"), &[0; 16]).unwrap_err(),
        PasswordError::Weak(vec![PasswordRule::MinLength, PasswordRule::CharacterClasses])
    );
}

#[test]
fn malformed_or_foreign_hashes() {
    for bad in ["", "not a hash", "$argon2id$v=19$m=19456", "$2b$12$abcdefghijklmnopqrstuu"] {
        assert_eq!(PasswordHash::from_phc(bad), Err(PasswordError::MalformedHash), "{bad:?}");
        // A value that bypassed `from_phc` (it cannot, but verify must not trust that) never verifies.
        assert!(!verify_password(&secret("Correct-Horse-9"), &PasswordHash(bad.to_owned())));
    }
    // A valid argon2i (not id) hash is refused.
    let argon2i = "$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$Pmiaqj0op3zyvHKlGsUxZnYXURgvHuKS4/Z3p9pMJGc";
    assert_eq!(PasswordHash::from_phc(argon2i), Err(PasswordError::MalformedHash));
    // Weaker argon2id parameters are accepted for verification but flagged for rehash.
    let weak = PasswordHash::from_phc(
        "$argon2id$v=19$m=16,t=2,p=1$c29tZXNhbHQ$Pmiaqj0op3zyvHKlGsUxZnYXURgvHuKS4/Z3p9pMJGc",
    )
    .unwrap();
    assert!(weak.needs_rehash());
}

#[test]
fn debug_does_not_leak() {
    let password = secret("Correct-Horse-9");
    let hash = hash_password(&password, &[7; 16]).unwrap();
    let debug = format!("{hash:?}");
    assert_eq!(debug, r#"PasswordHash { algorithm: "argon2id", .. }"#);
    let phc_hash = hash.as_phc().rsplit('$').next().unwrap();
    assert!(!debug.contains(phc_hash));
    assert!(!format!("{password:?}").contains("Correct-Horse-9"));
    let err = hash_password(&secret("correct-horse"), &[7; 16]).unwrap_err();
    assert!(!format!("{err:?} {err}").contains("correct-horse"));
}
