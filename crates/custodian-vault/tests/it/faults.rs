//! Faults a real server cannot show on demand, on the fake server: 5xx, 429, a sealed Vault (503),
//! timeouts and malformed bodies. Each one refuses processing with a clear error (fail closed), and
//! nothing is written after it.

use std::time::Duration;

use custodian_core::ports::{KeyManager, KeyScope, SecretStore};
use custodian_testkit::fixtures;
use custodian_vault::{VaultAuth, VaultConfig};
use secrecy::SecretString;

use crate::fake::{Fake, Reply, Seen, json, lookup};
use crate::server::ports;

fn config(fake: &Fake) -> VaultConfig {
    VaultConfig {
        allow_plain_http_loopback: true,
        request_timeout: Duration::from_millis(300),
        retry_base_delay: Duration::from_millis(10),
        ..VaultConfig::new(fake.addr.clone(), VaultAuth::Token(SecretString::from("s.fake")))
    }
}

/// The full error chain of a port error, as one line.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn ids() -> (custodian_core::tenant::TenantId, custodian_core::grant::GrantId) {
    ("t".parse().unwrap(), "g".parse().unwrap())
}

/// Runs a read, a write and a first `current_key` against a fake answering every other request with
/// `reply`; returns the three error chains and the fake.
async fn run(reply: fn(&Seen) -> Reply) -> ([String; 3], Fake) {
    let fake = Fake::start(move |seen| lookup(seen).unwrap_or_else(|| reply(seen))).await;
    let (_, secrets, keys) = ports(config(&fake));
    let (tenant, grant) = ids();
    let read = secrets.get(&tenant, &grant).await.unwrap_err();
    let write = secrets
        .put(&tenant, &grant, &fixtures::credentials("access-x", "refresh-x"), None)
        .await
        .unwrap_err();
    let key = keys.current_key(&KeyScope::grant(&tenant, &grant)).await.unwrap_err();
    ([chain(&read), chain(&write), chain(&key)], fake)
}

const READ: &str = "GET secret/data/custodian/credentials/74/67";
const WRITE: &str = "POST secret/data/custodian/credentials/74/67";
const LIST: &str = "LIST secret/metadata/custodian/shredded/74";

#[tokio::test]
async fn server_errors_fail_closed() {
    let ([read, write, key], fake) = run(|_| json(500, r#"{"errors":["internal error"]}"#)).await;
    assert_eq!(read, format!("secret store unavailable: vault returned 500 for `{READ}`: internal error"));
    assert_eq!(write, format!("secret store unavailable: vault returned 500 for `{WRITE}`: internal error"));
    assert_eq!(key, format!("key manager unavailable: vault returned 500 for `{LIST}`: internal error"));
    assert_eq!(fake.count("GET", "/credentials/"), 3, "a read is retried, 3 attempts in all");
    assert_eq!(fake.count("POST", "/credentials/"), 1, "a write is sent once");
    assert_eq!(fake.writes().len(), 1, "nothing but the failed write: {:?}", fake.writes());
}

#[tokio::test]
async fn rate_limits_fail_closed() {
    let ([read, write, key], fake) =
        run(|_| Reply::Json { status: 429, body: r#"{"errors":["rate limited"]}"#, retry_after: Some("0") })
            .await;
    assert_eq!(read, format!("secret store unavailable: vault rate limited `{READ}`"));
    assert_eq!(write, format!("secret store unavailable: vault rate limited `{WRITE}`"));
    assert_eq!(key, format!("key manager unavailable: vault rate limited `{LIST}`"));
    assert_eq!(fake.writes().len(), 1);

    let ([read, ..], fake) = run(|_| Reply::Json { status: 429, body: "{}", retry_after: Some("120") }).await;
    assert_eq!(read, format!("secret store unavailable: vault rate limited `{READ}`"));
    assert_eq!(fake.count("GET", "/credentials/"), 1, "a retry-after beyond the cap is not waited for");
}

#[tokio::test]
async fn a_sealed_vault_fails_closed() {
    let ([read, write, key], fake) = run(|_| json(503, r#"{"errors":["Vault is sealed"]}"#)).await;
    assert_eq!(read, format!("secret store unavailable: vault is sealed: `{READ}` refused"));
    assert_eq!(write, format!("secret store unavailable: vault is sealed: `{WRITE}` refused"));
    assert_eq!(key, format!("key manager unavailable: vault is sealed: `{LIST}` refused"));
    assert_eq!(fake.writes().len(), 1);
}

#[tokio::test]
async fn timeouts_fail_closed() {
    let ([read, write, key], fake) = run(|_| Reply::Hang).await;
    assert_eq!(read, format!("secret store unavailable: vault request `{READ}` timed out"));
    assert_eq!(write, format!("secret store unavailable: vault request `{WRITE}` timed out"));
    assert_eq!(key, format!("key manager unavailable: vault request `{LIST}` timed out"));
    assert_eq!(fake.count("POST", "/credentials/"), 1);
    assert_eq!(fake.writes().len(), 1);
}

#[tokio::test]
async fn malformed_bodies_fail_closed() {
    let ([read, write, key], fake) = run(|_| json(200, "<html>not json</html>")).await;
    assert_eq!(
        read,
        format!(
            "secret store unavailable: vault response to `{READ}` is malformed at `.`: Syntax error at line 1 column 1"
        )
    );
    assert_eq!(
        write,
        format!(
            "secret store unavailable: vault response to `{WRITE}` is malformed at `.`: Syntax error at line 1 column 1"
        )
    );
    assert_eq!(
        key,
        format!(
            "key manager unavailable: vault response to `{LIST}` is malformed at `.`: Syntax error at line 1 column 1"
        )
    );
    assert_eq!(fake.writes().len(), 1);

    let ([.., key], fake) = run(|_| json(200, r#"{"data":{"keys":"not a list"}}"#)).await;
    assert_eq!(
        key,
        format!(
            "key manager unavailable: vault response to `{LIST}` is malformed at `data.keys`: Data error at line 1 column 28"
        )
    );
    assert_eq!(fake.writes().len(), 1);
}

#[tokio::test]
async fn a_transit_failure_while_creating_a_key_writes_no_record() {
    let fake = Fake::start(|seen| {
        lookup(seen).unwrap_or_else(|| {
            if seen.path.contains("/transit/") { json(500, "{}") } else { json(404, r#"{"errors":[]}"#) }
        })
    })
    .await;
    let (_, _, keys) = ports(config(&fake));
    let (tenant, grant) = ids();
    let error = keys.current_key(&KeyScope::grant(&tenant, &grant)).await.unwrap_err();
    assert!(
        chain(&error)
            .starts_with("key manager unavailable: vault returned 500 for `POST transit/keys/custodian-"),
        "{}",
        chain(&error)
    );
    let writes = fake.writes();
    assert!(
        writes.iter().all(|w| w.path.contains("/transit/keys/")),
        "only the key creation was attempted: {writes:?}"
    );
    assert_eq!(writes.len(), 3, "creating a transit key is idempotent and retried");
}
