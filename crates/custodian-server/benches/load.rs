//! `cargo xtask bench load` (`cargo bench -p custodian-server --bench load`): issue 7's figure for
//! authenticated dataset reads, through the whole server (router, API-key authentication, authorization,
//! audit, store) over HTTP/1.1 on loopback.
//!
//! Setup: the server is built in-process with `Runtime::build_with` on the embedded development defaults in
//! a temporary data directory (SQLite), or on a fresh PostgreSQL database of its own when `DATABASE_URL`
//! is set. The first admin is created with `init_admin`; a tenant, a Meta grant with
//! `CUSTODIAN_BENCH_ROWS` report rows (default 10,000) and an eBay grant with as many orders go in through
//! the store ports; reads authenticate with an API key (`dataset_read` on the tenant, created by the
//! admin) in the `Authorization: ApiKey …` header.
//!
//! Two phases, each `CUSTODIAN_BENCH_CONNECTIONS` (default 64) keep-alive connections sending reads of the first
//! page (`limit=` `CUSTODIAN_BENCH_PAGE`, default 50, at most 999: the page size shows a read's fixed cost
//! against its cost per record) back to back for `CUSTODIAN_BENCH_SECS` seconds (default 10):
//! 1. `GET /v1/tenants/{id}/report-rows`: reporting data is Internal (CLS-1), so the read is authorized
//!    and the decision audited, but no `data_read` event is written (AUD-1 counts Confidential reads only).
//! 2. `GET /v1/tenants/{id}/orders`: order details are Confidential, so every read also appends a
//!    `data_read` event to the tenant's audit chain (AUD-1): this is the "auditing of Confidential reads
//!    on" figure.
//!
//! The load generator is lean (raw keep-alive HTTP/1.1 connections writing one fixed request, like `wrk`)
//! so that the server gets as much of the machine as it can. Every response is checked for status 200 and a
//! JSON object body; every latency is recorded. Printed per phase: requests/s,
//! p50/p90/p99/max, errors, the `data_read` and `access_decided` events appended during the phase against
//! the requests, the CPU seconds of the server's and of the load generator's threads, and `[ok]`/`[MISSED]`
//! against the targets (≥ 10,000 requests/s, p99 < 25 ms).
//!
//! 3. Breakdown (`CUSTODIAN_BENCH_BREAKDOWN_SECS` seconds each, default 3, 0 to skip): `GET /healthz` alone
//!    (the HTTP stack and the load generator, no authentication, no store), then each store call one read
//!    makes (API-key lookup; the tenant and the decision cases `authorize` loads; the page read; one
//!    audit append in its own transaction), called alone through the store ports at the same concurrency:
//!    calls/s and process CPU per call, to show where a read's time goes.
//!
//! 4. Export (only with `CUSTODIAN_BENCH_PHASES=export`): the tenant's rights export as one JSON document, in
//!    process, streamed page by page and then collected whole, with the rise of peak resident memory of each.
//!
//! Server and load generator run on separate Tokio runtimes (each with as many worker threads as cores),
//! so their CPU time can be told apart; they share the machine's cores, as a load generator on the same
//! host would.

#![expect(clippy::print_stdout, reason = "a bench binary reports its figures on stdout")]
#![expect(clippy::expect_used, reason = "a bench binary stops at the first setup failure")]
#![expect(
    clippy::disallowed_methods,
    reason = "bench sizes and DATABASE_URL come from the environment; the wall clock is the clock"
)]

