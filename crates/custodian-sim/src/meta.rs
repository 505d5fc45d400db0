//! The simulated Meta Marketing API (Graph API) and Facebook Login, faithful to
//! `shared/reference/ads-apis.md` §1 (paths, parameters, envelopes, error codes, paging cursors, usage headers,
//! signed requests) and its test vectors (§4).
//!
//! # Hosts and paths
//! Everything sits under the simulator's `/meta` prefix:
//!
//! | simulated path (after `/meta`) | stands for |
//! |---|---|
//! | `GET /www/{version}/dialog/oauth?client_id&redirect_uri&state&scope&response_type` | `https://www.facebook.com/{version}/dialog/oauth` (§1.2): answers 302 to the registered `redirect_uri` with `code` and `state`, or `error=access_denied&error_code=200&error_reason=user_denied` |
//! | `GET\|POST /graph/{version}/oauth/access_token` | code exchange (`client_id, redirect_uri, client_secret, code`), long-lived exchange (`grant_type=fb_exchange_token`) and the app token (`grant_type=client_credentials`) on `https://graph.facebook.com` |
//! | `GET /graph/{version}/debug_token`, `GET /graph/debug_token` | token inspection (§1.4), with an app token `{app-id}\|{app-secret}` |
//! | `GET /graph/{version}/me`, `GET /graph/{version}/me/adaccounts` | the token's user and its ad accounts |
//! | `GET /graph/{version}/act_{id}` | the ad account (`id, account_id, name, currency, timezone_name, account_status`) |
//! | `GET /graph/{version}/act_{id}/campaigns` | campaigns, cursor-paged (§1.8) |
//! | `GET /graph/{version}/act_{id}/insights` | synchronous insights (§1.7) |
//! | `POST /graph/{version}/act_{id}/insights` | an async report run → `{"report_run_id": "…"}` (§1.7, M5) |
//! | `GET /graph/{version}/{report_run_id}`, `GET …/{report_run_id}/insights` | the run's status (M6) and its paged results |
//! | `GET\|POST /graph/{version}/{campaign_id}` | read a campaign; change `status`, `daily_budget`, `lifetime_budget`, `start_time`, `stop_time` → `{"success": true}` |
//!
//! The access token comes as the `access_token` parameter (query or form body) or in an
//! `Authorization: Bearer` (or `OAuth`) header. With [`MetaConfig::require_appsecret_proof`] (the App
//! Dashboard's "require proof on all calls"), every call made with a user token must carry
//! `appsecret_proof` = lowercase hex HMAC-SHA256(key = app secret, message = access token) (§1.6, §4.1).
//!
//! # Errors
//! `{"error":{"message","type","code","error_subcode","fbtrace_id"}}` (M8), HTTP 400 for every client error
//! (the wrong client secret's code 1 included) and a 5xx status for the transient codes 1/2
//! (`is_transient: true`). The codes sent: 190 (no subcode: unknown
//! token; 458 app removed or deauthorized; 460 password changed; 463 expired), 104 (no token), 100 (invalid
//! parameter, unknown field, data-per-call limit 100/1487534, object missing 100/33, appsecret_proof missing or
//! wrong, code exchange 100/36007 expired, 36008 redirect mismatch, 36009 used), 101 (wrong client id), 1 (wrong
//! client secret), 200 (ad account not granted, M10), 294 (write without `ads_management`), 3018 (start date
//! beyond 37 months), 2635 (unsupported API version), and the throttles below. The texts of the OAuth and
//! appsecret_proof errors and of 2635/3018 are Meta's as commonly seen in the wild; the reference does not
//! list them (\[U\]). [`MetaSim::fail_next`] injects any documented code.
//!
//! # Rate limits ([`MetaLimits`], §1.11)
//! Enforced per ad account, and per app, with usage headers on every Graph answer:
//! - `ads_insights` business use case (every insights call, async creation, run status and run results):
//!   a rolling-hour quota of `600 + 400 × active ads` calls on the development tier and `190000 + 400 ×
//!   active ads` on the standard tier; exhausted → code 80000, subcode 2446079, and
//!   `estimated_time_to_regain_access` (minutes) in `X-Business-Use-Case-Usage`;
//! - `ads_management` business use case (ad account, campaign reads and writes): `300 + 40 × active ads` /
//!   `100000 + 40 × active ads` per hour → code 80004, subcode 2446079;
//! - the ad account score of the same calls (read 1 point, write 3): at most 60 points decaying over 300 s,
//!   blocked 300 s when exceeded (development) or 9000 points, 300 s, blocked 60 s (standard) → code 17,
//!   subcode 2446079, `X-Ad-Account-Usage` (`acc_id_util_pct`, `reset_time_duration` in seconds);
//! - the app: [`MetaLimits::app_calls_per_hour`] (Meta's platform limit is 200 calls per hour per user;
//!   the default assumes 1000 users) → code 4, `X-App-Usage`.
//!
//! A rolling window is simulated as a bucket that drains continuously (the used share decays to zero over
//! the window). [`MetaLimits::time_scale`] shrinks every window and block (a scale of 360 makes the hour
//! last 10 s) so that tests and benchmarks can reach the limits. Every throttle answer is counted with
//! `faults.record_throttled(Meta)`.
//!
//! # Data
//! Each [`MetaAccount`] has `campaigns × adsets_per_campaign × ads_per_adset` ads; every object of every
//! level delivers every day, so an insights query at a level returns `objects × time buckets` rows, generated
//! row by row from the seed (nothing is materialized). Insights end at the simulator clock's current day
//! (UTC) and start at most 37 months back. Campaign listing returns ACTIVE and PAUSED campaigns unless
//! `effective_status` asks otherwise (archived and deleted ones only come from changes). A sync insights
//! query of more than [`MetaConfig::sync_max_rows`] rows and any page over [`MetaConfig::max_page_rows`]
//! fail with the data-per-call error 100/1487534 (Meta publishes no numbers; these are the simulator's).
//! Async report runs show "Job Not Started", then "Job Running" (with "Job Running" at 100% on the poll
//! before the last, as Meta sometimes does), then "Job Completed" after [`MetaConfig::report_run_polls`]
//! status polls.
//!
//! # Control (tests)
//! [`MetaSim::issue_code`] and [`MetaSim::issue_token`] (no browser), [`MetaSim::revoke_token`] and
//! [`MetaSim::revoke_user`] (190/458 or 460), [`MetaSim::set_token_accounts`] (the user removed an ad
//! account), [`MetaSim::fail_next`] (any documented error code), [`MetaSim::fail_report_runs`],
//! [`MetaSim::campaign`] (what a change did), [`MetaSim::send_deauthorize`] and
//! [`MetaSim::send_data_deletion`] (the signed callbacks; answers in [`MetaSim::deletion_answers`]), and
//! [`signed_request`] / [`appsecret_proof`] to build what Meta would send or expect. Faults of
//! [`crate::faults`] render as code 17 with the usage headers at 100% (rate limit), code 2 with
//! `is_transient` (server error), and 190/458 for every token (revocation).

