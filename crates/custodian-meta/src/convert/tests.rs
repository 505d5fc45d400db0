//! Numbers, budgets, times, statuses and rows as Meta writes them.

use std::borrow::Cow;

use custodian_core::data::{CampaignStatus, Currency, ReportLevel};
use custodian_testkit::fixtures;
use time::macros::{date, datetime};

use super::*;
use crate::wire::{self, InsightsPage, Num};

fn text(s: &str) -> Num<'_> {
    Num::Text(Cow::Borrowed(s))
}

#[test]
fn decimals_become_micros() {
    let cases = [
        ("12.34", Some(12_340_000)),
        ("6608", Some(6_608_000_000)),
        ("0.000001", Some(1)),
        ("0.0000005", Some(1)),
        ("0.0000004", Some(0)),
        ("-1.5", Some(-1_500_000)),
        (".5", Some(500_000)),
        ("", None),
        ("1.2.3", None),
        ("1e3", None),
        ("abc", None),
    ];
    for (input, expect) in cases {
        assert_eq!(decimal_micros(input), expect, "{input}");
    }
    assert_eq!(count(&text("9708")), Some(9708));
    assert_eq!(count(&Num::Int(6608)), Some(6608));
    assert_eq!(count(&Num::Float(3.0)), Some(3));
    assert_eq!(count(&text("-1")), None);
}

#[test]
fn budgets_use_the_currency_offset_and_refuse_fractions() {
    let usd = Currency::new("USD").unwrap();
    let jpy = Currency::new("JPY").unwrap();
    assert_eq!(minor_to_micros(5000, &usd), Some(50_000_000));
    assert_eq!(minor_to_micros(5000, &jpy), Some(5_000_000_000));
    assert_eq!(micros_to_minor(50_000_000, &usd), Some(5000));
    assert_eq!(micros_to_minor(50_005_000, &usd), None, "half a cent");
    assert_eq!(micros_to_minor(1_000_000, &jpy), Some(1));
    assert_eq!(micros_to_minor(1_500_000, &jpy), None);
}

#[test]
fn graph_datetimes_parse_and_format() {
    assert_eq!(parse_datetime("2016-03-11T10:00:00-0800"), Some(datetime!(2016-03-11 18:00 UTC)));
    assert_eq!(parse_datetime("2016-03-11T18:00:00+00:00"), Some(datetime!(2016-03-11 18:00 UTC)));
    assert_eq!(parse_datetime("2016-03-11T18:00:00Z"), Some(datetime!(2016-03-11 18:00 UTC)));
    assert_eq!(parse_datetime("2016-03-11"), None);
    assert_eq!(parse_datetime("2016-03-11T25:00:00+0000"), None);
    assert_eq!(format_datetime(datetime!(2016-03-11 10:00 -8)), "2016-03-11T18:00:00+0000");
    assert_eq!(parse_date("2015-08-01"), Some(date!(2015 - 08 - 01)));
    assert_eq!(parse_date("2015-02-30"), None);
}

#[test]
fn text_is_sanitized_not_refused() {
    assert_eq!(super::text("Summer\nSale").unwrap().as_str(), "Summer Sale");
    assert_eq!(super::text(&"x".repeat(1500)).unwrap().as_str().len(), 1000);
    assert_eq!(campaign_status("ACTIVE"), Some(CampaignStatus::Active));
    assert_eq!(campaign_status("WITH_ISSUES"), None);
    assert_eq!(status_param(CampaignStatus::Archived), "ARCHIVED");
}

#[test]
fn rows_keep_only_the_allowed_metrics() {
    let body = br#"{"data":[{"ad_id":"6142546123068","date_start":"2025-01-02","date_stop":"2025-01-02",
        "account_currency":"EUR","spend":"12.34","impressions":"9708","clicks":"56","reach":"9000",
        "user_email":"someone@example.com",
        "actions":[{"action_type":"link_click","value":"50"},{"action_type":"purchase","value":6608,"1d_view":86,"1d_click":6510}],
        "action_values":[{"action_type":"purchase","value":"123.45"},{"action_type":"add_to_cart","value":"9.99"}]}],
        "paging":{"cursors":{"before":"MAZDZD","after":"MAZDZD"}}}"#;
    let page: InsightsPage<'_> = wire::decode(body).unwrap();
    let target = fixtures::target(
        &"tenant-1".parse().unwrap(),
        &"grant-1".parse().unwrap(),
        &custodian_core::platform::AccountRef::MetaAdAccount(
            custodian_core::platform::MetaAdAccountId::new("act_1").unwrap(),
        ),
    );
    let row = report_row(&target, ReportLevel::Ad, &page.data[0], &["purchase".to_owned()], None).unwrap();
    assert_eq!(row.object.as_str(), "6142546123068");
    assert_eq!(row.date, date!(2025 - 01 - 02));
    assert_eq!(row.currency.as_str(), "EUR");
    assert_eq!(row.metrics.spend_micros, 12_340_000);
    assert_eq!((row.metrics.impressions, row.metrics.clicks), (9708, 56));
    assert_eq!(row.metrics.conversions, 6608);
    assert_eq!(row.metrics.conversion_value_micros, 123_450_000);
    assert_eq!(row.level, ReportLevel::Ad);
    assert_eq!(row.tenant, target.tenant);

    let missing_id = report_row(&target, ReportLevel::Campaign, &page.data[0], &[], None);
    assert!(matches!(missing_id, Err(MetaError::Protocol(_))));
}
