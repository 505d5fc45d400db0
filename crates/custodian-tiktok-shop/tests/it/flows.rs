//! Authorization and sync flows against the simulator: consent scopes (AUTH-4), exchange and validation
//! evidence (AUTH-2, AUTH-3), scope changes, revocation (AUTH-6), expiry, paging, PII with and without a
//! sealer (MIN-2, ENC-1), throttles, server errors, cut bodies, and stock updates.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use custodian_core::data::{BuyerPii, LocationId, Order, Sku, open};
use custodian_core::grant::OwnerId;
use custodian_core::platform::{Platform, Scope, Task};
use custodian_core::ports::{
    Authorizer as _, CommerceChannel as _, ConsentRequest, Credentials, OrderQuery, Page, PlatformError,
    StockUpdate, StockUpdateResult,
};
use custodian_http::{HttpClient, HttpConfig, Request, RetryPolicy, Url};
use custodian_sim::rate::Limit;
use custodian_sim::tiktok_shop::{
    self, DEFAULT_SCOPES, ORDER_INTERVAL, ORDERS_START, SELLER_OPEN_ID, SHOP_ID, SHOP_ID_2,
    TikTokShopConfig as SimConfig,
};
use custodian_sim::{Fault, FaultKind, RunningSim, SimPlatform};
use custodian_tiktok_shop::{TikTokShopAdapter, TikTokShopError};
use futures_lite::collect_pages;
use secrecy::SecretString;
use time::OffsetDateTime;

use crate::support::{adapter, config, credentials, sealer, shop, start, target};

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap()
}

fn now(sim: &RunningSim) -> OffsetDateTime {
    at(sim.sim.ctx.clock.now_unix())
}

/// Every order of the default shop.
fn all_time() -> OrderQuery {
    OrderQuery { updated_after: at(ORDERS_START), updated_before: at(ORDERS_START + 1_000 * ORDER_INTERVAL) }
}

fn consent(tasks: &[Task]) -> ConsentRequest {
    ConsentRequest {
        tenant: custodian_core::tenant::TenantId::new("tenant-tts").unwrap(),
        grant: custodian_core::grant::GrantId::new("grant-tts").unwrap(),
        tasks: tasks.iter().copied().collect(),
        redirect_uri: tiktok_shop::REDIRECT_URI.to_owned(),
        state: "opaque-state-1".to_owned(),
    }
}

/// Small paging helper over the port (the sync service follows cursors the same way).
mod futures_lite {
    use custodian_core::ports::{Cursor, Page, PlatformError};

    pub(crate) async fn collect_pages<T, F, Fut>(mut fetch: F) -> Result<(Vec<T>, usize), PlatformError>
    where
        F: FnMut(Option<Cursor>) -> Fut,
        Fut: std::future::Future<Output = Result<Page<T>, PlatformError>>,
    {
        let mut items = Vec::new();
        let mut cursor = None;
        let mut seen = std::collections::HashSet::new();
        let mut pages = 0;
        loop {
            pages += 1;
            let page = fetch(cursor).await?;
            items.extend(page.items);
            match page.next {
                None => return Ok((items, pages)),
                Some(next) => {
                    assert!(seen.insert(next.0.clone()), "a cursor came back: the pages loop");
                    cursor = Some(next);
                }
            }
        }
    }
}

#[tokio::test]
async fn consent_urls_ask_only_for_the_enabled_tasks_packages() {
    let sim = start(SimConfig::default()).await;
    let adapter = adapter(&sim);
    let orders = Url::parse(&adapter.consent_url(&consent(&[Task::ReadOrders])).unwrap()).unwrap();
    let pairs: Vec<(String, String)> = orders.query_pairs().into_owned().collect();
    assert_eq!(
        pairs,
        [
            ("service_id".to_owned(), tiktok_shop::SERVICE_ID.to_owned()),
            ("state".to_owned(), "opaque-state-1".to_owned()),
            ("scope".to_owned(), "seller.authorization.info,seller.order.info".to_owned()),
        ]
    );
    let stock = adapter.consent_url(&consent(&[Task::UpdateStock])).unwrap();
    assert!(stock.contains("seller.product.write") && !stock.contains("seller.order.info"), "{stock}");
    let unsupported = adapter.consent_url(&consent(&[Task::ReadReporting]));
    assert!(matches!(unsupported, Err(PlatformError::Unsupported(_))));

    // The consent page (the simulator approves at once) sends the seller back with a code and the state.
    let http = HttpClient::new(HttpConfig { allow_plain_loopback: true, ..HttpConfig::default() }).unwrap();
    let response = http.send(Request::get(orders)).await.unwrap();
    assert_eq!(response.status, 302);
    let back = Url::parse(response.header("location").unwrap()).unwrap();
    let back: Vec<(String, String)> = back.query_pairs().into_owned().collect();
    assert_eq!(back[1], ("state".to_owned(), "opaque-state-1".to_owned()));
    let code = SecretString::from(back[0].1.clone());
    assert!(adapter.exchange(&code, tiktok_shop::REDIRECT_URI).await.is_ok());
}

