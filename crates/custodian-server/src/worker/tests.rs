//! Worker tests: the real worker over custodian-sqlite's `JobQueue` on a temporary file (two store handles
//! on one file stand for two processes), with the testkit's fakes for the platforms and the other ports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use custodian_core::audit::{AuditEvent, NewAuditEvent, SyncFailed, SyncProgressed};
use custodian_core::authz::Environment;
use custodian_core::data::RecordKind;
use custodian_core::grant::{Grant, GrantId, GrantState, RevocationCause};
use custodian_core::monitor::AlertKind;
use custodian_core::platform::{Platform, Task};
use custodian_core::ports::{
    AuditLog, CaseStore, Clock, DatasetStore, GrantStore, IngestBatch, JobQueue, Notification, Notifier,
    NotifyError, OrderQuery, SecretStore, SecretStoreError, TenantStore,
};
use custodian_core::service::{Deps, PlatformAdapters, Services, Settings};
use custodian_core::tenant::{TenantId, TenantStatus};
use custodian_sqlite::SqliteStore;
use custodian_testkit::fakes::{
    Fault, ManualClock, MemoryKeyManager, MemorySecretStore, MemoryStore, Method, RecordingNotifier, Script,
    ScriptedPlatform, SeededRng,
};
use custodian_testkit::fixtures::{self, T0};
use time::{Duration, OffsetDateTime};

use super::schedule::{self, Slots};
use super::*;

const TICK_LEN: Duration = Duration::minutes(5);

/// A directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("custodian-worker-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A notifier whose first call waits until released; every delivered notification is kept.
#[derive(Default)]
struct GateNotifier {
    block_first: AtomicBool,
    entered: tokio::sync::Notify,
    release: tokio::sync::Notify,
    sent: Mutex<Vec<Notification>>,
}

#[async_trait::async_trait]
impl Notifier for GateNotifier {
    async fn notify(&self, notification: &Notification) -> Result<(), NotifyError> {
        if self.block_first.swap(false, Ordering::SeqCst) {
            self.entered.notify_one();
            self.release.notified().await;
        }
        self.sent.lock().unwrap().push(notification.clone());
        Ok(())
    }
}

fn tid(raw: &str) -> TenantId {
    TenantId::new(raw).unwrap()
}

fn gid(raw: &str) -> GrantId {
    GrantId::new(raw).unwrap()
}

/// The ports and fakes one test works with.
struct World {
    clock: Arc<ManualClock>,
    store: Arc<MemoryStore>,
    secrets: Arc<MemorySecretStore>,
    keys: Arc<MemoryKeyManager>,
    platforms: BTreeMap<Platform, Arc<ScriptedPlatform>>,
    services: Services,
    dir: TempDir,
}

impl World {
    fn new(notifier: Arc<dyn Notifier>) -> Self {
        let clock = Arc::new(ManualClock::new(T0));
        let store = Arc::new(MemoryStore::with_environment(clock.clone(), Environment::Production));
        let rng = Arc::new(SeededRng::new(11));
        let secrets = Arc::new(MemorySecretStore::new(clock.clone()));
        let keys = Arc::new(MemoryKeyManager::new(rng.clone()));
        let mut platforms = BTreeMap::new();
        let mut adapters = BTreeMap::new();
        for platform in [Platform::Meta, Platform::Amazon] {
            let fake = Arc::new(ScriptedPlatform::new(Script::new(platform)));
            adapters.insert(
                platform,
                PlatformAdapters {
                    authorizer: fake.clone(),
                    reporting: (!platform.is_commerce()).then(|| fake.clone() as _),
                    campaigns: (!platform.is_commerce()).then(|| fake.clone() as _),
                    commerce: platform.is_commerce().then(|| fake.clone() as _),
                    signals: None,
                },
            );
            platforms.insert(platform, fake);
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
            notifier,
            clock: clock.clone(),
            rng,
            platforms: adapters,
        };
        let services = Services::new(deps, Settings::new(Environment::Production));
        Self { clock, store, secrets, keys, platforms, services, dir: TempDir::new() }
    }

    fn platform(&self, platform: Platform) -> &ScriptedPlatform {
        &self.platforms[&platform]
    }

    /// A new handle on the test's queue file: each one stands for a process.
    async fn queue(&self) -> Arc<SqliteStore> {
        Arc::new(
            SqliteStore::open(self.dir.0.join("queue.db"), Environment::Production, self.clock.clone())
                .await
                .unwrap(),
        )
    }

    fn worker(&self, queue: Arc<dyn JobQueue>, id: &str, settings: WorkerSettings) -> Worker {
        Worker::new(self.services.clone(), queue, id, settings)
    }