use std::path::PathBuf;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use custodian_core::audit::{ActorRef, AuditEvent, DataRead, NewAuditEvent};
use custodian_core::authz::Actor;
use custodian_core::data::{DataClass, Purpose, ReportLevel};
use custodian_core::grant::GrantId;
use custodian_core::personnel::token::TokenHash;
use custodian_core::personnel::token::{self, TokenKind};
use custodian_core::personnel::{ApiKeyId, Permission, PersonId, Role};
use custodian_core::platform::Platform;
use custodian_core::ports::{Clock as _, DatasetQuery, IngestBatch};
use custodian_core::rights::{ExportFile, export_json};
use custodian_core::tenant::TenantId;
use custodian_server::config::{Config, MasterKeySource, SecretsConfig, StoreConfig};
use custodian_server::init_admin;
use custodian_server::runtime::{self, OsRng, Runtime, SystemClock};
use custodian_testkit::fixtures;
use secrecy::{ExposeSecret as _, SecretString};
use time::macros::date;

/// The allocator of the `custodian` binary, so the bench measures the server as it is shipped.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TARGET_RPS: f64 = 10_000.0;
const TARGET_P99_MS: f64 = 25.0;
/// Records per page unless `CUSTODIAN_BENCH_PAGE` says otherwise.
const PAGE: u64 = 50;
const ADMIN: &str = "admin@example.com";
const PASSWORD: &str = "Correct-Horse-42!";

fn env_or(var: &str, default: u64) -> u64 {
    std::env::var(var).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
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

/// A directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!("custodian-bench-load-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh PostgreSQL database on the server named by `DATABASE_URL`, dropped at the end.
struct PgDatabase {
    admin: sqlx::postgres::PgConnectOptions,
    name: String,
}

impl PgDatabase {
    async fn create(admin_url: &str) -> Self {
        use sqlx::{ConnectOptions as _, Connection as _};
        let admin =
            sqlx::postgres::PgConnectOptions::from_str(admin_url).expect("DATABASE_URL is a postgres url");
        // Built from digits only: no outside text reaches the statements.
        let name = format!("custodian_bench_load_{}", std::process::id());
        let mut conn = admin.connect().await.expect("cannot connect to postgres at DATABASE_URL");
        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .expect("drop database");
        sqlx::raw_sql(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create database");
        conn.close().await.expect("close");
        Self { admin, name }
    }

    fn url(&self) -> String {
        let options = self.admin.clone().database(&self.name);
        format!(
            "postgres://{}@{}:{}/{}",
            options.get_username(),
            options.get_host(),
            options.get_port(),
            self.name
        )
    }

    async fn drop_database(self) {
        use sqlx::{ConnectOptions as _, Connection as _};
        if let Ok(mut conn) = self.admin.connect().await {
            let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
                .execute(&mut conn)
                .await;
            let _ = conn.close().await;
        }
    }
}

struct Server {
    runtime: Runtime,
    addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<Result<(), runtime::RuntimeError>>,
    tenant: TenantId,
    api_key: SecretString,
    api_key_hash: TokenHash,
    backend: &'static str,
    pg: Option<PgDatabase>,
}

async fn start(dir: &TempDir, rows: u64) -> Server {
    let mut config = Config::defaults().expect("embedded defaults");
    config.data_dir = dir.0.clone();
    config.secrets =
        SecretsConfig::Keystore { path: dir.0.join("keystore.sealed"), master: MasterKeySource::Generated };
    let (pg, backend) = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            let db = PgDatabase::create(&url).await;
            config.store = StoreConfig::Postgres { url: SecretString::from(db.url()), max_connections: 16 };
            (Some(db), "postgresql")
        }
        _ => {
            config.store = StoreConfig::Sqlite { path: dir.0.join("custodian.db") };
            (None, "sqlite")
        }
    };
    let clock = Arc::new(SystemClock);
    let runtime = Runtime::build_with(config, clock.clone(), Arc::new(OsRng)).await.expect("server runtime");
    let state = runtime.state();
    let admin = init_admin(state.deps(), state.settings(), ADMIN, &SecretString::from(PASSWORD))
        .await
        .expect("first admin");
    let store = runtime.store().clone();
    let now = clock.now();

    let tenant = TenantId::new("bench").expect("tenant id");
    store.tenants.create_tenant(&fixtures::tenant(&tenant), Vec::new()).await.expect("tenant");
    let meta = fixtures::account(Platform::Meta, 1);
    let ads = GrantId::new("g-ads").expect("grant id");
    store
        .grants
        .insert_grant(
            &fixtures::active_grant(&tenant, &ads, Platform::Meta, std::slice::from_ref(&meta), now),
            Vec::new(),
        )
        .await
        .expect("meta grant");
    let ebay = fixtures::account(Platform::Ebay, 1);
    let shop = GrantId::new("g-shop").expect("grant id");
    store
        .grants
        .insert_grant(
            &fixtures::active_grant(&tenant, &shop, Platform::Ebay, std::slice::from_ref(&ebay), now),
            Vec::new(),
        )
        .await
        .expect("ebay grant");

    let ads_target = fixtures::target(&tenant, &ads, &meta);
    let shop_target = fixtures::target(&tenant, &shop, &ebay);
    let mut i = 0;
    while i < rows {
        let end = (i + 1_000).min(rows);
        let records = (i..end)
            .map(|n| fixtures::report_row(&ads_target, ReportLevel::Campaign, date!(2026 - 01 - 01), 30, n));
        let batch = IngestBatch {
            tenant: tenant.clone(),
            records: records.collect(),
            checkpoint: None,
            audit: vec![],
        };
        store.datasets.upsert_report_rows(batch).await.expect("report rows");
        let orders =
            (i..end).map(|n| fixtures::order(&shop_target, n, now - time::Duration::seconds(n as i64)));
        let batch = IngestBatch {
            tenant: tenant.clone(),
            records: orders.collect(),
            checkpoint: None,
            audit: vec![],
        };
        store.datasets.upsert_orders(batch).await.expect("orders");
        i = end;
    }

    let issued = token::issue(TokenKind::ApiKey, &OsRng);
    let id = ApiKeyId::new(issued.id.as_str()).expect("api key id");
    let mut key =
        fixtures::api_key(&id, std::slice::from_ref(&tenant), &[Permission::DatasetRead], &admin.person, now);
    key.expires_at = Some(now + time::Duration::days(1));
    store.personnel.create_api_key(&key, &issued.hash, Vec::new()).await.expect("api key");

    let listener = runtime::bind("127.0.0.1:0".parse().expect("addr")).await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(runtime::serve_on(listener, runtime.router(), async move {
        let _ = stopped.await;
    }));
    Server {
        runtime,
        addr,
        stop,
        served,
        tenant,
        api_key: issued.secret,
        api_key_hash: issued.hash,
        backend,
        pg,
    }
}

