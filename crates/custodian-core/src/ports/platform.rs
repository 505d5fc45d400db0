//! Platform ports: authorization, reporting, campaign control, commerce and signal verification.

use std::collections::BTreeSet;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use time::{Date, Duration, OffsetDateTime};

use super::{BoxError, Rng};
use crate::approval::{CampaignReadback, ChangeDiff};
use crate::data::{
    Campaign, CampaignId, DataKey, LocationId, Order, ReportLevel, ReportRow, Sku, StockLevel,
};
use crate::grant::{GrantEvidence, GrantId, OwnerId};
use crate::platform::{AccountRef, Platform, Scope, Task};
use crate::tenant::TenantId;

/// Tokens for one grant (SEC-1: restricted secrets). Lives in the secret store only; `Debug` redacts.
#[derive(Clone)]
pub struct Credentials {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub access_expires_at: Option<OffsetDateTime>,
    pub refresh_expires_at: Option<OffsetDateTime>,
    /// Scopes the platform reported at exchange (TikTok returns them only here).
    pub scopes: BTreeSet<Scope>,
    /// Accounts reported at exchange (TikTok `advertiser_ids`, Amazon `selling_partner_id`), if any.
    pub accounts: BTreeSet<AccountRef>,
}

impl Credentials {
    /// Credentials with only an access token.
    pub fn bearer(access_token: SecretString) -> Self {
        Self {
            access_token,
            refresh_token: None,
            access_expires_at: None,
            refresh_expires_at: None,
            scopes: BTreeSet::new(),
            accounts: BTreeSet::new(),
        }
    }

    /// Whether the access token must be refreshed before use at `now` (with a safety margin).
    pub fn access_needs_refresh(&self, now: OffsetDateTime, margin: Duration) -> bool {
        self.access_expires_at.is_some_and(|t| t - margin <= now)
    }

    /// Whether `other` holds the same token values (for tests and change detection, constant in content).
    pub fn same_tokens(&self, other: &Credentials) -> bool {
        use subtle::ConstantTimeEq;
        let a = self.access_token.expose_secret().as_bytes();
        let b = other.access_token.expose_secret().as_bytes();
        let refresh_eq = match (&self.refresh_token, &other.refresh_token) {
            (None, None) => true,
            (Some(x), Some(y)) => {
                bool::from(x.expose_secret().as_bytes().ct_eq(y.expose_secret().as_bytes()))
            }
            _ => false,
        };
        bool::from(a.ct_eq(b)) && refresh_eq
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_token", &"[REDACTED]")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "[REDACTED]"))
            .field("access_expires_at", &self.access_expires_at)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// A request for a consent URL (AUTH-4: only the enabled tasks' scopes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRequest {
    pub tenant: TenantId,
    pub grant: GrantId,
    pub tasks: BTreeSet<Task>,
    pub redirect_uri: String,
    /// Opaque anti-forgery state, echoed back by the platform.
    pub state: String,
}

/// Errors of platform calls. Adapters map vendor codes onto these (e.g. Meta 190 → `Revoked`, TikTok
/// 40100 → `RateLimited`, Amazon `invalid_grant` → `Revoked`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlatformError {
    /// The authorization is gone for good (revoked, deauthorized, `invalid_grant`): start the revocation
    /// flow (AUTH-6).
    #[error("authorization revoked by the platform: {detail}")]
    Revoked { detail: String },
    /// The token is expired or invalid but may be refreshed.
    #[error("credentials rejected: {detail}")]
    Unauthorized { detail: String },
    /// The grant lacks a permission for this call (AUTH-4/5: re-validate, maybe review).
    #[error("permission missing: {detail}")]
    Forbidden { detail: String },
    #[error("not found: {detail}")]
    NotFound { detail: String },
    #[error("rate limited")]
    RateLimited { retry_after: Option<Duration> },
    /// The request was refused as invalid; never retried.
    #[error("invalid request: {detail}")]
    Invalid { detail: String },
    /// The task or operation is not offered by this adapter.
    #[error("not supported: {0}")]
    Unsupported(String),
    /// Network, 5xx, timeout, undecodable response: unclear, so processing stops (fail closed).
    #[error("platform unavailable")]
    Unavailable(#[source] BoxError),
}

/// OAuth: consent URL, code exchange, refresh and live validation (AUTH-2, AUTH-4).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait Authorizer: Send + Sync {
    /// The platform this adapter speaks to.
    fn platform(&self) -> Platform;

