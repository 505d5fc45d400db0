//! Graph API payloads as serde DTOs that keep only the fields the adapter needs: serde ignores every other
//! field, so nothing else crosses the boundary (MIN-1). Insights rows borrow from the response body (no
//! allocation per field on the hot path).
//!
//! Meta sends most numbers as JSON strings (`"impressions": "9708"`) but some samples carry JSON numbers
//! (M3 `"value": 6608`, M5 `"report_run_id": 6023920149050`), so numbers and ids accept both.

use std::borrow::Cow;
use std::fmt;

use custodian_http::DecodeError;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, de::DeserializeOwned};

/// A number Meta sent as text or as a JSON number, borrowed when possible.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Num<'a> {
    Text(Cow<'a, str>),
    Int(i128),
    Float(f64),
}

struct NumVisitor;

impl<'de> Visitor<'de> for NumVisitor {
    type Value = Num<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a numeric string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Num::Text(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Num::Text(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Num::Text(Cow::Owned(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Num::Int(i128::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Num::Int(i128::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Num::Float(v))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Num<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NumVisitor)
    }
}

impl Num<'_> {
    /// The number as decimal text (`6608`, `12.34`).
    pub(crate) fn text(&self) -> Cow<'_, str> {
        match self {
            Num::Text(t) => Cow::Borrowed(t.as_ref()),
            Num::Int(i) => Cow::Owned(i.to_string()),
            Num::Float(f) => Cow::Owned(f.to_string()),
        }
    }
}

/// An id Meta sent as a string or a number (kept as text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Id(pub(crate) String);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Num::deserialize(deserializer)? {
            Num::Text(t) => Ok(Id(t.into_owned())),
            Num::Int(i) => Ok(Id(i.to_string())),
            Num::Float(_) => Err(de::Error::custom("an id must be a string or an integer")),
        }
    }
}

/// An owned amount (budgets): text or number.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Amount(pub(crate) String);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Amount(Num::deserialize(deserializer)?.text().into_owned()))
    }
}

/// `{"error": {"code", "error_subcode", …}}` (M8). Message and trace id are read by
/// [`custodian_http::Evidence`].
#[derive(Deserialize)]
pub(crate) struct ErrorEnvelope {
    pub(crate) error: Option<ErrorBody>,
}

#[derive(Deserialize)]
pub(crate) struct ErrorBody {
    pub(crate) code: Option<i64>,
    pub(crate) error_subcode: Option<i64>,
}

/// `oauth/access_token` (M11): `{"access_token", "token_type", "expires_in"}`.
#[derive(Deserialize)]
pub(crate) struct TokenAnswer {
    pub(crate) access_token: String,
    pub(crate) expires_in: Option<i64>,
}

/// `debug_token` (§1.4): `{"data": {…}}`.
#[derive(Deserialize)]
pub(crate) struct DebugToken {
    pub(crate) data: DebugData,
}

#[derive(Deserialize)]
pub(crate) struct DebugData {
    pub(crate) app_id: Option<Id>,
    #[serde(default)]
    pub(crate) is_valid: bool,
    pub(crate) expires_at: Option<i64>,
    pub(crate) data_access_expires_at: Option<i64>,
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
    #[serde(default)]
    pub(crate) granular_scopes: Vec<GranularScope>,
    pub(crate) user_id: Option<Id>,
    pub(crate) error: Option<DebugError>,
}

#[derive(Deserialize)]
pub(crate) struct GranularScope {
    pub(crate) scope: String,
    pub(crate) target_ids: Option<Vec<Id>>,
}

#[derive(Deserialize)]
pub(crate) struct DebugError {
    pub(crate) code: Option<i64>,
    pub(crate) subcode: Option<i64>,
}

