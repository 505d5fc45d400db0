//! [`AmazonAdapter`]: `impl Authorizer` and `impl CommerceChannel` for the Amazon SP-API, and the
//! scheduled token-health check ([`AmazonAdapter::check_token_health`]).

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use custodian_core::data::{BuyerPii, Currency, Order, StockLevel};
use custodian_core::grant::{GrantEvidence, OwnerId};
use custodian_core::platform::{
    AccountRef, AmazonMarketplaceId, AmazonSellerId, Platform, Scope, Task, consent_scopes,
};
use custodian_core::ports::{
    Authorizer, CommerceChannel, ConsentRequest, Credentials, Cursor, OrderQuery, Page, PiiSealer,
    PlatformError, StockUpdate, StockUpdateResult, Target,
};
use custodian_http::{HttpClient, Url};
use futures::{StreamExt as _, TryStreamExt as _};
use secrecy::{ExposeSecret as _, SecretString};
use serde::de::{DeserializeOwned, IgnoredAny};
use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime};

use crate::api;
use crate::client::Client;
use crate::config::{AmazonConfig, OrdersApi};
use crate::convert;
use crate::error::{AmazonError, ApiErrorKind, LwaErrorKind};
use crate::rate::{Limits, Operation};
use crate::wire::{AddressV0, Buyer26, BuyerInfoV0, OrderItemV0, Recipient26, SearchOrdersResponse};

/// How long the latest order data lags: `LastUpdatedBefore`/`CreatedBefore` must be at least this far
/// in the past (commerce-apis.md §2.4; Amazon answers 400 otherwise).
pub const ORDERS_DATA_DELAY: Duration = Duration::minutes(2);
/// Public apps must be re-authorized every 365 days (commerce-apis.md §2.1).
pub const AUTHORIZATION_LIFETIME: Duration = Duration::days(365);
/// [`TokenHealth::ReauthorizeSoon`] within this much of the re-authorization deadline.
pub const REAUTHORIZE_NOTICE: Duration = Duration::days(30);
/// An LWA access token lasts one hour when Amazon does not say otherwise.
const DEFAULT_ACCESS_LIFETIME: i64 = 3600;
/// A cached Restricted Data Token is not used in its last minute.
const RDT_MARGIN: Duration = Duration::minutes(1);
/// A noted consent callback is forgotten after this long (codes live about five minutes).
const PENDING_TTL: Duration = Duration::minutes(10);
/// FBA `nextToken`s expire 30 seconds after they are issued; an older cursor restarts the listing.
const FBA_TOKEN_TTL: Duration = Duration::seconds(25);
/// Bounds of the in-memory maps (pending consents, cached RDTs).
const MAX_ENTRIES: usize = 4096;

/// What a scheduled token-health check found (Amazon sends no notice when a seller revokes an app, so the
/// server polls: AUTH-6).
#[derive(Debug)]
pub enum TokenHealth {
    /// The refresh token works and the fresh access token is accepted. Store `credentials` (they hold the
    /// new access token).
    Healthy { credentials: Credentials, reauthorize_by: Option<OffsetDateTime> },
    /// Healthy, but the 365-day authorization ends within [`REAUTHORIZE_NOTICE`]: alert the client.
    ReauthorizeSoon { credentials: Credentials, reauthorize_by: OffsetDateTime },
    /// `invalid_grant`, or a fresh access token refused: start the revocation flow (AUTH-6, RET-3).
    Revoked { detail: String },
}

struct Region {
    name: String,
    base: Url,
    marketplaces: BTreeSet<String>,
}

struct Pending {
    seller: AmazonSellerId,
    noted_at: OffsetDateTime,
}

struct CachedRdt {
    token: SecretString,
    expires_at: OffsetDateTime,
}

struct Inner {
    config: AmazonConfig,
    client: Client,
    lwa_url: Url,
    consent_url: Url,
    regions: Vec<Region>,
    /// Consent callbacks noted by the server, by SHA-256 of the code.
    pending: Mutex<HashMap<[u8; 32], Pending>>,
    /// Restricted Data Tokens for bulk getOrders, by SHA-256 of the access token.
    rdts: Mutex<HashMap<[u8; 32], CachedRdt>>,
    /// Default currencies of marketplaces (for orders that name none, e.g. pending ones).
    currencies: Mutex<HashMap<String, Currency>>,
}

/// The Amazon SP-API adapter. Cheap to clone: clones share the HTTP client, the rate limiters and caches.
#[derive(Clone)]
pub struct AmazonAdapter {
    inner: Arc<Inner>,
}

impl fmt::Debug for AmazonAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmazonAdapter").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn digest(secret: &SecretString) -> [u8; 32] {
    Sha256::digest(secret.expose_secret().as_bytes()).into()
}

fn amazon_account(account: &AccountRef) -> Result<(&AmazonSellerId, &AmazonMarketplaceId), PlatformError> {
    match account {
        AccountRef::AmazonSeller { seller, marketplace } => Ok((seller, marketplace)),
        other => Err(PlatformError::Invalid {
            detail: format!("account `{other}` is not an amazon seller account"),
        }),
    }
}

