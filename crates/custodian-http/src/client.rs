//! [`HttpClient`]: the one constructor of a reqwest client (rustls with TLS 1.2/1.3, explicit timeouts, a
//! product user agent, no redirects, no proxies) and the single-attempt [`HttpClient::send`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderValue};
use tokio::time::Instant;

use crate::error::HttpError;
use crate::redact::redact_url;
use crate::request::{BodySink, Request, Response, Streamed};
use crate::tls;

/// The default user agent: `custodian/<version>`.
const USER_AGENT: &str = concat!("custodian/", env!("CARGO_PKG_VERSION"));
/// The most body capacity reserved up front from a `Content-Length`, whatever the limit.
const MAX_PREALLOCATED: usize = 1 << 20;

/// Which certificate authorities HTTPS servers are checked against.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TlsRoots {
    /// The operating system's trust store (rustls-platform-verifier).
    #[default]
    Platform,
    /// Only these CA certificates (PEM, one or more): private CAs, tests.
    Pem(String),
}

/// How the client is built. Start from [`HttpConfig::default`] and override fields.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Default `custodian/<version>`.
    pub user_agent: String,
    /// Default 10 s.
    pub connect_timeout: Duration,
    /// The whole request, body included. Default 60 s.
    pub timeout: Duration,
    /// The longest wait for the next bytes of an answer, head or body: a stalled connection fails after
    /// this long even when [`HttpConfig::timeout`] is far off (a long download). Default `None`: the total
    /// timeout alone.
    pub idle_timeout: Option<Duration>,
    /// Allow plain `http` to loopback addresses (tests, the simulator). Default `false` (TLS-1).
    pub allow_plain_loopback: bool,
    /// Default [`TlsRoots::Platform`].
    pub tls_roots: TlsRoots,
    /// Responses with a larger body are an error ([`HttpError::BodyTooLarge`]), not truncated data.
    /// Default 64 MiB.
    pub max_body_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            user_agent: USER_AGENT.to_owned(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            idle_timeout: None,
            allow_plain_loopback: false,
            tls_roots: TlsRoots::Platform,
            max_body_bytes: 64 << 20,
        }
    }
}

/// The HTTP client every adapter uses. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    allow_plain_loopback: bool,
    max_body_bytes: usize,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("allow_plain_loopback", &self.inner.allow_plain_loopback)
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Builds the client: the rustls configuration (TLS 1.3 and 1.2 only, TLS-1), timeouts, user agent, no
    /// redirects, no proxies (a proxy from the environment could carry plain-http loopback traffic off the
    /// machine), and `https_only` unless plain loopback is allowed. Contacts nobody.
    pub fn new(config: HttpConfig) -> Result<Self, HttpError> {
        let user_agent = HeaderValue::from_str(&config.user_agent)
            .map_err(|_| HttpError::InvalidHeader { name: "user-agent" })?;
        #[expect(clippy::disallowed_methods, reason = "this is the one shared client constructor")]
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls::client_config(&config.tls_roots)?)
            .https_only(!config.allow_plain_loopback)
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(user_agent);
        if let Some(idle) = config.idle_timeout {
            builder = builder.read_timeout(idle);
        }
        let http = builder.build().map_err(HttpError::Client)?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                allow_plain_loopback: config.allow_plain_loopback,
                max_body_bytes: config.max_body_bytes,
            }),
        })
    }

    /// Parses a (base) URL and checks it against TLS-1: `https` anywhere; plain `http` only to a loopback
    /// host (`127.0.0.0/8`, `::1` or `localhost`) and only when [`HttpConfig::allow_plain_loopback`]; no
    /// credentials in the URL.
    pub fn check_url(&self, url: &str) -> Result<Url, HttpError> {
        let parsed = Url::parse(url).map_err(|_| HttpError::Url { reason: "not an absolute url" })?;
        tls::check_url(&parsed, self.inner.allow_plain_loopback)?;
        Ok(parsed)
    }

    /// Sends one attempt (no retry): checks the URL (TLS-1) and the request, reads the body up to
    /// [`HttpConfig::max_body_bytes`], and logs the method, the redacted URL, the status and the elapsed
    /// time at debug level (never headers or bodies). Any status is returned as a [`Response`].
    pub async fn send(&self, request: Request) -> Result<Response, HttpError> {
        request.check()?;
        tls::check_url(&request.url, self.inner.allow_plain_loopback)?;
        let method = request.method.clone();
        let url = redact_url(&request.url);
        let started = Instant::now();
        let result = self.attempt(request).await;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(response) => {
                tracing::debug!(
                    method = %method,
                    url = %url,
                    status = response.status,
                    elapsed_ms,
                    body_bytes = response.body.len(),
                    "http request"
                );
                Ok(response)
            }
            Err(failure) => {
                let error = failure.into_error(method.as_str(), url);
                tracing::debug!(method = %method, elapsed_ms, error = %error, "http request failed");
                Err(error)
            }
        }
    }

    /// Like [`HttpClient::send`], but a 2xx body is handed to `sink` chunk by chunk as it arrives, never
    /// held whole: for downloads (a rights export) that a caller writes to a file and shows progress of.
    /// The sink hears the declared length first ([`BodySink::start`]). Any other status comes back as
    /// [`Streamed::Refused`] with its body read as `send` reads it, for the caller's error. The body limit
    /// ([`HttpConfig::max_body_bytes`]) holds: past it the download stops with
    /// [`HttpError::BodyTooLarge`], and a sink that fails stops it with [`HttpError::Sink`]; after an
    /// error the sink may hold part of the body, which the caller discards.
    pub async fn send_streaming(
        &self,
        request: Request,
        sink: &mut (dyn BodySink + Send),
    ) -> Result<Streamed, HttpError> {
        request.check()?;
        tls::check_url(&request.url, self.inner.allow_plain_loopback)?;
        let method = request.method.clone();
        let url = redact_url(&request.url);
        let started = Instant::now();
        let result = self.stream(request, sink).await;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(streamed) => {
                let (status, body_bytes) = match &streamed {
                    Streamed::Delivered { status, bytes, .. } => (*status, *bytes),
                    Streamed::Refused(response) => (response.status, response.body.len() as u64),
                };
                tracing::debug!(method = %method, url = %url, status, elapsed_ms, body_bytes, "http request (streamed)");
                Ok(streamed)
            }
            Err(failure) => {
                let error = failure.into_error(method.as_str(), url);
                tracing::debug!(method = %method, elapsed_ms, error = %error, "http request failed");
                Err(error)
            }
        }
    }

    async fn stream(
        &self,
        request: Request,
        sink: &mut (dyn BodySink + Send),
    ) -> Result<Streamed, AttemptError> {
        let Opened { mut response, status, headers, declared } = self.open(request).await?;
        let limit = self.inner.max_body_bytes;
        if !(200..300).contains(&status) {
            let body = read_body(&mut response, limit, capacity(declared)).await?;
            return Ok(Streamed::Refused(Response { status, headers, body }));
        }
        sink.start(declared);
        let mut bytes = 0usize;
        while let Some(chunk) = response.chunk().await.map_err(AttemptError::Reqwest)? {
            if chunk.len() > limit.saturating_sub(bytes) {
                return Err(AttemptError::TooLarge(limit));
            }
            bytes += chunk.len();
            sink.write(&chunk).map_err(AttemptError::Sink)?;
        }
        Ok(Streamed::Delivered { status, headers, bytes: bytes as u64 })
    }

    async fn attempt(&self, request: Request) -> Result<Response, AttemptError> {
        let Opened { mut response, status, headers, declared } = self.open(request).await?;
        let limit = self.inner.max_body_bytes;
        let body = read_body(&mut response, limit, capacity(declared)).await?;
        Ok(Response { status, headers, body })
    }

    /// Sends `request` and reads the response's head; a declared body over the limit is refused here.
    async fn open(&self, request: Request) -> Result<Opened, AttemptError> {
        let mut builder = self.inner.http.request(request.method, request.url).headers(request.headers);
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let mut response = builder.send().await.map_err(AttemptError::Reqwest)?;
        let declared = response.content_length();
        if declared.is_some_and(|n| n > self.inner.max_body_bytes as u64) {
            return Err(AttemptError::TooLarge(self.inner.max_body_bytes));
        }
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        Ok(Opened { response, status, headers, declared })
    }
}

