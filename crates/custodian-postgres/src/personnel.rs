//! `PersonnelStore`: people, login material, sessions and API keys. These tables are global (no tenant);
//! their audit events go to the system chain ([`custodian_core::audit::SYSTEM_CHAIN`]), so their
//! transactions are scoped to it. Secrets are never stored: the password as its Argon2id PHC string, the
//! TOTP secret sealed, sessions and API keys by the SHA-256 digest of their secret (SEC-1).

use async_trait::async_trait;
use custodian_core::audit::{NewAuditEvent, system_tenant};
use custodian_core::personnel::password::PasswordHash;
use custodian_core::personnel::token::TokenHash;
use custodian_core::personnel::{ApiKey, ApiKeyId, Permission, Person, PersonId, Role};
use custodian_core::ports::{PersonCredential, PersonnelStore, SessionRecord, StoreError};
use time::OffsetDateTime;

use crate::check::{self, MAX_NAME_CHARS, parse};
use crate::error::{self, corrupt};
use crate::{PgStore, micros};

#[derive(sqlx::FromRow)]
struct PersonRow {
    person_id: String,
    display_name: String,
    roles: Vec<String>,
    tenants: Vec<String>,
    mfa_enrolled: bool,
    active: bool,
}

impl PersonRow {
    fn into_person(self) -> Result<Person, StoreError> {
        Ok(Person {
            id: parse("person id", &self.person_id)?,
            display_name: self.display_name,
            roles: self.roles.iter().map(|r| parse::<Role>("role", r)).collect::<Result<_, _>>()?,
            tenants: self.tenants.iter().map(|t| parse("tenant id", t)).collect::<Result<_, _>>()?,
            mfa_enrolled: self.mfa_enrolled,
            active: self.active,
        })
    }
}

#[derive(sqlx::FromRow)]
struct CredentialRow {
    person_id: String,
    password_phc: String,
    totp_sealed: Option<Vec<u8>>,
    totp_last_step: Option<i64>,
    failed_logins: i32,
    locked_until: Option<OffsetDateTime>,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    session_digest: Vec<u8>,
    person_id: String,
    created_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    mfa_verified_at: Option<OffsetDateTime>,
    revoked_at: Option<OffsetDateTime>,
}

fn session_record(row: SessionRow) -> Result<SessionRecord, StoreError> {
    let raw: [u8; 32] = row
        .session_digest
        .as_slice()
        .try_into()
        .map_err(|_| corrupt("stored session digest is not 32 bytes"))?;
    Ok(SessionRecord {
        token_hash: TokenHash::from_bytes(raw),
        person: parse("person id", &row.person_id)?,
        created_at: row.created_at,
        expires_at: row.expires_at,
        mfa_verified_at: row.mfa_verified_at,
        revoked_at: row.revoked_at,
    })
}

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    api_key_id: String,
    name: String,
    tenants: Vec<String>,
    permissions: Vec<String>,
    created_by: String,
    created_at: OffsetDateTime,
    expires_at: Option<OffsetDateTime>,
    revoked_at: Option<OffsetDateTime>,
}

impl ApiKeyRow {
    fn into_key(self) -> Result<ApiKey, StoreError> {
        Ok(ApiKey {
            id: parse("api key id", &self.api_key_id)?,
            name: self.name,
            tenants: self.tenants.iter().map(|t| parse("tenant id", t)).collect::<Result<_, _>>()?,
            permissions: self
                .permissions
                .iter()
                .map(|p| parse::<Permission>("permission", p))
                .collect::<Result<_, _>>()?,
            created_by: parse("person id", &self.created_by)?,
            created_at: self.created_at,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
        })
    }
}

fn digest(hash: &TokenHash) -> &[u8] {
    hash.as_bytes().as_slice()
}

fn person_columns(person: &Person) -> Result<(Vec<&'static str>, Vec<&str>), StoreError> {
    check::text("display name", &person.display_name, MAX_NAME_CHARS)?;
    Ok((
        person.roles.iter().map(|r| r.as_str()).collect(),
        person.tenants.iter().map(|t| t.as_str()).collect(),
    ))
}

