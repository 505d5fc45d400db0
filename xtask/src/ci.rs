//! `cargo xtask ci`: the ordered list of CI steps, and the runner that times them and stops at the first failure.
//!
//! A step is data ([`Step`]): adding one (say `sqlx prepare --check`, or a step that starts Postgres and OpenBao
//! for the integration tests) means writing one function and adding one line to [`STEPS`].

mod advisory_db;
mod openbao;
pub(crate) mod postgres;
mod tools;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use xshell::{Shell, cmd};

use crate::say;

/// One named CI step.
#[derive(Debug)]
pub(crate) struct Step {
    /// Short name, printed before and after the step and in the summary.
    pub(crate) name: &'static str,
    /// Runs the step; an error fails CI.
    pub(crate) run: fn(&Ctx) -> anyhow::Result<()>,
}

/// The CI steps, in the order they run.
pub(crate) const STEPS: &[Step] = &[
    Step { name: "fmt", run: fmt },
    Step { name: "clippy", run: clippy },
    Step { name: "deny", run: deny },
    Step { name: "test", run: test },
];

/// What every step gets: a shell in the workspace root, with the project's own tools first on `PATH`.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) sh: Shell,
    pub(crate) root: PathBuf,
}

impl Ctx {
    fn new(root: &Path) -> anyhow::Result<Self> {
        let sh = Shell::new().context("cannot create a shell")?;
        sh.change_dir(root);
        let tools_bin = tools::bin_dir(root);
        let path = std::env::join_paths(
            std::iter::once(tools_bin.clone())
                .chain(std::env::split_paths(&sh.var_os("PATH").unwrap_or_else(OsString::new))),
        )
        .with_context(|| format!("cannot put `{}` on PATH", tools_bin.display()))?;
        sh.set_var("PATH", path);
        Ok(Self { sh, root: root.to_path_buf() })
    }
}

/// Runs the steps of [`STEPS`] named in `only` (all of them if it is empty), in order, stopping at the first failure.
pub(crate) fn run(root: &Path, only: &[String]) -> anyhow::Result<()> {
    if let Some(unknown) = only.iter().find(|name| !STEPS.iter().any(|step| step.name == name.as_str())) {
        let known: Vec<&str> = STEPS.iter().map(|step| step.name).collect();
        anyhow::bail!("no ci step `{unknown}`; the steps are: {}", known.join(", "));
    }
    let steps: Vec<&Step> =
        STEPS.iter().filter(|step| only.is_empty() || only.iter().any(|name| name == step.name)).collect();
    let ctx = Ctx::new(root)?;
    let started = Instant::now();
    let mut done = Vec::with_capacity(steps.len());
    for (index, step) in steps.iter().enumerate() {
        say(format_args!("==> ci step `{}`", step.name));
        let step_started = Instant::now();
        let result = (step.run)(&ctx);
        let elapsed = step_started.elapsed();
        if let Err(error) = result {
            let not_run: Vec<&str> = steps.iter().skip(index + 1).map(|step| step.name).collect();
            return Err(error.context(format!(
                "ci step `{}` failed after {}; not run: [{}]",
                step.name,
                seconds(elapsed),
                not_run.join(", ")
            )));
        }
        say(format_args!("<== ci step `{}` ok in {}", step.name, seconds(elapsed)));
        done.push(format!("{} {}", step.name, seconds(elapsed)));
    }
    say(format_args!("xtask ci ok in {}: {}", seconds(started.elapsed()), done.join(", ")));
    Ok(())
}

fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

fn fmt(ctx: &Ctx) -> anyhow::Result<()> {
    let sh = &ctx.sh;
    cmd!(sh, "cargo fmt --all -- --check")
        .run()
        .context("formatting check failed (if it printed a diff, run `cargo fmt --all`)")
}

fn clippy(ctx: &Ctx) -> anyhow::Result<()> {
    let sh = &ctx.sh;
    cmd!(sh, "cargo clippy --workspace --all-targets --locked -- -D warnings")
        .run()
        .context("clippy found problems")
}

fn deny(ctx: &Ctx) -> anyhow::Result<()> {
    tools::ensure(ctx, &tools::CARGO_DENY)?;
    advisory_db::prepare(ctx)?;
    let sh = &ctx.sh;
    // cargo-deny reads the metadata of every platform's packages, offline; a build downloads only this
    // platform's, so fetch the rest first (a no-op when they are already there).
    cmd!(sh, "cargo fetch --locked").run().context("cannot fetch the locked packages for cargo-deny")?;
    cmd!(sh, "cargo deny --offline check").run().context("cargo-deny found problems (see deny.toml)")
}

fn test(ctx: &Ctx) -> anyhow::Result<()> {
    tools::ensure(ctx, &tools::CARGO_NEXTEST)?;
    openbao::ensure(ctx)?;
    // Kept alive until the tests end: a throwaway cluster stops when it is dropped.
    let _postgres = postgres::ensure(&ctx.sh, &ctx.root)?;
    let sh = &ctx.sh;
    cmd!(sh, "cargo nextest run --workspace --locked --no-run").run().context("the tests do not build")?;
    cmd!(sh, "cargo nextest run --workspace --locked --profile ci").run().context("tests failed")
}
