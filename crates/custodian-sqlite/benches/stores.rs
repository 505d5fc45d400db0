//! `cargo xtask bench stores` (`cargo bench --bench stores`): SQLite bulk upsert of report rows on a file
//! database in WAL mode (issue 3: at least 100k rows/s). Prints rows/s for a one-shot ingest of 100,000 new
//! rows in pages of 1,000 and of 10,000, and for re-ingesting the same rows (all unchanged); criterion then
//! measures upserting one page of new rows.

#![expect(
    clippy::unwrap_used,
    reason = "benchmark fixtures and a working store are preconditions: a failure should abort the run"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use custodian_core::authz::Environment;
use custodian_core::data::{Currency, Metrics, ObjectId, ReportLevel, ReportRow};
use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, MetaAdAccountId, Platform};
use custodian_core::ports::{DatasetStore, GrantStore, IngestBatch, TenantStore};
use custodian_core::tenant::TenantId;
use custodian_sqlite::SqliteStore;
use custodian_testkit::fakes::ManualClock;
use custodian_testkit::fixtures::{self, T0};
use time::macros::date;
use tokio::runtime::Runtime;

const TOTAL: u64 = 100_000;

struct Fixture {
    store: SqliteStore,
    tenant: TenantId,
    grant: GrantId,
    account: AccountRef,
    dir: std::path::PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn setup(rt: &Runtime, name: &str) -> Fixture {
    let dir = std::env::temp_dir().join(format!("custodian-sqlite-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let store =
        rt.block_on(SqliteStore::open(dir.join("bench.db"), Environment::Development, clock)).unwrap();
    let tenant = TenantId::new("bench-tenant").unwrap();
    let grant = GrantId::new("bench-grant").unwrap();
    let account = AccountRef::MetaAdAccount(MetaAdAccountId::new("act_1234567890").unwrap());
    rt.block_on(async {
        store.create_tenant(&fixtures::tenant(&tenant), Vec::new()).await.unwrap();
        let g = fixtures::active_grant(&tenant, &grant, Platform::Meta, std::slice::from_ref(&account), T0);
        store.insert_grant(&g, Vec::new()).await.unwrap();
    });
    Fixture { store, tenant, grant, account, dir }
}

/// Rows `from..from + n`: one ad per 30 days, so keys are distinct and spread like a real account.
fn rows(f: &Fixture, from: u64, n: u64) -> Vec<ReportRow> {
    let start = date!(2024 - 01 - 01);
    (from..from + n)
        .map(|i| ReportRow {
            tenant: f.tenant.clone(),
            grant: f.grant.clone(),
            account: f.account.clone(),
            level: ReportLevel::Ad,
            object: ObjectId::new(format!("ad-{:09}", i / 30)).unwrap(),
            date: start + time::Duration::days((i % 30) as i64),
            currency: Currency::new("EUR").unwrap(),
            metrics: Metrics {
                spend_micros: (i * 1_234) as i64,
                impressions: i * 10,
                clicks: i,
                conversions: i / 10,
                conversion_value_micros: (i * 5_000) as i64,
            },
        })
        .collect()
}

fn batch(f: &Fixture, records: Vec<ReportRow>) -> IngestBatch<ReportRow> {
    let event = custodian_core::audit::NewAuditEvent::new(
        T0,
        custodian_core::audit::ActorRef::System,
        custodian_core::audit::TenantChanged::new("bench page"),
    );
    IngestBatch { tenant: f.tenant.clone(), records, checkpoint: None, audit: vec![event] }
}

/// Upserts `pages` and returns the rows per second.
fn ingest(rt: &Runtime, f: &Fixture, pages: Vec<Vec<ReportRow>>) -> (f64, u64, u64) {
    let n: usize = pages.iter().map(Vec::len).sum();
    let batches: Vec<_> = pages.into_iter().map(|p| batch(f, p)).collect();
    let (mut inserted, mut unchanged) = (0, 0);
    let started = Instant::now();
    rt.block_on(async {
        for b in batches {
            let counts = f.store.upsert_report_rows(b).await.unwrap();
            inserted += counts.inserted;
            unchanged += counts.unchanged;
        }
    });
    (n as f64 / started.elapsed().as_secs_f64(), inserted, unchanged)
}

#[expect(clippy::print_stdout, reason = "the bench reports its rates for the issue's note")]
fn report(label: &str, rate: f64) {
    println!("sqlite bulk upsert, {label}: {rate:.0} rows/s");
}

fn stores(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    for page in [1_000u64, 10_000] {
        let f = setup(&rt, &format!("oneshot-{page}"));
        let pages: Vec<_> = (0..TOTAL / page).map(|p| rows(&f, p * page, page)).collect();
        let (rate, inserted, _) = ingest(&rt, &f, pages.clone());
        assert_eq!(inserted, TOTAL);
        report(&format!("{TOTAL} new rows in pages of {page} (file, WAL, synchronous=FULL)"), rate);
        let (rate, _, unchanged) = ingest(&rt, &f, pages);
        assert_eq!(unchanged, TOTAL);
        report(&format!("re-ingest of the same {TOTAL} rows in pages of {page}, all unchanged"), rate);
        rt.block_on(f.store.close());
    }

    let f = setup(&rt, "criterion");
    let page = 1_000u64;
    let mut next = 0u64;
    let mut group = c.benchmark_group("sqlite");
    group.throughput(Throughput::Elements(page));
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    group.bench_function("upsert_report_rows_new_page_1000", |b| {
        b.iter_custom(|iters| {
            let pages: Vec<_> = (0..iters)
                .map(|_| {
                    next += page;
                    batch(&f, rows(&f, next, page))
                })
                .collect();
            let started = Instant::now();
            rt.block_on(async {
                for p in pages {
                    f.store.upsert_report_rows(p).await.unwrap();
                }
            });
            started.elapsed()
        });
    });
    group.finish();
    rt.block_on(f.store.close());
}

criterion_group!(benches, stores);
criterion_main!(benches);
