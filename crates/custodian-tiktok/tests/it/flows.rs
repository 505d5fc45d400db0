//! The flows around the ports against the simulator: consent through the authorization page (AUTH-4),
//! exchange and validation (AUTH-2), revocation and review (AUTH-5, AUTH-6), paging, throttles, server
//! errors, truncated bodies, tokens revoked mid-sync, pacing under the published rate limit, and campaign
//! changes TikTok cannot take.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use custodian_core::approval::{ChangeDiff, ChangeField, ChangeValue, FieldChange};
use custodian_core::data::{CampaignId, CampaignStatus, ReportLevel};
use custodian_core::grant::{EvidenceChange, detect_changes};
use custodian_core::platform::{Platform, Scope, Task, missing_scopes, required_scopes};
use custodian_core::ports::{
    Authorizer, CampaignControl, ConsentRequest, Credentials, Cursor, PlatformError, ReportQuery,
    ReportingSource, Target,
};
use custodian_core::tenant::TenantId;
use custodian_http::{HttpClient, HttpConfig, Request, Url};
use custodian_sim::tiktok::{
    ADVERTISER_1, ADVERTISER_2, AdvertiserConfig, CampaignStatus as SimStatus, REDIRECT_URI, RateTier,
    TikTokConfig as SimConfig,
};
use custodian_sim::{Fault, FaultKind, SimPlatform};
use custodian_tiktok::TikTokAdapter;
use secrecy::SecretString;
use time::OffsetDateTime;

use crate::env::{Env, bearer, days_ago, target};

fn scopes(ids: &[&str]) -> BTreeSet<Scope> {
    ids.iter().map(|s| Scope::new(*s).unwrap()).collect()
}

fn consent(tasks: &[Task]) -> ConsentRequest {
    ConsentRequest {
        tenant: TenantId::new("tenant-tiktok").unwrap(),
        grant: custodian_core::grant::GrantId::new("grant-tiktok").unwrap(),
        tasks: tasks.iter().copied().collect(),
        redirect_uri: REDIRECT_URI.to_owned(),
        state: "csrf-state-1".to_owned(),
    }
}

/// Follows the consent URL to the simulated authorization page and returns the `auth_code` it redirects
/// with, after checking the state came back.
async fn authorize(url: &str) -> SecretString {
    let http = HttpClient::new(HttpConfig { allow_plain_loopback: true, ..HttpConfig::default() }).unwrap();
    let response = http.send(Request::get(Url::parse(url).unwrap())).await.unwrap();
    assert_eq!(response.status, 302);
    let location = Url::parse(response.header("location").unwrap()).unwrap();
    assert!(location.as_str().starts_with(REDIRECT_URI));
    let pair = |key: &str| location.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned());
    assert_eq!(pair("state").as_deref(), Some("csrf-state-1"));
    SecretString::from(pair("auth_code").unwrap())
}

fn kind<T>(result: &Result<T, PlatformError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(PlatformError::Revoked { .. }) => "revoked",
        Err(PlatformError::Unauthorized { .. }) => "unauthorized",
        Err(PlatformError::Forbidden { .. }) => "forbidden",
        Err(PlatformError::NotFound { .. }) => "not_found",
        Err(PlatformError::RateLimited { .. }) => "rate_limited",
        Err(PlatformError::Invalid { .. }) => "invalid",
        Err(PlatformError::Unsupported(_)) => "unsupported",
        Err(PlatformError::Unavailable(_)) => "unavailable",
        Err(_) => "other",
    }
}

