//! [`MetaAdapter`]: the platform ports on the Graph API — [`Authorizer`], [`ReportingSource`],
//! [`CampaignControl`] and [`SignalVerifier`].

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration as StdDuration;

use custodian_core::approval::{CampaignReadback, ChangeDiff, ChangeField, ChangeValue};
use custodian_core::data::{Campaign, CampaignId, Currency, ReportLevel, ReportRow};
use custodian_core::grant::GrantEvidence;
use custodian_core::platform::{AccountRef, MetaAdAccountId, Platform, consent_scopes};
use custodian_core::ports::{
    Authorizer, CampaignControl, Clock, ConsentRequest, Credentials, Cursor, Page, PlatformError, RawSignal,
    ReportQuery, ReportingSource, SignalError, SignalVerifier, Target, VerifiedSignal,
};
use custodian_http::Url;
use secrecy::SecretString;
use time::{Date, Duration, OffsetDateTime};

use crate::api;
use crate::client::Graph;
use crate::config::{MetaConfig, REPULL_WINDOW_DAYS};
use crate::convert;
use crate::error::MetaError;
use crate::signal::{self, SignalSettings};
use crate::wire::{
    self, AccountNode, AdAccountItem, CampaignItem, DebugToken, Paged, RunStart, RunStatus, Success,
    TokenAnswer,
};

/// How often a report-run poll may meet 100/33 right after creation (a known race, §1.7) before it counts.
const RUN_RACE_RETRIES: u32 = 3;
/// The most pages fetched ahead at once (one per running sync); the oldest is dropped beyond.
const MAX_PREFETCHES: usize = 16;
/// The most `me/adaccounts` pages read during a validation.
const MAX_ACCOUNT_PAGES: usize = 1_000;

/// The Meta Marketing API adapter. Cheap to clone: clones share the HTTP client, the rate limiter and the
/// currency cache.
#[derive(Clone)]
pub struct MetaAdapter {
    graph: Graph,
    settings: Arc<Settings>,
    currencies: Arc<Mutex<HashMap<String, Currency>>>,
    prefetches: Arc<Mutex<Vec<Prefetch>>>,
}

/// A page being fetched ahead of the caller.
struct Prefetch {
    target: Target,
    query: ReportQuery,
    cursor: Cursor,
    token: SecretString,
    task: tokio::task::JoinHandle<Result<Page<ReportRow>, PlatformError>>,
}

struct Settings {
    www: Url,
    api_version: String,
    app_id: String,
    app_secret: SecretString,
    redirect_uris: Vec<String>,
    clock: Arc<dyn Clock>,
    page_size: u32,
    campaign_page_size: u32,
    async_after_days: u32,
    poll_interval: StdDuration,
    async_timeout: StdDuration,
    conversion_types: Vec<String>,
    deauthorize_path: String,
    data_deletion_path: String,
    signal_max_age: StdDuration,
    prefetch: bool,
}

impl fmt::Debug for MetaAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetaAdapter")
            .field("graph", &self.graph)
            .field("www", &self.settings.www.as_str())
            .field("app_id", &self.settings.app_id)
            .field("app_secret", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

/// Where a report sync continues: a synchronous query's cursor, or an async run's.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ReportCursor {
    Sync { after: String },
    Run { id: String, after: String },
}

impl ReportCursor {
    fn encode(&self) -> Cursor {
        Cursor(match self {
            ReportCursor::Sync { after } => format!("s:{after}"),
            ReportCursor::Run { id, after } => format!("r:{id}:{after}"),
        })
    }

