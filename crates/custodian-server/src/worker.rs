//! Background work in the server process, leased through the [`JobQueue`] port, so that several
//! `custodian serve` processes against one database never do the same work twice.
//!
//! # Job kinds
//!
//! Payloads carry ids and slot numbers only, never secrets or PII.
//!
//! - `tick`: the scheduler (see below).
//! - `sync` (per grant): pulls what the grant's platform offers and its tasks enable: campaigns and report
//!   rows (ad platforms, both `read_campaigns` and `read_reporting` enabled), orders and stock (commerce,
//!   `read_orders`). Orders windows start at the last watermark and end at now minus the platform's data
//!   delay ([`WorkerSettings::orders_delay`]; Amazon two minutes, `custodian_amazon::ORDERS_DATA_DELAY`:
//!   a window ending later would move the watermark past orders Amazon does not show yet).
//! - `validate` (per grant): token health (AUTH-2; Amazon sends no revocation notice, AUTH-6). Core's
//!   `validate` refreshes and validates live; a changed owner, account or scope moves the grant to review
//!   (AUTH-5) and a revoked authorization runs the revocation flow (revoke, purge, receipt: RET-3, RET-6).
//! - `retention` (per tenant): core's retention sweep (RET-1..5).
//! - `purge` (per revoked grant): re-runs the revocation purge of a grant revoked without a receipt (an
//!   interrupted purge), at once (RET-3), with its receipt and re-check (RET-6).
//! - `monitor`: runs the MON-1 detectors (failed sync streaks, access volume spikes, unusual hours, many
//!   tenants) over the audit trail and sends the alerts through the [`Notifier`](custodian_core::ports::Notifier) (a structured log line
//!   plus the optional outgoing webhook, `runtime::SystemNotifier`).
//!
//! Background work acts as [`Actor::System`](custodian_core::authz::Actor::System), the actor core's authorization has for it.
//!
//! # Scheduling without double work
//!
//! Time is cut into slots of [`WorkerSettings::tick`]. The scheduler is itself a job: the `tick` of slot
//! `S` (dedupe key `tick:{S}`, due when `S` starts) enqueues the jobs due in `S`, each with a dedupe key
//! naming the job and the slot (`sync:{tenant}:{grant}:{S}`, `retention:{tenant}:{S}`, `monitor:{S}`;
//! `purge:{tenant}:{grant}`), then enqueues `tick:{S+1}` due when `S+1` starts, then completes. At start a
//! process enqueues only `tick:{next slot}`: a future slot, so a tick that already ran is never created
//! again, and the dedupe key makes concurrent starts enqueue it once. Each tick carries the last slot the
//! tick before it covered, so a kind falls due exactly once per interval boundary even when ticks run
//! late. After downtime the chain catches up slot by slot (never skipping a tick, so it meets any other
//! chain's pending tick and merges with it through the dedupe key), but a late tick leaves a kind to the
//! later tick that covers its next occurrence before now: a catch-up runs each kind once, not once per
//! missed slot.
//!
//! Jobs are leased with expiry and a fencing token; a long job renews its lease while it runs. A worker
//! whose lease went stale (expired and taken over) stops the job and reports nothing: the queue rejects
//! its completion. Failures are retried with exponential backoff and jitter until the job's attempts run
//! out, then the job is dead.
//!
//! Remaining windows where work can run twice (each job is idempotent: upserts by natural key,
//! checkpointed syncs, sweeps and purges that find nothing left the second time):
//!
//! - a tick that crashes (or whose lease goes stale) after enqueuing children and before completing is
//!   retried and re-enqueues only the children not pending or running: children that already finished run
//!   again for that slot;
//! - a job that loses its lease while its side effects are under way (a sync page stored, an alert sent)
//!   is run again by the next worker: only its completion is fenced, not its effects; likewise a
//!   `monitor` run retried because one alert could not be delivered sends the others again;
//! - a tick chain that falls behind by failing repeatedly (backoff) while a newly started process's own
//!   chain ran ahead: the old chain may re-create a tick that already finished (dedupe only covers pending
//!   and running jobs). Ticks get many attempts ([`WorkerSettings::tick_max_attempts`]) so the chain does
//!   not die; if it does, the next process start creates it again;
//! - clocks that disagree across processes by more than a slot (the start tick is "the next slot" by each
//!   process's clock).

