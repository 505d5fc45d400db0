//! Tests of the grant state machine, freshness and AUTH-5 change detection.

use time::macros::datetime;

use super::*;
use crate::platform::{MetaAdAccountId, TikTokShopId};

fn t0() -> OffsetDateTime {
    datetime!(2026-03-01 12:00 UTC)
}

fn meta(n: &str) -> AccountRef {
    AccountRef::MetaAdAccount(MetaAdAccountId::new(n).unwrap())
}

fn evidence(owner: &str, accounts: &[&str], scopes: &[&str], at: OffsetDateTime) -> GrantEvidence {
    GrantEvidence {
        owner: OwnerId::new(owner).unwrap(),
        accounts: accounts.iter().map(|a| meta(a)).collect(),
        scopes: scopes.iter().map(|s| Scope::new(*s).unwrap()).collect(),
        expires_at: None,
        data_access_expires_at: None,
        validated_at: at,
    }
}

fn grant() -> Grant {
    Grant::new(
        GrantId::new("g1").unwrap(),
        TenantId::new("t1").unwrap(),
        Platform::Meta,
        [Task::ReadReporting].into_iter().collect(),
        t0(),
    )
}

#[test]
fn lifecycle_happy_path() {
    let mut g = grant();
    assert_eq!(g.state(), GrantState::Pending);
    assert!(!g.pii_enabled, "pii switch is off by default (MIN-2)");
    g.activate(evidence("u1", &["1"], &["ads_read"], t0()), t0()).unwrap();
    assert_eq!(g.state(), GrantState::Active);
    let later = t0() + Duration::hours(1);
    assert_eq!(
        g.revalidate(evidence("u1", &["1", "2"], &["ads_read", "ads_management"], later), later).unwrap(),
        RevalidateOutcome::Refreshed,
        "additions are not review triggers"
    );
    g.revoke(RevocationCause::Offboarding, later).unwrap();
    assert_eq!(g.state(), GrantState::Revoked);
    assert_eq!(g.revocation(), Some(&RevocationCause::Offboarding));
}

#[track_caller]
fn check_illegal(g: &mut Grant, event: GrantEvent) {
    let from = g.state();
    let result = match event {
        GrantEvent::Activate => g.activate(evidence("u1", &["1"], &["ads_read"], t0()), t0()),
        GrantEvent::Revalidate => g.revalidate(evidence("u1", &["1"], &["ads_read"], t0()), t0()).map(|_| ()),
        GrantEvent::ApproveReview => g.approve_review(t0()),
        GrantEvent::Revoke => g.revoke(RevocationCause::Offboarding, t0()),
        GrantEvent::Expire => g.expire(t0()),
        GrantEvent::SetPii => g.set_pii_enabled(true, t0()),
    };
    assert_eq!(result, Err(GrantError::IllegalTransition { from, event }));
    assert_eq!(g.state(), from, "a refused transition changes nothing");
}

#[test]
fn illegal_transitions_are_errors() {
    let mut pending = grant();
    check_illegal(&mut pending, GrantEvent::Revalidate);
    check_illegal(&mut pending, GrantEvent::ApproveReview);
    check_illegal(&mut pending, GrantEvent::Expire);

    let mut active = grant();
    active.activate(evidence("u1", &["1"], &["ads_read"], t0()), t0()).unwrap();
    check_illegal(&mut active, GrantEvent::Activate);
    check_illegal(&mut active, GrantEvent::ApproveReview);

    for terminal in [GrantEvent::Revoke, GrantEvent::Expire] {
        let mut g = grant();
        g.activate(evidence("u1", &["1"], &["ads_read"], t0()), t0()).unwrap();
        match terminal {
            GrantEvent::Revoke => g.revoke(RevocationCause::Offboarding, t0()).unwrap(),
            _ => g.expire(t0()).unwrap(),
        }
        for e in [
            GrantEvent::Activate,
            GrantEvent::Revalidate,
            GrantEvent::ApproveReview,
            GrantEvent::Revoke,
            GrantEvent::Expire,
            GrantEvent::SetPii,
        ] {
            check_illegal(&mut g, e);
        }
    }
}

