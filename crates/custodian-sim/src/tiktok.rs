//! The simulated TikTok API for Business (Marketing API v1.3), faithful to `shared/reference/ads-apis.md` §2
//! and the official models in `shared/specs/tiktok-ads/`.
//!
//! # Hosts and paths
//! Everything sits under the `/tiktok` prefix of the simulator, which stands for the host
//! `https://business-api.tiktok.com`:
//!
//! | simulated path (after `/tiktok`) | real |
//! |---|---|
//! | `GET /portal/auth?app_id=&state=&redirect_uri=` | the advertiser authorization page (`business-api.tiktok.com/portal/auth`, §2.2) |
//! | `POST /open_api/v1.3/oauth2/access_token/` | token exchange, JSON `{app_id, secret, auth_code}` (AuthenticationApi.md) |
//! | `GET /open_api/v1.3/oauth2/advertiser/get/?app_id=&secret=` | advertisers the token may manage (AuthenticationApi.md, §2.3) |
//! | `POST /open_api/v1.3/oauth2/revoke_token/` | explicit revocation `{app_id, secret, access_token}` (§2.4, \[S/U\]) |
//! | `POST /open_api/v1.3/oauth2/refresh_token/` | always code 40107: advertiser tokens are long-term and have no refresh token (§2.2) |
//! | `GET /open_api/v1.3/advertiser/info/?advertiser_ids=&fields=` | ad account details (advertiser_info.yml) |
//! | `GET /open_api/v1.3/campaign/get/?advertiser_id=&fields=&filtering=&page=&page_size=` | campaigns (CampaignCreationApi.md, smart_plus_campaign_get.yml) |
//! | `POST /open_api/v1.3/campaign/status/update/` | `{advertiser_id, campaign_ids (1–20), operation_status}` (smart_plus_campaign_status_update.yml) |
//! | `POST /open_api/v1.3/campaign/update/` | `{advertiser_id, campaign_id, campaign_name?, budget?}` (smart_plus_campaign_update.yml) |
//! | `GET /open_api/v1.3/report/integrated/get/` | synchronous BASIC reports (report_integrated_get.yml, §2.5) |
//!
//! Paths end in `/`: without it the answer is a bare HTTP 404, as on the real host (§2.1).
//!
//! # Envelope and errors
//! Every API answer is HTTP 200 with `{code, message, request_id, data}`; `code` 0 is success (§0, §2.5).
//! The codes this simulator sends (return-codes.md): 40001 no permission (missing scope, advertiser not
//! covered by the token), 40002 parameter error (missing or malformed parameter, unknown metric or
//! dimension, page size over 1000, day range over 30 days), 40007 campaign does not exist, 40100 app rate
//! limit, 40101 wrong app id or secret, 40104 no `Access-Token` header (message verbatim from §2.6 T5),
//! 40105 unknown, revoked or de-authorized token, 40107 refresh attempted, 40110 used, expired or unknown
//! auth code, 20001 partial success of a batch status update, 50000 system error (injected faults, with
//! the HTTP status the fault asks for).
//!
//! # Authorization
//! The authorization page has no browser here: it approves at once for every configured advertiser and
//! redirects to `redirect_uri` (which must be registered) with `auth_code` and `state`. Scopes are numeric
//! ids chosen on the developer app (`TikTokConfig::scopes`), not in the URL: the page grants the app's
//! scopes whatever the URL says, as TikTok does (§2.2). An auth code lives one hour and works once; a token
//! is long-term (no expiry) until revoked or de-authorized. A scope id covers its descendants (1 → 10 →
//! 100; 2 → 20 → 200; 4 → 44): advertiser endpoints need 100, `campaign/get` 200, campaign updates 20,
//! reports 44.
//!
//! # Rate limits (§2.8)
//! Per developer app, with [`crate::rate::Limiter`] buckets: the Basic tier by default, 10 QPS (burst 10),
//! 600 QPM (burst 600) and 864,000 QPD ([`RateTier::BASIC`]; the Advanced, Premium and Ultimate tiers are
//! there too). Every `/open_api/` request counts. Over the limit the answer is HTTP 200 with code 40100 and
//! no retry hint (TikTok sends no rate-limit headers), counted by [`crate::Faults::stats`].
//!
//! # Data
//! Campaigns, ad groups, ads and report rows are generated from the seed on demand ([`crate::seed`]);
//! only edits (status, budget, name) are stored. Report rows exist for every object and every day up to
//! today (simulator clock); metrics are strings with two decimals for money, as in §2.6 T2, and ratios
//! with a zero denominator are `"-"`.

