//! Tenant isolation (SEG-1) through every tenant-scoped method: tenant B, holding the same grant id,
//! account and natural keys, never sees or changes tenant A's rows, by id, by listing, by retention query,
//! by delete, anonymization or purge.

use std::sync::Arc;

use custodian_core::approval::{ChangeDiff, ChangeField, ChangeRequest, ChangeValue, FieldChange};
use custodian_core::data::{CampaignStatus, DataClass, RecordKind, ReportLevel};
use custodian_core::grant::GrantId;
use custodian_core::platform::{Platform, Task};
use custodian_core::ports::{
    AuditLog, CaseStore, Cursor, DatasetStore, GrantStore, IngestBatch, PiiSealer, StoreError,
    SyncCheckpoint, TenantStore,
};
use custodian_core::retention::{DeletionCause, DeletionReceipt, HoldScope, LegalHold, StoreKind};
use custodian_core::rights::{Regime, RightsKind, RightsRequest};
use custodian_core::tenant::{ContactId, TenantId};
use custodian_sqlite::SqliteStore;
use custodian_testkit::fakes::SeededRng;
use custodian_testkit::fixtures::{self, T0};
use time::Duration;
use time::macros::date;

use crate::support::{FileStore, grant, query, setup, tenant};

/// Everything tenant `t` can read through the ports, as text.
async fn snapshot(s: &SqliteStore, t: &TenantId) -> String {
    let g = grant("g1");
    let account = fixtures::account(Platform::TikTokShop, 1);
    let mut out = String::new();
    out += &format!("{:?}\n", s.contacts(t).await.unwrap());
    out += &format!("{:?}\n", s.grants(t).await.unwrap());
    out += &format!("{:?}\n", s.report_rows(&query(t)).await.unwrap());
    out += &format!("{:?}\n", s.campaigns(&query(t)).await.unwrap());
    out += &format!("{:?}\n", s.orders(&query(t)).await.unwrap());
    out += &format!("{:?}\n", s.stock(&query(t)).await.unwrap());
    out += &format!("{:?}\n", s.checkpoint(t, &g, Task::ReadOrders, &account).await.unwrap());
    for kind in RecordKind::ALL {
        out +=
            &format!("{:?}\n", s.expired(t, kind, kind.class(), T0 + Duration::days(1), 1000).await.unwrap());
    }
    out += &format!("{:?}\n", s.changes(t).await.unwrap());
    out += &format!("{:?}\n", s.rights_requests(t).await.unwrap());
    out += &format!("{:?}\n", s.holds(t).await.unwrap());
    out += &format!("{:?}\n", s.receipts(t).await.unwrap());
    out += &format!("{:?}\n", s.read(t, 0, u32::MAX).await.unwrap());
    out
}