    async fn tenant(&self, id: &str, status: TenantStatus) -> TenantId {
        let id = tid(id);
        let mut tenant = fixtures::tenant(&id);
        tenant.status = status;
        self.store.create_tenant(&tenant, Vec::new()).await.unwrap();
        id
    }

    /// An active grant on `platform` (account 1, every supported task) with credentials, validated now.
    async fn grant(&self, tenant: &TenantId, id: &str, platform: Platform) -> GrantId {
        let id = gid(id);
        let account = fixtures::account(platform, 1);
        let grant = fixtures::active_grant(tenant, &id, platform, &[account], self.clock.now());
        self.store.insert_grant(&grant, Vec::new()).await.unwrap();
        self.secrets.put(tenant, &id, &fixtures::credentials("access-1", "refresh-1"), None).await.unwrap();
        id
    }

    async fn grant_in(&self, tenant: &TenantId, id: &str, platform: Platform, state: GrantState) -> GrantId {
        let id = gid(id);
        let account = fixtures::account(platform, 1);
        let now = self.clock.now();
        let evidence = fixtures::evidence(platform, &[account], now);
        let revocation = (state == GrantState::Revoked)
            .then(|| RevocationCause::CredentialsRejected { detail: "test".to_owned() });
        let grant = Grant::restore(
            id.clone(),
            tenant.clone(),
            platform,
            state,
            fixtures::supported_tasks(platform),
            false,
            Some(evidence),
            Vec::new(),
            revocation,
            now,
            now,
        );
        self.store.insert_grant(&grant, Vec::new()).await.unwrap();
        id
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }
}

/// Short test intervals: slots of 5 minutes, sync every 10, validate every 30, retention every 60,
/// monitor every 15.
fn settings() -> WorkerSettings {
    WorkerSettings {
        tick: TICK_LEN,
        sync_every: Duration::minutes(10),
        validate_every: Duration::minutes(30),
        retention_every: Duration::minutes(60),
        monitor_every: Duration::minutes(15),
        renew_every: std::time::Duration::from_secs(3600),
        poll_every: std::time::Duration::from_millis(10),
        ..WorkerSettings::default()
    }
}

/// A leased job's identity as the tests compare it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Seen {
    kind: String,
    tenant: Option<String>,
    dedupe_key: Option<String>,
    run_at: OffsetDateTime,
}

/// Leases (for a day, as an inspector) every job due at `now` and returns them, checking that no payload
/// holds anything but ids and slot numbers.
async fn drain(queue: &dyn JobQueue, now: OffsetDateTime) -> BTreeSet<Seen> {
    let kinds: Vec<String> = KINDS.iter().map(|k| (*k).to_owned()).collect();
    let mut seen = BTreeSet::new();
    while let Some(lease) = queue.lease("inspector", &kinds, now, Duration::days(1)).await.unwrap() {
        let spec = lease.job.spec;
        let payload: serde_json::Value = serde_json::from_str(&spec.payload).unwrap();
        let keys: BTreeSet<&str> = payload.as_object().unwrap().keys().map(String::as_str).collect();
        assert!(keys.is_subset(&BTreeSet::from(["grant", "slot", "after"])), "{}", spec.payload);
        assert!(!spec.payload.contains("access-1") && !spec.payload.contains("refresh-1"));
        seen.insert(Seen {
            kind: spec.kind,
            tenant: spec.tenant.map(|t| t.as_str().to_owned()),
            dedupe_key: spec.dedupe_key,
            run_at: spec.run_at,
        });
    }
    seen
}

fn seen(kind: &str, tenant: Option<&str>, key: &str, run_at: OffsetDateTime) -> Seen {
    Seen {
        kind: kind.to_owned(),
        tenant: tenant.map(str::to_owned),
        dedupe_key: Some(key.to_owned()),
        run_at,
    }
}

#[test]
fn slots_fall_due_once_per_interval_boundary() {
    let slots = Slots::new(TICK_LEN);
    let s = slots.of(T0);
    assert_eq!(slots.start(s), T0, "T0 is on a slot boundary");
    assert_eq!(slots.of(T0 + Duration::seconds(299)), s);
    assert_eq!(slots.of(T0 + Duration::seconds(300)), s + 1);
    let hour = Duration::hours(1);
    assert!(slots.due(hour, s - 1, s), "T0 is on the hour");
    assert!(!slots.due(hour, s, s + 1));
    assert!(!slots.due(hour, s + 1, s + 11));
    assert!(slots.due(hour, s + 1, s + 12), "the next hour");
    assert!(slots.due(hour, s + 1, s + 30), "a late tick covering the boundary still schedules once");
    assert!(slots.due(Duration::minutes(1), s, s + 1), "intervals shorter than a slot: every slot");
}

