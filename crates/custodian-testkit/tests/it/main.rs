//! Tests of the testkit itself: the fakes pass every contract suite, each suite catches a broken
//! implementation, and the fakes' own behaviour (faults, tampering, crypto-shredding, scripts).

// `cfg(test)` marks the helpers in these modules as test code for clippy (`allow-unwrap-in-tests`).
#[cfg(test)]
mod broken;
#[cfg(test)]
mod contracts;
#[cfg(test)]
mod fakes;
#[cfg(test)]
mod fixtures;

use std::sync::Arc;

use custodian_testkit::fakes::{ManualClock, MemoryKeyManager, MemorySecretStore, MemoryStore, SeededRng};
use custodian_testkit::fixtures::T0;

/// A store, secret store and key manager sharing one manual clock.
struct Kit {
    clock: Arc<ManualClock>,
    store: MemoryStore,
    secrets: MemorySecretStore,
    keys: MemoryKeyManager,
}

fn kit() -> Kit {
    let clock = Arc::new(ManualClock::new(T0));
    Kit {
        store: MemoryStore::new(clock.clone()),
        secrets: MemorySecretStore::new(clock.clone()),
        keys: MemoryKeyManager::new(Arc::new(SeededRng::new(1))),
        clock,
    }
}
