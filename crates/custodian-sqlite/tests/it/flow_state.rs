//! The flow state across processes: two stores opened on one file (as two `custodian serve` processes
//! would) share pending consents and signal claims, a consent is taken once and a signal claimed once even
//! when both race, and the file holds the hash of a consent's state, never the state.

use std::sync::Arc;

use custodian_core::audit::Hash;
use custodian_core::authz::Environment;
use custodian_core::ports::{ConsentInitiator, GrantStore, PendingConsent};
use custodian_sqlite::SqliteStore;
use custodian_testkit::fixtures::T0;
use futures::future::join_all;
use sqlx::Row;
use time::Duration;

use crate::support::{FileStore, grant, tenant};

const STATE: &str = "state-k3j5h2g4f6d8s0a9";

fn consent() -> PendingConsent {
    PendingConsent {
        state_hash: PendingConsent::hash_state(STATE),
        platform: custodian_core::platform::Platform::Ebay,
        tenant: tenant("t-flow"),
        grant: grant("g-flow"),
        initiator: ConsentInitiator::ApiKey("key-flow".parse().unwrap()),
        redirect_uri: "https://custodian.example/v1/oauth/ebay/callback".to_owned(),
        expires_at: T0 + Duration::hours(1),
    }
}

/// The store of the fixture and a second one on the same file.
async fn two_processes() -> (FileStore, Arc<SqliteStore>) {
    let f = FileStore::new().await;
    let other = SqliteStore::open(f.db_path(), Environment::Development, f.clock.clone()).await.unwrap();
    (f, Arc::new(other))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_consent_put_by_one_process_is_taken_once_by_racing_processes() {
    let (f, other) = two_processes().await;
    let stores: [&SqliteStore; 2] = [&f.store, &other];
    f.store.put_consent(&consent(), 10, T0).await.unwrap();
    let takes = join_all((0..16).map(|i| {
        let store = stores[i % 2].clone();
        tokio::spawn(async move { store.take_consent(&PendingConsent::hash_state(STATE), T0).await })
    }))
    .await;
    let taken: Vec<PendingConsent> = takes.into_iter().filter_map(|t| t.unwrap().unwrap()).collect();
    assert_eq!(taken, vec![consent()], "exactly one take wins, and gets the consent whole");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_signal_is_claimed_once_by_racing_processes_and_released_for_both() {
    let (f, other) = two_processes().await;
    let stores: [&SqliteStore; 2] = [&f.store, &other];
    let key = Hash::of(b"ebay\0/v1/webhooks/ebay\0body");
    let claims = join_all((0..16).map(|i| {
        let store = stores[i % 2].clone();
        tokio::spawn(async move { store.claim_signal(&key, T0, Duration::days(7)).await })
    }))
    .await;
    let won = claims.into_iter().filter(|c| *c.as_ref().unwrap().as_ref().unwrap()).count();
    assert_eq!(won, 1);
    assert!(!other.claim_signal(&key, T0 + Duration::days(1), Duration::days(7)).await.unwrap(), "a replay");
    f.store.release_signal(&key).await.unwrap();
    assert!(other.claim_signal(&key, T0 + Duration::days(1), Duration::days(7)).await.unwrap(), "released");
}

#[tokio::test]
async fn the_file_holds_the_hash_of_a_state_never_the_state() {
    let f = FileStore::new().await;
    f.store.put_consent(&consent(), 10, T0).await.unwrap();
    let mut raw = f.raw().await;
    let row = sqlx::query("SELECT * FROM pending_consents").fetch_one(&mut raw).await.unwrap();
    let hash: Vec<u8> = row.get("state_hash");
    assert_eq!(hash, PendingConsent::hash_state(STATE).0.to_vec());
    let dump: Vec<String> = sqlx::query_scalar(
        "SELECT quote(state_hash) || platform || tenant || grant_id || quote(initiator_session) || \
         quote(initiator_api_key) || redirect_uri || expires_at FROM pending_consents",
    )
    .fetch_all(&mut raw)
    .await
    .unwrap();
    assert_eq!(dump.len(), 1);
    assert!(!dump[0].contains(STATE), "{}", dump[0]);
    let bytes = std::fs::read(f.db_path()).unwrap();
    let wal = std::fs::read(format!("{}-wal", f.db_path().display())).unwrap_or_default();
    for file in [bytes, wal] {
        assert!(!file.windows(STATE.len()).any(|w| w == STATE.as_bytes()), "the state reached the file");
    }
}
