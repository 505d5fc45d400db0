//! `GrantStore`: grants per tenant with their evidence in columns (accounts in `grant_accounts`), optimistic
//! saves on `updated_at`, and the cross-tenant lookups through SECURITY DEFINER functions.

use std::collections::BTreeSet;

use async_trait::async_trait;
use custodian_core::audit::{Hash, NewAuditEvent};
use custodian_core::grant::{Grant, GrantEvidence, GrantId, GrantState};
use custodian_core::platform::{AccountRef, Platform, Task};
use custodian_core::ports::{GrantStore, PendingConsent, StoreError};
use custodian_core::tenant::TenantId;
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::check::parse;
use crate::error::{self, corrupt};
use crate::{PgStore, flow_state, micros, wire};

const STATES: [GrantState; 5] = [
    GrantState::Pending,
    GrantState::Active,
    GrantState::NeedsReview,
    GrantState::Revoked,
    GrantState::Expired,
];

#[derive(sqlx::FromRow)]
struct GrantRow {
    tenant_id: String,
    grant_id: String,
    platform: String,
    state: String,
    tasks: Vec<String>,
    pii_enabled: bool,
    owner: Option<String>,
    scopes: Option<Vec<String>>,
    expires_at: Option<OffsetDateTime>,
    data_access_expires_at: Option<OffsetDateTime>,
    validated_at: Option<OffsetDateTime>,
    review: String,
    revocation: Option<String>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    accounts: Vec<String>,
}

const SELECT: &str =
    "SELECT g.tenant_id, g.grant_id, g.platform, g.state, g.tasks, g.pii_enabled, g.owner, g.scopes,
        g.expires_at, g.data_access_expires_at, g.validated_at, g.review::text AS review,
        g.revocation::text AS revocation, g.created_at, g.updated_at,
        COALESCE((SELECT array_agg(a.account_key ORDER BY a.account_key) FROM grant_accounts a
                  WHERE a.tenant_id = g.tenant_id AND a.grant_id = g.grant_id), '{}') AS accounts
    FROM grants g";

impl GrantRow {
    fn into_grant(self) -> Result<Grant, StoreError> {
        let evidence = match (self.owner, self.scopes, self.validated_at) {
            (Some(owner), Some(scopes), Some(validated_at)) => Some(GrantEvidence {
                owner: parse("owner id", &owner)?,
                accounts: self.accounts.iter().map(|a| wire::account(a)).collect::<Result<_, _>>()?,
                scopes: scopes.iter().map(|s| crate::wire::scope(s)).collect::<Result<_, _>>()?,
                expires_at: self.expires_at,
                data_access_expires_at: self.data_access_expires_at,
                validated_at,
            }),
            (None, None, None) => None,
            _ => return Err(corrupt("stored grant evidence is incomplete")),
        };
        Ok(Grant::restore(
            parse("grant id", &self.grant_id)?,
            parse("tenant id", &self.tenant_id)?,
            parse("platform", &self.platform)?,
            wire::by_name("grant state", &STATES, GrantState::as_str, &self.state)?,
            self.tasks.iter().map(|t| parse::<Task>("task", t)).collect::<Result<BTreeSet<_>, _>>()?,
            self.pii_enabled,
            evidence,
            wire::review_from_json(&self.review)?,
            self.revocation.as_deref().map(wire::revocation_from_json).transpose()?,
            self.created_at,
            self.updated_at,
        ))
    }
}

/// The column values of a grant, checked and encoded.
struct GrantValues {
    tasks: Vec<&'static str>,
    owner: Option<String>,
    scopes: Option<Vec<String>>,
    expires_at: Option<OffsetDateTime>,
    data_access_expires_at: Option<OffsetDateTime>,
    validated_at: Option<OffsetDateTime>,
    review: String,
    revocation: Option<String>,
    accounts: Vec<String>,
}

