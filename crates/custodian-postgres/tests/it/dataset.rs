//! Bulk ingest on Postgres: re-ingesting a page writes nothing at all (no new row versions); a page that
//! fails midway leaves nothing; bad input is `Invalid`, never a panic or a database error.

use custodian_core::audit::{ActorRef, NewAuditEvent, TenantChanged};
use custodian_core::data::{RecordKind, ReportLevel};
use custodian_core::grant::{GrantId, RevocationCause};
use custodian_core::personnel::{PersonId, Role};
use custodian_core::platform::{AccountRef, MetaAdAccountId, Platform, Task};
use custodian_core::ports::{
    AuditLog, Cursor, DatasetQuery, DatasetStore, GrantStore, IngestBatch, JobQueue, JobQueueError, JobSpec,
    PersonnelStore, StoreError, SyncCheckpoint, TenantStore, UpsertCounts,
};
use custodian_core::tenant::{ContactId, TenantId};
use custodian_testkit::fakes::SeededRng;
use custodian_testkit::fixtures::{self, T0};
use time::Duration;
use time::macros::date;

use crate::TestDb;

fn audit(label: &str) -> Vec<NewAuditEvent> {
    vec![NewAuditEvent::new(T0, ActorRef::System, TenantChanged::new(label))]
}

struct Setup {
    tenant: TenantId,
    grant: GrantId,
    account: AccountRef,
}

async fn setup(db: &TestDb) -> Setup {
    let tenant: TenantId = "tenant-ingest".parse().unwrap();
    let grant: GrantId = "grant-1".parse().unwrap();
    let account = AccountRef::MetaAdAccount(MetaAdAccountId::new("act_42").unwrap());
    db.store.create_tenant(&fixtures::tenant(&tenant), audit("create")).await.unwrap();
    Setup { tenant, grant, account }
}

#[tokio::test]
async fn re_ingesting_a_page_writes_nothing() {
    let db = TestDb::new().await;
    let s = setup(&db).await;
    let target = fixtures::target(&s.tenant, &s.grant, &s.account);
    let rows = fixtures::report_rows(&target, ReportLevel::Ad, date!(2025 - 01 - 01), 30, 7_500);
    let batch =
        |records| IngestBatch { tenant: s.tenant.clone(), records, checkpoint: None, audit: audit("page") };
    let counts = db.store.upsert_report_rows(batch(rows.clone())).await.unwrap();
    assert_eq!(counts, UpsertCounts { inserted: 7_500, updated: 0, unchanged: 0 });
    let versions = "SELECT sum(xmin::text::bigint)::bigint, max(stored_at)::text FROM report_rows";
    let before: (Option<i64>, Option<String>) = sqlx::query_as(versions).fetch_one(&db.owner).await.unwrap();
    db.clock.advance(Duration::hours(1));
    let counts = db.store.upsert_report_rows(batch(rows.clone())).await.unwrap();
    assert_eq!(counts, UpsertCounts { inserted: 0, updated: 0, unchanged: 7_500 });
    let after: (Option<i64>, Option<String>) = sqlx::query_as(versions).fetch_one(&db.owner).await.unwrap();
    assert_eq!(before, after, "no row got a new version or a new stored_at");

    // One changed row in a page of duplicates: the last occurrence wins, counts stay exact.
    let mut changed = rows[10].clone();
    changed.metrics.clicks += 1;
    let page = vec![rows[10].clone(), changed.clone(), rows[11].clone()];
    let counts = db.store.upsert_report_rows(batch(page)).await.unwrap();
    assert_eq!(counts, UpsertCounts { inserted: 0, updated: 2, unchanged: 1 });
    let query = DatasetQuery {
        tenant: s.tenant.clone(),
        grant: None,
        account: None,
        from: Some(changed.date),
        to: Some(changed.date),
        after: None,
        offset: 0,
        limit: 10_000,
    };
    assert!(db.store.report_rows(&query).await.unwrap().contains(&changed));
}

