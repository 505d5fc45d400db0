//! Bad input (NUL bytes, text over the schema's limits, numbers and instants the store cannot hold,
//! another tenant's record in a batch) is a clear `Invalid` error, never a panic, and writes nothing.

use custodian_core::audit::{ActorRef, NewAuditEvent, TenantChanged};
use custodian_core::data::{RecordKind, ReportLevel};
use custodian_core::personnel::{ApiKeyId, PersonId};
use custodian_core::platform::{Platform, Task};
use custodian_core::ports::{
    AuditLog, Cursor, DatasetStore, GrantStore, IngestBatch, JobQueue, JobQueueError, JobSpec,
    PersonnelStore, StoreError, SyncCheckpoint, TenantStore,
};
use custodian_core::tenant::ContactId;
use custodian_testkit::fakes::SeededRng;
use custodian_testkit::fixtures::{self, T0};
use time::macros::{date, datetime};

use crate::support::{grant, memory, setup, tenant};

#[track_caller]
fn check<T: std::fmt::Debug>(result: Result<T, StoreError>, expect: &str) {
    match result {
        Err(StoreError::Invalid(why)) => {
            assert!(why.contains(expect), "expected `{expect}` in `{why}`");
            assert!(!why.ends_with('.') && why.chars().next().is_some_and(|c| !c.is_uppercase()), "{why}");
        }
        other => panic!("expected invalid input ({expect}), got {other:?}"),
    }
}

fn audit() -> Vec<NewAuditEvent> {
    vec![NewAuditEvent::new(T0, ActorRef::System, TenantChanged::new("input"))]
}

#[tokio::test]
async fn bad_input_is_invalid_and_writes_nothing() {
    let (store, _clock) = memory().await;
    let t = tenant("input");
    let account = fixtures::account(Platform::Meta, 1);
    setup(&store, &t, &grant("g1"), Platform::Meta, &account).await;
    let target = fixtures::target(&t, &grant("g1"), &account);
    let head = store.head(&t).await.unwrap();
    let rows = |n| fixtures::report_rows(&target, ReportLevel::Ad, date!(2024 - 12 - 01), 7, n);
    let batch = |records| IngestBatch { tenant: t.clone(), records, checkpoint: None, audit: audit() };

    let mut huge = rows(2);
    huge[1].metrics.impressions = u64::MAX;
    check(store.upsert_report_rows(batch(huge)).await, "impressions");

    let mut foreign = rows(2);
    foreign[1].tenant = tenant("someone-else");
    check(store.upsert_report_rows(batch(foreign)).await, "tenant `someone-else`");

    check(store.upsert_report_rows(batch(rows(100_001))).await, "at most 100000");

    let mut late = fixtures::campaigns(&target, 1, T0);
    late[0].updated_at = datetime!(2300-01-01 00:00 UTC);
    check(
        store
            .upsert_campaigns(IngestBatch {
                tenant: t.clone(),
                records: late,
                checkpoint: None,
                audit: audit(),
            })
            .await,
        "storable range",
    );

    let cp = SyncCheckpoint {
        tenant: t.clone(),
        grant: grant("g1"),
        task: Task::ReadReporting,
        account: account.clone(),
        cursor: Some(Cursor("page\0two".to_owned())),
        watermark: None,
        updated_at: T0,
    };
    check(
        store
            .upsert_report_rows(IngestBatch {
                tenant: t.clone(),
                records: rows(1),
                checkpoint: Some(cp.clone()),
                audit: audit(),
            })
            .await,
        "NUL",
    );
    let long = SyncCheckpoint { cursor: Some(Cursor("x".repeat(5_000))), ..cp };
    check(
        store
            .upsert_report_rows(IngestBatch {
                tenant: t.clone(),
                records: rows(1),
                checkpoint: Some(long),
                audit: audit(),
            })
            .await,
        "longer than",
    );

    let key = fixtures::data_key("input", 1);
    let mut contact =
        fixtures::contact(&t, &ContactId::new("c").unwrap(), 1, &key, &SeededRng::new(3)).unwrap();
    contact.role = "lead\0".to_owned();
    check(store.put_contact(&contact, audit()).await, "NUL");
    contact.role = "r".repeat(4_097);
    check(store.put_contact(&contact, audit()).await, "longer than 4096 bytes");

    check(store.delete_records(&t, RecordKind::ReportRow, &["a\0b".to_owned()], audit()).await, "NUL");
    check(store.purge(&t, None, RecordKind::Order, 0, audit()).await, "at least 1");

    let p = PersonId::new("p").unwrap();
    let mut person = fixtures::person(&p, &[], &[]);
    person.display_name = "Eve\0".to_owned();
    check(store.create_person(&person, &fixtures::credential(&p), audit()).await, "NUL");
    let mut api_key = fixtures::api_key(&ApiKeyId::new("k").unwrap(), &[], &[], &p, T0);
    api_key.name = "n".repeat(10_000);
    check(store.create_api_key(&api_key, &fixtures::token_hash("k"), audit()).await, "longer than");

    let mut g = fixtures::active_grant(&t, &grant("g2"), Platform::Meta, &[], T0);
    g.created_at = datetime!(1500-01-01 00:00 UTC);
    check(store.insert_grant(&g, audit()).await, "storable range");

    // Nothing above reached the database or the chain.
    assert_eq!(store.count(&t, None, RecordKind::ReportRow).await.unwrap(), 0);
    assert!(store.contacts(&t).await.unwrap().is_empty());
    assert!(matches!(store.person(&p).await, Err(StoreError::NotFound)));
    assert_eq!(store.head(&t).await.unwrap(), head);
}

#[tokio::test]
async fn bad_jobs_are_invalid() {
    let (store, _clock) = memory().await;
    let spec = JobSpec {
        kind: "sync".to_owned(),
        tenant: None,
        payload: String::new(),
        dedupe_key: None,
        run_at: T0,
        max_attempts: 1,
    };
    let cases = [
        JobSpec { kind: "sy\0nc".to_owned(), ..spec.clone() },
        JobSpec { kind: "k".repeat(129), ..spec.clone() },
        JobSpec { payload: "\0".to_owned(), ..spec.clone() },
        JobSpec { payload: "p".repeat(4_097), ..spec.clone() },
        JobSpec { dedupe_key: Some(String::new()), ..spec.clone() },
        JobSpec { max_attempts: 0, ..spec.clone() },
        JobSpec { run_at: datetime!(2999-01-01 00:00 UTC), ..spec.clone() },
    ];
    for bad in cases {
        let res = store.enqueue(&bad).await;
        assert!(matches!(res, Err(JobQueueError::Invalid(_))), "{bad:?} gave {res:?}");
    }
    let kinds = vec!["sync".to_owned()];
    let res = store.lease("w\0", &kinds, T0, time::Duration::minutes(1)).await;
    assert!(matches!(res, Err(JobQueueError::Invalid(_))), "{res:?}");
    let res = store.lease("w", &kinds, T0, time::Duration::ZERO).await;
    assert!(matches!(res, Err(JobQueueError::Invalid(_))), "{res:?}");
    assert!(matches!(store.job(u64::MAX).await, Err(JobQueueError::NotFound)));
}