/// Whole seconds, rounded down.
fn floor_secs(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(0).unwrap_or(at)
}

/// Whole seconds, rounded up.
fn ceil_secs(at: OffsetDateTime) -> OffsetDateTime {
    let floor = floor_secs(at);
    if floor == at { at } else { floor + Duration::seconds(1) }
}

/// An orders cursor: the `*Before` the first page used (paging must repeat it) and Amazon's token.
fn order_cursor(before: OffsetDateTime, token: &str) -> Cursor {
    Cursor(format!("o1:{}:{token}", before.unix_timestamp()))
}

fn read_order_cursor(cursor: &Cursor) -> Result<(OffsetDateTime, String), PlatformError> {
    let bad =
        || PlatformError::Invalid { detail: "the orders cursor is not one this adapter issued".to_owned() };
    let rest = cursor.0.strip_prefix("o1:").ok_or_else(bad)?;
    let (before, token) = rest.split_once(':').ok_or_else(bad)?;
    let before = before
        .parse::<i64>()
        .ok()
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        .ok_or_else(bad)?;
    if token.is_empty() {
        return Err(bad());
    }
    Ok((before, token.to_owned()))
}

/// A stock cursor: when Amazon issued the `nextToken` (it expires after 30 seconds) and the token.
fn stock_cursor(issued: OffsetDateTime, token: &str) -> Cursor {
    Cursor(format!("s1:{}:{token}", issued.unix_timestamp()))
}

fn read_stock_cursor(cursor: &Cursor) -> Result<(OffsetDateTime, String), PlatformError> {
    let bad =
        || PlatformError::Invalid { detail: "the stock cursor is not one this adapter issued".to_owned() };
    let rest = cursor.0.strip_prefix("s1:").ok_or_else(bad)?;
    let (issued, token) = rest.split_once(':').ok_or_else(bad)?;
    let issued = issued
        .parse::<i64>()
        .ok()
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        .ok_or_else(bad)?;
    Ok((issued, token.to_owned()))
}

/// The time window of an orders page: what is sent, and what is kept.
struct Window {
    /// `*After` sent (whole seconds, rounded down).
    after: String,
    /// `*Before` sent (inclusive on Amazon's side).
    before: OffsetDateTime,
    /// Kept: `keep_after <= updated_at < keep_before` (the port's half-open window).
    keep_after: OffsetDateTime,
    keep_before: OffsetDateTime,
}

impl Window {
    fn keeps(&self, order: &Order) -> bool {
        self.keep_after <= order.updated_at && order.updated_at < self.keep_before
    }
}

/// What one orders page is read for.
struct PageCall<'a> {
    target: &'a Target,
    credentials: &'a Credentials,
    region: &'a Region,
    seller: &'a AmazonSellerId,
    window: &'a Window,
    token: Option<&'a str>,
}

/// An orders page before buyer data is sealed: each order with its wire buyer parts.
type RawPage<B, A> = (Vec<(Order, Option<B>, Option<A>)>, Option<String>);

impl AmazonAdapter {
    /// Builds the adapter: the HTTP client (TLS-1: every base URL must be `https`, or loopback `http`
    /// when [`custodian_http::HttpConfig::allow_plain_loopback`] is set) and the per-operation limiters.
    /// Contacts nobody.
    pub fn new(config: AmazonConfig) -> Result<Self, AmazonError> {
        let http = HttpClient::new(config.http.clone())?;
        let lwa_base = http.check_url(&config.lwa_base)?;
        let consent_base = http.check_url(&config.consent_base)?;
        let mut regions = Vec::with_capacity(config.regions.len());
        for region in &config.regions {
            regions.push(Region {
                name: region.name.clone(),
                base: http.check_url(&region.base_url)?,
                marketplaces: region.marketplaces.clone(),
            });
        }
        if regions.is_empty() {
            return Err(AmazonError::Request("no sp-api region is configured".to_owned()));
        }
        let limits = Limits::new(&config.client_id, config.rate_safety, |op| config.usage_plan(op));
        let client = Client { http, limits, retry: config.retry.clone() };
        Ok(Self {
            inner: Arc::new(Inner {
                lwa_url: api::lwa::token_url(&lwa_base),
                consent_url: api::endpoint(&consent_base, &["apps", "authorize", "consent"]),
                regions,
                client,
                config,
                pending: Mutex::new(HashMap::new()),
                rdts: Mutex::new(HashMap::new()),
                currencies: Mutex::new(HashMap::new()),
            }),
        })
    }

    fn config(&self) -> &AmazonConfig {
        &self.inner.config
    }

    fn client(&self) -> &Client {
        &self.inner.client
    }

    fn now(&self) -> OffsetDateTime {
        self.inner.config.clock.now()
    }

    /// The latest `updated_before` an orders query can use now (now minus [`ORDERS_DATA_DELAY`]). A sync
    /// that advances its watermark to a later `updated_before` would skip the orders of the last two
    /// minutes: schedule windows ending here.
    pub fn latest_updated_before(&self) -> OffsetDateTime {
        floor_secs(self.now() - ORDERS_DATA_DELAY)
    }

