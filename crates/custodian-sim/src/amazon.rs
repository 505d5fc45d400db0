//! The simulated Amazon Selling Partner API (SP-API), Login with Amazon (LWA) and the Seller Central consent
//! page, faithful to `shared/reference/commerce-apis.md` §2 and the official models in `shared/specs/amazon/`
//! (`ordersV0.json`, `orders_2026-01-01.json`, `tokens_2021-03-01.json`, `listingsItems_2021-08-01.json`,
//! `fbaInventory.json`, `sellers.json`).
//!
//! Under the platform prefix `/amazon`, each sub-prefix stands for one real host:
//!
//! | sub-prefix      | real host                                  | what is served                                  |
//! |-----------------|--------------------------------------------|-------------------------------------------------|
//! | `/lwa`          | `https://api.amazon.com`                   | `POST /auth/o2/token` (LWA)                     |
//! | `/sellercentral`| `https://sellercentral.amazon.com`         | `GET /apps/authorize/consent` (website workflow)|
//! | `/sp-api`       | `https://sellingpartnerapi-na.amazon.com`  | the SP-API operations below                     |
//!
//! SP-API operations (path, operation, default rate/burst from the models):
//! - `GET /orders/v0/orders` getOrders (0.0167/20), `GET /orders/v0/orders/{orderId}` getOrder (0.5/30),
//!   `…/buyerInfo` getOrderBuyerInfo, `…/address` getOrderAddress, `…/orderItems` getOrderItems (0.5/30);
//! - `GET /orders/2026-01-01/orders` searchOrders (0.0056/20), `GET /orders/2026-01-01/orders/{orderId}`
//!   getOrder (0.5/30), with `includedData`;
//! - `POST /tokens/2021-03-01/restrictedDataToken` createRestrictedDataToken (1/10);
//! - `PATCH /listings/2021-08-01/items/{sellerId}/{sku}` patchListingsItem (5/5);
//! - `GET /fba/inventory/v1/summaries` getInventorySummaries (2/2);
//! - `GET /sellers/v1/marketplaceParticipations` getMarketplaceParticipations (0.016/15).
//!
//! Behaviour, as documented:
//! - LWA `authorization_code` and `refresh_token` grants with `client_id`/`client_secret` form parameters;
//!   codes are single-use and short-lived; a used, expired or unknown code, and a refresh token of a revoked
//!   authorization, get HTTP 400 `invalid_grant`; access tokens last one hour.
//! - Every SP-API call needs `x-amz-access-token` (an LWA access token, or a Restricted Data Token for the
//!   restricted resources it names); a revoked, expired or unknown token gets HTTP 403 `Unauthorized`
//!   "Access to requested resource is denied." / "The access token you provided is revoked, malformed or
//!   invalid."; a missing role gets the same 403 with empty details.
//! - Buyer and recipient data: Orders v0 returns `BuyerInfo` and `ShippingAddress` restricted fields only
//!   when called with an RDT whose `dataElements` name them (without one, only the anonymized `BuyerEmail`
//!   and the non-restricted address fields come back); Orders 2026-01-01 returns `buyer` and `recipient`
//!   only when `includedData` names `BUYER` / `RECIPIENT` (and the app holds the restricted role).
//! - `LastUpdatedBefore`/`CreatedBefore` must be at least two minutes in the past (HTTP 400 `InvalidInput`
//!   with the message Amazon sends); paging with `NextToken` (v0) and `paginationToken` (2026).
//! - Per-operation token buckets per selling partner and application with the official rate and burst
//!   (or the configured usage plan), the `x-amzn-RateLimit-Limit` header on answers of the operation
//!   (2xx, 400, 404; the models say it is not returned with 403, 429 and 5xx), and HTTP 429
//!   `QuotaExceeded` in the `errors` envelope; every answer carries `x-amzn-RequestId`.
//! - Amazon sends no notification when a seller revokes an app: [`AmazonSim::revoke_authorization`] only
//!   changes what later calls get.
//!
//! Data (orders, SKUs, FBA quantities) is generated from the seed on the fly: order `i` of a seller was
//! last updated at `orders_epoch_unix + i × order_interval_ms`, so any volume costs no memory and a time
//! window maps to an index range. Only MFN quantities set through the Listings API are stored.

