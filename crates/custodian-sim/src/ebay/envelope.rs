//! eBay's REST error envelope (`{"errors":[{errorId, domain, category, message, longMessage, parameters}]}`,
//! the spec's `Error` schema), the OAuth error body (`{"error", "error_description"}`), and the small text
//! helpers every route needs: ISO 8601 timestamps in eBay's `YYYY-MM-DDThh:mm:ss.sssZ` form and
//! percent-encoding.

use std::fmt::Write as _;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use serde::Serialize;

/// One entry of the `errors` array.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiError {
    pub error_id: u32,
    pub domain: &'static str,
    pub category: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_message: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<ErrorParameter>,
}

/// A `{name, value}` pair naming what an error is about.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ErrorParameter {
    pub name: String,
    pub value: String,
}

impl ApiError {
    pub(crate) fn new(
        error_id: u32,
        domain: &'static str,
        category: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            error_id,
            domain,
            category,
            message: message.into(),
            long_message: None,
            parameters: Vec::new(),
        }
    }

    pub(crate) fn long(mut self, long_message: impl Into<String>) -> Self {
        self.long_message = Some(long_message.into());
        self
    }

    pub(crate) fn param(mut self, name: &str, value: &str) -> Self {
        self.parameters.push(ErrorParameter { name: name.to_owned(), value: value.to_owned() });
        self
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    errors: &'a [ApiError],
}

/// An error response: `status` with `{"errors":[...]}`.
pub(crate) fn errors(status: StatusCode, errors: &[ApiError]) -> Response {
    json(status, &Envelope { errors })
}

