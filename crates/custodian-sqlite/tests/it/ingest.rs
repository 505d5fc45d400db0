//! Bulk ingest: exact counts (duplicates in a page included), re-ingesting changes nothing, a page failing
//! midway or an audit append failing leaves nothing written, and the checkpoint commits with the page.

use custodian_core::audit::{ActorRef, NewAuditEvent, TenantChanged};
use custodian_core::data::{RecordKind, ReportLevel, ReportRow};
use custodian_core::platform::{Platform, Task};
use custodian_core::ports::{
    AuditLog, Cursor, DatasetStore, IngestBatch, StoreError, SyncCheckpoint, TenantStore, UpsertCounts,
};
use custodian_core::tenant::TenantId;
use custodian_testkit::fixtures::{self, T0};
use sqlx::Executor;
use time::macros::date;

use crate::support::{FileStore, grant, memory, query, setup, tenant};

fn event(text: &str) -> Vec<NewAuditEvent> {
    vec![NewAuditEvent::new(T0, ActorRef::System, TenantChanged::new(text))]
}

fn counts(inserted: u64, updated: u64, unchanged: u64) -> UpsertCounts {
    UpsertCounts { inserted, updated, unchanged }
}

fn rows(t: &TenantId, n: usize) -> Vec<ReportRow> {
    let account = fixtures::account(Platform::Meta, 1);
    fixtures::report_rows(
        &fixtures::target(t, &grant("g1"), &account),
        ReportLevel::Ad,
        date!(2024 - 12 - 01),
        30,
        n,
    )
}

fn checkpoint(t: &TenantId, cursor: &str) -> SyncCheckpoint {
    SyncCheckpoint {
        tenant: t.clone(),
        grant: grant("g1"),
        task: Task::ReadReporting,
        account: fixtures::account(Platform::Meta, 1),
        cursor: Some(Cursor(cursor.to_owned())),
        watermark: Some(T0),
        updated_at: T0,
    }
}

async fn ready(store: &custodian_sqlite::SqliteStore) -> TenantId {
    let t = tenant("ingest");
    setup(store, &t, &grant("g1"), Platform::Meta, &fixtures::account(Platform::Meta, 1)).await;
    t
}

#[track_caller]
fn check(got: UpsertCounts, expect: UpsertCounts) {
    assert_eq!(got, expect);
}

#[tokio::test]
async fn counts_are_exact_and_re_ingest_changes_nothing() {
    let (store, clock) = memory().await;
    let t = ready(&store).await;
    let page = rows(&t, 5_000);
    let batch = |records, audit| IngestBatch { tenant: t.clone(), records, checkpoint: None, audit };

    check(store.upsert_report_rows(batch(page.clone(), event("p1"))).await.unwrap(), counts(5_000, 0, 0));
    let before = store.report_rows(&query(&t)).await.unwrap();
    let stored_at = store
        .expired(
            &t,
            RecordKind::ReportRow,
            custodian_core::data::DataClass::ReportingDataset,
            T0 + time::Duration::days(1),
            10,
        )
        .await
        .unwrap();
    clock.advance(time::Duration::hours(1));
    check(
        store.upsert_report_rows(batch(page.clone(), event("p1 again"))).await.unwrap(),
        counts(0, 0, 5_000),
    );
    assert_eq!(store.report_rows(&query(&t)).await.unwrap(), before, "re-ingest changed rows");
    let again = store
        .expired(
            &t,
            RecordKind::ReportRow,
            custodian_core::data::DataClass::ReportingDataset,
            T0 + time::Duration::days(1),
            10,
        )
        .await
        .unwrap();
    assert_eq!(again, stored_at, "re-ingest touched stored_at");

    // Duplicates inside one page count as if applied in order: insert, then update or unchanged.
    let mut changed = page[0].clone();
    changed.metrics.clicks += 1;
    let mut fresh = rows(&tenant("ingest"), 5_001).pop().unwrap();
    fresh.metrics.clicks = 1;
    let mut fresh2 = fresh.clone();
    fresh2.metrics.clicks = 2;
    let dupes = vec![changed.clone(), changed.clone(), fresh.clone(), fresh2, fresh.clone(), page[1].clone()];
    check(store.upsert_report_rows(batch(dupes, event("dupes"))).await.unwrap(), counts(1, 3, 2));
    assert_eq!(store.count(&t, None, RecordKind::ReportRow).await.unwrap(), 5_001);
}

#[tokio::test]
async fn existing_rows_a_new_looking_page_hides_are_still_counted_exactly() {
    let (store, _) = memory().await;
    let t = ready(&store).await;
    let page = rows(&t, 3_000);
    let batch = |records| IngestBatch { tenant: t.clone(), records, checkpoint: None, audit: event("page") };
    // Two stored rows that the sample of keys looked up before a plain insert does not include (it takes
    // one key in 64, in key order): the plain insert meets them, is rolled back, and the upsert counts.
    let mut changed = page[1].clone();
    changed.metrics.clicks += 1;
    check(
        store.upsert_report_rows(batch(vec![page[1].clone(), page[2].clone()])).await.unwrap(),
        counts(2, 0, 0),
    );
    let mut next = page.clone();
    next[1] = changed.clone();
    check(store.upsert_report_rows(batch(next.clone())).await.unwrap(), counts(2_998, 1, 1));
    assert_eq!(store.count(&t, None, RecordKind::ReportRow).await.unwrap(), 3_000);
    let mut stored = store.report_rows(&query(&t)).await.unwrap();
    let mut expected = next;
    stored.sort_by_key(|r| (r.object.as_str().to_owned(), r.date));
    expected.sort_by_key(|r| (r.object.as_str().to_owned(), r.date));
    assert_eq!(stored, expected);
}

