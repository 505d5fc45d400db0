//! OAuth and sync flows against the simulator: consent scopes (AUTH-4), exchange and validation evidence
//! (AUTH-2), refresh, revocation (AUTH-6), paging, retries, broken bodies, stock batches.

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use custodian_core::data::{LocationId, Sku};
use custodian_core::platform::{EBAY_FULFILLMENT_READONLY, EBAY_INVENTORY, Scope, Task};
use custodian_core::ports::{
    Authorizer, CommerceChannel, ConsentRequest, Cursor, PlatformError, StockUpdate, StockUpdateResult,
};
use custodian_http::{HttpClient, HttpConfig, Request, pages};
use custodian_sim::ebay::{EbayConfig as SimEbayConfig, RU_NAME};
use custodian_sim::{Fault, FaultKind, SimPlatform};
use futures::StreamExt as _;
use secrecy::SecretString;

use super::*;

fn consent_request(tasks: BTreeSet<Task>) -> ConsentRequest {
    ConsentRequest {
        tenant: TenantId::new("tenant-ebay").unwrap(),
        grant: GrantId::new("grant-ebay").unwrap(),
        tasks,
        redirect_uri: "https://custodian.example/callback/ebay".into(),
        state: "state-42".into(),
    }
}

fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    custodian_http::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

#[tokio::test]
async fn consent_url_asks_only_the_enabled_tasks_scopes_auth_4() {
    let sim = start(SimEbayConfig::default()).await;
    let adapter = adapter(&sim);
    for tasks in [
        BTreeSet::from([Task::ReadOrders]),
        BTreeSet::from([Task::UpdateStock]),
        BTreeSet::from([Task::ReadOrders, Task::ReadBuyerPii]),
        all_tasks(),
    ] {
        let url = adapter.consent_url(&consent_request(tasks.clone())).unwrap();
        assert!(url.starts_with(&format!("{}/ebay/auth/oauth2/authorize?", sim.base_url())), "{url}");
        assert!(
            url.contains("scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2F"),
            "scopes are percent-encoded: {url}"
        );
        let query = query_of(&url);
        let asked: BTreeSet<String> = query["scope"].split(' ').map(str::to_owned).collect();
        let expected: BTreeSet<String> = scopes_of(&tasks).into_iter().collect();
        assert_eq!(asked, expected, "exactly the tasks' scopes for {tasks:?}");
        assert_eq!(query["client_id"], custodian_sim::ebay::CLIENT_ID);
        assert_eq!(query["redirect_uri"], RU_NAME, "eBay takes the RuName");
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["state"], "state-42");
        assert_eq!(query["prompt"], "login");
    }
    let unsupported = adapter.consent_url(&consent_request(BTreeSet::from([Task::ReadReporting])));
    assert!(matches!(unsupported, Err(PlatformError::Unsupported(_))), "{unsupported:?}");

    // The URL works on the (simulated) consent page, and its code exchanges.
    let url = adapter.consent_url(&consent_request(BTreeSet::from([Task::ReadOrders]))).unwrap();
    let http = HttpClient::new(HttpConfig { allow_plain_loopback: true, ..HttpConfig::default() }).unwrap();
    let response = http.send(Request::get(custodian_http::Url::parse(&url).unwrap())).await.unwrap();
    assert_eq!(response.status, 302);
    let back = query_of(response.header("location").unwrap());
    assert_eq!(back["state"], "state-42");
    let credentials = adapter.exchange(&SecretString::from(back["code"].clone()), RU_NAME).await.unwrap();
    assert_eq!(credentials.scopes, BTreeSet::from([Scope::new(EBAY_FULFILLMENT_READONLY).unwrap()]));
}

