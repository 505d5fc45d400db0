//! `CaseStore`: change requests, rights requests, legal holds and deletion receipts per tenant; incidents
//! are global (they may span tenants) and audited on the system chain. Each case is a row with its key and
//! state columns plus a JSON document ([`crate::wire`]); receipts are insert-only.

use async_trait::async_trait;
use custodian_core::approval::{ChangeId, ChangeRequest};
use custodian_core::audit::{NewAuditEvent, system_tenant};
use custodian_core::incident::{Incident, IncidentId, IncidentState};
use custodian_core::ports::{CaseStore, DecisionCases, StoreError};
use custodian_core::retention::{DeletionReceipt, HoldId, LegalHold, ReceiptId};
use custodian_core::rights::{RightsRequest, RightsRequestId, RightsStatus, restriction_for};
use custodian_core::tenant::TenantId;

use crate::error;
use crate::{PgStore, micros, wire};

type ChangeRow = (String, String, String, Vec<u8>, String);
type ReceiptRow = (String, String, Option<String>, String);

impl PgStore {
    /// Runs one read query in a transaction scoped to `tenant` (`""` for the global tables), binding `binds` in
    /// order. Callers pass SQL literals only.
    async fn read_rows<R>(
        &self,
        tenant: &str,
        sql: &'static str,
        binds: &[&str],
    ) -> Result<Vec<R>, StoreError>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        let mut tx = self.begin(tenant).await?;
        let mut query = sqlx::query_as::<_, R>(sql);
        for value in binds {
            query = query.bind(*value);
        }
        let rows = query.fetch_all(&mut *tx).await.map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        Ok(rows)
    }
}

#[async_trait]
impl CaseStore for PgStore {
    async fn put_change(&self, change: &ChangeRequest, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        let doc = wire::change_to_json(change)?;
        let tenant = change.tenant();
        let mut tx = self.begin(tenant.as_str()).await?;
        sqlx::query(
            "INSERT INTO change_requests (tenant_id, change_id, grant_id, state, diff_hash, doc, proposed_at)
             VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
             ON CONFLICT (tenant_id, change_id) DO UPDATE SET grant_id = EXCLUDED.grant_id, state = EXCLUDED.state,
                diff_hash = EXCLUDED.diff_hash, doc = EXCLUDED.doc, proposed_at = EXCLUDED.proposed_at",
        )
        .bind(tenant.as_str())
        .bind(change.id().as_str())
        .bind(change.grant().as_str())
        .bind(change.state().as_str())
        .bind(change.diff_hash().as_slice())
        .bind(&doc)
        .bind(micros(change.proposed_at()))
        .execute(&mut *tx)
        .await
        .map_err(error::store)?;
        self.append_in(&mut tx, tenant, audit).await?;
        tx.commit().await.map_err(error::store)
    }

    async fn change(&self, tenant: &TenantId, id: &ChangeId) -> Result<ChangeRequest, StoreError> {
        let rows: Vec<ChangeRow> = self
            .read_rows(
                tenant.as_str(),
                "SELECT tenant_id, change_id, grant_id, diff_hash, doc::text FROM change_requests
                 WHERE tenant_id = $1 AND change_id = $2",
                &[tenant.as_str(), id.as_str()],
            )
            .await?;
        let (t, c, g, h, doc) = rows.into_iter().next().ok_or(StoreError::NotFound)?;
        wire::change_from_json(&t, &c, &g, &h, &doc)
    }

    async fn changes(&self, tenant: &TenantId) -> Result<Vec<ChangeRequest>, StoreError> {
        let rows: Vec<ChangeRow> = self
            .read_rows(
                tenant.as_str(),
                "SELECT tenant_id, change_id, grant_id, diff_hash, doc::text FROM change_requests
                 WHERE tenant_id = $1 ORDER BY change_id",
                &[tenant.as_str()],
            )
            .await?;
        rows.iter().map(|(t, c, g, h, doc)| wire::change_from_json(t, c, g, h, doc)).collect()
    }

    async fn put_incident(&self, incident: &Incident, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        let doc = wire::incident_to_json(incident)?;
        let system = system_tenant();
        let mut tx = self.begin(system.as_str()).await?;
        sqlx::query(
            "INSERT INTO incidents (incident_id, state, doc, opened_at) VALUES ($1, $2, $3::jsonb, $4)
             ON CONFLICT (incident_id) DO UPDATE SET state = EXCLUDED.state, doc = EXCLUDED.doc,
                opened_at = EXCLUDED.opened_at",
        )
        .bind(incident.id().as_str())
        .bind(incident.state().as_str())
        .bind(&doc)
        .bind(micros(incident.opened_at()))
        .execute(&mut *tx)
        .await
        .map_err(error::store)?;
        self.append_in(&mut tx, &system, audit).await?;
        tx.commit().await.map_err(error::store)
    }