#[tokio::test]
async fn a_page_failing_midway_leaves_nothing_half_written() {
    let db = TestDb::new().await;
    let s = setup(&db).await;
    // A constraint only the last statement of the page violates (the page is written in chunks of 5,000).
    sqlx::query("ALTER TABLE report_rows ADD CONSTRAINT test_poison CHECK (object_id <> 'obj-poison')")
        .execute(&db.owner)
        .await
        .unwrap();
    let target = fixtures::target(&s.tenant, &s.grant, &s.account);
    let mut rows = fixtures::report_rows(&target, ReportLevel::Ad, date!(2025 - 01 - 01), 10, 12_000);
    rows.last_mut().unwrap().object = "obj-poison".parse().unwrap();
    let head = db.store.head(&s.tenant).await.unwrap();
    let checkpoint = SyncCheckpoint {
        tenant: s.tenant.clone(),
        grant: s.grant.clone(),
        task: Task::ReadReporting,
        account: s.account.clone(),
        cursor: Some(Cursor("after-poison".to_owned())),
        watermark: None,
        updated_at: T0,
    };
    let res = db
        .store
        .upsert_report_rows(IngestBatch {
            tenant: s.tenant.clone(),
            records: rows,
            checkpoint: Some(checkpoint),
            audit: audit("poison"),
        })
        .await;
    assert!(matches!(res, Err(StoreError::Invalid(_))), "{res:?}");
    assert_eq!(db.store.count(&s.tenant, None, RecordKind::ReportRow).await.unwrap(), 0);
    assert_eq!(
        db.store.checkpoint(&s.tenant, &s.grant, Task::ReadReporting, &s.account).await.unwrap(),
        None
    );
    assert_eq!(db.store.head(&s.tenant).await.unwrap(), head);
}

#[tokio::test]
async fn bad_input_is_invalid_never_a_panic() {
    let db = TestDb::new().await;
    let s = setup(&db).await;
    let invalid = |res: Result<(), StoreError>, what: &str| {
        assert!(matches!(res, Err(StoreError::Invalid(ref m)) if !m.is_empty()), "{what}: {res:?}");
    };
    let key = fixtures::data_key("bad input", 1);
    let contact_id: ContactId = "contact-1".parse().unwrap();
    let mut contact = fixtures::contact(&s.tenant, &contact_id, 1, &key, &SeededRng::new(1)).unwrap();
    contact.role = "lead\0".to_owned();
    invalid(db.store.put_contact(&contact, audit("nul")).await, "nul in a role");
    contact.role = "x".repeat(1001);
    invalid(db.store.put_contact(&contact, audit("long")).await, "role over 1000 characters");

    let person_id: PersonId = "person-1".parse().unwrap();
    let mut person = fixtures::person(&person_id, &[Role::Analyst], &[]);
    person.display_name = "Ann\0".to_owned();
    invalid(
        db.store.create_person(&person, &fixtures::credential(&person_id), audit("p")).await,
        "nul in a name",
    );
    person.display_name = "A".repeat(201);
    invalid(
        db.store.create_person(&person, &fixtures::credential(&person_id), audit("p")).await,
        "long name",
    );

    let target = fixtures::target(&s.tenant, &s.grant, &s.account);
    let mut rows = fixtures::report_rows(&target, ReportLevel::Ad, date!(2025 - 01 - 01), 1, 2);
    rows[1].metrics.impressions = u64::MAX;
    let batch =
        IngestBatch { tenant: s.tenant.clone(), records: rows, checkpoint: None, audit: audit("big") };
    invalid(db.store.upsert_report_rows(batch).await.map(|_| ()), "impressions over bigint");
    let checkpoint = SyncCheckpoint {
        tenant: s.tenant.clone(),
        grant: s.grant.clone(),
        task: Task::ReadReporting,
        account: s.account.clone(),
        cursor: Some(Cursor("c".repeat(5000))),
        watermark: None,
        updated_at: T0,
    };
    let batch = IngestBatch {
        tenant: s.tenant.clone(),
        records: Vec::new(),
        checkpoint: Some(checkpoint),
        audit: audit("c"),
    };
    invalid(db.store.upsert_report_rows(batch).await.map(|_| ()), "cursor over 4096 bytes");

    let mut grant =
        fixtures::active_grant(&s.tenant, &s.grant, Platform::Meta, std::slice::from_ref(&s.account), T0);
    db.store.insert_grant(&grant, audit("grant")).await.unwrap();
    let before = grant.updated_at();
    grant
        .revoke(RevocationCause::CredentialsRejected { detail: "bad\0".to_owned() }, T0 + Duration::hours(1))
        .unwrap();
    invalid(db.store.save_grant(&grant, before, audit("revoke")).await, "nul in a revocation detail");
    invalid(db.store.locate_by_owner(Platform::Meta, "owner\0").await.map(|_| ()), "nul in an owner");

    let query = DatasetQuery {
        tenant: s.tenant.clone(),
        grant: None,
        account: None,
        from: None,
        to: None,
        after: None,
        offset: u64::MAX,
        limit: 1,
    };
    invalid(db.store.report_rows(&query).await.map(|_| ()), "offset over bigint");
    let n = db
        .store
        .delete_records(&s.tenant, RecordKind::ReportRow, &["a\0b".to_owned()], audit("d"))
        .await
        .unwrap();
    assert_eq!(n, 0, "a key with NUL names nothing");
    invalid(
        db.store.purge(&s.tenant, None, RecordKind::Order, 0, audit("purge")).await.map(|_| ()),
        "empty purge batch",
    );

    let spec = JobSpec {
        kind: "sync".to_owned(),
        tenant: None,
        payload: "p\0".to_owned(),
        dedupe_key: None,
        run_at: T0,
        max_attempts: 3,
    };
    assert!(matches!(db.store.enqueue(&spec).await, Err(JobQueueError::Invalid(_))));
    let spec = JobSpec { kind: "k".repeat(129), payload: String::new(), ..spec };
    assert!(matches!(db.store.enqueue(&spec).await, Err(JobQueueError::Invalid(_))));

    // Nothing of the refused calls reached the chain: only the tenant's creation, the grant and the delete
    // that named nothing.
    let records = db.store.read(&s.tenant, 0, 100).await.unwrap();
    assert_eq!(records.len(), 3);
}

