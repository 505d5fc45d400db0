//! PostgreSQL for custodian-postgres's tests and benches, handed to them in `DATABASE_URL`:
//!
//! 1. `DATABASE_URL` when it is set;
//! 2. else `postgres://postgres@127.0.0.1:5432/test` when that port answers (CI's machine runs PostgreSQL there
//!    with trust authentication);
//! 3. else a throwaway cluster: `initdb` (on `PATH` or under `/usr/lib/postgresql/*/bin`) into
//!    `target/test-postgres/<pid>`, started with `pg_ctl` on a free loopback port and stopped (and removed)
//!    when the returned [`Postgres`] is dropped. As root, the cluster runs as the `postgres` user (PostgreSQL
//!    refuses to run as root);
//! 4. else an error saying what is missing.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use xshell::{Shell, cmd};

use crate::say;

/// The variable the tests and benches read.
pub(crate) const URL_VAR: &str = "DATABASE_URL";
/// The machine's server, when it answers.
const LOCAL_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A PostgreSQL server for this run; a throwaway cluster is stopped on drop.
#[derive(Debug)]
pub(crate) struct Postgres {
    pub(crate) url: String,
    /// Held only for its `Drop`, which stops a throwaway cluster.
    #[expect(dead_code, reason = "held for its Drop, which stops the throwaway cluster")]
    cluster: Option<Cluster>,
}

#[derive(Debug)]
struct Cluster {
    pg_ctl: PathBuf,
    /// The cluster's data directory, inside `dir`.
    data: PathBuf,
    /// `target/test-postgres/<pid>`, removed after the server stops.
    dir: PathBuf,
    as_postgres: bool,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let Ok(sh) = Shell::new() else { return };
        let (pg_ctl, data) = (&self.pg_ctl, &self.data);
        let stopped = if self.as_postgres {
            cmd!(sh, "runuser -u postgres -- {pg_ctl} -D {data} -m fast -w stop")
                .quiet()
                .ignore_stdout()
                .run()
        } else {
            cmd!(sh, "{pg_ctl} -D {data} -m fast -w stop").quiet().ignore_stdout().run()
        };
        if stopped.is_err() {
            say(format_args!("could not stop the test cluster in `{}`", data.display()));
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Finds or starts a server (see the module documentation) and exports its URL in [`URL_VAR`] on `sh`.
pub(crate) fn ensure(sh: &Shell, root: &Path) -> anyhow::Result<Postgres> {
    let postgres = find_or_start(sh, root)?;
    sh.set_var(URL_VAR, &postgres.url);
    Ok(postgres)
}

fn find_or_start(sh: &Shell, root: &Path) -> anyhow::Result<Postgres> {
    if let Some(url) = sh.var_os(URL_VAR).filter(|u| !u.is_empty()) {
        let url = url.into_string().map_err(|_| anyhow::anyhow!("{URL_VAR} is not valid UTF-8"))?;
        return Ok(Postgres { url, cluster: None });
    }
    if answers(5432) {
        say(format_args!("{URL_VAR} is unset: using the PostgreSQL server on 127.0.0.1:5432"));
        return Ok(Postgres { url: LOCAL_URL.to_owned(), cluster: None });
    }
    let Some(bin) = find_initdb(sh) else {
        anyhow::bail!(
            "no PostgreSQL for the store tests: {URL_VAR} is unset, nothing answers on 127.0.0.1:5432, and `initdb` \
             is neither on PATH nor under /usr/lib/postgresql/*/bin; set {URL_VAR} (e.g. \
             postgres://postgres@127.0.0.1:5432/test), start a server there, or install PostgreSQL \
             (Debian: `apt-get install postgresql`)"
        );
    };
    start_cluster(sh, root, &bin)
}

/// Whether something accepts connections on `127.0.0.1:port`.
fn answers(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

/// The directory holding `initdb` and `pg_ctl`.
fn find_initdb(sh: &Shell) -> Option<PathBuf> {
    let on_path = sh.var_os("PATH").into_iter().flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    let debian = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"));
    let mut candidates: Vec<PathBuf> = on_path.collect();
    let mut versions: Vec<PathBuf> = debian.collect();
    versions.sort();
    candidates.extend(versions.into_iter().rev());
    candidates.into_iter().find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

/// A free loopback port (bound and released; a race with another process is possible but harmless:
/// `pg_ctl start` then fails with a clear message).
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("cannot find a free loopback port")?;
    Ok(listener.local_addr().context("cannot read the free port")?.port())
}

fn start_cluster(sh: &Shell, root: &Path, bin: &Path) -> anyhow::Result<Postgres> {
    let dir = root.join("target").join("test-postgres").join(std::process::id().to_string());
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("cannot clear `{}`", dir.display()))?;
    }
    fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let as_postgres = cmd!(sh, "id -u").quiet().read().is_ok_and(|uid| uid.trim() == "0");
    let (initdb, pg_ctl) = (bin.join("initdb"), bin.join("pg_ctl"));
    let port = free_port()?.to_string();
    let data = dir.join("data");
    let log = dir.join("server.log");
    say(format_args!(
        "{URL_VAR} is unset and nothing answers on 127.0.0.1:5432: starting a throwaway cluster on port {port}"
    ));
    let options = format!("-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off", dir.display());
    if as_postgres {
        cmd!(sh, "chown postgres {dir}")
            .run()
            .context("cannot give the cluster directory to the postgres user")?;
        cmd!(sh, "runuser -u postgres -- {initdb} -D {data} -U postgres --auth=trust --no-sync")
            .quiet()
            .ignore_stdout()
            .run()
            .context("initdb failed")?;
    } else {
        cmd!(sh, "{initdb} -D {data} -U postgres --auth=trust --no-sync")
            .quiet()
            .ignore_stdout()
            .run()
            .context("initdb failed")?;
    }
    let cluster = Cluster { pg_ctl: pg_ctl.clone(), data: data.clone(), dir: dir.clone(), as_postgres };
    let started = if as_postgres {
        cmd!(sh, "runuser -u postgres -- {pg_ctl} -D {data} -o {options} -l {log} -w start")
            .quiet()
            .ignore_stdout()
            .run()
    } else {
        cmd!(sh, "{pg_ctl} -D {data} -o {options} -l {log} -w start").quiet().ignore_stdout().run()
    };
    started.with_context(|| format!("pg_ctl could not start the test cluster (see `{}`)", log.display()))?;
    Ok(Postgres { url: format!("postgres://postgres@127.0.0.1:{port}/postgres"), cluster: Some(cluster) })
}
