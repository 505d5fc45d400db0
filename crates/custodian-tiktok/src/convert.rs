//! Wire → domain: campaigns, report rows and read-backs, with TikTok's text numbers (`"20.00"`, `"4696"`,
//! `"-"`) read exactly into micros and counts. A value that cannot be read is an error naming its field,
//! never a guess (AUTH-1: unclear data is not processed).

use custodian_core::approval::CampaignReadback;
use custodian_core::data::{
    Campaign, CampaignId, CampaignStatus, Currency, Metrics, ObjectId, ReportLevel, ReportRow, Text,
};
use custodian_core::ports::Target;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::wire;

/// A value that does not read: the field's path inside the item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unreadable(pub String);

fn bad(path: &str) -> Unreadable {
    Unreadable(path.to_owned())
}

/// A decimal text in millionths (`"20.00"` → 20,000,000; `"-"` and `""` → 0). Digits past the sixth
/// decimal are dropped.
pub(crate) fn micros(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() || text == "-" {
        return Some(0);
    }
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut frac: i64 = 0;
    for b in fraction.bytes().chain(std::iter::repeat(b'0')).take(6) {
        frac = frac * 10 + i64::from(b - b'0');
    }
    let value = whole.checked_mul(1_000_000)?.checked_add(frac)?;
    Some(if negative { -value } else { value })
}

/// A count text (`"4696"`, `"4696.0"`, `"-"` → 0); fractions are dropped, negatives refused.
pub(crate) fn count(text: &str) -> Option<u64> {
    let m = micros(text)?;
    u64::try_from(m / 1_000_000).ok()
}

/// A JSON number of currency units in micros.
pub(crate) fn money(value: f64) -> Option<i64> {
    let m = (value * 1_000_000.0).round();
    (m.is_finite() && m.abs() < 9.0e18).then_some(m as i64)
}

/// `YYYY-MM-DD` at the start of a text (`"2024-01-01 09:00:00"`).
pub(crate) fn date(text: &str) -> Option<Date> {
    let day = text.get(..10)?;
    let mut parts = day.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    Date::from_calendar_date(y.parse().ok()?, Month::try_from(m.parse::<u8>().ok()?).ok()?, d.parse().ok()?)
        .ok()
}

