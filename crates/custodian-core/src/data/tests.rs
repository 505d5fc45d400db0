//! Tests of data classes and of sealing (ENC-1).

use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;

use super::*;
use crate::ports::Rng;

/// Deterministic test randomness: a counter spread over the buffer.
struct CountingRng(AtomicU64);

impl Rng for CountingRng {
    fn fill(&self, buf: &mut [u8]) {
        let n = self.0.fetch_add(1, Ordering::Relaxed).to_be_bytes();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = n[i % 8] ^ (i as u8);
        }
    }
}

fn rng() -> CountingRng {
    CountingRng(AtomicU64::new(1))
}

fn tenant(s: &str) -> TenantId {
    TenantId::new(s).unwrap()
}

fn key(v: u32, b: u8) -> DataKey {
    DataKey::from_bytes(KeyVersion(v), [b; 32])
}

fn buyer() -> BuyerPii {
    BuyerPii {
        name: Some("Ada Buyer".into()),
        email: Some("ada@example.com".into()),
        phone: None,
        address: Some(PostalAddress {
            lines: vec!["2201 Westlake Ave".into(), "Suite 1".into()],
            city: "Seattle".into(),
            region: Some("WA".into()),
            postal_code: Some("98121".into()),
            country: "US".into(),
        }),
    }
}

#[test]
fn classes_have_the_policy_classification() {
    let expect = [
        (DataClass::OperationalLog, Classification::Internal),
        (DataClass::AuditRecord, Classification::Internal),
        (DataClass::ReportingDataset, Classification::Internal),
        (DataClass::CampaignMetadata, Classification::Internal),
        (DataClass::OrderDetail, Classification::Confidential),
        (DataClass::BuyerPii, Classification::Confidential),
        (DataClass::BusinessContact, Classification::Confidential),
        (DataClass::Credential, Classification::Restricted),
    ];
    for (class, classification) in expect {
        assert_eq!(class.classification(), classification, "{class}");
        assert_eq!(class.as_str().parse::<DataClass>().unwrap(), class);
    }
    assert!(DataClass::OrderDetail.reads_are_audited());
    assert!(!DataClass::ReportingDataset.reads_are_audited());
    assert!(DataClass::BuyerPii.must_be_sealed() && !DataClass::OrderDetail.must_be_sealed());
}

#[test]
fn sealed_round_trips_and_binds_context() {
    let k = key(1, 7);
    let ctx = SealContext::new(&tenant("t1"), "order", "o-1");
    let sealed = seal(&k, &ctx, &buyer(), &rng()).unwrap();
    assert_eq!(open(&k, &ctx, &sealed).unwrap(), buyer());

    let other_tenant = SealContext::new(&tenant("t2"), "order", "o-1");
    assert_eq!(open(&k, &other_tenant, &sealed), Err(SealError::Authentication));
    let other_record = SealContext::new(&tenant("t1"), "order", "o-2");
    assert_eq!(open(&k, &other_record, &sealed), Err(SealError::Authentication));
    assert_eq!(open(&key(1, 8), &ctx, &sealed), Err(SealError::Authentication));
    assert_eq!(open(&key(2, 7), &ctx, &sealed), Err(SealError::WrongKeyVersion { sealed: 1, given: 2 }));

    // Relabelling the version in storage does not help: the version is in the associated data.
    let relabelled: Sealed<BuyerPii> =
        Sealed::from_parts(KeyVersion(2), *sealed.nonce(), sealed.ciphertext().to_vec());
    assert_eq!(open(&key(2, 7), &ctx, &relabelled), Err(SealError::Authentication));
}

#[test]
fn sealed_bytes_round_trip() {
    let k = key(3, 1);
    let ctx = SealContext::new(&tenant("t1"), "contact", "c-1");
    let details = ContactDetails { name: "Rep".into(), email: None, phone: Some("+1 555".into()) };
    let sealed = seal(&k, &ctx, &details, &rng()).unwrap();
    let back: Sealed<ContactDetails> = Sealed::from_bytes(&sealed.to_bytes()).unwrap();
    assert_eq!(back, sealed);
    assert_eq!(open(&k, &ctx, &back).unwrap(), details);
    assert_eq!(Sealed::<ContactDetails>::from_bytes(&[0; 10]), Err(SealError::Malformed("too short")));
}

