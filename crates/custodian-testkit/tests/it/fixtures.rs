//! Every fixture builder produces valid values (the builders' internal `valid` never fails).

use std::collections::BTreeSet;
use std::sync::Arc;

use custodian_core::data::{ContactDetails, ReportLevel, open};
use custodian_core::grant::GrantState;
use custodian_core::personnel::password::verify_password;
use custodian_core::personnel::{Permission, Role};
use custodian_core::platform::{Platform, Task, consent_scopes};
use custodian_core::ports::{OrderQuery, PiiSealer};
use custodian_testkit::fakes::SeededRng;
use custodian_testkit::fixtures::{self, T0};
use secrecy::SecretString;
use time::Duration;
use time::macros::date;

#[test]
fn people_sessions_and_keys() {
    let p = "p-1".parse().unwrap();
    let t = "acme".parse().unwrap();
    let person = fixtures::person(&p, &[Role::Analyst, Role::Auditor], std::slice::from_ref(&t));
    assert!(person.active && person.mfa_enrolled && person.tenants.contains(&t) && person.roles.len() == 2);
    assert_eq!(fixtures::person_session(&person, T0).mfa_verified_at, Some(T0));
    let credential = fixtures::credential(&p);
    assert!(verify_password(&SecretString::from(fixtures::FIXTURE_PASSWORD), &credential.password_hash));
    let hash = fixtures::token_hash("s");
    assert_eq!(fixtures::session_record(&p, hash, T0).expires_at, T0 + Duration::hours(12));
    let key = fixtures::api_key(
        &"k-1".parse().unwrap(),
        std::slice::from_ref(&t),
        &[Permission::DatasetRead],
        &p,
        T0,
    );
    assert!(key.is_usable(T0));
    assert_eq!(fixtures::tenant(&t).id, t);
}

#[test]
fn accounts_grants_and_evidence_for_every_platform() {
    for platform in Platform::ALL {
        let account = fixtures::account(platform, 7);
        assert_eq!(account.platform(), platform);
        let tasks = fixtures::supported_tasks(platform);
        assert!(!tasks.is_empty());
        let grant = fixtures::active_grant(
            &"acme".parse().unwrap(),
            &"g".parse().unwrap(),
            platform,
            std::slice::from_ref(&account),
            T0,
        );
        assert_eq!(grant.state(), GrantState::Active);
        let evidence = grant.evidence().unwrap();
        assert_eq!(evidence.scopes, consent_scopes(platform, &tasks).unwrap());
        assert_eq!(evidence.accounts, BTreeSet::from([account]));
        assert_eq!(evidence.owner, fixtures::owner(platform));
    }
    assert!(!fixtures::supported_tasks(Platform::Meta).contains(&Task::ReadOrders));
}

#[test]
fn records() {
    let target = fixtures::target(
        &"acme".parse().unwrap(),
        &"g".parse().unwrap(),
        &fixtures::account(Platform::Meta, 1),
    );
    let rows = fixtures::report_rows(&target, ReportLevel::Ad, date!(2025 - 01 - 01), 3, 7);
    assert_eq!(rows.len(), 7);
    assert!(rows.iter().all(|r| r.date <= date!(2025 - 01 - 03) && r.level == ReportLevel::Ad));
    let campaigns = fixtures::campaigns(&target, 4, T0);
    assert_eq!(campaigns[2].status, custodian_core::data::CampaignStatus::Paused);
    assert_eq!(fixtures::campaign_readback(2).status, Some(campaigns[2].status));
    let query = OrderQuery { updated_after: T0, updated_before: T0 + Duration::hours(1) };
    let sealer = PiiSealer { key: fixtures::data_key("k", 1), rng: Arc::new(SeededRng::new(1)) };
    let orders = fixtures::orders(&target, &query, 5, Some(&sealer)).unwrap();
    assert!(
        orders.iter().all(|o| o.updated_at >= T0 && o.updated_at < query.updated_before && o.buyer.is_some())
    );
    assert!(orders.iter().all(|o| o.total_micros
        == o.lines.iter().map(|l| l.unit_price_micros * i64::from(l.quantity)).sum::<i64>()));
    let stock = fixtures::stock_levels(&target, 4, T0);
    assert!(stock[0].location.is_some() && stock[1].location.is_none());
    let rng = SeededRng::new(2);
    let tenant = "acme".parse().unwrap();
    let id = "c-1".parse().unwrap();
    let key = fixtures::data_key("contacts", 1);
    let contact = fixtures::contact(&tenant, &id, 3, &key, &rng).unwrap();
    let details: ContactDetails =
        open(&key, &fixtures::contact_context(&tenant, &id), &contact.details).unwrap();
    assert_eq!(details, fixtures::contact_details(3));
}
