//! The audit trail on Postgres (AUD-2): many concurrent appenders never fork a chain; verification reads
//! straight from the database and names the first bad sequence number after tampering by the owner; an
//! operation whose audit append fails writes nothing.

use std::sync::Arc;

use custodian_core::audit::{
    ActorRef, ChainHead, Checkpoint, NewAuditEvent, TamperKind, Tampered, TenantChanged, verify,
};
use custodian_core::data::{RecordKind, ReportLevel};
use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, MetaAdAccountId, Task};
use custodian_core::ports::{
    AuditLog, Cursor, DatasetStore, IngestBatch, StoreError, SyncCheckpoint, TenantStore,
};
use custodian_core::tenant::{ContactId, TenantId};
use custodian_postgres::ChainStatus;
use custodian_testkit::fakes::SeededRng;
use custodian_testkit::fixtures::{self, T0};
use time::Duration;
use time::macros::date;

use crate::TestDb;

fn events(label: &str, n: usize) -> Vec<NewAuditEvent> {
    (0..n)
        .map(|i| {
            NewAuditEvent::new(
                T0 + Duration::seconds(i as i64),
                ActorRef::System,
                TenantChanged::new(format!("{label} {i}")),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_appenders_never_fork_the_chain() {
    let db = TestDb::with_connections(12).await;
    let store = Arc::new(db.store.clone());
    let tenant: TenantId = "tenant-busy".parse().unwrap();
    let other: TenantId = "tenant-quiet".parse().unwrap();
    let mut tasks = Vec::new();
    for writer in 0..16 {
        let store = store.clone();
        let (tenant, other) = (tenant.clone(), other.clone());
        tasks.push(tokio::spawn(async move {
            let mut appended = 0;
            for round in 0..20 {
                let n = 1 + (writer + round) % 4;
                store.append(&tenant, events(&format!("w{writer} r{round}"), n)).await.unwrap();
                appended += n;
                if round % 5 == 0 {
                    store.append(&other, events(&format!("o{writer} r{round}"), 1)).await.unwrap();
                }
            }
            appended
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    let head = store.head(&tenant).await.unwrap();
    let records = store.read(&tenant, 0, u32::MAX).await.unwrap();
    assert_eq!((records.len(), head.seq), (total, total as u64));
    let verified = verify(&ChainHead::genesis(tenant.clone()), &records).unwrap();
    assert_eq!(verified, head, "the stored chain verifies to the stored head");
    let report = store.verify_chain(&tenant).await.unwrap();
    assert_eq!((report.records, report.status), (total as u64, ChainStatus::Intact { head }));
    let report = store.verify_chain(&other).await.unwrap();
    assert!(matches!(report.status, ChainStatus::Intact { ref head } if head.seq == 64), "{report:?}");
}

#[tokio::test]
async fn verification_from_the_database_names_the_first_tampered_record() {
    let db = TestDb::new().await;
    let tenant: TenantId = "tenant-tamper".parse().unwrap();
    db.store.append(&tenant, events("e", 50)).await.unwrap();
    let status = |db: &TestDb| {
        let store = db.store.clone();
        let tenant = tenant.clone();
        async move { store.verify_chain(&tenant).await.unwrap().status }
    };
    assert!(matches!(status(&db).await, ChainStatus::Intact { .. }));

    // Flip one bit of record 17 (inside its event text), as the owner.
    sqlx::query("UPDATE audit_records SET record = set_byte(record, length(record) - 40, get_byte(record, length(record) - 40) # 1) WHERE tenant_id = $1 AND seq = 17")
        .bind(tenant.as_str())
        .execute(&db.owner)
        .await
        .unwrap();
    assert_eq!(
        status(&db).await,
        ChainStatus::Tampered(Tampered { seq: 17, kind: TamperKind::HashMismatch })
    );
    // Garbage that no longer decodes is found at its position too.
    sqlx::query("UPDATE audit_records SET record = '\\x0102' WHERE tenant_id = $1 AND seq = 9")
        .bind(tenant.as_str())
        .execute(&db.owner)
        .await
        .unwrap();
    assert_eq!(status(&db).await, ChainStatus::Tampered(Tampered { seq: 9, kind: TamperKind::HashMismatch }));

    // Deleting a record is a gap at its seq; deleting the last ones is caught against the stored head.
    let tenant2: TenantId = "tenant-gaps".parse().unwrap();
    db.store.append(&tenant2, events("g", 30)).await.unwrap();
    sqlx::query("DELETE FROM audit_records WHERE tenant_id = $1 AND seq = 12")
        .bind(tenant2.as_str())
        .execute(&db.owner)
        .await
        .unwrap();
    let report = db.store.verify_chain(&tenant2).await.unwrap();
    assert_eq!(report.status, ChainStatus::Tampered(Tampered { seq: 12, kind: TamperKind::SequenceGap }));
    let tenant3: TenantId = "tenant-cut".parse().unwrap();
    db.store.append(&tenant3, events("c", 30)).await.unwrap();
    sqlx::query("DELETE FROM audit_records WHERE tenant_id = $1 AND seq > 27")
        .bind(tenant3.as_str())
        .execute(&db.owner)
        .await
        .unwrap();
    let report = db.store.verify_chain(&tenant3).await.unwrap();
    assert_eq!(report.status, ChainStatus::Tampered(Tampered { seq: 28, kind: TamperKind::SequenceGap }));

    // After a checkpoint the rest verifies from it; a forged checkpoint is named by its seq.
    let tenant4: TenantId = "tenant-checkpoint".parse().unwrap();
    db.store.append(&tenant4, events("k", 20)).await.unwrap();
    let at10 = db.store.read(&tenant4, 10, 1).await.unwrap().remove(0).head();
    db.store.checkpoint_and_truncate(&Checkpoint::new(None, &at10, T0)).await.unwrap();
    let report = db.store.verify_chain(&tenant4).await.unwrap();
    assert_eq!(report.records, 10);
    assert!(matches!(report.status, ChainStatus::Intact { ref head } if head.seq == 20));
    sqlx::query(
        "UPDATE audit_checkpoints SET hash = set_byte(hash, 0, get_byte(hash, 0) # 1) WHERE tenant_id = $1",
    )
    .bind(tenant4.as_str())
    .execute(&db.owner)
    .await
    .unwrap();
    let report = db.store.verify_chain(&tenant4).await.unwrap();
    assert_eq!(report.status, ChainStatus::Tampered(Tampered { seq: 10, kind: TamperKind::HashMismatch }));
}

#[tokio::test]
async fn an_operation_whose_audit_append_fails_writes_nothing() {
    let db = TestDb::new().await;
    let tenant: TenantId = "tenant-failing".parse().unwrap();
    let grant: GrantId = "grant-1".parse().unwrap();
    let account = AccountRef::MetaAdAccount(MetaAdAccountId::new("act_7").unwrap());
    db.store.create_tenant(&fixtures::tenant(&tenant), events("create", 2)).await.unwrap();
    // Break the chain head as the owner: it claims seq 0, so the next record would repeat seq 1.
    sqlx::query("UPDATE audit_heads SET seq = 0 WHERE tenant_id = $1")
        .bind(tenant.as_str())
        .execute(&db.owner)
        .await
        .unwrap();

    let target = fixtures::target(&tenant, &grant, &account);
    let rows = fixtures::report_rows(&target, ReportLevel::Ad, date!(2025 - 01 - 01), 5, 12_000);
    let checkpoint = SyncCheckpoint {
        tenant: tenant.clone(),
        grant: grant.clone(),
        task: Task::ReadReporting,
        account: account.clone(),
        cursor: Some(Cursor("next".to_owned())),
        watermark: None,
        updated_at: T0,
    };
    let batch = IngestBatch {
        tenant: tenant.clone(),
        records: rows,
        checkpoint: Some(checkpoint),
        audit: events("rows", 1),
    };
    let res = db.store.upsert_report_rows(batch.clone()).await;
    assert!(matches!(res, Err(StoreError::AuditFailed(_))), "{res:?}");
    assert_eq!(db.store.count(&tenant, None, RecordKind::ReportRow).await.unwrap(), 0, "no row was written");
    assert_eq!(db.store.checkpoint(&tenant, &grant, Task::ReadReporting, &account).await.unwrap(), None);
    let contact_id: ContactId = "contact-1".parse().unwrap();
    let contact =
        fixtures::contact(&tenant, &contact_id, 1, &fixtures::data_key("aud-2", 1), &SeededRng::new(3))
            .unwrap();
    let res = db.store.put_contact(&contact, events("contact", 1)).await;
    assert!(matches!(res, Err(StoreError::AuditFailed(_))), "{res:?}");
    assert!(db.store.contacts(&tenant).await.unwrap().is_empty());
    let res = db.store.append(&tenant, events("direct", 3)).await;
    assert!(matches!(res, Err(StoreError::AuditFailed(_))), "{res:?}");
    let (records,): (i64,) = sqlx::query_as("SELECT count(*) FROM audit_records WHERE tenant_id = $1")
        .bind(tenant.as_str())
        .fetch_one(&db.owner)
        .await
        .unwrap();
    assert_eq!(records, 2, "only the tenant's creation events are stored");

    // Repaired, the same page goes through with its checkpoint and its event.
    sqlx::query("UPDATE audit_heads h SET seq = 2, hash = substr(r.record, length(r.record) - 31) FROM audit_records r WHERE h.tenant_id = $1 AND r.tenant_id = $1 AND r.seq = 2")
        .bind(tenant.as_str())
        .execute(&db.owner)
        .await
        .unwrap();
    let counts = db.store.upsert_report_rows(batch).await.unwrap();
    assert_eq!(counts.inserted, 12_000);
    assert_eq!(db.store.head(&tenant).await.unwrap().seq, 3);
    assert!(matches!(db.store.verify_chain(&tenant).await.unwrap().status, ChainStatus::Intact { .. }));
}

/// AUD-2: a chain long enough to be read in seq ranges of 65,536 records on two connections (sharing one
/// snapshot) verifies as a whole, and tampering is named at the same position as in a short chain: inside a
/// later range, at the last and first records of two ranges, and past the stored head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_chain_read_in_ranges_names_the_first_tampered_record() {
    let db = TestDb::new().await;
    let tenant: TenantId = "tenant-long".parse().unwrap();
    let total = 140_000;
    for batch in 0..total / 5_000 {
        db.store.append(&tenant, events(&format!("b{batch}"), 5_000)).await.unwrap();
    }
    let head = db.store.head(&tenant).await.unwrap();
    let report = db.store.verify_chain(&tenant).await.unwrap();
    assert_eq!((report.records, report.status), (total as u64, ChainStatus::Intact { head: head.clone() }));
    let status = |db: &TestDb| {
        let store = db.store.clone();
        let tenant = tenant.clone();
        async move { store.verify_chain(&tenant).await.unwrap().status }
    };
    let owner = |sql: &'static str| {
        let pool = db.owner.clone();
        let tenant = tenant.clone();
        async move { sqlx::query(sql).bind(tenant.as_str()).execute(&pool).await.unwrap() }
    };

    // The stored head moved back by five records: the five records past it are found.
    owner(
        "UPDATE audit_heads h SET seq = 139995, hash = substr(r.record, length(r.record) - 31)
         FROM audit_records r WHERE h.tenant_id = $1 AND r.tenant_id = $1 AND r.seq = 139995",
    )
    .await;
    assert_eq!(
        status(&db).await,
        ChainStatus::Tampered(Tampered { seq: 139_996, kind: TamperKind::SequenceGap })
    );
    owner(
        "UPDATE audit_heads h SET seq = 140000, hash = substr(r.record, length(r.record) - 31)
         FROM audit_records r WHERE h.tenant_id = $1 AND r.tenant_id = $1 AND r.seq = 140000",
    )
    .await;
    assert!(matches!(status(&db).await, ChainStatus::Intact { .. }));

    owner(
        "UPDATE audit_records SET record = set_byte(record, length(record) - 40, get_byte(record, length(record) - 40) # 1)
         WHERE tenant_id = $1 AND seq = 100000",
    )
    .await;
    assert_eq!(
        status(&db).await,
        ChainStatus::Tampered(Tampered { seq: 100_000, kind: TamperKind::HashMismatch })
    );
    owner("DELETE FROM audit_records WHERE tenant_id = $1 AND seq = 65537").await;
    assert_eq!(
        status(&db).await,
        ChainStatus::Tampered(Tampered { seq: 65_537, kind: TamperKind::SequenceGap })
    );
    owner("DELETE FROM audit_records WHERE tenant_id = $1 AND seq = 65536").await;
    assert_eq!(
        status(&db).await,
        ChainStatus::Tampered(Tampered { seq: 65_536, kind: TamperKind::SequenceGap })
    );
}
