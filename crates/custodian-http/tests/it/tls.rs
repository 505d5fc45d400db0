//! TLS-1 on the wire: the ClientHello the client actually sends offers TLS 1.3 and 1.2 only, and an https
//! server whose certificate is not trusted is refused.

use std::time::Duration;

use custodian_http::{HttpClient, HttpConfig, HttpError, Request, TlsRoots, Url};
use tokio::io::AsyncReadExt as _;
use tokio::net::TcpListener;

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

/// Sends one https request to a listener that records the ClientHello and hangs up.
async fn client_hello(roots: TlsRoots) -> (Vec<u8>, HttpError) {
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
    let config = HttpConfig { timeout: Duration::from_secs(3), tls_roots: roots, ..HttpConfig::default() };
    let client = HttpClient::new(config).unwrap();
    let url = Url::parse(&format!("https://127.0.0.1:{port}/x")).unwrap();
    let error = client.send(Request::get(url)).await.unwrap_err();
    (server.await.unwrap(), error)
}

#[tokio::test]
async fn tls1_https_offers_only_tls_1_3_and_1_2() {
    let pem = include_str!("../fixtures/test-ca.pem").to_owned();
    for roots in [TlsRoots::Platform, TlsRoots::Pem(pem)] {
        let (hello, error) = client_hello(roots).await;
        assert!(error.is_transient(), "{error:?}");
        let (legacy, versions) = offered_versions(&hello);
        assert_eq!(legacy, 0x0303);
        assert_eq!(versions, [0x0304, 0x0303], "TLS 1.3 and TLS 1.2 only");
    }
}

#[tokio::test]
async fn tls1_a_default_client_refuses_plain_http_everywhere() {
    let client = HttpClient::new(HttpConfig::default()).unwrap();
    for url in ["http://127.0.0.1:1/x", "http://[::1]:1/x", "http://localhost:1/x", "http://example.com/x"] {
        let error = client.send(Request::get(Url::parse(url).unwrap())).await.unwrap_err();
        assert!(matches!(error, HttpError::PlainHttpNotAllowed { .. }), "{url}: {error:?}");
    }
}
