//! Real requests against the canned server: decoding, body limits, timeouts, truncated bodies, TLS-1
//! refusals, no redirects, and the retry loop over real responses.

use std::time::{Duration, SystemTime};

use custodian_http::{
    Failure, HttpError, Request, RetryPolicy, SENSITIVE_HEADERS, failure_from_status, with_retry,
};
use secrecy::SecretString;

use crate::server::{Script, Server, chunked, client, client_with, reply};

#[derive(Debug, serde::Deserialize, PartialEq)]
struct Campaign {
    id: String,
    spend: f64,
}

#[tokio::test]
async fn a_200_json_response_decodes() {
    let server = Server::start(vec![reply(
        "200 OK",
        &[("content-type", "application/json"), ("x-amzn-RequestId", "r-1")],
        r#"{"id":"c1","spend":12.5}"#,
    )])
    .await;
    let request = Request::post(server.url("/v1/campaigns?fields=id"))
        .query(&[("limit", "2")])
        .header("accept", "application/json")
        .secret_header("authorization", &SecretString::from("Bearer t0k"))
        .json(&serde_json::json!({"name": "a b"}));
    let response = client().send(request).await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.header("x-amzn-requestid"), Some("r-1"));
    assert_eq!(response.json::<Campaign>().unwrap(), Campaign { id: "c1".to_owned(), spend: 12.5 });
    // What reached the server: method, path and query, headers, body.
    let requests = server.requests();
    let sent = requests[0].to_lowercase();
    assert!(sent.starts_with("post /v1/campaigns?fields=id&limit=2 http/1.1\r\n"), "{sent}");
    assert!(sent.contains("\r\nauthorization: bearer t0k\r\n"), "{sent}");
    assert!(sent.contains("\r\ncontent-type: application/json\r\n"), "{sent}");
    assert!(
        sent.contains(concat!("\r\nuser-agent: custodian/", env!("CARGO_PKG_VERSION"), "\r\n")),
        "{sent}"
    );
    assert!(sent.ends_with(r#"{"name":"a b"}"#), "{sent}");
}

#[tokio::test]
async fn any_status_comes_back_as_a_response() {
    let server = Server::start(vec![reply(
        "400 Bad Request",
        &[],
        r#"{"error":{"message":"Invalid parameter","code":100,"fbtrace_id":"x"}}"#,
    )])
    .await;
    let response = client().send(Request::get(server.url("/x"))).await.unwrap();
    assert_eq!(response.status, 400);
    let evidence = custodian_http::Evidence::from_response(&response, &[]);
    assert_eq!(evidence.to_string(), "http 400, code `100`, request `x`: Invalid parameter");
}

#[tokio::test]
async fn a_body_over_the_limit_is_an_error() {
    let big = "x".repeat(1_000);
    // Declared too large (content-length), and too large without a declared length (close-delimited).
    let close_delimited =
        Script::Raw(format!("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{big}").into_bytes());
    let server =
        Server::start(vec![reply("200 OK", &[], &big), close_delimited, reply("200 OK", &[], &big)]).await;
    let small = client_with(|c| c.max_body_bytes = 999);
    for _ in 0..2 {
        let error = small.send(Request::get(server.url("/big"))).await.unwrap_err();
        assert!(matches!(error, HttpError::BodyTooLarge { limit: 999 }), "{error:?}");
        assert!(!error.is_transient());
    }
    // Exactly at the limit is fine.
    let exact = client_with(|c| c.max_body_bytes = 1_000);
    assert_eq!(exact.send(Request::get(server.url("/big"))).await.unwrap().body.len(), 1_000);
}

#[tokio::test]
async fn bodies_in_one_piece_or_many_come_back_whole() {
    // Issue 6: a one-chunk body is passed on without a copy, a many-chunk body gathered; same bytes.
    let whole = r#"{"id":"c1","spend":12.5}"#;
    let server = Server::start(vec![
        reply("200 OK", &[], whole),
        chunked(&[r#"{"id":"#, r#""c1","spend""#, ":12.5}"]),
        chunked(&[whole]),
        reply("204 No Content", &[], ""),
        chunked(&[]),
    ])
    .await;
    for _ in 0..3 {
        let response = client().send(Request::get(server.url("/c"))).await.unwrap();
        assert_eq!(&response.body[..], whole.as_bytes());
        assert_eq!(response.json::<Campaign>().unwrap(), Campaign { id: "c1".to_owned(), spend: 12.5 });
    }
    for _ in 0..2 {
        assert!(client().send(Request::get(server.url("/e"))).await.unwrap().body.is_empty());
    }
}

#[tokio::test]
async fn a_body_over_the_limit_in_pieces_is_an_error() {
    let part = "x".repeat(400);
    // Each piece fits, the sum does not; the first piece alone does not; the sum exactly at the limit.
    let server = Server::start(vec![
        chunked(&[&part, &part, &part]),
        chunked(&[&"y".repeat(1_000)]),
        chunked(&[&part, &part, &"z".repeat(199)]),
    ])
    .await;
    let small = client_with(|c| c.max_body_bytes = 999);
    for _ in 0..2 {
        let error = small.send(Request::get(server.url("/big"))).await.unwrap_err();
        assert!(matches!(error, HttpError::BodyTooLarge { limit: 999 }), "{error:?}");
    }
    let body = small.send(Request::get(server.url("/big"))).await.unwrap().body;
    assert_eq!(body.len(), 999);
    assert_eq!(&body[800..], "z".repeat(199).as_bytes());
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_timeout() {
    let server = Server::start(vec![Script::Silent]).await;
    let quick = client_with(|c| c.timeout = Duration::from_millis(300));
    let started = std::time::Instant::now();
    let error = quick.send(Request::get(server.url("/slow?access_token=SECRET-1"))).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(matches!(error, HttpError::Timeout { .. }), "{error:?}");
    assert!(error.is_transient());
    let text = format!("{error} {error:?}");
    assert!(!text.contains("SECRET-1"), "{text}");
    assert_eq!(error.to_string(), format!("GET {}slow?access_token=[REDACTED] timed out", server.base));
}

#[tokio::test]
async fn a_truncated_body_is_a_transient_transport_error() {
    let truncated = Script::Raw(
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\nconnection: close\r\n\r\n{\"id\":\"c1\"".to_vec(),
    );
    let server = Server::start(vec![truncated]).await;
    let error = client().send(Request::get(server.url("/t?client_secret=SECRET-2"))).await.unwrap_err();
    assert!(matches!(error, HttpError::Transport { .. }), "{error:?}");
    assert!(error.is_transient());
    let text = format!("{error} {error:?} {:?}", std::error::Error::source(&error));
    assert!(!text.contains("SECRET-2"), "{text}");
}

#[tokio::test]
async fn a_refused_connection_is_a_transient_transport_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = custodian_http::Url::parse(&format!("http://127.0.0.1:{port}/x?token=SECRET-3")).unwrap();
    let error = client().send(Request::get(url)).await.unwrap_err();
    assert!(matches!(error, HttpError::Transport { .. }), "{error:?}");
    assert!(error.is_transient());
    assert!(!format!("{error:?}").contains("SECRET-3"));
}

#[tokio::test]
async fn tls1_plain_http_is_refused_before_connecting() {
    let server = Server::start(vec![reply("200 OK", &[], "{}")]).await;
    // Loopback, but plain http is not enabled.
    let strict = client_with(|c| c.allow_plain_loopback = false);
    let error = strict.send(Request::get(server.url("/x"))).await.unwrap_err();
    assert!(matches!(error, HttpError::PlainHttpNotAllowed { ref host } if host == "127.0.0.1"), "{error:?}");
    // Enabled, but not loopback.
    let url = custodian_http::Url::parse("http://192.0.2.1/x").unwrap();
    let error = client().send(Request::get(url)).await.unwrap_err();
    assert!(matches!(error, HttpError::PlainHttpNotAllowed { ref host } if host == "192.0.2.1"), "{error:?}");
    // Credentials in the URL, other schemes.
    let url = custodian_http::Url::parse(&format!("http://u:p@{}/x", server.base.authority())).unwrap();
    let error = client().send(Request::get(url)).await.unwrap_err();
    assert_eq!(error.to_string(), "url is invalid: it must not carry credentials");
    let url = custodian_http::Url::parse("ftp://127.0.0.1/x").unwrap();
    let error = client().send(Request::get(url)).await.unwrap_err();
    assert_eq!(error.to_string(), "url is invalid: the scheme must be https");
    // Nothing reached the server.
    assert!(server.requests().is_empty());
    // Invalid headers are reported without sending either.
    let error = client().send(Request::get(server.url("/x")).header("x-a", "\r\n")).await.unwrap_err();
    assert_eq!(error.to_string(), "header `x-a` is invalid");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = Server::start(vec![
        reply("302 Found", &[("location", "http://127.0.0.1:1/elsewhere")], ""),
        reply("200 OK", &[], "{}"),
    ])
    .await;
    let response = client().send(Request::get(server.url("/start"))).await.unwrap();
    assert_eq!(response.status, 302);
    assert_eq!(response.header("location"), Some("http://127.0.0.1:1/elsewhere"));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn sensitive_headers_arrive_and_are_marked() {
    let server = Server::start(vec![reply("200 OK", &[], "{}")]).await;
    let mut request = Request::get(server.url("/x"));
    for name in SENSITIVE_HEADERS.iter().copied().filter(|n| *n != "set-cookie") {
        request = request.header(name, "v");
    }
    client().send(request).await.unwrap();
    let sent = server.requests()[0].to_lowercase();
    for name in SENSITIVE_HEADERS.iter().filter(|n| **n != "set-cookie") {
        assert!(sent.contains(&format!("\r\n{name}: v\r\n")), "{name}: {sent}");
    }
}

#[tokio::test]
async fn retrying_a_real_server_until_it_answers() {
    let server = Server::start(vec![
        reply("503 Service Unavailable", &[], ""),
        reply("429 Too Many Requests", &[("retry-after", "0")], ""),
        reply("200 OK", &[], r#"{"id":"c2","spend":0}"#),
    ])
    .await;
    let client = client();
    let policy = RetryPolicy { base_delay: Duration::from_millis(5), ..RetryPolicy::default() };
    let mut statuses = Vec::new();
    let campaign = with_retry(&policy, true, |_attempt| {
        let request = Request::get(server.url("/c2"));
        let client = client.clone();
        async move {
            let response = client.send(request).await.map_err(|e| {
                let failure = if e.is_transient() { Failure::Transport } else { Failure::Invalid };
                (e.to_string(), failure)
            })?;
            match failure_from_status(response.status, &response.headers, SystemTime::UNIX_EPOCH) {
                Some(failure) => Err((format!("http {}", response.status), failure)),
                None => response.json::<Campaign>().map_err(|e| (e.to_string(), Failure::Invalid)),
            }
        }
    })
    .await;
    statuses.push(campaign);
    assert_eq!(statuses, vec![Ok(Campaign { id: "c2".to_owned(), spend: 0.0 })]);
    assert_eq!(server.requests().len(), 3);
}