/// AUTH-4 on TikTok: the consent URL asks for the tasks' scopes, but the page grants the app's scopes;
/// what was granted comes back from the exchange and is all the evidence claims, so a task whose scope
/// the app lacks is denied at the authorization check.
#[tokio::test]
async fn consent_exchange_and_validation_report_what_tiktok_granted() {
    let env = Env::start(SimConfig { rate_limit: None, scopes: vec![4, 100], ..SimConfig::default() }).await;
    let adapter = env.adapter();
    let url = adapter.consent_url(&consent(&[Task::ReadReporting, Task::ReadCampaigns])).unwrap();
    let code = authorize(&url).await;
    let credentials = adapter.exchange(&code, REDIRECT_URI).await.unwrap();
    assert_eq!(credentials.scopes, scopes(&["100", "4"]), "the app's scopes, whatever the URL asked");
    assert_eq!(
        credentials.accounts,
        BTreeSet::from([target(ADVERTISER_1).account, target(ADVERTISER_2).account])
    );
    assert_eq!(credentials.access_expires_at, None, "long-term token");
    let reused = adapter.exchange(&code, REDIRECT_URI).await;
    assert_eq!(kind(&reused), "invalid", "code 40110");

    let now = OffsetDateTime::now_utc();
    let evidence = adapter.validate(&credentials, now).await.unwrap();
    assert_eq!(evidence.owner.as_str(), format!("tiktok:{ADVERTISER_1}"));
    assert_eq!(evidence.accounts, credentials.accounts);
    assert_eq!(evidence.scopes, scopes(&["100", "4"]));
    assert_eq!((evidence.expires_at, evidence.validated_at), (None, now));
    let reporting = required_scopes(Platform::TikTok, Task::ReadReporting).unwrap();
    let campaigns = required_scopes(Platform::TikTok, Task::ReadCampaigns).unwrap();
    assert!(missing_scopes(&evidence.scopes, reporting).is_empty());
    assert_eq!(missing_scopes(&evidence.scopes, campaigns), ["200"], "reading campaigns stays denied");

    let refreshed = adapter.refresh(&credentials).await.unwrap();
    assert!(refreshed.same_tokens(&credentials), "no refresh for advertiser tokens");

    let forgotten = Credentials { scopes: BTreeSet::new(), ..credentials };
    let evidence = adapter.validate(&forgotten, now).await.unwrap();
    assert!(evidence.scopes.is_empty(), "without the exchange's scopes the evidence claims none");
}

/// AUTH-6: a revoked or de-authorized token is `Revoked` on every call; the exchange's app credentials
/// being wrong is `Unauthorized`, not a revocation.
#[tokio::test]
async fn revoked_and_deauthorized_tokens_are_revoked_everywhere() {
    let env = Env::unlimited().await;
    let adapter = env.adapter();
    let token = env.sim().issue_app_token();
    let credentials = bearer(&token);
    let target = target(ADVERTISER_1);
    let query = ReportQuery { level: ReportLevel::Campaign, from: days_ago(3), to: days_ago(1) };
    assert_eq!(kind(&adapter.campaigns(&target, &credentials, None).await), "ok");
    assert!(env.sim().revoke_token(&token));
    assert_eq!(kind(&adapter.validate(&credentials, OffsetDateTime::now_utc()).await), "revoked");
    assert_eq!(kind(&adapter.campaigns(&target, &credentials, None).await), "revoked");
    assert_eq!(kind(&adapter.report_rows(&target, &credentials, &query, None).await), "revoked");
    let campaign = CampaignId::new(env.sim().campaign_id(ADVERTISER_1, 0).unwrap()).unwrap();
    assert_eq!(kind(&adapter.read_back(&target, &credentials, &campaign).await), "revoked");

    let other = bearer(&env.sim().issue_token(&[ADVERTISER_2], &[4, 100, 200]));
    env.sim().deauthorize_advertiser(ADVERTISER_2);
    assert_eq!(kind(&adapter.validate(&other, OffsetDateTime::now_utc()).await), "revoked");

    let mut config = env.config();
    config.secret = SecretString::from("wrong-secret");
    let wrong = TikTokAdapter::new(config).unwrap();
    let code = SecretString::from(env.sim().issue_auth_code());
    assert_eq!(kind(&wrong.exchange(&code, REDIRECT_URI).await), "unauthorized", "code 40101");
}

/// AUTH-5: an advertiser the token no longer covers is `Forbidden` and disappears from the evidence, which
/// the core reads as a review trigger; a missing scope is `Forbidden` too.
#[tokio::test]
async fn lost_advertisers_and_scopes_are_forbidden_and_trigger_review() {
    let env = Env::unlimited().await;
    let adapter = env.adapter();
    let now = OffsetDateTime::now_utc();
    let mut both = bearer(&env.sim().issue_token(&[ADVERTISER_1, ADVERTISER_2], &[4, 100, 200]));
    both.accounts = BTreeSet::from([target(ADVERTISER_1).account, target(ADVERTISER_2).account]);
    let before = adapter.validate(&both, now).await.unwrap();
    let mut narrower = bearer(&env.sim().issue_token(&[ADVERTISER_2], &[4, 100, 200]));
    narrower.accounts = both.accounts.clone();
    let after = adapter.validate(&narrower, now).await.unwrap();
    assert_eq!(
        detect_changes(&before, &after),
        [EvidenceChange::AccountsRemoved(BTreeSet::from([target(ADVERTISER_1).account]))]
    );
    let query = ReportQuery { level: ReportLevel::Campaign, from: days_ago(2), to: days_ago(1) };
    assert_eq!(kind(&adapter.report_rows(&target(ADVERTISER_1), &narrower, &query, None).await), "forbidden");

    let no_campaigns = bearer(&env.sim().issue_token(&[ADVERTISER_1], &[4, 100]));
    assert_eq!(kind(&adapter.campaigns(&target(ADVERTISER_1), &no_campaigns, None).await), "forbidden");
    let read_only = bearer(&env.sim().issue_token(&[ADVERTISER_1], &[200]));
    let campaign = CampaignId::new(env.sim().campaign_id(ADVERTISER_1, 1).unwrap()).unwrap();
    let diff = status_diff(&campaign, CampaignStatus::Paused);
    assert_eq!(kind(&adapter.apply(&target(ADVERTISER_1), &read_only, &diff).await), "forbidden");
}

