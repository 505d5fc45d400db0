//! Tests of `decide`: one allowed baseline per actor kind, then every deny rule, then property tests
//! (deny wins, a missing fact never allows, decisions are deterministic and total).

use std::collections::BTreeSet;

use proptest::prelude::*;
use time::macros::datetime;

use super::*;
use crate::grant::{GrantEvidence, GrantId, OwnerId};
use crate::personnel::{ApiKeyId, Person, PersonId, Role};
use crate::platform::{MetaAdAccountId, Scope};

fn now() -> OffsetDateTime {
    datetime!(2026-06-01 12:00 UTC)
}

fn tenant() -> TenantId {
    TenantId::new("acme").unwrap()
}

fn account() -> AccountRef {
    AccountRef::MetaAdAccount(MetaAdAccountId::new("act_1").unwrap())
}

fn active_grant() -> Grant {
    let mut g = Grant::new(
        GrantId::new("g1").unwrap(),
        tenant(),
        Platform::Meta,
        [Task::ReadReporting, Task::ReadCampaigns, Task::ChangeCampaign].into_iter().collect(),
        now() - Duration::days(10),
    );
    g.activate(
        GrantEvidence {
            owner: OwnerId::new("biz-1").unwrap(),
            accounts: [account()].into_iter().collect(),
            scopes: [Scope::new("ads_management").unwrap()].into_iter().collect(),
            expires_at: Some(now() + Duration::days(30)),
            data_access_expires_at: Some(now() + Duration::days(60)),
            validated_at: now() - Duration::hours(1),
        },
        now() - Duration::hours(1),
    )
    .unwrap();
    g
}

fn person(roles: &[Role]) -> PersonSession {
    PersonSession {
        person: Person {
            id: PersonId::new("p1").unwrap(),
            display_name: "Pat".into(),
            roles: roles.iter().copied().collect(),
            tenants: [tenant()].into_iter().collect(),
            mfa_enrolled: true,
            active: true,
        },
        mfa_verified_at: Some(now() - Duration::minutes(1)),
    }
}

fn api_key(perms: &[Permission]) -> ApiKey {
    ApiKey {
        id: ApiKeyId::new("k1").unwrap(),
        name: "bi tool".into(),
        tenants: [tenant()].into_iter().collect(),
        permissions: perms.iter().copied().collect(),
        created_by: PersonId::new("admin").unwrap(),
        created_at: now() - Duration::days(1),
        expires_at: None,
        revoked_at: None,
    }
}

fn request(actor: Actor, action: Action) -> Request {
    Request {
        actor,
        action,
        tenant: Some(tenant()),
        target: Some(account()),
        purpose: Purpose::ServiceDelivery,
    }
}

/// Owned facts behind a [`Context`], so tests can mutate them.
#[derive(Clone)]
struct Facts {
    environment: Environment,
    violations: Vec<String>,
    mfa_required: bool,
    grant: Option<Grant>,
    tenant_status: Option<TenantStatus>,
    isolations: Vec<IsolationScope>,
    restrictions: Vec<ProcessingRestriction>,
}

impl Facts {
    fn good() -> Self {
        Facts {
            environment: Environment::Production,
            violations: Vec::new(),
            mfa_required: true,
            grant: Some(active_grant()),
            tenant_status: Some(TenantStatus::Active),
            isolations: Vec::new(),
            restrictions: Vec::new(),
        }
    }

    fn ctx(&self) -> Context<'_> {
        Context {
            environment_violations: &self.violations,
            mfa_required: self.mfa_required,
            grant: self.grant.as_ref(),
            tenant_status: self.tenant_status,
            isolations: &self.isolations,
            restrictions: &self.restrictions,
            ..Context::new(self.environment)
        }
    }
}

#[track_caller]
fn check(req: &Request, facts: &Facts, expect: &[&str]) {
    let d = decide(req, &facts.ctx(), now());
    if expect.is_empty() {
        assert!(
            d.is_allowed(),
            "expected allow, got {:?}",
            d.reasons.iter().map(ToString::to_string).collect::<Vec<_>>()
        );
    } else {
        assert_eq!(d.effect, Effect::Deny);
        assert_eq!(
            d.denied_by(),
            expect,
            "reasons: {:?}",
            d.reasons.iter().map(ToString::to_string).collect::<Vec<_>>()
        );
    }
}

