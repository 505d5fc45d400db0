//! The use cases of `custodian_core::service` end to end over in-memory fakes: connect → sync → change →
//! revoke, with the policies checked at every step (AUTH, MIN, ENC, RET, AUD, INC, CAM, RGT).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use custodian_core::approval::{ChangeDiff, ChangeField, ChangeValue, ExecutionOutcome, FieldChange};
use custodian_core::audit::{self, AuditEvent, ChainHead, system_tenant};
use custodian_core::authz::{Actor, Environment};
use custodian_core::data::{CampaignStatus, DataClass, RecordKind, ReportLevel};
use custodian_core::grant::{GrantId, GrantState, RevocationCause};
use custodian_core::incident::{IncidentState, IsolationScope, Recipient, Severity};
use custodian_core::personnel::{PersonId, Role};
use custodian_core::platform::{AccountRef, Platform, Task};
use custodian_core::ports::{
    CaseStore, DatasetQuery, DatasetStore, GrantStore, KeyManager, KeyScope, Notification, OrderQuery,
    ReportQuery, SecretStore, TenantStore,
};
use custodian_core::retention::{DeletionCause, HoldScope};
use custodian_core::rights::{ExportFile, export_csv, export_json};
use custodian_core::service::{Deps, PlatformAdapters, ServiceError, Services, Settings, ValidationOutcome};
use custodian_core::tenant::{TenantId, TenantStatus};
use custodian_testkit::fakes::{
    Fault, ManualClock, MemoryKeyManager, MemorySecretStore, MemoryStore, Method, RecordingNotifier, Script,
    ScriptedPlatform, SeededRng,
};
use custodian_testkit::fixtures;
use futures::executor::block_on;
use secrecy::SecretString;
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

const START: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

struct World {
    clock: Arc<ManualClock>,
    store: Arc<MemoryStore>,
    secrets: Arc<MemorySecretStore>,
    keys: Arc<MemoryKeyManager>,
    notifier: Arc<RecordingNotifier>,
    platforms: BTreeMap<Platform, Arc<ScriptedPlatform>>,
    services: Services,
    tenant: TenantId,
}

impl World {
    fn new(scripts: Vec<Script>) -> Self {
        Self::with_settings(scripts, |_| {})
    }

    fn with_settings(scripts: Vec<Script>, edit: impl FnOnce(&mut Settings)) -> Self {
        let clock = Arc::new(ManualClock::new(START));
        let rng = Arc::new(SeededRng::new(7));
        let store = Arc::new(MemoryStore::with_environment(clock.clone(), Environment::Production));
        let secrets = Arc::new(MemorySecretStore::new(clock.clone()));
        let keys = Arc::new(MemoryKeyManager::new(rng.clone()));
        let notifier = Arc::new(RecordingNotifier::new());
        let mut platforms = BTreeMap::new();
        let mut adapters = BTreeMap::new();
        for script in scripts {
            let p = Arc::new(ScriptedPlatform::new(script));
            adapters.insert(
                p.platform(),
                PlatformAdapters {
                    authorizer: p.clone(),
                    reporting: Some(p.clone()),
                    campaigns: Some(p.clone()),
                    commerce: Some(p.clone()),
                    signals: Some(p.clone()),
                },
            );
            platforms.insert(p.platform(), p);
        }
        let deps = Deps {
            tenants: store.clone(),
            grants: store.clone(),
            datasets: store.clone(),
            audit: store.clone(),
            personnel: store.clone(),
            cases: store.clone(),
            secrets: secrets.clone(),
            keys: keys.clone(),
            notifier: notifier.clone(),
            clock: clock.clone(),
            rng,
            platforms: adapters,
        };
        let mut settings = Settings::new(Environment::Production);
        edit(&mut settings);
        let tenant = TenantId::new("acme").unwrap();
        block_on(store.create_tenant(&fixtures::tenant(&tenant), Vec::new())).unwrap();
        Self {
            clock,
            store,
            secrets,
            keys,
            notifier,
            platforms,
            services: Services::new(deps, settings),
            tenant,
        }
    }

    /// A person assigned to the tenant with these roles, MFA verified just now.
    fn person(&self, id: &str, roles: &[Role]) -> Actor {
        let person = fixtures::person(&PersonId::new(id).unwrap(), roles, std::slice::from_ref(&self.tenant));
        Actor::Person(fixtures::person_session(&person, self.clock.now_utc()))
    }

    fn manager(&self) -> Actor {
        self.person("manager", &[Role::AccountManager])
    }

    fn platform(&self, p: Platform) -> &ScriptedPlatform {
        &self.platforms[&p]
    }

    /// Connects `platform` with `tasks` through the OAuth flow and returns the active grant's id.
    fn connect(&self, platform: Platform, tasks: &[Task]) -> GrantId {
        let actor = self.manager();
        let start = block_on(self.services.start_connect(
            &actor,
            &self.tenant,
            platform,
            tasks.iter().copied().collect(),
            "https://custodian.example/callback",
        ))
        .unwrap();
        let code = SecretString::from("code-1");
        let grant = block_on(self.services.complete_connect(
            &actor,
            &self.tenant,
            &start.grant.id,
            &code,
            "https://custodian.example/callback",
        ))
        .unwrap();
        assert_eq!(grant.state(), GrantState::Active);
        grant.id
    }

    fn account(&self, p: Platform) -> AccountRef {
        fixtures::account(p, 1)
    }

    fn query(&self) -> DatasetQuery {
        DatasetQuery { limit: 10_000, ..DatasetQuery::everything(self.tenant.clone()) }
    }

    fn count(&self, kind: RecordKind) -> u64 {
        block_on(self.store.count(&self.tenant, None, kind)).unwrap()
    }

    fn chain(&self, tenant: &TenantId) -> Vec<audit::AuditRecord> {
        self.store.audit_records(tenant)
    }

