//! Unit tests of the keystore internals: crypto-shredding against a restored old copy of the wrapped keys,
//! and writes interrupted at each stage of the atomic replace.

use std::collections::hash_map::RandomState;
use std::fs;
use std::hash::BuildHasher as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use custodian_core::data::{KeyVersion, SealContext, open, seal};
use custodian_core::grant::GrantId;
use custodian_core::ports::{KeyError, KeyManager, KeyScope, SecretStore, SecretStoreError};
use custodian_core::tenant::TenantId;
use custodian_testkit::fakes::{ManualClock, SeededRng};
use custodian_testkit::fixtures;
use futures::executor::block_on;
use zeroize::Zeroizing;

use super::{Keystore, KeystoreOptions};
use crate::file::{self, Stage};
use crate::master::MasterKey;
use crate::wire;

const MASTER: [u8; 32] = [0x5a; 32];

struct Dir(PathBuf);

impl Dir {
    fn new(label: &str) -> Self {
        let salt = RandomState::new().hash_one(label);
        let dir = std::env::temp_dir()
            .join(format!("custodian-keystore-unit-{label}-{}-{salt:x}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self) -> PathBuf {
        self.0.join("keys.sealed")
    }

    fn temps(&self) -> Vec<String> {
        fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp."))
            .collect()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn master() -> MasterKey {
    MasterKey::from_bytes(Zeroizing::new(MASTER))
}

fn create(path: &Path) -> Keystore {
    Keystore::create(
        path,
        master(),
        Arc::new(ManualClock::default()),
        Arc::new(SeededRng::new(7)),
        KeystoreOptions::default(),
    )
    .unwrap()
}

fn reopen(path: &Path) -> Keystore {
    Keystore::open(
        path,
        master(),
        Arc::new(ManualClock::default()),
        Arc::new(SeededRng::new(8)),
        KeystoreOptions::default(),
    )
    .unwrap()
}

fn ids() -> (TenantId, GrantId, GrantId) {
    ("tenant-1".parse().unwrap(), "grant-1".parse().unwrap(), "grant-2".parse().unwrap())
}

/// Decrypts a copy of the file with the master key (what someone holding an old copy and the key sees).
fn decrypt_copy(bytes: &[u8]) -> crate::state::State {
    let (_, _, plain) = file::open(&master(), bytes).unwrap();
    wire::decode(&plain).unwrap()
}

#[test]
fn destroyed_scope_stays_shredded_when_its_wrapped_keys_are_restored_from_an_old_copy() {
    let dir = Dir::new("shred-scope");
    let ks = create(&dir.file());
    let (t, g1, g2) = ids();
    let scope = KeyScope::grant(&t, &g1);
    let other = KeyScope::grant(&t, &g2);
    let rng = SeededRng::new(1);
    let ctx = SealContext::new(&t, "order", "o-1");
    let key = block_on(ks.current_key(&scope)).unwrap();
    let sealed = seal(&key, &ctx, &fixtures::buyer_pii(1), &rng).unwrap();
    block_on(ks.current_key(&other)).unwrap();

    // A backup taken before the purge.
    let old_copy = fs::read(dir.file()).unwrap();
    assert_eq!(block_on(ks.destroy(&scope)).unwrap(), 1);

    // Put the old copy's wrapped key material back, and even drop the tombstone.
    let old = decrypt_copy(&old_copy);
    let old_wrapped = old.wrapped.get(&scope).unwrap().clone();
    assert_eq!(old_wrapped.versions.len(), 1);
    ks.update(|state| {
        state.wrapped.insert(scope.clone(), old_wrapped.clone());
        state.destroyed_scopes.remove(&scope);
        Ok::<_, KeyError>(())
    })
    .unwrap();
    let restored = ks.read(|state| Ok::<_, KeyError>(state.wrapped.get(&scope).cloned())).unwrap();
    assert!(restored == Some(old_wrapped), "the old wrapped bytes are back in the file");

    // The wrapping secret is gone: nobody can unwrap it, through the port or directly.
    let direct = ks.read(|state| Ok::<_, KeyError>(state.unwrap_bytes(&scope, 1).map(|_| ()))).unwrap();
    assert!(matches!(direct, Err(KeyError::NotFound)), "{direct:?}");
    let through_port = block_on(ks.key(&scope, KeyVersion(1)));
    assert!(matches!(through_port, Err(KeyError::NotFound)), "{through_port:?}");
    assert!(!block_on(ks.exists(&scope)).unwrap());
    // Brute force is not an option either: the grant's other keys and the tenant's KEK do not open it.
    let other_key = block_on(ks.current_key(&other)).unwrap();
    assert!(open(&other_key, &ctx, &sealed).is_err());
    assert!(block_on(ks.exists(&other)).unwrap(), "the tenant's other grant is untouched");
}

#[test]
fn destroyed_tenant_stays_shredded_when_its_wrapped_keys_are_restored_from_an_old_copy() {
    let dir = Dir::new("shred-tenant");
    let ks = create(&dir.file());
    let (t, g1, _) = ids();
    let scopes = [KeyScope::tenant(&t), KeyScope::grant(&t, &g1)];
    for scope in &scopes {
        block_on(ks.current_key(scope)).unwrap();
    }
    block_on(ks.rotate_data_key(&scopes[0])).unwrap();
    let old_copy = fs::read(dir.file()).unwrap();
    assert_eq!(block_on(ks.destroy_tenant(&t)).unwrap(), 3);

    let old = decrypt_copy(&old_copy);
    ks.update(|state| {
        for scope in &scopes {
            state.wrapped.insert(scope.clone(), old.wrapped.get(scope).unwrap().clone());
        }
        state.destroyed_tenants.clear();
        Ok::<_, KeyError>(())
    })
    .unwrap();
    for scope in &scopes {
        for version in [1, 2] {
            let result =
                ks.read(|state| Ok::<_, KeyError>(state.unwrap_bytes(scope, version).map(|_| ()))).unwrap();
            assert!(
                matches!(result, Err(KeyError::NotFound | KeyError::VersionUnavailable(_))),
                "{result:?}"
            );
        }
    }
    assert!(
        ks.read(|state| Ok::<_, KeyError>(!state.keks.contains_key(&t))).unwrap(),
        "no KEK of the tenant"
    );
}

#[test]
fn rekey_makes_copies_sealed_under_the_old_master_key_unopenable_with_the_new_one() {
    let dir = Dir::new("rekey");
    let ks = create(&dir.file());
    let (t, g1, _) = ids();
    block_on(ks.put(&t, &g1, &fixtures::credentials("access-rekey", "refresh-rekey"), None)).unwrap();
    let old_copy = fs::read(dir.file()).unwrap();
    let new_master = [0x33u8; 32];
    ks.rekey(MasterKey::from_bytes(Zeroizing::new(new_master))).unwrap();
    let (creds, _) = block_on(ks.get(&t, &g1)).unwrap();
    assert!(creds.same_tokens(&fixtures::credentials("access-rekey", "refresh-rekey")));
    let with_new = file::open(&MasterKey::from_bytes(Zeroizing::new(new_master)), &old_copy);
    assert!(matches!(with_new, Err(crate::KeystoreError::WrongMasterKey)));
    drop(ks);
    let with_old = Keystore::open(
        dir.file(),
        master(),
        Arc::new(ManualClock::default()),
        Arc::new(SeededRng::new(9)),
        KeystoreOptions::default(),
    );
    assert!(matches!(with_old, Err(crate::KeystoreError::WrongMasterKey)), "{with_old:?}");
}

#[test]
fn a_write_interrupted_before_the_rename_loses_nothing() {
    let dir = Dir::new("crash-before-rename");
    let ks = create(&dir.file());
    let (t, g1, _) = ids();
    let v1 = fixtures::credentials("access-one", "refresh-one");
    block_on(ks.put(&t, &g1, &v1, None)).unwrap();
    let before = fs::read(dir.file()).unwrap();

    *ks.stop.lock().unwrap() = Some(Stage::BeforeRename);
    let v2 = fixtures::credentials("access-two", "refresh-two");
    let failed = block_on(ks.put(&t, &g1, &v2, Some(1)));
    assert!(matches!(failed, Err(SecretStoreError::Unavailable(_))), "{failed:?}");
    assert_eq!(fs::read(dir.file()).unwrap(), before, "the keystore file is untouched");
    assert_eq!(dir.temps().len(), 1, "the crash left a temporary file");
    let (read, version) = block_on(ks.get(&t, &g1)).unwrap();
    assert!(read.same_tokens(&v1) && version == 1, "the failed write changed nothing in memory");

    drop(ks);
    let ks = reopen(&dir.file());
    assert!(dir.temps().is_empty(), "open removed the stray temporary file");
    let (read, version) = block_on(ks.get(&t, &g1)).unwrap();
    assert!(read.same_tokens(&v1) && version == 1);
    assert_eq!(block_on(ks.put(&t, &g1, &v2, Some(1))).unwrap(), 2, "the keystore works after the crash");
}

#[test]
fn a_write_interrupted_after_the_rename_keeps_the_new_state() {
    let dir = Dir::new("crash-after-rename");
    let ks = create(&dir.file());
    let (t, g1, _) = ids();
    block_on(ks.put(&t, &g1, &fixtures::credentials("access-one", "refresh-one"), None)).unwrap();
    *ks.stop.lock().unwrap() = Some(Stage::BeforeDirSync);
    let v2 = fixtures::credentials("access-two", "refresh-two");
    assert!(block_on(ks.put(&t, &g1, &v2, Some(1))).is_err());
    drop(ks);
    let ks = reopen(&dir.file());
    let (read, version) = block_on(ks.get(&t, &g1)).unwrap();
    assert!(read.same_tokens(&v2) && version == 2, "the renamed file is whole and current");
    assert!(dir.temps().is_empty());
}

#[test]
fn a_half_written_temporary_file_is_ignored_and_removed() {
    let dir = Dir::new("crash-mid-write");
    let ks = create(&dir.file());
    let (t, g1, _) = ids();
    let v1 = fixtures::credentials("access-one", "refresh-one");
    block_on(ks.put(&t, &g1, &v1, None)).unwrap();
    let image = fs::read(dir.file()).unwrap();
    drop(ks);
    // What a crash in the middle of writing the next version leaves behind.
    fs::write(dir.0.join(".keys.sealed.tmp.4242.0"), &image[..image.len() / 2]).unwrap();
    let ks = reopen(&dir.file());
    assert!(dir.temps().is_empty());
    let (read, _) = block_on(ks.get(&t, &g1)).unwrap();
    assert!(read.same_tokens(&v1));
}
