//! [`MetaConfig`]: the app registration, base URLs, API version, HTTP settings, clock and the sync's knobs
//! (page size, async threshold, polling, pacing).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use custodian_core::ports::Clock;
use custodian_http::{HttpConfig, RateLimiter, RetryPolicy};
use secrecy::SecretString;

/// `https://graph.facebook.com`.
pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com";
/// `https://www.facebook.com` (the Login dialog).
pub const DEFAULT_WWW_URL: &str = "https://www.facebook.com";
/// The Graph API version called (ads-apis.md §1.1: v25.0 is the latest).
pub const DEFAULT_API_VERSION: &str = "v25.0";
/// Rows per insights page. Meta publishes no maximum for `limit`, only a data-per-call error (100/1487534);
/// the simulator's documented maximum is 5000, so that is the page asked for.
pub const DEFAULT_PAGE_SIZE: u32 = 5_000;
/// Ranges longer than this many days are read through an async report run (§1.7: "try sync first, async
/// when sync times out"; a month of daily rows is what a sync call is expected to carry).
pub const DEFAULT_ASYNC_AFTER_DAYS: u32 = 31;
/// Insights "do not change after 28 days" (§0, §1.7): the late-attribution re-pull window.
pub const REPULL_WINDOW_DAYS: i64 = 28;

/// How the adapter paces one ad account's calls from Meta's usage headers (§1.11: "add a back-off mechanism
/// when you come close to hitting 100%").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    /// Calls per second per ad account while usage is low.
    pub max_per_second: f64,
    /// From this usage (percent of the fullest quota) the rate falls linearly, reaching
    /// `max_per_second × min_share` at 100%.
    pub slow_down_from: u32,
    /// The share of `max_per_second` kept at 100% usage (never zero: a misread header cannot stop a sync).
    pub min_share: f64,
}

impl Default for Pacing {
    fn default() -> Self {
        Self { max_per_second: 200.0, slow_down_from: 50, min_share: 0.01 }
    }
}

impl Pacing {
    /// The calls per second to allow at `percent` usage.
    pub fn rate(&self, percent: u32) -> f64 {
        let from = f64::from(self.slow_down_from.min(99));
        let used = f64::from(percent);
        let share = if used <= from { 1.0 } else { ((100.0 - used) / (100.0 - from)).max(self.min_share) };
        (self.max_per_second * share.clamp(self.min_share.max(1e-6), 1.0)).max(1e-3)
    }
}

/// Settings of the Meta adapter. Build it with [`MetaConfig::new`] and override fields.
#[derive(Clone)]
pub struct MetaConfig {
    /// Graph API base URL, without the version (default [`DEFAULT_GRAPH_URL`]).
    pub graph_url: String,
    /// Login dialog base URL (default [`DEFAULT_WWW_URL`]).
    pub www_url: String,
    /// `vNN.0` (default [`DEFAULT_API_VERSION`]).
    pub api_version: String,
    pub app_id: String,
    /// SEC-1: exposed only to build `client_secret`, the app token header and the HMACs.
    pub app_secret: SecretString,
    /// The app's registered redirect URIs; consent and exchange accept only these.
    pub redirect_uris: Vec<String>,
    pub http: HttpConfig,
    pub retry: RetryPolicy,
    /// The time source (exchange stamps the token's expiry with it).
    pub clock: Arc<dyn Clock>,
    /// Rows per insights page (default [`DEFAULT_PAGE_SIZE`]).
    pub page_size: u32,
    /// Campaigns per page.
    pub campaign_page_size: u32,
    /// Ranges longer than this go through an async report run (default [`DEFAULT_ASYNC_AFTER_DAYS`]).
    pub async_after_days: u32,
    /// Wait between report-run status polls.
    pub poll_interval: Duration,
    /// Give up on a report run after this long (Meta: "it can take up to an hour").
    pub async_timeout: Duration,
    pub pacing: Pacing,
    /// Fetch the next report page while the caller handles this one (default on; a sync abandoned midway
    /// costs one extra call).
    pub prefetch: bool,
    /// A limiter shared with other adapters of the same app (default: one per adapter).
    pub limiter: Option<RateLimiter>,
    /// `actions` / `action_values` types counted as conversions (default `purchase`, Meta's aggregated
    /// purchase event; one type, so no event is counted twice).
    pub conversion_action_types: Vec<String>,
    /// The path the Deauthorize Callback URL points at (signals arriving there are deauthorizations).
    pub deauthorize_path: String,
    /// The path the Data Deletion Request Callback URL points at.
    pub data_deletion_path: String,
    /// Signed requests issued longer ago than this are stale.
    pub signal_max_age: Duration,
}

impl MetaConfig {
    /// A configuration for the real Meta hosts with the defaults above.
    pub fn new(app_id: impl Into<String>, app_secret: SecretString, clock: Arc<dyn Clock>) -> Self {
        Self {
            graph_url: DEFAULT_GRAPH_URL.to_owned(),
            www_url: DEFAULT_WWW_URL.to_owned(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            app_id: app_id.into(),
            app_secret,
            redirect_uris: Vec::new(),
            http: HttpConfig::default(),
            retry: RetryPolicy::default(),
            clock,
            page_size: DEFAULT_PAGE_SIZE,
            campaign_page_size: 500,
            async_after_days: DEFAULT_ASYNC_AFTER_DAYS,
            poll_interval: Duration::from_secs(5),
            async_timeout: Duration::from_secs(3600),
            pacing: Pacing::default(),
            prefetch: true,
            limiter: None,
            conversion_action_types: vec!["purchase".to_owned()],
            deauthorize_path: "/signals/meta/deauthorize".to_owned(),
            data_deletion_path: "/signals/meta/data-deletion".to_owned(),
            signal_max_age: Duration::from_secs(24 * 3600),
        }
    }
}

impl fmt::Debug for MetaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetaConfig")
            .field("graph_url", &self.graph_url)
            .field("www_url", &self.www_url)
            .field("api_version", &self.api_version)
            .field("app_id", &self.app_id)
            .field("app_secret", &"[REDACTED]")
            .field("redirect_uris", &self.redirect_uris)
            .field("http", &self.http)
            .field("page_size", &self.page_size)
            .field("async_after_days", &self.async_after_days)
            .field("pacing", &self.pacing)
            .finish_non_exhaustive()
    }
}
