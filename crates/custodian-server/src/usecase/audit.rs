//! The audit trail over HTTP and for the CLI: paged reads (`audit_read`) and chain verification
//! (`audit_verify`, AUD-2).
//!
//! Verification starts from the latest checkpoint (its digest checked) or the genesis head, reads the chain
//! in pages up to the head the store reports, recomputes every link with `custodian_core::audit::verify`,
//! and finally compares the end it reached with that head, so a chain cut short at the end is caught too.

use custodian_core::audit::{self, AuditRecord, ChainHead, TamperKind};
use custodian_core::authz::Action;
use custodian_core::ports::{AuditLog, StoreError};
use custodian_core::tenant::TenantId;

use super::tenants::tenant_from_path;
use crate::authn::Authenticated;
use crate::error::AppError;
use crate::guard::authorize;
use crate::state::AppState;
use crate::wire::AuditQuery;

/// Default and largest page of `GET /v1/tenants/{id}/audit`.
pub(crate) const DEFAULT_PAGE: u32 = 100;
pub(crate) const MAX_PAGE: u32 = 1000;

/// Records read per step while verifying.
const VERIFY_PAGE: u64 = 1000;

/// A page of the trail.
pub(crate) struct AuditPage {
    pub(crate) records: Vec<AuditRecord>,
    /// Where the next page starts, if this one was full.
    pub(crate) next_from_seq: Option<u64>,
}

/// `GET /v1/tenants/{id}/audit` (`audit_read`): records from `from_seq` (default 1), `limit` (default 100,
/// at most 1000) at a time. The read's own decision is the latest record of the chain.
pub(crate) async fn read(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    query: AuditQuery,
) -> Result<AuditPage, AppError> {
    let tenant = tenant_from_path(id)?;
    let from = query.from_seq.unwrap_or(1).max(1);
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::invalid(format!("`limit` must be 1 to {MAX_PAGE}")));
    }
    authorize(state, &auth.actor, Action::ReadAudit, Some(&tenant)).await?;
    let records = state.deps().audit.read(&tenant, from, limit).await?;
    let full = records.len() == limit as usize;
    let next_from_seq = if full { records.last().map(|r| r.seq.saturating_add(1)) } else { None };
    Ok(AuditPage { records, next_from_seq })
}

/// Where verification found the chain broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainFailure {
    /// The first sequence number that is not what the chain says it must be.
    pub seq: u64,
    /// `hash mismatch`, `broken link`, `sequence gap`, `wrong tenant`, or `missing records`.
    pub reason: String,
}

/// The outcome of verifying one tenant's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub tenant: TenantId,
    /// The head the store reports.
    pub head: ChainHead,
    /// The checkpoint verification started from, if any.
    pub checkpoint_seq: Option<u64>,
    /// Records recomputed.
    pub records_checked: u64,
    /// `None` when the chain verifies up to the head.
    pub failure: Option<ChainFailure>,
}

impl ChainReport {
    /// Whether the chain verifies.
    pub fn is_valid(&self) -> bool {
        self.failure.is_none()
    }
}

/// Verifies `tenant`'s chain in `audit` (AUD-2). Authorization is the caller's: the HTTP handler decides
/// `audit_verify` first; the CLI runs it as the operator.
pub async fn verify_audit_chain(audit: &dyn AuditLog, tenant: &TenantId) -> Result<ChainReport, StoreError> {
    let head = audit.head(tenant).await?;
    let checkpoint = audit.latest_checkpoint(tenant).await?;
    let mut report = ChainReport {
        tenant: tenant.clone(),
        head: head.clone(),
        checkpoint_seq: checkpoint.as_ref().map(|c| c.seq),
        records_checked: 0,
        failure: None,
    };
    let mut at = match &checkpoint {
        Some(c) if c.compute_digest() != c.digest || c.tenant != *tenant => {
            report.failure = Some(ChainFailure { seq: c.seq, reason: TamperKind::HashMismatch.to_string() });
            return Ok(report);
        }
        Some(c) => c.head(),
        None => ChainHead::genesis(tenant.clone()),
    };
    while at.seq < head.seq {
        let want = (head.seq - at.seq).min(VERIFY_PAGE);
        let limit = u32::try_from(want).unwrap_or(u32::MAX);
        let page = audit.read(tenant, at.seq.saturating_add(1), limit).await?;
        if page.is_empty() {
            break;
        }
        match audit::verify(&at, &page) {
            Ok(next) => {
                report.records_checked += page.len() as u64;
                at = next;
            }
            Err(tampered) => {
                report.failure = Some(ChainFailure { seq: tampered.seq, reason: tampered.kind.to_string() });
                return Ok(report);
            }
        }
    }
    if at.seq != head.seq || at.hash != head.hash {
        report.failure =
            Some(ChainFailure { seq: at.seq.saturating_add(1), reason: "missing records".to_owned() });
    }
    Ok(report)
}

/// `POST /v1/tenants/{id}/audit/verify` (`audit_verify`). The decision is appended before the chain is
/// read, so it is verified too.
pub(crate) async fn verify(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
) -> Result<ChainReport, AppError> {
    let tenant = tenant_from_path(id)?;
    authorize(state, &auth.actor, Action::VerifyAudit, Some(&tenant)).await?;
    Ok(verify_audit_chain(state.deps().audit.as_ref(), &tenant).await?)
}
