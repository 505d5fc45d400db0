//! [`Keystore`]: opening and creating the sealed file, and the read and update cycle every operation goes
//! through (decrypt, act, re-seal, write atomically).

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use custodian_core::ports::{Clock, Rng};
use time::Duration;

use crate::cache::KeyCache;
use crate::error::KeystoreError;
use crate::file::{self, Stage};
use crate::master::{Argon2Params, FileKeys, Kdf, MasterKey};
use crate::state::State;
use crate::wire;

/// Tuning of a [`Keystore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeystoreOptions {
    /// How long an unwrapped data key stays cached in memory (default 5 minutes; zero disables the cache).
    pub key_cache_ttl: Duration,
    /// The most data keys cached at once (default 10,000).
    pub key_cache_capacity: usize,
    /// Argon2id costs for files sealed with a passphrase, used when creating or re-keying one.
    pub argon2: Argon2Params,
}

impl Default for KeystoreOptions {
    fn default() -> Self {
        Self {
            key_cache_ttl: Duration::minutes(5),
            key_cache_capacity: 10_000,
            argon2: Argon2Params::default(),
        }
    }
}

/// Counters of a [`Keystore`], for tests and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeystoreStats {
    /// Data keys unwrapped (cache misses).
    pub unwraps: u64,
    /// Times the sealed contents were decrypted.
    pub decryptions: u64,
    /// Files written.
    pub writes: u64,
    /// Data keys in the cache now.
    pub cached_keys: usize,
}

/// Credentials and data keys in one sealed local file. See the crate documentation for the design.
///
/// One process per file: a second [`Keystore::open`] of the same path fails with
/// [`KeystoreError::InUse`] while this one lives. Calls are serialized; each one that changes something
/// writes the whole file before it returns (synchronous file IO, a few milliseconds).
pub struct Keystore {
    path: PathBuf,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) rng: Arc<dyn Rng>,
    options: KeystoreOptions,
    pub(crate) cache: KeyCache,
    inner: Mutex<Inner>,
    _lock: File,
    pub(crate) unwraps: AtomicU64,
    decryptions: AtomicU64,
    writes: AtomicU64,
    /// Stops the next write at a stage, to simulate a crash (tests).
    #[cfg(test)]
    pub(crate) stop: Mutex<Option<Stage>>,
}

/// What stays in memory between calls: the derived file keys and the sealed file, nothing decrypted.
struct Inner {
    keys: FileKeys,
    kdf: Kdf,
    sealed: Vec<u8>,
}

impl Keystore {
    /// Creates a new, empty keystore at `path` (the directory must exist). Fails if the file exists.
    pub fn create(
        path: impl Into<PathBuf>,
        master: MasterKey,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
        options: KeystoreOptions,
    ) -> Result<Self, KeystoreError> {
        let path = path.into();
        let lock = file::lock(&path)?;
        if path.exists() {
            return Err(KeystoreError::Exists(path));
        }
        file::remove_stray_temps(&path)?;
        let kdf = new_kdf(&master, &options, rng.as_ref())?;
        let keys = master.derive(&kdf)?;
        let plain = wire::encode(&State::default())?;
        let sealed = file::seal(&keys, &kdf, &plain, rng.as_ref())?;
        file::create(&path, &sealed)?;
        tracing::info!(path = %path.display(), "keystore created");
        Ok(Self::assemble(path, clock, rng, options, Inner { keys, kdf, sealed }, lock))
    }

    /// Opens the keystore at `path`. Fails if it is missing, accessible by other users, sealed under another
    /// master key, truncated or changed in any way, or open in another process. Removes temporary files
    /// left by an interrupted write.
    pub fn open(
        path: impl Into<PathBuf>,
        master: MasterKey,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
        options: KeystoreOptions,
    ) -> Result<Self, KeystoreError> {
        let path = path.into();
        let lock = file::lock(&path)?;
        let sealed = file::read(&path)?;
        let removed = file::remove_stray_temps(&path)?;
        if removed > 0 {
            tracing::warn!(path = %path.display(), removed, "removed temporary files of an interrupted write");
        }
        let (keys, kdf, plain) = file::open(&master, &sealed)?;
        wire::decode(&plain)?;
        tracing::info!(path = %path.display(), "keystore opened");
        Ok(Self::assemble(path, clock, rng, options, Inner { keys, kdf, sealed }, lock))
    }