    /// The consent URL asking for exactly the scopes of `req.tasks` (see
    /// [`crate::platform::consent_scopes`]). MUST return [`PlatformError::Unsupported`] if a task is not
    /// offered on the platform.
    fn consent_url(&self, req: &ConsentRequest) -> Result<String, PlatformError>;

    /// Exchanges an authorization code for credentials (Meta: then for a long-lived token).
    /// MUST return [`PlatformError::Invalid`] for a used, expired or unknown code.
    async fn exchange(&self, code: &SecretString, redirect_uri: &str) -> Result<Credentials, PlatformError>;

    /// Refreshes credentials. MUST return [`PlatformError::Revoked`] when the platform says the
    /// authorization is gone (`invalid_grant`), and MUST return credentials unchanged when the platform has
    /// no refresh (long-lived tokens).
    async fn refresh(&self, credentials: &Credentials) -> Result<Credentials, PlatformError>;

    /// Validates live against the platform (AUTH-2) and returns what it reports, stamped `now`.
    /// MUST NOT return evidence on any doubt: invalid tokens are [`PlatformError::Revoked`] or
    /// [`PlatformError::Unauthorized`], transport problems [`PlatformError::Unavailable`].
    async fn validate(
        &self,
        credentials: &Credentials,
        now: OffsetDateTime,
    ) -> Result<GrantEvidence, PlatformError>;
}

/// An opaque pagination cursor (page token, `after` cursor, page number, offset).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor(pub String);

/// One page of results and the cursor of the next, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

/// Which grant and account a platform call runs for; adapters stamp records with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub tenant: TenantId,
    pub grant: GrantId,
    pub account: AccountRef,
}

/// A report query: one account, one level, an inclusive day range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    pub level: ReportLevel,
    pub from: Date,
    pub to: Date,
}

/// Reads reporting and campaign metadata (ad platforms).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait ReportingSource: Send + Sync {
    /// One page of campaigns of `target.account`. MUST drop every field the domain type has no place for
    /// (MIN-1).
    async fn campaigns(
        &self,
        target: &Target,
        credentials: &Credentials,
        cursor: Option<Cursor>,
    ) -> Result<Page<Campaign>, PlatformError>;

    /// One page of report rows. MUST request only the allowed metrics (MIN-1, MIN-4).
    async fn report_rows(
        &self,
        target: &Target,
        credentials: &Credentials,
        query: &ReportQuery,
        cursor: Option<Cursor>,
    ) -> Result<Page<ReportRow>, PlatformError>;
}

/// Applies approved campaign changes and reads campaigns back (CAM-1, CAM-2).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait CampaignControl: Send + Sync {
    /// Applies exactly `diff` and nothing else (MIN-4). Callers pass only a diff whose hash matched the
    /// approval.
    async fn apply(
        &self,
        target: &Target,
        credentials: &Credentials,
        diff: &ChangeDiff,
    ) -> Result<(), PlatformError>;

    /// Reads the campaign back after a change. MUST return [`PlatformError::NotFound`] if it is gone.
    async fn read_back(
        &self,
        target: &Target,
        credentials: &Credentials,
        campaign: &CampaignId,
    ) -> Result<CampaignReadback, PlatformError>;
}

/// Seals buyer PII inside the adapter, before it leaves (ENC-1). Present only when the grant's PII switch
/// is on (MIN-2).
#[derive(Clone)]
pub struct PiiSealer {
    pub key: DataKey,
    pub rng: std::sync::Arc<dyn Rng>,
}