#[tokio::test]
async fn exchange_and_validation_report_the_seller_and_scopes_auth_2() {
    let sim = start(SimEbayConfig::default()).await;
    let adapter = adapter(&sim);
    let before = SystemClock.now();
    let credentials = credentials(&sim, &adapter, &all_tasks()).await;
    let scopes =
        BTreeSet::from([Scope::new(EBAY_FULFILLMENT_READONLY).unwrap(), Scope::new(EBAY_INVENTORY).unwrap()]);
    assert_eq!(credentials.scopes, scopes, "learned from refreshes at exchange");
    assert!(credentials.refresh_token.is_some());
    let access = credentials.access_expires_at.unwrap() - before;
    assert!(access > time::Duration::seconds(7190) && access <= time::Duration::seconds(7201), "{access}");
    let refresh = credentials.refresh_expires_at.unwrap() - before;
    assert!(refresh > time::Duration::days(547), "18 months: {refresh}");

    let now = SystemClock.now();
    let evidence = adapter.validate(&credentials, now).await.unwrap();
    assert_eq!(evidence.owner.as_str(), SELLER);
    assert_eq!(evidence.accounts, BTreeSet::from([seller()]));
    assert_eq!(evidence.scopes, scopes);
    assert_eq!(evidence.validated_at, now);
    assert_eq!(evidence.expires_at, credentials.refresh_expires_at);

    // A narrower grant: only what was consented is reported and refreshed.
    let narrow = super::credentials(&sim, &adapter, &BTreeSet::from([Task::UpdateStock])).await;
    assert_eq!(narrow.scopes, BTreeSet::from([Scope::new(EBAY_INVENTORY).unwrap()]));
    let refreshed = adapter.refresh(&narrow).await.unwrap();
    assert_eq!(refreshed.scopes, narrow.scopes);
    assert!(!refreshed.same_tokens(&narrow));
    // Without the fulfillment scope there is no seller id to read: validation says so rather than guess.
    let result = adapter.validate(&refreshed, now).await;
    assert!(matches!(result, Err(PlatformError::Invalid { .. })), "{result:?}");
}

#[tokio::test]
async fn revocation_turns_refresh_and_calls_into_revoked_auth_6() {
    let sim = start(SimEbayConfig::default()).await;
    let adapter = adapter(&sim);
    let credentials = credentials(&sim, &adapter, &all_tasks()).await;
    let refreshed = adapter.refresh(&credentials).await.unwrap();
    assert!(sim.sim.ebay.revoke_user(SELLER));
    assert!(matches!(adapter.refresh(&refreshed).await, Err(PlatformError::Revoked { .. })));
    let validated = adapter.validate(&refreshed, SystemClock.now()).await;
    assert!(matches!(validated, Err(PlatformError::Revoked { .. })), "{validated:?}");
    let orders = adapter.orders(&target(), &refreshed, &window(&sim), None, None).await;
    assert!(matches!(orders, Err(PlatformError::Revoked { .. })), "{orders:?}");
}

#[tokio::test]
async fn an_expired_access_token_is_unauthorized_not_revoked() {
    let sim = start(SimEbayConfig { access_token_secs: 1, ..SimEbayConfig::default() }).await;
    let adapter = adapter(&sim);
    let credentials = credentials(&sim, &adapter, &all_tasks()).await;
    sim.sim.ctx.clock.advance(5);
    let orders = adapter.orders(&target(), &credentials, &window(&sim), None, None).await;
    assert!(matches!(orders, Err(PlatformError::Unauthorized { .. })), "{orders:?}");
    let fresh = adapter.refresh(&credentials).await.unwrap();
    assert!(adapter.orders(&target(), &fresh, &window(&sim), None, None).await.is_ok());
}

#[tokio::test]
async fn token_revoked_mid_sync_is_revoked_auth_6() {
    let sim = start(SimEbayConfig::default()).await;
    let mut config = config(&sim);
    config.orders_page_size = 50;
    let adapter = EbayAdapter::new(config).unwrap();
    let credentials = credentials(&sim, &adapter, &all_tasks()).await;
    let first = adapter.orders(&target(), &credentials, &window(&sim), None, None).await.unwrap();
    assert_eq!(first.items.len(), 50);
    sim.sim
        .ctx
        .faults
        .push(Fault::once(SimPlatform::Ebay, FaultKind::RevokeTokens).on_path("/sell/fulfillment"));
    let second = adapter.orders(&target(), &credentials, &window(&sim), first.next, None).await;
    assert!(matches!(second, Err(PlatformError::Revoked { .. })), "{second:?}");
}

