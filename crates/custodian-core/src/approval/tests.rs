//! Tests of campaign change requests: diff validation and hashing, four-eyes approval with step-up MFA,
//! execution bound to the approved diff, and read-back confirmation (CAM-1, CAM-2).

use expect_test::expect;
use proptest::prelude::*;
use time::macros::datetime;

use super::*;
use crate::platform::{AmazonMarketplaceId, AmazonSellerId, MetaAdAccountId, TikTokAdvertiserId};

const PROPOSED: OffsetDateTime = datetime!(2025-05-01 10:00 UTC);
const STEP_UP: Duration = Duration::minutes(5);

fn person(s: &str) -> PersonId {
    PersonId::new(s).unwrap()
}

fn meta() -> AccountRef {
    AccountRef::MetaAdAccount(MetaAdAccountId::new("act_42").unwrap())
}

fn change(field: ChangeField, from: Option<ChangeValue>, to: ChangeValue) -> FieldChange {
    FieldChange::new(field, from, to).unwrap()
}

fn diff() -> ChangeDiff {
    ChangeDiff::new(
        meta(),
        CampaignId::new("120200000001").unwrap(),
        vec![
            change(
                ChangeField::DailyBudget,
                Some(ChangeValue::Micros(50_000_000)),
                ChangeValue::Micros(80_000_000),
            ),
            change(
                ChangeField::Status,
                Some(ChangeValue::Status(CampaignStatus::Paused)),
                ChangeValue::Status(CampaignStatus::Active),
            ),
        ],
    )
    .unwrap()
}

fn proposal() -> ChangeRequest {
    ChangeRequest::propose(
        ChangeId::new("ch-1").unwrap(),
        TenantId::new("t1").unwrap(),
        GrantId::new("g1").unwrap(),
        diff(),
        person("alice"),
        PROPOSED,
    )
}

