//! Every example payload of the operations the adapter uses (ads-apis.md §2.6 T1–T6 and the payloads
//! constructed from the official response rules, `tests/fixtures/README.md`) parses through the wire types
//! and converts; unknown fields are dropped (MIN-1).

use custodian_core::data::{CampaignStatus, Currency, ReportLevel};
use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, TikTokAdvertiserId};
use custodian_core::ports::Target;
use custodian_core::tenant::TenantId;
use secrecy::ExposeSecret as _;
use serde::de::DeserializeOwned;

use super::*;
use crate::convert;

fn target() -> Target {
    Target {
        tenant: TenantId::new("tenant-1").unwrap(),
        grant: GrantId::new("grant-1").unwrap(),
        account: AccountRef::TikTokAdvertiser(TikTokAdvertiserId::new("7000000000000000001").unwrap()),
    }
}

#[track_caller]
fn parse<T: DeserializeOwned>(fixture: &str) -> Envelope<T> {
    serde_json::from_str(fixture).unwrap_or_else(|error| panic!("fixture does not parse: {error}"))
}

#[test]
fn t1_campaign_list_with_numeric_ids_converts() {
    let envelope: Envelope<PagedList<Campaign>> =
        parse(include_str!("../../tests/fixtures/t1_campaign_get.json"));
    assert_eq!(envelope.code, 0);
    assert_eq!((envelope.data.page_info.page, envelope.data.page_info.total_page), (1, 1));
    let wire = &envelope.data.list[0];
    assert_eq!(wire.campaign_id, FlexId("123456789".to_owned()), "numeric ids read as text");
    let campaign = convert::campaign(&target(), wire).unwrap();
    assert_eq!(campaign.id.as_str(), "123456789");
    assert_eq!(campaign.name.as_str(), "Test Campaign");
    assert_eq!(campaign.daily_budget_micros, Some(100_000_000));
    assert_eq!(campaign.lifetime_budget_micros, None);
    assert_eq!(campaign.objective.as_ref().map(|o| o.as_str()), Some("TRAFFIC"));
    assert_eq!(campaign.updated_at, time::macros::datetime!(2024-01-01 12:00:00 UTC));
    assert_eq!(campaign.status, CampaignStatus::Active, "from secondary_status: T1 has no operation_status");
}

#[test]
fn every_campaign_field_of_the_official_model_parses_and_the_rest_is_dropped() {
    let envelope: Envelope<PagedList<Campaign>> =
        parse(include_str!("../../tests/fixtures/campaign_get_all_fields.json"));
    let wire = &envelope.data.list[0];
    let campaign = convert::campaign(&target(), wire).unwrap();
    assert_eq!(campaign.status, CampaignStatus::Paused);
    assert_eq!(campaign.lifetime_budget_micros, Some(2_500_500_000));
    assert_eq!(campaign.daily_budget_micros, None);
    assert_eq!(campaign.updated_at, time::macros::datetime!(2024-02-03 04:05:06 UTC));
    let kept = format!("{wire:?}");
    for dropped in ["po_number", "PO-1", "HOUSING", "sales_destination", "app_promotion_type"] {
        assert!(!kept.contains(dropped), "`{dropped}` is kept: {kept}");
    }
}

#[test]
fn t2_hourly_report_metrics_read_exactly_and_an_hourly_row_has_no_day() {
    let envelope: Envelope<PagedList<ReportRow>> =
        parse(include_str!("../../tests/fixtures/t2_report_hourly.json"));
    let row = &envelope.data.list[0];
    assert_eq!(row.dimensions.campaign_id, Some(FlexId("11111111".to_owned())));
    assert_eq!(row.metrics.spend, Some(Money(20_000_000)));
    assert_eq!(row.metrics.impressions, Some(Count(4696)));
    assert_eq!(row.metrics.clicks, Some(Count(51)));
    let row = envelope.data.list.into_iter().next().unwrap();
    let converted = convert::report_row(&target(), ReportLevel::Campaign, Currency::new("USD").unwrap(), row);
    assert_eq!(converted.unwrap_err().0, "dimensions.stat_time_day", "the adapter asks for days only");
}

#[test]
fn daily_report_rows_convert_with_dashes_numbers_and_six_decimals() {
    let envelope: Envelope<PagedList<ReportRow>> =
        parse(include_str!("../../tests/fixtures/report_daily.json"));
    let usd = Currency::new("USD").unwrap();
    let rows: Vec<_> = envelope
        .data
        .list
        .into_iter()
        .map(|r| convert::report_row(&target(), ReportLevel::Campaign, usd, r).unwrap())
        .collect();
    assert_eq!(rows[0].object.as_str(), "11111111");
    assert_eq!(rows[0].date, time::macros::date!(2024 - 01 - 01));
    assert_eq!(
        (rows[0].metrics.spend_micros, rows[0].metrics.impressions, rows[0].metrics.clicks),
        (20_000_000, 4696, 51)
    );
    assert_eq!(rows[0].metrics.conversions, 0, "`-` is an empty metric");
    assert_eq!(rows[0].metrics.conversion_value_micros, 12_345_678);
    assert_eq!(rows[1].object.as_str(), "11111111", "a numeric id reads the same");
    assert_eq!((rows[1].metrics.spend_micros, rows[1].metrics.conversions), (7_500_000, 1));
    assert_eq!(rows[1].currency, usd);
}

