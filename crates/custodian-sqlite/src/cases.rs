//! `CaseStore`: change requests (CAM-1), incidents (INC-1, global), rights requests (RGT-1..3), legal
//! holds (RET-5) and immutable deletion receipts (RET-6).

use async_trait::async_trait;
use custodian_core::approval::{ChangeId, ChangeRequest};
use custodian_core::audit::{NewAuditEvent, system_tenant};
use custodian_core::incident::{Incident, IncidentId, IncidentState};
use custodian_core::ports::{CaseStore, DecisionCases, StoreError};
use custodian_core::retention::{DeletionReceipt, HoldId, HoldLift, LegalHold, ReceiptId};
use custodian_core::rights::{Extension, RightsKind, RightsRequest, RightsRequestId, RightsStatus};
use custodian_core::tenant::TenantId;

use crate::SqliteStore;
use crate::codec::{MAX_TEXT_BYTES, Named, at, check_text, named, nanos, opt_at, opt_nanos, parse_id};
use crate::error::{corrupt, db, db_conflict};
use crate::read::{Arg, Columns, Size};
use crate::wire::{
    cause, cause_json, change_state, change_state_json, diff, diff_json, entries, hold_scope,
    hold_scope_json, incident_review, incident_review_json, items_json, notifications, notifications_json,
    recheck_json, remediation, remediation_json, scopes, scopes_json,
};

fn text(row: &dyn Columns, name: &str) -> Result<String, StoreError> {
    row.text(name)
}

fn opt_text(row: &dyn Columns, name: &str) -> Result<Option<String>, StoreError> {
    row.opt_text(name)
}

fn int(row: &dyn Columns, name: &str) -> Result<i64, StoreError> {
    row.int(name)
}

fn opt_int(row: &dyn Columns, name: &str) -> Result<Option<i64>, StoreError> {
    row.opt_int(name)
}

/// The stored `kind` of an objection (its purpose is a column of its own).
const RIGHTS_OBJECTION: &str = "objection";

const CHANGE_COLUMNS: &str =
    "tenant_id, change_id, grant_id, diff, diff_hash, proposed_by, proposed_at, state, state_detail";

fn change_row(row: &dyn Columns) -> Result<ChangeRequest, StoreError> {
    let hash = row.blob("diff_hash")?;
    let hash: [u8; 32] = hash.as_slice().try_into().map_err(|_| corrupt("diff hash", "not 32 bytes"))?;
    ChangeRequest::restore(
        parse_id("change id", &text(row, "change_id")?)?,
        parse_id("tenant id", &text(row, "tenant_id")?)?,
        parse_id("grant id", &text(row, "grant_id")?)?,
        diff(&text(row, "diff")?)?,
        hash,
        parse_id("person id", &text(row, "proposed_by")?)?,
        at(int(row, "proposed_at")?)?,
        change_state(&text(row, "state")?, opt_text(row, "state_detail")?.as_deref())?,
    )
    .map_err(|e| corrupt("change request", e))
}

const INCIDENT_COLUMNS: &str =
    "incident_id, opened_by, opened_at, severity, summary, scopes, state, notifications, remediation, review";

fn incident_row(row: &dyn Columns) -> Result<Incident, StoreError> {
    Incident::restore(
        parse_id("incident id", &text(row, "incident_id")?)?,
        parse_id("person id", &text(row, "opened_by")?)?,
        at(int(row, "opened_at")?)?,
        named(&text(row, "severity")?)?,
        text(row, "summary")?,
        scopes(&text(row, "scopes")?)?,
        named(&text(row, "state")?)?,
        notifications(&text(row, "notifications")?)?,
        remediation(&text(row, "remediation")?)?,
        opt_text(row, "review")?.as_deref().map(incident_review).transpose()?,
    )
    .map_err(|e| corrupt("incident", e))
}

const RIGHTS_COLUMNS: &str = "tenant_id, request_id, kind, purpose, regime, received_at, status, \
     acknowledged_at, extension_notified_at, extension_reason, extension_new_due, completed_at, rejection_reason";

