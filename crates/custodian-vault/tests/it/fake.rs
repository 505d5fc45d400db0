//! A tiny scripted HTTP/1.1 server for the faults a real Vault cannot show on demand. It records every
//! request (method and path) and answers each with what the script says, closing the connection after.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A request as seen by the fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seen {
    pub(crate) method: String,
    /// The path with its query, e.g. `/v1/kv/metadata/x?list=true`.
    pub(crate) path: String,
}

impl Seen {
    /// Whether this request could change something in Vault.
    pub(crate) fn writes(&self) -> bool {
        !matches!(self.method.as_str(), "GET" | "HEAD") && !self.path.contains("/auth/")
    }
}

/// What the fake answers.
pub(crate) enum Reply {
    Json {
        status: u16,
        body: &'static str,
        retry_after: Option<&'static str>,
    },
    /// Never answer (until the client gives up).
    Hang,
}

pub(crate) fn json(status: u16, body: &'static str) -> Reply {
    Reply::Json { status, body, retry_after: None }
}

/// The answer to a token lookup (token auth looks up its token once), if `seen` is one.
pub(crate) fn lookup(seen: &Seen) -> Option<Reply> {
    seen.path
        .ends_with("/auth/token/lookup-self")
        .then(|| json(200, r#"{"data":{"ttl":0,"renewable":false}}"#))
}

type Script = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// A running fake, stopped on drop.
pub(crate) struct Fake {
    pub(crate) addr: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: JoinHandle<()>,
}

impl Fake {
    pub(crate) async fn start(script: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script: Script = Arc::new(script);
        let log = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else { return };
                tokio::spawn(serve(socket, script.clone(), log.clone()));
            }
        });
        Self { addr, seen, task }
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Requests that could have changed something.
    pub(crate) fn writes(&self) -> Vec<Seen> {
        self.seen().into_iter().filter(Seen::writes).collect()
    }

    /// How many requests had `method` and a path containing `part`.
    pub(crate) fn count(&self, method: &str, part: &str) -> usize {
        self.seen().iter().filter(|s| s.method == method && s.path.contains(part)).count()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut socket: TcpStream, script: Script, log: Arc<Mutex<Vec<Seen>>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        let Ok(n) = socket.read(&mut chunk).await else { return };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).into_owned();
    let mut words = head.split_whitespace();
    let seen =
        Seen { method: words.next().unwrap_or("").to_owned(), path: words.next().unwrap_or("").to_owned() };
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < header_end + length {
        let Ok(n) = socket.read(&mut chunk).await else { return };
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    log.lock().unwrap().push(seen.clone());
    match script(&seen) {
        Reply::Hang => tokio::time::sleep(Duration::from_secs(60)).await,
        Reply::Json { status, body, retry_after } => {
            let retry = retry_after.map(|r| format!("Retry-After: {r}\r\n")).unwrap_or_default();
            let response = format!(
                "HTTP/1.1 {status} Fake\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{retry}Connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    }
}
