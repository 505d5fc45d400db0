//! `GrantStore`: grants with their evidence (accounts in `grant_accounts`), optimistic saves, and the
//! cross-tenant lookups used only to route verified platform signals (AUTH-6) and to schedule validation.

use std::collections::BTreeSet;

use async_trait::async_trait;
use custodian_core::audit::{Hash, NewAuditEvent};
use custodian_core::grant::{Grant, GrantEvidence, GrantId, GrantState};
use custodian_core::platform::{AccountRef, Platform, Scope};
use custodian_core::ports::{GrantStore, PendingConsent, StoreError};
use custodian_core::tenant::TenantId;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use time::{Duration, OffsetDateTime};

use crate::codec::{
    MAX_TEXT_BYTES, Named, account, at, check_text, flag, named, nanos, opt_at, opt_nanos, parse_id,
};
use crate::error::{corrupt, db, db_conflict};
use crate::wire::{
    from_json, names_json, names_set, review, review_json, revocation, revocation_json, to_json,
};
use crate::{SqliteStore, flow_state};

const GRANT_COLUMNS: &str = "tenant_id, grant_id, platform, state, tasks, pii_enabled, owner, scopes, \
     expires_at, data_access_expires_at, validated_at, review, revocation, created_at, updated_at";

/// A grant's columns, encoded.
struct GrantColumns {
    tasks: String,
    owner: Option<String>,
    scopes: Option<String>,
    expires_at: Option<i64>,
    data_access_expires_at: Option<i64>,
    validated_at: Option<i64>,
    review: String,
    revocation: Option<String>,
    created_at: i64,
    updated_at: i64,
    accounts: Vec<String>,
}

fn encode(grant: &Grant) -> Result<GrantColumns, StoreError> {
    let evidence = grant.evidence();
    if let Some(cause) = grant.revocation() {
        let text = match cause {
            custodian_core::grant::RevocationCause::PlatformSignal { signal, .. } => signal.as_str(),
            custodian_core::grant::RevocationCause::CredentialsRejected { detail } => detail.as_str(),
            _ => "",
        };
        check_text("revocation detail", text, MAX_TEXT_BYTES)?;
    }
    Ok(GrantColumns {
        tasks: names_json(grant.tasks.iter().copied())?,
        owner: evidence.map(|e| e.owner.to_string()),
        scopes: evidence
            .map(|e| to_json(&e.scopes.iter().map(Scope::as_str).collect::<Vec<_>>()))
            .transpose()?,
        expires_at: opt_nanos(evidence.and_then(|e| e.expires_at))?,
        data_access_expires_at: opt_nanos(evidence.and_then(|e| e.data_access_expires_at))?,
        validated_at: opt_nanos(evidence.map(|e| e.validated_at))?,
        review: review_json(grant.review_reasons())?,
        revocation: grant.revocation().map(revocation_json).transpose()?,
        created_at: nanos(grant.created_at)?,
        updated_at: nanos(grant.updated_at())?,
        accounts: evidence.map(|e| e.accounts.iter().map(AccountRef::key).collect()).unwrap_or_default(),
    })
}

/// Rebuilds a grant from its row and its accounts.
fn decode(row: &SqliteRow, accounts: Vec<String>) -> Result<Grant, StoreError> {
    let get_text = |name: &str| row.try_get::<String, _>(name).map_err(db);
    let get_opt_text = |name: &str| row.try_get::<Option<String>, _>(name).map_err(db);
    let get_opt_int = |name: &str| row.try_get::<Option<i64>, _>(name).map_err(db);
    let platform: Platform = named(&get_text("platform")?)?;
    let evidence = match get_opt_int("validated_at")? {
        None => None,
        Some(validated_at) => {
            let owner = get_opt_text("owner")?.ok_or_else(|| corrupt("grant", "evidence without owner"))?;
            let scopes: Vec<String> = from_json(
                "grant scopes",
                &get_opt_text("scopes")?.ok_or_else(|| corrupt("grant", "evidence without scopes"))?,
            )?;
            Some(GrantEvidence {
                owner: parse_id("owner id", &owner)?,
                accounts: accounts.iter().map(|a| account(a)).collect::<Result<BTreeSet<_>, _>>()?,
                scopes: scopes
                    .into_iter()
                    .map(|s| Scope::new(s).map_err(|e| corrupt("scope", e)))
                    .collect::<Result<_, _>>()?,
                expires_at: opt_at(get_opt_int("expires_at")?)?,
                data_access_expires_at: opt_at(get_opt_int("data_access_expires_at")?)?,
                validated_at: at(validated_at)?,
            })
        }
    };
    Ok(Grant::restore(
        parse_id("grant id", &get_text("grant_id")?)?,
        parse_id("tenant id", &get_text("tenant_id")?)?,
        platform,
        named::<GrantState>(&get_text("state")?)?,
        names_set("grant tasks", &get_text("tasks")?)?,
        flag("pii_enabled", row.try_get("pii_enabled").map_err(db)?)?,
        evidence,
        review(&get_text("review")?)?,
        get_opt_text("revocation")?.as_deref().map(revocation).transpose()?,
        at(row.try_get("created_at").map_err(db)?)?,
        at(row.try_get("updated_at").map_err(db)?)?,
    ))
}

