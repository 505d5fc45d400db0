//! The whole story of one tenant, driven over HTTP against a running server and simulator: what
//! `custodian demo` shows and what the end-to-end tests run against `custodian serve` processes.
//!
//! The first admin exists already (created by `custodian init` or in-process); [`run`] logs them in with
//! password and TOTP (ACC-2), creates the tenant and two colleagues (an account manager and an analyst, so a
//! change has a proposer and a different approver: CAM-1). The account manager connects the tenant on each
//! of the five platforms through their OAuth flows (AUTH-2: consent URL → the simulator's consent page → the
//! server's callback), validates and syncs each grant; the analyst proposes a campaign change on Meta, the
//! account manager approves and executes it (CAM-1, CAM-2); one commerce grant is revoked and its purge
//! receipt kept (RET-3, RET-6); the tenant's audit chain is verified over the API (AUD-2).
//!
//! The story plays the client's browser too: it opens each consent page and delivers the redirect to the
//! server. The redirect goes to the server's public URL ([`StoryTargets::public_url`]); the story sends its
//! path and query to [`StoryTargets::server`], as a reverse proxy in front of the server would (the two are
//! the same URL when nothing stands in between).

use std::collections::BTreeMap;

use anyhow::{Context as _, bail, ensure};
use custodian_core::personnel::totp::{self, TotpConfig, TotpSecret};
use custodian_http::{HttpClient, HttpConfig, Method, Request, Url};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};
use time::OffsetDateTime;

/// The steps [`run`] reports through its progress callback.
pub const STEPS: usize = 9;

/// The platforms the story connects, in order.
pub const PLATFORMS: [&str; 5] = ["meta", "tiktok", "tiktok-shop", "amazon", "ebay"];

/// The commerce grant the story revokes.
pub const REVOKED: &str = "amazon";

/// Where and as whom the story runs.
#[derive(Debug, Clone)]
pub struct StoryTargets {
    /// Where the server's API answers (`http://127.0.0.1:PORT`).
    pub server: String,
    /// The server's configured public URL: where the platforms send the browser back to
    /// (`{public_url}/v1/oauth/{platform}/callback`). Usually the same as `server`.
    pub public_url: String,
    /// The first admin, who exists already.
    pub admin_email: String,
    /// The admin's password; the two colleagues the story creates get it too.
    pub admin_password: SecretString,
    /// The admin's TOTP secret (base32), for the login codes.
    pub admin_totp_secret: SecretString,
    /// The tenant to create (a new id on this server).
    pub tenant: String,
}

