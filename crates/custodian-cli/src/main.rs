//! `custodian`: the command line of Custodian, thin wiring over `custodian-server` and `custodian-sim`.
//!
//! ```text
//! custodian [--config FILE] [--json] serve [--listen ADDR]     # the API (default 127.0.0.1:8080)
//! custodian [--config FILE] [--json] init --email EMAIL        # first admin; password on standard input
//! custodian [--json] sim [--listen ADDR] [--seed N] [--redirect-to URL]  # the five simulated platforms
//! custodian [--json] demo                                      # the whole story in-process, on loopback
//! custodian [--config FILE] [--json] audit verify [--tenant ID]   # offline, from the store
//! ```
//!
//! The admin commands are thin clients of a running server's API (authentication, `authz::decide` and
//! the audit trail happen there, as for any API caller). Server: `--server URL`, else `CUSTODIAN_SERVER`,
//! else `http://127.0.0.1:8080` (https, or plain http to loopback only). Credential: `CUSTODIAN_API_KEY`,
//! else the session `login` saved (mode 0600) in `CUSTODIAN_SESSION_FILE`, else
//! `$XDG_CONFIG_HOME/custodian/session` (`~/.config/custodian/session`); it is sent only to its own server.
//!
//! ```text
//! custodian login --email EMAIL < lines   # password, then the TOTP code, one line each on stdin
//! custodian step-up < line                # TOTP code on stdin: a recent MFA for sensitive actions
//! custodian logout | whoami
//! custodian tenant create ID --name NAME [--retention CLASS=DAYS]... | list | show ID
//! custodian tenant contacts add ID --name N --role R [--email E] [--phone P] | contacts list ID
//! custodian grant connect --tenant T --platform P --task TASK... [--pii]   # prints the consent URL
//! custodian grant list|show|validate|review|revoke --tenant T [GRANT]    # revoke prints the receipt
//! custodian grant pii --tenant T GRANT on|off
//! custodian sync run --tenant T GRANT [--account KEY] [--kind K]... [--level L] [--from D] [--to D]
//! custodian sync history --tenant T GRANT
//! custodian retention policies|sweep|receipts --tenant T
//! custodian retention holds add --tenant T --scope S --reason R --ends-at TIME | list | lift HOLD
//! custodian audit list --tenant T [--from-seq N] [--limit N]
//! custodian --server URL audit verify [--tenant ID]   # via the API when --server or CUSTODIAN_SERVER is set
//! custodian rights open --tenant T --kind K --regime gdpr|ccpa [--purpose P] [--received-at TIME]
//! custodian rights list | show RID | update RID --action A [--reason R] [--new-due TIME] (--tenant T)
//! custodian rights export --tenant T [--format json|csv] [--file NAME] --out FILE   # new file, mode 0600
//! custodian rights delete-data --tenant T RID | offboard --tenant T [--out FILE]
//! custodian incident open --tenant T --severity S --summary TEXT [--grant G]...
//! custodian incident list | show|notify|remediate|close|assess IID ... (--tenant T)
//! custodian user add --email E [--name N] [--role R]... [--tenant T]... < password-line
//! custodian user list | show ID | access ID [--role R]... [--tenant T]... | totp-reset ID | disable ID
//! custodian api-key create --name N [--tenant T]... [--permission P]... [--expires-in-days N] | list | revoke ID
//! ```
//!
//! An API error `{code, message}` exits 1 with `error: <message> (<code>)` (with `--json`:
//! `{"error", "code", "status"}`); a 401 says how to log in. Progress bars (sync run, export, audit verify
//! over many chains) appear on standard error only when it is a terminal and `--json` is off.
//!
//! Configuration comes from `--config FILE` plus the `CUSTODIAN_*` environment variables, which are read
//! here (and only here) and passed to `Config::load`. With `--json` every command writes one JSON document
//! per line on standard output (errors too); logs always go to standard error.
//!
//! Exit codes: 0 success, 1 failure (including the ENV-1 refusal, which lists every violation), 2 an audit
//! chain that does not verify.

mod admin;
mod client;
mod commands;
mod demo;
mod output;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::admin::AdminCommand;
use crate::client::ClientEnv;
use crate::output::Output;

