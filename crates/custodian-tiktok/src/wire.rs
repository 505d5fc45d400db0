//! The JSON shapes of the TikTok API for Business v1.3 that the adapter reads, keeping only the fields it
//! needs: serde drops every other field (MIN-1). Ids arrive as strings or numbers depending on the
//! endpoint (ads-apis.md §2.6), metrics as strings or numbers, sometimes `"-"`: ids are read as text,
//! metrics and days are parsed exactly while decoding (no allocation per value), and anything unreadable
//! fails the decode at its JSON path.

use std::fmt;

use secrecy::SecretString;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::{Deserialize, Serialize};
use time::Date;

use crate::convert;

/// `{code, message, request_id, data}` (§2.5). `code` is documented as present on errors only, so a
/// missing code reads as 0 (success).
#[derive(Deserialize)]
pub(crate) struct Envelope<T> {
    #[serde(default)]
    pub code: i64,
    pub data: T,
}

/// The envelope without its data: read when the full envelope does not decode (an error's `data` is `{}`).
#[derive(Debug, Deserialize)]
pub(crate) struct EnvelopeHead {
    #[serde(default)]
    pub code: i64,
}

/// A text or numeric id, as text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct FlexId(pub String);

impl<'de> Deserialize<'de> for FlexId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextVisitor("an id as a string or an integer")).map(FlexId)
    }
}

/// A money metric in millionths: a decimal string (`"20.00"`), a number, or `"-"` for empty (0). Parsed
/// while decoding, without allocating; an unreadable value fails the decode at its JSON path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Money(pub i64);

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NumberVisitor(convert::micros, convert::money)).map(Money)
    }
}

/// A count metric: a decimal string (`"4696"`), a number, or `"-"` for empty (0); fractions are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Count(pub u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let count = |text: &str| convert::count(text).and_then(|c| i64::try_from(c).ok());
        let number = |v: f64| (0.0..9.0e18).contains(&v).then_some(v.floor() as i64);
        deserializer.deserialize_any(NumberVisitor(count, number)).map(|n| Count(n.unsigned_abs()))
    }
}

/// Reads a number from text or from a JSON number with the given parsers. Errors never echo the value.
struct NumberVisitor(fn(&str) -> Option<i64>, fn(f64) -> Option<i64>);

impl Visitor<'_> for NumberVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number as a decimal string or a json number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        (self.0)(v).ok_or_else(|| E::custom("not a readable number"))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        (self.1)(v).ok_or_else(|| E::custom("not a readable number"))
    }
}

/// A day from `"YYYY-MM-DD HH:MM:SS"` or `"YYYY-MM-DD"`, parsed while decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Day(pub Date);

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(DayVisitor).map(Day)
    }
}

struct DayVisitor;

impl Visitor<'_> for DayVisitor {
    type Value = Date;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a day as `YYYY-MM-DD`")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Date, E> {
        convert::date(v).ok_or_else(|| E::custom("not a readable day"))
    }
}

