//! Cargo subcommands CI needs, installed on demand into `<root>/.tools/cargo` so nothing lands outside the clone.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use xshell::cmd;

use super::{Ctx, seconds};
use crate::say;

/// A cargo subcommand from the default crate registry.
#[derive(Debug)]
pub(crate) struct Tool {
    /// The word after `cargo`, e.g. `deny`.
    pub(crate) subcommand: &'static str,
    /// The registry package that provides it.
    pub(crate) package: &'static str,
    /// The version installed when it is missing: pinned, so CI does not change under us.
    pub(crate) version: &'static str,
}

pub(crate) const CARGO_DENY: Tool = Tool { subcommand: "deny", package: "cargo-deny", version: "0.20.2" };
pub(crate) const CARGO_NEXTEST: Tool =
    Tool { subcommand: "nextest", package: "cargo-nextest", version: "0.9.143" };

/// `<root>/.tools/cargo`, the `cargo install --root` of the project's tools.
fn install_root(root: &Path) -> PathBuf {
    root.join(".tools").join("cargo")
}

/// `<root>/.tools/cargo/bin`, which [`Ctx`] puts first on `PATH`.
pub(crate) fn bin_dir(root: &Path) -> PathBuf {
    install_root(root).join("bin")
}

/// Makes `cargo <subcommand>` work: does nothing if `cargo <subcommand> --version` already succeeds, and
/// otherwise installs the pinned version (this compiles it from source and takes minutes).
pub(crate) fn ensure(ctx: &Ctx, tool: &Tool) -> anyhow::Result<()> {
    let sh = &ctx.sh;
    let Tool { subcommand, package, version } = tool;
    let works =
        || cmd!(sh, "cargo {subcommand} --version").quiet().ignore_stdout().ignore_stderr().run().is_ok();
    if works() {
        return Ok(());
    }
    let install_root = install_root(&ctx.root);
    say(format_args!(
        "`cargo {subcommand}` not found: installing {package} {version} into `{}`",
        install_root.display()
    ));
    let started = Instant::now();
    cmd!(sh, "cargo install --locked --root {install_root} --version {version} {package}")
        .run()
        .with_context(|| format!("cannot install {package} {version}"))?;
    say(format_args!("installed {package} {version} in {}", seconds(started.elapsed())));
    anyhow::ensure!(works(), "`cargo {subcommand} --version` still fails after installing {package}");
    Ok(())
}