/// Runs the story; `progress` hears each of the [`STEPS`] steps as it starts. Returns the summary: the
/// grants (`platform`, `id`, `connected_state`, `state`, `rows_synced`), the executed `change`, the
/// `revoked` grant with its purge `receipt`, the `tenant_chain` verification and the `people` created.
pub async fn run(targets: &StoryTargets, progress: &mut dyn FnMut(&str)) -> anyhow::Result<Value> {
    let api = Api::new(&targets.server, targets.admin_password.clone())?;
    let tenant = targets.tenant.as_str();
    let ready = api.expect(200, Method::GET, "/readyz", None, None).await?;
    ensure!(ready["status"] == "ready", "the server is not ready: {ready}");

    progress("logging the first admin in (password and TOTP)");
    let admin_token = api.login(&targets.admin_email, targets.admin_totp_secret.expose_secret()).await?;

    progress("creating the tenant and two colleagues (account manager, analyst)");
    let body = json!({"id": tenant, "name": format!("{tenant} client")});
    api.expect(201, Method::POST, "/v1/tenants", Some(&admin_token), Some(body)).await?;
    let manager_email = format!("manager@{tenant}.example");
    let analyst_email = format!("analyst@{tenant}.example");
    let mut secrets = BTreeMap::new();
    for (email, role) in [(&manager_email, "account_manager"), (&analyst_email, "analyst")] {
        let body = json!({
            "email": email,
            "password": targets.admin_password.expose_secret(),
            "roles": [role],
            "tenants": [tenant],
        });
        let created = api.expect(201, Method::POST, "/v1/people", Some(&admin_token), Some(body)).await?;
        let secret = created["totp"]["secret"].as_str().context("no totp secret for the new person")?;
        secrets.insert(email.clone(), secret.to_owned());
    }
    let manager = api.login(&manager_email, &secrets[&manager_email]).await?;
    let analyst = api.login(&analyst_email, &secrets[&analyst_email]).await?;

    progress("connecting the tenant on five platforms through their oauth consent");
    let browser = HttpClient::new(HttpConfig { allow_plain_loopback: true, ..HttpConfig::default() })?;
    let grants_path = format!("/v1/tenants/{tenant}/grants");
    let mut grants: Vec<(String, String)> = Vec::new();
    let mut connected: BTreeMap<String, String> = BTreeMap::new();
    for platform in PLATFORMS {
        let body = json!({"platform": platform, "tasks": tasks(platform), "pii": platform == "amazon"});
        let started = api
            .expect(201, Method::POST, &grants_path, Some(&manager), Some(body))
            .await
            .with_context(|| format!("cannot connect {platform}"))?;
        let consent = started["consent_url"].as_str().context("no consent url")?;
        // The client's browser: the consent page redirects back to the callback with a code.
        let page = browser.send(Request::get(browser.check_url(consent)?)).await?;
        ensure!(page.status == 302, "{platform}'s consent page answered {}", page.status);
        let location = page.header("location").context("the consent page did not redirect")?.to_owned();
        let location = Url::parse(&location).context("the consent page redirected to a bad url")?;
        let callback = crate::callback_url(&targets.public_url, platform);
        ensure!(location.as_str().starts_with(&callback), "{platform} redirected elsewhere: {location}");
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

    progress("syncing each grant");
    let mut synced = BTreeMap::new();
    let now = OffsetDateTime::now_utc();
    // Reporting: the last full week up to yesterday (an advertiser's time zone may still be on yesterday;
    // platforms refuse dates in their future).
    let yesterday = now.date() - time::Duration::days(1);
    let week =
        json!({"from": (yesterday - time::Duration::days(6)).to_string(), "to": yesterday.to_string()});
    for (platform, id) in &grants {
        // Orders: the server's default window (up to the platform's data delay).
        let body = if matches!(platform.as_str(), "meta" | "tiktok") { week.clone() } else { json!({}) };
        let reply = api
            .expect(200, Method::POST, &format!("{grants_path}/{id}/syncs"), Some(&manager), Some(body))
            .await
            .with_context(|| format!("cannot sync {platform}"))?;
        let rows: u64 =
            reply["runs"].as_array().into_iter().flatten().filter_map(|r| r["records"].as_u64()).sum();
        synced.insert(platform.clone(), rows);
        // Every kind each platform offers has data in the window (reporting, campaigns, orders, stock): a
        // kind that stored nothing would leave that part of the story empty.
        let mut per_kind: BTreeMap<&str, u64> = BTreeMap::new();
        for run in reply["runs"].as_array().into_iter().flatten() {
            *per_kind.entry(run["kind"].as_str().unwrap_or("?")).or_default() +=
                run["records"].as_u64().unwrap_or(0);
        }
        ensure!(!per_kind.is_empty(), "{platform}'s sync ran nothing: {reply}");
        for (kind, fetched) in &per_kind {
            // A run that fetched nothing is fine when the data is already there: another process's
            // scheduled sync of the same grant may have fetched it first (the checkpoint moved on).
            if *fetched == 0 && !dataset_holds(&api, tenant, &manager, kind, id).await? {
                bail!("{platform}'s sync stored nothing of {kind}: {per_kind:?}");
            }
        }
    }

    progress("proposing a campaign change on meta (analyst)");
    let (meta_grant, change) = propose(&api, tenant, &analyst, &grants).await?;

    progress("approving and executing it (account manager: four eyes)");
    let change_id = change["change"]["id"].as_str().context("no change id")?.to_owned();
    let changes = format!("/v1/tenants/{tenant}/changes/{change_id}");
    api.expect(200, Method::POST, &format!("{changes}/approve"), Some(&manager), None).await?;
    let diff = json!({
        "account": change["change"]["account"],
        "campaign": change["change"]["campaign"],
        "changes": change["change"]["changes"],
    });
    let executed =
        api.expect(200, Method::POST, &format!("{changes}/execute"), Some(&manager), Some(diff)).await?;

    progress(&format!("revoking the {REVOKED} grant (purge at once)"));
    let revoked = grants.iter().find(|(p, _)| p == REVOKED).map(|(_, id)| id.clone()).context("no grant")?;
    let receipt = api
        .expect(200, Method::POST, &format!("{grants_path}/{revoked}/revoke"), Some(&manager), None)
        .await?;

    progress("reading the grants back");
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

    progress("verifying the tenant's audit chain over the api");
    let chain = api
        .expect(200, Method::POST, &format!("/v1/tenants/{tenant}/audit/verify"), Some(&admin_token), None)
        .await?;

    Ok(json!({
        "tenant": tenant,
        "server": targets.server,
        "people": [targets.admin_email, manager_email, analyst_email],
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
        "tenant_chain": {
            "valid": chain["valid"],
            "records_checked": chain["records_checked"],
            "head_seq": chain["head"]["seq"],
        },
    }))
}

/// The tasks the story connects on `platform`.
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

/// The analyst proposes pausing (or re-activating) the first synced Meta campaign.
async fn propose(
    api: &Api,
    tenant: &str,
    analyst: &str,
    grants: &[(String, String)],
) -> anyhow::Result<(String, Value)> {
    let meta = grants.iter().find(|(p, _)| p == "meta").map(|(_, id)| id.clone()).context("no meta grant")?;
    let campaigns = api
        .expect(
            200,
            Method::GET,
            &format!("/v1/tenants/{tenant}/campaigns?grant={meta}&limit=1000"),
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
        .expect(201, Method::POST, &format!("/v1/tenants/{tenant}/changes"), Some(analyst), Some(body))
        .await?;
    Ok((meta, change))
}

/// Whether the tenant's dataset of a sync kind holds at least one record from the grant.
async fn dataset_holds(
    api: &Api,
    tenant: &str,
    token: &str,
    kind: &str,
    grant: &str,
) -> anyhow::Result<bool> {
    let (path, field) = match kind {
        "reporting" => ("report-rows", "report_rows"),
        "orders" => ("orders", "orders"),
        "stock" => ("stock", "stock"),
        other => bail!("the sync ran an unknown kind: {other}"),
    };
    let page = api
        .expect(
            200,
            Method::GET,
            &format!("/v1/tenants/{tenant}/{path}?grant={grant}&limit=1"),
            Some(token),
            None,
        )
        .await?;
    Ok(page[field].as_array().is_some_and(|records| !records.is_empty()))
}

/// JSON over HTTP to the server.
struct Api {
    client: HttpClient,
    base: String,
    password: SecretString,
}

impl Api {
    fn new(base: &str, password: SecretString) -> anyhow::Result<Self> {
        let client = HttpClient::new(HttpConfig { allow_plain_loopback: true, ..HttpConfig::default() })?;
        Ok(Self { client, base: base.trim_end_matches('/').to_owned(), password })
    }

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
            // The path only: a callback's query carries the authorization code.
            let path = path.split('?').next().unwrap_or_default();
            bail!("{method} {path} answered {status} (expected {expected}): {body}");
        }
        Ok(body)
    }

    /// Logs `email` in with the story's password and the current code of `secret`; the session token.
    async fn login(&self, email: &str, secret: &str) -> anyhow::Result<String> {
        let code = totp_now(secret)?;
        let body = json!({"email": email, "password": self.password.expose_secret(), "code": code});
        let reply = self.expect(200, Method::POST, "/v1/auth/login", None, Some(body)).await?;
        reply["token"].as_str().map(str::to_owned).context("the login answered no token")
    }
}

/// The current TOTP code of a base32 secret.
fn totp_now(secret: &str) -> anyhow::Result<String> {
    let secret = TotpSecret::from_base32(&SecretString::from(secret.to_owned()))
        .map_err(|e| anyhow::anyhow!("bad totp secret: {e}"))?;
    Ok(totp::code_at(&secret, &TotpConfig::default(), OffsetDateTime::now_utc().unix_timestamp()))
}
