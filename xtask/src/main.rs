//! `cargo xtask`: all of Custodian's automation (style rule 5).
//!
//! * `cargo xtask ci` runs every check CI runs, in order, failing fast (see [`ci::STEPS`]).
//! * `cargo xtask bench [NAME]` runs the criterion benches.
//!
//! The tidy checks are plain `#[test]`s in [`tidy`], so `cargo test` and nextest run them.

mod bench;
mod ci;
#[cfg(test)]
mod tidy;

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Custodian's automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every CI check in order (fmt, clippy, deny, test), stopping at the first failure
    Ci {
        /// Run only these steps (in CI order), e.g. `cargo xtask ci deny test`
        steps: Vec<String>,
    },
    /// Run the benches of the workspace, or only the bench target NAME
    Bench {
        /// Name of one bench target, e.g. `authz`, or `stores` for the store benches (starts PostgreSQL if needed)
        name: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = workspace_root().and_then(|root| match cli.command {
        Command::Ci { steps } => ci::run(&root, &steps),
        Command::Bench { name } => bench::run(&root, name.as_deref()),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            say(format_args!("xtask error: {error:#}"));
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> anyhow::Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .context("xtask's manifest directory has no parent")
}

/// Reports progress on stderr, where cargo and xshell report too, so the lines stay in order.
#[expect(clippy::print_stderr, reason = "xtask is a command-line tool and reports progress on stderr")]
fn say(message: impl Display) {
    eprintln!("{message}");
}
