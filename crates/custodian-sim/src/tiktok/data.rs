//! Deterministic TikTok data: ids of campaigns, ad groups and ads, generated campaigns, report objects and
//! their daily or hourly metrics, all pure functions of the seed and the coordinates.

use std::fmt::Write as _;

use time::{Date, Month, OffsetDateTime};

use super::AdvertiserConfig;
use crate::seed;

/// Ids are `base + advertiser × 10¹² + local index`, so they are 19-digit numbers like TikTok's and a
/// campaign id tells its advertiser and index.
const CAMPAIGN_BASE: u64 = 1_800_000_000_000_000_000;
const ADGROUP_BASE: u64 = 1_810_000_000_000_000_000;
const AD_BASE: u64 = 1_820_000_000_000_000_000;
const ADVERTISER_STRIDE: u64 = 1_000_000_000_000;
/// Local indexes of ad groups (campaign × 1000 + group) and ads ((campaign × 1000 + group) × 1000 + ad).
const CHILD_STRIDE: u64 = 1000;

/// A campaign's delivery status as `operation_status` and `secondary_status` show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignStatus {
    Enable,
    Disable,
    Delete,
}

impl CampaignStatus {
    /// `operation_status` (a deleted campaign is off).
    pub fn operation_status(self) -> &'static str {
        match self {
            CampaignStatus::Enable => "ENABLE",
            CampaignStatus::Disable | CampaignStatus::Delete => "DISABLE",
        }
    }

    /// `secondary_status`.
    pub fn secondary_status(self) -> &'static str {
        match self {
            CampaignStatus::Enable => "CAMPAIGN_STATUS_ENABLE",
            CampaignStatus::Disable => "CAMPAIGN_STATUS_DISABLE",
            CampaignStatus::Delete => "CAMPAIGN_STATUS_DELETE",
        }
    }
}

/// A campaign as the platform holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimCampaign {
    pub id: u64,
    pub advertiser_id: String,
    pub name: String,
    pub objective_type: &'static str,
    /// `BUDGET_MODE_DAY`, `BUDGET_MODE_TOTAL` or `BUDGET_MODE_INFINITE`.
    pub budget_mode: &'static str,
    /// In millionths of the account currency; 0 for an unlimited budget.
    pub budget_micros: i64,
    pub status: CampaignStatus,
    /// Unix seconds.
    pub create_time: i64,
    pub modify_time: i64,
}

/// A report's `data_level` (report_integrated_get.yml `ReportDataLevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataLevel {
    Advertiser,
    Campaign,
    AdGroup,
    Ad,
}

impl DataLevel {
    /// Parses the auction levels (reservation levels are not simulated).
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "AUCTION_ADVERTISER" => DataLevel::Advertiser,
            "AUCTION_CAMPAIGN" => DataLevel::Campaign,
            "AUCTION_ADGROUP" => DataLevel::AdGroup,
            "AUCTION_AD" => DataLevel::Ad,
            _ => return None,
        })
    }

    /// The id dimension of the level.
    pub fn id_dimension(self) -> &'static str {
        match self {
            DataLevel::Advertiser => "advertiser_id",
            DataLevel::Campaign => "campaign_id",
            DataLevel::AdGroup => "adgroup_id",
            DataLevel::Ad => "ad_id",
        }
    }

    fn tag(self) -> u64 {
        match self {
            DataLevel::Advertiser => 1,
            DataLevel::Campaign => 2,
            DataLevel::AdGroup => 3,
            DataLevel::Ad => 4,
        }
    }
}

pub(super) fn campaign_id(adv: usize, index: u32) -> u64 {
    CAMPAIGN_BASE + adv as u64 * ADVERTISER_STRIDE + u64::from(index)
}

/// The advertiser index and campaign index of a campaign id.
pub(super) fn split_campaign_id(id: u64) -> Option<(usize, u32)> {
    let local = id.checked_sub(CAMPAIGN_BASE)?;
    let adv = usize::try_from(local / ADVERTISER_STRIDE).ok()?;
    let index = u32::try_from(local % ADVERTISER_STRIDE).ok()?;
    Some((adv, index))
}

