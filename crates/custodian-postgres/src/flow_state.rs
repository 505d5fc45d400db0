//! The flow state of `GrantStore` (`pending_consents`, `seen_signals`, migration 0004): OAuth consents
//! awaiting their callback and claimed platform signals, shared by every process on the database. Global
//! tables like `sessions` (transactions begin with no tenant, no row-level security applies), not audited
//! (the server audits the outcomes). Times are stored floored to the microsecond, like every `timestamptz`.
//!
//! Atomicity across processes:
//! - a take is one `DELETE … RETURNING`: of concurrent takes, the first deletes the row and the others,
//!   waiting on its row lock, find it gone;
//! - a claim is one `INSERT … ON CONFLICT DO UPDATE … WHERE the claim ended … RETURNING`: of concurrent
//!   claims, one inserts (or renews) and the others see its row and change nothing;
//! - puts are serialized by a transaction-level advisory lock, so the cap on pending consents is exact.
//!
//! No statement waits on more than one row held by another transaction: the dropping of ended claims runs
//! after the claim and skips locked rows, so claims cannot deadlock.

use custodian_core::audit::Hash;
use custodian_core::personnel::token::TokenHash;
use custodian_core::ports::{
    ConsentInitiator, MAX_REDIRECT_URI_BYTES, PendingConsent, StoreError, replay_window_end,
};
use time::{Duration, OffsetDateTime};

use crate::check::{self, parse};
use crate::error::{self, corrupt};
use crate::{PgStore, micros};

/// The advisory lock key that serializes `put_consent` (an arbitrary constant of this crate: `0x63757374`,
/// "cust").
const CONSENT_LOCK: i64 = 0x6375_7374;

/// At most this many ended claims are dropped by one claim (the table stays bounded as claims keep coming).
const PRUNE_BATCH: i64 = 1000;

#[derive(sqlx::FromRow)]
struct ConsentRow {
    platform: String,
    tenant: String,
    grant_id: String,
    initiator_session: Option<Vec<u8>>,
    initiator_api_key: Option<String>,
    redirect_uri: String,
    expires_at: OffsetDateTime,
}

impl ConsentRow {
    fn into_consent(self, state_hash: &Hash) -> Result<PendingConsent, StoreError> {
        let initiator = match (self.initiator_session, self.initiator_api_key) {
            (Some(hash), None) => {
                let bytes: [u8; 32] = hash
                    .as_slice()
                    .try_into()
                    .map_err(|_| corrupt("stored consent initiator is not 32 bytes"))?;
                ConsentInitiator::Session(TokenHash::from_bytes(bytes))
            }
            (None, Some(id)) => ConsentInitiator::ApiKey(parse("api key id", &id)?),
            _ => return Err(corrupt("stored consent initiator is not exactly one of session and api key")),
        };
        Ok(PendingConsent {
            state_hash: *state_hash,
            platform: parse("platform", &self.platform)?,
            tenant: parse("tenant id", &self.tenant)?,
            grant: parse("grant id", &self.grant_id)?,
            initiator,
            redirect_uri: self.redirect_uri,
            expires_at: self.expires_at,
        })
    }
}