/// `paging` of a cursor-paged answer (M1, M4).
#[derive(Deserialize, Default)]
pub(crate) struct Paging {
    pub(crate) cursors: Option<Cursors>,
    pub(crate) next: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Cursors {
    pub(crate) after: Option<String>,
}

/// A page of owned items.
#[derive(Deserialize)]
pub(crate) struct Paged<T> {
    pub(crate) data: Vec<T>,
    #[serde(default)]
    pub(crate) paging: Paging,
}

/// `me/adaccounts` items.
#[derive(Deserialize)]
pub(crate) struct AdAccountItem {
    pub(crate) account_id: Option<Id>,
}

/// `act_{id}?fields=currency`.
#[derive(Deserialize)]
pub(crate) struct AccountNode {
    pub(crate) currency: Option<String>,
}

/// A campaign of `act_{id}/campaigns` or `GET /{campaign_id}` (M7).
#[derive(Deserialize)]
pub(crate) struct CampaignItem {
    pub(crate) id: Option<Id>,
    pub(crate) account_id: Option<Id>,
    pub(crate) name: Option<String>,
    pub(crate) status: Option<String>,
    pub(crate) objective: Option<String>,
    pub(crate) daily_budget: Option<Amount>,
    pub(crate) lifetime_budget: Option<Amount>,
    pub(crate) start_time: Option<String>,
    pub(crate) stop_time: Option<String>,
    pub(crate) updated_time: Option<String>,
}

/// `{"success": true}` of a change.
#[derive(Deserialize)]
pub(crate) struct Success {
    #[serde(default)]
    pub(crate) success: bool,
}

/// `POST …/insights` (M5): `{"report_run_id": "…"}` (or a number).
#[derive(Deserialize)]
pub(crate) struct RunStart {
    pub(crate) report_run_id: Id,
}

/// `GET /{report_run_id}` (M6).
#[derive(Deserialize)]
pub(crate) struct RunStatus {
    pub(crate) async_status: Option<String>,
    pub(crate) async_percent_completion: Option<Amount>,
}

/// A page of insights rows, borrowing from the body.
#[derive(Deserialize)]
pub(crate) struct InsightsPage<'a> {
    #[serde(borrow)]
    pub(crate) data: Vec<InsightRow<'a>>,
    #[serde(default)]
    pub(crate) paging: Paging,
}

/// One insights row: only the requested fields (M1–M3).
#[derive(Deserialize)]
pub(crate) struct InsightRow<'a> {
    #[serde(borrow)]
    pub(crate) account_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) campaign_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) adset_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) ad_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) date_start: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) account_currency: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) spend: Option<Num<'a>>,
    #[serde(borrow)]
    pub(crate) impressions: Option<Num<'a>>,
    #[serde(borrow)]
    pub(crate) clicks: Option<Num<'a>>,
    #[serde(borrow, default)]
    pub(crate) actions: Vec<ActionStat<'a>>,
    #[serde(borrow, default)]
    pub(crate) action_values: Vec<ActionStat<'a>>,
}

/// One `AdsActionStats` entry: `{"action_type": "purchase", "value": "3"}` (attribution-window keys such
/// as `1d_click` are dropped).
#[derive(Deserialize)]
pub(crate) struct ActionStat<'a> {
    #[serde(borrow)]
    pub(crate) action_type: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) value: Option<Num<'a>>,
}

/// Decodes `body` as `T` (which may borrow from it); a failure names the JSON path, never a value.
pub(crate) fn decode<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, DecodeError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        DecodeError {
            path: e.path().to_string(),
            category: category(inner),
            line: inner.line(),
            column: inner.column(),
        }
    })?;
    de.end().map_err(|e| DecodeError {
        path: ".".to_owned(),
        category: category(&e),
        line: e.line(),
        column: e.column(),
    })?;
    Ok(value)
}

/// Decodes an owned `T`.
pub(crate) fn decode_owned<T: DeserializeOwned>(body: &[u8]) -> Result<T, DecodeError> {
    decode(body)
}

fn category(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Io => "io",
        serde_json::error::Category::Syntax => "syntax",
        serde_json::error::Category::Data => "data",
        serde_json::error::Category::Eof => "eof",
    }
}

#[cfg(test)]
mod tests;
