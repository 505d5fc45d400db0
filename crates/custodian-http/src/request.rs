//! [`Request`]: a small request builder whose `Debug` never shows a secret; [`Response`]: a response read
//! in full (bounded), with JSON decoding that reports paths, not values.

use std::fmt;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{DecodeError, HttpError};
use crate::redact::{self, REDACTED};

/// A request building problem, reported when the request is sent ([`crate::HttpClient::send`]), so that
/// the builder stays chainable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deferred {
    InvalidHeader(&'static str),
    Encode(&'static str),
}

impl Deferred {
    fn error(self) -> HttpError {
        match self {
            Self::InvalidHeader(name) => HttpError::InvalidHeader { name },
            Self::Encode(reason) => HttpError::Encode { reason },
        }
    }
}

/// One HTTP request. Build it with [`Request::new`] (or [`Request::get`], …) and the chainable methods;
/// send it with [`crate::HttpClient::send`]. Problems found while building (an invalid header value, a
/// body that cannot be encoded) are reported by `send`.
///
/// Its `Debug` shows the method, the URL with sensitive query values redacted ([`crate::redact_url`]),
/// header names with the values of sensitive headers redacted, and the body's length only.
#[derive(Clone)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Vec<u8>>,
    idempotent: bool,
    deferred: Option<Deferred>,
}

impl Request {
    /// A request without headers or body; idempotent for GET, HEAD, OPTIONS, PUT and DELETE.
    pub fn new(method: Method, url: Url) -> Self {
        let idempotent = matches!(
            method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE | Method::TRACE
        );
        Self { method, url, headers: HeaderMap::new(), body: None, idempotent, deferred: None }
    }

    pub fn get(url: Url) -> Self {
        Self::new(Method::GET, url)
    }

    pub fn post(url: Url) -> Self {
        Self::new(Method::POST, url)
    }

    pub fn put(url: Url) -> Self {
        Self::new(Method::PUT, url)
    }

    pub fn patch(url: Url) -> Self {
        Self::new(Method::PATCH, url)
    }

    pub fn delete(url: Url) -> Self {
        Self::new(Method::DELETE, url)
    }

    /// Appends query parameters (percent-encoded as `application/x-www-form-urlencoded`).
    pub fn query(mut self, pairs: &[(&str, &str)]) -> Self {
        if !pairs.is_empty() {
            self.url.query_pairs_mut().extend_pairs(pairs);
        }
        self
    }

    /// Sets a header (replacing an earlier value of the same name). A header named in
    /// [`crate::SENSITIVE_HEADERS`] (or looking like one) is marked sensitive. An invalid name or value is
    /// reported by `send` as [`HttpError::InvalidHeader`].
    pub fn header(self, name: &'static str, value: &str) -> Self {
        self.insert(name, HeaderValue::from_str(value).ok())
    }

    /// Sets a header holding a secret (a token, a signature): marked sensitive, so neither this crate's
    /// `Debug` nor reqwest/hyper print it. The secret is exposed only to build the header value.
    pub fn secret_header(self, name: &'static str, value: &SecretString) -> Self {
        let value = HeaderValue::from_str(value.expose_secret()).ok().map(|mut v| {
            v.set_sensitive(true);
            v
        });
        self.insert(name, value)
    }

