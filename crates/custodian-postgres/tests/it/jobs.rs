//! The job queue under concurrency: several workers lease from one queue and every job runs exactly once;
//! an expired lease is reclaimed; a stale worker's completion is rejected by its fencing token.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use custodian_core::ports::{JobQueue, JobQueueError, JobSpec};
use custodian_testkit::fixtures::T0;
use time::Duration;

use crate::TestDb;

fn spec(kind: &str, i: usize) -> JobSpec {
    JobSpec {
        kind: kind.to_owned(),
        tenant: None,
        payload: format!("job {i}"),
        dedupe_key: None,
        run_at: T0,
        max_attempts: 3,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_workers_run_every_job_exactly_once() {
    let db = TestDb::with_connections(10).await;
    let store = Arc::new(db.store.clone());
    let mut ids = Vec::new();
    for i in 0..200 {
        ids.push(store.enqueue(&spec("sync", i)).await.unwrap().unwrap());
    }
    let runs: Arc<Mutex<BTreeMap<u64, usize>>> = Arc::default();
    let mut workers = Vec::new();
    for w in 0..8 {
        let (store, runs) = (store.clone(), runs.clone());
        workers.push(tokio::spawn(async move {
            let worker = format!("worker-{w}");
            let kinds = vec!["sync".to_owned()];
            while let Some(lease) = store.lease(&worker, &kinds, T0, Duration::minutes(5)).await.unwrap() {
                *runs.lock().unwrap().entry(lease.job.id).or_default() += 1;
                store.complete(&lease, T0).await.unwrap();
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 200);
    assert!(runs.values().all(|n| *n == 1), "a job ran twice");
    assert_eq!(runs.keys().copied().collect::<Vec<_>>(), ids);
    let (done,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM jobs WHERE status = 'done'").fetch_one(&db.owner).await.unwrap();
    assert_eq!(done, 200);
}

#[tokio::test]
async fn an_expired_lease_is_reclaimed_and_the_stale_worker_is_fenced_off() {
    let db = TestDb::new().await;
    let q = &db.store;
    let kinds = vec!["purge".to_owned()];
    let id = q.enqueue(&spec("purge", 0)).await.unwrap().unwrap();
    let slow = q.lease("slow", &kinds, T0, Duration::minutes(1)).await.unwrap().unwrap();
    assert!(
        q.lease("fast", &kinds, T0 + Duration::seconds(59), Duration::minutes(1)).await.unwrap().is_none()
    );
    let fast =
        q.lease("fast", &kinds, T0 + Duration::minutes(2), Duration::minutes(1)).await.unwrap().unwrap();
    assert_eq!(fast.job.id, id);
    assert!(fast.token > slow.token);
    assert_eq!(fast.job.attempts, 2);
    assert!(matches!(q.complete(&slow, T0 + Duration::minutes(2)).await, Err(JobQueueError::StaleLease)));
    assert!(matches!(q.fail(&slow, "late", T0).await, Err(JobQueueError::StaleLease)));
    assert!(matches!(
        q.renew(&slow, T0 + Duration::minutes(2), Duration::minutes(1)).await,
        Err(JobQueueError::StaleLease)
    ));
    q.complete(&fast, T0 + Duration::minutes(2)).await.unwrap();
    let (status, worker): (String, Option<String>) =
        sqlx::query_as("SELECT status, worker FROM jobs WHERE job_id = $1")
            .bind(id as i64)
            .fetch_one(&db.owner)
            .await
            .unwrap();
    // The queue keeps who completed it (not the fenced-off worker).
    assert_eq!((status.as_str(), worker.as_deref()), ("done", Some("fast")));
    assert_eq!(q.job(id).await.unwrap().worker.as_deref(), Some("fast"));
    // A job whose last attempt's lease expired is dead, not leased again.
    let id = q.enqueue(&JobSpec { max_attempts: 1, ..spec("purge", 1) }).await.unwrap().unwrap();
    q.lease("w", &kinds, T0, Duration::minutes(1)).await.unwrap().unwrap();
    assert!(q.lease("w", &kinds, T0 + Duration::hours(1), Duration::minutes(1)).await.unwrap().is_none());
    let job = q.job(id).await.unwrap();
    assert_eq!(job.last_error.as_deref(), Some("lease expired"));
}
