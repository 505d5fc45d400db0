//! Unit tests of the shared use-case helpers.

use custodian_core::personnel::password::{PasswordHash, verify_password};
use secrecy::SecretString;

use super::*;

#[test]
fn emails_become_lowercase_person_ids() {
    assert_eq!(person_id_from_email("  Ana@Example.COM ").unwrap().as_str(), "ana@example.com");
    for bad in ["", "ana", "@example.com", "ana@", "a@b@c", "an a@example.com", "ána@example.com"] {
        assert!(person_id_from_email(bad).is_err(), "{bad:?}");
    }
    assert!(person_id_from_email(&format!("{}@example.com", "a".repeat(200))).is_err());
}

#[test]
fn the_dummy_hash_costs_a_real_argon2id_check() {
    let hash = PasswordHash::from_phc(personnel::DUMMY_PHC).unwrap();
    assert!(!hash.needs_rehash(), "same parameters as real hashes, so the same work");
    assert!(!verify_password(&SecretString::from("Correct-Horse-42!"), &hash));
}

#[test]
fn display_texts() {
    assert_eq!(display_text("name", "  Ada  ", 10).unwrap(), "Ada");
    assert!(display_text("name", "   ", 10).is_err());
    assert!(display_text("name", "a\u{7}b", 10).is_err());
    assert!(display_text("name", "abcdefghijk", 10).is_err());
}
