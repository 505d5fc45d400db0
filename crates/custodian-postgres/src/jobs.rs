//! `JobQueue`: background work shared by several processes with no coordinator of our own.
//!
//! A job is `pending` until its `due_at` (its run or retry time), then leased: the oldest due job of the
//! asked kinds is picked with `FOR UPDATE SKIP LOCKED` (concurrent lessees skip each other's candidates
//! instead of waiting), set `running` with a fresh fencing token from the `job_fences` sequence and
//! `due_at` = lease expiry. A running job whose lease expired is due again and is reclaimed by the next
//! lessee with a higher token; a reclaimed job without attempts left is `dead`. `renew`, `complete` and
//! `fail` update the row only where `fence` still equals the caller's token, so a stale worker's report is
//! [`JobQueueError::StaleLease`]. Dedupe keys are a partial unique index over pending and running jobs.

use async_trait::async_trait;
use custodian_core::ports::{FencingToken, Job, JobQueue, JobQueueError, JobSpec, Lease};
use sqlx::PgConnection;
use time::{Duration, OffsetDateTime};

use crate::check::MAX_TEXT_CHARS;
use crate::error;
use crate::{PgStore, micros};

const MAX_KIND_BYTES: usize = 128;
const MAX_PAYLOAD_BYTES: usize = 4096;
const MAX_WORKER_BYTES: usize = 128;

fn invalid(why: impl Into<String>) -> JobQueueError {
    JobQueueError::Invalid(why.into())
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
    if spec.max_attempts == 0 || i32::try_from(spec.max_attempts).is_err() {
        return Err(invalid("max attempts must be between 1 and 2147483647"));
    }
    Ok(())
}

fn check_worker(worker: &str) -> Result<(), JobQueueError> {
    if worker.len() > MAX_WORKER_BYTES || worker.contains('\0') {
        return Err(invalid("the worker name must be at most 128 bytes without NUL"));
    }
    Ok(())
}

fn id_of(id: u64) -> Option<i64> {
    i64::try_from(id).ok()
}

#[derive(sqlx::FromRow)]
struct JobRow {
    job_id: i64,
    kind: String,
    tenant_id: Option<String>,
    payload: String,
    dedupe_key: Option<String>,
    run_at: OffsetDateTime,
    max_attempts: i32,
    attempts: i32,
    last_error: Option<String>,
    worker: Option<String>,
    fence: i64,
    lease_expires_at: Option<OffsetDateTime>,
}

const COLUMNS: &str = "job_id, kind, tenant_id, payload, dedupe_key, run_at, max_attempts, attempts, last_error, \
                       worker, fence, lease_expires_at";

fn corrupt(what: &str) -> JobQueueError {
    JobQueueError::Unavailable(Box::new(crate::error::DatabaseError::corrupt(format!(
        "stored job {what} is not valid"
    ))))
}

impl JobRow {
    fn job(&self) -> Result<Job, JobQueueError> {
        Ok(Job {
            id: u64::try_from(self.job_id).map_err(|_| corrupt("id"))?,
            spec: JobSpec {
                kind: self.kind.clone(),
                tenant: self
                    .tenant_id
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .map_err(|_| corrupt("tenant"))?,
                payload: self.payload.clone(),
                dedupe_key: self.dedupe_key.clone(),
                run_at: self.run_at,
                max_attempts: u32::try_from(self.max_attempts).map_err(|_| corrupt("max attempts"))?,
            },
            attempts: u32::try_from(self.attempts).map_err(|_| corrupt("attempts"))?,
            last_error: self.last_error.clone(),
            worker: self.worker.clone(),
        })
    }

    fn lease(&self) -> Result<Lease, JobQueueError> {
        Ok(Lease {
            job: self.job()?,
            worker: self.worker.clone().unwrap_or_default(),
            token: FencingToken(u64::try_from(self.fence).map_err(|_| corrupt("fence"))?),
            expires_at: self.lease_expires_at.ok_or_else(|| corrupt("lease"))?,
        })
    }
}

