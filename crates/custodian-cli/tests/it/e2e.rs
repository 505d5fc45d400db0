//! The whole story through processes of the built binary: `custodian sim` (the five platforms), `custodian
//! init`, `custodian serve` on a free loopback port, and [`custodian_cli::story`] (the very code `custodian
//! demo` runs) driving connect → validate → sync → four-eyes change → revoke → verify over HTTP; then SIGTERM
//! (exit 0) and `custodian audit verify --json` from the store.
//!
//! - on the embedded defaults (SQLite and the keystore file in a temporary data directory);
//! - production-like: PostgreSQL (a fresh database) and a real OpenBao dev server (secrets = vault, AppRole
//!   with the least-privilege policy custodian-vault generates), checking that the platform tokens are in
//!   OpenBao's KV and nowhere in PostgreSQL (SEC-1);
//! - two `serve` processes on one PostgreSQL database and one OpenBao, on one-second slots, checking from
//!   the job queue and the audit trail that every scheduled job ran exactly once.
//!
//! The servers' public URL is [`PUBLIC_URL`], which the simulator registers as the apps' redirect target
//! (`custodian sim --redirect-to`); the story delivers each consent redirect to the server's real address,
//! as a reverse proxy in front of it would. Every process, directory and database is released on every path
//! (kill-on-drop guards).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use custodian_cli::story::{self, StoryTargets};
use custodian_cli::{sim_platforms, sim_toml};
use custodian_core::audit::{ActorRef, AuditEvent, AuditRecord};
use custodian_core::tenant::TenantId;
use custodian_server::config::Config;
use custodian_server::runtime::{self, SystemClock};
use secrecy::SecretString;
use serde_json::Value;

use crate::bao::Bao;
use crate::support::{Bin, Child, PgDatabase, TempDir};

/// What a password that passes ACC-3 looks like.
const PASSWORD: &str = "Correct-Horse-42!";
const ADMIN: &str = "admin@e2e.example";
/// The public URL every server here is configured with (what a reverse proxy would answer on).
const PUBLIC_URL: &str = "https://custodian.e2e.test";
/// How long the story may take before the test fails (a loaded CI machine is slow, never this slow).
const STORY_TIMEOUT: Duration = Duration::from_secs(240);

/// `custodian sim` on a free loopback port, its consent pages redirecting to [`PUBLIC_URL`]; its base URL.
fn start_sim(bin: &Bin) -> (Child, String) {
    let mut sim =
        bin.spawn(&["--json", "sim", "--listen", "127.0.0.1:0", "--seed", "3", "--redirect-to", PUBLIC_URL]);
    let ready: Value = serde_json::from_str(&sim.line(Duration::from_secs(120))).unwrap();
    let base = ready["base_url"].as_str().unwrap().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{ready}");
    (sim, base)
}

/// `dir/custodian.toml`: the simulator's platforms (sim_toml) plus `extra` tables; its path.
fn write_config(dir: &Path, sim_base: &str, extra: &str) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join("custodian.toml");
    std::fs::write(&file, format!("{}\n{extra}", sim_toml(&sim_platforms(sim_base)))).unwrap();
    file.display().to_string()
}

/// `custodian init` with the password on standard input; the printed TOTP secret.
fn init(bin: &Bin, config: &str) -> String {
    let init =
        bin.run(&["--config", config, "--json", "init", "--email", ADMIN], Some(&format!("{PASSWORD}\n")));
    assert!(init.success, "init failed: {init:?}");
    let created: Value = serde_json::from_str(init.stdout.trim()).unwrap();
    assert_eq!(created["person"], ADMIN, "{created}");
    created["totp_secret"].as_str().unwrap().to_owned()
}

/// `custodian serve` on a port the OS picks; the child and the URL its first line names.
fn serve(bin: &Bin, config: &str) -> (Child, String) {
    let mut server = bin.spawn(&["--config", config, "--json", "serve", "--listen", "127.0.0.1:0"]);
    let ready: Value = serde_json::from_str(&server.line(Duration::from_secs(180))).unwrap();
    let base = ready["url"].as_str().unwrap().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{ready}");
    (server, base)
}

