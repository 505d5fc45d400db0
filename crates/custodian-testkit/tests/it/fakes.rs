//! The fakes' own behaviour beyond the contracts: fault injection, tampering, crypto-shredding against a
//! restored backup (RET-3), the effects, and the scripted platform.

use std::sync::Arc;

use custodian_core::approval::{ChangeDiff, ChangeField, ChangeValue, FieldChange};
use custodian_core::audit::{
    ActorRef, ChainHead, NewAuditEvent, TamperKind, Tampered, TenantChanged, verify,
};
use custodian_core::authz::Environment;
use custodian_core::data::{BuyerPii, CampaignStatus, DataClass, RecordKind, ReportLevel, open, seal};
use custodian_core::grant::OwnerId;
use custodian_core::platform::Platform;
use custodian_core::ports::{
    AuditLog, Authorizer, CampaignControl, Clock, CommerceChannel, Cursor, DatasetStore, IngestBatch,
    JobQueue, JobSpec, KeyError, KeyManager, KeyScope, Notification, Notifier, NotifyError, OrderQuery,
    PersonnelStore, PiiSealer, PlatformError, ReportQuery, ReportingSource, Rng, SecretStore,
    SecretStoreError, SignalError, SignalKind, SignalSubject, SignalVerifier, StockUpdate, StockUpdateResult,
    StoreError, TenantStore,
};
use custodian_core::tenant::TenantId;
use custodian_testkit::fakes::{
    Fault, JobStatus, ManualClock, MemoryStore, Method, RecordingNotifier, SIGNATURE_HEADER, Script,
    ScriptedPlatform, SeededRng,
};
use custodian_testkit::fixtures::{self, T0};
use futures::executor::block_on;
use time::Duration;
use time::macros::date;

use crate::kit;

fn tid(raw: &str) -> TenantId {
    raw.parse().unwrap()
}

fn event(text: &str) -> NewAuditEvent {
    NewAuditEvent::new(T0, ActorRef::System, TenantChanged::new(text))
}

#[test]
fn failed_audit_writes_nothing() {
    let kit = kit();
    let store = &kit.store;
    let a = tid("acme");
    store.fail_audit(true);
    let res = block_on(store.create_tenant(&fixtures::tenant(&a), vec![event("create")]));
    assert!(matches!(res, Err(StoreError::AuditFailed(_))), "{res:?}");
    assert!(matches!(block_on(store.tenant(&a)), Err(StoreError::NotFound)));
    let res = block_on(store.append(&a, vec![event("direct")]));
    assert!(matches!(res, Err(StoreError::AuditFailed(_))), "{res:?}");
    let target = fixtures::target(&a, &"g-1".parse().unwrap(), &fixtures::account(Platform::Meta, 1));
    let rows = fixtures::report_rows(&target, ReportLevel::Ad, date!(2025 - 01 - 01), 2, 4);
    let batch = IngestBatch {
        tenant: a.clone(),
        records: rows.clone(),
        checkpoint: None,
        audit: vec![event("rows")],
    };
    assert!(matches!(block_on(store.upsert_report_rows(batch)), Err(StoreError::AuditFailed(_))));
    assert_eq!(block_on(store.count(&a, None, RecordKind::ReportRow)).unwrap(), 0);
    assert!(store.audit_records(&a).is_empty());
    assert_eq!(block_on(store.head(&a)).unwrap(), ChainHead::genesis(a.clone()));

    store.fail_audit(false);
    block_on(store.create_tenant(&fixtures::tenant(&a), vec![event("create")])).unwrap();
    let batch =
        IngestBatch { tenant: a.clone(), records: rows, checkpoint: None, audit: vec![event("rows")] };
    block_on(store.upsert_report_rows(batch)).unwrap();
    assert_eq!(block_on(store.count(&a, None, RecordKind::ReportRow)).unwrap(), 4);
    assert_eq!(store.audit_records(&a).len(), 2);
}

