//! Conversion of the models' payloads into domain records: amounts, statuses, times, PII and sealing.

use custodian_core::data::{DataKey, KeyVersion, open};
use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, AmazonMarketplaceId, AmazonSellerId};
use custodian_core::tenant::TenantId;
use custodian_testkit::fakes::SeededRng;
use serde::de::IgnoredAny;
use std::sync::Arc;

use super::*;
use crate::wire::{GetOrderItemsResponse, GetOrdersResponse, SearchOrdersResponse};

pub(crate) fn target() -> Target {
    Target {
        tenant: TenantId::new("tenant-1").unwrap(),
        grant: GrantId::new("grant-1").unwrap(),
        account: AccountRef::AmazonSeller {
            seller: AmazonSellerId::new("A1SELLER").unwrap(),
            marketplace: AmazonMarketplaceId::new("ATVPDKIKX0DER").unwrap(),
        },
    }
}

pub(crate) fn sealer() -> PiiSealer {
    PiiSealer { key: DataKey::from_bytes(KeyVersion(3), [9; 32]), rng: Arc::new(SeededRng::new(5)) }
}

#[track_caller]
fn check_micros(raw: &str, expect: Option<i64>) {
    assert_eq!(micros(raw), expect, "{raw:?}");
}

#[test]
fn decimal_amounts_become_micros_exactly() {
    check_micros("11.01", Some(11_010_000));
    check_micros("154.99", Some(154_990_000));
    check_micros("0.05", Some(50_000));
    check_micros("-5.5", Some(-5_500_000));
    check_micros("+3", Some(3_000_000));
    check_micros("1.1234567", Some(1_123_456));
    check_micros(".5", Some(500_000));
    check_micros("100", Some(100_000_000));
    check_micros("", None);
    check_micros("1.2.3", None);
    check_micros("abc", None);
    check_micros("1e5", None);
    check_micros("99999999999999999999", None);
}

#[test]
fn statuses_of_both_apis_map_onto_the_domain() {
    use custodian_core::data::OrderStatus as S;
    let v0 = [
        ("Pending", S::Pending),
        ("PendingAvailability", S::Pending),
        ("Unshipped", S::Unshipped),
        ("PartiallyShipped", S::PartiallyShipped),
        ("Shipped", S::Shipped),
        ("InvoiceUnconfirmed", S::Shipped),
        ("Canceled", S::Cancelled),
        ("Unfulfillable", S::Cancelled),
    ];
    for (raw, expect) in v0 {
        assert_eq!(status_v0(raw), expect, "{raw}");
    }
    let v2026 = [
        ("PENDING_AVAILABILITY", S::Pending),
        ("PENDING", S::Pending),
        ("UNSHIPPED", S::Unshipped),
        ("PARTIALLY_SHIPPED", S::PartiallyShipped),
        ("SHIPPED", S::Shipped),
        ("CANCELLED", S::Cancelled),
        ("UNFULFILLABLE", S::Cancelled),
    ];
    for (raw, expect) in v2026 {
        assert_eq!(status_2026(raw), expect, "{raw}");
    }
}

#[test]
fn times_parse_and_format_in_utc_seconds() {
    let t = parse_time("x", "2019-05-07T15:42:57.058Z").unwrap();
    assert_eq!(t.unix_timestamp(), 1_557_243_777);
    assert_eq!(format_time(t), "2019-05-07T15:42:57Z");
    let offset = parse_time("x", "2025-01-01T09:00:00+09:00").unwrap();
    assert_eq!(format_time(offset), "2025-01-01T00:00:00Z");
    assert!(parse_time("x", "1.569521782042E9").is_err());
}

