//! The HTTP side of the adapter: one [`HttpClient`] (built by custodian-http: rustls, TLS 1.2+, loopback-only
//! plain HTTP when configured), the per-operation limiters, and the two kinds of call:
//!
//! - [`Client::sp`]: an SP-API operation with `x-amz-access-token` (an LWA access token or an RDT, marked
//!   sensitive), limited by the operation's bucket for the selling partner, retried per [`RetryPolicy`]
//!   (idempotent reads and throttles only; never auth or validation errors), the answer decoded with its
//!   JSON path on failure.
//! - [`Client::lwa`]: a Login with Amazon token request (form body with the client secret).

use custodian_http::{
    DecodeError, Evidence, Failure, HttpClient, Request, Response, RetryPolicy, Url, with_retry,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{AmazonError, ApiErrorKind, LwaErrorKind, classify_lwa};
use crate::rate::{Limits, Operation};
use crate::wire::{ErrorList, LwaError};

/// Where Amazon puts the request id.
pub(crate) const REQUEST_ID_HEADERS: &[&str] = &["x-amzn-RequestId", "x-amz-request-id"];

/// The HTTP client, limiters and retry policy shared by every clone of the adapter.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub http: HttpClient,
    pub limits: Limits,
    pub retry: RetryPolicy,
}

impl Client {
    /// Sends an SP-API request for `seller` under `op`'s bucket, with retries, and decodes the answer.
    pub(crate) async fn sp<T: DeserializeOwned>(
        &self,
        op: Operation,
        seller: &str,
        request: Request,
    ) -> Result<T, AmazonError> {
        let response = self.sp_raw(op, seller, request).await?;
        decode(&response.body, op.name())
    }

    /// [`Client::sp`] without decoding: the caller decodes in place ([`decode`]) into types that borrow
    /// from the body.
    pub(crate) async fn sp_raw(
        &self,
        op: Operation,
        seller: &str,
        request: Request,
    ) -> Result<Response, AmazonError> {
        let idempotent = request.is_idempotent();
        with_retry(&self.retry, idempotent, |_attempt| {
            let request = request.clone();
            async move { self.attempt(op, seller, request).await }
        })
        .await
    }

    async fn attempt(
        &self,
        op: Operation,
        seller: &str,
        request: Request,
    ) -> Result<Response, (AmazonError, Failure)> {
        self.limits.acquire(op, seller).await;
        let response = match self.http.send(request).await {
            Ok(response) => response,
            Err(error) => {
                let failure = if error.is_transient() { Failure::Transport } else { Failure::Invalid };
                return Err((AmazonError::Http(error), failure));
            }
        };
        let status = response.status;
        if (200..300).contains(&status) {
            self.limits.observe(op, seller, &response.headers);
            return Ok(response);
        }
        if matches!(status, 400 | 404) {
            self.limits.observe(op, seller, &response.headers);
        }
        let evidence = Evidence::from_response(&response, REQUEST_ID_HEADERS);
        let errors: Option<ErrorList> = serde_json::from_slice(&response.body).ok();
        let first = errors.as_ref().and_then(|e| e.errors.first());
        let error = AmazonError::api(op.name(), status, first, evidence);
        let failure = match &error {
            AmazonError::Api { kind: ApiErrorKind::Throttled, evidence, .. } => {
                let wait = self.limits.throttled(op, seller);
                tracing::debug!(operation = op.name(), wait_ms = wait.as_millis() as u64, "sp-api throttled");
                return Err((
                    AmazonError::Throttled {
                        operation: op.name(),
                        wait: Some(wait),
                        evidence: evidence.clone(),
                    },
                    Failure::Throttled { wait: Some(wait) },
                ));
            }
            AmazonError::Api { kind: ApiErrorKind::Server, .. } => Failure::Server { status },
            AmazonError::Api {
                kind: ApiErrorKind::TokenRejected | ApiErrorKind::Unauthenticated | ApiErrorKind::Forbidden,
                ..
            } => Failure::Auth,
            _ => Failure::Invalid,
        };
        Err((error, failure))
    }

    /// Sends a form to the LWA token endpoint and decodes the tokens. `idempotent`: whether a transport or
    /// server failure may be retried (a refresh may; a code exchange may not, the code is single-use).
    pub(crate) async fn lwa<T: DeserializeOwned>(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        idempotent: bool,
    ) -> Result<T, AmazonError> {
        let request = Request::post(url.clone()).form(form).idempotent(idempotent);
        let response = with_retry(&self.retry, idempotent, |_attempt| {
            let request = request.clone();
            async move {
                let response = match self.http.send(request).await {
                    Ok(response) => response,
                    Err(error) => {
                        let failure =
                            if error.is_transient() { Failure::Transport } else { Failure::Invalid };
                        return Err((AmazonError::Http(error), failure));
                    }
                };
                if (200..300).contains(&response.status) {
                    return Ok(response);
                }
                let evidence = Evidence::from_response(&response, REQUEST_ID_HEADERS);
                let oauth: Option<LwaError> = serde_json::from_slice(&response.body).ok();
                let kind = classify_lwa(response.status, oauth.as_ref().map(|e| e.error.as_str()));
                let failure = match kind {
                    LwaErrorKind::Throttled => Failure::Throttled { wait: None },
                    LwaErrorKind::Server => Failure::Server { status: response.status },
                    LwaErrorKind::InvalidClient => Failure::Auth,
                    LwaErrorKind::InvalidGrant | LwaErrorKind::InvalidRequest => Failure::Invalid,
                };
                Err((AmazonError::Lwa { kind, evidence: Box::new(evidence) }, failure))
            }
        })
        .await?;
        decode(&response.body, "lwa.token")
    }
}

/// Decodes an answer, borrowing from `body` where the type does. The fast path first; only a body that
/// does not decode is decoded again with path tracking, so that the error names the JSON path (style
/// rule 22) without taxing every page. The error keeps the path and position, never the values.
pub(crate) fn decode<'a, T: Deserialize<'a>>(
    body: &'a [u8],
    operation: &'static str,
) -> Result<T, AmazonError> {
    // One UTF-8 check of the whole body is cheaper than serde_json's check of every string.
    let fast = match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str::<T>(text).ok(),
        Err(_) => None,
    };
    if let Some(value) = fast {
        return Ok(value);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Ok(value) => Ok(value),
        Err(error) => {
            let inner = error.inner();
            let category = match inner.classify() {
                serde_json::error::Category::Io => "io",
                serde_json::error::Category::Syntax => "syntax",
                serde_json::error::Category::Data => "data",
                serde_json::error::Category::Eof => "eof",
            };
            let source = DecodeError {
                path: error.path().to_string(),
                category,
                line: inner.line(),
                column: inner.column(),
            };
            Err(AmazonError::Decode { operation, source })
        }
    }
}
