//! Unit tests of the conversions: the filter and timestamp vectors, amounts, statuses, orders and sealed PII.

use std::sync::Arc;

use custodian_core::data::{BuyerPii, DataKey, KeyVersion, OrderStatus, open};
use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, EbayUserId};
use custodian_core::ports::{PiiSealer, Rng, Target};
use custodian_core::tenant::TenantId;
use time::macros::datetime;

use super::*;

#[test]
fn filter_encoding_matches_the_reference_vector() {
    // Reference §7 vector 5.
    assert_eq!(
        encode_filter("lastmodifieddate:[2016-05-15T08:25:43.511Z..]"),
        "lastmodifieddate:%5B2016-05-15T08:25:43.511Z..%5D"
    );
    assert_eq!(
        encode_filter("orderfulfillmentstatus:{NOT_STARTED|IN_PROGRESS}"),
        "orderfulfillmentstatus:%7BNOT_STARTED%7CIN_PROGRESS%7D"
    );
}

#[test]
fn the_window_filter_is_lastmodifieddate_only_and_half_open() {
    let filter =
        lastmodified_filter(datetime!(2016-05-15 08:25:43.511 UTC), datetime!(2016-05-31 08:25:43.511 UTC));
    assert_eq!(filter, "lastmodifieddate:%5B2016-05-15T08:25:43.511Z..2016-05-31T08:25:43.510Z%5D");
    assert!(!filter.contains("creationdate"));
    // Sub-millisecond bounds: the start rounds up, the end rounds down.
    let filter =
        lastmodified_filter(datetime!(2016-05-15 08:25:43.5111 UTC), datetime!(2016-05-15 09:00:00.0009 UTC));
    assert_eq!(filter, "lastmodifieddate:%5B2016-05-15T08:25:43.512Z..2016-05-15T09:00:00.000Z%5D");
}

#[test]
fn timestamps_parse_in_ebay_form() {
    assert_eq!(parse_timestamp("2015-08-04T19:09:02.768Z"), Some(datetime!(2015-08-04 19:09:02.768 UTC)));
    assert_eq!(parse_timestamp("2015-08-04T19:09:02Z"), Some(datetime!(2015-08-04 19:09:02 UTC)));
    assert_eq!(
        parse_timestamp("2015-08-04T19:09:02.123456789Z"),
        Some(datetime!(2015-08-04 19:09:02.123456789 UTC))
    );
    for bad in [
        "2015-08-04T19:09:02.768",
        "2015-08-04 19:09:02Z",
        "2015-13-04T19:09:02Z",
        "",
        "2015-08-04T19:09:02.Z",
    ] {
        assert_eq!(parse_timestamp(bad), None, "{bad}");
    }
    assert_eq!(format_timestamp(datetime!(2015-08-04 21:09:02.768 +2)), "2015-08-04T19:09:02.768Z");
}

#[test]
fn amounts_become_micros() {
    for (text, expect) in
        [("12.34", Some(12_340_000)), ("0", Some(0)), ("-0.5", Some(-500_000)), ("1.234567", Some(1_234_567))]
    {
        assert_eq!(micros(text), expect, "{text}");
    }
    for bad in ["", "1.2345678", "1,00", "abc", ".5", "1.2.3"] {
        assert_eq!(micros(bad), None, "{bad}");
    }
}

#[test]
fn statuses_normalize() {
    let cases = [
        (Some("FULFILLED"), Some("PAID"), Some("NONE_REQUESTED"), OrderStatus::Shipped),
        (Some("IN_PROGRESS"), Some("PAID"), None, OrderStatus::PartiallyShipped),
        (Some("NOT_STARTED"), Some("PAID"), None, OrderStatus::Unshipped),
        (Some("NOT_STARTED"), Some("PENDING"), None, OrderStatus::Pending),
        (Some("NOT_STARTED"), Some("FAILED"), None, OrderStatus::Pending),
        (Some("FULFILLED"), Some("FULLY_REFUNDED"), None, OrderStatus::Returned),
        (Some("NOT_STARTED"), Some("FULLY_REFUNDED"), Some("CANCELED"), OrderStatus::Cancelled),
    ];
    for (fulfillment, payment, cancel, expect) in cases {
        assert_eq!(
            order_status(fulfillment, payment, cancel),
            expect,
            "{fulfillment:?} {payment:?} {cancel:?}"
        );
    }
}

struct FixedRng;

impl Rng for FixedRng {
    fn fill(&self, buf: &mut [u8]) {
        buf.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
    }
}

fn target() -> Target {
    Target {
        tenant: TenantId::new("tenant-1").unwrap(),
        grant: GrantId::new("grant-1").unwrap(),
        account: AccountRef::EbayUser(EbayUserId::new("ma8vp1jySJC").unwrap()),
    }
}