mod callbacks;
mod data;
mod dates;
mod error;
mod graph;
mod insights;
mod limits;
mod oauth;
mod params;
mod state;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{any, get};

use crate::SimContext;
use crate::faults::FaultRender;

pub use callbacks::{CallbackError, DeletionAnswer, signed_request};
pub use limits::{AccessTier, MetaLimits};
pub use params::appsecret_proof;

use error::GraphError;
use state::State;

/// The simulated app's id (a fake value).
pub const APP_ID: &str = "1357924680135792";
/// The simulated app's secret (a fake value).
pub const APP_SECRET: &str = "5f0c1d2e3a4b5c6d7e8f90a1b2c3d4e5";
/// The simulated app's name, as `debug_token` reports it.
pub const APP_NAME: &str = "Custodian Simulator";
/// The redirect URI registered for the simulated app.
pub const REDIRECT_URI: &str = "http://127.0.0.1:8080/oauth/meta/callback";
/// The app-scoped id of the simulated user who grants access (the debugging doc's sample id).
pub const USER_ID: &str = "10215241773831025";
/// The Graph API version the simulator's examples use (§1.1: v25.0 is the latest).
pub const API_VERSION: &str = "v25.0";
/// The ad accounts of the default configuration (numeric ids; `act_` + id on the wire).
pub const ACCOUNTS: [&str; 2] = ["1010035716096012", "1010035716096013"];
/// Lifetime of a long-lived user token: the doc sample's `expires_in` (M11), about 60 days.
pub const LONG_LIVED_SECS: i64 = 5_183_944;

