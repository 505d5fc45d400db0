//! Insights (ads-apis.md §1.7): the query parameters (`level`, `fields`, `time_range` or `date_preset`,
//! `time_increment`, `limit`, `after`), the field allow-list, and pages of rows written straight into the
//! response body from the seed (no row is stored).
//!
//! Rows are ordered by time bucket, then object: row `i` is object `i % objects` in bucket `i / objects`.
//! Cursors are Graph-style: the base64 of the row index with `=` written as `ZD` (`MAZDZD` is row 0), `after`
//! naming the page's last row (M1).

use std::fmt::Write as _;

use serde::Deserialize;

use super::MetaAccount;
use super::data::{self, Kind};
use super::dates;
use super::error::GraphError;
use super::params::Params;
use crate::seed;

/// `level`: the object level rows aggregate at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Account,
    Campaign,
    AdSet,
    Ad,
}

impl Level {
    pub(crate) fn parse(raw: &str) -> Option<Self> {
        match raw {
            "account" => Some(Level::Account),
            "campaign" => Some(Level::Campaign),
            "adset" => Some(Level::AdSet),
            "ad" => Some(Level::Ad),
            _ => None,
        }
    }

    fn code(self) -> u64 {
        match self {
            Level::Account => 0,
            Level::Campaign => 1,
            Level::AdSet => 2,
            Level::Ad => 3,
        }
    }

    /// How many objects of this level the account has.
    pub(crate) fn objects(self, account: &MetaAccount) -> u64 {
        match self {
            Level::Account => 1,
            Level::Campaign => u64::from(account.campaigns),
            Level::AdSet => account.adsets(),
            Level::Ad => account.ads(),
        }
    }
}

/// The insights fields the simulator knows (a subset of Meta's `AdsInsights` fields); any other name in
/// `fields` is error 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    AccountId,
    AccountName,
    AccountCurrency,
    CampaignId,
    CampaignName,
    AdsetId,
    AdsetName,
    AdId,
    AdName,
    Objective,
    DateStart,
    DateStop,
    Spend,
    Impressions,
    Clicks,
    Reach,
    Frequency,
    Cpc,
    Cpm,
    Ctr,
    InlineLinkClicks,
    Actions,
    ActionValues,
}

const FIELDS: [(&str, Field); 23] = [
    ("account_id", Field::AccountId),
    ("account_name", Field::AccountName),
    ("account_currency", Field::AccountCurrency),
    ("campaign_id", Field::CampaignId),
    ("campaign_name", Field::CampaignName),
    ("adset_id", Field::AdsetId),
    ("adset_name", Field::AdsetName),
    ("ad_id", Field::AdId),
    ("ad_name", Field::AdName),
    ("objective", Field::Objective),
    ("date_start", Field::DateStart),
    ("date_stop", Field::DateStop),
    ("spend", Field::Spend),
    ("impressions", Field::Impressions),
    ("clicks", Field::Clicks),
    ("reach", Field::Reach),
    ("frequency", Field::Frequency),
    ("cpc", Field::Cpc),
    ("cpm", Field::Cpm),
    ("ctr", Field::Ctr),
    ("inline_link_clicks", Field::InlineLinkClicks),
    ("actions", Field::Actions),
    ("action_values", Field::ActionValues),
];

impl Field {
    fn name(self) -> &'static str {
        FIELDS.iter().find(|(_, f)| *f == self).map_or("", |(n, _)| n)
    }
}

/// A parsed insights query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InsightsQuery {
    pub(crate) level: Level,
    pub(crate) fields: Vec<Field>,
    /// First and last day (day numbers), `until` clipped to today.
    pub(crate) since: i64,
    pub(crate) until: i64,
    /// Days per row; 0 = `all_days`.
    pub(crate) increment: i64,
}

#[derive(Deserialize)]
struct TimeRange {
    since: String,
    until: String,
}

