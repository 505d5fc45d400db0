//! [`TikTokAdapter`]: the platform ports ([`Authorizer`], [`ReportingSource`], [`CampaignControl`]) on the
//! TikTok API for Business.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use custodian_core::approval::{CampaignReadback, ChangeDiff, ChangeField, ChangeValue};
use custodian_core::data::{Campaign, CampaignId, CampaignStatus, Currency, ReportRow};
use custodian_core::grant::{GrantEvidence, OwnerId};
use custodian_core::platform::{AccountRef, Platform, Scope, TikTokAdvertiserId, consent_scopes};
use custodian_core::ports::{
    Authorizer, CampaignControl, ConsentRequest, Credentials, Cursor, Page, PlatformError, ReportQuery,
    ReportingSource, Target,
};
use custodian_http::{Evidence, RateLimiter};
use secrecy::SecretString;
use time::{Date, Duration, OffsetDateTime};

use crate::api;
use crate::client::Client;
use crate::config::TikTokConfig;
use crate::convert::{self, Unreadable};
use crate::error::TikTokError;
use crate::wire;

/// The longest range of one daily report request (§2.5: 30 days with `stat_time_day`).
const REPORT_WINDOW_DAYS: i64 = 30;

/// The TikTok API for Business adapter. Cheap to clone; clones share the HTTP connection pool, the app's
/// rate limiter and the advertisers' currencies.
#[derive(Clone)]
pub struct TikTokAdapter {
    client: Arc<Client>,
    currencies: Arc<Mutex<HashMap<String, Currency>>>,
}

impl fmt::Debug for TikTokAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TikTokAdapter")
            .field("api", &self.client.endpoint("").map(|u| u.to_string()).unwrap_or_default())
            .field("app_id", &self.client.app_id)
            .finish_non_exhaustive()
    }
}

fn unreadable(Unreadable(path): Unreadable) -> PlatformError {
    TikTokError::Unreadable { path, evidence: Box::new(Evidence { status: 200, ..Evidence::default() }) }
        .into()
}

/// The advertiser id of a target (AUTH-3: only TikTok advertisers are served here).
fn advertiser(target: &Target) -> Result<&str, PlatformError> {
    match &target.account {
        AccountRef::TikTokAdvertiser(id) => Ok(id.as_str()),
        other => {
            Err(PlatformError::Invalid { detail: format!("account `{other}` is not a tiktok advertiser") })
        }
    }
}

/// A page whose `page_info.page` is not the page asked for would make paging loop or skip: refused.
fn check_page(info: wire::PageInfo, asked: u64) -> Result<(), PlatformError> {
    if info.page == asked { Ok(()) } else { Err(unreadable(Unreadable("data.page_info.page".to_owned()))) }
}

fn page_cursor(cursor: Option<&Cursor>) -> Result<u64, PlatformError> {
    match cursor {
        None => Ok(1),
        Some(Cursor(raw)) => {
            raw.parse::<u64>().ok().filter(|p| *p >= 1).ok_or_else(|| PlatformError::Invalid {
                detail: format!("cursor `{raw}` is not a page number"),
            })
        }
    }
}

/// A report cursor: the first day of the window being read and the page in it (`2024-01-31:3`).
fn report_cursor(query: &ReportQuery, cursor: Option<&Cursor>) -> Result<(Date, u64), PlatformError> {
    let Some(Cursor(raw)) = cursor else { return Ok((query.from, 1)) };
    let bad = || PlatformError::Invalid { detail: format!("cursor `{raw}` is not a report position") };
    let (day, page) = raw.split_once(':').ok_or_else(bad)?;
    let day = convert::date(day).filter(|d| day.len() == 10 && query.from <= *d && *d <= query.to);
    let page = page.parse::<u64>().ok().filter(|p| *p >= 1);
    day.zip(page).ok_or_else(bad)
}

/// One planned change: a status or a budget.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Change {
    Status(CampaignStatus),
    DailyBudget(i64),
    LifetimeBudget(i64),
}

impl TikTokAdapter {
    /// Builds the adapter: the HTTP client (TLS-1: https, or http to loopback when allowed) and the app's
    /// rate limiter. Contacts nobody.
    pub fn new(config: TikTokConfig) -> Result<Self, TikTokError> {
        Ok(Self { client: Arc::new(Client::new(config)?), currencies: Arc::default() })
    }

