//! Unit tests of TLS-1: the URL check and the protocol versions of the built rustls configuration.

use super::*;
use expect_test::{Expect, expect};

#[track_caller]
fn check(url: &str, allow_plain_loopback: bool, expect: Expect) {
    let url = Url::parse(url).unwrap();
    let result =
        check_url(&url, allow_plain_loopback).map(|()| "ok".to_owned()).unwrap_or_else(|e| e.to_string());
    expect.assert_eq(&result);
}

#[test]
fn tls1_https_anywhere_plain_http_only_to_loopback_when_allowed() {
    check("https://graph.facebook.com/v25.0/me", false, expect!["ok"]);
    check("https://10.0.0.7:8443/x", true, expect!["ok"]);
    check("http://127.0.0.1:8080/x", true, expect!["ok"]);
    check("http://127.8.9.10/x", true, expect!["ok"]);
    check("http://[::1]:8080/x", true, expect!["ok"]);
    check("http://localhost:8080/x", true, expect!["ok"]);
    // Plain http when not enabled, even to loopback.
    check(
        "http://127.0.0.1:8080/x",
        false,
        expect![
            "plain http to `127.0.0.1` refused: use https (plain http is allowed only to loopback, when configured)"
        ],
    );
    check(
        "http://localhost:8080/x",
        false,
        expect![
            "plain http to `localhost` refused: use https (plain http is allowed only to loopback, when configured)"
        ],
    );
    // Plain http to anything that is not loopback, even when enabled.
    check(
        "http://graph.facebook.com/v25.0/me",
        true,
        expect![
            "plain http to `graph.facebook.com` refused: use https (plain http is allowed only to loopback, when configured)"
        ],
    );
    check(
        "http://10.0.0.7/x",
        true,
        expect![
            "plain http to `10.0.0.7` refused: use https (plain http is allowed only to loopback, when configured)"
        ],
    );
    check(
        "http://[::ffff:127.0.0.1]/x",
        true,
        expect![
            "plain http to `[::ffff:7f00:1]` refused: use https (plain http is allowed only to loopback, when configured)"
        ],
    );
    check(
        "http://localhost.evil.example/x",
        true,
        expect![
            "plain http to `localhost.evil.example` refused: use https (plain http is allowed only to loopback, when configured)"
        ],
    );
    check(
        "http://127.0.0.1.nip.io/x",
        true,
        expect![
            "plain http to `127.0.0.1.nip.io` refused: use https (plain http is allowed only to loopback, when configured)"
        ],
    );
    // Credentials in the URL, other schemes.
    check(
        "https://user:pw@graph.facebook.com/",
        false,
        expect!["url is invalid: it must not carry credentials"],
    );
    check(
        "https://user@graph.facebook.com/",
        false,
        expect!["url is invalid: it must not carry credentials"],
    );
    check("http://user:pw@127.0.0.1/", true, expect!["url is invalid: it must not carry credentials"]);
    check("ftp://files.example/x", true, expect!["url is invalid: the scheme must be https"]);
    check("ws://127.0.0.1/x", true, expect!["url is invalid: the scheme must be https"]);
    check("file:///etc/passwd", true, expect!["url is invalid: it has no host"]);
    check("data:text/plain,hi", true, expect!["url is invalid: it has no host"]);
}

/// The protocol versions listed in a ClientHello's `supported_versions` extension, and its legacy version.
pub(crate) fn offered_versions(hello: &[u8]) -> (u16, Vec<u16>) {
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

#[test]
fn tls1_config_offers_only_tls13_and_tls12() {
    for roots in [TlsRoots::Platform, TlsRoots::Pem(TEST_CA.to_owned())] {
        let config = Arc::new(client_config(&roots).unwrap());
        let name = rustls::pki_types::ServerName::try_from("graph.facebook.com").unwrap();
        let mut connection = rustls::ClientConnection::new(config, name).unwrap();
        let mut hello = Vec::new();
        connection.write_tls(&mut hello).unwrap();
        let (legacy, versions) = offered_versions(&hello);
        assert_eq!(legacy, 0x0303, "{roots:?}");
        assert_eq!(versions, [0x0304, 0x0303], "TLS 1.3 and TLS 1.2 only ({roots:?})");
    }
    assert_eq!(VERSIONS.len(), 2);
}

#[test]
fn pem_roots_must_hold_a_certificate() {
    let result =
        |pem: &str| client_config(&TlsRoots::Pem(pem.to_owned())).map(|_| ()).unwrap_err().to_string();
    assert_eq!(result(""), "tls configuration is invalid");
    let error = client_config(&TlsRoots::Pem(String::new())).unwrap_err();
    let source = std::error::Error::source(&error).unwrap().to_string();
    assert!(source.contains("no ca certificate in the configured pem"), "{source}");
    let error = client_config(&TlsRoots::Pem(
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n".to_owned(),
    ))
    .unwrap_err();
    let source = std::error::Error::source(&error).unwrap().to_string();
    assert!(source.contains("pem") || source.contains("certificate"), "{source}");
}

/// A self-signed CA certificate (only parsed here, never used for a handshake).
const TEST_CA: &str = include_str!("../../tests/fixtures/test-ca.pem");
