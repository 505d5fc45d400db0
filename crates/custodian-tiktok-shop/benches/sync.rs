//! `cargo xtask bench sync` (`cargo bench -p custodian-tiktok-shop --bench sync`): the performance targets of
//! issue 6 for TikTok Shop, through the adapter from the in-process simulator on loopback.
//!
//! 1. **Order sync**: `CUSTODIAN_BENCH_ROWS` orders (default 1,000,000) over `CUSTODIAN_BENCH_SHOPS` shops
//!    (default 4, synced concurrently as the server syncs accounts), pages of 100, buyer PII sealed
//!    (AES-256-GCM), into a sink that counts and drops them. Prints orders/s (target ≥ 100,000) and the peak
//!    resident memory `VmHWM` (target < 100 MB). The simulator's rate limit is lifted for this run: it
//!    measures the code path, not TikTok's quota.
//! 2. **Stock budget**: for `CUSTODIAN_BENCH_BUDGET_SECS` seconds (default 10), stock updates against the
//!    simulator's published limit (50 requests/s per shop, burst 50) with the adapter's default client rate.
//!    Prints requests sent / requests the limit allows in the measured window (target ≥ 90%) and the
//!    throttled count (target 0), and how many updates each call carried (batched per product).
//!
//! Criterion then measures one sealed page of 100 orders.

#![expect(clippy::unwrap_used, reason = "benchmark set-up failures should abort the run")]
#![expect(clippy::print_stdout, reason = "the benchmark reports its figures on stdout")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use custodian_core::data::{DataKey, KeyVersion};
use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, TikTokShopId};
use custodian_core::ports::{
    Authorizer as _, Clock, CommerceChannel as _, Credentials, OrderQuery, PiiSealer, StockUpdate, Target,
};
use custodian_core::tenant::TenantId;
use custodian_http::{HttpConfig, Rate};
use custodian_sim::rate::Limit;
use custodian_sim::tiktok_shop::{ShopConfig, TikTokShopConfig as SimConfig};
use custodian_sim::{RunningSim, Sim, SimClock, SimConfig as AllConfig, SimPlatform};
use custodian_testkit::fakes::SeededRng;
use custodian_tiktok_shop::{TikTokShopAdapter, TikTokShopConfig};
use secrecy::SecretString;
use time::OffsetDateTime;
use tokio::runtime::Runtime;

/// The simulator's clock as the adapter's clock.
struct SimTime(SimClock);

impl Clock for SimTime {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.0.now_unix()).unwrap()
    }
}

#[expect(clippy::disallowed_methods, reason = "bench sizes come from the environment")]
fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn peak_memory_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU seconds this process has used (user + system; `/proc` counts in USER_HZ = 100 ticks per second).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
    (ticks(11) + ticks(12)) / 100.0
}

fn shops(count: u64, orders: u64, products: u64, skus: u32) -> Vec<ShopConfig> {
    let template = SimConfig::default().sellers[0].shops[0].clone();
    (0..count)
        .map(|i| ShopConfig {
            id: format!("74940496426424{:05}", 50_000 + i),
            cipher: format!("ROW_bench{i}"),
            name: format!("bench shop {i}"),
            orders,
            products,
            skus_per_product: skus,
            ..template.clone()
        })
        .collect()
}

