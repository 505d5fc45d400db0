//! Every contract suite passes against the in-memory fakes, also on a shared, non-empty backend (each suite
//! runs twice on the same fake).

use custodian_core::approval::{ChangeDiff, ChangeField, ChangeValue, FieldChange};
use custodian_core::data::{CampaignStatus, ReportLevel};
use custodian_core::platform::{Platform, consent_scopes};
use custodian_core::ports::{OrderQuery, PiiSealer, ReportQuery, SignalKind, SignalSubject, VerifiedSignal};
use custodian_testkit::contract::{
    self, AuthorizerExpectations, CampaignControlExpectations, CommerceExpectations, ReportingExpectations,
    Setup,
};
use custodian_testkit::fakes::{Script, ScriptedPlatform, SeededRng};
use custodian_testkit::fixtures::{self, T0};
use futures::executor::block_on;
use std::sync::Arc;
use time::Duration;
use time::macros::date;

use crate::kit;

#[test]
fn store_suites_pass_on_the_memory_store() {
    let kit = kit();
    let s = &kit.store;
    for run in ["run-1", "run-2"] {
        block_on(contract::tenant_store(s, s, run)).unwrap();
        block_on(contract::grant_store(s, s, s, run)).unwrap();
        block_on(contract::dataset_store(s, s, Setup::of(s), run)).unwrap();
        block_on(contract::audit_log(s, run)).unwrap();
        block_on(contract::personnel_store(s, s, run)).unwrap();
        block_on(contract::case_store(s, s, Setup::of(s), run)).unwrap();
        block_on(contract::job_queue(s, run)).unwrap();
    }
    block_on(contract::all_stores(s, "run-3")).unwrap();
}

#[test]
fn secret_and_key_suites_pass_on_the_memory_fakes() {
    let kit = kit();
    for run in ["run-1", "run-2"] {
        block_on(contract::secret_store(&kit.secrets, run)).unwrap();
        block_on(contract::key_manager(&kit.keys, run)).unwrap();
    }
}

#[test]
fn suites_reject_bad_run_ids() {
    let kit = kit();
    for run in ["", "has space", &"x".repeat(41)] {
        let err = block_on(contract::audit_log(&kit.store, run)).unwrap_err();
        assert_eq!((err.suite, err.check), ("audit_log", "run id"), "{err}");
    }
}

#[test]
fn authorizer_suite_passes_on_every_scripted_platform() {
    for platform in Platform::ALL {
        let script = Script::new(platform);
        let tasks = fixtures::supported_tasks(platform);
        let expect = AuthorizerExpectations {
            platform,
            code: script.code.clone(),
            redirect_uri: "https://custodian.example/callback".to_owned(),
            scopes: consent_scopes(platform, &tasks).unwrap(),
            tasks,
            accounts: script.accounts.clone(),
            now: T0,
        };
        let fake = ScriptedPlatform::new(script);
        block_on(contract::authorizer(&fake, &expect, "run-1")).unwrap_or_else(|e| panic!("{platform}: {e}"));
    }
}

fn target(platform: Platform) -> custodian_core::ports::Target {
    fixtures::target(
        &"tenant-1".parse().unwrap(),
        &"grant-1".parse().unwrap(),
        &fixtures::account(platform, 1),
    )
}

#[test]
fn reporting_and_campaign_suites_pass_on_scripted_ad_platforms() {
    for platform in [Platform::Meta, Platform::TikTok] {
        let script = Script { campaigns: 23, report_rows: 45, page_size: 10, ..Script::new(platform) };
        let fake = ScriptedPlatform::new(script);
        let credentials = fixtures::credentials("access-1", "refresh-1");
        let expect = ReportingExpectations {
            target: target(platform),
            credentials: credentials.clone(),
            query: ReportQuery {
                level: ReportLevel::Ad,
                from: date!(2024 - 11 - 01),
                to: date!(2024 - 11 - 07),
            },
            campaigns: 23,
            report_rows: 45,
        };
        block_on(contract::reporting_source(&fake, &expect, "run-1")).unwrap();
        let change =
            FieldChange::new(ChangeField::DailyBudget, None, ChangeValue::Micros(9_000_000)).unwrap();
        let status =
            FieldChange::new(ChangeField::Status, None, ChangeValue::Status(CampaignStatus::Paused)).unwrap();
        let diff =
            ChangeDiff::new(fixtures::account(platform, 1), fixtures::campaign_id(4), vec![change, status])
                .unwrap();
        let expect = CampaignControlExpectations {
            target: target(platform),
            credentials,
            diff,
            unknown_campaign: fixtures::campaign_id(999),
        };
        block_on(contract::campaign_control(&fake, &expect, "run-1")).unwrap();
    }
}

#[test]
fn commerce_suite_passes_on_scripted_commerce_platforms() {
    for platform in [Platform::TikTokShop, Platform::Amazon, Platform::Ebay] {
        let script = Script { orders: 17, stock: 9, page_size: 4, ..Script::new(platform) };
        let fake = ScriptedPlatform::new(script);
        let expect = CommerceExpectations {
            target: target(platform),
            credentials: fixtures::credentials("access-1", "refresh-1"),
            query: OrderQuery { updated_after: T0, updated_before: T0 + Duration::days(1) },
            orders: 17,
            stock: 9,
            sealer: PiiSealer { key: fixtures::data_key("pii", 1), rng: Arc::new(SeededRng::new(3)) },
        };
        block_on(contract::commerce_channel(&fake, &expect, "run-1")).unwrap();
    }
}

#[test]
fn signal_suite_passes_on_scripted_signals() {
    let fake = ScriptedPlatform::new(Script::new(Platform::Ebay));
    let account = fixtures::account(Platform::Ebay, 1);
    let raw =
        fake.signed_signal(&format!("kind=deletion;id=n-1;account={};confirmation=c-9", account.key()), T0);
    let expected = VerifiedSignal {
        platform: Platform::Ebay,
        id: "n-1".to_owned(),
        kind: SignalKind::DeletionRequested { confirmation: Some("c-9".to_owned()) },
        subject: Some(SignalSubject::Account(account)),
    };
    block_on(contract::signal_verifier(&fake, &raw, &expected, "run-1")).unwrap();
}