#[test]
fn baselines_allow_with_reasons() {
    let facts = Facts::good();
    let sync = request(Actor::Person(person(&[Role::Analyst])), Action::Sync(Task::ReadReporting));
    let d = decide(&sync, &facts.ctx(), now());
    assert!(d.is_allowed());
    let shown: Vec<String> = d.reasons.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        ["ACC-1: permission `sync_run` held", "AUTH-4: active validated grant covers task `read_reporting`"]
    );
    check(&request(Actor::System, Action::Sync(Task::ReadCampaigns)), &facts, &[]);
    check(
        &request(
            Actor::ApiKey(api_key(&[Permission::DatasetRead])),
            Action::ReadData(DataClass::ReportingDataset),
        ),
        &facts,
        &[],
    );
    check(&request(Actor::Person(person(&[Role::AccountManager])), Action::ApproveChange), &facts, &[]);
    check(&request(Actor::PlatformSignal(Platform::Meta), Action::RevokeGrant), &facts, &[]);
    check(&request(Actor::Person(person(&[Role::AccountManager])), Action::ExecuteChange), &facts, &[]);
    let global =
        Request { tenant: None, ..request(Actor::Person(person(&[Role::Admin])), Action::ManagePersonnel) };
    check(&global, &facts, &[]);
}

#[test]
fn acc1_roles_and_assignments() {
    let facts = Facts::good();
    check(
        &request(Actor::Person(person(&[Role::Auditor])), Action::Sync(Task::ReadReporting)),
        &facts,
        &["ACC-1"],
    );
    check(&request(Actor::Person(person(&[])), Action::ReadTenant), &facts, &["ACC-1"]);
    let mut other_tenant =
        request(Actor::Person(person(&[Role::Analyst])), Action::ReadData(DataClass::ReportingDataset));
    other_tenant.tenant = Some(TenantId::new("globex").unwrap());
    check(&other_tenant, &facts, &["ACC-1"]);
    let mut inactive = person(&[Role::Analyst]);
    inactive.person.active = false;
    check(&request(Actor::Person(inactive), Action::ReadTenant), &facts, &["ACC-1"]);
    // Admins manage people but do not read client data.
    check(
        &request(Actor::Person(person(&[Role::Admin])), Action::ReadData(DataClass::OrderDetail)),
        &facts,
        &["ACC-1"],
    );
}

#[test]
fn acc2_mfa_and_step_up() {
    let facts = Facts::good();
    let mut none = person(&[Role::AccountManager]);
    none.mfa_verified_at = None;
    check(&request(Actor::Person(none), Action::ReadTenant), &facts, &["ACC-2"]);
    let mut not_enrolled = person(&[Role::AccountManager]);
    not_enrolled.person.mfa_enrolled = false;
    check(&request(Actor::Person(not_enrolled), Action::ReadTenant), &facts, &["ACC-2"]);
    let mut old_login = person(&[Role::AccountManager]);
    old_login.mfa_verified_at = Some(now() - Duration::hours(13));
    check(&request(Actor::Person(old_login), Action::ReadTenant), &facts, &["ACC-2"]);
    let mut future = person(&[Role::AccountManager]);
    future.mfa_verified_at = Some(now() + Duration::minutes(1));
    check(&request(Actor::Person(future), Action::ReadTenant), &facts, &["ACC-2"]);
    // Ten minutes old: fine for ordinary actions, not for sensitive ones.
    let mut ten = person(&[Role::AccountManager]);
    ten.mfa_verified_at = Some(now() - Duration::minutes(10));
    check(&request(Actor::Person(ten.clone()), Action::ReadTenant), &facts, &[]);
    for sensitive in [Action::ApproveChange, Action::ExportData] {
        check(&request(Actor::Person(ten.clone()), sensitive), &facts, &["ACC-2"]);
    }
    let mut officer = person(&[Role::SecurityOfficer]);
    officer.mfa_verified_at = Some(now() - Duration::minutes(10));
    check(&request(Actor::Person(officer.clone()), Action::LiftHold), &facts, &["ACC-2"]);
    check(&request(Actor::Person(officer), Action::ReadCredentialsMeta), &facts, &["ACC-2"]);
}