#[track_caller]
fn check_review(new: GrantEvidence, expect: &[&str]) {
    let mut g = grant();
    g.activate(evidence("u1", &["1", "2"], &["ads_read", "ads_management"], t0()), t0()).unwrap();
    let outcome = g.revalidate(new, t0() + Duration::minutes(1)).unwrap();
    let got: Vec<String> = match outcome {
        RevalidateOutcome::Refreshed => Vec::new(),
        RevalidateOutcome::NeedsReview(changes) => changes.iter().map(ToString::to_string).collect(),
    };
    assert_eq!(got, expect);
    let expected_state = if expect.is_empty() { GrantState::Active } else { GrantState::NeedsReview };
    assert_eq!(g.state(), expected_state);
}

#[test]
fn auth5_change_detection() {
    let at = t0() + Duration::minutes(1);
    check_review(evidence("u1", &["1", "2"], &["ads_read", "ads_management"], at), &[]);
    check_review(
        evidence("u2", &["1", "2"], &["ads_read", "ads_management"], at),
        &["owner changed from `u1` to `u2`"],
    );
    check_review(
        evidence("u1", &["1"], &["ads_read", "ads_management"], at),
        &["accounts removed: meta:act_2"],
    );
    check_review(evidence("u1", &["1", "2"], &["ads_read"], at), &["scopes removed: ads_management"]);
    // ads_management covers ads_read: losing the explicit read scope is not a shrink.
    check_review(evidence("u1", &["1", "2"], &["ads_management"], at), &[]);
    check_review(
        evidence("u9", &[], &[], at),
        &[
            "owner changed from `u1` to `u9`",
            "accounts removed: meta:act_1, meta:act_2",
            "scopes removed: ads_management, ads_read",
        ],
    );
}

#[test]
fn review_then_reapproval() {
    let mut g = grant();
    g.activate(evidence("u1", &["1"], &["ads_read"], t0()), t0()).unwrap();
    let at = t0() + Duration::minutes(1);
    g.revalidate(evidence("u2", &["1"], &["ads_read"], at), at).unwrap();
    assert_eq!(g.state(), GrantState::NeedsReview);
    // A further validation in review adds nothing new and keeps the grant in review.
    let at2 = at + Duration::minutes(1);
    assert!(matches!(
        g.revalidate(evidence("u2", &["1"], &["ads_read"], at2), at2).unwrap(),
        RevalidateOutcome::NeedsReview(_)
    ));
    assert_eq!(g.review_reasons().len(), 1);
    g.approve_review(at2).unwrap();
    assert_eq!(g.state(), GrantState::Active);
    assert!(g.review_reasons().is_empty());
    // The approved evidence is the new baseline.
    let at3 = at2 + Duration::minutes(1);
    assert_eq!(
        g.revalidate(evidence("u2", &["1"], &["ads_read"], at3), at3).unwrap(),
        RevalidateOutcome::Refreshed
    );
}

#[test]
fn evidence_must_match_platform_and_be_newer() {
    let mut g = grant();
    let mut wrong = evidence("u1", &[], &["ads_read"], t0());
    wrong.accounts.insert(AccountRef::TikTokShop(TikTokShopId::new("1").unwrap()));
    assert_eq!(
        g.activate(wrong, t0()),
        Err(GrantError::WrongPlatform { expected: Platform::Meta, found: Platform::TikTokShop })
    );
    g.activate(evidence("u1", &["1"], &["ads_read"], t0()), t0()).unwrap();
    let old = t0() - Duration::hours(1);
    assert_eq!(
        g.revalidate(evidence("u1", &["1"], &["ads_read"], old), t0()),
        Err(GrantError::OutdatedEvidence { validated_at: old })
    );
}

#[test]
fn freshness_window() {
    let mut g = grant();
    assert_eq!(g.freshness(t0(), DEFAULT_FRESHNESS), Freshness::Never);
    g.activate(evidence("u1", &["1"], &["ads_read"], t0()), t0()).unwrap();
    assert_eq!(g.freshness(t0() + Duration::hours(24), DEFAULT_FRESHNESS), Freshness::Fresh);
    assert_eq!(
        g.freshness(t0() + Duration::hours(24) + Duration::seconds(1), DEFAULT_FRESHNESS),
        Freshness::Stale
    );
    assert_eq!(
        g.freshness(t0() - Duration::seconds(1), DEFAULT_FRESHNESS),
        Freshness::Stale,
        "future validation is not trusted"
    );
}