#[tokio::test]
async fn exchange_and_validation_report_the_seller_shops_packages_and_expiry() {
    let sim = start(SimConfig::default()).await;
    let adapter = adapter(&sim);
    let now = now(&sim);
    let credentials = credentials(&sim, &adapter).await;
    // Absolute expiries from the answer (the clock may tick between `now` and the exchange).
    let within = |t: Option<OffsetDateTime>, days: i64| {
        t.is_some_and(|t| (0..=1).contains(&(t - now - time::Duration::days(days)).whole_seconds()))
    };
    assert!(within(credentials.access_expires_at, 7), "{:?}", credentials.access_expires_at);
    assert!(within(credentials.refresh_expires_at, 365), "{:?}", credentials.refresh_expires_at);
    let packages: BTreeSet<Scope> = DEFAULT_SCOPES.iter().map(|s| Scope::new(*s).unwrap()).collect();
    assert_eq!(credentials.scopes, packages);

    let evidence = adapter.validate(&credentials, now).await.unwrap();
    assert_eq!(evidence.owner, OwnerId::new(SELLER_OPEN_ID).unwrap());
    assert_eq!(evidence.accounts, BTreeSet::from([shop(SHOP_ID), shop(SHOP_ID_2)]));
    assert_eq!(evidence.scopes, packages);
    assert_eq!(evidence.expires_at, credentials.refresh_expires_at);
    assert_eq!(evidence.validated_at, now);

    // AUTH-5 input: a shrunk grant shows in the next validation, and calls needing the package are Forbidden.
    sim.sim.tiktok_shop.set_granted_scopes(0, &["seller.authorization.info", "seller.product.basic"]);
    let evidence = adapter.validate(&credentials, now).await.unwrap();
    assert!(!evidence.scopes.contains(&Scope::new("seller.order.info").unwrap()));
    let orders = adapter.orders(&target(SHOP_ID), &credentials, &all_time(), None, None).await;
    assert!(matches!(orders, Err(PlatformError::Forbidden { .. })), "{orders:?}");
}

#[tokio::test]
async fn a_shop_of_another_seller_is_forbidden() {
    let mut config = SimConfig::default();
    let mut other = config.sellers[0].clone();
    other.open_id = "_VIz-other".to_owned();
    other.shops.truncate(1);
    other.shops[0].id = "7494049642642449999".to_owned();
    other.shops[0].cipher = "ROW_other".to_owned();
    config.sellers.push(other);
    let sim = start(config).await;
    let adapter = adapter(&sim);
    let credentials = credentials(&sim, &adapter).await;
    let result = adapter.orders(&target("7494049642642449999"), &credentials, &all_time(), None, None).await;
    assert!(matches!(result, Err(PlatformError::Forbidden { .. })), "AUTH-3: {result:?}");
}

#[tokio::test]
async fn deauthorization_ends_in_revoked() {
    let sim = start(SimConfig::default()).await;
    let adapter = adapter(&sim);
    let credentials = credentials(&sim, &adapter).await;
    assert!(adapter.orders(&target(SHOP_ID), &credentials, &all_time(), None, None).await.is_ok());
    assert!(sim.sim.tiktok_shop.deauthorize(SHOP_ID));
    // The dead access token (105001) may be refreshed; the refresh finds no authorization: Revoked (AUTH-6).
    let orders = adapter.orders(&target(SHOP_ID), &credentials, &all_time(), None, None).await;
    assert!(matches!(orders, Err(PlatformError::Unauthorized { .. })), "{orders:?}");
    let refresh = adapter.refresh(&credentials).await;
    assert!(matches!(refresh, Err(PlatformError::Revoked { .. })), "{refresh:?}");
    let validate = adapter.validate(&credentials, now(&sim)).await;
    assert!(matches!(validate, Err(PlatformError::Revoked { .. })), "{validate:?}");
}