/// What one phase's connections saw.
struct Outcome {
    latencies_us: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
    elapsed: Duration,
}

/// A load generator's keep-alive HTTP/1.1 connection: it writes one fixed request and reads the reply
/// (status line, headers, a `Content-Length` body), nothing more, so that as much of the machine as possible
/// is left to the server, as with a load generator such as `wrk`. (The product's own client, custodian-http,
/// took a sixth of the CPU of a run.)
struct Connection {
    stream: tokio::net::TcpStream,
    buffer: Vec<u8>,
}

/// One reply: its status and body.
struct Reply {
    status: u16,
    body: Vec<u8>,
}

impl Connection {
    async fn open(addr: std::net::SocketAddr) -> std::io::Result<Self> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self { stream, buffer: Vec::with_capacity(64 * 1024) })
    }

    /// Sends `request` and reads its reply.
    async fn exchange(&mut self, request: &[u8]) -> std::io::Result<Reply> {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        self.stream.write_all(request).await?;
        self.buffer.clear();
        let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
        loop {
            if let Some(end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head =
                    std::str::from_utf8(&self.buffer[..end]).map_err(|_| invalid("head is not utf-8"))?;
                let mut lines = head.split("\r\n");
                let status = lines
                    .next()
                    .and_then(|line| line.split(' ').nth(1))
                    .and_then(|code| code.parse::<u16>().ok())
                    .ok_or_else(|| invalid("no status line"))?;
                let length = lines
                    .filter_map(|line| line.split_once(':'))
                    .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, value)| value.trim().parse::<usize>().ok())
                    .ok_or_else(|| invalid("no content-length"))?;
                let start = end + 4;
                while self.buffer.len() < start + length {
                    if self.stream.read_buf(&mut self.buffer).await? == 0 {
                        return Err(invalid("closed mid-body"));
                    }
                }
                if self.buffer.len() > start + length {
                    return Err(invalid("more bytes than one reply"));
                }
                return Ok(Reply { status, body: self.buffer.split_off(start) });
            }
            if self.stream.read_buf(&mut self.buffer).await? == 0 {
                return Err(invalid("closed before a reply"));
            }
        }
    }
}