    /// A client with everything an export holds: a TikTok Shop grant with buyer PII on (25 orders, 5 stock
    /// levels), a Meta grant (210 report rows, 7 campaigns) and one business contact. Returns the grants
    /// (shop, meta).
    fn client_with_everything(&self) -> (GrantId, GrantId) {
        let shop = self.connect(Platform::TikTokShop, &[Task::ReadOrders, Task::ReadBuyerPii]);
        let meta = self.connect(Platform::Meta, &[Task::ReadReporting, Task::ReadCampaigns]);
        let actor = self.manager();
        block_on(self.services.set_pii_enabled(&actor, &self.tenant, &shop, true)).unwrap();
        let account = self.account(Platform::TikTokShop);
        block_on(self.services.sync_orders(&actor, &self.tenant, &shop, &account, &order_window(self)))
            .unwrap();
        block_on(self.services.sync_stock(&actor, &self.tenant, &shop, &account)).unwrap();
        let account = self.account(Platform::Meta);
        block_on(self.services.sync_reporting(&actor, &self.tenant, &meta, &account, &week())).unwrap();
        let key = block_on(self.keys.current_key(&KeyScope::tenant(&self.tenant))).unwrap();
        let id = custodian_core::tenant::ContactId::new("c1").unwrap();
        let contact = fixtures::contact(&self.tenant, &id, 1, &key, &SeededRng::new(3)).unwrap();
        block_on(self.store.put_contact(&contact, Vec::new())).unwrap();
        (shop, meta)
    }

    fn events(&self, kind: &str) -> usize {
        self.chain(&self.tenant).iter().filter(|r| r.event.kind() == kind).count()
    }
}

trait ClockExt {
    fn now_utc(&self) -> OffsetDateTime;
}

impl ClockExt for ManualClock {
    fn now_utc(&self) -> OffsetDateTime {
        custodian_core::ports::Clock::now(self)
    }
}

fn meta_script() -> Script {
    let mut s = Script::new(Platform::Meta);
    s.campaigns = 7;
    s.report_rows = 210;
    s.page_size = 10;
    s
}

fn shop_script() -> Script {
    let mut s = Script::new(Platform::TikTokShop);
    s.orders = 25;
    s.stock = 5;
    s.page_size = 10;
    s
}

fn week() -> ReportQuery {
    ReportQuery { level: ReportLevel::Campaign, from: date!(2026 - 02 - 01), to: date!(2026 - 02 - 07) }
}

fn order_window(w: &World) -> OrderQuery {
    let now = w.clock.now_utc();
    OrderQuery { updated_after: now - Duration::days(30), updated_before: now - Duration::minutes(2) }
}

#[track_caller]
fn denied_by(result: Result<impl std::fmt::Debug, ServiceError>, policy: &str) {
    match result {
        Err(ServiceError::Denied(d)) => {
            assert!(d.denied_by().contains(&policy), "denied by {:?}, want {policy}", d.denied_by())
        }
        other => panic!("expected a denial by {policy}, got {other:?}"),
    }
}

#[test]
fn connect_validate_sync_revoke() {
    let w = World::new(vec![meta_script()]);
    let actor = w.manager();
    let start = block_on(w.services.start_connect(
        &actor,
        &w.tenant,
        Platform::Meta,
        [Task::ReadReporting, Task::ReadCampaigns].into_iter().collect(),
        "https://custodian.example/cb",
    ))
    .unwrap();
    assert_eq!(start.grant.state(), GrantState::Pending);
    assert_eq!(w.platform(Platform::Meta).calls(Method::ConsentUrl), 1);
    let code = SecretString::from("code-1");
    let grant = block_on(w.services.complete_connect(
        &actor,
        &w.tenant,
        &start.grant.id,
        &code,
        "https://custodian.example/cb",
    ))
    .unwrap();
    assert_eq!(grant.state(), GrantState::Active);
    assert_eq!(w.secrets.len(), 1, "tokens went to the secret store");

    let report = block_on(w.services.sync_reporting(
        &actor,
        &w.tenant,
        &grant.id,
        &w.account(Platform::Meta),
        &week(),
    ))
    .unwrap();
    assert_eq!(w.count(RecordKind::Campaign), 7);
    assert_eq!(w.count(RecordKind::ReportRow), 30 * 7);
    assert_eq!(report.records, 7 + 210);
    // Re-running is idempotent: the same rows, nothing new.
    let again = block_on(w.services.sync_reporting(
        &actor,
        &w.tenant,
        &grant.id,
        &w.account(Platform::Meta),
        &week(),
    ))
    .unwrap();
    assert_eq!(again.upserted.inserted, 0);
    assert_eq!(w.count(RecordKind::ReportRow), 210);

    let receipt = block_on(w.services.revoke(
        &actor,
        &w.tenant,
        &grant.id,
        RevocationCause::Requested { by: PersonId::new("manager").unwrap() },
    ))
    .unwrap();
    assert!(receipt.is_clean());
    assert!(w.secrets.is_empty(), "revocation deletes the tokens");
    let calls = w.platform(Platform::Meta).total_calls();
    denied_by(
        block_on(w.services.sync_reporting(
            &actor,
            &w.tenant,
            &grant.id,
            &w.account(Platform::Meta),
            &week(),
        )),
        "AUTH-1",
    );
    assert_eq!(w.platform(Platform::Meta).total_calls(), calls, "no platform call after revocation");
    // Ad reporting follows its retention period (RET-2) rather than being purged at once.
    assert_eq!(w.count(RecordKind::ReportRow), 210);
}

#[test]
fn revocation_leaves_nothing_readable() {
    let w = World::new(vec![shop_script()]);
    let grant = w.connect(Platform::TikTokShop, &[Task::ReadOrders, Task::ReadBuyerPii, Task::UpdateStock]);
    let actor = w.manager();
    block_on(w.services.set_pii_enabled(&actor, &w.tenant, &grant, true)).unwrap();
    block_on(w.services.sync_orders(
        &actor,
        &w.tenant,
        &grant,
        &w.account(Platform::TikTokShop),
        &order_window(&w),
    ))
    .unwrap();
    block_on(w.services.sync_stock(&actor, &w.tenant, &grant, &w.account(Platform::TikTokShop))).unwrap();
    assert_eq!(w.count(RecordKind::Order), 25);
    assert_eq!(w.count(RecordKind::StockLevel), 5);

    let fulfillment = w.person("picker", &[Role::Fulfillment]);
    let views = block_on(w.services.read_orders(&fulfillment, &w.query(), true)).unwrap();
    assert_eq!(views.iter().filter(|v| v.buyer.is_some()).count(), 25, "pii opens for a permitted reader");
    let backup = w.keys.backup_wrapped();

    let receipt =
        block_on(w.services.revoke(&actor, &w.tenant, &grant, RevocationCause::Offboarding)).unwrap();
    assert!(receipt.is_clean(), "{receipt:?}");
    assert_eq!(receipt.cause(), &DeletionCause::Revocation);
    assert_eq!(
        receipt.total_deleted(),
        25 + 5
            + 1
            + receipt.items().iter().filter(|i| i.what.contains("key")).map(|i| i.deleted).sum::<u64>()
    );
    for kind in RecordKind::ALL {
        assert_eq!(w.count(kind), 0, "{kind:?} left after purge");
    }
    assert!(block_on(w.services.read_orders(&fulfillment, &w.query(), true)).unwrap().is_empty());
    assert!(w.secrets.is_empty());
    // Crypto-shredding: even a copy of the wrapped keys taken before the purge does not open anything.
    w.keys.restore_wrapped(backup);
    let scope = KeyScope::grant(&w.tenant, &grant);
    assert!(block_on(w.keys.key(&scope, custodian_core::data::KeyVersion(1))).is_err());
    assert!(!block_on(w.keys.exists(&scope)).unwrap());
    // The receipt is stored and its purge audited.
    assert_eq!(w.events("records_purged"), 1);
}