    fn decode(cursor: &Cursor) -> Option<Self> {
        if let Some(after) = cursor.0.strip_prefix("s:") {
            return Some(ReportCursor::Sync { after: after.to_owned() });
        }
        let (id, after) = cursor.0.strip_prefix("r:")?.split_once(':')?;
        (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
            .then(|| ReportCursor::Run { id: id.to_owned(), after: after.to_owned() })
    }
}

fn invalid(detail: impl Into<String>) -> PlatformError {
    PlatformError::Invalid { detail: detail.into() }
}

/// The ad account of `target` (only Meta accounts are served here).
fn ad_account(target: &Target) -> Result<&MetaAdAccountId, PlatformError> {
    match &target.account {
        AccountRef::MetaAdAccount(id) => Ok(id),
        other => Err(invalid(format!("`{other}` is not a meta ad account"))),
    }
}

/// The query covering the 28-day late-attribution window (§1.7: insights "do not change after 28 days"):
/// from the day after `synced_through`, or 28 days before `today` if that is earlier, to `today` (both in
/// the ad account's time zone). A caller keeps the last day it synced per account and level, runs this
/// query on each sync, and upserts the rows by their natural key (tenant, account, level, object, date), so
/// re-pulled days replace what late attribution changed.
pub fn repull_query(level: ReportLevel, synced_through: Date, today: Date) -> ReportQuery {
    let window_start = today - Duration::days(REPULL_WINDOW_DAYS);
    let next = synced_through.next_day().unwrap_or(synced_through);
    ReportQuery { level, from: next.min(window_start), to: today }
}

impl MetaAdapter {
    /// Builds the adapter: the HTTP client (TLS-1: https, or plain http to loopback only when configured)
    /// and the checked base URLs. Contacts nobody.
    pub fn new(config: MetaConfig) -> Result<Self, MetaError> {
        let graph = Graph::new(&config)?;
        let www = graph.http().check_url(config.www_url.trim_end_matches('/')).map_err(MetaError::Http)?;
        let settings = Settings {
            www,
            api_version: config.api_version,
            app_id: config.app_id,
            app_secret: config.app_secret,
            redirect_uris: config.redirect_uris,
            clock: config.clock,
            page_size: config.page_size.max(1),
            campaign_page_size: config.campaign_page_size.max(1),
            async_after_days: config.async_after_days,
            poll_interval: config.poll_interval,
            async_timeout: config.async_timeout,
            conversion_types: config.conversion_action_types,
            deauthorize_path: config.deauthorize_path,
            data_deletion_path: config.data_deletion_path,
            signal_max_age: config.signal_max_age,
            prefetch: config.prefetch,
        };
        Ok(Self {
            graph,
            settings: Arc::new(settings),
            currencies: Arc::default(),
            prefetches: Arc::default(),
        })
    }

    fn check_redirect(&self, redirect_uri: &str) -> Result<(), PlatformError> {
        if self.settings.redirect_uris.iter().any(|u| u == redirect_uri) {
            Ok(())
        } else {
            Err(invalid(format!("redirect uri `{redirect_uri}` is not registered for the app")))
        }
    }

    /// The account's currency (budgets are in its minor unit), cached per adapter.
    async fn currency(&self, token: &SecretString, account: &MetaAdAccountId) -> Result<Currency, MetaError> {
        let cached =
            self.currencies.lock().unwrap_or_else(PoisonError::into_inner).get(account.numeric()).copied();
        if let Some(currency) = cached {
            return Ok(currency);
        }
        let node: AccountNode =
            self.graph.call_json(&api::accounts::currency(token, account.numeric())).await?;
        let currency = node
            .currency
            .as_deref()
            .and_then(|c| Currency::new(c).ok())
            .ok_or_else(|| MetaError::Protocol("the ad account has no valid currency".to_owned()))?;
        self.currencies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(account.numeric().to_owned(), currency);
        Ok(currency)
    }

    /// Reads one insights page (sync query or run results) and converts its rows.
    async fn insights_page(
        &self,
        target: &Target,
        call: &crate::client::Call<'_>,
        level: ReportLevel,
    ) -> Result<(Vec<ReportRow>, Option<String>), MetaError> {
        let types = &self.settings.conversion_types;
        self.graph
            .call_with(call, |response| {
                let page: wire::InsightsPage<'_> = wire::decode(&response.body).map_err(MetaError::Decode)?;
                let rows = page
                    .data
                    .iter()
                    .map(|row| convert::report_row(target, level, row, types, None))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((rows, api::next_after(&page.paging)?))
            })
            .await
    }

    async fn sync_page(
        &self,
        target: &Target,
        token: &SecretString,
        account: &MetaAdAccountId,
        query: &ReportQuery,
        after: Option<&str>,
    ) -> Result<Page<ReportRow>, MetaError> {
        let call = api::insights::sync(
            token,
            account.numeric(),
            query.level,
            query.from,
            query.to,
            self.settings.page_size,
            after,
        );
        let (items, next) = self.insights_page(target, &call, query.level).await?;
        Ok(Page { items, next: next.map(|after| ReportCursor::Sync { after }.encode()) })
    }

    async fn run_page(
        &self,
        target: &Target,
        token: &SecretString,
        account: &MetaAdAccountId,
        level: ReportLevel,
        run: &str,
        after: Option<&str>,
    ) -> Result<Page<ReportRow>, MetaError> {
        let call = api::insights::run_results(token, account.numeric(), run, self.settings.page_size, after);
        let (items, next) = self.insights_page(target, &call, level).await?;
        Ok(Page { items, next: next.map(|after| ReportCursor::Run { id: run.to_owned(), after }.encode()) })
    }

