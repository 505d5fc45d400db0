//! [`EbayAdapter`]: `Authorizer` and `CommerceChannel` over eBay OAuth, Fulfillment and Inventory (the
//! `SignalVerifier` half is in `signal.rs`).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use custodian_core::data::{Order, StockLevel};
use custodian_core::grant::{GrantEvidence, OwnerId};
use custodian_core::platform::{
    AccountRef, EBAY_FULFILLMENT_READONLY, EBAY_INVENTORY, EbayUserId, Platform, Scope, Task, consent_scopes,
};
use custodian_core::ports::{
    Authorizer, CommerceChannel, ConsentRequest, Credentials, Cursor, OrderQuery, Page, PiiSealer,
    PlatformError, StockUpdate, StockUpdateResult, Target,
};
use secrecy::SecretString;
use time::OffsetDateTime;

use crate::api;
use crate::client::{Bucket, Client, decode};
use crate::config::{EbayConfig, MAX_BULK_REQUESTS, MAX_INVENTORY_PAGE, MAX_ORDERS_PAGE};
use crate::convert;
use crate::signal::KeyCache;
use crate::wire;

/// The eBay adapter. Cheap to clone: clones share the HTTP client, the rate limiter, the application token
/// and the public-key cache.
#[derive(Clone)]
pub struct EbayAdapter {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) client: Client,
    pub(crate) keys: KeyCache,
}

impl fmt::Debug for EbayAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EbayAdapter").field("config", &self.inner.client.config).finish_non_exhaustive()
    }
}

/// Every scope a consent URL of this adapter can ask for: the candidates when discovering what a grant
/// holds.
fn candidate_scopes() -> Vec<String> {
    let tasks = BTreeSet::from([Task::ReadOrders, Task::ReadBuyerPii, Task::UpdateStock]);
    consent_scopes(Platform::Ebay, &tasks)
        .map(|s| s.into_iter().map(|s| s.as_str().to_owned()).collect())
        .unwrap_or_default()
}

fn scope(raw: &str) -> Option<Scope> {
    Scope::new(raw).ok()
}

fn covers(scopes: &BTreeSet<Scope>, required: &str) -> bool {
    scope(required).is_some_and(|r| scopes.iter().any(|s| s.satisfies(&r)))
}

fn parse_cursor(cursor: Option<&Cursor>) -> Result<u64, PlatformError> {
    match cursor {
        None => Ok(0),
        Some(c) => {
            c.0.parse()
                .map_err(|_| PlatformError::Invalid { detail: format!("cursor `{}` is not an offset", c.0) })
        }
    }
}

/// The `offset` query value of a `next` link, if it has one.
fn next_offset(next: &str) -> Option<u64> {
    let query = next.split_once('?')?.1;
    query.split('&').find_map(|pair| pair.strip_prefix("offset=")).and_then(|v| v.parse().ok())
}

impl EbayAdapter {
    /// Builds the adapter: the HTTP client (TLS-1 checked base URLs) and the per-application rate limits.
    pub fn new(config: EbayConfig) -> Result<Self, PlatformError> {
        let keys = KeyCache::new(config.public_key_ttl);
        Ok(Self { inner: Arc::new(Inner { client: Client::new(config)?, keys }) })
    }

    pub fn config(&self) -> &EbayConfig {
        &self.inner.client.config
    }

    fn client(&self) -> &Client {
        &self.inner.client
    }

    fn now(&self) -> OffsetDateTime {
        self.client().now()
    }