mod api;
mod data;
mod envelope;
mod oauth;
mod report;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use crate::SimContext;
use crate::faults::{FaultRender, SimPlatform};
use crate::rate::{Limit, Limiter};
use crate::seed;

pub use data::{CampaignStatus, DataLevel, SimCampaign};

/// This platform in the fault plan and its counters.
const PLATFORM: SimPlatform = SimPlatform::TikTok;

/// The simulated developer app's id.
pub const APP_ID: &str = "7300000000000000001";
/// The simulated developer app's secret (a fake value).
pub const APP_SECRET: &str = "sim-tiktok-app-secret-4f1c2d";
/// The redirect URI registered on the simulated app.
pub const REDIRECT_URI: &str = "https://custodian.test/oauth/tiktok/callback";
/// The first configured advertiser.
pub const ADVERTISER_1: &str = "7000000000000000001";
/// The second configured advertiser.
pub const ADVERTISER_2: &str = "7000000000000000002";
/// The API path prefix under `/tiktok`.
pub const API_PREFIX: &str = "/open_api/v1.3";
/// The authorization page's path under `/tiktok`.
pub const AUTH_PAGE_PATH: &str = "/portal/auth";

/// Scope ids (§2.2): 4 Reporting, 20 Campaign management, 100 Read Ad Account Information, 200 Read
/// Campaigns.
pub const SCOPE_REPORTING: u32 = 4;
pub const SCOPE_CAMPAIGN: u32 = 20;
pub const SCOPE_READ_AD_ACCOUNT: u32 = 100;
pub const SCOPE_READ_CAMPAIGNS: u32 = 200;

/// A published app rate-limit tier (§2.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateTier {
    pub qps: u32,
    pub qpm: u32,
    pub qpd: u32,
}

impl RateTier {
    /// Basic (default): 10 QPS, 600 QPM, 864,000 QPD.
    pub const BASIC: RateTier = RateTier { qps: 10, qpm: 600, qpd: 864_000 };
    /// Advanced: 20 QPS, 1,200 QPM, 1,728,000 QPD.
    pub const ADVANCED: RateTier = RateTier { qps: 20, qpm: 1_200, qpd: 1_728_000 };
    /// Premium: 30 QPS, 1,800 QPM, 2,592,000 QPD.
    pub const PREMIUM: RateTier = RateTier { qps: 30, qpm: 1_800, qpd: 2_592_000 };
    /// Ultimate: 50 QPS, 3,000 QPM, 4,320,000 QPD.
    pub const ULTIMATE: RateTier = RateTier { qps: 50, qpm: 3_000, qpd: 4_320_000 };

    /// The buckets: (name, sustained rate, burst).
    fn limits(self) -> [(&'static str, Limit); 3] {
        [
            ("qpd", Limit::new(f64::from(self.qpd) / 86_400.0, f64::from(self.qpd))),
            ("qpm", Limit::new(f64::from(self.qpm) / 60.0, f64::from(self.qpm))),
            ("qps", Limit::new(f64::from(self.qps), f64::from(self.qps))),
        ]
    }
}

/// One simulated advertiser (ad account) and the size of its generated data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvertiserConfig {
    /// Numeric id, as TikTok sends it (a string of digits).
    pub id: String,
    pub name: String,
    /// ISO 4217 currency of money values.
    pub currency: String,
    pub timezone: String,
    /// Campaigns (at most 1,000,000).
    pub campaigns: u32,
    /// Ad groups per campaign (at most 999).
    pub adgroups_per_campaign: u32,
    /// Ads per ad group (at most 999).
    pub ads_per_adgroup: u32,
}