#[test]
fn fail_next_makes_the_next_calls_unavailable() {
    let kit = kit();
    let store = &kit.store;
    store.fail_next(2);
    assert!(matches!(block_on(store.tenants()), Err(StoreError::Unavailable(_))));
    let spec = JobSpec {
        kind: "k".into(),
        tenant: None,
        payload: String::new(),
        dedupe_key: None,
        run_at: T0,
        max_attempts: 1,
    };
    assert!(matches!(
        block_on(store.enqueue(&spec)),
        Err(custodian_core::ports::JobQueueError::Unavailable(_))
    ));
    assert!(block_on(store.tenants()).unwrap().is_empty());
    assert_eq!(block_on(store.enqueue(&spec)).unwrap(), Some(1));
}

#[test]
fn verification_catches_tampering_with_stored_records() {
    let kit = kit();
    let store = &kit.store;
    let a = tid("acme");
    let head = block_on(store.append(&a, vec![event("one"), event("two"), event("three")])).unwrap();
    let genesis = ChainHead::genesis(a.clone());
    assert_eq!(verify(&genesis, &store.audit_records(&a)).unwrap(), head);

    assert!(store.tamper_audit(&a, 2, |r| r.at += Duration::seconds(1)));
    let err = verify(&genesis, &store.audit_records(&a)).unwrap_err();
    assert_eq!(err, Tampered { seq: 2, kind: TamperKind::HashMismatch });
    assert!(!store.tamper_audit(&a, 9, |_| {}));

    let b = tid("globex");
    block_on(store.append(&b, vec![event("one"), event("two"), event("three")])).unwrap();
    assert!(store.delete_audit_record(&b, 2));
    let err = verify(&ChainHead::genesis(b.clone()), &store.audit_records(&b)).unwrap_err();
    assert_eq!(err, Tampered { seq: 2, kind: TamperKind::SequenceGap });
}

#[test]
fn records_carry_the_store_environment_and_personnel_events_go_to_the_system_chain() {
    let clock = Arc::new(ManualClock::new(T0));
    let store = MemoryStore::with_environment(clock, Environment::Production);
    assert_eq!(store.environment(), Environment::Production);
    let person = fixtures::person(&"p-1".parse().unwrap(), &[], &[]);
    block_on(store.create_person(&person, &fixtures::credential(&person.id), vec![event("hired")])).unwrap();
    let records = store.audit_records(&custodian_core::audit::system_tenant());
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].environment, Environment::Production);
}

#[test]
fn stored_at_follows_the_clock_and_unchanged_rows_keep_it() {
    let kit = kit();
    let store = &kit.store;
    let a = tid("acme");
    let target = fixtures::target(&a, &"g-1".parse().unwrap(), &fixtures::account(Platform::Meta, 1));
    let rows = fixtures::report_rows(&target, ReportLevel::Ad, date!(2025 - 01 - 01), 1, 3);
    let upsert = |records| {
        block_on(store.upsert_report_rows(IngestBatch {
            tenant: a.clone(),
            records,
            checkpoint: None,
            audit: Vec::new(),
        }))
        .unwrap()
    };
    upsert(rows.clone());
    kit.clock.advance(Duration::days(30));
    let mut later = rows.clone();
    later[2].metrics.clicks += 1;
    upsert(later);
    let old = block_on(store.expired(
        &a,
        RecordKind::ReportRow,
        DataClass::ReportingDataset,
        T0 + Duration::days(1),
        10,
    ))
    .unwrap();
    assert_eq!(old.len(), 2, "the two unchanged rows keep their first stored_at");
    assert!(old.iter().all(|m| m.stored_at == T0));
    assert_eq!(kit.clock.now(), T0 + Duration::days(30));
}

#[test]
fn job_status_shows_dead_jobs_and_reclaims_out_of_attempts() {
    let kit = kit();
    let store = &kit.store;
    let spec = JobSpec {
        kind: "sync".into(),
        tenant: None,
        payload: "g-1".into(),
        dedupe_key: None,
        run_at: T0,
        max_attempts: 1,
    };
    let id = block_on(store.enqueue(&spec)).unwrap().unwrap();
    assert_eq!(store.job_status(id), Some(JobStatus::Pending { run_at: T0 }));
    let kinds = ["sync".to_owned()];
    let lease = block_on(store.lease("w1", &kinds, T0, Duration::minutes(1))).unwrap().unwrap();
    assert!(matches!(store.job_status(id), Some(JobStatus::Running { .. })));
    // The worker vanished on its last attempt: the expired lease is not handed out again.
    assert!(
        block_on(store.lease("w2", &kinds, T0 + Duration::hours(1), Duration::minutes(1))).unwrap().is_none()
    );
    assert_eq!(store.job_status(id), Some(JobStatus::Dead));
    assert!(block_on(store.complete(&lease, T0)).is_err());
    let bad = JobSpec { max_attempts: 0, ..spec };
    assert!(block_on(store.enqueue(&bad)).is_err());
}

