//! Flows against the simulator: consent to validation, refresh, revocation (AUTH-6), the token-health
//! check, faults mid-sync, the two-minute clamp, minimization (MIN-2), rate limits and stock updates.

use std::sync::Arc;
use std::time::Instant;

use custodian_amazon::{OrdersApi, TokenHealth};
use custodian_core::data::{DataKey, KeyVersion, LocationId, Sku};
use custodian_core::platform::{AMAZON_ROLE_LISTINGS, AMAZON_ROLE_ORDERS, Platform, Scope, Task};
use custodian_core::ports::{
    Authorizer, CommerceChannel, ConsentRequest, Cursor, OrderQuery, PiiSealer, PlatformError, StockUpdate,
    StockUpdateResult,
};
use custodian_http::{HttpClient, HttpConfig, Request, Url};
use custodian_sim::amazon::{
    AmazonConfig as SimAmazonConfig, MARKETPLACE_CA, MARKETPLACE_US, REDIRECT_URI, SELLER_1, SELLER_2,
};
use custodian_sim::{Fault, FaultKind, SimPlatform};
use custodian_testkit::fakes::{ManualClock, SeededRng};
use secrecy::{ExposeSecret as _, SecretString};
use time::{Duration, OffsetDateTime};

use crate::support::{Harness, TestResult, account, epoch, raised_plans, target};

fn sealer() -> PiiSealer {
    PiiSealer { key: DataKey::from_bytes(KeyVersion(1), [7; 32]), rng: Arc::new(SeededRng::new(3)) }
}

fn window() -> OrderQuery {
    OrderQuery { updated_after: epoch(), updated_before: epoch() + Duration::days(1) }
}

fn faults(h: &Harness) -> &custodian_sim::Faults {
    &h.running.sim.ctx.faults
}

#[tokio::test]
async fn consent_url_to_validated_evidence_auth_2_auth_3_auth_4() -> TestResult {
    let h = Harness::official().await?;
    let request = ConsentRequest {
        tenant: "tenant-1".parse()?,
        grant: "grant-1".parse()?,
        tasks: [Task::ReadOrders, Task::ReadBuyerPii, Task::UpdateStock].into_iter().collect(),
        redirect_uri: REDIRECT_URI.to_owned(),
        state: "state-xyz".to_owned(),
    };
    assert!(h.sim().set_consenting_seller(SELLER_2));
    let consent = h.adapter.consent_url(&request)?;
    let http = HttpClient::new(HttpConfig { allow_plain_loopback: true, ..HttpConfig::default() })?;
    let page = http.send(Request::get(Url::parse(&consent)?)).await?;
    assert_eq!(page.status, 302, "the simulated consent page accepts the adapter's url");
    let location = Url::parse(page.header("location").ok_or("no redirect")?)?;
    let param = |name: &str| location.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    assert_eq!(param("state").as_deref(), Some("state-xyz"));
    let seller = param("selling_partner_id").ok_or("no seller")?;
    let code = SecretString::from(param("spapi_oauth_code").ok_or("no code")?);

    h.adapter.note_consent_callback(&code, seller.parse()?);
    let credentials = h.adapter.exchange(&code, REDIRECT_URI).await?;
    assert_eq!(
        credentials.accounts,
        [account(SELLER_2, MARKETPLACE_US), account(SELLER_2, MARKETPLACE_CA)].into_iter().collect()
    );
    let now = OffsetDateTime::now_utc();
    let evidence = h.adapter.validate(&credentials, now).await?;
    assert_eq!(evidence.owner.as_str(), SELLER_2);
    assert_eq!(evidence.accounts, credentials.accounts);
    let roles: Vec<&str> = evidence.scopes.iter().map(Scope::as_str).collect();
    assert_eq!(roles, ["Direct_to_Consumer_Shipping", "Inventory_and_Order_Tracking", "Product_Listing"]);
    let ends = evidence.expires_at.ok_or("no expiry")?;
    assert!((ends - now - Duration::days(365)).abs() < Duration::minutes(1), "the 365-day authorization");
    assert_eq!(h.adapter.platform(), Platform::Amazon);
    Ok(())
}