    /// Which of `candidates` the grant behind `refresh_token` holds: a refresh may narrow but never widen
    /// the consented scopes (eBay answers `invalid_scope`), so asking is authoritative. One call when all
    /// are held, else one per candidate. The access tokens minted on the way are dropped.
    async fn discover_scopes(&self, refresh_token: &SecretString) -> Result<BTreeSet<Scope>, PlatformError> {
        let candidates = candidate_scopes();
        let all: Vec<&str> = candidates.iter().map(String::as_str).collect();
        match api::oauth::refresh(self.client(), refresh_token, &all).await {
            Ok(_) => return Ok(candidates.iter().filter_map(|s| scope(s)).collect()),
            Err(PlatformError::Forbidden { .. }) => {}
            Err(other) => return Err(other),
        }
        let mut held = BTreeSet::new();
        for candidate in &candidates {
            match api::oauth::refresh(self.client(), refresh_token, &[candidate.as_str()]).await {
                Ok(_) => held.extend(scope(candidate)),
                Err(PlatformError::Forbidden { .. }) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(held)
    }

    /// After a 401 (`1001`): the access token is expired or revoked. A refresh tells which: `invalid_grant`
    /// means the user revoked the app (`Revoked`, AUTH-6); success means the token merely expired (the
    /// original `Unauthorized`, so the caller refreshes and stores the new token).
    async fn explain_unauthorized(&self, credentials: &Credentials, error: PlatformError) -> PlatformError {
        let (PlatformError::Unauthorized { .. }, Some(refresh)) = (&error, &credentials.refresh_token) else {
            return error;
        };
        // One scope the grant holds is enough to ask; without any known, discovery asks.
        let probe = match credentials.scopes.iter().next() {
            Some(first) => api::oauth::refresh(self.client(), refresh, &[first.as_str()]).await.map(|_| ()),
            None => self.discover_scopes(refresh).await.map(|_| ()),
        };
        match probe {
            Err(revoked @ PlatformError::Revoked { .. }) => revoked,
            _ => error,
        }
    }

    async fn call(
        &self,
        credentials: &Credentials,
        bucket: Bucket,
        idempotent: bool,
        build: impl Fn() -> Result<custodian_http::Request, PlatformError>,
    ) -> Result<custodian_http::Response, PlatformError> {
        match self.client().call(bucket, &credentials.access_token, idempotent, build).await {
            Ok(response) => Ok(response),
            Err(error) => Err(self.explain_unauthorized(credentials, error).await),
        }
    }

    /// The seller id from the first order of a getOrders answer, if any.
    fn seller_of(body: &[u8]) -> Result<Option<String>, PlatformError> {
        let page: wire::OrdersPage<wire::PlainOrder<'_>> = decode(body)?;
        Ok(page.orders.into_iter().find_map(|o| o.seller_id.map(|s| s.into_owned())))
    }

    /// Live checks for validation: getOrders (proves the fulfillment scope and names the seller) and
    /// `inventory_item` (proves the inventory scope). A 403 drops the scope from the evidence (AUTH-5).
    async fn probe(
        &self,
        credentials: &Credentials,
        scopes: &BTreeSet<Scope>,
    ) -> Result<(Option<String>, BTreeSet<Scope>), PlatformError> {
        let mut confirmed = BTreeSet::new();
        let mut seller = None;
        if covers(scopes, EBAY_FULFILLMENT_READONLY) || scopes.is_empty() {
            let now = self.now();
            // Orders created in the last 90 days (getOrders' default), then anything modified in two years.
            let windows = [
                None,
                Some(convert::lastmodified_filter(
                    now - time::Duration::days(729),
                    now - time::Duration::seconds(1),
                )),
            ];
            let mut allowed = true;
            for filter in windows {
                let client = self.client();
                let result = self
                    .call(credentials, Bucket::Fulfillment, true, || {
                        let mut url = client.api_url("/sell/fulfillment/v1/order")?;
                        match &filter {
                            Some(f) => url.set_query(Some(&format!("filter={f}&limit=1"))),
                            None => url.set_query(Some("limit=1")),
                        }
                        Ok(custodian_http::Request::get(url))
                    })
                    .await;
                match result {
                    Ok(response) => {
                        seller = Self::seller_of(&response.body)?;
                        if seller.is_some() {
                            break;
                        }
                    }
                    Err(PlatformError::Forbidden { .. }) => {
                        allowed = false;
                        break;
                    }
                    Err(other) => return Err(other),
                }
            }
            if allowed {
                if scopes.is_empty() {
                    confirmed.extend(scope(EBAY_FULFILLMENT_READONLY));
                }
                let readonly = scope(EBAY_FULFILLMENT_READONLY);
                confirmed.extend(
                    scopes.iter().filter(|s| readonly.as_ref().is_some_and(|r| s.satisfies(r))).cloned(),
                );
            }
        }
        if covers(scopes, EBAY_INVENTORY) || scopes.is_empty() {
            let client = self.client();
            match self
                .call(credentials, Bucket::Inventory, true, || {
                    api::inventory::get_inventory_items(client, 1, 0)
                })
                .await
            {
                Ok(_) => {
                    if scopes.is_empty() {
                        confirmed.extend(scope(EBAY_INVENTORY));
                    } else {
                        confirmed.extend(scopes.iter().filter(|s| s.as_str() == EBAY_INVENTORY).cloned());
                    }
                }
                Err(PlatformError::Forbidden { .. }) => {}
                Err(other) => return Err(other),
            }
        }
        Ok((seller, confirmed))
    }
}

#[async_trait]
impl Authorizer for EbayAdapter {
    fn platform(&self) -> Platform {
        Platform::Ebay
    }

    /// Asks for exactly the enabled tasks' scopes (AUTH-4), with the RuName as `redirect_uri` (eBay maps
    /// it to the registered accept URL, so `req.redirect_uri` is not sent) and `prompt=login`.
    fn consent_url(&self, req: &ConsentRequest) -> Result<String, PlatformError> {
        let scopes = consent_scopes(Platform::Ebay, &req.tasks)
            .map_err(|e| PlatformError::Unsupported(e.to_string()))?;
        api::oauth::consent_url(self.client(), &scopes, &req.state)
    }

    /// Exchanges the code (Basic client authentication, `redirect_uri` = RuName), then learns which scopes
    /// the grant holds (eBay's token answer names none) so that refreshes can ask for them.
    async fn exchange(&self, code: &SecretString, _redirect_uri: &str) -> Result<Credentials, PlatformError> {
        let now = self.now();
        let answer = api::oauth::exchange(self.client(), code).await?;
        let refresh_token = answer.refresh_token.map(SecretString::from);
        let mut credentials = Credentials {
            access_token: SecretString::from(answer.access_token),
            refresh_token: None,
            access_expires_at: answer.expires_in.map(|s| now + time::Duration::seconds(s)),
            refresh_expires_at: answer.refresh_token_expires_in.map(|s| now + time::Duration::seconds(s)),
            scopes: BTreeSet::new(),
            accounts: BTreeSet::new(),
        };
        if let Some(refresh) = &refresh_token {
            match self.discover_scopes(refresh).await {
                Ok(scopes) => credentials.scopes = scopes,
                Err(error) => {
                    tracing::debug!(platform = "ebay", error = %error, "scope discovery failed; validation retries")
                }
            }
        }
        credentials.refresh_token = refresh_token;
        Ok(credentials)
    }

    /// A new access token for the grant's scopes (`invalid_grant` → `Revoked`, AUTH-6; `invalid_scope` →
    /// `Forbidden`). eBay keeps the refresh token, so it and its expiry carry over.
    async fn refresh(&self, credentials: &Credentials) -> Result<Credentials, PlatformError> {
        let Some(refresh) = &credentials.refresh_token else {
            return Err(PlatformError::Unauthorized { detail: "no refresh token".into() });
        };
        let scopes = if credentials.scopes.is_empty() {
            self.discover_scopes(refresh).await?
        } else {
            credentials.scopes.clone()
        };
        if scopes.is_empty() {
            return Err(PlatformError::Forbidden {
                detail: "the grant holds none of the scopes custodian asks for".into(),
            });
        }
        let now = self.now();
        let asked: Vec<&str> = scopes.iter().map(Scope::as_str).collect();
        let answer = api::oauth::refresh(self.client(), refresh, &asked).await?;
        Ok(Credentials {
            access_token: SecretString::from(answer.access_token),
            refresh_token: Some(refresh.clone()),
            access_expires_at: answer.expires_in.map(|s| now + time::Duration::seconds(s)),
            refresh_expires_at: credentials.refresh_expires_at,
            scopes,
            accounts: credentials.accounts.clone(),
        })
    }

    /// Validates live (AUTH-2): the scopes the grant holds (from the credentials, else discovered with the
    /// refresh token), confirmed by one cheap call per API (`getOrders?limit=1`, `inventory_item?limit=1`);
    /// the owner and account are the seller id of the seller's orders. Evidence expires with the refresh
    /// token (18 months).
    async fn validate(
        &self,
        credentials: &Credentials,
        now: OffsetDateTime,
    ) -> Result<GrantEvidence, PlatformError> {
        let scopes = match (&credentials.refresh_token, credentials.scopes.is_empty()) {
            (Some(refresh), true) => self.discover_scopes(refresh).await?,
            _ => credentials.scopes.clone(),
        };
        let (seller, confirmed) = self.probe(credentials, &scopes).await?;
        if confirmed.is_empty() {
            return Err(PlatformError::Forbidden {
                detail: "the grant holds none of the scopes custodian asks for".into(),
            });
        }
        let seller = seller.ok_or_else(|| PlatformError::Invalid {
            detail: "ebay named no seller: the account has no order in the last two years, or the grant lacks sell.fulfillment.readonly".into(),
        })?;
        let owner =
            OwnerId::new(seller.as_str()).map_err(|e| PlatformError::Invalid { detail: e.to_string() })?;
        let account =
            EbayUserId::new(seller).map_err(|e| PlatformError::Invalid { detail: e.to_string() })?;
        Ok(GrantEvidence {
            owner,
            accounts: BTreeSet::from([AccountRef::EbayUser(account)]),
            scopes: confirmed,
            expires_at: credentials.refresh_expires_at,
            data_access_expires_at: None,
            validated_at: now,
        })
    }
}

#[async_trait]
impl CommerceChannel for EbayAdapter {
    /// getOrders with `filter=lastmodifieddate:[a..b]` only (percent-encoded; never `creationdate`),
    /// `limit` ≤ 200 and `offset` paging (the cursor is the next offset). eBay always returns buyer and
    /// ship-to PII: without a sealer those containers are skipped unread (MIN-2); with one, the ship-to
    /// (else registration) contact is sealed before the order leaves (ENC-1).
    async fn orders(
        &self,
        target: &Target,
        credentials: &Credentials,
        query: &OrderQuery,
        cursor: Option<Cursor>,
        pii: Option<PiiSealer>,
    ) -> Result<Page<Order>, PlatformError> {
        let offset = parse_cursor(cursor.as_ref())?;
        if query.updated_before <= query.updated_after {
            return Ok(Page { items: Vec::new(), next: None });
        }
        let filter = convert::lastmodified_filter(query.updated_after, query.updated_before);
        let limit = self.config().orders_page_size.clamp(1, MAX_ORDERS_PAGE);
        let client = self.client();
        let response = self
            .call(credentials, Bucket::Fulfillment, true, || {
                api::orders::get_orders(client, &filter, limit, offset)
            })
            .await?;
        let in_window =
            |o: &Order| query.updated_after <= o.updated_at && o.updated_at < query.updated_before;
        let (items, total, more, count) = match &pii {
            None => {
                let page: wire::OrdersPage<wire::PlainOrder<'_>> = decode(&response.body)?;
                let mut items = Vec::with_capacity(page.orders.len());
                for (i, o) in page.orders.iter().enumerate() {
                    items.push(convert::order(target, i, o, None)?);
                }
                (items, page.total, page.next.is_some(), page.orders.len())
            }
            Some(sealer) => {
                let page: wire::OrdersPage<wire::PiiOrder<'_>> = decode(&response.body)?;
                let mut items = Vec::with_capacity(page.orders.len());
                for (i, o) in page.orders.iter().enumerate() {
                    let buyer = convert::buyer_pii(o).map(|p| (p, sealer));
                    items.push(convert::order(target, i, o, buyer)?);
                }
                (items, page.total, page.next.is_some(), page.orders.len())
            }
        };
        let next_offset = offset.saturating_add(count as u64);
        let more = more && count > 0 && total.is_none_or(|t| next_offset < t);
        let items = items.into_iter().filter(in_window).collect();
        Ok(Page { items, next: more.then(|| Cursor(next_offset.to_string())) })
    }

    /// `GET inventory_item` pages (the cursor is the page number the spec's `offset` takes); one level per
    /// SKU, its total ship-to-home quantity, without a location.
    async fn stock(
        &self,
        target: &Target,
        credentials: &Credentials,
        cursor: Option<Cursor>,
    ) -> Result<Page<StockLevel>, PlatformError> {
        let page = parse_cursor(cursor.as_ref())?;
        let limit = self.config().inventory_page_size.clamp(1, MAX_INVENTORY_PAGE);
        let client = self.client();
        let response = self
            .call(credentials, Bucket::Inventory, true, || {
                api::inventory::get_inventory_items(client, limit, page)
            })
            .await?;
        let body: wire::InventoryItems = decode(&response.body)?;
        let observed_at = self.now();
        let items = body
            .inventory_items
            .iter()
            .filter_map(|item| convert::stock_level(target, item, observed_at))
            .collect::<Result<Vec<_>, _>>()?;
        let next = match (&body.next, body.inventory_items.is_empty()) {
            (Some(link), false) => Some(next_offset(link).filter(|n| *n > page).unwrap_or(page + 1)),
            _ => None,
        };
        Ok(Page { items, next: next.map(|n| Cursor(n.to_string())) })
    }

    /// `bulk_update_price_quantity` in batches of 25, setting each SKU's total ship-to-home quantity; the
    /// per-item `statusCode` of a 200 or 207 answer becomes `Applied` or `Rejected` (with the `errorId`).
    /// eBay sets one total per SKU, so an update naming a location is rejected without a call.
    async fn set_stock(
        &self,
        _target: &Target,
        credentials: &Credentials,
        updates: &[StockUpdate],
    ) -> Result<Vec<StockUpdateResult>, PlatformError> {
        let mut results = Vec::with_capacity(updates.len());
        for chunk in updates.chunks(MAX_BULK_REQUESTS) {
            let sendable: Vec<&StockUpdate> = chunk.iter().filter(|u| u.location.is_none()).collect();
            let mut answers: HashMap<String, VecDeque<wire::PriceQuantityResponse>> = HashMap::new();
            if !sendable.is_empty() {
                let body = wire::BulkPriceQuantity {
                    requests: sendable
                        .iter()
                        .map(|u| wire::PriceQuantity {
                            sku: u.sku.as_str(),
                            ship_to_location_availability: wire::ShipToLocationAvailability {
                                quantity: Some(i64::from(u.quantity)),
                            },
                        })
                        .collect(),
                };
                let client = self.client();
                let response = self
                    .call(credentials, Bucket::Inventory, false, || {
                        api::inventory::bulk_update_price_quantity(client, &body)
                    })
                    .await?;
                let parsed: wire::BulkPriceQuantityResponse = decode(&response.body)?;
                for answer in parsed.responses {
                    answers.entry(answer.sku.clone().unwrap_or_default()).or_default().push_back(answer);
                }
            }
            for update in chunk {
                let sku = update.sku.clone();
                if update.location.is_some() {
                    results.push(StockUpdateResult::Rejected {
                        sku,
                        reason:
                            "ebay sets one ship-to-home total per sku; per-location updates are not supported"
                                .into(),
                    });
                    continue;
                }
                let answer = answers.get_mut(update.sku.as_str()).and_then(VecDeque::pop_front);
                results.push(match answer {
                    Some(a) if a.status_code == Some(200) => StockUpdateResult::Applied { sku },
                    Some(a) => {
                        let reason = match a.errors.first() {
                            Some(e) => format!(
                                "ebay status {}: error {}: {}",
                                a.status_code.unwrap_or(0),
                                e.error_id.unwrap_or(0),
                                e.message.as_deref().unwrap_or("")
                            ),
                            None => format!("ebay status {}", a.status_code.unwrap_or(0)),
                        };
                        StockUpdateResult::Rejected { sku, reason }
                    }
                    None => StockUpdateResult::Rejected {
                        sku,
                        reason: "ebay returned no result for this sku".into(),
                    },
                });
            }
        }
        Ok(results)
    }
}
