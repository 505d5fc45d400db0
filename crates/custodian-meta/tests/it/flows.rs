//! End-to-end flows against the simulator: consent, exchange, validation, syncs, changes, callbacks, and
//! what happens when Meta throttles, fails, truncates or revokes.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use custodian_core::approval::{ChangeDiff, ChangeField, ChangeValue, FieldChange};
use custodian_core::data::{CampaignStatus, ReportLevel};
use custodian_core::platform::Task;
use custodian_core::ports::{
    Authorizer as _, CampaignControl as _, ConsentRequest, Credentials, Cursor, PlatformError, RawSignal,
    ReportQuery, ReportingSource as _, SignalKind, SignalVerifier as _,
};
use custodian_meta::{MetaAdapter, data_deletion_answer};
use custodian_sim::meta::{
    ACCOUNTS, AccessTier, MetaAccount, MetaConfig as SimMetaConfig, MetaGrant, MetaLimits, REDIRECT_URI,
    Revocation, USER_ID,
};
use custodian_sim::{Fault, FaultKind, SimPlatform};
use futures::StreamExt as _;
use secrecy::{ExposeSecret as _, SecretString};
use time::macros::date;

use crate::common::{Env, account, follow_consent, query_param, target};

fn consent(tasks: &[Task], redirect: &str) -> ConsentRequest {
    ConsentRequest {
        tenant: "tenant-meta".parse().unwrap(),
        grant: "grant-meta".parse().unwrap(),
        tasks: tasks.iter().copied().collect(),
        redirect_uri: redirect.to_owned(),
        state: "st-1".to_owned(),
    }
}

fn ten_days(level: ReportLevel) -> ReportQuery {
    ReportQuery { level, from: date!(2025 - 01 - 01), to: date!(2025 - 01 - 10) }
}

/// Every row of `query` for target 0, page by page (a repeated cursor fails the test).
async fn all_rows(
    adapter: &MetaAdapter,
    credentials: &Credentials,
    query: &ReportQuery,
) -> Result<Vec<custodian_core::data::ReportRow>, PlatformError> {
    let target = target(0);
    let stream = custodian_http::pages(None, |cursor: Option<Cursor>| {
        let target = &target;
        async move { adapter.report_rows(target, credentials, query, cursor).await.map_err(Failure::Platform) }
    });
    let pages: Vec<_> = stream.collect().await;
    let mut rows = Vec::new();
    for page in pages {
        match page {
            Ok(page) => rows.extend(page.items),
            Err(Failure::Platform(e)) => return Err(e),
            Err(Failure::Loop) => panic!("the cursors loop"),
        }
    }
    Ok(rows)
}

#[derive(Debug)]
enum Failure {
    Platform(PlatformError),
    Loop,
}

impl From<custodian_http::RepeatedCursor> for Failure {
    fn from(_: custodian_http::RepeatedCursor) -> Self {
        Failure::Loop
    }
}

#[tokio::test]
async fn auth_4_consent_urls_ask_only_for_the_enabled_tasks_scopes() {
    let env = Env::default().await;
    let reporting =
        env.adapter.consent_url(&consent(&[Task::ReadReporting, Task::ReadCampaigns], REDIRECT_URI)).unwrap();
    assert_eq!(query_param(&reporting, "scope").as_deref(), Some("ads_read"));
    assert_eq!(query_param(&reporting, "client_id").as_deref(), Some(custodian_sim::meta::APP_ID));
    assert_eq!(query_param(&reporting, "response_type").as_deref(), Some("code"));
    assert!(reporting.contains("/meta/www/v25.0/dialog/oauth?"), "{reporting}");
    let change = env
        .adapter
        .consent_url(&consent(&[Task::ReadReporting, Task::ChangeCampaign], REDIRECT_URI))
        .unwrap();
    assert_eq!(
        query_param(&change, "scope").as_deref(),
        Some("ads_management"),
        "ads_management covers ads_read"
    );

    let unsupported = env.adapter.consent_url(&consent(&[Task::ReadOrders], REDIRECT_URI));
    assert!(matches!(unsupported, Err(PlatformError::Unsupported(_))), "{unsupported:?}");
    let foreign = env.adapter.consent_url(&consent(&[Task::ReadReporting], "https://evil.example/cb"));
    assert!(matches!(foreign, Err(PlatformError::Invalid { .. })), "{foreign:?}");

    // The simulated dialog grants what the URL asked for.
    let location = follow_consent(&reporting).await;
    assert_eq!(query_param(&location, "state").as_deref(), Some("st-1"));
    let code = SecretString::from(query_param(&location, "code").unwrap());
    let credentials = env.adapter.exchange(&code, REDIRECT_URI).await.unwrap();
    let evidence = env.adapter.validate(&credentials, env.now()).await.unwrap();
    let scopes: Vec<&str> = evidence.scopes.iter().map(|s| s.as_str()).collect();
    assert_eq!(scopes, ["ads_read", "public_profile"]);
}

