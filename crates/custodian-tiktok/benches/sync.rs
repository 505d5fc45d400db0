//! The TikTok sync benchmarks of issue 5, through the adapter from the in-process simulator on loopback:
//!
//! - **throughput**: a report sync of `CUSTODIAN_BENCH_ROWS` rows (default 1,000,000: 10,000 campaigns ×
//!   100 days, in 30-day windows of 1000-row pages) into a sink that only counts, with the simulator's rate
//!   limit off; prints rows/s (target ≥ 200,000) and the process's peak memory, `VmHWM` (target < 100 MB).
//! - **budget**: a sync of small pages for `CUSTODIAN_BENCH_BUDGET_SECS` seconds (default 60) against the
//!   simulator's published Basic tier (10 QPS) with the adapter's default pacing; prints the requests sent
//!   over the requests the limit allows in the window (target ≥ 90%) and the 40100 answers (target 0).
//! - criterion (`sample_size(10)`): one 1000-row report page, request to converted rows.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use custodian_core::data::ReportLevel;
use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, TikTokAdvertiserId};
use custodian_core::ports::{Clock, Credentials, Cursor, ReportQuery, ReportingSource, Target};
use custodian_core::tenant::TenantId;
use custodian_http::Rate;
use custodian_sim::tiktok::{
    ADVERTISER_1, APP_ID, APP_SECRET, AdvertiserConfig, RateTier, TikTokConfig as SimTikTok,
};
use custodian_sim::{RunningSim, Sim, SimConfig, SimPlatform};
use custodian_tiktok::{TikTokAdapter, TikTokConfig};
use secrecy::SecretString;
use time::OffsetDateTime;
use tokio::runtime::Runtime;

/// Days of the throughput sync (four report windows: 30, 30, 30, 10).
const DAYS: u64 = 100;

#[derive(Debug)]
struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

#[expect(clippy::disallowed_methods, reason = "bench sizes come from the environment")]
fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Peak resident memory of this process (simulator included), in MB.
fn peak_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn runtime() -> Runtime {
    match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(error) => unreachable_runtime(&error),
    }
}

#[expect(clippy::panic, reason = "a bench cannot run without a runtime")]
fn unreachable_runtime(error: &std::io::Error) -> ! {
    panic!("no tokio runtime: {error}")
}

struct Setup {
    running: RunningSim,
    adapter: TikTokAdapter,
    target: Target,
    credentials: Credentials,
}

#[expect(clippy::expect_used, reason = "bench setup fails loudly")]
async fn setup(campaigns: u32, rate_limit: Option<RateTier>, rate: Option<Rate>, page_size: u32) -> Setup {
    let advertiser = AdvertiserConfig::new(ADVERTISER_1, "Bench", "USD", campaigns);
    let sim = SimTikTok { rate_limit, advertisers: vec![advertiser], ..SimTikTok::default() };
    let running = Sim::new(SimConfig { seed: 5, tiktok: sim, ..SimConfig::default() })
        .start("127.0.0.1:0".parse().expect("loopback"))
        .await
        .expect("simulator starts");
    let mut config = TikTokConfig::new(APP_ID, SecretString::from(APP_SECRET), Arc::new(SystemClock));
    config.base_url = format!("{}/tiktok", running.base_url());
    config.auth_url = format!("{}/tiktok/portal/auth", running.base_url());
    config.http.allow_plain_loopback = true;
    config.page_size = page_size;
    if let Some(rate) = rate {
        config.rate = rate;
    }
    let adapter = TikTokAdapter::new(config).expect("adapter");
    let token = running.sim.tiktok.issue_app_token();
    let target = Target {
        tenant: TenantId::new("bench-tenant").expect("id"),
        grant: GrantId::new("bench-grant").expect("id"),
        account: AccountRef::TikTokAdvertiser(TikTokAdvertiserId::new(ADVERTISER_1).expect("id")),
    };
    Setup { running, adapter, target, credentials: Credentials::bearer(SecretString::from(token)) }
}

