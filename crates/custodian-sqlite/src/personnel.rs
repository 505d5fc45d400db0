//! `PersonnelStore`: people, their login material (Argon2id hash, sealed TOTP seed), sessions and API keys
//! by the hash of their secret (ACC-1..4, SEC-1). Global records: audited on the system chain.

use async_trait::async_trait;
use custodian_core::audit::{NewAuditEvent, system_tenant};
use custodian_core::personnel::password::PasswordHash;
use custodian_core::personnel::token::TokenHash;
use custodian_core::personnel::{ApiKey, ApiKeyId, Person, PersonId};
use custodian_core::ports::{PersonCredential, PersonnelStore, SessionRecord, StoreError};
use sqlx::{Row, SqliteConnection};
use time::OffsetDateTime;

use crate::SqliteStore;
use crate::codec::{MAX_TEXT_BYTES, at, check_text, flag, int, nanos, opt_at, opt_nanos, parse_id, uint};
use crate::error::{corrupt, db, db_conflict};
use crate::read::{Arg, Columns, Size};
use crate::wire::{ids_json, ids_set, names_json, names_set};

fn person_row(row: &dyn Columns) -> Result<Person, StoreError> {
    Ok(Person {
        id: parse_id("person id", &row.text("person_id")?)?,
        display_name: row.text("display_name")?,
        roles: names_set("roles", &row.text("roles")?)?,
        tenants: ids_set("tenant id", &row.text("tenants")?)?,
        mfa_enrolled: flag("mfa_enrolled", row.int("mfa_enrolled")?)?,
        active: flag("active", row.int("active")?)?,
    })
}

fn session_row(row: &dyn Columns) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        token_hash: token_hash(&row.blob("session_hash")?)?,
        person: parse_id("person id", &row.text("person_id")?)?,
        created_at: at(row.int("created_at")?)?,
        expires_at: at(row.int("expires_at")?)?,
        mfa_verified_at: opt_at(row.opt_int("mfa_verified_at")?)?,
        revoked_at: opt_at(row.opt_int("revoked_at")?)?,
    })
}

fn api_key_row(row: &dyn Columns) -> Result<ApiKey, StoreError> {
    Ok(ApiKey {
        id: parse_id("api key id", &row.text("api_key_id")?)?,
        name: row.text("name")?,
        tenants: ids_set("tenant id", &row.text("tenants")?)?,
        permissions: names_set("permissions", &row.text("permissions")?)?,
        created_by: parse_id("person id", &row.text("created_by")?)?,
        created_at: at(row.int("created_at")?)?,
        expires_at: opt_at(row.opt_int("expires_at")?)?,
        revoked_at: opt_at(row.opt_int("revoked_at")?)?,
    })
}

fn token_hash(bytes: &[u8]) -> Result<TokenHash, StoreError> {
    let raw: [u8; 32] = bytes.try_into().map_err(|_| corrupt("secret hash", "not 32 bytes"))?;
    Ok(TokenHash::from_bytes(raw))
}

fn check_person(person: &Person) -> Result<(), StoreError> {
    check_text("display name", &person.display_name, MAX_TEXT_BYTES)
}

async fn write_credential(
    conn: &mut SqliteConnection,
    credential: &PersonCredential,
    now: i64,
) -> Result<u64, StoreError> {
    let phc = credential.password_hash.as_phc();
    check_text("password hash", phc, MAX_TEXT_BYTES)?;
    if credential.totp_sealed.as_ref().is_some_and(|t| t.len() > MAX_TEXT_BYTES) {
        return Err(crate::codec::invalid("sealed totp secret is too long"));
    }
    let last_step = credential.totp_last_step.map(|s| int("totp step", s)).transpose()?;
    let done = sqlx::query(
        "INSERT INTO person_credentials (person_id, password_phc, totp_sealed, totp_last_step, failed_logins, \
         locked_until, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (person_id) DO UPDATE SET \
         password_phc = excluded.password_phc, totp_sealed = excluded.totp_sealed, \
         totp_last_step = excluded.totp_last_step, failed_logins = excluded.failed_logins, \
         locked_until = excluded.locked_until, updated_at = excluded.updated_at",
    )
    .bind(credential.person.as_str())
    .bind(phc)
    .bind(credential.totp_sealed.as_deref())
    .bind(last_step)
    .bind(i64::from(credential.failed_logins))
    .bind(opt_nanos(credential.locked_until)?)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(done.rows_affected())
}

