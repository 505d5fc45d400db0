//! No secret reaches the logs: a subscriber captures every tracing event (TRACE, including the `log`
//! records of reqwest, hyper and rustls) while the contract suites, AppRole logins, shredding and faults
//! run against a real OpenBao, and the capture is searched for every secret value used.

use std::io;
use std::sync::{Arc, Mutex};

use custodian_core::ports::{KeyManager, KeyScope, SecretStore};
use custodian_testkit::contract;
use custodian_testkit::fixtures;
use custodian_vault::{VaultAuth, VaultClient};
use secrecy::SecretString;
use serde_json::json;

use crate::server::{Bao, KV, PREFIX, TRANSIT, ports};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const ACCESS: &str = "access-token-that-must-never-be-logged";
const REFRESH: &str = "refresh-token-that-must-never-be-logged";

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn no_secret_appears_in_the_logs_of_a_whole_run() {
    // `log` records (reqwest, hyper, rustls) become tracing events; the subscriber is this thread's, and
    // the current-thread runtime polls every task here.
    let _ = tracing_log::LogTracer::init();
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);

    let bao = Bao::start().await;
    let (client, secrets, keys) = ports(bao.config());
    contract::secret_store(&secrets, "logs").await.unwrap();
    contract::key_manager(&keys, "logs").await.unwrap();

    let policy = client.acl_policy();
    let (role_id, secret_id) = bao.approle("logs", &policy, "1h", "1h").await;
    let auth = VaultAuth::AppRole {
        mount: "approle".to_owned(),
        role_id: SecretString::from(role_id.as_str()),
        secret_id: SecretString::from(secret_id.as_str()),
    };
    let (approle_client, secrets, keys) = ports(bao.config_with(auth));
    let (tenant, grant) = ("tenant-logs".parse().unwrap(), "grant-logs".parse().unwrap());
    secrets.put(&tenant, &grant, &fixtures::credentials(ACCESS, REFRESH), None).await.unwrap();
    let (read, _) = secrets.get(&tenant, &grant).await.unwrap();
    let scope = KeyScope::grant(&tenant, &grant);
    let key = keys.current_key(&scope).await.unwrap();
    keys.rotate_kek(&tenant).await.unwrap();
    tracing::info!(
        ?read,
        ?key,
        ?approle_client,
        ?secrets,
        ?keys,
        "debug output of every secret-holding type"
    );

    // The data key itself, as Vault returns it, must not show either.
    let record = bao
        .api(
            "GET",
            &format!("{KV}/data/{PREFIX}/keys/{}/grant-{}", hex("tenant-logs"), hex("grant-logs")),
            None,
        )
        .await
        .1;
    let name = record["data"]["data"]["transit_key"].as_str().unwrap().to_owned();
    let ciphertext = record["data"]["data"]["versions"]["1"].as_str().unwrap().to_owned();
    let plain = bao.ok("POST", &format!("{TRANSIT}/decrypt/{name}"), json!({"ciphertext": ciphertext})).await;
    let data_key = plain["data"]["plaintext"].as_str().unwrap().to_owned();
    keys.destroy_tenant(&tenant).await.unwrap();
    secrets.delete(&tenant, &grant).await.unwrap();
    let bogus = VaultAuth::Token(SecretString::from("s.bogus-token-never-logged"));
    let (_, denied, _) = ports(bao.config_with(bogus));
    assert!(denied.get(&tenant, &grant).await.is_err());
    let failing = VaultClient::new(bao.config()).unwrap();
    drop(failing);
    drop(guard);

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("vault request") && logs.contains("key scope crypto-shredded"), "{logs}");
    assert!(logs.contains("vault approle login") && logs.contains("vault denied access"), "{logs}");
    for secret in [
        ACCESS,
        REFRESH,
        bao.root.as_str(),
        role_id.as_str(),
        secret_id.as_str(),
        data_key.as_str(),
        "s.bogus-token-never-logged",
        "-access",
        "-refresh",
        "-rotated",
    ] {
        assert!(!logs.contains(secret), "`{secret}` appears in the logs");
    }
}
