//! [`AmazonError`] and the deliberate mapping of Amazon's answers onto [`PlatformError`] (style rules 14,
//! 22): the classification of SP-API `errors` envelopes and of LWA OAuth errors are pure functions,
//! unit-tested over every documented code in `error/tests.rs`.

use std::time::Duration;

use custodian_core::ports::PlatformError;
use custodian_http::{DecodeError, Evidence, HttpError};

use crate::wire::ApiError;

/// What an SP-API error answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// 429 `QuotaExceeded`: wait for the bucket.
    Throttled,
    /// 403 `Unauthorized` naming the token ("revoked, malformed or invalid"): the access token is not
    /// accepted; a refresh tells whether the authorization is gone (AUTH-6).
    TokenRejected,
    /// 403 `MissingAuthenticationToken`, or a 401: no usable token was sent.
    Unauthenticated,
    /// 403 `Unauthorized` without details: the token is fine, the app lacks the role (AUTH-4/5).
    Forbidden,
    /// 404.
    NotFound,
    /// 400, 413, 415 and other refusals of the request itself; never retried.
    Invalid,
    /// 5xx (`InternalFailure`, `ServiceUnavailable`, …): retried when idempotent.
    Server,
}

/// Classifies an SP-API error answer from its HTTP status and `errors` list.
pub fn classify_api(status: u16, code: Option<&str>, details: Option<&str>) -> ApiErrorKind {
    match (status, code) {
        (429, _) | (_, Some("QuotaExceeded")) => ApiErrorKind::Throttled,
        (500..=599, _) | (_, Some("InternalFailure" | "ServiceUnavailable")) => ApiErrorKind::Server,
        (401, _) | (403, Some("MissingAuthenticationToken" | "InvalidSignature" | "IncompleteSignature")) => {
            ApiErrorKind::Unauthenticated
        }
        (403, Some("Unauthorized")) if details.is_some_and(|d| d.to_ascii_lowercase().contains("token")) => {
            ApiErrorKind::TokenRejected
        }
        (403, _) => ApiErrorKind::Forbidden,
        (404, _) => ApiErrorKind::NotFound,
        _ => ApiErrorKind::Invalid,
    }
}

/// What an LWA error answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LwaErrorKind {
    /// `invalid_grant`: the code is used, expired or unknown, or the refresh token's authorization is gone.
    InvalidGrant,
    /// `invalid_client` / `unauthorized_client`: the app's LWA credentials are refused.
    InvalidClient,
    /// `invalid_request`, `unsupported_grant_type`, `invalid_scope` and other malformed requests.
    InvalidRequest,
    /// 429 or `temporarily_unavailable`.
    Throttled,
    /// 5xx or `server_error`.
    Server,
}

/// Classifies an LWA error answer from its HTTP status and OAuth `error` code (RFC 6749 §5.2).
pub fn classify_lwa(status: u16, error: Option<&str>) -> LwaErrorKind {
    match (status, error) {
        (_, Some("invalid_grant")) => LwaErrorKind::InvalidGrant,
        (_, Some("invalid_client" | "unauthorized_client")) => LwaErrorKind::InvalidClient,
        (429, _) | (_, Some("temporarily_unavailable")) => LwaErrorKind::Throttled,
        (500..=599, _) | (_, Some("server_error")) => LwaErrorKind::Server,
        (401, _) => LwaErrorKind::InvalidClient,
        _ => LwaErrorKind::InvalidRequest,
    }
}