    /// Like [`TikTokAdapter::new`], pacing with `limiter` (from [`TikTokAdapter::rate_limiter`] of another
    /// adapter of the same app), so that all of them share the app's budget.
    pub fn with_rate_limiter(config: TikTokConfig, limiter: RateLimiter) -> Result<Self, TikTokError> {
        let mut client = Client::new(config)?;
        client.share_limiter(limiter);
        Ok(Self { client: Arc::new(client), currencies: Arc::default() })
    }

    /// The app's rate limiter (shared by clones).
    pub fn rate_limiter(&self) -> RateLimiter {
        self.client.limiter().clone()
    }

    /// The advertiser's currency: asked once from `advertiser/info/`, then remembered.
    async fn currency(&self, token: &SecretString, advertiser_id: &str) -> Result<Currency, PlatformError> {
        let cached =
            self.currencies.lock().unwrap_or_else(PoisonError::into_inner).get(advertiser_id).copied();
        if let Some(currency) = cached {
            return Ok(currency);
        }
        let code = api::advertiser::currency(&self.client, token, advertiser_id)
            .await?
            .ok_or_else(|| unreadable(Unreadable("data.list[].currency".to_owned())))?;
        let currency =
            Currency::new(&code).map_err(|_| unreadable(Unreadable("data.list[].currency".to_owned())))?;
        self.currencies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(advertiser_id.to_owned(), currency);
        Ok(currency)
    }

    /// The changes of `diff`, checked before anything is sent: bids and schedules live on ad groups on
    /// TikTok, and campaigns cannot be archived.
    fn plan(diff: &ChangeDiff) -> Result<Vec<Change>, PlatformError> {
        diff.changes()
            .iter()
            .map(|change| match (change.field(), change.to()) {
                (ChangeField::Status, ChangeValue::Status(CampaignStatus::Archived)) => {
                    Err(PlatformError::Unsupported("tiktok campaigns cannot be archived".to_owned()))
                }
                (ChangeField::Status, ChangeValue::Status(s)) => Ok(Change::Status(*s)),
                (ChangeField::DailyBudget, ChangeValue::Micros(m)) => Ok(Change::DailyBudget(*m)),
                (ChangeField::LifetimeBudget, ChangeValue::Micros(m)) => Ok(Change::LifetimeBudget(*m)),
                (field, _) => Err(PlatformError::Unsupported(format!(
                    "tiktok campaigns have no `{field}`: bids and schedules are set on ad groups"
                ))),
            })
            .collect()
    }
}

#[async_trait]
impl Authorizer for TikTokAdapter {
    fn platform(&self) -> Platform {
        Platform::TikTok
    }

    /// The advertiser authorization page with `app_id`, `state` and `redirect_uri` (§2.2). TikTok's
    /// scopes are chosen on the developer app and the page grants all of them: a URL cannot narrow them.
    /// The minimal scope ids of the enabled tasks (AUTH-4) are added as `scope`, which the page ignores,
    /// so the request is recorded; what was granted is read from the exchange and enforced by the
    /// authorization check against the evidence.
    fn consent_url(&self, req: &ConsentRequest) -> Result<String, PlatformError> {
        let scopes = consent_scopes(Platform::TikTok, &req.tasks)
            .map_err(|e| PlatformError::Unsupported(e.to_string()))?;
        let scope = scopes.iter().map(Scope::as_str).collect::<Vec<_>>().join(",");
        let mut url = self.client.auth_url.clone();
        url.query_pairs_mut()
            .append_pair("app_id", &self.client.app_id)
            .append_pair("state", &req.state)
            .append_pair("redirect_uri", &req.redirect_uri)
            .append_pair("scope", &scope);
        Ok(url.into())
    }

    /// `oauth2/access_token/`: the long-term token, the advertisers and the granted scope ids. TikTok takes
    /// no redirect URI here. A used, expired or unknown code is code 40110 → `Invalid`.
    #[tracing::instrument(skip_all, fields(platform = "tiktok"))]
    async fn exchange(&self, code: &SecretString, _redirect_uri: &str) -> Result<Credentials, PlatformError> {
        let data = api::oauth::access_token(&self.client, code).await?;
        let accounts = data
            .advertiser_ids
            .iter()
            .map(|id| TikTokAdvertiserId::new(id.0.clone()).map(AccountRef::TikTokAdvertiser))
            .collect::<Result<BTreeSet<_>, _>>()
            .map_err(|_| unreadable(Unreadable("data.advertiser_ids".to_owned())))?;
        let scopes = data
            .scope
            .iter()
            .map(|s| Scope::new(s.0.clone()))
            .collect::<Result<BTreeSet<_>, _>>()
            .map_err(|_| unreadable(Unreadable("data.scope".to_owned())))?;
        let mut credentials = Credentials::bearer(data.access_token);
        credentials.scopes = scopes;
        credentials.accounts = accounts;
        Ok(credentials)
    }