impl AdvertiserConfig {
    /// An advertiser with `campaigns` campaigns, two ad groups each and two ads per ad group.
    pub fn new(id: &str, name: &str, currency: &str, campaigns: u32) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            currency: currency.to_owned(),
            timezone: "Etc/GMT".to_owned(),
            campaigns,
            adgroups_per_campaign: 2,
            ads_per_adgroup: 2,
        }
    }
}

/// Settings of the simulated platform: the registered developer app and the advertisers.
#[derive(Debug, Clone)]
pub struct TikTokConfig {
    pub app_id: String,
    pub secret: String,
    /// Registered redirect URIs (TikTok allows up to 10).
    pub redirect_uris: Vec<String>,
    /// Scope ids chosen on the developer app; every authorization grants exactly these.
    pub scopes: Vec<u32>,
    pub advertisers: Vec<AdvertiserConfig>,
    /// The app's rate-limit tier; `None` turns limiting off (throughput benchmarks).
    pub rate_limit: Option<RateTier>,
    /// How long an auth code can be exchanged (one hour, §2.2).
    pub auth_code_ttl: Duration,
}

impl Default for TikTokConfig {
    /// The app [`APP_ID`] with scopes 4, 20, 100 and 200, [`REDIRECT_URI`], the Basic tier, and two
    /// advertisers: [`ADVERTISER_1`] (USD, 5 campaigns) and [`ADVERTISER_2`] (EUR, 3 campaigns).
    fn default() -> Self {
        Self {
            app_id: APP_ID.to_owned(),
            secret: APP_SECRET.to_owned(),
            redirect_uris: vec![REDIRECT_URI.to_owned()],
            scopes: vec![SCOPE_REPORTING, SCOPE_CAMPAIGN, SCOPE_READ_AD_ACCOUNT, SCOPE_READ_CAMPAIGNS],
            advertisers: vec![
                AdvertiserConfig::new(ADVERTISER_1, "Acme Outdoor", "USD", 5),
                AdvertiserConfig::new(ADVERTISER_2, "Globex Retail", "EUR", 3),
            ],
            rate_limit: Some(RateTier::BASIC),
            auth_code_ttl: Duration::from_secs(3600),
        }
    }
}

/// What an authorization (code or token) covers.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Grant {
    advertisers: Vec<String>,
    scopes: Vec<u32>,
}

impl Grant {
    /// Whether a held scope id is `needed` or one of its ancestors (4 covers 44, 20 covers 200).
    fn has_scope(&self, needed: u32) -> bool {
        let needed = needed.to_string();
        self.scopes.iter().any(|s| needed.starts_with(&s.to_string()))
    }
}

#[derive(Debug)]
struct Code {
    grant: Grant,
    issued_at: i64,
    used: bool,
}

#[derive(Debug)]
struct Token {
    grant: Arc<Grant>,
    revoked: bool,
}

/// A stored campaign edit (everything else is generated).
#[derive(Debug, Clone, Default)]
struct CampaignEdit {
    status: Option<CampaignStatus>,
    budget_micros: Option<i64>,
    name: Option<String>,
    modify_time: Option<i64>,
}

#[derive(Debug, Default)]
struct State {
    counter: u64,
    codes: HashMap<String, Code>,
    tokens: HashMap<String, Token>,
    campaigns: HashMap<u64, CampaignEdit>,
}

/// The simulated platform's state.
#[derive(Debug)]
pub struct TikTokSim {
    ctx: SimContext,
    config: TikTokConfig,
    advertiser_index: HashMap<String, usize>,
    limiter: Limiter,
    limiter_keys: [String; 3],
    requests: AtomicU64,
    state: Mutex<State>,
}