fn approved() -> ChangeRequest {
    let mut c = proposal();
    let at = PROPOSED + Duration::hours(1);
    c.approve(&person("bob"), Some(at - Duration::minutes(1)), at, STEP_UP).unwrap();
    c
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn field_changes_are_validated() {
    let sched = |start, end| ChangeValue::Schedule { start, end };
    assert_eq!(
        FieldChange::new(ChangeField::Status, None, ChangeValue::Micros(1)),
        Err(ApprovalError::ValueKind(ChangeField::Status))
    );
    assert_eq!(
        FieldChange::new(
            ChangeField::Bid,
            Some(ChangeValue::Status(CampaignStatus::Active)),
            ChangeValue::Micros(1)
        ),
        Err(ApprovalError::ValueKind(ChangeField::Bid))
    );
    assert_eq!(
        FieldChange::new(ChangeField::DailyBudget, None, ChangeValue::Micros(0)),
        Err(ApprovalError::NotPositive(ChangeField::DailyBudget))
    );
    assert_eq!(
        FieldChange::new(ChangeField::LifetimeBudget, Some(ChangeValue::Micros(-5)), ChangeValue::Micros(5)),
        Err(ApprovalError::NotPositive(ChangeField::LifetimeBudget))
    );
    assert_eq!(
        FieldChange::new(ChangeField::Schedule, None, sched(PROPOSED, Some(PROPOSED))),
        Err(ApprovalError::ScheduleEndsBeforeStart)
    );
    assert!(FieldChange::new(ChangeField::Schedule, None, sched(PROPOSED, None)).is_ok());
    assert!(FieldChange::new(ChangeField::Bid, None, ChangeValue::Micros(1)).is_ok());
    expect!["`daily_budget` must be a positive amount"]
        .assert_eq(&ApprovalError::NotPositive(ChangeField::DailyBudget).to_string());
}

#[test]
fn diffs_are_validated_sorted_and_hashed() {
    let campaign = CampaignId::new("c1").unwrap();
    let bid = change(ChangeField::Bid, None, ChangeValue::Micros(1_000));
    assert_eq!(ChangeDiff::new(meta(), campaign.clone(), vec![]), Err(ApprovalError::EmptyDiff));
    assert_eq!(
        ChangeDiff::new(meta(), campaign.clone(), vec![bid, bid]),
        Err(ApprovalError::DuplicateField(ChangeField::Bid))
    );
    let shop = AccountRef::AmazonSeller {
        seller: AmazonSellerId::new("A1").unwrap(),
        marketplace: AmazonMarketplaceId::new("ATVPDKIKX0DER").unwrap(),
    };
    assert_eq!(ChangeDiff::new(shop, campaign, vec![bid]), Err(ApprovalError::NotAnAdAccount));

    let d = diff();
    let fields: Vec<ChangeField> = d.changes().iter().map(FieldChange::field).collect();
    assert_eq!(fields, vec![ChangeField::Status, ChangeField::DailyBudget]);
    let mut reversed = d.changes().to_vec();
    reversed.reverse();
    let same = ChangeDiff::new(meta(), d.campaign().clone(), reversed).unwrap();
    assert_eq!(same.hash(), d.hash(), "input order does not matter");
    expect!["9ae60749ab2112b3589a0ba6df332c644ef9ca70680e5276e4ccbed43b7d4b7e"].assert_eq(&hex(&d.hash()));
}

#[test]
fn four_eyes_and_step_up_mfa() {
    let now = PROPOSED + Duration::hours(1);
    let fresh = Some(now - Duration::minutes(1));
    let mut c = proposal();
    assert_eq!(c.approve(&person("alice"), fresh, now, STEP_UP), Err(ApprovalError::SelfApproval));
    assert_eq!(c.approve(&person("bob"), None, now, STEP_UP), Err(ApprovalError::MfaMissing));
    assert_eq!(
        c.approve(&person("bob"), Some(now - STEP_UP - Duration::seconds(1)), now, STEP_UP),
        Err(ApprovalError::MfaStale)
    );
    assert_eq!(
        c.approve(&person("bob"), Some(now + Duration::seconds(1)), now, STEP_UP),
        Err(ApprovalError::MfaInFuture)
    );
    assert_eq!(
        c.approve(&person("bob"), fresh, PROPOSED - Duration::seconds(1), STEP_UP),
        Err(ApprovalError::BeforeLastEvent { at: PROPOSED - Duration::seconds(1) })
    );
    assert_eq!(c.state(), &ChangeState::Proposed, "refusals change nothing");
    // Exactly at the edge of the step-up window is still fresh.
    c.approve(&person("bob"), Some(now - STEP_UP), now, STEP_UP).unwrap();
    assert_eq!(
        c.state(),
        &ChangeState::Approved { by: person("bob"), at: now, mfa_verified_at: now - STEP_UP }
    );
    assert_eq!(
        c.approve(&person("carol"), fresh, now, STEP_UP),
        Err(ApprovalError::IllegalTransition { from: "approved", event: ChangeEvent::Approve })
    );
    assert_eq!(
        c.reject(&person("carol"), "no", now),
        Err(ApprovalError::IllegalTransition { from: "approved", event: ChangeEvent::Reject })
    );
}

#[test]
fn rejection() {
    let mut c = proposal();
    assert_eq!(c.reject(&person("bob"), " ", PROPOSED), Err(ApprovalError::EmptyReason));
    c.reject(&person("alice"), "withdrawn", PROPOSED).unwrap();
    assert!(matches!(c.state(), ChangeState::Rejected { reason, .. } if reason == "withdrawn"));
    assert_eq!(
        c.authorize_execution(&diff(), PROPOSED),
        Err(ApprovalError::IllegalTransition { from: "rejected", event: ChangeEvent::Execute })
    );
}

#[test]
fn execution_is_bound_to_the_approved_diff() {
    assert_eq!(
        proposal().authorize_execution(&diff(), PROPOSED),
        Err(ApprovalError::IllegalTransition { from: "proposed", event: ChangeEvent::Execute })
    );
    let c = approved();
    let approved_at = PROPOSED + Duration::hours(1);
    assert_eq!(c.authorize_execution(&diff(), approved_at), Ok(()));
    assert_eq!(c.authorize_execution(&diff(), approved_at + APPROVAL_TTL), Ok(()));
    assert_eq!(
        c.authorize_execution(&diff(), approved_at + APPROVAL_TTL + Duration::seconds(1)),
        Err(ApprovalError::ApprovalExpired)
    );
    let bigger = ChangeDiff::new(
        meta(),
        CampaignId::new("120200000001").unwrap(),
        vec![
            change(
                ChangeField::DailyBudget,
                Some(ChangeValue::Micros(50_000_000)),
                ChangeValue::Micros(800_000_000),
            ),
            change(
                ChangeField::Status,
                Some(ChangeValue::Status(CampaignStatus::Paused)),
                ChangeValue::Status(CampaignStatus::Active),
            ),
        ],
    )
    .unwrap();
    assert_eq!(c.authorize_execution(&bigger, approved_at), Err(ApprovalError::DiffMismatch));
}

#[test]
fn restore_refuses_a_tampered_hash() {
    let c = approved();
    let restore = |hash| {
        ChangeRequest::restore(
            c.id().clone(),
            c.tenant().clone(),
            c.grant().clone(),
            c.diff().clone(),
            hash,
            c.proposed_by().clone(),
            c.proposed_at(),
            c.state().clone(),
        )
    };
    assert_eq!(restore(*c.diff_hash()), Ok(c.clone()));
    let mut bad = *c.diff_hash();
    bad[0] ^= 1;
    assert_eq!(restore(bad), Err(ApprovalError::StoredHashMismatch));
}

#[test]
fn read_back_confirms_or_reports_mismatches() {
    let at = PROPOSED + Duration::hours(2);
    let exact = CampaignReadback {
        status: Some(CampaignStatus::Active),
        daily_budget_micros: Some(80_000_000),
        ..CampaignReadback::default()
    };
    let mut c = approved();
    assert_eq!(c.record_execution(&exact, at), Ok(ExecutionOutcome::Confirmed));
    assert_eq!(c.state(), &ChangeState::Executed { at, outcome: ExecutionOutcome::Confirmed });
    assert_eq!(
        c.record_execution(&exact, at),
        Err(ApprovalError::IllegalTransition { from: "executed", event: ChangeEvent::RecordExecution })
    );
    assert!(c.authorize_execution(&diff(), at).is_err(), "an executed change cannot run again");

    let wrong_budget = CampaignReadback { daily_budget_micros: Some(8_000_000), ..exact };
    assert_eq!(
        approved().record_execution(&wrong_budget, at),
        Ok(ExecutionOutcome::Mismatch(vec![ChangeField::DailyBudget]))
    );
    assert_eq!(
        approved().record_execution(&CampaignReadback::default(), at),
        Ok(ExecutionOutcome::Mismatch(vec![ChangeField::Status, ChangeField::DailyBudget]))
    );

    let start = datetime!(2025-06-01 00:00 UTC);
    let schedule = ChangeDiff::new(
        AccountRef::TikTokAdvertiser(TikTokAdvertiserId::new("7000000000001").unwrap()),
        CampaignId::new("c9").unwrap(),
        vec![change(ChangeField::Schedule, None, ChangeValue::Schedule { start, end: None })],
    )
    .unwrap();
    let mut c = ChangeRequest::propose(
        ChangeId::new("ch-2").unwrap(),
        TenantId::new("t1").unwrap(),
        GrantId::new("g2").unwrap(),
        schedule,
        person("alice"),
        PROPOSED,
    );
    c.approve(&person("bob"), Some(PROPOSED), PROPOSED, STEP_UP).unwrap();
    let mut readback =
        CampaignReadback { schedule_start: Some(start), schedule_end: Some(None), ..Default::default() };
    let mut other = c.clone();
    assert_eq!(c.record_execution(&readback, at), Ok(ExecutionOutcome::Confirmed));
    readback.schedule_end = Some(Some(start + Duration::days(1)));
    assert_eq!(
        other.record_execution(&readback, at),
        Ok(ExecutionOutcome::Mismatch(vec![ChangeField::Schedule]))
    );
}

#[test]
fn failures_are_recorded_once() {
    let mut c = approved();
    let at = PROPOSED + Duration::hours(2);
    assert_eq!(c.record_failure("x", PROPOSED), Err(ApprovalError::BeforeLastEvent { at: PROPOSED }));
    c.record_failure("platform said 100:\n invalid bid", at).unwrap();
    assert_eq!(c.state(), &ChangeState::Failed { at, error: "platform said 100: invalid bid".into() });
    assert_eq!(
        c.record_failure("again", at),
        Err(ApprovalError::IllegalTransition { from: "failed", event: ChangeEvent::RecordFailure })
    );
    assert_eq!(
        proposal().record_failure("x", at),
        Err(ApprovalError::IllegalTransition { from: "proposed", event: ChangeEvent::RecordFailure })
    );
}

// ---- properties ----

fn arb_value(field: ChangeField) -> BoxedStrategy<ChangeValue> {
    match field {
        ChangeField::Status => prop_oneof![
            Just(CampaignStatus::Active),
            Just(CampaignStatus::Paused),
            Just(CampaignStatus::Archived),
            Just(CampaignStatus::Deleted),
        ]
        .prop_map(ChangeValue::Status)
        .boxed(),
        ChangeField::Schedule => (0..1_000_000_i64, proptest::option::of(1..1_000_000_i64))
            .prop_map(|(s, len)| {
                let start = PROPOSED + Duration::minutes(s);
                ChangeValue::Schedule { start, end: len.map(|l| start + Duration::minutes(l)) }
            })
            .boxed(),
        _ => (1..i64::MAX).prop_map(ChangeValue::Micros).boxed(),
    }
}

fn arb_change(field: ChangeField) -> impl Strategy<Value = FieldChange> {
    (proptest::option::of(arb_value(field)), arb_value(field))
        .prop_map(move |(from, to)| FieldChange::new(field, from, to).unwrap())
}

fn arb_diff() -> impl Strategy<Value = ChangeDiff> {
    let fields = proptest::sample::subsequence(ChangeField::ALL.to_vec(), 1..=5);
    (fields, 1..1000_u32, 1..1000_u32)
        .prop_flat_map(|(fields, account, campaign)| {
            let changes: Vec<_> = fields.into_iter().map(arb_change).collect();
            (changes, Just(account), Just(campaign))
        })
        .prop_map(|(changes, account, campaign)| {
            let account = AccountRef::MetaAdAccount(MetaAdAccountId::new(account.to_string()).unwrap());
            ChangeDiff::new(account, CampaignId::new(format!("c{campaign}")).unwrap(), changes).unwrap()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// CAM-1: any diff other than the approved one is refused at execution: a different account, campaign,
    /// set of fields, `from` or `to` value. Only the approved diff itself is allowed.
    #[test]
    fn any_tampering_is_refused(approved_diff in arb_diff(), candidate in arb_diff()) {
        let mut c = ChangeRequest::propose(
            ChangeId::new("ch").unwrap(),
            TenantId::new("t1").unwrap(),
            GrantId::new("g1").unwrap(),
            approved_diff.clone(),
            person("alice"),
            PROPOSED,
        );
        c.approve(&person("bob"), Some(PROPOSED), PROPOSED, STEP_UP).unwrap();
        prop_assert_eq!(c.authorize_execution(&approved_diff, PROPOSED), Ok(()));
        let expected = if candidate == approved_diff { Ok(()) } else { Err(ApprovalError::DiffMismatch) };
        prop_assert_eq!(c.authorize_execution(&candidate, PROPOSED), expected);
    }

    /// CAM-1: a single-field edit of an approved diff (one `to` value changed) is refused.
    #[test]
    fn single_field_edits_are_refused(approved_diff in arb_diff(), index in any::<prop::sample::Index>(), delta in 1..1000_i64) {
        let mut changes = approved_diff.changes().to_vec();
        let i = index.index(changes.len());
        let original = changes[i];
        let to = match *original.to() {
            ChangeValue::Status(s) => ChangeValue::Status(if s == CampaignStatus::Active { CampaignStatus::Paused } else { CampaignStatus::Active }),
            ChangeValue::Micros(m) => ChangeValue::Micros(if m > delta { m - delta } else { m + delta }),
            ChangeValue::Schedule { start, end } => ChangeValue::Schedule { start: start - Duration::seconds(delta), end },
        };
        changes[i] = FieldChange::new(original.field(), original.from().copied(), to).unwrap();
        let tampered = ChangeDiff::new(approved_diff.account().clone(), approved_diff.campaign().clone(), changes).unwrap();
        let mut c = ChangeRequest::propose(
            ChangeId::new("ch").unwrap(),
            TenantId::new("t1").unwrap(),
            GrantId::new("g1").unwrap(),
            approved_diff,
            person("alice"),
            PROPOSED,
        );
        c.approve(&person("bob"), Some(PROPOSED), PROPOSED, STEP_UP).unwrap();
        prop_assert_eq!(c.authorize_execution(&tampered, PROPOSED), Err(ApprovalError::DiffMismatch));
    }
}
