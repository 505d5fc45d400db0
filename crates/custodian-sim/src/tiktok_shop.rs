//! The simulated TikTok Shop Partner API (Open API 202309), after `shared/reference/commerce-apis.md` §1.
//!
//! # Hosts and paths
//!
//! Under the platform prefix `/tiktok-shop`, each sub-prefix stands for one real host:
//!
//! | sub-prefix  | real host                               | paths served                                                     |
//! |-------------|-----------------------------------------|------------------------------------------------------------------|
//! | `/auth`     | `https://auth.tiktok-shops.com`         | `GET /api/v2/token/get`, `GET /api/v2/token/refresh`, `GET /oauth/authorize` (legacy consent link) |
//! | `/services` | `https://services.tiktokshop.com`       | `GET /open/authorize?service_id=…&state=…` (current consent link) |
//! | `/open-api` | `https://open-api.tiktokglobalshop.com` | `GET /authorization/202309/shops`, `POST /order/202309/orders/search`, `GET /order/202309/orders?ids=…`, `POST /product/202309/products/search`, `POST /product/202309/inventory/search`, `POST /product/202309/products/{product_id}/inventory/update` |
//!
//! So an adapter's bases are `{sim}/tiktok-shop/auth`, `{sim}/tiktok-shop/services/open/authorize` and
//! `{sim}/tiktok-shop/open-api`; the signature is computed over the API path as the real host sees it
//! (`/authorization/202309/shops`, without the simulator's prefixes).
//!
//! # Authorization (§1.1)
//! The consent pages answer as if the seller approved at once: a `302` to the app's redirect URI with
//! `code` and `state` (tests skip the browser with [`TikTokShopSim::issue_code`]). The token endpoints are
//! GETs with `app_key`, `app_secret` and `auth_code` or `refresh_token` in the query, always HTTP 200, success
//! being `code == 0`; the data carries `access_token`, `access_token_expire_in` and `refresh_token_expire_in`
//! as **absolute** Unix times, `open_id`, `seller_name`, `seller_base_region`, `user_type` and
//! `granted_scopes`. A code works once (then `36004004`); a refresh keeps the refresh token and its expiry,
//! issues a new access token and leaves earlier access tokens valid until their own expiry; an expired
//! refresh token is `36004001` "rt has expired", an unknown or revoked one `36004005` "can not find related
//! auth record". Revoking an authorization (the seller deauthorized the app, [`TikTokShopSim::deauthorize`],
//! or the fault [`crate::FaultKind::RevokeTokens`]) makes every token of it `105001`; a new consent starts a
//! new authorization.
//!
//! # Open API gateway (§1.2)
//! Every Open API request is checked, in this order: the path (`36009009` "Invalid path", HTTP 404), the
//! `app_key`, the `sign` (exactly the official algorithm: query parameters without `sign` and
//! `access_token`, sorted by key, `{key}{value}` concatenated after the path, then the exact body bytes
//! unless the content type is `multipart/form-data`, wrapped in the app secret, HMAC-SHA256 with the app
//! secret, lowercase hex; a wrong or missing `sign` or app key is `106001` "Invalid credentials", HTTP 401),
//! the `timestamp` (10 digits, within 5 minutes of the server clock, else `36009004`), the
//! `x-tts-access-token` header (`105001` invalid, `105002` expired, HTTP 401), the API package (scope) of
//! the endpoint (`105005` "you should apply auth pkg for this api", HTTP 403), `shop_cipher` on shop-scoped
//! calls (missing, unknown or not authorized by the token: `36009004`, HTTP 400), and the rate limit.
//!
//! # Rate limit
//! TikTok Shop publishes no per-endpoint table (reference §1.5). The simulator enforces **50 requests per
//! second per app and shop, burst 50** (a third-party figure, "50 req/sec per store"; configurable in
//! [`TikTokShopConfig::rate_limit`]) over every Open API call of the shop, and 50/s per app for the
//! shop-less `/authorization/202309/shops`. Over the limit the answer is HTTP 429 with code `36009002`
//! "Too many requests. You've made too many requests in a short period of time." (the message of the
//! official error tables) and no `Retry-After` (none is documented).
//!
//! # Data
//! Orders, products and stock are generated on the fly from the seed (any volume, nothing materialized
//! except stock quantities that were set). Order `i` of a shop is created at `orders_start_unix + i ·
//! order_interval_secs` and updated within the same interval, so create and update times both increase
//! with `i`. Orders carry the buyer PII fields the real API returns (`buyer_email` as a relay address,
//! `user_id`, `recipient_address` with name, phone, address lines, `district_info`, postal code), except
//! `recipient_address` under `UNPAID` and `ON_HOLD` (as documented); name and phone are desensitized when
//! the shipping type is `TIKTOK` (platform logistics). Line items are one unit each, as in the real API.
//!
//! # Webhooks (§1.3)
//! [`TikTokShopSim::send_notification`] POSTs `{type, tts_notification_id, shop_id, timestamp, data}` to
//! [`TikTokShopConfig::webhook_url`] with `Authorization` = lowercase hex HMAC-SHA256 (key: app secret) of
//! the app key followed by the raw body. Types: 6 `SELLER_DEAUTHORIZATION`, 7
//! `UPCOMING_AUTHORIZATION_EXPIRATION` (`data.expiration_time`).
//!
//! Codes and statuses the reference marks as unknown are chosen here and marked `[UNVERIFIED]` in
//! [`codes`].