#[test]
fn orders_carry_pii_only_when_enabled() {
    let w = World::new(vec![shop_script()]);
    let grant = w.connect(Platform::TikTokShop, &[Task::ReadOrders, Task::ReadBuyerPii]);
    let actor = w.manager();
    let account = w.account(Platform::TikTokShop);
    block_on(w.services.sync_orders(&actor, &w.tenant, &grant, &account, &order_window(&w))).unwrap();
    let stored = block_on(w.store.orders(&w.query())).unwrap();
    assert!(stored.iter().all(|o| o.buyer.is_none()), "pii switch off: no pii fetched (MIN-2)");

    block_on(w.services.set_pii_enabled(&actor, &w.tenant, &grant, true)).unwrap();
    block_on(w.services.sync_orders(&actor, &w.tenant, &grant, &account, &order_window(&w))).unwrap();
    let stored = block_on(w.store.orders(&w.query())).unwrap();
    assert!(stored.iter().all(|o| o.buyer.is_some()), "pii switch on: pii fetched, sealed");
    let printed = format!("{stored:?}");
    let pii = fixtures::buyer_pii(0);
    assert!(!printed.contains(pii.name.as_deref().unwrap()), "the store holds ciphertext only (ENC-1)");

    // An account manager may read orders but not buyer PII.
    denied_by(block_on(w.services.read_orders(&actor, &w.query(), true)), "ACC-1");
    let plain = block_on(w.services.read_orders(&actor, &w.query(), false)).unwrap();
    assert!(plain.iter().all(|v| v.buyer.is_none()));
    // Reads of Confidential data are audited with their counts.
    let reads: Vec<_> = w.chain(&w.tenant).into_iter().filter(|r| r.event.kind() == "data_read").collect();
    assert!(!reads.is_empty());
}

#[test]
fn sync_with_failing_audit_stores_nothing() {
    let w = World::new(vec![meta_script()]);
    let grant = w.connect(Platform::Meta, &[Task::ReadReporting, Task::ReadCampaigns]);
    let actor = w.manager();
    let calls = w.platform(Platform::Meta).total_calls();
    w.store.fail_audit(true);
    let result =
        block_on(w.services.sync_reporting(&actor, &w.tenant, &grant, &w.account(Platform::Meta), &week()));
    assert!(matches!(result, Err(ServiceError::AuditUnavailable)), "{result:?}");
    assert_eq!(
        w.platform(Platform::Meta).total_calls(),
        calls,
        "nothing was fetched: the decision could not be audited"
    );
    assert_eq!(w.count(RecordKind::Campaign), 0);
    assert_eq!(w.count(RecordKind::ReportRow), 0);
}

#[test]
fn failing_audit_of_a_page_stores_nothing_of_it() {
    // The decision is audited, then the first page's audit fails: nothing of that page, and no checkpoint.
    let w = World::new(vec![meta_script()]);
    let grant = w.connect(Platform::Meta, &[Task::ReadReporting, Task::ReadCampaigns]);
    let actor = w.manager();
    w.platform(Platform::Meta).fail_after(Method::Campaigns, 0, Fault::Unavailable("never".into()));
    let _ =
        block_on(w.services.sync_reporting(&actor, &w.tenant, &grant, &w.account(Platform::Meta), &week()));
    assert_eq!(w.count(RecordKind::Campaign), 0);
    let checkpoint =
        block_on(w.store.checkpoint(&w.tenant, &grant, Task::ReadCampaigns, &w.account(Platform::Meta)))
            .unwrap();
    assert_eq!(checkpoint, None);
    // The store side: an ingest batch whose audit cannot be appended writes nothing.
    let target = fixtures::target(&w.tenant, &grant, &w.account(Platform::Meta));
    w.store.fail_audit(true);
    let batch = custodian_core::ports::IngestBatch {
        tenant: w.tenant.clone(),
        records: fixtures::campaigns(&target, 3, START),
        checkpoint: None,
        audit: vec![audit::NewAuditEvent::new(
            START,
            audit::ActorRef::System,
            audit::TenantChanged::new("x"),
        )],
    };
    assert!(block_on(w.store.upsert_campaigns(batch)).is_err());
    w.store.fail_audit(false);
    assert_eq!(w.count(RecordKind::Campaign), 0);
}

#[test]
fn failing_audit_blocks_every_use_case() {
    let w = World::new(vec![meta_script()]);
    let grant = w.connect(Platform::Meta, &[Task::ReadReporting, Task::ReadCampaigns, Task::ChangeCampaign]);
    let actor = w.manager();
    let grants_before = block_on(w.store.grants(&w.tenant)).unwrap().len();
    w.store.fail_audit(true);
    let audit_down =
        |r: Result<(), ServiceError>| assert!(matches!(r, Err(ServiceError::AuditUnavailable)), "{r:?}");
    audit_down(
        block_on(w.services.start_connect(
            &actor,
            &w.tenant,
            Platform::Meta,
            [Task::ReadReporting].into_iter().collect(),
            "https://x",
        ))
        .map(|_| ()),
    );
    audit_down(block_on(w.services.validate(&actor, &w.tenant, &grant)).map(|_| ()));
    audit_down(
        block_on(w.services.revoke(&actor, &w.tenant, &grant, RevocationCause::Offboarding)).map(|_| ()),
    );
    audit_down(
        block_on(w.services.retention_sweep(&w.person("sec", &[Role::SecurityOfficer]), &w.tenant))
            .map(|_| ()),
    );
    audit_down(block_on(w.services.export(&actor, &w.tenant)).map(|_| ()));
    w.store.fail_audit(false);
    assert_eq!(block_on(w.store.grants(&w.tenant)).unwrap().len(), grants_before, "no grant was created");
    assert_eq!(
        block_on(w.store.grant(&w.tenant, &grant)).unwrap().state(),
        GrantState::Active,
        "nothing was revoked"
    );
    assert_eq!(w.secrets.len(), 1);
}