/// Reads strings and integers as text.
struct TextVisitor(&'static str);

impl Visitor<'_> for TextVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// `oauth2/access_token/` data (§2.2, T3): the long-term token, the advertisers and the scope ids. No
/// `Debug`: it holds the token.
#[derive(Deserialize)]
pub(crate) struct TokenData {
    #[serde(deserialize_with = "secret")]
    pub access_token: SecretString,
    #[serde(default)]
    pub advertiser_ids: Vec<FlexId>,
    #[serde(default)]
    pub scope: Vec<FlexId>,
}

fn secret<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SecretString, D::Error> {
    String::deserialize(deserializer).map(SecretString::from)
}

/// `data` of list endpoints without paging (`oauth2/advertiser/get/`, `advertiser/info/`).
#[derive(Debug, Deserialize)]
pub(crate) struct List<T> {
    pub list: Vec<T>,
}

/// `oauth2/advertiser/get/` item (T4); the name is dropped.
#[derive(Debug, Deserialize)]
pub(crate) struct Advertiser {
    pub advertiser_id: FlexId,
}

/// `advertiser/info/` item with `fields=["advertiser_id","currency"]`.
#[derive(Debug, Deserialize)]
pub(crate) struct AdvertiserInfo {
    pub advertiser_id: FlexId,
    pub currency: String,
}

/// `data.page_info` (§2.5).
#[derive(Debug, Clone, Copy, Deserialize)]
pub(crate) struct PageInfo {
    /// Checked against the page asked for: a server that ignores `page` would repeat itself.
    pub page: u64,
    pub total_page: u64,
}

/// `data` of paged list endpoints (`campaign/get/`, `report/integrated/get/`).
#[derive(Debug, Deserialize)]
pub(crate) struct PagedList<T> {
    pub list: Vec<T>,
    pub page_info: PageInfo,
}

/// `campaign/get/` item (T1, smart_plus_campaign_get.yml), only what [`custodian_core::data::Campaign`]
/// and [`custodian_core::approval::CampaignReadback`] hold.
#[derive(Debug, Deserialize)]
pub(crate) struct Campaign {
    pub campaign_id: FlexId,
    pub campaign_name: String,
    #[serde(default)]
    pub objective_type: Option<String>,
    #[serde(default)]
    pub budget: Option<f64>,
    #[serde(default)]
    pub budget_mode: Option<String>,
    #[serde(default)]
    pub operation_status: Option<String>,
    #[serde(default)]
    pub secondary_status: Option<String>,
    #[serde(default)]
    pub modify_time: Option<String>,
}

/// The campaign fields the adapter asks `campaign/get/` for (MIN-4: nothing else is sent back).
pub(crate) const CAMPAIGN_FIELDS: [&str; 8] = [
    "campaign_id",
    "campaign_name",
    "objective_type",
    "budget",
    "budget_mode",
    "operation_status",
    "secondary_status",
    "modify_time",
];

/// `report/integrated/get/` row (T2).
#[derive(Debug, Deserialize)]
pub(crate) struct ReportRow {
    pub dimensions: Dimensions,
    pub metrics: Metrics,
}

/// The id and time dimensions the adapter asks for.
#[derive(Debug, Deserialize)]
pub(crate) struct Dimensions {
    #[serde(default)]
    pub advertiser_id: Option<FlexId>,
    #[serde(default)]
    pub campaign_id: Option<FlexId>,
    #[serde(default)]
    pub adgroup_id: Option<FlexId>,
    #[serde(default)]
    pub ad_id: Option<FlexId>,
    #[serde(default)]
    pub stat_time_day: Option<Day>,
}

/// The metrics the adapter asks for ([`REPORT_METRICS`]).
#[derive(Debug, Deserialize)]
pub(crate) struct Metrics {
    #[serde(default)]
    pub spend: Option<Money>,
    #[serde(default)]
    pub impressions: Option<Count>,
    #[serde(default)]
    pub clicks: Option<Count>,
    #[serde(default)]
    pub conversion: Option<Count>,
    #[serde(default)]
    pub total_complete_payment_rate: Option<Money>,
}

/// The only metrics requested (MIN-1, MIN-4): spend, delivery and conversion aggregates.
/// `total_complete_payment_rate` is the total value of completed payments.
pub(crate) const REPORT_METRICS: [&str; 5] =
    ["spend", "impressions", "clicks", "conversion", "total_complete_payment_rate"];

/// `campaign/status/update/` data (smart_plus_campaign_status_update.yml response rule).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StatusUpdate {
    #[serde(default)]
    pub error_list: Vec<StatusError>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct StatusError {
    pub campaign_id: FlexId,
    #[serde(default)]
    pub error_message: Option<String>,
}

/// `campaign/update/` data: not read (the change is confirmed by a read-back, CAM-2).
pub(crate) type Ignored = IgnoredAny;

/// `campaign/status/update/` body.
#[derive(Debug, Serialize)]
pub(crate) struct StatusUpdateBody<'a> {
    pub advertiser_id: &'a str,
    pub campaign_ids: [&'a str; 1],
    pub operation_status: &'static str,
}

/// `campaign/update/` body: only the budget (MIN-4).
#[derive(Debug, Serialize)]
pub(crate) struct BudgetUpdateBody<'a> {
    pub advertiser_id: &'a str,
    pub campaign_id: &'a str,
    pub budget: f64,
}

#[cfg(test)]
mod tests;