/// The day 37 months before `today` (Meta's insights retention, §1.7).
fn retention_start(today: i64) -> i64 {
    let (y, m, d) = dates::civil_from_days(today);
    let months = y * 12 + (m - 1) - 37;
    let (year, month) = (months.div_euclid(12), months.rem_euclid(12) + 1);
    // The same day of the month, or the month's last day.
    let mut day = d;
    loop {
        let days = dates::days_from_civil(year, month, day);
        if dates::civil_from_days(days) == (year, month, day) || day <= 28 {
            return days;
        }
        day -= 1;
    }
}

impl InsightsQuery {
    /// Reads `level`, `fields`, `time_range`/`date_preset` and `time_increment`.
    pub(crate) fn parse(params: &Params, today: i64) -> Result<Self, GraphError> {
        let level = match params.get("level") {
            None => Level::Account,
            Some(raw) => Level::parse(raw).ok_or_else(|| {
                GraphError::invalid("param level must be one of {ad, adset, campaign, account}")
            })?,
        };
        let fields = match params.get("fields") {
            None => vec![Field::DateStart, Field::DateStop, Field::Impressions, Field::Spend],
            Some(raw) => {
                let mut fields = Vec::new();
                for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    let field = FIELDS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f).ok_or_else(|| {
                        GraphError::invalid(&format!(
                            "{name} is not valid for fields param. please check \
                             https://developers.facebook.com/docs/marketing-api/reference/ads-insights/ for all valid values"
                        ))
                    })?;
                    if !fields.contains(&field) {
                        fields.push(field);
                    }
                }
                fields
            }
        };
        let (since, until) = match params.get("time_range") {
            Some(raw) => {
                let range: TimeRange = serde_json::from_str(raw).map_err(|_| {
                    GraphError::invalid("param time_range must be a JSON object with since and until")
                })?;
                let since = dates::parse_day(&range.since).ok_or_else(|| {
                    GraphError::invalid("param time_range[since] must be a date YYYY-MM-DD")
                })?;
                let until = dates::parse_day(&range.until).ok_or_else(|| {
                    GraphError::invalid("param time_range[until] must be a date YYYY-MM-DD")
                })?;
                (since, until)
            }
            None => preset(params.get("date_preset").unwrap_or("last_30d"), today)?,
        };
        if since > until {
            return Err(GraphError::invalid("param time_range: since must be on or before until"));
        }
        if since < retention_start(today) {
            return Err(GraphError::new(
                3018,
                None,
                "(#3018) The start date of the time range cannot be beyond 37 months from the current date",
            ));
        }
        let increment = match params.get("time_increment") {
            None | Some("all_days") => 0,
            Some(raw) => match raw.parse::<i64>() {
                Ok(n) if (1..=90).contains(&n) => n,
                _ => {
                    return Err(GraphError::invalid(
                        "param time_increment must be an integer between 1 and 90, or all_days",
                    ));
                }
            },
        };
        Ok(Self { level, fields, since, until: until.min(today), increment })
    }

    /// How many time buckets the range has (0 when it starts after today).
    pub(crate) fn buckets(&self) -> u64 {
        if self.since > self.until {
            return 0;
        }
        if self.increment == 0 {
            return 1;
        }
        let days = self.until - self.since + 1;
        u64::try_from((days + self.increment - 1) / self.increment).unwrap_or(0)
    }

    /// How many rows the query has for `account`.
    pub(crate) fn total_rows(&self, account: &MetaAccount) -> u64 {
        self.level.objects(account).saturating_mul(self.buckets())
    }

    fn bucket_days(&self, bucket: u64) -> (i64, i64) {
        if self.increment == 0 {
            return (self.since, self.until);
        }
        let start = self.since + i64::try_from(bucket).unwrap_or(0) * self.increment;
        (start, (start + self.increment - 1).min(self.until))
    }
}

/// `date_preset` as a day range (the `last_Nd` presets end yesterday).
fn preset(raw: &str, today: i64) -> Result<(i64, i64), GraphError> {
    let last = |n: i64| (today - n, today - 1);
    Ok(match raw {
        "today" => (today, today),
        "yesterday" => (today - 1, today - 1),
        "last_3d" => last(3),
        "last_7d" => last(7),
        "last_14d" => last(14),
        "last_28d" => last(28),
        "last_30d" => last(30),
        "last_90d" => last(90),
        "maximum" => (retention_start(today), today),
        _ => return Err(GraphError::invalid("param date_preset is not a supported preset")),
    })
}