#[test]
fn backoff_doubles_up_to_the_cap_with_at_most_a_quarter_of_jitter() {
    let base = Duration::seconds(30);
    let max = Duration::minutes(10);
    assert_eq!(schedule::backoff(1, base, max, 0), Duration::seconds(30));
    assert_eq!(schedule::backoff(2, base, max, 0), Duration::seconds(60));
    assert_eq!(schedule::backoff(3, base, max, 0), Duration::seconds(120));
    assert_eq!(schedule::backoff(10, base, max, 0), max);
    assert_eq!(schedule::backoff(u32::MAX, base, max, 0), max);
    assert_eq!(schedule::backoff(1, base, max, u16::MAX), Duration::milliseconds(37_500));
}

#[test]
fn long_dedupe_keys_are_hashed_within_the_queue_bound() {
    let long = "t".repeat(128);
    let key = schedule::dedupe_key(SYNC, &[&long, &long, "7"]);
    assert!(key.len() <= 128 && key.starts_with("sync:"), "{key}");
    assert_ne!(key, schedule::dedupe_key(SYNC, &[&long, &long, "8"]), "the slot still tells keys apart");
    assert_eq!(schedule::dedupe_key(SYNC, &["t1", "g1", "7"]), "sync:t1:g1:7");
}

/// REQ: RET-3 (purge of revoked grants), AUTH-5 (grants in review are validated, not synced), RET-4.
#[tokio::test]
async fn a_tick_enqueues_exactly_the_due_jobs_and_the_next_tick() {
    let world = World::new(Arc::new(RecordingNotifier::new()));
    let t1 = world.tenant("t1", TenantStatus::Active).await;
    let t2 = world.tenant("t2", TenantStatus::Offboarding).await;
    world.grant(&t1, "g-meta", Platform::Meta).await;
    world.grant(&t1, "g-amz", Platform::Amazon).await;
    world.grant_in(&t1, "g-review", Platform::Meta, GrantState::NeedsReview).await;
    world.grant_in(&t1, "g-revoked", Platform::Amazon, GrantState::Revoked).await;
    world.grant(&t2, "g-other", Platform::Meta).await;
    // Revoked long enough ago (past the purge grace) by the time the tick runs.
    let slots = Slots::new(TICK_LEN);
    let s = slots.of(T0) + 12; // one hour after T0: every kind is due
    let at = slots.start(s);
    world.clock.set(at - Duration::seconds(1));
    // Revoked just now: still within the grace, so no purge yet.
    world.grant_in(&t1, "g-fresh-revoked", Platform::Amazon, GrantState::Revoked).await;

    let queue = world.queue().await;
    let worker = world.worker(queue.clone(), "w1", settings());
    assert!(worker.start(world.now()).await.unwrap(), "the start tick is the next slot's");
    assert!(!worker.start(world.now()).await.unwrap(), "and it is enqueued once");
    assert_eq!(worker.run_once(world.now()).await.unwrap(), RunOutcome::Idle, "not due before its slot");
    world.clock.set(at);
    let outcome = worker.run_once(at).await.unwrap();
    let RunOutcome::Ran { kind, result, .. } = outcome else { panic!("{outcome:?}") };
    assert_eq!((kind.as_str(), result), (TICK, JobResult::Completed));

    let s_text = s.to_string();
    let expected = BTreeSet::from([
        seen(SYNC, Some("t1"), &format!("sync:t1:g-meta:{s_text}"), at),
        seen(SYNC, Some("t1"), &format!("sync:t1:g-amz:{s_text}"), at),
        seen(VALIDATE, Some("t1"), &format!("validate:t1:g-meta:{s_text}"), at),
        seen(VALIDATE, Some("t1"), &format!("validate:t1:g-amz:{s_text}"), at),
        seen(VALIDATE, Some("t1"), &format!("validate:t1:g-review:{s_text}"), at),
        seen(PURGE, Some("t1"), "purge:t1:g-revoked", at),
        seen(RETENTION, Some("t1"), &format!("retention:t1:{s_text}"), at),
        seen(MONITOR, None, &format!("monitor:{s_text}"), at),
    ]);
    assert_eq!(drain(queue.as_ref(), at).await, expected);

    // The next tick is due when the next slot starts; in that slot nothing else is due, and the purge
    // still pending is not enqueued twice.
    let next = slots.start(s + 1);
    world.clock.set(next);
    let outcome = worker.run_once(next).await.unwrap();
    assert!(matches!(&outcome, RunOutcome::Ran { kind, result: JobResult::Completed, .. } if kind == TICK));
    let after = slots.start(s + 2);
    assert_eq!(
        drain(queue.as_ref(), after).await,
        BTreeSet::from([seen(TICK, None, &format!("tick:{}", s + 2), after)])
    );
}

