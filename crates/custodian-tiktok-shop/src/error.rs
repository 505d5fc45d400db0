//! [`TikTokShopError`] and the deliberate mapping of TikTok Shop's response codes ([`kind_of`]) onto
//! Custodian's [`PlatformError`] and retry classes.
//!
//! | code | meaning (reference §1.5) | [`ErrorKind`] |
//! |---|---|---|
//! | `105001` | access token invalid (unknown, malformed, or its authorization revoked) | `Unauthorized`: refresh; a revoked authorization then fails the refresh with `36004005` → `Revoked` |
//! | `105002` | access token expired, please refresh it | `Unauthorized` |
//! | `105005` | "you should apply auth pkg for this api": the app lacks the package (scope) | `Forbidden` |
//! | `106001` | invalid credentials: the `sign` (or app key) is wrong | `Invalid`: a bug on our side, never retried |
//! | `36004001` | refresh token expired ("rt has expired") | `Revoked`: the seller must consent again |
//! | `36004005` | "can not find related auth record" | `Revoked` |
//! | `36004003` | app key or secret wrong on the token endpoints | `Invalid` (configuration) |
//! | `36004004` | invalid auth code | `Invalid` |
//! | `36009002` | too many requests | `RateLimited` (retried with backoff; no wait hint is documented) |
//! | `36009003` | internal error, retry | `Unavailable` (retried) |
//! | `36009004` | invalid parameter (also a stale `timestamp` or a bad `shop_cipher`) | `Invalid` |
//! | `36009009` | invalid path | `Invalid` |
//! | `12052032` | resource not found (e.g. a product that is not the shop's) | `NotFound` |
//! | any other non-zero code | a business refusal (e.g. `12052097` unknown warehouse) | `Invalid` |

use custodian_core::data::SealError;
use custodian_core::ports::PlatformError;
use custodian_http::{DecodeError, Evidence, Failure, HttpError};

/// What a TikTok Shop refusal means for Custodian.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The token is invalid or expired; refreshing may help.
    Unauthorized,
    /// The authorization is gone: revocation flow (AUTH-6).
    Revoked,
    /// The app lacks a package (scope).
    Forbidden,
    NotFound,
    RateLimited,
    /// Refused as invalid; never retried.
    Invalid,
    /// A temporary platform failure; retried when idempotent.
    Unavailable,
}

/// The kind of a TikTok Shop response `code`; `None` for success (`0`).
pub fn kind_of(code: i64) -> Option<ErrorKind> {
    Some(match code {
        0 => return None,
        105_001 | 105_002 => ErrorKind::Unauthorized,
        105_005 => ErrorKind::Forbidden,
        36_004_001 | 36_004_005 => ErrorKind::Revoked,
        36_009_002 => ErrorKind::RateLimited,
        36_009_003 => ErrorKind::Unavailable,
        12_052_032 => ErrorKind::NotFound,
        // 106001 (our signature), 36004003/36004004, 36009004, 36009009 and every business code.
        _ => ErrorKind::Invalid,
    })
}

impl ErrorKind {
    /// The retry class of this kind (the HTTP status only qualifies server errors).
    pub(crate) fn failure(self, status: u16) -> Failure {
        match self {
            Self::Unauthorized | Self::Revoked | Self::Forbidden => Failure::Auth,
            Self::NotFound | Self::Invalid => Failure::Invalid,
            Self::RateLimited => Failure::Throttled { wait: None },
            Self::Unavailable => Failure::Server { status },
        }
    }
}

/// A failed TikTok Shop call. Messages carry the platform's evidence (status, code, message, request id),
/// never a token, secret, signature or body.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TikTokShopError {
    /// TikTok Shop answered with a non-zero `code`.
    #[error("tiktok shop refused the request: {evidence}")]
    Api { kind: ErrorKind, evidence: Box<Evidence> },
    /// An HTTP error status without TikTok Shop's envelope (e.g. a proxy's 502 page).
    #[error("tiktok shop answered http {status} without its envelope")]
    Status { status: u16 },
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A value the domain cannot hold (an id that is not one, an unknown order status, a bad amount).
    #[error("tiktok shop sent an unusable value: {0}")]
    Data(String),
    #[error("buyer pii cannot be sealed")]
    Seal(#[source] SealError),
    #[error("the adapter is misconfigured: {0}")]
    Config(&'static str),
}

impl TikTokShopError {
    /// The platform's kind of refusal, if this is one.
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            Self::Api { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}

impl From<TikTokShopError> for PlatformError {
    fn from(error: TikTokShopError) -> Self {
        match error {
            TikTokShopError::Api { kind, evidence } => {
                let detail = evidence.to_string();
                match kind {
                    ErrorKind::Unauthorized => PlatformError::Unauthorized { detail },
                    ErrorKind::Revoked => PlatformError::Revoked { detail },
                    ErrorKind::Forbidden => PlatformError::Forbidden { detail },
                    ErrorKind::NotFound => PlatformError::NotFound { detail },
                    ErrorKind::RateLimited => PlatformError::RateLimited { retry_after: None },
                    ErrorKind::Invalid => PlatformError::Invalid { detail },
                    ErrorKind::Unavailable => {
                        PlatformError::Unavailable(Box::new(TikTokShopError::Api { kind, evidence }))
                    }
                }
            }
            TikTokShopError::Status { status } => match status {
                401 | 403 => PlatformError::Unauthorized { detail: format!("http {status}") },
                429 => PlatformError::RateLimited { retry_after: None },
                400..=499 => PlatformError::Invalid { detail: format!("http {status}") },
                _ => PlatformError::Unavailable(Box::new(TikTokShopError::Status { status })),
            },
            TikTokShopError::Config(reason) => PlatformError::Invalid { detail: reason.to_owned() },
            other => PlatformError::Unavailable(Box::new(other)),
        }
    }
}

#[cfg(test)]
mod tests;
