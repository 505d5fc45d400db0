//! `GET report/integrated/get/`: synchronous BASIC reports (report_integrated_get.yml, §2.5), generated
//! row by row for the requested page only and written straight into the response body.
//!
//! Supported: `report_type=BASIC`, `service_type=AUCTION` (the default), the four auction `data_level`s,
//! `dimensions` = the level's id dimension plus at most one of `stat_time_day` (a range of at most 30
//! days) and `stat_time_hour` (one day), `metrics` from [`Metric`] (default `spend`, `impressions`),
//! `start_date`/`end_date`, `page`/`page_size` (at most 1000). Not simulated (answered with 40002):
//! other report types, `query_lifetime`, `filtering`, `advertiser_ids`/`bc_id`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::api::MAX_PAGE_SIZE;
use super::data::{self, DataLevel, Delivery, write_cents, write_day_hour, write_ratio};
use super::envelope::{ApiError, ApiResult, close_envelope, open_envelope, query_int, query_list, respond};
use super::{AdvertiserConfig, TikTokSim};

/// Scope 44 "Consolidated Report" (covered by 4 "Reporting").
const SCOPE_CONSOLIDATED_REPORT: u32 = 44;
/// Longest `stat_time_day` range, in days (§2.5 \[S\]).
const MAX_DAILY_SPAN: i32 = 30;

/// A metric the simulator knows; anything else is 40002.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metric {
    Spend,
    Impressions,
    Reach,
    Frequency,
    Clicks,
    Ctr,
    Cpc,
    Cpm,
    Conversion,
    CostPerConversion,
    ConversionRate,
    CompletePayment,
    TotalCompletePaymentRate,
    ValuePerCompletePayment,
    VideoPlayActions,
    VideoWatched2s,
    VideoWatched6s,
    Likes,
    Comments,
    Shares,
    Follows,
    ProfileVisits,
    AdvertiserName,
    CampaignName,
    CampaignId,
    ObjectiveType,
    AdgroupName,
    AdgroupId,
    AdName,
}

const METRICS: [(&str, Metric); 29] = [
    ("spend", Metric::Spend),
    ("impressions", Metric::Impressions),
    ("reach", Metric::Reach),
    ("frequency", Metric::Frequency),
    ("clicks", Metric::Clicks),
    ("ctr", Metric::Ctr),
    ("cpc", Metric::Cpc),
    ("cpm", Metric::Cpm),
    ("conversion", Metric::Conversion),
    ("cost_per_conversion", Metric::CostPerConversion),
    ("conversion_rate", Metric::ConversionRate),
    ("complete_payment", Metric::CompletePayment),
    ("total_complete_payment_rate", Metric::TotalCompletePaymentRate),
    ("value_per_complete_payment", Metric::ValuePerCompletePayment),
    ("video_play_actions", Metric::VideoPlayActions),
    ("video_watched_2s", Metric::VideoWatched2s),
    ("video_watched_6s", Metric::VideoWatched6s),
    ("likes", Metric::Likes),
    ("comments", Metric::Comments),
    ("shares", Metric::Shares),
    ("follows", Metric::Follows),
    ("profile_visits", Metric::ProfileVisits),
    ("advertiser_name", Metric::AdvertiserName),
    ("campaign_name", Metric::CampaignName),
    ("campaign_id", Metric::CampaignId),
    ("objective_type", Metric::ObjectiveType),
    ("adgroup_name", Metric::AdgroupName),
    ("adgroup_id", Metric::AdgroupId),
    ("ad_name", Metric::AdName),
];

impl Metric {
    /// Whether this (attribute) metric exists at `level`.
    fn fits(self, level: DataLevel) -> bool {
        match self {
            Metric::CampaignName | Metric::ObjectiveType => level != DataLevel::Advertiser,
            Metric::CampaignId | Metric::AdgroupName => matches!(level, DataLevel::AdGroup | DataLevel::Ad),
            Metric::AdgroupId | Metric::AdName => level == DataLevel::Ad,
            _ => true,
        }
    }
}

/// The time dimension of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeDimension {
    None,
    Day,
    Hour,
}

/// A validated report request.
struct ReportRequest {
    adv: usize,
    level: DataLevel,
    time: TimeDimension,
    metrics: Vec<(String, Metric)>,
    first_day: i32,
    /// Days with data: up to today.
    data_last_day: i32,
    page: u64,
    page_size: u64,
}