/// Runs `worker` until no job is due at `now`; returns what it ran.
async fn run_until_idle(worker: Worker, now: OffsetDateTime) -> Vec<RunOutcome> {
    let mut ran = Vec::new();
    loop {
        match worker.run_once(now).await.unwrap() {
            RunOutcome::Idle => return ran,
            outcome => ran.push(outcome),
        }
    }
}

/// Issue 7: two processes against one database run every scheduled job exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_and_two_schedulers_run_every_scheduled_job_exactly_once() {
    let world = World::new(Arc::new(RecordingNotifier::new()));
    let (a, b) = (world.queue().await, world.queue().await);
    exactly_once(&world, a, b).await;
}

/// The same two processes, each with its own connection pool, on one PostgreSQL database (its own, created
/// for the test): `FOR UPDATE SKIP LOCKED` leases and fencing tokens.
#[tokio::test]
async fn two_workers_and_two_schedulers_on_postgres_run_every_scheduled_job_exactly_once() {
    let world = World::new(Arc::new(RecordingNotifier::new()));
    let db = pg::Database::create().await;
    let (a, b) = (db.store(world.clock.clone()).await, db.store(world.clock.clone()).await);
    exactly_once(&world, a.clone(), b.clone()).await;
    a.pool().close().await;
    b.pool().close().await;
    db.drop_database().await;
}

/// Two processes (`queue_a`, `queue_b`: two handles on one queue) schedule and work 24 slots of two hours;
/// every scheduled job runs once, and its side effects happen once.
async fn exactly_once(world: &World, queue_a: Arc<dyn JobQueue>, queue_b: Arc<dyn JobQueue>) {
    let t1 = world.tenant("t1", TenantStatus::Active).await;
    world.grant(&t1, "g-meta", Platform::Meta).await;
    world.grant(&t1, "g-amz", Platform::Amazon).await;
    let slots = Slots::new(TICK_LEN);
    let first = slots.of(T0);
    let a = world.worker(queue_a, "process-a", settings());
    let b = world.worker(queue_b, "process-b", settings());

    // Both processes start at once: one start tick.
    let (sa, sb) = tokio::join!(a.start(T0), b.start(T0));
    assert_eq!(u8::from(sa.unwrap()) + u8::from(sb.unwrap()), 1);

    let last = first + 24; // two hours of slots
    let mut ran: Vec<String> = Vec::new();
    for slot in first + 1..=last {
        let now = slots.start(slot);
        world.clock.set(now);
        loop {
            let (ra, rb) = tokio::join!(
                tokio::spawn(run_until_idle(a.clone(), now)),
                tokio::spawn(run_until_idle(b.clone(), now))
            );
            let round: Vec<RunOutcome> = ra.unwrap().into_iter().chain(rb.unwrap()).collect();
            if round.is_empty() {
                break;
            }
            for outcome in round {
                let RunOutcome::Ran { dedupe_key: Some(key), result, .. } = outcome else {
                    panic!("{outcome:?}")
                };
                assert_eq!(result, JobResult::Completed, "{key}");
                ran.push(key);
            }
        }
    }

    // The schedule, computed independently: a kind runs in slot `s` when `s`'s start is a multiple of
    // its interval.
    let mut expected = Vec::new();
    let (mut syncs, mut validations, mut sweeps) = (0u64, 0u64, 0u64);
    for s in first + 1..=last {
        let minutes = s * 5;
        expected.push(format!("tick:{s}"));
        if minutes % 10 == 0 {
            syncs += 1;
            expected.extend([format!("sync:t1:g-meta:{s}"), format!("sync:t1:g-amz:{s}")]);
        }
        if minutes % 30 == 0 {
            validations += 1;
            expected.extend([format!("validate:t1:g-meta:{s}"), format!("validate:t1:g-amz:{s}")]);
        }
        if minutes % 60 == 0 {
            sweeps += 1;
            expected.push(format!("retention:t1:{s}"));
        }
        if minutes % 15 == 0 {
            expected.push(format!("monitor:{s}"));
        }
    }
    let ran_set: BTreeSet<&String> = ran.iter().collect();
    assert_eq!(ran_set.len(), ran.len(), "a job ran twice: {ran:?}");
    assert_eq!(ran_set, expected.iter().collect::<BTreeSet<_>>());
    assert_eq!((syncs, validations, sweeps), (12, 4, 2));

    // Side effects, counted where they happen: one platform call per sync and validation, one audited
    // sweep per retention slot.
    let meta = world.platform(Platform::Meta);
    let amazon = world.platform(Platform::Amazon);
    assert_eq!(meta.calls(Method::Campaigns), syncs);
    assert_eq!(meta.calls(Method::ReportRows), syncs);
    assert_eq!(amazon.calls(Method::Orders), syncs);
    assert_eq!(amazon.calls(Method::Stock), syncs);
    assert_eq!(meta.calls(Method::Validate), validations);
    assert_eq!(amazon.calls(Method::Validate), validations);
    let retention_runs = world
        .store
        .audit_records(&t1)
        .iter()
        .filter(|r| matches!(r.event, AuditEvent::RetentionRan(_)))
        .count() as u64;
    assert_eq!(retention_runs, sweeps);
}

