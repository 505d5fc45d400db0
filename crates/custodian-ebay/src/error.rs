//! The adapter's errors and the deliberate mapping of eBay's answers onto [`PlatformError`] (style rules
//! 14 and 22): REST `errorId`s from the specs' `x-response-codes` and reference §3.5, and the OAuth
//! endpoint's `error` values.

use custodian_core::ports::PlatformError;
use custodian_http::{Evidence, HttpError};

/// Why an eBay call failed, with the vendor's evidence (status, `errorId`, message). Never carries a token,
/// a code, a body or a signature.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EbayError {
    /// A REST API refused the call.
    #[error("ebay api refused the call: {0}")]
    Api(Evidence),
    /// The OAuth token endpoint refused the request.
    #[error("ebay oauth refused the request: {0}")]
    OAuth(Evidence),
    /// An answer did not decode; the JSON path says where.
    #[error("undecodable ebay answer at `{path}` ({category})")]
    Decode { path: String, category: &'static str },
    /// An answer decoded but broke a rule of the API (e.g. a page without orders that names a next page).
    #[error("unexpected ebay answer: {0}")]
    Unexpected(&'static str),
    #[error("http transport failed")]
    Http(#[source] HttpError),
}

impl EbayError {
    pub(crate) fn unavailable(self) -> PlatformError {
        PlatformError::Unavailable(Box::new(self))
    }
}

/// What a REST answer means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The token is invalid or expired (may be refreshed; a failing refresh says whether it is revoked).
    Unauthorized,
    /// The token lacks the method's scope.
    Forbidden,
    NotFound,
    Throttled,
    /// Our request was wrong: never retried.
    Invalid,
    /// eBay failed: retried for idempotent calls, else unavailable.
    Server,
}

/// eBay REST `errorId`s the adapter knows, with the status eBay sends them with and their meaning.
/// Sources: reference §3.5 (1001, 1100, 2001), the specs' `x-response-codes` (getOrders 30500–32800,
/// Inventory 25001–25759, Notification 195000/195001), and 2003 (eBay's general "Internal error").
pub(crate) const KNOWN_ERRORS: &[(u16, i64, Verdict)] = &[
    (401, 1001, Verdict::Unauthorized),
    (403, 1100, Verdict::Forbidden),
    (429, 2001, Verdict::Throttled),
    (500, 2003, Verdict::Server),
    (400, 30700, Verdict::Invalid),
    (400, 30800, Verdict::Invalid),
    (400, 30810, Verdict::Invalid),
    (400, 30820, Verdict::Invalid),
    (400, 30830, Verdict::Invalid),
    (400, 30840, Verdict::Invalid),
    (400, 30850, Verdict::Invalid),
    (400, 30900, Verdict::Invalid),
    (400, 31000, Verdict::Invalid),
    (400, 31100, Verdict::Invalid),
    (400, 32800, Verdict::Invalid),
    (500, 30500, Verdict::Server),
    (400, 25002, Verdict::Invalid),
    (400, 25706, Verdict::Invalid),
    (400, 25709, Verdict::Invalid),
    (400, 25759, Verdict::Invalid),
    (404, 25710, Verdict::NotFound),
    (500, 25001, Verdict::Server),
    (404, 195001, Verdict::NotFound),
    (500, 195000, Verdict::Server),
];

/// The meaning of a non-2xx REST answer: a known `errorId` decides; otherwise the status does.
pub(crate) fn verdict(status: u16, error_id: Option<i64>) -> Verdict {
    if let Some(id) = error_id
        && let Some((_, _, known)) = KNOWN_ERRORS.iter().find(|(_, e, _)| *e == id)
    {
        return *known;
    }
    match status {
        401 => Verdict::Unauthorized,
        403 => Verdict::Forbidden,
        404 => Verdict::NotFound,
        429 => Verdict::Throttled,
        408 | 500..=599 => Verdict::Server,
        _ => Verdict::Invalid,
    }
}

/// The [`PlatformError`] for a REST answer that was not retried (or ran out of retries).
pub(crate) fn api_error(
    verdict: Verdict,
    evidence: Evidence,
    retry_after: Option<std::time::Duration>,
) -> PlatformError {
    let detail = evidence.to_string();
    match verdict {
        Verdict::Unauthorized => PlatformError::Unauthorized { detail },
        Verdict::Forbidden => PlatformError::Forbidden { detail },
        Verdict::NotFound => PlatformError::NotFound { detail },
        Verdict::Throttled => PlatformError::RateLimited {
            retry_after: retry_after.and_then(|d| time::Duration::try_from(d).ok()),
        },
        Verdict::Invalid => PlatformError::Invalid { detail },
        Verdict::Server => EbayError::Api(evidence).unavailable(),
    }
}

/// Which token request failed: the same OAuth error means different things per grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

/// The [`PlatformError`] for an OAuth `error` value (RFC 6749 §5.2 as eBay uses it):
/// - `invalid_grant` on a refresh: the user revoked the app, or the refresh token expired → `Revoked`
///   (AUTH-6); on a code exchange: the code was used, expired or never issued → `Invalid`;
/// - `invalid_scope` on a refresh: the grant no longer covers the scopes → `Forbidden` (AUTH-5 review);
/// - `invalid_client`, `unauthorized_client`: the app's own keys are wrong → `Invalid` (a configuration
///   problem, never the grant's fault, never retried);
/// - `server_error`, `temporarily_unavailable`: `Unavailable`; anything else `Invalid`.
pub(crate) fn oauth_error(grant: Grant, error: &str, evidence: Evidence) -> PlatformError {
    let detail = evidence.to_string();
    match (error, grant) {
        ("invalid_grant", Grant::RefreshToken) => PlatformError::Revoked { detail },
        ("invalid_scope", Grant::RefreshToken) => PlatformError::Forbidden { detail },
        ("server_error" | "temporarily_unavailable", _) => EbayError::OAuth(evidence).unavailable(),
        _ => PlatformError::Invalid { detail },
    }
}

#[cfg(test)]
mod tests;