#[async_trait]
impl PersonnelStore for SqliteStore {
    async fn create_person(
        &self,
        person: &Person,
        credential: &PersonCredential,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        check_person(person)?;
        if credential.person != person.id {
            return Err(crate::codec::invalid("the login material belongs to another person"));
        }
        let roles = names_json(person.roles.iter().copied())?;
        let tenants = ids_json(person.tenants.iter().map(|t| t.as_str()))?;
        let mut tx = self.begin().await?;
        let now = nanos(self.now())?;
        sqlx::query(
            "INSERT INTO people (person_id, display_name, roles, tenants, mfa_enrolled, active, created_at, \
             updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(person.id.as_str())
        .bind(&person.display_name)
        .bind(&roles)
        .bind(&tenants)
        .bind(i64::from(person.mfa_enrolled))
        .bind(i64::from(person.active))
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_conflict(|| format!("person `{}` exists", person.id)))?;
        write_credential(&mut tx, credential, now).await?;
        self.append_in(&mut tx, &system_tenant(), audit).await?;
        tx.commit().await.map_err(db)
    }

    async fn person(&self, id: &PersonId) -> Result<Person, StoreError> {
        self.read_opt(
            "SELECT person_id, display_name, roles, tenants, mfa_enrolled, active FROM people WHERE person_id = ?",
            vec![Arg::from(id.as_str())],
            person_row,
        )
        .await?
        .ok_or(StoreError::NotFound)
    }

    async fn people(&self) -> Result<Vec<Person>, StoreError> {
        let rows = sqlx::query(
            "SELECT person_id, display_name, roles, tenants, mfa_enrolled, active FROM people ORDER BY person_id",
        )
        .fetch_all(self.reader())
        .await
        .map_err(db)?;
        rows.iter().map(|row| person_row(row)).collect()
    }

    async fn update_person(&self, person: &Person, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        check_person(person)?;
        let roles = names_json(person.roles.iter().copied())?;
        let tenants = ids_json(person.tenants.iter().map(|t| t.as_str()))?;
        let mut tx = self.begin().await?;
        let now = nanos(self.now())?;
        let done = sqlx::query(
            "UPDATE people SET display_name = ?, roles = ?, tenants = ?, mfa_enrolled = ?, active = ?, \
             updated_at = ? WHERE person_id = ?",
        )
        .bind(&person.display_name)
        .bind(&roles)
        .bind(&tenants)
        .bind(i64::from(person.mfa_enrolled))
        .bind(i64::from(person.active))
        .bind(now)
        .bind(person.id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.append_in(&mut tx, &system_tenant(), audit).await?;
        tx.commit().await.map_err(db)
    }

    async fn credential(&self, id: &PersonId) -> Result<PersonCredential, StoreError> {
        let row = sqlx::query(
            "SELECT password_phc, totp_sealed, totp_last_step, failed_logins, locked_until \
             FROM person_credentials WHERE person_id = ?",
        )
        .bind(id.as_str())
        .fetch_optional(self.reader())
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)?;
        let phc: String = row.try_get("password_phc").map_err(db)?;
        let last_step: Option<i64> = row.try_get("totp_last_step").map_err(db)?;
        Ok(PersonCredential {
            person: id.clone(),
            password_hash: PasswordHash::from_phc(phc).map_err(|e| corrupt("password hash", e))?,
            totp_sealed: row.try_get("totp_sealed").map_err(db)?,
            totp_last_step: last_step.map(|s| uint("totp step", s)).transpose()?,
            failed_logins: uint("failed logins", row.try_get("failed_logins").map_err(db)?)?,
            locked_until: opt_at(row.try_get("locked_until").map_err(db)?)?,
        })
    }