/// The accounts of one grant, in key order.
async fn accounts_of(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
    grant: &str,
) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT account_key FROM grant_accounts WHERE tenant_id = ? AND grant_id = ? ORDER BY account_key",
    )
    .bind(tenant.as_str())
    .bind(grant)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    rows.iter().map(|r| r.try_get::<String, _>("account_key").map_err(db)).collect()
}

async fn write_accounts(
    conn: &mut SqliteConnection,
    grant: &Grant,
    accounts: &[String],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM grant_accounts WHERE tenant_id = ? AND grant_id = ?")
        .bind(grant.tenant.as_str())
        .bind(grant.id.as_str())
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    for key in accounts {
        sqlx::query(
            "INSERT INTO grant_accounts (tenant_id, grant_id, platform, account_key) VALUES (?, ?, ?, ?)",
        )
        .bind(grant.tenant.as_str())
        .bind(grant.id.as_str())
        .bind(grant.platform.name())
        .bind(key)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    Ok(())
}

fn pairs(rows: &[SqliteRow]) -> Result<Vec<(TenantId, GrantId)>, StoreError> {
    rows.iter()
        .map(|row| {
            Ok((
                parse_id("tenant id", &row.try_get::<String, _>("tenant_id").map_err(db)?)?,
                parse_id("grant id", &row.try_get::<String, _>("grant_id").map_err(db)?)?,
            ))
        })
        .collect()
}

#[async_trait]
impl GrantStore for SqliteStore {
    async fn insert_grant(&self, grant: &Grant, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        let c = encode(grant)?;
        let mut tx = self.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO grants ({GRANT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(grant.tenant.as_str())
        .bind(grant.id.as_str())
        .bind(grant.platform.name())
        .bind(grant.state().name())
        .bind(&c.tasks)
        .bind(i64::from(grant.pii_enabled))
        .bind(&c.owner)
        .bind(&c.scopes)
        .bind(c.expires_at)
        .bind(c.data_access_expires_at)
        .bind(c.validated_at)
        .bind(&c.review)
        .bind(&c.revocation)
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(db_conflict(|| format!("grant `{}` exists", grant.id)))?;
        write_accounts(&mut tx, grant, &c.accounts).await?;
        self.append_in(&mut tx, &grant.tenant, audit).await?;
        tx.commit().await.map_err(db)
    }

    async fn grant(&self, tenant: &TenantId, id: &GrantId) -> Result<Grant, StoreError> {
        let mut conn = self.reader().begin().await.map_err(db)?;
        let row =
            sqlx::query(&format!("SELECT {GRANT_COLUMNS} FROM grants WHERE tenant_id = ? AND grant_id = ?"))
                .bind(tenant.as_str())
                .bind(id.as_str())
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?
                .ok_or(StoreError::NotFound)?;
        let accounts = accounts_of(&mut conn, tenant, id.as_str()).await?;
        decode(&row, accounts)
    }

    async fn grants(&self, tenant: &TenantId) -> Result<Vec<Grant>, StoreError> {
        let mut conn = self.reader().begin().await.map_err(db)?;
        let rows =
            sqlx::query(&format!("SELECT {GRANT_COLUMNS} FROM grants WHERE tenant_id = ? ORDER BY grant_id"))
                .bind(tenant.as_str())
                .fetch_all(&mut *conn)
                .await
                .map_err(db)?;
        let mut grants = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("grant_id").map_err(db)?;
            let accounts = accounts_of(&mut conn, tenant, &id).await?;
            grants.push(decode(row, accounts)?);
        }
        Ok(grants)
    }

    async fn save_grant(
        &self,
        grant: &Grant,
        expected_updated_at: OffsetDateTime,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        let c = encode(grant)?;
        let expected = nanos(expected_updated_at)?;
        let mut tx = self.begin().await?;
        let stored: Option<i64> =
            sqlx::query_scalar("SELECT updated_at FROM grants WHERE tenant_id = ? AND grant_id = ?")
                .bind(grant.tenant.as_str())
                .bind(grant.id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
        match stored {
            None => return Err(StoreError::NotFound),
            Some(stored) if stored != expected => {
                return Err(StoreError::Conflict(format!("grant `{}` changed since it was read", grant.id)));
            }
            Some(_) => {}
        }
        sqlx::query(
            "UPDATE grants SET platform = ?, state = ?, tasks = ?, pii_enabled = ?, owner = ?, scopes = ?, \
             expires_at = ?, data_access_expires_at = ?, validated_at = ?, review = ?, revocation = ?, \
             created_at = ?, updated_at = ? WHERE tenant_id = ? AND grant_id = ? AND updated_at = ?",
        )
        .bind(grant.platform.name())
        .bind(grant.state().name())
        .bind(&c.tasks)
        .bind(i64::from(grant.pii_enabled))
        .bind(&c.owner)
        .bind(&c.scopes)
        .bind(c.expires_at)
        .bind(c.data_access_expires_at)
        .bind(c.validated_at)
        .bind(&c.review)
        .bind(&c.revocation)
        .bind(c.created_at)
        .bind(c.updated_at)
        .bind(grant.tenant.as_str())
        .bind(grant.id.as_str())
        .bind(expected)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        write_accounts(&mut tx, grant, &c.accounts).await?;
        self.append_in(&mut tx, &grant.tenant, audit).await?;
        tx.commit().await.map_err(db)
    }

    async fn locate_by_account(
        &self,
        platform: Platform,
        account: &AccountRef,
    ) -> Result<Vec<(TenantId, GrantId)>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.tenant_id, a.grant_id FROM grant_accounts a \
             JOIN grants g ON g.tenant_id = a.tenant_id AND g.grant_id = a.grant_id \
             WHERE a.platform = ? AND a.account_key = ? AND g.platform = ? \
             ORDER BY a.tenant_id, a.grant_id",
        )
        .bind(platform.name())
        .bind(account.key())
        .bind(platform.name())
        .fetch_all(self.reader())
        .await
        .map_err(db)?;
        pairs(&rows)
    }

    async fn locate_by_owner(
        &self,
        platform: Platform,
        owner: &str,
    ) -> Result<Vec<(TenantId, GrantId)>, StoreError> {
        check_text("owner", owner, MAX_TEXT_BYTES)?;
        let rows = sqlx::query(
            "SELECT tenant_id, grant_id FROM grants WHERE platform = ? AND owner = ? \
             ORDER BY tenant_id, grant_id",
        )
        .bind(platform.name())
        .bind(owner)
        .fetch_all(self.reader())
        .await
        .map_err(db)?;
        pairs(&rows)
    }

    async fn stale_grants(
        &self,
        validated_before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<(TenantId, GrantId)>, StoreError> {
        // Bounds beyond the storable range clamp: nothing is validated outside it.
        let before = nanos(validated_before).unwrap_or(if validated_before.year() < 1970 {
            i64::MIN
        } else {
            i64::MAX
        });
        let rows = sqlx::query(
            "SELECT tenant_id, grant_id FROM grants WHERE state = 'active' AND validated_at < ? \
             ORDER BY validated_at, tenant_id, grant_id LIMIT ?",
        )
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await
        .map_err(db)?;
        pairs(&rows)
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
        window: Duration,
    ) -> Result<bool, StoreError> {
        flow_state::claim_signal(self, key, now, window).await
    }

    async fn release_signal(&self, key: &Hash) -> Result<(), StoreError> {
        flow_state::release_signal(self, key).await
    }
}
