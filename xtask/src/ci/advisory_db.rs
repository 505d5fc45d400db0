//! The RustSec advisory database for `cargo deny --offline`, prepared from the snapshot in `shared/`.
//!
//! cargo-deny expects a git checkout under `db-path` (deny.toml: `target/advisory-dbs`) in a folder named after
//! the database URL, and takes the database's age from the HEAD commit time. This copies the snapshot there and
//! commits it with the snapshot's date, as `shared/advisory-db/OFFLINE-USE.md` describes.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use xshell::cmd;

use super::Ctx;
use crate::say;

/// Overrides where the snapshot is read from (default: `<root>/../shared/advisory-db`).
const SOURCE_ENV: &str = "CUSTODIAN_ADVISORY_DB";
/// cargo-deny's folder name for the default database URL.
const DB_DIR: &str = "advisory-db-3157b0e258782691";
/// The snapshot's commit date (`shared/advisory-db/SNAPSHOT.txt`).
const SNAPSHOT_DATE: &str = "2026-08-21T08:28:40+02:00";

/// Creates `<root>/target/advisory-dbs/advisory-db-3157b0e258782691`, unless it already is a git repository made
/// from the same snapshot (same `SNAPSHOT.txt`).
pub(crate) fn prepare(ctx: &Ctx) -> anyhow::Result<()> {
    let sh = &ctx.sh;
    let dest = ctx.root.join("target").join("advisory-dbs").join(DB_DIR);
    let source = match sh.var_os(SOURCE_ENV) {
        Some(path) => PathBuf::from(path),
        None => ctx.root.join("..").join("shared").join("advisory-db"),
    };
    let is_repo = dest.join(".git").is_dir()
        && cmd!(sh, "git -C {dest} rev-parse --verify --quiet HEAD").quiet().ignore_stdout().run().is_ok();
    let snapshot = |dir: &Path| fs::read_to_string(dir.join("SNAPSHOT.txt")).ok();
    let same_snapshot = match snapshot(&source) {
        Some(wanted) => snapshot(&dest).as_ref() == Some(&wanted),
        None => true, // no snapshot to compare with: keep what we have
    };
    if is_repo && same_snapshot {
        return Ok(());
    }
    anyhow::ensure!(
        source.join("crates").is_dir(),
        "no advisory database snapshot at `{}` (set {SOURCE_ENV} to its path)",
        source.display()
    );
    say(format_args!("preparing the advisory database from `{}` in `{}`", source.display(), dest.display()));

    // Build next to the destination and rename at the end, so an interrupted run leaves no half-made database.
    let tmp = dest.with_extension("tmp");
    for dir in [&tmp, &dest] {
        if dir.exists() {
            fs::remove_dir_all(dir).with_context(|| format!("cannot remove `{}`", dir.display()))?;
        }
    }
    copy_dir(&source, &tmp)?;
    {
        let _dir = sh.push_dir(&tmp);
        cmd!(sh, "git init -q").run()?;
        cmd!(sh, "git add -A").run()?;
        let date = format!("--date={SNAPSHOT_DATE}");
        let message = "advisory-db snapshot";
        cmd!(
            sh,
            "git -c user.name=snapshot -c user.email=snapshot@localhost -c commit.gpgsign=false commit -q --no-verify {date} -m {message}"
        )
        .env("GIT_COMMITTER_DATE", SNAPSHOT_DATE)
        .run()
        .context("cannot commit the advisory database snapshot")?;
    }
    fs::rename(&tmp, &dest)
        .with_context(|| format!("cannot rename `{}` to `{}`", tmp.display(), dest.display()))
}

/// Copies a directory tree. Unlike `cp -r`, the new directories are writable even though the snapshot's are not.
fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(to).with_context(|| format!("cannot create `{}`", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("cannot read `{}`", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)
                .with_context(|| format!("cannot copy `{}`", entry.path().display()))?;
        }
    }
    Ok(())
}