    async fn incident(&self, id: &IncidentId) -> Result<Incident, StoreError> {
        let rows: Vec<(String, String)> = self
            .read_rows(
                "",
                "SELECT incident_id, doc::text FROM incidents WHERE incident_id = $1",
                &[id.as_str()],
            )
            .await?;
        let (id, doc) = rows.into_iter().next().ok_or(StoreError::NotFound)?;
        wire::incident_from_json(&id, &doc)
    }

    async fn incidents(&self) -> Result<Vec<Incident>, StoreError> {
        let rows: Vec<(String, String)> = self
            .read_rows(
                "",
                "SELECT incident_id, doc::text FROM incidents ORDER BY opened_at, incident_id",
                &[],
            )
            .await?;
        rows.iter().map(|(id, doc)| wire::incident_from_json(id, doc)).collect()
    }

    async fn put_rights_request(
        &self,
        request: &RightsRequest,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        let doc = wire::rights_to_json(request)?;
        let tenant = request.tenant();
        let mut tx = self.begin(tenant.as_str()).await?;
        sqlx::query(
            "INSERT INTO rights_requests (tenant_id, request_id, status, doc, received_at)
             VALUES ($1, $2, $3, $4::jsonb, $5)
             ON CONFLICT (tenant_id, request_id) DO UPDATE SET status = EXCLUDED.status, doc = EXCLUDED.doc,
                received_at = EXCLUDED.received_at",
        )
        .bind(tenant.as_str())
        .bind(request.id().as_str())
        .bind(request.status().as_str())
        .bind(&doc)
        .bind(micros(request.received_at()))
        .execute(&mut *tx)
        .await
        .map_err(error::store)?;
        self.append_in(&mut tx, tenant, audit).await?;
        tx.commit().await.map_err(error::store)
    }

    async fn rights_request(
        &self,
        tenant: &TenantId,
        id: &RightsRequestId,
    ) -> Result<RightsRequest, StoreError> {
        let rows: Vec<(String, String, String)> = self
            .read_rows(
                tenant.as_str(),
                "SELECT tenant_id, request_id, doc::text FROM rights_requests WHERE tenant_id = $1 AND request_id = $2",
                &[tenant.as_str(), id.as_str()],
            )
            .await?;
        let (t, r, doc) = rows.into_iter().next().ok_or(StoreError::NotFound)?;
        wire::rights_from_json(&t, &r, &doc)
    }

    async fn rights_requests(&self, tenant: &TenantId) -> Result<Vec<RightsRequest>, StoreError> {
        let rows: Vec<(String, String, String)> = self
            .read_rows(
                tenant.as_str(),
                "SELECT tenant_id, request_id, doc::text FROM rights_requests WHERE tenant_id = $1 ORDER BY request_id",
                &[tenant.as_str()],
            )
            .await?;
        rows.iter().map(|(t, r, doc)| wire::rights_from_json(t, r, doc)).collect()
    }