#[test]
fn restored_backup_of_wrapped_keys_stays_unreadable_after_tenant_destruction() {
    // RET-3: a copy of the wrapped data keys taken before the purge cannot be unwrapped afterwards.
    let kit = kit();
    let keys = &kit.keys;
    let a = tid("acme");
    let b = tid("globex");
    let scope = KeyScope::tenant(&a);
    let key = block_on(keys.current_key(&scope)).unwrap();
    let rng = SeededRng::new(5);
    let ctx = fixtures::contact_context(&a, &"c-1".parse().unwrap());
    let sealed = seal(&key, &ctx, &fixtures::contact_details(1), &rng).unwrap();
    let opened: custodian_core::data::ContactDetails = open(&key, &ctx, &sealed).unwrap();
    assert_eq!(opened, fixtures::contact_details(1));
    block_on(keys.current_key(&KeyScope::tenant(&b))).unwrap();

    let backup = keys.backup_wrapped();
    assert!(backup.contains(&scope));
    assert_eq!(backup.versions(), 2);
    assert!(!format!("{backup:?}").contains("ciphertext"));

    assert_eq!(block_on(keys.destroy_tenant(&a)).unwrap(), 1);
    assert!(!keys.has_kek(&a));
    keys.restore_wrapped(backup);
    assert_eq!(keys.wrapped_versions(&scope), 1, "the wrapped key is back in the store");
    assert!(matches!(block_on(keys.key(&scope, key.version())), Err(KeyError::NotFound)));
    assert!(matches!(block_on(keys.current_key(&scope)), Err(KeyError::NotFound)));
    assert!(!block_on(keys.exists(&scope)).unwrap());
    assert!(block_on(keys.current_key(&KeyScope::tenant(&b))).is_ok(), "another tenant is untouched");
}

#[test]
fn restored_backup_of_a_destroyed_grant_scope_stays_unreadable() {
    let kit = kit();
    let keys = &kit.keys;
    let a = tid("acme");
    let grant = KeyScope::grant(&a, &"g-1".parse().unwrap());
    let tenant = KeyScope::tenant(&a);
    let key = block_on(keys.current_key(&grant)).unwrap();
    block_on(keys.current_key(&tenant)).unwrap();
    let backup = keys.backup_wrapped();
    assert_eq!(block_on(keys.destroy(&grant)).unwrap(), 1);
    keys.restore_wrapped(backup);
    assert!(keys.has_kek(&a));
    assert!(matches!(block_on(keys.key(&grant, key.version())), Err(KeyError::NotFound)));
    assert!(block_on(keys.current_key(&tenant)).is_ok());
}

#[test]
fn key_manager_counts_unwraps_and_can_fail() {
    let kit = kit();
    let keys = &kit.keys;
    let scope = KeyScope::tenant(&tid("acme"));
    let before = keys.unwraps();
    block_on(keys.current_key(&scope)).unwrap();
    block_on(keys.current_key(&scope)).unwrap();
    assert_eq!(keys.unwraps(), before + 2);
    keys.fail(true);
    assert!(matches!(block_on(keys.current_key(&scope)), Err(KeyError::Unavailable(_))));
    keys.fail(false);
    assert_eq!(block_on(keys.rotate_kek(&tid("nobody"))).unwrap(), 0);
}

#[test]
fn secret_store_fails_on_request_counts_reads_and_never_prints_tokens() {
    let kit = kit();
    let secrets = &kit.secrets;
    let (a, g) = (tid("acme"), "g-1".parse().unwrap());
    let creds = fixtures::credentials("access-very-secret", "refresh-very-secret");
    block_on(secrets.put(&a, &g, &creds, None)).unwrap();
    block_on(secrets.get(&a, &g)).unwrap();
    assert_eq!(secrets.reads(), 1);
    assert_eq!(secrets.len(), 1);
    assert!(!secrets.is_empty());
    let debug = format!("{secrets:?}");
    assert!(!debug.contains("very-secret"), "{debug}");
    secrets.fail(true);
    assert!(matches!(block_on(secrets.get(&a, &g)), Err(SecretStoreError::Unavailable(_))));
    assert!(matches!(block_on(secrets.list(&a)), Err(SecretStoreError::Unavailable(_))));
}

