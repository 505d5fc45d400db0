//! `JobQueue`: leases with expiry and a fencing number per job, renewals, completion, retry at a given time
//! and dead jobs, dedupe keys. Every operation is one `BEGIN IMMEDIATE` transaction, so two workers never
//! lease the same job and a stale worker's token is always seen as stale.
//!
//! `jobs.run_at` is when the job is next due: the spec's `run_at` until an attempt fails, then the
//! `retry_at` the worker chose (its backoff); [`Job::spec`] reads it back as `run_at`. `fence` is the
//! fencing number: it grows with every lease of the job, and only the current one may renew, complete or
//! fail it.

use async_trait::async_trait;
use custodian_core::ports::{FencingToken, Job, JobQueue, JobQueueError, JobSpec, Lease};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use time::{Duration, OffsetDateTime};

use crate::SqliteStore;
use crate::codec::{at, nanos, parse_id, uint};
use crate::error::{queue, to_queue};

/// Longest job kind, dedupe key and worker name, in bytes; longest payload; longest stored error.
const MAX_KIND_BYTES: usize = 128;
const MAX_PAYLOAD_BYTES: usize = 4096;
const MAX_ERROR_CHARS: usize = 1000;
/// Most kinds one lease may ask for.
const MAX_KINDS: usize = 100;

const JOB_COLUMNS: &str = "job_id, kind, tenant_id, payload, dedupe_key, run_at, max_attempts, attempts, \
     last_error, status, worker, fence, lease_expires_at";

fn invalid(why: &str) -> JobQueueError {
    JobQueueError::Invalid(why.to_owned())
}

fn time(at: OffsetDateTime) -> Result<i64, JobQueueError> {
    nanos(at).map_err(to_queue)
}

fn check_spec(spec: &JobSpec) -> Result<(), JobQueueError> {
    if spec.kind.is_empty() || spec.kind.len() > MAX_KIND_BYTES || spec.kind.chars().any(char::is_control) {
        return Err(invalid("the kind must be 1 to 128 bytes of printable text"));
    }
    if spec.payload.len() > MAX_PAYLOAD_BYTES || spec.payload.contains('\0') {
        return Err(invalid("the payload must be at most 4096 bytes without NUL"));
    }
    if spec.dedupe_key.as_ref().is_some_and(|k| k.is_empty() || k.len() > MAX_KIND_BYTES || k.contains('\0'))
    {
        return Err(invalid("the dedupe key must be 1 to 128 bytes without NUL"));
    }
    if spec.max_attempts == 0 {
        return Err(invalid("max attempts must be at least 1"));
    }
    Ok(())
}

/// A stored job and where it stands.
struct Stored {
    job: Job,
    status: String,
    worker: Option<String>,
    fence: i64,
    lease_expires_at: Option<i64>,
}

fn stored(row: &SqliteRow) -> Result<Stored, JobQueueError> {
    let get = |e: sqlx::Error| queue(e);
    let tenant: Option<String> = row.try_get("tenant_id").map_err(get)?;
    let job = Job {
        id: uint("job id", row.try_get("job_id").map_err(get)?).map_err(to_queue)?,
        spec: JobSpec {
            kind: row.try_get("kind").map_err(get)?,
            tenant: tenant.map(|t| parse_id("tenant id", &t)).transpose().map_err(to_queue)?,
            payload: row.try_get("payload").map_err(get)?,
            dedupe_key: row.try_get("dedupe_key").map_err(get)?,
            run_at: at(row.try_get("run_at").map_err(get)?).map_err(to_queue)?,
            max_attempts: uint("max attempts", row.try_get("max_attempts").map_err(get)?)
                .map_err(to_queue)?,
        },
        attempts: uint("attempts", row.try_get("attempts").map_err(get)?).map_err(to_queue)?,
        last_error: row.try_get("last_error").map_err(get)?,
        worker: row.try_get("worker").map_err(get)?,
    };
    Ok(Stored {
        job,
        status: row.try_get("status").map_err(get)?,
        worker: row.try_get("worker").map_err(get)?,
        fence: row.try_get("fence").map_err(get)?,
        lease_expires_at: row.try_get("lease_expires_at").map_err(get)?,
    })
}

