//! [`TikTokShopAdapter`]: `Authorizer`, `CommerceChannel` and `SignalVerifier` for TikTok Shop.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use custodian_core::data::{Order, StockLevel};
use custodian_core::grant::{GrantEvidence, OwnerId};
use custodian_core::platform::{AccountRef, Platform, Scope, TikTokShopId, consent_scopes};
use custodian_core::ports::{
    Authorizer, CommerceChannel, ConsentRequest, Credentials, Cursor, OrderQuery, Page, PiiSealer,
    PlatformError, RawSignal, SignalError, SignalVerifier, StockUpdate, StockUpdateResult, Target,
    VerifiedSignal,
};
use custodian_http::Url;
use secrecy::SecretString;
use time::OffsetDateTime;

use crate::api;
use crate::client::{Client, ShopScope};
use crate::config::TikTokShopConfig;
use crate::convert;
use crate::error::{ErrorKind, TikTokShopError};
use crate::signal;
use crate::wire::{
    InventoryUpdateBody, OrderPage, OrderWire, Plain, TokenData, UpdateInventoryBody, UpdateSkuBody, WithPii,
};

/// The TikTok Shop adapter. Cheap to clone: clones share the HTTP client, the rate limiter and the cache of
/// shop ciphers.
#[derive(Clone)]
pub struct TikTokShopAdapter {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    /// Shop id → cipher, from the authorized-shops call. Ciphers are not secrets (they name a shop; the
    /// token decides access).
    ciphers: Mutex<HashMap<String, String>>,
}

impl fmt::Debug for TikTokShopAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TikTokShopAdapter")
            .field("config", self.config())
            .field("known_shops", &self.ciphers().len())
            .finish_non_exhaustive()
    }
}

/// The end of a window as TikTok Shop's whole seconds: `t <= x` for an order's second `x` iff `ceil(t) <= x`.
fn ceil_unix(t: OffsetDateTime) -> i64 {
    let seconds = t.unix_timestamp();
    if t.nanosecond() > 0 { seconds + 1 } else { seconds }
}

/// An absolute expiry from TikTok Shop (`0` or less: none given).
fn expiry(unix: i64) -> Option<OffsetDateTime> {
    if unix <= 0 { None } else { OffsetDateTime::from_unix_timestamp(unix).ok() }
}

fn scopes(raw: &[String]) -> BTreeSet<Scope> {
    raw.iter().filter_map(|s| Scope::new(s.as_str()).ok()).collect()
}

fn credentials(data: TokenData) -> Credentials {
    Credentials {
        access_expires_at: expiry(data.access_token_expire_in),
        refresh_expires_at: expiry(data.refresh_token_expire_in),
        scopes: scopes(&data.granted_scopes),
        accounts: BTreeSet::new(),
        access_token: data.access_token,
        refresh_token: Some(data.refresh_token),
    }
}

/// One inventory-update call: updates (by index) of one product, at most 100 SKUs, each (SKU, warehouse)
/// once.
struct Batch {
    product: String,
    entries: Vec<usize>,
}

const MAX_SKUS_PER_UPDATE: usize = 100;

impl TikTokShopAdapter {
    /// Builds the adapter; fails if a configured URL breaks TLS-1 or the HTTP client cannot be built.
    pub fn new(config: TikTokShopConfig) -> Result<Self, TikTokShopError> {
        let client = Client::new(&config)?;
        Ok(Self { inner: Arc::new(Inner { client, ciphers: Mutex::new(HashMap::new()) }) })
    }

    pub fn config(&self) -> &TikTokShopConfig {
        self.inner.client.config()
    }

    fn client(&self) -> &Client {
        &self.inner.client
    }

