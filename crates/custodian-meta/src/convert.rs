//! Graph payloads → domain records, and the few domain values Meta takes as parameters. Everything the
//! domain has no place for is dropped here (MIN-1).
//!
//! - Metrics: `spend` and `action_values` are decimal amounts in the account currency (`"12.34"`) → micros;
//!   `impressions`, `clicks` and action counts → integers; conversions are the `actions` (and their values
//!   the `action_values`) whose `action_type` is configured as a conversion (default `purchase`).
//! - Budgets are integers in the currency's minor unit (Meta's currency offset: 100, or 1 for the
//!   zero-decimal currencies below) → micros, and back (exactly, or the change is refused).
//! - Date-times look like `2016-03-11T10:00:00-0800` (offset without colon); `+00:00` and `Z` are read too.

use custodian_core::approval::CampaignReadback;
use custodian_core::data::{
    Campaign, CampaignId, CampaignStatus, Currency, Metrics, ObjectId, ReportLevel, ReportRow, Text,
};
use std::collections::BTreeSet;

use custodian_core::grant::{GrantEvidence, OwnerId};
use custodian_core::platform::{
    AccountRef, META_ADS_MANAGEMENT, META_ADS_READ, MetaAdAccountId, parse_scopes,
};
use custodian_core::ports::{PlatformError, Target};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::error::MetaError;
use crate::wire::{ActionStat, CampaignItem, DebugData, InsightRow, Num};

/// Currencies whose Meta offset is 1 (no minor unit in budgets); every other currency has offset 100.
/// From Meta's currency table (not in ads-apis.md; \[U\]).
const ZERO_DECIMAL: [&str; 11] =
    ["CLP", "COP", "CRC", "HUF", "ISK", "IDR", "JPY", "KRW", "PYG", "TWD", "VND"];

/// Minor units per unit of `currency` (Meta's offset).
pub(crate) fn minor_per_unit(currency: &Currency) -> i64 {
    if ZERO_DECIMAL.contains(&currency.as_str()) { 1 } else { 100 }
}

/// A budget in minor units as micros.
pub(crate) fn minor_to_micros(minor: i64, currency: &Currency) -> Option<i64> {
    minor.checked_mul(1_000_000 / minor_per_unit(currency))
}

/// Micros as a budget in minor units; `None` unless exact (a budget Meta cannot hold is refused, never
/// rounded).
pub(crate) fn micros_to_minor(micros: i64, currency: &Currency) -> Option<i64> {
    let per_minor = 1_000_000 / minor_per_unit(currency);
    (micros % per_minor == 0).then_some(micros / per_minor)
}

/// A decimal (`"12.34"`, `"-0.5"`, `"6608"`) as micros, rounded half away from zero past six decimals.
pub(crate) fn decimal_micros(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut micros = whole.checked_mul(1_000_000)?;
    let mut scale = 100_000;
    for (i, b) in fraction.bytes().enumerate() {
        let digit = i64::from(b - b'0');
        if i < 6 {
            micros = micros.checked_add(digit * scale)?;
            scale /= 10;
        } else {
            if i == 6 && digit >= 5 {
                micros = micros.checked_add(1)?;
            }
            break;
        }
    }
    Some(if negative { -micros } else { micros })
}

/// A count (`"9708"`, `9708`, `"3.0"`), rounded to the nearest integer; negative counts are refused.
pub(crate) fn count(num: &Num<'_>) -> Option<u64> {
    let micros = u64::try_from(decimal_micros(&num.text())?).ok()?;
    Some(micros.saturating_add(500_000) / 1_000_000)
}

/// An amount in currency units as micros.
pub(crate) fn amount_micros(num: &Num<'_>) -> Option<i64> {
    decimal_micros(&num.text())
}

/// `YYYY-MM-DD`.
pub(crate) fn parse_date(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return None;
    }
    let year: i32 = text.get(0..4)?.parse().ok()?;
    let month: u8 = text.get(5..7)?.parse().ok()?;
    let day: u8 = text.get(8..10)?.parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// `YYYY-MM-DD` of a date.