/// One simulated ad account and the size of its tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaAccount {
    /// Numeric id (without `act_`).
    pub id: String,
    pub name: String,
    /// ISO 4217; budgets are in its minor unit (offset 100, or 1 for the zero-decimal currencies).
    pub currency: String,
    pub timezone: String,
    pub campaigns: u32,
    pub adsets_per_campaign: u32,
    pub ads_per_adset: u32,
}

impl MetaAccount {
    /// An account with `campaigns` campaigns of 2 ad sets of 3 ads, in USD.
    pub fn new(id: &str, campaigns: u32) -> Self {
        Self {
            id: id.to_owned(),
            name: format!("Ad account {id}"),
            currency: "USD".to_owned(),
            timezone: "America/Los_Angeles".to_owned(),
            campaigns,
            adsets_per_campaign: 2,
            ads_per_adset: 3,
        }
    }

    /// How many ad sets the account has.
    pub fn adsets(&self) -> u64 {
        u64::from(self.campaigns) * u64::from(self.adsets_per_campaign)
    }

    /// How many ads the account has.
    pub fn ads(&self) -> u64 {
        self.adsets() * u64::from(self.ads_per_adset)
    }
}

/// The simulated app registration, user and accounts.
#[derive(Debug, Clone)]
pub struct MetaConfig {
    pub app_id: String,
    pub app_secret: String,
    pub app_name: String,
    /// Redirect URIs registered in the app's "Valid OAuth Redirect URIs" (exact match).
    pub redirect_uris: Vec<String>,
    /// "Require app secret proof for server API calls" (§1.6).
    pub require_appsecret_proof: bool,
    /// Graph API versions that answer; others get code 2635.
    pub versions: Vec<String>,
    /// The user who consents in the dialog.
    pub user_id: String,
    pub accounts: Vec<MetaAccount>,
    /// Scopes the user unticks in the dialog (granted scopes = asked − declined).
    pub declined_scopes: Vec<String>,
    /// The user presses "Cancel" in the dialog.
    pub deny_dialog: bool,
    /// Whether `debug_token` lists `target_ids` for the ads scopes (system-user tokens may not, §1.4).
    pub granular_target_ids: bool,
    /// Lifetime of a token from the code exchange ("short-lived, expiring in hours").
    pub short_lived_secs: i64,
    /// Lifetime of a long-lived token.
    pub long_lived_secs: i64,
    /// Data access lasts 90 days from the user's last activity (§1.2).
    pub data_access_secs: i64,
    /// Lifetime of an authorization code.
    pub code_secs: i64,
    /// The Deauthorize Callback URL (§1.5).
    pub deauthorize_url: Option<String>,
    /// The Data Deletion Request Callback URL (§1.5).
    pub data_deletion_url: Option<String>,
    pub limits: MetaLimits,
    /// The most rows one page (`limit`) may ask for; more → 100/1487534.
    pub max_page_rows: u32,
    /// The most rows a synchronous insights query may cover in all; more → 100/1487534 (use async).
    pub sync_max_rows: u64,
    /// Status polls before an async report run is "Job Completed" (it shows "Job Running" at 100% on the
    /// poll before, as Meta sometimes does).
    pub report_run_polls: u32,
}

impl Default for MetaConfig {
    fn default() -> Self {
        Self {
            app_id: APP_ID.to_owned(),
            app_secret: APP_SECRET.to_owned(),
            app_name: APP_NAME.to_owned(),
            redirect_uris: vec![REDIRECT_URI.to_owned()],
            require_appsecret_proof: true,
            versions: vec!["v23.0".to_owned(), "v24.0".to_owned(), API_VERSION.to_owned()],
            user_id: USER_ID.to_owned(),
            accounts: vec![MetaAccount::new(ACCOUNTS[0], 12), MetaAccount::new(ACCOUNTS[1], 3)],
            declined_scopes: Vec::new(),
            deny_dialog: false,
            granular_target_ids: true,
            short_lived_secs: 7_200,
            long_lived_secs: LONG_LIVED_SECS,
            data_access_secs: 90 * 86_400,
            code_secs: 600,
            deauthorize_url: None,
            data_deletion_url: None,
            limits: MetaLimits::default(),
            max_page_rows: 5_000,
            sync_max_rows: 250_000,
            report_run_polls: 4,
        }
    }
}