    fn ciphers(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.inner.ciphers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The authorized shops of `token` as accounts, remembering their ciphers.
    async fn authorized_shops(&self, token: &SecretString) -> Result<BTreeSet<AccountRef>, TikTokShopError> {
        let shops = api::shops::authorized_shops(self.client(), token).await?;
        let mut accounts = BTreeSet::new();
        let mut ciphers = Vec::with_capacity(shops.len());
        for shop in shops {
            let id = TikTokShopId::new(shop.id.as_str())
                .map_err(|_| TikTokShopError::Data("a shop id is not digits".to_owned()))?;
            accounts.insert(AccountRef::TikTokShop(id));
            ciphers.push((shop.id, shop.cipher));
        }
        self.ciphers().extend(ciphers);
        Ok(accounts)
    }

    /// The target's shop id and cipher (AUTH-3: a shop the credentials do not authorize is `Forbidden`).
    async fn shop(
        &self,
        target: &Target,
        credentials: &Credentials,
    ) -> Result<(String, String), PlatformError> {
        let AccountRef::TikTokShop(id) = &target.account else {
            return Err(PlatformError::Invalid {
                detail: format!("`{}` is not a tiktok shop", target.account),
            });
        };
        let id = id.as_str();
        if let Some(cipher) = self.ciphers().get(id) {
            return Ok((id.to_owned(), cipher.clone()));
        }
        self.authorized_shops(&credentials.access_token).await?;
        match self.ciphers().get(id) {
            Some(cipher) => Ok((id.to_owned(), cipher.clone())),
            None => Err(PlatformError::Forbidden {
                detail: format!("shop `{id}` is not among the shops these credentials authorize"),
            }),
        }
    }

    /// Converts a page of orders, sealing buyer PII when a sealer is given, and drops orders TikTok Shop
    /// reports outside the window (its docs warn update times may move during a search).
    fn orders_page<E, A>(
        target: &Target,
        query: &OrderQuery,
        page: OrderPage<'_, OrderWire<'_, E, A>>,
        mut buyer: impl FnMut(&mut Order, Option<E>, Option<A>) -> Result<(), TikTokShopError>,
    ) -> Result<Page<Order>, TikTokShopError> {
        let mut items = Vec::with_capacity(page.orders.len());
        for wire in page.orders {
            let (mut order, email, address) = convert::order(target, wire)?;
            if order.updated_at < query.updated_after || order.updated_at >= query.updated_before {
                continue;
            }
            buyer(&mut order, email, address)?;
            items.push(order);
        }
        let next = (!page.next_page_token.is_empty()).then(|| Cursor(page.next_page_token.into_owned()));
        Ok(Page { items, next })
    }

    /// Resolves the product of each SKU id (inventory search, 100 ids per call).
    async fn products_of(
        &self,
        token: &SecretString,
        shop: ShopScope<'_>,
        skus: &[&str],
    ) -> Result<HashMap<String, String>, TikTokShopError> {
        let mut product_of = HashMap::new();
        for chunk in skus.chunks(api::products::MAX_SEARCH_IDS) {
            let data = api::products::inventory_search(self.client(), token, shop, chunk).await?;
            for product in data.inventory {
                for sku in product.skus {
                    product_of.insert(sku.id, product.product_id.clone());
                }
            }
        }
        Ok(product_of)
    }
}

/// Groups updates (by index, in order) into inventory-update calls: one per product, at most 100 SKUs, and a
/// (SKU, warehouse) repeated in the same call starts a later call, so the last update wins.
fn batches(updates: &[StockUpdate], pending: &[(usize, String)]) -> Vec<Batch> {
    let mut batches: Vec<Batch> = Vec::new();
    let mut open: HashMap<&str, usize> = HashMap::new();
    for (index, product) in pending {
        let update = &updates[*index];
        let fits = open.get(product.as_str()).is_some_and(|&b| {
            let batch = &batches[b];
            let same = |i: &usize| updates[*i].sku == update.sku && updates[*i].location == update.location;
            let mut skus: Vec<&str> = batch.entries.iter().map(|i| updates[*i].sku.as_str()).collect();
            skus.sort_unstable();
            skus.dedup();
            !batch.entries.iter().any(same)
                && (skus.len() < MAX_SKUS_PER_UPDATE || skus.contains(&update.sku.as_str()))
        });
        if fits {
            if let Some(&b) = open.get(product.as_str()) {
                batches[b].entries.push(*index);
            }
        } else {
            open.insert(product.as_str(), batches.len());
            batches.push(Batch { product: product.clone(), entries: vec![*index] });
        }
    }
    batches
}

/// The body of one batch: its SKUs in first-appearance order, each with its warehouses.
fn update_body<'a>(updates: &'a [StockUpdate], batch: &Batch) -> InventoryUpdateBody<'a> {
    let mut skus: Vec<UpdateSkuBody<'a>> = Vec::new();
    for &i in &batch.entries {
        let update = &updates[i];
        let entry = UpdateInventoryBody {
            warehouse_id: update.location.as_ref().map(|l| l.as_str()),
            quantity: update.quantity,
        };
        match skus.iter_mut().find(|s| s.id == update.sku.as_str()) {
            Some(sku) => sku.inventory.push(entry),
            None => skus.push(UpdateSkuBody { id: update.sku.as_str(), inventory: vec![entry] }),
        }
    }
    InventoryUpdateBody { skus }
}