#[tokio::test]
async fn auth_2_exchange_gives_a_long_lived_token_whose_validation_is_the_evidence() {
    let env = Env::default().await;
    let code = SecretString::from(env.sim().issue_code(&["ads_read", "ads_management"], REDIRECT_URI));
    let credentials = env.adapter.exchange(&code, REDIRECT_URI).await.unwrap();
    let now = env.now();
    let expires = credentials.access_expires_at.unwrap();
    assert!(
        (expires - now - time::Duration::seconds(5_183_944)).abs() <= time::Duration::seconds(2),
        "{expires}"
    );
    assert!(credentials.refresh_token.is_none());

    let refreshed = env.adapter.refresh(&credentials).await.unwrap();
    assert!(refreshed.same_tokens(&credentials), "long-lived tokens come back unchanged");

    let evidence = env.adapter.validate(&credentials, now).await.unwrap();
    assert_eq!(evidence.owner.as_str(), USER_ID);
    assert_eq!(evidence.accounts, BTreeSet::from([account(0), account(1)]));
    let scopes: Vec<&str> = evidence.scopes.iter().map(|s| s.as_str()).collect();
    assert_eq!(scopes, ["ads_management", "ads_read"]);
    assert!(evidence.expires_at.is_some_and(|t| t > now + time::Duration::days(59)));
    assert!(evidence.data_access_expires_at.is_some_and(|t| t > now + time::Duration::days(89)));
    assert_eq!(evidence.validated_at, now);

    // Codes are single-use; unknown codes and unregistered redirects are refused.
    let again = env.adapter.exchange(&code, REDIRECT_URI).await;
    assert!(matches!(again, Err(PlatformError::Invalid { .. })), "{again:?}");
    let other = SecretString::from(env.sim().issue_code(&["ads_read"], REDIRECT_URI));
    let foreign = env.adapter.exchange(&other, "https://evil.example/cb").await;
    assert!(matches!(foreign, Err(PlatformError::Invalid { .. })), "{foreign:?}");
}

#[tokio::test]
async fn auth_5_validation_shows_which_accounts_remain() {
    let env = Env::default().await;
    let credentials = env.credentials(&["ads_read"]);
    env.sim().set_token_accounts(credentials.access_token.expose_secret(), &[ACCOUNTS[1]]);
    let evidence = env.adapter.validate(&credentials, env.now()).await.unwrap();
    assert_eq!(evidence.accounts, BTreeSet::from([account(1)]));
}

#[tokio::test]
async fn validation_lists_the_accounts_when_meta_gives_no_target_ids() {
    let env = Env::start(SimMetaConfig { granular_target_ids: false, ..SimMetaConfig::default() }).await;
    let credentials = env.credentials(&["ads_read"]);
    let evidence = env.adapter.validate(&credentials, env.now()).await.unwrap();
    assert_eq!(evidence.accounts, BTreeSet::from([account(0), account(1)]));
}