#[tokio::test]
async fn pages_to_the_end_without_repeats() {
    let sim = start(SimEbayConfig::default()).await;
    let mut config = config(&sim);
    config.orders_page_size = 11;
    let adapter = EbayAdapter::new(config).unwrap();
    let credentials = credentials(&sim, &adapter, &all_tasks()).await;
    let query = window(&sim);
    let target = target();
    let stream = pages::<_, SyncError, _, _>(None, |cursor: Option<Cursor>| {
        let (adapter, target, credentials, query) = (&adapter, &target, &credentials, &query);
        async move { adapter.orders(target, credentials, query, cursor, None).await.map_err(SyncError::Platform) }
    });
    let collected: Vec<_> = stream.collect().await;
    let mut ids = HashSet::new();
    for page in collected {
        for order in page.unwrap().items {
            assert!(ids.insert(order.id.as_str().to_owned()));
        }
    }
    assert_eq!(ids.len(), 120);
    assert_eq!(sim.sim.ctx.faults.stats(SimPlatform::Ebay).throttled, 0);
    // A window with nothing in it is one empty page.
    let (start_ms, _) = sim.sim.ebay.orders_window();
    let at = |ms: i64| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap();
    let empty = custodian_core::ports::OrderQuery {
        updated_after: at(start_ms - 10_000),
        updated_before: at(start_ms),
    };
    let page = adapter.orders(&target, &credentials, &empty, None, None).await.unwrap();
    assert!(page.items.is_empty() && page.next.is_none());
}

/// What a sync loop over [`pages`] can end with.
#[derive(Debug)]
enum SyncError {
    #[expect(dead_code, reason = "only printed when a test fails")]
    Platform(PlatformError),
    Loop,
}

impl From<custodian_http::RepeatedCursor> for SyncError {
    fn from(_: custodian_http::RepeatedCursor) -> Self {
        SyncError::Loop
    }
}

#[tokio::test]
async fn throttle_then_success_honours_the_hint() {
    let sim = start(SimEbayConfig::default()).await;
    let adapter = adapter(&sim);
    let credentials = credentials(&sim, &adapter, &all_tasks()).await;
    sim.sim.ctx.faults.push(
        Fault::once(SimPlatform::Ebay, FaultKind::RateLimited { retry_after: Some(Duration::from_secs(1)) })
            .on_path("/sell/fulfillment"),
    );
    let started = Instant::now();
    let page = adapter.orders(&target(), &credentials, &window(&sim), None, None).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950), "waited {:?}", started.elapsed());
    assert!(!page.items.is_empty());
    assert_eq!(sim.sim.ctx.faults.stats(SimPlatform::Ebay).throttled, 1);
    // Throttled for longer than the policy tolerates: rate limited, with the hint.
    sim.sim.ctx.faults.push(
        Fault::once(SimPlatform::Ebay, FaultKind::RateLimited { retry_after: Some(Duration::from_secs(60)) })
            .on_path("/sell/fulfillment"),
    );
    let limited = adapter.orders(&target(), &credentials, &window(&sim), None, None).await;
    assert!(
        matches!(limited, Err(PlatformError::RateLimited { retry_after: Some(d) }) if d == time::Duration::seconds(60)),
        "{limited:?}"
    );
}