#[test]
fn acc4_api_keys() {
    let facts = Facts::good();
    let read = Action::ReadData(DataClass::ReportingDataset);
    check(&request(Actor::ApiKey(api_key(&[Permission::TenantRead])), read), &facts, &["ACC-1"]);
    let mut revoked = api_key(&[Permission::DatasetRead]);
    revoked.revoked_at = Some(now() - Duration::seconds(1));
    check(&request(Actor::ApiKey(revoked), read), &facts, &["ACC-4"]);
    let mut expired = api_key(&[Permission::DatasetRead]);
    expired.expires_at = Some(now());
    check(&request(Actor::ApiKey(expired), read), &facts, &["ACC-4"]);
    let mut scoped = api_key(&[Permission::DatasetRead]);
    scoped.tenants = [TenantId::new("globex").unwrap()].into_iter().collect();
    check(&request(Actor::ApiKey(scoped), read), &facts, &["ACC-1"]);
    check(
        &request(Actor::ApiKey(api_key(&[Permission::DataExport])), Action::ExportData),
        &facts,
        &["ACC-4"],
    );
}

#[test]
fn env1_production_refuses_unsafe_configuration() {
    let req = request(Actor::System, Action::Sync(Task::ReadReporting));
    let mut facts = Facts::good();
    facts.violations = vec!["local keystore with a generated key".into()];
    check(&req, &facts, &["ENV-1"]);
    facts.environment = Environment::Development;
    check(&req, &facts, &[]);
    let mut no_mfa = Facts::good();
    no_mfa.mfa_required = false;
    check(&req, &no_mfa, &["ENV-1"]);
    no_mfa.environment = Environment::Staging;
    let mut without = person(&[Role::Analyst]);
    without.mfa_verified_at = None;
    check(&request(Actor::Person(without), Action::ReadTenant), &no_mfa, &[]);
}

#[test]
fn auth1_to_5_grant_rules() {
    let req = request(Actor::System, Action::Sync(Task::ReadReporting));
    let mut facts = Facts::good();
    facts.grant = None;
    check(&req, &facts, &["AUTH-1"]);

    let with_grant = |f: &dyn Fn(&mut Grant)| {
        let mut facts = Facts::good();
        if let Some(g) = facts.grant.as_mut() {
            f(g);
        }
        facts
    };
    check(
        &req,
        &with_grant(&|g| g.revoke(crate::grant::RevocationCause::Offboarding, now()).unwrap()),
        &["AUTH-1"],
    );
    check(&req, &with_grant(&|g| g.expire(now()).unwrap()), &["AUTH-1"]);
    let pending = Grant::new(GrantId::new("g2").unwrap(), tenant(), Platform::Meta, BTreeSet::new(), now());
    let mut facts = Facts::good();
    facts.grant = Some(pending);
    check(&req, &facts, &["AUTH-1", "AUTH-2", "AUTH-3", "AUTH-4"]);

    // AUTH-2: a validation older than the window; an expired token; expired data access.
    let mut facts = Facts::good();
    let stale_at = now() + Duration::hours(24);
    check_at(&req, &facts, stale_at, &["AUTH-2"]);
    facts.grant = Some(active_grant());
    check_at(&req, &facts, now() + Duration::days(31), &["AUTH-2"]);

    // AUTH-3: target not authorized, or missing.
    let mut other = req.clone();
    other.target = Some(AccountRef::MetaAdAccount(MetaAdAccountId::new("act_2").unwrap()));
    check(&other, &Facts::good(), &["AUTH-3"]);
    let mut untargeted = req.clone();
    untargeted.target = None;
    check(&untargeted, &Facts::good(), &["AUTH-3"]);

    // AUTH-4: task not enabled, scope missing, task not on the platform.
    let mut narrow = Facts::good();
    if let Some(g) = narrow.grant.as_mut() {
        g.tasks.remove(&Task::ReadReporting);
    }
    check(&req, &narrow, &["AUTH-4"]);
    let read_only = {
        let mut g = active_grant();
        let mut ev = g.evidence().cloned().unwrap();
        ev.scopes = [Scope::new("ads_read").unwrap()].into_iter().collect();
        ev.validated_at = now();
        g.revalidate(ev, now()).unwrap();
        g
    };
    let mut facts = Facts::good();
    facts.grant = Some(read_only);
    // The shrink put the grant in review (AUTH-5) and change_campaign lacks ads_management (AUTH-4).
    check(&request(Actor::System, Action::ExecuteChange), &facts, &["AUTH-5", "AUTH-4"]);
    check(&request(Actor::System, Action::Sync(Task::ReadOrders)), &Facts::good(), &["AUTH-4"]);

    // SEG-1: a grant of another tenant never covers this one.
    let mut foreign = Facts::good();
    if let Some(g) = foreign.grant.as_mut() {
        g.tenant = TenantId::new("globex").unwrap();
    }
    check(&req, &foreign, &["SEG-1"]);
}