mod jobs;
mod schedule;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use custodian_core::monitor::AccessAnomalyConfig;
use custodian_core::platform::Platform;
use custodian_core::ports::{JobQueue, JobQueueError, Lease};
use custodian_core::service::Services;
use time::{Duration, OffsetDateTime};

pub use schedule::{KINDS, MONITOR, PURGE, RETENTION, SYNC, TICK, VALIDATE};

use schedule::Slots;

/// Intervals and limits of background work.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// The slot length: how often the scheduler runs. Default 5 minutes.
    pub tick: Duration,
    /// Sync every active grant this often. Default 1 hour.
    pub sync_every: Duration,
    /// Validate (token health) every active or in-review grant this often. Default 6 hours (well inside
    /// the 24 h AUTH-2 freshness window).
    pub validate_every: Duration,
    /// Sweep every active tenant this often (RET-4). Default 1 day.
    pub retention_every: Duration,
    /// Run the detectors this often, over alerts raised in the last interval. Default 15 minutes.
    pub monitor_every: Duration,
    /// A grant revoked at least this long ago without a receipt gets a `purge` job (younger ones are
    /// probably still being purged by the flow that revoked them). Default 10 minutes.
    pub purge_grace: Duration,
    /// How long a lease lasts. Default 5 minutes.
    pub lease_for: Duration,
    /// How often a running job renews its lease (real time). Default 100 seconds.
    pub renew_every: std::time::Duration,
    /// How long an idle worker waits before asking again (real time). Default 1 second.
    pub poll_every: std::time::Duration,
    /// Attempts of a scheduled job before it is dead. Default 5.
    pub max_attempts: u32,
    /// Attempts of a tick before it is dead (the chain must not die). Default 1000.
    pub tick_max_attempts: u32,
    /// The first retry delay; each further failure doubles it. Default 30 seconds.
    pub backoff_base: Duration,
    /// The longest retry delay (before jitter). Default 1 hour.
    pub backoff_max: Duration,
    /// The report window of a sync, in days, today included. Default 28 (late attribution).
    pub report_days: i64,
    /// How far back the first orders sync of an account reaches. Default 30 days.
    pub orders_lookback: Duration,
    /// How far behind now an orders window must end, per platform. Default: Amazon 2 minutes.
    pub orders_delay: BTreeMap<Platform, Duration>,
    /// How much audit trail the detectors read. Default 24 hours.
    pub monitor_lookback: Duration,
    /// At most this many audit records per tenant chain per detector run. Default 100 000.
    pub monitor_max_records: u32,
    /// Consecutive failed syncs of a grant that raise an alert. Default 3.
    pub failed_sync_threshold: u32,
    /// Thresholds of the access detectors.
    pub access: AccessAnomalyConfig,
}

/// How far behind now each platform's order data may lag, so order windows end before it: Amazon two minutes
/// (`custodian_amazon::ORDERS_DATA_DELAY`: its order APIs refuse a `*Before` later than that); others none.
pub fn default_orders_delay() -> BTreeMap<Platform, Duration> {
    BTreeMap::from([(Platform::Amazon, custodian_amazon::ORDERS_DATA_DELAY)])
}

/// The end of an orders window at `now` after a data delay of `delay`, in whole seconds (platforms compare
/// at second precision, and a fraction past their clock reads as a date in the future).
pub fn orders_window_end(delay: Duration, now: OffsetDateTime) -> OffsetDateTime {
    let end = now - delay;
    end.replace_nanosecond(0).unwrap_or(end)
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            tick: Duration::minutes(5),
            sync_every: Duration::hours(1),
            validate_every: Duration::hours(6),
            retention_every: Duration::days(1),
            monitor_every: Duration::minutes(15),
            purge_grace: Duration::minutes(10),
            lease_for: Duration::minutes(5),
            renew_every: std::time::Duration::from_secs(100),
            poll_every: std::time::Duration::from_secs(1),
            max_attempts: 5,
            tick_max_attempts: 1000,
            backoff_base: Duration::seconds(30),
            backoff_max: Duration::hours(1),
            report_days: 28,
            orders_lookback: Duration::days(30),
            orders_delay: default_orders_delay(),
            monitor_lookback: Duration::hours(24),
            monitor_max_records: 100_000,
            failed_sync_threshold: 3,
            access: AccessAnomalyConfig::default(),
        }
    }
}