fn rights_kind(kind: &str, purpose: Option<&str>) -> Result<RightsKind, StoreError> {
    Ok(match (kind, purpose) {
        ("access", None) => RightsKind::Access,
        ("correction", None) => RightsKind::Correction,
        ("portability", None) => RightsKind::Portability,
        ("restriction", None) => RightsKind::Restriction,
        ("deletion", None) => RightsKind::Deletion,
        ("objection", Some(purpose)) => RightsKind::Objection(named(purpose)?),
        _ => return Err(corrupt("rights request kind", format!("`{kind}` with purpose {purpose:?}"))),
    })
}

fn rights_row(row: &dyn Columns) -> Result<RightsRequest, StoreError> {
    let extension = match (
        opt_int(row, "extension_notified_at")?,
        opt_text(row, "extension_reason")?,
        opt_int(row, "extension_new_due")?,
    ) {
        (None, None, None) => None,
        (Some(notified_at), Some(reason), Some(new_due)) => {
            Some(Extension { notified_at: at(notified_at)?, reason, new_due: at(new_due)? })
        }
        _ => return Err(corrupt("rights request", "partial extension")),
    };
    RightsRequest::restore(
        parse_id("rights request id", &text(row, "request_id")?)?,
        parse_id("tenant id", &text(row, "tenant_id")?)?,
        rights_kind(&text(row, "kind")?, opt_text(row, "purpose")?.as_deref())?,
        named(&text(row, "regime")?)?,
        at(int(row, "received_at")?)?,
        named(&text(row, "status")?)?,
        opt_at(opt_int(row, "acknowledged_at")?)?,
        extension,
        opt_at(opt_int(row, "completed_at")?)?,
        opt_text(row, "rejection_reason")?,
    )
    .map_err(|e| corrupt("rights request", e))
}

const HOLD_COLUMNS: &str =
    "tenant_id, hold_id, scope, reason, owner, placed_at, ends_at, lifted_by, lifted_at";

fn hold_row(row: &dyn Columns) -> Result<LegalHold, StoreError> {
    let lifted = match (opt_text(row, "lifted_by")?, opt_int(row, "lifted_at")?) {
        (None, None) => None,
        (Some(by), Some(when)) => Some(HoldLift { by: parse_id("person id", &by)?, at: at(when)? }),
        _ => return Err(corrupt("legal hold", "partial lift")),
    };
    LegalHold::restore(
        parse_id("hold id", &text(row, "hold_id")?)?,
        parse_id("tenant id", &text(row, "tenant_id")?)?,
        hold_scope(&text(row, "scope")?)?,
        text(row, "reason")?,
        parse_id("person id", &text(row, "owner")?)?,
        at(int(row, "placed_at")?)?,
        at(int(row, "ends_at")?)?,
        lifted,
    )
    .map_err(|e| corrupt("legal hold", e))
}

const RECEIPT_COLUMNS: &str =
    "tenant_id, receipt_id, grant_id, cause, items, recheck, started_at, completed_at, digest";

fn receipt_row(row: &dyn Columns) -> Result<DeletionReceipt, StoreError> {
    let grant = opt_text(row, "grant_id")?.map(|g| parse_id("grant id", &g)).transpose()?;
    let mut builder = DeletionReceipt::builder(
        parse_id("receipt id", &text(row, "receipt_id")?)?,
        parse_id("tenant id", &text(row, "tenant_id")?)?,
        grant,
        cause(&text(row, "cause")?)?,
        at(int(row, "started_at")?)?,
    );
    for (store, what, deleted) in entries("receipt items", &text(row, "items")?)? {
        builder = builder.deleted(store, what, deleted);
    }
    for (store, what, remaining) in entries("receipt recheck", &text(row, "recheck")?)? {
        builder = builder.rechecked(store, what, remaining);
    }
    let receipt =
        builder.build(at(int(row, "completed_at")?)?).map_err(|e| corrupt("deletion receipt", e))?;
    let digest = row.blob("digest")?;
    if digest.as_slice() != receipt.digest().as_slice() {
        return Err(corrupt("deletion receipt", "digest does not match its contents"));
    }
    Ok(receipt)
}

