//! A real OpenBao dev server per test (`custodian_testkit::openbao`: the binary from `CUSTODIAN_BAO_BIN` or
//! `.tools/openbao/bin/bao`, installed by `cargo xtask ci`; a missing binary fails the test), on a free
//! loopback port with a random root token; KV v2, Transit and AppRole mounted here at non-default paths over
//! the HTTP API; killed on drop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use custodian_testkit::openbao::DevServer;
use custodian_vault::{VaultAuth, VaultClient, VaultConfig, VaultKeyManager, VaultSecretStore};
use secrecy::SecretString;
use serde_json::{Value, json};

/// Where the tests mount KV v2 and Transit (not the defaults, to show the mounts are configurable).
pub(crate) const KV: &str = "custodian-kv";
pub(crate) const TRANSIT: &str = "custodian-transit";
pub(crate) const PREFIX: &str = "custodian-test";

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
    _server: DevServer,
    pub(crate) addr: String,
    pub(crate) root: String,
    http: reqwest::Client,
}

impl Bao {
    /// Starts a server (it answers unsealed when this returns) and mounts KV v2, Transit and AppRole.
    pub(crate) async fn start() -> Self {
        // Starting blocks this thread for a second or two, as the tests' runtimes allow.
        let server = DevServer::start("vault").unwrap_or_else(|e| panic!("{e}"));
        let bao = Bao {
            addr: server.addr().to_owned(),
            root: server.root_token().to_owned(),
            _server: server,
            http: test_http(),
        };
        bao.mount().await;
        bao
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

/// A client and both ports over it.
pub(crate) fn ports(config: VaultConfig) -> (Arc<VaultClient>, VaultSecretStore, VaultKeyManager) {
    let client = Arc::new(VaultClient::new(config).unwrap());
    (client.clone(), VaultSecretStore::new(client.clone()), VaultKeyManager::new(client))
}