/// `connections` tasks, each on its own keep-alive connection, sending `GET {target}` with `key` as
/// the `Authorization` header back to back for `secs` seconds; a reply counts if its status is 200 and its
/// body a JSON object. A connection that fails is opened again.
async fn drive(
    addr: std::net::SocketAddr,
    target: String,
    key: SecretString,
    connections: u64,
    secs: u64,
) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let request = format!(
        "GET {target} HTTP/1.1\r\nhost: {addr}\r\nauthorization: {}\r\naccept: application/json\r\n\r\n",
        key.expose_secret()
    );
    let request: Arc<[u8]> = Arc::from(request.into_bytes());
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(1 << 16);
            let mut errors = 0u64;
            let mut first_error = None;
            let mut connection = None;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let result = match connection.take() {
                    Some(open) => Ok(open),
                    None => Connection::open(addr).await,
                };
                let result = match result {
                    Ok(mut open) => {
                        let reply = open.exchange(&request).await;
                        if reply.is_ok() {
                            connection = Some(open);
                        }
                        reply
                    }
                    Err(e) => Err(e),
                };
                latencies.push(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
                match result {
                    Ok(reply) if reply.status == 200 && reply.body.first() == Some(&b'{') => {}
                    Ok(reply) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| {
                            format!("status {}: {}", reply.status, String::from_utf8_lossy(&reply.body))
                        });
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            (latencies, errors, first_error)
        }));
    }
    let mut out = Outcome { latencies_us: Vec::new(), errors: 0, first_error: None, elapsed: Duration::ZERO };
    for task in tasks {
        let (latencies, errors, first_error) = task.await.expect("connection task");
        out.latencies_us.extend(latencies);
        out.errors += errors;
        if out.first_error.is_none() {
            out.first_error = first_error;
        }
    }
    out.elapsed = started.elapsed();
    out
}

fn percentile_ms(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1_000.0
}

fn mark(ok: bool) -> &'static str {
    if ok { "[ok]" } else { "[MISSED]" }
}

/// `data_read` and `access_decided` events (and the `data_read` records) on the tenant's chain after `seq`.
async fn audited(server: &Server, after: u64) -> (u64, u64, u64) {
    let (mut reads, mut decisions, mut records) = (0, 0, 0);
    let mut from = after + 1;
    loop {
        let page = server.runtime.store().audit.read(&server.tenant, from, 10_000).await.expect("audit read");
        let Some(last) = page.last() else { break };
        from = last.seq + 1;
        for record in &page {
            match &record.event {
                AuditEvent::DataRead(e) => {
                    reads += 1;
                    records += e.records;
                }
                AuditEvent::AccessDecided(_) => decisions += 1,
                _ => {}
            }
        }
    }
    (reads, decisions, records)
}

