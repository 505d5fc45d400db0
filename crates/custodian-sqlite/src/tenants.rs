//! `TenantStore`: tenants and their business contacts (sealed details, ENC-1).

use async_trait::async_trait;
use custodian_core::audit::NewAuditEvent;
use custodian_core::data::Sealed;
use custodian_core::ports::{StoreError, TenantStore};
use custodian_core::tenant::{BusinessContact, ContactId, Tenant, TenantId, TenantName, TenantStatus};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::SqliteStore;
use crate::codec::{MAX_TEXT_BYTES, Named, check_text, invalid, named, nanos, parse_id};
use crate::error::{corrupt, db, db_conflict};
use crate::read::{Arg, Columns};
use crate::wire::{contract, contract_json};

/// Most contacts deleted by id in one call.
const MAX_IDS: usize = 10_000;

fn tenant_row(row: &dyn Columns) -> Result<Tenant, StoreError> {
    Ok(Tenant {
        id: parse_id("tenant id", &row.text("tenant_id")?)?,
        name: TenantName::new(row.text("name")?).map_err(|e| corrupt("tenant name", e))?,
        contract: contract(&row.text("contract")?)?,
        status: named::<TenantStatus>(&row.text("status")?)?,
    })
}

fn contact_row(tenant: &TenantId, row: &SqliteRow) -> Result<BusinessContact, StoreError> {
    let details: Vec<u8> = row.try_get("details").map_err(db)?;
    Ok(BusinessContact {
        tenant: tenant.clone(),
        id: parse_id("contact id", &row.try_get::<String, _>("contact_id").map_err(db)?)?,
        details: Sealed::from_bytes(&details).map_err(|e| corrupt("contact details", e))?,
        role: row.try_get("role").map_err(db)?,
    })
}

#[async_trait]
impl TenantStore for SqliteStore {
    async fn create_tenant(&self, tenant: &Tenant, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        let contract = contract_json(&tenant.contract)?;
        let mut tx = self.begin().await?;
        let now = nanos(self.now())?;
        sqlx::query(
            "INSERT INTO tenants (tenant_id, name, status, contract, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(tenant.id.as_str())
        .bind(tenant.name.as_str())
        .bind(tenant.status.name())
        .bind(&contract)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_conflict(|| format!("tenant `{}` exists", tenant.id)))?;
        self.append_in(&mut tx, &tenant.id, audit).await?;
        tx.commit().await.map_err(db)
    }

    async fn tenant(&self, id: &TenantId) -> Result<Tenant, StoreError> {
        self.read_opt(
            "SELECT tenant_id, name, status, contract FROM tenants WHERE tenant_id = ?",
            vec![Arg::from(id.as_str())],
            tenant_row,
        )
        .await?
        .ok_or(StoreError::NotFound)
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let rows = sqlx::query("SELECT tenant_id, name, status, contract FROM tenants ORDER BY tenant_id")
            .fetch_all(self.reader())
            .await
            .map_err(db)?;
        rows.iter().map(|row| tenant_row(row)).collect()
    }

    async fn update_tenant(&self, tenant: &Tenant, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        let contract = contract_json(&tenant.contract)?;
        let mut tx = self.begin().await?;
        let now = nanos(self.now())?;
        let done = sqlx::query(
            "UPDATE tenants SET name = ?, status = ?, contract = ?, updated_at = ? WHERE tenant_id = ?",
        )
        .bind(tenant.name.as_str())
        .bind(tenant.status.name())
        .bind(&contract)
        .bind(now)
        .bind(tenant.id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.append_in(&mut tx, &tenant.id, audit).await?;
        tx.commit().await.map_err(db)
    }

    async fn set_tenant_status(
        &self,
        id: &TenantId,
        status: TenantStatus,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let now = nanos(self.now())?;
        let done = sqlx::query("UPDATE tenants SET status = ?, updated_at = ? WHERE tenant_id = ?")
            .bind(status.name())
            .bind(now)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.append_in(&mut tx, id, audit).await?;
        tx.commit().await.map_err(db)
    }

    async fn put_contact(
        &self,
        contact: &BusinessContact,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        check_text("contact role", &contact.role, MAX_TEXT_BYTES)?;
        let details = contact.details.to_bytes();
        let key_version = i64::from(contact.details.key_version().0);
        let mut tx = self.begin().await?;
        let now = nanos(self.now())?;
        sqlx::query(
            "INSERT INTO contacts (tenant_id, contact_id, role, details, key_version, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (tenant_id, contact_id) DO UPDATE SET role = excluded.role, \
             details = excluded.details, key_version = excluded.key_version, updated_at = excluded.updated_at",
        )
        .bind(contact.tenant.as_str())
        .bind(contact.id.as_str())
        .bind(&contact.role)
        .bind(details)
        .bind(key_version)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        self.append_in(&mut tx, &contact.tenant, audit).await?;
        tx.commit().await.map_err(db)
    }

    async fn contacts(&self, tenant: &TenantId) -> Result<Vec<BusinessContact>, StoreError> {
        let rows = sqlx::query(
            "SELECT contact_id, role, details FROM contacts WHERE tenant_id = ? ORDER BY contact_id",
        )
        .bind(tenant.as_str())
        .fetch_all(self.reader())
        .await
        .map_err(db)?;
        rows.iter().map(|row| contact_row(tenant, row)).collect()
    }

    async fn delete_contacts(
        &self,
        tenant: &TenantId,
        ids: Option<Vec<ContactId>>,
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError> {
        if ids.as_ref().is_some_and(|ids| ids.len() > MAX_IDS) {
            return Err(invalid(format!("at most {MAX_IDS} contacts can be deleted by id at once")));
        }
        let mut tx = self.begin().await?;
        let deleted = match &ids {
            None => sqlx::query("DELETE FROM contacts WHERE tenant_id = ?")
                .bind(tenant.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected(),
            Some(ids) => {
                let mut deleted = 0;
                for id in ids {
                    deleted += sqlx::query("DELETE FROM contacts WHERE tenant_id = ? AND contact_id = ?")
                        .bind(tenant.as_str())
                        .bind(id.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?
                        .rows_affected();
                }
                deleted
            }
        };
        self.append_in(&mut tx, tenant, audit).await?;
        tx.commit().await.map_err(db)?;
        Ok(deleted)
    }
}