/// A response whose head has been read, its body not yet.
struct Opened {
    response: reqwest::Response,
    status: u16,
    headers: HeaderMap,
    /// `Content-Length`, if sent.
    declared: Option<u64>,
}

/// The body capacity to reserve up front for a declared length.
fn capacity(declared: Option<u64>) -> usize {
    declared.map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX)).min(MAX_PREALLOCATED)
}

/// Reads the whole body, failing as soon as it exceeds `limit`.
///
/// A body that arrives as one chunk is handed on as that chunk (no copy); only a body in several chunks
/// is gathered into one buffer (`capacity` bytes reserved up front).
async fn read_body(
    response: &mut reqwest::Response,
    limit: usize,
    capacity: usize,
) -> Result<Bytes, AttemptError> {
    let Some(first) = response.chunk().await.map_err(AttemptError::Reqwest)? else {
        return Ok(Bytes::new());
    };
    if first.len() > limit {
        return Err(AttemptError::TooLarge(limit));
    }
    let Some(second) = response.chunk().await.map_err(AttemptError::Reqwest)? else {
        return Ok(first);
    };
    let mut body = BytesMut::with_capacity(capacity.max(first.len() + second.len()));
    body.extend_from_slice(&first);
    drop(first);
    let mut next = Some(second);
    while let Some(chunk) = next {
        if chunk.len() > limit.saturating_sub(body.len()) {
            return Err(AttemptError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
        next = response.chunk().await.map_err(AttemptError::Reqwest)?;
    }
    Ok(body.freeze())
}

/// A failed attempt, before the method and redacted URL are attached.
enum AttemptError {
    Reqwest(reqwest::Error),
    TooLarge(usize),
    Sink(std::io::Error),
}

impl AttemptError {
    fn into_error(self, method: &str, url: String) -> HttpError {
        match self {
            Self::TooLarge(limit) => HttpError::BodyTooLarge { limit },
            Self::Sink(source) => HttpError::Sink { source },
            Self::Reqwest(error) if error.is_timeout() => {
                HttpError::Timeout { method: method.to_owned(), url }
            }
            Self::Reqwest(error) => {
                HttpError::Transport { method: method.to_owned(), url, source: error.without_url() }
            }
        }
    }
}

#[cfg(test)]
mod tests;