    /// Starts an async report run, waits for "Job Completed" (not just 100%, which Meta may show while the
    /// job still runs) and reads its first page.
    async fn run_first_page(
        &self,
        target: &Target,
        token: &SecretString,
        account: &MetaAdAccountId,
        query: &ReportQuery,
    ) -> Result<Page<ReportRow>, MetaError> {
        let numeric = account.numeric();
        let start: RunStart = self
            .graph
            .call_json(&api::insights::create_run(token, numeric, query.level, query.from, query.to))
            .await?;
        let run = start.report_run_id.0;
        let deadline = tokio::time::Instant::now() + self.settings.async_timeout;
        let mut races = 0;
        loop {
            match self.graph.call_json::<RunStatus>(&api::insights::run_status(token, numeric, &run)).await {
                Ok(status) => match status.async_status.as_deref() {
                    Some("Job Completed") => break,
                    Some(failed @ ("Job Failed" | "Job Skipped")) => {
                        return Err(MetaError::ReportRun { id: run, status: failed.to_owned() });
                    }
                    _ => tracing::debug!(
                        percent = status.async_percent_completion.as_ref().map(|p| p.0.as_str()),
                        "report run not completed"
                    ),
                },
                Err(MetaError::Api { code: Some(100), subcode: Some(33), .. })
                    if races < RUN_RACE_RETRIES =>
                {
                    races += 1;
                }
                Err(error) => return Err(error),
            }
            if tokio::time::Instant::now() + self.settings.poll_interval > deadline {
                return Err(MetaError::ReportTimeout { id: run });
            }
            tokio::time::sleep(self.settings.poll_interval).await;
        }
        self.run_page(target, token, account, query.level, &run, None).await
    }

    async fn campaign_item(
        &self,
        token: &SecretString,
        account: &MetaAdAccountId,
        campaign: &CampaignId,
        fields: &str,
    ) -> Result<CampaignItem, PlatformError> {
        if !campaign.as_str().bytes().all(|b| b.is_ascii_digit()) {
            return Err(PlatformError::NotFound {
                detail: format!("campaign `{campaign}` is not a meta id"),
            });
        }
        let item: CampaignItem = self
            .graph
            .call_json(&api::campaigns::get(token, account.numeric(), campaign.as_str(), fields))
            .await?;
        match item.account_id.as_ref() {
            Some(id) if id.0 == account.numeric() => Ok(item),
            // AUTH-3: a campaign of another ad account is not touched through this target.
            _ => Err(PlatformError::NotFound {
                detail: format!("campaign `{campaign}` is not in ad account `{}`", account.as_str()),
            }),
        }
    }

    /// The ad accounts a token reaches according to `me/adaccounts` (paged; a repeated cursor stops).
    async fn listed_accounts(&self, token: &SecretString) -> Result<BTreeSet<AccountRef>, MetaError> {
        let mut accounts = BTreeSet::new();
        let mut seen = HashSet::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_ACCOUNT_PAGES {
            let page: Paged<AdAccountItem> =
                self.graph.call_json(&api::accounts::mine(token, after.as_deref())).await?;
            accounts.extend(
                page.data
                    .iter()
                    .filter_map(|a| a.account_id.as_ref())
                    .filter_map(|id| MetaAdAccountId::new(id.0.clone()).ok())
                    .map(AccountRef::MetaAdAccount),
            );
            match api::next_after(&page.paging)? {
                Some(next) if seen.insert(next.clone()) => after = Some(next),
                Some(_) => return Err(MetaError::Protocol("the ad account pages loop".to_owned())),
                None => return Ok(accounts),
            }
        }
        Err(MetaError::Protocol("too many ad account pages".to_owned()))
    }
}

#[async_trait::async_trait]
impl Authorizer for MetaAdapter {
    fn platform(&self) -> Platform {
        Platform::Meta
    }