/// Why the worker could not talk to the queue (job failures are not errors: they are retried).
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("job queue unavailable")]
    Queue(#[source] JobQueueError),
}

/// What happened to a leased job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobResult {
    /// Done; completed in the queue.
    Completed,
    /// Nothing to do (grant no longer active, already purged, malformed payload, denied); completed.
    Skipped(String),
    /// Failed; retried at `retry_at`.
    Retrying { retry_at: OffsetDateTime, error: String },
    /// Failed and out of attempts.
    Dead { error: String },
}

/// What one [`Worker::run_once`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// No job was due.
    Idle,
    /// A job ran and its result was reported to the queue.
    Ran { job: u64, kind: String, dedupe_key: Option<String>, result: JobResult },
    /// The lease went stale (expired and taken over): the job was stopped and nothing was reported.
    Stale { job: u64, kind: String },
}

/// A background worker: leases due jobs of the known kinds and runs them through core's use cases.
#[derive(Clone)]
pub struct Worker {
    services: Services,
    queue: Arc<dyn JobQueue>,
    id: String,
    settings: WorkerSettings,
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("id", &self.id)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker named `id` (unique per process, at most 128 bytes: it is recorded on leases).
    pub fn new(
        services: Services,
        queue: Arc<dyn JobQueue>,
        id: impl Into<String>,
        settings: WorkerSettings,
    ) -> Self {
        Self { services, queue, id: id.into(), settings }
    }

    /// The worker's name.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The settings.
    pub fn settings(&self) -> &WorkerSettings {
        &self.settings
    }

    fn slots(&self) -> Slots {
        Slots::new(self.settings.tick)
    }

    fn now(&self) -> OffsetDateTime {
        self.services.deps().clock.now()
    }

    /// Enqueues the tick of the slot after `now` (once across processes: its dedupe key). Returns whether
    /// this call created it.
    pub async fn start(&self, now: OffsetDateTime) -> Result<bool, WorkerError> {
        let slots = self.slots();
        let slot = slots.of(now).saturating_add(1);
        let spec = schedule::tick_spec(slots, slot, slot - 1, self.settings.tick_max_attempts.max(1));
        let created = self.queue.enqueue(&spec).await.map_err(WorkerError::Queue)?;
        Ok(created.is_some())
    }

    /// Runs until `shutdown` resolves: enqueues the next tick, then leases and runs due jobs, waiting
    /// [`WorkerSettings::poll_every`] when none is due. A job still running at shutdown is dropped; its lease
    /// expires and another worker runs it again (jobs are idempotent and syncs resume from checkpoints).
    pub async fn run(&self, shutdown: impl Future<Output = ()> + Send) {
        tokio::pin!(shutdown);
        let mut started = false;
        loop {
            if !started {
                match self.start(self.now()).await {
                    Ok(_) => started = true,
                    Err(error) => tracing::warn!(worker = %self.id, error = %error, "scheduler not started"),
                }
            }
            let idle = tokio::select! {
                () = &mut shutdown => return,
                outcome = self.run_once(self.now()) => match outcome {
                    Ok(RunOutcome::Idle) => true,
                    Ok(_) => false,
                    Err(error) => {
                        tracing::warn!(worker = %self.id, error = %error, "lease failed");
                        true
                    }
                },
            };
            if idle {
                tokio::select! {
                    () = &mut shutdown => return,
                    () = tokio::time::sleep(self.settings.poll_every) => {}
                }
            }
        }
    }

