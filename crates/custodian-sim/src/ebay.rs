//! The simulated eBay Sell APIs (Fulfillment v1, Inventory v1), eBay OAuth and the Notification API's
//! Marketplace Account Deletion flow, after `shared/reference/commerce-apis.md` §3 and the official models in
//! `shared/specs/ebay` (`sell_fulfillment_v1_oas3.json` v1.20.7, `sell_inventory_v1_oas3.json` v1.18.0,
//! `commerce_notification_v1_oas3.json` v1.2.0).
//!
//! # Hosts and paths
//!
//! Under the platform prefix `/ebay`, each sub-prefix stands for one real host:
//!
//! | sub-prefix | real host                | paths served                                                          |
//! |------------|--------------------------|-----------------------------------------------------------------------|
//! | `/auth`    | `https://auth.ebay.com`  | `GET /oauth2/authorize` (consent page)                                |
//! | `/api`     | `https://api.ebay.com`   | `POST /identity/v1/oauth2/token`, `GET /sell/fulfillment/v1/order`, `GET /sell/inventory/v1/inventory_item`, `POST /sell/inventory/v1/bulk_update_price_quantity`, `GET /commerce/notification/v1/public_key/{public_key_id}` |
//!
//! So an adapter's bases are `{sim}/ebay/auth` and `{sim}/ebay/api`.
//!
//! # OAuth (§3.1)
//! The consent page answers as if the user logged in and agreed at once: a `302` to the app's accept URL
//! (the URL registered for the RuName, [`EbayConfig::accept_url`]) with `state`, `code` and `expires_in`
//! (299 s). The user is the first configured seller unless the simulator-only parameter `sim_user` names
//! another (tests skip the browser with [`EbaySim::issue_code`]). Scopes are validated: unknown ones
//! redirect with `error=invalid_scope`.
//!
//! The token endpoint wants `Authorization: Basic base64(client_id:client_secret)` (else 401
//! `invalid_client`) and a form body:
//! - `authorization_code` (`code`, `redirect_uri` = the RuName): a code works once and for 299 s; a used,
//!   expired or unknown code or another RuName is 400 `invalid_grant`. The answer carries `access_token`
//!   (`expires_in` 7200), `refresh_token` (`refresh_token_expires_in` 47304000, 18 months) and
//!   `token_type` `User Access Token`; no scopes (eBay reports none).
//! - `refresh_token` (`refresh_token`, `scope`): `scope` is required (400 `invalid_request`) and must be
//!   the consented scopes or a subset (a wider set is 400 `invalid_scope`: a refresh never widens a
//!   grant); an unknown, expired or revoked refresh token is 400 `invalid_grant`. The answer has a new
//!   access token only (the refresh token stays; earlier access tokens stay valid until they expire).
//! - `client_credentials` (`scope` = `https://api.ebay.com/oauth/api_scope`): an application token
//!   (`Application Access Token`), which the public-key call needs.
//! - anything else: 400 `unsupported_grant_type`.
//!
//! API calls want `Authorization: Bearer <token>`: a missing, unknown, expired or revoked token is 401
//! `1001` "Invalid access token"; a token without the method's scope (the spec's `security` block) is 403
//! `1100` "Access denied".
//!
//! # Orders (§3.4)
//! `getOrders` takes `filter` (`creationdate:[a..b]`, `lastmodifieddate:[a..b]`, both ends inclusive, the
//! end optional, and `orderfulfillmentstatus:{NOT_STARTED|IN_PROGRESS}` or `{FULFILLED|IN_PROGRESS}`),
//! with `[ ] { | }` percent-encoded as eBay requires (raw ones are `30800`); `limit` (default 50, at most
//! 200, else `31100`), `offset` (0-based, else `31000`) and `orderIds` (at most 50, `30900`, overriding
//! every other parameter). As documented, when `creationdate` and `lastmodifieddate` are both given only
//! `creationdate` is used (the adapter must never send both). Without a filter, orders created in the
//! last 90 days come back. Date errors: `30700` unknown criterion, `30810` bad date format, `30820` no
//! start date, `30840` start after end, `30850` a date in the future, `30830` a range over two years. The
//! answer is the `OrderSearchPagedCollection` (`href`, `total`, `limit`, `offset`, `next`/`prev` when
//! there are more pages, `orders`). Each order carries buyer and ship-to PII as the real payload does
//! (`buyer.username`, `buyer.taxAddress`, `buyer.buyerRegistrationAddress{fullName, contactAddress,
//! primaryPhone, email}`, `fulfillmentStartInstructions[].shippingStep.shipTo{…}`) and `sellerId`, the
//! seller's immutable user id.
//!
//! Order `i` of a seller was last modified at `until − span + i·span/n` (so modification times increase
//! with `i`, and a `lastmodifieddate` page is index arithmetic: any volume, nothing materialized) and
//! created up to three days before; [`EbaySim::orders_window`] tells tests the span.
//!
//! # Inventory (§3.4)
//! `GET inventory_item` pages with `limit` (1–200, default 25) and `offset`, which per the spec is the page
//! *number* (0 first), answering `InventoryItems` (`href`, `limit`, `next`, `prev`, `size` = number of
//! pages, `total`, `inventoryItems[]` with `sku` and `availability.shipToLocationAvailability.quantity`);
//! bad values are `25706`. `bulk_update_price_quantity` takes 1–25 `requests` (the `BulkPriceQuantity`
//! schema's limit; the prose's "one SKU per call" contradicts it and is not enforced, reference §3.4),
//! each setting `shipToLocationAvailability.quantity` of a `sku`: 200 when every item succeeded, else 207
//! Multi-Status, with one `{sku, statusCode, errors}` per request (unknown SKU: 404 with `25710`, a
//! negative quantity: 400 with `25709`). More than 25 requests, or none, is a 400 `25709` for the call.
//! The 250 revisions per listing and day are not simulated.
//!
//! # Rate limits (§3.5)
//! eBay publishes daily call limits per application; the simulator enforces them with token buckets whose
//! rate is the daily quota spread over the day and whose burst is the whole quota
//! ([`EbayLimits::published`]): Fulfillment 100,000/day and Inventory 2,000,000/day [UNVERIFIED: the
//! reference did not retrieve these two figures; they are eBay's default call-limit table as recalled],
//! Notification 10,000/day, and the OAuth endpoint per grant type (client credentials 1,000/day,
//! authorization code 10,000/day, refresh token 50,000/day; eBay's OAuth rate-limits page). Over a limit
//! the answer is 429 with `2001` "Too many requests." (no `Retry-After`: none is documented), counted with
//! [`crate::Faults::record_throttled`]. Benchmarks configure smaller limits ([`EbayConfig::limits`]).
//!
//! # Marketplace Account Deletion and notifications (§3.3)
//! [`EbaySim::challenge_endpoint`] performs the endpoint check: `GET <endpoint>?challenge_code=<code>`,
//! expecting 200 with `{"challengeResponse": hex(SHA-256(challengeCode ‖ verificationToken ‖ endpoint))}`.
//! [`EbaySim::send_account_deletion`] and [`EbaySim::send_authorization_revocation`] POST a notification
//! (`{metadata{topic, schemaVersion, deprecated}, notification{notificationId, eventDate, publishDate,
//! publishAttemptCount, data}}`, compact JSON) to [`EbayConfig::notification_endpoint`] with
//! `X-EBAY-SIGNATURE` = base64 of `{"alg":"ecdsa","kid","signature","digest":"SHA1"}`, where `signature` is
//! the base64 DER ECDSA P-256 signature with SHA-1 over the compact JSON body (what the official SDKs
//! verify). The key is derived from the seed; its public half is served by `getPublicKey` as
//! `{"algorithm":"ECDSA","digest":"SHA1","key":"-----BEGIN PUBLIC KEY-----…-----END PUBLIC KEY-----"}`
//! (one line, as eBay sends it) to application tokens; an unknown key id is 404 `195001`.
//!
//! Statuses and codes the reference does not give are chosen here and marked `[UNVERIFIED]`.

