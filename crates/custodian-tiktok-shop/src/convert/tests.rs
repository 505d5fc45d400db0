//! Conversion: statuses, exact amounts, orders from the reference example, buyer PII sealed in the order's
//! context, stock levels.

use std::sync::Arc;

use custodian_core::data::{BuyerPii, DataKey, KeyVersion, OrderStatus, open};
use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, TikTokShopId};
use custodian_core::ports::{PiiSealer, Target};
use custodian_core::tenant::TenantId;
use custodian_testkit::fakes::SeededRng;
use time::macros::datetime;

use super::*;
use crate::wire::{Envelope, OrderPage, PiiOrder, PlainOrder, ProductPage};

fn target() -> Target {
    Target {
        tenant: TenantId::new("tenant-1").unwrap(),
        grant: GrantId::new("grant-1").unwrap(),
        account: AccountRef::TikTokShop(TikTokShopId::new("7000714532876273420").unwrap()),
    }
}

fn sealer() -> PiiSealer {
    PiiSealer { key: DataKey::from_bytes(KeyVersion(3), [7; 32]), rng: Arc::new(SeededRng::new(1)) }
}

#[test]
fn statuses_are_normalized() {
    let table = [
        ("UNPAID", OrderStatus::Pending),
        ("ON_HOLD", OrderStatus::Pending),
        ("AWAITING_SHIPMENT", OrderStatus::Unshipped),
        ("AWAITING_COLLECTION", OrderStatus::Unshipped),
        ("PARTIALLY_SHIPPING", OrderStatus::PartiallyShipped),
        ("IN_TRANSIT", OrderStatus::Shipped),
        ("DELIVERED", OrderStatus::Delivered),
        ("COMPLETED", OrderStatus::Delivered),
        ("CANCELLED", OrderStatus::Cancelled),
    ];
    for (raw, expected) in table {
        assert_eq!(status(raw).unwrap(), expected, "{raw}");
    }
    assert!(status("SOMETHING_NEW").is_err(), "an unknown status is refused, not guessed");
}

#[test]
fn amounts_are_exact_micros() {
    for (raw, expected) in [
        ("12.34", 12_340_000),
        ("0", 0),
        ("180000", 180_000_000_000),
        ("0.000001", 1),
        ("1.", 1_000_000),
        ("-1.5", -1_500_000),
    ] {
        assert_eq!(micros(raw).unwrap(), expected, "{raw}");
    }
    for raw in ["", ".5", "1.2345678", "1,32", "abc", "1e3", "--1", "99999999999999999999"] {
        assert!(micros(raw).is_err(), "{raw}");
    }
}

const ORDERS: &str = include_str!("../../tests/fixtures/order_list.json");

#[test]
fn the_example_order_converts_without_buyer() {
    let page: Envelope<OrderPage<'_, PlainOrder<'_>>> = serde_json::from_str(ORDERS).unwrap();
    let wire = page.data.unwrap().orders.into_iter().next().unwrap();
    let (order, _, _) = order(&target(), wire).unwrap();
    assert_eq!(order.id.as_str(), "577958834469439754");
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(order.created_at, datetime!(2023-09-28 04:00:53 UTC));
    assert_eq!(order.currency.as_str(), "VND");
    assert_eq!(order.total_micros, 195_000_000_000);
    assert_eq!(order.lines.len(), 1);
    assert_eq!(order.lines[0].sku.as_str(), "1729700293904534135");
    assert_eq!((order.lines[0].quantity, order.lines[0].unit_price_micros), (1, 180_000_000_000));
    assert!(order.buyer.is_none());
    assert_eq!(order.account, target().account);
}

#[test]
fn buyer_pii_is_sealed_in_the_orders_context() {
    let page: Envelope<OrderPage<'_, PiiOrder<'_>>> = serde_json::from_str(ORDERS).unwrap();
    let wire = page.data.unwrap().orders.into_iter().next().unwrap();
    let (mut order, email, address) = order(&target(), wire).unwrap();
    let pii = buyer(email, address).unwrap();
    let sealer = sealer();
    seal_buyer(&mut order, pii, &sealer).unwrap();
    let sealed = order.buyer.clone().unwrap();
    assert!(!format!("{order:?}").contains("Nguyen"), "sealed pii never prints");
    let opened: BuyerPii = open(&sealer.key, &order.seal_context(), &sealed).unwrap();
    assert_eq!(opened.name.as_deref(), Some("Nguyen An"));
    assert_eq!(opened.email.as_deref(), Some("v4bGVXWORK4Z6F5ANJPUGM7BB352Y@scs2.tiktok.com"));
    assert_eq!(opened.phone.as_deref(), Some("(+84)90******12"));
    let address = opened.address.unwrap();
    assert_eq!(address.lines, ["12 Le Loi"]);
    assert_eq!((address.city.as_str(), address.region.as_deref()), ("Ben Nghe", Some("Ho Chi Minh")));
    assert_eq!((address.postal_code.as_deref(), address.country.as_str()), (Some("700000"), "VN"));
    // Bound to the order: another order's context does not open it.
    let mut other = order.clone();
    other.id = custodian_core::data::OrderId::new("1").unwrap();
    assert!(open::<BuyerPii>(&sealer.key, &other.seal_context(), &sealed).is_err());
}

#[test]
fn no_buyer_fields_means_no_buyer() {
    assert!(buyer(None, None).is_none());
    assert!(buyer(Some("  ".into()), None).is_none());
    let email_only = buyer(Some("x@scs2.tiktok.com".into()), None).unwrap();
    assert_eq!(
        (email_only.email.as_deref(), email_only.address.is_none()),
        (Some("x@scs2.tiktok.com"), true)
    );
}

#[test]
fn stock_levels_are_one_per_sku_and_warehouse() {
    let body = r#"{"code":0,"data":{"next_page_token":"","products":[{"id":"1","skus":[
        {"id":"11","seller_sku":"A","inventory":[{"warehouse_id":"7068517275539719942","quantity":999},{"warehouse_id":"7068517275539719943","quantity":0}]},
        {"id":"12","inventory":[{"quantity":5}]}]}],"total_count":1}}"#;
    let page: Envelope<ProductPage> = serde_json::from_str(body).unwrap();
    let at = datetime!(2025-01-01 00:00 UTC);
    let levels = stock_levels(&target(), page.data.unwrap().products, at).unwrap();
    let summary: Vec<(&str, Option<&str>, i64)> = levels
        .iter()
        .map(|l| (l.sku.as_str(), l.location.as_ref().map(|w| w.as_str()), l.quantity))
        .collect();
    assert_eq!(
        summary,
        [("11", Some("7068517275539719942"), 999), ("11", Some("7068517275539719943"), 0), ("12", None, 5)]
    );
    assert!(levels.iter().all(|l| l.observed_at == at && l.account == target().account));
}