    /// Advertiser tokens are long-term and have no refresh token (§2.2): the credentials come back
    /// unchanged, without a call.
    async fn refresh(&self, credentials: &Credentials) -> Result<Credentials, PlatformError> {
        Ok(credentials.clone())
    }

    /// `oauth2/advertiser/get/` (AUTH-2): the advertisers reachable now. TikTok reports scopes only at the
    /// exchange, so the evidence carries the exchange's scopes (none if the credentials lack them: every
    /// task is then denied). It reports no user either: the owner is the authorization's first advertiser
    /// as granted at the exchange (or, lacking those, as listed now). Tokens do not expire.
    #[tracing::instrument(skip_all, fields(platform = "tiktok"))]
    async fn validate(
        &self,
        credentials: &Credentials,
        now: OffsetDateTime,
    ) -> Result<GrantEvidence, PlatformError> {
        let listed = api::oauth::advertisers(&self.client, &credentials.access_token).await?;
        let accounts = listed
            .iter()
            .map(|a| TikTokAdvertiserId::new(a.advertiser_id.0.clone()).map(AccountRef::TikTokAdvertiser))
            .collect::<Result<BTreeSet<_>, _>>()
            .map_err(|_| unreadable(Unreadable("data.list[].advertiser_id".to_owned())))?;
        let first = credentials
            .accounts
            .iter()
            .find(|a| a.platform() == Platform::TikTok)
            .or_else(|| accounts.iter().next())
            .ok_or_else(|| PlatformError::Forbidden {
                detail: "the authorization covers no advertiser".to_owned(),
            })?;
        let owner = OwnerId::new(first.key())
            .map_err(|_| unreadable(Unreadable("data.list[].advertiser_id".to_owned())))?;
        Ok(GrantEvidence {
            owner,
            accounts,
            scopes: credentials.scopes.clone(),
            expires_at: None,
            data_access_expires_at: None,
            validated_at: now,
        })
    }
}

#[async_trait]
impl ReportingSource for TikTokAdapter {
    /// `campaign/get/`, page by page (the cursor is the page number), only the fields the domain keeps.
    #[tracing::instrument(skip_all, fields(platform = "tiktok", account = %target.account))]
    async fn campaigns(
        &self,
        target: &Target,
        credentials: &Credentials,
        cursor: Option<Cursor>,
    ) -> Result<Page<Campaign>, PlatformError> {
        let advertiser = advertiser(target)?;
        let page = page_cursor(cursor.as_ref())?;
        let data = api::campaign::page(&self.client, &credentials.access_token, advertiser, page).await?;
        check_page(data.page_info, page)?;
        let items = data
            .list
            .iter()
            .map(|c| convert::campaign(target, c))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|Unreadable(path)| unreadable(Unreadable(format!("data.list[].{path}"))))?;
        let next = (page < data.page_info.total_page).then(|| Cursor((page + 1).to_string()));
        Ok(Page { items, next })
    }

    /// `report/integrated/get/` by day, in windows of at most 30 days, 1000 rows a page, asking only for
    /// spend, impressions, clicks, conversions and conversion value (MIN-1, MIN-4). The cursor is the
    /// window's first day and the page (`YYYY-MM-DD:N`).
    #[tracing::instrument(skip_all, fields(platform = "tiktok", account = %target.account))]
    async fn report_rows(
        &self,
        target: &Target,
        credentials: &Credentials,
        query: &ReportQuery,
        cursor: Option<Cursor>,
    ) -> Result<Page<ReportRow>, PlatformError> {
        let advertiser = advertiser(target)?;
        if query.to < query.from {
            return Err(PlatformError::Invalid {
                detail: "the report range ends before it starts".to_owned(),
            });
        }
        let (start, page) = report_cursor(query, cursor.as_ref())?;
        let end = start.saturating_add(Duration::days(REPORT_WINDOW_DAYS - 1)).min(query.to);
        let token = &credentials.access_token;
        let currency = self.currency(token, advertiser).await?;
        let data = api::report::page(&self.client, token, advertiser, query.level, start, end, page).await?;
        check_page(data.page_info, page)?;
        let items = data
            .list
            .into_iter()
            .map(|row| convert::report_row(target, query.level, currency, row))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|Unreadable(path)| unreadable(Unreadable(format!("data.list[].{path}"))))?;
        let next = if page < data.page_info.total_page {
            Some(Cursor(format!("{}:{}", convert::format_date(start), page + 1)))
        } else if end < query.to {
            end.next_day().map(|day| Cursor(format!("{}:1", convert::format_date(day))))
        } else {
            None
        };
        Ok(Page { items, next })
    }
}

