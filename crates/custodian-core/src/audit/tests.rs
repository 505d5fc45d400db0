//! Tests of the audit events, the canonical encoding, the hash chain and checkpoints.

use std::collections::BTreeSet;

use expect_test::{Expect, expect};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::approval::ChangeId;
use crate::authz::{Action, Context, Request, decide};
use crate::data::{DataClass, Purpose};
use crate::grant::{GrantId, GrantState};
use crate::incident::IncidentId;
use crate::personnel::{ApiKey, Permission, Person, PersonSession, Role};
use crate::platform::Task;
use crate::retention::{HoldId, ReceiptId};
use crate::rights::RightsRequestId;

const T0: OffsetDateTime = datetime!(2025-01-02 03:04:05 UTC);

fn tid(raw: &str) -> TenantId {
    TenantId::new(raw).unwrap()
}

fn gid(raw: &str) -> GrantId {
    GrantId::new(raw).unwrap()
}

fn pid(raw: &str) -> PersonId {
    PersonId::new(raw).unwrap()
}

fn hash_of(text: &str) -> Hash {
    Hash::of(text.as_bytes())
}

/// One event of every kind, in tag order.
fn sample_events() -> Vec<AuditEvent> {
    vec![
        GrantChanged::new(
            gid("g-1"),
            Platform::Meta,
            GrantState::Active,
            GrantState::Revoked,
            "revoked by signal",
        )
        .into(),
        AccessDecided::new("sync:read_orders", tid("acme"), false, vec!["AUTH-2: stale".to_owned()]).into(),
        SyncProgressed::new(gid("g-1"), Task::ReadOrders, 250u64, Some("cursor-9".to_owned())).into(),
        SyncFailed::new(gid("g-1"), Task::ReadReporting, "rate limited").into(),
        DataRead::new(DataClass::BuyerPii, 3u64, Purpose::ServiceDelivery).into(),
        SecretAccessed::new(gid("g-1"), SecretOperation::Get).into(),
        KeyChanged::new(KeyOperation::Rotated, 2u32).into(),
        RetentionRan::new(10u64, 2u64, 30u64).into(),
        RecordsPurged::new(gid("g-1"), ReceiptId::new("r-1").unwrap(), 120u64, 1u64, 1u64).into(),
        HoldChanged::new(HoldId::new("h-1").unwrap(), "placed").into(),
        PersonnelChanged::new(pid("p-1"), "role added: analyst").into(),
        ApiKeyChanged::new(ApiKeyId::new("k-1").unwrap(), "revoked").into(),
        LoginAttempted::new(None, false, "unknown login").into(),
        ChangeProposed::new(ChangeId::new("c-1").unwrap(), hash_of("diff"), gid("g-1")).into(),
        ChangeApproved::new(ChangeId::new("c-1").unwrap(), hash_of("diff")).into(),
        ChangeExecuted::new(ChangeId::new("c-1").unwrap(), hash_of("diff"), true).into(),
        IncidentChanged::new(IncidentId::new("i-1").unwrap(), "opened").into(),
        RightsRequestChanged::new(RightsRequestId::new("rr-1").unwrap(), "received: erasure").into(),
        SignalReceived::new(Platform::Ebay, "marketplace_account_deletion").into(),
        SignalRejected::new(Platform::TikTokShop, "signature mismatch").into(),
        TenantChanged::new("offboarding started").into(),
        SessionChanged::new(pid("p-1"), "logout").into(),
    ]
}

fn new_events(n: usize) -> Vec<NewAuditEvent> {
    let samples = sample_events();
    let actors = [ActorRef::System, ActorRef::Person(pid("p-1")), ActorRef::Platform(Platform::Amazon)];
    (0..n)
        .map(|i| {
            let minutes = i64::try_from(i).unwrap();
            NewAuditEvent::new(
                T0 + Duration::minutes(minutes),
                actors[i % actors.len()].clone(),
                samples[i % samples.len()].clone(),
            )
        })
        .collect()
}

/// A chain of `n` records of tenant `acme`, from genesis.
fn chain(n: usize) -> Vec<AuditRecord> {
    extend(&ChainHead::genesis(tid("acme")), Environment::Production, new_events(n))
}

fn rehash(record: &mut AuditRecord) {
    record.hash = record.compute_hash();
}

// ---------------------------------------------------------------------------------------------- basics