fn status_diff(campaign: &CampaignId, status: CampaignStatus) -> ChangeDiff {
    let change = FieldChange::new(ChangeField::Status, None, ChangeValue::Status(status)).unwrap();
    ChangeDiff::new(target(ADVERTISER_1).account, campaign.clone(), vec![change]).unwrap()
}

fn budget_diff(campaign: &CampaignId, field: ChangeField, micros: i64) -> ChangeDiff {
    let change = FieldChange::new(field, None, ChangeValue::Micros(micros)).unwrap();
    ChangeDiff::new(target(ADVERTISER_1).account, campaign.clone(), vec![change]).unwrap()
}

/// Follows every page of a report; the cursors never repeat.
async fn all_rows(
    adapter: &TikTokAdapter,
    target: &Target,
    credentials: &Credentials,
    query: &ReportQuery,
) -> Result<(usize, usize), PlatformError> {
    let (mut rows, mut pages, mut cursor) = (0, 0, None::<Cursor>);
    let mut seen = std::collections::HashSet::new();
    loop {
        let page = adapter.report_rows(target, credentials, query, cursor.clone()).await?;
        rows += page.items.len();
        pages += 1;
        match page.next {
            None => return Ok((rows, pages)),
            Some(next) => {
                assert!(seen.insert(next.0.clone()), "cursor {next:?} repeated");
                cursor = Some(next);
            }
        }
    }
}

#[tokio::test]
async fn reports_page_through_30_day_windows_at_every_level() {
    let mut advertiser = AdvertiserConfig::new(ADVERTISER_1, "Acme", "JPY", 3);
    advertiser.adgroups_per_campaign = 2;
    advertiser.ads_per_adgroup = 3;
    let env =
        Env::start(SimConfig { rate_limit: None, advertisers: vec![advertiser], ..SimConfig::default() })
            .await;
    let mut config = env.config();
    config.page_size = 40;
    let adapter = TikTokAdapter::new(config).unwrap();
    let credentials = bearer(&env.sim().issue_app_token());
    let target = target(ADVERTISER_1);
    for (level, objects) in [
        (ReportLevel::Account, 1),
        (ReportLevel::Campaign, 3),
        (ReportLevel::AdGroup, 6),
        (ReportLevel::Ad, 18),
    ] {
        let query = ReportQuery { level, from: days_ago(61), to: days_ago(1) };
        let (rows, pages) = all_rows(&adapter, &target, &credentials, &query).await.unwrap();
        assert_eq!(rows, objects * 61, "{level:?}");
        let windows = [30 * objects, 30 * objects, objects];
        let expected_pages: usize = windows.iter().map(|n: &usize| n.div_ceil(40).max(1)).sum();
        assert_eq!(pages, expected_pages, "{level:?}: three windows of at most 30 days, 40 rows a page");
    }
    let page = adapter
        .report_rows(
            &target,
            &credentials,
            &ReportQuery { level: ReportLevel::Campaign, from: days_ago(2), to: days_ago(2) },
            None,
        )
        .await
        .unwrap();
    assert_eq!(page.items[0].currency.as_str(), "JPY", "from advertiser/info");
    let backwards = ReportQuery { level: ReportLevel::Campaign, from: days_ago(1), to: days_ago(2) };
    assert_eq!(kind(&adapter.report_rows(&target, &credentials, &backwards, None).await), "invalid");
}

