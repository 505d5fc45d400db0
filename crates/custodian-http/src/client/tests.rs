//! Unit tests of the client's construction and URL checks (TLS-1).

use expect_test::expect;

use super::*;

#[test]
fn defaults() {
    let config = HttpConfig::default();
    assert_eq!(config.user_agent, concat!("custodian/", env!("CARGO_PKG_VERSION")));
    assert_eq!(config.connect_timeout, Duration::from_secs(10));
    assert_eq!(config.timeout, Duration::from_secs(60));
    assert!(!config.allow_plain_loopback);
    assert_eq!(config.tls_roots, TlsRoots::Platform);
    assert_eq!(config.max_body_bytes, 64 * 1024 * 1024);
    let client = HttpClient::new(config).unwrap();
    expect!["HttpClient { allow_plain_loopback: false, max_body_bytes: 67108864, .. }"]
        .assert_eq(&format!("{client:?}"));
}

#[test]
fn tls1_check_url() {
    let strict = HttpClient::new(HttpConfig::default()).unwrap();
    let loopback =
        HttpClient::new(HttpConfig { allow_plain_loopback: true, ..HttpConfig::default() }).unwrap();
    let result = |client: &HttpClient, url: &str| match client.check_url(url) {
        Ok(url) => url.to_string(),
        Err(e) => e.to_string(),
    };
    assert_eq!(result(&strict, "https://api.ebay.com/sell"), "https://api.ebay.com/sell");
    assert_eq!(
        result(&strict, "http://127.0.0.1:9/x"),
        "plain http to `127.0.0.1` refused: use https (plain http is allowed only to loopback, when configured)"
    );
    assert_eq!(result(&loopback, "http://127.0.0.1:9/x"), "http://127.0.0.1:9/x");
    assert_eq!(
        result(&loopback, "http://api.ebay.com/sell"),
        "plain http to `api.ebay.com` refused: use https (plain http is allowed only to loopback, when configured)"
    );
    assert_eq!(result(&strict, "api.ebay.com/sell"), "url is invalid: not an absolute url");
    assert_eq!(result(&strict, "https://"), "url is invalid: not an absolute url");
    assert_eq!(result(&strict, "https://a:b@api.ebay.com/"), "url is invalid: it must not carry credentials");
    assert_eq!(result(&strict, "gopher://api.ebay.com/"), "url is invalid: the scheme must be https");
}

#[test]
fn an_invalid_user_agent_is_refused() {
    let error =
        HttpClient::new(HttpConfig { user_agent: "a\nb".to_owned(), ..HttpConfig::default() }).unwrap_err();
    assert_eq!(error.to_string(), "header `user-agent` is invalid");
}