/// A JSON response.
pub(crate) fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => raw_json(status, bytes),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// A response with already serialized JSON.
pub(crate) fn raw_json(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// 401 `1001` "Invalid access token" (domain `OAuth`), for a missing, unknown, expired or revoked token.
pub(crate) fn invalid_token() -> Response {
    errors(
        StatusCode::UNAUTHORIZED,
        &[ApiError::new(1001, "OAuth", "REQUEST", "Invalid access token")
            .long("Invalid access token. Check the value of the Authorization HTTP request header.")],
    )
}

/// 403 `1100` "Access denied": the token lacks the method's scope.
pub(crate) fn insufficient_permissions() -> Response {
    errors(
        StatusCode::FORBIDDEN,
        &[ApiError::new(1100, "ACCESS", "REQUEST", "Access denied")
            .long("Insufficient permissions to fulfill the request.")],
    )
}

/// 429 `2001` "Too many requests." (the body captured live, reference §3.5), with `Retry-After` when a hint
/// is given (eBay documents none; injected faults may carry one).
pub(crate) fn too_many_requests(retry_after: Option<Duration>) -> Response {
    let mut response = errors(
        StatusCode::TOO_MANY_REQUESTS,
        &[ApiError::new(2001, "ACCESS", "REQUEST", "Too many requests.")
            .long("The request limit has been reached for the resource.")],
    );
    if let Some(wait) = retry_after {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

/// A server error in the envelope: `2003` "Internal error" [UNVERIFIED: eBay's general error table, not in
/// the reference].
pub(crate) fn internal_error(status: StatusCode) -> Response {
    errors(
        status,
        &[ApiError::new(2003, "ACCESS", "APPLICATION", "Internal error")
            .long("There was a problem with an eBay internal system or process. Contact eBay developer support for assistance.")],
    )
}

/// The OAuth endpoint's error body (RFC 6749 §5.2, as eBay sends it).
#[derive(Serialize)]
struct OAuthError<'a> {
    error: &'a str,
    error_description: &'a str,
}

pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json(status, &OAuthError { error, error_description: description })
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `value` in decimal, left-padded with zeros to `width` digits (at most 20), in `buf` (the tests' oracle
/// formatter uses it; pages use [`push_digits`]).
#[cfg(test)]
pub(crate) fn digits(buf: &mut [u8; 20], value: u64, width: usize) -> &str {
    let mut n = value;
    let mut len = 0;
    while n > 0 || len == 0 {
        if let Some(slot) = buf.get_mut(19 - len) {
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        len += 1;
    }
    while len < width.min(20) {
        if let Some(slot) = buf.get_mut(19 - len) {
            *slot = b'0';
        }
        len += 1;
    }
    buf.get(20 - len..).and_then(|d| std::str::from_utf8(d).ok()).unwrap_or("0")
}

/// Appends `value` in decimal, left-padded with zeros to `width` digits (at most 20). Hot path of order
/// pages (issue 6): no formatter and no UTF-8 check, the digits are pushed as ASCII.
pub(crate) fn push_digits(out: &mut String, value: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut n = value;
    let mut at = buf.len();
    while at > 0 {
        at -= 1;
        if let Some(slot) = buf.get_mut(at) {
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = at.min(buf.len() - width.min(buf.len()));
    out.extend(buf.iter().skip(start).map(|&b| char::from(b)));
}

/// Writes `ms` (Unix milliseconds) as `2016-05-15T08:25:43.511Z`.
pub(crate) fn write_iso_ms(out: &mut String, ms: i64) {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let d = |v: i64| u64::try_from(v).unwrap_or(0);
    push_digits(out, d(year), 4);
    out.push('-');
    push_digits(out, d(month), 2);
    out.push('-');
    push_digits(out, d(day), 2);
    out.push('T');
    push_digits(out, d(rem / 3600), 2);
    out.push(':');
    push_digits(out, d(rem % 3600 / 60), 2);
    out.push(':');
    push_digits(out, d(rem % 60), 2);
    out.push('.');
    push_digits(out, d(millis), 3);
    out.push('Z');
}

pub(crate) fn iso_ms(ms: i64) -> String {
    let mut out = String::with_capacity(24);
    write_iso_ms(&mut out, ms);
    out
}

/// Parses eBay's timestamp form `YYYY-MM-DDThh:mm:ss[.s…]Z` (UTC only) into Unix milliseconds.
pub(crate) fn parse_iso_ms(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b.last() != Some(&b'Z') {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(range)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
    };
    let sep = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let millis = match b.get(19) {
        Some(b'Z') if b.len() == 20 => 0,
        Some(b'.') => {
            let digits = b.get(20..b.len() - 1)?;
            if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let mut value = 0i64;
            for i in 0..3 {
                value = value * 10 + digits.get(i).map_or(0, |d| i64::from(d - b'0'));
            }
            value
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(((days * 86_400 + hour * 3600 + minute * 60 + second) * 1000) + millis)
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn pct_encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() * 3);
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// Decodes `%XX` escapes (and, when `plus_is_space`, `+` as a space, the form-encoding rule); `None` for a
/// broken escape or bytes that are not UTF-8.
pub(crate) fn pct_decode(raw: &str, plus_is_space: bool) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let text = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(text, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The raw (still encoded) query pairs of a URI, in order.
pub(crate) fn raw_query_pairs(query: Option<&str>) -> Vec<(&str, &str)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_in_ebay_form() {
        let ms = parse_iso_ms("2016-05-15T08:25:43.511Z").unwrap();
        assert_eq!(iso_ms(ms), "2016-05-15T08:25:43.511Z");
        assert_eq!(parse_iso_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso_ms("2016-05-15T08:25:43.5Z"), Some(ms - 11));
        assert_eq!(iso_ms(-1), "1969-12-31T23:59:59.999Z");
        for bad in ["2016-05-15 08:25:43.511Z", "2016-05-15T08:25:43.511", "2016-13-15T08:25:43Z", "x"] {
            assert_eq!(parse_iso_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn digits_pad() {
        let mut out = String::new();
        push_digits(&mut out, 7, 3);
        push_digits(&mut out, 0, 1);
        push_digits(&mut out, 12345, 2);
        push_digits(&mut out, u64::MAX, 0);
        assert_eq!(out, format!("007012345{}", u64::MAX));
        for (value, width) in [(0, 0), (9, 2), (10, 2), (99_999, 5), (100_000, 5), (1_234_567, 10), (5, 25)] {
            let mut out = String::new();
            push_digits(&mut out, value, width);
            assert_eq!(out, format!("{value:0width$}", width = width.min(20)), "{value} to {width} digits");
        }
    }

    #[test]
    fn percent_coding() {
        assert_eq!(pct_encode("v^1.1#i^1"), "v%5E1.1%23i%5E1");
        assert_eq!(
            pct_decode("lastmodifieddate:%5B2016..%5D", false).as_deref(),
            Some("lastmodifieddate:[2016..]")
        );
        assert_eq!(pct_decode("a+b", true).as_deref(), Some("a b"));
        assert_eq!(pct_decode("a+b", false).as_deref(), Some("a+b"));
        assert_eq!(pct_decode("%5", false), None);
    }
}