/// `GrantStore::pending_consents`.
pub(crate) async fn pending_consents(store: &PgStore, now: OffsetDateTime) -> Result<usize, StoreError> {
    let mut tx = store.begin("").await?;
    let (pending,): (i64,) = sqlx::query_as("SELECT count(*) FROM pending_consents WHERE expires_at > $1")
        .bind(micros(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(error::store)?;
    tx.commit().await.map_err(error::store)?;
    Ok(usize::try_from(pending).unwrap_or(usize::MAX))
}

/// `GrantStore::put_consent`.
pub(crate) async fn put_consent(
    store: &PgStore,
    consent: &PendingConsent,
    max_pending: usize,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    check::text_bytes("redirect uri", &consent.redirect_uri, MAX_REDIRECT_URI_BYTES)?;
    let now = micros(now);
    let (session, api_key) = match &consent.initiator {
        ConsentInitiator::Session(hash) => (Some(hash.as_bytes().as_slice()), None),
        ConsentInitiator::ApiKey(id) => (None, Some(id.as_str())),
    };
    let mut tx = store.begin("").await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CONSENT_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(error::store)?;
    sqlx::query("DELETE FROM pending_consents WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(error::store)?;
    let (pending,): (i64,) = sqlx::query_as("SELECT count(*) FROM pending_consents")
        .fetch_one(&mut *tx)
        .await
        .map_err(error::store)?;
    if usize::try_from(pending).unwrap_or(usize::MAX) >= max_pending {
        // The expired ones stay dropped.
        tx.commit().await.map_err(error::store)?;
        return Err(StoreError::Conflict("too many consents are pending".to_owned()));
    }
    sqlx::query(
        "INSERT INTO pending_consents (state_digest, platform, tenant, grant_id, initiator_session,
            initiator_api_key, redirect_uri, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(consent.state_hash.0.as_slice())
    .bind(consent.platform.as_str())
    .bind(consent.tenant.as_str())
    .bind(consent.grant.as_str())
    .bind(session)
    .bind(api_key)
    .bind(&consent.redirect_uri)
    .bind(micros(consent.expires_at))
    .execute(&mut *tx)
    .await
    .map_err(|e| match error::store(e) {
        StoreError::Conflict(_) => {
            StoreError::Conflict("a consent with the same state is pending".to_owned())
        }
        other => other,
    })?;
    tx.commit().await.map_err(error::store)
}

/// `GrantStore::take_consent`: one `DELETE … RETURNING`, so a consent is taken once.
pub(crate) async fn take_consent(
    store: &PgStore,
    state_hash: &Hash,
    now: OffsetDateTime,
) -> Result<Option<PendingConsent>, StoreError> {
    let mut tx = store.begin("").await?;
    let row: Option<ConsentRow> = sqlx::query_as(
        "DELETE FROM pending_consents WHERE state_digest = $1
         RETURNING platform, tenant, grant_id, initiator_session, initiator_api_key, redirect_uri, expires_at",
    )
    .bind(state_hash.0.as_slice())
    .fetch_optional(&mut *tx)
    .await
    .map_err(error::store)?;
    tx.commit().await.map_err(error::store)?;
    let Some(row) = row else { return Ok(None) };
    let consent = row.into_consent(state_hash)?;
    Ok((consent.expires_at > now).then_some(consent))
}

/// `GrantStore::claim_signal`: claims the key unless its claim is running, then drops a batch of ended
/// claims that no other transaction holds.
pub(crate) async fn claim_signal(
    store: &PgStore,
    key: &Hash,
    now: OffsetDateTime,
    window: Duration,
) -> Result<bool, StoreError> {
    let ends_at = replay_window_end(now, window)?;
    let now = micros(now);
    let mut tx = store.begin("").await?;
    let claimed: Option<(Vec<u8>,)> = sqlx::query_as(
        "INSERT INTO seen_signals (signal_digest, claimed_at, ends_at) VALUES ($1, $2, $3)
         ON CONFLICT (signal_digest) DO UPDATE SET claimed_at = EXCLUDED.claimed_at, ends_at = EXCLUDED.ends_at
         WHERE seen_signals.ends_at <= EXCLUDED.claimed_at
         RETURNING signal_digest",
    )
    .bind(key.0.as_slice())
    .bind(now)
    .bind(micros(ends_at))
    .fetch_optional(&mut *tx)
    .await
    .map_err(error::store)?;
    sqlx::query(
        "DELETE FROM seen_signals WHERE signal_digest IN (
             SELECT signal_digest FROM seen_signals WHERE ends_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind(now)
    .bind(PRUNE_BATCH)
    .execute(&mut *tx)
    .await
    .map_err(error::store)?;
    tx.commit().await.map_err(error::store)?;
    Ok(claimed.is_some())
}

/// `GrantStore::release_signal`.
pub(crate) async fn release_signal(store: &PgStore, key: &Hash) -> Result<(), StoreError> {
    let mut tx = store.begin("").await?;
    sqlx::query("DELETE FROM seen_signals WHERE signal_digest = $1")
        .bind(key.0.as_slice())
        .execute(&mut *tx)
        .await
        .map_err(error::store)?;
    tx.commit().await.map_err(error::store)
}