#[async_trait]
impl Authorizer for TikTokShopAdapter {
    fn platform(&self) -> Platform {
        Platform::TikTokShop
    }

    /// `{authorize_url}?service_id=…&state=…&scope=…` with exactly the consent scopes of the tasks (AUTH-4);
    /// TikTok Shop's page itself ignores `scope` (packages are the app's).
    fn consent_url(&self, req: &ConsentRequest) -> Result<String, PlatformError> {
        let scopes = consent_scopes(Platform::TikTokShop, &req.tasks)
            .map_err(|e| PlatformError::Unsupported(e.to_string()))?;
        let joined: Vec<&str> = scopes.iter().map(Scope::as_str).collect();
        let mut url = Url::parse(&self.config().authorize_url)
            .map_err(|_| PlatformError::Invalid { detail: "the authorize url is not a url".to_owned() })?;
        url.query_pairs_mut()
            .append_pair("service_id", &self.config().service_id)
            .append_pair("state", &req.state)
            .append_pair("scope", &joined.join(","));
        Ok(url.into())
    }

    #[tracing::instrument(skip_all, fields(platform = "tiktok-shop"))]
    async fn exchange(&self, code: &SecretString, _redirect_uri: &str) -> Result<Credentials, PlatformError> {
        let data = api::auth::get_token(self.client(), code).await?;
        Ok(credentials(data))
    }

    #[tracing::instrument(skip_all, fields(platform = "tiktok-shop"))]
    async fn refresh(&self, credentials: &Credentials) -> Result<Credentials, PlatformError> {
        let Some(refresh) = &credentials.refresh_token else {
            return Err(PlatformError::Unauthorized {
                detail: "the credentials have no refresh token".to_owned(),
            });
        };
        let data = api::auth::refresh_token(self.client(), refresh).await?;
        Ok(self::credentials(data))
    }

    /// AUTH-2: refreshes (the only answer that names the seller's `open_id`, the granted packages and the
    /// authorization's end; the refresh token and earlier access tokens stay valid) and lists the authorized
    /// shops with the fresh token. Credentials without a refresh token cannot be validated.
    #[tracing::instrument(skip_all, fields(platform = "tiktok-shop"))]
    async fn validate(
        &self,
        credentials: &Credentials,
        now: OffsetDateTime,
    ) -> Result<GrantEvidence, PlatformError> {
        let Some(refresh) = &credentials.refresh_token else {
            return Err(PlatformError::Unauthorized {
                detail: "the credentials have no refresh token, so the seller cannot be identified"
                    .to_owned(),
            });
        };
        let data = api::auth::refresh_token(self.client(), refresh).await?;
        let owner = OwnerId::new(data.open_id.as_str())
            .map_err(|_| TikTokShopError::Data("the open_id is not an id".to_owned()))?;
        let accounts = self.authorized_shops(&data.access_token).await?;
        Ok(GrantEvidence {
            owner,
            accounts,
            scopes: scopes(&data.granted_scopes),
            expires_at: expiry(data.refresh_token_expire_in),
            data_access_expires_at: None,
            validated_at: now,
        })
    }
}

#[async_trait]
impl CommerceChannel for TikTokShopAdapter {
    /// Orders updated in the window, oldest update first. Without a sealer the buyer fields are skipped by
    /// serde and never held (MIN-2); with one they are sealed before the order leaves (ENC-1).
    #[tracing::instrument(skip_all, fields(platform = "tiktok-shop"))]
    async fn orders(
        &self,
        target: &Target,
        credentials: &Credentials,
        query: &OrderQuery,
        cursor: Option<Cursor>,
        pii: Option<PiiSealer>,
    ) -> Result<Page<Order>, PlatformError> {
        let (id, cipher) = self.shop(target, credentials).await?;
        let shop = ShopScope { id: &id, cipher: &cipher };
        let (ge, lt) = (ceil_unix(query.updated_after), ceil_unix(query.updated_before));
        let token = &credentials.access_token;
        let page_token = cursor.as_ref().map(|c| c.0.as_str());
        let client = self.client();
        let page = match pii {
            None => {
                api::orders::search::<Plain, _>(client, token, shop, ge, lt, page_token, |page| {
                    Self::orders_page(target, query, page, |_, _, _| Ok(()))
                })
                .await?
            }
            Some(sealer) => {
                api::orders::search::<WithPii, _>(client, token, shop, ge, lt, page_token, |page| {
                    Self::orders_page(target, query, page, |order, email, address| {
                        match convert::buyer(email, address) {
                            Some(pii) => convert::seal_buyer(order, pii, &sealer),
                            None => Ok(()),
                        }
                    })
                })
                .await?
            }
        };
        Ok(page)
    }