#[tokio::test]
async fn without_the_callbacks_seller_the_credentials_cannot_be_validated() -> TestResult {
    let h = Harness::official().await?;
    let code = SecretString::from(h.sim().issue_code(SELLER_1, Some(REDIRECT_URI)).ok_or("code")?);
    let credentials = h.adapter.exchange(&code, REDIRECT_URI).await?;
    assert!(credentials.accounts.is_empty());
    let result = h.adapter.validate(&credentials, OffsetDateTime::now_utc()).await;
    assert!(matches!(result, Err(PlatformError::Invalid { .. })), "{result:?}");
    Ok(())
}

#[tokio::test]
async fn a_revoked_authorization_is_revoked_everywhere_auth_6() -> TestResult {
    let h = Harness::official().await?;
    let credentials = h.connect(SELLER_1).await?;
    assert!(h.sim().revoke_authorization(SELLER_1), "the seller removes the app; amazon notifies nobody");
    let refresh = h.adapter.refresh(&credentials).await;
    assert!(matches!(refresh, Err(PlatformError::Revoked { .. })), "invalid_grant: {refresh:?}");
    let validate = h.adapter.validate(&credentials, OffsetDateTime::now_utc()).await;
    assert!(matches!(validate, Err(PlatformError::Revoked { .. })), "403 settled by a refresh: {validate:?}");
    let orders =
        h.adapter.orders(&target(SELLER_1, MARKETPLACE_US), &credentials, &window(), None, None).await;
    assert!(matches!(orders, Err(PlatformError::Revoked { .. })), "{:?}", orders.err());
    let health = h.adapter.check_token_health(&credentials).await?;
    assert!(matches!(health, TokenHealth::Revoked { .. }), "{health:?}");
    Ok(())
}

#[tokio::test]
async fn an_expired_access_token_is_unauthorized_not_revoked() -> TestResult {
    let h = Harness::official().await?;
    let credentials = h.connect(SELLER_1).await?;
    h.running.sim.ctx.clock.advance(3601);
    let result =
        h.adapter.orders(&target(SELLER_1, MARKETPLACE_US), &credentials, &window(), None, None).await;
    assert!(matches!(result, Err(PlatformError::Unauthorized { .. })), "{:?}", result.err());
    let refreshed = h.adapter.refresh(&credentials).await?;
    assert_ne!(refreshed.access_token.expose_secret(), credentials.access_token.expose_secret());
    assert_eq!(
        refreshed.refresh_expires_at, credentials.refresh_expires_at,
        "a refresh does not renew consent"
    );
    let page = h.adapter.orders(&target(SELLER_1, MARKETPLACE_US), &refreshed, &window(), None, None).await?;
    assert_eq!(page.items.len(), 100);
    Ok(())
}

#[tokio::test]
async fn the_token_health_check_refreshes_and_probes() -> TestResult {
    let h = Harness::official().await?;
    let mut credentials = h.connect(SELLER_1).await?;
    match h.adapter.check_token_health(&credentials).await? {
        TokenHealth::Healthy { credentials: fresh, reauthorize_by } => {
            assert_ne!(fresh.access_token.expose_secret(), credentials.access_token.expose_secret());
            assert_eq!(reauthorize_by, credentials.refresh_expires_at);
        }
        other => return Err(format!("expected healthy, got {other:?}").into()),
    }
    credentials.refresh_expires_at = Some(OffsetDateTime::now_utc() + Duration::days(10));
    let health = h.adapter.check_token_health(&credentials).await?;
    assert!(matches!(health, TokenHealth::ReauthorizeSoon { .. }), "{health:?}");
    Ok(())
}

#[tokio::test]
async fn a_token_revoked_mid_sync_is_revoked() -> TestResult {
    let h = Harness::raised().await?;
    let credentials = h.connect(SELLER_1).await?;
    let t = target(SELLER_1, MARKETPLACE_US);
    let first = h.adapter.orders(&t, &credentials, &window(), None, None).await?;
    let next = first.next.ok_or("a second page")?;
    faults(&h).push(Fault::once(SimPlatform::Amazon, FaultKind::RevokeTokens).on_path("/orders/"));
    let second = h.adapter.orders(&t, &credentials, &window(), Some(next), None).await;
    assert!(matches!(second, Err(PlatformError::Revoked { .. })), "{:?}", second.err());
    Ok(())
}