#![expect(
    clippy::result_large_err,
    reason = "the error of a route helper is the HTTP answer itself, built once per refused request"
)]

mod envelope;
mod inventory;
mod notify;
mod oauth;
mod orders;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};

use crate::SimContext;
use crate::faults::{FaultRender, SimPlatform};
use crate::rate::{Limit, Limiter};
use crate::seed;

pub use notify::{ChallengeOutcome, Delivery, NotifyError, RevokeReason, SignedNotification};

/// The simulated app's client id (App ID).
pub const CLIENT_ID: &str = "CustodiaSim-custodia-PRD-8a5f3c2e1-7b9d4e21";
/// The simulated app's client secret (Cert ID). A fake value, only meaningful to the simulator.
pub const CLIENT_SECRET: &str = "PRD-a5f3c2e17b9d-4e21-4c8a-9f31-6d2b";
/// The simulated app's RuName (what `redirect_uri` carries in eBay OAuth).
pub const RU_NAME: &str = "Custodian_Sim-CustodiaS-Custod-qwpxhbnz";
/// The verification token of the simulated Marketplace Account Deletion subscription (32–80 characters of
/// `[A-Za-z0-9_-]`).
pub const VERIFICATION_TOKEN: &str = "custodian-sim-verification-token-7c1e9a4f2b";

