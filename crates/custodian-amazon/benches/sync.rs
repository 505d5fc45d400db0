//! `cargo xtask bench sync` (`cargo bench -p custodian-amazon --bench sync`): issue 6's Amazon figures,
//! through the adapter from the in-process simulator on loopback.
//!
//! 1. Orders sync: `CUSTODIAN_BENCH_ROWS` orders (default 1,000,000) of one seller through Orders
//!    2026-01-01 with PII sealing on (`includedData` with `BUYER,RECIPIENT`, every buyer sealed with
//!    AES-256-GCM), into a sink that only counts. The window is cut into `CUSTODIAN_BENCH_CONCURRENCY`
//!    slices (default 4) paged concurrently, each page being 100 orders (Amazon's maximum). Simulator and
//!    adapter run a raised usage plan: this run measures throughput, not Amazon's limits. Prints orders/s
//!    and the peak resident memory (`VmHWM`). Targets: ≥ 100,000 orders/s, < 100 MB.
//! 2. Rate-limit budget: stock updates under the official Listings plan (`patchListingsItem`, 5/s, burst
//!    5; Listings has no batch operation, so one PATCH per SKU) for about `CUSTODIAN_BENCH_BUDGET_SECS`
//!    seconds (default 20). Prints requests sent / requests the plan allows in the measured window
//!    (burst + rate × elapsed) and the simulator's 429 count. Targets: ≥ 90 %, zero 429.
//! 3. criterion (`sample_size(10)`): one page of 100 orders fetched, decoded, converted and sealed.

#![expect(clippy::print_stdout, reason = "a bench binary reports its figures on stdout")]
#![expect(clippy::expect_used, reason = "a bench binary stops at the first setup failure")]
#![expect(
    clippy::disallowed_methods,
    reason = "bench sizes come from the environment; the wall clock is the clock"
)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use custodian_amazon::{AmazonAdapter, AmazonConfig, Operation, RegionEndpoint};
use custodian_core::data::{DataKey, KeyVersion, Sku};
use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, AmazonMarketplaceId, AmazonSellerId};
use custodian_core::ports::{
    Authorizer as _, Clock, CommerceChannel as _, Credentials, OrderQuery, PiiSealer, StockUpdate,
    StockUpdateResult, Target,
};
use custodian_core::tenant::TenantId;
use custodian_http::{Rate, RetryPolicy};
use custodian_sim::amazon::{self, AmazonConfig as SimAmazonConfig, AmazonSellerConfig, MARKETPLACE_US};
use custodian_sim::{RunningSim, Sim, SimConfig, SimPlatform};
use custodian_testkit::fakes::SeededRng;
use secrecy::SecretString;
use time::OffsetDateTime;
use tokio::runtime::Runtime;

/// The adapter's runtime and the simulator's, on separately named threads.
struct Runtimes {
    adapter: Runtime,
    sim: Runtime,
}

impl Runtimes {
    fn new() -> Self {
        let build = |name: &'static str, threads: usize| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .thread_name(name)
                .enable_all()
                .build()
                .expect("runtime")
        };
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self { adapter: build("adapter", cores), sim: build("sim", cores) }
    }
}

/// CPU seconds (user + system) used so far by this process's threads whose name starts with `prefix`
/// (`/proc/self/task/*/stat`, clock ticks of 1/100 s).
fn thread_cpu_seconds(prefix: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0.0 };
    let mut total = 0.0;
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        if !stat.get(open + 1..close).unwrap_or_default().starts_with(prefix) {
            continue;
        }
        let fields: Vec<&str> = stat.get(close + 1..).unwrap_or_default().split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
        total += (ticks(11) + ticks(12)) / 100.0;
    }
    total
}

const SELLER: &str = "A1BENCHSELLER01";
/// Milliseconds between two orders' last updates (one million orders span under three hours).
const ORDER_INTERVAL_MS: u64 = 10;

#[derive(Debug)]
struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

