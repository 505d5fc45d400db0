//! Unit tests of the JSON columns: every structured value round-trips, and what the store reads back
//! is checked like input (unknown names and bad identifiers are corrupt data, not a panic).

use custodian_core::approval::{ChangeField, ChangeValue, ExecutionOutcome, FieldChange};
use custodian_core::data::CampaignId;
use custodian_core::grant::RevocationCause;
use custodian_core::incident::{
    IsolationScope, Notification, PostIncidentReview, Recipient, RemediationStep,
};
use custodian_core::platform::{AccountRef, MetaAdAccountId, Platform};
use custodian_core::retention::{DeletionCause, HoldScope};
use custodian_core::tenant::ContractTerms;
use time::macros::datetime;

use super::*;

const T: time::OffsetDateTime = datetime!(2025-01-01 00:00 UTC);

#[test]
fn contract_terms_round_trip() {
    let terms = ContractTerms {
        retention_overrides: [(DataClass::ReportingDataset, RetentionDays::new(90).unwrap())].into(),
    };
    let json = contract_json(&terms).unwrap();
    assert_eq!(json, r#"{"retention_overrides":{"reporting_dataset":90}}"#);
    assert_eq!(contract(&json).unwrap(), terms);
    assert!(contract(r#"{"retention_overrides":{"reporting_dataset":0}}"#).is_err());
    assert!(contract(r#"{"retention_overrides":{"nope":9}}"#).is_err());
    assert!(contract("not json").is_err());
}

#[test]
fn grant_review_and_revocation_round_trip() {
    let account = AccountRef::MetaAdAccount(MetaAdAccountId::new("act_1").unwrap());
    let review_in = vec![
        EvidenceChange::OwnerChanged { from: "a".parse().unwrap(), to: "b".parse().unwrap() },
        EvidenceChange::AccountsRemoved([account].into()),
        EvidenceChange::ScopesShrunk([Scope::new("ads_read").unwrap()].into()),
    ];
    assert_eq!(review(&review_json(&review_in).unwrap()).unwrap(), review_in);
    for cause in [
        RevocationCause::PlatformSignal { platform: Platform::Ebay, signal: "revoked".to_owned() },
        RevocationCause::CredentialsRejected { detail: "invalid_grant".to_owned() },
        RevocationCause::Requested { by: "p1".parse().unwrap() },
        RevocationCause::Offboarding,
    ] {
        assert_eq!(revocation(&revocation_json(&cause).unwrap()).unwrap(), cause);
    }
}

#[test]
fn change_diffs_and_states_round_trip() {
    let account = AccountRef::MetaAdAccount(MetaAdAccountId::new("act_1").unwrap());
    let changes = vec![
        FieldChange::new(ChangeField::Status, None, ChangeValue::Status(CampaignStatus::Paused)).unwrap(),
        FieldChange::new(ChangeField::DailyBudget, Some(ChangeValue::Micros(5)), ChangeValue::Micros(7))
            .unwrap(),
        FieldChange::new(
            ChangeField::Schedule,
            None,
            ChangeValue::Schedule { start: T, end: Some(T + time::Duration::days(1)) },
        )
        .unwrap(),
    ];
    let d = ChangeDiff::new(account, CampaignId::new("c1").unwrap(), changes).unwrap();
    assert_eq!(diff(&diff_json(&d).unwrap()).unwrap(), d);
    for state in [
        ChangeState::Proposed,
        ChangeState::Approved { by: "p".parse().unwrap(), at: T, mfa_verified_at: T },
        ChangeState::Rejected { by: "p".parse().unwrap(), at: T, reason: "no".to_owned() },
        ChangeState::Executed { at: T, outcome: ExecutionOutcome::Confirmed },
        ChangeState::Executed { at: T, outcome: ExecutionOutcome::Mismatch(vec![ChangeField::Bid]) },
        ChangeState::Failed { at: T, error: "boom".to_owned() },
    ] {
        let (name, detail) = change_state_json(&state).unwrap();
        assert_eq!(change_state(name, detail.as_deref()).unwrap(), state);
    }
    assert!(change_state("approved", None).is_err());
}

#[test]
fn incident_details_round_trip() {
    let scopes_in = vec![
        IsolationScope::Tenant("t".parse().unwrap()),
        IsolationScope::Grant { tenant: "t".parse().unwrap(), grant: "g".parse().unwrap() },
        IsolationScope::Platform(Platform::TikTokShop),
        IsolationScope::Person("p".parse().unwrap()),
        IsolationScope::ApiKey("k".parse().unwrap()),
    ];
    assert_eq!(scopes(&scopes_json(&scopes_in).unwrap()).unwrap(), scopes_in);
    let notes = vec![
        Notification { recipient: Recipient::Client("t".parse().unwrap()), due_at: T, sent_at: None },
        Notification { recipient: Recipient::Platform(Platform::Amazon), due_at: T, sent_at: Some(T) },
    ];
    assert_eq!(notifications(&notifications_json(&notes).unwrap()).unwrap(), notes);
    let steps = vec![RemediationStep { at: T, by: "p".parse().unwrap(), action: "rotated keys".to_owned() }];
    assert_eq!(remediation(&remediation_json(&steps).unwrap()).unwrap(), steps);
    let r = PostIncidentReview {
        at: T,
        by: "p".parse().unwrap(),
        summary: "s".to_owned(),
        follow_ups: vec!["f".to_owned()],
    };
    assert_eq!(incident_review(&incident_review_json(&r).unwrap()).unwrap(), r);
}

#[test]
fn holds_and_receipts_round_trip() {
    for scope in
        [HoldScope::Tenant, HoldScope::Grant("g".parse().unwrap()), HoldScope::Class(DataClass::BuyerPii)]
    {
        assert_eq!(hold_scope(&hold_scope_json(&scope).unwrap()).unwrap(), scope);
    }
    for c in [
        DeletionCause::Revocation,
        DeletionCause::ClientRequest("r".parse().unwrap()),
        DeletionCause::Offboarding,
        DeletionCause::Retention,
    ] {
        assert_eq!(cause(&cause_json(&c).unwrap()).unwrap(), c);
    }
    let items = vec![ReceiptItem { store: StoreKind::Keys, what: "data key".to_owned(), deleted: 1 }];
    assert_eq!(
        entries("items", &items_json(&items).unwrap()).unwrap(),
        vec![(StoreKind::Keys, "data key".to_owned(), 1)]
    );
}