#[tokio::test]
async fn server_errors_then_success_and_truncated_bodies() {
    let sim = start(SimEbayConfig::default()).await;
    let adapter = adapter(&sim);
    let credentials = credentials(&sim, &adapter, &all_tasks()).await;
    let faults = &sim.sim.ctx.faults;
    faults.push(
        Fault::once(SimPlatform::Ebay, FaultKind::ServerError(503)).on_path("/sell/fulfillment").times(2),
    );
    assert!(adapter.orders(&target(), &credentials, &window(&sim), None, None).await.is_ok());
    faults.push(
        Fault::once(SimPlatform::Ebay, FaultKind::ServerError(500)).on_path("/sell/inventory").times(10),
    );
    let down = adapter.stock(&target(), &credentials, None).await;
    assert!(matches!(down, Err(PlatformError::Unavailable(_))), "{down:?}");
    faults.clear();

    faults.push(Fault::once(SimPlatform::Ebay, FaultKind::TruncateBody).on_path("/sell/fulfillment"));
    let truncated = adapter.orders(&target(), &credentials, &window(&sim), None, None).await;
    let Err(PlatformError::Unavailable(source)) = truncated else { panic!("{truncated:?}") };
    let text = source.to_string();
    assert!(text.contains("undecodable ebay answer at `orders"), "the error names the JSON path: {text}");
    // A bulk update is not retried on a 5xx (it is not idempotent).
    faults.push(
        Fault::once(SimPlatform::Ebay, FaultKind::ServerError(502)).on_path("/bulk_update_price_quantity"),
    );
    let before = faults.stats(SimPlatform::Ebay).requests;
    let update = [StockUpdate { sku: Sku::new("SKU-000001").unwrap(), location: None, quantity: 1 }];
    assert!(matches!(
        adapter.set_stock(&target(), &credentials, &update).await,
        Err(PlatformError::Unavailable(_))
    ));
    assert_eq!(faults.stats(SimPlatform::Ebay).requests - before, 1);
}

#[tokio::test]
async fn set_stock_batches_by_25_with_per_item_results() {
    let sim = start(SimEbayConfig::default()).await;
    let adapter = adapter(&sim);
    let credentials = credentials(&sim, &adapter, &all_tasks()).await;
    let mut updates: Vec<StockUpdate> = (0..40)
        .map(|i| StockUpdate {
            sku: Sku::new(format!("SKU-{i:06}")).unwrap(),
            location: None,
            quantity: 100 + i,
        })
        .collect();
    updates.insert(7, StockUpdate { sku: Sku::new("NOT-A-SKU").unwrap(), location: None, quantity: 1 });
    updates.insert(
        30,
        StockUpdate {
            sku: Sku::new("SKU-000003").unwrap(),
            location: Some(LocationId::new("wh-1").unwrap()),
            quantity: 9,
        },
    );
    let before = sim.sim.ctx.faults.stats(SimPlatform::Ebay).requests;
    let results = adapter.set_stock(&target(), &credentials, &updates).await.unwrap();
    assert_eq!(
        sim.sim.ctx.faults.stats(SimPlatform::Ebay).requests - before,
        2,
        "42 updates, one unsendable: two calls"
    );
    assert_eq!(results.len(), updates.len());
    for (update, result) in updates.iter().zip(&results) {
        match result {
            StockUpdateResult::Applied { sku } => {
                assert_eq!(sku, &update.sku);
                assert_eq!(
                    sim.sim.ebay.stock_quantity(SELLER, sku.as_str()),
                    Some(i64::from(update.quantity))
                );
            }
            StockUpdateResult::Rejected { sku, reason } => {
                assert_eq!(sku, &update.sku);
                assert!(sku.as_str() == "NOT-A-SKU" || update.location.is_some(), "{sku}: {reason}");
                if sku.as_str() == "NOT-A-SKU" {
                    assert!(reason.contains("25710"), "{reason}");
                }
            }
        }
    }
    assert_eq!(results.iter().filter(|r| matches!(r, StockUpdateResult::Applied { .. })).count(), 40);
    assert_eq!(
        sim.sim.ebay.stock_quantity(SELLER, "SKU-000003"),
        Some(103),
        "the per-location update was not sent"
    );
}
