//! The flow state of `GrantStore` (`pending_consents`, `seen_signals`, migration 0003): OAuth consents
//! awaiting their callback and claimed platform signals, shared by every process on the database. Global
//! tables, not audited (the server audits the outcomes). Every write is one `BEGIN IMMEDIATE` transaction
//! on the single writer, so SQLite's write lock serializes them across processes: a take (`DELETE …
//! RETURNING`) and a claim (`INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING`) happen exactly once.

use custodian_core::audit::Hash;
use custodian_core::personnel::token::TokenHash;
use custodian_core::ports::{
    ConsentInitiator, MAX_REDIRECT_URI_BYTES, PendingConsent, StoreError, replay_window_end,
};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use time::{Duration, OffsetDateTime};

use crate::SqliteStore;
use crate::codec::{Named, at, check_text, named, nanos, parse_id};
use crate::error::{corrupt, db, db_conflict};

/// A stored 32-byte hash.
fn hash32(what: &'static str, bytes: &[u8]) -> Result<[u8; 32], StoreError> {
    bytes.try_into().map_err(|_| corrupt(what, "not 32 bytes"))
}

/// `GrantStore::pending_consents`.
pub(crate) async fn pending_consents(store: &SqliteStore, now: OffsetDateTime) -> Result<usize, StoreError> {
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM pending_consents WHERE expires_at > ?")
        .bind(nanos(now)?)
        .fetch_one(store.reader())
        .await
        .map_err(db)?;
    Ok(usize::try_from(pending).unwrap_or(usize::MAX))
}

/// `GrantStore::put_consent`.
pub(crate) async fn put_consent(
    store: &SqliteStore,
    consent: &PendingConsent,
    max_pending: usize,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    check_text("redirect uri", &consent.redirect_uri, MAX_REDIRECT_URI_BYTES)?;
    let now = nanos(now)?;
    let expires_at = nanos(consent.expires_at)?;
    let (session, api_key) = match &consent.initiator {
        ConsentInitiator::Session(hash) => (Some(hash.as_bytes().to_vec()), None),
        ConsentInitiator::ApiKey(id) => (None, Some(id.as_str())),
    };
    let mut tx = store.begin().await?;
    sqlx::query("DELETE FROM pending_consents WHERE expires_at <= ?")
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let pending: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pending_consents").fetch_one(&mut *tx).await.map_err(db)?;
    if usize::try_from(pending).unwrap_or(usize::MAX) >= max_pending {
        // The expired ones stay dropped.
        tx.commit().await.map_err(db)?;
        return Err(StoreError::Conflict("too many consents are pending".to_owned()));
    }
    sqlx::query(
        "INSERT INTO pending_consents (state_hash, platform, tenant, grant_id, initiator_session, \
         initiator_api_key, redirect_uri, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(consent.state_hash.0.as_slice())
    .bind(consent.platform.name())
    .bind(consent.tenant.as_str())
    .bind(consent.grant.as_str())
    .bind(session)
    .bind(api_key)
    .bind(&consent.redirect_uri)
    .bind(expires_at)
    .execute(&mut *tx)
    .await
    .map_err(db_conflict(|| "a consent with the same state is pending".to_owned()))?;
    tx.commit().await.map_err(db)
}

fn decode_consent(state_hash: &Hash, row: &SqliteRow) -> Result<PendingConsent, StoreError> {
    let session: Option<Vec<u8>> = row.try_get("initiator_session").map_err(db)?;
    let api_key: Option<String> = row.try_get("initiator_api_key").map_err(db)?;
    let initiator = match (session, api_key) {
        (Some(hash), None) => {
            ConsentInitiator::Session(TokenHash::from_bytes(hash32("consent initiator", &hash)?))
        }
        (None, Some(id)) => ConsentInitiator::ApiKey(parse_id("api key id", &id)?),
        _ => return Err(corrupt("consent initiator", "not exactly one of session and api key")),
    };
    Ok(PendingConsent {
        state_hash: *state_hash,
        platform: named(&row.try_get::<String, _>("platform").map_err(db)?)?,
        tenant: parse_id("tenant id", &row.try_get::<String, _>("tenant").map_err(db)?)?,
        grant: parse_id("grant id", &row.try_get::<String, _>("grant_id").map_err(db)?)?,
        initiator,
        redirect_uri: row.try_get("redirect_uri").map_err(db)?,
        expires_at: at(row.try_get("expires_at").map_err(db)?)?,
    })
}

/// `GrantStore::take_consent`: one `DELETE … RETURNING`, so a consent is taken once.
pub(crate) async fn take_consent(
    store: &SqliteStore,
    state_hash: &Hash,
    now: OffsetDateTime,
) -> Result<Option<PendingConsent>, StoreError> {
    let mut tx = store.begin().await?;
    let row = sqlx::query(
        "DELETE FROM pending_consents WHERE state_hash = ? RETURNING platform, tenant, grant_id, \
         initiator_session, initiator_api_key, redirect_uri, expires_at",
    )
    .bind(state_hash.0.as_slice())
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let Some(row) = row else { return Ok(None) };
    let consent = decode_consent(state_hash, &row)?;
    Ok((consent.expires_at > now).then_some(consent))
}

/// `GrantStore::claim_signal`: drops ended claims, then claims the key unless its claim is running.
pub(crate) async fn claim_signal(
    store: &SqliteStore,
    key: &Hash,
    now: OffsetDateTime,
    window: Duration,
) -> Result<bool, StoreError> {
    let ends_at = nanos(replay_window_end(now, window)?)?;
    let now = nanos(now)?;
    let mut tx = store.begin().await?;
    sqlx::query("DELETE FROM seen_signals WHERE ends_at <= ?")
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let claimed = sqlx::query(
        "INSERT INTO seen_signals (signal_hash, claimed_at, ends_at) VALUES (?, ?, ?) \
         ON CONFLICT (signal_hash) DO UPDATE SET claimed_at = excluded.claimed_at, ends_at = excluded.ends_at \
         WHERE seen_signals.ends_at <= excluded.claimed_at RETURNING signal_hash",
    )
    .bind(key.0.as_slice())
    .bind(now)
    .bind(ends_at)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(claimed.is_some())
}

/// `GrantStore::release_signal`.
pub(crate) async fn release_signal(store: &SqliteStore, key: &Hash) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    sqlx::query("DELETE FROM seen_signals WHERE signal_hash = ?")
        .bind(key.0.as_slice())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)
}
