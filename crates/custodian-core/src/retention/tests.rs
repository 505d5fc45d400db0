//! Tests of retention rules, legal holds, plans, purge plans and deletion receipts (RET-1..6).

use std::fmt::Write as _;

use expect_test::{Expect, expect};
use proptest::prelude::*;
use time::macros::datetime;

use super::*;

fn tenant(s: &str) -> TenantId {
    TenantId::new(s).unwrap()
}

fn grant(s: &str) -> GrantId {
    GrantId::new(s).unwrap()
}

fn person(s: &str) -> PersonId {
    PersonId::new(s).unwrap()
}

fn days(d: u32) -> RetentionPeriod {
    RetentionPeriod::Days(RetentionDays::new(d).unwrap())
}

fn record(class: DataClass, key: &str, stored_at: OffsetDateTime) -> RecordMeta {
    RecordMeta { tenant: tenant("t1"), grant: Some(grant("g1")), class, key: key.into(), stored_at }
}

fn contract(overrides: &[(DataClass, u32)]) -> ContractTerms {
    ContractTerms {
        retention_overrides: overrides.iter().map(|(c, d)| (*c, RetentionDays::new(*d).unwrap())).collect(),
    }
}

fn hold(id: &str, scope: HoldScope, placed_at: OffsetDateTime, ends_at: OffsetDateTime) -> LegalHold {
    LegalHold::new(
        HoldId::new(id).unwrap(),
        tenant("t1"),
        scope,
        "litigation",
        person("p1"),
        placed_at,
        ends_at,
    )
    .unwrap()
}

fn render(actions: &[RetentionAction]) -> String {
    let mut out = String::new();
    for a in actions {
        let r = a.record();
        let what = match a {
            RetentionAction::Delete(_) => "delete".to_owned(),
            RetentionAction::Anonymize(_) => "anonymize".to_owned(),
            RetentionAction::Keep { reason: KeepReason::WithinPeriod { until }, .. } => {
                format!("keep until {until}")
            }
            RetentionAction::Keep { reason: KeepReason::Held(h), .. } => format!("keep: held by {h}"),
            RetentionAction::Keep { reason: KeepReason::NotTimeBased, .. } => {
                "keep: not time-based".to_owned()
            }
        };
        let _ = writeln!(out, "{} {}: {what}", r.class, r.key);
    }
    out
}

#[track_caller]
fn check_plan(
    records: &[RecordMeta],
    holds: &[LegalHold],
    terms: &ContractTerms,
    now: OffsetDateTime,
    expect: Expect,
) {
    let actions = plan(records, holds, terms, &RetentionPolicy::standard(), now);
    expect.assert_eq(&render(&actions));
}

