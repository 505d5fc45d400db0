//! The port contract suites: every adapter crate runs the suites of the ports it implements against its
//! own implementation, and must pass them (the in-memory fakes pass them too, and `tests/it` shows that
//! each suite catches a broken implementation).
//!
//! Each suite is an `async fn` returning `Err(ContractViolation)` naming the first failed check. Suites are
//! runtime-agnostic and work on a shared, non-empty backend: every id they create is unique, built from the
//! caller's `run_id` (unique per test process against a shared backend, e.g. random hex; at most 40 bytes
//! of printable ASCII without whitespace) and an in-process counter. They never delete data they did not
//! create. Store suites take the [`AuditLog`] of the same backend, to check that each mutating call's
//! events landed in the right chain, in the same transaction; suites whose records refer to tenants,
//! grants or people create those first through a [`Setup`], for backends that enforce foreign keys.
//!
//! Store suites: [`tenant_store`], [`grant_store`], [`dataset_store`], [`audit_log`], [`personnel_store`],
//! [`case_store`], [`job_queue`], or [`all_stores`] for a backend implementing every storage port. Secret and
//! key suites: [`secret_store`], [`key_manager`]. Platform suites: [`authorizer`], [`reporting_source`],
//! [`campaign_control`], [`commerce_channel`], [`signal_verifier`].

/// Fails the suite with `check` when `cond` is false: `ensure!(ctx, "check name", cond, "detail {x}")`.
macro_rules! ensure {
    ($ctx:expr, $check:expr, $cond:expr, $($detail:tt)+) => {
        if !($cond) {
            return Err($ctx.violation($check, format!($($detail)+)));
        }
    };
}

mod audit;
mod cases;
mod dataset;
mod grants;
mod jobs;
mod keys;
mod personnel;
mod platform;
mod secrets;
mod tenants;

use std::fmt::{self, Display};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use custodian_core::MAX_ID_LEN;
use custodian_core::audit::{ActorRef, AuditEvent, ChainHead, NewAuditEvent, TenantChanged, verify};
use custodian_core::ports::{
    AuditLog, CaseStore, DatasetStore, GrantStore, JobQueue, PersonnelStore, TenantStore,
};
use custodian_core::tenant::TenantId;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

pub use audit::audit_log;
pub use cases::case_store;
pub use dataset::dataset_store;
pub use grants::grant_store;
pub use jobs::job_queue;
pub use keys::key_manager;
pub use personnel::personnel_store;
pub use platform::{
    AuthorizerExpectations, CampaignControlExpectations, CommerceExpectations, ReportingExpectations,
    authorizer, campaign_control, commerce_channel, reporting_source, signal_verifier,
};
pub use secrets::secret_store;
pub use tenants::tenant_store;

/// The longest accepted `run_id`, in bytes (ids built from it must stay within [`MAX_ID_LEN`]).
pub const MAX_RUN_ID_LEN: usize = 40;

/// A failed contract check: which suite, which check, and what was seen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{suite} contract failed check `{check}`: {detail}")]
pub struct ContractViolation {
    pub suite: &'static str,
    pub check: &'static str,
    pub detail: String,
}

/// The stores a suite uses to create the tenants, grants and people its records refer to.
#[derive(Clone, Copy)]
pub struct Setup<'a> {
    pub tenants: &'a dyn TenantStore,
    pub grants: &'a dyn GrantStore,
    pub personnel: &'a dyn PersonnelStore,
}

impl<'a> Setup<'a> {
    /// The setup stores of a backend that implements all three.
    pub fn of<S: TenantStore + GrantStore + PersonnelStore>(store: &'a S) -> Self {
        Self { tenants: store, grants: store, personnel: store }
    }
}

impl fmt::Debug for Setup<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Setup").finish_non_exhaustive()
    }
}