impl ReportRequest {
    /// Time slots with data (days, hours, or one for a range total).
    fn slots(&self) -> u64 {
        let days = u64::try_from(self.data_last_day - self.first_day + 1).unwrap_or(0);
        match self.time {
            TimeDimension::None => u64::from(days > 0),
            TimeDimension::Day => days,
            TimeDimension::Hour => days * 24,
        }
    }
}

fn parse(sim: &TikTokSim, headers: &HeaderMap, params: &HashMap<String, String>) -> ApiResult<ReportRequest> {
    let grant = sim.gate(headers, SCOPE_CONSOLIDATED_REPORT)?;
    for unsupported in ["advertiser_ids", "bc_id", "filtering"] {
        if params.contains_key(unsupported) {
            return Err(ApiError::param(format!("{unsupported}: Not supported by the simulator.")));
        }
    }
    let adv = sim.advertiser(&grant, params.get("advertiser_id").map(String::as_str))?;
    match params.get("report_type").map(String::as_str) {
        None => return Err(ApiError::missing("report_type")),
        Some("BASIC") => {}
        Some(other) => {
            return Err(ApiError::param(format!("report_type: {other} is not supported by the simulator.")));
        }
    }
    if params.get("service_type").is_some_and(|s| s != "AUCTION") {
        return Err(ApiError::param("service_type: Only AUCTION is supported by the simulator."));
    }
    let level = match params.get("data_level") {
        None => return Err(ApiError::missing("data_level")),
        Some(raw) => DataLevel::parse(raw).ok_or_else(|| {
            ApiError::param(
                "data_level: Must be one of: AUCTION_ADVERTISER, AUCTION_CAMPAIGN, AUCTION_ADGROUP, AUCTION_AD.",
            )
        })?,
    };
    let dimensions = query_list(params.get("dimensions"), "dimensions")?
        .filter(|d| !d.is_empty())
        .ok_or_else(|| ApiError::missing("dimensions"))?;
    let mut time = TimeDimension::None;
    let mut has_id = false;
    for dimension in &dimensions {
        match dimension.as_str() {
            d if d == level.id_dimension() && !has_id => has_id = true,
            "stat_time_day" if time == TimeDimension::None => time = TimeDimension::Day,
            "stat_time_hour" if time == TimeDimension::None => time = TimeDimension::Hour,
            other => {
                return Err(ApiError::param(format!(
                    "dimensions: {other} is not a valid dimension for this data_level and report_type."
                )));
            }
        }
    }
    if !has_id {
        return Err(ApiError::param(format!(
            "dimensions: {} is required for this data_level.",
            level.id_dimension()
        )));
    }
    let names = query_list(params.get("metrics"), "metrics")?
        .unwrap_or_else(|| vec!["spend".to_owned(), "impressions".to_owned()]);
    let mut metrics = Vec::with_capacity(names.len());
    let mut invalid = Vec::new();
    for name in names {
        match METRICS.iter().find(|(n, _)| *n == name) {
            Some((_, metric)) if metric.fits(level) => metrics.push((name, *metric)),
            _ => invalid.push(name),
        }
    }
    if !invalid.is_empty() {
        return Err(ApiError::param(format!("metrics: Invalid metric(s): {}.", invalid.join(", "))));
    }
    if params.get("query_lifetime").is_some_and(|v| v == "true") {
        return Err(ApiError::param("query_lifetime: Not supported by the simulator."));
    }
    let day = |name: &str| -> ApiResult<i32> {
        let raw = params.get(name).ok_or_else(|| ApiError::missing(name))?;
        data::parse_day(raw).ok_or_else(|| ApiError::param(format!("{name}: Not a valid date (YYYY-MM-DD).")))
    };
    let (first_day, last_day) = (day("start_date")?, day("end_date")?);
    if last_day < first_day {
        return Err(ApiError::param("end_date: Must be later than or equal to start_date."));
    }
    match time {
        TimeDimension::Day if last_day - first_day >= MAX_DAILY_SPAN => {
            return Err(ApiError::param(format!(
                "The time span cannot exceed {MAX_DAILY_SPAN} days when stat_time_day is a dimension."
            )));
        }
        TimeDimension::Hour if last_day != first_day => {
            return Err(ApiError::param(
                "The time span cannot exceed 1 day when stat_time_hour is a dimension.",
            ));
        }
        _ => {}
    }
    let page = query_int(params.get("page"), "page", 1, 1, 1_000_000_000)?;
    let page_size = query_int(params.get("page_size"), "page_size", 10, 1, MAX_PAGE_SIZE)?;
    let today = data::julian_of(sim.ctx.clock.now_unix());
    Ok(ReportRequest {
        adv,
        level,
        time,
        metrics,
        first_day,
        data_last_day: last_day.min(today),
        page,
        page_size,
    })
}