impl GrantValues {
    fn of(grant: &Grant) -> Result<Self, StoreError> {
        let evidence = grant.evidence();
        if let Some(e) = evidence
            && let Some(other) = e.accounts.iter().find(|a| a.platform() != grant.platform)
        {
            return Err(StoreError::Invalid(format!(
                "account `{other}` of grant `{}` is not on {}",
                grant.id, grant.platform
            )));
        }
        Ok(Self {
            tasks: grant.tasks.iter().map(|t| t.as_str()).collect(),
            owner: evidence.map(|e| e.owner.to_string()),
            scopes: evidence.map(|e| e.scopes.iter().map(ToString::to_string).collect()),
            expires_at: evidence.and_then(|e| e.expires_at).map(micros),
            data_access_expires_at: evidence.and_then(|e| e.data_access_expires_at).map(micros),
            validated_at: evidence.map(|e| micros(e.validated_at)),
            review: wire::review_to_json(grant.review_reasons())?,
            revocation: grant.revocation().map(wire::revocation_to_json).transpose()?,
            accounts: evidence.map(|e| e.accounts.iter().map(AccountRef::key).collect()).unwrap_or_default(),
        })
    }
}

async fn insert_accounts(
    conn: &mut PgConnection,
    grant: &Grant,
    accounts: &[String],
) -> Result<(), StoreError> {
    if accounts.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO grant_accounts (tenant_id, grant_id, platform, account_key)
         SELECT $1, $2, $3, a FROM UNNEST($4::text[]) AS t(a)",
    )
    .bind(grant.tenant.as_str())
    .bind(grant.id.as_str())
    .bind(grant.platform.as_str())
    .bind(accounts)
    .execute(&mut *conn)
    .await
    .map_err(error::store)?;
    Ok(())
}

fn pairs(rows: Vec<(String, String)>) -> Result<Vec<(TenantId, GrantId)>, StoreError> {
    rows.iter().map(|(t, g)| Ok((parse("tenant id", t)?, parse("grant id", g)?))).collect()
}

