//! SEC-1: a request carrying a token in its query and an `Authorization` header logs neither, on success
//! and on failure, at every level (captured with a tracing subscriber writing into a buffer).
//!
//! The subscriber is the process's global default, not a thread-local one: tracing caches each callsite's
//! interest process-wide, and a test thread without a subscriber reaching a callsite first would cache
//! "never" and silently drop this test's events (tokio-rs/tracing#3611). Every test of this binary logs
//! into the capture, so the search for secrets covers their requests too.

use std::io;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use custodian_http::{Failure, Request, RetryPolicy, with_retry};
use secrecy::SecretString;

use crate::server::{Script, Server, client, client_with, reply};

const SECRET: &str = "SECRET-EAAB-7f3a9c";
const BEARER: &str = "BEARER-SECRET-51c0";

/// A log sink for the test's subscriber.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The capture of every event of this test binary (installed on first use).
fn capture() -> &'static Buffer {
    static CAPTURE: OnceLock<Buffer> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let buffer = Buffer::default();
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        buffer
    })
}

fn request(server: &Server, path: &str) -> Request {
    Request::get(server.url(path))
        .query(&[("fields", "id,spend"), ("access_token", SECRET), ("appsecret_proof", SECRET)])
        .secret_header("authorization", &SecretString::from(format!("Bearer {BEARER}")))
}

#[tokio::test]
async fn sec1_requests_log_no_token_or_authorization() {
    let buffer = capture();

    let server = Server::start(vec![
        reply("200 OK", &[], r#"{"id":"1"}"#),
        reply("503 Service Unavailable", &[], ""),
        Script::Raw(b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\nconnection: close\r\n\r\n{".to_vec()),
        Script::Silent,
    ])
    .await;
    let response = client().send(request(&server, "/ok")).await.unwrap();
    assert_eq!(response.status, 200);
    // A failing series through the retry loop: 503, truncated body, timeout.
    let quick = client_with(|c| c.timeout = Duration::from_millis(300));
    let policy =
        RetryPolicy { max_attempts: 3, base_delay: Duration::from_millis(1), ..RetryPolicy::default() };
    let result: Result<(), String> = with_retry(&policy, true, |_| {
        let (quick, request) = (quick.clone(), request(&server, "/fail"));
        async move {
            match quick.send(request).await {
                Ok(response) => {
                    Err((format!("http {}", response.status), Failure::Server { status: response.status }))
                }
                Err(error) => {
                    tracing::warn!(error = %error, ?error, "platform call failed");
                    Err((error.to_string(), Failure::Transport))
                }
            }
        }
    })
    .await;
    assert!(result.is_err());

    // The secrets were sent…
    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    assert!(requests.iter().all(|r| r.contains(SECRET) && r.contains(BEARER)));
    // …and never logged.
    let logs = buffer.text();
    assert!(logs.contains("http request"), "{logs}");
    assert!(logs.contains("status=200"), "{logs}");
    assert!(logs.contains("status=503"), "{logs}");
    assert!(logs.contains("timed out"), "{logs}");
    assert!(logs.contains("access_token=[REDACTED]"), "{logs}");
    assert!(logs.contains("fields=id%2Cspend"), "{logs}");
    assert!(!logs.contains(SECRET), "{logs}");
    assert!(!logs.contains(BEARER), "{logs}");
    // Nor any secret of the other tests of this binary (all of them contain `SECRET`).
    assert!(!logs.contains("SECRET"), "{logs}");
}
