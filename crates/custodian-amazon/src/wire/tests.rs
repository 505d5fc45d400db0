//! Every example payload the official models carry for the operations the adapter uses
//! (`tests/fixtures/models`, see its README) parses through the wire types and converts.

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::*;
use crate::convert;
use crate::convert::tests::target;
use crate::error::{ApiErrorKind, classify_api};

macro_rules! fixture {
    ($name:literal) => {
        ($name, include_str!(concat!("../../tests/fixtures/models/", $name)))
    };
}

#[track_caller]
fn parse<'a, T: Deserialize<'a>>(name: &str, raw: &'a str) -> T {
    match serde_json::from_str::<T>(raw) {
        Ok(value) => value,
        Err(e) => panic!("{name} does not parse: {e}"),
    }
}

/// A 400 example: the `errors` envelope, classified as a refused request.
#[track_caller]
fn check_error(name: &str, raw: &str) {
    let list: ErrorList = parse(name, raw);
    let first = list.errors.first().unwrap_or_else(|| panic!("{name} has no error"));
    assert_eq!(
        classify_api(400, Some(&first.code), first.details.as_deref()),
        ApiErrorKind::Invalid,
        "{name}"
    );
}

#[test]
fn orders_v0_get_orders_examples_parse_and_convert() {
    let examples = [
        fixture!("ordersV0.getOrders.200.sandbox1.json"),
        fixture!("ordersV0.getOrders.200.sandbox2.json"),
        fixture!("ordersV0.getOrders.200.sandbox3.json"),
        fixture!("ordersV0.getOrders.200.example.json"),
    ];
    let mut with_next = 0;
    for (name, raw) in examples {
        let plain: GetOrdersResponse<IgnoredAny, IgnoredAny> = parse(name, raw);
        let pii: GetOrdersResponse<BuyerInfoV0, AddressV0> = parse(name, raw);
        assert_eq!(plain.payload.orders.len(), pii.payload.orders.len());
        assert!(!plain.payload.orders.is_empty(), "{name}");
        with_next += usize::from(plain.payload.next_token.is_some());
        for order in plain.payload.orders {
            let usd = custodian_core::data::Currency::new("USD").ok();
            let (order, _, _) = convert::order_v0(&target(), order, Vec::new(), usd).unwrap();
            assert!(!order.id.as_str().is_empty());
        }
    }
    assert_eq!(with_next, 2, "sandbox2 and the example carry a NextToken");
    check_error(
        fixture!("ordersV0.getOrders.400.sandbox1.json").0,
        fixture!("ordersV0.getOrders.400.sandbox1.json").1,
    );
}

#[test]
fn orders_v0_get_order_items_examples_parse() {
    for (name, raw) in [
        fixture!("ordersV0.getOrderItems.200.sandbox1.json"),
        fixture!("ordersV0.getOrderItems.200.example.json"),
    ] {
        let items: GetOrderItemsResponse = parse(name, raw);
        assert!(!items.payload.order_items.is_empty(), "{name}");
        assert!(items.payload.order_items.iter().all(|i| !i.order_item_id.is_empty() && !i.asin.is_empty()));
    }
    let (name, raw) = fixture!("ordersV0.getOrderItems.400.sandbox1.json");
    check_error(name, raw);
}

#[test]
fn orders_v0_address_and_buyer_info_examples_parse_into_pii() {
    #[derive(Deserialize)]
    struct Payload<T> {
        payload: T,
    }
    #[derive(Deserialize)]
    struct WithAddress {
        #[serde(rename = "ShippingAddress")]
        shipping_address: Option<AddressV0>,
    }
    for (name, raw) in [
        fixture!("ordersV0.getOrderAddress.200.sandbox1.json"),
        fixture!("ordersV0.getOrderAddress.200.example.json"),
    ] {
        let address: Payload<WithAddress> = parse(name, raw);
        let pii = convert::pii_v0(None, address.payload.shipping_address).unwrap_or_else(|| panic!("{name}"));
        assert!(pii.address.is_some(), "{name}");
    }
    for (name, raw) in [
        fixture!("ordersV0.getOrderBuyerInfo.200.sandbox1.json"),
        fixture!("ordersV0.getOrderBuyerInfo.200.example.json"),
    ] {
        let buyer: Payload<BuyerInfoV0> = parse(name, raw);
        assert!(convert::pii_v0(Some(buyer.payload), None).is_some(), "{name}");
    }
}