/// A job that keeps failing is retried with growing delays, then dead; its stored error holds no secret.
#[tokio::test]
async fn a_failing_job_is_retried_with_backoff_then_dead_after_max_attempts() {
    let world = World::new(Arc::new(RecordingNotifier::new()));
    let t1 = world.tenant("t1", TenantStatus::Active).await;
    let g = world.grant(&t1, "g-amz", Platform::Amazon).await;
    for _ in 0..3 {
        world.platform(Platform::Amazon).fail_next(Method::Validate, Fault::Unavailable("down".into()));
    }
    let queue = world.queue().await;
    let worker = world.worker(queue.clone(), "w1", settings());
    let now = world.now();
    let id = queue.enqueue(&schedule::grant_spec(VALIDATE, &t1, &g, Some(1), now, 3)).await.unwrap().unwrap();

    let mut at = now;
    for (attempt, base_secs) in [(1, 30), (2, 60)] {
        let outcome = worker.run_once(at).await.unwrap();
        let RunOutcome::Ran { result: JobResult::Retrying { retry_at, error }, .. } = outcome else {
            panic!("attempt {attempt}: {outcome:?}")
        };
        let delay = retry_at - at;
        assert!(
            delay >= Duration::seconds(base_secs) && delay <= Duration::seconds(base_secs) * 1.25,
            "attempt {attempt}: {delay}"
        );
        assert!(error.contains("platform"), "{error}");
        assert_eq!(
            worker.run_once(retry_at - Duration::SECOND).await.unwrap(),
            RunOutcome::Idle,
            "not yet due"
        );
        at = retry_at;
    }
    let outcome = worker.run_once(at).await.unwrap();
    assert!(matches!(outcome, RunOutcome::Ran { result: JobResult::Dead { .. }, .. }), "{outcome:?}");
    assert_eq!(
        worker.run_once(at + Duration::days(30)).await.unwrap(),
        RunOutcome::Idle,
        "dead jobs stay dead"
    );
    let job = queue.job(id).await.unwrap();
    assert_eq!(job.attempts, 3);
    let error = job.last_error.unwrap();
    assert!(!error.contains("access-1") && !error.contains("refresh-1"), "{error}");
    assert_eq!(world.platform(Platform::Amazon).calls(Method::Validate), 3);
}

/// Three failed syncs of `grant` in a row at `at`, `at + 2 min`, `at + 4 min`.
async fn failed_syncs(world: &World, tenant: &TenantId, grant: &GrantId, at: OffsetDateTime) {
    let events = (0..3)
        .map(|i| {
            NewAuditEvent::new(
                at + Duration::minutes(2 * i),
                custodian_core::audit::ActorRef::System,
                SyncFailed::new(grant.clone(), Task::ReadOrders, "platform unavailable"),
            )
        })
        .collect();
    world.store.append(tenant, events).await.unwrap();
}

/// The monitor job of the slot starting at `at`.
async fn enqueue_monitor(queue: &dyn JobQueue, at: OffsetDateTime) -> u64 {
    let slot = Slots::new(TICK_LEN).of(at);
    queue.enqueue(&schedule::slot_spec(MONITOR, None, slot, at, 5)).await.unwrap().unwrap()
}

