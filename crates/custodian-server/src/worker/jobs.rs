//! The job handlers: each runs one job through core's use cases as [`Actor::System`] and says whether it
//! is done, had nothing to do, or should be retried.

use std::collections::BTreeSet;

use custodian_core::audit::{ActorRef, AuditEvent};
use custodian_core::authz::Actor;
use custodian_core::data::ReportLevel;
use custodian_core::grant::{Grant, GrantId, GrantState};
use custodian_core::monitor::{AccessEvent, Alert, SyncOutcome, access_anomaly_alerts, failed_sync_alerts};
use custodian_core::platform::Task;
use custodian_core::ports::{
    JobQueueError, JobSpec, Lease, Notification, NotifyError, OrderQuery, PlatformError, ReportQuery,
    StoreError,
};
use custodian_core::retention::{DeletionCause, DeletionReceipt};
use custodian_core::service::{ServiceError, ValidationOutcome};
use custodian_core::tenant::{TenantId, TenantStatus};
use time::{Duration, OffsetDateTime};

use super::Worker;
use super::schedule::{
    self, GrantPayload, MONITOR, PURGE, RETENTION, SYNC, SlotPayload, TICK, TickPayload, VALIDATE,
};

/// A job that needs no retry.
#[derive(Debug)]
pub(super) enum Done {
    Completed,
    /// Nothing to do, or nothing a retry could change; the reason is logged.
    Skipped(String),
}

/// A job to retry: the safe error text stored with the job, and the earliest retry the platform asked for.
#[derive(Debug)]
pub(super) struct Failure {
    pub(super) error: String,
    pub(super) not_before: Option<OffsetDateTime>,
}

impl Failure {
    fn new(error: impl Into<String>) -> Self {
        Self { error: error.into(), not_before: None }
    }
}

fn store(error: StoreError) -> Failure {
    Failure::new(format!("store: {error}"))
}

fn queue(error: JobQueueError) -> Failure {
    Failure::new(format!("job queue: {error}"))
}

/// Sorts a use case's error: transient ones are retried; the rest cannot change on a retry (denied, gone,
/// conflicting, misconfigured) and settle the job.
fn settle(error: ServiceError, now: OffsetDateTime) -> Result<Done, Failure> {
    let text = error.to_string();
    match error {
        ServiceError::Denied(_)
        | ServiceError::NotFound
        | ServiceError::Conflict(_)
        | ServiceError::Invalid(_)
        | ServiceError::PlatformNotConfigured(_)
        | ServiceError::GrantRevoked
        | ServiceError::SignalRejected(_) => Ok(Done::Skipped(text)),
        ServiceError::Platform(platform) => match platform {
            PlatformError::RateLimited { retry_after } => {
                Err(Failure { error: text, not_before: retry_after.map(|after| now + after) })
            }
            PlatformError::Forbidden { .. }
            | PlatformError::Invalid { .. }
            | PlatformError::Unsupported(_)
            | PlatformError::NotFound { .. }
            | PlatformError::Revoked { .. } => Ok(Done::Skipped(text)),
            _ => Err(Failure::new(text)),
        },
        ServiceError::AuditUnavailable | ServiceError::Unavailable(..) => Err(Failure::new(text)),
    }
}

/// Runs the leased job.
pub(super) async fn execute(worker: &Worker, lease: Lease) -> Result<Done, Failure> {
    let spec = &lease.job.spec;
    match spec.kind.as_str() {
        TICK => tick(worker, spec).await,
        SYNC | VALIDATE | PURGE => {
            let Some((tenant, grant)) = grant_of(spec) else {
                return Ok(Done::Skipped("malformed job payload".to_owned()));
            };
            match spec.kind.as_str() {
                SYNC => sync(worker, &tenant, &grant).await,
                VALIDATE => validate(worker, &tenant, &grant).await,
                _ => purge(worker, &tenant, &grant).await,
            }
        }
        RETENTION => match &spec.tenant {
            Some(tenant) => retention(worker, tenant).await,
            None => Ok(Done::Skipped("malformed job payload".to_owned())),
        },
        MONITOR => match serde_json::from_str::<SlotPayload>(&spec.payload) {
            Ok(payload) => monitor(worker, payload.slot).await,
            Err(_) => Ok(Done::Skipped("malformed job payload".to_owned())),
        },
        other => {
            Ok(Done::Skipped(format!("unknown job kind `{}`", other.chars().take(32).collect::<String>())))
        }
    }
}