/// `GET report/integrated/get/` → `data.list[] = {dimensions, metrics}` and `data.page_info`.
pub(super) async fn integrated_get(
    State(sim): State<Arc<TikTokSim>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let result = parse(&sim, &headers, &params).map(|request| render(&sim, &request));
    respond(&sim, result)
}

fn render(sim: &TikTokSim, request: &ReportRequest) -> Response {
    let empty = AdvertiserConfig::new("0", "", "USD", 0);
    let adv = sim.config.advertisers.get(request.adv).unwrap_or(&empty);
    let objects = data::objects(adv, request.level);
    let total = objects * request.slots();
    let start = (request.page - 1).saturating_mul(request.page_size);
    let end = start.saturating_add(request.page_size).min(total);
    let rows = usize::try_from(end.saturating_sub(start)).unwrap_or(0);
    let mut out = open_envelope(sim, 0, "OK", rows * (80 + 24 * request.metrics.len()) + 128);
    out.push_str("{\"list\":[");
    let mut cache = PageCache::new(sim, request);
    for r in start..end {
        if r > start {
            out.push(',');
        }
        let (slot, k) = (r / objects.max(1), r % objects.max(1));
        write_row(sim, request, adv, &mut cache, &mut out, slot, k);
    }
    let _ = write!(
        out,
        "],\"page_info\":{{\"page\":{},\"page_size\":{},\"total_number\":{total},\"total_page\":{}}}}}",
        request.page,
        request.page_size,
        total.div_ceil(request.page_size)
    );
    close_envelope(out)
}

/// What rows of one page share: campaign names, looked up only when a report asks for `campaign_name`
/// (edits live in the state), and the last formatted time dimension.
struct PageCache {
    edited: HashMap<u64, String>,
    wanted: bool,
    /// The time slot and its formatted `stat_time_*` value.
    stamp: (u64, String),
}

impl PageCache {
    fn new(sim: &TikTokSim, request: &ReportRequest) -> Self {
        let wanted = request.metrics.iter().any(|(_, m)| *m == Metric::CampaignName);
        let edited = if wanted {
            sim.state().campaigns.iter().filter_map(|(id, e)| Some((*id, e.name.clone()?))).collect()
        } else {
            HashMap::new()
        };
        Self { edited, wanted, stamp: (0, String::new()) }
    }

    fn get(&self, sim: &TikTokSim, adv: usize, index: u32) -> String {
        if !self.wanted {
            return String::new();
        }
        let id = data::campaign_id(adv, index);
        self.edited
            .get(&id)
            .cloned()
            .unwrap_or_else(|| data::generate_campaign(sim.ctx.seed, adv, "", index).name)
    }
}

fn write_row(
    sim: &TikTokSim,
    request: &ReportRequest,
    adv: &AdvertiserConfig,
    cache: &mut PageCache,
    out: &mut String,
    slot: u64,
    k: u64,
) {
    let level = request.level;
    let seed = sim.ctx.seed;
    let day = request.first_day
        + i32::try_from(if request.time == TimeDimension::Hour { slot / 24 } else { slot }).unwrap_or(0);
    let hour = u8::try_from(slot % 24).unwrap_or(0);
    let d = match request.time {
        TimeDimension::None => {
            Delivery::over(seed, request.adv, level, k, request.first_day..=request.data_last_day)
        }
        TimeDimension::Day => Delivery::generate(seed, request.adv, level, k, day, None),
        TimeDimension::Hour => Delivery::generate(seed, request.adv, level, k, day, Some(hour)),
    };
    out.push_str("{\"dimensions\":{\"");
    out.push_str(level.id_dimension());
    out.push_str("\":\"");
    if level == DataLevel::Advertiser {
        out.push_str(&adv.id);
    } else {
        data::push_u64(out, data::object_id(request.adv, adv, level, k));
    }
    out.push('"');
    match request.time {
        TimeDimension::None => {}
        TimeDimension::Day | TimeDimension::Hour => {
            out.push_str(if request.time == TimeDimension::Day {
                ",\"stat_time_day\":\""
            } else {
                ",\"stat_time_hour\":\""
            });
            if cache.stamp.0 != slot || cache.stamp.1.is_empty() {
                let mut stamp = String::with_capacity(19);
                write_day_hour(&mut stamp, day, if request.time == TimeDimension::Day { 0 } else { hour });
                cache.stamp = (slot, stamp);
            }
            out.push_str(&cache.stamp.1);
            out.push('"');
        }
    }
    out.push_str("},\"metrics\":{");
    for (i, (name, metric)) in request.metrics.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(name);
        out.push_str("\":");
        write_metric(sim, request, adv, cache, out, *metric, &d, k);
    }
    out.push_str("}}");
}