    #[tracing::instrument(skip_all, fields(platform = "tiktok-shop"))]
    async fn stock(
        &self,
        target: &Target,
        credentials: &Credentials,
        cursor: Option<Cursor>,
    ) -> Result<Page<StockLevel>, PlatformError> {
        let (id, cipher) = self.shop(target, credentials).await?;
        let shop = ShopScope { id: &id, cipher: &cipher };
        let page_token = cursor.as_ref().map(|c| c.0.as_str());
        let page = api::products::search(self.client(), &credentials.access_token, shop, page_token).await?;
        let items = convert::stock_levels(target, page.products, self.config().clock.now())?;
        let next = (!page.next_page_token.is_empty()).then_some(Cursor(page.next_page_token));
        Ok(Page { items, next })
    }

    /// Absolute quantities per warehouse (a missing location is the shop's default warehouse): each SKU's
    /// product is looked up (inventory search), then one update call per product carries all its SKUs and
    /// warehouses. A refusal of a call (unknown product or warehouse, quantity out of range) rejects that
    /// call's updates; an authorization, rate or availability failure fails the whole call.
    #[tracing::instrument(skip_all, fields(platform = "tiktok-shop", updates = updates.len()))]
    async fn set_stock(
        &self,
        target: &Target,
        credentials: &Credentials,
        updates: &[StockUpdate],
    ) -> Result<Vec<StockUpdateResult>, PlatformError> {
        let (id, cipher) = self.shop(target, credentials).await?;
        let shop = ShopScope { id: &id, cipher: &cipher };
        let token = &credentials.access_token;
        let mut results: Vec<Option<StockUpdateResult>> = vec![None; updates.len()];
        let reject = |update: &StockUpdate, reason: &str| StockUpdateResult::Rejected {
            sku: update.sku.clone(),
            reason: reason.to_owned(),
        };

        let mut skus: Vec<&str> = Vec::new();
        for (i, update) in updates.iter().enumerate() {
            let sku = update.sku.as_str();
            if sku.is_empty() || !sku.bytes().all(|b| b.is_ascii_digit()) {
                results[i] = Some(reject(update, "not a tiktok shop sku id"));
            } else if !skus.contains(&sku) {
                skus.push(sku);
            }
        }
        let product_of = self.products_of(token, shop, &skus).await?;
        let mut pending = Vec::new();
        for (i, update) in updates.iter().enumerate() {
            if results[i].is_some() {
                continue;
            }
            match product_of.get(update.sku.as_str()) {
                Some(product) => pending.push((i, product.clone())),
                None => results[i] = Some(reject(update, "the shop has no such sku")),
            }
        }

        for batch in batches(updates, &pending) {
            let body = update_body(updates, &batch);
            match api::products::update_inventory(self.client(), token, shop, &batch.product, &body).await {
                Ok(data) => {
                    for &i in &batch.entries {
                        let update = &updates[i];
                        let applied =
                            data.skus.iter().find(|s| s.id == update.sku.as_str()).and_then(|s| s.success)
                                != Some(false);
                        results[i] = Some(if applied {
                            StockUpdateResult::Applied { sku: update.sku.clone() }
                        } else {
                            reject(update, "tiktok shop did not apply the update")
                        });
                    }
                }
                Err(error) if matches!(error.kind(), Some(ErrorKind::Invalid | ErrorKind::NotFound)) => {
                    let reason = error.to_string();
                    for &i in &batch.entries {
                        results[i] = Some(reject(&updates[i], &reason));
                    }
                }
                Err(error) => return Err(error.into()),
            }
        }
        Ok(results
            .into_iter()
            .zip(updates)
            .map(|(result, update)| result.unwrap_or_else(|| reject(update, "not sent")))
            .collect())
    }
}

#[async_trait]
impl SignalVerifier for TikTokShopAdapter {
    fn platform(&self) -> Platform {
        Platform::TikTokShop
    }

    async fn verify(&self, raw: &RawSignal) -> Result<VerifiedSignal, SignalError> {
        let config = self.config();
        signal::verify(&config.app_key, &config.app_secret, config.signal_max_age, raw)
    }
}

#[cfg(test)]
mod tests;