#[test]
fn notifier_records_and_fails_on_request() {
    let notifier = RecordingNotifier::new();
    let alert = Notification::Incident {
        incident: "inc-1".parse().unwrap(),
        recipient: custodian_core::incident::Recipient::Platform(Platform::Meta),
        due_at: T0,
        summary: "s".into(),
    };
    block_on(notifier.notify(&alert)).unwrap();
    notifier.fail(true);
    assert!(matches!(block_on(notifier.notify(&alert)), Err(NotifyError::Unavailable(_))));
    notifier.reject(true);
    assert!(matches!(block_on(notifier.notify(&alert)), Err(NotifyError::Rejected(_))));
    notifier.reject(false);
    assert_eq!(notifier.notifications(), vec![alert]);
    assert_eq!(notifier.attempts(), 3);
}

#[test]
fn manual_clock_moves_only_when_told() {
    let clock = ManualClock::default();
    assert_eq!(clock.now(), T0);
    assert_eq!(clock.advance(Duration::hours(2)), T0 + Duration::hours(2));
    clock.set(T0 - Duration::days(1));
    assert_eq!(clock.now(), T0 - Duration::days(1));
}

#[test]
fn seeded_rng_is_deterministic_and_seed_dependent() {
    let (a, b, c) = (SeededRng::new(1), SeededRng::new(1), SeededRng::new(2));
    let mut one_shot = [0u8; 100];
    a.fill(&mut one_shot);
    let mut pieces = [0u8; 100];
    for chunk in pieces.chunks_mut(7) {
        b.fill(chunk);
    }
    assert_eq!(one_shot, pieces, "bytes do not depend on how they are asked for");
    assert_ne!(c.bytes::<32>(), one_shot[..32]);
    assert_ne!(SeededRng::from_seed(b"x").next_u64(), SeededRng::from_seed(b"y").next_u64());
    assert!(!format!("{a:?}").is_empty());
}

fn credentials() -> custodian_core::ports::Credentials {
    fixtures::credentials("access-1", "refresh-1")
}

#[test]
fn scripted_platform_injects_faults_counts_calls_and_revokes() {
    let fake =
        ScriptedPlatform::new(Script { report_rows: 30, page_size: 10, ..Script::new(Platform::Meta) });
    let target =
        fixtures::target(&tid("acme"), &"g-1".parse().unwrap(), &fixtures::account(Platform::Meta, 1));
    let query =
        ReportQuery { level: ReportLevel::Campaign, from: date!(2025 - 01 - 01), to: date!(2025 - 01 - 03) };
    fake.fail_after(Method::ReportRows, 1, Fault::Revoked("190".into()));
    let first = block_on(fake.report_rows(&target, &credentials(), &query, None)).unwrap();
    assert_eq!(first.items.len(), 10);
    let second = block_on(fake.report_rows(&target, &credentials(), &query, first.next.clone()));
    assert!(matches!(second, Err(PlatformError::Revoked { .. })), "{second:?}");
    let third = block_on(fake.report_rows(&target, &credentials(), &query, first.next)).unwrap();
    assert_eq!(third.items.len(), 10);
    assert_eq!(fake.calls(Method::ReportRows), 3);
    assert_eq!(fake.calls(Method::Orders), 0, "no order call happened");

    fake.fail_next(Method::Campaigns, Fault::RateLimited(Some(Duration::seconds(30))));
    let limited = block_on(fake.campaigns(&target, &credentials(), None));
    assert!(matches!(limited, Err(PlatformError::RateLimited { retry_after: Some(_) })));
    let bad_cursor = block_on(fake.campaigns(&target, &credentials(), Some(Cursor("x".into()))));
    assert!(matches!(bad_cursor, Err(PlatformError::Invalid { .. })));
    let other =
        fixtures::target(&tid("acme"), &"g-1".parse().unwrap(), &fixtures::account(Platform::Meta, 2));
    assert!(matches!(
        block_on(fake.campaigns(&other, &credentials(), None)),
        Err(PlatformError::Forbidden { .. })
    ));

    fake.edit(|s| s.owner = OwnerId::new("new-owner").unwrap());
    let evidence = block_on(fake.validate(&credentials(), T0)).unwrap();
    assert_eq!(evidence.owner.as_str(), "new-owner");
    fake.revoke(true);
    assert!(matches!(block_on(fake.validate(&credentials(), T0)), Err(PlatformError::Revoked { .. })));
    assert!(matches!(block_on(fake.refresh(&credentials())), Err(PlatformError::Revoked { .. })));
    assert_eq!(fake.total_calls(), 9);
    let debug = format!("{fake:?}");
    assert!(!debug.contains("access-1") && !debug.contains("code-1"), "{debug}");
}