#[test]
fn a_v0_order_with_items_converts_without_buyer_data() {
    let orders: GetOrdersResponse<IgnoredAny, IgnoredAny> = serde_json::from_str(include_str!(
        "../../tests/fixtures/models/ordersV0.getOrders.200.sandbox1.json"
    ))
    .unwrap();
    let items: GetOrderItemsResponse = serde_json::from_str(include_str!(
        "../../tests/fixtures/models/ordersV0.getOrderItems.200.sandbox1.json"
    ))
    .unwrap();
    let wire = orders.payload.orders.into_iter().next().unwrap();
    let (order, _, _) = order_v0(&target(), wire, items.payload.order_items, None).unwrap();
    assert_eq!(order.id.as_str(), "902-1845936-5435065");
    assert_eq!(order.status, custodian_core::data::OrderStatus::Unshipped);
    assert_eq!(order.currency.as_str(), "USD");
    assert_eq!(order.total_micros, 11_010_000);
    assert_eq!(order.lines.len(), 1);
    assert_eq!(order.lines[0].sku.as_str(), "NABetaASINB00551Q3CS");
    assert_eq!(order.lines[0].unit_price_micros, 10_000_000);
    assert_eq!(order.updated_at, parse_time("x", "1970-01-19T03:58:32Z").unwrap());
    assert!(order.buyer.is_none());
    assert_eq!(order.account, target().account);
}

#[test]
fn pending_orders_without_prices_take_the_marketplace_currency() {
    let orders: GetOrdersResponse<IgnoredAny, IgnoredAny> = serde_json::from_str(include_str!(
        "../../tests/fixtures/models/ordersV0.getOrders.200.sandbox2.json"
    ))
    .unwrap();
    let wire = orders.payload.orders.into_iter().next().unwrap();
    assert!(v0_lacks_currency(&wire, &[]));
    let eur = Currency::new("EUR").unwrap();
    let (order, _, _) = order_v0(&target(), wire, Vec::new(), Some(eur)).unwrap();
    assert_eq!(order.currency, eur);
    assert_eq!(order.total_micros, 0);
    assert_eq!(order.status, custodian_core::data::OrderStatus::Pending);
}

#[test]
fn the_reference_v0_pii_payloads_become_sealed_buyer_pii() {
    #[derive(serde::Deserialize)]
    struct Payload<T> {
        payload: T,
    }
    #[derive(serde::Deserialize)]
    struct WithAddress {
        #[serde(rename = "ShippingAddress")]
        shipping_address: Option<AddressV0>,
    }
    let address: Payload<WithAddress> = serde_json::from_str(include_str!(
        "../../tests/fixtures/reference/ordersV0.getOrderAddress.200.json"
    ))
    .unwrap();
    let buyer: Payload<BuyerInfoV0> = serde_json::from_str(include_str!(
        "../../tests/fixtures/reference/ordersV0.getOrderBuyerInfo.200.json"
    ))
    .unwrap();
    let pii = pii_v0(Some(buyer.payload), address.payload.shipping_address).unwrap();
    assert_eq!(pii.name.as_deref(), Some("MFNIntegrationTestMerchant"));
    assert_eq!(pii.email.as_deref(), Some("fzyrv6gwkhbb15c@example.com"));
    assert_eq!(pii.phone.as_deref(), Some("+1 480-386-0930 ext. 73824"));
    let postal = pii.address.clone().unwrap();
    assert_eq!(postal.lines, vec!["2201 WESTLAKE AVE".to_owned()]);
    assert_eq!((postal.city.as_str(), postal.region.as_deref()), ("SEATTLE", Some("WA")));
    assert_eq!((postal.postal_code.as_deref(), postal.country.as_str()), (Some("98121-2778"), "US"));

    let orders: GetOrdersResponse<IgnoredAny, IgnoredAny> = serde_json::from_str(include_str!(
        "../../tests/fixtures/models/ordersV0.getOrders.200.sandbox1.json"
    ))
    .unwrap();
    let wire = orders.payload.orders.into_iter().next().unwrap();
    let (mut order, _, _) = order_v0(&target(), wire, Vec::new(), None).unwrap();
    let sealer = sealer();
    seal_buyer(&mut order, &pii, &sealer).unwrap();
    let sealed = order.buyer.clone().unwrap();
    assert_eq!(
        open(&sealer.key, &order.seal_context(), &sealed).unwrap(),
        pii,
        "ENC-1: opens in its context"
    );
    let mut other = order.clone();
    other.id = custodian_core::data::OrderId::new("111-1111111-1111111").unwrap();
    assert!(open(&sealer.key, &other.seal_context(), &sealed).is_err(), "bound to the order");
}

