//! [`MetaError`] and the deliberate mapping of Graph error codes (ads-apis.md §1.10) onto
//! [`PlatformError`]:
//!
//! | Graph error | `PlatformError` |
//! |---|---|
//! | 190 without subcode, 190/458 (app removed), 460 (password changed), 467 (invalid token), 492 (session or page role) | `Revoked` (AUTH-6: the authorization is gone) |
//! | 190/463 (expired), 459 (checkpointed), 464 (unconfirmed user), 102 (session), 104 (no token) | `Unauthorized` (the user can restore it) |
//! | 3, 10, 200–299 | `Forbidden` (re-validate `granular_scopes`) |
//! | 4, 17, 32, 613, 80000–80014 | `RateLimited` with the time to regain access |
//! | 100/33 | `NotFound` |
//! | 100 and other 4xx codes (2635 version, 3018 range, …) | `Invalid` |
//! | 1, 2, 960, any 5xx | `Unavailable` |
//!
//! Messages keep the evidence (status, code, subcode, Meta's message, `fbtrace_id`), never a token, secret or
//! body.

use std::time::Duration;

use custodian_core::ports::PlatformError;
use custodian_http::{DecodeError, Evidence, HttpError};

/// A failure of a Meta call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetaError {
    #[error("meta request failed")]
    Http(#[source] HttpError),
    #[error("meta answer does not decode")]
    Decode(#[source] DecodeError),
    /// Meta answered with its error envelope.
    #[error("meta refused the request: {evidence}")]
    Api {
        evidence: Box<Evidence>,
        code: Option<i64>,
        subcode: Option<i64>,
        /// How long Meta asked to wait (usage headers), for throttles.
        wait: Option<Duration>,
    },
    /// `debug_token` says the token does not work (`is_valid: false` with its own error object).
    #[error("meta says the token is not valid: code `{code:?}`, subcode `{subcode:?}`")]
    TokenInvalid { code: Option<i64>, subcode: Option<i64> },
    /// An async report run ended without results.
    #[error("report run `{id}` ended with `{status}`")]
    ReportRun { id: String, status: String },
    #[error("report run `{id}` did not complete in time")]
    ReportTimeout { id: String },
    /// The answer decoded but does not make sense (a page with `next` and no cursor, an unknown status, …).
    #[error("meta answer is unusable: {0}")]
    Protocol(String),
}

/// What a Graph error means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Revoked,
    Unauthorized,
    Forbidden,
    NotFound,
    RateLimited,
    Invalid,
    Unavailable,
}

/// The class of a Graph error `code`/`subcode` on a response of HTTP `status` (see the module doc).
pub(crate) fn classify(status: u16, code: Option<i64>, subcode: Option<i64>) -> Class {
    match code {
        Some(190) => match subcode {
            Some(459 | 463 | 464) => Class::Unauthorized,
            _ => Class::Revoked,
        },
        Some(102 | 104) => Class::Unauthorized,
        Some(3 | 10 | 200..=299) => Class::Forbidden,
        Some(4 | 17 | 32 | 613 | 80_000..=80_014) => Class::RateLimited,
        Some(100) if subcode == Some(33) => Class::NotFound,
        Some(1 | 2 | 960) => Class::Unavailable,
        Some(_) if status >= 500 => Class::Unavailable,
        Some(_) => Class::Invalid,
        None => match status {
            401 => Class::Unauthorized,
            403 => Class::Forbidden,
            404 => Class::NotFound,
            429 => Class::RateLimited,
            500..=599 => Class::Unavailable,
            _ => Class::Invalid,
        },
    }
}

impl MetaError {
    /// Whether this is Meta's data-per-call limit (100/1487534, or code 1 "reduce the amount of data"),
    /// after which a query is retried as an async report run.
    pub(crate) fn is_too_much_data(&self) -> bool {
        match self {
            MetaError::Api { code: Some(100), subcode: Some(1_487_534), .. } => true,
            MetaError::Api { code: Some(1), evidence, .. } => {
                evidence.message.as_deref().is_some_and(|m| m.contains("reduce the amount of data"))
            }
            _ => false,
        }
    }
}

fn to_time(wait: Option<Duration>) -> Option<time::Duration> {
    wait.and_then(|w| time::Duration::try_from(w).ok())
}

impl From<MetaError> for PlatformError {
    fn from(error: MetaError) -> Self {
        match error {
            MetaError::Http(e) => e.into(),
            MetaError::Api { evidence, code, subcode, wait } => {
                let detail = evidence.to_string();
                match classify(evidence.status, code, subcode) {
                    Class::Revoked => PlatformError::Revoked { detail },
                    Class::Unauthorized => PlatformError::Unauthorized { detail },
                    Class::Forbidden => PlatformError::Forbidden { detail },
                    Class::NotFound => PlatformError::NotFound { detail },
                    Class::RateLimited => PlatformError::RateLimited { retry_after: to_time(wait) },
                    Class::Invalid => PlatformError::Invalid { detail },
                    Class::Unavailable => {
                        PlatformError::Unavailable(Box::new(MetaError::Api { evidence, code, subcode, wait }))
                    }
                }
            }
            MetaError::TokenInvalid { code, subcode } => {
                let detail = format!("debug_token: token not valid (code `{code:?}`, subcode `{subcode:?}`)");
                match classify(400, code.or(Some(190)), subcode) {
                    Class::Unauthorized => PlatformError::Unauthorized { detail },
                    _ => PlatformError::Revoked { detail },
                }
            }
            other @ (MetaError::Decode(_)
            | MetaError::ReportRun { .. }
            | MetaError::ReportTimeout { .. }
            | MetaError::Protocol(_)) => PlatformError::Unavailable(Box::new(other)),
        }
    }
}

#[cfg(test)]
mod tests;