#[test]
fn scripted_platform_refreshes_and_keeps_long_lived_tokens() {
    let fake = ScriptedPlatform::new(Script::new(Platform::Amazon));
    let refreshed = block_on(fake.refresh(&credentials())).unwrap();
    assert!(!refreshed.same_tokens(&credentials()));
    block_on(fake.validate(&refreshed, T0)).unwrap();
    let wrong = fixtures::credentials("access-1", "refresh-unknown");
    assert!(matches!(block_on(fake.refresh(&wrong)), Err(PlatformError::Revoked { .. })));

    let long_lived = ScriptedPlatform::new(Script { refresh_token: None, ..Script::new(Platform::Meta) });
    let same = block_on(long_lived.refresh(&credentials())).unwrap();
    assert!(same.same_tokens(&credentials()));
}

#[test]
fn scripted_orders_carry_pii_only_with_a_sealer() {
    let fake = ScriptedPlatform::new(Script { orders: 3, ..Script::new(Platform::TikTokShop) });
    let target =
        fixtures::target(&tid("acme"), &"g-1".parse().unwrap(), &fixtures::account(Platform::TikTokShop, 1));
    let query = OrderQuery { updated_after: T0, updated_before: T0 + Duration::hours(3) };
    let plain = block_on(fake.orders(&target, &credentials(), &query, None, None)).unwrap();
    assert!(plain.items.iter().all(|o| o.buyer.is_none()));
    let sealer = PiiSealer { key: fixtures::data_key("k", 4), rng: Arc::new(SeededRng::new(9)) };
    let sealed = block_on(fake.orders(&target, &credentials(), &query, None, Some(sealer.clone()))).unwrap();
    for (i, order) in sealed.items.iter().enumerate() {
        let buyer: BuyerPii =
            open(&sealer.key, &order.seal_context(), order.buyer.as_ref().unwrap()).unwrap();
        assert_eq!(buyer, fixtures::buyer_pii(i as u64));
        assert!(!format!("{order:?}").contains("Buyer"), "sealed pii never prints");
    }
    let empty = OrderQuery { updated_after: T0, updated_before: T0 };
    assert!(matches!(
        block_on(fake.orders(&target, &credentials(), &empty, None, None)),
        Err(PlatformError::Invalid { .. })
    ));
}