#[test]
fn a_2026_order_converts_with_its_buyer_and_recipient_when_asked() {
    let answer: SearchOrdersResponse<'_, Buyer26, Recipient26> = serde_json::from_str(include_str!(
        "../../tests/fixtures/models/orders2026.searchOrders.200.example.json"
    ))
    .unwrap();
    let wire = answer.orders.into_iter().next().unwrap();
    let (order, buyer, recipient) = order_26(&target(), wire, None).unwrap();
    assert_eq!(order.id.as_str(), "123-4567890-1234567");
    assert_eq!(order.status, custodian_core::data::OrderStatus::Shipped);
    assert_eq!((order.currency.as_str(), order.total_micros), ("USD", 154_990_000));
    assert_eq!(order.lines.len(), 2);
    assert_eq!(order.lines[0].sku.as_str(), "ECHO-DOT-4-CHARCOAL");
    assert_eq!((order.lines[0].quantity, order.lines[0].unit_price_micros), (2, 49_990_000));
    let pii = pii_26(buyer, recipient).unwrap();
    assert_eq!(pii.name.as_deref(), Some("John Smith"));
    assert_eq!(pii.email.as_deref(), Some("buyer-email@marketplace.amazon.com"));
    assert_eq!(pii.phone.as_deref(), Some("555-123-4567"));
    let postal = pii.address.unwrap();
    assert_eq!(
        postal.lines,
        vec!["123 Main Street".to_owned(), "Suite 456".to_owned()],
        "empty lines dropped"
    );
    assert_eq!(postal.city, "Seattle");
}

#[test]
fn fba_summaries_become_stock_at_the_fba_location() {
    let summary: crate::wire::InventorySummary = serde_json::from_value(serde_json::json!({
        "asin": "B0X", "fnSku": "X00", "sellerSku": "SKU-1", "condition": "NewItem",
        "inventoryDetails": {"fulfillableQuantity": 12, "inboundWorkingQuantity": 3},
        "totalQuantity": 20, "productName": "p"
    }))
    .unwrap();
    let now = parse_time("x", "2025-01-01T00:00:00Z").unwrap();
    let level = stock_level(&target(), summary, now).unwrap().unwrap();
    assert_eq!((level.sku.as_str(), level.quantity), ("SKU-1", 12));
    assert_eq!(level.location.unwrap().as_str(), FBA_LOCATION);
    let without: crate::wire::InventorySummary =
        serde_json::from_value(serde_json::json!({"totalQuantity": 4})).unwrap();
    assert!(stock_level(&target(), without, now).unwrap().is_none());
}

#[test]
fn without_pii_the_buyer_fields_of_a_v0_order_are_skipped_unread() {
    // Orders v0 sends the anonymized e-mail without an RDT; the plain typing skips it (MIN-1, MIN-2).
    let raw = r#"{"payload":{"Orders":[{"AmazonOrderId":"902-1","PurchaseDate":"2025-01-01T00:00:00Z",
        "LastUpdateDate":"2025-01-01T00:00:00Z","OrderStatus":"Shipped",
        "OrderTotal":{"CurrencyCode":"USD","Amount":"1.00"},
        "BuyerInfo":{"BuyerEmail":"someone@marketplace.amazon.com"},
        "ShippingAddress":{"City":"SEATTLE","CountryCode":"US"}}]}}"#;
    let plain: GetOrdersResponse<IgnoredAny, IgnoredAny> = serde_json::from_str(raw).unwrap();
    let wire = plain.payload.orders.into_iter().next().unwrap();
    assert!(wire.buyer_info.is_some() && wire.shipping_address.is_some(), "present, but as IgnoredAny");
    let (order, _, _) = order_v0(&target(), wire, Vec::new(), None).unwrap();
    assert!(order.buyer.is_none());
}