#[test]
fn orders_2026_examples_parse_and_convert() {
    let searches = [
        fixture!("orders2026.searchOrders.200.example.json"),
        fixture!("orders2026.searchOrders.200.sandbox1.json"),
        fixture!("orders2026.searchOrders.200.sandbox2.json"),
        fixture!("orders2026.searchOrders.200.sandbox3.json"),
    ];
    let mut converted = 0;
    for (name, raw) in searches {
        let plain: SearchOrdersResponse<'_, IgnoredAny, IgnoredAny> = parse(name, raw);
        let pii: SearchOrdersResponse<'_, Buyer26, Recipient26> = parse(name, raw);
        assert_eq!(plain.orders.len(), pii.orders.len());
        for order in pii.orders {
            let (order, buyer, recipient) = convert::order_26(&target(), order, None).unwrap();
            assert!(!order.lines.is_empty(), "{name}");
            let _ = convert::pii_26(buyer, recipient);
            converted += 1;
        }
    }
    assert!(converted >= 4);
    #[derive(Deserialize)]
    struct GetOrderResponse<'a, B, R> {
        #[serde(borrow)]
        order: Order26<'a, B, R>,
    }
    let orders = [
        fixture!("orders2026.getOrder.200.example.json"),
        fixture!("orders2026.getOrder.200.sandbox1.json"),
        fixture!("orders2026.getOrder.200.sandbox2.json"),
        fixture!("orders2026.getOrder.200.sandbox3.json"),
    ];
    for (name, raw) in orders {
        let one: GetOrderResponse<'_, Buyer26, Recipient26> = parse(name, raw);
        convert::order_26(&target(), one.order, None).unwrap();
        let _: GetOrderResponse<'_, IgnoredAny, IgnoredAny> = parse(name, raw);
    }
    for (name, raw) in [
        fixture!("orders2026.searchOrders.400.sandbox1.json"),
        fixture!("orders2026.getOrder.400.sandbox1.json"),
    ] {
        check_error(name, raw);
    }
}

#[test]
fn tokens_examples_parse() {
    for (name, raw) in [
        fixture!("tokens.createRestrictedDataToken.200.sandbox1.json"),
        fixture!("tokens.createRestrictedDataToken.200.sandbox2.json"),
    ] {
        let answer: CreateRestrictedDataTokenResponse = parse(name, raw);
        assert_eq!(answer.expires_in, Some(3600), "{name}");
    }
    let reference = include_str!("../../tests/fixtures/reference/tokens.createRestrictedDataToken.200.json");
    let answer: CreateRestrictedDataTokenResponse = parse("reference rdt", reference);
    assert!(secrecy::ExposeSecret::expose_secret(&answer.restricted_data_token).starts_with("Atz.sprdt|"));
    let (name, raw) = fixture!("tokens.createRestrictedDataToken.400.sandbox1.json");
    check_error(name, raw);
}

#[test]
fn the_rdt_request_is_the_documented_shape() {
    let body = CreateRestrictedDataTokenRequest {
        restricted_resources: [RestrictedResource {
            method: "GET",
            path: "/orders/v0/orders",
            data_elements: &["buyerInfo", "shippingAddress"],
        }],
    };
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        serde_json::json!({"restrictedResources": [
            {"method": "GET", "path": "/orders/v0/orders", "dataElements": ["buyerInfo", "shippingAddress"]}
        ]})
    );
}

#[test]
fn listings_examples_parse_and_the_patch_is_the_documented_merge() {
    for (name, raw) in [
        fixture!("listingsItems.patchListingsItem.200.example.json"),
        fixture!("listingsItems.patchListingsItem.200.sandbox1.json"),
        fixture!("listingsItems.patchListingsItem.200.sandbox2.json"),
        fixture!("listingsItems.patchListingsItem.200.sandbox3.json"),
    ] {
        let answer: ListingsItemSubmissionResponse = parse(name, raw);
        assert!(["ACCEPTED", "VALID", "INVALID"].contains(&answer.status.as_str()), "{name}");
        if answer.status == "INVALID" {
            assert_eq!(answer.issues.first().map(|i| i.severity.as_str()), Some("ERROR"));
        }
    }
    let (name, raw) = fixture!("listingsItems.patchListingsItem.400.sandbox1.json");
    check_error(name, raw);
    let body = ListingsItemPatchRequest {
        product_type: "PRODUCT",
        patches: [PatchOperation {
            op: "merge",
            path: "/attributes/fulfillment_availability",
            value: [FulfillmentAvailability { fulfillment_channel_code: "DEFAULT", quantity: 5 }],
        }],
    };
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        serde_json::json!({"productType":"PRODUCT","patches":[{"op":"merge","path":"/attributes/fulfillment_availability","value":[{"fulfillment_channel_code":"DEFAULT","quantity":5}]}]}),
        "commerce-apis.md §2.4"
    );
}

#[test]
fn sellers_examples_parse() {
    for (name, raw) in [
        fixture!("sellers.getMarketplaceParticipations.200.example.json"),
        fixture!("sellers.getMarketplaceParticipations.200.sandbox1.json"),
    ] {
        let answer: GetMarketplaceParticipationsResponse = parse(name, raw);
        let first = answer.payload.first().unwrap_or_else(|| panic!("{name}"));
        assert_eq!(first.marketplace.id, "ATVPDKIKX0DER");
        assert_eq!(first.marketplace.default_currency_code.as_deref(), Some("USD"));
        assert!(first.participation.is_participating);
    }
}