/// Encodes a row index as a Graph cursor: base64 of its decimal digits, `=` written as `ZD`.
pub(crate) fn encode_cursor(index: u64) -> String {
    data_encoding::BASE64.encode(index.to_string().as_bytes()).replace('=', "ZD")
}

/// Decodes a Graph cursor back into a row index.
pub(crate) fn decode_cursor(cursor: &str) -> Option<u64> {
    let pads = if cursor.ends_with("ZDZD") { 2 } else { usize::from(cursor.ends_with("ZD")) };
    for k in (0..=pads).rev() {
        let body = cursor.get(..cursor.len() - 2 * k)?;
        let candidate = format!("{body}{}", "=".repeat(k));
        if let Ok(bytes) = data_encoding::BASE64.decode(candidate.as_bytes()) {
            let text = String::from_utf8(bytes).ok()?;
            return text.parse().ok();
        }
    }
    None
}

/// Where the next page is: the request's URL without `after`/`before`/`limit`.
#[derive(Debug, Clone)]
pub(crate) struct NextLink {
    pub(crate) url: String,
    pub(crate) pairs: Vec<(String, String)>,
}

impl NextLink {
    pub(crate) fn write_to(&self, out: &mut String, limit: u64, after: &str) {
        out.push_str(&self.url);
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            query.append_pair(k, v);
        }
        query.append_pair("limit", &limit.to_string());
        query.append_pair("after", after);
        out.push('?');
        out.push_str(&query.finish());
    }
}

/// One page: `offset` and `limit` in rows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageRequest {
    pub(crate) offset: u64,
    pub(crate) limit: u64,
}

/// Reads `limit` (default 25, at most `max`, else the data-per-call error) and `after`.
pub(crate) fn page_request(params: &Params, max: u32) -> Result<PageRequest, GraphError> {
    let limit = match params.get("limit") {
        None => 25,
        Some(raw) => match raw.parse::<u64>() {
            Ok(0) | Err(_) => return Err(GraphError::invalid("param limit must be a positive integer")),
            Ok(n) if n > u64::from(max) => return Err(GraphError::too_much_data()),
            Ok(n) => n,
        },
    };
    let offset = match params.get("after") {
        None => 0,
        Some(cursor) => {
            decode_cursor(cursor)
                .ok_or_else(|| GraphError::invalid("The After Cursor specified is invalid"))?
                + 1
        }
    };
    Ok(PageRequest { offset, limit })
}