#[async_trait]
impl CampaignControl for TikTokAdapter {
    /// Reads the campaign (`NotFound` if TikTok does not list it), checks every change fits it (a daily
    /// budget needs a daily budget mode, a lifetime budget a total one, a deleted campaign takes no
    /// change), then sends only what differs: budgets through `campaign/update/` with nothing but the
    /// budget (MIN-4), then the status through `campaign/status/update/`.
    #[tracing::instrument(skip_all, fields(platform = "tiktok", account = %target.account, campaign = %diff.campaign()))]
    async fn apply(
        &self,
        target: &Target,
        credentials: &Credentials,
        diff: &ChangeDiff,
    ) -> Result<(), PlatformError> {
        let advertiser = advertiser(target)?;
        if diff.account() != &target.account {
            return Err(PlatformError::Invalid { detail: "the change is for another account".to_owned() });
        }
        let plan = Self::plan(diff)?;
        let token = &credentials.access_token;
        let campaign = diff.campaign().as_str();
        let current = api::campaign::one(&self.client, token, advertiser, campaign)
            .await?
            .ok_or_else(|| PlatformError::NotFound { detail: format!("campaign `{campaign}`") })?;
        let now = convert::readback(&current).map_err(unreadable)?;
        let mode = current.budget_mode.as_deref().unwrap_or("BUDGET_MODE_INFINITE");
        if now.status == Some(CampaignStatus::Deleted) {
            return Err(PlatformError::Invalid { detail: format!("campaign `{campaign}` is deleted") });
        }
        for change in &plan {
            let fits = match change {
                Change::Status(_) => true,
                Change::DailyBudget(_) => now.daily_budget_micros.is_some(),
                Change::LifetimeBudget(_) => now.lifetime_budget_micros.is_some(),
            };
            if !fits {
                return Err(PlatformError::Invalid {
                    detail: format!(
                        "campaign `{campaign}` has budget mode `{mode}`, which this budget does not fit"
                    ),
                });
            }
        }
        for change in &plan {
            let micros = match change {
                Change::DailyBudget(m) if now.daily_budget_micros != Some(*m) => *m,
                Change::LifetimeBudget(m) if now.lifetime_budget_micros != Some(*m) => *m,
                _ => continue,
            };
            let budget = micros as f64 / 1_000_000.0;
            api::campaign::set_budget(&self.client, token, advertiser, campaign, budget).await?;
        }
        for change in &plan {
            let Change::Status(status) = change else { continue };
            if now.status == Some(*status) {
                continue;
            }
            let operation = match status {
                CampaignStatus::Active => "ENABLE",
                CampaignStatus::Paused => "DISABLE",
                CampaignStatus::Deleted | CampaignStatus::Archived => "DELETE",
            };
            let reply =
                api::campaign::set_status(&self.client, token, advertiser, campaign, operation).await?;
            if let Some(failed) = reply.data.error_list.iter().find(|e| e.campaign_id.0 == campaign) {
                let message = failed.error_message.clone().unwrap_or_default();
                return Err(PlatformError::Invalid {
                    detail: format!(
                        "campaign `{campaign}` was not updated (code `{}`): {message}",
                        reply.code
                    ),
                });
            }
        }
        Ok(())
    }

    /// `campaign/get/` filtered to the campaign, deleted ones included: status and budgets (CAM-2).
    #[tracing::instrument(skip_all, fields(platform = "tiktok", account = %target.account, campaign = %campaign))]
    async fn read_back(
        &self,
        target: &Target,
        credentials: &Credentials,
        campaign: &CampaignId,
    ) -> Result<CampaignReadback, PlatformError> {
        let advertiser = advertiser(target)?;
        let found =
            api::campaign::one(&self.client, &credentials.access_token, advertiser, campaign.as_str())
                .await?
                .ok_or_else(|| PlatformError::NotFound { detail: format!("campaign `{campaign}`") })?;
        convert::readback(&found).map_err(unreadable)
    }
}

#[cfg(test)]
mod tests;
