//! Graph API error answers: `{"error":{"message","type","code","error_subcode","fbtrace_id"}}` (ads-apis.md
//! §1.9 M8–M10, §1.10), HTTP 400 for client errors and 5xx with `is_transient` for codes 1 and 2.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use serde_json::json;

/// One Graph error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct GraphError {
    pub(super) status: StatusCode,
    pub(super) code: i64,
    pub(super) subcode: Option<i64>,
    pub(super) message: String,
    /// `OAuthException`, `GraphMethodException`, …
    pub(super) kind: &'static str,
    /// For throttles: the seconds until access is back (carried in the usage headers).
    pub(super) regain_secs: Option<u64>,
}

impl GraphError {
    /// An `OAuthException` with HTTP 400 (500 for the transient codes 1 and 2).
    pub(super) fn new(code: i64, subcode: Option<i64>, message: &str) -> Self {
        let status =
            if matches!(code, 1 | 2) { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::BAD_REQUEST };
        Self { status, code, subcode, message: message.to_owned(), kind: "OAuthException", regain_secs: None }
    }

    /// A `GraphMethodException` (appsecret_proof problems, unsupported requests).
    pub(super) fn method(code: i64, subcode: Option<i64>, message: &str) -> Self {
        Self { kind: "GraphMethodException", ..Self::new(code, subcode, message) }
    }

    /// `(#100) <message>`: an invalid parameter.
    pub(super) fn invalid(message: &str) -> Self {
        Self::new(100, None, &format!("(#100) {message}"))
    }

    /// 100/33: the object does not exist or the token cannot see it.
    pub(super) fn missing_object(id: &str) -> Self {
        Self::method(
            100,
            Some(33),
            &format!(
                "Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to missing \
                 permissions, or does not support this operation. Please read the Graph API documentation at \
                 https://developers.facebook.com/docs/graph-api"
            ),
        )
    }

    /// 100/1487534: the data-per-call limit (§1.7).
    pub(super) fn too_much_data() -> Self {
        Self::new(
            100,
            Some(1_487_534),
            "Please reduce the amount of data you're asking for, then retry your request",
        )
    }

    /// 200: the ad account is not covered by the token (M10).
    pub(super) fn not_granted() -> Self {
        Self::new(200, None, "(#200) Ad account owner has NOT grant ads_management or ads_read permission")
    }

    /// The documented error of `code`/`subcode`, for injected failures.
    pub(super) fn documented(code: i64, subcode: Option<i64>) -> Self {
        let message = match (code, subcode) {
            (1, _) => "An unknown error has occurred.".to_owned(),
            (2, _) => "An unexpected error has occurred. Please retry your request later.".to_owned(),
            (4, _) => "(#4) Application request limit reached".to_owned(),
            (10, _) => "(#10) Application does not have permission for this action".to_owned(),
            (17, _) => "(#17) User request limit reached".to_owned(),
            (32, _) => "(#32) Page request limit reached".to_owned(),
            (100, Some(1_487_534)) => return Self::too_much_data(),
            (100, Some(33)) => return Self::missing_object("0"),
            (100, _) => "(#100) Invalid parameter".to_owned(),
            (102, _) => "Session key invalid or no longer valid".to_owned(),
            (190, Some(458)) => "Error validating access token: The user has not authorized application.".to_owned(),
            (190, Some(459)) => "Error validating access token: You cannot access the app till you log in to \
                                 www.facebook.com and follow the instructions given."
                .to_owned(),
            (190, Some(460)) => "Error validating access token: The session has been invalidated because the user \
                                 changed their password or Facebook has changed the session for security reasons."
                .to_owned(),
            (190, Some(463)) => "Error validating access token: Session has expired.".to_owned(),
            (190, Some(464)) => "Error validating access token: Sessions for the user are not allowed because the \
                                 user is not a confirmed user."
                .to_owned(),
            (190, Some(467)) => "Error validating access token: Invalid access token.".to_owned(),
            (190, _) => "Invalid OAuth access token - Cannot parse access token".to_owned(),
            (200, _) => return Self::not_granted(),
            (294, _) => "(#294) Managing advertisements requires an access token with the extended permission \
                         ads_management"
                .to_owned(),
            (613, _) => "(#613) Calls to this api have exceeded the rate limit.".to_owned(),
            (80_000..=80_014, _) => format!(
                "(#{code}) There have been too many calls from this ad-account. Wait a bit and try again. For more \
                 info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
            ),
            (code, _) => format!("(#{code}) An error occurred"),
        };
        Self::new(code, subcode, &message)
    }

    /// Whether this is one of the throttling codes (§1.10).
    pub(super) fn is_throttle(&self) -> bool {
        matches!(self.code, 4 | 17 | 32 | 613 | 80_000..=80_014)
    }

    /// The JSON answer, with `x-fb-trace-id` (and `WWW-Authenticate` for 190, as Graph sends).
    pub(super) fn render(&self, trace: &str) -> Response {
        let mut error = json!({
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "fbtrace_id": trace,
        });
        if let Some(subcode) = self.subcode {
            error["error_subcode"] = json!(subcode);
        }
        if matches!(self.code, 1 | 2) {
            error["is_transient"] = json!(true);
        }
        let body = json!({ "error": error }).to_string();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=UTF-8"));
        if let Ok(value) = HeaderValue::from_str(trace) {
            headers.insert("x-fb-trace-id", value);
        }
        if self.code == 190 {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("OAuth \"Facebook Platform\" \"invalid_token\""),
            );
        }
        response
    }
}