mod auth;
pub mod codes;
mod gateway;
mod notify;
mod orders;
mod products;
mod sign;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{any, get};

use crate::SimContext;
use crate::faults::FaultRender;
use crate::rate::{Limit, Limiter};

pub use notify::{NotificationKind, NotifyError, SignedNotification};
pub use sign::{sign_request, sign_webhook};

/// The simulated app's key (fake value).
pub const APP_KEY: &str = "6c3ss9h2kq4mt";
/// The simulated app's secret (fake value).
pub const APP_SECRET: &str = "5f0e3c1d9b7a4e2f8c6d0b1a3e5f7c9d2b4a6e8f";
/// The app's service id, used by the current consent link.
pub const SERVICE_ID: &str = "7300000000000000001";
/// The app's registered redirect URI.
pub const REDIRECT_URI: &str = "https://custodian.invalid/oauth/tiktok-shop/callback";
/// The default seller's `open_id`.
pub const SELLER_OPEN_ID: &str = "_VIz-sim0000000000000000000000000";
/// The default seller's first shop id.
pub const SHOP_ID: &str = "7494049642642441621";
/// The default seller's first shop cipher.
pub const SHOP_CIPHER: &str = "ROW_sim5kq2AAAAABh00qsWgtvOiGFNqyubMt3";
/// The default seller's second shop id.
pub const SHOP_ID_2: &str = "7494049642642441622";
/// The default seller's second shop cipher.
pub const SHOP_CIPHER_2: &str = "ROW_sim5kq2AAAAABh00qsWgtvOiGFNqyubMt4";
/// Unix time of the first order of every shop by default: 2024-01-01T00:00:00Z.
pub const ORDERS_START: i64 = 1_704_067_200;
/// Seconds between two orders of a shop by default.
pub const ORDER_INTERVAL: i64 = 600;
/// The API packages (scopes) the default app holds.
pub const DEFAULT_SCOPES: &[&str] = &[
    "seller.authorization.info",
    "seller.shop.info",
    "seller.order.info",
    "seller.product.basic",
    "seller.product.write",
    "seller.fulfillment.basic",
];

/// A shop of a seller, with the volume of data the simulator generates for it.
#[derive(Debug, Clone)]
pub struct ShopConfig {
    /// The shop id (digits).
    pub id: String,
    pub name: String,
    /// Two-letter region, e.g. `GB`.
    pub region: String,
    /// `LOCAL` or `CROSS_BORDER`.
    pub seller_type: String,
    /// The cipher passed as `shop_cipher`.
    pub cipher: String,
    /// The shop code, e.g. `CNGBCBA4LLU8`.
    pub code: String,
    pub currency: String,
    /// How many orders the shop has (any volume).
    pub orders: u64,
    /// How many products the shop lists (at least 1).
    pub products: u64,
    /// SKUs per product (1 to 100).
    pub skus_per_product: u32,
    /// Warehouse ids (at least one); the first is the default warehouse.
    pub warehouses: Vec<String>,
}

/// A seller who authorizes the app for all their shops.
#[derive(Debug, Clone)]
pub struct SellerConfig {
    pub open_id: String,
    pub seller_name: String,
    pub base_region: String,
    pub shops: Vec<ShopConfig>,
}

