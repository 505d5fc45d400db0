//! The one HTTP error type (style rule 17): every failure leaves as JSON `{code, message}` with a stable
//! `code` and a safe `message`; 5xx say only what failed in general terms. The internal detail rides in a
//! response extension and is logged once by [`crate::middleware::observe`], never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use custodian_core::authz::{Decision, Reason};
use custodian_core::ports::StoreError;
use custodian_core::service::ServiceError;
use schemars::generate::SchemaGenerator;
use schemars::{JsonSchema, Schema};
use serde::Serialize;

/// The stable error codes of the API. Clients match on these, never on messages.
// The `ErrorCode` schema of `GET /v1/openapi.json` (the `code` of `Error`) is derived from this enum, with
// the names `as_str` sends; the doc comments above and on each variant are its descriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, JsonSchema)]
#[schemars(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the request could not be read (malformed JSON, bad query or path).
    BadRequest,
    /// 401: no usable session token or API key.
    Unauthenticated,
    /// 401: a login failed. The same for an unknown person, a wrong password, a wrong or missing code and a
    /// locked account, so nobody learns which people exist.
    InvalidCredentials,
    /// 403: the decision denied the action.
    Forbidden,
    /// 403: the action needs a recent MFA verification (ACC-2): step up with `POST /v1/auth/step-up`.
    MfaRequired,
    /// 403: a step-up code was not accepted.
    MfaCodeRejected,
    /// 404: nothing there, or nothing the caller may see (SEG-1, ACC-1: the same answer).
    NotFound,
    /// 405: the path exists but not with this method.
    MethodNotAllowed,
    /// 409: the resource exists, changed concurrently, or the change would break an invariant.
    Conflict,
    /// 413: the body is larger than `security.max_body_bytes`.
    PayloadTooLarge,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 422: the body is well-formed JSON but a value is not acceptable.
    InvalidInput,
    /// 422: the password breaks the ACC-3 rule.
    WeakPassword,
    /// 422: free text holds a card number or another sensitive pattern (MIN-3); nothing was stored.
    IntakeRejected,
    /// 401: a platform notification's signature is missing, wrong or stale (AUTH-6); nothing was done.
    SignalRejected,
    /// 412: a platform notification could not be verified (eBay's answer to a bad signature or an
    /// unavailable key, so that eBay retries later); nothing was done.
    SignalUnverified,
    /// 500.
    Internal,
    /// 503: a backend (store, audit trail, key manager) is unavailable; the operation was not performed.
    Unavailable,
    /// 503: the request took longer than `security.request_timeout_secs`.
    Timeout,
}

impl ErrorCode {
    /// The code as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::MfaRequired => "mfa_required",
            ErrorCode::MfaCodeRejected => "mfa_code_rejected",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::WeakPassword => "weak_password",
            ErrorCode::IntakeRejected => "intake_rejected",
            ErrorCode::SignalRejected => "signal_rejected",
            ErrorCode::SignalUnverified => "signal_unverified",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Timeout => "timeout",
        }
    }

    /// The HTTP status of the code.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthenticated | ErrorCode::InvalidCredentials | ErrorCode::SignalRejected => {
                StatusCode::UNAUTHORIZED
            }
            ErrorCode::SignalUnverified => StatusCode::PRECONDITION_FAILED,
            ErrorCode::Forbidden | ErrorCode::MfaRequired | ErrorCode::MfaCodeRejected => {
                StatusCode::FORBIDDEN
            }
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::InvalidInput | ErrorCode::WeakPassword | ErrorCode::IntakeRejected => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Unavailable | ErrorCode::Timeout => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// A failed request: what the client sees (`code`, `message`) and what only the log sees (`detail`).
#[derive(Debug)]
pub(crate) struct AppError {
    code: ErrorCode,
    message: String,
    detail: Option<String>,
}

/// The internal detail of an error response, for the request log (never serialized).
#[derive(Debug, Clone)]
pub(crate) struct ErrorDetail {
    pub(crate) code: ErrorCode,
    pub(crate) detail: String,
}

/// The error body as sent; its schema is the `Error` component of the OpenAPI document.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Error")]
struct Body<'a> {
    /// The stable code: match on this.
    #[schemars(with = "ErrorCode")]
    code: &'a str,
    /// A safe, human-readable message (never a secret or a submitted value).
    message: &'a str,
}

