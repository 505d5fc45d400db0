//! `JobQueue` for [`MemoryStore`]: leases with expiry, fencing tokens, retry with backoff, dead jobs and
//! dedupe keys.

use std::collections::BTreeMap;

use async_trait::async_trait;
use custodian_core::ports::{FencingToken, Job, JobQueue, JobQueueError, JobSpec, Lease};
use time::{Duration, OffsetDateTime};

use super::{InjectedFailure, MemoryStore, lock};

/// Longest accepted job kind, dedupe key and stored error text, in bytes; longest payload.
const MAX_KIND_BYTES: usize = 128;
const MAX_PAYLOAD_BYTES: usize = 4096;
const MAX_ERROR_CHARS: usize = 1000;

/// Where a job stands (exposed for tests through [`MemoryStore::job_status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting to be leased at or after `run_at`.
    Pending { run_at: OffsetDateTime },
    /// Leased by `worker` with `token` until `expires_at` (afterwards it may be reclaimed).
    Running { worker: String, token: FencingToken, expires_at: OffsetDateTime },
    /// Completed.
    Done,
    /// Out of attempts.
    Dead,
}

#[derive(Debug, Clone)]
struct Entry {
    job: Job,
    status: JobStatus,
}

#[derive(Debug, Default)]
pub(super) struct Jobs {
    entries: BTreeMap<u64, Entry>,
    last_id: u64,
    last_token: u64,
}

impl MemoryStore {
    /// Where job `id` stands, if it exists.
    pub fn job_status(&self, id: u64) -> Option<JobStatus> {
        lock(&self.state).jobs.entries.get(&id).map(|e| e.status.clone())
    }

    fn queue_gate(&self) -> Result<(), JobQueueError> {
        if self.injected() {
            return Err(JobQueueError::Unavailable(InjectedFailure::boxed("memory job queue")));
        }
        Ok(())
    }
}

fn check_spec(spec: &JobSpec) -> Result<(), JobQueueError> {
    let invalid = |why: &str| Err(JobQueueError::Invalid(why.to_owned()));
    if spec.kind.is_empty() || spec.kind.len() > MAX_KIND_BYTES || spec.kind.chars().any(char::is_control) {
        return invalid("the kind must be 1 to 128 bytes of printable text");
    }
    if spec.payload.len() > MAX_PAYLOAD_BYTES || spec.payload.contains('\0') {
        return invalid("the payload must be at most 4096 bytes without NUL");
    }
    if spec.dedupe_key.as_ref().is_some_and(|k| k.is_empty() || k.len() > MAX_KIND_BYTES || k.contains('\0'))
    {
        return invalid("the dedupe key must be 1 to 128 bytes without NUL");
    }
    if spec.max_attempts == 0 {
        return invalid("max attempts must be at least 1");
    }
    Ok(())
}

/// The entry of `lease` if the lease is still the current one.
fn current<'a>(jobs: &'a mut Jobs, lease: &Lease) -> Result<&'a mut Entry, JobQueueError> {
    let entry = jobs.entries.get_mut(&lease.job.id).ok_or(JobQueueError::NotFound)?;
    match &entry.status {
        JobStatus::Running { token, .. } if *token == lease.token => Ok(entry),
        _ => Err(JobQueueError::StaleLease),
    }
}

#[async_trait]
impl JobQueue for MemoryStore {
    async fn enqueue(&self, spec: &JobSpec) -> Result<Option<u64>, JobQueueError> {
        self.queue_gate()?;
        check_spec(spec)?;
        let mut state = lock(&self.state);
        let jobs = &mut state.jobs;
        if let Some(key) = &spec.dedupe_key {
            let busy = jobs.entries.values().any(|e| {
                e.job.spec.dedupe_key.as_ref() == Some(key)
                    && matches!(e.status, JobStatus::Pending { .. } | JobStatus::Running { .. })
            });
            if busy {
                return Ok(None);
            }
        }
        jobs.last_id += 1;
        let id = jobs.last_id;
        let job = Job { id, spec: spec.clone(), attempts: 0, last_error: None, worker: None };
        jobs.entries.insert(id, Entry { job, status: JobStatus::Pending { run_at: spec.run_at } });
        Ok(Some(id))
    }

