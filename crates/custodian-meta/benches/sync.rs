//! `cargo xtask bench sync` (or `cargo bench -p custodian-meta --bench sync`): the Meta insights sync of
//! issue 5, through the adapter, from the in-process simulator on loopback, into a sink that counts rows.
//!
//! - Throughput: `CUSTODIAN_BENCH_ROWS` rows (default 1 000 000) of ad-level daily insights over
//!   `CUSTODIAN_BENCH_DAYS` days (default 100, so the sync runs as an async report run read in pages of
//!   5000 rows); prints rows/s (target ≥ 200 000) and the process's peak memory `VmHWM` (target < 100 MB).
//! - Rate-limit budget: a sync of one-row pages against the development tier's `ads_insights` quota
//!   (600 + 400 × active ads calls per hour), with the simulator's hour shrunk `CUSTODIAN_BENCH_BUDGET_SCALE`
//!   times (default 120: 30 s), for `CUSTODIAN_BENCH_BUDGET_SECS` seconds (default 60); prints the calls sent
//!   over the calls the quota allows in that window (capacity + drain × elapsed; target ≥ 90%) and the
//!   throttled answers (target 0). It runs only under `cargo bench` (not in `cargo test --benches`).

#![expect(clippy::expect_used, reason = "a bench aborts on any failure of its fixtures or the sync")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode};
use custodian_core::data::ReportLevel;
use custodian_core::platform::{AccountRef, MetaAdAccountId};
use custodian_core::ports::{Clock, Credentials, ReportQuery, ReportingSource as _, Target};
use custodian_http::RetryPolicy;
use custodian_meta::{MetaAdapter, MetaConfig};
use custodian_sim::meta::{
    ACCOUNTS, APP_ID, APP_SECRET, AccessTier, MetaAccount, MetaConfig as SimMetaConfig, MetaLimits,
};
use custodian_sim::{RunningSim, Sim, SimClock, SimConfig, SimPlatform};
use secrecy::SecretString;
use time::OffsetDateTime;
use time::macros::date;

#[expect(clippy::disallowed_methods, reason = "bench sizes come from the environment")]
fn env_number(name: &str, default: f64) -> f64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[derive(Debug)]
struct SimTime(SimClock);

impl Clock for SimTime {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.0.now_unix()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

async fn start(meta: SimMetaConfig) -> RunningSim {
    Sim::new(SimConfig { seed: 5, meta, ..SimConfig::default() })
        .start("127.0.0.1:0".parse().expect("an address"))
        .await
        .expect("the simulator starts")
}

fn adapter(running: &RunningSim, adjust: impl FnOnce(&mut MetaConfig)) -> MetaAdapter {
    let clock: Arc<dyn Clock> = Arc::new(SimTime(running.sim.ctx.clock.clone()));
    let mut config = MetaConfig::new(APP_ID, SecretString::from(APP_SECRET), clock);
    config.graph_url = format!("{}/meta/graph", running.base_url());
    config.www_url = format!("{}/meta/www", running.base_url());
    config.http.allow_plain_loopback = true;
    config.poll_interval = Duration::from_millis(20);
    config.retry = RetryPolicy { max_wait_hint: Duration::from_secs(30), ..RetryPolicy::default() };
    adjust(&mut config);
    MetaAdapter::new(config).expect("the adapter builds")
}

fn target() -> Target {
    Target {
        tenant: "tenant-bench".parse().expect("a tenant id"),
        grant: "grant-bench".parse().expect("a grant id"),
        account: AccountRef::MetaAdAccount(MetaAdAccountId::new(ACCOUNTS[0]).expect("an account id")),
    }
}

/// Syncs every row of `query` into a sink that only counts them; returns the count.
async fn sync(adapter: &MetaAdapter, credentials: &Credentials, query: &ReportQuery) -> u64 {
    let target = target();
    let mut cursor = None;
    let mut rows = 0u64;
    loop {
        let page = adapter.report_rows(&target, credentials, query, cursor).await.expect("a page");
        rows += page.items.len() as u64;
        match page.next {
            Some(next) => cursor = Some(next),
            None => return rows,
        }
    }
}

fn peak_memory_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn throughput(c: &mut Criterion) {
    let rows = env_number("CUSTODIAN_BENCH_ROWS", 1_000_000.0).max(1.0) as u64;
    let days = env_number("CUSTODIAN_BENCH_DAYS", 100.0).clamp(1.0, 1000.0) as u64;
    let ads = rows.div_ceil(days);
    let rt = runtime();
    let account = MetaAccount {
        campaigns: 1,
        adsets_per_campaign: 1,
        ads_per_adset: u32::try_from(ads).expect("ads fit u32"),
        ..MetaAccount::new(ACCOUNTS[0], 1)
    };
    let running = rt.block_on(start(SimMetaConfig { accounts: vec![account], ..SimMetaConfig::default() }));
    let adapter = adapter(&running, |_| {});
    let credentials = Credentials::bearer(SecretString::from(running.sim.meta.issue_token(&["ads_read"])));
    let from = date!(2025 - 01 - 01);
    let to = from + time::Duration::days(i64::try_from(days).expect("days fit") - 1);
    let query = ReportQuery { level: ReportLevel::Ad, from, to };
    let expected = ads * days;

    let mut best = 0.0f64;
    let mut group = c.benchmark_group("meta_sync");
    group.sample_size(10).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_millis(100));
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("insights_rows", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let started = Instant::now();
                let count = rt.block_on(sync(&adapter, &credentials, &query));
                let elapsed = started.elapsed();
                assert_eq!(count, expected, "every row arrives once");
                best = best.max(count as f64 / elapsed.as_secs_f64());
                total += elapsed;
            }
            total
        });
    });
    group.finish();
    let report = format!(
        "meta insights sync: {expected} rows, best {best:.0} rows/s (target ≥ 200000), peak memory VmHWM {:.1} MB (target < 100)",
        peak_memory_mb()
    );
    report_line(&report);
    drop(running);
}