    async fn set_credential(
        &self,
        credential: &PersonCredential,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let now = nanos(self.now())?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM people WHERE person_id = ?")
            .bind(credential.person.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        write_credential(&mut tx, credential, now).await?;
        self.append_in(&mut tx, &system_tenant(), audit).await?;
        tx.commit().await.map_err(db)
    }

    async fn create_session(
        &self,
        session: &SessionRecord,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (session_hash, person_id, created_at, expires_at, mfa_verified_at, revoked_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(session.token_hash.as_bytes().as_slice())
        .bind(session.person.as_str())
        .bind(nanos(session.created_at)?)
        .bind(nanos(session.expires_at)?)
        .bind(opt_nanos(session.mfa_verified_at)?)
        .bind(opt_nanos(session.revoked_at)?)
        .execute(&mut *tx)
        .await
        .map_err(db_conflict(|| "a session with this hash exists".to_owned()))?;
        self.append_in(&mut tx, &system_tenant(), audit).await?;
        tx.commit().await.map_err(db)
    }

    async fn session(&self, token_hash: &TokenHash) -> Result<SessionRecord, StoreError> {
        self.read_opt(
            "SELECT session_hash, person_id, created_at, expires_at, mfa_verified_at, revoked_at \
             FROM sessions WHERE session_hash = ?",
            vec![Arg::Blob(token_hash.as_bytes().to_vec())],
            session_row,
        )
        .await?
        .ok_or(StoreError::NotFound)
    }

    async fn set_session_mfa(&self, token_hash: &TokenHash, at: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE sessions SET mfa_verified_at = ? WHERE session_hash = ?")
            .bind(nanos(at)?)
            .bind(token_hash.as_bytes().as_slice())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(db)
    }

    async fn revoke_session(
        &self,
        token_hash: &TokenHash,
        at: OffsetDateTime,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE sessions SET revoked_at = ? WHERE session_hash = ?")
            .bind(nanos(at)?)
            .bind(token_hash.as_bytes().as_slice())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.append_in(&mut tx, &system_tenant(), audit).await?;
        tx.commit().await.map_err(db)
    }

    async fn live_sessions(
        &self,
        person: &PersonId,
        now: OffsetDateTime,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        // `sessions_by_person` finds them; a person's live sessions are as many as their logins in one
        // session lifetime, so the read may be larger than a handful (blocking pool).
        self.read_all(
            "SELECT session_hash, person_id, created_at, expires_at, mfa_verified_at, revoked_at \
             FROM sessions WHERE person_id = ? AND revoked_at IS NULL AND expires_at > ? \
             ORDER BY created_at DESC, session_hash",
            vec![Arg::from(person.as_str()), Arg::Int(nanos(now)?)],
            Size::AtMost(u32::MAX),
            session_row,
        )
        .await
    }

    async fn revoke_sessions_of(
        &self,
        person: &PersonId,
        at: OffsetDateTime,
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError> {
        let at = nanos(at)?;
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = ? WHERE person_id = ? AND revoked_at IS NULL AND expires_at > ?",
        )
        .bind(at)
        .bind(person.as_str())
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        self.append_in(&mut tx, &system_tenant(), audit).await?;
        tx.commit().await.map_err(db)?;
        Ok(done.rows_affected())
    }

    async fn create_api_key(
        &self,
        key: &ApiKey,
        secret_hash: &TokenHash,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        check_text("api key name", &key.name, MAX_TEXT_BYTES)?;
        let tenants = ids_json(key.tenants.iter().map(|t| t.as_str()))?;
        let permissions = names_json(key.permissions.iter().copied())?;
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO api_keys (api_key_id, key_hash, name, tenants, permissions, created_by, created_at, \
             expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(key.id.as_str())
        .bind(secret_hash.as_bytes().as_slice())
        .bind(&key.name)
        .bind(&tenants)
        .bind(&permissions)
        .bind(key.created_by.as_str())
        .bind(nanos(key.created_at)?)
        .bind(opt_nanos(key.expires_at)?)
        .bind(opt_nanos(key.revoked_at)?)
        .execute(&mut *tx)
        .await
        .map_err(db_conflict(|| format!("api key `{}` or its secret hash exists", key.id)))?;
        self.append_in(&mut tx, &system_tenant(), audit).await?;
        tx.commit().await.map_err(db)
    }

    async fn api_key_by_hash(&self, secret_hash: &TokenHash) -> Result<ApiKey, StoreError> {
        self.read_opt(
            "SELECT api_key_id, name, tenants, permissions, created_by, created_at, expires_at, revoked_at \
             FROM api_keys WHERE key_hash = ?",
            vec![Arg::Blob(secret_hash.as_bytes().to_vec())],
            api_key_row,
        )
        .await?
        .ok_or(StoreError::NotFound)
    }

    async fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT api_key_id, name, tenants, permissions, created_by, created_at, expires_at, revoked_at \
             FROM api_keys ORDER BY api_key_id",
        )
        .fetch_all(self.reader())
        .await
        .map_err(db)?;
        rows.iter().map(|row| api_key_row(row)).collect()
    }

    async fn revoke_api_key(
        &self,
        id: &ApiKeyId,
        at: OffsetDateTime,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE api_key_id = ?")
            .bind(nanos(at)?)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.append_in(&mut tx, &system_tenant(), audit).await?;
        tx.commit().await.map_err(db)
    }
}