#[test]
fn hash_hex() {
    let h = Hash::of(b"abc");
    let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    assert_eq!(h.to_string(), hex);
    assert_eq!(format!("{h:?}"), hex);
    assert_eq!(Hash::from_hex(hex), Ok(h));
    assert_eq!(Hash::from_hex(&hex.to_uppercase()), Ok(h));
    assert_eq!(Hash::GENESIS.to_string(), "0".repeat(64));
    for bad in
        ["", "00", &"0".repeat(63), &"0".repeat(65), &"g".repeat(64), &"é".repeat(32), &"+1".repeat(32)]
    {
        assert!(matches!(Hash::from_hex(bad), Err(AuditError::BadHex { .. })), "{bad:?}");
    }
    expect![[r#"hash `xyz` is not 64 hex digits"#]]
        .assert_eq(&Hash::from_hex("xyz").unwrap_err().to_string());
}

#[test]
fn system_tenant_is_a_valid_id() {
    assert_eq!(system_tenant().as_str(), SYSTEM_CHAIN);
    assert_eq!(ChainHead::genesis(system_tenant()).seq, 0);
}

#[test]
fn actor_refs_keep_only_ids() {
    let person = Person {
        id: pid("p-7"),
        display_name: "Ada Lovelace".to_owned(),
        roles: BTreeSet::from([Role::Admin]),
        tenants: BTreeSet::new(),
        mfa_enrolled: true,
        active: true,
    };
    let key = ApiKey {
        id: ApiKeyId::new("k-7").unwrap(),
        name: "warehouse sync".to_owned(),
        tenants: BTreeSet::new(),
        permissions: BTreeSet::from([Permission::SyncRun]),
        created_by: pid("p-7"),
        created_at: T0,
        expires_at: None,
        revoked_at: None,
    };
    let cases = [
        (Actor::Person(PersonSession { person, mfa_verified_at: Some(T0) }), ActorRef::Person(pid("p-7"))),
        (Actor::ApiKey(key), ActorRef::ApiKey(ApiKeyId::new("k-7").unwrap())),
        (Actor::System, ActorRef::System),
        (Actor::PlatformSignal(Platform::Meta), ActorRef::Platform(Platform::Meta)),
    ];
    for (actor, expected) in cases {
        assert_eq!(ActorRef::from(&actor), expected);
    }
}

#[test]
fn every_kind_has_a_tag_name_and_category() {
    let samples = sample_events();
    let kinds: Vec<&str> = samples.iter().map(AuditEvent::kind).collect();
    assert_eq!(kinds, AuditEvent::KINDS, "one sample per kind, in tag order");
    let tags: Vec<u8> = samples.iter().map(AuditEvent::tag).collect();
    assert_eq!(tags, (1..=22).collect::<Vec<u8>>());
    let categories: BTreeSet<AuditCategory> = samples.iter().map(AuditEvent::category).collect();
    let mut all = AuditCategory::ALL.to_vec();
    all.retain(|c| !categories.contains(c));
    assert!(all.is_empty(), "categories without an event: {all:?}");

    let table: String =
        samples.iter().map(|e| format!("{:>2} {:<24} {}\n", e.tag(), e.kind(), e.category())).collect();
    expect![[r#"
         1 grant_changed            authorization_change
         2 access_decided           access_decision
         3 sync_progressed          job_update
         4 sync_failed              job_update
         5 data_read                data_access
         6 secret_accessed          data_access
         7 key_changed              data_access
         8 retention_ran            retention
         9 records_purged           deletion
        10 hold_changed             retention
        11 personnel_changed        personnel_change
        12 api_key_changed          personnel_change
        13 login_attempted          access_decision
        14 change_proposed          approval
        15 change_approved          approval
        16 change_executed          approval
        17 incident_changed         incident
        18 rights_request_changed   rights_request
        19 signal_received          authorization_change
        20 signal_rejected          authorization_change
        21 tenant_changed           authorization_change
        22 session_changed          access_decision
    "#]]
    .assert_eq(&table);
}

#[test]
fn deletions_of_secrets_and_keys_are_deletions() {
    let cases: [(AuditEvent, AuditCategory); 4] = [
        (SecretAccessed::new(gid("g"), SecretOperation::Delete).into(), AuditCategory::Deletion),
        (SecretAccessed::new(gid("g"), SecretOperation::Put).into(), AuditCategory::DataAccess),
        (KeyChanged::new(KeyOperation::Destroyed, 1u32).into(), AuditCategory::Deletion),
        (KeyChanged::new(KeyOperation::Unwrapped, 1u32).into(), AuditCategory::DataAccess),
    ];
    for (event, category) in cases {
        assert_eq!(event.category(), category, "{event:?}");
    }
}

#[track_caller]
fn check_bounded(raw: &str, expect_chars: usize) {
    let event = TenantChanged::new(raw);
    assert_eq!(event.change.chars().count(), expect_chars);
    assert!(raw.starts_with(&event.change));
    // `extend` bounds events built with a struct literal too.
    let literal = NewAuditEvent::new(T0, ActorRef::System, TenantChanged { change: raw.to_owned() });
    let records = extend(&ChainHead::genesis(tid("acme")), Environment::Development, vec![literal]);
    assert_eq!(records[0].event, AuditEvent::TenantChanged(event));
}

#[test]
fn strings_are_cut_at_512_characters() {
    check_bounded("short", 5);
    check_bounded(&"x".repeat(512), 512);
    check_bounded(&"x".repeat(513), 512);
    check_bounded(&"é".repeat(600), 512);
    check_bounded(&format!("{}🦀🦀", "a".repeat(511)), 512);
    check_bounded(&"🦀".repeat(2000), 512);

    let many: Vec<String> = (0..100).map(|i| format!("reason {i}")).collect();
    let event = AccessDecided::new("read_tenant", None, false, many);
    assert_eq!(event.reasons.len(), MAX_LIST_ITEMS);
    let long = SyncProgressed::new(gid("g"), Task::ReadOrders, 1u64, Some("c".repeat(900)));
    assert_eq!(long.cursor.map(|c| c.len()), Some(512));
}

#[test]
fn access_decided_from_decision() {
    let ctx = Context::new(Environment::Production);
    let request = |action, tenant: Option<&str>| Request {
        actor: Actor::System,
        action,
        tenant: tenant.map(tid),
        target: None,
        purpose: Purpose::Compliance,
    };
    let allow = request(Action::VerifyAudit, Some("acme"));
    let event = AccessDecided::from_decision(&allow, &decide(&allow, &ctx, T0));
    expect![[r#"
        AccessDecided {
            action: "verify_audit",
            tenant: Some(
                TenantId("acme"),
            ),
            allowed: true,
            reasons: [
                "ACC-1: permission `audit_verify` held",
            ],
        }
    "#]]
    .assert_debug_eq(&event);

    let deny = request(Action::ManagePersonnel, None);
    let event = AccessDecided::from_decision(&deny, &decide(&deny, &ctx, T0));
    expect![[r#"
        AccessDecided {
            action: "manage_personnel",
            tenant: None,
            allowed: false,
            reasons: [
                "AUTH-1: background jobs may not take this action",
            ],
        }
    "#]]
    .assert_debug_eq(&event);

    assert_eq!(action_name(Action::Sync(Task::ReadOrders)), "sync:read_orders");
    assert_eq!(action_name(Action::ReadData(DataClass::BuyerPii)), "read_data:buyer_pii");
}

// ----------------------------------------------------------------------------------------------- chain

#[test]
fn extend_numbers_and_links() {
    let head = ChainHead { tenant: tid("acme"), seq: 41, hash: hash_of("anchor") };
    let records = extend(&head, Environment::Staging, new_events(5));
    let mut prev = head.hash;
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.seq, 42 + u64::try_from(i).unwrap());
        assert_eq!(r.tenant, head.tenant);
        assert_eq!(r.environment, Environment::Staging);
        assert_eq!(r.prev_hash, prev);
        assert_eq!(r.hash, r.compute_hash());
        prev = r.hash;
    }
    assert_eq!(verify(&head, &records), Ok(records[4].head()));
    assert_eq!(verify(&head, &[]), Ok(head.clone()));
    assert!(extend(&head, Environment::Staging, Vec::new()).is_empty());

    // Appending in two batches gives the same chain as one batch.
    let first = extend(&head, Environment::Staging, new_events(5).into_iter().take(2).collect());
    let rest = extend(&first[1].head(), Environment::Staging, new_events(5).into_iter().skip(2).collect());
    assert_eq!([first, rest].concat(), records);
}

#[track_caller]
fn check_verify(tamper: impl FnOnce(&mut Vec<AuditRecord>), expect: Result<u64, (u64, TamperKind)>) {
    let mut records = chain(6);
    tamper(&mut records);
    let got = verify(&ChainHead::genesis(tid("acme")), &records).map(|h| h.seq).map_err(|t| (t.seq, t.kind));
    assert_eq!(got, expect);
}

#[test]
fn verify_names_the_first_bad_record() {
    use TamperKind::*;
    check_verify(|_| {}, Ok(6));
    check_verify(|r| r[2].hash.0[0] ^= 1, Err((3, HashMismatch)));
    check_verify(|r| r[1].event = TenantChanged::new("forged").into(), Err((2, HashMismatch)));
    check_verify(|r| r[4].at += Duration::nanoseconds(1), Err((5, HashMismatch)));
    check_verify(|r| r[0].actor = ActorRef::Person(pid("mallory")), Err((1, HashMismatch)));
    check_verify(|r| r[3].environment = Environment::Development, Err((4, HashMismatch)));
    check_verify(
        |r| {
            r[3].prev_hash = hash_of("elsewhere");
            rehash(&mut r[3]);
        },
        Err((4, BrokenLink)),
    );
    // Rewriting a record and its hash breaks the next record's link.
    check_verify(
        |r| {
            r[2].event = TenantChanged::new("forged").into();
            rehash(&mut r[2]);
        },
        Err((4, BrokenLink)),
    );
    check_verify(
        |r| {
            r.remove(2);
        },
        Err((3, SequenceGap)),
    );
    check_verify(|r| r.swap(1, 2), Err((2, SequenceGap)));
    check_verify(|r| r.insert(2, r[1].clone()), Err((3, SequenceGap)));
    check_verify(|r| r[5].seq = 7, Err((6, SequenceGap)));
    check_verify(
        |r| {
            r[1].tenant = tid("other");
            rehash(&mut r[1]);
        },
        Err((2, WrongTenant)),
    );
    // Whoever rewrites every record after a point makes a valid chain: anchor heads (checkpoints) for that.
    check_verify(
        |r| {
            let forged = extend(&r[1].head(), Environment::Production, new_events(4));
            r.truncate(2);
            r.extend(forged);
        },
        Ok(6),
    );
    check_verify(
        |r| {
            let other = extend(&ChainHead::genesis(tid("other")), Environment::Production, new_events(6));
            r[4] = other[4].clone();
        },
        Err((5, WrongTenant)),
    );
    // A chain cut short at its end still verifies; compare the head with an anchored one (a checkpoint).
    check_verify(|r| r.truncate(4), Ok(4));
}

#[test]
fn verify_starts_from_the_given_head() {
    let records = chain(3);
    let wrong_hash = ChainHead { tenant: tid("acme"), seq: 0, hash: hash_of("x") };
    assert_eq!(verify(&wrong_hash, &records), Err(Tampered { seq: 1, kind: TamperKind::BrokenLink }));
    let wrong_seq = ChainHead { tenant: tid("acme"), seq: 2, hash: Hash::GENESIS };
    assert_eq!(verify(&wrong_seq, &records), Err(Tampered { seq: 3, kind: TamperKind::SequenceGap }));
    let wrong_tenant = ChainHead::genesis(tid("other"));
    assert_eq!(verify(&wrong_tenant, &records), Err(Tampered { seq: 1, kind: TamperKind::WrongTenant }));
    assert_eq!(verify(&records[0].head(), &records[1..]), Ok(records[2].head()));
    expect![[r#"audit chain fails verification at seq 3: sequence gap"#]]
        .assert_eq(&Tampered { seq: 3, kind: TamperKind::SequenceGap }.to_string());
}

// ---------------------------------------------------------------------------------------- checkpoints

struct Checkpointed {
    records: Vec<AuditRecord>,
    first: Checkpoint,
    second: Checkpoint,
}

/// Ten records, checkpoints at 4 and 8.
fn checkpointed() -> Checkpointed {
    let records = chain(10);
    let first = Checkpoint::new(None, &records[3].head(), T0 + Duration::days(1));
    let second = Checkpoint::new(Some(&first), &records[7].head(), T0 + Duration::days(2));
    Checkpointed { records, first, second }
}

#[track_caller]
fn check_checkpoints(
    tamper: impl FnOnce(&mut Checkpointed),
    expect_checkpoints: Result<u64, (u64, TamperKind)>,
    expect_after_first: Result<u64, (u64, TamperKind)>,
) {
    let mut c = checkpointed();
    tamper(&mut c);
    let chain = verify_checkpoints(&[c.first.clone(), c.second.clone()]);
    let got = chain.map(|h| h.map_or(0, |h| h.seq)).map_err(|t| (t.seq, t.kind));
    assert_eq!(got, expect_checkpoints, "checkpoint chain");
    // Retention dropped records 1..=4: the rest verifies from the first checkpoint.
    let kept: Vec<AuditRecord> = c.records.iter().filter(|r| r.seq > 4).cloned().collect();
    let got = verify_from_checkpoint(&c.first, &kept).map(|h| h.seq).map_err(|t| (t.seq, t.kind));
    assert_eq!(got, expect_after_first, "records after the first checkpoint");
}

#[test]
fn checkpoints_let_retention_drop_old_records() {
    use TamperKind::*;
    let c = checkpointed();
    assert_eq!(c.first.prev, Hash::GENESIS);
    assert_eq!(c.second.prev, c.first.digest);
    assert_eq!(verify_from_checkpoint(&c.second, &c.records[8..]), Ok(c.records[9].head()));
    assert_eq!(verify_from_checkpoint(&c.second, &[]), Ok(c.second.head()));
    assert_eq!(verify_checkpoints(&[]), Ok(None));

    check_checkpoints(|_| {}, Ok(8), Ok(10));
    // Editing a checkpoint without its digest.
    check_checkpoints(|c| c.first.hash = hash_of("forged"), Err((4, HashMismatch)), Err((4, HashMismatch)));
    // Editing a checkpoint and recomputing its digest: the next checkpoint and the next record disagree.
    check_checkpoints(
        |c| {
            c.first.hash = hash_of("forged");
            c.first.digest = c.first.compute_digest();
        },
        Err((8, BrokenLink)),
        Err((5, BrokenLink)),
    );
    check_checkpoints(
        |c| c.first = Checkpoint::new(None, &c.records[2].head(), c.first.at),
        Err((8, BrokenLink)),
        Err((4, SequenceGap)),
    );
    check_checkpoints(
        |c| c.second = Checkpoint::new(None, &c.second.head(), c.second.at),
        Err((8, BrokenLink)),
        Ok(10),
    );
    check_checkpoints(
        |c| {
            c.second.tenant = tid("other");
            c.second.digest = c.second.compute_digest();
        },
        Err((8, WrongTenant)),
        Ok(10),
    );
    check_checkpoints(
        |c| c.second = Checkpoint::new(Some(&c.first), &c.records[1].head(), c.second.at),
        Err((2, SequenceGap)),
        Ok(10),
    );
    check_checkpoints(
        |c| std::mem::swap(&mut c.first, &mut c.second),
        Err((8, BrokenLink)),
        Err((9, SequenceGap)),
    );
    // A kept record tampered with after the drop.
    check_checkpoints(|c| c.records[6].hash.0[31] ^= 0x80, Ok(8), Err((7, HashMismatch)));
    // Records at or before the checkpoint must be dropped or left out.
    let c = checkpointed();
    assert_eq!(
        verify_from_checkpoint(&c.first, &c.records[3..]),
        Err(Tampered { seq: 5, kind: TamperKind::SequenceGap })
    );
}

// ------------------------------------------------------------------------------------------- encoding

fn hex(bytes: &[u8]) -> String {
    bytes.chunks(32).map(|row| row.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n").collect()
}

#[test]
fn canonical_bytes_snapshot() {
    let new = NewAuditEvent::new(
        T0,
        ActorRef::Person(pid("p-1")),
        GrantChanged::new(gid("g-1"), Platform::Meta, GrantState::Active, GrantState::Revoked, "signal"),
    );
    let records = extend(&ChainHead::genesis(tid("acme")), Environment::Production, vec![new]);
    let record = &records[0];
    // version | "acme" | seq 1 | prev_hash | at ns | production | person "p-1" | grant_changed "g-1" meta
    // Some(active) revoked "signal"
    expect![[r#"
        010000000461636d650000000000000001000000000000000000000000000000
        000000000000000000000000000000000000000000000000001816c11eeef332
        00030100000003702d310100000003672d3101010204000000067369676e616c
    "#]]
    .assert_eq(&hex(&record.encode_for_hash()));
    expect!["439183adf0870010af1ac4bd4ef38d53236873957275f25af541a98f53dd9d69"]
        .assert_eq(&record.hash.to_string());
    assert_eq!(record.encode(), [record.encode_for_hash(), record.hash.0.to_vec()].concat());

    let checkpoint = Checkpoint::new(None, &record.head(), T0);
    expect!["fca662b3d768529924cd5011a6d43270d093ee08ad33e8a0947865fdaa821c77"]
        .assert_eq(&checkpoint.digest.to_string());
}

#[test]
fn every_kind_round_trips() {
    let mut records = Vec::new();
    for (i, event) in sample_events().into_iter().enumerate() {
        let actor = match i % 4 {
            0 => ActorRef::Person(pid("p-1")),
            1 => ActorRef::ApiKey(ApiKeyId::new("k-1").unwrap()),
            2 => ActorRef::System,
            _ => ActorRef::Platform(Platform::TikTokShop),
        };
        records.push(NewAuditEvent::new(T0 - Duration::days(400 * i64::try_from(i).unwrap()), actor, event));
    }
    for record in extend(&ChainHead::genesis(system_tenant()), Environment::Development, records) {
        let blob = record.encode();
        assert_eq!(AuditRecord::decode(&blob), Ok(record.clone()), "{}", record.event.kind());
    }
}

/// The header of a hand-built record: version 1, tenant "t", seq 1, zero prev_hash, at 0, development,
/// system actor; then `tail`.
fn raw(tail: &[u8]) -> Vec<u8> {
    let mut out = vec![1, 0, 0, 0, 1, b't'];
    out.extend_from_slice(&1u64.to_be_bytes());
    out.extend_from_slice(&[0; 32]);
    out.extend_from_slice(&0i128.to_be_bytes());
    out.extend_from_slice(&[1, 3]);
    out.extend_from_slice(tail);
    out
}

fn with_hash(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.extend_from_slice(&[7; 32]);
    bytes
}

#[track_caller]
fn check_decode(bytes: &[u8], expect: Expect) {
    let got = match AuditRecord::decode(bytes) {
        Ok(record) => format!("ok {} {}", record.event.kind(), record.hash),
        Err(error) => format!("{error:?}\n{error}"),
    };
    expect.assert_eq(&got);
}

#[test]
fn decode_rejects_malformed_input() {
    // The hand-built bytes follow the documented layout.
    check_decode(
        &with_hash(raw(&[21, 0, 0, 0, 2, b'o', b'k'])),
        expect![[r#"ok tenant_changed 0707070707070707070707070707070707070707070707070707070707070707"#]],
    );
    check_decode(
        &[],
        expect![[r#"
        Truncated { field: "version" }
        audit record ends early: version is cut off"#]],
    );
    check_decode(
        &[2, 0, 0],
        expect![[r#"
        UnknownVersion { version: 2 }
        unknown audit encoding version `2`"#]],
    );
    check_decode(
        &[1, 0xff, 0xff, 0xff, 0xff, b't'],
        expect![[r#"
        Truncated { field: "tenant" }
        audit record ends early: tenant is cut off"#]],
    );
    check_decode(
        &[1, 0, 0, 0, 3, b'a', b' ', b'b'],
        expect![[r#"
        BadId { field: "tenant", error: BadChar { kind: "tenant id", at: 1 } }
        invalid tenant: tenant id contains a character that is not allowed at byte 1"#]],
    );
    check_decode(
        &[1, 0, 0, 0, 0],
        expect![[r#"
        BadId { field: "tenant", error: Empty { kind: "tenant id" } }
        invalid tenant: tenant id is empty"#]],
    );
    check_decode(
        &with_hash(raw(&[99])),
        expect![[r#"
        UnknownTag { field: "event kind", tag: 99 }
        unknown event kind tag `99`"#]],
    );
    check_decode(
        &with_hash(raw(&[0])),
        expect![[r#"
        UnknownTag { field: "event kind", tag: 0 }
        unknown event kind tag `0`"#]],
    );
    check_decode(
        &with_hash(raw(&[13, 0, 2, 0, 0, 0, 0])),
        expect![[r#"
        UnknownTag { field: "login_attempted.succeeded", tag: 2 }
        unknown login_attempted.succeeded tag `2`"#]],
    );
    check_decode(
        &with_hash(raw(&[13, 5])),
        expect![[r#"
        UnknownTag { field: "login_attempted.person", tag: 5 }
        unknown login_attempted.person tag `5`"#]],
    );
    check_decode(
        &with_hash(raw(&[21, 0, 0, 0, 2, 0xc3, 0x28])),
        expect![[r#"
        BadUtf8 { field: "tenant_changed.change" }
        tenant_changed.change is not valid utf-8"#]],
    );
    check_decode(
        &with_hash(raw(&[2, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff])),
        expect![[r#"
        Truncated { field: "access_decided.reasons" }
        audit record ends early: access_decided.reasons is cut off"#]],
    );
    check_decode(
        &with_hash(raw(&[5, 9, 0, 0, 0, 0, 0, 0, 0, 1, 1])),
        expect![[r#"
        UnknownTag { field: "data_read.class", tag: 9 }
        unknown data_read.class tag `9`"#]],
    );
    check_decode(
        &raw(&[21, 0, 0, 0, 0, 1, 2, 3]),
        expect![[r#"
        Truncated { field: "hash" }
        audit record ends early: hash is cut off"#]],
    );
    check_decode(
        &[with_hash(raw(&[21, 0, 0, 0, 0])), vec![0]].concat(),
        expect![[r#"
        TrailingBytes { count: 1 }
        1 unexpected bytes after the audit record"#]],
    );

    let mut bad_env = raw(&[21, 0, 0, 0, 0]);
    let env_at = bad_env.len() - 7;
    bad_env[env_at] = 0;
    check_decode(
        &with_hash(bad_env),
        expect![[r#"
        UnknownTag { field: "environment", tag: 0 }
        unknown environment tag `0`"#]],
    );
    let mut bad_actor = raw(&[21, 0, 0, 0, 0]);
    let actor_at = bad_actor.len() - 6;
    bad_actor[actor_at] = 9;
    check_decode(
        &with_hash(bad_actor),
        expect![[r#"
        UnknownTag { field: "actor", tag: 9 }
        unknown actor tag `9`"#]],
    );
    let mut bad_time = raw(&[21, 0, 0, 0, 0]);
    let time_at = bad_time.len() - 7 - 16;
    bad_time[time_at..time_at + 16].copy_from_slice(&i128::MAX.to_be_bytes());
    check_decode(
        &with_hash(bad_time),
        expect![[r#"
        BadTimestamp { nanos: 170141183460469231731687303715884105727 }
        timestamp `170141183460469231731687303715884105727` ns is out of range"#]],
    );
}

#[test]
fn every_prefix_of_a_record_is_rejected() {
    for record in chain(21) {
        let blob = record.encode();
        for len in 0..blob.len() {
            assert!(
                AuditRecord::decode(&blob[..len]).is_err(),
                "{} cut at {len} of {}",
                record.event.kind(),
                blob.len()
            );
        }
    }
}

#[test]
fn error_messages_follow_house_rules() {
    let errors = [
        AuditError::BadHex { value: "x".into() },
        AuditError::Truncated { field: "tenant" },
        AuditError::UnknownVersion { version: 9 },
        AuditError::UnknownTag { field: "actor", tag: 9 },
        AuditError::BadUtf8 { field: "tenant" },
        AuditError::BadId { field: "tenant", error: crate::id::IdError::Empty { kind: "tenant id" } },
        AuditError::BadTimestamp { nanos: 1 },
        AuditError::TrailingBytes { count: 1 },
    ];
    for e in errors {
        let text = e.to_string();
        assert!(text.starts_with(|c: char| c.is_lowercase() || c.is_ascii_digit()), "{text}");
        assert!(!text.ends_with('.') && !text.contains('\n'), "{text}");
    }
}

// ------------------------------------------------------------------------------------------ proptests

fn arb_id() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9_.:-]{0,11}"
}

fn arb_text() -> impl Strategy<Value = String> {
    "(?s).{0,24}"
}

fn arb_hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>().prop_map(Hash)
}

fn arb_tenant() -> impl Strategy<Value = TenantId> {
    arb_id().prop_map(|s| TenantId::new(s).unwrap())
}

fn arb_grant() -> impl Strategy<Value = GrantId> {
    arb_id().prop_map(|s| GrantId::new(s).unwrap())
}

fn arb_person() -> impl Strategy<Value = PersonId> {
    arb_id().prop_map(|s| PersonId::new(s).unwrap())
}

fn arb_platform() -> impl Strategy<Value = Platform> {
    select(Platform::ALL.to_vec())
}

fn arb_state() -> impl Strategy<Value = GrantState> {
    select(vec![
        GrantState::Pending,
        GrantState::Active,
        GrantState::NeedsReview,
        GrantState::Revoked,
        GrantState::Expired,
    ])
}

fn arb_time() -> impl Strategy<Value = OffsetDateTime> {
    (-300_000_000_000i64..250_000_000_000, 0i64..1_000_000_000).prop_map(|(secs, nanos)| {
        OffsetDateTime::from_unix_timestamp(secs).unwrap() + Duration::nanoseconds(nanos)
    })
}

fn arb_actor() -> BoxedStrategy<ActorRef> {
    prop_oneof![
        arb_person().prop_map(ActorRef::Person),
        arb_id().prop_map(|s| ActorRef::ApiKey(ApiKeyId::new(s).unwrap())),
        Just(ActorRef::System),
        arb_platform().prop_map(ActorRef::Platform),
    ]
    .boxed()
}

fn arb_environment() -> impl Strategy<Value = Environment> {
    select(vec![Environment::Development, Environment::Staging, Environment::Production])
}

fn arb_event() -> BoxedStrategy<AuditEvent> {
    let change = || (arb_id(), arb_hash()).prop_map(|(c, h)| (ChangeId::new(c).unwrap(), h));
    prop_oneof![
        (arb_grant(), arb_platform(), proptest::option::of(arb_state()), arb_state(), arb_text())
            .prop_map(|(g, p, f, t, d)| GrantChanged::new(g, p, f, t, d).into()),
        (
            arb_text(),
            proptest::option::of(arb_tenant()),
            any::<bool>(),
            proptest::collection::vec(arb_text(), 0..4)
        )
            .prop_map(|(a, t, ok, r)| AccessDecided::new(a, t, ok, r).into()),
        (arb_grant(), select(Task::ALL.to_vec()), any::<u64>(), proptest::option::of(arb_text()))
            .prop_map(|(g, t, n, c)| SyncProgressed::new(g, t, n, c).into()),
        (arb_grant(), select(Task::ALL.to_vec()), arb_text())
            .prop_map(|(g, t, e)| SyncFailed::new(g, t, e).into()),
        (select(DataClass::ALL.to_vec()), any::<u64>(), select(Purpose::ALL.to_vec()))
            .prop_map(|(c, n, p)| DataRead::new(c, n, p).into()),
        (arb_grant(), select(vec![SecretOperation::Put, SecretOperation::Get, SecretOperation::Delete]))
            .prop_map(|(g, o)| SecretAccessed::new(g, o).into()),
        (
            select(vec![
                KeyOperation::Created,
                KeyOperation::Unwrapped,
                KeyOperation::Rotated,
                KeyOperation::Rewrapped,
                KeyOperation::Destroyed
            ]),
            any::<u32>()
        )
            .prop_map(|(o, v)| KeyChanged::new(o, v).into()),
        (any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(d, a, k)| RetentionRan::new(d, a, k).into()),
        (proptest::option::of(arb_grant()), arb_id(), any::<u64>(), any::<u64>(), any::<u64>())
            .prop_map(|(g, r, n, s, k)| RecordsPurged::new(g, ReceiptId::new(r).unwrap(), n, s, k).into()),
        (arb_id(), arb_text()).prop_map(|(h, c)| HoldChanged::new(HoldId::new(h).unwrap(), c).into()),
        (arb_person(), arb_text()).prop_map(|(p, c)| PersonnelChanged::new(p, c).into()),
        (arb_id(), arb_text()).prop_map(|(k, c)| ApiKeyChanged::new(ApiKeyId::new(k).unwrap(), c).into()),
        (proptest::option::of(arb_person()), any::<bool>(), arb_text())
            .prop_map(|(p, ok, r)| LoginAttempted::new(p, ok, r).into()),
        (change(), arb_grant()).prop_map(|((c, h), g)| ChangeProposed::new(c, h, g).into()),
        change().prop_map(|(c, h)| ChangeApproved::new(c, h).into()),
        (change(), any::<bool>()).prop_map(|((c, h), ok)| ChangeExecuted::new(c, h, ok).into()),
        (arb_id(), arb_text()).prop_map(|(i, c)| IncidentChanged::new(IncidentId::new(i).unwrap(), c).into()),
        (arb_id(), arb_text()).prop_map(|(r, c)| RightsRequestChanged::new(
            RightsRequestId::new(r).unwrap(),
            c
        )
        .into()),
        (arb_platform(), arb_text()).prop_map(|(p, k)| SignalReceived::new(p, k).into()),
        (arb_platform(), arb_text()).prop_map(|(p, r)| SignalRejected::new(p, r).into()),
        arb_text().prop_map(|c| TenantChanged::new(c).into()),
        (arb_person(), arb_text()).prop_map(|(p, c)| SessionChanged::new(p, c).into()),
    ]
    .boxed()
}

fn arb_new_events(max: usize) -> impl Strategy<Value = Vec<NewAuditEvent>> {
    proptest::collection::vec(
        (arb_time(), arb_actor(), arb_event()).prop_map(|(at, actor, event)| NewAuditEvent {
            at,
            actor,
            event,
        }),
        0..max,
    )
}

fn arb_head() -> impl Strategy<Value = ChainHead> {
    prop_oneof![
        arb_tenant().prop_map(ChainHead::genesis),
        (arb_tenant(), 0u64..1_000_000_000_000, arb_hash()).prop_map(|(tenant, seq, hash)| ChainHead {
            tenant,
            seq,
            hash
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any single-bit flip anywhere in any record's stored bytes is caught at exactly that record's seq:
    /// by `verify` when the flipped bytes still decode, by `decode` when they do not (and then a flip of a
    /// field of the in-memory record at the same spot is caught by `verify`).
    #[test]
    fn any_bit_flip_is_caught_at_its_seq(
        head in arb_head(),
        environment in arb_environment(),
        events in arb_new_events(6).prop_filter("non-empty", |e| !e.is_empty()),
        which in any::<Index>(),
        bit in any::<Index>(),
    ) {
        let mut records = extend(&head, environment, events);
        let i = which.index(records.len());
        let seq = records[i].seq;
        let mut blob = records[i].encode();
        let b = bit.index(blob.len() * 8);
        blob[b / 8] ^= 1 << (b % 8);
        match AuditRecord::decode(&blob) {
            Ok(flipped) => {
                prop_assert_ne!(&flipped, &records[i], "a flip must change a value");
                records[i] = flipped;
            }
            Err(_) => match b % 3 {
                0 => records[i].seq ^= 1 << (b % 64),
                1 => records[i].prev_hash.0[(b / 8) % 32] ^= 1 << (b % 8),
                _ => match records[i].at.checked_add(Duration::nanoseconds(1)) {
                    Some(at) => records[i].at = at,
                    None => records[i].hash.0[(b / 8) % 32] ^= 1 << (b % 8),
                },
            },
        }
        prop_assert_eq!(verify(&head, &records).map_err(|t| t.seq), Err(seq));
    }

    /// Garbage and damaged records never panic the decoder.
    #[test]
    fn decode_never_panics(
        garbage in proptest::collection::vec(any::<u8>(), 0..200),
        events in arb_new_events(2),
        cut in any::<Index>(),
        splice in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let _ = AuditRecord::decode(&garbage);
        let head = ChainHead::genesis(tid("acme"));
        for record in extend(&head, Environment::Production, events) {
            let mut blob = record.encode();
            let at = cut.index(blob.len());
            blob.splice(at..at, splice.iter().copied());
            let _ = AuditRecord::decode(&blob);
            blob.truncate(at);
            prop_assert!(AuditRecord::decode(&blob).is_err());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Encoding is lossless and canonical: decode(encode(r)) == r and encode(decode(b)) == b.
    #[test]
    fn encode_decode_round_trip(
        head in arb_head(),
        environment in arb_environment(),
        events in arb_new_events(4),
    ) {
        for record in extend(&head, environment, events) {
            let blob = record.encode();
            let decoded = AuditRecord::decode(&blob);
            prop_assert_eq!(decoded.as_ref(), Ok(&record));
            prop_assert_eq!(decoded.map(|r| r.encode()), Ok(blob));
        }
    }

    /// Whatever is appended verifies, and verification returns the last record's head.
    #[test]
    fn extended_chains_verify(
        head in arb_head(),
        environment in arb_environment(),
        events in arb_new_events(8),
    ) {
        let records = extend(&head, environment, events);
        let expected = records.last().map_or_else(|| head.clone(), AuditRecord::head);
        prop_assert_eq!(verify(&head, &records), Ok(expected));
        let checkpoint = Checkpoint::new(None, &head, OffsetDateTime::UNIX_EPOCH);
        prop_assert_eq!(checkpoint.verify_link(None), Ok(()));
        prop_assert_eq!(verify_from_checkpoint(&checkpoint, &records), verify(&head, &records));
    }
}