pub(crate) fn format_date(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// Graph's date-time: `2016-03-11T10:00:00-0800` (also `±HH:MM` and `Z`).
pub(crate) fn parse_datetime(text: &str) -> Option<OffsetDateTime> {
    let date = parse_date(text.get(0..10)?)?;
    if text.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    let mut clock = text.get(11..19)?.split(':').map(str::parse::<u8>);
    let time = Time::from_hms(clock.next()?.ok()?, clock.next()?.ok()?, clock.next()?.ok()?).ok()?;
    let zone = text.get(19..)?;
    let offset = if zone == "Z" {
        UtcOffset::UTC
    } else {
        let sign: i8 = match zone.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let digits: String = zone.get(1..)?.chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 {
            return None;
        }
        let hours: i8 = digits.get(0..2)?.parse().ok()?;
        let minutes: i8 = digits.get(2..4)?.parse().ok()?;
        UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()?
    };
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

/// A date-time as Graph takes it, in UTC: `2016-03-11T18:00:00+0000`.
pub(crate) fn format_datetime(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    format!("{}T{:02}:{:02}:{:02}+0000", format_date(at.date()), at.hour(), at.minute(), at.second())
}

/// Free text from Meta as [`Text`]: control characters become spaces, and it is cut at
/// [`Text::MAX_CHARS`] (a campaign name must not stop a sync).
pub(crate) fn text(raw: &str) -> Option<Text> {
    let cleaned: String =
        raw.chars().map(|c| if c.is_control() { ' ' } else { c }).take(Text::MAX_CHARS).collect();
    Text::new(cleaned).ok()
}

/// Meta's campaign `status` (`ACTIVE`, `PAUSED`, `ARCHIVED`, `DELETED`).
pub(crate) fn campaign_status(raw: &str) -> Option<CampaignStatus> {
    match raw {
        "ACTIVE" => Some(CampaignStatus::Active),
        "PAUSED" => Some(CampaignStatus::Paused),
        "ARCHIVED" => Some(CampaignStatus::Archived),
        "DELETED" => Some(CampaignStatus::Deleted),
        _ => None,
    }
}

/// The `status` parameter of a change.
pub(crate) fn status_param(status: CampaignStatus) -> &'static str {
    match status {
        CampaignStatus::Active => "ACTIVE",
        CampaignStatus::Paused => "PAUSED",
        CampaignStatus::Archived => "ARCHIVED",
        CampaignStatus::Deleted => "DELETED",
    }
}

fn protocol(what: &str) -> MetaError {
    MetaError::Protocol(what.to_owned())
}

/// The insights `level` of a report level.
pub(crate) fn level_param(level: ReportLevel) -> &'static str {
    match level {
        ReportLevel::Account => "account",
        ReportLevel::Campaign => "campaign",
        ReportLevel::AdGroup => "adset",
        ReportLevel::Ad => "ad",
    }
}

/// The id field of a report level's rows.
pub(crate) fn level_id_field(level: ReportLevel) -> &'static str {
    match level {
        ReportLevel::Account => "account_id",
        ReportLevel::Campaign => "campaign_id",
        ReportLevel::AdGroup => "adset_id",
        ReportLevel::Ad => "ad_id",
    }
}