#[track_caller]
fn check_at(req: &Request, facts: &Facts, at: OffsetDateTime, expect: &[&str]) {
    let d = decide(req, &facts.ctx(), at);
    assert_eq!(d.denied_by(), expect, "{:?}", d.reasons);
}

#[test]
fn min2_pii_switch() {
    let mut facts = Facts::good();
    let mut g = Grant::new(
        GrantId::new("g3").unwrap(),
        tenant(),
        Platform::TikTokShop,
        [Task::ReadOrders, Task::ReadBuyerPii].into_iter().collect(),
        now(),
    );
    let shop = AccountRef::TikTokShop(crate::platform::TikTokShopId::new("7494049642642441621").unwrap());
    g.activate(
        GrantEvidence {
            owner: OwnerId::new("open-1").unwrap(),
            accounts: [shop.clone()].into_iter().collect(),
            scopes: [Scope::new("seller.order.info").unwrap()].into_iter().collect(),
            expires_at: None,
            data_access_expires_at: None,
            validated_at: now(),
        },
        now(),
    )
    .unwrap();
    facts.grant = Some(g);
    let mut req = request(Actor::System, Action::Sync(Task::ReadBuyerPii));
    req.target = Some(shop.clone());
    check(&req, &facts, &["MIN-2"]);
    if let Some(g) = facts.grant.as_mut() {
        g.pii_enabled = true;
    }
    check(&req, &facts, &[]);
    req.action = Action::Sync(Task::ReadOrders);
    check(&req, &facts, &[]);
}

#[test]
fn inc1_isolation() {
    let req = request(Actor::Person(person(&[Role::Analyst])), Action::Sync(Task::ReadReporting));
    let scopes = [
        IsolationScope::Tenant(tenant()),
        IsolationScope::Grant { tenant: tenant(), grant: GrantId::new("g1").unwrap() },
        IsolationScope::Platform(Platform::Meta),
        IsolationScope::Person(PersonId::new("p1").unwrap()),
    ];
    for scope in scopes {
        let mut facts = Facts::good();
        facts.isolations = vec![scope.clone()];
        check(&req, &facts, &["INC-1"]);
    }
    let mut unrelated = Facts::good();
    unrelated.isolations = vec![
        IsolationScope::Tenant(TenantId::new("globex").unwrap()),
        IsolationScope::Platform(Platform::Amazon),
        IsolationScope::ApiKey(ApiKeyId::new("other").unwrap()),
    ];
    check(&req, &unrelated, &[]);
    // Revocation and incident work stay possible inside an isolated scope.
    let mut isolated = Facts::good();
    isolated.isolations = vec![IsolationScope::Tenant(tenant())];
    check(&request(Actor::PlatformSignal(Platform::Meta), Action::RevokeGrant), &isolated, &[]);
    check(&request(Actor::Person(person(&[Role::Auditor])), Action::ReadAudit), &isolated, &[]);
}

