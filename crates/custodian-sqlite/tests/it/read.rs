//! The read path of a file store (`src/read.rs`): its read-only connections read what the writer
//! committed, one committed snapshot per statement; pages too large to read on the caller's thread read
//! the same records as the small ones; and reads go on while another connection holds the write lock.

use custodian_core::data::ReportLevel;
use custodian_core::personnel::Role;
use custodian_core::platform::Platform;
use custodian_core::ports::{
    DatasetQuery, DatasetStore, IngestBatch, PersonnelStore, StoreError, TenantStore,
};
use custodian_core::tenant::TenantId;
use custodian_testkit::fixtures;
use time::macros::date;

use crate::support::{FileStore, grant, setup, tenant};

fn page(t: &TenantId, offset: u64, limit: u32) -> DatasetQuery {
    DatasetQuery { offset, limit, ..DatasetQuery::everything(t.clone()) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_pages_read_the_same_records_as_small_pages_in_the_same_order() {
    let f = FileStore::new().await;
    let t = tenant("reads");
    let account = fixtures::account(Platform::Meta, 1);
    setup(&f.store, &t, &grant("g1"), Platform::Meta, &account).await;
    let rows = fixtures::report_rows(
        &fixtures::target(&t, &grant("g1"), &account),
        ReportLevel::Ad,
        date!(2024 - 12 - 01),
        30,
        450,
    );
    f.store
        .upsert_report_rows(IngestBatch {
            tenant: t.clone(),
            records: rows,
            checkpoint: None,
            audit: Vec::new(),
        })
        .await
        .unwrap();
    // 450 rows in one page (read off the caller's thread), then in pages of 50 (on it).
    let whole = f.store.report_rows(&page(&t, 0, 450)).await.unwrap();
    assert_eq!(whole.len(), 450);
    let mut paged = Vec::new();
    for i in 0..9 {
        let part = f.store.report_rows(&page(&t, i * 50, 50)).await.unwrap();
        assert_eq!(part.len(), 50, "page {i}");
        paged.extend(part);
    }
    assert_eq!(paged, whole);
    assert!(f.store.report_rows(&page(&t, 450, 50)).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_see_committed_state_only_and_go_on_while_another_connection_writes() {
    let f = FileStore::new().await;
    let t = tenant("snapshot");
    f.store.create_tenant(&fixtures::tenant(&t), Vec::new()).await.unwrap();
    let before = f.store.tenant(&t).await.unwrap();

    // Another connection (another process, as far as SQLite knows) takes the write lock and changes the
    // tenant without committing: the store's reads still answer, with the committed state.
    let mut raw = f.raw().await;
    sqlx::query("BEGIN IMMEDIATE").execute(&mut raw).await.unwrap();
    sqlx::query("UPDATE tenants SET name = 'Renamed' WHERE tenant_id = ?")
        .bind(t.as_str())
        .execute(&mut raw)
        .await
        .unwrap();
    assert_eq!(f.store.tenant(&t).await.unwrap(), before);
    assert!(matches!(f.store.tenant(&tenant("nobody")).await, Err(StoreError::NotFound)));

    sqlx::query("COMMIT").execute(&mut raw).await.unwrap();
    assert_eq!(f.store.tenant(&t).await.unwrap().name.as_str(), "Renamed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_of_the_wrong_type_is_a_corrupt_store_error_not_a_guess() {
    let f = FileStore::new().await;
    let admin = fixtures::person(&"p1".parse().unwrap(), &[Role::Analyst], &[]);
    f.store.create_person(&admin, &fixtures::credential(&admin.id), Vec::new()).await.unwrap();
    // `people` is STRICT, so a wrong type cannot be stored; a NULL in a NOT NULL column cannot either.
    // What can happen is a tampered JSON set: the decoder refuses it.
    let mut raw = f.raw().await;
    sqlx::query("UPDATE people SET roles = '[\"root\"]' WHERE person_id = 'p1'")
        .execute(&mut raw)
        .await
        .unwrap();
    let err = f.store.person(&admin.id).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}
