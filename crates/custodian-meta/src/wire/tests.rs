//! Every official example payload of the operations the adapter uses (tests/fixtures, from ads-apis.md
//! §1.4 and §1.9) parses through the wire types and converts; the §4.4 parsing vectors hold.

use custodian_core::data::{CampaignStatus, Currency, ReportLevel};
use custodian_core::platform::{AccountRef, MetaAdAccountId};
use custodian_core::ports::{PlatformError, Target};
use time::macros::{date, datetime};

use super::*;
use crate::api::next_after;
use crate::convert;
use crate::error::{Class, classify};

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/", $name))
    };
}

fn target() -> Target {
    Target {
        tenant: "tenant-1".parse().unwrap(),
        grant: "grant-1".parse().unwrap(),
        account: AccountRef::MetaAdAccount(MetaAdAccountId::new("act_1010035716096012").unwrap()),
    }
}

fn usd() -> Currency {
    Currency::new("USD").unwrap()
}

#[test]
fn m1_insights_rows_convert_and_the_last_page_has_no_next() {
    let page: InsightsPage<'_> = decode(fixture!("m1_insights_level_ad.json")).unwrap();
    let rows: Vec<_> = page
        .data
        .iter()
        .map(|r| convert::report_row(&target(), ReportLevel::Ad, r, &[], Some(&usd())).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].object.as_str(), "6142546123068");
    assert_eq!(rows[0].metrics.impressions, 9708);
    assert_eq!(rows[1].metrics.impressions, 18841);
    assert_eq!(rows[0].date, date!(2009 - 03 - 28));
    assert_eq!(next_after(&page.paging).unwrap(), None, "no `next`: stop (§4.4)");
}

#[test]
fn m2_breakdown_columns_are_dropped() {
    let page: InsightsPage<'_> = decode(fixture!("m2_insights_breakdowns.json")).unwrap();
    assert_eq!(page.data.len(), 2);
    assert_eq!(page.data[0].impressions.as_ref().and_then(convert::count), Some(304));
    // `age` and `gender` have no field to land in (MIN-1); without an object id the row is not a report row.
    assert!(convert::report_row(&target(), ReportLevel::Ad, &page.data[0], &[], Some(&usd())).is_err());
}

#[test]
fn m3_numeric_action_values_and_attribution_keys() {
    let page: InsightsPage<'_> = decode(fixture!("m3_actions_attribution.json")).unwrap();
    let row = convert::report_row(
        &target(),
        ReportLevel::Campaign,
        &page.data[0],
        &["link_click".to_owned()],
        Some(&usd()),
    )
    .unwrap();
    assert_eq!(row.metrics.conversions, 6608, "`value`, not the 1d_view/1d_click windows");
}

#[test]
fn m4_an_empty_page_with_next_continues() {
    let page: InsightsPage<'_> = decode(fixture!("m4_paging_next.json")).unwrap();
    assert!(page.data.is_empty());
    assert_eq!(next_after(&page.paging).unwrap().as_deref(), Some("MTAxNTExOTQ1MjAwNzI5NDE="));
    let without_cursor = Paging {
        cursors: None,
        next: Some("https://graph.facebook.com/v25.0/act_1/insights?limit=25&after=MjQZD".to_owned()),
    };
    assert_eq!(next_after(&without_cursor).unwrap().as_deref(), Some("MjQZD"));
    let broken = Paging { cursors: None, next: Some("https://graph.facebook.com/v25.0/x".to_owned()) };
    assert!(next_after(&broken).is_err());
}

#[test]
fn m5_report_run_ids_as_strings_or_numbers() {
    let text: RunStart = decode_owned(fixture!("m5_report_run_start.json")).unwrap();
    let number: RunStart = decode_owned(fixture!("m5_report_run_start_numeric.json")).unwrap();
    assert_eq!(text.report_run_id, Id("6023920149050".to_owned()));
    assert_eq!(number.report_run_id, text.report_run_id);
}

#[test]
fn m6_report_run_status() {
    let status: RunStatus = decode_owned(fixture!("m6_report_run_status.json")).unwrap();
    assert_eq!(status.async_status.as_deref(), Some("Job Completed"));
    assert_eq!(status.async_percent_completion.map(|p| p.0).as_deref(), Some("100"));
}

#[test]
fn m7_campaigns_convert() {
    let page: Paged<CampaignItem> = decode_owned(fixture!("m7_campaigns.json")).unwrap();
    let campaign = convert::campaign(&target(), &page.data[0], &usd()).unwrap();
    assert_eq!(campaign.id.as_str(), "6042147342661");
    assert_eq!(campaign.name.as_str(), "My Like Campaign");
    assert_eq!(campaign.status, CampaignStatus::Paused);
    assert_eq!(campaign.objective.as_ref().map(|o| o.as_str()), Some("OUTCOME_TRAFFIC"));
    assert_eq!(campaign.updated_at, datetime!(2016-03-12 18:00 UTC));
    assert_eq!(campaign.daily_budget_micros, None);
    assert_eq!(next_after(&page.paging).unwrap(), None);
}

