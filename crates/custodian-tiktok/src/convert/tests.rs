//! Number, date and status reading: data-driven checks of TikTok's text numbers and enums.

use super::*;

#[track_caller]
fn check_micros(text: &str, expected: Option<i64>) {
    assert_eq!(micros(text), expected, "{text:?}");
}

#[test]
fn decimal_texts_read_exactly_in_micros() {
    for (text, expected) in [
        ("20.00", Some(20_000_000)),
        ("0.39", Some(390_000)),
        ("4696", Some(4_696_000_000)),
        ("12.3456789", Some(12_345_678)),
        (".5", Some(500_000)),
        ("7.", Some(7_000_000)),
        ("-1.25", Some(-1_250_000)),
        ("-", Some(0)),
        ("", Some(0)),
        (" 3 ", Some(3_000_000)),
        ("1e3", None),
        ("1,000.00", None),
        ("abc", None),
        (".", None),
        ("99999999999999999999", None),
    ] {
        check_micros(text, expected);
    }
}

#[test]
fn counts_drop_fractions_and_refuse_negatives() {
    for (text, expected) in
        [("4696", Some(4696)), ("4696.0", Some(4696)), ("-", Some(0)), ("-3", None), ("x", None)]
    {
        assert_eq!(count(text), expected, "{text:?}");
    }
}

#[test]
fn money_numbers_round_to_micros() {
    assert_eq!(money(123.45), Some(123_450_000));
    assert_eq!(money(100.0), Some(100_000_000));
    assert_eq!(money(f64::NAN), None);
    assert_eq!(money(1e20), None);
}

#[test]
fn dates_and_times_read_as_utc() {
    assert_eq!(date("2024-01-01 09:00:00"), Some(time::macros::date!(2024 - 01 - 01)));
    assert_eq!(date("2024-02-30"), None);
    assert_eq!(date("24-01-01"), None);
    assert_eq!(datetime("2024-01-01 12:34:56"), Some(time::macros::datetime!(2024-01-01 12:34:56 UTC)));
    assert_eq!(datetime("2024-01-01"), None);
    assert_eq!(format_date(time::macros::date!(2024 - 03 - 09)), "2024-03-09");
}

fn wire_campaign(
    operation: Option<&str>,
    secondary: Option<&str>,
    mode: Option<&str>,
    budget: Option<f64>,
) -> wire::Campaign {
    wire::Campaign {
        campaign_id: wire::FlexId("1".to_owned()),
        campaign_name: "a\u{7}b".to_owned(),
        objective_type: None,
        budget,
        budget_mode: mode.map(str::to_owned),
        operation_status: operation.map(str::to_owned),
        secondary_status: secondary.map(str::to_owned),
        modify_time: None,
    }
}

#[test]
fn statuses_and_budgets_read_from_the_documented_enums() {
    for (operation, secondary, expected) in [
        (Some("ENABLE"), Some("CAMPAIGN_STATUS_ENABLE"), Some(CampaignStatus::Active)),
        (Some("DISABLE"), Some("CAMPAIGN_STATUS_DISABLE"), Some(CampaignStatus::Paused)),
        (Some("DISABLE"), Some("CAMPAIGN_STATUS_DELETE"), Some(CampaignStatus::Deleted)),
        (Some("ENABLE"), Some("CAMPAIGN_STATUS_BUDGET_EXCEED"), Some(CampaignStatus::Active)),
        (None, Some("CAMPAIGN_STATUS_ENABLE"), Some(CampaignStatus::Active)),
        (None, Some("CAMPAIGN_STATUS_BUDGET_EXCEED"), None),
        (Some("PAUSED"), None, None),
    ] {
        let c = wire_campaign(operation, secondary, None, None);
        assert_eq!(readback(&c).ok().and_then(|r| r.status), expected, "{operation:?} {secondary:?}");
    }
    let daily = readback(&wire_campaign(Some("ENABLE"), None, Some("BUDGET_MODE_DAY"), Some(50.0))).unwrap();
    assert_eq!((daily.daily_budget_micros, daily.lifetime_budget_micros), (Some(50_000_000), None));
    let total = readback(&wire_campaign(Some("ENABLE"), None, Some("BUDGET_MODE_TOTAL"), Some(1.5))).unwrap();
    assert_eq!((total.daily_budget_micros, total.lifetime_budget_micros), (None, Some(1_500_000)));
    let unlimited =
        readback(&wire_campaign(Some("ENABLE"), None, Some("BUDGET_MODE_INFINITE"), Some(0.0))).unwrap();
    assert_eq!((unlimited.daily_budget_micros, unlimited.lifetime_budget_micros), (None, None));
    assert!(readback(&wire_campaign(Some("ENABLE"), None, Some("BUDGET_MODE_DAY"), None)).is_err());
    assert!(readback(&wire_campaign(Some("ENABLE"), None, Some("BUDGET_MODE_WEEK"), Some(1.0))).is_err());
}

#[test]
fn names_lose_control_characters() {
    let target = Target {
        tenant: custodian_core::tenant::TenantId::new("t").unwrap(),
        grant: custodian_core::grant::GrantId::new("g").unwrap(),
        account: custodian_core::platform::AccountRef::TikTokAdvertiser(
            custodian_core::platform::TikTokAdvertiserId::new("7").unwrap(),
        ),
    };
    let campaign = campaign(&target, &wire_campaign(Some("ENABLE"), None, None, None)).unwrap();
    assert_eq!(campaign.name.as_str(), "a b");
    assert_eq!(campaign.updated_at, OffsetDateTime::UNIX_EPOCH, "no modify_time");
}

#[test]
fn levels_map_to_data_levels_and_id_dimensions() {
    assert_eq!(level_params(ReportLevel::Account), ("AUCTION_ADVERTISER", "advertiser_id"));
    assert_eq!(level_params(ReportLevel::AdGroup), ("AUCTION_ADGROUP", "adgroup_id"));
}
