//! The commands: each loads what it needs, calls `custodian-server` (or `custodian-sim`) and reports.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use custodian_core::tenant::TenantId;
use custodian_server::config::Config;
use custodian_server::runtime::{self, Runtime, SystemClock};
use custodian_server::{ChainReport, init_admin, verify_audit_chain};
use custodian_sim::Sim;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};

use crate::output::Output;

/// Exit code of `audit verify` when a chain does not verify.
const CHAIN_BROKEN: u8 = 2;

fn load(file: Option<&Path>, env: &BTreeMap<String, String>) -> anyhow::Result<Config> {
    Config::load(file, env).context("invalid configuration")
}

/// `custodian serve`: builds the runtime (ENV-1 first), binds, reports the address, serves the API and runs
/// the background worker until Ctrl-C or SIGTERM.
pub(crate) async fn serve(
    out: &Output,
    file: Option<&Path>,
    env: &BTreeMap<String, String>,
    listen: Option<SocketAddr>,
) -> anyhow::Result<ExitCode> {
    let config = load(file, env)?;
    let environment = config.environment;
    let addr = listen.unwrap_or(config.listen);
    let runtime = Runtime::build(config).await?;
    let shutdown = runtime::shutdown_signal()?;
    let listener = runtime::bind(addr).await?;
    let local = listener.local_addr().context("cannot read the listening address")?;
    out.emit(
        &json!({"listening": local.to_string(), "url": format!("http://{local}"), "environment": environment.to_string()}),
        format_args!("custodian ({environment}) listening on http://{local}"),
    );
    // The API and the background worker, until the signal.
    runtime::run(runtime, listener, shutdown).await?;
    out.emit(&json!({"stopped": true}), "stopped");
    Ok(ExitCode::SUCCESS)
}

/// Reads the password: the first line of standard input, without its line ending.
fn read_password() -> anyhow::Result<SecretString> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    line.clear();
    if password.is_empty() {
        bail!(
            "no password on standard input: pipe one line, e.g. `custodian init --email … < password-file`"
        );
    }
    Ok(SecretString::from(password))
}

/// `custodian init`: the first admin, the TOTP secret shown once.
pub(crate) async fn init(
    out: &Output,
    file: Option<&Path>,
    env: &BTreeMap<String, String>,
    email: &str,
) -> anyhow::Result<ExitCode> {
    let config = load(file, env)?;
    let password = read_password()?;
    let runtime = Runtime::build(config).await?;
    let created = init_admin(runtime.state().deps(), runtime.state().settings(), email, &password).await;
    runtime.close().await;
    let admin = created.context("cannot create the first admin")?;
    let secret = admin.totp_secret.expose_secret();
    let uri = admin.otpauth_uri.expose_secret();
    out.emit(
        &json!({"person": admin.person.as_str(), "totp_secret": secret, "otpauth_uri": uri}),
        format_args!(
            "created admin `{}`\n\nTOTP secret (shown once, add it to an authenticator app now):\n  {secret}\n\
             enrolment uri (for a QR code):\n  {uri}",
            admin.person.as_str()
        ),
    );
    Ok(ExitCode::SUCCESS)
}

fn report_json(report: &ChainReport) -> Value {
    json!({
        "tenant": report.tenant.as_str(),
        "intact": report.is_valid(),
        "head_seq": report.head.seq,
        "checkpoint_seq": report.checkpoint_seq,
        "records_checked": report.records_checked,
        "failure": report.failure.as_ref().map(|f| json!({"seq": f.seq, "reason": f.reason})),
    })
}

fn report_text(report: &ChainReport) -> String {
    match &report.failure {
        None => format!(
            "chain `{}`: intact (records checked: {}, head: {})",
            report.tenant.as_str(),
            report.records_checked,
            report.head.seq
        ),
        Some(failure) => {
            format!("chain `{}`: BROKEN at seq {}: {}", report.tenant.as_str(), failure.seq, failure.reason)
        }
    }
}

/// `custodian audit verify`: recomputes chains straight from the store; exit code 2 when one is broken.
pub(crate) async fn audit_verify(
    out: &Output,
    file: Option<&Path>,
    env: &BTreeMap<String, String>,
    tenant: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let config = load(file, env)?;
    runtime::check_environment(&config)?;
    let store = runtime::open_store(&config, Arc::new(SystemClock)).await?;
    let result = verify_all(&store, tenant).await;
    store.close().await;
    let reports = result?;
    let intact = reports.iter().all(ChainReport::is_valid);
    let mut text = String::new();
    for report in &reports {
        let _ = writeln!(text, "{}", report_text(report));
    }
    let _ = write!(
        text,
        "{}",
        if intact { "audit trail intact" } else { "audit trail BROKEN: see the chains above" }
    );
    out.emit(&json!({"intact": intact, "chains": reports.iter().map(report_json).collect::<Vec<_>>()}), text);
    Ok(if intact { ExitCode::SUCCESS } else { ExitCode::from(CHAIN_BROKEN) })
}

pub(crate) async fn verify_all(
    store: &runtime::Store,
    tenant: Option<&str>,
) -> anyhow::Result<Vec<ChainReport>> {
    let tenants = match tenant {
        Some(raw) => vec![TenantId::new(raw).map_err(|e| anyhow::anyhow!("`{raw}`: {e}"))?],
        None => store.audit.chains().await.context("cannot list the audit chains")?,
    };
    let mut reports = Vec::with_capacity(tenants.len());
    for tenant in &tenants {
        let report = verify_audit_chain(store.audit.as_ref(), tenant)
            .await
            .with_context(|| format!("cannot read the audit chain of `{}`", tenant.as_str()))?;
        reports.push(report);
    }
    Ok(reports)
}

// The simulator wiring lives in the library, shared with `custodian demo` and the end-to-end tests.
pub(crate) use custodian_cli::{sim_config, sim_platforms, sim_toml};

/// `custodian sim`: the simulator until Ctrl-C or SIGTERM.
/// With `redirect_to` (a custodian server's public URL) the consent pages send the browser back to its
/// OAuth callbacks; without, to the simulator's built-in registrations.
pub(crate) async fn sim(
    out: &Output,
    listen: SocketAddr,
    seed: u64,
    redirect_to: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let shutdown = runtime::shutdown_signal()?;
    let config = sim_config(seed, redirect_to, time::OffsetDateTime::now_utc().unix_timestamp());
    let running = Sim::new(config).start(listen).await.context("cannot start the simulator")?;
    let base = running.base_url().to_owned();
    let platforms = sim_platforms(&base);
    let json_platforms: serde_json::Map<String, Value> = platforms
        .iter()
        .map(|p| {
            let urls: serde_json::Map<String, Value> =
                p.base_urls.iter().map(|(k, v)| ((*k).to_owned(), Value::from(v.as_str()))).collect();
            (
                p.name.to_owned(),
                json!({"prefix": p.prefix, "url": format!("{base}{}", p.prefix), "base_urls": urls,
                       "client_id": p.client_id, "client_secret": p.client_secret}),
            )
        })
        .collect();
    let mut text = format!("simulator (seed {seed}) at {base}\n");
    for p in &platforms {
        let _ = writeln!(text, "  {:<12} {base}{}", p.name, p.prefix);
    }
    let _ = write!(
        text,
        "\nconfiguration for custodian (add to the file given with --config):\n\n{}",
        sim_toml(&platforms)
    );
    out.emit(&json!({"base_url": base, "seed": seed, "platforms": json_platforms}), text.trim_end());
    shutdown.await;
    running.shutdown().await;
    out.emit(&json!({"stopped": true}), "stopped");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests;
