//! `report/integrated/get/` (report_integrated_get.yml): a BASIC, AUCTION report of one advertiser at one
//! level, by day, with only the allowed metrics (MIN-1, MIN-4).

use custodian_core::data::ReportLevel;
use custodian_http::Request;
use secrecy::SecretString;
use time::Date;

use crate::client::Client;
use crate::convert::{format_date, level_params};
use crate::error::TikTokError;
use crate::wire::{PagedList, REPORT_METRICS, ReportRow};

/// One page of a daily report over `from..=to` (at most 30 days, §2.5).
pub(crate) async fn page(
    client: &Client,
    token: &SecretString,
    advertiser_id: &str,
    level: ReportLevel,
    from: Date,
    to: Date,
    page: u64,
) -> Result<PagedList<ReportRow>, TikTokError> {
    let url = client.endpoint("report/integrated/get/")?;
    let (data_level, id_dimension) = level_params(level);
    let dimensions = serde_json::json!([id_dimension, "stat_time_day"]).to_string();
    let metrics = serde_json::json!(REPORT_METRICS).to_string();
    let (from, to) = (format_date(from), format_date(to));
    let (page, page_size) = (page.to_string(), client.page_size.to_string());
    let request = Request::get(url)
        .query(&[
            ("advertiser_id", advertiser_id),
            ("report_type", "BASIC"),
            ("service_type", "AUCTION"),
            ("data_level", data_level),
            ("dimensions", &dimensions),
            ("metrics", &metrics),
            ("start_date", &from),
            ("end_date", &to),
            ("page", &page),
            ("page_size", &page_size),
        ])
        .secret_header("Access-Token", token);
    Ok(client.call::<PagedList<ReportRow>>(request).await?.data)
}