#[tokio::test]
async fn purging_orders_removes_their_lines() {
    let db = TestDb::new().await;
    let s = setup(&db).await;
    let target = fixtures::target(&s.tenant, &s.grant, &s.account);
    let orders = (0..50).map(|i| fixtures::order(&target, i, T0)).collect();
    db.store
        .upsert_orders(IngestBatch {
            tenant: s.tenant.clone(),
            records: orders,
            checkpoint: None,
            audit: audit("o"),
        })
        .await
        .unwrap();
    let mut total = 0;
    loop {
        let n = db
            .store
            .purge(&s.tenant, Some(s.grant.clone()), RecordKind::Order, 7, audit("purge"))
            .await
            .unwrap();
        assert!(n <= 7);
        total += n;
        if n == 0 {
            break;
        }
    }
    assert_eq!(total, 50);
    let (lines,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM order_lines").fetch_one(&db.owner).await.unwrap();
    assert_eq!(lines, 0);
}

/// All of a report-row page, read back in key order.
async fn stored_rows(db: &TestDb, tenant: &TenantId) -> Vec<custodian_core::data::ReportRow> {
    db.store.report_rows(&DatasetQuery::everything(tenant.clone())).await.unwrap()
}

#[tokio::test]
async fn a_page_mixing_new_changed_and_unchanged_rows_is_counted_exactly() {
    let db = TestDb::new().await;
    let s = setup(&db).await;
    let target = fixtures::target(&s.tenant, &s.grant, &s.account);
    let rows = fixtures::report_rows(&target, ReportLevel::Ad, date!(2025 - 01 - 01), 30, 6_000);
    let batch =
        |records| IngestBatch { tenant: s.tenant.clone(), records, checkpoint: None, audit: audit("page") };
    db.store.upsert_report_rows(batch(rows[..3_000].to_vec())).await.unwrap();
    let versions = "SELECT sum(xmin::text::bigint)::bigint FROM report_rows WHERE spend_micros % 2 = 0";
    let mut page = rows.clone();
    for row in &mut page[100..200] {
        row.metrics.clicks += 1;
    }
    let counts = db.store.upsert_report_rows(batch(page.clone())).await.unwrap();
    assert_eq!(counts, UpsertCounts { inserted: 3_000, updated: 100, unchanged: 2_900 });
    let mut expected = page;
    expected.sort_by_key(|r| (r.object.as_str().to_owned(), r.date));
    let mut stored = stored_rows(&db, &s.tenant).await;
    stored.sort_by_key(|r| (r.object.as_str().to_owned(), r.date));
    assert_eq!(stored, expected);

    // Rows the sample of keys misses (one existing row among new ones): the plain insert meets it, is rolled
    // back, and the rows are classified instead.
    let (before,): (Option<i64>,) = sqlx::query_as(versions).fetch_one(&db.owner).await.unwrap();
    let more = fixtures::report_rows(&target, ReportLevel::Ad, date!(2026 - 01 - 01), 30, 900);
    let mut page = vec![rows[4_000].clone()];
    page.extend(more);
    let counts = db.store.upsert_report_rows(batch(page)).await.unwrap();
    assert_eq!(counts, UpsertCounts { inserted: 900, updated: 0, unchanged: 1 });
    assert_eq!(db.store.count(&s.tenant, None, RecordKind::ReportRow).await.unwrap(), 6_900);
    let (after,): (Option<i64>,) = sqlx::query_as(versions).fetch_one(&db.owner).await.unwrap();
    let (new_versions,): (Option<i64>,) = sqlx::query_as(
        "SELECT sum(xmin::text::bigint)::bigint FROM report_rows WHERE spend_micros % 2 = 0 AND day >= '2026-01-01'",
    )
    .fetch_one(&db.owner)
    .await
    .unwrap();
    assert_eq!(
        after.unwrap_or(0) - new_versions.unwrap_or(0),
        before.unwrap_or(0),
        "old rows kept their versions"
    );

    // A page of two accounts under two grants (no values shared by every row) goes through the same way.
    let other = AccountRef::MetaAdAccount(MetaAdAccountId::new("act_43").unwrap());
    let grant2: GrantId = "grant-2".parse().unwrap();
    let mut page = fixtures::report_rows(&target, ReportLevel::Campaign, date!(2027 - 01 - 01), 30, 300);
    page.extend(fixtures::report_rows(
        &fixtures::target(&s.tenant, &grant2, &other),
        ReportLevel::Ad,
        date!(2027 - 01 - 01),
        30,
        300,
    ));
    let counts = db.store.upsert_report_rows(batch(page.clone())).await.unwrap();
    assert_eq!(counts, UpsertCounts { inserted: 600, updated: 0, unchanged: 0 });
    let stored = stored_rows(&db, &s.tenant).await;
    assert!(page.iter().all(|r| stored.contains(r)), "every row of the page is stored as sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_ingests_of_one_page_count_each_row_once() {
    let db = TestDb::with_connections(10).await;
    let s = setup(&db).await;
    let target = fixtures::target(&s.tenant, &s.grant, &s.account);
    let rows = fixtures::report_rows(&target, ReportLevel::Ad, date!(2025 - 01 - 01), 30, 6_000);
    let mut tasks = Vec::new();
    for writer in 0..6u64 {
        let store = db.store.clone();
        let tenant = s.tenant.clone();
        // Writers 0-2 send the page as is, writers 3-5 with one metric changed on the first 1,000 rows.
        let mut page = rows.clone();
        if writer >= 3 {
            for row in &mut page[..1_000] {
                row.metrics.conversions += 1;
            }
        }
        tasks.push(tokio::spawn(async move {
            let batch = IngestBatch { tenant, records: page, checkpoint: None, audit: audit("race") };
            store.upsert_report_rows(batch).await.unwrap()
        }));
    }
    let mut inserted = 0;
    for task in tasks {
        let counts = task.await.unwrap();
        assert_eq!(counts.inserted + counts.updated + counts.unchanged, 6_000, "{counts:?}");
        inserted += counts.inserted;
    }
    assert_eq!(inserted, 6_000, "every row is inserted exactly once");
    let stored = stored_rows(&db, &s.tenant).await;
    assert_eq!(stored.len(), 6_000);
    let changed = stored.iter().filter(|r| rows.iter().all(|o| o != *r)).count();
    assert!(changed == 0 || changed == 1_000, "a page is written whole: {changed} rows of the changed page");
}

/// The durability trade-off of ingest (see `INGEST_SYNCHRONOUS_COMMIT`): an ingest transaction commits
/// with `synchronous_commit = off`, every other transaction keeps the server's setting, also on the same
/// pooled connection right after an ingest (the setting is transaction-local, it never leaks).
#[tokio::test]
async fn only_ingest_transactions_commit_asynchronously() {
    // One connection: every transaction below runs on the session the ingest used.
    let db = TestDb::with_connections(1).await;
    let s = setup(&db).await;
    // A probe records the setting in force when a row is written: in the ingest (insert) and in a
    // deletion (delete), both as the application role.
    sqlx::raw_sql(
        "CREATE TABLE probe (op TEXT, sync TEXT);
         GRANT INSERT ON probe TO custodian_app;
         CREATE FUNCTION probe() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             INSERT INTO probe VALUES (TG_OP, current_setting('synchronous_commit'));
             RETURN NULL;
         END $$;
         CREATE TRIGGER probe AFTER INSERT OR DELETE ON report_rows FOR EACH STATEMENT EXECUTE FUNCTION probe();",
    )
    .execute(&db.owner)
    .await
    .unwrap();
    let server: (String,) = sqlx::query_as("SHOW synchronous_commit").fetch_one(&db.owner).await.unwrap();
    assert_eq!(server.0, "on", "the test server commits synchronously by default");

    let target = fixtures::target(&s.tenant, &s.grant, &s.account);
    let rows = fixtures::report_rows(&target, ReportLevel::Ad, date!(2025 - 01 - 01), 10, 20);
    // The natural keys (`account level object day`), for the deletion below.
    let account = s.account.key();
    let keys: Vec<String> = rows.iter().map(|r| format!("{account} ad {} {}", r.object, r.date)).collect();
    let counts = db
        .store
        .upsert_report_rows(IngestBatch {
            tenant: s.tenant.clone(),
            records: rows,
            checkpoint: None,
            audit: audit("page"),
        })
        .await
        .unwrap();
    assert_eq!(counts.inserted, 20);
    let after: (String,) = sqlx::query_as("SHOW synchronous_commit").fetch_one(&db.owner).await.unwrap();
    assert_eq!(after.0, "on", "the ingest's setting does not outlive its transaction");
    let deleted =
        db.store.delete_records(&s.tenant, RecordKind::ReportRow, &keys, audit("delete")).await.unwrap();
    assert_eq!(deleted, 20);

    let probes: Vec<(String, String)> =
        sqlx::query_as("SELECT op, sync FROM probe ORDER BY op").fetch_all(&db.owner).await.unwrap();
    assert_eq!(
        probes,
        vec![
            ("DELETE".to_owned(), "on".to_owned()),
            ("INSERT".to_owned(), custodian_postgres::INGEST_SYNCHRONOUS_COMMIT.to_owned()),
        ]
    );
    assert_eq!(custodian_postgres::INGEST_SYNCHRONOUS_COMMIT, "off");
}

/// SEG-1: a page of orders carries each order's own lines, in line order, and none of another tenant's
/// order with the same account and order id; an order without lines reads back without lines.
#[tokio::test]
async fn an_order_page_carries_its_own_lines_in_line_order_seg_1() {
    let db = TestDb::new().await;
    let s = setup(&db).await;
    let other: TenantId = "tenant-other".parse().unwrap();
    db.store.create_tenant(&fixtures::tenant(&other), audit("create other")).await.unwrap();
    let target = fixtures::target(&s.tenant, &s.grant, &s.account);
    let mut orders: Vec<_> = (0..5).map(|i| fixtures::order(&target, i, T0)).collect();
    orders[0].lines.clear();
    let line = orders[1].lines[0].clone();
    orders[1].lines = (0..12u32)
        .map(|j| custodian_core::data::OrderLine {
            id: format!("line-{}", 11 - j).parse().unwrap(),
            sku: fixtures::sku(u64::from(j)),
            quantity: j,
            ..line.clone()
        })
        .collect();
    let batch = |tenant: &TenantId, records| IngestBatch {
        tenant: tenant.clone(),
        records,
        checkpoint: None,
        audit: audit("orders"),
    };
    db.store.upsert_orders(batch(&s.tenant, orders.clone())).await.unwrap();
    // The other tenant: the same account and order ids, other lines.
    let other_target = fixtures::target(&other, &s.grant, &s.account);
    let theirs: Vec<_> = (0..5).map(|i| fixtures::order(&other_target, i + 3, T0)).collect();
    let theirs: Vec<_> = theirs
        .into_iter()
        .zip(&orders)
        .map(|(mut o, mine)| {
            o.id = mine.id.clone();
            o
        })
        .collect();
    db.store.upsert_orders(batch(&other, theirs.clone())).await.unwrap();

    orders.sort_by(|x, y| x.id.as_str().cmp(y.id.as_str()));
    let query = |tenant: &TenantId, offset, limit| DatasetQuery {
        offset,
        limit,
        ..DatasetQuery::everything(tenant.clone())
    };
    let mut read = db.store.orders(&query(&s.tenant, 0, 2)).await.unwrap();
    read.extend(db.store.orders(&query(&s.tenant, 2, 10)).await.unwrap());
    assert_eq!(read, orders);
    let mut theirs = theirs;
    theirs.sort_by(|x, y| x.id.as_str().cmp(y.id.as_str()));
    assert_eq!(db.store.orders(&query(&other, 0, 10)).await.unwrap(), theirs);
    assert_ne!(
        orders.iter().map(|o| &o.lines).collect::<Vec<_>>(),
        theirs.iter().map(|o| &o.lines).collect::<Vec<_>>()
    );
}
