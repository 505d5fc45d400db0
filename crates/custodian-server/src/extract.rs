//! Extractors whose rejections are [`AppError`]s (style rule 17): [`AppJson`] (400 malformed, 413 too large,
//! 415 not JSON, 422 wrong shape), [`AppQuery`] and [`AppPath`] (400).
//!
//! Rejection messages name the offending field at most, never a value: a mistyped password must not come
//! back in an error or reach a log.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::error::{AppError, ErrorCode};

/// A JSON body.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AppJson<T>(pub(crate) T);

/// Longest field path quoted back in an error.
const MAX_PATH_CHARS: usize = 64;

fn is_json(parts: &axum::http::HeaderMap) -> bool {
    let Some(value) = parts.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn shorten(text: &str) -> String {
    text.chars().take(MAX_PATH_CHARS).collect()
}

/// The safe part of a serde error: which field is missing, unknown or repeated; never a value.
fn safe_reason(message: &str) -> &'static str {
    if message.starts_with("missing field") {
        "a required field is missing"
    } else if message.starts_with("unknown field") {
        "unknown field"
    } else if message.starts_with("duplicate field") {
        "duplicate field"
    } else if message.starts_with("invalid length") {
        "wrong number of items"
    } else {
        "invalid value"
    }
}

/// Names the missing field of a `missing field `x`` message (our own schema's names only).
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

/// Parses `bytes` as JSON into `T`, with safe errors.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let inner = error.inner();
        match inner.classify() {
            Category::Data => {
                let raw = inner.to_string();
                let path = error.path().to_string();
                let at = match (path.as_str(), missing_field(&raw)) {
                    (".", Some(field)) => shorten(field),
                    (".", None) => "the body".to_owned(),
                    (path, Some(field)) => format!("{}.{}", shorten(path), shorten(field)),
                    (path, None) => shorten(path),
                };
                AppError::invalid(format!("request body: {}: `{at}`", safe_reason(&raw)))
            }
            Category::Syntax | Category::Eof | Category::Io => {
                AppError::bad_request("request body is not well-formed json")
            }
        }
    })?;
    deserializer.end().map_err(|_| AppError::bad_request("request body has trailing characters"))?;
    Ok(value)
}

impl<T, S> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(AppError::new(
                ErrorCode::UnsupportedMediaType,
                "request body must be `application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::new(ErrorCode::PayloadTooLarge, "request body is too large")
            } else {
                AppError::bad_request("request body could not be read").with_detail(rejection.body_text())
            }
        })?;
        parse_json(&bytes).map(AppJson)
    }
}

/// Query parameters.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AppQuery<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| AppQuery(value))
            .map_err(|_| AppError::bad_request("query parameters are not valid"))
    }
}

/// Path parameters.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AppPath<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for AppPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| AppPath(value))
            .map_err(|_| AppError::bad_request("path parameters are not valid"))
    }
}

#[cfg(test)]
mod tests;