#[tokio::test]
async fn a_token_revoked_mid_sync_ends_in_revoked() {
    let sim = start(SimConfig::default()).await;
    let adapter = adapter(&sim);
    let credentials = credentials(&sim, &adapter).await;
    let query = all_time();
    let first = adapter.orders(&target(SHOP_ID), &credentials, &query, None, None).await.unwrap();
    assert!(first.next.is_some());
    sim.sim.ctx.faults.push(Fault::once(SimPlatform::TikTokShop, FaultKind::RevokeTokens));
    let second = adapter.orders(&target(SHOP_ID), &credentials, &query, first.next, None).await;
    assert!(matches!(second, Err(PlatformError::Unauthorized { .. })), "{second:?}");
    assert!(matches!(adapter.refresh(&credentials).await, Err(PlatformError::Revoked { .. })));
}

#[tokio::test]
async fn expired_tokens_are_refreshed_and_an_expired_authorization_is_revoked() {
    let sim = start(SimConfig::default()).await;
    let adapter = adapter(&sim);
    let credentials = credentials(&sim, &adapter).await;
    sim.sim.ctx.clock.advance(8 * 86_400);
    let expired = adapter.orders(&target(SHOP_ID), &credentials, &all_time(), None, None).await;
    assert!(matches!(expired, Err(PlatformError::Unauthorized { .. })), "{expired:?}");
    let refreshed = adapter.refresh(&credentials).await.unwrap();
    assert!(!refreshed.same_tokens(&credentials));
    assert!(adapter.orders(&target(SHOP_ID), &refreshed, &all_time(), None, None).await.is_ok());
    sim.sim.ctx.clock.advance(366 * 86_400);
    assert!(matches!(adapter.refresh(&refreshed).await, Err(PlatformError::Revoked { .. })));
}

#[tokio::test]
async fn orders_page_to_the_end_with_sealed_pii_only_when_asked() {
    let sim = start(SimConfig::default()).await;
    let adapter = adapter(&sim);
    let credentials = credentials(&sim, &adapter).await;
    let (target, query) = (target(SHOP_ID), all_time());
    let (plain, pages) =
        collect_pages(|c| adapter.orders(&target, &credentials, &query, c, None)).await.unwrap();
    assert_eq!((plain.len(), pages), (250, 3), "250 orders in pages of 100");
    let ids: HashSet<&str> = plain.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids.len(), 250);
    assert!(plain.windows(2).all(|w| w[0].updated_at < w[1].updated_at), "oldest update first");
    assert!(plain.iter().all(|o| o.buyer.is_none()), "MIN-2: no buyer without a sealer");
    assert!(plain.iter().all(|o| o.lines.iter().all(|l| l.quantity == 1)));

    let sealer = sealer();
    let (sealed, _) =
        collect_pages(|c| adapter.orders(&target, &credentials, &query, c, Some(sealer.clone())))
            .await
            .unwrap();
    let strip = |orders: &[Order]| -> Vec<Order> {
        orders
            .iter()
            .cloned()
            .map(|mut o| {
                o.buyer = None;
                o
            })
            .collect()
    };
    assert_eq!(strip(&sealed), plain, "asking for pii changes nothing else");
    let mut addresses = 0;
    for order in &sealed {
        let buyer = order.buyer.as_ref().expect("every simulated order has at least a buyer email");
        let pii: BuyerPii = open(&sealer.key, &order.seal_context(), buyer).unwrap();
        assert!(pii.email.as_deref().is_some_and(|e| e.ends_with("@scs2.tiktok.com")));
        if let Some(address) = pii.address {
            addresses += 1;
            assert_eq!(address.country, "GB");
            assert!(!address.lines.is_empty() && address.postal_code.is_some());
        }
    }
    assert!(addresses > 150, "{addresses} orders carry an address");
}