/// SIGTERM: a graceful stop with exit 0 and the `stopped` line.
fn stop(child: &mut Child) {
    child.terminate();
    let status = child.wait(Duration::from_secs(120));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    assert_eq!(child.line(Duration::from_secs(10)), r#"{"stopped":true}"#);
}

/// The shared story against the server at `base`, every step reported; its summary.
async fn run_story(base: &str, totp_secret: &str, tenant: &str) -> Value {
    let targets = StoryTargets {
        server: base.to_owned(),
        public_url: PUBLIC_URL.to_owned(),
        admin_email: ADMIN.to_owned(),
        admin_password: SecretString::from(PASSWORD),
        admin_totp_secret: SecretString::from(totp_secret.to_owned()),
        tenant: tenant.to_owned(),
    };
    let mut steps = Vec::new();
    let told = tokio::time::timeout(STORY_TIMEOUT, story::run(&targets, &mut |s| steps.push(s.to_owned())))
        .await
        .unwrap_or_else(|_| panic!("the story did not finish within {STORY_TIMEOUT:?}; steps: {steps:?}"));
    let summary = told.unwrap_or_else(|e| panic!("the story failed after {steps:?}: {e:#}"));
    assert_eq!(steps.len(), story::STEPS, "{steps:?}");
    summary
}

/// Whether other processes' workers run beside the story's server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workers {
    Alone,
    Shared,
}

/// What the story must have achieved: AUTH-2 five grants connected and active, synced with rows; CAM-1/2 a
/// change executed; RET-3/RET-6 the revoked grant's clean purge receipt; AUD-2 the tenant's chain valid.
/// With `Workers::Shared`, another process's scheduled sync may fetch a grant's records before the story's
/// own sync does (the story then checks the dataset holds them), so the story's runs may have fetched none.
fn check_summary(summary: &Value, tenant: &str, workers: Workers) {
    assert_eq!(summary["tenant"], tenant);
    let grants = summary["grants"].as_array().unwrap();
    let platforms: Vec<&str> = grants.iter().filter_map(|g| g["platform"].as_str()).collect();
    assert_eq!(platforms, story::PLATFORMS, "{summary}");
    for grant in grants {
        assert_eq!(grant["connected_state"], "active", "{grant}");
        if workers == Workers::Alone {
            assert!(grant["rows_synced"].as_u64().unwrap() > 0, "{grant}");
        }
    }
    let states: Vec<&str> = grants.iter().filter_map(|g| g["state"].as_str()).collect();
    assert_eq!(states, ["active", "active", "active", "revoked", "active"], "{summary}");
    let receipt = &summary["revoked"]["receipt"];
    assert_eq!(summary["revoked"]["grant"], grants[3]["id"]);
    assert_eq!(receipt["clean"], true, "{receipt}");
    assert_eq!(receipt["grant"], grants[3]["id"]);
    assert!(receipt["total_deleted"].as_u64().unwrap() >= 2, "{receipt}");
    for left in receipt["recheck"].as_array().unwrap() {
        assert_eq!(left["remaining"], 0, "{receipt}");
    }
    let change = &summary["change"];
    assert_eq!(change["grant"], grants[0]["id"]);
    assert_eq!(change["state"], "executed", "{change}");
    assert_eq!(change["outcome"]["confirmed"], true, "{change}");
    assert_eq!(summary["tenant_chain"]["valid"], true, "{summary}");
    assert!(summary["tenant_chain"]["records_checked"].as_u64().unwrap() > 10, "{summary}");
}

/// The id of the story's grant on `platform`.
fn grant_id<'a>(summary: &'a Value, platform: &str) -> &'a str {
    let grants = summary["grants"].as_array().unwrap();
    grants.iter().find(|g| g["platform"] == platform).and_then(|g| g["id"].as_str()).unwrap()
}

/// `custodian audit verify --json` after the servers stopped: every chain intact, the tenant's covering at
/// least what the story verified over the API (AUD-2).
fn audit_verify(bin: &Bin, config: &str, summary: &Value) {
    let verify = bin.run(&["--config", config, "--json", "audit", "verify"], None);
    assert!(verify.success, "{verify:?}");
    let report: Value = serde_json::from_str(verify.stdout.trim()).unwrap();
    assert_eq!(report["intact"], true, "{report}");
    let chains = report["chains"].as_array().unwrap();
    for chain in chains {
        assert_eq!(chain["intact"], true, "{chain}");
        assert!(chain["head_seq"].as_u64().unwrap() >= 1, "{chain}");
    }
    let tenant = summary["tenant"].as_str().unwrap();
    let names: Vec<&str> = chains.iter().filter_map(|c| c["tenant"].as_str()).collect();
    assert!(names.contains(&tenant) && names.contains(&"_system"), "{report}");
    let chain = chains.iter().find(|c| c["tenant"] == tenant).unwrap();
    assert!(
        chain["head_seq"].as_u64().unwrap() >= summary["tenant_chain"]["head_seq"].as_u64().unwrap(),
        "{chain} {summary}"
    );
}