#[test]
fn t3_exchange_gives_the_token_advertisers_and_scopes() {
    let envelope: Envelope<TokenData> = parse(include_str!("../../tests/fixtures/t3_access_token.json"));
    assert_eq!(envelope.data.access_token.expose_secret(), "xxxx");
    assert_eq!(envelope.data.advertiser_ids, [FlexId("7000000000000000001".to_owned())]);
    let scopes: Vec<&str> = envelope.data.scope.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(scopes, ["4", "200", "100"]);
}

#[test]
fn t4_advertiser_get_and_advertiser_info_parse() {
    let envelope: Envelope<List<Advertiser>> =
        parse(include_str!("../../tests/fixtures/t4_advertiser_get.json"));
    assert_eq!(envelope.data.list[0].advertiser_id.0, "7000000000000000001");
    let envelope: Envelope<List<AdvertiserInfo>> =
        parse(include_str!("../../tests/fixtures/advertiser_info.json"));
    assert_eq!(envelope.data.list[0].currency, "USD");
}

#[test]
fn campaign_update_answers_parse() {
    let envelope: Envelope<StatusUpdate> =
        parse(include_str!("../../tests/fixtures/campaign_status_update.json"));
    assert_eq!(envelope.code, 20001);
    assert_eq!(envelope.data.error_list[0].campaign_id.0, "1800000000000000002");
    assert_eq!(envelope.data.error_list[0].error_message.as_deref(), Some("Campaign does not exist."));
    let envelope: Envelope<Ignored> = parse(include_str!("../../tests/fixtures/campaign_update.json"));
    assert_eq!(envelope.code, 0);
}

#[test]
fn t5_and_t6_errors_read_through_the_envelope_head() {
    for (fixture, code) in [
        (include_str!("../../tests/fixtures/t5_empty_token.json"), 40104),
        (include_str!("../../tests/fixtures/t6_rate_limit.json"), 40100),
    ] {
        assert!(
            serde_json::from_str::<Envelope<PagedList<Campaign>>>(fixture).is_err(),
            "`data: {{}}` is no page"
        );
        assert_eq!(serde_json::from_str::<EnvelopeHead>(fixture).unwrap().code, code);
    }
}

#[test]
fn ids_metrics_and_days_read_exactly_or_fail_at_their_path() {
    assert!(serde_json::from_str::<FlexId>("1.5").is_err());
    assert!(serde_json::from_str::<FlexId>("true").is_err());
    for (json, micros) in [
        (r#""20.00""#, Some(20_000_000)),
        ("1.5", Some(1_500_000)),
        ("7", Some(7_000_000)),
        (r#""-""#, Some(0)),
        (r#""n/a""#, None),
        ("null", None),
    ] {
        assert_eq!(serde_json::from_str::<Money>(json).ok(), micros.map(Money), "{json}");
    }
    for (json, count) in [
        (r#""4696""#, Some(4696)),
        ("12", Some(12)),
        ("12.7", Some(12)),
        (r#""-""#, Some(0)),
        (r#""-3""#, None),
        ("-3", None),
    ] {
        assert_eq!(serde_json::from_str::<Count>(json).ok(), count.map(Count), "{json}");
    }
    assert_eq!(
        serde_json::from_str::<Day>(r#""2024-01-01 00:00:00""#).unwrap().0,
        time::macros::date!(2024 - 01 - 01)
    );
    assert!(serde_json::from_str::<Day>(r#""yesterday""#).is_err());
    let bad = r#"{"code":0,"data":{"list":[{"dimensions":{"campaign_id":"1","stat_time_day":"2024-01-01"},"metrics":{"spend":"lots"}}],"page_info":{"page":1,"total_page":1}}}"#;
    let response = custodian_http::Response {
        status: 200,
        headers: custodian_http::HeaderMap::new(),
        body: bad.as_bytes().to_vec().into(),
    };
    let error = response.json::<Envelope<PagedList<ReportRow>>>().err().unwrap();
    assert_eq!(error.path, "data.list[0].metrics.spend");
    assert!(!format!("{error}").contains("lots"), "the value is never echoed");
}

#[test]
fn request_bodies_hold_only_what_the_change_needs() {
    let body = BudgetUpdateBody { advertiser_id: "7", campaign_id: "18", budget: 60.5 };
    assert_eq!(
        serde_json::to_string(&body).unwrap(),
        r#"{"advertiser_id":"7","campaign_id":"18","budget":60.5}"#
    );
    let body = StatusUpdateBody { advertiser_id: "7", campaign_ids: ["18"], operation_status: "DISABLE" };
    assert_eq!(
        serde_json::to_string(&body).unwrap(),
        r#"{"advertiser_id":"7","campaign_ids":["18"],"operation_status":"DISABLE"}"#
    );
}
