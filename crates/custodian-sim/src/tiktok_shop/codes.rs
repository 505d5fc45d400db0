//! The response codes the simulated TikTok Shop answers with, their HTTP statuses and messages, and the
//! `{code, message, request_id, data}` envelope.
//!
//! Sources (`shared/reference/commerce-apis.md` §1.5 and the official error tables): `106001` (HTTP 401),
//! `105001`, `105002`, `105005`, `36004001`, `36004004`, `36004005`, `36009002`, `36009003`, `36009004`,
//! `36009009`, and the product codes `12052032`, `12052055`, `12052097`. Where the reference gives no HTTP
//! status, the status below is this simulator's choice, marked `[UNVERIFIED]`; clients must decide on the
//! body `code`, as TikTok Shop's own SDKs do.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use serde::Serialize;

/// One documented answer: HTTP status, body code and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub status: StatusCode,
    pub code: i64,
    pub message: &'static str,
}

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    code: i64,
    data: T,
    message: &'a str,
    request_id: &'a str,
}

#[derive(Serialize)]
struct Empty {}

impl Code {
    /// The error envelope, with `detail` appended to the message after `: ` when given.
    pub fn response(&self, request_id: &str, detail: Option<&str>) -> Response {
        let message = match detail {
            Some(detail) => format!("{}: {detail}", self.message),
            None => self.message.to_owned(),
        };
        let body =
            serde_json::to_vec(&Envelope { code: self.code, data: Empty {}, message: &message, request_id })
                .unwrap_or_default();
        json_response(self.status, body)
    }
}

/// A success envelope around `data` (code `0`, message `Success`).
pub(crate) fn success<T: Serialize>(request_id: &str, data: &T) -> Response {
    match serde_json::to_vec(&Envelope { code: 0, data, message: "Success", request_id }) {
        Ok(body) => json_response(StatusCode::OK, body),
        Err(_) => INTERNAL_ERROR.response(request_id, None),
    }
}

pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `106001`, HTTP 401: the `sign` (or the app key it is computed with) is wrong or missing.
pub const INVALID_SIGN: Code = Code {
    status: StatusCode::UNAUTHORIZED,
    code: 106_001,
    message: "Invalid credentials. The 'sign' query parameter is invalid. Please check your request and try again.",
};
/// `105001`: the access token is unknown, malformed or its authorization was revoked. HTTP 401
/// `[UNVERIFIED]`.
pub const INVALID_ACCESS_TOKEN: Code =
    Code { status: StatusCode::UNAUTHORIZED, code: 105_001, message: "access token is invalid" };
/// `105002`: the access token expired; refresh it. HTTP 401 `[UNVERIFIED]`.
pub const EXPIRED_ACCESS_TOKEN: Code = Code {
    status: StatusCode::UNAUTHORIZED,
    code: 105_002,
    message: "access token is expired, please refresh it",
};
/// `105005`: the app lacks the API package (scope) of the endpoint. HTTP 403 `[UNVERIFIED]`.
pub const MISSING_SCOPE: Code =
    Code { status: StatusCode::FORBIDDEN, code: 105_005, message: "you should apply auth pkg for this api" };
/// `36004004` on the token endpoint: the auth code is unknown, expired or used. HTTP 200.
pub const INVALID_AUTH_CODE: Code =
    Code { status: StatusCode::OK, code: 36_004_004, message: "invalid auth code" };
/// `36004001` on refresh: the refresh token expired. HTTP 200.
pub const REFRESH_TOKEN_EXPIRED: Code =
    Code { status: StatusCode::OK, code: 36_004_001, message: "rt has expired" };
/// `36004005` on refresh: no such authorization (unknown or revoked refresh token). HTTP 200.
pub const AUTH_RECORD_NOT_FOUND: Code =
    Code { status: StatusCode::OK, code: 36_004_005, message: "can not find related auth record" };
/// `36004003` on the token endpoints: the app key or app secret is wrong. Code and message
/// `[UNVERIFIED]` (not in the reference). HTTP 200.
pub const INVALID_APP_CREDENTIALS: Code =
    Code { status: StatusCode::OK, code: 36_004_003, message: "app_key or app_secret is invalid" };
/// `36009002`, HTTP 429: rate limited (message of the official error tables; status after a third-party
/// client).
pub const TOO_MANY_REQUESTS: Code = Code {
    status: StatusCode::TOO_MANY_REQUESTS,
    code: 36_009_002,
    message: "Too many requests. You've made too many requests in a short period of time.",
};
/// `36009003`: internal error, retry. HTTP 500 `[UNVERIFIED]`.
pub const INTERNAL_ERROR: Code = Code {
    status: StatusCode::INTERNAL_SERVER_ERROR,
    code: 36_009_003,
    message: "Internal error. Please try again. If the issue persists after multiple attempts, please contact platform support.",
};
/// `36009004`: invalid parameter (also used for a bad `timestamp` and `shop_cipher`). HTTP 400
/// `[UNVERIFIED]`.
pub const INVALID_PARAM: Code =
    Code { status: StatusCode::BAD_REQUEST, code: 36_009_004, message: "invalid param error" };
/// `36009009`: no such path (e.g. `GET /order/202309/orders/{id}`). HTTP 404 `[UNVERIFIED]`.
pub const INVALID_PATH: Code =
    Code { status: StatusCode::NOT_FOUND, code: 36_009_009, message: "Invalid path" };
/// `12052032` on inventory update: the product is not the shop's (observed live by a third party). HTTP
/// 200.
pub const RESOURCE_NOT_FOUND: Code =
    Code { status: StatusCode::OK, code: 12_052_032, message: "Resource Not Found" };
/// `12052055` on inventory update: quantity out of range. HTTP 200.
pub const QUANTITY_OUT_OF_RANGE: Code = Code {
    status: StatusCode::OK,
    code: 12_052_055,
    message: "The SKU inventory quantity for the warehouse must be within allowed limits.",
};
/// `12052097` on inventory update: the warehouse is not the shop's. HTTP 200.
pub const WAREHOUSE_NOT_FOUND: Code =
    Code { status: StatusCode::OK, code: 12_052_097, message: "The warehouse does not exist" };