#[tokio::test]
async fn a_throttle_then_success_honours_the_wait() -> TestResult {
    let h = Harness::raised().await?;
    let credentials = h.connect(SELLER_1).await?;
    faults(&h).push(
        Fault::once(SimPlatform::Amazon, FaultKind::RateLimited { retry_after: None })
            .on_path("/orders/2026-01-01"),
    );
    let page =
        h.adapter.orders(&target(SELLER_1, MARKETPLACE_US), &credentials, &window(), None, None).await?;
    assert_eq!(page.items.len(), 100);
    let stats = faults(&h).stats(SimPlatform::Amazon);
    assert_eq!((stats.faulted, stats.throttled), (1, 1));
    Ok(())
}

#[tokio::test]
async fn a_server_error_then_success_is_retried() -> TestResult {
    let h = Harness::raised().await?;
    let credentials = h.connect(SELLER_1).await?;
    faults(&h).push(Fault::once(SimPlatform::Amazon, FaultKind::ServerError(503)).on_path("/fba/"));
    let page = h.adapter.stock(&target(SELLER_1, MARKETPLACE_US), &credentials, None).await?;
    assert_eq!(page.items.len(), 50);
    assert_eq!(faults(&h).stats(SimPlatform::Amazon).faulted, 1);
    Ok(())
}

#[tokio::test]
async fn a_truncated_body_is_unavailable_and_names_the_json_path() -> TestResult {
    let h = Harness::raised().await?;
    let credentials = h.connect(SELLER_1).await?;
    faults(&h).push(Fault::once(SimPlatform::Amazon, FaultKind::TruncateBody).on_path("/orders/2026-01-01"));
    let result =
        h.adapter.orders(&target(SELLER_1, MARKETPLACE_US), &credentials, &window(), None, None).await;
    match result {
        Err(PlatformError::Unavailable(source)) => {
            let text = source.to_string();
            assert!(text.contains("does not decode at `orders"), "{text}");
        }
        other => return Err(format!("expected unavailable, got {:?}", other.err()).into()),
    }
    Ok(())
}

#[tokio::test]
async fn orders_page_to_the_end_and_updated_before_is_clamped_to_two_minutes_ago() -> TestResult {
    let h = Harness::raised().await?;
    let credentials = h.connect(SELLER_1).await?;
    let query =
        OrderQuery { updated_after: epoch(), updated_before: OffsetDateTime::now_utc() + Duration::hours(1) };
    let t = target(SELLER_1, MARKETPLACE_US);
    let mut cursor: Option<Cursor> = None;
    let mut seen = std::collections::HashSet::new();
    let mut count = 0;
    loop {
        let page = h.adapter.orders(&t, &credentials, &query, cursor.clone(), None).await?;
        count += page.items.len();
        match page.next {
            Some(next) => {
                assert!(seen.insert(next.0.clone()), "the cursor came back");
                cursor = Some(next);
            }
            None => break,
        }
    }
    assert_eq!(count, 250, "no 400 for a *Before in the last two minutes");
    let empty =
        OrderQuery { updated_after: OffsetDateTime::now_utc(), updated_before: OffsetDateTime::now_utc() };
    let page = h.adapter.orders(&t, &credentials, &empty, None, None).await?;
    assert!(page.items.is_empty() && page.next.is_none());
    Ok(())
}