/// What a token grants: the user, scopes and ad accounts, as the dialog or a test set them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaGrant {
    pub user_id: String,
    pub scopes: Vec<String>,
    /// Numeric ad account ids.
    pub accounts: Vec<String>,
}

impl MetaGrant {
    /// The configured user with `scopes` on every configured account.
    pub fn all_accounts(config: &MetaConfig, scopes: &[&str]) -> Self {
        Self {
            user_id: config.user_id.clone(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            accounts: config.accounts.iter().map(|a| a.id.clone()).collect(),
        }
    }
}

/// Why an authorization stopped working, as Meta's 190 subcodes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// 458: the user removed the app (deauthorize).
    AppRemoved,
    /// 460: the user changed their password.
    PasswordChanged,
}

impl Revocation {
    fn subcode(self) -> i64 {
        match self {
            Revocation::AppRemoved => 458,
            Revocation::PasswordChanged => 460,
        }
    }
}

/// A campaign as the simulator currently holds it (generated, then changed by `POST /{campaign_id}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimCampaign {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub status: String,
    pub objective: String,
    /// Minor units of the account currency.
    pub daily_budget: Option<i64>,
    pub lifetime_budget: Option<i64>,
    pub start_time: Option<i64>,
    pub stop_time: Option<i64>,
    pub created_time: i64,
    pub updated_time: i64,
}

/// The simulated platform's state.
#[derive(Debug)]
pub struct MetaSim {
    ctx: SimContext,
    config: MetaConfig,
    state: Mutex<State>,
    meters: limits::Meters,
    accounts: HashMap<String, usize>,
    active_ads: Vec<u64>,
}

impl MetaSim {
    pub fn new(ctx: SimContext, config: MetaConfig) -> Self {
        let accounts = config.accounts.iter().enumerate().map(|(i, a)| (a.id.clone(), i)).collect();
        let active_ads =
            config.accounts.iter().enumerate().map(|(i, a)| data::active_ads(ctx.seed, i, a)).collect();
        Self {
            ctx,
            config,
            state: Mutex::new(State::default()),
            meters: limits::Meters::default(),
            accounts,
            active_ads,
        }
    }

    /// The shared context (seed, faults, clock).
    pub fn ctx(&self) -> &SimContext {
        &self.ctx
    }

    /// The settings.
    pub fn config(&self) -> &MetaConfig {
        &self.config
    }

    /// The routes, relative to the platform's prefix.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/www/{version}/dialog/oauth", get(oauth::dialog))
            .route("/graph/{node}", any(graph::unversioned))
            .route("/graph/{version}/{node}", any(graph::node))
            .route("/graph/{version}/{node}/{edge}", any(graph::edge))
            .with_state(self.clone())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn account_index(&self, numeric: &str) -> Option<usize> {
        self.accounts.get(numeric).copied()
    }

    /// Issues an authorization code as the dialog would after the configured user consented to `scopes`
    /// on every configured account (no browser needed).
    pub fn issue_code(&self, scopes: &[&str], redirect_uri: &str) -> String {
        self.issue_code_for(MetaGrant::all_accounts(&self.config, scopes), redirect_uri)
    }

    /// Issues an authorization code for `grant`.
    pub fn issue_code_for(&self, grant: MetaGrant, redirect_uri: &str) -> String {
        let now = self.ctx.clock.now_unix();
        self.state().issue_code(self.ctx.seed, grant, redirect_uri, now + self.config.code_secs)
    }

    /// Issues a long-lived user token for the configured user with `scopes` on every configured account.
    pub fn issue_token(&self, scopes: &[&str]) -> String {
        self.issue_token_for(MetaGrant::all_accounts(&self.config, scopes))
    }

    /// Issues a long-lived user token for `grant`.
    pub fn issue_token_for(&self, grant: MetaGrant) -> String {
        let now = self.ctx.clock.now_unix();
        let mut state = self.state();
        let auth = state.authorize(grant, now + self.config.data_access_secs);
        state.issue_token(self.ctx.seed, auth, now, Some(now + self.config.long_lived_secs), true)
    }