#[tokio::test]
async fn story_through_sim_init_serve_processes_on_the_embedded_defaults() {
    let dir = TempDir::new("e2e-embedded");
    let data = dir.path().join("data");
    let bin = Bin::new()
        .env("CUSTODIAN_DATA_DIR", &data.display().to_string())
        .env("CUSTODIAN_PUBLIC_URL", PUBLIC_URL);
    let (mut sim, sim_base) = start_sim(&bin);
    let config = write_config(dir.path(), &sim_base, "");
    let secret = init(&bin, &config);
    let (mut server, base) = serve(&bin, &config);

    let summary = run_story(&base, &secret, "acme").await;
    check_summary(&summary, "acme", Workers::Alone);

    stop(&mut server);
    audit_verify(&bin, &config, &summary);
    stop(&mut sim);
    // The embedded defaults: the SQLite file and the sealed keystore in the data directory.
    assert!(data.join("custodian.db").is_file());
    assert!(data.join("keystore.sealed").is_file());
}

/// The least-privilege policy custodian-vault generates for its default mounts (what an operator installs).
fn custodian_policy(bao: &Bao) -> String {
    use custodian_vault::{VaultAuth, VaultClient, VaultConfig};
    let auth = VaultAuth::Token(SecretString::from("only-for-the-policy"));
    let config = VaultConfig { allow_plain_http_loopback: true, ..VaultConfig::new(bao.addr.clone(), auth) };
    VaultClient::new(config).unwrap().acl_policy()
}

/// The binary configured for PostgreSQL (`db`) and OpenBao (`bao`, AppRole) with `dir` as data directory.
fn production_like(dir: &TempDir, db: &PgDatabase, bao: &Bao) -> Bin {
    let (role_id, secret_id) = bao.prepare_for_custodian(&custodian_policy(bao));
    Bin::new()
        .env("CUSTODIAN_DATA_DIR", &dir.path().join("data").display().to_string())
        .env("CUSTODIAN_PUBLIC_URL", PUBLIC_URL)
        .env("CUSTODIAN_DATABASE_URL", db.url())
        .env("CUSTODIAN_VAULT_ADDR", &bao.addr)
        .env("CUSTODIAN_VAULT_ROLE_ID", &role_id)
        .env("CUSTODIAN_VAULT_SECRET_ID", &secret_id)
}