    /// A JSON body (`content-type: application/json`).
    pub fn json<T: Serialize>(self, body: &T) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => self.body(bytes, "application/json"),
            Err(_) => self.defer(Deferred::Encode("the json body cannot be serialized")),
        }
    }

    /// A form body (`content-type: application/x-www-form-urlencoded`).
    pub fn form(self, pairs: &[(&str, &str)]) -> Self {
        let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        self.body(encoded.into_bytes(), "application/x-www-form-urlencoded")
    }

    /// A body of the given content type.
    pub fn body(mut self, bytes: Vec<u8>, content_type: &str) -> Self {
        self.body = Some(bytes);
        self.insert("content-type", HeaderValue::from_str(content_type).ok())
    }

    /// Overrides whether sending the request twice is harmless (e.g. a POST with an idempotency key, or a
    /// read-only POST such as a search).
    pub fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = yes;
        self
    }

    pub fn is_idempotent(&self) -> bool {
        self.idempotent
    }

    pub fn method(&self) -> &Method {
        &self.method
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The first problem found while building, if any.
    pub(crate) fn check(&self) -> Result<(), HttpError> {
        self.deferred.map_or(Ok(()), |d| Err(d.error()))
    }

    fn insert(mut self, name: &'static str, value: Option<HeaderValue>) -> Self {
        let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
            return self.defer(Deferred::InvalidHeader(name));
        };
        let Some(mut value) = value else {
            return self.defer(Deferred::InvalidHeader(name));
        };
        if redact::is_sensitive_header(header.as_str()) {
            value.set_sensitive(true);
        }
        self.headers.insert(header, value);
        self
    }

    fn defer(mut self, problem: Deferred) -> Self {
        self.deferred.get_or_insert(problem);
        self
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method.as_str())
            .field("url", &redact::redact_url(&self.url))
            .field("headers", &RedactedHeaders(&self.headers))
            .field("body_bytes", &self.body.as_ref().map(Vec::len))
            .field("idempotent", &self.idempotent)
            .finish()
    }
}

/// Headers for `Debug`: names, with the values of sensitive headers replaced.
struct RedactedHeaders<'a>(&'a HeaderMap);

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.0 {
            if value.is_sensitive() || redact::is_sensitive_header(name.as_str()) {
                map.entry(&name.as_str(), &REDACTED);
            } else {
                map.entry(&name.as_str(), &value.to_str().unwrap_or("[non-ascii]"));
            }
        }
        map.finish()
    }
}

/// A response, read in full (at most [`crate::HttpConfig::max_body_bytes`]). Any status comes back here:
/// what a non-2xx means is the adapter's decision ([`crate::failure_from_status`], [`crate::Evidence`]).
///
/// Its `Debug` shows the status, header names (sensitive values redacted) and the body's length only:
/// bodies may hold tokens or PII.
#[derive(Clone)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Response {
    /// A header's value, if present and visible ASCII (names are case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body decoded as `T`; a failure names the JSON path, never a value.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, DecodeError> {
        let mut de = serde_json::Deserializer::from_slice(&self.body);
        let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| DecodeError::from_serde(&e))?;
        de.end().map_err(|e| DecodeError {
            path: ".".to_owned(),
            category: "syntax",
            line: e.line(),
            column: e.column(),
        })?;
        Ok(value)
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &RedactedHeaders(&self.headers))
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

#[cfg(test)]
mod tests;

/// Where [`crate::HttpClient::send_streaming`] puts a 2xx body, chunk by chunk.
pub trait BodySink {
    /// The body is about to arrive; `declared` is its `Content-Length`, if the server sent one.
    fn start(&mut self, declared: Option<u64>) {
        let _ = declared;
    }

    /// The next chunk of the body. An error stops the download ([`crate::HttpError::Sink`]).
    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()>;
}

/// What [`crate::HttpClient::send_streaming`] answered.
pub enum Streamed {
    /// A 2xx status: its body went to the sink, `bytes` of it.
    Delivered { status: u16, headers: HeaderMap, bytes: u64 },
    /// Any other status: the whole response, its body read as [`crate::HttpClient::send`] reads it.
    Refused(Response),
}

impl fmt::Debug for Streamed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Delivered { status, headers, bytes } => f
                .debug_struct("Delivered")
                .field("status", status)
                .field("headers", &RedactedHeaders(headers))
                .field("bytes", bytes)
                .finish(),
            Self::Refused(response) => f.debug_tuple("Refused").field(response).finish(),
        }
    }
}