#[test]
fn nothing_secret_in_debug() {
    let k = key(1, 0x41);
    let ctx = SealContext::new(&tenant("t1"), "order", "o-1");
    let sealed = seal(&k, &ctx, &buyer(), &rng()).unwrap();
    let printed = format!("{k:?} {sealed:?} {:?} {:?}", buyer(), buyer().address);
    for secret in ["Ada", "ada@example.com", "Westlake", "98121", "Seattle", "AAAA", "65, 65"] {
        assert!(!printed.contains(secret), "{secret} leaked in {printed}");
    }
    expect_test::expect![[r#"DataKey { version: KeyVersion(1), key: "[REDACTED]" }"#]]
        .assert_eq(&format!("{k:?}"));
}

#[test]
fn key_from_slice_checks_length() {
    let short = zeroize::Zeroizing::new(vec![1u8; 31]);
    assert_eq!(DataKey::from_slice(KeyVersion(1), &short).unwrap_err(), SealError::KeyLength);
    let ok = zeroize::Zeroizing::new(vec![1u8; 32]);
    assert_eq!(DataKey::from_slice(KeyVersion(1), &ok).unwrap().version(), KeyVersion(1));
}

#[test]
fn text_and_currency_validation() {
    assert!(Text::new("Summer sale").is_ok());
    assert!(Text::new("a\u{0}b").is_err());
    assert!(Text::new("x".repeat(1001)).is_err());
    assert_eq!(Currency::new("EUR").unwrap().as_str(), "EUR");
    assert!(Currency::new("eur").is_err() && Currency::new("EURO").is_err());
}

fn arb_text() -> impl Strategy<Value = String> {
    ".{0,40}"
}

fn arb_buyer() -> impl Strategy<Value = BuyerPii> {
    (
        proptest::option::of(arb_text()),
        proptest::option::of(arb_text()),
        proptest::option::of(arb_text()),
        proptest::option::of((proptest::collection::vec(arb_text(), 0..4), arb_text(), arb_text())),
    )
        .prop_map(|(name, email, phone, addr)| BuyerPii {
            name,
            email,
            phone,
            address: addr.map(|(lines, city, country)| PostalAddress {
                lines,
                city,
                region: None,
                postal_code: Some("1".into()),
                country,
            }),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// ENC-1: sealing round-trips, and any wrong key, wrong tenant or flipped bit fails to open.
    #[test]
    fn sealed_round_trip_and_tamper(value in arb_buyer(), key_byte in any::<u8>(), flip in any::<usize>(), bit in 0u8..8) {
        let k = key(1, key_byte);
        let ctx = SealContext::new(&tenant("t1"), "order", "o-1");
        let sealed = seal(&k, &ctx, &value, &rng()).unwrap();
        prop_assert_eq!(open(&k, &ctx, &sealed).unwrap(), value);
        prop_assert_eq!(open(&key(1, key_byte.wrapping_add(1)), &ctx, &sealed), Err(SealError::Authentication));
        let wrong_tenant = SealContext::new(&tenant("t2"), "order", "o-1");
        prop_assert_eq!(open(&k, &wrong_tenant, &sealed), Err(SealError::Authentication));
        let mut bytes = sealed.ciphertext().to_vec();
        let i = flip % bytes.len();
        bytes[i] ^= 1 << bit;
        let tampered: Sealed<BuyerPii> = Sealed::from_parts(sealed.key_version(), *sealed.nonce(), bytes);
        prop_assert_eq!(open(&k, &ctx, &tampered), Err(SealError::Authentication));
    }
}

proptest! {
    /// Natural keys joined by a space sort exactly as their parts do one after another (no part holds a
    /// space or anything below it), so a store may page by either, and `key_parts` gives the parts back.
    #[test]
    fn natural_keys_sort_like_their_parts_and_split_back(
        a in proptest::collection::vec("[!-~]{1,6}", 3),
        b in proptest::collection::vec("[!-~]{1,6}", 3),
    ) {
        let (ka, kb) = (a.join(" "), b.join(" "));
        prop_assert_eq!(ka.cmp(&kb), a.cmp(&b));
        let parts = RecordKind::StockLevel.key_parts(&ka).unwrap();
        prop_assert_eq!(parts, a.iter().map(String::as_str).collect::<Vec<_>>());
        prop_assert!(RecordKind::Order.key_parts(&ka).is_none());
    }
}

#[test]
fn natural_keys_of_each_kind_and_what_is_not_one() {
    let tenant = TenantId::new("t1").unwrap();
    let grant = GrantId::new("g1").unwrap();
    let account = AccountRef::parse_key("meta:act_1").unwrap();
    let row = ReportRow {
        tenant: tenant.clone(),
        grant: grant.clone(),
        account: account.clone(),
        level: ReportLevel::AdGroup,
        object: ObjectId::new("120").unwrap(),
        date: time::macros::date!(2024 - 03 - 07),
        currency: Currency::new("EUR").unwrap(),
        metrics: Metrics::default(),
    };
    assert_eq!(row.natural_key(), "meta:act_1 ad_group 120 2024-03-07");
    assert_eq!(
        RecordKind::ReportRow.key_parts(&row.natural_key()).unwrap(),
        ["meta:act_1", "ad_group", "120", "2024-03-07"]
    );
    let stock = StockLevel {
        tenant,
        grant,
        account,
        sku: Sku::new("S-1").unwrap(),
        location: None,
        quantity: 3,
        observed_at: time::OffsetDateTime::UNIX_EPOCH,
    };
    assert_eq!(stock.natural_key(), "meta:act_1 S-1 ");
    assert_eq!(RecordKind::StockLevel.key_parts(&stock.natural_key()).unwrap(), ["meta:act_1", "S-1", ""]);
    for (kind, bad) in [
        (RecordKind::ReportRow, "meta:act_1 adset 120 2024-03-07"),
        (RecordKind::ReportRow, "meta:act_1 ad 120 2024-02-30"),
        (RecordKind::ReportRow, "meta:act_1 ad 120 24-03-07"),
        (RecordKind::ReportRow, "meta:act_1 ad  2024-03-07"),
        (RecordKind::Campaign, "meta:act_1"),
        (RecordKind::Order, "ebay:s 1 2"),
        (RecordKind::Order, " 1"),
        (RecordKind::StockLevel, " S-1 L"),
        (RecordKind::Campaign, ""),
    ] {
        assert!(kind.key_parts(bad).is_none(), "{kind:?} {bad:?}");
    }
}