const ORDER: &str = r#"{"orderId":"12-03456-78901","creationDate":"2026-01-02T03:04:05.678Z","lastModifiedDate":"2026-01-03T00:00:00.000Z",
 "orderFulfillmentStatus":"FULFILLED","orderPaymentStatus":"PAID","sellerId":"ma8vp1jySJC",
 "buyer":{"username":"buyer_1","taxAddress":{"postalCode":"95125","countryCode":"US"},
   "buyerRegistrationAddress":{"fullName":"Reg Name","email":"reg@members.ebay.com","primaryPhone":{"phoneNumber":"4085550100"},
   "contactAddress":{"addressLine1":"1 Reg St","city":"San Jose","stateOrProvince":"CA","postalCode":"95125","countryCode":"US"}}},
 "pricingSummary":{"total":{"value":"25.50","currency":"USD"}},"cancelStatus":{"cancelState":"NONE_REQUESTED","cancelRequests":[]},
 "fulfillmentStartInstructions":[{"shippingStep":{"shipTo":{"fullName":"Ship Name","email":"ship@members.ebay.com",
   "primaryPhone":{"phoneNumber":"5125550100"},"contactAddress":{"addressLine1":"2 Ship Ave","addressLine2":"Apt 3","city":"Austin","stateOrProvince":"TX","postalCode":"78701","countryCode":"US"}}}}],
 "lineItems":[{"lineItemId":"10000000001","sku":"SKU-000001","quantity":2,"lineItemCost":{"value":"20.00","currency":"USD"}},
              {"lineItemId":"10000000002","legacyItemId":"110000000002","quantity":1,"lineItemCost":{"value":"5.50","currency":"USD"}}]}"#;

#[test]
fn orders_convert_and_seal_the_ship_to_contact() {
    let plain: wire::PlainOrder<'_> = serde_json::from_str(ORDER).unwrap();
    let order = order(&target(), 0, &plain, None).unwrap();
    assert_eq!(order.id.as_str(), "12-03456-78901");
    assert_eq!(order.status, OrderStatus::Shipped);
    assert_eq!(order.total_micros, 25_500_000);
    assert_eq!(order.currency.as_str(), "USD");
    assert_eq!(order.created_at, datetime!(2026-01-02 03:04:05.678 UTC));
    assert_eq!(order.updated_at, datetime!(2026-01-03 00:00 UTC));
    assert_eq!(order.lines.len(), 2);
    assert_eq!((order.lines[0].quantity, order.lines[0].unit_price_micros), (2, 10_000_000));
    assert_eq!(order.lines[1].sku.as_str(), "line-10000000002", "a listing without a SKU keeps its line");
    assert!(order.buyer.is_none(), "no PII without a sealer (MIN-2)");

    let with_pii: wire::PiiOrder<'_> = serde_json::from_str(ORDER).unwrap();
    let pii = buyer_pii(&with_pii).unwrap();
    let key = DataKey::from_bytes(KeyVersion(3), [9; 32]);
    let sealer = PiiSealer { key, rng: Arc::new(FixedRng) };
    let sealed = super::order(&target(), 0, &with_pii, Some((pii, &sealer))).unwrap();
    let opened: BuyerPii = open(&sealer.key, &sealed.seal_context(), sealed.buyer.as_ref().unwrap()).unwrap();
    assert_eq!(opened.name.as_deref(), Some("Ship Name"), "the ship-to contact wins");
    assert_eq!(opened.email.as_deref(), Some("ship@members.ebay.com"));
    assert_eq!(opened.phone.as_deref(), Some("5125550100"));
    let address = opened.address.unwrap();
    assert_eq!(address.lines, ["2 Ship Ave", "Apt 3"]);
    assert_eq!(
        (
            address.city.as_str(),
            address.region.as_deref(),
            address.postal_code.as_deref(),
            address.country.as_str()
        ),
        ("Austin", Some("TX"), Some("78701"), "US")
    );
    // Sealed bytes do not contain the clear text (ENC-1).
    let bytes = sealed.buyer.unwrap().to_bytes();
    assert!(!bytes.windows(9).any(|w| w == b"Ship Name"));
}

#[test]
fn without_ship_to_the_registration_contact_is_used() {
    let json = ORDER.replace("\"fulfillmentStartInstructions\"", "\"ignoredInstructions\"");
    let order: wire::PiiOrder<'_> = serde_json::from_str(&json).unwrap();
    assert_eq!(buyer_pii(&order).unwrap().name.as_deref(), Some("Reg Name"));
    let bare = r#"{"orderId":"1","creationDate":"2026-01-02T03:04:05.678Z","pricingSummary":{"total":{"value":"1.00","currency":"USD"}}}"#;
    let order: wire::PiiOrder<'_> = serde_json::from_str(bare).unwrap();
    assert!(buyer_pii(&order).is_none());
}

#[test]
fn broken_orders_name_the_field() {
    let json = ORDER.replace("2026-01-02T03:04:05.678Z", "yesterday");
    let order: wire::PlainOrder<'_> = serde_json::from_str(&json).unwrap();
    let error = super::order(&target(), 4, &order, None).unwrap_err();
    assert!(format!("{:?}", error).contains("orders[4].creationDate"), "{error:?}");
}
