//! `cargo xtask bench [NAME]`: runs the benches of the workspace, or one bench target. `stores` (the store
//! benches, custodian-postgres's among them) and a run of every bench get PostgreSQL in `DATABASE_URL` first
//! (see [`crate::ci::postgres`]).

use std::path::Path;

use anyhow::Context as _;
use xshell::{Shell, cmd};

/// The bench target of the stores (custodian-postgres, custodian-sqlite): needs PostgreSQL.
const STORES: &str = "stores";

/// Runs `cargo bench --workspace`, limited to `--bench NAME` when a name is given.
pub(crate) fn run(root: &Path, name: Option<&str>) -> anyhow::Result<()> {
    let sh = Shell::new().context("cannot create a shell")?;
    sh.change_dir(root);
    let filter: Vec<&str> = name.map(|name| vec!["--bench", name]).unwrap_or_default();
    // Kept alive until the benches end: a throwaway cluster stops when it is dropped.
    let _postgres = match name {
        None | Some(STORES) => Some(crate::ci::postgres::ensure(&sh, root)?),
        Some(_) => None,
    };
    cmd!(sh, "cargo bench --workspace --locked {filter...}").run().context("benches failed")
}