/// An error of the Amazon adapter. Messages carry the operation and the platform's evidence (status, code,
/// message, request id), never a token, secret, code or body.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AmazonError {
    /// Connecting, TLS, timeouts, bodies too large (TLS-1 refusals too).
    #[error(transparent)]
    Http(#[from] HttpError),
    /// An SP-API error answer.
    #[error("{operation} failed: {evidence}")]
    Api { operation: &'static str, kind: ApiErrorKind, evidence: Box<Evidence> },
    /// A 429 that outlasted the retries; `wait` is the time of one token.
    #[error("{operation} throttled: {evidence}")]
    Throttled { operation: &'static str, wait: Option<Duration>, evidence: Box<Evidence> },
    /// A Login with Amazon error answer.
    #[error("login with amazon refused the request: {evidence}")]
    Lwa { kind: LwaErrorKind, evidence: Box<Evidence> },
    /// An answer that does not decode (truncated, or not the documented shape); names the JSON path.
    #[error("{operation} answer does not decode: {source}")]
    Decode {
        operation: &'static str,
        #[source]
        source: DecodeError,
    },
    /// An answer that decodes but holds a value the domain refuses (an id too long, a malformed amount).
    #[error("amazon sent unusable data: {0}")]
    Data(String),
    /// A request the adapter cannot make (an account of another platform, a marketplace of no region).
    #[error("{0}")]
    Request(String),
}

impl AmazonError {
    pub(crate) fn api(
        operation: &'static str,
        status: u16,
        first: Option<&ApiError>,
        evidence: Evidence,
    ) -> Self {
        let kind =
            classify_api(status, first.map(|e| e.code.as_str()), first.and_then(|e| e.details.as_deref()));
        Self::Api { operation, kind, evidence: Box::new(evidence) }
    }

    /// Whether the access token was refused (a refresh decides between expired and revoked).
    pub(crate) fn is_token_rejected(&self) -> bool {
        matches!(self, Self::Api { kind: ApiErrorKind::TokenRejected, .. })
    }
}

impl From<AmazonError> for PlatformError {
    /// The default mapping. `invalid_grant` is [`PlatformError::Revoked`] here (a refresh token whose
    /// authorization is gone, AUTH-6); the code exchange maps it to [`PlatformError::Invalid`] itself.
    fn from(error: AmazonError) -> Self {
        match error {
            AmazonError::Http(e) => e.into(),
            AmazonError::Throttled { wait, .. } => PlatformError::RateLimited {
                retry_after: wait.and_then(|w| time::Duration::try_from(w).ok()),
            },
            AmazonError::Api { operation, kind, evidence } => {
                let detail = format!("{operation}: {evidence}");
                match kind {
                    ApiErrorKind::Throttled => PlatformError::RateLimited { retry_after: None },
                    ApiErrorKind::TokenRejected | ApiErrorKind::Unauthenticated => {
                        PlatformError::Unauthorized { detail }
                    }
                    ApiErrorKind::Forbidden => PlatformError::Forbidden { detail },
                    ApiErrorKind::NotFound => PlatformError::NotFound { detail },
                    ApiErrorKind::Invalid => PlatformError::Invalid { detail },
                    ApiErrorKind::Server => {
                        PlatformError::Unavailable(Box::new(AmazonError::Api { operation, kind, evidence }))
                    }
                }
            }
            AmazonError::Lwa { kind, evidence } => match kind {
                LwaErrorKind::InvalidGrant => PlatformError::Revoked {
                    detail: format!("the refresh token was refused (invalid_grant): {evidence}"),
                },
                LwaErrorKind::InvalidClient => PlatformError::Invalid {
                    detail: format!("the lwa client credentials were refused: {evidence}"),
                },
                LwaErrorKind::InvalidRequest => PlatformError::Invalid { detail: format!("lwa: {evidence}") },
                LwaErrorKind::Throttled => PlatformError::RateLimited { retry_after: None },
                LwaErrorKind::Server => {
                    PlatformError::Unavailable(Box::new(AmazonError::Lwa { kind, evidence }))
                }
            },
            e @ (AmazonError::Decode { .. } | AmazonError::Data(_)) => {
                PlatformError::Unavailable(Box::new(e))
            }
            AmazonError::Request(detail) => PlatformError::Invalid { detail },
        }
    }
}

#[cfg(test)]
mod tests;