    /// Records the `selling_partner_id` Amazon sent with `spapi_oauth_code` to the redirect URI, so that
    /// [`Authorizer::exchange`] of that code knows whose authorization it is (the LWA token answer does
    /// not say, and the port passes only the code). Kept in memory, by a hash of the code, for ten
    /// minutes. The server calls this from its Amazon callback before completing the connection.
    pub fn note_consent_callback(&self, code: &SecretString, selling_partner_id: AmazonSellerId) {
        let now = self.now();
        let mut pending = lock(&self.inner.pending);
        if pending.len() >= MAX_ENTRIES {
            pending.retain(|_, p| now - p.noted_at < PENDING_TTL);
        }
        if pending.len() < MAX_ENTRIES {
            pending.insert(digest(code), Pending { seller: selling_partner_id, noted_at: now });
        }
    }

    fn take_pending(&self, code: &SecretString) -> Option<AmazonSellerId> {
        let now = self.now();
        let pending = lock(&self.inner.pending).remove(&digest(code))?;
        (now - pending.noted_at < PENDING_TTL).then_some(pending.seller)
    }

    /// The roles a consent for `tasks` grants: the tasks' roles (AUTH-4), which the app registration must
    /// hold exactly (Amazon asks the seller for every role of the registration; there are no per-request
    /// scopes). `Unsupported` for a task Amazon does not offer or a role the registration lacks;
    /// `Invalid` when the registration holds roles the tasks do not need, unless
    /// [`AmazonConfig::allow_broader_consent`].
    pub fn consent_roles(&self, tasks: &BTreeSet<Task>) -> Result<BTreeSet<Scope>, PlatformError> {
        let needed =
            consent_scopes(Platform::Amazon, tasks).map_err(|e| PlatformError::Unsupported(e.to_string()))?;
        let app = &self.config().app_roles;
        if let Some(missing) = needed.iter().find(|r| !app.contains(*r)) {
            return Err(PlatformError::Unsupported(format!(
                "the amazon app registration lacks the role `{missing}`"
            )));
        }
        let extra: Vec<&str> = app.iter().filter(|r| !needed.contains(*r)).map(Scope::as_str).collect();
        if !extra.is_empty() && !self.config().allow_broader_consent {
            return Err(PlatformError::Invalid {
                detail: format!(
                    "amazon would ask the seller for the roles `{}` of the app registration, which the enabled tasks do not need",
                    extra.join("`, `")
                ),
            });
        }
        Ok(needed)
    }

    fn region_for(&self, marketplace: &str) -> Result<&Region, PlatformError> {
        self.inner.regions.iter().find(|r| r.marketplaces.contains(marketplace)).ok_or_else(|| {
            PlatformError::Invalid {
                detail: format!("no sp-api region is configured for marketplace `{marketplace}`"),
            }
        })
    }

    /// The regions to ask about a seller: those of the marketplaces already known, else all.
    fn regions_of(&self, accounts: &BTreeSet<AccountRef>) -> Vec<&Region> {
        let known: Vec<&Region> = self
            .inner
            .regions
            .iter()
            .filter(|r| {
                accounts.iter().any(|a| matches!(a, AccountRef::AmazonSeller { marketplace, .. } if r.marketplaces.contains(marketplace.as_str())))
            })
            .collect();
        if known.is_empty() { self.inner.regions.iter().collect() } else { known }
    }