async fn start(config: SimConfig) -> RunningSim {
    Sim::new(AllConfig { seed: 2024, tiktok_shop: config, ..AllConfig::default() })
        .start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn adapter(sim: &RunningSim, rate: Rate) -> TikTokShopAdapter {
    let app = sim.sim.tiktok_shop.config();
    let base = format!("{}/tiktok-shop", sim.base_url());
    let mut config = TikTokShopConfig::new(
        app.app_key.as_str(),
        SecretString::from(app.app_secret.as_str()),
        app.service_id.as_str(),
        Arc::new(SimTime(sim.sim.ctx.clock.clone())),
    );
    config.auth_base = format!("{base}/auth");
    config.api_base = format!("{base}/open-api");
    config.authorize_url = format!("{base}/services/open/authorize");
    config.http = HttpConfig { allow_plain_loopback: true, ..HttpConfig::default() };
    config.rate = rate;
    TikTokShopAdapter::new(config).unwrap()
}

async fn credentials(sim: &RunningSim, adapter: &TikTokShopAdapter) -> Credentials {
    let code = SecretString::from(sim.sim.tiktok_shop.issue_code(0).unwrap());
    adapter.exchange(&code, "").await.unwrap()
}

fn target(shop: &ShopConfig) -> Target {
    Target {
        tenant: TenantId::new("bench-tenant").unwrap(),
        grant: GrantId::new("bench-grant").unwrap(),
        account: AccountRef::TikTokShop(TikTokShopId::new(shop.id.as_str()).unwrap()),
    }
}

fn sealer() -> PiiSealer {
    PiiSealer { key: DataKey::from_bytes(KeyVersion(1), [9; 32]), rng: Arc::new(SeededRng::new(3)) }
}

/// Every order of the simulated shops (their whole timeline).
fn window(config: &SimConfig, orders: u64) -> OrderQuery {
    let start = config.orders_start_unix;
    let end = start + (orders as i64 + 1) * config.order_interval_secs;
    OrderQuery {
        updated_after: OffsetDateTime::from_unix_timestamp(start).unwrap(),
        updated_before: OffsetDateTime::from_unix_timestamp(end).unwrap(),
    }
}

/// Syncs every order of one shop, sealing PII, counting and dropping the records.
async fn sync_shop(
    adapter: TikTokShopAdapter,
    credentials: Credentials,
    target: Target,
    query: OrderQuery,
) -> u64 {
    let sealer = sealer();
    let mut cursor = None;
    let mut count = 0;
    loop {
        let page = adapter.orders(&target, &credentials, &query, cursor, Some(sealer.clone())).await.unwrap();
        count += page.items.len() as u64;
        match page.next {
            Some(next) => cursor = Some(next),
            None => return count,
        }
    }
}

struct Throughput {
    sim: RunningSim,
    adapter: TikTokShopAdapter,
    credentials: Credentials,
    target: Target,
    query: OrderQuery,
}

fn order_sync(rt: &Runtime) -> Throughput {
    let rows = env("CUSTODIAN_BENCH_ROWS", 1_000_000);
    let shop_count = env("CUSTODIAN_BENCH_SHOPS", 4).max(1);
    let per_shop = rows.div_ceil(shop_count);
    let mut config = SimConfig { rate_limit: Limit::new(1e9, 1e9), ..SimConfig::default() };
    config.sellers[0].shops = shops(shop_count, per_shop, 50, 3);
    let query = window(&config, per_shop);
    let shop_configs = config.sellers[0].shops.clone();
    let sim = rt.block_on(start(config));
    let adapter = adapter(&sim, Rate::new(1e9, 1_000_000));
    let credentials = rt.block_on(credentials(&sim, &adapter));
    let now = OffsetDateTime::from_unix_timestamp(sim.sim.ctx.clock.now_unix()).unwrap();
    rt.block_on(adapter.validate(&credentials, now)).unwrap();

    let (started, cpu) = (Instant::now(), cpu_seconds());
    let tasks: Vec<_> = shop_configs
        .iter()
        .map(|shop| rt.spawn(sync_shop(adapter.clone(), credentials.clone(), target(shop), query.clone())))
        .collect();
    let total: u64 = tasks.into_iter().map(|t| rt.block_on(t).unwrap()).sum();
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    println!(
        "tiktok-shop order sync: {total} orders over {shop_count} shops, buyer pii sealed, in {elapsed:.2} s = {:.0} orders/s wall clock (target >= 100000); peak memory VmHWM {:.1} MB (target < 100)",
        total as f64 / elapsed,
        peak_memory_mb()
    );
    println!(
        "tiktok-shop order sync: {:.1} us of cpu per order (simulator and adapter together) = {:.0} orders/s on {cores} idle cores; the wall-clock figure is lower when other processes share the cores",
        cpu * 1e6 / total as f64,
        cores * total as f64 / cpu,
    );
    let target = target(&shop_configs[0]);
    Throughput { sim, adapter, credentials, target, query }
}

fn stock_budget(rt: &Runtime) {
    let seconds = env("CUSTODIAN_BENCH_BUDGET_SECS", 10).max(1);
    let mut config = SimConfig::default();
    config.sellers[0].shops = shops(1, 10, 200, 5);
    let limit = config.rate_limit;
    let shop = config.sellers[0].shops[0].clone();
    let sim = rt.block_on(start(config));
    let adapter = adapter(&sim, custodian_tiktok_shop::DEFAULT_RATE);
    let credentials = rt.block_on(credentials(&sim, &adapter));
    let target = target(&shop);
    // All stock levels (200 products × 5 SKUs × 2 warehouses), before the measured window.
    let mut levels = Vec::new();
    let mut cursor = None;
    loop {
        let page = rt.block_on(adapter.stock(&target, &credentials, cursor)).unwrap();
        levels.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    // Let both buckets (the simulator's and the adapter's) fill up again.
    std::thread::sleep(Duration::from_millis(1_500));

    let faults = &sim.sim.ctx.faults;
    let before = faults.stats(SimPlatform::TikTokShop);
    let started = Instant::now();
    let mut round = 0u32;
    let mut updates_sent = 0usize;
    let mut last = started;
    while started.elapsed() < Duration::from_secs(seconds) {
        // 20 products per call of set_stock: 200 updates, one inventory search and 20 update calls.
        let chunk = levels.chunks(200).nth(round as usize % (levels.len() / 200)).unwrap();
        let updates: Vec<StockUpdate> = chunk
            .iter()
            .map(|l| StockUpdate { sku: l.sku.clone(), location: l.location.clone(), quantity: round % 500 })
            .collect();
        let results = rt.block_on(adapter.set_stock(&target, &credentials, &updates)).unwrap();
        updates_sent += results.len();
        round += 1;
        last = Instant::now();
    }
    let elapsed = last.duration_since(started).as_secs_f64();
    let after = faults.stats(SimPlatform::TikTokShop);
    let requests = after.requests - before.requests;
    let throttled = after.throttled - before.throttled;
    let allowed = limit.burst + limit.per_second * elapsed;
    let calls_per_round = 1 + 20;
    println!(
        "tiktok-shop stock budget: {requests} requests in {elapsed:.2} s under {} requests/s burst {} per shop (allowed {allowed:.0}) = {:.1}% of the budget (target >= 90%), {throttled} throttled (target 0); {updates_sent} stock updates, {:.1} updates per request ({calls_per_round} requests per 200 updates)",
        limit.per_second,
        limit.burst,
        100.0 * requests as f64 / allowed,
        updates_sent as f64 / requests as f64,
    );
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let throughput = order_sync(&rt);
    stock_budget(&rt);
    let Throughput { sim, adapter, credentials, target, query } = &throughput;
    let sealer = sealer();
    let mut group = c.benchmark_group("tiktok_shop");
    group.sample_size(10);
    group.throughput(criterion::Throughput::Elements(100));
    group.bench_function("orders_page_sealed", |b| {
        b.iter(|| {
            rt.block_on(adapter.orders(target, credentials, query, None, Some(sealer.clone()))).unwrap()
        })
    });
    group.finish();
    assert_eq!(sim.sim.ctx.faults.stats(SimPlatform::TikTokShop).faulted, 0);
}

criterion_group!(benches, bench);
criterion_main!(benches);
