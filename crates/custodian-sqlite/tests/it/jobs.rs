//! The job queue under concurrent workers, in one process and from two store instances on one file (two
//! processes): every job runs exactly once, an expired lease is reclaimed, a stale worker's completion is
//! refused by its fencing token, and failed attempts wait for their retry time.

use std::collections::BTreeMap;

use custodian_core::authz::Environment;
use custodian_core::ports::{JobQueue, JobQueueError, JobSpec};
use custodian_sqlite::SqliteStore;
use custodian_testkit::fixtures::T0;
use time::{Duration, OffsetDateTime};

use crate::support::FileStore;

fn spec(kind: &str, run_at: OffsetDateTime) -> JobSpec {
    JobSpec {
        kind: kind.to_owned(),
        tenant: None,
        payload: "{}".to_owned(),
        dedupe_key: None,
        run_at,
        max_attempts: 3,
    }
}

async fn worker(store: SqliteStore, name: String) -> Vec<u64> {
    let kinds = vec!["sync".to_owned()];
    let mut done = Vec::new();
    loop {
        let Some(lease) = store.lease(&name, &kinds, T0, Duration::minutes(5)).await.unwrap() else { break };
        // A little work, so leases overlap across workers.
        tokio::task::yield_now().await;
        store.complete(&lease, T0).await.unwrap();
        done.push(lease.job.id);
    }
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_workers_run_every_job_exactly_once() {
    let f = FileStore::new().await;
    let other = SqliteStore::open(f.db_path(), Environment::Development, f.clock.clone()).await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..300 {
        ids.push(f.store.enqueue(&spec("sync", T0)).await.unwrap().unwrap());
    }
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let store = if i % 2 == 0 { f.store.clone() } else { other.clone() };
            tokio::spawn(worker(store, format!("worker-{i}")))
        })
        .collect();
    let mut runs: BTreeMap<u64, usize> = BTreeMap::new();
    for handle in handles {
        for id in handle.await.unwrap() {
            *runs.entry(id).or_default() += 1;
        }
    }
    assert_eq!(runs.len(), ids.len(), "some jobs never ran");
    assert!(runs.values().all(|n| *n == 1), "a job ran twice: {runs:?}");
    other.close().await;
}

#[tokio::test]
async fn expired_leases_are_reclaimed_and_stale_workers_fenced_off() {
    let f = FileStore::new().await;
    let other = SqliteStore::open(f.db_path(), Environment::Development, f.clock.clone()).await.unwrap();
    let kinds = vec!["sync".to_owned()];
    let id = f.store.enqueue(&spec("sync", T0)).await.unwrap().unwrap();
    let stale = f.store.lease("a", &kinds, T0, Duration::minutes(1)).await.unwrap().unwrap();
    assert!(
        other.lease("b", &kinds, T0 + Duration::seconds(59), Duration::minutes(1)).await.unwrap().is_none()
    );
    let current =
        other.lease("b", &kinds, T0 + Duration::minutes(1), Duration::minutes(1)).await.unwrap().unwrap();
    assert_eq!(current.job.id, id);
    assert!(current.token > stale.token);
    assert_eq!(current.job.attempts, 2);
    for res in [
        f.store.complete(&stale, T0 + Duration::minutes(1)).await,
        f.store.fail(&stale, "late", T0 + Duration::minutes(2)).await,
        f.store.renew(&stale, T0 + Duration::seconds(61), Duration::minutes(1)).await.map(|_| ()),
    ] {
        assert!(matches!(res, Err(JobQueueError::StaleLease)), "{res:?}");
    }
    other.complete(&current, T0 + Duration::minutes(1)).await.unwrap();
    assert!(
        f.store.lease("c", &kinds, T0 + Duration::days(1), Duration::minutes(1)).await.unwrap().is_none()
    );
    other.close().await;
}

#[tokio::test]
async fn failed_attempts_wait_for_their_retry_time_then_die() {
    let f = FileStore::new().await;
    let kinds = vec!["sync".to_owned()];
    let id = f.store.enqueue(&spec("sync", T0)).await.unwrap().unwrap();
    let mut now = T0;
    for attempt in 1..=3u32 {
        let lease = f.store.lease("w", &kinds, now, Duration::minutes(1)).await.unwrap().unwrap();
        assert_eq!((lease.job.id, lease.job.attempts), (id, attempt));
        let backoff = Duration::minutes(2_i64.pow(attempt));
        f.store.fail(&lease, &format!("attempt {attempt}\0 failed"), now + backoff).await.unwrap();
        assert!(
            f.store
                .lease("w", &kinds, now + backoff - Duration::seconds(1), Duration::minutes(1))
                .await
                .unwrap()
                .is_none()
        );
        now += backoff;
    }
    let job = f.store.job(id).await.unwrap();
    assert_eq!(job.attempts, 3);
    assert_eq!(job.last_error.as_deref(), Some("attempt 3 failed"));
    assert!(
        f.store.lease("w", &kinds, now + Duration::days(365), Duration::minutes(1)).await.unwrap().is_none()
    );
}
