//! `custodian demo`: the whole story on one machine, in-process, on loopback, in a temporary data directory.
//!
//! The simulator and a development server start on free loopback ports (embedded defaults, plain http to
//! loopback allowed); the first admin is created (its TOTP code computed here), logs in over HTTP and
//! creates a tenant and two colleagues (an account manager and an analyst, so a change has a proposer and a
//! different approver: CAM-1). The account manager connects the tenant on each of the five platforms
//! through their OAuth flows (AUTH-2: consent URL → the simulator's consent page → the server's callback),
//! validates and syncs each grant; the analyst proposes a campaign change on Meta, the account manager
//! approves and executes it (CAM-1, CAM-2); one commerce grant is revoked and its purge receipt shown
//! (RET-3, RET-6); every audit chain is verified (AUD-2). Progress goes to standard error; the summary to
//! standard output (one JSON document with `--json`). Everything stops and the directory is removed at the
//! end, on success and failure alike.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail, ensure};
use custodian_core::personnel::totp::{self, TotpConfig, TotpSecret};
use custodian_core::ports::Clock as _;
use custodian_http::{HttpClient, HttpConfig, Method, Request, Url};
use custodian_server::config::Config;
use custodian_server::init_admin;
use custodian_server::runtime::{self, Runtime, SystemClock};
use custodian_sim::{Sim, SimConfig};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::commands::{sim_platforms, sim_toml, verify_all};
use crate::output::Output;

/// The demo's people. Their passwords only ever live in the temporary data directory's store.
const ADMIN: &str = "admin@demo.example";
const MANAGER: &str = "manager@demo.example";
const ANALYST: &str = "analyst@demo.example";
const PASSWORD: &str = "Demo-Password-2026!";
const TENANT: &str = "demo";
/// The commerce grant the demo revokes.
const REVOKED: &str = "amazon";
const STEPS: usize = 11;

/// Step progress on standard error.
struct Progress {
    step: usize,
}

impl Progress {
    fn next(&mut self, what: &str) {
        self.step += 1;
        #[expect(
            clippy::print_stderr,
            reason = "the demo's progress is for the person watching the terminal"
        )]
        {
            eprintln!("[{}/{STEPS}] {what}", self.step);
        }
    }
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    /// A fresh directory named after this process and the server's port (unique while it is bound).
    fn create(port: u16) -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!("custodian-demo-{}-{port}", std::process::id()));
        std::fs::create_dir(&path).with_context(|| format!("cannot create `{}`", path.display()))?;
        Ok(Self(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// JSON over HTTP to the demo server.
struct Api {
    client: HttpClient,
    base: String,
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let url = self.client.check_url(&format!("{}{path}", self.base))?;
        let mut request = Request::new(method, url);
        if let Some(token) = token {
            request = request.secret_header("authorization", &SecretString::from(format!("Bearer {token}")));
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = self.client.send(request).await.with_context(|| format!("{path} did not answer"))?;
        let body = if response.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&response.body).unwrap_or(Value::Null)
        };
        Ok((response.status, body))
    }

    /// `method path` that must answer `expected`; its JSON body.
    async fn expect(
        &self,
        expected: u16,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let (status, body) = self.call(method.clone(), path, token, body).await?;
        if status != expected {
            bail!("{method} {path} answered {status} (expected {expected}): {body}");
        }
        Ok(body)
    }

    /// Logs `email` in with the current code of `secret`; the session token.
    async fn login(&self, email: &str, secret: &str) -> anyhow::Result<String> {
        let code = totp_now(secret)?;
        let body = json!({"email": email, "password": PASSWORD, "code": code});
        let reply = self.expect(200, Method::POST, "/v1/auth/login", None, Some(body)).await?;
        reply["token"].as_str().map(str::to_owned).context("the login answered no token")
    }
}

fn totp_now(secret: &str) -> anyhow::Result<String> {
    let secret = TotpSecret::from_base32(&SecretString::from(secret.to_owned()))
        .map_err(|e| anyhow::anyhow!("bad totp secret: {e}"))?;
    Ok(totp::code_at(&secret, &TotpConfig::default(), SystemClock.now().unix_timestamp()))
}

/// The tasks the demo connects on `platform`.
fn tasks(platform: &str) -> Vec<&'static str> {
    match platform {
        "meta" => vec!["read_reporting", "read_campaigns", "change_campaign"],
        "tiktok" => vec!["read_reporting", "read_campaigns"],
        // Orders and stock on each commerce platform. The simulated Amazon app is registered with the
        // orders, PII and listings roles, and the adapter refuses a consent broader than the enabled tasks:
        // its PII switch is on too (MIN-2).
        _ => vec!["read_orders", "update_stock"],
    }
}

