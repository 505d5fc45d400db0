//! The sealed file: owner-only permissions, one process at a time, and a clear error for every kind of
//! damage (tampering, truncation, a wrong master key).

use std::fs;
use std::os::unix::fs::PermissionsExt as _;

use custodian_core::ports::SecretStore;
use custodian_keystore::{KeystoreError, MasterKey};
use custodian_testkit::fixtures;
use expect_test::{Expect, expect};
use futures::executor::block_on;
use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::support::{self, TempDir};

/// A keystore file holding one credential, and its bytes.
fn sample(dir: &TempDir) -> Vec<u8> {
    let (ks, _) = support::create(&dir.file());
    let creds = fixtures::credentials("access-sample", "refresh-sample");
    block_on(ks.put(&"tenant-1".parse().unwrap(), &"grant-1".parse().unwrap(), &creds, None)).unwrap();
    drop(ks);
    fs::read(dir.file()).unwrap()
}

/// Writes `damage(bytes)` over the sample file and checks the error opening it gives.
#[track_caller]
fn check(damage: impl FnOnce(&mut Vec<u8>), expect: Expect) {
    let dir = TempDir::new("damage");
    let mut bytes = sample(&dir);
    damage(&mut bytes);
    fs::write(dir.file(), &bytes).unwrap();
    fs::set_permissions(dir.file(), fs::Permissions::from_mode(0o600)).unwrap();
    let error = support::open_with(&dir.file(), support::master()).unwrap_err();
    expect.assert_eq(&error.to_string());
}

#[test]
fn damaged_files_are_refused_with_a_clear_error() {
    let header = 8 + 1 + 16 + 12 + 8;
    check(|b| b.clear(), expect!["keystore file is truncated: expected 8 bytes, found 0"]);
    check(|b| b.truncate(5), expect!["keystore file is truncated: expected 8 bytes, found 5"]);
    check(|b| b.truncate(header - 1), expect!["keystore file is truncated: expected 45 bytes, found 44"]);
    check(|b| b.truncate(header + 10), expect!["keystore file is truncated: expected 433 bytes, found 55"]);
    check(|b| b.truncate(b.len() - 1), expect!["keystore file is truncated: expected 433 bytes, found 432"]);
    check(|b| b.push(0), expect!["keystore file is malformed: trailing bytes after the ciphertext"]);
    check(
        |b| b[0] ^= 1,
        expect!["keystore file is malformed: not a custodian keystore file, or an unknown format version"],
    );
    check(|b| b[8] = 7, expect!["keystore file is malformed: unknown key derivation"]);
    check(|b| b[8] = 1, expect!["keystore file is malformed: ciphertext length is implausible"]);
    check(|b| b[header - 1] ^= 1, expect!["keystore file is truncated: expected 434 bytes, found 433"]);
    check(|b| b[header - 8] = 0xff, expect!["keystore file is malformed: ciphertext length is implausible"]);
    check(
        |b| b[9] ^= 1,
        expect![
            "master key does not match the keystore file (wrong key or passphrase, or an altered header)"
        ],
    );
    check(|b| b[30] ^= 1, expect!["keystore file failed authentication: it was modified or corrupted"]);
    check(
        |b| *b.last_mut().unwrap() ^= 1,
        expect!["keystore file failed authentication: it was modified or corrupted"],
    );
    check(
        |b| b[header + 3] ^= 0x80,
        expect!["keystore file failed authentication: it was modified or corrupted"],
    );
}

#[test]
fn a_wrong_master_key_or_kind_is_refused() {
    let dir = TempDir::new("wrong-key");
    sample(&dir);
    let wrong = MasterKey::from_bytes(Zeroizing::new([9u8; 32]));
    let error = support::open_with(&dir.file(), wrong).unwrap_err();
    assert!(matches!(error, KeystoreError::WrongMasterKey), "{error}");
    let error = support::open_with(&dir.file(), support::passphrase()).unwrap_err();
    expect!["invalid master key: the keystore file is sealed with a key, not a passphrase"]
        .assert_eq(&error.to_string());
    let from_env =
        MasterKey::from_base64(&SecretString::from(format!(" {}\n", support::MASTER_B64))).unwrap();
    support::open_with(&dir.file(), from_env).unwrap();

    let dir = TempDir::new("wrong-passphrase");
    drop(support::create_with(&dir.file(), support::passphrase(), Default::default()));
    let wrong = MasterKey::from_passphrase(SecretString::from("correct horse battery staple 43")).unwrap();
    let error = support::open_with(&dir.file(), wrong).unwrap_err();
    assert!(matches!(error, KeystoreError::WrongMasterKey), "{error}");
    support::open_with(&dir.file(), support::passphrase()).unwrap();
}

#[test]
fn master_keys_are_validated() {
    let short = MasterKey::from_base64(&SecretString::from("c2hvcnQ=")).unwrap_err();
    expect!["invalid master key: must decode to exactly 32 bytes"].assert_eq(&short.to_string());
    let garbage = MasterKey::from_base64(&SecretString::from("not base64!")).unwrap_err();
    expect!["invalid master key: not valid base64"].assert_eq(&garbage.to_string());
    let weak = MasterKey::from_passphrase(SecretString::from("hunter2")).unwrap_err();
    expect!["invalid master key: a passphrase needs at least 12 characters"].assert_eq(&weak.to_string());
}

#[test]
fn the_file_is_private_and_other_modes_are_refused() {
    let dir = TempDir::new("mode");
    sample(&dir);
    let mode = fs::metadata(dir.file()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let lock = fs::metadata(format!("{}.lock", dir.file().display())).unwrap().permissions().mode() & 0o777;
    assert_eq!(lock, 0o600);
    fs::set_permissions(dir.file(), fs::Permissions::from_mode(0o640)).unwrap();
    let error = support::open_with(&dir.file(), support::master()).unwrap_err();
    assert!(matches!(error, KeystoreError::Permissions { mode: 0o640, .. }), "{error}");
    assert!(
        error.to_string().ends_with("has mode 0640: it must be 0600 (readable by its owner only)"),
        "{error}"
    );
}

#[test]
fn a_second_open_of_the_same_file_is_refused_while_the_first_lives() {
    let dir = TempDir::new("in-use");
    sample(&dir);
    let first = support::open_with(&dir.file(), support::master()).unwrap();
    let second = support::open_with(&dir.file(), support::master()).unwrap_err();
    assert!(matches!(second, KeystoreError::InUse(_)), "{second}");
    drop(first);
    support::open_with(&dir.file(), support::master()).unwrap();
}

#[test]
fn create_and_open_do_not_confuse_a_missing_and_an_existing_file() {
    let dir = TempDir::new("exists");
    let missing = support::open_with(&dir.file(), support::master()).unwrap_err();
    assert!(matches!(missing, KeystoreError::Missing(_)), "{missing}");
    sample(&dir);
    let exists = custodian_keystore::Keystore::create(
        dir.file(),
        support::master(),
        std::sync::Arc::new(custodian_testkit::fakes::ManualClock::default()),
        std::sync::Arc::new(custodian_testkit::fakes::SeededRng::new(1)),
        support::options(),
    )
    .unwrap_err();
    assert!(matches!(exists, KeystoreError::Exists(_)), "{exists}");
    assert!(dir.path().join("custodian.keystore").exists());
}
