//! The custodian-testkit platform contract suites, run against the adapter and the simulator.

use std::collections::BTreeSet;

use custodian_core::approval::{ChangeDiff, ChangeField, ChangeValue, FieldChange};
use custodian_core::data::{CampaignId, CampaignStatus, ReportLevel};
use custodian_core::platform::{Platform, Task, consent_scopes};
use custodian_core::ports::{
    Authorizer as _, ConsentRequest, RawSignal, ReportQuery, ReportingSource as _, SignalKind, SignalSubject,
    VerifiedSignal,
};
use custodian_sim::meta::{REDIRECT_URI, USER_ID};
use custodian_testkit::contract::{
    self, AuthorizerExpectations, CampaignControlExpectations, ReportingExpectations,
};
use secrecy::SecretString;
use time::macros::date;

use crate::common::{Env, account, follow_consent, query_param, target};

#[tokio::test]
async fn the_authorizer_contract_holds() {
    let env = Env::default().await;
    let tasks = BTreeSet::from([Task::ReadReporting, Task::ReadCampaigns, Task::ChangeCampaign]);
    // The code comes from the simulated dialog, reached through the adapter's own consent URL.
    let url = env
        .adapter
        .consent_url(&ConsentRequest {
            tenant: "tenant-meta".parse().unwrap(),
            grant: "grant-meta".parse().unwrap(),
            tasks: tasks.clone(),
            redirect_uri: REDIRECT_URI.to_owned(),
            state: "contract-state".to_owned(),
        })
        .unwrap();
    let location = follow_consent(&url).await;
    let code = query_param(&location, "code").unwrap();
    let expect = AuthorizerExpectations {
        platform: Platform::Meta,
        code: SecretString::from(code),
        redirect_uri: REDIRECT_URI.to_owned(),
        scopes: consent_scopes(Platform::Meta, &tasks).unwrap(),
        tasks,
        accounts: BTreeSet::from([account(0), account(1)]),
        now: env.now(),
    };
    contract::authorizer(&env.adapter, &expect, "meta-authorizer").await.unwrap();
}

fn reporting(env: &Env) -> ReportingExpectations {
    ReportingExpectations {
        target: target(0),
        credentials: env.credentials(&["ads_read"]),
        query: ReportQuery { level: ReportLevel::Ad, from: date!(2025 - 01 - 01), to: date!(2025 - 01 - 10) },
        campaigns: 12,
        // 12 campaigns × 2 ad sets × 3 ads, 10 days.
        report_rows: 72 * 10,
    }
}

#[tokio::test]
async fn the_reporting_contract_holds_for_sync_queries() {
    let env = Env::default().await;
    contract::reporting_source(&env.adapter, &reporting(&env), "meta-reporting-sync").await.unwrap();
    assert_eq!(env.sim().report_runs_created(), 0, "ten days are read synchronously");
}

#[tokio::test]
async fn the_reporting_contract_holds_for_async_report_runs() {
    let env = Env::with(Default::default(), |c| c.async_after_days = 7).await;
    contract::reporting_source(&env.adapter, &reporting(&env), "meta-reporting-async").await.unwrap();
    assert_eq!(env.sim().report_runs_created(), 2, "one run per pass over the rows");
}

#[tokio::test]
async fn the_campaign_control_contract_holds() {
    let env = Env::default().await;
    let credentials = env.credentials(&["ads_management"]);
    let page = env.adapter.campaigns(&target(0), &credentials, None).await.unwrap();
    let campaign = page.items.iter().find(|c| c.status == CampaignStatus::Active).unwrap();
    let changes = vec![
        FieldChange::new(
            ChangeField::Status,
            Some(ChangeValue::Status(CampaignStatus::Active)),
            ChangeValue::Status(CampaignStatus::Paused),
        )
        .unwrap(),
        FieldChange::new(
            ChangeField::DailyBudget,
            campaign.daily_budget_micros.map(ChangeValue::Micros),
            ChangeValue::Micros(123_450_000),
        )
        .unwrap(),
    ];
    let expect = CampaignControlExpectations {
        target: target(0),
        credentials,
        diff: ChangeDiff::new(account(0), campaign.id.clone(), changes).unwrap(),
        unknown_campaign: CampaignId::new("120200000000999999").unwrap(),
    };
    contract::campaign_control(&env.adapter, &expect, "meta-campaign-control").await.unwrap();
    let changed = env.sim().campaign(campaign.id.as_str()).unwrap();
    assert_eq!(
        (changed.status.as_str(), changed.daily_budget),
        ("PAUSED", Some(12_345)),
        "USD cents on the wire"
    );
}

/// The `issued_at` of a signed request's payload.
fn issued_at(signed: &str) -> i64 {
    let payload = signed.split_once('.').unwrap().1;
    let json = data_encoding::BASE64URL_NOPAD.decode(payload.as_bytes()).unwrap();
    serde_json::from_slice::<serde_json::Value>(&json).unwrap()["issued_at"].as_i64().unwrap()
}

#[tokio::test]
async fn the_signal_verifier_contract_holds_for_deauthorize_callbacks() {
    let env = Env::default().await;
    let signed = env.sim().signed_request_for(USER_ID, false);
    let raw = RawSignal {
        method: "POST".to_owned(),
        path: "/signals/meta/deauthorize".to_owned(),
        query: Vec::new(),
        headers: vec![("content-type".to_owned(), "application/x-www-form-urlencoded".to_owned())],
        body: format!("signed_request={signed}").into_bytes(),
        received_at: env.now(),
    };
    let expected = VerifiedSignal {
        platform: Platform::Meta,
        id: format!("meta:deauthorize:{USER_ID}:{}", issued_at(&signed)),
        kind: SignalKind::Deauthorized,
        subject: Some(SignalSubject::Owner(USER_ID.parse().unwrap())),
    };
    contract::signal_verifier(&env.adapter, &raw, &expected, "meta-signals").await.unwrap();
}
