//! A real OpenBao dev server as a child process, for the tests of custodian-vault and of the `custodian`
//! binary: the `bao` binary from `CUSTODIAN_BAO_BIN` or the workspace's `.tools/openbao/bin/bao`
//! (installed by `cargo xtask ci`). The server listens on a free loopback port with a random root token,
//! in a directory of its own that is its `HOME` too (nothing is written to the user's home); it is killed
//! and its directory removed on drop.
//!
//! What a test mounts on the server, and how it talks to it (the `bao` command line or HTTP), stays with
//! the test: [`DevServer::command`] gives a `bao` command already pointed at the server.

use std::collections::hash_map::RandomState;
use std::fs::{self, File};
use std::hash::BuildHasher as _;
use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a fresh server gets to answer unsealed.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Fresh ports tried before giving up (another process may take a port between the probe and the bind).
const ATTEMPTS: usize = 5;

/// Why no dev server could be started.
#[derive(Debug, thiserror::Error)]
pub enum OpenBaoError {
    /// `CUSTODIAN_BAO_BIN` names no file.
    #[error(
        "CUSTODIAN_BAO_BIN is `{0}`, which is not a file: point it at a `bao` binary, or unset it and run \
         `cargo xtask ci test` to install OpenBao into `.tools/openbao`"
    )]
    NoSuchBinary(PathBuf),
    /// Neither `CUSTODIAN_BAO_BIN` nor the workspace's installation.
    #[error(
        "OpenBao (`bao`) is not installed: this test needs a real server. Run `cargo xtask ci test` (or \
         `cargo xtask ci`) once to install it into `.tools/openbao`, or set CUSTODIAN_BAO_BIN"
    )]
    NotInstalled,
    /// The server exited or never answered, on every port tried.
    #[error("the openbao dev server did not start; its last log:\n{0}")]
    DidNotStart(String),
    /// A directory, log file, random token or process could not be made.
    #[error("openbao dev server: {0}")]
    Io(#[from] std::io::Error),
}

/// The `bao` binary: `CUSTODIAN_BAO_BIN`, else the workspace's `.tools/openbao/bin/bao`.
pub fn bao_binary() -> Result<PathBuf, OpenBaoError> {
    #[expect(clippy::disallowed_methods, reason = "tests are told where OpenBao is by the environment")]
    let from_env = std::env::var("CUSTODIAN_BAO_BIN");
    if let Ok(path) = from_env {
        let path = PathBuf::from(path);
        return if path.is_file() { Ok(path) } else { Err(OpenBaoError::NoSuchBinary(path)) };
    }
    let installed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/openbao/bin/bao");
    if installed.is_file() { Ok(installed) } else { Err(OpenBaoError::NotInstalled) }
}

/// 16 random bytes from the operating system, as hex.
pub fn random_hex() -> Result<String, OpenBaoError> {
    let mut bytes = [0u8; 16];
    File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A port `p` with `p + 1` free too (bao also listens on the next port for clustering).
fn free_port_pair() -> Result<u16, OpenBaoError> {
    loop {
        let first = TcpListener::bind("127.0.0.1:0")?;
        let port = first.local_addr()?.port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return Ok(port);
        }
    }
}

/// A running OpenBao dev server (Debug shows its address and directory, not its root token).
pub struct DevServer {
    child: Child,
    dir: PathBuf,
    bin: PathBuf,
    addr: String,
    root: String,
}

impl std::fmt::Debug for DevServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevServer").field("addr", &self.addr).field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl DevServer {
    /// Starts a dev server (its directory named after `label`) and waits until `bao status` says it is
    /// unsealed; a few fresh ports are tried.
    pub fn start(label: &str) -> Result<Self, OpenBaoError> {
        let bin = bao_binary()?;
        let mut last_log = String::new();
        for _ in 0..ATTEMPTS {
            let port = free_port_pair()?;
            let root = random_hex()?;
            let salt = RandomState::new().hash_one(port);
            let dir = std::env::temp_dir()
                .join(format!("custodian-{label}-bao-{}-{port}-{salt:x}", std::process::id()));
            fs::create_dir_all(&dir)?;
            let log = File::create(dir.join("bao.log"))?;
            let spawned = Command::new(&bin)
                .args([
                    "server",
                    "-dev",
                    "-dev-no-store-token",
                    &format!("-dev-root-token-id={root}"),
                    &format!("-dev-listen-address=127.0.0.1:{port}"),
                ])
                .current_dir(&dir)
                .env("HOME", &dir)
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .spawn();
            let child = match spawned {
                Ok(child) => child,
                Err(e) => {
                    let _ = fs::remove_dir_all(&dir);
                    return Err(e.into());
                }
            };
            let mut server =
                DevServer { child, dir, bin: bin.clone(), addr: format!("http://127.0.0.1:{port}"), root };
            if server.wait_unsealed()? {
                return Ok(server);
            }
            last_log = fs::read_to_string(server.dir.join("bao.log")).unwrap_or_default();
        }
        Err(OpenBaoError::DidNotStart(last_log))
    }

    fn wait_unsealed(&mut self) -> Result<bool, OpenBaoError> {
        let started = Instant::now();
        while started.elapsed() < START_TIMEOUT {
            if self.child.try_wait()?.is_some() {
                return Ok(false);
            }
            if self.command(&["status"]).output().is_ok_and(|o| o.status.success()) {
                return Ok(true);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(false)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The root token (a test server's: random, gone with the server).
    pub fn root_token(&self) -> &str {
        &self.root
    }

    /// The server's own directory (its log is `bao.log`); removed on drop.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `bao ARGS` pointed at this server with the root token (`BAO_*` and `VAULT_*` variables), `HOME` in
    /// the server's directory and no standard input.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .args(args)
            .env("BAO_ADDR", &self.addr)
            .env("BAO_TOKEN", &self.root)
            .env("VAULT_ADDR", &self.addr)
            .env("VAULT_TOKEN", &self.root)
            .env("HOME", &self.dir)
            .stdin(Stdio::null());
        command
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}