impl TikTokSim {
    pub fn new(ctx: SimContext, config: TikTokConfig) -> Self {
        let advertiser_index =
            config.advertisers.iter().enumerate().map(|(i, a)| (a.id.clone(), i)).collect();
        let limiter_keys =
            ["qpd", "qpm", "qps"].map(|bucket| format!("tiktok:app:{}:{bucket}", config.app_id));
        Self {
            ctx,
            config,
            advertiser_index,
            limiter: Limiter::default(),
            limiter_keys,
            requests: AtomicU64::new(0),
            state: Mutex::new(State::default()),
        }
    }

    /// The shared context (seed, faults, clock).
    pub fn ctx(&self) -> &SimContext {
        &self.ctx
    }

    /// The settings.
    pub fn config(&self) -> &TikTokConfig {
        &self.config
    }

    /// The routes, relative to the platform's prefix.
    pub fn router(self: &Arc<Self>) -> Router {
        let api = Router::new()
            .route("/oauth2/access_token/", post(oauth::access_token))
            .route("/oauth2/advertiser/get/", get(oauth::advertiser_get))
            .route("/oauth2/revoke_token/", post(oauth::revoke_token))
            .route("/oauth2/refresh_token/", post(oauth::refresh_token))
            .route("/advertiser/info/", get(api::advertiser_info))
            .route("/campaign/get/", get(api::campaign_get))
            .route("/campaign/status/update/", post(api::campaign_status_update))
            .route("/campaign/update/", post(api::campaign_update))
            .route("/report/integrated/get/", get(report::integrated_get));
        Router::new()
            .route(AUTH_PAGE_PATH, get(oauth::auth_page))
            .nest(API_PREFIX, api)
            .with_state(Arc::clone(self))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A random-looking, deterministic secret value (seed + counter).
    fn mint(state: &mut State, seed: u64, kind: &str, len: usize) -> String {
        state.counter += 1;
        seed::Stream::new(seed, &[seed::text("tiktok"), seed::text(kind), state.counter]).token(len)
    }

    fn app_grant(&self) -> Grant {
        Grant {
            advertisers: self.config.advertisers.iter().map(|a| a.id.clone()).collect(),
            scopes: self.config.scopes.clone(),
        }
    }

    fn store_code(&self, grant: Grant) -> String {
        let now = self.ctx.clock.now_unix();
        let mut state = self.state();
        let code = Self::mint(&mut state, self.ctx.seed, "auth_code", 40);
        state.codes.insert(code.clone(), Code { grant, issued_at: now, used: false });
        code
    }

    fn store_token(&self, grant: Grant) -> String {
        let mut state = self.state();
        let token = Self::mint(&mut state, self.ctx.seed, "access_token", 40);
        state.tokens.insert(token.clone(), Token { grant: Arc::new(grant), revoked: false });
        token
    }

    /// Issues an auth code as the authorization page does after the advertiser approves: every configured
    /// advertiser, the app's scopes.
    pub fn issue_auth_code(&self) -> String {
        self.store_code(self.app_grant())
    }

    /// Issues an auth code covering exactly `advertisers` and `scopes`.
    pub fn issue_auth_code_for(&self, advertisers: &[&str], scopes: &[u32]) -> String {
        let grant = Grant {
            advertisers: advertisers.iter().map(|a| (*a).to_owned()).collect(),
            scopes: scopes.to_vec(),
        };
        self.store_code(grant)
    }

    /// Issues an access token directly (as if a code had been exchanged).
    pub fn issue_token(&self, advertisers: &[&str], scopes: &[u32]) -> String {
        let grant = Grant {
            advertisers: advertisers.iter().map(|a| (*a).to_owned()).collect(),
            scopes: scopes.to_vec(),
        };
        self.store_token(grant)
    }

    /// Issues an access token for every advertiser with the app's scopes.
    pub fn issue_app_token(&self) -> String {
        self.store_token(self.app_grant())
    }

    /// Revokes one token; `false` if it was unknown.
    pub fn revoke_token(&self, token: &str) -> bool {
        match self.state().tokens.get_mut(token) {
            Some(t) => {
                t.revoked = true;
                true
            }
            None => false,
        }
    }

    /// The advertiser cancels the app's authorization: every token covering it becomes invalid (§2.2).
    pub fn deauthorize_advertiser(&self, advertiser_id: &str) {
        for token in self.state().tokens.values_mut() {
            if token.grant.advertisers.iter().any(|a| a == advertiser_id) {
                token.revoked = true;
            }
        }
    }

    /// How many envelopes the platform has answered (each carries a `request_id`), injected faults
    /// included.
    pub fn api_answers(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The id of campaign `index` (0-based) of `advertiser_id`, if both exist.
    pub fn campaign_id(&self, advertiser_id: &str, index: u32) -> Option<String> {
        let adv = *self.advertiser_index.get(advertiser_id)?;
        let config = self.config.advertisers.get(adv)?;
        (index < config.campaigns).then(|| data::campaign_id(adv, index).to_string())
    }

    /// A campaign as the platform holds it now (generated values plus edits).
    pub fn campaign(&self, campaign_id: &str) -> Option<SimCampaign> {
        let (adv, index) = self.locate_campaign(campaign_id)?;
        Some(self.campaign_at(adv, index))
    }

    /// Changes a campaign's status behind the API's back (another tool or a person in Ads Manager).
    pub fn set_campaign_status(&self, campaign_id: &str, status: CampaignStatus) -> bool {
        let Some((adv, index)) = self.locate_campaign(campaign_id) else { return false };
        let now = self.ctx.clock.now_unix();
        let mut state = self.state();
        let edit = state.campaigns.entry(data::campaign_id(adv, index)).or_default();
        edit.status = Some(status);
        edit.modify_time = Some(now);
        true
    }

    /// How many report objects `advertiser_id` has at `level` (rows per day of a daily report).
    pub fn report_objects(&self, advertiser_id: &str, level: DataLevel) -> Option<u64> {
        let adv = *self.advertiser_index.get(advertiser_id)?;
        self.config.advertisers.get(adv).map(|a| data::objects(a, level))
    }

    fn locate_campaign(&self, campaign_id: &str) -> Option<(usize, u32)> {
        let (adv, index) = data::split_campaign_id(campaign_id.parse().ok()?)?;
        let config = self.config.advertisers.get(adv)?;
        (index < config.campaigns).then_some((adv, index))
    }

    fn campaign_at(&self, adv: usize, index: u32) -> SimCampaign {
        let edit = self.state().campaigns.get(&data::campaign_id(adv, index)).cloned().unwrap_or_default();
        self.campaign_with(adv, index, &edit)
    }

    fn campaign_with(&self, adv: usize, index: u32, edit: &CampaignEdit) -> SimCampaign {
        let advertiser = self.config.advertisers.get(adv).map_or("", |a| a.id.as_str());
        let mut campaign = data::generate_campaign(self.ctx.seed, adv, advertiser, index);
        if let Some(status) = edit.status {
            campaign.status = status;
        }
        if let Some(budget) = edit.budget_micros {
            campaign.budget_micros = budget;
        }
        if let Some(name) = &edit.name {
            campaign.name.clone_from(name);
        }
        if let Some(at) = edit.modify_time {
            campaign.modify_time = at;
        }
        campaign
    }
}

impl FaultRender for TikTokSim {
    /// HTTP 200 with code 40100 and no hint: TikTok sends no `Retry-After` (§2.8).
    fn rate_limited(&self, _retry_after: Option<Duration>) -> Response {
        envelope::error_response(self, StatusCode::OK, &envelope::ApiError::rate_limited(&self.config.app_id))
    }

    /// Code 50000 (`sys_error`) with the HTTP status the fault asks for.
    fn server_error(&self, status: StatusCode) -> Response {
        envelope::error_response(self, status, &envelope::ApiError::new(50_000, "System error"))
    }

    fn revoke_all(&self) {
        for token in self.state().tokens.values_mut() {
            token.revoked = true;
        }
    }
}

#[cfg(test)]
mod tests;
