//! Criterion benchmark of `authz::decide` on a realistic context: a person with two roles and 50 tenant
//! assignments, an active Meta grant with 20 accounts and 3 scopes, 10 open isolations and 10 restrictions
//! of other tenants. Goal: median under 1 µs.

#![expect(clippy::expect_used, reason = "benchmark fixtures are constants: a bad one should abort the run")]

use std::collections::BTreeSet;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use custodian_core::authz::{Action, Actor, Context, Environment, Request, decide};
use custodian_core::data::Purpose;
use custodian_core::grant::{Grant, GrantEvidence, GrantId, OwnerId};
use custodian_core::incident::IsolationScope;
use custodian_core::personnel::{Person, PersonId, PersonSession, Role};
use custodian_core::platform::{AccountRef, MetaAdAccountId, Platform, Scope, Task};
use custodian_core::rights::ProcessingRestriction;
use custodian_core::tenant::{TenantId, TenantStatus};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

fn tenant(i: usize) -> TenantId {
    TenantId::new(format!("tenant-{i}")).expect("valid")
}

fn account(i: usize) -> AccountRef {
    AccountRef::MetaAdAccount(MetaAdAccountId::new(format!("act_{}", 1000 + i)).expect("valid"))
}

fn bench(c: &mut Criterion) {
    let now: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);
    let me = tenant(7);
    let mut grant = Grant::new(
        GrantId::new("grant-7").expect("valid"),
        me.clone(),
        Platform::Meta,
        [Task::ReadReporting, Task::ReadCampaigns, Task::ChangeCampaign].into_iter().collect(),
        now - Duration::days(30),
    );
    grant
        .activate(
            GrantEvidence {
                owner: OwnerId::new("business-1").expect("valid"),
                accounts: (0..20).map(account).collect(),
                scopes: ["ads_read", "ads_management", "business_management"]
                    .into_iter()
                    .map(|s| Scope::new(s).expect("valid"))
                    .collect(),
                expires_at: Some(now + Duration::days(50)),
                data_access_expires_at: Some(now + Duration::days(80)),
                validated_at: now - Duration::hours(2),
            },
            now - Duration::hours(2),
        )
        .expect("activates");
    let session = PersonSession {
        person: Person {
            id: PersonId::new("analyst-1").expect("valid"),
            display_name: "Analyst".into(),
            roles: [Role::Analyst, Role::AccountManager].into_iter().collect(),
            tenants: (0..50).map(tenant).collect::<BTreeSet<_>>(),
            mfa_enrolled: true,
            active: true,
        },
        mfa_verified_at: Some(now - Duration::minutes(20)),
    };
    let isolations: Vec<IsolationScope> = (100..110).map(|i| IsolationScope::Tenant(tenant(i))).collect();
    let restrictions: Vec<ProcessingRestriction> =
        (200..210).map(|i| ProcessingRestriction::Restricted { tenant: tenant(i) }).collect();
    let ctx = Context {
        grant: Some(&grant),
        tenant_status: Some(TenantStatus::Active),
        isolations: &isolations,
        restrictions: &restrictions,
        ..Context::new(Environment::Production)
    };
    let sync = Request {
        actor: Actor::Person(session.clone()),
        action: Action::Sync(Task::ReadReporting),
        tenant: Some(me.clone()),
        target: Some(account(13)),
        purpose: Purpose::ServiceDelivery,
    };
    assert!(decide(&sync, &ctx, now).is_allowed());
    c.bench_function("authz/decide/sync_allowed", |b| {
        b.iter(|| decide(black_box(&sync), black_box(&ctx), now))
    });

    let denied = Request { target: Some(account(99)), ..sync.clone() };
    assert!(!decide(&denied, &ctx, now).is_allowed());
    c.bench_function("authz/decide/sync_denied", |b| {
        b.iter(|| decide(black_box(&denied), black_box(&ctx), now))
    });

    let read = Request {
        action: Action::ReadData(custodian_core::data::DataClass::ReportingDataset),
        target: None,
        ..sync
    };
    assert!(decide(&read, &ctx, now).is_allowed());
    c.bench_function("authz/decide/read_allowed", |b| {
        b.iter(|| decide(black_box(&read), black_box(&ctx), now))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