/// Throttles (HTTP 200, code 40100) are retried after a pause; too many surface as `RateLimited`.
#[tokio::test]
async fn throttles_are_retried_then_surface_as_rate_limited() {
    let env = Env::unlimited().await;
    let adapter = env.adapter();
    let credentials = bearer(&env.sim().issue_app_token());
    let target = target(ADVERTISER_1);
    let throttle = FaultKind::RateLimited { retry_after: None };
    env.faults().push(Fault::once(SimPlatform::TikTok, throttle.clone()).on_path("campaign/get").times(2));
    let started = Instant::now();
    let page = adapter.campaigns(&target, &credentials, None).await.unwrap();
    assert_eq!(page.items.len(), 5);
    assert!(started.elapsed() >= Duration::from_secs(1), "the app's key paused for a second after 40100");
    assert_eq!(env.faults().stats(SimPlatform::TikTok).throttled, 2);

    env.faults().push(Fault::once(SimPlatform::TikTok, throttle).on_path("campaign/get").times(10));
    let result = adapter.campaigns(&target, &credentials, None).await;
    assert_eq!(kind(&result), "rate_limited");
    env.faults().clear();
}

/// 5xx then success for reads; a failed write is not repeated (it is not idempotent).
#[tokio::test]
async fn server_errors_are_retried_for_reads_only() {
    let env = Env::unlimited().await;
    let adapter = env.adapter();
    let credentials = bearer(&env.sim().issue_app_token());
    let target = target(ADVERTISER_1);
    let query = ReportQuery { level: ReportLevel::Campaign, from: days_ago(2), to: days_ago(1) };
    env.faults()
        .push(Fault::once(SimPlatform::TikTok, FaultKind::ServerError(503)).on_path("report/integrated"));
    assert_eq!(adapter.report_rows(&target, &credentials, &query, None).await.unwrap().items.len(), 10);

    let campaign_index = 3;
    let campaign = CampaignId::new(env.sim().campaign_id(ADVERTISER_1, campaign_index).unwrap()).unwrap();
    env.sim().set_campaign_status(campaign.as_str(), SimStatus::Enable);
    env.faults().push(Fault::once(SimPlatform::TikTok, FaultKind::ServerError(500)).on_path("status/update"));
    let before = env.faults().stats(SimPlatform::TikTok).requests;
    let result = adapter.apply(&target, &credentials, &status_diff(&campaign, CampaignStatus::Paused)).await;
    assert_eq!(kind(&result), "unavailable");
    assert_eq!(env.faults().stats(SimPlatform::TikTok).requests - before, 2, "one read, one write, no retry");
    assert_eq!(env.sim().campaign(campaign.as_str()).unwrap().status, SimStatus::Enable);
}

/// A truncated body is retried for reads; if it stays truncated the error names the JSON path.
#[tokio::test]
async fn truncated_bodies_are_retried_then_unavailable_with_the_json_path() {
    let env = Env::unlimited().await;
    let adapter = env.adapter();
    let credentials = bearer(&env.sim().issue_app_token());
    let target = target(ADVERTISER_1);
    env.faults().push(Fault::once(SimPlatform::TikTok, FaultKind::TruncateBody).on_path("campaign/get"));
    assert_eq!(adapter.campaigns(&target, &credentials, None).await.unwrap().items.len(), 5);

    env.faults()
        .push(Fault::once(SimPlatform::TikTok, FaultKind::TruncateBody).on_path("campaign/get").times(10));
    let result = adapter.campaigns(&target, &credentials, None).await;
    let Err(PlatformError::Unavailable(error)) = result else { panic!("{}", kind(&result)) };
    let mut chain = vec![error.to_string()];
    let mut source = error.source();
    while let Some(s) = source {
        chain.push(s.to_string());
        source = s.source();
    }
    assert!(chain.iter().any(|m| m.contains("does not decode at `data.")), "{chain:?}");
    env.faults().clear();
}

/// AUTH-6: the client removes the app mid-sync; the next page is `Revoked` and nothing more is read.
#[tokio::test]
async fn a_token_revoked_mid_sync_stops_the_sync() {
    let env = Env::unlimited().await;
    let mut config = env.config();
    config.page_size = 4;
    let adapter = TikTokAdapter::new(config).unwrap();
    let credentials = bearer(&env.sim().issue_app_token());
    let query = ReportQuery { level: ReportLevel::Campaign, from: days_ago(10), to: days_ago(1) };
    env.faults().push(
        Fault::once(SimPlatform::TikTok, FaultKind::RevokeTokens).on_path("report/integrated").after(3),
    );
    let result = all_rows(&adapter, &target(ADVERTISER_1), &credentials, &query).await;
    assert_eq!(kind(&result), "revoked");
}