/// Every row of every table of the database, as text (superuser: row-level security does not hide any).
async fn dump_database(url: &str) -> String {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables \
         WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(tables.len() > 10, "{tables:?}");
    let mut dump = String::new();
    for table in tables {
        let rows: String =
            sqlx::query_scalar(&format!("SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM {table} t"))
                .fetch_one(&mut conn)
                .await
                .unwrap();
        dump.push_str(&table);
        dump.push('\n');
        dump.push_str(&rows);
        dump.push('\n');
    }
    conn.close().await.unwrap();
    dump
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn story_through_processes_on_postgres_and_openbao_keeps_every_token_out_of_postgres() {
    let bao = Bao::start();
    let db = PgDatabase::create("cli_e2e_bao");
    let dir = TempDir::new("e2e-pg-bao");
    let bin = production_like(&dir, &db, &bao);
    let (mut sim, sim_base) = start_sim(&bin);
    let config = write_config(dir.path(), &sim_base, "");
    let secret = init(&bin, &config);
    let (mut server, base) = serve(&bin, &config);

    let summary = run_story(&base, &secret, "acme").await;
    check_summary(&summary, "acme", Workers::Alone);
    stop(&mut server);
    audit_verify(&bin, &config, &summary);
    stop(&mut sim);
    // Nothing went to the data directory: no SQLite file, no keystore.
    assert!(!dir.path().join("data").join("custodian.db").exists());
    assert!(!dir.path().join("data").join("keystore.sealed").exists());

    // SEC-1: the platform tokens are in OpenBao's KV, one entry per live grant (the revoked grant's is
    // gone: RET-3) ...
    let prefix = format!("custodian/credentials/{}", hex("acme"));
    let stored: BTreeMap<String, Value> = bao.kv_secrets(&prefix).into_iter().collect();
    let mut tokens = Vec::new();
    for platform in story::PLATFORMS {
        let path = format!("{prefix}/{}", hex(grant_id(&summary, platform)));
        let data = stored.get(&path).cloned().unwrap_or(Value::Null);
        if platform == story::REVOKED {
            assert!(data.is_null(), "the revoked grant's credentials are still in openbao: {path}");
            continue;
        }
        let access = data["access_token"].as_str().unwrap_or_else(|| panic!("no token in {path}"));
        assert!(access.len() >= 16, "{platform}: a short access token");
        tokens.push((platform, access.to_owned()));
        if let Some(refresh) = data["refresh_token"].as_str() {
            tokens.push((platform, refresh.to_owned()));
        }
    }
    assert!(tokens.len() >= 4, "{tokens:?}");

    // ... and nowhere in PostgreSQL: not in any row of any table, neither as text nor as bytes.
    let dump = dump_database(db.url()).await;
    // The dump does see the story's data.
    for platform in story::PLATFORMS {
        assert!(dump.contains(grant_id(&summary, platform)), "the dump misses the {platform} grant");
    }
    for (platform, token) in &tokens {
        assert!(!dump.contains(token.as_str()), "a {platform} token is in postgresql");
        assert!(!dump.contains(&hex(token)), "a {platform} token's bytes are in postgresql");
    }
    // Not even those of the purged grant or short-lived tokens exchanged since: the simulators' token shapes
    // (Amazon LWA access and refresh, eBay user tokens) appear nowhere.
    for shape in ["Atza|IwEB", "Atzr|IwEB", "v^1.1#i^1#"] {
        assert!(!dump.contains(shape), "a token shaped `{shape}` is in postgresql");
    }
}

/// The store of the configuration `config` plus `env` (what `serve` used), read directly.
async fn open_store(config: &str, env: &[(&str, &str)]) -> runtime::Store {
    let env: BTreeMap<String, String> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let config = Config::load(Some(Path::new(config)), &env).unwrap();
    runtime::open_store(&config, Arc::new(SystemClock)).await.unwrap()
}

/// Every record of `tenant`'s chain.
async fn audit_trail(store: &runtime::Store, tenant: &str) -> Vec<AuditRecord> {
    let tenant = TenantId::new(tenant).unwrap();
    let mut records = Vec::new();
    let mut from = 1;
    loop {
        let page = store.audit.read(&tenant, from, 1000).await.unwrap();
        let Some(last) = page.last() else { break };
        from = last.seq + 1;
        records.extend(page);
    }
    records
}

/// One row of the job queue.
#[derive(Debug, Clone, sqlx::FromRow)]
struct JobRow {
    kind: String,
    dedupe_key: Option<String>,
    payload: String,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    /// The worker that leased it last (`serve-{pid}-{listen address}`).
    worker: Option<String>,
}

async fn jobs(url: &str) -> Vec<JobRow> {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let rows = sqlx::query_as::<_, JobRow>(
        "SELECT kind, dedupe_key, payload, status, attempts, last_error, worker FROM jobs ORDER BY job_id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    rows
}

/// The slot in a job's payload.
fn slot_of(job: &JobRow) -> i64 {
    let payload: Value = serde_json::from_str(&job.payload).unwrap();
    payload["slot"].as_i64().unwrap_or_else(|| panic!("no slot in {job:?}"))
}

/// The grant in a job's payload.
fn grant_of(job: &JobRow) -> String {
    let payload: Value = serde_json::from_str(&job.payload).unwrap();
    payload["grant"].as_str().unwrap_or_else(|| panic!("no grant in {job:?}")).to_owned()
}

/// Done jobs of `kind` (for `grant`, when given) whose slot is after `after`.
fn done<'a>(jobs: &'a [JobRow], kind: &str, grant: Option<&str>, after: i64) -> Vec<&'a JobRow> {
    jobs.iter()
        .filter(|j| j.kind == kind && j.status == "done" && slot_of(j) > after)
        .filter(|j| grant.is_none_or(|g| grant_of(j) == g))
        .collect()
}