/// `concurrency` tasks on the current runtime calling `op` back to back for `secs` seconds: calls/s and
/// process CPU microseconds per call.
async fn port_op<F, Fut>(what: &str, concurrency: u64, secs: u64, op: F)
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    let cpu = thread_cpu_seconds("");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let (mut calls, mut failed) = (0u64, 0u64);
            while Instant::now() < deadline {
                calls += 1;
                if !op().await {
                    failed += 1;
                }
            }
            (calls, failed)
        }));
    }
    let (mut calls, mut failed) = (0, 0);
    for task in tasks {
        let (c, f) = task.await.expect("port task");
        calls += c;
        failed += f;
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = thread_cpu_seconds("") - cpu;
    println!(
        "  {what:<42} {:>7.0} calls/s  {:>6.0} us cpu/call  failed {failed}",
        calls as f64 / wall,
        cpu * 1e6 / calls.max(1) as f64
    );
}

/// Where a read's time goes: each store call the read path makes, alone, at the same concurrency, and
/// the HTTP stack alone (`/healthz`: no authentication, no store).
fn breakdown(
    server_rt: &tokio::runtime::Runtime,
    load_rt: &tokio::runtime::Runtime,
    server: &Server,
    connections: u64,
    page: u64,
) {
    let secs = env_or("CUSTODIAN_BENCH_BREAKDOWN_SECS", 3);
    if secs == 0 {
        return;
    }
    println!(
        "\nbreakdown ({connections} concurrent callers, {secs} s each; the store calls of one read, one by one):"
    );
    let outcome = load_rt.block_on(drive(
        server.addr,
        "/healthz".to_owned(),
        SecretString::from("none"),
        connections,
        secs,
    ));
    let mut sorted = outcome.latencies_us;
    sorted.sort_unstable();
    println!(
        "  {:<42} {:>7.0} requests/s  p99 {:.2} ms  errors {}",
        "http only: GET /healthz",
        sorted.len() as f64 / outcome.elapsed.as_secs_f64(),
        percentile_ms(&sorted, 99.0),
        outcome.errors
    );
    let store = server.runtime.store().clone();
    let tenant = server.tenant.clone();
    let hash = server.api_key_hash;
    server_rt.block_on(async {
        let s = store.clone();
        port_op("authn: api_key_by_hash", connections, secs, move || {
            let (s, hash) = (s.clone(), hash);
            async move { s.personnel.api_key_by_hash(&hash).await.is_ok() }
        })
        .await;
        let (s, t) = (store.clone(), tenant.clone());
        port_op("authorize: tenant", connections, secs, move || {
            let (s, t) = (s.clone(), t.clone());
            async move { s.tenants.tenant(&t).await.is_ok() }
        })
        .await;
        let (s, t) = (store.clone(), tenant.clone());
        port_op("authorize: decision_cases", connections, secs, move || {
            let (s, t) = (s.clone(), t.clone());
            async move { s.cases.decision_cases(Some(&t)).await.is_ok() }
        })
        .await;
        let query = DatasetQuery {
            limit: u32::try_from(page + 1).expect("page size"),
            ..DatasetQuery::everything(tenant.clone())
        };
        let (s, q) = (store.clone(), query.clone());
        let read = format!("read: report_rows ({})", page + 1);
        port_op(&read, connections, secs, move || {
            let (s, q) = (s.clone(), q.clone());
            async move { s.datasets.report_rows(&q).await.is_ok_and(|r| r.len() as u64 == page + 1) }
        })
        .await;
        let (s, q) = (store.clone(), query);
        let read = format!("read: orders ({})", page + 1);
        port_op(&read, connections, secs, move || {
            let (s, q) = (s.clone(), q.clone());
            async move { s.datasets.orders(&q).await.is_ok_and(|r| r.len() as u64 == page + 1) }
        })
        .await;
        let (s, t) = (store.clone(), tenant.clone());
        port_op("audit: append (1 event, own commit)", connections, secs, move || {
            let (s, t) = (s.clone(), t.clone());
            async move {
                let event = NewAuditEvent::new(
                    time::OffsetDateTime::now_utc(),
                    ActorRef::System,
                    DataRead::new(DataClass::ReportingDataset, page, Purpose::ServiceDelivery),
                );
                s.audit.append(&t, vec![event]).await.is_ok()
            }
        })
        .await;
    });
}

