//! The data key cache: one unwrap per scope and time window, however many seals; bounded in time.

use custodian_core::data::{SealContext, seal};
use custodian_core::ports::{KeyManager, KeyScope};
use custodian_keystore::{Keystore, KeystoreOptions};
use custodian_testkit::fakes::{ManualClock, SeededRng};
use custodian_testkit::fixtures;
use futures::executor::block_on;
use std::sync::Arc;
use time::Duration;

use crate::support::{self, TempDir};

#[test]
fn sealing_100k_orders_of_one_tenant_unwraps_its_key_once() {
    let dir = TempDir::new("cache-100k");
    let (ks, _) = support::create(&dir.file());
    let tenant = "tenant-1".parse().unwrap();
    let scope = KeyScope::grant(&tenant, &"grant-1".parse().unwrap());
    let rng = SeededRng::new(4);
    let pii = fixtures::buyer_pii(1);
    for i in 0..100_000u32 {
        let key = block_on(ks.current_key(&scope)).unwrap();
        let ctx = SealContext::new(&tenant, "order", &format!("o-{i}"));
        seal(&key, &ctx, &pii, &rng).unwrap();
    }
    let stats = ks.stats();
    assert_eq!((stats.unwraps, stats.writes), (1, 1), "{stats:?}");
}

#[test]
fn cached_keys_expire_after_the_ttl() {
    let dir = TempDir::new("cache-ttl");
    let (ks, clock) = support::create(&dir.file());
    let scope = KeyScope::tenant(&"tenant-1".parse().unwrap());
    for _ in 0..10 {
        block_on(ks.current_key(&scope)).unwrap();
    }
    assert_eq!(ks.stats().unwraps, 1);
    clock.advance(Duration::minutes(4));
    block_on(ks.current_key(&scope)).unwrap();
    assert_eq!(ks.stats().unwraps, 1, "still fresh after 4 minutes");
    clock.advance(Duration::minutes(1));
    block_on(ks.current_key(&scope)).unwrap();
    assert_eq!(ks.stats().unwraps, 2, "unwrapped again after the 5 minute ttl");
    assert_eq!(ks.stats().cached_keys, 1);
}

#[test]
fn a_zero_ttl_disables_the_cache() {
    let dir = TempDir::new("cache-off");
    let options = KeystoreOptions { key_cache_ttl: Duration::ZERO, ..support::options() };
    let ks = Keystore::create(
        dir.file(),
        support::master(),
        Arc::new(ManualClock::default()),
        Arc::new(SeededRng::new(5)),
        options,
    )
    .unwrap();
    let scope = KeyScope::tenant(&"tenant-1".parse().unwrap());
    for _ in 0..3 {
        block_on(ks.current_key(&scope)).unwrap();
    }
    assert_eq!((ks.stats().unwraps, ks.stats().cached_keys), (3, 0));
}

#[test]
fn the_cache_holds_at_most_its_capacity() {
    let dir = TempDir::new("cache-capacity");
    let options = KeystoreOptions { key_cache_capacity: 4, ..support::options() };
    let ks = Keystore::create(
        dir.file(),
        support::master(),
        Arc::new(ManualClock::default()),
        Arc::new(SeededRng::new(6)),
        options,
    )
    .unwrap();
    for i in 0..10 {
        block_on(ks.current_key(&KeyScope::tenant(&format!("tenant-{i}").parse().unwrap()))).unwrap();
        assert!(ks.stats().cached_keys <= 4);
    }
}