/// A `$ref` to the error body's schema, registered with `generator` (for `GET /v1/openapi.json`).
pub(crate) fn error_schema(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<Body<'static>>()
}

impl AppError {
    /// An error with a safe client message.
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), detail: None }
    }

    /// Adds the internal detail logged by the middleware.
    pub(crate) fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// `code: message (detail)`, for errors that leave through another error type.
    pub(crate) fn describe(&self) -> String {
        match &self.detail {
            Some(detail) => format!("{}: {} ({detail})", self.code.as_str(), self.message),
            None => format!("{}: {}", self.code.as_str(), self.message),
        }
    }

    /// The stable code.
    pub(crate) fn code(&self) -> ErrorCode {
        self.code
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    pub(crate) fn unauthenticated() -> Self {
        Self::new(ErrorCode::Unauthenticated, "a valid session token or api key is required")
    }

    pub(crate) fn invalid_credentials() -> Self {
        Self::new(ErrorCode::InvalidCredentials, "the email, password or code is not correct")
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub(crate) fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "not found")
    }

    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    pub(crate) fn internal(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, "internal server error").with_detail(detail)
    }

    pub(crate) fn unavailable(what: &str, detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, format!("{what} unavailable: the operation was not performed"))
            .with_detail(detail)
    }

    /// A denied decision: 404 when the tenant is not the caller's to see (so a wrong tenant and a missing
    /// one look the same), `mfa_required` when only a fresher MFA verification would help, else 403.
    pub(crate) fn denied(decision: &Decision) -> Self {
        let detail = decision.denials().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        let hides_tenant =
            decision.denials().any(|r| matches!(r, Reason::TenantNotAssigned | Reason::TenantStatusUnknown));
        let mfa = decision.denials().any(|r| {
            matches!(
                r,
                Reason::MfaMissing | Reason::MfaStale | Reason::StepUpRequired | Reason::MfaNotEnrolled
            )
        });
        let error = if hides_tenant {
            Self::not_found()
        } else if mfa {
            Self::new(
                ErrorCode::MfaRequired,
                "this action needs a recent mfa verification: step up with `POST /v1/auth/step-up`",
            )
        } else {
            Self::forbidden("the action is not permitted")
        };
        error.with_detail(format!("denied: {detail}"))
    }
}

impl From<ServiceError> for AppError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Denied(decision) => AppError::denied(&decision),
            ServiceError::NotFound => AppError::not_found(),
            // Core's messages are safe to show (no secrets, no record contents): a refused transition says
            // why (e.g. "grant in state active cannot ApproveReview"), not only that something conflicted.
            ServiceError::Conflict(message) => AppError::conflict(message.clone()).with_detail(message),
            ServiceError::Invalid(message) => AppError::invalid(message),
            ServiceError::AuditUnavailable => {
                AppError::unavailable("audit trail", "audit append failed (AUD-2)")
            }
            ServiceError::Unavailable(what, source) => AppError::unavailable(what, source.to_string()),
            other => AppError::internal(other.to_string()),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => AppError::not_found(),
            StoreError::Conflict(detail) => {
                AppError::conflict("the resource exists or changed concurrently").with_detail(detail)
            }
            StoreError::Invalid(detail) => {
                AppError::invalid("a value is outside the accepted limits").with_detail(detail)
            }
            StoreError::AuditFailed(source) => {
                AppError::unavailable("audit trail", format!("audit append failed (AUD-2): {source}"))
            }
            StoreError::Unavailable(source) => AppError::unavailable("store", source.to_string()),
            other => AppError::internal(other.to_string()),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        let message = if status.is_server_error() && self.code == ErrorCode::Internal {
            "internal server error"
        } else {
            self.message.as_str()
        };
        let mut response = (status, Json(Body { code: self.code.as_str(), message })).into_response();
        if status == StatusCode::UNAUTHORIZED && self.code != ErrorCode::SignalRejected {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        let detail = self.detail.unwrap_or_else(|| self.message.clone());
        response.extensions_mut().insert(ErrorDetail { code: self.code, detail });
        response
    }
}

#[cfg(test)]
mod tests;