#[tokio::test]
async fn throttles_and_server_errors_are_retried() {
    let sim = start(SimConfig::default()).await;
    let adapter = adapter(&sim);
    let credentials = credentials(&sim, &adapter).await;
    let faults = &sim.sim.ctx.faults;
    faults.push(
        Fault::once(SimPlatform::TikTokShop, FaultKind::RateLimited { retry_after: None })
            .on_path("/orders/search"),
    );
    faults
        .push(Fault::once(SimPlatform::TikTokShop, FaultKind::ServerError(503)).on_path("/products/search"));
    let orders = adapter.orders(&target(SHOP_ID), &credentials, &all_time(), None, None).await.unwrap();
    assert_eq!(orders.items.len(), 100);
    let stock = adapter.stock(&target(SHOP_ID), &credentials, None).await.unwrap();
    assert_eq!(stock.items.len(), 120);
    let stats = faults.stats(SimPlatform::TikTokShop);
    assert_eq!((stats.faulted, stats.throttled), (2, 1));

    // The simulator's own limiter: an adapter configured far above it is throttled (36009002, HTTP 429) and
    // still gets through by backing off.
    let sim = start(SimConfig { rate_limit: Limit::new(40.0, 2.0), ..SimConfig::default() }).await;
    let mut fast = config(&sim);
    fast.rate = custodian_http::Rate::new(10_000.0, 100);
    // The simulator refills one call every 25 ms and sends no wait hint, so the backoff must outlast that
    // however the full jitter falls and however loaded the machine is: nine retries, ceilings 50 ms to 400 ms.
    fast.retry = RetryPolicy {
        max_attempts: 10,
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(400),
        max_wait_hint: Duration::from_secs(5),
    };
    let adapter = TikTokShopAdapter::new(fast).unwrap();
    let credentials = crate::support::credentials(&sim, &adapter).await;
    for _ in 0..4 {
        adapter.stock(&target(SHOP_ID), &credentials, None).await.unwrap();
    }
    assert!(sim.sim.ctx.faults.stats(SimPlatform::TikTokShop).throttled > 0);
}

#[tokio::test]
async fn a_cut_body_is_an_unavailable_decode_error_naming_the_json_path() {
    let sim = start(SimConfig::default()).await;
    let adapter = adapter(&sim);
    let credentials = credentials(&sim, &adapter).await;
    adapter.stock(&target(SHOP_ID), &credentials, None).await.unwrap();
    let faults = &sim.sim.ctx.faults;
    faults.push(Fault::once(SimPlatform::TikTokShop, FaultKind::TruncateBody).on_path("/orders/search"));
    assert!(adapter.orders(&target(SHOP_ID), &credentials, &all_time(), None, None).await.is_ok(), "retried");

    faults.push(
        Fault::once(SimPlatform::TikTokShop, FaultKind::TruncateBody).on_path("/orders/search").times(4),
    );
    let error = adapter.orders(&target(SHOP_ID), &credentials, &all_time(), None, None).await.unwrap_err();
    let PlatformError::Unavailable(source) = &error else { panic!("{error:?}") };
    let Some(TikTokShopError::Decode(decode)) = source.downcast_ref::<TikTokShopError>() else {
        panic!("{source:?}")
    };
    assert!(decode.path.starts_with("data.orders"), "{decode}");
    assert!(!error.to_string().contains("@scs2"), "no body content in errors");
}

#[tokio::test]
async fn a_wrong_app_secret_is_invalid_and_not_retried() {
    let sim = start(SimConfig::default()).await;
    let good = adapter(&sim);
    let credentials = credentials(&sim, &good).await;
    let mut config = config(&sim);
    config.app_secret = SecretString::from("not-the-secret");
    let adapter = TikTokShopAdapter::new(config).unwrap();
    let before = sim.sim.ctx.faults.stats(SimPlatform::TikTokShop).requests;
    let result = adapter.stock(&target(SHOP_ID), &credentials, None).await;
    assert!(
        matches!(result, Err(PlatformError::Invalid { ref detail }) if detail.contains("106001")),
        "{result:?}"
    );
    assert_eq!(
        sim.sim.ctx.faults.stats(SimPlatform::TikTokShop).requests - before,
        1,
        "106001 is never retried"
    );
}

fn quantities(sim: &RunningSim, updates: &[StockUpdate]) -> Vec<Option<u32>> {
    updates
        .iter()
        .map(|u| {
            sim.sim.tiktok_shop.stock_quantity(
                SHOP_ID,
                u.sku.as_str(),
                u.location.as_ref().map_or("", |l| l.as_str()),
            )
        })
        .collect()
}