/// The process's resident memory and its peak since the last reset, in KiB (Linux `/proc/self/status`).
fn resident_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// `CUSTODIAN_BENCH_PHASES=export` (never by default): the bench tenant's rights export as one JSON
/// document (its report rows and orders), in process through core's use cases, first streamed page by page
/// (`export_stream`, what `GET /v1/tenants/{id}/rights/export` sends) and then collected whole (`export`, what
/// offboarding answers): time, size, and how far the process's peak resident memory rose over what was
/// resident before (the peak is reset through `/proc/self/clear_refs` first; Linux). The streamed runs go
/// first, so memory the allocator keeps from them cannot hide the whole run's growth; the first two also
/// fill the store's page caches, so the third shows what streaming itself holds.
fn export_memory(rt: &tokio::runtime::Runtime, server: &Server) {
    let services = server.runtime.state().services().clone();
    let person = fixtures::person(
        &PersonId::new("bench-exporter").expect("person id"),
        &[Role::AccountManager],
        std::slice::from_ref(&server.tenant),
    );
    let actor = Actor::Person(fixtures::person_session(&person, SystemClock.now()));
    let tenant = server.tenant.clone();
    let measure = |what: &str, run: &dyn Fn() -> (usize, usize, usize)| {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let (before, _) = resident_kib();
        let started = Instant::now();
        let (bytes, chunks, largest) = run();
        let elapsed = started.elapsed().as_secs_f64();
        let (_, peak) = resident_kib();
        println!(
            "  {what}: {bytes} bytes in {chunks} piece(s) (largest {largest}) in {elapsed:.2} s; peak resident \
             memory {peak} KiB, {} KiB over the {before} KiB resident before",
            peak.saturating_sub(before)
        );
    };
    println!("\nexport (JSON document of the bench tenant, in process):");
    let streamed = || {
        rt.block_on(async {
            let mut stream =
                services.export_stream(&actor, &tenant, ExportFile::Json).await.expect("export stream");
            let (mut bytes, mut chunks, mut largest) = (0, 0, 0);
            while let Some(chunk) = stream.next_chunk().await.expect("export chunk") {
                bytes += chunk.len();
                chunks += 1;
                largest = largest.max(chunk.len());
            }
            (bytes, chunks, largest)
        })
    };
    // The first runs also fill the store's page caches (SQLite: up to 16 MiB for each of 8 reader
    // connections), which stay: the third shows what streaming itself holds.
    measure("streamed, first run (store caches filling)", &streamed);
    measure("streamed, second run", &streamed);
    measure("streamed, third run", &streamed);
    measure("collected whole", &|| {
        rt.block_on(async {
            let bundle = services.export(&actor, &tenant).await.expect("export");
            let document = export_json(&bundle);
            (document.len(), 1, document.len())
        })
    });
}