    /// `https://www.facebook.com/{version}/dialog/oauth?client_id&redirect_uri&state&response_type=code&scope=…`
    /// with exactly the consent scopes of the requested tasks (AUTH-4).
    fn consent_url(&self, req: &ConsentRequest) -> Result<String, PlatformError> {
        let scopes = consent_scopes(Platform::Meta, &req.tasks)
            .map_err(|e| PlatformError::Unsupported(e.to_string()))?;
        self.check_redirect(&req.redirect_uri)?;
        let scope = scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",");
        let mut url = self.settings.www.clone();
        url.path_segments_mut()
            .map_err(|()| invalid("the login dialog base url cannot take a path"))?
            .pop_if_empty()
            .extend([self.settings.api_version.as_str(), "dialog", "oauth"]);
        url.query_pairs_mut()
            .append_pair("client_id", &self.settings.app_id)
            .append_pair("redirect_uri", &req.redirect_uri)
            .append_pair("state", &req.state)
            .append_pair("response_type", "code")
            .append_pair("scope", &scope);
        Ok(url.into())
    }

    /// The code for a short-lived token, then that for a long-lived one (§1.2).
    #[tracing::instrument(skip_all, fields(platform = "meta"))]
    async fn exchange(&self, code: &SecretString, redirect_uri: &str) -> Result<Credentials, PlatformError> {
        self.check_redirect(redirect_uri)?;
        let settings = &self.settings;
        let short: TokenAnswer = self
            .graph
            .call_json(&api::oauth::code_exchange(&settings.app_id, &settings.app_secret, code, redirect_uri))
            .await
            .map_err(|e| match PlatformError::from(e) {
                // Every refusal of a code is "used, expired or unknown" for the caller.
                PlatformError::Revoked { detail } | PlatformError::Unauthorized { detail } => {
                    PlatformError::Invalid { detail }
                }
                other => other,
            })?;
        let short = SecretString::from(short.access_token);
        let long: TokenAnswer = self
            .graph
            .call_json(&api::oauth::long_lived(&settings.app_id, &settings.app_secret, &short))
            .await?;
        let now = settings.clock.now();
        let access_expires_at = long.expires_in.filter(|s| *s > 0).map(|s| now + Duration::seconds(s));
        let mut credentials = Credentials::bearer(SecretString::from(long.access_token));
        credentials.access_expires_at = access_expires_at;
        Ok(credentials)
    }

    /// Meta long-lived user tokens have no refresh token: the credentials come back unchanged (the port's
    /// contract); when the token lapses, `validate` says so and the client consents again.
    async fn refresh(&self, credentials: &Credentials) -> Result<Credentials, PlatformError> {
        Ok(credentials.clone())
    }

    /// `debug_token` (AUTH-2): the token must be valid, of this app, unexpired and with data access left;
    /// the evidence lists the user, the scopes and the ad accounts of the ads scopes' `target_ids` (or of
    /// `me/adaccounts` when Meta lists none). Any doubt is an error, never evidence.
    #[tracing::instrument(skip_all, fields(platform = "meta"))]
    async fn validate(
        &self,
        credentials: &Credentials,
        now: OffsetDateTime,
    ) -> Result<GrantEvidence, PlatformError> {
        // An auth error of the call itself is about the app token, not the client's: it says nothing about
        // the grant, so it is "unavailable" (fail closed) rather than a revocation.
        let answer: DebugToken =
            self.graph.call_json(&api::oauth::debug_token(&credentials.access_token)).await.map_err(|e| {
                match PlatformError::from(e) {
                    PlatformError::Revoked { detail } | PlatformError::Unauthorized { detail } => {
                        PlatformError::Unavailable(detail.into())
                    }
                    other => other,
                }
            })?;
        let (mut evidence, list_all) = convert::evidence(&answer.data, self.graph.app_id(), now)?;
        if list_all {
            evidence.accounts.extend(self.listed_accounts(&credentials.access_token).await?);
        }
        Ok(evidence)
    }
}

#[async_trait::async_trait]
impl ReportingSource for MetaAdapter {
    /// `act_{id}/campaigns` with only the fields a [`Campaign`] holds (MIN-1, MIN-4).
    #[tracing::instrument(skip_all, fields(platform = "meta", tenant = %target.tenant))]
    async fn campaigns(
        &self,
        target: &Target,
        credentials: &Credentials,
        cursor: Option<Cursor>,
    ) -> Result<Page<Campaign>, PlatformError> {
        let account = ad_account(target)?;
        let token = &credentials.access_token;
        let currency = self.currency(token, account).await?;
        let after = cursor.as_ref().map(|c| c.0.as_str());
        let call = api::campaigns::list(token, account.numeric(), self.settings.campaign_page_size, after);
        let page: Paged<CampaignItem> = self.graph.call_json(&call).await?;
        let items = page
            .data
            .iter()
            .map(|item| convert::campaign(target, item, &currency))
            .collect::<Result<Vec<_>, _>>()?;
        let next = api::next_after(&page.paging)?.map(Cursor);
        Ok(Page { items, next })
    }

