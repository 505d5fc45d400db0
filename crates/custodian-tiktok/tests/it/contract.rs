//! The custodian-testkit platform contract suites against the adapter on the simulator.

use std::collections::BTreeSet;

use custodian_core::approval::{ChangeDiff, ChangeField, ChangeValue, FieldChange};
use custodian_core::data::{CampaignId, CampaignStatus, ReportLevel};
use custodian_core::platform::{Platform, Task, consent_scopes};
use custodian_core::ports::ReportQuery;
use custodian_sim::tiktok::{ADVERTISER_1, ADVERTISER_2, REDIRECT_URI, TikTokConfig as SimConfig};
use custodian_testkit::contract::{
    AuthorizerExpectations, CampaignControlExpectations, ReportingExpectations, authorizer, campaign_control,
    reporting_source,
};
use secrecy::SecretString;
use time::OffsetDateTime;

use crate::env::{Env, bearer, days_ago, target};

/// AUTH-2, AUTH-4: consent URL, exchange (once), validation evidence, refresh, unknown tokens refused.
#[tokio::test]
async fn authorizer_contract() {
    let env = Env::unlimited().await;
    let tasks = BTreeSet::from([Task::ReadReporting, Task::ReadCampaigns, Task::ChangeCampaign]);
    let expect = AuthorizerExpectations {
        platform: Platform::TikTok,
        code: SecretString::from(env.sim().issue_auth_code()),
        redirect_uri: REDIRECT_URI.to_owned(),
        scopes: consent_scopes(Platform::TikTok, &tasks).unwrap(),
        tasks,
        accounts: BTreeSet::from([target(ADVERTISER_1).account, target(ADVERTISER_2).account]),
        now: OffsetDateTime::now_utc(),
    };
    authorizer(&env.adapter(), &expect, "tiktok-authorizer").await.unwrap();
}

/// MIN-1/MIN-4 reads: every campaign and every report row once, across 30-day windows and many pages.
#[tokio::test]
async fn reporting_source_contract() {
    let env = Env::start(SimConfig { rate_limit: None, ..SimConfig::default() }).await;
    let mut config = env.config();
    config.page_size = 7;
    let adapter = custodian_tiktok::TikTokAdapter::new(config).unwrap();
    let expect = ReportingExpectations {
        target: target(ADVERTISER_1),
        credentials: bearer(&env.sim().issue_app_token()),
        query: ReportQuery { level: ReportLevel::Campaign, from: days_ago(40), to: days_ago(1) },
        campaigns: 5,
        report_rows: 5 * 40,
    };
    reporting_source(&adapter, &expect, "tiktok-reporting").await.unwrap();
}

/// CAM-2: a status and a daily budget change read back; an unknown campaign is `NotFound`.
#[tokio::test]
async fn campaign_control_contract() {
    let env = Env::unlimited().await;
    let target = target(ADVERTISER_1);
    let campaign = env.sim().campaign_id(ADVERTISER_1, 0).unwrap();
    let changes = vec![
        FieldChange::new(ChangeField::Status, None, ChangeValue::Status(CampaignStatus::Paused)).unwrap(),
        FieldChange::new(ChangeField::DailyBudget, None, ChangeValue::Micros(77_500_000)).unwrap(),
    ];
    let diff = ChangeDiff::new(target.account.clone(), CampaignId::new(campaign).unwrap(), changes).unwrap();
    let expect = CampaignControlExpectations {
        target,
        credentials: bearer(&env.sim().issue_app_token()),
        diff,
        unknown_campaign: CampaignId::new("1800000000000000999").unwrap(),
    };
    campaign_control(&env.adapter(), &expect, "tiktok-campaigns").await.unwrap();
}
