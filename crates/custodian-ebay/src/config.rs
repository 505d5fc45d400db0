//! The adapter's configuration: hosts, the app's keys, the RuName, the Marketplace Account Deletion
//! destination, HTTP settings, rates and the clock.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use custodian_core::ports::Clock;
use custodian_http::{HttpConfig, Rate, RetryPolicy};
use secrecy::SecretString;

/// The production consent host.
pub const AUTH_BASE: &str = "https://auth.ebay.com";
/// The production API host (OAuth token endpoint, Sell APIs, Notification API).
pub const API_BASE: &str = "https://api.ebay.com";
/// The largest `limit` getOrders accepts (larger values fail rather than clamp).
pub const MAX_ORDERS_PAGE: u32 = 200;
/// The largest `limit` of `GET inventory_item`.
pub const MAX_INVENTORY_PAGE: u32 = 200;
/// The most requests `bulk_update_price_quantity` takes per call.
pub const MAX_BULK_REQUESTS: usize = 25;

/// eBay's call limits as client-side rates, per application. eBay publishes daily quotas; a quota is
/// spread over the day with the whole quota as burst, as the simulator enforces it.
#[derive(Debug, Clone, Copy)]
pub struct EbayRates {
    /// Fulfillment API (getOrders): 100,000 calls per day by default.
    pub fulfillment: Rate,
    /// Inventory API (inventory items, bulk updates): 2,000,000 calls per day by default.
    pub inventory: Rate,
    /// Notification API (getPublicKey): 10,000 calls per day.
    pub notification: Rate,
}

impl EbayRates {
    /// A daily quota as a rate.
    pub fn daily(calls: u32) -> Rate {
        Rate::new(f64::from(calls) / 86_400.0, calls)
    }

    /// eBay's default application limits.
    pub fn published() -> Self {
        Self {
            fulfillment: Self::daily(100_000),
            inventory: Self::daily(2_000_000),
            notification: Self::daily(10_000),
        }
    }
}

impl Default for EbayRates {
    fn default() -> Self {
        Self::published()
    }
}

/// How the adapter reaches eBay. Build with [`EbayConfig::new`] and override fields.
#[derive(Clone)]
pub struct EbayConfig {
    /// The consent host (default [`AUTH_BASE`]); `/oauth2/authorize` is appended.
    pub auth_base: String,
    /// The API host (default [`API_BASE`]).
    pub api_base: String,
    /// The app's client id (App ID). Not a secret: it appears in consent URLs.
    pub client_id: String,
    /// The app's client secret (Cert ID).
    pub client_secret: SecretString,
    /// The RuName, which eBay OAuth takes as `redirect_uri`; eBay maps it to the accept URL registered
    /// for it (the server's callback).
    pub ru_name: String,
    /// The Marketplace Account Deletion verification token (32–80 characters of `[A-Za-z0-9_-]`).
    pub verification_token: Option<SecretString>,
    /// The notification endpoint URL exactly as registered with eBay (the challenge hashes it character
    /// for character).
    pub notification_endpoint: Option<String>,
    pub http: HttpConfig,
    pub retry: RetryPolicy,
    pub rates: EbayRates,
    /// Orders per getOrders page (1–200, default 200).
    pub orders_page_size: u32,
    /// Items per inventory page (1–200, default 200).
    pub inventory_page_size: u32,
    /// How long a notification public key stays cached (default one hour).
    pub public_key_ttl: Duration,
    pub clock: Arc<dyn Clock>,
}

impl EbayConfig {
    /// Production hosts, default HTTP settings, published rates, 200-record pages.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: SecretString,
        ru_name: impl Into<String>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            auth_base: AUTH_BASE.to_owned(),
            api_base: API_BASE.to_owned(),
            client_id: client_id.into(),
            client_secret,
            ru_name: ru_name.into(),
            verification_token: None,
            notification_endpoint: None,
            http: HttpConfig::default(),
            retry: RetryPolicy::default(),
            rates: EbayRates::published(),
            orders_page_size: MAX_ORDERS_PAGE,
            inventory_page_size: MAX_INVENTORY_PAGE,
            public_key_ttl: Duration::from_secs(3600),
            clock,
        }
    }
}

impl fmt::Debug for EbayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EbayConfig")
            .field("auth_base", &self.auth_base)
            .field("api_base", &self.api_base)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("ru_name", &self.ru_name)
            .field("verification_token", &self.verification_token.as_ref().map(|_| "[REDACTED]"))
            .field("notification_endpoint", &self.notification_endpoint)
            .field("http", &self.http)
            .field("rates", &self.rates)
            .field("orders_page_size", &self.orders_page_size)
            .field("inventory_page_size", &self.inventory_page_size)
            .field("public_key_ttl", &self.public_key_ttl)
            .finish_non_exhaustive()
    }
}
