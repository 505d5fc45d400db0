//! `cargo xtask bench [NAME]`: runs the criterion benches of the workspace, or one bench target.

use std::path::Path;

use anyhow::Context as _;
use xshell::{Shell, cmd};

/// Runs `cargo bench --workspace`, limited to `--bench NAME` when a name is given.
pub(crate) fn run(root: &Path, name: Option<&str>) -> anyhow::Result<()> {
    let sh = Shell::new().context("cannot create a shell")?;
    sh.change_dir(root);
    let filter: Vec<&str> = name.map(|name| vec!["--bench", name]).unwrap_or_default();
    cmd!(sh, "cargo bench --workspace --locked {filter...}").run().context("benches failed")
}