#[expect(clippy::too_many_arguments, reason = "a row writer needs the whole row's context")]
fn write_metric(
    sim: &TikTokSim,
    request: &ReportRequest,
    adv: &AdvertiserConfig,
    cache: &PageCache,
    out: &mut String,
    metric: Metric,
    d: &Delivery,
    k: u64,
) {
    let n = |x: u64| u128::from(x);
    let campaign = data::campaign_of(adv, request.level, k);
    let groups = u64::from(adv.adgroups_per_campaign.max(1));
    let ads = u64::from(adv.ads_per_adgroup.max(1));
    out.push('"');
    match metric {
        Metric::Spend => write_cents(out, d.spend_cents),
        Metric::Impressions => push_int(out, d.impressions),
        Metric::Reach => push_int(out, d.reach),
        Metric::Frequency => write_ratio(out, n(d.impressions), n(d.reach)),
        Metric::Clicks => push_int(out, d.clicks),
        Metric::Ctr => write_ratio(out, n(d.clicks) * 100, n(d.impressions)),
        Metric::Cpc => write_ratio(out, n(d.spend_cents), n(d.clicks) * 100),
        Metric::Cpm => write_ratio(out, n(d.spend_cents) * 10, n(d.impressions)),
        Metric::Conversion | Metric::CompletePayment => push_int(out, d.conversions),
        Metric::CostPerConversion => write_ratio(out, n(d.spend_cents), n(d.conversions) * 100),
        Metric::ConversionRate => write_ratio(out, n(d.conversions) * 100, n(d.clicks)),
        Metric::TotalCompletePaymentRate => write_cents(out, d.value_cents),
        Metric::ValuePerCompletePayment => write_ratio(out, n(d.value_cents), n(d.conversions) * 100),
        Metric::VideoPlayActions => push_int(out, d.video_views),
        Metric::VideoWatched2s => push_int(out, d.video_views * 6 / 10),
        Metric::VideoWatched6s => push_int(out, d.video_views * 3 / 10),
        Metric::Likes => push_int(out, d.clicks / 3),
        Metric::Comments => push_int(out, d.clicks / 20),
        Metric::Shares => push_int(out, d.clicks / 30),
        Metric::Follows => push_int(out, d.clicks / 25),
        Metric::ProfileVisits => push_int(out, d.clicks / 4),
        Metric::AdvertiserName => push_escaped(out, &adv.name),
        Metric::CampaignName => push_escaped(out, &cache.get(sim, request.adv, campaign)),
        Metric::CampaignId => push_int(out, data::campaign_id(request.adv, campaign)),
        Metric::ObjectiveType => {
            out.push_str(data::generate_campaign(sim.ctx.seed, request.adv, "", campaign).objective_type);
        }
        Metric::AdgroupName => {
            let group = if request.level == DataLevel::Ad { k / ads } else { k };
            let _ = write!(out, "Ad group {:04}-{}", campaign, group % groups);
        }
        Metric::AdgroupId => push_int(out, data::object_id(request.adv, adv, DataLevel::AdGroup, k / ads)),
        Metric::AdName => {
            let _ = write!(out, "Ad {:04}-{}", campaign, k % (groups * ads));
        }
    }
    out.push('"');
}

fn push_int(out: &mut String, value: u64) {
    data::push_u64(out, value);
}

/// Writes a string's JSON escaping without the surrounding quotes (those are written by the caller).
fn push_escaped(out: &mut String, value: &str) {
    let quoted = serde_json::to_string(value).unwrap_or_default();
    out.push_str(quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or(""));
}