fn sum_counts(stats: &[ActionStat<'_>], types: &[String]) -> Option<u64> {
    stats
        .iter()
        .filter(|s| types.iter().any(|t| *t == s.action_type))
        .try_fold(0u64, |acc, s| acc.checked_add(s.value.as_ref().map_or(Some(0), count)?))
}

fn sum_micros(stats: &[ActionStat<'_>], types: &[String]) -> Option<i64> {
    stats
        .iter()
        .filter(|s| types.iter().any(|t| *t == s.action_type))
        .try_fold(0i64, |acc, s| acc.checked_add(s.value.as_ref().map_or(Some(0), amount_micros)?))
}

/// One insights row of `level` as a [`ReportRow`] stamped with `target`.
pub(crate) fn report_row(
    target: &Target,
    level: ReportLevel,
    row: &InsightRow<'_>,
    conversion_types: &[String],
    fallback_currency: Option<&Currency>,
) -> Result<ReportRow, MetaError> {
    let object = match level {
        ReportLevel::Account => row
            .account_id
            .as_deref()
            .and_then(|id| MetaAdAccountId::new(id).ok())
            .map(|id| id.as_str().to_owned()),
        ReportLevel::Campaign => row.campaign_id.as_deref().map(str::to_owned),
        ReportLevel::AdGroup => row.adset_id.as_deref().map(str::to_owned),
        ReportLevel::Ad => row.ad_id.as_deref().map(str::to_owned),
    }
    .ok_or_else(|| protocol("an insights row lacks its level's id"))?;
    let object = ObjectId::new(object).map_err(|_| protocol("an insights row has an invalid object id"))?;
    let date =
        parse_date(&row.date_start).ok_or_else(|| protocol("an insights row has an invalid date_start"))?;
    let currency = match row.account_currency.as_deref() {
        Some(code) => Currency::new(code).map_err(|_| protocol("an insights row has an invalid currency"))?,
        None => *fallback_currency.ok_or_else(|| protocol("an insights row has no currency"))?,
    };
    let bad = |field: &str| protocol(&format!("an insights row has an invalid `{field}`"));
    let metrics = Metrics {
        spend_micros: row.spend.as_ref().map_or(Some(0), amount_micros).ok_or_else(|| bad("spend"))?,
        impressions: row.impressions.as_ref().map_or(Some(0), count).ok_or_else(|| bad("impressions"))?,
        clicks: row.clicks.as_ref().map_or(Some(0), count).ok_or_else(|| bad("clicks"))?,
        conversions: sum_counts(&row.actions, conversion_types).ok_or_else(|| bad("actions"))?,
        conversion_value_micros: sum_micros(&row.action_values, conversion_types)
            .ok_or_else(|| bad("action_values"))?,
    };
    Ok(ReportRow {
        tenant: target.tenant.clone(),
        grant: target.grant.clone(),
        account: target.account.clone(),
        level,
        object,
        date,
        currency,
        metrics,
    })
}

fn budget(raw: Option<&crate::wire::Amount>, currency: &Currency) -> Result<Option<i64>, MetaError> {
    match raw {
        None => Ok(None),
        Some(amount) => {
            let minor: i64 =
                amount.0.trim().parse().map_err(|_| protocol("a campaign budget is not an integer"))?;
            if minor <= 0 {
                // Meta reports "0" for the budget type a campaign does not use.
                return Ok(None);
            }
            minor_to_micros(minor, currency)
                .map(Some)
                .ok_or_else(|| protocol("a campaign budget is too large"))
        }
    }
}

/// A campaign of the listing as a [`Campaign`] stamped with `target`.
pub(crate) fn campaign(
    target: &Target,
    item: &CampaignItem,
    currency: &Currency,
) -> Result<Campaign, MetaError> {
    let id = item.id.as_ref().ok_or_else(|| protocol("a campaign has no id"))?;
    let id = CampaignId::new(id.0.clone()).map_err(|_| protocol("a campaign id is invalid"))?;
    let name =
        text(item.name.as_deref().unwrap_or("")).ok_or_else(|| protocol("a campaign name is invalid"))?;
    let status = item
        .status
        .as_deref()
        .and_then(campaign_status)
        .ok_or_else(|| protocol("a campaign has an unknown status"))?;
    let updated_at = item
        .updated_time
        .as_deref()
        .and_then(parse_datetime)
        .ok_or_else(|| protocol("a campaign has no valid updated_time"))?;
    Ok(Campaign {
        tenant: target.tenant.clone(),
        grant: target.grant.clone(),
        account: target.account.clone(),
        id,
        name,
        status,
        objective: item.objective.as_deref().and_then(text),
        daily_budget_micros: budget(item.daily_budget.as_ref(), currency)?,
        lifetime_budget_micros: budget(item.lifetime_budget.as_ref(), currency)?,
        updated_at,
    })
}

/// `GET /{campaign_id}` as a read-back (CAM-2). Bids live on ad sets in Meta, so `bid_micros` is `None`;
/// no `stop_time` means the campaign runs without an end.
pub(crate) fn readback(item: &CampaignItem, currency: &Currency) -> Result<CampaignReadback, MetaError> {
    let time = |raw: Option<&str>| -> Result<Option<OffsetDateTime>, MetaError> {
        match raw {
            None => Ok(None),
            Some(raw) => parse_datetime(raw).map(Some).ok_or_else(|| protocol("a campaign time is invalid")),
        }
    };
    Ok(CampaignReadback {
        status: match item.status.as_deref() {
            None => None,
            Some(raw) => {
                Some(campaign_status(raw).ok_or_else(|| protocol("a campaign has an unknown status"))?)
            }
        },
        daily_budget_micros: budget(item.daily_budget.as_ref(), currency)?,
        lifetime_budget_micros: budget(item.lifetime_budget.as_ref(), currency)?,
        bid_micros: None,
        schedule_start: time(item.start_time.as_deref())?,
        schedule_end: Some(time(item.stop_time.as_deref())?),
    })
}

fn expiry(unix: Option<i64>) -> Result<Option<OffsetDateTime>, MetaError> {
    match unix {
        None | Some(0) => Ok(None),
        Some(t) => OffsetDateTime::from_unix_timestamp(t)
            .map(Some)
            .map_err(|_| protocol("debug_token has an invalid time")),
    }
}

/// What `debug_token` says, checked (AUTH-2): valid, of app `app_id`, naming a user, and neither the
/// token nor its data access expired at `now`. The evidence lists the scopes and the ad accounts of the
/// ads scopes' `target_ids`; the flag says an ads scope came without `target_ids` (every account it
/// reaches, to be listed separately). `expires_at` 0 means "never".
pub(crate) fn evidence(
    data: &DebugData,
    app_id: &str,
    now: OffsetDateTime,
) -> Result<(GrantEvidence, bool), PlatformError> {
    if !data.is_valid {
        let (code, subcode) = data.error.as_ref().map_or((None, None), |e| (e.code, e.subcode));
        return Err(MetaError::TokenInvalid { code, subcode }.into());
    }
    if data.app_id.as_ref().map(|id| id.0.as_str()) != Some(app_id) {
        return Err(PlatformError::Unauthorized { detail: "the token belongs to another app".to_owned() });
    }
    let user = data.user_id.as_ref().ok_or_else(|| protocol("debug_token names no user"))?;
    let owner = OwnerId::new(user.0.clone()).map_err(|_| protocol("debug_token user id is invalid"))?;
    let expires_at = expiry(data.expires_at)?;
    if expires_at.is_some_and(|t| t <= now) {
        return Err(PlatformError::Unauthorized { detail: "the token has expired".to_owned() });
    }
    let data_access_expires_at = expiry(data.data_access_expires_at)?;
    if data_access_expires_at.is_some_and(|t| t <= now) {
        return Err(PlatformError::Unauthorized { detail: "the app's data access has expired".to_owned() });
    }
    let (scopes, _rejected) = parse_scopes(data.scopes.iter().map(String::as_str));
    let mut accounts = BTreeSet::new();
    let mut list_all = false;
    for granular in data
        .granular_scopes
        .iter()
        .filter(|g| [META_ADS_READ, META_ADS_MANAGEMENT].contains(&g.scope.as_str()))
    {
        match &granular.target_ids {
            Some(ids) => accounts.extend(
                ids.iter()
                    .filter_map(|id| MetaAdAccountId::new(id.0.clone()).ok())
                    .map(AccountRef::MetaAdAccount),
            ),
            None => list_all = true,
        }
    }
    let evidence =
        GrantEvidence { owner, accounts, scopes, expires_at, data_access_expires_at, validated_at: now };
    Ok((evidence, list_all))
}

#[cfg(test)]
mod tests;