fn env_or(var: &str, default: u64) -> u64 {
    std::env::var(var).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

/// Peak resident set size of this process, in MB (`VmHWM`).
fn peak_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn raised_plans(factor: f64) -> BTreeMap<Operation, Rate> {
    Operation::ALL
        .iter()
        .map(|op| {
            let official = op.official();
            (*op, Rate::new(official.per_second * factor, (f64::from(official.burst) * factor) as u32))
        })
        .collect()
}

struct Setup {
    running: RunningSim,
    adapter: AmazonAdapter,
    credentials: Credentials,
    target: Target,
}

fn setup(rts: &Runtimes, orders: u64, skus: u64, raised: bool) -> Setup {
    let mut sim = SimAmazonConfig {
        sellers: vec![AmazonSellerConfig {
            id: SELLER.to_owned(),
            store_name: "Bench Store".to_owned(),
            marketplaces: vec![MARKETPLACE_US.to_owned()],
            orders,
            skus,
        }],
        order_interval_ms: ORDER_INTERVAL_MS,
        ..SimAmazonConfig::default()
    };
    if raised {
        sim = sim.scale_usage_plans(1e6);
    }
    // The simulator serves from its own threads, so that its CPU time is told apart from the adapter's.
    let running = rts
        .sim
        .block_on(
            Sim::new(SimConfig { seed: 1, amazon: sim, ..SimConfig::default() })
                .start("127.0.0.1:0".parse().expect("addr")),
        )
        .expect("simulator");
    rts.adapter.block_on(async {
        let base = running.base_url().to_owned();
        let mut config = AmazonConfig::new(
            amazon::CLIENT_ID,
            SecretString::from(amazon::CLIENT_SECRET),
            amazon::APPLICATION_ID,
            Arc::new(SystemClock),
        );
        config.lwa_base = format!("{base}/amazon/lwa");
        config.consent_base = format!("{base}/amazon/sellercentral");
        config.regions = RegionEndpoint::single(&format!("{base}/amazon/sp-api"), &[MARKETPLACE_US]);
        config.http.allow_plain_loopback = true;
        config.retry = RetryPolicy { base_delay: Duration::from_millis(20), ..RetryPolicy::default() };
        if raised {
            config.usage_plans = raised_plans(1e6);
        }
        let adapter = AmazonAdapter::new(config).expect("adapter");
        let code = SecretString::from(
            running.sim.amazon.issue_code(SELLER, Some(amazon::REDIRECT_URI)).expect("code"),
        );
        adapter.note_consent_callback(&code, AmazonSellerId::new(SELLER).expect("seller"));
        let credentials = adapter.exchange(&code, amazon::REDIRECT_URI).await.expect("exchange");
        let target = Target {
            tenant: TenantId::new("bench-tenant").expect("tenant"),
            grant: GrantId::new("bench-grant").expect("grant"),
            account: AccountRef::AmazonSeller {
                seller: AmazonSellerId::new(SELLER).expect("seller"),
                marketplace: AmazonMarketplaceId::new(MARKETPLACE_US).expect("marketplace"),
            },
        };
        Setup { running, adapter, credentials, target }
    })
}

fn sealer() -> PiiSealer {
    PiiSealer { key: DataKey::from_bytes(KeyVersion(1), [3; 32]), rng: Arc::new(SeededRng::new(1)) }
}

/// The simulator's epoch and the end of order `n`'s second.
fn window(orders: u64) -> (OffsetDateTime, OffsetDateTime) {
    let start = OffsetDateTime::from_unix_timestamp(amazon::ORDERS_EPOCH_UNIX).expect("epoch");
    let span = i64::try_from(orders * ORDER_INTERVAL_MS / 1000 + 2).expect("span");
    (start, start + time::Duration::seconds(span))
}

/// Pages one slice of the window to the end; returns (orders, orders with sealed PII).
async fn sync_slice(s: Arc<Setup>, query: OrderQuery, sealer: PiiSealer) -> (u64, u64) {
    let (mut orders, mut sealed) = (0, 0);
    let mut cursor = None;
    loop {
        let page = s
            .adapter
            .orders(&s.target, &s.credentials, &query, cursor, Some(sealer.clone()))
            .await
            .expect("orders page");
        orders += page.items.len() as u64;
        sealed += page.items.iter().filter(|o| o.buyer.is_some()).count() as u64;
        // The sink: count, keep nothing.
        drop(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return (orders, sealed),
        }
    }
}

fn orders_sync(rts: &Runtimes) {
    let total = env_or("CUSTODIAN_BENCH_ROWS", 1_000_000);
    let slices = env_or("CUSTODIAN_BENCH_CONCURRENCY", 4).max(1);
    let s = Arc::new(setup(rts, total, 100, true));
    let (start, end) = window(total);
    let step = (end - start) / i32::try_from(slices).expect("slices");
    let (adapter_cpu, sim_cpu) = (thread_cpu_seconds("adapter"), thread_cpu_seconds("sim"));
    let started = Instant::now();
    let results: Vec<(u64, u64)> = rts.adapter.block_on(async {
        let tasks: Vec<_> = (0..slices)
            .map(|i| {
                let after = start + step * i32::try_from(i).expect("slice");
                let before = if i + 1 == slices { end } else { after + step };
                let query = OrderQuery { updated_after: after, updated_before: before };
                tokio::spawn(sync_slice(s.clone(), query, sealer()))
            })
            .collect();
        let mut out = Vec::with_capacity(tasks.len());
        for task in tasks {
            out.push(task.await.expect("slice task"));
        }
        out
    });
    let elapsed = started.elapsed().as_secs_f64();
    let adapter_cpu = thread_cpu_seconds("adapter") - adapter_cpu;
    let sim_cpu = thread_cpu_seconds("sim") - sim_cpu;
    let orders: u64 = results.iter().map(|r| r.0).sum();
    let sealed: u64 = results.iter().map(|r| r.1).sum();
    assert_eq!(orders, total, "every order arrives exactly once");
    let per_order = |cpu: f64| cpu * 1e6 / orders as f64;
    println!(
        "amazon orders sync (2026-01-01, pii sealed): {orders} orders ({sealed} with sealed buyer pii) in {elapsed:.2} s = \
         {:.0} orders/s with {slices} concurrent slices; peak memory {:.1} MB",
        orders as f64 / elapsed,
        peak_mb()
    );
    println!(
        "  cpu per order: adapter {:.1} us ({:.0} orders per adapter cpu-second), simulator {:.1} us",
        per_order(adapter_cpu),
        orders as f64 / adapter_cpu.max(0.01),
        per_order(sim_cpu),
    );
}

fn stock_budget(rts: &Runtimes) {
    let seconds = env_or("CUSTODIAN_BENCH_BUDGET_SECS", 20);
    let official = Operation::PatchListingsItem.official();
    let updates_n = u64::from(official.burst) + (official.per_second * seconds as f64) as u64;
    let s = setup(rts, 10, updates_n, false);
    let updates: Vec<StockUpdate> = (0..updates_n)
        .map(|n| StockUpdate {
            sku: Sku::new(format!("SKU-{n:06}")).expect("sku"),
            location: None,
            quantity: 7,
        })
        .collect();
    let before = s.running.sim.ctx.faults.stats(SimPlatform::Amazon);
    let started = Instant::now();
    let results =
        rts.adapter.block_on(s.adapter.set_stock(&s.target, &s.credentials, &updates)).expect("set stock");
    let elapsed = started.elapsed().as_secs_f64();
    let after = s.running.sim.ctx.faults.stats(SimPlatform::Amazon);
    let applied = results.iter().filter(|r| matches!(r, StockUpdateResult::Applied { .. })).count();
    let sent = after.requests - before.requests;
    let allowed = f64::from(official.burst) + official.per_second * elapsed;
    println!(
        "amazon stock updates (listings patch, official 5/s burst 5, no batch): {sent} requests ({applied} applied) \
         in {elapsed:.2} s; the plan allows {allowed:.1}: {:.1} % of the budget used; 429 answers: {}",
        100.0 * sent as f64 / allowed,
        after.throttled - before.throttled
    );
}

fn bench(c: &mut Criterion) {
    let rts = Runtimes::new();
    orders_sync(&rts);
    stock_budget(&rts);
    let s = setup(&rts, 10_000, 100, true);
    let (start, end) = window(10_000);
    let query = OrderQuery { updated_after: start, updated_before: end };
    let sealer = sealer();
    c.bench_function("amazon orders page (100 orders, 2026-01-01, pii sealed)", |b| {
        b.iter(|| {
            let page = rts
                .adapter
                .block_on(s.adapter.orders(&s.target, &s.credentials, &query, None, Some(sealer.clone())))
                .expect("page");
            assert_eq!(page.items.len(), 100);
        });
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