/// Runs every storage suite against a backend that implements every storage port.
pub async fn all_stores<S>(store: &S, run_id: &str) -> Result<(), ContractViolation>
where
    S: TenantStore + GrantStore + DatasetStore + AuditLog + PersonnelStore + CaseStore + JobQueue,
{
    tenant_store(store, store, run_id).await?;
    grant_store(store, store, store, run_id).await?;
    dataset_store(store, store, Setup::of(store), run_id).await?;
    audit_log(store, run_id).await?;
    personnel_store(store, store, run_id).await?;
    case_store(store, store, Setup::of(store), run_id).await?;
    job_queue(store, run_id).await
}

/// The in-process counter that, with the `run_id`, makes every name unique.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The reference instant of the suites' records.
const BASE: OffsetDateTime = crate::fixtures::T0;

/// One suite run: names things uniquely and reports failures.
struct Ctx {
    suite: &'static str,
    run: String,
}

impl Ctx {
    fn new(suite: &'static str, run_id: &str) -> Result<Self, ContractViolation> {
        let ctx = Self { suite, run: run_id.to_owned() };
        ensure!(
            ctx,
            "run id",
            !run_id.is_empty()
                && run_id.len() <= MAX_RUN_ID_LEN
                && run_id.bytes().all(|b| b.is_ascii_graphic()),
            "run id `{run_id}` must be 1 to {MAX_RUN_ID_LEN} bytes of printable ascii without whitespace"
        );
        Ok(ctx)
    }

    fn violation(&self, check: &'static str, detail: impl Into<String>) -> ContractViolation {
        ContractViolation { suite: self.suite, check, detail: detail.into() }
    }

    /// A name unique to this run: `<run>-<n>-<label>`.
    fn name(&self, label: &str) -> String {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n}-{label}", self.run)
    }

    /// A unique name padded to exactly [`MAX_ID_LEN`] bytes (inputs at the schema's limit).
    fn long_name(&self, label: &str) -> String {
        let mut name = self.name(label);
        name.push('-');
        while name.len() < MAX_ID_LEN {
            name.push('x');
        }
        name.truncate(MAX_ID_LEN);
        name
    }

    /// Fifteen decimal digits unique to this run (for numeric platform account ids).
    fn digits(&self, label: &str) -> String {
        let digest = Sha256::digest(self.name(label).as_bytes());
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
        format!("1{:014}", u64::from_be_bytes(bytes) % 100_000_000_000_000)
    }

    /// Parses an id the suite built.
    fn id<T: FromStr>(&self, raw: String) -> Result<T, ContractViolation>
    where
        T::Err: Display,
    {
        raw.parse().map_err(|e| self.violation("setup", format!("id `{raw}` is invalid: {e}")))
    }

    /// A fresh id of any kind: unique, or at the length limit when `long`.
    fn fresh<T: FromStr>(&self, label: &str, long: bool) -> Result<T, ContractViolation>
    where
        T::Err: Display,
    {
        self.id(if long { self.long_name(label) } else { self.name(label) })
    }

    /// The value of a call that must succeed.
    fn ok<T, E: Display>(&self, check: &'static str, result: Result<T, E>) -> Result<T, ContractViolation> {
        result.map_err(|e| self.violation(check, format!("unexpected error: {e}")))
    }
}

/// What a call returned, without printing its value (which may hold secrets or PII).
fn outcome<T, E: Display>(result: &Result<T, E>) -> String {
    match result {
        Ok(_) => "success".to_owned(),
        Err(e) => format!("error `{e}`"),
    }
}

/// The audit events a suite expects in one chain, in order, and those of calls that had to fail. Every
/// event's text carries a name unique to the run. The event kind does not matter to a store (it routes
/// events by the record a call is about), so every trail uses `TenantChanged`.
struct Trail {
    prefix: String,
    expected: Vec<NewAuditEvent>,
    rejected: Vec<NewAuditEvent>,
}

impl Trail {
    fn new(ctx: &Ctx) -> Self {
        Self { prefix: ctx.name("trail"), expected: Vec::new(), rejected: Vec::new() }
    }