    /// Leases one job due at `now`, runs it (renewing the lease every [`WorkerSettings::renew_every`]) and
    /// reports the result: complete, or fail with a backoff `retry_at` counted from the later of `now` and
    /// the clock's time when the attempt ended.
    pub async fn run_once(&self, now: OffsetDateTime) -> Result<RunOutcome, WorkerError> {
        let kinds: Vec<String> = KINDS.iter().map(|k| (*k).to_owned()).collect();
        let lease = self.queue.lease(&self.id, &kinds, now, self.settings.lease_for).await;
        let Some(lease) = lease.map_err(WorkerError::Queue)? else { return Ok(RunOutcome::Idle) };
        let job = lease.job.id;
        let kind = lease.job.spec.kind.clone();
        let dedupe_key = lease.job.spec.dedupe_key.clone();
        let Some((lease, result)) = self.run_leased(lease).await else {
            tracing::warn!(worker = %self.id, job, kind = %kind, "lease went stale: job stopped, nothing reported");
            return Ok(RunOutcome::Stale { job, kind });
        };
        let reported = match result {
            Ok(jobs::Done::Completed) => self.complete(&lease, JobResult::Completed).await,
            Ok(jobs::Done::Skipped(why)) => {
                tracing::info!(worker = %self.id, job, kind = %kind, reason = %why, "job skipped");
                self.complete(&lease, JobResult::Skipped(why)).await
            }
            Err(failure) => self.fail(&lease, failure, now).await,
        };
        match reported {
            Ok(result) => Ok(RunOutcome::Ran { job, kind, dedupe_key, result }),
            Err(JobQueueError::StaleLease) => {
                tracing::warn!(worker = %self.id, job, kind = %kind, "lease went stale: result not reported");
                Ok(RunOutcome::Stale { job, kind })
            }
            Err(error) => Err(WorkerError::Queue(error)),
        }
    }

    /// Runs the job while renewing its lease. `None` when a renewal found the lease stale: the job's future
    /// is dropped at once.
    async fn run_leased(&self, mut lease: Lease) -> Option<(Lease, Result<jobs::Done, jobs::Failure>)> {
        let work = jobs::execute(self, lease.clone());
        tokio::pin!(work);
        loop {
            tokio::select! {
                result = &mut work => return Some((lease, result)),
                () = tokio::time::sleep(self.settings.renew_every) => {
                    match self.queue.renew(&lease, self.now(), self.settings.lease_for).await {
                        Ok(renewed) => lease = renewed,
                        Err(JobQueueError::StaleLease) => return None,
                        // The lease still runs until it expires; the next renewal tries again.
                        Err(error) => tracing::warn!(worker = %self.id, error = %error, "lease renewal failed"),
                    }
                }
            }
        }
    }

    async fn complete(&self, lease: &Lease, result: JobResult) -> Result<JobResult, JobQueueError> {
        self.queue.complete(lease, self.now()).await?;
        Ok(result)
    }

    async fn fail(
        &self,
        lease: &Lease,
        failure: jobs::Failure,
        now: OffsetDateTime,
    ) -> Result<JobResult, JobQueueError> {
        let mut jitter = [0u8; 2];
        self.services.deps().rng.fill(&mut jitter);
        let delay = schedule::backoff(
            lease.job.attempts,
            self.settings.backoff_base,
            self.settings.backoff_max,
            u16::from_be_bytes(jitter),
        );
        // From when the attempt ended: a long job that fails late still waits its full delay.
        let base = now.max(self.now());
        let retry_at = match failure.not_before {
            Some(at) => (base + delay).max(at),
            None => base + delay,
        };
        self.queue.fail(lease, &failure.error, retry_at).await?;
        let dead = lease.job.attempts >= lease.job.spec.max_attempts;
        tracing::warn!(
            worker = %self.id,
            job = lease.job.id,
            kind = %lease.job.spec.kind,
            attempts = lease.job.attempts,
            dead,
            error = %failure.error,
            "job failed"
        );
        Ok(if dead {
            JobResult::Dead { error: failure.error }
        } else {
            JobResult::Retrying { retry_at, error: failure.error }
        })
    }
}

#[cfg(test)]
mod tests;
