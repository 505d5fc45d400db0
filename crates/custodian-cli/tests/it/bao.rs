//! A real OpenBao dev server per test, driven with the `bao` command line: the binary from
//! `CUSTODIAN_BAO_BIN` or `.tools/openbao/bin/bao` (installed by `cargo xtask ci`), found the way
//! custodian-vault's tests find it; a missing binary fails the test with how to install it. The server
//! listens on a free loopback port with a random root token and is killed (its directory removed) on drop.

use std::fs::{self, File};
use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::TempDir;

/// The `bao` binary, or a failure telling how to install it.
fn bao_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("CUSTODIAN_BAO_BIN") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "CUSTODIAN_BAO_BIN is `{}`, which is not a file: point it at a `bao` binary, or unset it and run \
             `cargo xtask ci test` to install OpenBao into `.tools/openbao`",
            path.display()
        );
        return path;
    }
    let installed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/openbao/bin/bao");
    assert!(
        installed.is_file(),
        "OpenBao (`bao`) is not installed: this test needs a real server. Run `cargo xtask ci test` (or \
         `cargo xtask ci`) once to install it into `.tools/openbao`, or set CUSTODIAN_BAO_BIN"
    );
    installed
}

/// 16 random bytes as hex.
fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    File::open("/dev/urandom").unwrap().read_exact(&mut bytes).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A port `p` with `p + 1` free too (bao also listens on the next port for clustering).
fn free_port_pair() -> u16 {
    loop {
        let first = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = first.local_addr().unwrap().port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

/// A running dev server.
pub(crate) struct Bao {
    child: std::process::Child,
    dir: TempDir,
    bin: PathBuf,
    pub(crate) addr: String,
    root: String,
}

impl Bao {
    /// Starts a dev server and waits until it answers unsealed (a few tries on fresh ports).
    pub(crate) fn start() -> Self {
        let bin = bao_bin();
        let mut last_log = String::new();
        for _ in 0..5 {
            let port = free_port_pair();
            let root = random_hex();
            let dir = TempDir::new(&format!("bao-{port}"));
            fs::create_dir_all(dir.path()).unwrap();
            let log = File::create(dir.path().join("bao.log")).unwrap();
            let child = Command::new(&bin)
                .args([
                    "server",
                    "-dev",
                    "-dev-no-store-token",
                    &format!("-dev-root-token-id={root}"),
                    &format!("-dev-listen-address=127.0.0.1:{port}"),
                ])
                .current_dir(dir.path())
                .env("HOME", dir.path())
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap();
            let mut bao =
                Bao { child, dir, bin: bin.clone(), addr: format!("http://127.0.0.1:{port}"), root };
            if bao.wait_healthy() {
                return bao;
            }
            last_log = fs::read_to_string(bao.dir.path().join("bao.log")).unwrap_or_default();
        }
        panic!("the OpenBao dev server did not start; its last log:\n{last_log}");
    }

    fn wait_healthy(&mut self) -> bool {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if self.child.try_wait().unwrap().is_some() {
                return false;
            }
            if self.command(&["status"]).output().is_ok_and(|o| o.status.success()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .args(args)
            .env("BAO_ADDR", &self.addr)
            .env("BAO_TOKEN", &self.root)
            .env("VAULT_ADDR", &self.addr)
            .env("VAULT_TOKEN", &self.root)
            .env("HOME", self.dir.path())
            .stdin(Stdio::null());
        command
    }

    /// `bao ARGS` with the root token, which must succeed; its standard output.
    pub(crate) fn cli(&self, args: &[&str]) -> String {
        let out = self.command(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "`bao {}` failed: {}{}",
            args.join(" "),
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// `bao ARGS -format=json` with the root token: the JSON it printed.
    pub(crate) fn json(&self, args: &[&str]) -> Value {
        let text = self.cli(args);
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("`bao {}` printed no json ({e}): {text}", args.join(" ")))
    }

    /// What Custodian's `secrets = vault` needs on its default mounts: KV v2 at `secret/` (checked: the dev
    /// server mounts it), Transit at `transit/` and AppRole at `approle/` (enabled here), and a role holding
    /// exactly `policy`. Returns the role id and a secret id.
    pub(crate) fn prepare_for_custodian(&self, policy: &str) -> (String, String) {
        let mounts = self.json(&["secrets", "list", "-format=json"]);
        assert_eq!(mounts["secret/"]["type"], "kv", "{mounts}");
        assert_eq!(mounts["secret/"]["options"]["version"], "2", "{mounts}");
        self.cli(&["secrets", "enable", "-path=transit", "transit"]);
        self.cli(&["auth", "enable", "approle"]);
        let file = self.dir.path().join("custodian.hcl");
        fs::write(&file, policy).unwrap();
        self.cli(&["policy", "write", "custodian", &file.display().to_string()]);
        self.cli(&[
            "write",
            "auth/approle/role/custodian",
            "token_policies=custodian",
            "token_ttl=1h",
            "token_max_ttl=4h",
        ]);
        let role = self.cli(&["read", "-field=role_id", "auth/approle/role/custodian/role-id"]);
        let secret = self.cli(&["write", "-f", "-field=secret_id", "auth/approle/role/custodian/secret-id"]);
        (role.trim().to_owned(), secret.trim().to_owned())
    }

    /// Every KV v2 secret under `secret/{prefix}`, recursively: (path, the secret's data).
    pub(crate) fn kv_secrets(&self, prefix: &str) -> Vec<(String, Value)> {
        let mut found = Vec::new();
        let mut folders = vec![prefix.trim_end_matches('/').to_owned()];
        while let Some(folder) = folders.pop() {
            let out =
                self.command(&["kv", "list", "-format=json", "-mount=secret", &folder]).output().unwrap();
            if !out.status.success() {
                // An empty folder is "no value found".
                continue;
            }
            let keys: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
            for key in keys {
                let path = format!("{folder}/{}", key.trim_end_matches('/'));
                if key.ends_with('/') {
                    folders.push(path);
                } else {
                    // A deleted latest version (no data) reads as `null`.
                    let out = self
                        .command(&["kv", "get", "-format=json", "-mount=secret", &path])
                        .output()
                        .unwrap();
                    let secret: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
                    found.push((path, secret["data"]["data"].clone()));
                }
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
