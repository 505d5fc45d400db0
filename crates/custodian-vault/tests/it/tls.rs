//! TLS-1: plain http is refused unless it goes to a literal loopback address and is explicitly allowed;
//! https offers TLS 1.3 and 1.2 only (read from the ClientHello the client actually sends).

use std::time::Duration;

use custodian_vault::{VaultAuth, VaultClient, VaultConfig, VaultError};
use expect_test::{Expect, expect};
use secrecy::SecretString;
use tokio::io::AsyncReadExt as _;
use tokio::net::TcpListener;

#[track_caller]
fn check(address: &str, allow_plain_http_loopback: bool, expect: Expect) {
    let config = VaultConfig {
        allow_plain_http_loopback,
        ..VaultConfig::new(address, VaultAuth::Token(SecretString::from("t")))
    };
    let result = VaultClient::new(config).map(|_| "ok".to_owned()).unwrap_or_else(|e| e.to_string());
    expect.assert_eq(&result);
}

#[test]
fn plain_http_is_refused_unless_loopback_and_allowed() {
    check("https://vault.internal:8200", false, expect!["ok"]);
    check("https://10.0.0.7:8200", true, expect!["ok"]);
    check("http://127.0.0.1:8200", true, expect!["ok"]);
    check("http://127.8.9.10:8200", true, expect!["ok"]);
    check("http://[::1]:8200", true, expect!["ok"]);
    check(
        "http://127.0.0.1:8200",
        false,
        expect![
            "plain http to `127.0.0.1` refused: use https (plain http is allowed only to loopback, when configured)"
        ],
    );
    check(
        "http://10.0.0.7:8200",
        true,
        expect!["plain http to `10.0.0.7` refused: only literal loopback addresses may use plain http"],
    );
    check(
        "http://vault.internal:8200",
        true,
        expect!["plain http to `vault.internal` refused: only literal loopback addresses may use plain http"],
    );
    check(
        "http://localhost:8200",
        true,
        expect!["plain http to `localhost` refused: only literal loopback addresses may use plain http"],
    );
    check(
        "http://[::ffff:10.0.0.7]:8200",
        true,
        expect!["plain http to `[::ffff:a00:7]` refused: only literal loopback addresses may use plain http"],
    );
    check("ftp://vault.internal", true, expect!["vault address scheme `ftp` is not supported: use https"]);
    check(
        "https://user:pass@vault.internal",
        false,
        expect!["vault address is invalid: it must not carry credentials"],
    );
    check(
        "https://vault.internal/?x=1",
        false,
        expect!["vault address is invalid: it must not have a query or fragment"],
    );
    check("vault.internal:8200", false, expect!["vault address is invalid: it has no host"]);
    check("not a url", false, expect!["vault address is invalid: not an absolute url"]);
}

/// The protocol versions listed in a ClientHello's `supported_versions` extension, and its legacy version.
fn offered_versions(hello: &[u8]) -> (u16, Vec<u16>) {
    let be16 = |at: usize| u16::from_be_bytes([hello[at], hello[at + 1]]);
    assert_eq!(hello[0], 22, "a handshake record");
    assert_eq!(hello[5], 1, "a ClientHello");
    let legacy = be16(9);
    let mut at = 9 + 2 + 32;
    at += 1 + hello[at] as usize; // session id
    at += 2 + be16(at) as usize; // cipher suites
    at += 1 + hello[at] as usize; // compression methods
    let end = at + 2 + be16(at) as usize;
    at += 2;
    while at + 4 <= end {
        let (kind, len) = (be16(at), be16(at + 2) as usize);
        if kind == 0x002b {
            let list = &hello[at + 5..at + 5 + hello[at + 4] as usize];
            return (legacy, list.chunks(2).map(|v| u16::from_be_bytes([v[0], v[1]])).collect());
        }
        at += 4 + len;
    }
    panic!("no supported_versions extension");
}

#[tokio::test]
async fn https_offers_only_tls_1_3_and_1_2() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut hello = vec![0u8; 5];
        socket.read_exact(&mut hello).await.unwrap();
        let len = u16::from_be_bytes([hello[3], hello[4]]) as usize;
        hello.resize(5 + len, 0);
        socket.read_exact(&mut hello[5..]).await.unwrap();
        hello
    });
    let config = VaultConfig {
        request_timeout: Duration::from_secs(2),
        max_attempts: 1,
        ..VaultConfig::new(format!("https://127.0.0.1:{port}"), VaultAuth::Token(SecretString::from("t")))
    };
    let client = VaultClient::new(config).unwrap();
    let result = client.health().await;
    assert!(matches!(result, Err(VaultError::Transport { .. } | VaultError::Timeout { .. })), "{result:?}");
    let (legacy, versions) = offered_versions(&server.await.unwrap());
    assert_eq!(legacy, 0x0303);
    assert_eq!(versions, [0x0304, 0x0303], "TLS 1.3 and TLS 1.2 only");
}