impl fmt::Debug for PiiSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PiiSealer").field("key", &self.key).finish_non_exhaustive()
    }
}

/// An orders query: orders updated in `[updated_after, updated_before)`, continuing at `cursor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderQuery {
    pub updated_after: OffsetDateTime,
    pub updated_before: OffsetDateTime,
}

/// A stock update: the absolute quantity of one SKU at one location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockUpdate {
    pub sku: Sku,
    pub location: Option<LocationId>,
    pub quantity: u32,
}

/// The platform's answer for one stock update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockUpdateResult {
    Applied { sku: Sku },
    Rejected { sku: Sku, reason: String },
}

/// Orders and stock on a commerce platform.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait CommerceChannel: Send + Sync {
    /// One page of orders. With `pii = None` the adapter MUST NOT request buyer PII at all (using the
    /// platform's minimizing options, MIN-2) and returns `buyer: None`; with a sealer it MUST seal PII
    /// before returning (ENC-1).
    async fn orders(
        &self,
        target: &Target,
        credentials: &Credentials,
        query: &OrderQuery,
        cursor: Option<Cursor>,
        pii: Option<PiiSealer>,
    ) -> Result<Page<Order>, PlatformError>;

    /// Current stock levels, paged.
    async fn stock(
        &self,
        target: &Target,
        credentials: &Credentials,
        cursor: Option<Cursor>,
    ) -> Result<Page<StockLevel>, PlatformError>;

    /// Sets absolute quantities, batched as the platform allows; one result per update, in order.
    async fn set_stock(
        &self,
        target: &Target,
        credentials: &Credentials,
        updates: &[StockUpdate],
    ) -> Result<Vec<StockUpdateResult>, PlatformError>;
}

/// An incoming platform notification exactly as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSignal {
    pub method: String,
    pub path: String,
    /// Query parameters, in order.
    pub query: Vec<(String, String)>,
    /// Headers with lowercase names.
    pub headers: Vec<(String, String)>,
    /// The raw body bytes (signatures are over these exact bytes).
    pub body: Vec<u8>,
    pub received_at: OffsetDateTime,
}

/// What a verified signal asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignalKind {
    /// The client removed the app or the seller deauthorized it: revoke now (AUTH-6).
    Deauthorized,
    /// A user asked for deletion (Meta data-deletion, eBay marketplace account deletion): revoke and purge.
    DeletionRequested { confirmation: Option<String> },
    /// The authorization will expire soon: alert (TikTok Shop `UPCOMING_AUTHORIZATION_EXPIRATION`).
    ExpiringSoon { expires_at: Option<OffsetDateTime> },
    /// An endpoint-ownership challenge (eBay): answer with `response`, no state change.
    Challenge { response: String },
}

/// Whom the signal is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignalSubject {
    Account(AccountRef),
    Owner(OwnerId),
}

/// A signal whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignal {
    pub platform: Platform,
    /// The platform's notification id, for de-duplication (replays are dropped).
    pub id: String,
    pub kind: SignalKind,
    pub subject: Option<SignalSubject>,
}

/// Why a signal was rejected. Rejections are audited (AUTH-6).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignalError {
    #[error("signature missing or invalid")]
    BadSignature,
    #[error("signal malformed: {0}")]
    Malformed(String),
    #[error("signal too old or from the future")]
    Stale,
    #[error("signal verifier unavailable")]
    Unavailable(#[source] BoxError),
}

/// Verifies and parses a platform's authorization signals (AUTH-6).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait SignalVerifier: Send + Sync {
    /// The platform this verifier is for.
    fn platform(&self) -> Platform;

    /// Verifies the signature over the exact received bytes and parses the signal. MUST return
    /// [`SignalError::BadSignature`] for any signature problem and never a partially trusted result; MUST
    /// return [`SignalError::Unavailable`] when a key needed to verify cannot be fetched (fail closed).
    async fn verify(&self, raw: &RawSignal) -> Result<VerifiedSignal, SignalError>;
}