mod auth;
mod data;
mod envelope;
mod inventory;
mod iso;
mod listings;
mod orders;
mod orders_2026;
mod sellers;
mod tokens;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, patch, post};

use crate::SimContext;
use crate::faults::FaultRender;
use crate::rate::{Limit, Limiter};

pub use envelope::{OFFICIAL_USAGE_PLANS, Operation};

/// The simulated app's LWA client id.
pub const CLIENT_ID: &str = "amzn1.application-oa2-client.5a1b0c9d8e7f46a3b2c1d0e9f8a7b6c5";
/// The simulated app's LWA client secret (a fake simulator value).
pub const CLIENT_SECRET: &str =
    "amzn1.oa2-cs.v1.sim4c0ffee5ecret0000000000000000000000000000000000000000000000001";
/// The simulated app's SP-API application id (used in the consent URL).
pub const APPLICATION_ID: &str = "amzn1.sp.solution.5a1b0c9d-8e7f-46a3-b2c1-d0e9f8a7b6c5";
/// The redirect URI registered for the simulated app.
pub const REDIRECT_URI: &str = "https://custodian.example/oauth/amazon/callback";
/// The first simulated seller (amazon.com).
pub const SELLER_1: &str = "A1SIMSELLER0001";
/// The second simulated seller (amazon.com and amazon.ca).
pub const SELLER_2: &str = "A2SIMSELLER0002";
/// The amazon.com marketplace id.
pub const MARKETPLACE_US: &str = "ATVPDKIKX0DER";
/// The amazon.ca marketplace id.
pub const MARKETPLACE_CA: &str = "A2EUQ1WTGCTBG2";
/// SP-API role: orders.
pub const ROLE_ORDERS: &str = "Inventory_and_Order_Tracking";
/// SP-API restricted role: buyer and shipping PII.
pub const ROLE_PII: &str = "Direct_to_Consumer_Shipping";
/// SP-API role: listings.
pub const ROLE_LISTINGS: &str = "Product_Listing";
/// 2025-01-01T00:00:00Z: when order 0 of every seller was last updated, by default.
pub const ORDERS_EPOCH_UNIX: i64 = 1_735_689_600;

/// One simulated selling partner and the volume of its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmazonSellerConfig {
    /// The selling partner id (`selling_partner_id`, the Listings `sellerId`).
    pub id: String,
    /// The store name reported by `getMarketplaceParticipations`.
    pub store_name: String,
    /// Marketplace ids the seller participates in; orders are spread across them.
    pub marketplaces: Vec<String>,
    /// How many orders the seller has (order `i` updated at `epoch + i × interval`).
    pub orders: u64,
    /// How many SKUs (`SKU-000000` …): FBA inventory summaries and listings.
    pub skus: u64,
}

/// Settings of the simulated platform: the app registration, the sellers and their data, limits and
/// lifetimes.
#[derive(Debug, Clone)]
pub struct AmazonConfig {
    pub client_id: String,
    pub client_secret: String,
    pub application_id: String,
    /// Registered redirect URIs; the first is used when the consent URL names none.
    pub redirect_uris: Vec<String>,
    /// The roles of the app registration: every authorization grants exactly these.
    pub app_roles: Vec<String>,
    /// A draft app: the consent URL must carry `version=beta`.
    pub draft: bool,
    pub sellers: Vec<AmazonSellerConfig>,
    /// When order 0 was last updated (Unix seconds).
    pub orders_epoch_unix: i64,
    /// Time between two consecutive orders' last updates, in milliseconds (at least 1).
    pub order_interval_ms: u64,
    /// Usage plan (rate and burst) per operation name ([`Operation::name`]); defaults to
    /// [`OFFICIAL_USAGE_PLANS`]. A missing operation is not limited.
    pub usage_plans: BTreeMap<String, Limit>,
    pub access_token_ttl_secs: i64,
    pub code_ttl_secs: i64,
    pub rdt_ttl_secs: i64,
    /// How long an FBA inventory `nextToken` stays valid (the model says 30 seconds).
    pub fba_next_token_ttl_secs: i64,
}