#[test]
fn every_decision_is_audited_and_the_chain_verifies() {
    let w = World::new(vec![meta_script()]);
    let grant = w.connect(Platform::Meta, &[Task::ReadReporting, Task::ReadCampaigns]);
    let actor = w.manager();
    block_on(w.services.sync_reporting(&actor, &w.tenant, &grant, &w.account(Platform::Meta), &week()))
        .unwrap();
    let auditor = w.person("auditor", &[Role::Auditor]);
    let _ =
        block_on(w.services.sync_reporting(&auditor, &w.tenant, &grant, &w.account(Platform::Meta), &week()));
    let chain = w.chain(&w.tenant);
    let decisions: Vec<_> = chain
        .iter()
        .filter_map(|r| match &r.event {
            AuditEvent::AccessDecided(d) => Some(d),
            _ => None,
        })
        .collect();
    // start_connect, complete_connect, sync campaigns, sync reports, and the auditor's denied sync.
    assert_eq!(decisions.len(), 5);
    assert_eq!(decisions.iter().filter(|d| !d.allowed).count(), 1);
    assert!(decisions.iter().all(|d| !d.reasons.is_empty()), "every decision carries its reasons (AUTH-7)");
    assert!(chain.iter().all(|r| r.environment == Environment::Production), "environment stamped (ENV-1)");
    let head = audit::verify(&ChainHead::genesis(w.tenant.clone()), &chain).unwrap();
    assert_eq!(head.seq, chain.len() as u64);
    // Tampering with any stored record is caught at its sequence number.
    assert!(w.store.tamper_audit(&w.tenant, 3, |r| r.at += Duration::seconds(1)));
    let err = audit::verify(&ChainHead::genesis(w.tenant.clone()), &w.chain(&w.tenant)).unwrap_err();
    assert_eq!(err.seq, 3);
}

#[test]
fn platform_error_stops_the_sync_and_stores_nothing() {
    let w = World::new(vec![meta_script()]);
    let grant = w.connect(Platform::Meta, &[Task::ReadReporting, Task::ReadCampaigns]);
    let actor = w.manager();
    w.platform(Platform::Meta).fail_next(Method::Campaigns, Fault::Unavailable("502".into()));
    let result =
        block_on(w.services.sync_reporting(&actor, &w.tenant, &grant, &w.account(Platform::Meta), &week()));
    assert!(matches!(result, Err(ServiceError::Platform(_))), "{result:?}");
    assert_eq!(w.count(RecordKind::Campaign), 0);
    assert_eq!(w.events("sync_failed"), 1);
}

#[test]
fn sync_resumes_from_checkpoint_without_duplicates() {
    let w = World::new(vec![meta_script()]);
    let grant = w.connect(Platform::Meta, &[Task::ReadReporting, Task::ReadCampaigns]);
    let actor = w.manager();
    let meta = w.platform(Platform::Meta);
    // 210 rows in pages of 10: fail after 5 pages.
    meta.fail_after(Method::ReportRows, 5, Fault::Unavailable("timeout".into()));
    assert!(
        block_on(w.services.sync_reporting(&actor, &w.tenant, &grant, &w.account(Platform::Meta), &week()))
            .is_err()
    );
    assert_eq!(w.count(RecordKind::ReportRow), 50, "five pages committed with their checkpoints");
    let before = meta.calls(Method::ReportRows);
    block_on(w.services.sync_reporting(&actor, &w.tenant, &grant, &w.account(Platform::Meta), &week()))
        .unwrap();
    assert_eq!(w.count(RecordKind::ReportRow), 210);
    assert_eq!(meta.calls(Method::ReportRows) - before, 16, "resumed at page 6: 16 more pages");
}

#[test]
fn stale_grant_is_revalidated_before_sync() {
    let w = World::new(vec![meta_script()]);
    let grant = w.connect(Platform::Meta, &[Task::ReadReporting, Task::ReadCampaigns]);
    let validations = w.platform(Platform::Meta).calls(Method::Validate);
    w.clock.advance(Duration::hours(25));
    let actor = w.manager();
    block_on(w.services.sync_reporting(&actor, &w.tenant, &grant, &w.account(Platform::Meta), &week()))
        .unwrap();
    assert_eq!(
        w.platform(Platform::Meta).calls(Method::Validate),
        validations + 1,
        "validated again first (AUTH-2)"
    );
    // If that validation cannot happen, nothing runs (fail closed).
    w.clock.advance(Duration::hours(25));
    w.platform(Platform::Meta).fail_next(Method::Validate, Fault::Unavailable("down".into()));
    let calls = w.platform(Platform::Meta).calls(Method::Campaigns);
    assert!(
        block_on(w.services.sync_reporting(&actor, &w.tenant, &grant, &w.account(Platform::Meta), &week()))
            .is_err()
    );
    assert_eq!(w.platform(Platform::Meta).calls(Method::Campaigns), calls);
}

#[test]
fn ownership_change_puts_grant_in_review() {
    let w = World::new(vec![meta_script()]);
    let grant = w.connect(Platform::Meta, &[Task::ReadReporting, Task::ReadCampaigns]);
    let actor = w.manager();
    w.platform(Platform::Meta)
        .edit(|s| s.owner = custodian_core::grant::OwnerId::new("someone-else").unwrap());
    let outcome = block_on(w.services.validate(&actor, &w.tenant, &grant)).unwrap();
    assert!(matches!(outcome, ValidationOutcome::NeedsReview(_)));
    denied_by(
        block_on(w.services.sync_reporting(&actor, &w.tenant, &grant, &w.account(Platform::Meta), &week())),
        "AUTH-5",
    );
    block_on(w.services.approve_review(&actor, &w.tenant, &grant)).unwrap();
    block_on(w.services.sync_reporting(&actor, &w.tenant, &grant, &w.account(Platform::Meta), &week()))
        .unwrap();
}

#[test]
fn sync_of_unauthorized_account_is_denied() {
    let w = World::new(vec![meta_script()]);
    let grant = w.connect(Platform::Meta, &[Task::ReadReporting, Task::ReadCampaigns]);
    let calls = w.platform(Platform::Meta).total_calls();
    let other = fixtures::account(Platform::Meta, 99);
    denied_by(
        block_on(w.services.sync_reporting(&w.manager(), &w.tenant, &grant, &other, &week())),
        "AUTH-3",
    );
    assert_eq!(w.platform(Platform::Meta).total_calls(), calls);
}