#[tokio::test]
async fn without_a_sealer_no_buyer_data_is_requested_min_2() -> TestResult {
    // The app lacks the restricted role: any request for buyer data (includedData BUYER/RECIPIENT, an RDT)
    // is refused by the simulator, so orders read without a sealer prove none was asked for.
    let roles = vec![AMAZON_ROLE_ORDERS.to_owned(), AMAZON_ROLE_LISTINGS.to_owned()];
    let sim = SimAmazonConfig { app_roles: roles, ..SimAmazonConfig::default() }.scale_usage_plans(1000.0);
    for api in [OrdersApi::V2026, OrdersApi::V0] {
        let h = Harness::start(sim.clone(), |c| {
            c.orders_api = api;
            c.usage_plans = raised_plans(1000.0);
        })
        .await?;
        let credentials = h.connect(SELLER_2).await?;
        let t = target(SELLER_2, MARKETPLACE_US);
        let page = h.adapter.orders(&t, &credentials, &window(), None, None).await?;
        assert_eq!(page.items.len(), 20, "{api:?}");
        assert!(page.items.iter().all(|o| o.buyer.is_none()), "{api:?}");
        let with = h.adapter.orders(&t, &credentials, &window(), None, Some(sealer())).await;
        assert!(matches!(with, Err(PlatformError::Forbidden { .. })), "{api:?}: {:?}", with.err());
    }
    Ok(())
}

