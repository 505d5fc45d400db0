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

use anyhow::Context as _;
use custodian_cli::story::{self, StoryTargets};
use custodian_cli::{sim_config, sim_platforms, sim_toml};
use custodian_server::config::Config;
use custodian_server::init_admin;
use custodian_server::runtime::{self, Runtime};
use custodian_sim::Sim;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::commands::verify_all;
use crate::output::Output;

/// The demo's first admin. The password only ever lives in the temporary data directory's store.
const ADMIN: &str = "admin@demo.example";
const PASSWORD: &str = "Demo-Password-2026!";
const TENANT: &str = "demo";
/// Starting, the first admin, the story's steps, every chain verified, stopping.
const STEPS: usize = story::STEPS + 4;

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

/// `custodian demo`.
pub(crate) async fn demo(out: &Output) -> anyhow::Result<ExitCode> {
    let mut progress = Progress { step: 0 };
    progress.next("starting the platform simulator and the server on loopback");
    let listener = runtime::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr().context("cannot read the listening address")?;
    let dir = TempDir::create(addr.port())?;
    let public = format!("http://{addr}");
    let sim = Sim::new(sim_config(0, Some(&public), time::OffsetDateTime::now_utc().unix_timestamp()))
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
            told = whole_story(&mut progress, &state, &runtime, &public) => told,
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

/// The first admin in-process, the shared [`story`] over HTTP, then every chain verified from the store.
async fn whole_story(
    progress: &mut Progress,
    state: &custodian_server::AppState,
    runtime: &Runtime,
    public: &str,
) -> anyhow::Result<Value> {
    progress.next("creating the first admin");
    let password = SecretString::from(PASSWORD);
    let admin = init_admin(state.deps(), state.settings(), ADMIN, &password)
        .await
        .context("cannot create the first admin")?;
    let targets = StoryTargets {
        server: public.to_owned(),
        public_url: public.to_owned(),
        admin_email: ADMIN.to_owned(),
        admin_password: password,
        admin_totp_secret: SecretString::from(admin.totp_secret.expose_secret().to_owned()),
        tenant: TENANT.to_owned(),
    };
    let mut summary = story::run(&targets, &mut |step| progress.next(step)).await?;

    progress.next("verifying every audit chain");
    let reports = verify_all(runtime.store(), None).await?;
    let chains: Vec<Value> = reports
        .iter()
        .map(|r| json!({"tenant": r.tenant.as_str(), "intact": r.is_valid(), "records": r.records_checked}))
        .collect();
    summary["audit"] = json!({"intact": reports.iter().all(|r| r.is_valid()), "chains": chains});

    progress.next("stopping the server and the simulator");
    Ok(summary)
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