#[tokio::test]
async fn stock_updates_set_absolute_quantities_one_call_per_product() {
    let sim = start(SimConfig::default()).await;
    let adapter = adapter(&sim);
    let credentials = credentials(&sim, &adapter).await;
    let target = target(SHOP_ID);
    let (levels, _) = collect_pages(|c| adapter.stock(&target, &credentials, c)).await.unwrap();
    assert_eq!(levels.len(), 120);
    // Two products: 3 SKUs × 2 warehouses each (the listing is product by product).
    let mut updates: Vec<StockUpdate> = levels
        .iter()
        .take(12)
        .enumerate()
        .map(|(i, l)| StockUpdate {
            sku: l.sku.clone(),
            location: l.location.clone(),
            quantity: 1_000 + i as u32,
        })
        .collect();
    let applied = updates.clone();
    updates.push(StockUpdate { sku: Sku::new("1729799999999999999").unwrap(), location: None, quantity: 1 });
    updates.push(StockUpdate { sku: Sku::new("abc").unwrap(), location: None, quantity: 1 });

    let before = sim.sim.ctx.faults.stats(SimPlatform::TikTokShop).requests;
    let results = adapter.set_stock(&target, &credentials, &updates).await.unwrap();
    let requests = sim.sim.ctx.faults.stats(SimPlatform::TikTokShop).requests - before;
    assert_eq!(requests, 3, "one inventory search, then one update per product");
    assert_eq!(results.len(), updates.len());
    for (update, result) in updates.iter().zip(&results).take(12) {
        assert_eq!(result, &StockUpdateResult::Applied { sku: update.sku.clone() });
    }
    assert!(matches!(&results[12], StockUpdateResult::Rejected { sku, .. } if sku == &updates[12].sku));
    assert!(matches!(&results[13], StockUpdateResult::Rejected { sku, .. } if sku.as_str() == "abc"));
    let expected: Vec<Option<u32>> = applied.iter().map(|u| Some(u.quantity)).collect();
    assert_eq!(quantities(&sim, &applied), expected, "absolute quantities per warehouse");
    let (after, _) = collect_pages(|c| adapter.stock(&target, &credentials, c)).await.unwrap();
    assert!(after.iter().take(12).zip(&applied).all(|(l, u)| l.quantity == i64::from(u.quantity)));

    // An unknown warehouse refuses the product's call: its updates are rejected with the evidence.
    let wrong = [StockUpdate {
        sku: applied[0].sku.clone(),
        location: Some(LocationId::new("999").unwrap()),
        quantity: 5,
    }];
    let results = adapter.set_stock(&target, &credentials, &wrong).await.unwrap();
    assert!(
        matches!(&results[0], StockUpdateResult::Rejected { reason, .. } if reason.contains("12052097")),
        "{results:?}"
    );
    // Without a location the default warehouse is set.
    let default = [StockUpdate { sku: applied[0].sku.clone(), location: None, quantity: 77 }];
    assert!(matches!(
        adapter.set_stock(&target, &credentials, &default).await.unwrap()[0],
        StockUpdateResult::Applied { .. }
    ));
    let warehouse = sim.sim.tiktok_shop.config().sellers[0].shops[0].warehouses[0].clone();
    assert_eq!(sim.sim.tiktok_shop.stock_quantity(SHOP_ID, applied[0].sku.as_str(), &warehouse), Some(77));
}

#[tokio::test]
async fn credentials_without_refresh_token_cannot_be_validated() {
    let sim = start(SimConfig::default()).await;
    let adapter = adapter(&sim);
    let full = credentials(&sim, &adapter).await;
    let bearer = Credentials::bearer(full.access_token.clone());
    assert!(matches!(adapter.validate(&bearer, now(&sim)).await, Err(PlatformError::Unauthorized { .. })));
    assert!(matches!(adapter.refresh(&bearer).await, Err(PlatformError::Unauthorized { .. })));
    // The access token alone still reads.
    let page: Page<_> = adapter.stock(&target(SHOP_ID), &bearer, None).await.unwrap();
    assert!(!page.items.is_empty());
    assert_eq!(adapter.platform(), Platform::TikTokShop);
}