#[test]
fn scripted_stock_and_changes_follow_what_was_applied() {
    let fake = ScriptedPlatform::new(Script { stock: 2, campaigns: 3, ..Script::new(Platform::Ebay) });
    let target =
        fixtures::target(&tid("acme"), &"g-1".parse().unwrap(), &fixtures::account(Platform::Ebay, 1));
    let updates = vec![
        StockUpdate { sku: fixtures::sku(0), location: Some("loc-1".parse().unwrap()), quantity: 77 },
        StockUpdate { sku: fixtures::sku(1), location: None, quantity: 5 },
    ];
    fake.reject_sku(fixtures::sku(1));
    let results = block_on(fake.set_stock(&target, &credentials(), &updates)).unwrap();
    assert_eq!(results[0], StockUpdateResult::Applied { sku: fixtures::sku(0) });
    assert!(matches!(&results[1], StockUpdateResult::Rejected { .. }));
    let page = block_on(fake.stock(&target, &credentials(), None)).unwrap();
    assert_eq!(page.items[0].quantity, 77);
    assert_eq!(fake.stock_updates(), updates);

    let ad = ScriptedPlatform::new(Script { campaigns: 3, ..Script::new(Platform::TikTok) });
    let account = fixtures::account(Platform::TikTok, 1);
    let target = fixtures::target(&tid("acme"), &"g-1".parse().unwrap(), &account);
    let budget = FieldChange::new(ChangeField::DailyBudget, None, ChangeValue::Micros(42_000_000)).unwrap();
    let status =
        FieldChange::new(ChangeField::Status, None, ChangeValue::Status(CampaignStatus::Paused)).unwrap();
    let diff = ChangeDiff::new(account, fixtures::campaign_id(1), vec![budget, status]).unwrap();
    ad.drop_on_apply(ChangeField::Status);
    block_on(ad.apply(&target, &credentials(), &diff)).unwrap();
    let readback = block_on(ad.read_back(&target, &credentials(), &fixtures::campaign_id(1))).unwrap();
    assert_eq!(readback.daily_budget_micros, Some(42_000_000));
    assert_eq!(readback.status, Some(CampaignStatus::Active), "the dropped field did not change");
    assert_eq!(ad.applied(), vec![diff]);
}

#[test]
fn scripted_signals_verify_the_signature_and_parse_the_body() {
    let fake = ScriptedPlatform::new(Script::new(Platform::TikTokShop));
    let verify = |raw| block_on(fake.verify(&raw));
    let ok = verify(fake.signed_signal("kind=deauthorized;id=7;owner=seller-9", T0)).unwrap();
    assert_eq!(ok.kind, SignalKind::Deauthorized);
    assert_eq!(ok.subject, Some(SignalSubject::Owner("seller-9".parse().unwrap())));
    let ok = verify(fake.signed_signal("kind=challenge;id=8;response=abc", T0)).unwrap();
    assert_eq!(ok.kind, SignalKind::Challenge { response: "abc".into() });
    let ok = verify(fake.signed_signal("kind=expiring;id=9;expires=1767225600", T0)).unwrap();
    assert!(matches!(ok.kind, SignalKind::ExpiringSoon { expires_at: Some(_) }));

    let mut unsigned = fake.signed_signal("kind=deauthorized;id=7", T0);
    unsigned.headers.clear();
    assert!(matches!(verify(unsigned), Err(SignalError::BadSignature)));
    let mut forged = fake.signed_signal("kind=deauthorized;id=7", T0);
    forged.headers = vec![(SIGNATURE_HEADER.into(), "00".repeat(32))];
    assert!(matches!(verify(forged), Err(SignalError::BadSignature)));
    assert!(matches!(verify(fake.signed_signal("kind=unknown;id=1", T0)), Err(SignalError::Malformed(_))));
    assert!(matches!(verify(fake.signed_signal("kind=deauthorized", T0)), Err(SignalError::Malformed(_))));
    let meta = fixtures::account(Platform::Meta, 1).key();
    assert!(matches!(
        verify(fake.signed_signal(&format!("kind=deauthorized;id=1;account={meta}"), T0)),
        Err(SignalError::Malformed(_))
    ));
    fake.fail_next(Method::Verify, Fault::Unavailable("keys".into()));
    assert!(matches!(
        verify(fake.signed_signal("kind=deauthorized;id=7", T0)),
        Err(SignalError::Unavailable(_))
    ));
    assert_eq!(fake.calls(Method::Verify), 9);
}

#[test]
fn secret_holders_never_print_their_secrets() {
    let script = Script {
        code: "code-top-secret".to_owned().into(),
        access_token: "access-top-secret".to_owned().into(),
        refresh_token: Some("refresh-top-secret".to_owned().into()),
        signal_secret: "signal-top-secret".to_owned().into(),
        ..Script::new(Platform::Amazon)
    };
    let fake = ScriptedPlatform::new(script.clone());
    for debug in [format!("{script:?}"), format!("{fake:?}")] {
        assert!(!debug.contains("top-secret"), "{debug}");
    }
    let kit = kit();
    block_on(kit.keys.current_key(&KeyScope::tenant(&tid("acme")))).unwrap();
    let debug = format!("{:?}", kit.keys);
    assert!(debug.starts_with("MemoryKeyManager { tenants: 1, scopes: 1, unwraps: 1"), "{debug}");
}