/// Writes one page of `query`'s rows for `account` as Graph's `{"data":[…],"paging":{…}}`.
pub(crate) fn write_page(
    seed: u64,
    account_index: usize,
    account: &MetaAccount,
    query: &InsightsQuery,
    page: PageRequest,
    next: &NextLink,
) -> Result<String, GraphError> {
    let total = query.total_rows(account);
    if page.offset > total {
        return Err(GraphError::invalid(
            "The After Cursor specified exceeds the max limit supported by this endpoint",
        ));
    }
    let end = total.min(page.offset.saturating_add(page.limit));
    let rows = end - page.offset;
    let mut out = String::with_capacity(usize::try_from(rows).unwrap_or(0) * 360 + 512);
    out.push_str(r#"{"data":["#);
    let objects = query.level.objects(account).max(1);
    let offset_units = data::minor_units_per_unit(&account.currency);
    let writer = RowWriter { seed, account_index, account, query, offset_units };
    for i in page.offset..end {
        if i > page.offset {
            out.push(',');
        }
        writer.write_row(&mut out, i % objects, i / objects);
    }
    out.push(']');
    if rows > 0 {
        let before = encode_cursor(page.offset);
        let after = encode_cursor(end - 1);
        let _ = write!(out, r#","paging":{{"cursors":{{"before":"{before}","after":"{after}"}}"#);
        if end < total {
            out.push_str(r#","next":""#);
            next.write_to(&mut out, page.limit, &after);
            out.push('"');
        }
        out.push('}');
    }
    out.push('}');
    Ok(out)
}

struct RowWriter<'a> {
    seed: u64,
    account_index: usize,
    account: &'a MetaAccount,
    query: &'a InsightsQuery,
    offset_units: i64,
}

/// The generated metrics of one row.
struct Metrics {
    impressions: u64,
    clicks: u64,
    reach: u64,
    /// Minor units of the account currency.
    spend: u64,
    purchases: u64,
    purchase_value: u64,
}

impl RowWriter<'_> {
    fn metrics(&self, object: u64, start: i64, days: i64) -> Metrics {
        let coords = [
            self.account_index as u64,
            self.query.level.code(),
            object,
            start as u64,
            self.query.increment as u64,
        ];
        let v = seed::value(self.seed, &coords);
        let days = u64::try_from(days.max(1)).unwrap_or(1);
        let impressions = (100 + v % 20_000) * days;
        let clicks = impressions * (5 + (v >> 16) % 25) / 1000;
        let spend =
            clicks * (20 + (v >> 24) % 180) * u64::try_from(self.offset_units).unwrap_or(100) / 100 + days;
        let purchases = clicks * ((v >> 40) % 10) / 100;
        let purchase_value =
            purchases * (1_000 + (v >> 48) % 19_000) * u64::try_from(self.offset_units).unwrap_or(100) / 100;
        Metrics { impressions, clicks, reach: impressions * 4 / 5 + 1, spend, purchases, purchase_value }
    }

    /// The (campaign, ad set, ad) indexes above `object` at the query's level.
    fn parents(&self, object: u64) -> (Option<u64>, Option<u64>, Option<u64>) {
        let per_campaign = u64::from(self.account.adsets_per_campaign).max(1);
        let per_adset = u64::from(self.account.ads_per_adset).max(1);
        match self.query.level {
            Level::Account => (None, None, None),
            Level::Campaign => (Some(object), None, None),
            Level::AdSet => (Some(object / per_campaign), Some(object), None),
            Level::Ad => {
                let adset = object / per_adset;
                (Some(adset / per_campaign), Some(adset), Some(object))
            }
        }
    }

    fn write_row(&self, out: &mut String, object: u64, bucket: u64) {
        let (start, stop) = self.query.bucket_days(bucket);
        let m = self.metrics(object, start, stop - start + 1);
        let (campaign, adset, ad) = self.parents(object);
        let mut first = true;
        out.push('{');
        for field in &self.query.fields {
            let mut key = |out: &mut String| {
                if !first {
                    out.push(',');
                }
                first = false;
                out.push('"');
                out.push_str(field.name());
                out.push_str("\":");
            };
            match field {
                Field::AccountId => {
                    key(out);
                    out.push('"');
                    out.push_str(&self.account.id);
                    out.push('"');
                }
                Field::AccountName => {
                    key(out);
                    write_json_string(out, &self.account.name);
                }
                Field::AccountCurrency => {
                    key(out);
                    out.push('"');
                    out.push_str(&self.account.currency);
                    out.push('"');
                }
                Field::CampaignId | Field::CampaignName | Field::Objective => {
                    let Some(c) = campaign else { continue };
                    key(out);
                    match field {
                        Field::CampaignId => {
                            push_quoted(out, data::object_id(self.account_index, Kind::Campaign, c));
                        }
                        _ => {
                            let generated =
                                data::campaign(self.seed, self.account_index, self.account, c, None);
                            let text =
                                if *field == Field::Objective { generated.objective } else { generated.name };
                            write_json_string(out, &text);
                        }
                    }
                }
                Field::AdsetId | Field::AdsetName => {
                    let Some(a) = adset else { continue };
                    key(out);
                    if *field == Field::AdsetId {
                        push_quoted(out, data::object_id(self.account_index, Kind::AdSet, a));
                    } else {
                        write_json_string(out, &data::object_name(Kind::AdSet, a));
                    }
                }
                Field::AdId | Field::AdName => {
                    let Some(d) = ad else { continue };
                    key(out);
                    if *field == Field::AdId {
                        push_quoted(out, data::object_id(self.account_index, Kind::Ad, d));
                    } else {
                        write_json_string(out, &data::object_name(Kind::Ad, d));
                    }
                }
                Field::DateStart | Field::DateStop => {
                    key(out);
                    out.push('"');
                    dates::write_day(out, if *field == Field::DateStart { start } else { stop });
                    out.push('"');
                }
                Field::Spend => {
                    key(out);
                    out.push('"');
                    write_money(out, m.spend, self.offset_units);
                    out.push('"');
                }
                Field::Impressions => {
                    key(out);
                    push_quoted(out, m.impressions);
                }
                Field::Clicks => {
                    key(out);
                    push_quoted(out, m.clicks);
                }
                Field::InlineLinkClicks => {
                    key(out);
                    push_quoted(out, m.clicks * 9 / 10);
                }
                Field::Reach => {
                    key(out);
                    push_quoted(out, m.reach);
                }
                Field::Frequency => {
                    key(out);
                    write_ratio(out, m.impressions, m.reach, 1);
                }
                Field::Cpc => {
                    key(out);
                    write_ratio(
                        out,
                        m.spend,
                        m.clicks.max(1) * u64::try_from(self.offset_units).unwrap_or(100),
                        1,
                    );
                }
                Field::Cpm => {
                    key(out);
                    write_ratio(
                        out,
                        m.spend * 1000,
                        m.impressions.max(1) * u64::try_from(self.offset_units).unwrap_or(100),
                        1,
                    );
                }
                Field::Ctr => {
                    key(out);
                    write_ratio(out, m.clicks * 100, m.impressions.max(1), 1);
                }
                Field::Actions => {
                    key(out);
                    out.push_str(r#"[{"action_type":"link_click","value":""#);
                    push_u64(out, m.clicks * 9 / 10);
                    out.push_str(r#""},{"action_type":"landing_page_view","value":""#);
                    push_u64(out, m.clicks * 7 / 10);
                    out.push_str(r#""},{"action_type":"purchase","value":""#);
                    push_u64(out, m.purchases);
                    out.push_str(r#""}]"#);
                }
                Field::ActionValues => {
                    key(out);
                    out.push_str(r#"[{"action_type":"purchase","value":""#);
                    write_money(out, m.purchase_value, self.offset_units);
                    out.push_str("\"}]");
                }
            }
        }
        out.push('}');
    }
}

/// Appends the decimal digits of `n` (the hot path avoids `fmt` machinery).
pub(crate) fn push_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    for &b in buf.get(i..).unwrap_or_default() {
        out.push(char::from(b));
    }
}

/// Appends `n` zero-padded to `width` digits.
pub(crate) fn push_padded(out: &mut String, n: u64, width: usize) {
    let mut digits = 1;
    let mut rest = n / 10;
    while rest > 0 {
        digits += 1;
        rest /= 10;
    }
    for _ in digits..width {
        out.push('0');
    }
    push_u64(out, n);
}

/// Appends `"<n>"`.
fn push_quoted(out: &mut String, n: u64) {
    out.push('"');
    push_u64(out, n);
    out.push('"');
}

/// Money in minor units as Graph writes it: `12.34` (offset 100) or `1234` (offset 1).
fn write_money(out: &mut String, minor: u64, offset: i64) {
    if offset <= 1 {
        push_u64(out, minor);
    } else {
        let offset = u64::try_from(offset).unwrap_or(100);
        push_u64(out, minor / offset);
        out.push('.');
        push_padded(out, minor % offset, 2);
    }
}

/// `numerator / denominator` with six decimals, as a JSON string.
fn write_ratio(out: &mut String, numerator: u64, denominator: u64, scale: u64) {
    let denominator = denominator.max(1);
    let micros = u128::from(numerator) * 1_000_000 * u128::from(scale) / u128::from(denominator);
    out.push('"');
    push_u64(out, u64::try_from(micros / 1_000_000).unwrap_or(u64::MAX));
    out.push('.');
    push_padded(out, u64::try_from(micros % 1_000_000).unwrap_or(0), 6);
    out.push('"');
}

/// A JSON string literal.
fn write_json_string(out: &mut String, text: &str) {
    out.push_str(&serde_json::Value::String(text.to_owned()).to_string());
}