    /// Daily rows of the query's level with only the allowed metrics (MIN-1, MIN-4). Ranges longer than
    /// `async_after_days`, and sync queries Meta refuses as too much data (100/1487534), go through an
    /// async report run; the cursor remembers which. With [`MetaConfig::prefetch`], the next page is
    /// requested as soon as this one is returned (at most one page ahead per sync), so that Meta prepares
    /// page n + 1 while the caller stores page n; its result, error included, is what the next call gets.
    #[tracing::instrument(skip_all, fields(platform = "meta", tenant = %target.tenant))]
    async fn report_rows(
        &self,
        target: &Target,
        credentials: &Credentials,
        query: &ReportQuery,
        cursor: Option<Cursor>,
    ) -> Result<Page<ReportRow>, PlatformError> {
        ad_account(target)?;
        if query.from > query.to {
            return Err(invalid("the report range ends before it starts"));
        }
        let token = &credentials.access_token;
        let prefetched = cursor.as_ref().and_then(|c| self.take_prefetch(target, query, c, token));
        let page = match prefetched {
            Some(task) => task.await.map_err(|e| PlatformError::Unavailable(Box::new(e)))??,
            None => self.page_at(target, token, query, cursor).await?,
        };
        if self.settings.prefetch
            && let Some(next) = &page.next
        {
            self.spawn_prefetch(target, token, query, next);
        }
        Ok(page)
    }
}

impl MetaAdapter {
    /// The page of `query` at `cursor` (`None`: the first, which decides between sync and async).
    async fn page_at(
        &self,
        target: &Target,
        token: &SecretString,
        query: &ReportQuery,
        cursor: Option<Cursor>,
    ) -> Result<Page<ReportRow>, PlatformError> {
        let account = ad_account(target)?;
        let page = match cursor {
            None => {
                let days = (query.to - query.from).whole_days() + 1;
                if days > i64::from(self.settings.async_after_days) {
                    self.run_first_page(target, token, account, query).await
                } else {
                    match self.sync_page(target, token, account, query, None).await {
                        Err(error) if error.is_too_much_data() => {
                            self.run_first_page(target, token, account, query).await
                        }
                        other => other,
                    }
                }
            }
            Some(cursor) => match ReportCursor::decode(&cursor) {
                Some(ReportCursor::Sync { after }) => {
                    self.sync_page(target, token, account, query, Some(&after)).await
                }
                Some(ReportCursor::Run { id, after }) => {
                    self.run_page(target, token, account, query.level, &id, Some(&after)).await
                }
                None => return Err(invalid("the cursor is not a meta report cursor")),
            },
        };
        Ok(page?)
    }

    fn prefetches(&self) -> std::sync::MutexGuard<'_, Vec<Prefetch>> {
        self.prefetches.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts fetching the page at `cursor` in the background.
    fn spawn_prefetch(&self, target: &Target, token: &SecretString, query: &ReportQuery, cursor: &Cursor) {
        let adapter = self.clone();
        let (owned_target, owned_token, owned_query, owned_cursor) =
            (target.clone(), token.clone(), query.clone(), cursor.clone());
        let task = tokio::spawn(async move {
            adapter.page_at(&owned_target, &owned_token, &owned_query, Some(owned_cursor)).await
        });
        let prefetch = Prefetch {
            target: target.clone(),
            query: query.clone(),
            cursor: cursor.clone(),
            token: token.clone(),
            task,
        };
        let mut prefetches = self.prefetches();
        prefetches.push(prefetch);
        if prefetches.len() > MAX_PREFETCHES {
            let oldest = prefetches.remove(0);
            oldest.task.abort();
        }
    }

    /// The background fetch of exactly this page with the same token, if one runs.
    fn take_prefetch(
        &self,
        target: &Target,
        query: &ReportQuery,
        cursor: &Cursor,
        token: &SecretString,
    ) -> Option<tokio::task::JoinHandle<Result<Page<ReportRow>, PlatformError>>> {
        let mut prefetches = self.prefetches();
        let index = prefetches
            .iter()
            .position(|p| &p.target == target && &p.query == query && &p.cursor == cursor)?;
        let prefetch = prefetches.remove(index);
        let same_token =
            Credentials::bearer(prefetch.token.clone()).same_tokens(&Credentials::bearer(token.clone()));
        if same_token {
            Some(prefetch.task)
        } else {
            prefetch.task.abort();
            None
        }
    }
}