/// A renewal that finds the lease stale stops the job at once: nothing is reported or sent, and the next
/// worker runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_renewal_stops_the_job_and_reports_nothing() {
    let gate = Arc::new(GateNotifier::default());
    gate.block_first.store(true, Ordering::SeqCst);
    let world = World::new(gate.clone());
    let t1 = world.tenant("t1", TenantStatus::Active).await;
    let g = world.grant(&t1, "g-amz", Platform::Amazon).await;
    let end = world.now() + Duration::hours(1);
    failed_syncs(&world, &t1, &g, end - Duration::minutes(10)).await;
    world.clock.set(end);
    let queue = world.queue().await;
    let id = enqueue_monitor(queue.as_ref(), end).await;
    let fast_renewals = WorkerSettings {
        lease_for: Duration::minutes(1),
        renew_every: std::time::Duration::from_millis(20),
        ..settings()
    };
    let a = world.worker(queue.clone(), "process-a", fast_renewals);
    let entered = gate.entered.notified();
    let running = tokio::spawn({
        let a = a.clone();
        async move { a.run_once(end).await }
    });
    entered.await;
    // The lease expires while the alert is being sent: the next renewal is refused.
    world.clock.set(end + Duration::minutes(2));
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(60), running).await.unwrap().unwrap();
    assert_eq!(outcome.unwrap(), RunOutcome::Stale { job: id, kind: MONITOR.to_owned() });
    assert!(gate.sent.lock().unwrap().is_empty(), "the stopped job sent nothing");

    let b = world.worker(queue.clone(), "process-b", settings());
    let outcome = b.run_once(world.now()).await.unwrap();
    assert!(matches!(outcome, RunOutcome::Ran { job, result: JobResult::Completed, .. } if job == id));
    assert_eq!(gate.sent.lock().unwrap().len(), 1);
    assert_eq!(queue.job(id).await.unwrap().attempts, 2);
}

/// A worker whose lease was taken over while it ran cannot complete: its result is not reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_lease_completion_is_rejected_and_not_reported() {
    let gate = Arc::new(GateNotifier::default());
    gate.block_first.store(true, Ordering::SeqCst);
    let world = World::new(gate.clone());
    let t1 = world.tenant("t1", TenantStatus::Active).await;
    let g = world.grant(&t1, "g-amz", Platform::Amazon).await;
    let end = world.now() + Duration::hours(1);
    failed_syncs(&world, &t1, &g, end - Duration::minutes(10)).await;
    world.clock.set(end);
    let queue = world.queue().await;
    let id = enqueue_monitor(queue.as_ref(), end).await;
    let short_lease = WorkerSettings { lease_for: Duration::minutes(1), ..settings() };
    let a = world.worker(queue.clone(), "process-a", short_lease.clone());
    let entered = gate.entered.notified();
    let running = tokio::spawn({
        let a = a.clone();
        async move { a.run_once(end).await }
    });
    entered.await;

    // Process B takes the expired lease over and finishes the job.
    let b = world.worker(world.queue().await, "process-b", short_lease);
    let taken_over = b.run_once(end + Duration::minutes(2)).await.unwrap();
    assert!(matches!(taken_over, RunOutcome::Ran { job, result: JobResult::Completed, .. } if job == id));

    // A's alert goes out, but its completion is refused: it reports nothing.
    gate.release.notify_one();
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(60), running).await.unwrap().unwrap();
    assert_eq!(outcome.unwrap(), RunOutcome::Stale { job: id, kind: MONITOR.to_owned() });
    let job = queue.job(id).await.unwrap();
    assert_eq!((job.attempts, job.last_error), (2, None));
    assert_eq!(a.run_once(end + Duration::days(1)).await.unwrap(), RunOutcome::Idle, "done for good");
}

/// REQ: AUTH-6, RET-3, RET-6: a validation the platform answers with "revoked" revokes the grant and
/// purges its data and secrets, with a clean receipt.
#[tokio::test]
async fn a_revoked_validation_purges_the_grant() {
    let world = World::new(Arc::new(RecordingNotifier::new()));
    let t1 = world.tenant("t1", TenantStatus::Active).await;
    let g = world.grant(&t1, "g-amz", Platform::Amazon).await;
    let account = fixtures::account(Platform::Amazon, 1);
    let target = fixtures::target(&t1, &g, &account);
    let now = world.now();
    let query = OrderQuery { updated_after: now - Duration::days(1), updated_before: now };
    let orders = fixtures::orders(&target, &query, 3, None).unwrap();
    world
        .store
        .upsert_orders(IngestBatch {
            tenant: t1.clone(),
            records: orders,
            checkpoint: None,
            audit: Vec::new(),
        })
        .await
        .unwrap();
    assert_eq!(world.store.count(&t1, Some(g.clone()), RecordKind::Order).await.unwrap(), 3);
    world.platform(Platform::Amazon).revoke(true);

    let queue = world.queue().await;
    let worker = world.worker(queue.clone(), "w1", settings());
    queue.enqueue(&schedule::grant_spec(VALIDATE, &t1, &g, Some(1), now, 5)).await.unwrap();
    let outcome = worker.run_once(now).await.unwrap();
    assert!(matches!(outcome, RunOutcome::Ran { result: JobResult::Completed, .. }), "{outcome:?}");

    assert_eq!(world.store.grant(&t1, &g).await.unwrap().state(), GrantState::Revoked);
    assert_eq!(world.store.count(&t1, Some(g.clone()), RecordKind::Order).await.unwrap(), 0);
    assert!(matches!(world.secrets.get(&t1, &g).await, Err(SecretStoreError::NotFound)));
    let receipts = world.store.receipts(&t1).await.unwrap();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].grant(), Some(&g));
    assert!(receipts[0].is_clean());
}