fn query(days: u64) -> ReportQuery {
    let to = OffsetDateTime::now_utc().date() - time::Duration::days(1);
    let from = to - time::Duration::days(i64::try_from(days).unwrap_or(1) - 1);
    ReportQuery { level: ReportLevel::Campaign, from, to }
}

/// Follows every page into a counting sink; returns (rows, pages).
#[expect(clippy::expect_used, reason = "a failed sync fails the bench")]
async fn sync(setup: &Setup, query: &ReportQuery, until: Option<Instant>) -> (u64, u64) {
    let (mut rows, mut pages, mut spend, mut cursor) = (0u64, 0u64, 0i64, None::<Cursor>);
    loop {
        let page = setup
            .adapter
            .report_rows(&setup.target, &setup.credentials, query, cursor.take())
            .await
            .expect("report page");
        rows += page.items.len() as u64;
        pages += 1;
        spend = spend.wrapping_add(page.items.iter().map(|r| r.metrics.spend_micros).sum::<i64>());
        match page.next {
            Some(next) if until.is_none_or(|t| Instant::now() < t) => cursor = Some(next),
            _ => break,
        }
    }
    black_box(spend);
    (rows, pages)
}

#[expect(clippy::print_stdout, reason = "a bench prints its figures")]
fn throughput(rt: &Runtime) {
    let rows = env_u64("CUSTODIAN_BENCH_ROWS", 1_000_000).max(DAYS);
    let campaigns = u32::try_from(rows.div_ceil(DAYS)).unwrap_or(u32::MAX);
    let setup = rt.block_on(setup(campaigns, None, Some(Rate::new(1e6, 1000)), 1000));
    let query = query(DAYS);
    let started = Instant::now();
    let (synced, pages) = rt.block_on(sync(&setup, &query, None));
    let secs = started.elapsed().as_secs_f64();
    println!(
        "tiktok sync throughput: {synced} rows in {pages} pages, {secs:.2} s = {:.0} rows/s (target >= 200000); \
         peak memory VmHWM {:.1} MB (target < 100)",
        synced as f64 / secs,
        peak_mb()
    );
    drop(setup);
}

#[expect(clippy::print_stdout, reason = "a bench prints its figures")]
fn budget(rt: &Runtime) {
    let secs = env_u64("CUSTODIAN_BENCH_BUDGET_SECS", 60).max(2);
    let tier = RateTier::BASIC;
    let setup = rt.block_on(setup(10_000, Some(tier), None, 10));
    let stats = || setup.running.sim.ctx.faults.stats(SimPlatform::TikTok);
    let before = stats();
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    let (rows, pages) = rt.block_on(sync(&setup, &query(DAYS), Some(until)));
    let elapsed = started.elapsed().as_secs_f64();
    let after = stats();
    let sent = after.requests - before.requests;
    // The QPS bucket allows its burst (one second's worth) at once, then the rate.
    let allowed = f64::from(tier.qps) * (elapsed + 1.0);
    println!(
        "tiktok rate budget: {sent} requests ({pages} report pages, {rows} rows) in {elapsed:.1} s against {} QPS \
         = {:.1}% of the {allowed:.0} the limit allows in the window, burst included (target >= 90%); \
         40100 answers: {} (target 0)",
        tier.qps,
        sent as f64 / allowed * 100.0,
        after.throttled - before.throttled
    );
    drop(setup);
}

fn page(c: &mut Criterion) {
    let rt = runtime();
    throughput(&rt);
    budget(&rt);
    let setup = rt.block_on(setup(1_000, None, Some(Rate::new(1e6, 1000)), 1000));
    let query = query(1);
    let mut group = c.benchmark_group("tiktok");
    group.sample_size(10).throughput(Throughput::Elements(1000));
    group.bench_function("report_page_1000_rows", |b| {
        b.iter(|| black_box(rt.block_on(sync(&setup, &query, None))));
    });
    group.finish();
}

criterion_group!(benches, page);
criterion_main!(benches);