#[tokio::test]
async fn another_tenant_never_sees_or_changes_a_tenants_rows() {
    let f = FileStore::new().await;
    let s = &f.store;
    let (a, b) = (tenant("tenant-a"), tenant("tenant-b"));
    let g: GrantId = grant("g1");
    let shop = fixtures::account(Platform::TikTokShop, 1);
    let meta = fixtures::account(Platform::Meta, 1);
    for t in [&a, &b] {
        setup(s, t, &g, Platform::TikTokShop, &shop).await;
    }
    setup(s, &a, &grant("g-meta"), Platform::Meta, &meta).await;

    // Tenant A's data of every kind.
    let key = fixtures::data_key("isolation", 1);
    let rng = Arc::new(SeededRng::new(5));
    let contact = fixtures::contact(&a, &ContactId::new("c1").unwrap(), 1, &key, rng.as_ref()).unwrap();
    s.put_contact(&contact, Vec::new()).await.unwrap();
    let target = fixtures::target(&a, &g, &shop);
    let sealer = PiiSealer { key, rng };
    let mut orders: Vec<_> = (0..3).map(|i| fixtures::order(&target, i, T0)).collect();
    fixtures::seal_buyer(&mut orders[0], 0, &sealer).unwrap();
    let cp = SyncCheckpoint {
        tenant: a.clone(),
        grant: g.clone(),
        task: Task::ReadOrders,
        account: shop.clone(),
        cursor: Some(Cursor("next".to_owned())),
        watermark: None,
        updated_at: T0,
    };
    s.upsert_orders(IngestBatch {
        tenant: a.clone(),
        records: orders,
        checkpoint: Some(cp),
        audit: Vec::new(),
    })
    .await
    .unwrap();
    let batch = |records| IngestBatch { tenant: a.clone(), records, checkpoint: None, audit: Vec::new() };
    s.upsert_stock(batch(fixtures::stock_levels(&target, 3, T0))).await.unwrap();
    let meta_target = fixtures::target(&a, &grant("g-meta"), &meta);
    s.upsert_report_rows(IngestBatch {
        tenant: a.clone(),
        records: fixtures::report_rows(&meta_target, ReportLevel::Ad, date!(2024 - 12 - 01), 3, 6),
        checkpoint: None,
        audit: Vec::new(),
    })
    .await
    .unwrap();
    s.upsert_campaigns(IngestBatch {
        tenant: a.clone(),
        records: fixtures::campaigns(&meta_target, 2, T0),
        checkpoint: None,
        audit: Vec::new(),
    })
    .await
    .unwrap();
    let field =
        FieldChange::new(ChangeField::Status, None, ChangeValue::Status(CampaignStatus::Paused)).unwrap();
    let diff = ChangeDiff::new(meta.clone(), fixtures::campaign_id(1), vec![field]).unwrap();
    let person = custodian_core::personnel::PersonId::new("p1").unwrap();
    let change =
        ChangeRequest::propose("ch1".parse().unwrap(), a.clone(), grant("g-meta"), diff, person.clone(), T0);
    s.put_change(&change, Vec::new()).await.unwrap();
    let request = RightsRequest::new("r1".parse().unwrap(), a.clone(), RightsKind::Access, Regime::Ccpa, T0);
    s.put_rights_request(&request, Vec::new()).await.unwrap();
    let hold = LegalHold::new(
        "h1".parse().unwrap(),
        a.clone(),
        HoldScope::Tenant,
        "litigation",
        person,
        T0,
        T0 + Duration::days(9),
    )
    .unwrap();
    s.put_hold(&hold, Vec::new()).await.unwrap();
    let receipt =
        DeletionReceipt::builder("rc1".parse().unwrap(), a.clone(), None, DeletionCause::Retention, T0)
            .rechecked(StoreKind::Dataset, "report rows", 0)
            .build(T0)
            .unwrap();
    s.put_receipt(&receipt, Vec::new()).await.unwrap();
    s.append(
        &a,
        vec![custodian_core::audit::NewAuditEvent::new(
            T0,
            custodian_core::audit::ActorRef::System,
            custodian_core::audit::TenantChanged::new("a's event"),
        )],
    )
    .await
    .unwrap();

    let before_a = snapshot(s, &a).await;
    let before_b = snapshot(s, &b).await;
    assert!(before_b.lines().all(|l| l == "[]" || l == "None" || l.starts_with("[Grant")), "{before_b}");

    // Tenant B, by id and by key, with every method.
    assert!(matches!(s.grant(&b, &grant("g-meta")).await, Err(StoreError::NotFound)));
    assert!(matches!(s.change(&b, change.id()).await, Err(StoreError::NotFound)));
    assert!(matches!(s.rights_request(&b, request.id()).await, Err(StoreError::NotFound)));
    assert!(matches!(s.hold(&b, hold.id()).await, Err(StoreError::NotFound)));
    assert!(matches!(s.receipt(&b, receipt.id()).await, Err(StoreError::NotFound)));
    let mut hijack = s.grant(&a, &grant("g-meta")).await.unwrap();
    let updated_at = hijack.updated_at();
    hijack.tenant = b.clone();
    assert!(s.save_grant(&hijack, updated_at, Vec::new()).await.is_err());
    assert_eq!(s.delete_contacts(&b, Some(vec![contact.id.clone()]), Vec::new()).await.unwrap(), 0);
    assert_eq!(s.delete_contacts(&b, None, Vec::new()).await.unwrap(), 0);
    for kind in RecordKind::ALL {
        let keys: Vec<String> = s
            .expired(&a, kind, kind.class(), T0 + Duration::days(1), 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.key)
            .collect();
        assert!(!keys.is_empty(), "{kind:?}");
        assert_eq!(s.delete_records(&b, kind, &keys, Vec::new()).await.unwrap(), 0, "{kind:?}");
        if kind == RecordKind::Order {
            assert_eq!(s.anonymize_orders(&b, &keys, Vec::new()).await.unwrap(), 0);
        }
        assert_eq!(s.purge(&b, Some(g.clone()), kind, 1000, Vec::new()).await.unwrap(), 0, "{kind:?}");
        assert_eq!(s.purge(&b, None, kind, 1000, Vec::new()).await.unwrap(), 0, "{kind:?}");
        assert_eq!(s.count(&b, None, kind).await.unwrap(), 0);
    }
    let pii =
        s.expired(&b, RecordKind::Order, DataClass::BuyerPii, T0 + Duration::days(1), 10).await.unwrap();
    assert!(pii.is_empty());

    assert_eq!(snapshot(s, &a).await, before_a, "tenant B's calls changed tenant A's data");
    assert_eq!(snapshot(s, &b).await, before_b);
}