/// Distinguishes a missing job from a stale lease after a fenced update matched no row.
async fn stale_or_missing(conn: &mut PgConnection, id: i64) -> JobQueueError {
    match sqlx::query_as::<_, (i64,)>("SELECT job_id FROM jobs WHERE job_id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
    {
        Ok(Some(_)) => JobQueueError::StaleLease,
        Ok(None) => JobQueueError::NotFound,
        Err(e) => error::queue(e),
    }
}

impl PgStore {
    async fn begin_queue(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, JobQueueError> {
        self.begin("").await.map_err(|e| JobQueueError::Unavailable(Box::new(e)))
    }
}

#[async_trait]
impl JobQueue for PgStore {
    async fn enqueue(&self, spec: &JobSpec) -> Result<Option<u64>, JobQueueError> {
        check_spec(spec)?;
        let run_at = micros(spec.run_at);
        let mut tx = self.begin_queue().await?;
        let row: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO jobs (kind, tenant_id, payload, dedupe_key, run_at, max_attempts, status, due_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $5)
             ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND status IN ('pending', 'running') DO NOTHING
             RETURNING job_id",
        )
        .bind(&spec.kind)
        .bind(spec.tenant.as_ref().map(|t| t.as_str()))
        .bind(&spec.payload)
        .bind(&spec.dedupe_key)
        .bind(run_at)
        .bind(i32::try_from(spec.max_attempts).unwrap_or(i32::MAX))
        .fetch_optional(&mut *tx)
        .await
        .map_err(error::queue)?;
        tx.commit().await.map_err(error::queue)?;
        Ok(row.and_then(|(id,)| u64::try_from(id).ok()))
    }

    async fn lease(
        &self,
        worker: &str,
        kinds: &[String],
        now: OffsetDateTime,
        lease_for: Duration,
    ) -> Result<Option<Lease>, JobQueueError> {
        if !lease_for.is_positive() {
            return Err(invalid("the lease duration must be positive"));
        }
        check_worker(worker)?;
        let now = micros(now);
        let expires_at = micros(now.saturating_add(lease_for));
        let mut tx = self.begin_queue().await?;
        loop {
            let candidate: Option<(i64, i32, i32)> = sqlx::query_as(
                "SELECT job_id, attempts, max_attempts FROM jobs
                 WHERE kind = ANY($1) AND status IN ('pending', 'running') AND due_at <= $2
                 ORDER BY due_at, job_id
                 LIMIT 1
                 FOR UPDATE SKIP LOCKED",
            )
            .bind(kinds)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(error::queue)?;
            let Some((id, attempts, max_attempts)) = candidate else {
                tx.commit().await.map_err(error::queue)?;
                return Ok(None);
            };
            if attempts >= max_attempts {
                // A reclaimed lease whose worker used the last attempt and vanished.
                sqlx::query(
                    "UPDATE jobs SET status = 'dead', lease_expires_at = NULL,
                        last_error = COALESCE(last_error, 'lease expired')
                     WHERE job_id = $1",
                )
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(error::queue)?;
                continue;
            }
            let row: JobRow = sqlx::query_as(&format!(
                "UPDATE jobs SET status = 'running', worker = $2, fence = nextval('job_fences'),
                    attempts = attempts + 1, lease_expires_at = $3, due_at = $3
                 WHERE job_id = $1
                 RETURNING {COLUMNS}"
            ))
            .bind(id)
            .bind(worker)
            .bind(expires_at)
            .fetch_one(&mut *tx)
            .await
            .map_err(error::queue)?;
            tx.commit().await.map_err(error::queue)?;
            return row.lease().map(Some);
        }
    }

    async fn renew(
        &self,
        lease: &Lease,
        now: OffsetDateTime,
        lease_for: Duration,
    ) -> Result<Lease, JobQueueError> {
        if !lease_for.is_positive() {
            return Err(invalid("the lease duration must be positive"));
        }
        let Some(id) = id_of(lease.job.id) else { return Err(JobQueueError::NotFound) };
        let token = i64::try_from(lease.token.0).map_err(|_| JobQueueError::StaleLease)?;
        let now = micros(now);
        let mut tx = self.begin_queue().await?;
        let row: Option<JobRow> = sqlx::query_as(&format!(
            "UPDATE jobs SET lease_expires_at = $3, due_at = $3
             WHERE job_id = $1 AND status = 'running' AND fence = $2 AND lease_expires_at > $4
             RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(token)
        .bind(micros(now.saturating_add(lease_for)))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(error::queue)?;
        let Some(row) = row else { return Err(stale_or_missing(&mut tx, id).await) };
        tx.commit().await.map_err(error::queue)?;
        row.lease()
    }

    async fn complete(&self, lease: &Lease, _now: OffsetDateTime) -> Result<(), JobQueueError> {
        let Some(id) = id_of(lease.job.id) else { return Err(JobQueueError::NotFound) };
        let token = i64::try_from(lease.token.0).map_err(|_| JobQueueError::StaleLease)?;
        let mut tx = self.begin_queue().await?;
        let n = sqlx::query(
            "UPDATE jobs SET status = 'done', lease_expires_at = NULL
             WHERE job_id = $1 AND status = 'running' AND fence = $2",
        )
        .bind(id)
        .bind(token)
        .execute(&mut *tx)
        .await
        .map_err(error::queue)?
        .rows_affected();
        if n == 0 {
            return Err(stale_or_missing(&mut tx, id).await);
        }
        tx.commit().await.map_err(error::queue)
    }

    async fn fail(&self, lease: &Lease, error: &str, retry_at: OffsetDateTime) -> Result<(), JobQueueError> {
        let Some(id) = id_of(lease.job.id) else { return Err(JobQueueError::NotFound) };
        let token = i64::try_from(lease.token.0).map_err(|_| JobQueueError::StaleLease)?;
        // The stored error is bounded and never holds NUL (it is diagnostic text, not data).
        let message: String = error.chars().filter(|c| *c != '\0').take(MAX_TEXT_CHARS).collect();
        let mut tx = self.begin_queue().await?;
        let n = sqlx::query(
            "UPDATE jobs SET last_error = $3, lease_expires_at = NULL, due_at = $4,
                status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'pending' END
             WHERE job_id = $1 AND status = 'running' AND fence = $2",
        )
        .bind(id)
        .bind(token)
        .bind(&message)
        .bind(micros(retry_at))
        .execute(&mut *tx)
        .await
        .map_err(crate::error::queue)?
        .rows_affected();
        if n == 0 {
            return Err(stale_or_missing(&mut tx, id).await);
        }
        tx.commit().await.map_err(crate::error::queue)
    }

    async fn job(&self, id: u64) -> Result<Job, JobQueueError> {
        let Some(id) = id_of(id) else { return Err(JobQueueError::NotFound) };
        let mut tx = self.begin_queue().await?;
        let row: Option<JobRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM jobs WHERE job_id = $1"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(error::queue)?;
        tx.commit().await.map_err(error::queue)?;
        row.ok_or(JobQueueError::NotFound)?.job()
    }
}