impl Default for AmazonConfig {
    /// A published app with every role, [`REDIRECT_URI`], two sellers ([`SELLER_1`] with 250 orders and
    /// 120 SKUs on amazon.com; [`SELLER_2`] with 40 orders and 10 SKUs on amazon.com and amazon.ca), one
    /// order every minute from [`ORDERS_EPOCH_UNIX`], the official usage plans.
    fn default() -> Self {
        Self {
            client_id: CLIENT_ID.to_owned(),
            client_secret: CLIENT_SECRET.to_owned(),
            application_id: APPLICATION_ID.to_owned(),
            redirect_uris: vec![REDIRECT_URI.to_owned()],
            app_roles: vec![ROLE_ORDERS.to_owned(), ROLE_PII.to_owned(), ROLE_LISTINGS.to_owned()],
            draft: false,
            sellers: vec![
                AmazonSellerConfig {
                    id: SELLER_1.to_owned(),
                    store_name: "Simulated Store One".to_owned(),
                    marketplaces: vec![MARKETPLACE_US.to_owned()],
                    orders: 250,
                    skus: 120,
                },
                AmazonSellerConfig {
                    id: SELLER_2.to_owned(),
                    store_name: "Simulated Store Two".to_owned(),
                    marketplaces: vec![MARKETPLACE_US.to_owned(), MARKETPLACE_CA.to_owned()],
                    orders: 40,
                    skus: 10,
                },
            ],
            orders_epoch_unix: ORDERS_EPOCH_UNIX,
            order_interval_ms: 60_000,
            usage_plans: envelope::official_usage_plans(),
            access_token_ttl_secs: 3600,
            code_ttl_secs: 300,
            rdt_ttl_secs: 3600,
            fba_next_token_ttl_secs: 30,
        }
    }
}

impl AmazonConfig {
    /// Multiplies every usage plan's rate and burst by `factor` (a seller with a higher usage plan, for
    /// benchmarks that are not about rate limits).
    pub fn scale_usage_plans(mut self, factor: f64) -> Self {
        for limit in self.usage_plans.values_mut() {
            *limit = Limit::new(limit.per_second * factor, (limit.burst * factor).max(1.0));
        }
        self
    }
}

/// The simulated platform's state.
#[derive(Debug)]
pub struct AmazonSim {
    ctx: SimContext,
    config: AmazonConfig,
    auth: Mutex<auth::AuthState>,
    /// MFN quantities set through `patchListingsItem`, by (seller index, SKU).
    mfn: Mutex<HashMap<(usize, String), u32>>,
    limiter: Limiter,
    /// Request and submission ids.
    counter: std::sync::atomic::AtomicU64,
}