/// The simulator with every platform's redirect pointing at the server's callback under `public`.
fn sim_config(public: &str) -> SimConfig {
    let callback = |p: &str| format!("{public}/v1/oauth/{p}/callback");
    let mut config = SimConfig::default();
    config.meta.redirect_uris = vec![callback("meta")];
    config.tiktok.redirect_uris = vec![callback("tiktok")];
    config.tiktok_shop.redirect_uri = callback("tiktok-shop");
    config.amazon.redirect_uris = vec![callback("amazon")];
    // eBay redirects to the accept URL registered for the RuName.
    config.ebay.accept_url = callback("ebay");
    config
}

/// `custodian demo`.
pub(crate) async fn demo(out: &Output) -> anyhow::Result<ExitCode> {
    let mut progress = Progress { step: 0 };
    progress.next("starting the platform simulator and the server on loopback");
    let listener = runtime::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr().context("cannot read the listening address")?;
    let dir = TempDir::create(addr.port())?;
    let public = format!("http://{addr}");
    let sim = Sim::new(sim_config(&public))
        .start(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .context("cannot start the simulator")?;
    let file = dir.path().join("custodian.toml");
    std::fs::write(&file, sim_toml(&sim_platforms(sim.base_url())))
        .context("cannot write the demo configuration")?;
    let env = BTreeMap::from([
        ("CUSTODIAN_DATA_DIR".to_owned(), dir.path().join("data").display().to_string()),
        ("CUSTODIAN_LISTEN".to_owned(), addr.to_string()),
        ("CUSTODIAN_PUBLIC_URL".to_owned(), public.clone()),
        ("CUSTODIAN_ENVIRONMENT".to_owned(), "development".to_owned()),
    ]);
    let built = match Config::load(Some(&file), &env) {
        Ok(config) => Runtime::build(config).await.map_err(anyhow::Error::from),
        Err(e) => Err(anyhow::Error::from(e)),
    };
    let runtime = match built {
        Ok(runtime) => runtime,
        Err(e) => {
            sim.shutdown().await;
            return Err(e.context("cannot build the demo server"));
        }
    };
    let state = runtime.state().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(runtime::serve_on(listener, runtime.router(), async move {
        let _ = stopped.await;
    }));

    // Ctrl-C or SIGTERM ends the story early; the clean-up below still runs.
    let story = match runtime::shutdown_signal() {
        Ok(interrupted) => tokio::select! {
            told = story(&mut progress, &state, &runtime, &public) => told,
            () = interrupted => Err(anyhow::anyhow!("interrupted")),
        },
        Err(e) => Err(e.into()),
    };

    // Stop everything on every path: the server (requests in flight finish), the store, the simulator.
    let _ = stop.send(());
    let served = server.await;
    runtime.close().await;
    drop(state);
    sim.shutdown().await;
    drop(dir);
    let summary = story?;
    served.context("the demo server task failed")??;

    out.emit(&summary, summary_text(&summary));
    Ok(ExitCode::SUCCESS)
}

async fn story(
    progress: &mut Progress,
    state: &custodian_server::AppState,
    runtime: &Runtime,
    public: &str,
) -> anyhow::Result<Value> {
    let api = Api {
        client: HttpClient::new(HttpConfig { allow_plain_loopback: true, ..HttpConfig::default() })?,
        base: public.to_owned(),
    };
    let ready = api.expect(200, Method::GET, "/readyz", None, None).await?;
    ensure!(ready["status"] == "ready", "the server is not ready: {ready}");

    progress.next("creating the first admin and logging in (password and TOTP)");
    let admin = init_admin(state.deps(), state.settings(), ADMIN, &SecretString::from(PASSWORD))
        .await
        .context("cannot create the first admin")?;
    let admin_token = api.login(ADMIN, admin.totp_secret.expose_secret()).await?;

    progress.next("creating the tenant and two colleagues (account manager, analyst)");
    let tenant = json!({"id": TENANT, "name": "Demo Client Ltd"});
    api.expect(201, Method::POST, "/v1/tenants", Some(&admin_token), Some(tenant)).await?;
    let mut secrets = BTreeMap::new();
    for (email, role) in [(MANAGER, "account_manager"), (ANALYST, "analyst")] {
        let body = json!({"email": email, "password": PASSWORD, "roles": [role], "tenants": [TENANT]});
        let created = api.expect(201, Method::POST, "/v1/people", Some(&admin_token), Some(body)).await?;
        let secret = created["totp"]["secret"].as_str().context("no totp secret for the new person")?;
        secrets.insert(email, secret.to_owned());
    }
    let manager = api.login(MANAGER, &secrets[MANAGER]).await?;
    let analyst = api.login(ANALYST, &secrets[ANALYST]).await?;

    progress.next("connecting the tenant on five platforms through their oauth consent");
    let browser = HttpClient::new(HttpConfig { allow_plain_loopback: true, ..HttpConfig::default() })?;
    let grants_path = format!("/v1/tenants/{TENANT}/grants");
    let mut grants: Vec<(String, String)> = Vec::new();
    let mut connected: BTreeMap<String, String> = BTreeMap::new();
    for platform in ["meta", "tiktok", "tiktok-shop", "amazon", "ebay"] {
        let body = json!({"platform": platform, "tasks": tasks(platform), "pii": platform == "amazon"});
        let started = api
            .expect(201, Method::POST, &grants_path, Some(&manager), Some(body))
            .await
            .with_context(|| format!("cannot connect {platform}"))?;
        let consent = started["consent_url"].as_str().context("no consent url")?;
        // The client's browser: the consent page redirects back to our callback with a code.
        let page = browser.send(Request::get(browser.check_url(consent)?)).await?;
        ensure!(page.status == 302, "{platform}'s consent page answered {}", page.status);
        let location = page.header("location").context("the consent page did not redirect")?.to_owned();
        let location = Url::parse(&location).context("the consent page redirected to a bad url")?;
        ensure!(
            location.as_str().starts_with(&format!("{public}/v1/oauth/{platform}/callback")),
            "{platform} redirected elsewhere: {location}"
        );
        let path = format!("{}?{}", location.path(), location.query().unwrap_or(""));
        let done = api.expect(200, Method::GET, &path, None, None).await?;
        let id = done["grant"]["id"].as_str().context("the callback answered no grant")?.to_owned();
        let validated = api
            .expect(200, Method::POST, &format!("{grants_path}/{id}/validate"), Some(&manager), None)
            .await?;
        ensure!(validated["outcome"] == "active", "{platform}'s grant did not validate: {validated}");
        connected.insert(id.clone(), validated["grant"]["state"].as_str().unwrap_or("").to_owned());
        grants.push((platform.to_owned(), id));
    }

    progress.next("syncing each grant");
    let mut synced = BTreeMap::new();
    // Reporting: the last full week up to yesterday (an advertiser's time zone may still be on yesterday;
    // platforms refuse dates in their future).
    let yesterday = SystemClock.now().date() - time::Duration::days(1);
    let week =
        json!({"from": (yesterday - time::Duration::days(6)).to_string(), "to": yesterday.to_string()});
    // Orders up to a minute ago: a platform whose clock counts whole seconds may see "now" as the future.
    let before = (SystemClock.now() - time::Duration::minutes(1)).replace_nanosecond(0)?;
    let orders = json!({"updated_before": before.format(&time::format_description::well_known::Rfc3339)?});
    for (platform, id) in &grants {
        let body = if matches!(platform.as_str(), "meta" | "tiktok") { week.clone() } else { orders.clone() };
        let reply = api
            .expect(200, Method::POST, &format!("{grants_path}/{id}/syncs"), Some(&manager), Some(body))
            .await
            .with_context(|| format!("cannot sync {platform}"))?;
        let rows: u64 =
            reply["runs"].as_array().into_iter().flatten().filter_map(|r| r["records"].as_u64()).sum();
        synced.insert(platform.clone(), rows);
    }

    progress.next("proposing a campaign change on meta (analyst)");
    let (meta_grant, change) = propose(&api, &analyst, &grants).await?;

    progress.next("approving and executing it (account manager: four eyes)");
    let change_id = change["change"]["id"].as_str().context("no change id")?.to_owned();
    let changes = format!("/v1/tenants/{TENANT}/changes/{change_id}");
    api.expect(200, Method::POST, &format!("{changes}/approve"), Some(&manager), None).await?;
    let diff = json!({
        "account": change["change"]["account"],
        "campaign": change["change"]["campaign"],
        "changes": change["change"]["changes"],
    });
    let executed =
        api.expect(200, Method::POST, &format!("{changes}/execute"), Some(&manager), Some(diff)).await?;

    progress.next(&format!("revoking the {REVOKED} grant (purge at once)"));
    let revoked = grants.iter().find(|(p, _)| p == REVOKED).map(|(_, id)| id.clone()).context("no grant")?;
    let receipt = api
        .expect(200, Method::POST, &format!("{grants_path}/{revoked}/revoke"), Some(&manager), None)
        .await?;

    progress.next("reading the grants back");
    let listed = api.expect(200, Method::GET, &grants_path, Some(&manager), None).await?;
    let listed = listed["grants"].as_array().cloned().unwrap_or_default();
    let mut grant_states = Vec::new();
    for (platform, id) in &grants {
        let now =
            listed.iter().find(|g| g["id"] == id.as_str()).context("a grant is missing from the list")?;
        grant_states.push(json!({
            "platform": platform,
            "id": id,
            "connected_state": connected.get(id),
            "state": now["state"],
            "rows_synced": synced.get(platform).copied().unwrap_or(0),
        }));
    }

    progress.next("verifying every audit chain");
    let reports = verify_all(runtime.store(), None).await?;
    let chains: Vec<Value> = reports
        .iter()
        .map(|r| json!({"tenant": r.tenant.as_str(), "intact": r.is_valid(), "records": r.records_checked}))
        .collect();

    progress.next("stopping the server and the simulator");
    Ok(json!({
        "tenant": TENANT,
        "server": public,
        "grants": grant_states,
        "connected": grants.len(),
        "change": {
            "grant": meta_grant,
            "id": change_id,
            "state": executed["change"]["state"],
            "outcome": executed["outcome"],
            "account": change["change"]["account"],
            "campaign": change["change"]["campaign"],
            "changes": change["change"]["changes"],
        },
        "revoked": {"platform": REVOKED, "grant": revoked, "receipt": receipt["receipt"]},
        "audit": {"intact": reports.iter().all(|r| r.is_valid()), "chains": chains},
    }))
}

/// The analyst proposes pausing (or re-activating) the first synced Meta campaign.
async fn propose(api: &Api, analyst: &str, grants: &[(String, String)]) -> anyhow::Result<(String, Value)> {
    let meta = grants.iter().find(|(p, _)| p == "meta").map(|(_, id)| id.clone()).context("no meta grant")?;
    let campaigns = api
        .expect(
            200,
            Method::GET,
            &format!("/v1/tenants/{TENANT}/campaigns?grant={meta}&limit=1000"),
            Some(analyst),
            None,
        )
        .await?;
    let campaign = campaigns["campaigns"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["grant"] == meta.as_str() && (c["status"] == "active" || c["status"] == "paused"))
        .context("no meta campaign was synced")?;
    let (from, to) = if campaign["status"] == "active" { ("active", "paused") } else { ("paused", "active") };
    let body = json!({
        "grant": meta,
        "account": campaign["account"],
        "campaign": campaign["id"],
        "changes": [{"field": "status", "from": from, "to": to}],
    });
    let change = api
        .expect(201, Method::POST, &format!("/v1/tenants/{TENANT}/changes"), Some(analyst), Some(body))
        .await?;
    Ok((meta, change))
}

fn summary_text(summary: &Value) -> String {
    let mut text = format!(
        "custodian demo: tenant `{}` on {}\n\ngrants:\n",
        summary["tenant"].as_str().unwrap_or(""),
        summary["server"].as_str().unwrap_or("")
    );
    for g in summary["grants"].as_array().into_iter().flatten() {
        text.push_str(&format!(
            "  {:<12} {:<9} rows synced: {}\n",
            g["platform"].as_str().unwrap_or(""),
            g["state"].as_str().unwrap_or(""),
            g["rows_synced"]
        ));
    }
    let change = &summary["change"];
    text.push_str(&format!(
        "\ncampaign change {} on meta: {} ({})\n",
        change["id"].as_str().unwrap_or(""),
        change["state"].as_str().unwrap_or(""),
        change["campaign"].as_str().unwrap_or("")
    ));
    let receipt = &summary["revoked"]["receipt"];
    text.push_str(&format!(
        "\nrevoked {} grant {}: purge receipt {} — {} records deleted, clean: {}\n",
        summary["revoked"]["platform"].as_str().unwrap_or(""),
        summary["revoked"]["grant"].as_str().unwrap_or(""),
        receipt["id"].as_str().unwrap_or(""),
        receipt["total_deleted"],
        receipt["clean"]
    ));
    for item in receipt["deleted"].as_array().into_iter().flatten() {
        text.push_str(&format!(
            "    {} {}: {}\n",
            item["store"].as_str().unwrap_or(""),
            item["what"].as_str().unwrap_or(""),
            item["count"]
        ));
    }
    text.push_str(&format!("\naudit chains intact: {}\n", summary["audit"]["intact"]));
    text
}