    async fn decision_cases<'a>(&self, tenant: Option<&'a TenantId>) -> Result<DecisionCases, StoreError> {
        // One transaction (scoped to the tenant, so its rights requests are visible) for both: incidents not
        // closed, and the tenant's requests not rejected, of which restrictions and objections are kept.
        let mut tx = self.begin(tenant.map_or("", TenantId::as_str)).await?;
        let incidents: Vec<(String, String)> = sqlx::query_as(
            "SELECT incident_id, doc::text FROM incidents WHERE state <> $1 ORDER BY opened_at, incident_id",
        )
        .bind(IncidentState::Closed.as_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(error::store)?;
        let requests: Vec<(String, String, String)> = match tenant {
            Some(t) => sqlx::query_as(
                "SELECT tenant_id, request_id, doc::text FROM rights_requests WHERE tenant_id = $1 AND status <> $2
                 ORDER BY request_id",
            )
            .bind(t.as_str())
            .bind(RightsStatus::Rejected.as_str())
            .fetch_all(&mut *tx)
            .await
            .map_err(error::store)?,
            None => Vec::new(),
        };
        tx.commit().await.map_err(error::store)?;
        let isolating = incidents
            .iter()
            .map(|(id, doc)| wire::incident_from_json(id, doc))
            .collect::<Result<Vec<_>, _>>()?;
        let mut restricting = Vec::new();
        for (t, r, doc) in &requests {
            let request = wire::rights_from_json(t, r, doc)?;
            if restriction_for(&request).is_some() {
                restricting.push(request);
            }
        }
        Ok(DecisionCases { isolating, restricting })
    }

    async fn put_hold(&self, hold: &LegalHold, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        let doc = wire::hold_to_json(hold)?;
        let tenant = hold.tenant();
        let mut tx = self.begin(tenant.as_str()).await?;
        sqlx::query(
            "INSERT INTO legal_holds (tenant_id, hold_id, doc, ends_at) VALUES ($1, $2, $3::jsonb, $4)
             ON CONFLICT (tenant_id, hold_id) DO UPDATE SET doc = EXCLUDED.doc, ends_at = EXCLUDED.ends_at",
        )
        .bind(tenant.as_str())
        .bind(hold.id().as_str())
        .bind(&doc)
        .bind(micros(hold.ends_at()))
        .execute(&mut *tx)
        .await
        .map_err(error::store)?;
        self.append_in(&mut tx, tenant, audit).await?;
        tx.commit().await.map_err(error::store)
    }

    async fn hold(&self, tenant: &TenantId, id: &HoldId) -> Result<LegalHold, StoreError> {
        let rows: Vec<(String, String, String)> = self
            .read_rows(
                tenant.as_str(),
                "SELECT tenant_id, hold_id, doc::text FROM legal_holds WHERE tenant_id = $1 AND hold_id = $2",
                &[tenant.as_str(), id.as_str()],
            )
            .await?;
        let (t, h, doc) = rows.into_iter().next().ok_or(StoreError::NotFound)?;
        wire::hold_from_json(&t, &h, &doc)
    }

    async fn holds(&self, tenant: &TenantId) -> Result<Vec<LegalHold>, StoreError> {
        let rows: Vec<(String, String, String)> = self
            .read_rows(
                tenant.as_str(),
                "SELECT tenant_id, hold_id, doc::text FROM legal_holds WHERE tenant_id = $1 ORDER BY hold_id",
                &[tenant.as_str()],
            )
            .await?;
        rows.iter().map(|(t, h, doc)| wire::hold_from_json(t, h, doc)).collect()
    }

    async fn put_receipt(
        &self,
        receipt: &DeletionReceipt,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        let doc = wire::receipt_to_json(receipt)?;
        let tenant = receipt.tenant();
        let mut tx = self.begin(tenant.as_str()).await?;
        sqlx::query(
            "INSERT INTO deletion_receipts (tenant_id, receipt_id, grant_id, doc, completed_at)
             VALUES ($1, $2, $3, $4::jsonb, $5)",
        )
        .bind(tenant.as_str())
        .bind(receipt.id().as_str())
        .bind(receipt.grant().map(|g| g.as_str()))
        .bind(&doc)
        .bind(micros(receipt.completed_at()))
        .execute(&mut *tx)
        .await
        .map_err(|e| match error::store(e) {
            StoreError::Conflict(_) => {
                StoreError::Conflict(format!("deletion receipt `{}` exists", receipt.id()))
            }
            other => other,
        })?;
        self.append_in(&mut tx, tenant, audit).await?;
        tx.commit().await.map_err(error::store)
    }

    async fn receipt(&self, tenant: &TenantId, id: &ReceiptId) -> Result<DeletionReceipt, StoreError> {
        let rows: Vec<ReceiptRow> = self
            .read_rows(
                tenant.as_str(),
                "SELECT tenant_id, receipt_id, grant_id, doc::text FROM deletion_receipts
                 WHERE tenant_id = $1 AND receipt_id = $2",
                &[tenant.as_str(), id.as_str()],
            )
            .await?;
        let (t, r, g, doc) = rows.into_iter().next().ok_or(StoreError::NotFound)?;
        wire::receipt_from_json(&t, &r, g.as_deref(), &doc)
    }

    async fn receipts(&self, tenant: &TenantId) -> Result<Vec<DeletionReceipt>, StoreError> {
        let rows: Vec<ReceiptRow> = self
            .read_rows(
                tenant.as_str(),
                "SELECT tenant_id, receipt_id, grant_id, doc::text FROM deletion_receipts
                 WHERE tenant_id = $1 ORDER BY completed_at, receipt_id",
                &[tenant.as_str()],
            )
            .await?;
        rows.iter().map(|(t, r, g, doc)| wire::receipt_from_json(t, r, g.as_deref(), doc)).collect()
    }
}