/// Final-page sync progress (cursor `None`: one per pull per account per run) of `grant` by `actor`.
fn finished_pulls(trail: &[AuditRecord], grant: &str, system: bool) -> usize {
    trail
        .iter()
        .filter(|r| matches!(r.actor, ActorRef::System) == system)
        .filter(|r| matches!(&r.event, AuditEvent::SyncProgressed(p) if p.grant.as_str() == grant && p.cursor.is_none()))
        .count()
}

/// Jobs by kind and status, the syncs after the story by grant, the errors: for failure messages.
fn queue_summary(jobs: &[JobRow], live: &[&str], after: i64) -> String {
    let mut by: BTreeMap<(String, String), usize> = BTreeMap::new();
    for job in jobs {
        *by.entry((job.kind.clone(), job.status.clone())).or_default() += 1;
    }
    let syncs: Vec<(String, usize)> =
        live.iter().map(|g| ((*g).to_owned(), done(jobs, "sync", Some(g), after).len())).collect();
    let errors: BTreeSet<&str> = jobs.iter().filter_map(|j| j.last_error.as_deref()).collect();
    let retried = jobs.iter().filter(|j| j.attempts > 1).count();
    format!("jobs {by:?}; syncs after the story {syncs:?}; retried {retried}; errors {errors:?}")
}