    /// Revokes the authorization behind `token` (every token of it stops working with 190/`why`).
    /// Returns whether the token was known.
    pub fn revoke_token(&self, token: &str, why: Revocation) -> bool {
        self.state().revoke_token(token, why)
    }

    /// Revokes every authorization of `user_id`.
    pub fn revoke_user(&self, user_id: &str, why: Revocation) {
        self.state().revoke_user(user_id, why);
    }

    /// Changes which ad accounts the authorization behind `token` covers (the user edited the app's
    /// access in Business Settings).
    pub fn set_token_accounts(&self, token: &str, accounts: &[&str]) -> bool {
        self.state().set_accounts(token, accounts)
    }

    /// Changes which ad accounts every authorization of `user_id` covers (the user edited the app's access
    /// in Business Settings; a test that does not hold the token, such as one driving a server process,
    /// knows the user). Returns how many authorizations changed.
    pub fn set_user_accounts(&self, user_id: &str, accounts: &[&str]) -> usize {
        self.state().set_user_accounts(user_id, accounts)
    }

    /// The next `times` Graph calls (after authentication) fail with Meta error `code`/`subcode`, in the
    /// documented envelope (and usage headers at 100% for the throttling codes).
    pub fn fail_next(&self, code: i64, subcode: Option<i64>, times: u32) {
        self.state().injected.push((code, subcode, times));
    }

    /// The next `times` async report runs end in "Job Failed".
    pub fn fail_report_runs(&self, times: u32) {
        self.state().failing_runs += times;
    }

    /// The campaign `id` as it currently is.
    pub fn campaign(&self, id: &str) -> Option<SimCampaign> {
        let (account, index) = data::campaign_ref(id)?;
        let config = self.config.accounts.get(account)?;
        if index >= u64::from(config.campaigns) {
            return None;
        }
        let state = self.state();
        Some(data::campaign(
            self.ctx.seed,
            account,
            config,
            index,
            state.campaigns.get(&index_key(account, index)),
        ))
    }

    /// How many async report runs were created so far.
    pub fn report_runs_created(&self) -> usize {
        self.state().runs.len()
    }

    /// How many Graph calls reached authentication so far (OAuth and `debug_token` calls excluded).
    pub fn graph_calls(&self) -> u64 {
        self.state().graph_calls
    }

    /// How many rows the insights of `account` at `level` (`account|campaign|adset|ad`) have per day.
    pub fn objects_at_level(&self, account: &str, level: &str) -> Option<u64> {
        let config = self.config.accounts.get(self.account_index(account)?)?;
        insights::Level::parse(level).map(|l| l.objects(config))
    }

    /// The number of active ads of `account`, which sizes its business-use-case quotas.
    pub fn active_ads(&self, account: &str) -> Option<u64> {
        self.active_ads.get(self.account_index(account)?).copied()
    }
}

/// The key of a campaign's changes in the state.
fn index_key(account: usize, index: u64) -> (usize, u64) {
    (account, index)
}

impl FaultRender for MetaSim {
    /// Code 17 "User request limit reached" (HTTP 400) with the ad account usage at 100% and
    /// `reset_time_duration` carrying the hint (in seconds, rounded up).
    fn rate_limited(&self, retry_after: Option<Duration>) -> Response {
        let reset = retry_after.map_or(0, |d| d.as_secs() + u64::from(d.subsec_nanos() > 0));
        let trace = self.state().trace_id(self.ctx.seed);
        let mut response =
            GraphError::new(17, Some(2446079), "(#17) User request limit reached").render(&trace);
        limits::throttled_headers(response.headers_mut(), self.config.limits.tier, reset);
        response
    }

    /// Code 2 "An unexpected error has occurred" (`is_transient: true`) with the fault's status.
    fn server_error(&self, status: StatusCode) -> Response {
        let trace = self.state().trace_id(self.ctx.seed);
        let mut error =
            GraphError::new(2, None, "An unexpected error has occurred. Please retry your request later.");
        error.status = status;
        error.render(&trace)
    }

    /// Every authorization is revoked as if the user removed the app (190/458).
    fn revoke_all(&self) {
        self.state().revoke_all(Revocation::AppRemoved);
    }
}

#[cfg(test)]
mod tests;
