//! Round trips of the JSON documents, without a database.

use std::collections::BTreeMap;

use custodian_core::approval::{ChangeDiff, ChangeField, ChangeRequest, ChangeValue, FieldChange};
use custodian_core::data::{CampaignStatus, DataClass};
use custodian_core::grant::RevocationCause;
use custodian_core::platform::{AccountRef, MetaAdAccountId, Platform};
use custodian_core::retention::RetentionDays;
use custodian_core::tenant::ContractTerms;
use time::macros::datetime;

use super::*;

#[test]
fn contract_terms_round_trip() {
    let terms = ContractTerms {
        retention_overrides: BTreeMap::from([(DataClass::ReportingDataset, RetentionDays::new(90).unwrap())]),
    };
    let json = contract_to_json(&terms).unwrap();
    assert_eq!(json, r#"{"reporting_dataset":90}"#);
    assert_eq!(contract_from_json(&json).unwrap(), terms);
}

#[test]
fn revocation_round_trips_and_rejects_nul() {
    let cause = RevocationCause::PlatformSignal { platform: Platform::Ebay, signal: "revoked".to_owned() };
    assert_eq!(revocation_from_json(&revocation_to_json(&cause).unwrap()).unwrap(), cause);
    let nul = RevocationCause::CredentialsRejected { detail: "a\0b".to_owned() };
    assert!(matches!(revocation_to_json(&nul), Err(StoreError::Invalid(_))));
}

#[test]
fn change_request_keeps_nanoseconds() {
    let start = datetime!(2025-01-01 00:00:00.123456789 UTC);
    let diff = ChangeDiff::new(
        AccountRef::MetaAdAccount(MetaAdAccountId::new("act_1").unwrap()),
        "cmp-1".parse().unwrap(),
        vec![
            FieldChange::new(ChangeField::Schedule, None, ChangeValue::Schedule { start, end: None })
                .unwrap(),
            FieldChange::new(
                ChangeField::Status,
                Some(ChangeValue::Status(CampaignStatus::Active)),
                ChangeValue::Status(CampaignStatus::Paused),
            )
            .unwrap(),
        ],
    )
    .unwrap();
    let change = ChangeRequest::propose(
        "ch-1".parse().unwrap(),
        "tenant-1".parse().unwrap(),
        "grant-1".parse().unwrap(),
        diff,
        "person-1".parse().unwrap(),
        start,
    );
    let json = change_to_json(&change).unwrap();
    let back = change_from_json("tenant-1", "ch-1", "grant-1", change.diff_hash(), &json).unwrap();
    assert_eq!(back, change);
}