async fn load(conn: &mut SqliteConnection, id: u64) -> Result<Option<Stored>, JobQueueError> {
    let Ok(id) = i64::try_from(id) else { return Ok(None) };
    let row = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE job_id = ?"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(queue)?;
    row.as_ref().map(stored).transpose()
}

/// The job of `lease` if the lease is still the current one (running, same fencing number).
async fn current(conn: &mut SqliteConnection, lease: &Lease) -> Result<Stored, JobQueueError> {
    let job = load(conn, lease.job.id).await?.ok_or(JobQueueError::NotFound)?;
    let token = i64::try_from(lease.token.0).map_err(|_| JobQueueError::StaleLease)?;
    if job.status != "running" || job.fence != token {
        return Err(JobQueueError::StaleLease);
    }
    Ok(job)
}

fn lease_of(job: Job, worker: &str, fence: i64, expires_at: i64) -> Result<Lease, JobQueueError> {
    Ok(Lease {
        job,
        worker: worker.to_owned(),
        token: FencingToken(uint("fence", fence).map_err(to_queue)?),
        expires_at: at(expires_at).map_err(to_queue)?,
    })
}

/// `now + lease_for`, clamped to the storable range.
fn expiry(now: OffsetDateTime, lease_for: Duration) -> Result<i64, JobQueueError> {
    if !lease_for.is_positive() {
        return Err(invalid("the lease duration must be positive"));
    }
    let start = time(now)?;
    let length = i64::try_from(lease_for.whole_nanoseconds()).unwrap_or(i64::MAX);
    Ok(start.saturating_add(length))
}