/// The application-token scope (public key lookups).
pub const SCOPE_API: &str = "https://api.ebay.com/oauth/api_scope";
pub const SCOPE_FULFILLMENT: &str = "https://api.ebay.com/oauth/api_scope/sell.fulfillment";
pub const SCOPE_FULFILLMENT_READONLY: &str = "https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly";
pub const SCOPE_INVENTORY: &str = "https://api.ebay.com/oauth/api_scope/sell.inventory";
pub const SCOPE_INVENTORY_READONLY: &str = "https://api.ebay.com/oauth/api_scope/sell.inventory.readonly";

/// Scopes a user may consent to here.
const USER_SCOPES: [&str; 5] =
    [SCOPE_API, SCOPE_FULFILLMENT, SCOPE_FULFILLMENT_READONLY, SCOPE_INVENTORY, SCOPE_INVENTORY_READONLY];

/// One simulated seller account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EbaySeller {
    /// The immutable user id (`userId` in notifications, `sellerId` in orders), e.g. `ma8vp1jySJC`.
    pub user_id: String,
    pub username: String,
    /// How many orders fall in the orders window.
    pub orders: u64,
    /// How many inventory items (SKUs `SKU-000000` …) the seller has.
    pub inventory_items: u64,
}

impl EbaySeller {
    pub fn new(user_id: &str, username: &str, orders: u64, inventory_items: u64) -> Self {
        Self { user_id: user_id.to_owned(), username: username.to_owned(), orders, inventory_items }
    }
}

/// The published call limits the simulator enforces (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EbayLimits {
    /// Fulfillment API calls, per application.
    pub fulfillment: Limit,
    /// Inventory API calls, per application.
    pub inventory: Limit,
    /// Notification API calls, per application.
    pub notification: Limit,
    /// OAuth token requests per grant type, per application.
    pub client_credentials: Limit,
    pub authorization_code: Limit,
    pub refresh_token: Limit,
}

impl EbayLimits {
    /// A daily quota as a bucket: the quota spread over the day, the whole quota as burst.
    pub fn daily(calls: f64) -> Limit {
        Limit::new(calls / 86_400.0, calls)
    }

    /// eBay's default limits (module doc).
    pub fn published() -> Self {
        Self {
            fulfillment: Self::daily(100_000.0),
            inventory: Self::daily(2_000_000.0),
            notification: Self::daily(10_000.0),
            client_credentials: Self::daily(1_000.0),
            authorization_code: Self::daily(10_000.0),
            refresh_token: Self::daily(50_000.0),
        }
    }
}

impl Default for EbayLimits {
    fn default() -> Self {
        Self::published()
    }
}

/// Settings of the simulated platform: the app registration, the sellers and their volumes, limits and the
/// notification destination.
#[derive(Debug, Clone)]
pub struct EbayConfig {
    pub client_id: String,
    pub client_secret: String,
    pub ru_name: String,
    /// Where the consent page sends the user back (the URL registered for the RuName).
    pub accept_url: String,
    pub sellers: Vec<EbaySeller>,
    /// The end of the orders window (Unix seconds); `None`: the simulator's start time, floored to the hour.
    pub orders_until: Option<i64>,
    /// The length of the orders window, in seconds (default 30 days).
    pub orders_span_secs: i64,
    pub limits: EbayLimits,
    /// The Marketplace Account Deletion destination URL (must match character for character what the
    /// receiver hashes).
    pub notification_endpoint: Option<String>,
    pub verification_token: String,
    pub access_token_secs: i64,
    pub refresh_token_secs: i64,
    pub code_secs: i64,
}