    fn build(&self, label: &str) -> NewAuditEvent {
        let step = i64::try_from(self.expected.len() + self.rejected.len()).unwrap_or(0);
        let text = format!("{} {label}", self.prefix);
        NewAuditEvent::new(BASE + Duration::seconds(step + 1), ActorRef::System, TenantChanged::new(text))
    }

    /// Events for a call that must commit: they are expected in the chain.
    fn commit(&mut self, label: &str) -> Vec<NewAuditEvent> {
        let event = self.build(label);
        self.expected.push(event.clone());
        vec![event]
    }

    /// Events for a call that must fail: they must not reach the chain.
    fn reject(&mut self, label: &str) -> Vec<NewAuditEvent> {
        let event = self.build(label);
        self.rejected.push(event.clone());
        vec![event]
    }
}

/// Whether a stored record is `event` (as [`custodian_core::audit::extend`] bounds it).
fn is_event(record: &custodian_core::audit::AuditRecord, event: &NewAuditEvent) -> bool {
    record.at == event.at && record.actor == event.actor && record.event == event.event.clone().bounded()
}

/// The tenant's whole chain verifies from genesis up to its head, and holds exactly `trail`'s events.
async fn check_chain(
    ctx: &Ctx,
    audit: &dyn AuditLog,
    tenant: &TenantId,
    trail: &Trail,
    check: &'static str,
) -> Result<(), ContractViolation> {
    let head = ctx.ok(check, audit.head(tenant).await)?;
    let records = ctx.ok(check, audit.read(tenant, 0, u32::MAX).await)?;
    let verified = verify(&ChainHead::genesis(tenant.clone()), &records)
        .map_err(|e| ctx.violation(check, format!("the chain of `{tenant}` does not verify: {e}")))?;
    ensure!(
        ctx,
        check,
        verified == head,
        "the chain of `{tenant}` verifies to {verified:?} but the head is {head:?}"
    );
    let found: Vec<(OffsetDateTime, &ActorRef, &AuditEvent)> =
        records.iter().map(|r| (r.at, &r.actor, &r.event)).collect();
    let bounded: Vec<AuditEvent> = trail.expected.iter().map(|e| e.event.clone().bounded()).collect();
    let expected: Vec<(OffsetDateTime, &ActorRef, &AuditEvent)> =
        trail.expected.iter().zip(&bounded).map(|(e, b)| (e.at, &e.actor, b)).collect();
    ensure!(
        ctx,
        check,
        found == expected,
        "the chain of `{tenant}` holds {} events, expected the {} events of the successful calls, in order: {:?}",
        found.len(),
        expected.len(),
        records.iter().map(|r| r.event.kind()).collect::<Vec<_>>()
    );
    Ok(())
}

/// A shared chain (the system chain): what was appended after `since` verifies from it, and holds
/// `trail`'s events in order (other writers may interleave).
async fn check_shared_chain(
    ctx: &Ctx,
    audit: &dyn AuditLog,
    since: &ChainHead,
    trail: &Trail,
    check: &'static str,
) -> Result<(), ContractViolation> {
    let tenant = &since.tenant;
    let records = ctx.ok(check, audit.read(tenant, since.seq + 1, u32::MAX).await)?;
    verify(since, &records).map_err(|e| {
        ctx.violation(check, format!("the chain of `{tenant}` does not verify after seq {}: {e}", since.seq))
    })?;
    let mut expected = trail.expected.iter().peekable();
    for record in &records {
        if expected.peek().is_some_and(|next| is_event(record, next)) {
            expected.next();
        }
    }
    let missing = expected.count();
    ensure!(
        ctx,
        check,
        missing == 0,
        "{missing} events of the successful calls are missing from the chain of `{tenant}`"
    );
    if let Some(record) = records.iter().find(|r| trail.rejected.iter().any(|e| is_event(r, e))) {
        return Err(ctx.violation(
            check,
            format!("an event of a failed call is in the chain of `{tenant}` at seq {}", record.seq),
        ));
    }
    Ok(())
}
