//! `custodian`: the command line of Custodian, thin wiring over `custodian-server` and `custodian-sim`.
//!
//! ```text
//! custodian [--config FILE] [--json] serve [--listen ADDR]     # the API (default 127.0.0.1:8080)
//! custodian [--config FILE] [--json] init --email EMAIL        # first admin; password on standard input
//! custodian [--json] sim [--listen ADDR] [--seed N]            # the five simulated platforms
//! custodian [--json] demo                                      # the whole story in-process, on loopback
//! custodian [--config FILE] [--json] audit verify [--tenant ID]
//! ```
//!
//! Configuration comes from `--config FILE` plus the `CUSTODIAN_*` environment variables, which are read
//! here (and only here) and passed to `Config::load`. With `--json` every command writes one JSON document
//! per line on standard output (errors too); logs always go to standard error.
//!
//! Exit codes: 0 success, 1 failure (including the ENV-1 refusal, which lists every violation), 2 an audit
//! chain that does not verify.

mod commands;
mod demo;
mod output;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::output::Output;

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
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify hash chains from the store (AUD-2): one tenant's, or every chain.
    Verify {
        /// The tenant whose chain to verify (`_system` for the system chain); default every chain.
        #[arg(long, value_name = "ID")]
        tenant: Option<String>,
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
    let result = match cli.command {
        Command::Serve { listen } => commands::serve(&out, cli.config.as_deref(), &env, listen).await,
        Command::Init { email } => commands::init(&out, cli.config.as_deref(), &env, &email).await,
        Command::Sim { listen, seed } => commands::sim(&out, listen, seed).await,
        Command::Demo => demo::demo(&out).await,
        Command::Audit { command: AuditCommand::Verify { tenant } } => {
            commands::audit_verify(&out, cli.config.as_deref(), &env, tenant.as_deref()).await
        }
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            out.error(&error);
            ExitCode::FAILURE
        }
    }
}