    fn assemble(
        path: PathBuf,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
        options: KeystoreOptions,
        inner: Inner,
        lock: File,
    ) -> Self {
        Self {
            path,
            clock,
            rng,
            cache: KeyCache::new(options.key_cache_ttl, options.key_cache_capacity),
            options,
            inner: Mutex::new(inner),
            _lock: lock,
            unwraps: AtomicU64::new(0),
            decryptions: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            #[cfg(test)]
            stop: Mutex::new(None),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Counters since this keystore was opened.
    pub fn stats(&self) -> KeystoreStats {
        KeystoreStats {
            unwraps: self.unwraps.load(Ordering::Relaxed),
            decryptions: self.decryptions.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            cached_keys: self.cache.len(),
        }
    }

    /// Re-seals the file under `master` (a new key, or a passphrase with [`KeystoreOptions::argon2`]).
    /// Copies of the file sealed under the old master key can no longer be opened once that key is gone:
    /// run it after a purge to make earlier copies of the file useless too (RET-3).
    pub fn rekey(&self, master: MasterKey) -> Result<(), KeystoreError> {
        let mut inner = self.lock();
        let plain = file::decrypt(&inner.keys, &inner.sealed)?;
        let kdf = new_kdf(&master, &self.options, self.rng.as_ref())?;
        let keys = master.derive(&kdf)?;
        let sealed = file::seal(&keys, &kdf, &plain, self.rng.as_ref())?;
        file::write_atomic(&self.path, &sealed, self.stop_stage())?;
        self.writes.fetch_add(1, Ordering::Relaxed);
        *inner = Inner { keys, kdf, sealed };
        tracing::info!(path = %self.path.display(), "keystore re-keyed");
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn stop_stage(&self) -> Option<Stage> {
        self.stop.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    #[cfg(not(test))]
    fn stop_stage(&self) -> Option<Stage> {
        None
    }

    fn decrypt(&self, inner: &Inner) -> Result<State, KeystoreError> {
        let plain = file::decrypt(&inner.keys, &inner.sealed)?;
        self.decryptions.fetch_add(1, Ordering::Relaxed);
        wire::decode(&plain)
    }

    /// Runs `f` on the decrypted contents.
    pub(crate) fn read<T, E: From<KeystoreError>>(
        &self,
        f: impl FnOnce(&State) -> Result<T, E>,
    ) -> Result<T, E> {
        let inner = self.lock();
        let state = self.decrypt(&inner)?;
        f(&state)
    }

    /// Runs `f` on the decrypted contents and, if it succeeds, writes the result atomically before
    /// returning. If `f` or the write fails, nothing changes.
    pub(crate) fn update<T, E: From<KeystoreError>>(
        &self,
        f: impl FnOnce(&mut State) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut inner = self.lock();
        let mut state = self.decrypt(&inner)?;
        let out = f(&mut state)?;
        state.generation = state.generation.wrapping_add(1);
        let plain = wire::encode(&state)?;
        let sealed = file::seal(&inner.keys, &inner.kdf, &plain, self.rng.as_ref())?;
        file::write_atomic(&self.path, &sealed, self.stop_stage())?;
        self.writes.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(generation = state.generation, bytes = sealed.len(), "keystore written");
        inner.sealed = sealed;
        Ok(out)
    }
}

fn new_kdf(master: &MasterKey, options: &KeystoreOptions, rng: &dyn Rng) -> Result<Kdf, KeystoreError> {
    if master.is_passphrase() {
        options.argon2.check()?;
        let mut salt = [0u8; 16];
        rng.fill(&mut salt);
        Ok(Kdf::Argon2id { params: options.argon2, salt })
    } else {
        Ok(Kdf::Raw)
    }
}

impl fmt::Debug for Keystore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keystore")
            .field("path", &self.path)
            .field("options", &self.options)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