struct CredentialValues<'a> {
    phc: &'a str,
    totp: Option<&'a [u8]>,
    last_step: Option<i64>,
    failed: i32,
    locked_until: Option<OffsetDateTime>,
}

fn credential_values(c: &PersonCredential) -> Result<CredentialValues<'_>, StoreError> {
    let phc = c.password_hash.as_phc();
    check::text_bytes("password hash", phc, 512)?;
    if c.totp_sealed.as_ref().is_some_and(|t| t.len() > 1024) {
        return Err(StoreError::Invalid("sealed totp secret is longer than 1024 bytes".to_owned()));
    }
    Ok(CredentialValues {
        phc,
        totp: c.totp_sealed.as_deref(),
        last_step: c.totp_last_step.map(|s| check::big("totp step", s)).transpose()?,
        failed: check::int("failed logins", c.failed_logins)?,
        locked_until: c.locked_until.map(micros),
    })
}

#[async_trait]
impl PersonnelStore for PgStore {
    async fn create_person(
        &self,
        person: &Person,
        credential: &PersonCredential,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        if credential.person != person.id {
            return Err(StoreError::Invalid("the credential belongs to another person".to_owned()));
        }
        let (roles, tenants) = person_columns(person)?;
        let c = credential_values(credential)?;
        let system = system_tenant();
        let mut tx = self.begin(system.as_str()).await?;
        sqlx::query(
            "INSERT INTO people (person_id, display_name, roles, tenants, mfa_enrolled, active)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(person.id.as_str())
        .bind(&person.display_name)
        .bind(&roles)
        .bind(&tenants)
        .bind(person.mfa_enrolled)
        .bind(person.active)
        .execute(&mut *tx)
        .await
        .map_err(|e| match error::store(e) {
            StoreError::Conflict(_) => StoreError::Conflict(format!("person `{}` exists", person.id)),
            other => other,
        })?;
        sqlx::query(
            "INSERT INTO person_credentials (person_id, password_phc, totp_sealed, totp_last_step, failed_logins,
                locked_until)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(person.id.as_str())
        .bind(c.phc)
        .bind(c.totp)
        .bind(c.last_step)
        .bind(c.failed)
        .bind(c.locked_until)
        .execute(&mut *tx)
        .await
        .map_err(error::store)?;
        self.append_in(&mut tx, &system, audit).await?;
        tx.commit().await.map_err(error::store)
    }

    async fn person(&self, id: &PersonId) -> Result<Person, StoreError> {
        let mut tx = self.begin("").await?;
        let row: Option<PersonRow> = sqlx::query_as(
            "SELECT person_id, display_name, roles, tenants, mfa_enrolled, active FROM people WHERE person_id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        row.ok_or(StoreError::NotFound)?.into_person()
    }

    async fn people(&self) -> Result<Vec<Person>, StoreError> {
        let mut tx = self.begin("").await?;
        let rows: Vec<PersonRow> = sqlx::query_as(
            "SELECT person_id, display_name, roles, tenants, mfa_enrolled, active FROM people ORDER BY person_id",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        rows.into_iter().map(PersonRow::into_person).collect()
    }

    async fn update_person(&self, person: &Person, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        let (roles, tenants) = person_columns(person)?;
        let system = system_tenant();
        let mut tx = self.begin(system.as_str()).await?;
        let n = sqlx::query(
            "UPDATE people SET display_name = $2, roles = $3, tenants = $4, mfa_enrolled = $5, active = $6
             WHERE person_id = $1",
        )
        .bind(person.id.as_str())
        .bind(&person.display_name)
        .bind(&roles)
        .bind(&tenants)
        .bind(person.mfa_enrolled)
        .bind(person.active)
        .execute(&mut *tx)
        .await
        .map_err(error::store)?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        self.append_in(&mut tx, &system, audit).await?;
        tx.commit().await.map_err(error::store)
    }

    async fn credential(&self, id: &PersonId) -> Result<PersonCredential, StoreError> {
        let mut tx = self.begin("").await?;
        let row: Option<CredentialRow> = sqlx::query_as(
            "SELECT person_id, password_phc, totp_sealed, totp_last_step, failed_logins, locked_until
             FROM person_credentials WHERE person_id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        let row = row.ok_or(StoreError::NotFound)?;
        Ok(PersonCredential {
            person: parse("person id", &row.person_id)?,
            password_hash: PasswordHash::from_phc(row.password_phc)
                .map_err(|_| corrupt("stored password hash is not a valid phc string"))?,
            totp_sealed: row.totp_sealed,
            totp_last_step: row.totp_last_step.map(|s| check::unsigned("totp step", s)).transpose()?,
            failed_logins: check::unsigned32("failed logins", row.failed_logins)?,
            locked_until: row.locked_until,
        })
    }

    async fn set_credential(
        &self,
        credential: &PersonCredential,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        let c = credential_values(credential)?;
        let system = system_tenant();
        let mut tx = self.begin(system.as_str()).await?;
        let n = sqlx::query(
            "UPDATE person_credentials SET password_phc = $2, totp_sealed = $3, totp_last_step = $4,
                failed_logins = $5, locked_until = $6
             WHERE person_id = $1",
        )
        .bind(credential.person.as_str())
        .bind(c.phc)
        .bind(c.totp)
        .bind(c.last_step)
        .bind(c.failed)
        .bind(c.locked_until)
        .execute(&mut *tx)
        .await
        .map_err(error::store)?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        self.append_in(&mut tx, &system, audit).await?;
        tx.commit().await.map_err(error::store)
    }

    async fn create_session(
        &self,
        session: &SessionRecord,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        let system = system_tenant();
        let mut tx = self.begin(system.as_str()).await?;
        sqlx::query(
            "INSERT INTO sessions (session_digest, person_id, created_at, expires_at, mfa_verified_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(digest(&session.token_hash))
        .bind(session.person.as_str())
        .bind(micros(session.created_at))
        .bind(micros(session.expires_at))
        .bind(session.mfa_verified_at.map(micros))
        .bind(session.revoked_at.map(micros))
        .execute(&mut *tx)
        .await
        .map_err(|e| match error::store(e) {
            StoreError::Conflict(_) => StoreError::Conflict("a session with this token exists".to_owned()),
            other => other,
        })?;
        self.append_in(&mut tx, &system, audit).await?;
        tx.commit().await.map_err(error::store)
    }

    async fn session(&self, token_hash: &TokenHash) -> Result<SessionRecord, StoreError> {
        let mut tx = self.begin("").await?;
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT session_digest, person_id, created_at, expires_at, mfa_verified_at, revoked_at
             FROM sessions WHERE session_digest = $1",
        )
        .bind(digest(token_hash))
        .fetch_optional(&mut *tx)
        .await
        .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        session_record(row.ok_or(StoreError::NotFound)?)
    }

    async fn set_session_mfa(&self, token_hash: &TokenHash, at: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.begin("").await?;
        let n = sqlx::query("UPDATE sessions SET mfa_verified_at = $2 WHERE session_digest = $1")
            .bind(digest(token_hash))
            .bind(micros(at))
            .execute(&mut *tx)
            .await
            .map_err(error::store)?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(error::store)
    }

    async fn revoke_session(
        &self,
        token_hash: &TokenHash,
        at: OffsetDateTime,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        let system = system_tenant();
        let mut tx = self.begin(system.as_str()).await?;
        let n = sqlx::query(
            "UPDATE sessions SET revoked_at = COALESCE(revoked_at, $2) WHERE session_digest = $1",
        )
        .bind(digest(token_hash))
        .bind(micros(at))
        .execute(&mut *tx)
        .await
        .map_err(error::store)?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        self.append_in(&mut tx, &system, audit).await?;
        tx.commit().await.map_err(error::store)
    }

    async fn live_sessions(
        &self,
        person: &PersonId,
        now: OffsetDateTime,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let mut tx = self.begin("").await?;
        let rows: Vec<SessionRow> = sqlx::query_as(
            "SELECT session_digest, person_id, created_at, expires_at, mfa_verified_at, revoked_at
             FROM sessions WHERE person_id = $1 AND revoked_at IS NULL AND expires_at > $2
             ORDER BY created_at DESC, session_digest",
        )
        .bind(person.as_str())
        .bind(micros(now))
        .fetch_all(&mut *tx)
        .await
        .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        rows.into_iter().map(session_record).collect()
    }

    async fn revoke_sessions_of(
        &self,
        person: &PersonId,
        at: OffsetDateTime,
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError> {
        let system = system_tenant();
        let mut tx = self.begin(system.as_str()).await?;
        let n = sqlx::query(
            "UPDATE sessions SET revoked_at = $2
             WHERE person_id = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(person.as_str())
        .bind(micros(at))
        .execute(&mut *tx)
        .await
        .map_err(error::store)?
        .rows_affected();
        self.append_in(&mut tx, &system, audit).await?;
        tx.commit().await.map_err(error::store)?;
        Ok(n)
    }

    async fn create_api_key(
        &self,
        key: &ApiKey,
        secret_hash: &TokenHash,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        check::text("api key name", &key.name, MAX_NAME_CHARS)?;
        let tenants: Vec<&str> = key.tenants.iter().map(|t| t.as_str()).collect();
        let permissions: Vec<&str> = key.permissions.iter().map(|p| p.as_str()).collect();
        let system = system_tenant();
        let mut tx = self.begin(system.as_str()).await?;
        sqlx::query(
            "INSERT INTO api_keys (api_key_id, key_digest, name, tenants, permissions, created_by, created_at,
                expires_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(key.id.as_str())
        .bind(digest(secret_hash))
        .bind(&key.name)
        .bind(&tenants)
        .bind(&permissions)
        .bind(key.created_by.as_str())
        .bind(micros(key.created_at))
        .bind(key.expires_at.map(micros))
        .bind(key.revoked_at.map(micros))
        .execute(&mut *tx)
        .await
        .map_err(|e| match error::store(e) {
            StoreError::Conflict(_) => StoreError::Conflict(format!("api key `{}` exists", key.id)),
            other => other,
        })?;
        self.append_in(&mut tx, &system, audit).await?;
        tx.commit().await.map_err(error::store)
    }

    async fn api_key_by_hash(&self, secret_hash: &TokenHash) -> Result<ApiKey, StoreError> {
        let mut tx = self.begin("").await?;
        let row: Option<ApiKeyRow> = sqlx::query_as(
            "SELECT api_key_id, name, tenants, permissions, created_by, created_at, expires_at, revoked_at
             FROM api_keys WHERE key_digest = $1",
        )
        .bind(digest(secret_hash))
        .fetch_optional(&mut *tx)
        .await
        .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        row.ok_or(StoreError::NotFound)?.into_key()
    }

    async fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        let mut tx = self.begin("").await?;
        let rows: Vec<ApiKeyRow> = sqlx::query_as(
            "SELECT api_key_id, name, tenants, permissions, created_by, created_at, expires_at, revoked_at
             FROM api_keys ORDER BY api_key_id",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(error::store)?;
        tx.commit().await.map_err(error::store)?;
        rows.into_iter().map(ApiKeyRow::into_key).collect()
    }

    async fn revoke_api_key(
        &self,
        id: &ApiKeyId,
        at: OffsetDateTime,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        let system = system_tenant();
        let mut tx = self.begin(system.as_str()).await?;
        let n =
            sqlx::query("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE api_key_id = $1")
                .bind(id.as_str())
                .bind(micros(at))
                .execute(&mut *tx)
                .await
                .map_err(error::store)?
                .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        self.append_in(&mut tx, &system, audit).await?;
        tx.commit().await.map_err(error::store)
    }
}