#[test]
fn rgt1_restriction_and_objection() {
    let sync = request(Actor::System, Action::Sync(Task::ReadReporting));
    let mut facts = Facts::good();
    facts.restrictions = vec![ProcessingRestriction::Restricted { tenant: tenant() }];
    check(&sync, &facts, &["RGT-1"]);
    // Restricted data is kept and can still be exported for the client.
    check(&request(Actor::Person(person(&[Role::AccountManager])), Action::ExportData), &facts, &[]);

    let mut objection = Facts::good();
    objection.restrictions =
        vec![ProcessingRestriction::Objection { tenant: tenant(), purpose: Purpose::Improvement }];
    check(&sync, &objection, &[]);
    let mut improving = sync.clone();
    improving.purpose = Purpose::Improvement;
    check(&improving, &objection, &["RGT-1"]);

    let mut offboarding = Facts::good();
    offboarding.tenant_status = Some(TenantStatus::Offboarding);
    check(&sync, &offboarding, &["RGT-3"]);
    let mut unknown = Facts::good();
    unknown.tenant_status = None;
    check(&sync, &unknown, &["AUTH-1"]);
}

#[test]
fn system_and_signal_actors_are_narrow() {
    let facts = Facts::good();
    check(&request(Actor::System, Action::ExportData), &facts, &["AUTH-1"]);
    check(&request(Actor::System, Action::ManagePersonnel), &facts, &["AUTH-1"]);
    check(
        &request(Actor::PlatformSignal(Platform::Meta), Action::Sync(Task::ReadReporting)),
        &facts,
        &["AUTH-1"],
    );
    // A TikTok Shop signal cannot revoke a Meta grant.
    check(&request(Actor::PlatformSignal(Platform::TikTokShop), Action::RevokeGrant), &facts, &["AUTH-1"]);
    let missing_tenant =
        Request { tenant: None, ..request(Actor::System, Action::Sync(Task::ReadReporting)) };
    check(&missing_tenant, &facts, &["SEG-1"]);
}

// ---- properties ----

fn arb_action() -> impl Strategy<Value = Action> {
    let task = prop::sample::select(Task::ALL.to_vec());
    let class = prop::sample::select(DataClass::ALL.to_vec());
    prop_oneof![
        task.prop_map(Action::Sync),
        class.prop_map(Action::ReadData),
        prop::sample::select(vec![
            Action::ReadTenant,
            Action::ManageTenant,
            Action::ConnectGrant,
            Action::ValidateGrant,
            Action::ReviewGrant,
            Action::RevokeGrant,
            Action::UpdateStock,
            Action::ProposeChange,
            Action::ApproveChange,
            Action::ExecuteChange,
            Action::ReadCredentialsMeta,
            Action::ExportData,
            Action::ManageRetention,
            Action::PlaceHold,
            Action::LiftHold,
            Action::ReadAudit,
            Action::VerifyAudit,
            Action::ManageRights,
            Action::ManageIncident,
            Action::ManagePersonnel,
            Action::ManageApiKeys,
        ]),
    ]
}

fn arb_actor() -> impl Strategy<Value = Actor> {
    let roles = prop::collection::btree_set(prop::sample::select(Role::ALL.to_vec()), 0..3);
    let perms = prop::collection::btree_set(prop::sample::select(Permission::ALL.to_vec()), 0..6);
    prop_oneof![
        (roles, any::<bool>(), any::<bool>(), proptest::option::of(-30i64..30)).prop_map(
            |(roles, active, enrolled, mfa)| {
                let mut s = person(&[]);
                s.person.roles = roles;
                s.person.active = active;
                s.person.mfa_enrolled = enrolled;
                s.mfa_verified_at = mfa.map(|m| now() - Duration::minutes(m));
                Actor::Person(s)
            }
        ),
        (perms, any::<bool>()).prop_map(|(perms, revoked)| {
            let mut k = api_key(&[]);
            k.permissions = perms;
            k.revoked_at = revoked.then(now);
            Actor::ApiKey(k)
        }),
        Just(Actor::System),
        prop::sample::select(Platform::ALL.to_vec()).prop_map(Actor::PlatformSignal),
    ]
}