/// How many objects of `level` the advertiser has.
pub(super) fn objects(adv: &AdvertiserConfig, level: DataLevel) -> u64 {
    let campaigns = u64::from(adv.campaigns);
    match level {
        DataLevel::Advertiser => 1,
        DataLevel::Campaign => campaigns,
        DataLevel::AdGroup => campaigns * u64::from(adv.adgroups_per_campaign),
        DataLevel::Ad => campaigns * u64::from(adv.adgroups_per_campaign) * u64::from(adv.ads_per_adgroup),
    }
}

/// The id of object `k` of `level` (in the order of [`objects`]).
pub(super) fn object_id(adv_index: usize, adv: &AdvertiserConfig, level: DataLevel, k: u64) -> u64 {
    let adv_part = adv_index as u64 * ADVERTISER_STRIDE;
    let groups = u64::from(adv.adgroups_per_campaign.max(1));
    let ads = u64::from(adv.ads_per_adgroup.max(1));
    match level {
        DataLevel::Advertiser => adv.id.parse().unwrap_or(0),
        DataLevel::Campaign => CAMPAIGN_BASE + adv_part + k,
        DataLevel::AdGroup => ADGROUP_BASE + adv_part + (k / groups) * CHILD_STRIDE + k % groups,
        DataLevel::Ad => {
            let group = k / ads;
            let local_group = (group / groups) * CHILD_STRIDE + group % groups;
            AD_BASE + adv_part + local_group * CHILD_STRIDE + k % ads
        }
    }
}

/// The campaign index object `k` of `level` belongs to (for attribute metrics).
pub(super) fn campaign_of(adv: &AdvertiserConfig, level: DataLevel, k: u64) -> u32 {
    let groups = u64::from(adv.adgroups_per_campaign.max(1));
    let ads = u64::from(adv.ads_per_adgroup.max(1));
    let index = match level {
        DataLevel::Advertiser => 0,
        DataLevel::Campaign => k,
        DataLevel::AdGroup => k / groups,
        DataLevel::Ad => k / ads / groups,
    };
    u32::try_from(index).unwrap_or(u32::MAX)
}

const OBJECTIVES: [&str; 6] =
    ["TRAFFIC", "CONVERSIONS", "REACH", "VIDEO_VIEWS", "APP_PROMOTION", "LEAD_GENERATION"];
const NAMES: [&str; 8] = [
    "Spring Sale",
    "Brand Lift",
    "Retargeting",
    "Prospecting",
    "Holiday",
    "App Installs",
    "Catalog",
    "Launch",
];
/// 2024-01-01 00:00:00 UTC: generated campaigns were created from then on, one hour apart.
const CREATED_FROM: i64 = 1_704_067_200;

/// Campaign `index` of advertiser `adv` as generated (no edits).
pub(super) fn generate_campaign(seed: u64, adv: usize, advertiser_id: &str, index: u32) -> SimCampaign {
    let mut draw = seed::Stream::new(seed, &[seed::text("tiktok-campaign"), adv as u64, u64::from(index)]);
    let objective_type =
        OBJECTIVES.get(draw.below(OBJECTIVES.len() as u64) as usize).copied().unwrap_or("TRAFFIC");
    let name = NAMES.get(draw.below(NAMES.len() as u64) as usize).copied().unwrap_or("Campaign");
    let (budget_mode, budget_micros) = match index % 3 {
        0 => ("BUDGET_MODE_DAY", i64::try_from(50 + draw.below(451)).unwrap_or(50) * 1_000_000),
        1 => ("BUDGET_MODE_TOTAL", i64::try_from(1_000 + draw.below(9_001)).unwrap_or(1_000) * 1_000_000),
        _ => ("BUDGET_MODE_INFINITE", 0),
    };
    let status = if draw.below(5) == 0 { CampaignStatus::Disable } else { CampaignStatus::Enable };
    let create_time = CREATED_FROM + i64::from(index) * 3600;
    SimCampaign {
        id: campaign_id(adv, index),
        advertiser_id: advertiser_id.to_owned(),
        name: format!("{name} {index:04}"),
        objective_type,
        budget_mode,
        budget_micros,
        status,
        create_time,
        modify_time: create_time,
    }
}

/// Delivery metrics of one object in one period (a day, or an hour when `hour` is set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Delivery {
    pub impressions: u64,
    pub reach: u64,
    pub clicks: u64,
    /// Cents of the account currency.
    pub spend_cents: u64,
    pub conversions: u64,
    pub value_cents: u64,
    pub video_views: u64,
}

