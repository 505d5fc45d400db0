//! [`TikTokShopConfig`]: the app registration (key, secret, service id), the hosts, the HTTP client settings,
//! retries, the client-side rate and the clock.

use std::fmt;
use std::sync::Arc;

use custodian_core::ports::Clock;
use custodian_http::{HttpConfig, Rate, RetryPolicy};
use secrecy::SecretString;

/// The auth host (token exchange and refresh).
pub const DEFAULT_AUTH_BASE: &str = "https://auth.tiktok-shops.com";
/// The Open API host.
pub const DEFAULT_API_BASE: &str = "https://open-api.tiktokglobalshop.com";
/// The seller consent page (current link, with `service_id`).
pub const DEFAULT_AUTHORIZE_URL: &str = "https://services.tiktokshop.com/open/authorize";
/// Requests per second and burst per (app, shop): 96% of the 50/s the simulator enforces, so that jitter
/// never trips the platform's limiter.
pub const DEFAULT_RATE: Rate = Rate { per_second: 48.0, burst: 48 };
/// The largest page size of the order and product searches.
pub(crate) const MAX_PAGE_SIZE: u32 = 100;

/// How the adapter reaches TikTok Shop. Every base URL is configurable (tests point them at the simulator).
#[derive(Clone)]
pub struct TikTokShopConfig {
    /// Default [`DEFAULT_AUTH_BASE`].
    pub auth_base: String,
    /// Default [`DEFAULT_API_BASE`].
    pub api_base: String,
    /// Default [`DEFAULT_AUTHORIZE_URL`].
    pub authorize_url: String,
    pub app_key: String,
    /// SEC-1: exposed only to compute signatures and on the token calls' query.
    pub app_secret: SecretString,
    /// The app's service id, for the consent URL.
    pub service_id: String,
    pub http: HttpConfig,
    pub retry: RetryPolicy,
    /// Client-side rate per (app, shop); default [`DEFAULT_RATE`].
    pub rate: Rate,
    /// Orders and products per page, 1 to 100; default 100.
    pub page_size: u32,
    /// Notifications older than this (by their `timestamp`) are refused as stale; default 24 hours.
    pub signal_max_age: time::Duration,
    /// Time for request timestamps and stock observations.
    pub clock: Arc<dyn Clock>,
}

impl TikTokShopConfig {
    /// A configuration for the real hosts with default settings.
    pub fn new(
        app_key: impl Into<String>,
        app_secret: SecretString,
        service_id: impl Into<String>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            auth_base: DEFAULT_AUTH_BASE.to_owned(),
            api_base: DEFAULT_API_BASE.to_owned(),
            authorize_url: DEFAULT_AUTHORIZE_URL.to_owned(),
            app_key: app_key.into(),
            app_secret,
            service_id: service_id.into(),
            http: HttpConfig::default(),
            retry: RetryPolicy::default(),
            rate: DEFAULT_RATE,
            page_size: MAX_PAGE_SIZE,
            signal_max_age: time::Duration::hours(24),
            clock,
        }
    }

    /// The page size actually sent: clamped to 1..=100.
    pub(crate) fn page_size(&self) -> u32 {
        self.page_size.clamp(1, MAX_PAGE_SIZE)
    }
}

impl fmt::Debug for TikTokShopConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TikTokShopConfig")
            .field("auth_base", &self.auth_base)
            .field("api_base", &self.api_base)
            .field("authorize_url", &self.authorize_url)
            .field("app_key", &self.app_key)
            .field("app_secret", &"[REDACTED]")
            .field("service_id", &self.service_id)
            .field("http", &self.http)
            .field("retry", &self.retry)
            .field("rate", &self.rate)
            .field("page_size", &self.page_size)
            .field("signal_max_age", &self.signal_max_age)
            .finish_non_exhaustive()
    }
}