#[async_trait]
impl JobQueue for SqliteStore {
    async fn enqueue(&self, spec: &JobSpec) -> Result<Option<u64>, JobQueueError> {
        check_spec(spec)?;
        let run_at = time(spec.run_at)?;
        let mut tx = self.begin().await.map_err(to_queue)?;
        if let Some(key) = &spec.dedupe_key {
            let busy: Option<i64> = sqlx::query_scalar(
                "SELECT job_id FROM jobs WHERE dedupe_key = ? AND status IN ('pending', 'running') LIMIT 1",
            )
            .bind(key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(queue)?;
            if busy.is_some() {
                return Ok(None);
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO jobs (kind, tenant_id, payload, dedupe_key, run_at, max_attempts, attempts, status, fence) \
             VALUES (?, ?, ?, ?, ?, ?, 0, 'pending', 0) RETURNING job_id",
        )
        .bind(&spec.kind)
        .bind(spec.tenant.as_ref().map(|t| t.as_str()))
        .bind(&spec.payload)
        .bind(&spec.dedupe_key)
        .bind(run_at)
        .bind(i64::from(spec.max_attempts))
        .fetch_one(&mut *tx)
        .await
        .map_err(queue)?;
        tx.commit().await.map_err(queue)?;
        Ok(Some(uint("job id", id).map_err(to_queue)?))
    }

    async fn lease(
        &self,
        worker: &str,
        kinds: &[String],
        now: OffsetDateTime,
        lease_for: Duration,
    ) -> Result<Option<Lease>, JobQueueError> {
        if worker.is_empty() || worker.len() > MAX_KIND_BYTES || worker.contains('\0') {
            return Err(invalid("the worker name must be 1 to 128 bytes without NUL"));
        }
        if kinds.len() > MAX_KINDS {
            return Err(invalid("a lease may ask for at most 100 kinds"));
        }
        let expires_at = expiry(now, lease_for)?;
        if kinds.is_empty() {
            return Ok(None);
        }
        let now = time(now)?;
        let placeholders = vec!["?"; kinds.len()].join(", ");
        let pick = format!(
            "SELECT job_id, attempts, max_attempts FROM jobs WHERE kind IN ({placeholders}) AND \
             ((status = 'pending' AND run_at <= ?) OR (status = 'running' AND lease_expires_at <= ?)) \
             ORDER BY CASE status WHEN 'pending' THEN run_at ELSE lease_expires_at END, job_id LIMIT 1"
        );
        let mut tx = self.begin().await.map_err(to_queue)?;
        loop {
            let mut query = sqlx::query(&pick);
            for kind in kinds {
                query = query.bind(kind.as_str());
            }
            let Some(row) = query.bind(now).bind(now).fetch_optional(&mut *tx).await.map_err(queue)? else {
                tx.commit().await.map_err(queue)?;
                return Ok(None);
            };
            let id: i64 = row.try_get("job_id").map_err(queue)?;
            let attempts: i64 = row.try_get("attempts").map_err(queue)?;
            let max_attempts: i64 = row.try_get("max_attempts").map_err(queue)?;
            if attempts >= max_attempts {
                // A reclaimed lease whose worker used the last attempt and vanished.
                sqlx::query(
                    "UPDATE jobs SET status = 'dead', last_error = coalesce(last_error, 'lease expired'), \
                     lease_expires_at = NULL WHERE job_id = ?",
                )
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(queue)?;
                continue;
            }
            let row = sqlx::query(&format!(
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, fence = fence + 1, worker = ?, \
                 lease_expires_at = ? WHERE job_id = ? RETURNING {JOB_COLUMNS}"
            ))
            .bind(worker)
            .bind(expires_at)
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(queue)?;
            let job = stored(&row)?;
            tx.commit().await.map_err(queue)?;
            return lease_of(job.job, worker, job.fence, expires_at).map(Some);
        }
    }

    async fn renew(
        &self,
        lease: &Lease,
        now: OffsetDateTime,
        lease_for: Duration,
    ) -> Result<Lease, JobQueueError> {
        let expires_at = expiry(now, lease_for)?;
        let now = time(now)?;
        let mut tx = self.begin().await.map_err(to_queue)?;
        let job = current(&mut tx, lease).await?;
        if job.lease_expires_at.is_none_or(|e| now >= e) {
            return Err(JobQueueError::StaleLease);
        }
        sqlx::query("UPDATE jobs SET lease_expires_at = ? WHERE job_id = ? AND fence = ?")
            .bind(expires_at)
            .bind(i64::try_from(job.job.id).map_err(|_| JobQueueError::NotFound)?)
            .bind(job.fence)
            .execute(&mut *tx)
            .await
            .map_err(queue)?;
        tx.commit().await.map_err(queue)?;
        let worker = job.worker.unwrap_or_else(|| lease.worker.clone());
        lease_of(job.job, &worker, job.fence, expires_at)
    }

    async fn complete(&self, lease: &Lease, _now: OffsetDateTime) -> Result<(), JobQueueError> {
        let mut tx = self.begin().await.map_err(to_queue)?;
        let job = current(&mut tx, lease).await?;
        sqlx::query(
            "UPDATE jobs SET status = 'done', lease_expires_at = NULL WHERE job_id = ? AND fence = ?",
        )
        .bind(i64::try_from(job.job.id).map_err(|_| JobQueueError::NotFound)?)
        .bind(job.fence)
        .execute(&mut *tx)
        .await
        .map_err(queue)?;
        tx.commit().await.map_err(queue)
    }

    async fn fail(&self, lease: &Lease, error: &str, retry_at: OffsetDateTime) -> Result<(), JobQueueError> {
        let retry_at = time(retry_at)?;
        let error: String = error.chars().filter(|c| *c != '\0').take(MAX_ERROR_CHARS).collect();
        let mut tx = self.begin().await.map_err(to_queue)?;
        let job = current(&mut tx, lease).await?;
        let dead = job.job.attempts >= job.job.spec.max_attempts;
        sqlx::query(
            "UPDATE jobs SET status = ?, last_error = ?, run_at = CASE WHEN ? THEN run_at ELSE ? END, \
             lease_expires_at = NULL WHERE job_id = ? AND fence = ?",
        )
        .bind(if dead { "dead" } else { "pending" })
        .bind(&error)
        .bind(dead)
        .bind(retry_at)
        .bind(i64::try_from(job.job.id).map_err(|_| JobQueueError::NotFound)?)
        .bind(job.fence)
        .execute(&mut *tx)
        .await
        .map_err(queue)?;
        tx.commit().await.map_err(queue)
    }

    async fn job(&self, id: u64) -> Result<Job, JobQueueError> {
        let mut conn = self.reader().acquire().await.map_err(queue)?;
        Ok(load(&mut conn, id).await?.ok_or(JobQueueError::NotFound)?.job)
    }
}
