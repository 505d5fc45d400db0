//! `HttpClient::send_streaming` against the canned server: a 2xx body reaches the sink as it arrives
//! (declared length first), any other status comes back whole, and the body limit and a failing sink
//! stop the download with their own errors.

use custodian_http::{BodySink, HttpError, Request, Streamed};

use crate::server::{Server, chunked, client, client_with, reply};

/// Records what the client handed over.
#[derive(Default)]
struct Recorder {
    declared: Option<Option<u64>>,
    chunks: Vec<Vec<u8>>,
    /// Fail on this chunk (0-based).
    fail_at: Option<usize>,
}

impl BodySink for Recorder {
    fn start(&mut self, declared: Option<u64>) {
        assert!(self.declared.is_none(), "started twice");
        self.declared = Some(declared);
    }

    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        assert!(self.declared.is_some(), "a chunk before start");
        if self.fail_at == Some(self.chunks.len()) {
            return Err(std::io::Error::other("disk full"));
        }
        self.chunks.push(chunk.to_vec());
        Ok(())
    }
}

impl Recorder {
    fn body(&self) -> Vec<u8> {
        self.chunks.concat()
    }
}

#[tokio::test]
async fn a_success_body_reaches_the_sink_whole_with_its_declared_length() {
    let body = "a,b\n".repeat(5_000);
    let server = Server::start(vec![
        reply("200 OK", &[("content-type", "text/csv")], &body),
        chunked(&["one,", "two,", "three"]),
        reply("204 No Content", &[], ""),
    ])
    .await;
    let mut sink = Recorder::default();
    let streamed = client().send_streaming(Request::get(server.url("/export")), &mut sink).await.unwrap();
    let Streamed::Delivered { status, headers, bytes } = streamed else { panic!("{streamed:?}") };
    assert_eq!((status, bytes), (200, 20_000));
    assert_eq!(headers.get("content-type").unwrap(), "text/csv");
    assert_eq!(sink.declared, Some(Some(20_000)));
    assert_eq!(sink.body(), body.as_bytes());

    let mut sink = Recorder::default();
    let streamed = client().send_streaming(Request::get(server.url("/export")), &mut sink).await.unwrap();
    assert!(matches!(streamed, Streamed::Delivered { status: 200, bytes: 13, .. }), "{streamed:?}");
    assert_eq!(sink.declared, Some(None), "a chunked body declares no length");
    assert_eq!(sink.body(), b"one,two,three");

    let mut sink = Recorder::default();
    let streamed = client().send_streaming(Request::get(server.url("/empty")), &mut sink).await.unwrap();
    assert!(matches!(streamed, Streamed::Delivered { status: 204, bytes: 0, .. }), "{streamed:?}");
    assert!(sink.chunks.is_empty());
}

#[tokio::test]
async fn another_status_comes_back_whole_and_the_sink_hears_nothing() {
    let error = r#"{"code":"forbidden","message":"step-up required"}"#;
    let server = Server::start(vec![reply("403 Forbidden", &[], error)]).await;
    let mut sink = Recorder::default();
    let streamed = client().send_streaming(Request::get(server.url("/export")), &mut sink).await.unwrap();
    let Streamed::Refused(response) = streamed else { panic!("{streamed:?}") };
    assert_eq!(response.status, 403);
    assert_eq!(&response.body[..], error.as_bytes());
    assert!(sink.declared.is_none() && sink.chunks.is_empty());
}

#[tokio::test]
async fn the_body_limit_holds_declared_or_not() {
    let big = "x".repeat(1_000);
    let part = "y".repeat(400);
    let server = Server::start(vec![reply("200 OK", &[], &big), chunked(&[&part, &part, &part])]).await;
    let small = client_with(|c| c.max_body_bytes = 999);
    // Declared too large: refused before the sink hears of it.
    let mut sink = Recorder::default();
    let error = small.send_streaming(Request::get(server.url("/big")), &mut sink).await.unwrap_err();
    assert!(matches!(error, HttpError::BodyTooLarge { limit: 999 }), "{error:?}");
    assert!(sink.declared.is_none());
    // Too large only in sum: stopped before the chunk that crosses the limit.
    let mut sink = Recorder::default();
    let error = small.send_streaming(Request::get(server.url("/big")), &mut sink).await.unwrap_err();
    assert!(matches!(error, HttpError::BodyTooLarge { limit: 999 }), "{error:?}");
    assert!(sink.body().len() <= 999, "{}", sink.body().len());
}

#[tokio::test]
async fn a_failing_sink_stops_the_download_with_its_own_error() {
    let server = Server::start(vec![chunked(&["one,", "two,", "three"])]).await;
    let mut sink = Recorder { fail_at: Some(0), ..Recorder::default() };
    let url = server.url("/export?access_token=SECRET-9");
    let error = client().send_streaming(Request::get(url), &mut sink).await.unwrap_err();
    assert!(matches!(error, HttpError::Sink { .. }), "{error:?}");
    assert!(!error.is_transient(), "a full disk does not clear by trying again");
    assert_eq!(error.to_string(), "the response body cannot be written");
    let source = std::error::Error::source(&error).map(ToString::to_string);
    assert_eq!(source.as_deref(), Some("disk full"));
    assert!(!format!("{error:?}").contains("SECRET-9"));
}

#[tokio::test]
async fn a_chunked_body_cut_off_before_its_last_chunk_is_an_error_not_a_delivery() {
    // What custodian-server sends when an export fails after its first page: chunks, then the connection
    // closes without the terminating zero-length chunk.
    let cut = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n5\r\nfirst\r\n";
    let server = Server::start(vec![crate::server::Script::Raw(cut.as_bytes().to_vec())]).await;
    let mut sink = Recorder::default();
    let result = client().send_streaming(Request::get(server.url("/export")), &mut sink).await;
    let error = result.unwrap_err();
    assert!(!matches!(error, HttpError::Sink { .. } | HttpError::BodyTooLarge { .. }), "{error:?}");
    assert!(sink.body().len() <= 5, "{:?}", sink.body());
}

#[tokio::test]
async fn a_download_that_stalls_fails_after_the_idle_timeout_not_the_total_one() {
    let head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n5\r\nfirst\r\n";
    let server = Server::start(vec![crate::server::Script::Stall(head.as_bytes().to_vec())]).await;
    let patient = client_with(|c| {
        c.timeout = std::time::Duration::from_secs(60);
        c.idle_timeout = Some(std::time::Duration::from_millis(300));
    });
    let mut sink = Recorder::default();
    let error = patient.send_streaming(Request::get(server.url("/export")), &mut sink).await.unwrap_err();
    // Without the idle timeout the server's close after five seconds would end it as a transport error.
    assert!(matches!(error, HttpError::Timeout { .. }), "{error:?}");
    assert_eq!(sink.body(), b"first", "what arrived before the stall reached the sink");
}