impl Default for EbayConfig {
    /// The constants above, two sellers (`ma8vp1jySJC` with 120 orders and 40 items, `qx3tb7kLm2A` with 35
    /// orders and 12 items), a 30-day window, the published limits, no notification endpoint.
    fn default() -> Self {
        Self {
            client_id: CLIENT_ID.to_owned(),
            client_secret: CLIENT_SECRET.to_owned(),
            ru_name: RU_NAME.to_owned(),
            accept_url: "http://127.0.0.1/ebay/accepted".to_owned(),
            sellers: vec![
                EbaySeller::new("ma8vp1jySJC", "sim_seller_one", 120, 40),
                EbaySeller::new("qx3tb7kLm2A", "sim_seller_two", 35, 12),
            ],
            orders_until: None,
            orders_span_secs: 30 * 86_400,
            limits: EbayLimits::published(),
            notification_endpoint: None,
            verification_token: VERIFICATION_TOKEN.to_owned(),
            access_token_secs: 7200,
            refresh_token_secs: 47_304_000,
            code_secs: 299,
        }
    }
}

/// What a token was issued to.
#[derive(Debug, Clone)]
struct AccessToken {
    /// `Some(grant index)` for a user token, `None` for an application token.
    grant: Option<usize>,
    scopes: Vec<String>,
    expires_at: i64,
}

/// One consent: a user, the scopes, the refresh token's life.
#[derive(Debug, Clone)]
struct Grant {
    user: usize,
    scopes: Vec<String>,
    refresh_expires_at: i64,
    revoked: bool,
}

#[derive(Debug, Clone)]
struct Code {
    user: usize,
    scopes: Vec<String>,
    expires_at: i64,
    used: bool,
}

#[derive(Debug, Default)]
struct State {
    counter: u64,
    codes: HashMap<String, Code>,
    grants: Vec<Grant>,
    refresh: HashMap<String, usize>,
    access: HashMap<String, AccessToken>,
    /// Quantities set through `bulk_update_price_quantity`, by (seller, SKU index).
    stock: HashMap<(usize, u64), i64>,
}

/// Who called, once the token checked out.
#[derive(Debug, Clone, Copy)]
struct Caller {
    /// The seller index for user tokens.
    user: Option<usize>,
}

/// The simulated platform's state.
#[derive(Debug)]
pub struct EbaySim {
    ctx: SimContext,
    config: EbayConfig,
    state: Mutex<State>,
    limiter: Limiter,
    /// End of the orders window, Unix milliseconds.
    until_ms: i64,
    keys: notify::Keys,
    http: OnceLock<Result<custodian_http::HttpClient, String>>,
}

impl EbaySim {
    pub fn new(ctx: SimContext, config: EbayConfig) -> Self {
        let until = config.orders_until.unwrap_or_else(|| ctx.clock.now_unix().div_euclid(3600) * 3600);
        let keys = notify::Keys::from_seed(ctx.seed);
        Self {
            until_ms: until.saturating_mul(1000),
            keys,
            ctx,
            config,
            state: Mutex::new(State::default()),
            limiter: Limiter::default(),
            http: OnceLock::new(),
        }
    }

    /// The shared context (seed, faults, clock).
    pub fn ctx(&self) -> &SimContext {
        &self.ctx
    }

    /// The settings.
    pub fn config(&self) -> &EbayConfig {
        &self.config
    }

    /// The routes, relative to the platform's prefix.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/auth/oauth2/authorize", get(oauth::authorize))
            .route("/api/identity/v1/oauth2/token", post(oauth::token))
            .route("/api/sell/fulfillment/v1/order", get(orders::get_orders))
            .route("/api/sell/inventory/v1/inventory_item", get(inventory::get_inventory_items))
            .route(
                "/api/sell/inventory/v1/bulk_update_price_quantity",
                post(inventory::bulk_update_price_quantity),
            )
            .route("/api/commerce/notification/v1/public_key/{public_key_id}", get(notify::get_public_key))
            .with_state(self.clone())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> i64 {
        self.ctx.clock.now_unix()
    }

    fn now_ms(&self) -> i64 {
        self.now().saturating_mul(1000)
    }

    /// A fresh token value with eBay's `v^1.1#…` shape, deterministic from the seed and a counter.
    fn mint(&self, state: &mut State, prefix: &str) -> String {
        state.counter += 1;
        let body = seed::Stream::new(self.ctx.seed, &[seed::text("ebay-token"), state.counter]).token(64);
        format!("{prefix}{body}")
    }

    fn seller_index(&self, user_id: &str) -> Option<usize> {
        self.config.sellers.iter().position(|s| s.user_id == user_id)
    }