/// `YYYY-MM-DD HH:MM:SS`, taken as UTC.
pub(crate) fn datetime(text: &str) -> Option<OffsetDateTime> {
    let day = date(text)?;
    let clock = text.get(11..19)?;
    let mut parts = clock.splitn(3, ':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    let time = Time::from_hms(h.parse().ok()?, m.parse().ok()?, s.parse().ok()?).ok()?;
    Some(PrimitiveDateTime::new(day, time).assume_utc())
}

/// `YYYY-MM-DD`.
pub(crate) fn format_date(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// The status: deleted from `secondary_status`, else on or off from `operation_status`, else (older
/// answers such as §2.6 T1 carry no `operation_status`) from an enabled or disabled `secondary_status`.
fn status(c: &wire::Campaign) -> Result<CampaignStatus, Unreadable> {
    let secondary = c.secondary_status.as_deref();
    if secondary.is_some_and(|s| s.ends_with("_DELETE")) {
        return Ok(CampaignStatus::Deleted);
    }
    match (c.operation_status.as_deref(), secondary) {
        (Some("ENABLE"), _) | (None, Some("CAMPAIGN_STATUS_ENABLE")) => Ok(CampaignStatus::Active),
        (Some("DISABLE"), _) | (None, Some("CAMPAIGN_STATUS_DISABLE")) => Ok(CampaignStatus::Paused),
        _ => Err(bad("operation_status")),
    }
}

/// (daily, lifetime) budgets in micros from `budget_mode` and `budget`; unlimited budgets have neither.
fn budgets(c: &wire::Campaign) -> Result<(Option<i64>, Option<i64>), Unreadable> {
    let amount = || c.budget.and_then(money).ok_or_else(|| bad("budget"));
    match c.budget_mode.as_deref() {
        Some("BUDGET_MODE_DAY" | "BUDGET_MODE_DYNAMIC_DAILY_BUDGET") => Ok((Some(amount()?), None)),
        Some("BUDGET_MODE_TOTAL") => Ok((None, Some(amount()?))),
        Some("BUDGET_MODE_INFINITE") | None => Ok((None, None)),
        Some(_) => Err(bad("budget_mode")),
    }
}

/// Free text from the platform: control characters become spaces and it is cut at [`Text::MAX_CHARS`].
fn text(raw: &str, path: &str) -> Result<Text, Unreadable> {
    let clean: String =
        raw.chars().map(|c| if c.is_control() { ' ' } else { c }).take(Text::MAX_CHARS).collect();
    Text::new(clean).map_err(|_| bad(path))
}

/// A campaign of `target`'s account.
pub(crate) fn campaign(target: &Target, c: &wire::Campaign) -> Result<Campaign, Unreadable> {
    let (daily, lifetime) = budgets(c)?;
    let updated_at = match c.modify_time.as_deref() {
        Some(t) => datetime(t).ok_or_else(|| bad("modify_time"))?,
        None => OffsetDateTime::UNIX_EPOCH,
    };
    Ok(Campaign {
        tenant: target.tenant.clone(),
        grant: target.grant.clone(),
        account: target.account.clone(),
        id: CampaignId::new(c.campaign_id.0.clone()).map_err(|_| bad("campaign_id"))?,
        name: text(&c.campaign_name, "campaign_name")?,
        status: status(c)?,
        objective: c.objective_type.as_deref().map(|o| text(o, "objective_type")).transpose()?,
        daily_budget_micros: daily,
        lifetime_budget_micros: lifetime,
        updated_at,
    })
}

/// What a read-back shows: status and budgets (TikTok campaigns have no bid or schedule).
pub(crate) fn readback(c: &wire::Campaign) -> Result<CampaignReadback, Unreadable> {
    let (daily, lifetime) = budgets(c)?;
    Ok(CampaignReadback {
        status: Some(status(c)?),
        daily_budget_micros: daily,
        lifetime_budget_micros: lifetime,
        ..CampaignReadback::default()
    })
}

/// The report's `data_level` and id dimension for a level.
pub(crate) fn level_params(level: ReportLevel) -> (&'static str, &'static str) {
    match level {
        ReportLevel::Account => ("AUCTION_ADVERTISER", "advertiser_id"),
        ReportLevel::Campaign => ("AUCTION_CAMPAIGN", "campaign_id"),
        ReportLevel::AdGroup => ("AUCTION_ADGROUP", "adgroup_id"),
        ReportLevel::Ad => ("AUCTION_AD", "ad_id"),
    }
}

/// One report row of `target`'s account at `level`, in `currency` (the row is consumed: its id moves).
pub(crate) fn report_row(
    target: &Target,
    level: ReportLevel,
    currency: Currency,
    row: wire::ReportRow,
) -> Result<ReportRow, Unreadable> {
    let d = row.dimensions;
    let (object, path) = match level {
        ReportLevel::Account => (d.advertiser_id, "dimensions.advertiser_id"),
        ReportLevel::Campaign => (d.campaign_id, "dimensions.campaign_id"),
        ReportLevel::AdGroup => (d.adgroup_id, "dimensions.adgroup_id"),
        ReportLevel::Ad => (d.ad_id, "dimensions.ad_id"),
    };
    let object = ObjectId::new(object.ok_or_else(|| bad(path))?.0).map_err(|_| bad(path))?;
    let date = d.stat_time_day.ok_or_else(|| bad("dimensions.stat_time_day"))?.0;
    let m = row.metrics;
    let metrics = Metrics {
        spend_micros: m.spend.map_or(0, |v| v.0),
        impressions: m.impressions.map_or(0, |v| v.0),
        clicks: m.clicks.map_or(0, |v| v.0),
        conversions: m.conversion.map_or(0, |v| v.0),
        conversion_value_micros: m.total_complete_payment_rate.map_or(0, |v| v.0),
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

#[cfg(test)]
mod tests;