impl AmazonSim {
    pub fn new(ctx: SimContext, config: AmazonConfig) -> Self {
        Self {
            ctx,
            config,
            auth: Mutex::new(auth::AuthState::default()),
            mfn: Mutex::new(HashMap::new()),
            limiter: Limiter::default(),
            counter: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The shared context (seed, faults, clock).
    pub fn ctx(&self) -> &SimContext {
        &self.ctx
    }

    /// The settings.
    pub fn config(&self) -> &AmazonConfig {
        &self.config
    }

    /// The routes, relative to the platform's prefix.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/lwa/auth/o2/token", post(auth::token))
            .route("/sellercentral/apps/authorize/consent", get(auth::consent))
            .route("/sp-api/orders/v0/orders", get(orders::get_orders))
            .route("/sp-api/orders/v0/orders/{order_id}", get(orders::get_order))
            .route("/sp-api/orders/v0/orders/{order_id}/buyerInfo", get(orders::get_order_buyer_info))
            .route("/sp-api/orders/v0/orders/{order_id}/address", get(orders::get_order_address))
            .route("/sp-api/orders/v0/orders/{order_id}/orderItems", get(orders::get_order_items))
            .route("/sp-api/orders/2026-01-01/orders", get(orders_2026::search_orders))
            .route("/sp-api/orders/2026-01-01/orders/{order_id}", get(orders_2026::get_order))
            .route(
                "/sp-api/tokens/2021-03-01/restrictedDataToken",
                post(tokens::create_restricted_data_token),
            )
            .route(
                "/sp-api/listings/2021-08-01/items/{seller_id}/{sku}",
                patch(listings::patch_listings_item),
            )
            .route("/sp-api/fba/inventory/v1/summaries", get(inventory::get_inventory_summaries))
            .route(
                "/sp-api/sellers/v1/marketplaceParticipations",
                get(sellers::get_marketplace_participations),
            )
            .with_state(self.clone())
    }

    /// Issues an authorization code as if `seller` had confirmed the consent page (no browser), for the
    /// redirect URI `redirect_uri` (the exchange must name the same one) or the registered default.
    /// `None` if the seller is unknown.
    pub fn issue_code(&self, seller: &str, redirect_uri: Option<&str>) -> Option<String> {
        let index = self.seller_index(seller)?;
        let now = self.ctx.clock.now_unix();
        Some(self.auth().issue_code(self.ctx.seed, index, redirect_uri.map(str::to_owned), now, &self.config))
    }

    /// Revokes every authorization `seller` gave the app (the seller removed it in Seller Central): its
    /// refresh tokens get `invalid_grant`, its access tokens and RDTs get 403. Amazon notifies nobody.
    /// Returns whether the seller is known.
    pub fn revoke_authorization(&self, seller: &str) -> bool {
        match self.seller_index(seller) {
            Some(index) => {
                self.auth().revoke_seller(index);
                true
            }
            None => false,
        }
    }

    /// Chooses who is logged in to Seller Central when the consent page is opened (default: the first
    /// seller). Returns whether the seller is known.
    pub fn set_consenting_seller(&self, seller: &str) -> bool {
        match self.seller_index(seller) {
            Some(index) => {
                self.auth().consenting_seller = index;
                true
            }
            None => false,
        }
    }

    /// The MFN (`DEFAULT` channel) quantity last set for `sku` through the Listings API, if any.
    pub fn mfn_quantity(&self, seller: &str, sku: &str) -> Option<u32> {
        let index = self.seller_index(seller)?;
        self.mfn().get(&(index, sku.to_owned())).copied()
    }

    /// How many access tokens (LWA and RDT) are currently accepted.
    pub fn live_tokens(&self) -> usize {
        self.auth().live_tokens(self.ctx.clock.now_unix())
    }

    fn seller_index(&self, seller: &str) -> Option<usize> {
        self.config.sellers.iter().position(|s| s.id == seller)
    }

    fn auth(&self) -> MutexGuard<'_, auth::AuthState> {
        self.auth.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn mfn(&self) -> MutexGuard<'_, HashMap<(usize, String), u32>> {
        self.mfn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A fresh identifier in the UUID layout (request ids, submission ids), deterministic from the seed.
    fn next_uuid(&self) -> String {
        let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let a = crate::seed::value(self.ctx.seed, &[crate::seed::text("amazon-id"), n]);
        let b = crate::seed::mix(a);
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
}

impl FaultRender for AmazonSim {
    fn rate_limited(&self, _retry_after: Option<Duration>) -> Response {
        envelope::reply_error(self, StatusCode::TOO_MANY_REQUESTS, None, &envelope::quota_exceeded())
    }

    fn server_error(&self, status: StatusCode) -> Response {
        envelope::reply_error(self, status, None, &envelope::internal_failure(status))
    }

    fn revoke_all(&self) {
        self.auth().revoke_all();
    }
}
