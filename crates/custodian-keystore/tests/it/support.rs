//! Shared helpers: a temporary directory per test and keystores over it with a manual clock.

use std::collections::hash_map::RandomState;
use std::fs;
use std::hash::BuildHasher as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use custodian_keystore::{Argon2Params, Keystore, KeystoreError, KeystoreOptions, MasterKey};
use custodian_testkit::fakes::{ManualClock, SeededRng};
use secrecy::SecretString;
use zeroize::Zeroizing;

/// The raw master key of the tests.
pub(crate) const MASTER: [u8; 32] = *b"test-master-key-0123456789abcdef";
/// Its base64 form (what an operator puts in the environment).
pub(crate) const MASTER_B64: &str = "dGVzdC1tYXN0ZXIta2V5LTAxMjM0NTY3ODlhYmNkZWY=";
/// The passphrase of passphrase-sealed test keystores.
pub(crate) const PASSPHRASE: &str = "correct horse battery staple 42";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A directory removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(label: &str) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let salt = RandomState::new().hash_one(n);
        let dir = std::env::temp_dir()
            .join(format!("custodian-keystore-{label}-{}-{n}-{salt:x}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    pub(crate) fn file(&self) -> PathBuf {
        self.0.join("custodian.keystore")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn master() -> MasterKey {
    MasterKey::from_bytes(Zeroizing::new(MASTER))
}

pub(crate) fn passphrase() -> MasterKey {
    MasterKey::from_passphrase(SecretString::from(PASSPHRASE)).unwrap()
}

/// Options with cheap Argon2id costs (tests only).
pub(crate) fn options() -> KeystoreOptions {
    KeystoreOptions {
        argon2: Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 },
        ..KeystoreOptions::default()
    }
}

pub(crate) fn create_with(path: &Path, master: MasterKey, clock: Arc<ManualClock>) -> Keystore {
    Keystore::create(path, master, clock, Arc::new(SeededRng::new(1)), options()).unwrap()
}

pub(crate) fn create(path: &Path) -> (Keystore, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::default());
    (create_with(path, master(), clock.clone()), clock)
}

pub(crate) fn open_with(path: &Path, master: MasterKey) -> Result<Keystore, KeystoreError> {
    Keystore::open(path, master, Arc::new(ManualClock::default()), Arc::new(SeededRng::new(2)), options())
}