impl Delivery {
    pub(super) fn generate(
        seed: u64,
        adv: usize,
        level: DataLevel,
        k: u64,
        day: i32,
        hour: Option<u8>,
    ) -> Self {
        let h = seed::value(
            seed,
            &[adv as u64, level.tag(), k, u64::from(day.unsigned_abs()), u64::from(hour.unwrap_or(24))],
        );
        let scale = if hour.is_some() { 24 } else { 1 };
        let impressions = (100 + h % 10_000) / scale + 1;
        let reach = impressions * (60 + (h >> 8) % 35) / 100 + 1;
        let clicks = ((h >> 16) % 1_000) * impressions / 20_000;
        let spend_cents = impressions * (50 + (h >> 26) % 300) / 1_000;
        let conversions = clicks * ((h >> 36) % 20) / 100;
        let value_cents = conversions * (1_000 + (h >> 44) % 9_000);
        let video_views = impressions * ((h >> 56) % 50) / 100;
        Self { impressions, reach, clicks, spend_cents, conversions, value_cents, video_views }
    }

    fn add(&mut self, other: &Delivery) {
        self.impressions += other.impressions;
        self.reach += other.reach;
        self.clicks += other.clicks;
        self.spend_cents += other.spend_cents;
        self.conversions += other.conversions;
        self.value_cents += other.value_cents;
        self.video_views += other.video_views;
    }

    /// The sum over `days` (for reports without a time dimension).
    pub(super) fn over(
        seed: u64,
        adv: usize,
        level: DataLevel,
        k: u64,
        days: std::ops::RangeInclusive<i32>,
    ) -> Self {
        let mut total = Delivery::default();
        for day in days {
            total.add(&Delivery::generate(seed, adv, level, k, day, None));
        }
        total
    }
}

/// Writes an unsigned integer without the formatting machinery (report pages write millions of them).
pub(super) fn push_u64(out: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        if let Some(d) = digits.get_mut(at) {
            *d = b'0' + (value % 10) as u8;
        }
        value /= 10;
        if value == 0 || at == 0 {
            break;
        }
    }
    for d in digits.get(at..).unwrap_or_default() {
        out.push(char::from(*d));
    }
}

/// Writes `hundredths` as a decimal with two places.
fn push_hundredths(out: &mut String, hundredths: u64) {
    push_u64(out, hundredths / 100);
    out.push('.');
    let rest = hundredths % 100;
    out.push(char::from(b'0' + (rest / 10) as u8));
    out.push(char::from(b'0' + (rest % 10) as u8));
}

/// Writes `cents` as a decimal with two places (`"20.00"`).
pub(super) fn write_cents(out: &mut String, cents: u64) {
    push_hundredths(out, cents);
}

/// Writes `num / den` with two places, or `-` when `den` is 0 (§2.6: `"-"` for empty metrics).
pub(super) fn write_ratio(out: &mut String, num: u128, den: u128) {
    if den == 0 {
        out.push('-');
        return;
    }
    let hundredths = (num * 100 + den / 2) / den;
    push_hundredths(out, u64::try_from(hundredths).unwrap_or(u64::MAX));
}

/// Parses `YYYY-MM-DD` into a Julian day number.
pub(super) fn parse_day(raw: &str) -> Option<i32> {
    let mut parts = raw.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok().map(Date::to_julian_day)
}

/// Writes a Julian day as `YYYY-MM-DD HH:00:00`.
pub(super) fn write_day_hour(out: &mut String, julian: i32, hour: u8) {
    if let Ok(date) = Date::from_julian_day(julian) {
        let (y, m, d) = date.to_calendar_date();
        let _ = write!(out, "{y:04}-{:02}-{d:02} {hour:02}:00:00", u8::from(m));
    }
}

/// The UTC day (Julian) of unix time `unix`.
pub(super) fn julian_of(unix: i64) -> i32 {
    OffsetDateTime::from_unix_timestamp(unix).map_or(0, |t| t.date().to_julian_day())
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS` (UTC).
pub(super) fn datetime(unix: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => "1970-01-01 00:00:00".to_owned(),
    }
}
