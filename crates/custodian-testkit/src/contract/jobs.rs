//! The `JobQueue` contract: leases, fencing, retries, dead jobs and dedupe keys.

use std::collections::BTreeSet;

use custodian_core::ports::{Job, JobQueue, JobQueueError, JobSpec, Lease};
use futures::future::join_all;
use time::{Duration, OffsetDateTime};

use super::{BASE, ContractViolation, Ctx, outcome};

const FAR_FUTURE: OffsetDateTime = time::macros::datetime!(2200-01-01 00:00 UTC);
const MINUTE: Duration = Duration::minutes(1);

fn spec(kind: &str, run_at: OffsetDateTime, max_attempts: u32, dedupe_key: Option<String>) -> JobSpec {
    JobSpec {
        kind: kind.to_owned(),
        tenant: None,
        payload: "contract".to_owned(),
        dedupe_key,
        run_at,
        max_attempts,
    }
}

async fn lease(
    queue: &dyn JobQueue,
    worker: &str,
    kind: &str,
    now: OffsetDateTime,
    lease_for: Duration,
) -> Result<Option<Lease>, JobQueueError> {
    queue.lease(worker, &[kind.to_owned()], now, lease_for).await
}

/// Checks a [`JobQueue`]. Every job kind is unique to the run, so other work on a shared queue is never
/// leased or disturbed.
///
/// - `enqueue and read`: a job reads back with its spec, no attempts, no error and no worker; unknown ids
///   `NotFound`.
/// - `due only`: a job is not leased before `run_at`, nor under another kind.
/// - `oldest first`: the oldest due job is leased first.
/// - `leased once`: 30 concurrent lessees over 20 jobs lease each job exactly once, and nothing more.
/// - `renew`: renewing a current lease extends it with the same token; renewing after expiry is
///   `StaleLease`.
/// - `expired lease reclaimed`: an expired lease is leased again with a higher fencing token; the stale
///   token's `complete`, `renew` and `fail` are `StaleLease`; the completed job names the worker that
///   completed it; a completed job is never leased again.
/// - `retry and dead`: a failed attempt is retried at `retry_at` (not before) with its error and worker
///   recorded, and after `max_attempts` the job is dead.
/// - `dedupe`: a pending or running job's dedupe key blocks a second enqueue; after completion it does not.
pub async fn job_queue(queue: &dyn JobQueue, run_id: &str) -> Result<(), ContractViolation> {
    let ctx = Ctx::new("job_queue", run_id)?;

    let kind = ctx.name("read");
    let id = ctx
        .ok("enqueue and read", queue.enqueue(&spec(&kind, BASE, 3, None)).await)?
        .ok_or_else(|| ctx.violation("enqueue and read", "a job without a dedupe key was not enqueued"))?;
    let job = ctx.ok("enqueue and read", queue.job(id).await)?;
    let expected = Job { id, spec: spec(&kind, BASE, 3, None), attempts: 0, last_error: None, worker: None };
    ensure!(ctx, "enqueue and read", job == expected, "read back {job:?}, expected {expected:?}");
    let missing = queue.job(u64::MAX).await;
    ensure!(
        ctx,
        "enqueue and read",
        matches!(missing, Err(JobQueueError::NotFound)),
        "an unknown job gave {}",
        outcome(&missing)
    );

    let kind = ctx.name("due");
    let due = ctx.ok("due only", queue.enqueue(&spec(&kind, BASE + Duration::hours(1), 3, None)).await)?;
    let early = ctx.ok("due only", lease(queue, "w1", &kind, BASE, MINUTE).await)?;
    ensure!(ctx, "due only", early.is_none(), "a job was leased an hour before it is due");
    let other =
        ctx.ok("due only", lease(queue, "w1", &ctx.name("never-enqueued"), FAR_FUTURE, MINUTE).await)?;
    ensure!(ctx, "due only", other.is_none(), "a job was leased under a kind that was never enqueued");
    let on_time = ctx.ok("due only", lease(queue, "w1", &kind, BASE + Duration::hours(1), MINUTE).await)?;
    ensure!(
        ctx,
        "due only",
        on_time.as_ref().map(|l| l.job.id) == due,
        "the due job was not leased at its time"
    );

    let kind = ctx.name("order");
    let newer = ctx.ok("oldest first", queue.enqueue(&spec(&kind, BASE, 3, None)).await)?;
    let older =
        ctx.ok("oldest first", queue.enqueue(&spec(&kind, BASE - Duration::hours(1), 3, None)).await)?;
    let first = ctx.ok("oldest first", lease(queue, "w1", &kind, BASE, MINUTE).await)?;
    let second = ctx.ok("oldest first", lease(queue, "w1", &kind, BASE, MINUTE).await)?;
    ensure!(
        ctx,
        "oldest first",
        first.map(|l| l.job.id) == older && second.map(|l| l.job.id) == newer,
        "the jobs were not leased oldest first"
    );

    let kind = ctx.name("concurrent");
    let mut enqueued = BTreeSet::new();
    for _ in 0..20 {
        let id = ctx.ok("leased once", queue.enqueue(&spec(&kind, BASE, 3, None)).await)?;
        enqueued.extend(id);
    }
    let workers: Vec<String> = (0..30).map(|i| format!("worker-{i}")).collect();
    let leases = join_all(workers.iter().map(|w| lease(queue, w, &kind, BASE, Duration::minutes(5)))).await;
    let mut leased = Vec::new();
    for result in leases {
        if let Some(lease) = ctx.ok("leased once", result)? {
            leased.push(lease.job.id);
        }
    }
    let distinct: BTreeSet<u64> = leased.iter().copied().collect();
    ensure!(
        ctx,
        "leased once",
        leased.len() == 20 && distinct == enqueued,
        "30 concurrent lessees over 20 jobs got {} leases of {} distinct jobs",
        leased.len(),
        distinct.len()
    );
    let more = ctx.ok("leased once", lease(queue, "late", &kind, BASE + MINUTE, MINUTE).await)?;
    ensure!(ctx, "leased once", more.is_none(), "a job with a live lease was leased again");

    let kind = ctx.name("renew");
    ctx.ok("renew", queue.enqueue(&spec(&kind, BASE, 3, None)).await)?;
    let first = ctx
        .ok("renew", lease(queue, "w1", &kind, BASE, MINUTE).await)?
        .ok_or_else(|| ctx.violation("renew", "the due job was not leased"))?;
    let now = BASE + Duration::seconds(30);
    let renewed = ctx.ok("renew", queue.renew(&first, now, Duration::minutes(2)).await)?;
    ensure!(
        ctx,
        "renew",
        renewed.job.id == first.job.id
            && renewed.token == first.token
            && renewed.expires_at == now + Duration::minutes(2),
        "renewing gave {renewed:?}"
    );
    let late = queue.renew(&renewed, renewed.expires_at + Duration::seconds(1), MINUTE).await;
    ensure!(
        ctx,
        "renew",
        matches!(late, Err(JobQueueError::StaleLease)),
        "renewing an expired lease gave {}",
        outcome(&late)
    );

    let kind = ctx.name("reclaim");
    ctx.ok("expired lease reclaimed", queue.enqueue(&spec(&kind, BASE, 5, None)).await)?;
    let stale = ctx
        .ok("expired lease reclaimed", lease(queue, "w1", &kind, BASE, MINUTE).await)?
        .ok_or_else(|| ctx.violation("expired lease reclaimed", "the due job was not leased"))?;
    let early = ctx.ok(
        "expired lease reclaimed",
        lease(queue, "w2", &kind, BASE + Duration::seconds(30), MINUTE).await,
    )?;
    ensure!(ctx, "expired lease reclaimed", early.is_none(), "a live lease was taken over");
    let current = ctx
        .ok("expired lease reclaimed", lease(queue, "w2", &kind, BASE + 2 * MINUTE, MINUTE).await)?
        .ok_or_else(|| ctx.violation("expired lease reclaimed", "an expired lease was not reclaimed"))?;
    ensure!(
        ctx,
        "expired lease reclaimed",
        current.job.id == stale.job.id && current.token > stale.token,
        "the reclaimed lease has job {} and token {:?}, the stale one job {} and token {:?}",
        current.job.id,
        current.token,
        stale.job.id,
        stale.token
    );
    let now = BASE + 2 * MINUTE + Duration::seconds(1);
    let res = queue.complete(&stale, now).await;
    ensure!(
        ctx,
        "expired lease reclaimed",
        matches!(res, Err(JobQueueError::StaleLease)),
        "completing with a stale token gave {}",
        outcome(&res)
    );
    let res = queue.renew(&stale, now, MINUTE).await;
    ensure!(
        ctx,
        "expired lease reclaimed",
        matches!(res, Err(JobQueueError::StaleLease)),
        "renewing with a stale token gave {}",
        outcome(&res)
    );
    let res = queue.fail(&stale, "stale worker", now).await;
    ensure!(
        ctx,
        "expired lease reclaimed",
        matches!(res, Err(JobQueueError::StaleLease)),
        "failing with a stale token gave {}",
        outcome(&res)
    );
    ctx.ok("expired lease reclaimed", queue.complete(&current, now).await)?;
    // The queue keeps who ran the job: the worker of the lease that completed it, not the stale one.
    let done = ctx.ok("expired lease reclaimed", queue.job(current.job.id).await)?;
    ensure!(
        ctx,
        "expired lease reclaimed",
        current.job.worker.as_deref() == Some("w2") && done.worker.as_deref() == Some("w2"),
        "the lease shows worker {:?} and the completed job {:?}, not the worker that ran it",
        current.job.worker,
        done.worker
    );
    let again = ctx.ok("expired lease reclaimed", lease(queue, "w3", &kind, FAR_FUTURE, MINUTE).await)?;
    ensure!(ctx, "expired lease reclaimed", again.is_none(), "a completed job was leased again");
    let res = queue.complete(&current, now).await;
    ensure!(
        ctx,
        "expired lease reclaimed",
        matches!(res, Err(JobQueueError::StaleLease)),
        "completing twice gave {}",
        outcome(&res)
    );

    let kind = ctx.name("retry");
    let id = ctx
        .ok("retry and dead", queue.enqueue(&spec(&kind, BASE, 3, None)).await)?
        .ok_or_else(|| ctx.violation("retry and dead", "the job was not enqueued"))?;
    let mut now = BASE;
    for attempt in 1..=3u32 {
        let worker = format!("w{attempt}");
        let leased =
            ctx.ok("retry and dead", lease(queue, &worker, &kind, now, MINUTE).await)?.ok_or_else(|| {
                ctx.violation("retry and dead", format!("attempt {attempt} was not leased at its retry time"))
            })?;
        ensure!(ctx, "retry and dead", leased.job.id == id, "attempt {attempt} leased another job");
        let error = format!("failure {attempt}");
        ctx.ok("retry and dead", queue.fail(&leased, &error, now + Duration::minutes(10)).await)?;
        let job = ctx.ok("retry and dead", queue.job(id).await)?;
        ensure!(
            ctx,
            "retry and dead",
            job.attempts == attempt
                && job.last_error.as_deref() == Some(error.as_str())
                && job.worker.as_deref() == Some(worker.as_str()),
            "after failure {attempt} (by {worker}) the job shows {} attempts, error {:?} and worker {:?}",
            job.attempts,
            job.last_error,
            job.worker
        );
        let early =
            ctx.ok("retry and dead", lease(queue, "w1", &kind, now + Duration::minutes(5), MINUTE).await)?;
        ensure!(ctx, "retry and dead", early.is_none(), "a failed job was retried before its retry time");
        now += Duration::minutes(10);
    }
    let dead = ctx.ok("retry and dead", lease(queue, "w1", &kind, FAR_FUTURE, MINUTE).await)?;
    ensure!(ctx, "retry and dead", dead.is_none(), "a job out of attempts was leased again");

    let kind = ctx.name("dedupe");
    let key = Some(ctx.name("dedupe-key"));
    let first = ctx.ok("dedupe", queue.enqueue(&spec(&kind, BASE, 3, key.clone())).await)?;
    ensure!(ctx, "dedupe", first.is_some(), "the first job with a dedupe key was not enqueued");
    let second = ctx.ok("dedupe", queue.enqueue(&spec(&kind, BASE, 3, key.clone())).await)?;
    ensure!(ctx, "dedupe", second.is_none(), "a pending job's dedupe key did not block a second enqueue");
    let running = ctx
        .ok("dedupe", lease(queue, "w1", &kind, BASE, MINUTE).await)?
        .ok_or_else(|| ctx.violation("dedupe", "the deduplicated job was not leased"))?;
    let third = ctx.ok("dedupe", queue.enqueue(&spec(&kind, BASE, 3, key.clone())).await)?;
    ensure!(ctx, "dedupe", third.is_none(), "a running job's dedupe key did not block a second enqueue");
    ctx.ok("dedupe", queue.complete(&running, BASE).await)?;
    let fourth = ctx.ok("dedupe", queue.enqueue(&spec(&kind, BASE, 3, key)).await)?;
    ensure!(
        ctx,
        "dedupe",
        fourth.is_some() && fourth != first,
        "after completion the dedupe key still blocks"
    );
    Ok(())
}