/// A single fact that must deny whenever it is relevant.
#[derive(Debug, Clone)]
enum Spoiler {
    UnsafeProduction,
    IsolateTenant,
    IsolateEverything,
    Restrict,
}

fn spoil(facts: &mut Facts, s: &Spoiler) {
    match s {
        Spoiler::UnsafeProduction => {
            facts.environment = Environment::Production;
            facts.violations.push("plain http to a non-loopback address".into());
        }
        Spoiler::IsolateTenant => facts.isolations.push(IsolationScope::Tenant(tenant())),
        Spoiler::IsolateEverything => {
            facts.isolations.extend(Platform::ALL.map(IsolationScope::Platform));
            facts.isolations.push(IsolationScope::Tenant(tenant()));
        }
        Spoiler::Restrict => facts.restrictions.push(ProcessingRestriction::Restricted { tenant: tenant() }),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Deny wins: adding a deny fact to any request never turns a deny into an allow, and when the fact
    /// applies to the action, an allow becomes a deny.
    #[test]
    fn deny_wins(actor in arb_actor(), action in arb_action(), spoiler in prop::sample::select(vec![
        Spoiler::UnsafeProduction, Spoiler::IsolateTenant, Spoiler::IsolateEverything, Spoiler::Restrict,
    ])) {
        let req = request(actor, action);
        let facts = Facts::good();
        let before = decide(&req, &facts.ctx(), now());
        let mut spoiled = facts.clone();
        spoil(&mut spoiled, &spoiler);
        let after = decide(&req, &spoiled.ctx(), now());
        if !before.is_allowed() {
            prop_assert!(!after.is_allowed());
        }
        let applies = match spoiler {
            Spoiler::UnsafeProduction => true,
            Spoiler::IsolateTenant | Spoiler::IsolateEverything => !matches!(
                action,
                Action::RevokeGrant | Action::ManageIncident | Action::ReadAudit | Action::VerifyAudit | Action::PlaceHold
                    | Action::ManagePersonnel | Action::ManageApiKeys
            ),
            Spoiler::Restrict => action.is_processing(),
        };
        if applies {
            prop_assert!(!after.is_allowed(), "{spoiler:?} should deny {action:?}: {:?}", after.reasons);
        }
    }

    /// A missing fact never allows what needs it: no grant, no tenant status, or no tenant.
    #[test]
    fn missing_facts_never_allow(actor in arb_actor(), action in arb_action(), which in 0u8..3) {
        let mut req = request(actor, action);
        let mut facts = Facts::good();
        let needed = match which {
            0 => { facts.grant = None; action.platform_task().is_some() }
            1 => { facts.tenant_status = None; action.is_processing() }
            _ => { req.tenant = None; action.is_tenant_scoped() }
        };
        let d = decide(&req, &facts.ctx(), now());
        if needed {
            prop_assert!(!d.is_allowed(), "{which} {action:?}: {:?}", d.reasons);
        }
    }

    /// Decisions are deterministic, total (no panic on any input) and an allow always carries a permit
    /// reason and no deny reason.
    #[test]
    fn deterministic_and_explained(actor in arb_actor(), action in arb_action(), offset in -100_000i64..100_000, env in 0u8..3) {
        let req = request(actor, action);
        let mut facts = Facts::good();
        facts.environment = [Environment::Development, Environment::Staging, Environment::Production][env as usize];
        let at = now() + Duration::seconds(offset);
        let a = decide(&req, &facts.ctx(), at);
        let b = decide(&req, &facts.ctx(), at);
        prop_assert_eq!(&a, &b);
        prop_assert!(!a.reasons.is_empty());
        if a.is_allowed() {
            prop_assert!(a.denials().next().is_none());
            prop_assert!(a.reasons.iter().any(|r| matches!(r, Reason::PermissionGranted(_))));
        }
    }
}