/// Settings of the simulated platform: the app registration, the sellers and their data, limits.
#[derive(Debug, Clone)]
pub struct TikTokShopConfig {
    pub app_key: String,
    pub app_secret: String,
    pub service_id: String,
    /// Where the consent pages send the seller back.
    pub redirect_uri: String,
    /// The API packages the app holds; consents grant these.
    pub scopes: Vec<String>,
    pub sellers: Vec<SellerConfig>,
    /// Where notifications are POSTed.
    pub webhook_url: Option<String>,
    /// Lifetime of access tokens (default 7 days).
    pub access_token_ttl_secs: i64,
    /// Lifetime of the authorization's refresh token (default 365 days).
    pub refresh_token_ttl_secs: i64,
    /// Lifetime of an authorization code (default 10 minutes).
    pub auth_code_ttl_secs: i64,
    /// Creation time of every shop's first order.
    pub orders_start_unix: i64,
    /// Seconds between two orders (at least 1).
    pub order_interval_secs: i64,
    /// Requests per second and burst per app and shop.
    pub rate_limit: Limit,
    /// How far the `timestamp` parameter may be from the server clock (default 300 s).
    pub timestamp_tolerance_secs: i64,
}

impl Default for TikTokShopConfig {
    /// A working demo app: one seller with two shops (250 and 40 orders; 20 products × 3 SKUs × 2
    /// warehouses and 5 products × 2 SKUs × 1 warehouse).
    fn default() -> Self {
        Self {
            app_key: APP_KEY.to_owned(),
            app_secret: APP_SECRET.to_owned(),
            service_id: SERVICE_ID.to_owned(),
            redirect_uri: REDIRECT_URI.to_owned(),
            scopes: DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            sellers: vec![SellerConfig {
                open_id: SELLER_OPEN_ID.to_owned(),
                seller_name: "Maomao beauty".to_owned(),
                base_region: "GB".to_owned(),
                shops: vec![
                    ShopConfig {
                        id: SHOP_ID.to_owned(),
                        name: "Maomao beauty shop".to_owned(),
                        region: "GB".to_owned(),
                        seller_type: "LOCAL".to_owned(),
                        cipher: SHOP_CIPHER.to_owned(),
                        code: "GBLCSIM4LLU8".to_owned(),
                        currency: "GBP".to_owned(),
                        orders: 250,
                        products: 20,
                        skus_per_product: 3,
                        warehouses: vec!["7068517275539719942".to_owned(), "7068517275539719943".to_owned()],
                    },
                    ShopConfig {
                        id: SHOP_ID_2.to_owned(),
                        name: "Maomao outlet".to_owned(),
                        region: "GB".to_owned(),
                        seller_type: "LOCAL".to_owned(),
                        cipher: SHOP_CIPHER_2.to_owned(),
                        code: "GBLCSIM4LLU9".to_owned(),
                        currency: "GBP".to_owned(),
                        orders: 40,
                        products: 5,
                        skus_per_product: 2,
                        warehouses: vec!["7068517275539719944".to_owned()],
                    },
                ],
            }],
            webhook_url: None,
            access_token_ttl_secs: 7 * 86_400,
            refresh_token_ttl_secs: 365 * 86_400,
            auth_code_ttl_secs: 600,
            orders_start_unix: ORDERS_START,
            order_interval_secs: ORDER_INTERVAL,
            rate_limit: Limit::new(50.0, 50.0),
            timestamp_tolerance_secs: 300,
        }
    }
}

impl TikTokShopConfig {
    /// Every shop with its seller index and its global index (the coordinate of its generated data).
    fn shops(&self) -> impl Iterator<Item = ShopRef<'_>> {
        self.sellers
            .iter()
            .enumerate()
            .flat_map(|(seller, s)| s.shops.iter().map(move |shop| (seller, shop)))
            .enumerate()
            .map(|(index, (seller, shop))| ShopRef { index: index as u64, seller, shop })
    }

    fn shop_by_cipher(&self, cipher: &str) -> Option<ShopRef<'_>> {
        self.shops().find(|s| s.shop.cipher == cipher)
    }

    fn shop_by_id(&self, id: &str) -> Option<ShopRef<'_>> {
        self.shops().find(|s| s.shop.id == id)
    }
}

/// A shop and where it sits.
#[derive(Debug, Clone, Copy)]
struct ShopRef<'a> {
    /// Global index over all sellers' shops.
    index: u64,
    seller: usize,
    shop: &'a ShopConfig,
}

/// The simulated platform's state.
#[derive(Debug)]
pub struct TikTokShopSim {
    ctx: SimContext,
    config: TikTokShopConfig,
    auth: Mutex<auth::AuthState>,
    /// Quantities set through the inventory update, by (shop index, sku id, warehouse id).
    stock: Mutex<HashMap<(u64, u64, String), u32>>,
    limiter: Limiter,
    requests: AtomicU64,
}

