//! `TenantStore`: tenants and their business contacts (sealed details, ENC-1). Every call runs in a
//! transaction scoped to the tenant it is about; the administrative listing goes through
//! `custodian_all_tenants()`.

use async_trait::async_trait;
use custodian_core::audit::NewAuditEvent;
use custodian_core::data::{ContactDetails, Sealed};
use custodian_core::ports::{StoreError, TenantStore};
use custodian_core::tenant::{BusinessContact, ContactId, Tenant, TenantId, TenantName, TenantStatus};

use crate::check::{self, MAX_TEXT_CHARS, parse};
use crate::error::{self, corrupt};
use crate::{PgStore, wire};

const STATUSES: [TenantStatus; 3] =
    [TenantStatus::Active, TenantStatus::Offboarding, TenantStatus::Offboarded];

fn status_name(status: TenantStatus) -> &'static str {
    match status {
        TenantStatus::Active => "active",
        TenantStatus::Offboarding => "offboarding",
        TenantStatus::Offboarded => "offboarded",
    }
}

fn tenant_of(id: &str, name: &str, status: &str, contract: &str) -> Result<Tenant, StoreError> {
    Ok(Tenant {
        id: parse("tenant id", id)?,
        name: TenantName::new(name).map_err(|_| corrupt("stored tenant name is not valid"))?,
        contract: wire::contract_from_json(contract)?,
        status: wire::by_name("tenant status", &STATUSES, status_name, status)?,
    })
}

fn contact_of(
    tenant: &TenantId,
    id: &str,
    role: String,
    details: &[u8],
) -> Result<BusinessContact, StoreError> {
    Ok(BusinessContact {
        tenant: tenant.clone(),
        id: parse("contact id", id)?,
        details: Sealed::<ContactDetails>::from_bytes(details)
            .map_err(|_| corrupt("stored contact details are malformed"))?,
        role,
    })
}

#[async_trait]
impl TenantStore for PgStore {
    async fn create_tenant(&self, tenant: &Tenant, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        let contract = wire::contract_to_json(&tenant.contract)?;
        let now = self.now();
        let mut tx = self.begin(tenant.id.as_str()).await?;
        sqlx::query(
            "INSERT INTO tenants (tenant_id, name, status, contract, created_at, updated_at)
             VALUES ($1, $2, $3, $4::jsonb, $5, $5)",
        )
        .bind(tenant.id.as_str())
        .bind(tenant.name.as_str())
        .bind(status_name(tenant.status))
        .bind(&contract)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| match error::store(e) {
            StoreError::Conflict(_) => StoreError::Conflict(format!("tenant `{}` exists", tenant.id)),
            other => other,
        })?;
        self.append_in(&mut tx, &tenant.id, audit).await?;
        tx.commit().await.map_err(error::store)
    }

    async fn tenant(&self, id: &TenantId) -> Result<Tenant, StoreError> {
        let mut tx = self.begin(id.as_str()).await?;
        let row: Option<(String, String, String, String)> = sqlx::query_as(
            "SELECT tenant_id, name, status, contract::text FROM tenants WHERE tenant_id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        let (id, name, status, contract) = row.ok_or(StoreError::NotFound)?;
        tenant_of(&id, &name, &status, &contract)
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let mut tx = self.begin("").await?;
        let rows: Vec<(String, String, String, String)> =
            sqlx::query_as("SELECT tenant_id, name, status, contract FROM custodian_all_tenants()")
                .fetch_all(&mut *tx)
                .await
                .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        rows.iter().map(|(id, name, status, contract)| tenant_of(id, name, status, contract)).collect()
    }

    async fn update_tenant(&self, tenant: &Tenant, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        let contract = wire::contract_to_json(&tenant.contract)?;
        let mut tx = self.begin(tenant.id.as_str()).await?;
        let updated = sqlx::query(
            "UPDATE tenants SET name = $2, status = $3, contract = $4::jsonb, updated_at = $5 WHERE tenant_id = $1",
        )
        .bind(tenant.id.as_str())
        .bind(tenant.name.as_str())
        .bind(status_name(tenant.status))
        .bind(&contract)
        .bind(self.now())
        .execute(&mut *tx)
        .await
        .map_err(error::store)?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        self.append_in(&mut tx, &tenant.id, audit).await?;
        tx.commit().await.map_err(error::store)
    }

    async fn set_tenant_status(
        &self,
        id: &TenantId,
        status: TenantStatus,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin(id.as_str()).await?;
        let updated = sqlx::query("UPDATE tenants SET status = $2, updated_at = $3 WHERE tenant_id = $1")
            .bind(id.as_str())
            .bind(status_name(status))
            .bind(self.now())
            .execute(&mut *tx)
            .await
            .map_err(error::store)?
            .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        self.append_in(&mut tx, id, audit).await?;
        tx.commit().await.map_err(error::store)
    }

    async fn put_contact(
        &self,
        contact: &BusinessContact,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        check::text("contact role", &contact.role, MAX_TEXT_CHARS)?;
        let key_version = i64::from(contact.details.key_version().0);
        let key_version = i32::try_from(key_version)
            .map_err(|_| StoreError::Invalid("key version is too large".to_owned()))?;
        let mut tx = self.begin(contact.tenant.as_str()).await?;
        sqlx::query(
            "INSERT INTO contacts (tenant_id, contact_id, role, details, key_version, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (tenant_id, contact_id)
             DO UPDATE SET role = EXCLUDED.role, details = EXCLUDED.details,
                           key_version = EXCLUDED.key_version, updated_at = EXCLUDED.updated_at",
        )
        .bind(contact.tenant.as_str())
        .bind(contact.id.as_str())
        .bind(&contact.role)
        .bind(contact.details.to_bytes())
        .bind(key_version)
        .bind(self.now())
        .execute(&mut *tx)
        .await
        .map_err(|e| match error::store(e) {
            StoreError::Invalid(m) if m.starts_with("refers to") => {
                StoreError::Invalid(format!("tenant `{}` does not exist", contact.tenant))
            }
            other => other,
        })?;
        self.append_in(&mut tx, &contact.tenant, audit).await?;
        tx.commit().await.map_err(error::store)
    }

    async fn contacts(&self, tenant: &TenantId) -> Result<Vec<BusinessContact>, StoreError> {
        let mut tx = self.begin(tenant.as_str()).await?;
        let rows: Vec<(String, String, Vec<u8>)> = sqlx::query_as(
            "SELECT contact_id, role, details FROM contacts WHERE tenant_id = $1 ORDER BY contact_id",
        )
        .bind(tenant.as_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        rows.into_iter().map(|(id, role, details)| contact_of(tenant, &id, role, &details)).collect()
    }

    async fn delete_contacts(
        &self,
        tenant: &TenantId,
        ids: Option<Vec<ContactId>>,
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError> {
        let ids: Option<Vec<&str>> = ids.as_ref().map(|ids| ids.iter().map(ContactId::as_str).collect());
        let mut tx = self.begin(tenant.as_str()).await?;
        let deleted = sqlx::query(
            "DELETE FROM contacts WHERE tenant_id = $1 AND ($2::text[] IS NULL OR contact_id = ANY($2))",
        )
        .bind(tenant.as_str())
        .bind(ids)
        .execute(&mut *tx)
        .await
        .map_err(error::store)?
        .rows_affected();
        self.append_in(&mut tx, tenant, audit).await?;
        tx.commit().await.map_err(error::store)?;
        Ok(deleted)
    }
}