fn main() {
    let rows = env_or("CUSTODIAN_BENCH_ROWS", 10_000);
    let connections = env_or("CUSTODIAN_BENCH_CONNECTIONS", 64).max(1);
    let secs = env_or("CUSTODIAN_BENCH_SECS", 10).max(1);
    let page = env_or("CUSTODIAN_BENCH_PAGE", PAGE).clamp(1, 999);
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let build = |name: &'static str| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cores)
            .thread_name(name)
            .enable_all()
            .build()
            .expect("runtime")
    };
    let server_rt = build("server");
    let load_rt = build("load");

    let dir = TempDir::new();
    let setup = Instant::now();
    let server = server_rt.block_on(start(&dir, rows));
    println!(
        "load: {} store, {rows} report rows and {rows} orders in {:.1} s; {connections} connections x {secs} s \
         per phase, {cores} cores, server {}",
        server.backend,
        setup.elapsed().as_secs_f64(),
        server.addr
    );
    let key = SecretString::from(format!("ApiKey {}", server.api_key.expose_secret()));

    let phases = [
        ("report-rows", "report rows (Internal: decision audited, read not counted)"),
        ("orders", "orders (Confidential: every read audited as data_read)"),
    ];
    // `CUSTODIAN_BENCH_PHASES=orders` (or `report-rows`) runs one phase only, e.g. under a profiler;
    // `export` adds the export measurement (`export_memory`).
    let only = std::env::var("CUSTODIAN_BENCH_PHASES").unwrap_or_default();
    for (path, what) in phases {
        if !only.is_empty() && !only.split(',').any(|p| p.trim() == path) {
            continue;
        }
        let base = format!("/v1/tenants/{}/{path}", server.tenant);
        // A short warm-up: connections opened, caches filled.
        let base = format!("{base}?limit={page}");
        let _ = load_rt.block_on(drive(server.addr, base.clone(), key.clone(), connections, 1));
        let head = server_rt.block_on(server.runtime.store().audit.head(&server.tenant)).expect("head").seq;
        let (server_cpu, load_cpu, all_cpu) =
            (thread_cpu_seconds("server"), thread_cpu_seconds("load"), thread_cpu_seconds(""));
        let mut outcome = load_rt.block_on(drive(server.addr, base, key.clone(), connections, secs));
        let (server_cpu, load_cpu, all_cpu) = (
            thread_cpu_seconds("server") - server_cpu,
            thread_cpu_seconds("load") - load_cpu,
            thread_cpu_seconds("") - all_cpu,
        );
        let (reads, decisions, records) = server_rt.block_on(audited(&server, head));
        outcome.latencies_us.sort_unstable();
        let requests = outcome.latencies_us.len() as u64;
        let wall = outcome.elapsed.as_secs_f64();
        let rps = requests as f64 / wall;
        let p99 = percentile_ms(&outcome.latencies_us, 99.0);
        println!("\n{what}: GET /v1/tenants/{{id}}/{path}?limit={page}");
        println!(
            "  {requests} requests in {wall:.2} s = {rps:.0} requests/s {} (target >= {TARGET_RPS:.0}); errors {}",
            mark(rps >= TARGET_RPS),
            outcome.errors
        );
        if let Some(error) = &outcome.first_error {
            println!("  first error: {error}");
        }
        println!(
            "  latency ms: p50 {:.2}  p90 {:.2}  p99 {p99:.2} {} (target < {TARGET_P99_MS})  max {:.2}",
            percentile_ms(&outcome.latencies_us, 50.0),
            percentile_ms(&outcome.latencies_us, 90.0),
            mark(p99 < TARGET_P99_MS),
            percentile_ms(&outcome.latencies_us, 100.0),
        );
        println!(
            "  audit: {reads} data_read events ({records} records) and {decisions} access_decided events for \
             {requests} requests; confidential read audit {}",
            if reads > 0 { "on" } else { "not applicable (internal data)" }
        );
        if path == "orders" {
            println!("  data_read events == requests: {}", mark(reads == requests));
        }
        println!(
            "  cpu seconds: whole process {all_cpu:.1} of {:.0} available ({:.0} us/request); server runtime \
             threads {server_cpu:.1}, load generator threads {load_cpu:.1}, the rest (store driver threads) \
             {:.1}",
            wall * cores as f64,
            all_cpu * 1e6 / requests.max(1) as f64,
            all_cpu - server_cpu - load_cpu
        );
    }

    breakdown(&server_rt, &load_rt, &server, connections, page);
    if only.split(',').any(|p| p.trim() == "export") {
        export_memory(&server_rt, &server);
    }

    let Server { runtime, stop, served, pg, .. } = server;
    let _ = stop.send(());
    server_rt.block_on(async move {
        let _ = served.await;
        runtime.close().await;
        if let Some(pg) = pg {
            pg.drop_database().await;
        }
    });
}
