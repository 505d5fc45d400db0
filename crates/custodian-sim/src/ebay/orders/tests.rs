//! The fast order writer against its `write!` oracle, and the JSON it writes.

use super::*;
use crate::SimContext;
use crate::ebay::{EbayConfig, EbaySeller};

fn sim(orders: u64) -> EbaySim {
    let config = EbayConfig {
        sellers: vec![
            EbaySeller::new("seller-a", "seller_a", orders, 1_000),
            EbaySeller::new("seller-b", "seller_b", orders, 7),
        ],
        ..EbayConfig::default()
    };
    EbaySim::new(SimContext::new(11), config)
}

/// Every order the fast writer produces is byte for byte what the straightforward formatter writes
/// (issue 6: the hot path changed, the API's fields did not).
#[test]
fn fast_writer_matches_the_reference_formatter() {
    let sim = sim(250_000);
    let mut contact = String::new();
    for seller in 0..2 {
        let book = Book::new(&sim, seller);
        for i in (0..2_000).chain([99_999, 100_000, 123_456, 249_999]) {
            let (mut fast, mut reference) = (String::new(), String::new());
            book.write(&mut fast, &mut contact, i);
            book.write_reference(&mut reference, i);
            assert_eq!(fast, reference, "order {i} of seller {seller}");
        }
    }
}

/// A written order is JSON with the `Order` schema's PII containers and line items.
#[test]
fn written_order_is_json_with_the_order_schema_fields() {
    let sim = sim(10);
    let book = Book::new(&sim, 0);
    let (mut out, mut contact) = (String::new(), String::new());
    book.write(&mut out, &mut contact, 3);
    let order: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
    assert_eq!(order["orderId"], "00-00000-00003");
    assert_eq!(order["sellerId"], "seller-a");
    let ship_to = &order["fulfillmentStartInstructions"][0]["shippingStep"]["shipTo"];
    assert_eq!(ship_to, &order["buyer"]["buyerRegistrationAddress"]);
    assert!(ship_to["email"].as_str().is_some_and(|e| e.ends_with("@members.ebay.com")));
    let lines = order["lineItems"].as_array().map_or(0, Vec::len);
    assert!((1..=3).contains(&lines), "{lines} line items");
    assert_eq!(order["salesRecordReference"], "1003");
}