#[async_trait]
impl CaseStore for SqliteStore {
    async fn put_change(&self, change: &ChangeRequest, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        let diff = diff_json(change.diff())?;
        let (state, detail) = change_state_json(change.state())?;
        if let Some(detail) = &detail {
            check_text("change state", detail, 4 * MAX_TEXT_BYTES)?;
        }
        let mut tx = self.begin().await?;
        let now = nanos(self.now())?;
        sqlx::query(&format!(
            "INSERT INTO change_requests ({CHANGE_COLUMNS}, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (tenant_id, change_id) DO UPDATE SET grant_id = excluded.grant_id, diff = excluded.diff, \
             diff_hash = excluded.diff_hash, proposed_by = excluded.proposed_by, \
             proposed_at = excluded.proposed_at, state = excluded.state, state_detail = excluded.state_detail, \
             updated_at = excluded.updated_at"
        ))
        .bind(change.tenant().as_str())
        .bind(change.id().as_str())
        .bind(change.grant().as_str())
        .bind(&diff)
        .bind(change.diff_hash().as_slice())
        .bind(change.proposed_by().as_str())
        .bind(nanos(change.proposed_at())?)
        .bind(state)
        .bind(&detail)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        self.append_in(&mut tx, change.tenant(), audit).await?;
        tx.commit().await.map_err(db)
    }

