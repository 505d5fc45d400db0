//! Errors of the HTTP layer ([`HttpError`], [`DecodeError`]) and the platform evidence adapters keep in
//! theirs ([`Evidence`], style rule 22). None of them ever holds a secret, a query value or a body.

use std::fmt;

use custodian_core::ports::PlatformError;
use serde_json::Value;

use crate::request::Response;

/// The most characters of a platform message kept in [`Evidence::message`].
const MAX_MESSAGE_CHARS: usize = 300;
/// The most characters of a code, subcode or request id kept in [`Evidence`].
const MAX_ID_CHARS: usize = 100;

/// A failure to build the client, to send a request or to read its response. URLs in it are redacted
/// ([`crate::redact_url`]); reqwest errors are stripped of their URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    #[error("url is invalid: {reason}")]
    Url { reason: &'static str },
    /// Plain `http` to a host that is not loopback, or when plain loopback is not allowed (TLS-1).
    #[error(
        "plain http to `{host}` refused: use https (plain http is allowed only to loopback, when configured)"
    )]
    PlainHttpNotAllowed { host: String },
    #[error("tls configuration is invalid")]
    Tls(#[source] rustls::Error),
    /// The reqwest client could not be built.
    #[error("http client cannot be built")]
    Client(#[source] reqwest::Error),
    #[error("{method} {url} timed out")]
    Timeout { method: String, url: String },
    /// Connecting, sending or reading the response failed (reset, refused, truncated body, …).
    #[error("{method} {url} failed")]
    Transport {
        method: String,
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The response body is larger than [`crate::HttpConfig::max_body_bytes`]; nothing of it is returned.
    #[error("response body is larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    /// A streamed body's sink ([`crate::BodySink`]) could not take a chunk (a full disk, a closed
    /// file): the download stopped there.
    #[error("the response body cannot be written")]
    Sink {
        #[source]
        source: std::io::Error,
    },
    /// A header name or value is not valid (a control character, a non-ASCII name, …).
    #[error("header `{name}` is invalid")]
    InvalidHeader { name: &'static str },
    /// A request body could not be encoded (e.g. a `Serialize` impl failed).
    #[error("request body cannot be encoded: {reason}")]
    Encode { reason: &'static str },
}

impl HttpError {
    /// Whether trying again may succeed: timeouts and transport failures.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Timeout { .. } | Self::Transport { .. })
    }
}

impl From<HttpError> for PlatformError {
    /// Every HTTP-layer failure is "unclear": the platform is unavailable and processing stops (fail closed).
    fn from(error: HttpError) -> Self {
        PlatformError::Unavailable(Box::new(error))
    }
}

/// A response body that does not decode: the JSON path and serde's error category and position, never
/// the input's values (they may be secrets or PII).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("response body does not decode at `{path}`: {category} error at line {line} column {column}")]
pub struct DecodeError {
    pub path: String,
    /// `syntax`, `data`, `eof` or `io`.
    pub category: &'static str,
    pub line: usize,
    pub column: usize,
}

impl DecodeError {
    pub(crate) fn from_serde(error: &serde_path_to_error::Error<serde_json::Error>) -> Self {
        let inner = error.inner();
        let category = match inner.classify() {
            serde_json::error::Category::Io => "io",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "eof",
        };
        Self { path: error.path().to_string(), category, line: inner.line(), column: inner.column() }
    }
}

/// What an adapter error keeps of a platform's error answer (style rule 22): the status, the platform's
/// code and subcode, its message (whitespace collapsed, at most 300 characters) and the request id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evidence {
    pub status: u16,
    pub code: Option<String>,
    pub subcode: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
}

impl fmt::Display for Evidence {
    /// E.g. ``http 400, code `190`, subcode `460`, request `abc`: message``.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, ", code `{code}`")?;
        }
        if let Some(subcode) = &self.subcode {
            write!(f, ", subcode `{subcode}`")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, ", request `{id}`")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}

impl Evidence {
    /// Reads the evidence from a response: the request id from the first of `request_id_headers` present
    /// (e.g. `x-amzn-RequestId`, `x-fb-trace-id`), else from the body; code, subcode and message from the
    /// error shapes of the supported platforms:
    /// - Meta: `{"error":{"message","code","error_subcode","fbtrace_id"}}`;
    /// - TikTok and TikTok Shop: `{"code","message","request_id"}` (code `0` is kept too);
    /// - Amazon: `{"errors":[{"code","message"}]}`; eBay: `{"errors":[{"errorId","message","longMessage"}]}`
    ///   (the first error);
    /// - OAuth token endpoints: `{"error":"invalid_grant","error_description"}`.
    ///
    /// A body that is not JSON, or another shape, leaves those fields `None`. The body itself is not kept.
    pub fn from_response(resp: &Response, request_id_headers: &[&str]) -> Self {
        let mut evidence = Self { status: resp.status, ..Self::default() };
        if let Ok(body) = serde_json::from_slice::<Value>(&resp.body) {
            evidence.read_body(&body);
        }
        if let Some(id) = request_id_headers.iter().find_map(|name| resp.header(name)) {
            evidence.request_id = clip(id, MAX_ID_CHARS);
        }
        evidence
    }

    fn read_body(&mut self, body: &Value) {
        // Meta: {"error": {...}}; OAuth: {"error": "invalid_grant", "error_description": "..."}.
        match body.get("error") {
            Some(error @ Value::Object(_)) => {
                self.code = scalar(error.get("code"), MAX_ID_CHARS);
                self.subcode = scalar(error.get("error_subcode"), MAX_ID_CHARS);
                self.message = scalar(error.get("message"), MAX_MESSAGE_CHARS);
                self.request_id = scalar(error.get("fbtrace_id"), MAX_ID_CHARS);
                return;
            }
            Some(code @ Value::String(_)) => {
                self.code = scalar(Some(code), MAX_ID_CHARS);
                self.message = scalar(body.get("error_description"), MAX_MESSAGE_CHARS);
                return;
            }
            _ => {}
        }
        // Amazon and eBay: {"errors": [{...}, ...]}.
        if let Some(first) = body.get("errors").and_then(Value::as_array).and_then(|a| a.first()) {
            self.code = scalar(first.get("code").or_else(|| first.get("errorId")), MAX_ID_CHARS);
            self.message = scalar(first.get("message"), MAX_MESSAGE_CHARS)
                .or_else(|| scalar(first.get("longMessage"), MAX_MESSAGE_CHARS));
            return;
        }
        // TikTok, TikTok Shop: {"code", "message", "request_id", "data"}.
        if body.get("code").is_some() {
            self.code = scalar(body.get("code"), MAX_ID_CHARS);
            self.message = scalar(body.get("message"), MAX_MESSAGE_CHARS);
            self.request_id = scalar(body.get("request_id"), MAX_ID_CHARS);
        }
    }
}

/// A string or number as text (whitespace collapsed, clipped); `None` for anything else or empty text.
fn scalar(value: Option<&Value>, max_chars: usize) -> Option<String> {
    match value? {
        Value::String(s) => clip(s, max_chars),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whitespace collapsed to single spaces, control characters dropped, at most `max_chars` characters.
fn clip(text: &str, max_chars: usize) -> Option<String> {
    let collapsed: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(max_chars)
        .collect();
    (!collapsed.is_empty()).then_some(collapsed)
}

#[cfg(test)]
mod tests;
