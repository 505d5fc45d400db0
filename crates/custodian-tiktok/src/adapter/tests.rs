//! Unit tests of the adapter without a network: consent URLs (AUTH-4), cursors, change plans, refresh and
//! redaction (SEC-1).

use std::collections::BTreeSet;
use std::sync::Arc;

use custodian_core::approval::FieldChange;
use custodian_core::data::ReportLevel;
use custodian_core::platform::{Task, TikTokAdvertiserId};
use custodian_core::tenant::TenantId;
use custodian_http::Url;
use custodian_testkit::fakes::ManualClock;
use secrecy::ExposeSecret as _;
use time::macros::{date, datetime};

use super::*;
use crate::config::DEFAULT_AUTH_URL;

const SECRET: &str = "app-secret-value-123";

fn config() -> TikTokConfig {
    let clock = Arc::new(ManualClock::new(datetime!(2026-01-01 00:00 UTC)));
    TikTokConfig::new("7300000000000000001", SecretString::from(SECRET), clock)
}

fn adapter() -> TikTokAdapter {
    TikTokAdapter::new(config()).unwrap()
}

fn request(tasks: &[Task]) -> ConsentRequest {
    ConsentRequest {
        tenant: TenantId::new("tenant-1").unwrap(),
        grant: custodian_core::grant::GrantId::new("grant-1").unwrap(),
        tasks: tasks.iter().copied().collect(),
        redirect_uri: "https://custodian.test/oauth/tiktok/callback".to_owned(),
        state: "state-123".to_owned(),
    }
}

/// AUTH-4: the URL is TikTok's authorization page and names only the enabled tasks' scope ids.
#[test]
fn consent_urls_name_only_the_enabled_tasks_scopes() {
    let adapter = adapter();
    for (tasks, scope) in [
        (&[Task::ReadReporting][..], "100,4"),
        (&[Task::ReadCampaigns][..], "100,200"),
        (&[Task::ReadReporting, Task::ReadCampaigns, Task::ChangeCampaign][..], "100,20,200,4"),
    ] {
        let url = Url::parse(&adapter.consent_url(&request(tasks)).unwrap()).unwrap();
        assert_eq!(url.as_str().split('?').next(), Some(DEFAULT_AUTH_URL));
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let expected = [
            ("app_id", "7300000000000000001"),
            ("state", "state-123"),
            ("redirect_uri", "https://custodian.test/oauth/tiktok/callback"),
            ("scope", scope),
        ];
        let expected: Vec<(String, String)> =
            expected.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        assert_eq!(pairs, expected, "{tasks:?}");
    }
    let orders = adapter.consent_url(&request(&[Task::ReadReporting, Task::ReadOrders]));
    assert!(matches!(orders, Err(PlatformError::Unsupported(_))), "{orders:?}");
}

#[test]
fn refresh_returns_long_term_credentials_unchanged() {
    let mut credentials = Credentials::bearer(SecretString::from("token-abc"));
    credentials.scopes = BTreeSet::from([Scope::new("4").unwrap()]);
    let refreshed = futures_block_on(adapter().refresh(&credentials)).unwrap();
    assert!(refreshed.same_tokens(&credentials));
    assert_eq!(refreshed.scopes, credentials.scopes);
}

/// Drives a future that never waits (refresh makes no call).
fn futures_block_on<F: std::future::Future>(future: F) -> F::Output {
    let waker = std::task::Waker::noop();
    let mut context = std::task::Context::from_waker(waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

#[test]
fn report_cursors_name_a_day_inside_the_query_and_a_page() {
    let query =
        ReportQuery { level: ReportLevel::Campaign, from: date!(2024 - 01 - 01), to: date!(2024 - 03 - 31) };
    assert_eq!(report_cursor(&query, None).unwrap(), (date!(2024 - 01 - 01), 1));
    let cursor = Cursor("2024-01-31:3".to_owned());
    assert_eq!(report_cursor(&query, Some(&cursor)).unwrap(), (date!(2024 - 01 - 31), 3));
    for bad in ["2023-12-31:1", "2024-04-01:1", "2024-01-31:0", "2024-01-31", "2024-1-31:2", "x:1"] {
        let result = report_cursor(&query, Some(&Cursor(bad.to_owned())));
        assert!(matches!(result, Err(PlatformError::Invalid { .. })), "{bad}: {result:?}");
    }
    assert_eq!(page_cursor(Some(&Cursor("7".to_owned()))).unwrap(), 7);
    assert!(page_cursor(Some(&Cursor("0".to_owned()))).is_err());
}

fn diff(changes: Vec<FieldChange>) -> ChangeDiff {
    let account = AccountRef::TikTokAdvertiser(TikTokAdvertiserId::new("7000000000000000001").unwrap());
    ChangeDiff::new(account, CampaignId::new("1800000000000000000").unwrap(), changes).unwrap()
}

#[test]
fn change_plans_refuse_what_tiktok_campaigns_do_not_have() {
    let status = |s| FieldChange::new(ChangeField::Status, None, ChangeValue::Status(s)).unwrap();
    let micros = |f, m| FieldChange::new(f, None, ChangeValue::Micros(m)).unwrap();
    let plan =
        TikTokAdapter::plan(&diff(vec![status(CampaignStatus::Paused), micros(ChangeField::DailyBudget, 5)]));
    assert_eq!(plan.unwrap(), [Change::Status(CampaignStatus::Paused), Change::DailyBudget(5)]);
    for refused in [
        vec![status(CampaignStatus::Archived)],
        vec![micros(ChangeField::Bid, 10)],
        vec![
            status(CampaignStatus::Active),
            FieldChange::new(
                ChangeField::Schedule,
                None,
                ChangeValue::Schedule { start: datetime!(2026-01-01 00:00 UTC), end: None },
            )
            .unwrap(),
        ],
    ] {
        let plan = TikTokAdapter::plan(&diff(refused));
        assert!(matches!(plan, Err(PlatformError::Unsupported(_))), "{plan:?}");
    }
}

/// SEC-1: neither the config nor the adapter prints the app secret.
#[test]
fn debug_output_never_shows_the_secret() {
    let config = config();
    assert_eq!(config.secret.expose_secret(), SECRET);
    for shown in [format!("{config:?}"), format!("{:?}", adapter())] {
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("7300000000000000001"), "{shown}");
    }
}

#[test]
fn targets_must_be_tiktok_advertisers() {
    let target = Target {
        tenant: TenantId::new("t").unwrap(),
        grant: custodian_core::grant::GrantId::new("g").unwrap(),
        account: AccountRef::MetaAdAccount(custodian_core::platform::MetaAdAccountId::new("act_1").unwrap()),
    };
    assert!(matches!(advertiser(&target), Err(PlatformError::Invalid { .. })));
}