    async fn lease(
        &self,
        worker: &str,
        kinds: &[String],
        now: OffsetDateTime,
        lease_for: Duration,
    ) -> Result<Option<Lease>, JobQueueError> {
        self.queue_gate()?;
        if !lease_for.is_positive() {
            return Err(JobQueueError::Invalid("the lease duration must be positive".to_owned()));
        }
        let mut state = lock(&self.state);
        let jobs = &mut state.jobs;
        loop {
            let due = jobs
                .entries
                .values()
                .filter(|e| kinds.contains(&e.job.spec.kind))
                .filter_map(|e| match &e.status {
                    JobStatus::Pending { run_at } if *run_at <= now => Some((*run_at, e.job.id)),
                    JobStatus::Running { expires_at, .. } if *expires_at <= now => {
                        Some((*expires_at, e.job.id))
                    }
                    _ => None,
                })
                .min();
            let Some((_, id)) = due else { return Ok(None) };
            let Some(entry) = jobs.entries.get_mut(&id) else { return Ok(None) };
            if entry.job.attempts >= entry.job.spec.max_attempts {
                // A reclaimed lease whose worker used the last attempt and vanished.
                entry.job.last_error.get_or_insert_with(|| "lease expired".to_owned());
                entry.status = JobStatus::Dead;
                continue;
            }
            jobs.last_token += 1;
            let token = FencingToken(jobs.last_token);
            let expires_at = now.saturating_add(lease_for);
            entry.job.attempts += 1;
            entry.job.worker = Some(worker.to_owned());
            entry.status = JobStatus::Running { worker: worker.to_owned(), token, expires_at };
            return Ok(Some(Lease { job: entry.job.clone(), worker: worker.to_owned(), token, expires_at }));
        }
    }

    async fn renew(
        &self,
        lease: &Lease,
        now: OffsetDateTime,
        lease_for: Duration,
    ) -> Result<Lease, JobQueueError> {
        self.queue_gate()?;
        if !lease_for.is_positive() {
            return Err(JobQueueError::Invalid("the lease duration must be positive".to_owned()));
        }
        let mut state = lock(&self.state);
        let entry = current(&mut state.jobs, lease)?;
        let JobStatus::Running { worker, token, expires_at } = &mut entry.status else {
            return Err(JobQueueError::StaleLease);
        };
        if now >= *expires_at {
            return Err(JobQueueError::StaleLease);
        }
        *expires_at = now.saturating_add(lease_for);
        Ok(Lease { job: entry.job.clone(), worker: worker.clone(), token: *token, expires_at: *expires_at })
    }

    async fn complete(&self, lease: &Lease, _now: OffsetDateTime) -> Result<(), JobQueueError> {
        self.queue_gate()?;
        let mut state = lock(&self.state);
        current(&mut state.jobs, lease)?.status = JobStatus::Done;
        Ok(())
    }

    async fn fail(&self, lease: &Lease, error: &str, retry_at: OffsetDateTime) -> Result<(), JobQueueError> {
        self.queue_gate()?;
        let mut state = lock(&self.state);
        let entry = current(&mut state.jobs, lease)?;
        entry.job.last_error = Some(error.chars().take(MAX_ERROR_CHARS).collect());
        entry.status = if entry.job.attempts >= entry.job.spec.max_attempts {
            JobStatus::Dead
        } else {
            JobStatus::Pending { run_at: retry_at }
        };
        Ok(())
    }

    async fn job(&self, id: u64) -> Result<Job, JobQueueError> {
        self.queue_gate()?;
        lock(&self.state).jobs.entries.get(&id).map(|e| e.job.clone()).ok_or(JobQueueError::NotFound)
    }
}