/// REQ: RET-3: a revocation whose purge was interrupted gets a purge job at once, which finishes it.
#[tokio::test]
async fn an_interrupted_revocation_purge_is_finished_by_a_purge_job() {
    let world = World::new(Arc::new(RecordingNotifier::new()));
    let t1 = world.tenant("t1", TenantStatus::Active).await;
    let g = world.grant(&t1, "g-amz", Platform::Amazon).await;
    world.platform(Platform::Amazon).revoke(true);
    world.keys.fail(true);
    let queue = world.queue().await;
    let worker = world.worker(queue.clone(), "w1", settings());
    let now = world.now();
    queue.enqueue(&schedule::grant_spec(VALIDATE, &t1, &g, Some(1), now, 5)).await.unwrap();
    let outcome = worker.run_once(now).await.unwrap();
    assert!(matches!(outcome, RunOutcome::Ran { result: JobResult::Retrying { .. }, .. }), "{outcome:?}");
    assert_eq!(world.store.grant(&t1, &g).await.unwrap().state(), GrantState::Revoked);
    assert!(world.store.receipts(&t1).await.unwrap().is_empty(), "the purge was interrupted");

    world.keys.fail(false);
    let outcome = worker.run_once(now).await.unwrap();
    let RunOutcome::Ran { kind, dedupe_key, result, .. } = outcome else { panic!("{outcome:?}") };
    assert_eq!(
        (kind.as_str(), dedupe_key.as_deref(), result),
        (PURGE, Some("purge:t1:g-amz"), JobResult::Completed)
    );
    let receipts = world.store.receipts(&t1).await.unwrap();
    assert_eq!(receipts.len(), 1);
    assert!(receipts[0].is_clean());
    assert!(matches!(world.secrets.get(&t1, &g).await, Err(SecretStoreError::NotFound)));
}

/// REQ: MON-1: the monitor sends the alerts that arose in its interval through the notifier, once.
#[tokio::test]
async fn monitor_alerts_reach_the_notifier() {
    let notifier = Arc::new(RecordingNotifier::new());
    let world = World::new(notifier.clone());
    let t1 = world.tenant("t1", TenantStatus::Active).await;
    let g = world.grant(&t1, "g-amz", Platform::Amazon).await;
    let end = world.now() + Duration::hours(3);
    // An old streak (alerted by an earlier run), a success, then a new streak inside the interval.
    failed_syncs(&world, &t1, &g, end - Duration::hours(2)).await;
    let ok = NewAuditEvent::new(
        end - Duration::hours(1),
        custodian_core::audit::ActorRef::System,
        SyncProgressed::new(g.clone(), Task::ReadOrders, 5u64, None::<String>),
    );
    world.store.append(&t1, vec![ok]).await.unwrap();
    failed_syncs(&world, &t1, &g, end - Duration::minutes(10)).await;
    world.clock.set(end);
    let queue = world.queue().await;
    let worker = world.worker(queue.clone(), "w1", settings());
    enqueue_monitor(queue.as_ref(), end).await;
    let outcome = worker.run_once(end).await.unwrap();
    assert!(matches!(outcome, RunOutcome::Ran { result: JobResult::Completed, .. }), "{outcome:?}");
    let sent = notifier.notifications();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let Notification::Alert(alert) = &sent[0] else { panic!("{sent:?}") };
    assert_eq!(alert.kind, AlertKind::FailedSyncStreak);
    assert_eq!(alert.subject, "t1/g-amz");
    assert_eq!(alert.at, end - Duration::minutes(6));

    // A notifier that cannot deliver makes the job retry.
    notifier.fail(true);
    let ok = NewAuditEvent::new(
        end + Duration::minutes(1),
        custodian_core::audit::ActorRef::System,
        SyncProgressed::new(g.clone(), Task::ReadOrders, 5u64, None::<String>),
    );
    world.store.append(&t1, vec![ok]).await.unwrap();
    failed_syncs(&world, &t1, &g, end + Duration::minutes(2)).await;
    let later = end + Duration::minutes(15);
    world.clock.set(later);
    enqueue_monitor(queue.as_ref(), later).await;
    let outcome = worker.run_once(later).await.unwrap();
    assert!(matches!(outcome, RunOutcome::Ran { result: JobResult::Retrying { .. }, .. }), "{outcome:?}");
}

