//! A real OpenBao dev server per test: the `bao` binary from `CUSTODIAN_BAO_BIN` or `.tools/openbao/bin/bao`
//! (installed by `cargo xtask ci`), on a free loopback port, with a random root token; KV v2, Transit and
//! AppRole mounted at non-default paths; killed on drop. A missing binary fails the test.

use std::collections::hash_map::RandomState;
use std::fs::{self, File};
use std::hash::BuildHasher as _;
use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use custodian_vault::{VaultAuth, VaultClient, VaultConfig, VaultKeyManager, VaultSecretStore};
use secrecy::SecretString;
use serde_json::{Value, json};

/// Where the tests mount KV v2 and Transit (not the defaults, to show the mounts are configurable).
pub(crate) const KV: &str = "custodian-kv";
pub(crate) const TRANSIT: &str = "custodian-transit";
pub(crate) const PREFIX: &str = "custodian-test";

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
        "OpenBao (`bao`) is not installed: these tests need a real server. Run `cargo xtask ci test` (or \
         `cargo xtask ci`) once to install it into `.tools/openbao`, or set CUSTODIAN_BAO_BIN"
    );
    installed
}

/// 16 random bytes as hex.
pub(crate) fn random_hex() -> String {
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

/// A plain reqwest client for the tests' own calls (reqwest here has no default crypto provider: ring).
#[expect(
    clippy::disallowed_methods,
    reason = "the tests drive the dev server's own API directly, outside the client under test"
)]
pub(crate) fn test_http() -> reqwest::Client {
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A running dev server.
pub(crate) struct Bao {
    child: Child,
    dir: PathBuf,
    pub(crate) addr: String,
    pub(crate) root: String,
    http: reqwest::Client,
}

impl Bao {
    /// Starts a server, waits until it is healthy, and mounts KV v2, Transit and AppRole.
    pub(crate) async fn start() -> Self {
        let bin = bao_bin();
        let http = test_http();
        let mut last_log = String::new();
        for _ in 0..5 {
            let port = free_port_pair();
            let root = random_hex();
            let salt = RandomState::new().hash_one(port);
            let dir = std::env::temp_dir()
                .join(format!("custodian-vault-bao-{}-{port}-{salt:x}", std::process::id()));
            fs::create_dir_all(&dir).unwrap();
            let log = File::create(dir.join("bao.log")).unwrap();
            let child = Command::new(&bin)
                .args([
                    "server",
                    "-dev",
                    "-dev-no-store-token",
                    &format!("-dev-root-token-id={root}"),
                    &format!("-dev-listen-address=127.0.0.1:{port}"),
                ])
                .current_dir(&dir)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap();
            let mut bao =
                Bao { child, dir, addr: format!("http://127.0.0.1:{port}"), root, http: http.clone() };
            if bao.wait_healthy().await {
                bao.mount().await;
                return bao;
            }
            last_log = fs::read_to_string(bao.dir.join("bao.log")).unwrap_or_default();
        }
        panic!("the OpenBao dev server did not start; its last log:\n{last_log}");
    }

    async fn wait_healthy(&mut self) -> bool {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if self.child.try_wait().unwrap().is_some() {
                return false;
            }
            if let Ok(response) = self.http.get(format!("{}/v1/sys/health", self.addr)).send().await
                && response.status() == 200
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    async fn mount(&self) {
        self.ok("POST", "sys/mounts/custodian-kv", json!({"type": "kv", "options": {"version": "2"}})).await;
        self.ok("POST", "sys/mounts/custodian-transit", json!({"type": "transit"})).await;
        self.ok("POST", "sys/auth/approle", json!({"type": "approle"})).await;
        // A new KV v2 mount upgrades itself for a moment: wait until it takes writes.
        let started = Instant::now();
        loop {
            let (status, _) = self.api("POST", "custodian-kv/data/probe", Some(json!({"data": {}}))).await;
            if status == 200 {
                self.api("DELETE", "custodian-kv/metadata/probe", None).await;
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "the kv mount never became writable");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A raw call with the root token: status and JSON body (`null` if none).
    pub(crate) async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request =
            self.http.request(method, format!("{}/v1/{path}", self.addr)).header("X-Vault-Token", &self.root);
        if let Some(body) = body {
            request =
                request.header("Content-Type", "application/json").body(serde_json::to_vec(&body).unwrap());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A raw call with another token: the status.
    pub(crate) async fn raw(&self, method: &str, path: &str, token: &str, body: Value) -> u16 {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let request = self
            .http
            .request(method, format!("{}/v1/{path}", self.addr))
            .header("X-Vault-Token", token)
            .header("Content-Type", "application/json")
            .body(serde_json::to_vec(&body).unwrap());
        request.send().await.unwrap().status().as_u16()
    }

    /// A raw call that must succeed.
    pub(crate) async fn ok(&self, method: &str, path: &str, body: Value) -> Value {
        let (status, value) = self.api(method, path, Some(body)).await;
        assert!((200..300).contains(&status), "{method} {path}: {status} {value}");
        value
    }

    /// A client configuration with the root token, on the test mounts.
    pub(crate) fn config(&self) -> VaultConfig {
        self.config_with(VaultAuth::Token(SecretString::from(self.root.as_str())))
    }

    pub(crate) fn config_with(&self, auth: VaultAuth) -> VaultConfig {
        VaultConfig {
            allow_plain_http_loopback: true,
            kv_mount: KV.to_owned(),
            kv_prefix: PREFIX.to_owned(),
            transit_mount: TRANSIT.to_owned(),
            ..VaultConfig::new(self.addr.clone(), auth)
        }
    }

    /// An AppRole role with `policy` (HCL) and token TTLs; returns its role id and a secret id.
    pub(crate) async fn approle(
        &self,
        name: &str,
        policy: &str,
        ttl: &str,
        max_ttl: &str,
    ) -> (String, String) {
        self.ok("PUT", &format!("sys/policies/acl/{name}"), json!({"policy": policy})).await;
        self.ok(
            "POST",
            &format!("auth/approle/role/{name}"),
            json!({"token_policies": [name], "token_ttl": ttl, "token_max_ttl": max_ttl}),
        )
        .await;
        let role = self.api("GET", &format!("auth/approle/role/{name}/role-id"), None).await.1;
        let secret = self.ok("POST", &format!("auth/approle/role/{name}/secret-id"), json!({})).await;
        (
            role["data"]["role_id"].as_str().unwrap().to_owned(),
            secret["data"]["secret_id"].as_str().unwrap().to_owned(),
        )
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A client and both ports over it.
pub(crate) fn ports(config: VaultConfig) -> (Arc<VaultClient>, VaultSecretStore, VaultKeyManager) {
    let client = Arc::new(VaultClient::new(config).unwrap());
    (client.clone(), VaultSecretStore::new(client.clone()), VaultKeyManager::new(client))
}