#[test]
fn platform_revocation_mid_sync_purges() {
    let w = World::new(vec![shop_script()]);
    let grant = w.connect(Platform::TikTokShop, &[Task::ReadOrders]);
    let actor = w.manager();
    w.platform(Platform::TikTokShop).fail_after(
        Method::Orders,
        1,
        Fault::Revoked("seller deauthorized".into()),
    );
    let result = block_on(w.services.sync_orders(
        &actor,
        &w.tenant,
        &grant,
        &w.account(Platform::TikTokShop),
        &order_window(&w),
    ));
    assert!(matches!(result, Err(ServiceError::GrantRevoked)), "{result:?}");
    assert_eq!(block_on(w.store.grant(&w.tenant, &grant)).unwrap().state(), GrantState::Revoked);
    assert_eq!(w.count(RecordKind::Order), 0, "the page stored before the revocation was purged (RET-3)");
    assert_eq!(block_on(w.store.receipts(&w.tenant)).unwrap().len(), 1);
}

#[test]
fn tokens_live_only_in_the_secret_store() {
    let w = World::new(vec![meta_script()]);
    let grant = w.connect(Platform::Meta, &[Task::ReadReporting]);
    let everything = format!(
        "{:?} {:?} {:?}",
        w.chain(&w.tenant),
        block_on(w.store.grant(&w.tenant, &grant)).unwrap(),
        block_on(w.secrets.get(&w.tenant, &grant)).unwrap(),
    );
    for token in ["access-1", "refresh-1", "code-1"] {
        assert!(!everything.contains(token), "{token} leaked");
    }
    assert_eq!(w.secrets.len(), 1);
}

#[test]
fn signals_revoke_and_forgeries_are_audited() {
    let w = World::new(vec![shop_script()]);
    let grant = w.connect(Platform::TikTokShop, &[Task::ReadOrders]);
    let shop = w.platform(Platform::TikTokShop);
    let account = w.account(Platform::TikTokShop).key();

    let mut forged = shop.signed_signal(&format!("kind=deauthorized;id=1;account={account}"), START);
    forged.body =
        format!("kind=deauthorized;id=1;account={}", fixtures::account(Platform::TikTokShop, 2).key())
            .into_bytes();
    let result = block_on(w.services.handle_signal(Platform::TikTokShop, &forged));
    assert!(matches!(result, Err(ServiceError::SignalRejected(_))), "{result:?}");
    assert_eq!(block_on(w.store.grant(&w.tenant, &grant)).unwrap().state(), GrantState::Active);
    let system = w.chain(&system_tenant());
    assert_eq!(system.iter().filter(|r| r.event.kind() == "signal_rejected").count(), 1);

    let challenge = shop.signed_signal("kind=challenge;id=2;response=abc", START);
    assert_eq!(
        block_on(w.services.handle_signal(Platform::TikTokShop, &challenge)).unwrap(),
        custodian_core::service::SignalOutcome::Challenge("abc".into())
    );
    let expiring = shop.signed_signal(&format!("kind=expiring;id=3;account={account}"), START);
    block_on(w.services.handle_signal(Platform::TikTokShop, &expiring)).unwrap();
    assert!(matches!(w.notifier.notifications().last(), Some(Notification::Alert(_))));

    let genuine = shop.signed_signal(&format!("kind=deauthorized;id=4;account={account}"), START);
    let outcome = block_on(w.services.handle_signal(Platform::TikTokShop, &genuine)).unwrap();
    assert!(matches!(outcome, custodian_core::service::SignalOutcome::Revoked(ref r) if r.len() == 1));
    assert_eq!(block_on(w.store.grant(&w.tenant, &grant)).unwrap().state(), GrantState::Revoked);
    // A replay finds nothing left to revoke.
    assert_eq!(
        block_on(w.services.handle_signal(Platform::TikTokShop, &genuine)).unwrap(),
        custodian_core::service::SignalOutcome::NoMatchingGrant
    );
}

fn pause_diff(budget: Option<i64>) -> ChangeDiff {
    let mut changes = vec![
        FieldChange::new(
            ChangeField::Status,
            Some(ChangeValue::Status(CampaignStatus::Active)),
            ChangeValue::Status(CampaignStatus::Paused),
        )
        .unwrap(),
    ];
    if let Some(b) = budget {
        changes.push(FieldChange::new(ChangeField::DailyBudget, None, ChangeValue::Micros(b)).unwrap());
    }
    ChangeDiff::new(fixtures::account(Platform::Meta, 1), fixtures::campaign_id(1), changes).unwrap()
}

#[test]
fn change_needs_four_eyes_and_runs_as_approved() {
    let w = World::new(vec![meta_script()]);
    let grant = w.connect(Platform::Meta, &[Task::ReadReporting, Task::ReadCampaigns, Task::ChangeCampaign]);
    let proposer = w.person("ana", &[Role::Analyst]);
    let approver = w.person("max", &[Role::AccountManager]);
    let change =
        block_on(w.services.propose_change(&proposer, &w.tenant, &grant, pause_diff(Some(5_000_000))))
            .unwrap();

    // The proposer cannot approve (no permission, and four eyes); an approver without fresh MFA cannot.
    assert!(block_on(w.services.approve_change(&proposer, &w.tenant, change.id())).is_err());
    let stale = {
        w.clock.advance(Duration::minutes(10));
        let a = w.person("max", &[Role::AccountManager]);
        w.clock.advance(Duration::minutes(10));
        a
    };
    denied_by(block_on(w.services.approve_change(&stale, &w.tenant, change.id())), "ACC-2");
    let approver = if let Actor::Person(mut s) = approver {
        s.mfa_verified_at = Some(w.clock.now_utc());
        Actor::Person(s)
    } else {
        unreachable!()
    };
    // Not approved yet: execution is refused and nothing reaches the platform.
    assert!(block_on(w.services.execute_change(&approver, &w.tenant, change.id(), change.diff())).is_err());
    block_on(w.services.approve_change(&approver, &w.tenant, change.id())).unwrap();
    assert!(w.platform(Platform::Meta).applied().is_empty());

    // Anything but the approved diff is refused.
    let tampered = pause_diff(Some(50_000_000));
    assert!(matches!(
        block_on(w.services.execute_change(&approver, &w.tenant, change.id(), &tampered)),
        Err(ServiceError::Conflict(_))
    ));
    assert!(w.platform(Platform::Meta).applied().is_empty());

    let done = block_on(w.services.execute_change(&approver, &w.tenant, change.id(), change.diff())).unwrap();
    assert_eq!(done.outcome, ExecutionOutcome::Confirmed, "read back shows the approved values (CAM-2)");
    assert_eq!(w.platform(Platform::Meta).applied(), vec![change.diff().clone()]);
    // Executed once: a second run is refused.
    assert!(block_on(w.services.execute_change(&approver, &w.tenant, change.id(), change.diff())).is_err());
    assert_eq!(w.events("change_executed"), 1);

    // A platform that drops part of a change is caught by the read-back.
    w.platform(Platform::Meta).drop_on_apply(ChangeField::DailyBudget);
    let second =
        block_on(w.services.propose_change(&proposer, &w.tenant, &grant, pause_diff(Some(7_000_000))))
            .unwrap();
    block_on(w.services.approve_change(&approver, &w.tenant, second.id())).unwrap();
    let done = block_on(w.services.execute_change(&approver, &w.tenant, second.id(), second.diff())).unwrap();
    assert_eq!(done.outcome, ExecutionOutcome::Mismatch(vec![ChangeField::DailyBudget]));
}