fn grant_of(spec: &JobSpec) -> Option<(TenantId, GrantId)> {
    let payload: GrantPayload = serde_json::from_str(&spec.payload).ok()?;
    Some((spec.tenant.clone()?, GrantId::new(payload.grant).ok()?))
}

/// Whether a clean revocation receipt of `grant` exists.
fn purged(receipts: &[DeletionReceipt], grant: &GrantId) -> bool {
    receipts
        .iter()
        .any(|r| r.grant() == Some(grant) && matches!(r.cause(), DeletionCause::Revocation) && r.is_clean())
}

/// The scheduler: enqueues the slot's due jobs, then the next tick.
async fn tick(worker: &Worker, spec: &JobSpec) -> Result<Done, Failure> {
    let Ok(TickPayload { slot, after }) = serde_json::from_str(&spec.payload) else {
        return Ok(Done::Skipped("malformed job payload".to_owned()));
    };
    let settings = &worker.settings;
    let slots = worker.slots();
    let deps = worker.services.deps();
    let run_at = slots.start(slot);
    let attempts = settings.max_attempts.max(1);
    // A late tick (catching up after downtime: later slots have started) leaves a kind to the later tick
    // that covers its next occurrence before now, so a catch-up runs each kind once, not once per slot.
    let current = slots.of(worker.now());
    let due = |every| slots.due(every, after, slot) && !(current > slot && slots.due(every, slot, current));
    let sync_due = due(settings.sync_every);
    let validate_due = due(settings.validate_every);
    let retention_due = due(settings.retention_every);
    let monitor_due = due(settings.monitor_every);

    let mut specs = Vec::new();
    for tenant in deps.tenants.tenants().await.map_err(store)? {
        let active = tenant.status == TenantStatus::Active;
        if tenant.status == TenantStatus::Offboarded {
            continue;
        }
        if active && retention_due {
            specs.push(schedule::slot_spec(RETENTION, Some(&tenant.id), slot, run_at, attempts));
        }
        let grants = deps.grants.grants(&tenant.id).await.map_err(store)?;
        let mut receipts = None;
        for grant in grants {
            let per_grant =
                |kind| schedule::grant_spec(kind, &tenant.id, &grant.id, Some(slot), run_at, attempts);
            match grant.state() {
                GrantState::Active if active => {
                    if sync_due {
                        specs.push(per_grant(SYNC));
                    }
                    if validate_due {
                        specs.push(per_grant(VALIDATE));
                    }
                }
                GrantState::NeedsReview if active && validate_due => specs.push(per_grant(VALIDATE)),
                GrantState::Revoked if grant.updated_at() <= run_at - settings.purge_grace => {
                    if receipts.is_none() {
                        receipts = Some(deps.cases.receipts(&tenant.id).await.map_err(store)?);
                    }
                    if !receipts.as_deref().is_some_and(|r| purged(r, &grant.id)) {
                        specs
                            .push(schedule::grant_spec(PURGE, &tenant.id, &grant.id, None, run_at, attempts));
                    }
                }
                _ => {}
            }
        }
    }
    if monitor_due {
        specs.push(schedule::slot_spec(MONITOR, None, slot, run_at, attempts));
    }
    let mut created = 0usize;
    for spec in &specs {
        if worker.queue.enqueue(spec).await.map_err(queue)?.is_some() {
            created += 1;
        }
    }
    let next = schedule::tick_spec(slots, slot.saturating_add(1), slot, settings.tick_max_attempts.max(1));
    worker.queue.enqueue(&next).await.map_err(queue)?;
    tracing::info!(worker = %worker.id, slot, due = specs.len(), created, "scheduled");
    Ok(Done::Completed)
}

/// After a failed sync or validation: if the grant ended up revoked without a receipt (the revocation flow
/// was interrupted during its purge), a purge job is enqueued at once (RET-3).
async fn purge_if_revoked(worker: &Worker, tenant: &TenantId, grant: &GrantId) {
    let deps = worker.services.deps();
    let Ok(current) = deps.grants.grant(tenant, grant).await else { return };
    if current.state() != GrantState::Revoked {
        return;
    }
    if deps.cases.receipts(tenant).await.is_ok_and(|r| purged(&r, grant)) {
        return;
    }
    let spec =
        schedule::grant_spec(PURGE, tenant, grant, None, worker.now(), worker.settings.max_attempts.max(1));
    if let Err(error) = worker.queue.enqueue(&spec).await {
        tracing::warn!(worker = %worker.id, error = %error, "purge job not enqueued");
    }
}