fn budget() {
    let scale = env_number("CUSTODIAN_BENCH_BUDGET_SCALE", 120.0).max(1.0);
    let window = Duration::from_secs_f64(env_number("CUSTODIAN_BENCH_BUDGET_SECS", 60.0).max(1.0));
    let rt = runtime();
    let limits = MetaLimits::tier(AccessTier::Development).scaled(scale);
    let account = MetaAccount {
        campaigns: 1,
        adsets_per_campaign: 1,
        ads_per_adset: 1,
        ..MetaAccount::new(ACCOUNTS[0], 1)
    };
    let running =
        rt.block_on(start(SimMetaConfig { limits, accounts: vec![account], ..SimMetaConfig::default() }));
    let adapter = adapter(&running, |c| c.page_size = 1);
    let credentials = Credentials::bearer(SecretString::from(running.sim.meta.issue_token(&["ads_read"])));
    let active = running.sim.meta.active_ads(ACCOUNTS[0]).unwrap_or(0);
    let capacity = limits.insights_calls(active);
    let drain = capacity / limits.hour_secs();
    let query =
        ReportQuery { level: ReportLevel::Ad, from: date!(2025 - 01 - 01), to: date!(2025 - 01 - 30) };
    let faults = &running.sim.ctx.faults;
    let before = faults.stats(SimPlatform::Meta);
    let started = Instant::now();
    while started.elapsed() < window {
        rt.block_on(sync(&adapter, &credentials, &query));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = faults.stats(SimPlatform::Meta);
    let sent = (after.requests - before.requests) as f64;
    let allowed = capacity + drain * elapsed;
    let report = format!(
        "meta rate-limit budget: {sent:.0} calls in {elapsed:.1} s, the ads_insights quota allows {allowed:.0} \
         ({capacity:.0} per {:.1} s window): {:.1}% used (target ≥ 90%), {} throttled (target 0)",
        limits.hour_secs(),
        100.0 * sent / allowed,
        after.throttled - before.throttled
    );
    report_line(&report);
    drop(running);
}

/// Benches report on stderr, next to criterion's own output.
fn report_line(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    throughput(&mut criterion);
    if std::env::args().any(|a| a == "--bench") {
        budget();
    }
    criterion.final_summary();
}
