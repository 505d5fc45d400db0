//! A tiny canned HTTP/1.1 server on 127.0.0.1: each accepted connection gets the next scripted behaviour,
//! and the raw requests are recorded.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use custodian_http::{HttpClient, HttpConfig, Url};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with one connection.
#[derive(Debug, Clone)]
pub(crate) enum Script {
    /// Reads the request, writes these bytes, closes.
    Raw(Vec<u8>),
    /// Reads the request, then never answers (holds the connection for a minute).
    Silent,
    /// Reads the request, writes these bytes, holds the connection for five seconds, closes.
    Stall(Vec<u8>),
}

/// A complete response with a body and `connection: close`.
pub(crate) fn reply(status: &str, headers: &[(&str, &str)], body: &str) -> Script {
    let mut text = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n", body.len());
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    Script::Raw(text.into_bytes())
}

/// `transfer-encoding: chunked` with the given chunks (the body arrives in several pieces).
pub(crate) fn chunked(chunks: &[&str]) -> Script {
    let mut text = String::from("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n");
    for chunk in chunks {
        text.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    text.push_str("0\r\n\r\n");
    Script::Raw(text.into_bytes())
}

/// A canned server and the requests it received.
pub(crate) struct Server {
    pub(crate) base: Url,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub(crate) async fn start(script: Vec<Script>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&requests);
        tokio::spawn(async move {
            for step in script {
                let (socket, _) = listener.accept().await.unwrap();
                let log = Arc::clone(&log);
                tokio::spawn(async move { serve(socket, step, log).await });
            }
        });
        Self { base, requests }
    }

    pub(crate) fn url(&self, path_and_query: &str) -> Url {
        self.base.join(path_and_query).unwrap()
    }

    /// The raw requests received so far (head and body).
    pub(crate) fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

async fn serve(mut socket: TcpStream, step: Script, log: Arc<Mutex<Vec<String>>>) {
    let request = read_request(&mut socket).await;
    log.lock().unwrap().push(request);
    match step {
        Script::Raw(bytes) => {
            // The peer may already be gone (e.g. it refused a too-large body): ignore write errors.
            let _ = socket.write_all(&bytes).await;
            let _ = socket.shutdown().await;
        }
        Script::Silent => tokio::time::sleep(Duration::from_secs(60)).await,
        Script::Stall(bytes) => {
            let _ = socket.write_all(&bytes).await;
            tokio::time::sleep(Duration::from_secs(5)).await;
            let _ = socket.shutdown().await;
        }
    }
}

/// Reads one request: the head, then `content-length` bytes of body.
async fn read_request(socket: &mut TcpStream) -> String {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse::<usize>().unwrap());
            if data.len() >= end + 4 + length {
                return String::from_utf8_lossy(&data).into_owned();
            }
        }
        let n = socket.read(&mut buf).await.unwrap();
        if n == 0 {
            return String::from_utf8_lossy(&data).into_owned();
        }
        data.extend_from_slice(&buf[..n]);
    }
}

/// A client allowed to use plain http to loopback, with a short timeout.
pub(crate) fn client() -> HttpClient {
    client_with(|_| {})
}

pub(crate) fn client_with(change: impl FnOnce(&mut HttpConfig)) -> HttpClient {
    let mut config =
        HttpConfig { allow_plain_loopback: true, timeout: Duration::from_secs(5), ..HttpConfig::default() };
    change(&mut config);
    HttpClient::new(config).unwrap()
}