/// Amazon orders windows end two minutes before now (its data delay), so the watermark never passes
/// orders Amazon does not show yet.
#[tokio::test]
async fn amazon_orders_windows_end_two_minutes_before_now() {
    let world = World::new(Arc::new(RecordingNotifier::new()));
    let t1 = world.tenant("t1", TenantStatus::Active).await;
    let amz = world.grant(&t1, "g-amz", Platform::Amazon).await;
    let now = world.now() + Duration::minutes(30) + Duration::milliseconds(500);
    world.clock.set(now);
    let queue = world.queue().await;
    let worker = world.worker(queue.clone(), "w1", settings());
    queue.enqueue(&schedule::grant_spec(SYNC, &t1, &amz, Some(1), now, 5)).await.unwrap();
    let outcome = worker.run_once(now).await.unwrap();
    assert!(matches!(outcome, RunOutcome::Ran { result: JobResult::Completed, .. }), "{outcome:?}");
    let account = fixtures::account(Platform::Amazon, 1);
    let checkpoint = world.store.checkpoint(&t1, &amz, Task::ReadOrders, &account).await.unwrap().unwrap();
    let expected = (now - Duration::minutes(2)).replace_nanosecond(0).unwrap();
    assert_eq!(checkpoint.watermark, Some(expected));
}

/// `run`: two looping workers start the schedule, run a slot's jobs once between them, and stop on
/// shutdown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_workers_schedule_and_stop_on_shutdown() {
    let world = World::new(Arc::new(RecordingNotifier::new()));
    let t1 = world.tenant("t1", TenantStatus::Active).await;
    world.grant(&t1, "g-amz", Platform::Amazon).await;
    let slots = Slots::new(TICK_LEN);
    // The schedule started at T0; the workers come up an hour later (on the hour: a sync and a validation
    // are due) and catch up: each kind runs once, not once per missed slot.
    let queue = world.queue().await;
    assert!(world.worker(queue, "earlier", settings()).start(T0).await.unwrap());
    world.clock.set(slots.start(slots.of(T0) + 12));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut handles = Vec::new();
    for id in ["process-a", "process-b"] {
        let worker = world.worker(world.queue().await, id, settings());
        let mut stopped = stopped.clone();
        handles.push(tokio::spawn(async move {
            worker
                .run(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await;
        }));
    }
    let amazon = world.platform(Platform::Amazon);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while amazon.calls(Method::Stock) == 0 || amazon.calls(Method::Validate) == 0 {
        assert!(std::time::Instant::now() < deadline, "the slot's jobs did not run");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Give a duplicate every chance to show up before stopping.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.send(true).unwrap();
    for handle in handles {
        tokio::time::timeout(std::time::Duration::from_secs(60), handle).await.unwrap().unwrap();
    }
    assert_eq!(
        (amazon.calls(Method::Orders), amazon.calls(Method::Stock), amazon.calls(Method::Validate)),
        (1, 1, 1)
    );
}

/// A PostgreSQL database of its own for a test: `DATABASE_URL`, else the server on 127.0.0.1:5432.
mod pg {
    use std::str::FromStr as _;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use custodian_core::authz::Environment;
    use custodian_core::ports::Clock;
    use custodian_postgres::PgStore;
    use sqlx::postgres::PgConnectOptions;
    use sqlx::{ConnectOptions as _, Connection as _};

    const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
    static NEXT: AtomicU64 = AtomicU64::new(0);

    #[expect(clippy::disallowed_methods, reason = "the test harness reads DATABASE_URL, as sqlx::test does")]
    fn admin_url() -> String {
        std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
    }

    pub(super) struct Database {
        admin: PgConnectOptions,
        name: String,
    }

    impl Database {
        pub(super) async fn create() -> Database {
            let admin = PgConnectOptions::from_str(&admin_url()).expect("DATABASE_URL is a postgres url");
            let name =
                format!("custodian_worker_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
            let mut conn = admin.connect().await.expect("cannot connect to postgres at DATABASE_URL");
            // The name is built above from digits: no user text reaches this statement.
            sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .unwrap();
            sqlx::raw_sql(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
            Database { admin, name }
        }

        /// A store with its own pool (one "process"), migrated.
        pub(super) async fn store(&self, clock: Arc<dyn Clock>) -> Arc<PgStore> {
            let url = self.admin.clone().database(&self.name).to_url_lossy().to_string();
            let pool = PgStore::connect(&url, 4).await.unwrap();
            let store = PgStore::new(pool, clock, Environment::Production);
            store.migrate().await.unwrap();
            Arc::new(store)
        }

        pub(super) async fn drop_database(self) {
            let mut conn = self.admin.connect().await.unwrap();
            sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
        }
    }
}
