//! End to end through the built `custodian` binary: `init`, `serve` on a free loopback port, a login with
//! the printed TOTP secret, a tenant created and listed over HTTP, `audit verify --json`, and a graceful stop
//! on SIGTERM; once on the embedded SQLite default and once on PostgreSQL (its own fresh database). Also the
//! ENV-1 refusal of production on development defaults, with every violation listed.
//!
//! Every child process is held by a [`Child`] guard that kills and reaps it on every path.

// `cfg(test)` marks the helpers as test code for clippy (`allow-unwrap-in-tests`, `allow-panic-in-tests`).
#![cfg(test)]

mod admin;
mod bao;
mod e2e;
mod support;

use std::time::Duration;

use serde_json::{Value, json};

use support::{Bin, PgDatabase, TempDir, http_client};

/// What a password that passes ACC-3 looks like.
const PASSWORD: &str = "Correct-Horse-42!";
const EMAIL: &str = "admin@example.com";

/// init → serve → login → create and list a tenant → audit verify → SIGTERM.
async fn the_whole_story(bin: &Bin) {
    // init: the first admin; the TOTP secret is printed once.
    let init = bin.run(&["--json", "init", "--email", EMAIL], Some(&format!("{PASSWORD}\n")));
    assert!(init.success, "init failed: {init:?}");
    let created: Value = serde_json::from_str(init.stdout.trim()).unwrap();
    assert_eq!(created["person"], EMAIL);
    let secret = created["totp_secret"].as_str().unwrap().to_owned();
    assert!(created["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/"));
    // The secret is shown, never logged.
    assert!(!init.stderr.contains(&secret), "{}", init.stderr);
    assert!(!init.stderr.contains(PASSWORD));

    // A second init refuses: an admin exists.
    let again = bin.run(&["--json", "init", "--email", "other@example.com"], Some(&format!("{PASSWORD}\n")));
    assert!(!again.success);
    let error: Value = serde_json::from_str(again.stdout.trim()).unwrap();
    assert!(error["error"].as_str().unwrap().contains("an admin exists already"), "{error}");

    // serve on a port the OS picks; the first line says where.
    let mut server = bin.spawn(&["--json", "serve", "--listen", "127.0.0.1:0"]);
    let ready: Value = serde_json::from_str(&server.line(Duration::from_secs(120))).unwrap();
    let base = ready["url"].as_str().unwrap().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{ready}");
    assert_eq!(ready["environment"], "development");
    let http = http_client(&base);

    let (status, body) = http.call("GET", "/readyz", None, None).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")), "{body}");

    // Log in with password and the current TOTP code of the printed secret (ACC-2).
    let code = support::totp_now(&secret);
    let login = json!({"email": EMAIL, "password": PASSWORD, "code": code});
    let (status, body) = http.call("POST", "/v1/auth/login", None, Some(login)).await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    assert_eq!(body["person"]["id"], EMAIL, "{body}");
    // A wrong code is refused.
    let bad = json!({"email": EMAIL, "password": PASSWORD, "code": support::other_code(&code)});
    assert_eq!(http.call("POST", "/v1/auth/login", None, Some(bad)).await.0, 401);

    // Create a tenant and read it back through the list.
    let tenant = json!({"id": "acme", "name": "Acme Ltd"});
    let (status, body) = http.call("POST", "/v1/tenants", Some(&token), Some(tenant)).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = http.call("GET", "/v1/tenants", Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<&str> =
        body["tenants"].as_array().unwrap().iter().filter_map(|t| t["id"].as_str()).collect();
    assert_eq!(ids, ["acme"], "{body}");

    // audit verify while the server runs: every chain intact, the tenant's chain has its records.
    let verify = bin.run(&["--json", "audit", "verify"], None);
    assert!(verify.success, "{verify:?}");
    let report: Value = serde_json::from_str(verify.stdout.trim()).unwrap();
    assert_eq!(report["intact"], true, "{report}");
    let chains = report["chains"].as_array().unwrap();
    let names: Vec<&str> = chains.iter().filter_map(|c| c["tenant"].as_str()).collect();
    assert!(names.contains(&"acme") && names.contains(&"_system"), "{report}");
    for chain in chains {
        assert_eq!(chain["intact"], true, "{chain}");
        assert!(chain["head_seq"].as_u64().unwrap() >= 1, "{chain}");
        assert_eq!(chain["records_checked"], chain["head_seq"], "{chain}");
    }
    let one = bin.run(&["--json", "audit", "verify", "--tenant", "acme"], None);
    let report: Value = serde_json::from_str(one.stdout.trim()).unwrap();
    assert_eq!(report["chains"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["chains"][0]["tenant"], "acme");
    // Text output for people.
    let text = bin.run(&["audit", "verify", "--tenant", "acme"], None);
    assert!(text.success && text.stdout.contains("chain `acme`: intact"), "{text:?}");
    // Bad input gets a clear error.
    let bad = bin.run(&["--json", "audit", "verify", "--tenant", "Not A Tenant"], None);
    assert!(!bad.success);
    assert!(bad.stdout.contains("`Not A Tenant`"), "{bad:?}");

    // SIGTERM: graceful stop, exit 0, the "stopped" line.
    server.terminate();
    let status = server.wait(Duration::from_secs(60));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    assert_eq!(server.line(Duration::from_secs(10)), r#"{"stopped":true}"#);
}

#[tokio::test]
async fn init_serve_login_tenant_and_audit_verify_on_the_embedded_default() {
    let dir = TempDir::new("sqlite");
    let bin = Bin::new().env("CUSTODIAN_DATA_DIR", &dir.path().display().to_string());
    the_whole_story(&bin).await;
    assert!(dir.path().join("custodian.db").is_file());
    assert!(dir.path().join("keystore.sealed").is_file());

    // `serve` ran the background worker: it scheduled the next tick in the shared job queue.
    use custodian_core::ports::JobQueue as _;
    let clock = std::sync::Arc::new(custodian_server::runtime::SystemClock);
    let store = custodian_sqlite::SqliteStore::open(
        &dir.path().join("custodian.db"),
        custodian_core::authz::Environment::Development,
        clock,
    )
    .await
    .unwrap();
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let tick = store.lease("probe", &["tick".to_owned()], later, time::Duration::minutes(1)).await.unwrap();
    let tick = tick.expect("serve enqueued the scheduler's next tick");
    assert!(tick.job.spec.dedupe_key.as_deref().is_some_and(|k| k.starts_with("tick:")), "{tick:?}");
    store.close().await;
}

#[tokio::test]
async fn init_serve_login_tenant_and_audit_verify_on_postgres() {
    let db = PgDatabase::create("cli_e2e");
    let dir = TempDir::new("pg");
    let bin = Bin::new()
        .env("CUSTODIAN_DATA_DIR", &dir.path().display().to_string())
        .env("CUSTODIAN_DATABASE_URL", db.url());
    the_whole_story(&bin).await;
    // Nothing went to SQLite.
    assert!(!dir.path().join("custodian.db").exists());
}

#[test]
fn production_on_development_defaults_refuses_to_start_and_lists_each_violation() {
    let dir = TempDir::new("prod");
    let bin = Bin::new()
        .env("CUSTODIAN_ENVIRONMENT", "production")
        .env("CUSTODIAN_DATA_DIR", &dir.path().display().to_string())
        .env("CUSTODIAN_MFA_REQUIRED", "false");
    let out = bin.run(&["--json", "serve", "--listen", "127.0.0.1:0"], None);
    assert!(!out.success, "{out:?}");
    let error: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    let violations: Vec<&str> =
        error["violations"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(violations.len(), 2, "{error}");
    assert!(violations[0].contains("master key is generated"), "{error}");
    assert!(violations[1].contains("mfa is disabled"), "{error}");

    // Text: each violation on its own line on standard error.
    let out = bin.run(&["serve"], None);
    assert!(!out.success);
    assert!(out.stderr.contains("refusing to start in production"), "{}", out.stderr);
    for violation in violations {
        assert!(out.stderr.contains(&format!("  - {violation}\n")), "{}", out.stderr);
    }
    // init and audit verify refuse the same way; nothing was created.
    assert!(!bin.run(&["init", "--email", EMAIL], Some(&format!("{PASSWORD}\n"))).success);
    assert!(!bin.run(&["audit", "verify"], None).success);
    assert!(!dir.path().exists());
}

#[test]
fn init_without_a_password_on_standard_input_is_refused() {
    let dir = TempDir::new("nopass");
    let bin = Bin::new().env("CUSTODIAN_DATA_DIR", &dir.path().display().to_string());
    let out = bin.run(&["init", "--email", EMAIL], Some(""));
    assert!(!out.success);
    assert!(out.stderr.contains("no password on standard input"), "{}", out.stderr);
    // A weak password is refused with the policy's reason, and the password is not echoed.
    let out = bin.run(&["init", "--email", EMAIL], Some("short\n"));
    assert!(!out.success);
    assert!(!out.stderr.contains("short\n") && out.stderr.contains("error:"), "{}", out.stderr);
}

#[test]
fn sim_prints_its_base_url_and_each_platform_prefix() {
    let bin = Bin::new();
    let mut sim = bin.spawn(&["--json", "sim", "--listen", "127.0.0.1:0", "--seed", "7"]);
    let ready: Value = serde_json::from_str(&sim.line(Duration::from_secs(60))).unwrap();
    let base = ready["base_url"].as_str().unwrap();
    assert!(base.starts_with("http://127.0.0.1:"), "{ready}");
    assert_eq!(ready["seed"], 7);
    for (name, prefix) in [
        ("meta", "/meta"),
        ("tiktok", "/tiktok"),
        ("tiktok-shop", "/tiktok-shop"),
        ("amazon", "/amazon"),
        ("ebay", "/ebay"),
    ] {
        assert_eq!(ready["platforms"][name]["prefix"], prefix, "{ready}");
        assert_eq!(ready["platforms"][name]["url"], format!("{base}{prefix}"), "{ready}");
    }
    sim.terminate();
    assert!(sim.wait(Duration::from_secs(30)).is_some_and(|s| s.success()));
}

/// `custodian demo --json`: five grants connected (active), synced, a change executed, one revoked with a
/// clean purge receipt, every chain intact; progress on standard error; nothing left behind.
#[test]
fn demo_runs_the_whole_story_and_summarizes_it() {
    // The demo's temporary data directory goes under a directory of this test's own.
    let tmp = TempDir::new("demo");
    std::fs::create_dir_all(tmp.path()).unwrap();
    let bin = Bin::new().env("TMPDIR", &tmp.path().display().to_string());
    let out = bin.run(&["--json", "demo"], None);
    assert!(out.success, "{out:?}");
    let summary: Value = serde_json::from_str(out.stdout.trim()).unwrap();

    // AUTH-2: five platforms connected through their consent; each active once validated.
    let grants = summary["grants"].as_array().unwrap();
    let platforms: Vec<&str> = grants.iter().filter_map(|g| g["platform"].as_str()).collect();
    assert_eq!(platforms, ["meta", "tiktok", "tiktok-shop", "amazon", "ebay"], "{summary}");
    for grant in grants {
        assert_eq!(grant["connected_state"], "active", "{grant}");
        assert!(grant["rows_synced"].as_u64().unwrap() > 0, "{grant}");
    }
    // RET-3: one commerce grant revoked, the others still active.
    let states: Vec<&str> = grants.iter().filter_map(|g| g["state"].as_str()).collect();
    assert_eq!(states, ["active", "active", "active", "revoked", "active"], "{summary}");
    let revoked = &summary["revoked"];
    assert_eq!(revoked["platform"], "amazon");
    assert_eq!(revoked["grant"], grants[3]["id"]);
    // RET-6: the purge receipt is clean: everything of the grant deleted, nothing left at the re-check.
    let receipt = &revoked["receipt"];
    assert_eq!(receipt["clean"], true, "{receipt}");
    assert_eq!(receipt["grant"], grants[3]["id"]);
    assert!(receipt["total_deleted"].as_u64().unwrap() >= 2, "{receipt}");
    for left in receipt["recheck"].as_array().unwrap() {
        assert_eq!(left["remaining"], 0, "{receipt}");
    }
    // CAM-1/CAM-2: a change on the Meta grant, executed and read back as applied.
    let change = &summary["change"];
    assert_eq!(change["grant"], grants[0]["id"]);
    assert_eq!(change["state"], "executed", "{change}");
    assert_eq!(change["outcome"]["confirmed"], true, "{change}");
    assert_eq!(change["changes"][0]["field"], "status", "{change}");
    // AUD-2: every chain intact, the tenant's with records of all of the above.
    assert_eq!(summary["audit"]["intact"], true, "{summary}");
    let chains = summary["audit"]["chains"].as_array().unwrap();
    let demo = chains.iter().find(|c| c["tenant"] == "demo").unwrap();
    assert!(demo["intact"] == true && demo["records"].as_u64().unwrap() > 10, "{demo}");

    // Progress: each step on standard error; the admin's password and TOTP secret never printed.
    let steps = custodian_cli::story::STEPS + 4;
    for step in 1..=steps {
        assert!(out.stderr.contains(&format!("[{step}/{steps}] ")), "{}", out.stderr);
    }
    assert!(!out.stderr.contains("Demo-Password") && !out.stdout.contains("Demo-Password"));
    // Nothing left behind: the temporary data directory is gone.
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}
