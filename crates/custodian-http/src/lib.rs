//! Custodian's shared HTTP plumbing: the one place where the platform adapters (Meta, TikTok, TikTok Shop,
//! Amazon, eBay) and the simulator get an HTTP client, and the pieces every API client needs around it.
//!
//! - [`HttpClient`]: the only constructor of a `reqwest::Client` in the workspace (style rule 21), with
//!   explicit connect and total timeouts, a product user agent, no redirects, no proxies, and a bounded
//!   response body ([`HttpConfig::max_body_bytes`]).
//! - [`Request`] / [`Response`]: a small builder whose `Debug` redacts secret headers and query values, and
//!   a fully read response with [`Response::json`] decoding through `serde_path_to_error` ([`DecodeError`]
//!   keeps the JSON path, never the input's values).
//! - [`Evidence`]: what an adapter error keeps of a platform's answer (status, code, message, request id;
//!   style rule 22).
//! - Retries (style rule 19): the pure [`RetryPolicy::classify`], [`failure_from_status`],
//!   [`retry_after`], the platform mappings [`meta`], [`tiktok`] and [`amazon`] (its rate header), and the
//!   [`with_retry`] loop.
//! - [`RateLimiter`]: GCRA per [`RateKey`] (platform, app, account, bucket), shared across tasks, fair.
//! - [`pages`]: follows [`custodian_core::ports::Cursor`]s and stops on a repeated cursor (style rule 20).
//! - Redaction: [`redact_url`], [`SENSITIVE_HEADERS`], [`SENSITIVE_PARAMS`] (SEC-1: tokens never reach logs,
//!   errors or `Debug` output).
//!
//! # Transport security (TLS-1)
//! Enforced in code, not by default luck: the rustls configuration built here (ring provider) offers TLS 1.3
//! and TLS 1.2 only and trusts the platform's roots or only the configured CA certificates
//! ([`TlsRoots`]). Every URL is checked before a request is sent ([`HttpClient::check_url`]): `https`
//! anywhere; plain `http` only when [`HttpConfig::allow_plain_loopback`] is set, and then only to a
//! loopback address (`127.0.0.0/8`, `::1`, `localhost`); URLs carrying credentials and other schemes are
//! refused. Redirects are never followed, so a server cannot send a request elsewhere.
//!
//! # Re-exports
//! `reqwest`'s [`Method`], [`Url`], [`StatusCode`] and [`header`] (with [`HeaderMap`]), and [`Bytes`], so
//! that adapters need no direct dependency to name the types of this API.
//!
//! # Not zeroized
//! Request bodies ([`Request::form`] with a client secret, say) and response bodies pass through reqwest and
//! hyper buffers that are freed without zeroizing; header values holding secrets are marked sensitive.

mod client;
mod error;
mod limit;
mod paging;
mod redact;
mod request;
mod retry;
mod tls;

pub use bytes::Bytes;
pub use reqwest::header::{self, HeaderMap};
pub use reqwest::{Method, StatusCode, Url};

pub use client::{HttpClient, HttpConfig, TlsRoots};
pub use error::{DecodeError, Evidence, HttpError};
pub use limit::{Rate, RateKey, RateLimiter};
pub use paging::{RepeatedCursor, pages};
pub use redact::{SENSITIVE_HEADERS, SENSITIVE_PARAMS, redact_url};
pub use request::{BodySink, Request, Response, Streamed};
pub use retry::{
    Failure, RetryAction, RetryPolicy, amazon, failure_from_status, meta, retry_after, tiktok, with_retry,
};