#[tokio::test]
async fn a_page_failing_midway_writes_nothing() {
    let f = FileStore::new().await;
    let t = ready(&f.store).await;
    let good = rows(&t, 1_000);
    f.store
        .upsert_report_rows(IngestBatch {
            tenant: t.clone(),
            records: good,
            checkpoint: Some(checkpoint(&t, "page-1")),
            audit: event("page 1"),
        })
        .await
        .unwrap();
    let head = f.store.head(&t).await.unwrap();

    // The last row of a 6,000-row page (three statements) is refused by the database itself.
    let mut raw = f.raw().await;
    raw.execute(
        "CREATE TRIGGER poison BEFORE INSERT ON report_rows WHEN NEW.object_id = 'obj-poison' \
         BEGIN SELECT RAISE(ABORT, 'poisoned row'); END",
    )
    .await
    .unwrap();
    let mut page = rows(&t, 6_000);
    page.last_mut().unwrap().object = "obj-poison".parse().unwrap();
    let res = f
        .store
        .upsert_report_rows(IngestBatch {
            tenant: t.clone(),
            records: page,
            checkpoint: Some(checkpoint(&t, "page-2")),
            audit: event("page 2"),
        })
        .await;
    assert!(matches!(res, Err(StoreError::Unavailable(_))), "{res:?}");
    assert_eq!(f.store.count(&t, None, RecordKind::ReportRow).await.unwrap(), 1_000, "rows half-written");
    let cp = f
        .store
        .checkpoint(&t, &grant("g1"), Task::ReadReporting, &fixtures::account(Platform::Meta, 1))
        .await;
    assert_eq!(cp.unwrap().unwrap().cursor, Some(Cursor("page-1".to_owned())), "checkpoint moved");
    assert_eq!(f.store.head(&t).await.unwrap(), head, "audit appended for a failed page");
}

#[tokio::test]
async fn a_failing_audit_append_writes_nothing() {
    let f = FileStore::new().await;
    let t = ready(&f.store).await;
    let mut raw = f.raw().await;
    raw.execute(
        "CREATE TRIGGER audit_down BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, 'audit down'); END",
    )
    .await
    .unwrap();

    let res = f
        .store
        .upsert_report_rows(IngestBatch {
            tenant: t.clone(),
            records: rows(&t, 3_000),
            checkpoint: Some(checkpoint(&t, "page-1")),
            audit: event("page"),
        })
        .await;
    assert!(matches!(res, Err(StoreError::AuditFailed(_))), "{res:?}");
    assert_eq!(f.store.count(&t, None, RecordKind::ReportRow).await.unwrap(), 0);
    let cp = f
        .store
        .checkpoint(&t, &grant("g1"), Task::ReadReporting, &fixtures::account(Platform::Meta, 1))
        .await;
    assert_eq!(cp.unwrap(), None);

    let other = tenant("never-created");
    let res = f.store.create_tenant(&fixtures::tenant(&other), event("create")).await;
    assert!(matches!(res, Err(StoreError::AuditFailed(_))), "{res:?}");
    assert!(matches!(f.store.tenant(&other).await, Err(StoreError::NotFound)));

    // Without events to append the audit is not touched, so the write goes through (the port's contract
    // is about the events a call carries).
    f.store.create_tenant(&fixtures::tenant(&other), Vec::new()).await.unwrap();

    raw.execute("DROP TRIGGER audit_down").await.unwrap();
    let got = f
        .store
        .upsert_report_rows(IngestBatch {
            tenant: t.clone(),
            records: rows(&t, 3_000),
            checkpoint: None,
            audit: event("page"),
        })
        .await
        .unwrap();
    assert_eq!(got, counts(3_000, 0, 0));
}

#[tokio::test]
async fn records_must_name_a_known_grant() {
    let (store, _clock) = memory().await;
    let t = ready(&store).await;
    let account = fixtures::account(Platform::TikTokShop, 9);
    let order = fixtures::order(&fixtures::target(&t, &grant("no-such-grant"), &account), 1, T0);
    let res = store
        .upsert_orders(IngestBatch {
            tenant: t.clone(),
            records: vec![order],
            checkpoint: None,
            audit: event("o"),
        })
        .await;
    assert!(matches!(res, Err(StoreError::Invalid(_))), "{res:?}");
    assert_eq!(store.count(&t, None, RecordKind::Order).await.unwrap(), 0);
    assert_eq!(store.head(&t).await.unwrap().seq, 0);
}