impl TikTokShopSim {
    pub fn new(ctx: SimContext, config: TikTokShopConfig) -> Self {
        let auth = auth::AuthState::new(config.sellers.len());
        Self {
            ctx,
            config,
            auth: Mutex::new(auth),
            stock: Mutex::new(HashMap::new()),
            limiter: Limiter::default(),
            requests: AtomicU64::new(0),
        }
    }

    /// The shared context (seed, faults, clock).
    pub fn ctx(&self) -> &SimContext {
        &self.ctx
    }

    /// The settings.
    pub fn config(&self) -> &TikTokShopConfig {
        &self.config
    }

    /// The routes, relative to the platform's prefix.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/auth/api/v2/token/get", get(auth::token_get))
            .route("/auth/api/v2/token/refresh", get(auth::token_refresh))
            .route("/auth/oauth/authorize", get(auth::legacy_authorize))
            .route("/services/open/authorize", get(auth::authorize))
            .route("/open-api/{*path}", any(gateway::open_api))
            .with_state(self.clone())
    }

    /// An authorization code for the seller at `seller` (index in [`TikTokShopConfig::sellers`]), as the
    /// consent page would issue after the seller approved; `None` for an unknown seller.
    pub fn issue_code(&self, seller: usize) -> Option<String> {
        if seller >= self.config.sellers.len() {
            return None;
        }
        let now = self.ctx.clock.now_unix();
        Some(self.auth_state().issue_code(self.ctx.seed, seller, now + self.config.auth_code_ttl_secs))
    }

    /// The seller deauthorizes the app: every token of the seller owning `shop_id` stops working (`105001`)
    /// and refreshing fails (`36004005`). Returns whether the shop is known. Does not notify; see
    /// [`TikTokShopSim::send_notification`].
    pub fn deauthorize(&self, shop_id: &str) -> bool {
        let Some(shop) = self.config.shop_by_id(shop_id) else { return false };
        self.auth_state().revoke(shop.seller);
        true
    }

    /// Replaces the API packages granted to `seller`'s authorization (for scope-shrink tests, AUTH-5).
    pub fn set_granted_scopes(&self, seller: usize, scopes: &[&str]) {
        self.auth_state().set_scopes(seller, scopes.iter().map(|s| (*s).to_owned()).collect());
    }

    /// The quantity of `sku_id` at `warehouse_id` as the simulator holds it now (seeded or set).
    pub fn stock_quantity(&self, shop_id: &str, sku_id: &str, warehouse_id: &str) -> Option<u32> {
        let shop = self.config.shop_by_id(shop_id)?;
        let sku: u64 = sku_id.parse().ok()?;
        products::SkuRef::decode(shop, sku)?;
        if !shop.shop.warehouses.iter().any(|w| w == warehouse_id) {
            return None;
        }
        Some(self.quantity(shop, sku, warehouse_id))
    }

    fn quantity(&self, shop: ShopRef<'_>, sku: u64, warehouse: &str) -> u32 {
        let set = self.stock_map().get(&(shop.index, sku, warehouse.to_owned())).copied();
        set.unwrap_or_else(|| products::seeded_quantity(self.ctx.seed, shop, sku, warehouse))
    }

    fn auth_state(&self) -> std::sync::MutexGuard<'_, auth::AuthState> {
        self.auth.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stock_map(&self) -> std::sync::MutexGuard<'_, HashMap<(u64, u64, String), u32>> {
        self.stock.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A request id in the platform's form: the server time `YYYYMMDDhhmmss` and 18 hex digits.
    fn request_id(&self) -> String {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        let now = self.ctx.clock.now_unix();
        let stamp = time::OffsetDateTime::from_unix_timestamp(now)
            .map(|t| {
                format!(
                    "{:04}{:02}{:02}{:02}{:02}{:02}",
                    t.year(),
                    u8::from(t.month()),
                    t.day(),
                    t.hour(),
                    t.minute(),
                    t.second()
                )
            })
            .unwrap_or_default();
        format!("{stamp}{:018X}", crate::seed::value(self.ctx.seed, &[n]) >> 8)
    }
}

impl FaultRender for TikTokShopSim {
    /// HTTP 429 with code `36009002`; TikTok Shop documents no wait hint, so none is sent.
    fn rate_limited(&self, _retry_after: Option<Duration>) -> Response {
        codes::TOO_MANY_REQUESTS.response(&self.request_id(), None)
    }

    /// The status with code `36009003` "Internal error. Please try again." in the envelope.
    fn server_error(&self, status: StatusCode) -> Response {
        codes::Code { status, ..codes::INTERNAL_ERROR }.response(&self.request_id(), None)
    }

    fn revoke_all(&self) {
        self.auth_state().revoke_all();
    }
}

#[cfg(test)]
mod tests;