    /// The marketplaces `seller` participates in, across `regions` (a region where the seller is not
    /// present answers with an error that is skipped; an auth or transport error is returned). Fills the
    /// currency cache on the way.
    async fn seller_accounts(
        &self,
        seller: &AmazonSellerId,
        token: &SecretString,
        regions: &[&Region],
    ) -> Result<BTreeSet<AccountRef>, AmazonError> {
        let mut accounts = BTreeSet::new();
        let mut first_error = None;
        let mut answered = false;
        for region in regions {
            match api::sellers::marketplace_participations(
                self.client(),
                &region.base,
                seller.as_str(),
                token,
            )
            .await
            {
                Ok(answer) => {
                    answered = true;
                    for p in answer.payload.into_iter().filter(|p| p.participation.is_participating) {
                        self.remember_currency(
                            &p.marketplace.id,
                            p.marketplace.default_currency_code.as_deref(),
                        );
                        if let Ok(marketplace) = AmazonMarketplaceId::new(p.marketplace.id) {
                            accounts.insert(AccountRef::AmazonSeller { seller: seller.clone(), marketplace });
                        }
                    }
                }
                Err(
                    e @ AmazonError::Api {
                        kind: ApiErrorKind::Forbidden | ApiErrorKind::NotFound | ApiErrorKind::Invalid,
                        ..
                    },
                ) if regions.len() > 1 => {
                    tracing::debug!(region = %region.name, error = %e, "no participations in this region");
                    first_error.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        match (answered, first_error) {
            (false, Some(e)) => Err(e),
            _ => Ok(accounts),
        }
    }

    fn remember_currency(&self, marketplace: &str, code: Option<&str>) {
        if let Some(currency) = code.and_then(|c| Currency::new(c).ok()) {
            lock(&self.inner.currencies).insert(marketplace.to_owned(), currency);
        }
    }

    /// The default currency of `marketplace`, asking Amazon once if it is not known yet.
    async fn fallback_currency(
        &self,
        region: &Region,
        seller: &AmazonSellerId,
        token: &SecretString,
        marketplace: &str,
    ) -> Result<Option<Currency>, AmazonError> {
        if let Some(currency) = lock(&self.inner.currencies).get(marketplace).copied() {
            return Ok(Some(currency));
        }
        self.seller_accounts(seller, token, &[region]).await?;
        Ok(lock(&self.inner.currencies).get(marketplace).copied())
    }

    /// Turns an error into the port's, settling a refused access token (AUTH-6): Amazon answers the same
    /// 403 for an expired and for a revoked token, so a refresh decides: `invalid_grant` means the
    /// authorization is gone (`Revoked`), a working refresh means the token had only expired
    /// (`Unauthorized`: the caller refreshes and retries).
    async fn settle(&self, error: AmazonError, credentials: &Credentials) -> PlatformError {
        if !error.is_token_rejected() {
            return error.into();
        }
        let Some(refresh) = credentials.refresh_token.as_ref() else { return error.into() };
        let config = self.config();
        match api::lwa::refresh(
            self.client(),
            &self.inner.lwa_url,
            refresh,
            &config.client_id,
            &config.client_secret,
        )
        .await
        {
            Err(AmazonError::Lwa { kind: LwaErrorKind::InvalidGrant, evidence }) => PlatformError::Revoked {
                detail: format!(
                    "the access token was refused ({error}) and the refresh token too: {evidence}"
                ),
            },
            Ok(_) => PlatformError::Unauthorized {
                detail: format!("the access token was refused ({error}); a refresh works"),
            },
            Err(_) => error.into(),
        }
    }

    /// A Restricted Data Token for bulk getOrders with buyer and address data, cached per access token
    /// for its lifetime (MIN-2: asked for only when PII is enabled).
    async fn rdt(
        &self,
        region: &Region,
        seller: &AmazonSellerId,
        access: &SecretString,
    ) -> Result<SecretString, AmazonError> {
        let key = digest(access);
        let now = self.now();
        if let Some(cached) = lock(&self.inner.rdts).get(&key).filter(|c| c.expires_at > now) {
            return Ok(cached.token.clone());
        }
        let answer = api::tokens::create_restricted_data_token(
            self.client(),
            &region.base,
            seller.as_str(),
            access,
            api::orders_v0::GET_ORDERS_PATH,
            api::orders_v0::PII_ELEMENTS,
        )
        .await?;
        let lifetime = Duration::seconds(answer.expires_in.unwrap_or(DEFAULT_ACCESS_LIFETIME));
        let mut rdts = lock(&self.inner.rdts);
        if rdts.len() >= MAX_ENTRIES {
            rdts.retain(|_, c| c.expires_at > now);
        }
        if rdts.len() < MAX_ENTRIES {
            rdts.insert(
                key,
                CachedRdt {
                    token: answer.restricted_data_token.clone(),
                    expires_at: now + lifetime - RDT_MARGIN,
                },
            );
        }
        Ok(answer.restricted_data_token)
    }

    async fn search_2026<B: DeserializeOwned, R: DeserializeOwned>(
        &self,
        call: &PageCall<'_>,
        included: &'static str,
    ) -> Result<RawPage<B, R>, AmazonError> {
        let PageCall { target, credentials, region, seller, window, token } = *call;
        let marketplace = amazon_account(&target.account).map(|(_, m)| m.as_str()).unwrap_or_default();
        let before = convert::format_time(window.before);
        let page_size = self.config().page_size.clamp(1, 100).to_string();
        let search = api::orders_2026::Search {
            marketplace,
            updated_after: &window.after,
            updated_before: &before,
            page_size: &page_size,
            pagination_token: token,
            included,
        };
        let response = api::orders_2026::search_orders(
            self.client(),
            &region.base,
            seller.as_str(),
            &credentials.access_token,
            &search,
        )
        .await?;
        let answer: SearchOrdersResponse<'_, B, R> =
            crate::client::decode(&response.body, Operation::SearchOrders.name())?;
        let fallback = if answer.orders.iter().any(convert::lacks_currency_26) {
            self.fallback_currency(region, seller, &credentials.access_token, marketplace).await?
        } else {
            None
        };
        let mut orders = Vec::with_capacity(answer.orders.len());
        for wire in answer.orders {
            let converted = convert::order_26(target, wire, fallback)?;
            if window.keeps(&converted.0) {
                orders.push(converted);
            }
        }
        Ok((orders, answer.pagination.and_then(|p| p.next_token)))
    }

    async fn items_v0(
        &self,
        region: &Region,
        seller: &AmazonSellerId,
        access: &SecretString,
        order_id: &str,
    ) -> Result<Vec<OrderItemV0>, AmazonError> {
        let mut items = Vec::new();
        let mut next: Option<String> = None;
        let mut seen = BTreeSet::new();
        loop {
            let answer = api::orders_v0::get_order_items(
                self.client(),
                &region.base,
                seller.as_str(),
                access,
                order_id,
                next.as_deref(),
            )
            .await?;
            items.extend(answer.payload.order_items);
            match answer.payload.next_token.filter(|t| !t.is_empty()) {
                Some(token) if seen.insert(token.clone()) => next = Some(token),
                Some(_) => {
                    return Err(AmazonError::Data(format!("the order items of `{order_id}` page in a loop")));
                }
                None => return Ok(items),
            }
        }
    }

    async fn get_orders_v0<B: DeserializeOwned, A: DeserializeOwned>(
        &self,
        call: &PageCall<'_>,
        orders_token: &SecretString,
    ) -> Result<RawPage<B, A>, AmazonError> {
        let PageCall { target, credentials, region, seller, window, token } = *call;
        let marketplace = amazon_account(&target.account).map(|(_, m)| m.as_str()).unwrap_or_default();
        let before = convert::format_time(window.before);
        let page_size = self.config().page_size.clamp(1, 100).to_string();
        let page = api::orders_v0::Orders {
            marketplace,
            updated_after: &window.after,
            updated_before: &before,
            page_size: &page_size,
            next_token: token,
        };
        let answer = api::orders_v0::get_orders::<B, A>(
            self.client(),
            &region.base,
            seller.as_str(),
            orders_token,
            &page,
        )
        .await?;
        let access = &credentials.access_token;
        let concurrency = self.config().item_concurrency.max(1);
        let ids: Vec<String> = answer.payload.orders.iter().map(|o| o.amazon_order_id.clone()).collect();
        let items: Vec<Vec<OrderItemV0>> = futures::stream::iter(ids)
            .map(|id| async move { self.items_v0(region, seller, access, &id).await })
            .buffered(concurrency)
            .try_collect()
            .await?;
        let needs_fallback = answer
            .payload
            .orders
            .iter()
            .zip(&items)
            .any(|(order, items)| convert::v0_lacks_currency(order, items));
        let fallback = if needs_fallback {
            self.fallback_currency(region, seller, access, marketplace).await?
        } else {
            None
        };
        let mut orders = Vec::with_capacity(answer.payload.orders.len());
        for (wire, items) in answer.payload.orders.into_iter().zip(items) {
            let converted = convert::order_v0(target, wire, items, fallback)?;
            if window.keeps(&converted.0) {
                orders.push(converted);
            }
        }
        Ok((orders, answer.payload.next_token.filter(|t| !t.is_empty())))
    }

    async fn orders_page(
        &self,
        call: &PageCall<'_>,
        pii: Option<&PiiSealer>,
    ) -> Result<(Vec<Order>, Option<String>), AmazonError> {
        let seal = |pages: Vec<(Order, Option<BuyerPii>)>| -> Result<Vec<Order>, AmazonError> {
            let mut out = Vec::with_capacity(pages.len());
            for (mut order, buyer) in pages {
                if let (Some(sealer), Some(buyer)) = (pii, buyer) {
                    convert::seal_buyer(&mut order, &buyer, sealer)?;
                }
                out.push(order);
            }
            Ok(out)
        };
        match (self.config().orders_api, pii) {
            (OrdersApi::V2026, None) => {
                let (orders, next) = self
                    .search_2026::<IgnoredAny, IgnoredAny>(call, api::orders_2026::INCLUDED_PLAIN)
                    .await?;
                Ok((orders.into_iter().map(|(o, _, _)| o).collect(), next))
            }
            (OrdersApi::V2026, Some(sealer)) => {
                let (orders, next) =
                    self.search_2026::<Buyer26, Recipient26>(call, api::orders_2026::INCLUDED_PII).await?;
                // One pass: each order's PII is gathered and sealed as the order is moved out.
                let mut out = Vec::with_capacity(orders.len());
                for (mut order, buyer, recipient) in orders {
                    if let Some(pii) = convert::pii_26(buyer, recipient) {
                        convert::seal_buyer(&mut order, &pii, sealer)?;
                    }
                    out.push(order);
                }
                Ok((out, next))
            }
            (OrdersApi::V0, None) => {
                let (orders, next) = self
                    .get_orders_v0::<IgnoredAny, IgnoredAny>(call, &call.credentials.access_token)
                    .await?;
                Ok((orders.into_iter().map(|(o, _, _)| o).collect(), next))
            }
            (OrdersApi::V0, Some(_)) => {
                let rdt = self.rdt(call.region, call.seller, &call.credentials.access_token).await?;
                let (orders, next) = self.get_orders_v0::<BuyerInfoV0, AddressV0>(call, &rdt).await?;
                let orders = orders.into_iter().map(|(o, b, a)| (o, convert::pii_v0(b, a))).collect();
                Ok((seal(orders)?, next))
            }
        }
    }

    /// Checks a grant's tokens the way a scheduled job should (Amazon sends no revocation notice: AUTH-6):
    /// refreshes the access token (`invalid_grant` → [`TokenHealth::Revoked`]) and makes one cheap
    /// authorized call with the fresh token (`getMarketplaceParticipations`; a 403 for a fresh token →
    /// [`TokenHealth::Revoked`]). Otherwise the refreshed credentials come back, flagged
    /// [`TokenHealth::ReauthorizeSoon`] within [`REAUTHORIZE_NOTICE`] of the 365-day authorization's end.
    /// Transport, throttling and server errors are `Err` (try again later; nothing is concluded).
    #[tracing::instrument(skip_all, fields(platform = "amazon"))]
    pub async fn check_token_health(&self, credentials: &Credentials) -> Result<TokenHealth, PlatformError> {
        let Some(refresh) = credentials.refresh_token.as_ref() else {
            return Err(PlatformError::Invalid {
                detail: "the credentials hold no refresh token".to_owned(),
            });
        };
        let config = self.config();
        let tokens = match api::lwa::refresh(
            self.client(),
            &self.inner.lwa_url,
            refresh,
            &config.client_id,
            &config.client_secret,
        )
        .await
        {
            Ok(tokens) => tokens,
            Err(AmazonError::Lwa { kind: LwaErrorKind::InvalidGrant, evidence }) => {
                return Ok(TokenHealth::Revoked {
                    detail: format!("the refresh token was refused: {evidence}"),
                });
            }
            Err(e) => return Err(e.into()),
        };
        let fresh = self.refreshed(credentials, tokens);
        let seller = fresh.accounts.iter().find_map(|a| match a {
            AccountRef::AmazonSeller { seller, .. } => Some(seller.clone()),
            _ => None,
        });
        let regions = self.regions_of(&fresh.accounts);
        let probe_seller = seller.clone().map_or_else(|| "unknown".to_owned(), |s| s.as_str().to_owned());
        let region = regions.first().map(|r| &r.base).unwrap_or(&self.inner.regions[0].base);
        match api::sellers::marketplace_participations(
            self.client(),
            region,
            &probe_seller,
            &fresh.access_token,
        )
        .await
        {
            Ok(_) => {}
            Err(e) if e.is_token_rejected() => {
                return Ok(TokenHealth::Revoked {
                    detail: format!("a freshly refreshed access token was refused: {e}"),
                });
            }
            Err(e) => return Err(e.into()),
        }
        let now = self.now();
        match fresh.refresh_expires_at {
            Some(by) if by - now <= REAUTHORIZE_NOTICE => {
                Ok(TokenHealth::ReauthorizeSoon { credentials: fresh, reauthorize_by: by })
            }
            by => Ok(TokenHealth::Healthy { credentials: fresh, reauthorize_by: by }),
        }
    }

    /// New credentials from a refresh of `old`: the new access token (and refresh token, if LWA sent one),
    /// the same accounts, scopes and authorization end.
    fn refreshed(&self, old: &Credentials, tokens: crate::wire::LwaTokens) -> Credentials {
        let now = self.now();
        Credentials {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token.or_else(|| old.refresh_token.clone()),
            access_expires_at: Some(
                now + Duration::seconds(tokens.expires_in.unwrap_or(DEFAULT_ACCESS_LIFETIME)),
            ),
            refresh_expires_at: old.refresh_expires_at,
            scopes: old.scopes.clone(),
            accounts: old.accounts.clone(),
        }
    }
}

#[async_trait]
impl Authorizer for AmazonAdapter {
    fn platform(&self) -> Platform {
        Platform::Amazon
    }

    /// `https://sellercentral.amazon.com/apps/authorize/consent?application_id=…&state=…&redirect_uri=…`
    /// (`&version=beta` for a draft app). Amazon grants the app registration's roles; see
    /// [`AmazonAdapter::consent_roles`] for how AUTH-4 holds.
    fn consent_url(&self, req: &ConsentRequest) -> Result<String, PlatformError> {
        self.consent_roles(&req.tasks)?;
        let mut url = self.inner.consent_url.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("application_id", &self.config().application_id);
            query.append_pair("state", &req.state);
            query.append_pair("redirect_uri", &req.redirect_uri);
            if self.config().draft_app {
                query.append_pair("version", "beta");
            }
        }
        Ok(url.into())
    }

    /// LWA `authorization_code` grant. A used, expired or unknown code is `Invalid`. When the server noted
    /// the callback's `selling_partner_id` ([`AmazonAdapter::note_consent_callback`]), the credentials name
    /// the seller's participating marketplaces as accounts. The authorization ends 365 days from now.
    #[tracing::instrument(skip_all, fields(platform = "amazon"))]
    async fn exchange(&self, code: &SecretString, redirect_uri: &str) -> Result<Credentials, PlatformError> {
        let config = self.config();
        let tokens = api::lwa::exchange_code(
            self.client(),
            &self.inner.lwa_url,
            code,
            redirect_uri,
            &config.client_id,
            &config.client_secret,
        )
        .await
        .map_err(|e| match e {
            AmazonError::Lwa { kind: LwaErrorKind::InvalidGrant, evidence } => PlatformError::Invalid {
                detail: format!("the authorization code was refused (invalid_grant): {evidence}"),
            },
            other => other.into(),
        })?;
        let now = self.now();
        let mut credentials = Credentials {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            access_expires_at: Some(
                now + Duration::seconds(tokens.expires_in.unwrap_or(DEFAULT_ACCESS_LIFETIME)),
            ),
            refresh_expires_at: Some(now + AUTHORIZATION_LIFETIME),
            scopes: config.app_roles.clone(),
            accounts: BTreeSet::new(),
        };
        if let Some(seller) = self.take_pending(code) {
            let regions: Vec<&Region> = self.inner.regions.iter().collect();
            credentials.accounts = self
                .seller_accounts(&seller, &credentials.access_token, &regions)
                .await
                .map_err(PlatformError::from)?;
        }
        Ok(credentials)
    }

    /// LWA `refresh_token` grant; `invalid_grant` is `Revoked` (AUTH-6). Credentials without a refresh
    /// token come back unchanged.
    #[tracing::instrument(skip_all, fields(platform = "amazon"))]
    async fn refresh(&self, credentials: &Credentials) -> Result<Credentials, PlatformError> {
        let Some(refresh) = credentials.refresh_token.as_ref() else { return Ok(credentials.clone()) };
        let config = self.config();
        let tokens = api::lwa::refresh(
            self.client(),
            &self.inner.lwa_url,
            refresh,
            &config.client_id,
            &config.client_secret,
        )
        .await?;
        Ok(self.refreshed(credentials, tokens))
    }

    /// AUTH-2: a live `getMarketplaceParticipations` with the access token. Evidence: the selling partner
    /// as owner, its participating marketplaces as accounts (AUTH-3), the app registration's roles as
    /// scopes (Amazon reports no per-authorization roles), the 365-day authorization end as expiry.
    #[tracing::instrument(skip_all, fields(platform = "amazon"))]
    async fn validate(
        &self,
        credentials: &Credentials,
        now: OffsetDateTime,
    ) -> Result<GrantEvidence, PlatformError> {
        let seller = credentials.accounts.iter().find_map(|a| match a {
            AccountRef::AmazonSeller { seller, .. } => Some(seller.clone()),
            _ => None,
        });
        let regions = self.regions_of(&credentials.accounts);
        let Some(seller) = seller else {
            let region = regions.first().map(|r| &r.base).unwrap_or(&self.inner.regions[0].base);
            if let Err(e) = api::sellers::marketplace_participations(
                self.client(),
                region,
                "unknown",
                &credentials.access_token,
            )
            .await
            {
                return Err(self.settle(e, credentials).await);
            }
            return Err(PlatformError::Invalid {
                detail:
                    "the selling partner id of these credentials is unknown: note the consent callback's \
                         selling_partner_id before the exchange"
                        .to_owned(),
            });
        };
        let accounts = match self.seller_accounts(&seller, &credentials.access_token, &regions).await {
            Ok(accounts) => accounts,
            Err(e) => return Err(self.settle(e, credentials).await),
        };
        let owner =
            OwnerId::new(seller.as_str()).map_err(|e| PlatformError::Invalid { detail: e.to_string() })?;
        Ok(GrantEvidence {
            owner,
            accounts,
            scopes: self.config().app_roles.clone(),
            expires_at: credentials.refresh_expires_at,
            data_access_expires_at: None,
            validated_at: now,
        })
    }
}

#[async_trait]
impl CommerceChannel for AmazonAdapter {
    /// Orders updated in `[updated_after, updated_before)`, `updated_before` clamped to now minus two
    /// minutes (Amazon refuses later ones). Orders 2026-01-01 asks `includedData=FULFILLMENT,PROCEEDS`
    /// and adds `BUYER,RECIPIENT` only with a sealer; Orders v0 uses a Restricted Data Token only with a
    /// sealer (MIN-2). Buyer PII is sealed before it leaves (ENC-1). A refused token is settled by a
    /// refresh: `Revoked` when the authorization is gone (AUTH-6).
    #[tracing::instrument(skip_all, fields(platform = "amazon"))]
    async fn orders(
        &self,
        target: &Target,
        credentials: &Credentials,
        query: &OrderQuery,
        cursor: Option<Cursor>,
        pii: Option<PiiSealer>,
    ) -> Result<Page<Order>, PlatformError> {
        let (seller, marketplace) = amazon_account(&target.account)?;
        let region = self.region_for(marketplace.as_str())?;
        let (before, token) = match cursor {
            Some(cursor) => {
                let (before, token) = read_order_cursor(&cursor)?;
                (before, Some(token))
            }
            None => (ceil_secs(query.updated_before).min(self.latest_updated_before()), None),
        };
        let after = floor_secs(query.updated_after);
        if token.is_none() && before < after {
            return Ok(Page { items: Vec::new(), next: None });
        }
        let window = Window {
            after: convert::format_time(after),
            before,
            keep_after: query.updated_after,
            keep_before: query.updated_before,
        };
        let call = PageCall { target, credentials, region, seller, window: &window, token: token.as_deref() };
        let page = self.orders_page(&call, pii.as_ref()).await;
        match page {
            Ok((items, next)) => Ok(Page { items, next: next.map(|t| order_cursor(before, &t)) }),
            Err(e) => Err(self.settle(e, credentials).await),
        }
    }

    /// FBA inventory summaries (`details=true`), one stock level per SKU at location `AFN` with the
    /// fulfillable quantity. A cursor older than Amazon's 30-second `nextToken` life restarts the listing.
    #[tracing::instrument(skip_all, fields(platform = "amazon"))]
    async fn stock(
        &self,
        target: &Target,
        credentials: &Credentials,
        cursor: Option<Cursor>,
    ) -> Result<Page<StockLevel>, PlatformError> {
        let (seller, marketplace) = amazon_account(&target.account)?;
        let region = self.region_for(marketplace.as_str())?;
        let now = self.now();
        let token = match cursor {
            None => None,
            Some(cursor) => {
                let (issued, token) = read_stock_cursor(&cursor)?;
                (now - issued < FBA_TOKEN_TTL).then_some(token)
            }
        };
        let answer = match api::fba_inventory::inventory_summaries(
            self.client(),
            &region.base,
            seller.as_str(),
            &credentials.access_token,
            marketplace.as_str(),
            token.as_deref(),
        )
        .await
        {
            Ok(answer) => answer,
            Err(e) => return Err(self.settle(e, credentials).await),
        };
        let mut items = Vec::new();
        for summary in answer.payload.map(|p| p.inventory_summaries).unwrap_or_default() {
            if let Some(level) = convert::stock_level(target, summary, now).map_err(PlatformError::from)? {
                items.push(level);
            }
        }
        let next = answer.pagination.and_then(|p| p.next_token).filter(|t| !t.is_empty());
        Ok(Page { items, next: next.map(|t| stock_cursor(now, &t)) })
    }

    /// One Listings `PATCH` (`merge` of `fulfillment_availability`, channel `DEFAULT`) per update, in
    /// order: Listings has no batch operation, so updates are paced by the operation's 5/s bucket. An
    /// update for the FBA location (`AFN`) is rejected without a call (Amazon's own warehouses are not
    /// set through the API). Refused tokens end the call with the error; other failures reject the update
    /// (and, once Amazon is unavailable, the updates after it).
    #[tracing::instrument(skip_all, fields(platform = "amazon", updates = updates.len()))]
    async fn set_stock(
        &self,
        target: &Target,
        credentials: &Credentials,
        updates: &[StockUpdate],
    ) -> Result<Vec<StockUpdateResult>, PlatformError> {
        let (seller, marketplace) = amazon_account(&target.account)?;
        let region = self.region_for(marketplace.as_str())?;
        let mut results = Vec::with_capacity(updates.len());
        let mut unavailable: Option<String> = None;
        for update in updates {
            let sku = update.sku.clone();
            if let Some(reason) = &unavailable {
                results.push(StockUpdateResult::Rejected { sku, reason: format!("not sent: {reason}") });
                continue;
            }
            if update.location.as_ref().is_some_and(|l| !matches!(l.as_str(), "DEFAULT" | "MFN")) {
                results.push(StockUpdateResult::Rejected {
                    sku,
                    reason:
                        "only merchant-fulfilled (DEFAULT) quantities can be set; amazon-fulfilled stock \
                             changes by inbound shipments"
                            .to_owned(),
                });
                continue;
            }
            let answer = api::listings::patch_quantity(
                self.client(),
                &region.base,
                seller.as_str(),
                &credentials.access_token,
                marketplace.as_str(),
                update.sku.as_str(),
                update.quantity,
            )
            .await;
            match answer {
                Ok(answer) if answer.status == "ACCEPTED" || answer.status == "VALID" => {
                    results.push(StockUpdateResult::Applied { sku });
                }
                Ok(answer) => {
                    let issues: Vec<String> = answer
                        .issues
                        .iter()
                        .filter(|i| i.severity == "ERROR")
                        .map(|i| format!("{}: {}", i.code, i.message))
                        .collect();
                    let reason = if issues.is_empty() {
                        format!("listing submission {}", answer.status.to_ascii_lowercase())
                    } else {
                        issues.join("; ")
                    };
                    results.push(StockUpdateResult::Rejected { sku, reason });
                }
                Err(e @ AmazonError::Api { kind: ApiErrorKind::Invalid | ApiErrorKind::NotFound, .. }) => {
                    results.push(StockUpdateResult::Rejected { sku, reason: e.to_string() });
                }
                Err(
                    e @ AmazonError::Api {
                        kind:
                            ApiErrorKind::TokenRejected | ApiErrorKind::Unauthenticated | ApiErrorKind::Forbidden,
                        ..
                    },
                ) => return Err(self.settle(e, credentials).await),
                Err(e) => {
                    let reason = e.to_string();
                    results.push(StockUpdateResult::Rejected { sku, reason: reason.clone() });
                    unavailable = Some(reason);
                }
            }
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests;
