//! [`TikTokConfig`]: where the API and the authorization page are, the developer app's credentials, the
//! HTTP client settings, the clock, and the pacing of requests.

use std::fmt;
use std::sync::Arc;

use custodian_core::ports::Clock;
use custodian_http::{HttpConfig, Rate, RetryPolicy};
use secrecy::SecretString;

/// The API host (`/open_api/v1.3/` is appended).
pub const DEFAULT_BASE_URL: &str = "https://business-api.tiktok.com";
/// The advertiser authorization page (ads-apis.md §2.2).
pub const DEFAULT_AUTH_URL: &str = "https://business-api.tiktok.com/portal/auth";
/// The largest page TikTok serves (report_integrated_get.yml, smart_plus_campaign_get.yml).
pub const MAX_PAGE_SIZE: u32 = 1000;

/// The adapter's settings. Build with [`TikTokConfig::new`] and override fields.
#[derive(Clone)]
pub struct TikTokConfig {
    /// The API host, without `/open_api/v1.3/` (default [`DEFAULT_BASE_URL`]).
    pub base_url: String,
    /// The authorization page (default [`DEFAULT_AUTH_URL`]).
    pub auth_url: String,
    /// The developer app's id (not a secret: it is in every consent URL).
    pub app_id: String,
    /// The developer app's secret (SEC-1).
    pub secret: SecretString,
    pub http: HttpConfig,
    pub clock: Arc<dyn Clock>,
    /// The app's request rate, shared by every clone of the adapter (TikTok limits per app, §2.8).
    /// Default 9.5 per second with a burst of 5: 95% of the Basic tier's 10 QPS, so a long sync uses the
    /// budget without meeting code 40100. Raise it for the Advanced (20), Premium (30) or Ultimate (50)
    /// tiers.
    pub rate: Rate,
    pub retry: RetryPolicy,
    /// Rows or campaigns per page, 1 to [`MAX_PAGE_SIZE`] (default 1000).
    pub page_size: u32,
}

impl TikTokConfig {
    /// The real hosts, the default HTTP settings, Basic-tier pacing and pages of 1000.
    pub fn new(app_id: impl Into<String>, secret: SecretString, clock: Arc<dyn Clock>) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            auth_url: DEFAULT_AUTH_URL.to_owned(),
            app_id: app_id.into(),
            secret,
            http: HttpConfig::default(),
            clock,
            rate: Rate::new(9.5, 5),
            retry: RetryPolicy::default(),
            page_size: MAX_PAGE_SIZE,
        }
    }
}

impl fmt::Debug for TikTokConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TikTokConfig")
            .field("base_url", &self.base_url)
            .field("auth_url", &self.auth_url)
            .field("app_id", &self.app_id)
            .field("secret", &"[REDACTED]")
            .field("http", &self.http)
            .field("rate", &self.rate)
            .field("retry", &self.retry)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}