/// mimalloc instead of glibc malloc: under load the server's threads contended on glibc's arenas (a fifth
/// of its CPU in `malloc`/`free`, `cargo bench -p custodian-server --bench load` under `perf`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Custodian: client data and platform authorizations under control.
#[derive(Debug, Parser)]
#[command(name = "custodian", version)]
struct Cli {
    /// Configuration file (TOML); `CUSTODIAN_*` environment variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Write JSON on standard output (one document per line), for scripts.
    #[arg(long, global = true)]
    json: bool,
    /// The server the admin commands talk to (default `CUSTODIAN_SERVER`, else http://127.0.0.1:8080).
    #[arg(long, global = true, value_name = "URL")]
    server: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API until Ctrl-C or SIGTERM.
    Serve {
        /// Address to listen on instead of the configured one (default 127.0.0.1:8080); port 0 picks one.
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
    },
    /// Create the first admin. Reads the password (one line) from standard input and prints the TOTP
    /// secret once.
    Init {
        /// The admin's email address (their login name).
        #[arg(long)]
        email: String,
    },
    /// Run the platform simulator (Meta, TikTok, TikTok Shop, Amazon, eBay) until Ctrl-C or SIGTERM.
    Sim {
        /// Loopback address to listen on; port 0 picks one.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8090")]
        listen: SocketAddr,
        /// Seed of the generated data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The public URL of the custodian server the consent pages send the browser back to (its OAuth
        /// callbacks are registered as the simulated apps' redirect URIs).
        #[arg(long, value_name = "URL")]
        redirect_to: Option<String>,
    },
    /// Run the whole story once on this machine: simulator and server in-process on loopback, a tenant
    /// connected on five platforms, synced, a campaign change approved and executed, a grant revoked with
    /// its purge receipt, the audit chain verified. Leaves nothing behind.
    Demo,
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    #[command(flatten)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify hash chains (AUD-2): one tenant's, or every chain. Reads the store directly (offline; the
    /// configuration's database), or asks the server's API when `--server` or `CUSTODIAN_SERVER` is given.
    Verify {
        /// The tenant whose chain to verify (`_system` for the system chain); default every chain.
        #[arg(long, value_name = "ID")]
        tenant: Option<String>,
    },
    /// A page of a tenant's audit trail, from the server.
    List {
        #[arg(long, value_name = "ID")]
        tenant: String,
        /// First sequence number to show.
        #[arg(long)]
        from_seq: Option<u64>,
        /// Most records to show.
        #[arg(long)]
        limit: Option<u32>,
    },
}

/// The `CUSTODIAN_*` variables of the process environment (other variables and non-UTF-8 ones are
/// ignored). The only place the environment is read.
fn custodian_env() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| k.starts_with("CUSTODIAN_"))
        .collect()
}

/// The user's config directory: `$XDG_CONFIG_HOME`, else `$HOME/.config` (where the session is kept).
fn config_home() -> Option<PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    non_empty("XDG_CONFIG_HOME").or_else(|| non_empty("HOME").map(|home| home.join(".config")))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // The demo's own progress lines would drown in the server's request log: warnings only there.
        .with_max_level(if matches!(cli.command, Command::Demo) {
            tracing::Level::WARN
        } else {
            tracing::Level::INFO
        })
        .with_target(false)
        .init();
    let out = Output::new(cli.json);
    let env = custodian_env();
    let admin = admin::Ctx {
        out,
        json: cli.json,
        env: ClientEnv { server_flag: cli.server.clone(), vars: env.clone(), config_home: config_home() },
    };
    let result = match cli.command {
        Command::Serve { listen } => commands::serve(&out, cli.config.as_deref(), &env, listen).await,
        Command::Init { email } => commands::init(&out, cli.config.as_deref(), &env, &email).await,
        Command::Sim { listen, seed, redirect_to } => {
            commands::sim(&out, listen, seed, redirect_to.as_deref()).await
        }
        Command::Demo => demo::demo(&out).await,
        Command::Audit { command: AuditCommand::Verify { tenant } } if admin.env.server_given() => {
            admin::audit_verify_remote(&admin, tenant.as_deref()).await
        }
        Command::Audit { command: AuditCommand::Verify { tenant } } => {
            commands::audit_verify(&out, cli.config.as_deref(), &env, tenant.as_deref()).await
        }
        Command::Audit { command: AuditCommand::List { tenant, from_seq, limit } } => {
            admin::audit_list(&admin, &tenant, from_seq, limit).await
        }
        Command::Admin(command) => admin::run(&admin, command).await,
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            match error.downcast_ref::<client::ApiFailure>() {
                // With --json an API error keeps its stable code for scripts.
                Some(failure) if cli.json => out.emit(
                    &serde_json::json!({"error": error.chain().map(ToString::to_string).collect::<Vec<_>>().join(": "),
                                        "code": failure.code, "status": failure.status}),
                    "",
                ),
                _ => out.error(&error),
            }
            ExitCode::FAILURE
        }
    }
}