#[tokio::test]
async fn orders_v0_with_pii_use_one_restricted_data_token() -> TestResult {
    let sim = SimAmazonConfig::default().scale_usage_plans(1000.0);
    let h = Harness::start(sim, |c| {
        c.orders_api = OrdersApi::V0;
        c.usage_plans = raised_plans(1000.0);
    })
    .await?;
    let credentials = h.connect(SELLER_1).await?;
    let t = target(SELLER_1, MARKETPLACE_US);
    let sealer = sealer();
    let mut cursor = None;
    let (mut orders, mut with_pii) = (0, 0);
    loop {
        let page = h.adapter.orders(&t, &credentials, &window(), cursor, Some(sealer.clone())).await?;
        for order in &page.items {
            orders += 1;
            if let Some(buyer) = &order.buyer {
                let pii = custodian_core::data::open(&sealer.key, &order.seal_context(), buyer)?;
                assert!(pii.name.is_some() && pii.email.is_some());
                with_pii += 1;
            }
            assert!(!order.lines.is_empty(), "getOrderItems filled the lines");
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!((orders, with_pii), (250, 250));
    assert_eq!(h.sim().live_tokens(), 2, "one access token and one cached RDT for three pages");
    Ok(())
}

#[tokio::test]
async fn the_rate_limit_header_moves_the_bucket() -> TestResult {
    // Amazon applies 20/s to this seller (burst 2); the adapter starts from the official 2/s and follows
    // x-amzn-RateLimit-Limit. Ten pages at 2/s would take more than four seconds.
    let mut sim = SimAmazonConfig::default();
    sim.sellers[0].skus = 500;
    sim.usage_plans.insert(
        custodian_amazon::Operation::GetInventorySummaries.name().to_owned(),
        custodian_sim::rate::Limit::new(20.0, 2.0),
    );
    let h = Harness::start(sim, |_| {}).await?;
    let credentials = h.connect(SELLER_1).await?;
    let t = target(SELLER_1, MARKETPLACE_US);
    let started = Instant::now();
    let (mut cursor, mut levels) = (None, 0);
    loop {
        let page = h.adapter.stock(&t, &credentials, cursor).await?;
        levels += page.items.len();
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(levels, 500);
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "{:?}", started.elapsed());
    assert_eq!(faults(&h).stats(SimPlatform::Amazon).throttled, 0);
    Ok(())
}

#[tokio::test]
async fn the_official_fba_plan_is_kept_without_a_429() -> TestResult {
    let mut sim = SimAmazonConfig::default();
    sim.sellers[0].skus = 250;
    let h = Harness::start(sim, |_| {}).await?;
    let credentials = h.connect(SELLER_1).await?;
    let t = target(SELLER_1, MARKETPLACE_US);
    let started = Instant::now();
    let (mut cursor, mut pages) = (None, 0);
    loop {
        let page = h.adapter.stock(&t, &credentials, cursor).await?;
        pages += 1;
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    let elapsed = started.elapsed();
    assert!(elapsed >= std::time::Duration::from_millis(1400), "burst 2, then 2/s: {elapsed:?}");
    assert_eq!(faults(&h).stats(SimPlatform::Amazon).throttled, 0);
    Ok(())
}

#[tokio::test]
async fn stale_stock_cursors_restart_the_listing() -> TestResult {
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let h = Harness::start(SimAmazonConfig::default().scale_usage_plans(1000.0), |c| {
        c.clock = clock.clone();
        c.usage_plans = raised_plans(1000.0);
    })
    .await?;
    let credentials = h.connect(SELLER_1).await?;
    let t = target(SELLER_1, MARKETPLACE_US);
    let first = h.adapter.stock(&t, &credentials, None).await?;
    let next = first.next.clone().ok_or("a second page")?;
    let second = h.adapter.stock(&t, &credentials, Some(next.clone())).await?;
    assert_ne!(second.items, first.items);
    clock.advance(Duration::seconds(26));
    let restarted = h.adapter.stock(&t, &credentials, Some(next)).await?;
    let skus =
        |items: &[custodian_core::data::StockLevel]| items.iter().map(|s| s.sku.clone()).collect::<Vec<_>>();
    assert_eq!(
        skus(&restarted.items),
        skus(&first.items),
        "an expired nextToken restarts from the first page"
    );
    Ok(())
}

#[tokio::test]
async fn set_stock_merges_the_merchant_quantity_one_result_per_update() -> TestResult {
    let h = Harness::official().await?;
    let credentials = h.connect(SELLER_1).await?;
    let updates = [
        StockUpdate { sku: Sku::new("SKU-000001")?, location: None, quantity: 5 },
        StockUpdate { sku: Sku::new("SKU-000002")?, location: Some(LocationId::new("AFN")?), quantity: 9 },
        StockUpdate { sku: Sku::new("SKU-999999")?, location: None, quantity: 1 },
        StockUpdate {
            sku: Sku::new("SKU-000003")?,
            location: Some(LocationId::new("DEFAULT")?),
            quantity: 0,
        },
    ];
    let results = h.adapter.set_stock(&target(SELLER_1, MARKETPLACE_US), &credentials, &updates).await?;
    assert_eq!(results.len(), 4);
    assert_eq!(results[0], StockUpdateResult::Applied { sku: Sku::new("SKU-000001")? });
    assert!(matches!(&results[1], StockUpdateResult::Rejected { sku, .. } if sku.as_str() == "SKU-000002"));
    assert!(
        matches!(&results[2], StockUpdateResult::Rejected { sku, reason } if sku.as_str() == "SKU-999999" && reason.contains("BAD_REQUEST"))
    );
    assert_eq!(results[3], StockUpdateResult::Applied { sku: Sku::new("SKU-000003")? });
    assert_eq!(h.sim().mfn_quantity(SELLER_1, "SKU-000001"), Some(5));
    assert_eq!(h.sim().mfn_quantity(SELLER_1, "SKU-000002"), None, "the fba update was not sent");
    assert_eq!(h.sim().mfn_quantity(SELLER_1, "SKU-000003"), Some(0));
    Ok(())
}

#[tokio::test]
async fn an_unknown_marketplace_or_another_platform_is_refused_before_any_call() -> TestResult {
    let h = Harness::official().await?;
    let credentials = h.connect(SELLER_1).await?;
    let elsewhere = target(SELLER_1, "A1PA6795UKMFR9");
    let result = h.adapter.orders(&elsewhere, &credentials, &window(), None, None).await;
    assert!(matches!(result, Err(PlatformError::Invalid { .. })));
    let mut meta = target(SELLER_1, MARKETPLACE_US);
    meta.account = custodian_core::platform::AccountRef::MetaAdAccount(
        custodian_core::platform::MetaAdAccountId::new("act_1")?,
    );
    assert!(matches!(h.adapter.stock(&meta, &credentials, None).await, Err(PlatformError::Invalid { .. })));
    Ok(())
}

#[tokio::test]
async fn a_wrong_client_secret_is_refused_as_invalid() -> TestResult {
    let h =
        Harness::start(SimAmazonConfig::default(), |c| c.client_secret = SecretString::from("wrong")).await?;
    let code = h.code(SELLER_1)?;
    let result = h.adapter.exchange(&code, REDIRECT_URI).await;
    assert!(matches!(result, Err(PlatformError::Invalid { .. })), "{:?}", result.err());
    Ok(())
}
