//! The audit chain (AUD-2): many concurrent appenders, in one process and from two store instances on the
//! same file (as two processes), never fork a chain; verification from the stored rows names the first
//! bad sequence number after a row is changed, removed or renumbered with SQL.

use custodian_core::audit::{
    ActorRef, ChainHead, Checkpoint, NewAuditEvent, TamperKind, Tampered, TenantChanged, verify,
};
use custodian_core::authz::Environment;
use custodian_core::ports::AuditLog;
use custodian_core::tenant::TenantId;
use custodian_sqlite::{SqliteStore, VerifyError};
use custodian_testkit::fixtures::T0;
use sqlx::Executor;
use time::Duration;

use crate::support::{FileStore, tenant};

fn events(task: usize, i: usize) -> Vec<NewAuditEvent> {
    (0..=(task + i) % 3)
        .map(|j| {
            NewAuditEvent::new(
                T0 + Duration::seconds((task * 1000 + i) as i64),
                ActorRef::System,
                TenantChanged::new(format!("task {task} append {i} event {j}")),
            )
        })
        .collect()
}

async fn append_many(store: SqliteStore, t: TenantId, task: usize, appends: usize) -> usize {
    let mut n = 0;
    for i in 0..appends {
        let batch = events(task, i);
        n += batch.len();
        store.append(&t, batch).await.unwrap();
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appenders_never_fork_the_chain() {
    let f = FileStore::new().await;
    // A second store on the same file: another process, serialized only by SQLite's write lock.
    let other = SqliteStore::open(f.db_path(), Environment::Development, f.clock.clone()).await.unwrap();
    let shared = tenant("shared-chain");
    let mut tasks = Vec::new();
    for task in 0..16 {
        let store = if task % 2 == 0 { f.store.clone() } else { other.clone() };
        let t = if task % 4 == 3 { tenant("other-chain") } else { shared.clone() };
        tasks.push(tokio::spawn(append_many(store, t, task, 25)));
    }
    let mut total = 0;
    for (task, handle) in tasks.into_iter().enumerate() {
        let n = handle.await.unwrap();
        if task % 4 != 3 {
            total += n;
        }
    }
    let head = f.store.head(&shared).await.unwrap();
    assert_eq!(head.seq, total as u64);
    let records = f.store.read(&shared, 0, u32::MAX).await.unwrap();
    assert_eq!(records.len(), total);
    assert_eq!(verify(&ChainHead::genesis(shared.clone()), &records).unwrap(), head);
    assert_eq!(f.store.verify_chain(&shared).await.unwrap(), head);
    assert_eq!(
        other.verify_chain(&tenant("other-chain")).await.unwrap().seq,
        other.head(&tenant("other-chain")).await.unwrap().seq
    );
    other.close().await;
}

/// Appends 10 single-event batches and returns the store.
async fn chain_of_ten() -> (FileStore, TenantId) {
    let f = FileStore::new().await;
    let t = tenant("tampered");
    for i in 0..10 {
        f.store.append(&t, events(0, i * 3)).await.unwrap();
    }
    assert_eq!(f.store.head(&t).await.unwrap().seq, 10);
    (f, t)
}

#[track_caller]
fn check(result: Result<ChainHead, VerifyError>, seq: u64, kind: TamperKind) {
    match result {
        Err(VerifyError::Tampered(found)) => assert_eq!(found, Tampered { seq, kind }),
        other => panic!("expected tampering at seq {seq} ({kind}), got {other:?}"),
    }
}

#[tokio::test]
async fn verification_names_the_first_tampered_seq() {
    // (what an attacker with database access does, the first bad seq, what is wrong)
    let cases: [(&str, u64, TamperKind); 7] = [
        // Flip one byte inside record 5's text (it still decodes; its hash no longer matches).
        (
            "UPDATE audit_records SET record = CAST(substr(record, 1, 80) || x'7a' || substr(record, 82) AS BLOB) \
             WHERE tenant_id = 'tampered' AND seq = 5",
            5,
            TamperKind::HashMismatch,
        ),
        // Garble record 4 so that it no longer decodes.
        (
            "UPDATE audit_records SET record = x'00' WHERE tenant_id = 'tampered' AND seq = 4",
            4,
            TamperKind::HashMismatch,
        ),
        // Remove record 3.
        ("DELETE FROM audit_records WHERE tenant_id = 'tampered' AND seq = 3", 3, TamperKind::SequenceGap),
        // Renumber record 6's row.
        (
            "UPDATE audit_records SET seq = 60 WHERE tenant_id = 'tampered' AND seq = 6",
            6,
            TamperKind::SequenceGap,
        ),
        // Replace record 7 with a copy of record 8.
        (
            "UPDATE audit_records SET record = (SELECT record FROM audit_records WHERE tenant_id = 'tampered' \
             AND seq = 8) WHERE tenant_id = 'tampered' AND seq = 7",
            7,
            TamperKind::SequenceGap,
        ),
        // Cut the last record off.
        ("DELETE FROM audit_records WHERE tenant_id = 'tampered' AND seq = 10", 10, TamperKind::SequenceGap),
        // Move record 2 to another tenant's chain.
        (
            "UPDATE audit_records SET tenant_id = 'elsewhere' WHERE tenant_id = 'tampered' AND seq = 2",
            2,
            TamperKind::SequenceGap,
        ),
    ];
    for (sql, seq, kind) in cases {
        let (f, t) = chain_of_ten().await;
        assert!(f.store.verify_chain(&t).await.is_ok());
        f.raw().await.execute(sql).await.unwrap();
        check(f.store.verify_chain(&t).await, seq, kind);
    }
}

#[tokio::test]
async fn verification_starts_from_the_latest_checkpoint() {
    let (f, t) = chain_of_ten().await;
    let records = f.store.read(&t, 0, 100).await.unwrap();
    let cp = Checkpoint::new(None, &records[3].head(), T0 + Duration::days(1));
    assert_eq!(f.store.checkpoint_and_truncate(&cp).await.unwrap(), 4);
    let head = f.store.verify_chain(&t).await.unwrap();
    assert_eq!(head, f.store.head(&t).await.unwrap());

    // A checkpoint rewritten in the database breaks its digest.
    f.raw()
        .await
        .execute("UPDATE audit_checkpoints SET at = at + 1 WHERE tenant_id = 'tampered'")
        .await
        .unwrap();
    check(f.store.verify_chain(&t).await, 4, TamperKind::HashMismatch);
}

#[tokio::test]
async fn checkpoints_must_vouch_for_the_stored_chain() {
    let (f, t) = chain_of_ten().await;
    let records = f.store.read(&t, 0, 100).await.unwrap();
    let mut wrong = records[3].head();
    wrong.hash = records[4].hash;
    let forged = Checkpoint::new(None, &wrong, T0);
    assert!(matches!(
        f.store.checkpoint_and_truncate(&forged).await,
        Err(custodian_core::ports::StoreError::Conflict(_))
    ));
    let mut beyond = records[9].head();
    beyond.seq = 11;
    assert!(f.store.checkpoint_and_truncate(&Checkpoint::new(None, &beyond, T0)).await.is_err());
    assert_eq!(f.store.read(&t, 0, 100).await.unwrap().len(), 10, "a refused checkpoint deleted records");
}

/// Group commit (AUD-2): concurrent appends to many tenants share transactions; when the database refuses
/// the writes, every caller gets the error and nothing is written; once it accepts them again, the chains
/// continue gapless from where they were, and each caller's head is where its own events end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_failures_reach_every_caller_and_lose_or_duplicate_nothing() {
    let f = FileStore::new().await;
    let tenants: Vec<TenantId> = (0..4).map(|i| tenant(&format!("group-{i}"))).collect();
    for t in &tenants {
        f.store.append(t, events(0, 0)).await.unwrap();
    }
    let heads: Vec<u64> = {
        let mut h = Vec::new();
        for t in &tenants {
            h.push(f.store.head(t).await.unwrap().seq);
        }
        h
    };
    let mut raw = f.raw().await;
    raw.execute(
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, 'refused'); END",
    )
    .await
    .unwrap();
    let calls = (0..40).map(|i| {
        let (store, t) = (f.store.clone(), tenants[i % 4].clone());
        tokio::spawn(async move { store.append(&t, events(1, i)).await })
    });
    for handle in calls.collect::<Vec<_>>() {
        assert!(handle.await.unwrap().is_err(), "an append the database refused reported success");
    }
    for (t, seq) in tenants.iter().zip(&heads) {
        assert_eq!(f.store.head(t).await.unwrap().seq, *seq, "a refused append moved a head");
    }
    raw.execute("DROP TRIGGER refuse_audit").await.unwrap();
    let calls = (0..40).map(|i| {
        let (store, t) = (f.store.clone(), tenants[i % 4].clone());
        tokio::spawn(async move { (i, store.append(&t, events(2, i)).await.unwrap()) })
    });
    let mut answered = Vec::new();
    for handle in calls.collect::<Vec<_>>() {
        answered.push(handle.await.unwrap());
    }
    for (k, t) in tenants.iter().enumerate() {
        let records = f.store.read(t, 0, u32::MAX).await.unwrap();
        let added: usize = (0..40).filter(|i| i % 4 == k).map(|i| events(2, i).len()).sum();
        assert_eq!(records.len(), heads[k] as usize + added, "events lost or written twice");
        let head = f.store.verify_chain(t).await.unwrap();
        assert_eq!(head.seq, records.len() as u64);
        for (i, returned) in answered.iter().filter(|(i, _)| i % 4 == k) {
            let mine = events(2, *i);
            let first = (returned.seq - mine.len() as u64) as usize;
            let own = &records[first..returned.seq as usize];
            assert!(
                own.iter().zip(&mine).all(|(r, e)| r.event == e.event),
                "append {i} is not where it was told"
            );
            assert_eq!(own.last().unwrap().head(), *returned);
        }
    }
}