/// Slots of `tick_seconds` = 1: the current one.
fn slot_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[tokio::test]
async fn two_serve_processes_on_one_postgres_database_run_every_scheduled_job_exactly_once() {
    let bao = Bao::start();
    let db = PgDatabase::create("cli_e2e_two");
    let dir = TempDir::new("e2e-two");
    let bin = production_like(&dir, &db, &bao);
    let (mut sim, sim_base) = start_sim(&bin);
    // One-second slots; every kind falls due every few slots.
    let schedule = "[worker]\ntick_seconds = 1\nsync_every_seconds = 2\nvalidate_every_seconds = 3\n\
                    retention_every_seconds = 4\nmonitor_every_seconds = 2\n";
    let config = write_config(dir.path(), &sim_base, schedule);
    let secret = init(&bin, &config);
    let (mut first, base) = serve(&bin, &config);
    let (mut second, second_base) = serve(&bin, &config);

    // The story against the first while both run their workers.
    let summary = run_story(&base, &secret, "acme").await;
    check_summary(&summary, "acme", Workers::Shared);
    let after_story = slot_now() + 1;
    let live: Vec<&str> =
        story::PLATFORMS.iter().filter(|p| **p != story::REVOKED).map(|p| grant_id(&summary, p)).collect();

    // Several slots with connected grants: until each kind ran a few times after the story, (or the deadline,
    // which fails below).
    let deadline = Instant::now() + Duration::from_secs(150);
    let enough = |jobs: &[JobRow]| {
        live.iter().all(|g| done(jobs, "sync", Some(g), after_story).len() >= 3)
            && live.iter().all(|g| done(jobs, "validate", Some(g), after_story).len() >= 2)
            && done(jobs, "retention", None, after_story).len() >= 2
            && done(jobs, "monitor", None, after_story).len() >= 3
    };
    loop {
        if enough(&jobs(db.url()).await) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    stop(&mut first);
    stop(&mut second);
    stop(&mut sim);

    let jobs = jobs(db.url()).await;
    assert!(
        enough(&jobs),
        "the workers did not run every kind several times within the deadline: {}",
        queue_summary(&jobs, &live, after_story)
    );

    // Exactly once in the queue: one row per dedupe key (the key names the kind, the grant or tenant and
    // the slot), and no job leased again unless an attempt failed (a second lease without a failure would
    // be the same work run twice).
    let mut keys: BTreeMap<&str, usize> = BTreeMap::new();
    for job in &jobs {
        let key =
            job.dedupe_key.as_deref().unwrap_or_else(|| panic!("a scheduled job without a key: {job:?}"));
        *keys.entry(key).or_default() += 1;
    }
    let twice: Vec<_> = keys.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "jobs enqueued twice: {twice:?}");
    let released: Vec<&JobRow> = jobs.iter().filter(|j| j.attempts > 1 && j.last_error.is_none()).collect();
    assert!(released.is_empty(), "jobs leased twice without a failure: {released:#?}");
    // Who ran each job: the queue keeps the worker of the lease that completed it, one of the two processes
    // (named by their listen addresses).
    let suffixes: Vec<String> =
        [&base, &second_base].iter().map(|b| format!("-{}", b.trim_start_matches("http://"))).collect();
    let mut by_worker: BTreeMap<&str, usize> = BTreeMap::new();
    for job in jobs.iter().filter(|j| j.status == "done") {
        let worker = job.worker.as_deref().unwrap_or_else(|| panic!("a done job names no worker: {job:?}"));
        assert!(
            worker.starts_with("serve-") && suffixes.iter().any(|s| worker.ends_with(s.as_str())),
            "a job done by {worker}, neither of the two processes {suffixes:?}"
        );
        *by_worker.entry(worker).or_default() += 1;
    }
    eprintln!("jobs done per worker: {by_worker:?}");
    // The scheduler's chain: one tick per slot, none skipped, from the first to the last that ran.
    let ticks: Vec<i64> =
        jobs.iter().filter(|j| j.kind == "tick" && j.status == "done").map(slot_of).collect();
    let (first_tick, last_tick) = (ticks.iter().min().unwrap(), ticks.iter().max().unwrap());
    assert_eq!(ticks.len() as i64, last_tick - first_tick + 1, "ticks skipped or repeated: {ticks:?}");
    // Exactly once in the audit trail (AUD-1 records every run).
    let store = open_store(
        &config,
        &[
            ("CUSTODIAN_DATABASE_URL", db.url()),
            ("CUSTODIAN_PUBLIC_URL", PUBLIC_URL),
            ("CUSTODIAN_DATA_DIR", &dir.path().join("data").display().to_string()),
        ],
    )
    .await;
    let trail = audit_trail(&store, "acme").await;
    store.close().await;
    // RET-4: one `retention_ran` per retention job of the tenant, each run once.
    // (A job cut off by the stop may have written its record without completing: it counts as running.)
    let retention: Vec<&JobRow> =
        jobs.iter().filter(|j| j.kind == "retention" && j.status == "done").collect();
    let cut_off = jobs.iter().filter(|j| j.kind == "retention" && j.status == "running").count();
    assert!(retention.iter().all(|j| j.attempts == 1), "{retention:#?}");
    let swept = trail
        .iter()
        .filter(|r| matches!(r.actor, ActorRef::System) && matches!(r.event, AuditEvent::RetentionRan(_)))
        .count();
    assert!(
        (retention.len()..=retention.len() + cut_off).contains(&swept),
        "{swept} retention sweeps in the audit trail for {} retention jobs done ({cut_off} cut off)",
        retention.len()
    );
    // Syncs: each run of a grant's sync finishes the same pulls as the story's own sync did (one final page
    // per pull and account). The scheduler's runs finish no more pulls than its jobs' attempts allow (a
    // slot's sync run twice would), and at least those of every clean job after the story (the grant was
    // active, so each of them ran in full).
    for grant in &live {
        let per_run = finished_pulls(&trail, grant, false);
        assert!(per_run >= 1, "the story's sync of {grant} finished no pull");
        // Every lease of the grant's syncs, whatever became of it (done, failed and waiting, cut off).
        let syncs: Vec<&JobRow> = jobs.iter().filter(|j| j.kind == "sync" && grant_of(j) == *grant).collect();
        let attempts: usize = syncs.iter().map(|j| usize::try_from(j.attempts).unwrap()).sum();
        let clean = done(&jobs, "sync", Some(grant), after_story)
            .into_iter()
            .filter(|j| j.attempts == 1 && j.last_error.is_none())
            .count();
        let scheduled = finished_pulls(&trail, grant, true);
        assert!(
            scheduled <= attempts * per_run,
            "{grant}: {scheduled} pulls finished by {attempts} sync attempts of {per_run} pulls each: {}",
            queue_summary(&jobs, &live, after_story)
        );
        assert!(
            scheduled >= clean * per_run,
            "{grant}: {scheduled} pulls finished, fewer than {clean} clean syncs of {per_run} pulls each: {}",
            queue_summary(&jobs, &live, after_story)
        );
        assert!(
            clean >= 1,
            "{grant}: {clean} clean syncs after the story: {}",
            queue_summary(&jobs, &live, after_story)
        );
    }
}