/// The published Basic tier (10 QPS) with the default pacing (9.5/s, burst 5): no 40100, and clones
/// share the app's budget.
#[tokio::test]
async fn default_pacing_stays_under_the_basic_tier() {
    let env = Env::start(SimConfig { rate_limit: Some(RateTier::BASIC), ..SimConfig::default() }).await;
    let mut config = env.config();
    config.rate =
        custodian_tiktok::TikTokConfig::new("x", SecretString::from("y"), config.clock.clone()).rate;
    let adapter = TikTokAdapter::new(config.clone()).unwrap();
    let clone = adapter.clone();
    let sibling = TikTokAdapter::with_rate_limiter(config, adapter.rate_limiter()).unwrap();
    let credentials = bearer(&env.sim().issue_app_token());
    let target = target(ADVERTISER_1);
    let started = Instant::now();
    let calls = 24;
    let mut tasks = Vec::new();
    for i in 0..calls {
        let (adapter, credentials, target) =
            ([&adapter, &clone, &sibling][i % 3].clone(), credentials.clone(), target.clone());
        tasks.push(tokio::spawn(async move {
            adapter.campaigns(&target, &credentials, None).await.map(|p| p.items.len())
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), 5);
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(env.faults().stats(SimPlatform::TikTok).throttled, 0, "no 40100");
    let expected = f64::from(u32::try_from(calls).unwrap() - 5) / 9.5;
    assert!(elapsed >= expected * 0.9, "paced at 9.5/s after a burst of 5: {elapsed:.2}s");
}

/// Changes TikTok cannot take are refused before anything is sent; deletions read back as deleted.
#[tokio::test]
async fn campaign_changes_fit_the_campaign_or_are_refused() {
    let env = Env::unlimited().await;
    let adapter = env.adapter();
    let credentials = bearer(&env.sim().issue_app_token());
    let target = target(ADVERTISER_1);
    let id = |i| CampaignId::new(env.sim().campaign_id(ADVERTISER_1, i).unwrap()).unwrap();
    let (daily, total, unlimited) = (id(0), id(1), id(2));
    let requests = || env.faults().stats(SimPlatform::TikTok).requests;

    let before = requests();
    let archived = adapter.apply(&target, &credentials, &status_diff(&daily, CampaignStatus::Archived)).await;
    assert_eq!(kind(&archived), "unsupported");
    assert_eq!(requests(), before, "refused before any call");
    for (campaign, field) in [
        (&daily, ChangeField::LifetimeBudget),
        (&total, ChangeField::DailyBudget),
        (&unlimited, ChangeField::DailyBudget),
    ] {
        let result = adapter.apply(&target, &credentials, &budget_diff(campaign, field, 90_000_000)).await;
        assert_eq!(kind(&result), "invalid", "{campaign} {field}");
    }
    adapter
        .apply(&target, &credentials, &budget_diff(&total, ChangeField::LifetimeBudget, 5_000_250_000))
        .await
        .unwrap();
    let readback = adapter.read_back(&target, &credentials, &total).await.unwrap();
    assert_eq!(readback.lifetime_budget_micros, Some(5_000_250_000));

    adapter.apply(&target, &credentials, &status_diff(&unlimited, CampaignStatus::Deleted)).await.unwrap();
    let readback = adapter.read_back(&target, &credentials, &unlimited).await.unwrap();
    assert_eq!(readback.status, Some(CampaignStatus::Deleted));
    let again = adapter.apply(&target, &credentials, &status_diff(&unlimited, CampaignStatus::Active)).await;
    assert_eq!(kind(&again), "invalid", "a deleted campaign takes no change");
    let listed = adapter.campaigns(&target, &credentials, None).await.unwrap();
    assert_eq!(listed.items.len(), 4, "deleted campaigns are not listed");

    let missing = CampaignId::new("1800000000000000999").unwrap();
    assert_eq!(
        kind(&adapter.apply(&target, &credentials, &status_diff(&missing, CampaignStatus::Paused)).await),
        "not_found"
    );
    let elsewhere = crate::env::target(ADVERTISER_2);
    assert_eq!(
        kind(&adapter.apply(&elsewhere, &credentials, &status_diff(&daily, CampaignStatus::Paused)).await),
        "invalid"
    );
}