#[async_trait]
impl GrantStore for PgStore {
    async fn insert_grant(&self, grant: &Grant, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        let v = GrantValues::of(grant)?;
        let mut tx = self.begin(grant.tenant.as_str()).await?;
        sqlx::query(
            "INSERT INTO grants (tenant_id, grant_id, platform, state, tasks, pii_enabled, owner, scopes,
                expires_at, data_access_expires_at, validated_at, review, revocation, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13::jsonb, $14, $15)",
        )
        .bind(grant.tenant.as_str())
        .bind(grant.id.as_str())
        .bind(grant.platform.as_str())
        .bind(grant.state().as_str())
        .bind(&v.tasks)
        .bind(grant.pii_enabled)
        .bind(&v.owner)
        .bind(&v.scopes)
        .bind(v.expires_at)
        .bind(v.data_access_expires_at)
        .bind(v.validated_at)
        .bind(&v.review)
        .bind(&v.revocation)
        .bind(micros(grant.created_at))
        .bind(micros(grant.updated_at()))
        .execute(&mut *tx)
        .await
        .map_err(|e| match error::store(e) {
            StoreError::Conflict(_) => StoreError::Conflict(format!("grant `{}` exists", grant.id)),
            StoreError::Invalid(m) if m.starts_with("refers to") => {
                StoreError::Invalid(format!("tenant `{}` does not exist", grant.tenant))
            }
            other => other,
        })?;
        insert_accounts(&mut tx, grant, &v.accounts).await?;
        self.append_in(&mut tx, &grant.tenant, audit).await?;
        tx.commit().await.map_err(error::store)
    }

    async fn grant(&self, tenant: &TenantId, id: &GrantId) -> Result<Grant, StoreError> {
        let mut tx = self.begin(tenant.as_str()).await?;
        let row: Option<GrantRow> =
            sqlx::query_as(&format!("{SELECT} WHERE g.tenant_id = $1 AND g.grant_id = $2"))
                .bind(tenant.as_str())
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        row.ok_or(StoreError::NotFound)?.into_grant()
    }

    async fn grants(&self, tenant: &TenantId) -> Result<Vec<Grant>, StoreError> {
        let mut tx = self.begin(tenant.as_str()).await?;
        let rows: Vec<GrantRow> =
            sqlx::query_as(&format!("{SELECT} WHERE g.tenant_id = $1 ORDER BY g.grant_id"))
                .bind(tenant.as_str())
                .fetch_all(&mut *tx)
                .await
                .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        rows.into_iter().map(GrantRow::into_grant).collect()
    }

    async fn save_grant(
        &self,
        grant: &Grant,
        expected_updated_at: OffsetDateTime,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        let v = GrantValues::of(grant)?;
        let mut tx = self.begin(grant.tenant.as_str()).await?;
        let current: Option<(OffsetDateTime, String)> = sqlx::query_as(
            "SELECT updated_at, platform FROM grants WHERE tenant_id = $1 AND grant_id = $2 FOR UPDATE",
        )
        .bind(grant.tenant.as_str())
        .bind(grant.id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(error::store)?;
        let Some((updated_at, platform)) = current else { return Err(StoreError::NotFound) };
        if updated_at != micros(expected_updated_at) {
            return Err(StoreError::Conflict(format!("grant `{}` changed since it was read", grant.id)));
        }
        if platform != grant.platform.as_str() {
            return Err(StoreError::Invalid(format!("grant `{}` cannot move to another platform", grant.id)));
        }
        sqlx::query(
            "UPDATE grants SET state = $3, tasks = $4, pii_enabled = $5, owner = $6, scopes = $7, expires_at = $8,
                data_access_expires_at = $9, validated_at = $10, review = $11::jsonb, revocation = $12::jsonb,
                created_at = $13, updated_at = $14
             WHERE tenant_id = $1 AND grant_id = $2",
        )
        .bind(grant.tenant.as_str())
        .bind(grant.id.as_str())
        .bind(grant.state().as_str())
        .bind(&v.tasks)
        .bind(grant.pii_enabled)
        .bind(&v.owner)
        .bind(&v.scopes)
        .bind(v.expires_at)
        .bind(v.data_access_expires_at)
        .bind(v.validated_at)
        .bind(&v.review)
        .bind(&v.revocation)
        .bind(micros(grant.created_at))
        .bind(micros(grant.updated_at()))
        .execute(&mut *tx)
        .await
        .map_err(error::store)?;
        sqlx::query("DELETE FROM grant_accounts WHERE tenant_id = $1 AND grant_id = $2")
            .bind(grant.tenant.as_str())
            .bind(grant.id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(error::store)?;
        insert_accounts(&mut tx, grant, &v.accounts).await?;
        self.append_in(&mut tx, &grant.tenant, audit).await?;
        tx.commit().await.map_err(error::store)
    }

    async fn locate_by_account(
        &self,
        platform: Platform,
        account: &AccountRef,
    ) -> Result<Vec<(TenantId, GrantId)>, StoreError> {
        let mut tx = self.begin("").await?;
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT tenant_id, grant_id FROM custodian_locate_by_account($1, $2)")
                .bind(platform.as_str())
                .bind(account.key())
                .fetch_all(&mut *tx)
                .await
                .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        pairs(rows)
    }

    async fn locate_by_owner(
        &self,
        platform: Platform,
        owner: &str,
    ) -> Result<Vec<(TenantId, GrantId)>, StoreError> {
        crate::check::text_bytes("owner", owner, custodian_core::MAX_ID_LEN)?;
        let mut tx = self.begin("").await?;
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT tenant_id, grant_id FROM custodian_locate_by_owner($1, $2)")
                .bind(platform.as_str())
                .bind(owner)
                .fetch_all(&mut *tx)
                .await
                .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        pairs(rows)
    }

    async fn stale_grants(
        &self,
        validated_before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<(TenantId, GrantId)>, StoreError> {
        // `validated_at` is stored floored to the microsecond: `validated_at < micros(bound)` is exact
        // unless the bound has sub-microsecond digits, where `<=` on the floored bound is the exact test.
        let bound = micros(validated_before);
        let exact = bound == validated_before;
        let bound = if exact { bound } else { bound + time::Duration::microseconds(1) };
        let mut tx = self.begin("").await?;
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT tenant_id, grant_id FROM custodian_stale_grants($1, $2)")
                .bind(bound)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await
                .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        pairs(rows)
    }

    async fn put_consent(
        &self,
        consent: &PendingConsent,
        max_pending: usize,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        flow_state::put_consent(self, consent, max_pending, now).await
    }

    async fn pending_consents(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        flow_state::pending_consents(self, now).await
    }

    async fn take_consent(
        &self,
        state_hash: &Hash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingConsent>, StoreError> {
        flow_state::take_consent(self, state_hash, now).await
    }

    async fn claim_signal(
        &self,
        key: &Hash,
        now: OffsetDateTime,
        window: time::Duration,
    ) -> Result<bool, StoreError> {
        flow_state::claim_signal(self, key, now, window).await
    }

    async fn release_signal(&self, key: &Hash) -> Result<(), StoreError> {
        flow_state::release_signal(self, key).await
    }
}