#[test]
fn standard_policy_table() {
    let policy = RetentionPolicy::standard();
    let mut out = String::new();
    for rule in policy.rules() {
        let period = rule.period.map_or("none".to_owned(), |p| p.to_string());
        let _ = writeln!(out, "{}: {period}, {:?}", rule.class, rule.disposal);
    }
    expect![[r#"
        operational_log: 90 days, Delete
        audit_record: 72 months, Delete
        reporting_dataset: 13 months, Delete
        campaign_metadata: 13 months, Delete
        order_detail: 13 months, Delete
        buyer_pii: 30 days, Anonymize
        business_contact: 13 months, Delete
        credential: none, Delete
    "#]]
    .assert_eq(&out);
    assert_eq!(RetentionPolicy::default(), policy);
}

#[test]
fn expiry_of_periods() {
    #[track_caller]
    fn check(period: RetentionPeriod, stored_at: OffsetDateTime, expect: OffsetDateTime) {
        assert_eq!(period.expires_at(stored_at), expect, "{period} from {stored_at}");
    }
    // RET-1: 90 days, exact.
    check(days(90), datetime!(2025-01-01 08:00 UTC), datetime!(2025-04-01 08:00 UTC));
    // RET-2: 13 calendar months, clamped to the month's end.
    check(RetentionPeriod::Months(13), datetime!(2024-01-31 10:00 UTC), datetime!(2025-02-28 10:00 UTC));
    check(RetentionPeriod::Months(13), datetime!(2023-01-31 10:00 UTC), datetime!(2024-02-29 10:00 UTC));
    check(RetentionPeriod::Months(1), datetime!(2024-03-31 23:59 UTC), datetime!(2024-04-30 23:59 UTC));
    check(
        RetentionPeriod::Months(13),
        datetime!(2024-06-15 12:00 +02:00),
        datetime!(2025-07-15 12:00 +02:00),
    );
    check(RetentionPeriod::Months(72), datetime!(2024-02-29 00:00 UTC), datetime!(2030-02-28 00:00 UTC));
    check(RetentionPeriod::Months(0), datetime!(2024-02-29 00:00 UTC), datetime!(2024-02-29 00:00 UTC));
    // Saturates instead of panicking.
    check(RetentionPeriod::Months(u32::MAX), datetime!(2024-01-01 00:00 UTC), calendar::LATEST);
    check(days(3650), datetime!(9999-01-01 00:00 UTC), calendar::LATEST);
}

#[test]
fn month_bounds_match_brute_force() {
    for months in [1, 2, 12, 13, 72] {
        let mut lo = i64::MAX;
        let mut hi = 0;
        let mut day = datetime!(2096-01-01 00:00 UTC);
        while day < datetime!(2104-12-31 00:00 UTC) {
            let len = (RetentionPeriod::Months(months).expires_at(day) - day).whole_days();
            lo = lo.min(len);
            hi = hi.max(len);
            day += Duration::days(1);
        }
        assert_eq!(RetentionPeriod::Months(months).day_bounds(), (lo, hi), "{months} months");
    }
    assert_eq!(RetentionPeriod::Months(13).day_bounds(), (393, 397));
    assert_eq!(RetentionPeriod::Months(4800).day_bounds(), (146_097, 146_097));
}

#[test]
fn contracts_only_shorten() {
    #[track_caller]
    fn check(class: DataClass, overrides: &[(DataClass, u32)], expect: Option<RetentionPeriod>) {
        let got = effective_period(class, &contract(overrides), &RetentionPolicy::standard());
        assert_eq!(got, expect, "{class} with {overrides:?}");
    }
    use DataClass::*;
    check(ReportingDataset, &[], Some(RetentionPeriod::Months(13)));
    check(ReportingDataset, &[(ReportingDataset, 30)], Some(days(30)));
    check(ReportingDataset, &[(ReportingDataset, 393)], Some(days(393)));
    // Longer than 13 months can ever be: the policy wins.
    check(ReportingDataset, &[(ReportingDataset, 397)], Some(RetentionPeriod::Months(13)));
    check(ReportingDataset, &[(ReportingDataset, 3650)], Some(RetentionPeriod::Months(13)));
    // Shorter for some start dates only: the least either can last.
    check(ReportingDataset, &[(ReportingDataset, 395)], Some(days(393)));
    check(OperationalLog, &[(OperationalLog, 120)], Some(days(90)));
    check(OperationalLog, &[(OperationalLog, 7)], Some(days(7)));
    // An override of another class does not apply.
    check(CampaignMetadata, &[(ReportingDataset, 30)], Some(RetentionPeriod::Months(13)));
    // A class without a period gets the contract's.
    check(Credential, &[], None);
    check(Credential, &[(Credential, 10)], Some(days(10)));
}

#[test]
fn configured_policies_cannot_lengthen() {
    let standard: Vec<RetentionRule> = RetentionPolicy::standard().rules().copied().collect();
    let with = |rule: RetentionRule| {
        let rules = standard.iter().map(|r| if r.class == rule.class { rule } else { *r });
        RetentionPolicy::new(rules)
    };
    let rule = |class, period, disposal| RetentionRule { class, period, disposal };
    assert_eq!(RetentionPolicy::new(standard.clone()), Ok(RetentionPolicy::standard()));
    assert!(with(rule(DataClass::OperationalLog, Some(days(30)), Disposal::Delete)).is_ok());
    assert!(with(rule(DataClass::ReportingDataset, Some(days(390)), Disposal::Delete)).is_ok());
    assert!(with(rule(DataClass::BuyerPii, Some(days(7)), Disposal::Delete)).is_ok());
    assert_eq!(
        with(rule(DataClass::OperationalLog, Some(days(91)), Disposal::Delete)),
        Err(PolicyError::LongerThanStandard(DataClass::OperationalLog))
    );
    assert_eq!(
        with(rule(DataClass::ReportingDataset, Some(days(395)), Disposal::Delete)),
        Err(PolicyError::LongerThanStandard(DataClass::ReportingDataset))
    );
    assert_eq!(
        with(rule(DataClass::AuditRecord, None, Disposal::Delete)),
        Err(PolicyError::LongerThanStandard(DataClass::AuditRecord))
    );
    assert_eq!(
        with(rule(DataClass::ReportingDataset, Some(days(30)), Disposal::Anonymize)),
        Err(PolicyError::DisposalNotAllowed(DataClass::ReportingDataset))
    );
    let mut twice = standard.clone();
    twice.push(standard[0]);
    assert_eq!(RetentionPolicy::new(twice), Err(PolicyError::DuplicateRule(DataClass::OperationalLog)));
    assert_eq!(
        RetentionPolicy::new(standard[1..].iter().copied()),
        Err(PolicyError::MissingRule(DataClass::OperationalLog))
    );
    expect!["retention rule for `operational_log` is longer than the standard policy allows"]
        .assert_eq(&PolicyError::LongerThanStandard(DataClass::OperationalLog).to_string());
}

#[test]
fn plan_per_rule() {
    use DataClass::*;
    let stored = datetime!(2024-01-31 10:00 UTC);
    let records: Vec<RecordMeta> = DataClass::ALL.iter().map(|c| record(*c, "r1", stored)).collect();
    // Just before 90 days: everything is within its period.
    check_plan(
        &records,
        &[],
        &ContractTerms::default(),
        datetime!(2024-04-30 09:59 UTC),
        expect![[r#"
            operational_log r1: keep until 2024-04-30 10:00:00.0 +00:00:00
            audit_record r1: keep until 2030-01-31 10:00:00.0 +00:00:00
            reporting_dataset r1: keep until 2025-02-28 10:00:00.0 +00:00:00
            campaign_metadata r1: keep until 2025-02-28 10:00:00.0 +00:00:00
            order_detail r1: keep until 2025-02-28 10:00:00.0 +00:00:00
            buyer_pii r1: anonymize
            business_contact r1: keep until 2025-02-28 10:00:00.0 +00:00:00
            credential r1: keep: not time-based
        "#]],
    );
    // At exactly 90 days (RET-1) the log goes; at 13 months (RET-2) the datasets go.
    check_plan(
        &records,
        &[],
        &ContractTerms::default(),
        datetime!(2025-02-28 10:00 UTC),
        expect![[r#"
            operational_log r1: delete
            audit_record r1: keep until 2030-01-31 10:00:00.0 +00:00:00
            reporting_dataset r1: delete
            campaign_metadata r1: delete
            order_detail r1: delete
            buyer_pii r1: anonymize
            business_contact r1: delete
            credential r1: keep: not time-based
        "#]],
    );
    // A contract of 30 days for reporting (RET-2) and 7 days for logs.
    check_plan(
        &[record(ReportingDataset, "rep", stored), record(OperationalLog, "log", stored)],
        &[],
        &contract(&[(ReportingDataset, 30), (OperationalLog, 7)]),
        datetime!(2024-03-01 10:00 UTC),
        expect![[r#"
            reporting_dataset rep: delete
            operational_log log: delete
        "#]],
    );
    // Six years for audit records.
    check_plan(
        &[record(AuditRecord, "seg-1", stored)],
        &[],
        &ContractTerms::default(),
        datetime!(2030-01-31 10:00 UTC),
        expect![[r#"
            audit_record seg-1: delete
        "#]],
    );
}

#[test]
fn plan_honours_holds() {
    use DataClass::*;
    let stored = datetime!(2024-01-01 00:00 UTC);
    let now = datetime!(2025-06-01 00:00 UTC);
    let placed = datetime!(2025-01-01 00:00 UTC);
    let ends = datetime!(2026-01-01 00:00 UTC);
    let mut other = record(ReportingDataset, "other-grant", stored);
    other.grant = Some(grant("g2"));
    let mut foreign = record(ReportingDataset, "other-tenant", stored);
    foreign.tenant = tenant("t2");
    let records = [
        record(ReportingDataset, "rep", stored),
        other,
        foreign,
        record(OrderDetail, "order", stored),
        record(OperationalLog, "log", datetime!(2025-05-01 00:00 UTC)),
    ];
    let holds = [hold("h-grant", HoldScope::Grant(grant("g1")), placed, ends)];
    check_plan(
        &records,
        &holds,
        &ContractTerms::default(),
        now,
        expect![[r#"
            reporting_dataset rep: keep: held by h-grant
            reporting_dataset other-grant: delete
            reporting_dataset other-tenant: delete
            order_detail order: keep: held by h-grant
            operational_log log: keep until 2025-07-30 0:00:00.0 +00:00:00
        "#]],
    );
    let holds = [hold("h-class", HoldScope::Class(OrderDetail), placed, ends)];
    check_plan(
        &records[..4],
        &holds,
        &ContractTerms::default(),
        now,
        expect![[r#"
            reporting_dataset rep: delete
            reporting_dataset other-grant: delete
            reporting_dataset other-tenant: delete
            order_detail order: keep: held by h-class
        "#]],
    );
    // An ended or lifted hold keeps nothing.
    let ended = hold("h-ended", HoldScope::Tenant, placed, datetime!(2025-05-01 00:00 UTC));
    let mut lifted = hold("h-lifted", HoldScope::Tenant, placed, ends);
    lifted.lift(person("p2"), datetime!(2025-02-01 00:00 UTC)).unwrap();
    check_plan(
        &records[..1],
        &[ended, lifted],
        &ContractTerms::default(),
        now,
        expect![[r#"
            reporting_dataset rep: delete
        "#]],
    );
}

#[test]
fn holds_are_validated_and_lifted_once() {
    let placed = datetime!(2025-01-01 00:00 UTC);
    let ends = datetime!(2026-01-01 00:00 UTC);
    let make = |reason: &str, placed, ends| {
        LegalHold::new(
            HoldId::new("h").unwrap(),
            tenant("t1"),
            HoldScope::Tenant,
            reason,
            person("p1"),
            placed,
            ends,
        )
    };
    assert_eq!(make("  ", placed, ends), Err(HoldError::EmptyReason));
    assert_eq!(make("a\nb", placed, ends), Err(HoldError::ReasonControlChar));
    assert_eq!(make(&"x".repeat(1001), placed, ends), Err(HoldError::ReasonTooLong { max: 1000 }));
    assert_eq!(make("tax audit", placed, placed), Err(HoldError::EndsBeforePlaced));
    let mut h = make(" tax audit ", placed, ends).unwrap();
    assert_eq!(h.reason(), "tax audit");
    assert!(!h.is_active(placed - Duration::seconds(1)));
    assert!(h.is_active(placed));
    assert!(!h.is_active(ends));
    let id = HoldId::new("h").unwrap();
    assert_eq!(
        h.lift(person("p2"), placed - Duration::days(1)),
        Err(HoldError::LiftedBeforePlaced(id.clone()))
    );
    assert_eq!(h.lift(person("p2"), ends), Err(HoldError::AlreadyEnded(id.clone())));
    let at = datetime!(2025-03-01 00:00 UTC);
    h.lift(person("p2"), at).unwrap();
    assert_eq!(h.lift(person("p2"), at), Err(HoldError::AlreadyLifted(id.clone())));
    assert!(h.is_active(at - Duration::seconds(1)) && !h.is_active(at));
    let restored = LegalHold::restore(
        id.clone(),
        tenant("t1"),
        HoldScope::Tenant,
        "tax audit",
        person("p1"),
        placed,
        ends,
        h.lifted().cloned(),
    );
    assert_eq!(restored, Ok(h));
    let bad_lift = Some(HoldLift { by: person("p2"), at: placed - Duration::days(1) });
    let restored = LegalHold::restore(
        id.clone(),
        tenant("t1"),
        HoldScope::Tenant,
        "x",
        person("p1"),
        placed,
        ends,
        bad_lift,
    );
    assert_eq!(restored, Err(HoldError::LiftedBeforePlaced(id)));
}

#[test]
fn summary_counts_per_class() {
    use DataClass::*;
    let stored = datetime!(2024-01-01 00:00 UTC);
    let now = datetime!(2025-06-01 00:00 UTC);
    let records = [
        record(OperationalLog, "a", stored),
        record(OperationalLog, "b", now),
        record(BuyerPii, "c", stored),
        record(OrderDetail, "d", stored),
        record(Credential, "e", stored),
    ];
    let holds = [hold("h", HoldScope::Class(OrderDetail), stored, datetime!(2026-01-01 00:00 UTC))];
    let actions = plan(&records, &holds, &ContractTerms::default(), &RetentionPolicy::standard(), now);
    let summary = RetentionSummary::of(&actions);
    expect![[r#"
        {
            OperationalLog: ClassCounts {
                deleted: 1,
                anonymized: 0,
                kept: 1,
                held: 0,
            },
            OrderDetail: ClassCounts {
                deleted: 0,
                anonymized: 0,
                kept: 0,
                held: 1,
            },
            BuyerPii: ClassCounts {
                deleted: 0,
                anonymized: 1,
                kept: 0,
                held: 0,
            },
            Credential: ClassCounts {
                deleted: 0,
                anonymized: 0,
                kept: 1,
                held: 0,
            },
        }
    "#]]
    .assert_debug_eq(&summary.per_class);
    assert_eq!(summary.total(), ClassCounts { deleted: 1, anonymized: 1, kept: 2, held: 1 });
}

#[test]
fn purge_plans() {
    #[track_caller]
    fn check(platform: Platform, holds: &[LegalHold], expect: Expect) {
        let plan = purge_plan(&tenant("t1"), &grant("g1"), platform, holds, datetime!(2025-06-01 00:00 UTC));
        let held: Vec<&str> = plan.held_by.iter().map(HoldId::as_str).collect();
        expect.assert_eq(&format!(
            "key destroyed: {}, delete: {:?}, secrets: {}, held by: {held:?}",
            plan.destroy_data_key, plan.delete_kinds, plan.delete_secrets
        ));
    }
    let placed = datetime!(2025-01-01 00:00 UTC);
    let ends = datetime!(2026-01-01 00:00 UTC);
    check(
        Platform::Amazon,
        &[],
        expect![[
            r#"key destroyed: true, delete: [ReportRow, Campaign, Order, StockLevel], secrets: true, held by: []"#
        ]],
    );
    check(
        Platform::Ebay,
        &[hold("h1", HoldScope::Tenant, placed, ends)],
        expect![[r#"key destroyed: false, delete: [], secrets: true, held by: ["h1"]"#]],
    );
    check(
        Platform::TikTokShop,
        &[
            hold("h1", HoldScope::Grant(grant("g1")), placed, ends),
            hold("h2", HoldScope::Grant(grant("g2")), placed, ends),
        ],
        expect![[r#"key destroyed: false, delete: [], secrets: true, held by: ["h1"]"#]],
    );
    check(
        Platform::Amazon,
        &[hold("h-pii", HoldScope::Class(DataClass::BuyerPii), placed, ends)],
        expect![[
            r#"key destroyed: false, delete: [ReportRow, Campaign, StockLevel], secrets: true, held by: ["h-pii"]"#
        ]],
    );
    // Holds that ended, or of another tenant, change nothing.
    let foreign = LegalHold::new(
        HoldId::new("h-other").unwrap(),
        tenant("t2"),
        HoldScope::Tenant,
        "other",
        person("p1"),
        placed,
        ends,
    )
    .unwrap();
    check(
        Platform::Amazon,
        &[hold("h-old", HoldScope::Tenant, placed, datetime!(2025-02-01 00:00 UTC)), foreign],
        expect![[
            r#"key destroyed: true, delete: [ReportRow, Campaign, Order, StockLevel], secrets: true, held by: []"#
        ]],
    );
    // Ad grants: secrets go, datasets follow their periods.
    check(Platform::Meta, &[], expect![[r#"key destroyed: false, delete: [], secrets: true, held by: []"#]]);
    check(
        Platform::TikTok,
        &[hold("h1", HoldScope::Tenant, placed, ends)],
        expect![[r#"key destroyed: false, delete: [], secrets: true, held by: ["h1"]"#]],
    );
    let full = purge_plan(&tenant("t1"), &grant("g1"), Platform::Amazon, &[], placed);
    assert!(full.is_complete());
}

fn receipt() -> ReceiptBuilder {
    DeletionReceipt::builder(
        ReceiptId::new("rc-1").unwrap(),
        tenant("t1"),
        Some(grant("g1")),
        DeletionCause::Revocation,
        datetime!(2025-06-01 12:00 UTC),
    )
}

#[test]
fn receipts_need_a_recheck() {
    let done = datetime!(2025-06-01 12:00:05 UTC);
    assert_eq!(receipt().deleted(StoreKind::Dataset, "order", 10).build(done), Err(ReceiptError::NoRecheck));
    assert_eq!(
        receipt()
            .deleted(StoreKind::Dataset, "order", 10)
            .deleted(StoreKind::Secrets, "credentials", 1)
            .rechecked(StoreKind::Dataset, "order", 0)
            .build(done),
        Err(ReceiptError::StoreNotRechecked(StoreKind::Secrets))
    );
    assert_eq!(receipt().rechecked(StoreKind::Dataset, " ", 0).build(done), Err(ReceiptError::BadWhat));
    assert_eq!(
        receipt().rechecked(StoreKind::Dataset, "order", 0).build(datetime!(2025-06-01 11:00 UTC)),
        Err(ReceiptError::CompletedBeforeStarted)
    );
    let clean = receipt()
        .deleted(StoreKind::Keys, "data key", 1)
        .deleted(StoreKind::Dataset, "order", 10)
        .deleted(StoreKind::Secrets, "credentials", 1)
        .rechecked(StoreKind::Keys, "data key", 0)
        .rechecked(StoreKind::Dataset, "order", 0)
        .rechecked(StoreKind::Secrets, "credentials", 0)
        .build(done)
        .unwrap();
    assert!(clean.is_clean());
    assert_eq!(clean.total_deleted(), 12);
    let dirty = receipt()
        .deleted(StoreKind::Dataset, "order", 10)
        .rechecked(StoreKind::Dataset, "order", 2)
        .build(done)
        .unwrap();
    assert!(!dirty.is_clean());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn receipt_digest_is_pinned_and_sensitive() {
    let done = datetime!(2025-06-01 12:00:05 UTC);
    let build = |b: ReceiptBuilder| b.build(done).unwrap().digest();
    let base =
        || receipt().deleted(StoreKind::Dataset, "order", 10).rechecked(StoreKind::Dataset, "order", 0);
    expect!["a868fdb235eefb874aee1f59f70617e07bc9b7cf5f4c10c9f4a8fc545c5968ee"]
        .assert_eq(&hex(&build(base())));
    let variants = [
        build(receipt().deleted(StoreKind::Dataset, "order", 11).rechecked(StoreKind::Dataset, "order", 0)),
        build(receipt().deleted(StoreKind::Dataset, "orders", 10).rechecked(StoreKind::Dataset, "order", 0)),
        build(receipt().deleted(StoreKind::Contacts, "order", 10).rechecked(StoreKind::Contacts, "order", 0)),
        build(receipt().deleted(StoreKind::Dataset, "order", 10).rechecked(StoreKind::Dataset, "order", 1)),
        build(base().rechecked(StoreKind::Keys, "data key", 0)),
        base().build(done + Duration::nanoseconds(1)).unwrap().digest(),
        build(
            DeletionReceipt::builder(
                ReceiptId::new("rc-1").unwrap(),
                tenant("t1"),
                None,
                DeletionCause::Revocation,
                datetime!(2025-06-01 12:00 UTC),
            )
            .deleted(StoreKind::Dataset, "order", 10)
            .rechecked(StoreKind::Dataset, "order", 0),
        ),
        build(
            DeletionReceipt::builder(
                ReceiptId::new("rc-1").unwrap(),
                tenant("t1"),
                Some(grant("g1")),
                DeletionCause::ClientRequest(RightsRequestId::new("rr-1").unwrap()),
                datetime!(2025-06-01 12:00 UTC),
            )
            .deleted(StoreKind::Dataset, "order", 10)
            .rechecked(StoreKind::Dataset, "order", 0),
        ),
    ];
    let base_digest = build(base());
    let mut all: BTreeSet<[u8; 32]> = variants.iter().copied().collect();
    assert!(!all.contains(&base_digest));
    all.insert(base_digest);
    assert_eq!(all.len(), variants.len() + 1, "every variant has its own digest");
}

// ---- properties ----

const CLASSES: [DataClass; 8] = DataClass::ALL;

fn arb_instant() -> impl Strategy<Value = OffsetDateTime> {
    // 2020-01-01 .. 2036-01-01
    (1_577_836_800_i64..2_082_758_400).prop_map(|s| OffsetDateTime::from_unix_timestamp(s).unwrap())
}

fn arb_record() -> impl Strategy<Value = RecordMeta> {
    (0..CLASSES.len(), 0..3_u8, 0..3_u8, arb_instant()).prop_map(|(c, t, g, stored_at)| RecordMeta {
        tenant: tenant(&format!("t{t}")),
        grant: (g > 0).then(|| grant(&format!("g{g}"))),
        class: CLASSES[c],
        key: format!("k-{c}-{t}-{g}"),
        stored_at,
    })
}

fn arb_contract() -> impl Strategy<Value = ContractTerms> {
    proptest::collection::btree_map(0..CLASSES.len(), 1..3650_u32, 0..4).prop_map(|m| ContractTerms {
        retention_overrides: m
            .into_iter()
            .map(|(c, d)| (CLASSES[c], RetentionDays::new(d).unwrap()))
            .collect(),
    })
}

fn arb_hold() -> impl Strategy<Value = LegalHold> {
    (
        0..3_u8,
        0..3_u8,
        0..CLASSES.len(),
        arb_instant(),
        1..2000_i64,
        proptest::option::of(0..2000_i64),
        0..100_u32,
    )
        .prop_map(|(t, scope, c, placed, len, lift, n)| {
            let scope = match scope {
                0 => HoldScope::Tenant,
                1 => HoldScope::Grant(grant(&format!("g{}", n % 3))),
                _ => HoldScope::Class(CLASSES[c]),
            };
            let ends = placed + Duration::days(len);
            let mut h = LegalHold::new(
                HoldId::new(format!("h{n}")).unwrap(),
                tenant(&format!("t{t}")),
                scope,
                "reason",
                person("p1"),
                placed,
                ends,
            )
            .unwrap();
            if let Some(l) = lift.filter(|l| *l < len) {
                h.lift(person("p2"), placed + Duration::days(l)).unwrap();
            }
            h
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// RET-2/RET-5: a kept record is within its effective period or covered by an active hold, and a disposed
    /// record is past its period and not held; exactly one action per record, in order.
    #[test]
    fn never_kept_past_period_unless_held(
        records in proptest::collection::vec(arb_record(), 0..24),
        holds in proptest::collection::vec(arb_hold(), 0..4),
        terms in arb_contract(),
        now in arb_instant(),
    ) {
        let policy = RetentionPolicy::standard();
        let actions = plan(&records, &holds, &terms, &policy, now);
        prop_assert_eq!(actions.len(), records.len());
        for (action, record) in actions.iter().zip(&records) {
            prop_assert_eq!(action.record(), record);
            let expiry = effective_period(record.class, &terms, &policy).map(|p| p.expires_at(record.stored_at));
            let held = holds.iter().any(|h| h.covers(record, now));
            match action {
                RetentionAction::Keep { reason: KeepReason::WithinPeriod { until }, .. } => {
                    prop_assert_eq!(Some(*until), expiry);
                    prop_assert!(now < *until);
                }
                RetentionAction::Keep { reason: KeepReason::Held(id), .. } => {
                    prop_assert!(expiry.is_some_and(|e| now >= e));
                    prop_assert!(holds.iter().any(|h| h.id() == id && h.covers(record, now)));
                }
                RetentionAction::Keep { reason: KeepReason::NotTimeBased, .. } => prop_assert!(expiry.is_none()),
                RetentionAction::Delete(_) | RetentionAction::Anonymize(_) => {
                    prop_assert!(expiry.is_some_and(|e| now >= e));
                    prop_assert!(!held);
                    let disposal = policy.rule(record.class).disposal;
                    prop_assert_eq!(matches!(action, RetentionAction::Anonymize(_)), disposal == Disposal::Anonymize);
                }
            }
        }
    }

    /// RET-2: whatever the contract says, no record lives longer than the policy allows, and no longer than
    /// the contract allows.
    #[test]
    fn contract_never_lengthens(class in 0..CLASSES.len(), d in 1..3650_u32, stored_at in arb_instant()) {
        let class = CLASSES[class];
        let policy = RetentionPolicy::standard();
        let terms = contract(&[(class, d)]);
        let effective = effective_period(class, &terms, &policy);
        prop_assert!(effective.is_some());
        let expiry = effective.map(|p| p.expires_at(stored_at)).unwrap();
        if let Some(p) = policy.rule(class).period {
            prop_assert!(expiry <= p.expires_at(stored_at));
        }
        prop_assert!(expiry <= stored_at + Duration::days(i64::from(d)));
    }

    /// Monotone in time: without holds, a record disposed of at `now` is disposed of at any later `now`.
    #[test]
    fn monotone_in_time(
        records in proptest::collection::vec(arb_record(), 1..24),
        terms in arb_contract(),
        now in arb_instant(),
        later in 0..5000_i64,
    ) {
        let policy = RetentionPolicy::standard();
        let first = plan(&records, &[], &terms, &policy, now);
        let second = plan(&records, &[], &terms, &policy, now + Duration::days(later));
        for (a, b) in first.iter().zip(&second) {
            if a.is_disposal() {
                prop_assert_eq!(a, b);
            }
        }
    }
}