#[track_caller]
fn check_error(body: &[u8], code: i64, subcode: Option<i64>, class: Class) {
    let envelope: ErrorEnvelope = decode_owned(body).unwrap();
    let error = envelope.error.unwrap();
    assert_eq!((error.code, error.error_subcode), (Some(code), subcode));
    assert_eq!(classify(400, error.code, error.error_subcode), class);
}

#[test]
fn m8_m9_m10_errors_classify() {
    check_error(fixture!("m8_error_190_460.json"), 190, Some(460), Class::Revoked);
    check_error(fixture!("m9_error_32.json"), 32, None, Class::RateLimited);
    check_error(fixture!("m9_error_80001.json"), 80_001, None, Class::RateLimited);
    check_error(fixture!("m10_error_200.json"), 200, None, Class::Forbidden);
}

#[test]
fn m11_long_lived_token() {
    let answer: TokenAnswer = decode_owned(fixture!("m11_long_lived_token.json")).unwrap();
    assert_eq!(answer.expires_in, Some(5_183_944));
    assert_eq!(answer.access_token, "{long-lived-user-access-token}");
}

#[test]
fn m12_data_deletion_answer() {
    let expected: serde_json::Value =
        serde_json::from_slice(fixture!("m12_data_deletion_answer.json")).unwrap();
    let ours: serde_json::Value = serde_json::from_str(&crate::signal::data_deletion_answer(
        "https://example.com/deletion?id=abc123",
        "abc123",
    ))
    .unwrap();
    assert_eq!(ours, expected);
}

#[test]
fn the_official_debug_token_sample_and_its_variants() {
    let at = datetime!(2019-10-01 00:00 UTC);
    let sample: DebugToken = decode_owned(fixture!("debug_token.json")).unwrap();
    let data = &sample.data;
    assert!(data.is_valid);
    assert_eq!(data.granular_scopes[0].scope, "pages_show_list");
    let targets: Vec<&str> =
        data.granular_scopes[0].target_ids.iter().flatten().map(|i| i.0.as_str()).collect();
    assert_eq!(
        targets,
        ["{page-1-app-can-access-id}", "{page-2-app-can-access-id}"],
        "pages_show_list covers page 1"
    );

    let (evidence, list_all) = convert::evidence(data, "{app-id}", at).unwrap();
    assert_eq!(evidence.owner.as_str(), "10215241773831025");
    assert_eq!(
        evidence.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        ["pages_show_list", "public_profile"]
    );
    assert!(evidence.accounts.is_empty(), "no ads scope, no ad accounts");
    assert!(!list_all);
    assert_eq!(evidence.expires_at, Some(datetime!(2019-10-11 19:00 UTC)));
    assert_eq!(evidence.data_access_expires_at, Some(datetime!(2019-12-18 16:50:25 UTC)));
    assert_eq!(evidence.validated_at, at);

    let other_app = convert::evidence(data, "42", at);
    assert!(matches!(other_app, Err(PlatformError::Unauthorized { .. })));
    let after_expiry = convert::evidence(data, "{app-id}", datetime!(2019-10-12 00:00 UTC));
    assert!(matches!(after_expiry, Err(PlatformError::Unauthorized { .. })), "authorization not valid");

    let mut no_data_access: DebugToken = decode_owned(fixture!("debug_token.json")).unwrap();
    no_data_access.data.expires_at = Some(0);
    let later = datetime!(2020-01-01 00:00 UTC);
    assert!(
        matches!(
            convert::evidence(&no_data_access.data, "{app-id}", later),
            Err(PlatformError::Unauthorized { .. })
        ),
        "data_access_expires_at in the past"
    );

    let mut invalid: DebugToken = decode_owned(fixture!("debug_token.json")).unwrap();
    invalid.data.is_valid = false;
    assert!(matches!(convert::evidence(&invalid.data, "{app-id}", at), Err(PlatformError::Revoked { .. })));

    let ads: DebugToken = decode_owned(
        br#"{"data":{"app_id":"1","is_valid":true,"expires_at":0,"scopes":["ads_read","ads_management"],
            "granular_scopes":[{"scope":"ads_read","target_ids":["1010035716096012","act_55","not-an-id"]},
                               {"scope":"ads_management"}],"user_id":7}}"#,
    )
    .unwrap();
    let (evidence, list_all) = convert::evidence(&ads.data, "1", at).unwrap();
    let accounts: Vec<String> = evidence.accounts.iter().map(|a| a.key()).collect();
    assert_eq!(accounts, ["meta:act_1010035716096012", "meta:act_55"]);
    assert!(list_all, "ads_management without target ids covers every account: list them");
    assert_eq!(evidence.expires_at, None, "expires_at 0: never");
    assert_eq!(evidence.owner.as_str(), "7");
}

#[test]
fn decode_errors_name_the_json_path() {
    let truncated = br#"{"data":[{"ad_id":"1","date_start":"2025-01-01","impressions":"#;
    let error = decode::<InsightsPage<'_>>(truncated).err().unwrap();
    assert_eq!(error.category, "eof");
    assert!(error.path.starts_with("data"), "{}", error.path);
    let wrong = br#"{"data":[{"ad_id":"1","date_start":17}]}"#;
    let error = decode::<InsightsPage<'_>>(wrong).err().unwrap();
    assert_eq!((error.path.as_str(), error.category), ("data[0].date_start", "data"));
}