#[async_trait::async_trait]
impl CampaignControl for MetaAdapter {
    /// `POST /{campaign_id}` with exactly the diff's fields (MIN-4), after checking the campaign belongs to
    /// the target ad account (AUTH-3). Bids live on ad sets in Meta and removing an end time is not a
    /// campaign update: both are `Unsupported`.
    #[tracing::instrument(skip_all, fields(platform = "meta", tenant = %target.tenant))]
    async fn apply(
        &self,
        target: &Target,
        credentials: &Credentials,
        diff: &ChangeDiff,
    ) -> Result<(), PlatformError> {
        let account = ad_account(target)?;
        if diff.account() != &target.account {
            return Err(invalid("the change is for another account than the target"));
        }
        let token = &credentials.access_token;
        let mut changes: Vec<(&'static str, String)> = Vec::new();
        let mut currency = None;
        for change in diff.changes() {
            match (change.field(), change.to()) {
                (ChangeField::Status, ChangeValue::Status(status)) => {
                    changes.push(("status", convert::status_param(*status).to_owned()));
                }
                (
                    field @ (ChangeField::DailyBudget | ChangeField::LifetimeBudget),
                    ChangeValue::Micros(micros),
                ) => {
                    let currency = match currency {
                        Some(c) => c,
                        None => *currency.insert(self.currency(token, account).await?),
                    };
                    let minor = convert::micros_to_minor(*micros, &currency).ok_or_else(|| {
                        invalid(format!(
                            "the budget is not a whole number of {} minor units",
                            currency.as_str()
                        ))
                    })?;
                    let name =
                        if field == ChangeField::DailyBudget { "daily_budget" } else { "lifetime_budget" };
                    changes.push((name, minor.to_string()));
                }
                (ChangeField::Schedule, ChangeValue::Schedule { start, end }) => {
                    changes.push(("start_time", convert::format_datetime(*start)));
                    match end {
                        Some(end) => changes.push(("stop_time", convert::format_datetime(*end))),
                        None => {
                            return Err(PlatformError::Unsupported(
                                "removing a meta campaign's end time".to_owned(),
                            ));
                        }
                    }
                }
                (ChangeField::Bid, _) => {
                    return Err(PlatformError::Unsupported(
                        "bids are set on meta ad sets, not campaigns".to_owned(),
                    ));
                }
                (field, _) => return Err(invalid(format!("the value does not fit `{field}`"))),
            }
        }
        self.campaign_item(token, account, diff.campaign(), "account_id").await?;
        let call = api::campaigns::update(token, account.numeric(), diff.campaign().as_str(), changes);
        let answer: Success = self.graph.call_json(&call).await?;
        if answer.success {
            Ok(())
        } else {
            Err(MetaError::Protocol("meta did not confirm the change".to_owned()).into())
        }
    }

    /// `GET /{campaign_id}?fields=account_id,status,daily_budget,lifetime_budget,start_time,stop_time` (CAM-2).
    #[tracing::instrument(skip_all, fields(platform = "meta", tenant = %target.tenant))]
    async fn read_back(
        &self,
        target: &Target,
        credentials: &Credentials,
        campaign: &CampaignId,
    ) -> Result<CampaignReadback, PlatformError> {
        let account = ad_account(target)?;
        let token = &credentials.access_token;
        let item = self.campaign_item(token, account, campaign, api::campaigns::READBACK_FIELDS).await?;
        let currency = self.currency(token, account).await?;
        Ok(convert::readback(&item, &currency)?)
    }
}

#[async_trait::async_trait]
impl SignalVerifier for MetaAdapter {
    fn platform(&self) -> Platform {
        Platform::Meta
    }

    /// Deauthorize → [`custodian_core::ports::SignalKind::Deauthorized`], data deletion →
    /// `DeletionRequested` with the confirmation code to answer (AUTH-6); see [`crate::signal`].
    async fn verify(&self, raw: &RawSignal) -> Result<VerifiedSignal, SignalError> {
        let settings = SignalSettings {
            app_secret: &self.settings.app_secret,
            deauthorize_path: &self.settings.deauthorize_path,
            data_deletion_path: &self.settings.data_deletion_path,
            max_age: self.settings.signal_max_age,
        };
        let result = signal::verify(&settings, raw);
        if let Err(error) = &result {
            tracing::info!(platform = "meta", error = %error, "signal rejected");
        }
        result
    }
}

#[cfg(test)]
mod tests;