/// The end of an orders window at `now` on the grant's platform (whole seconds).
fn orders_before(worker: &Worker, grant: &Grant, now: OffsetDateTime) -> OffsetDateTime {
    let delay = worker.settings.orders_delay.get(&grant.platform).copied().unwrap_or(Duration::ZERO);
    super::orders_window_end(delay, now)
}

async fn sync(worker: &Worker, tenant: &TenantId, grant_id: &GrantId) -> Result<Done, Failure> {
    let result = sync_grant(worker, tenant, grant_id).await;
    match result {
        Ok(done) => Ok(done),
        Err(error) => {
            purge_if_revoked(worker, tenant, grant_id).await;
            settle(error, worker.now())
        }
    }
}

async fn sync_grant(worker: &Worker, tenant: &TenantId, grant_id: &GrantId) -> Result<Done, ServiceError> {
    let services = &worker.services;
    let deps = services.deps();
    let grant = deps.grants.grant(tenant, grant_id).await?;
    if grant.state() != GrantState::Active {
        return Ok(Done::Skipped(format!("grant is {}", grant.state())));
    }
    let Some(adapters) = deps.platforms.get(&grant.platform) else {
        return Ok(Done::Skipped(format!("platform {} is not configured", grant.platform)));
    };
    let accounts: BTreeSet<_> = grant.evidence().map(|e| e.accounts.clone()).unwrap_or_default();
    let reporting = adapters.reporting.is_some()
        && grant.tasks.contains(&Task::ReadCampaigns)
        && grant.tasks.contains(&Task::ReadReporting);
    let commerce = adapters.commerce.is_some() && grant.tasks.contains(&Task::ReadOrders);
    if !reporting && !commerce {
        return Ok(Done::Skipped("nothing the grant's tasks and platform offer to sync".to_owned()));
    }
    let actor = Actor::System;
    for account in &accounts {
        let now = worker.now();
        if reporting {
            let to = now.date();
            let from = to - Duration::days(worker.settings.report_days.max(1) - 1);
            let query = ReportQuery { level: ReportLevel::Campaign, from, to };
            services.sync_reporting(&actor, tenant, grant_id, account, &query).await?;
        }
        if commerce {
            let before = orders_before(worker, &grant, now);
            let after = deps
                .datasets
                .checkpoint(tenant, grant_id, Task::ReadOrders, account)
                .await?
                .and_then(|c| c.watermark)
                .filter(|w| *w <= before)
                .unwrap_or(before - worker.settings.orders_lookback);
            if after < before {
                let query = OrderQuery { updated_after: after, updated_before: before };
                services.sync_orders(&actor, tenant, grant_id, account, &query).await?;
            }
            services.sync_stock(&actor, tenant, grant_id, account).await?;
        }
    }
    Ok(Done::Completed)
}

async fn validate(worker: &Worker, tenant: &TenantId, grant_id: &GrantId) -> Result<Done, Failure> {
    let deps = worker.services.deps();
    let grant = match deps.grants.grant(tenant, grant_id).await {
        Ok(grant) => grant,
        Err(StoreError::NotFound) => return Ok(Done::Skipped("grant not found".to_owned())),
        Err(error) => return Err(store(error)),
    };
    if !matches!(grant.state(), GrantState::Active | GrantState::NeedsReview) {
        return Ok(Done::Skipped(format!("grant is {}", grant.state())));
    }
    match worker.services.validate(&Actor::System, tenant, grant_id).await {
        Ok(ValidationOutcome::Active(_)) => Ok(Done::Completed),
        Ok(ValidationOutcome::NeedsReview(_)) => {
            tracing::warn!(tenant = %tenant, grant = %grant_id, "grant needs review: processing stopped (AUTH-5)");
            Ok(Done::Completed)
        }
        Ok(ValidationOutcome::Expired(_)) => {
            tracing::warn!(tenant = %tenant, grant = %grant_id, "grant authorization expired");
            Ok(Done::Completed)
        }
        Err(ServiceError::GrantRevoked) => {
            tracing::warn!(tenant = %tenant, grant = %grant_id, "authorization revoked on the platform: grant revoked and purged");
            Ok(Done::Completed)
        }
        Err(error) => {
            purge_if_revoked(worker, tenant, grant_id).await;
            settle(error, worker.now())
        }
    }
}