    async fn change(&self, tenant: &TenantId, id: &ChangeId) -> Result<ChangeRequest, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CHANGE_COLUMNS} FROM change_requests WHERE tenant_id = ? AND change_id = ?"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(self.reader())
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)?;
        change_row(&row)
    }

    async fn changes(&self, tenant: &TenantId) -> Result<Vec<ChangeRequest>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CHANGE_COLUMNS} FROM change_requests WHERE tenant_id = ? ORDER BY change_id"
        ))
        .bind(tenant.as_str())
        .fetch_all(self.reader())
        .await
        .map_err(db)?;
        rows.iter().map(|row| change_row(row)).collect()
    }

    async fn put_incident(&self, incident: &Incident, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        check_text("incident summary", incident.summary(), MAX_TEXT_BYTES)?;
        let scopes = scopes_json(incident.scopes())?;
        let notifications = notifications_json(incident.notifications())?;
        let remediation = remediation_json(incident.remediation())?;
        let review = incident.review().map(incident_review_json).transpose()?;
        for (what, value) in [("remediation", Some(&remediation)), ("review", review.as_ref())] {
            if let Some(value) = value {
                check_text(what, value, 64 * MAX_TEXT_BYTES)?;
            }
        }
        let mut tx = self.begin().await?;
        let now = nanos(self.now())?;
        sqlx::query(&format!(
            "INSERT INTO incidents ({INCIDENT_COLUMNS}, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (incident_id) DO UPDATE SET opened_by = excluded.opened_by, \
             opened_at = excluded.opened_at, severity = excluded.severity, summary = excluded.summary, \
             scopes = excluded.scopes, state = excluded.state, notifications = excluded.notifications, \
             remediation = excluded.remediation, review = excluded.review, updated_at = excluded.updated_at"
        ))
        .bind(incident.id().as_str())
        .bind(incident.opened_by().as_str())
        .bind(nanos(incident.opened_at())?)
        .bind(incident.severity().name())
        .bind(incident.summary())
        .bind(&scopes)
        .bind(incident.state().name())
        .bind(&notifications)
        .bind(&remediation)
        .bind(&review)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        self.append_in(&mut tx, &system_tenant(), audit).await?;
        tx.commit().await.map_err(db)
    }

    async fn incident(&self, id: &IncidentId) -> Result<Incident, StoreError> {
        let row = sqlx::query(&format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE incident_id = ?"))
            .bind(id.as_str())
            .fetch_optional(self.reader())
            .await
            .map_err(db)?
            .ok_or(StoreError::NotFound)?;
        incident_row(&row)
    }

    async fn incidents(&self) -> Result<Vec<Incident>, StoreError> {
        let rows =
            sqlx::query(&format!("SELECT {INCIDENT_COLUMNS} FROM incidents ORDER BY opened_at, incident_id"))
                .fetch_all(self.reader())
                .await
                .map_err(db)?;
        rows.iter().map(|row| incident_row(row)).collect()
    }

    async fn put_rights_request(
        &self,
        request: &RightsRequest,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        let (kind, purpose) = match request.kind() {
            RightsKind::Objection(purpose) => (RIGHTS_OBJECTION, Some(purpose.name())),
            other => (other.as_str(), None),
        };
        let extension = request.extension();
        if let Some(e) = extension {
            check_text("extension reason", &e.reason, MAX_TEXT_BYTES)?;
        }
        if let Some(reason) = request.rejection_reason() {
            check_text("rejection reason", reason, MAX_TEXT_BYTES)?;
        }
        let mut tx = self.begin().await?;
        let now = nanos(self.now())?;
        sqlx::query(&format!(
            "INSERT INTO rights_requests ({RIGHTS_COLUMNS}, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (tenant_id, request_id) DO UPDATE SET kind = excluded.kind, purpose = excluded.purpose, \
             regime = excluded.regime, received_at = excluded.received_at, status = excluded.status, \
             acknowledged_at = excluded.acknowledged_at, extension_notified_at = excluded.extension_notified_at, \
             extension_reason = excluded.extension_reason, extension_new_due = excluded.extension_new_due, \
             completed_at = excluded.completed_at, rejection_reason = excluded.rejection_reason, \
             updated_at = excluded.updated_at"
        ))
        .bind(request.tenant().as_str())
        .bind(request.id().as_str())
        .bind(kind)
        .bind(purpose)
        .bind(request.regime().name())
        .bind(nanos(request.received_at())?)
        .bind(request.status().name())
        .bind(opt_nanos(request.acknowledged_at())?)
        .bind(opt_nanos(extension.map(|e| e.notified_at))?)
        .bind(extension.map(|e| e.reason.as_str()))
        .bind(opt_nanos(extension.map(|e| e.new_due))?)
        .bind(opt_nanos(request.completed_at())?)
        .bind(request.rejection_reason())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        self.append_in(&mut tx, request.tenant(), audit).await?;
        tx.commit().await.map_err(db)
    }

    async fn rights_request(
        &self,
        tenant: &TenantId,
        id: &RightsRequestId,
    ) -> Result<RightsRequest, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {RIGHTS_COLUMNS} FROM rights_requests WHERE tenant_id = ? AND request_id = ?"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(self.reader())
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)?;
        rights_row(&row)
    }

    async fn rights_requests(&self, tenant: &TenantId) -> Result<Vec<RightsRequest>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {RIGHTS_COLUMNS} FROM rights_requests WHERE tenant_id = ? ORDER BY request_id"
        ))
        .bind(tenant.as_str())
        .fetch_all(self.reader())
        .await
        .map_err(db)?;
        rows.iter().map(|row| rights_row(row)).collect()
    }

    async fn decision_cases<'a>(&self, tenant: Option<&'a TenantId>) -> Result<DecisionCases, StoreError> {
        // Only the cases that matter, by their state columns: open incidents, and the tenant's restrictions
        // and objections that were not rejected.
        let isolating = self
            .read_all(
                &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE state <> ? ORDER BY opened_at, incident_id"),
                vec![Arg::from(IncidentState::Closed.name())],
                Size::Few,
                incident_row,
            )
            .await?;
        let restricting = match tenant {
            Some(t) => {
                self.read_all(
                    &format!(
                        "SELECT {RIGHTS_COLUMNS} FROM rights_requests WHERE tenant_id = ? AND kind IN (?, ?) \
                         AND status <> ? ORDER BY request_id"
                    ),
                    vec![
                        Arg::from(t.as_str()),
                        Arg::from(RightsKind::Restriction.as_str()),
                        Arg::from(RIGHTS_OBJECTION),
                        Arg::from(RightsStatus::Rejected.name()),
                    ],
                    Size::Few,
                    rights_row,
                )
                .await?
            }
            None => Vec::new(),
        };
        Ok(DecisionCases { isolating, restricting })
    }

    async fn put_hold(&self, hold: &LegalHold, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        check_text("hold reason", hold.reason(), MAX_TEXT_BYTES)?;
        let scope = hold_scope_json(hold.scope())?;
        let lifted = hold.lifted();
        let mut tx = self.begin().await?;
        let now = nanos(self.now())?;
        sqlx::query(&format!(
            "INSERT INTO legal_holds ({HOLD_COLUMNS}, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (tenant_id, hold_id) DO UPDATE SET scope = excluded.scope, reason = excluded.reason, \
             owner = excluded.owner, placed_at = excluded.placed_at, ends_at = excluded.ends_at, \
             lifted_by = excluded.lifted_by, lifted_at = excluded.lifted_at, updated_at = excluded.updated_at"
        ))
        .bind(hold.tenant().as_str())
        .bind(hold.id().as_str())
        .bind(&scope)
        .bind(hold.reason())
        .bind(hold.owner().as_str())
        .bind(nanos(hold.placed_at())?)
        .bind(nanos(hold.ends_at())?)
        .bind(lifted.map(|l| l.by.as_str()))
        .bind(opt_nanos(lifted.map(|l| l.at))?)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        self.append_in(&mut tx, hold.tenant(), audit).await?;
        tx.commit().await.map_err(db)
    }

    async fn hold(&self, tenant: &TenantId, id: &HoldId) -> Result<LegalHold, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {HOLD_COLUMNS} FROM legal_holds WHERE tenant_id = ? AND hold_id = ?"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(self.reader())
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)?;
        hold_row(&row)
    }

    async fn holds(&self, tenant: &TenantId) -> Result<Vec<LegalHold>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {HOLD_COLUMNS} FROM legal_holds WHERE tenant_id = ? ORDER BY hold_id"
        ))
        .bind(tenant.as_str())
        .fetch_all(self.reader())
        .await
        .map_err(db)?;
        rows.iter().map(|row| hold_row(row)).collect()
    }

    async fn put_receipt(
        &self,
        receipt: &DeletionReceipt,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        let items = items_json(receipt.items())?;
        let recheck = recheck_json(receipt.recheck())?;
        for (what, value) in [("receipt items", &items), ("receipt recheck", &recheck)] {
            check_text(what, value, 64 * MAX_TEXT_BYTES)?;
        }
        let mut tx = self.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO deletion_receipts ({RECEIPT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(receipt.tenant().as_str())
        .bind(receipt.id().as_str())
        .bind(receipt.grant().map(|g| g.as_str()))
        .bind(cause_json(receipt.cause())?)
        .bind(&items)
        .bind(&recheck)
        .bind(nanos(receipt.started_at())?)
        .bind(nanos(receipt.completed_at())?)
        .bind(receipt.digest().as_slice())
        .execute(&mut *tx)
        .await
        .map_err(db_conflict(|| format!("receipt `{}` exists", receipt.id())))?;
        self.append_in(&mut tx, receipt.tenant(), audit).await?;
        tx.commit().await.map_err(db)
    }

    async fn receipt(&self, tenant: &TenantId, id: &ReceiptId) -> Result<DeletionReceipt, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {RECEIPT_COLUMNS} FROM deletion_receipts WHERE tenant_id = ? AND receipt_id = ?"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(self.reader())
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)?;
        receipt_row(&row)
    }

    async fn receipts(&self, tenant: &TenantId) -> Result<Vec<DeletionReceipt>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {RECEIPT_COLUMNS} FROM deletion_receipts WHERE tenant_id = ? ORDER BY started_at, receipt_id"
        ))
        .bind(tenant.as_str())
        .fetch_all(self.reader())
        .await
        .map_err(db)?;
        rows.iter().map(|row| receipt_row(row)).collect()
    }
}