#[tokio::test]
async fn auth_1_validation_fails_closed() {
    let env = Env::start(SimMetaConfig { data_access_secs: 100, ..SimMetaConfig::default() }).await;
    let removed = env.credentials(&["ads_read"]);
    env.sim().revoke_token(removed.access_token.expose_secret(), Revocation::AppRemoved);
    let result = env.adapter.validate(&removed, env.now()).await;
    assert!(matches!(result, Err(PlatformError::Revoked { .. })), "{result:?}");

    let password = env.credentials(&["ads_read"]);
    env.sim().revoke_token(password.access_token.expose_secret(), Revocation::PasswordChanged);
    let result = env.adapter.validate(&password, env.now()).await;
    assert!(
        matches!(result, Err(PlatformError::Revoked { ref detail }) if detail.contains("460")),
        "{result:?}"
    );

    let garbage = Credentials::bearer(SecretString::from("EAATnot-issued"));
    let result = env.adapter.validate(&garbage, env.now()).await;
    assert!(matches!(result, Err(PlatformError::Revoked { .. })), "{result:?}");

    // Data access lapses before the token does (here after 100 s).
    let lapsing = env.credentials(&["ads_read"]);
    env.running.sim.ctx.clock.advance(101);
    let result = env.adapter.validate(&lapsing, env.now()).await;
    assert!(matches!(result, Err(PlatformError::Unauthorized { .. })), "{result:?}");

    // The token itself expires after about 60 days.
    let env = Env::default().await;
    let expiring = env.credentials(&["ads_read"]);
    env.running.sim.ctx.clock.advance(5_183_944 + 1);
    let result = env.adapter.validate(&expiring, env.now()).await;
    assert!(matches!(result, Err(PlatformError::Unauthorized { .. })), "{result:?}");
    let result = env.adapter.campaigns(&target(0), &expiring, None).await;
    assert!(
        matches!(result, Err(PlatformError::Unauthorized { ref detail }) if detail.contains("463")),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_wrong_app_secret_is_never_a_revocation() {
    let env =
        Env::with(SimMetaConfig::default(), |c| c.app_secret = SecretString::from("not the secret")).await;
    let credentials = env.credentials(&["ads_read"]);
    let result = env.adapter.validate(&credentials, env.now()).await;
    assert!(matches!(result, Err(PlatformError::Unavailable(_))), "{result:?}");
    // Every user-token call carries appsecret_proof, and the simulated app requires it: a proof made with
    // the wrong secret is refused (100).
    let result = env.adapter.campaigns(&target(0), &credentials, None).await;
    assert!(
        matches!(result, Err(PlatformError::Invalid { ref detail }) if detail.contains("appsecret_proof")),
        "{result:?}"
    );
}

#[tokio::test]
async fn campaigns_and_rows_page_to_the_end_without_repeating_a_cursor() {
    let env = Env::default().await;
    let credentials = env.credentials(&["ads_read"]);
    let rows = all_rows(&env.adapter, &credentials, &ten_days(ReportLevel::AdGroup)).await.unwrap();
    assert_eq!(rows.len(), 24 * 10);
    let keys: HashSet<_> = rows.iter().map(|r| (r.object.clone(), r.date)).collect();
    assert_eq!(keys.len(), rows.len());
    assert!(rows.iter().all(|r| r.level == ReportLevel::AdGroup && r.currency.as_str() == "USD"));
    assert!(rows.iter().any(|r| r.metrics.conversions > 0 && r.metrics.conversion_value_micros > 0));
    assert!(rows.iter().all(|r| r.metrics.spend_micros > 0 && r.metrics.impressions > 0));

    let account_rows = all_rows(&env.adapter, &credentials, &ten_days(ReportLevel::Account)).await.unwrap();
    assert_eq!(account_rows.len(), 10);
    assert_eq!(account_rows[0].object.as_str(), format!("act_{}", ACCOUNTS[0]));

    let mut cursor = None;
    let mut campaigns = Vec::new();
    let mut seen = HashSet::new();
    loop {
        let page = env.adapter.campaigns(&target(0), &credentials, cursor).await.unwrap();
        campaigns.extend(page.items);
        match page.next {
            Some(next) => {
                assert!(seen.insert(next.clone()));
                cursor = Some(next);
            }
            None => break,
        }
    }
    assert_eq!(campaigns.len(), 12);
    assert!(campaigns.iter().all(|c| c.daily_budget_micros.is_some_and(|b| b % 10_000 == 0)), "whole cents");
}

#[tokio::test]
async fn a_throttle_then_success_waits_as_meta_asks() {
    // No page fetched ahead: each injected fault meets the call this test makes.
    let env = Env::with(SimMetaConfig::default(), |c| c.prefetch = false).await;
    let credentials = env.credentials(&["ads_read"]);
    let faults = &env.running.sim.ctx.faults;
    faults.push(
        Fault::once(SimPlatform::Meta, FaultKind::RateLimited { retry_after: Some(Duration::from_secs(1)) })
            .on_path("/insights"),
    );
    let started = Instant::now();
    let page =
        env.adapter.report_rows(&target(0), &credentials, &ten_days(ReportLevel::Ad), None).await.unwrap();
    assert_eq!(page.items.len(), 100);
    assert!(started.elapsed() >= Duration::from_secs(1), "the retry honoured reset_time_duration");
    assert_eq!(faults.stats(SimPlatform::Meta).throttled, 1);

    faults.push(Fault::once(
        SimPlatform::Meta,
        FaultKind::RateLimited { retry_after: Some(Duration::from_secs(600)) },
    ));
    let result = env.adapter.campaigns(&target(1), &credentials, None).await;
    match result {
        Err(PlatformError::RateLimited { retry_after }) => {
            assert_eq!(retry_after, Some(time::Duration::seconds(600)))
        }
        other => panic!("a wait longer than the policy allows is reported: {other:?}"),
    }

    env.sim().fail_next(80_000, Some(2_446_079), 1);
    let started = Instant::now();
    let result = env.adapter.report_rows(&target(0), &credentials, &ten_days(ReportLevel::Ad), None).await;
    assert!(result.is_ok() || matches!(result, Err(PlatformError::RateLimited { .. })), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn server_errors_are_retried_then_reported_as_unavailable() {
    let env = Env::with(SimMetaConfig::default(), |c| c.prefetch = false).await;
    let credentials = env.credentials(&["ads_read"]);
    let faults = &env.running.sim.ctx.faults;
    faults.push(Fault::once(SimPlatform::Meta, FaultKind::ServerError(503)).times(2));
    let page =
        env.adapter.report_rows(&target(0), &credentials, &ten_days(ReportLevel::Ad), None).await.unwrap();
    assert_eq!(page.items.len(), 100);
    faults.push(Fault::once(SimPlatform::Meta, FaultKind::ServerError(500)).times(10));
    let result = env.adapter.report_rows(&target(0), &credentials, &ten_days(ReportLevel::Ad), None).await;
    assert!(matches!(result, Err(PlatformError::Unavailable(_))), "{result:?}");
    faults.clear();
}

/// The messages of an error and its sources.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

#[tokio::test]
async fn truncated_bodies_are_retried_then_reported_with_the_json_path() {
    let env = Env::with(SimMetaConfig::default(), |c| c.prefetch = false).await;
    let credentials = env.credentials(&["ads_read"]);
    let faults = &env.running.sim.ctx.faults;
    faults.push(Fault::once(SimPlatform::Meta, FaultKind::TruncateBody).on_path("/insights"));
    let page =
        env.adapter.report_rows(&target(0), &credentials, &ten_days(ReportLevel::Ad), None).await.unwrap();
    assert_eq!(page.items.len(), 100);

    faults.push(Fault::once(SimPlatform::Meta, FaultKind::TruncateBody).on_path("/insights").times(10));
    let result = env.adapter.report_rows(&target(0), &credentials, &ten_days(ReportLevel::Ad), None).await;
    let Err(PlatformError::Unavailable(source)) = result else { panic!("{result:?}") };
    let text = chain(source.as_ref());
    assert!(text.contains("does not decode at `data"), "{text}");
    assert!(text.contains("eof"), "{text}");
    faults.clear();
}

#[tokio::test]
async fn auth_6_a_token_revoked_mid_sync_stops_the_sync_as_revoked() {
    for prefetch in [false, true] {
        let env = Env::with(SimMetaConfig::default(), |c| c.prefetch = prefetch).await;
        let credentials = env.credentials(&["ads_read"]);
        let query = ten_days(ReportLevel::Ad);
        let first = env.adapter.report_rows(&target(0), &credentials, &query, None).await.unwrap();
        env.running.sim.ctx.faults.push(Fault::once(SimPlatform::Meta, FaultKind::RevokeTokens));
        // With a page fetched ahead, that page may still arrive; the next one cannot.
        let mut cursor = first.next;
        let mut pages = 1;
        let error = loop {
            match env.adapter.report_rows(&target(0), &credentials, &query, cursor).await {
                Ok(page) => {
                    pages += 1;
                    cursor = Some(page.next.expect("the sync stops before its end"));
                }
                Err(error) => break error,
            }
        };
        assert!(pages <= 2, "at most the page fetched ahead arrives ({pages} pages)");
        assert!(
            matches!(error, PlatformError::Revoked { ref detail } if detail.contains("458")),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn auth_3_accounts_outside_the_grant_are_forbidden() {
    let env = Env::default().await;
    let token = env.sim().issue_token_for(MetaGrant {
        user_id: USER_ID.to_owned(),
        scopes: vec!["ads_read".to_owned()],
        accounts: vec![ACCOUNTS[0].to_owned()],
    });
    let credentials = Credentials::bearer(SecretString::from(token));
    let result = env.adapter.report_rows(&target(1), &credentials, &ten_days(ReportLevel::Ad), None).await;
    assert!(matches!(result, Err(PlatformError::Forbidden { .. })), "{result:?}");
}

#[tokio::test]
async fn too_much_data_for_a_sync_call_moves_to_an_async_run() {
    let env = Env::start(SimMetaConfig { sync_max_rows: 100, ..SimMetaConfig::default() }).await;
    let credentials = env.credentials(&["ads_read"]);
    let rows = all_rows(&env.adapter, &credentials, &ten_days(ReportLevel::Ad)).await.unwrap();
    assert_eq!(rows.len(), 720);
    assert_eq!(env.sim().report_runs_created(), 1);

    env.sim().fail_report_runs(1);
    let result = env.adapter.report_rows(&target(0), &credentials, &ten_days(ReportLevel::Ad), None).await;
    let Err(PlatformError::Unavailable(source)) = result else { panic!("{result:?}") };
    assert!(chain(source.as_ref()).contains("Job Failed"));
}

fn diff(campaign: &str, changes: Vec<FieldChange>) -> ChangeDiff {
    ChangeDiff::new(account(0), campaign.parse().unwrap(), changes).unwrap()
}

#[tokio::test]
async fn cam_2_changes_send_only_the_diff_and_refuse_what_meta_cannot_hold() {
    let env = Env::default().await;
    let manager = env.credentials(&["ads_management"]);
    let campaigns = env.adapter.campaigns(&target(0), &manager, None).await.unwrap();
    let id = campaigns.items[0].id.as_str().to_owned();
    let before = env.sim().campaign(&id).unwrap();

    let start = time::macros::datetime!(2026-01-01 00:00 UTC);
    let end = time::macros::datetime!(2026-02-01 00:00 UTC);
    let schedule =
        FieldChange::new(ChangeField::Schedule, None, ChangeValue::Schedule { start, end: Some(end) })
            .unwrap();
    env.adapter.apply(&target(0), &manager, &diff(&id, vec![schedule])).await.unwrap();
    let readback = env.adapter.read_back(&target(0), &manager, &campaigns.items[0].id).await.unwrap();
    assert_eq!((readback.schedule_start, readback.schedule_end), (Some(start), Some(Some(end))));
    let after = env.sim().campaign(&id).unwrap();
    assert_eq!(
        (after.status, after.daily_budget, after.name),
        (before.status, before.daily_budget, before.name),
        "only the diff changed"
    );

    let fraction = FieldChange::new(ChangeField::DailyBudget, None, ChangeValue::Micros(1_234_567)).unwrap();
    let result = env.adapter.apply(&target(0), &manager, &diff(&id, vec![fraction])).await;
    assert!(matches!(result, Err(PlatformError::Invalid { .. })), "{result:?}");
    let bid = FieldChange::new(ChangeField::Bid, None, ChangeValue::Micros(1_000_000)).unwrap();
    let result = env.adapter.apply(&target(0), &manager, &diff(&id, vec![bid])).await;
    assert!(matches!(result, Err(PlatformError::Unsupported(_))), "{result:?}");
    let open_end =
        FieldChange::new(ChangeField::Schedule, None, ChangeValue::Schedule { start, end: None }).unwrap();
    let result = env.adapter.apply(&target(0), &manager, &diff(&id, vec![open_end])).await;
    assert!(matches!(result, Err(PlatformError::Unsupported(_))), "{result:?}");

    let pause =
        || FieldChange::new(ChangeField::Status, None, ChangeValue::Status(CampaignStatus::Paused)).unwrap();
    let reader = env.credentials(&["ads_read"]);
    let result = env.adapter.apply(&target(0), &reader, &diff(&id, vec![pause()])).await;
    assert!(matches!(result, Err(PlatformError::Forbidden { .. })), "ads_read cannot change: {result:?}");
    let result = env.adapter.apply(&target(1), &manager, &diff(&id, vec![pause()])).await;
    assert!(
        matches!(result, Err(PlatformError::Invalid { .. })),
        "the diff is for another account: {result:?}"
    );
    let other = env.adapter.campaigns(&target(1), &manager, None).await.unwrap().items[0].id.clone();
    let other_status = env.sim().campaign(other.as_str()).unwrap().status;
    let foreign = ChangeDiff::new(account(0), other.clone(), vec![pause()]).unwrap();
    let result = env.adapter.apply(&target(0), &manager, &foreign).await;
    assert!(matches!(result, Err(PlatformError::NotFound { .. })), "AUTH-3: {result:?}");
    assert_eq!(env.sim().campaign(other.as_str()).unwrap().status, other_status, "untouched");
}

/// A loopback receiver that verifies Meta's data-deletion callbacks with the adapter and answers as Meta
/// expects, like the server will.
async fn deletion_receiver(adapter: MetaAdapter, seen: Arc<Mutex<Vec<SignalKind>>>) -> String {
    use axum::body::Bytes;
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/signals/meta/data-deletion",
        post(move |body: Bytes| {
            let adapter = adapter.clone();
            let seen = seen.clone();
            async move {
                let raw = RawSignal {
                    method: "POST".to_owned(),
                    path: "/signals/meta/data-deletion".to_owned(),
                    query: Vec::new(),
                    headers: Vec::new(),
                    body: body.to_vec(),
                    received_at: time::OffsetDateTime::now_utc(),
                };
                match adapter.verify(&raw).await {
                    Ok(signal) => {
                        let code = match &signal.kind {
                            SignalKind::DeletionRequested { confirmation: Some(code) } => code.clone(),
                            _ => String::new(),
                        };
                        seen.lock().unwrap().push(signal.kind);
                        let url = format!("https://custodian.example/deletion?id={code}");
                        (axum::http::StatusCode::OK, data_deletion_answer(&url, &code))
                    }
                    Err(_) => (axum::http::StatusCode::BAD_REQUEST, String::new()),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/signals/meta/data-deletion", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test]
async fn auth_6_data_deletion_callbacks_verify_end_to_end() {
    // The receiver needs an adapter before the simulator knows the receiver's URL: build one against a
    // first simulator (same app secret), then the simulator that calls it.
    let probe = Env::default().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let url = deletion_receiver(probe.adapter.clone(), seen.clone()).await;
    let env = Env::start(SimMetaConfig { data_deletion_url: Some(url), ..SimMetaConfig::default() }).await;
    let credentials = env.credentials(&["ads_read"]);

    let answer = env.sim().send_data_deletion(USER_ID).await.unwrap();
    assert_eq!(answer.confirmation_code.len(), 20);
    assert!(answer.url.ends_with(&answer.confirmation_code));
    let kinds = seen.lock().unwrap().clone();
    assert_eq!(
        kinds,
        [SignalKind::DeletionRequested { confirmation: Some(answer.confirmation_code.clone()) }]
    );
    // Meta revoked the user's authorization with it.
    let result = env.adapter.validate(&credentials, env.now()).await;
    assert!(matches!(result, Err(PlatformError::Revoked { .. })), "{result:?}");
}

#[tokio::test]
async fn usage_headers_pace_a_sync_under_the_published_limits() {
    // Development tier, one ad and no active ads: 600 insights calls per window; a window of 3 s here.
    let limits = MetaLimits::tier(AccessTier::Development).scaled(1200.0);
    let account = MetaAccount {
        campaigns: 1,
        adsets_per_campaign: 1,
        ads_per_adset: 1,
        ..MetaAccount::new(ACCOUNTS[0], 1)
    };
    let sim = SimMetaConfig { limits, accounts: vec![account], ..SimMetaConfig::default() };
    // The client may go faster than the quota drains: only the usage headers can hold it back.
    let env = Env::with(sim, |c| {
        c.page_size = 1;
        c.pacing.max_per_second = 1000.0;
    })
    .await;
    let credentials = env.credentials(&["ads_read"]);
    let query =
        ReportQuery { level: ReportLevel::Ad, from: date!(2025 - 01 - 01), to: date!(2025 - 01 - 20) };
    let active = env.sim().active_ads(ACCOUNTS[0]).unwrap();
    let capacity = limits.insights_calls(active);
    let per_second = capacity / limits.hour_secs();
    let calls = 1.5 * capacity;
    let started = Instant::now();
    let mut sent = 0.0;
    while sent < calls {
        let rows = all_rows(&env.adapter, &credentials, &query).await.unwrap();
        assert_eq!(rows.len(), 20);
        sent += 20.0;
    }
    let stats = env.running.sim.ctx.faults.stats(SimPlatform::Meta);
    assert_eq!(stats.throttled, 0, "no call was refused");
    // Past the quota, calls can only go as fast as it drains.
    let floor = (sent - capacity) / per_second;
    assert!(started.elapsed().as_secs_f64() >= 0.9 * floor, "{:?} for {sent} calls", started.elapsed());
}