async fn retention(worker: &Worker, tenant: &TenantId) -> Result<Done, Failure> {
    match worker.services.retention_sweep(&Actor::System, tenant).await {
        Ok(report) => {
            let total = report.total();
            tracing::info!(
                tenant = %tenant,
                deleted = total.deleted,
                anonymized = total.anonymized,
                held = total.held,
                "retention sweep"
            );
            Ok(Done::Completed)
        }
        Err(error) => settle(error, worker.now()),
    }
}

async fn purge(worker: &Worker, tenant: &TenantId, grant_id: &GrantId) -> Result<Done, Failure> {
    let deps = worker.services.deps();
    let grant = match deps.grants.grant(tenant, grant_id).await {
        Ok(grant) => grant,
        Err(StoreError::NotFound) => return Ok(Done::Skipped("grant not found".to_owned())),
        Err(error) => return Err(store(error)),
    };
    if grant.state() != GrantState::Revoked {
        return Ok(Done::Skipped(format!("grant is {}, not revoked", grant.state())));
    }
    if purged(&deps.cases.receipts(tenant).await.map_err(store)?, grant_id) {
        return Ok(Done::Skipped("already purged".to_owned()));
    }
    match worker.services.purge_grant(&Actor::System, &grant, DeletionCause::Revocation).await {
        Ok(receipt) if receipt.is_clean() => {
            tracing::info!(tenant = %tenant, grant = %grant_id, receipt = %receipt.id(), "revoked grant purged");
            Ok(Done::Completed)
        }
        Ok(receipt) => {
            Err(Failure::new(format!("purge re-check found records left (receipt `{}`)", receipt.id())))
        }
        Err(error) => settle(error, worker.now()),
    }
}

/// The MON-1 detectors over the audit trail up to the slot's start; sends the alerts that arose in the
/// last monitor interval.
async fn monitor(worker: &Worker, slot: i64) -> Result<Done, Failure> {
    let settings = &worker.settings;
    let deps = worker.services.deps();
    let end = worker.slots().start(slot);
    let from = end - settings.monitor_lookback;
    let window_start = end - settings.monitor_every;
    let mut outcomes = Vec::new();
    let mut access = Vec::new();
    for tenant in deps.audit.chains().await.map_err(store)? {
        let limit = settings.monitor_max_records.max(1);
        let records = deps.audit.read_between(&tenant, from, end, limit).await.map_err(store)?;
        if records.len() >= limit as usize {
            tracing::warn!(tenant = %tenant, limit, "monitor read the most audit records it may: later ones not seen");
        }
        for record in records {
            match record.event {
                AuditEvent::SyncProgressed(e) => outcomes.push(SyncOutcome {
                    tenant: record.tenant.clone(),
                    grant: e.grant,
                    at: record.at,
                    ok: true,
                }),
                AuditEvent::SyncFailed(e) => outcomes.push(SyncOutcome {
                    tenant: record.tenant.clone(),
                    grant: e.grant,
                    at: record.at,
                    ok: false,
                }),
                AuditEvent::DataRead(e) => {
                    let actor = match &record.actor {
                        ActorRef::Person(id) => format!("person:{id}"),
                        ActorRef::ApiKey(id) => format!("api_key:{id}"),
                        ActorRef::System | ActorRef::Platform(_) => continue,
                    };
                    access.push(AccessEvent {
                        actor,
                        tenant: record.tenant.clone(),
                        at: record.at,
                        records: e.records,
                    });
                }
                _ => {}
            }
        }
    }
    let mut alerts: Vec<Alert> = failed_sync_alerts(&outcomes, settings.failed_sync_threshold);
    alerts.extend(access_anomaly_alerts(&access, end, &settings.access));
    alerts.retain(|a| a.at >= window_start && a.at <= end);
    let mut unavailable = 0usize;
    for alert in &alerts {
        match deps.notifier.notify(&Notification::Alert(alert.clone())).await {
            Ok(()) => {}
            Err(NotifyError::Rejected(reason)) => {
                tracing::warn!(kind = %alert.kind, reason = %reason, "alert rejected by the receiver");
            }
            Err(error) => {
                tracing::warn!(kind = %alert.kind, error = %error, "alert not delivered");
                unavailable += 1;
            }
        }
    }
    if unavailable > 0 {
        return Err(Failure::new(format!("{unavailable} of {} alerts not delivered", alerts.len())));
    }
    Ok(Done::Completed)
}