    /// The orders window `[start, end)` in Unix milliseconds: order modification times fall in it.
    pub fn orders_window(&self) -> (i64, i64) {
        (self.until_ms - self.config.orders_span_secs.saturating_mul(1000), self.until_ms)
    }

    /// Issues an authorization code for `user_id` with `scopes`, as if the user consented (no browser).
    /// `None` for an unknown user.
    pub fn issue_code(&self, user_id: &str, scopes: &[&str]) -> Option<String> {
        let user = self.seller_index(user_id)?;
        let mut state = self.state();
        let code = self.mint(&mut state, "v^1.1#i^1#f^0#r^1#I^3#p^3#t^Ul41XzA6");
        let scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        state.codes.insert(
            code.clone(),
            Code { user, scopes, expires_at: self.now() + self.config.code_secs, used: false },
        );
        Some(code)
    }

    /// Revokes every token of `user_id` (the user removed the app in their eBay account). Returns whether
    /// the user exists.
    pub fn revoke_user(&self, user_id: &str) -> bool {
        let Some(user) = self.seller_index(user_id) else { return false };
        let mut state = self.state();
        for grant in state.grants.iter_mut().filter(|g| g.user == user) {
            grant.revoked = true;
        }
        true
    }

    /// The quantity of `sku` of `user_id` as the inventory currently reports it.
    pub fn stock_quantity(&self, user_id: &str, sku: &str) -> Option<i64> {
        let user = self.seller_index(user_id)?;
        let index = inventory::sku_index(sku, self.config.sellers.get(user)?.inventory_items)?;
        Some(self.quantity(user, index))
    }

    fn quantity(&self, user: usize, index: u64) -> i64 {
        let set = self.state().stock.get(&(user, index)).copied();
        set.unwrap_or_else(|| {
            i64::try_from(seed::below(self.ctx.seed, &[seed::text("ebay-stock"), user as u64, index], 100))
                .unwrap_or(0)
        })
    }

    /// Checks the bearer token: `Err` is the 401/403 answer. A token passes if it holds one of `accept`.
    fn authorize(&self, headers: &HeaderMap, accept: &[&str]) -> Result<Caller, Response> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .ok_or_else(envelope::invalid_token)?;
        let now = self.now();
        let state = self.state();
        let access = state.access.get(token.trim()).ok_or_else(envelope::invalid_token)?;
        if access.expires_at <= now {
            return Err(envelope::invalid_token());
        }
        let user = match access.grant {
            None => None,
            Some(g) => {
                let grant = state.grants.get(g).ok_or_else(envelope::invalid_token)?;
                if grant.revoked {
                    return Err(envelope::invalid_token());
                }
                Some(grant.user)
            }
        };
        if !access.scopes.iter().any(|s| accept.contains(&s.as_str())) {
            return Err(envelope::insufficient_permissions());
        }
        Ok(Caller { user })
    }

    /// Takes a token of the app's `bucket` limit; `Err` is the 429 answer (counted as throttled).
    fn throttle(&self, bucket: &str, limit: Limit) -> Result<(), Response> {
        let key = format!("{bucket}:{}", self.config.client_id);
        match self.limiter.check(&key, limit) {
            Ok(()) => Ok(()),
            Err(_) => {
                self.ctx.faults.record_throttled(SimPlatform::Ebay);
                Err(envelope::too_many_requests(None))
            }
        }
    }

    /// The HTTP client notifications go out with (plain HTTP to loopback allowed).
    fn http(&self) -> Result<&custodian_http::HttpClient, NotifyError> {
        self.http
            .get_or_init(|| {
                custodian_http::HttpClient::new(custodian_http::HttpConfig {
                    allow_plain_loopback: true,
                    timeout: Duration::from_secs(10),
                    ..custodian_http::HttpConfig::default()
                })
                .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| NotifyError::Client(e.clone()))
    }
}

impl FaultRender for EbaySim {
    fn rate_limited(&self, retry_after: Option<Duration>) -> Response {
        envelope::too_many_requests(retry_after)
    }

    fn server_error(&self, status: StatusCode) -> Response {
        envelope::internal_error(status)
    }

    fn revoke_all(&self) {
        let mut state = self.state();
        for grant in &mut state.grants {
            grant.revoked = true;
        }
        state.access.retain(|_, token| token.grant.is_some());
    }
}
