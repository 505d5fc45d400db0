//! In-memory fakes of every port, each faithful to its port's documented contract (the `MUST` lines in
//! `custodian_core::ports`), with fault injection and inspection helpers for tests.
//!
//! - [`MemoryStore`]: every storage port over one mutex, so a change and its audit events commit together.
//! - [`MemorySecretStore`] and [`MemoryKeyManager`]: credentials with check-and-set versions, and data keys
//!   stored only wrapped under a per-tenant key-encryption key.
//! - [`ManualClock`], [`SeededRng`], [`RecordingNotifier`]: the effects.
//! - [`ScriptedPlatform`]: every platform port from a [`Script`].

mod clock;
mod keys;
mod notifier;
mod platform;
mod rng;
mod secrets;
mod store;

use std::sync::{Mutex, MutexGuard, PoisonError};

pub use clock::ManualClock;
pub use keys::{MemoryKeyManager, WrappedBackup};
pub use notifier::RecordingNotifier;
pub(crate) use platform::percent_encode;
pub use platform::{Fault, Method, SIGNATURE_HEADER, Script, ScriptedPlatform};
pub use rng::SeededRng;
pub use secrets::MemorySecretStore;
pub use store::{JobStatus, MemoryStore};

/// The error inside every `Unavailable` a fake returns on request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("injected failure: {0}")]
pub struct InjectedFailure(pub String);

impl InjectedFailure {
    pub(crate) fn boxed(what: &str) -> Box<InjectedFailure> {
        Box::new(InjectedFailure(what.to_owned()))
    }
}

/// Locks a fake's state. A panic while holding the lock (a failed assertion in a test) leaves the state as
/// it was; the fakes keep serving it rather than poisoning every later call.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