#[test]
fn retention_sweep_deletes_expired_and_keeps_held() {
    let w = World::new(vec![meta_script()]);
    let grant = w.connect(Platform::Meta, &[Task::ReadReporting, Task::ReadCampaigns]);
    let actor = w.manager();
    block_on(w.services.sync_reporting(&actor, &w.tenant, &grant, &w.account(Platform::Meta), &week()))
        .unwrap();
    let officer = w.person("sec", &[Role::SecurityOfficer]);
    let hold = block_on(w.services.place_hold(
        &officer,
        &w.tenant,
        HoldScope::Grant(grant.clone()),
        "litigation 2026-17",
        START + Duration::days(800),
    ))
    .unwrap();

    // Fourteen months later everything is past its 13-month period, but held.
    w.clock.advance(Duration::days(14 * 31));
    let report =
        block_on(w.services.retention_sweep(&w.person("sec", &[Role::SecurityOfficer]), &w.tenant)).unwrap();
    assert_eq!(report.total().deleted, 0);
    assert_eq!(report.total().held, 217, "past their period but held (RET-5)");
    assert_eq!(w.count(RecordKind::ReportRow), 210);

    let officer = w.person("sec", &[Role::SecurityOfficer]);
    block_on(w.services.lift_hold(&officer, &w.tenant, hold.id())).unwrap();
    let report = block_on(w.services.retention_sweep(&officer, &w.tenant)).unwrap();
    assert_eq!(report.total().deleted, 217);
    assert_eq!(w.count(RecordKind::ReportRow), 0);
    assert_eq!(w.count(RecordKind::Campaign), 0);
    let runs: Vec<_> = w
        .chain(&w.tenant)
        .into_iter()
        .filter_map(|r| match r.event {
            AuditEvent::RetentionRan(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1].deleted, 217, "the run is audited with its counts (RET-4)");
}

#[test]
fn contract_can_only_shorten_retention() {
    let w = World::new(vec![meta_script()]);
    let grant = w.connect(Platform::Meta, &[Task::ReadReporting, Task::ReadCampaigns]);
    block_on(w.services.sync_reporting(&w.manager(), &w.tenant, &grant, &w.account(Platform::Meta), &week()))
        .unwrap();
    let mut tenant = block_on(w.store.tenant(&w.tenant)).unwrap();
    tenant.contract.retention_overrides.insert(
        custodian_core::data::DataClass::ReportingDataset,
        custodian_core::retention::RetentionDays::new(30).unwrap(),
    );
    block_on(w.store.update_tenant(&tenant, Vec::new())).unwrap();
    w.clock.advance(Duration::days(31));
    let report =
        block_on(w.services.retention_sweep(&w.person("sec", &[Role::SecurityOfficer]), &w.tenant)).unwrap();
    assert_eq!(w.count(RecordKind::ReportRow), 0, "a 30-day contract deletes reporting rows after 30 days");
    assert_eq!(w.count(RecordKind::Campaign), 7, "campaign metadata keeps its 13-month period");
    assert_eq!(report.total().deleted, 210);
}

#[test]
fn offboarding_exports_then_deletes_everything() {
    let w = World::new(vec![shop_script(), meta_script()]);
    let (_, meta) = w.client_with_everything();
    let actor = w.manager();

    let out = block_on(w.services.offboard(&actor, &w.tenant)).unwrap();
    assert!(out.json.contains("\"orders\""));
    assert_eq!(out.json.matches("\"total_micros\"").count(), 25, "one entry per order");
    assert!(
        out.json.contains(fixtures::buyer_pii(0).email.as_deref().unwrap()),
        "the client gets its data back, PII opened"
    );
    assert!(out.csv.iter().any(|f| f.name.contains("report_rows")));
    assert!(out.receipt.is_clean(), "{:?}", out.receipt);
    assert_eq!(out.receipt.cause(), &DeletionCause::Offboarding);
    for kind in RecordKind::ALL {
        assert_eq!(w.count(kind), 0);
    }
    assert!(block_on(w.store.contacts(&w.tenant)).unwrap().is_empty());
    assert!(w.secrets.is_empty());
    assert!(!w.keys.has_kek(&w.tenant), "every key of the tenant is gone");
    assert_eq!(block_on(w.store.tenant(&w.tenant)).unwrap().status, TenantStatus::Offboarded);
    for g in block_on(w.store.grants(&w.tenant)).unwrap() {
        assert_eq!(g.state(), GrantState::Revoked);
    }
    // Nothing processes for an offboarded client.
    denied_by(
        block_on(w.services.sync_reporting(&actor, &w.tenant, &meta, &w.account(Platform::Meta), &week())),
        "AUTH-1",
    );
}

/// The `data_read` counts on the tenant's chain after record `before`, summed by class.
fn reads_by_class(w: &World, before: usize) -> BTreeMap<DataClass, u64> {
    let mut sums = BTreeMap::new();
    for record in w.chain(&w.tenant).into_iter().skip(before) {
        if let AuditEvent::DataRead(e) = &record.event {
            *sums.entry(e.class).or_insert(0) += e.records;
        }
    }
    sums
}

#[test]
fn a_streamed_export_reads_audits_and_answers_one_page_at_a_time_rgt_1_aud_1_min_2() {
    let w = World::with_settings(vec![shop_script(), meta_script()], |s| s.export_page = 7);
    w.client_with_everything();
    let actor = w.manager();
    let whole = block_on(w.services.export(&actor, &w.tenant)).unwrap();
    let (rows, orders, stock) = (whole.report_rows.len(), whole.orders.len(), whole.stock.len());
    let buyers = whole.orders.iter().filter(|o| o.buyer.is_some()).count();
    assert_eq!((rows, whole.campaigns.len(), orders, stock, buyers), (210, 7, 25, 5, 25));

    // The JSON document: one chunk per page of 7 (the head rides on the first), and the end on its own.
    let before = w.chain(&w.tenant).len();
    let mut stream = block_on(w.services.export_stream(&actor, &w.tenant, ExportFile::Json)).unwrap();
    assert_eq!(stream.file(), ExportFile::Json);
    let decided: Vec<_> =
        w.chain(&w.tenant).into_iter().skip(before).map(|r| r.event.kind().to_owned()).collect();
    assert_eq!(decided, ["access_decided"], "decided and recorded before anything is read");
    let first = block_on(stream.next_chunk()).unwrap().unwrap();
    assert!(first.starts_with("{\n  \"format\": \"custodian.export.v1\""), "{first}");
    assert_eq!(first.matches("\"spend_micros\"").count(), 7, "one page of report rows");
    assert_eq!(
        reads_by_class(&w, before),
        BTreeMap::from([(DataClass::ReportingDataset, 7)]),
        "a page is counted before it is answered"
    );
    let mut chunks = vec![first];
    while let Some(chunk) = block_on(stream.next_chunk()).unwrap() {
        chunks.push(chunk);
    }
    assert_eq!(block_on(stream.next_chunk()).unwrap(), None, "a finished stream stays finished");
    assert_eq!(chunks.concat(), export_json(&whole), "the same document as collected whole");
    // 30 pages of rows, 1 of campaigns, 4 of orders, 1 of stock, 1 of contacts, and the end.
    assert_eq!(chunks.len(), 30 + 1 + 4 + 1 + 1 + 1);
    assert!(chunks.iter().all(|c| c.matches("\"grant\"").count() <= 7), "no chunk holds more than a page");
    assert_eq!(
        reads_by_class(&w, before),
        BTreeMap::from([
            (DataClass::ReportingDataset, 210),
            (DataClass::CampaignMetadata, 7),
            (DataClass::OrderDetail, 30),
            (DataClass::BuyerPii, 25),
            (DataClass::BusinessContact, 1),
        ])
    );

    // One CSV file reads only its section; order lines carry no PII, so none is opened or counted.
    for (file, class, count) in [
        (ExportFile::OrderLinesCsv, DataClass::OrderDetail, 25),
        (ExportFile::StockCsv, DataClass::OrderDetail, 5),
        (ExportFile::ReportRowsCsv, DataClass::ReportingDataset, 210),
    ] {
        let before = w.chain(&w.tenant).len();
        let mut stream = block_on(w.services.export_stream(&actor, &w.tenant, file)).unwrap();
        let mut content = String::new();
        while let Some(chunk) = block_on(stream.next_chunk()).unwrap() {
            content.push_str(&chunk);
        }
        let expected = export_csv(&whole).into_iter().find(|f| f.name == file.name()).unwrap();
        assert_eq!(content, expected.content, "{}", expected.name);
        assert_eq!(reads_by_class(&w, before), BTreeMap::from([(class, count)]), "{}", expected.name);
    }
    let before = w.chain(&w.tenant).len();
    let mut stream = block_on(w.services.export_stream(&actor, &w.tenant, ExportFile::OrdersCsv)).unwrap();
    while block_on(stream.next_chunk()).unwrap().is_some() {}
    assert_eq!(
        reads_by_class(&w, before),
        BTreeMap::from([(DataClass::OrderDetail, 25), (DataClass::BuyerPii, 25)]),
        "orders.csv carries the buyers"
    );

    // A person without `data_export` is refused before anything is read.
    let analyst = w.person("analyst", &[Role::Analyst]);
    let before = w.chain(&w.tenant).len();
    denied_by(block_on(w.services.export_stream(&analyst, &w.tenant, ExportFile::Json)).map(|_| ()), "ACC-1");
    assert!(reads_by_class(&w, before).is_empty());

    // AUD-2: a page whose read cannot be recorded is not answered, and the stream is over.
    let mut stream = block_on(w.services.export_stream(&actor, &w.tenant, ExportFile::Json)).unwrap();
    block_on(stream.next_chunk()).unwrap().unwrap();
    w.store.fail_audit(true);
    let failed = block_on(stream.next_chunk());
    assert!(matches!(failed, Err(ServiceError::AuditUnavailable)), "{failed:?}");
    w.store.fail_audit(false);
    let after = block_on(stream.next_chunk());
    assert!(matches!(after, Err(ServiceError::Conflict(_))), "never a silent end: {after:?}");
}

#[test]
fn a_streamed_export_stops_at_a_record_of_another_tenant_before_anything_is_counted_seg_1() {
    let w = World::new(Vec::new());
    // A store that answers a record of another tenant (a defect SEG-1 guards against).
    let other = TenantId::new("other").unwrap();
    let target =
        fixtures::target(&other, &GrantId::new("g-x").unwrap(), &fixtures::account(Platform::Meta, 1));
    let foreign = fixtures::report_row(&target, ReportLevel::Campaign, date!(2026 - 01 - 01), 1, 0);
    let mut datasets = custodian_core::ports::MockDatasetStore::new();
    datasets.expect_report_rows().times(1).returning(move |_| Ok(vec![foreign.clone()]));
    let deps = Deps {
        tenants: w.store.clone(),
        grants: w.store.clone(),
        datasets: Arc::new(datasets),
        audit: w.store.clone(),
        personnel: w.store.clone(),
        cases: w.store.clone(),
        secrets: w.secrets.clone(),
        keys: w.keys.clone(),
        notifier: w.notifier.clone(),
        clock: w.clock.clone(),
        rng: Arc::new(SeededRng::new(9)),
        platforms: BTreeMap::new(),
    };
    let services = Services::new(deps, Settings::new(Environment::Production));
    let before = w.chain(&w.tenant).len();
    let mut stream = block_on(services.export_stream(&w.manager(), &w.tenant, ExportFile::Json)).unwrap();
    let refused = block_on(stream.next_chunk());
    assert!(
        matches!(&refused, Err(ServiceError::Conflict(m)) if m.contains("another tenant")),
        "{refused:?}"
    );
    assert!(reads_by_class(&w, before).is_empty(), "nothing counted, nothing answered");
    let after = block_on(stream.next_chunk());
    assert!(matches!(after, Err(ServiceError::Conflict(_))), "{after:?}");
}

#[test]
fn isolation_stops_processing() {
    let w = World::new(vec![meta_script()]);
    let grant = w.connect(Platform::Meta, &[Task::ReadReporting, Task::ReadCampaigns]);
    let officer = w.person("sec", &[Role::SecurityOfficer]);
    let incident = block_on(w.services.open_incident(
        &officer,
        Severity::High,
        "suspicious export",
        vec![IsolationScope::Tenant(w.tenant.clone())],
    ))
    .unwrap();
    let calls = w.platform(Platform::Meta).total_calls();
    denied_by(
        block_on(w.services.sync_reporting(
            &w.manager(),
            &w.tenant,
            &grant,
            &w.account(Platform::Meta),
            &week(),
        )),
        "INC-1",
    );
    denied_by(
        block_on(w.services.sync_reporting(
            &Actor::System,
            &w.tenant,
            &grant,
            &w.account(Platform::Meta),
            &week(),
        )),
        "INC-1",
    );
    assert_eq!(w.platform(Platform::Meta).total_calls(), calls);
    // Closing needs notifications sent and a review.
    assert!(
        block_on(w.services.close_incident(&officer, incident.id(), "root cause: leaked laptop", &[]))
            .is_err()
    );
    block_on(w.services.notify_incident(&officer, incident.id(), vec![w.tenant.clone()], vec![])).unwrap();
    let closed = block_on(w.services.close_incident(
        &officer,
        incident.id(),
        "root cause: leaked laptop",
        &["rotate keys"],
    ))
    .unwrap();
    assert_eq!(closed.state(), IncidentState::Closed);
    block_on(w.services.sync_reporting(&w.manager(), &w.tenant, &grant, &w.account(Platform::Meta), &week()))
        .unwrap();
}

#[test]
fn incident_assessment_and_notifications() {
    let w = World::new(vec![meta_script(), shop_script()]);
    let meta = w.connect(Platform::Meta, &[Task::ReadReporting, Task::ReadCampaigns]);
    block_on(w.services.sync_reporting(&w.manager(), &w.tenant, &meta, &w.account(Platform::Meta), &week()))
        .unwrap();
    let officer = w.person("sec", &[Role::SecurityOfficer]);
    let incident = block_on(w.services.open_incident(
        &officer,
        Severity::Critical,
        "token leak",
        vec![IsolationScope::Platform(Platform::Meta)],
    ))
    .unwrap();
    let a = block_on(w.services.assess_incident(
        &officer,
        incident.id(),
        START - Duration::hours(1),
        w.clock.now_utc() + Duration::seconds(1),
    ))
    .unwrap();
    assert!(a.assessment.tenants.contains(&w.tenant));
    assert!(a.assessment.classes.contains(&custodian_core::data::DataClass::ReportingDataset));
    assert_eq!(a.assessment.records, 217, "synced campaigns and rows in the window");
    let before = block_on(w.services.assess_incident(
        &officer,
        incident.id(),
        START - Duration::days(2),
        START - Duration::days(1),
    ))
    .unwrap();
    assert!(before.assessment.tenants.is_empty(), "the window bounds the assessment");

    let notified = block_on(w.services.notify_incident(
        &officer,
        incident.id(),
        vec![w.tenant.clone()],
        vec![Platform::Meta],
    ))
    .unwrap();
    let due: BTreeSet<_> = notified
        .notifications()
        .iter()
        .map(|n| (n.recipient.clone(), n.due_at - incident.opened_at()))
        .collect();
    assert!(due.contains(&(Recipient::Client(w.tenant.clone()), Duration::hours(72))));
    assert!(due.contains(&(Recipient::Platform(Platform::Meta), Duration::hours(24))));
    assert!(notified.notifications().iter().all(|n| n.sent_at.is_some()));
    assert_eq!(w.notifier.notifications().len(), 2);
}

#[test]
fn production_with_unsafe_configuration_refuses_everything() {
    let w = World::with_settings(vec![meta_script()], |s| {
        s.environment_violations = vec!["plain http to a remote host".into()]
    });
    let result = block_on(w.services.start_connect(
        &w.manager(),
        &w.tenant,
        Platform::Meta,
        [Task::ReadReporting].into_iter().collect(),
        "https://x",
    ));
    denied_by(result, "ENV-1");
    assert_eq!(w.platform(Platform::Meta).total_calls(), 0);
}

#[test]
fn confidential_read_records_decision_and_count_in_one_append_aud_1_auth_7_aud_2() {
    let w = World::new(vec![shop_script()]);
    let grant = w.connect(Platform::TikTokShop, &[Task::ReadOrders, Task::ReadBuyerPii]);
    let actor = w.manager();
    let account = w.account(Platform::TikTokShop);
    block_on(w.services.sync_orders(&actor, &w.tenant, &grant, &account, &order_window(&w))).unwrap();
    let kinds_after = |before: usize| -> Vec<String> {
        w.chain(&w.tenant).iter().skip(before).map(|r| r.event.kind().to_owned()).collect()
    };

    // Allowed: the decision and the count, next to each other on the tenant's chain (one append).
    let before = w.chain(&w.tenant).len();
    let views = block_on(w.services.read_orders(&actor, &w.query(), false)).unwrap();
    assert!(!views.is_empty());
    assert_eq!(kinds_after(before), ["access_decided", "data_read"]);
    let read = w.chain(&w.tenant).last().cloned().unwrap();
    match &read.event {
        AuditEvent::DataRead(e) => assert_eq!(e.records, views.len() as u64, "the count is the page's"),
        other => panic!("expected data_read, got {other:?}"),
    }
    let before = w.chain(&w.tenant).len();
    block_on(w.services.read_stock(&actor, &w.query())).unwrap();
    assert_eq!(kinds_after(before), ["access_decided", "data_read"]);

    // Denied (buyer PII for an account manager): both decisions recorded, nothing counted as read.
    let before = w.chain(&w.tenant).len();
    denied_by(block_on(w.services.read_orders(&actor, &w.query(), true)), "ACC-1");
    assert_eq!(kinds_after(before), ["access_decided", "access_decided"]);

    // AUD-2: when the append fails, no read returns anything.
    let before = w.chain(&w.tenant).len();
    w.store.fail_audit(true);
    let down =
        |r: Result<usize, ServiceError>| assert!(matches!(r, Err(ServiceError::AuditUnavailable)), "{r:?}");
    down(block_on(w.services.read_orders(&actor, &w.query(), false)).map(|v| v.len()));
    down(block_on(w.services.read_stock(&actor, &w.query())).map(|v| v.len()));
    down(block_on(w.services.read_report_rows(&actor, &w.query())).map(|v| v.len()));
    down(block_on(w.services.read_campaigns(&actor, &w.query())).map(|v| v.len()));
    w.store.fail_audit(false);
    assert_eq!(w.chain(&w.tenant).len(), before, "nothing was appended");
}
