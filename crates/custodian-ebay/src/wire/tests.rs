//! The wire types agree with the official models (`shared/specs/ebay/`, beside the repository) and parse the
//! reference fixtures.

use std::sync::Arc;

use custodian_core::data::{DataKey, KeyVersion};
use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, EbayUserId};
use custodian_core::ports::{PiiSealer, Rng, Target};
use custodian_core::tenant::TenantId;
use serde_json::{Map, Value, json};

use super::*;
use crate::convert;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// An official model from `shared/specs/ebay/` beside the repository (not copied: the files are large).
fn spec(name: &str) -> Value {
    let path = format!("{}/../../../shared/specs/ebay/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read `{path}`: {e}")))
        .unwrap()
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            &spec["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// Every `example`/`examples` value under `schema` (following `$ref`s, to a depth).
fn collect_examples(spec: &Value, schema: &Value, depth: usize, out: &mut Vec<Value>) {
    if depth == 0 {
        return;
    }
    let schema = resolve(spec, schema);
    if let Some(example) = schema.get("example") {
        out.push(example.clone());
    }
    if let Some(Value::Object(examples)) = schema.get("examples") {
        out.extend(examples.values().map(|e| e.get("value").cloned().unwrap_or_else(|| e.clone())));
    }
    if let Some(Value::Object(properties)) = schema.get("properties") {
        for property in properties.values() {
            collect_examples(spec, property, depth - 1, out);
        }
    }
    if let Some(items) = schema.get("items") {
        collect_examples(spec, items, depth - 1, out);
    }
}

/// A payload with every property of `schema` filled: dates as eBay writes them, amounts as decimals,
/// currencies as ISO codes, one element per array.
fn skeleton(spec: &Value, schema: &Value, name: &str, depth: usize) -> Value {
    let schema = resolve(spec, schema);
    match schema.get("type").and_then(Value::as_str) {
        _ if depth == 0 => Value::Null,
        Some("array") => json!([skeleton(spec, &schema["items"], name, depth - 1)]),
        Some("integer") | Some("number") => json!(1),
        Some("boolean") => json!(true),
        Some("object") | None if schema.get("properties").is_some() => {
            let mut object = Map::new();
            if let Some(Value::Object(properties)) = schema.get("properties") {
                for (key, property) in properties {
                    object.insert(key.clone(), skeleton(spec, property, key, depth - 1));
                }
            }
            Value::Object(object)
        }
        _ if name.ends_with("Date") => json!("2015-08-04T19:09:02.768Z"),
        _ if name == "value" || name == "convertedFromValue" => json!("12.34"),
        _ if name.to_ascii_lowercase().contains("currency") => json!("USD"),
        _ if name == "countryCode" => json!("US"),
        _ => json!(format!("{name}-text")),
    }
}

fn response_schema<'a>(spec: &'a Value, path: &str, method: &str) -> &'a Value {
    &spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
}

/// The operations the adapter calls: (model, path, method).
const OPERATIONS: [(&str, &str, &str); 4] = [
    ("sell_fulfillment_v1_oas3.json", "/order", "get"),
    ("sell_inventory_v1_oas3.json", "/inventory_item", "get"),
    ("sell_inventory_v1_oas3.json", "/bulk_update_price_quantity", "post"),
    ("commerce_notification_v1_oas3.json", "/public_key/{public_key_id}", "get"),
];

/// The models of reference §4 carry no `example` for these operations.
const EXPECTED_EXAMPLES: usize = 0;

fn parse_as_operation(operation: &str, payload: &Value) {
    let bytes = serde_json::to_vec(payload).unwrap();
    match operation {
        "/order" => {
            crate::client::decode::<OrdersPage<PlainOrder<'_>>>(&bytes).unwrap();
            crate::client::decode::<OrdersPage<PiiOrder<'_>>>(&bytes).unwrap();
        }
        "/inventory_item" => drop(crate::client::decode::<InventoryItems>(&bytes).unwrap()),
        "/bulk_update_price_quantity" => {
            drop(crate::client::decode::<BulkPriceQuantityResponse>(&bytes).unwrap())
        }
        _ => drop(crate::client::decode::<PublicKey>(&bytes).unwrap()),
    }
}

#[test]
fn every_official_example_of_the_used_operations_parses() {
    let mut found = 0;
    for (model, path, method) in OPERATIONS {
        let spec = spec(model);
        let operation = &spec["paths"][path][method];
        assert!(operation.is_object(), "{model} has no {method} {path}");
        let mut examples = Vec::new();
        for (_, response) in operation["responses"].as_object().unwrap() {
            let media = &response["content"]["application/json"];
            if let Some(example) = media.get("example") {
                examples.push(example.clone());
            }
            if let Some(Value::Object(named)) = media.get("examples") {
                examples.extend(named.values().map(|e| e["value"].clone()));
            }
            collect_examples(&spec, &media["schema"], 8, &mut examples);
        }
        // Whole-payload examples parse through the wire types; property-level ones are checked for type
        // by the skeleton test below.
        for example in examples.iter().filter(|e| e.is_object()) {
            parse_as_operation(path, example);
        }
        found += examples.len();
    }
    assert_eq!(found, EXPECTED_EXAMPLES, "the official models changed: check the new examples parse");
}

struct FixedRng;

impl Rng for FixedRng {
    fn fill(&self, buf: &mut [u8]) {
        buf.fill(4);
    }
}

#[test]
fn payloads_built_from_the_official_schemas_parse_and_convert() {
    let fulfillment = spec("sell_fulfillment_v1_oas3.json");
    let orders = skeleton(&fulfillment, response_schema(&fulfillment, "/order", "get"), "", 12);
    let bytes = serde_json::to_vec(&orders).unwrap();
    let target = Target {
        tenant: TenantId::new("t").unwrap(),
        grant: GrantId::new("g").unwrap(),
        account: AccountRef::EbayUser(EbayUserId::new("sellerId-text").unwrap()),
    };
    let plain: OrdersPage<PlainOrder<'_>> = crate::client::decode(&bytes).unwrap();
    assert_eq!(plain.total, Some(1));
    assert!(plain.next.is_some());
    let order = &plain.orders[0];
    assert_eq!(order.seller_id.as_deref(), Some("sellerId-text"));
    let converted = convert::order(&target, 0, order, None).unwrap();
    assert_eq!(converted.id.as_str(), "orderId-text");
    assert_eq!(converted.total_micros, 12_340_000);
    assert_eq!(converted.lines.len(), 1);
    assert_eq!(converted.lines[0].sku.as_str(), "sku-text");
    let with_pii: OrdersPage<PiiOrder<'_>> = crate::client::decode(&bytes).unwrap();
    let pii = convert::buyer_pii(&with_pii.orders[0]).unwrap();
    assert_eq!(pii.name.as_deref(), Some("fullName-text"));
    assert_eq!(pii.email.as_deref(), Some("email-text"));
    assert_eq!(pii.phone.as_deref(), Some("phoneNumber-text"));
    assert_eq!(pii.address.as_ref().unwrap().lines, ["addressLine1-text", "addressLine2-text"]);
    let sealer = PiiSealer { key: DataKey::from_bytes(KeyVersion(1), [1; 32]), rng: Arc::new(FixedRng) };
    assert!(convert::order(&target, 0, &with_pii.orders[0], Some((pii, &sealer))).unwrap().buyer.is_some());

    let inventory = spec("sell_inventory_v1_oas3.json");
    let items = skeleton(&inventory, response_schema(&inventory, "/inventory_item", "get"), "", 12);
    let items: InventoryItems = crate::client::decode(&serde_json::to_vec(&items).unwrap()).unwrap();
    assert_eq!(items.inventory_items.len(), 1);
    let level = convert::stock_level(&target, &items.inventory_items[0], time::OffsetDateTime::UNIX_EPOCH)
        .unwrap()
        .unwrap();
    assert_eq!((level.sku.as_str(), level.quantity), ("sku-text", 1));
    let bulk =
        skeleton(&inventory, response_schema(&inventory, "/bulk_update_price_quantity", "post"), "", 12);
    let bulk: BulkPriceQuantityResponse = crate::client::decode(&serde_json::to_vec(&bulk).unwrap()).unwrap();
    assert_eq!(bulk.responses[0].status_code, Some(1));
    assert_eq!(bulk.responses[0].errors[0].error_id, Some(1));

    let notification = spec("commerce_notification_v1_oas3.json");
    let key =
        skeleton(&notification, response_schema(&notification, "/public_key/{public_key_id}", "get"), "", 6);
    let key: PublicKey = crate::client::decode(&serde_json::to_vec(&key).unwrap()).unwrap();
    assert_eq!(key.key, "key-text");
}

#[test]
fn every_field_the_wire_types_read_is_in_the_official_schema() {
    let read: [(&str, &str, &[&str]); 18] = [
        ("sell_fulfillment_v1_oas3.json", "OrderSearchPagedCollection", &["total", "next", "orders"]),
        (
            "sell_fulfillment_v1_oas3.json",
            "Order",
            &[
                "orderId",
                "creationDate",
                "lastModifiedDate",
                "orderFulfillmentStatus",
                "orderPaymentStatus",
                "cancelStatus",
                "sellerId",
                "pricingSummary",
                "lineItems",
                "buyer",
                "fulfillmentStartInstructions",
            ],
        ),
        ("sell_fulfillment_v1_oas3.json", "CancelStatus", &["cancelState"]),
        ("sell_fulfillment_v1_oas3.json", "PricingSummary", &["total"]),
        ("sell_fulfillment_v1_oas3.json", "Amount", &["value", "currency"]),
        ("sell_fulfillment_v1_oas3.json", "LineItem", &["lineItemId", "sku", "quantity", "lineItemCost"]),
        ("sell_fulfillment_v1_oas3.json", "Buyer", &["buyerRegistrationAddress"]),
        (
            "sell_fulfillment_v1_oas3.json",
            "ExtendedContact",
            &["fullName", "contactAddress", "primaryPhone", "email"],
        ),
        (
            "sell_fulfillment_v1_oas3.json",
            "Address",
            &["addressLine1", "addressLine2", "city", "stateOrProvince", "postalCode", "countryCode"],
        ),
        ("sell_fulfillment_v1_oas3.json", "PhoneNumber", &["phoneNumber"]),
        ("sell_fulfillment_v1_oas3.json", "FulfillmentStartInstruction", &["shippingStep"]),
        ("sell_fulfillment_v1_oas3.json", "ShippingStep", &["shipTo"]),
        ("sell_fulfillment_v1_oas3.json", "Error", &["errorId", "message"]),
        ("sell_inventory_v1_oas3.json", "InventoryItems", &["next", "inventoryItems"]),
        ("sell_inventory_v1_oas3.json", "InventoryItemWithSkuLocaleGroupid", &["sku", "availability"]),
        ("sell_inventory_v1_oas3.json", "BulkPriceQuantity", &["requests"]),
        ("sell_inventory_v1_oas3.json", "PriceQuantityResponse", &["sku", "statusCode", "errors"]),
        ("commerce_notification_v1_oas3.json", "PublicKey", &["algorithm", "digest", "key"]),
    ];
    for (model, schema, fields) in read {
        let spec = spec(model);
        let properties = &spec["components"]["schemas"][schema]["properties"];
        for field in fields {
            assert!(properties.get(field).is_some(), "{model}: {schema} has no `{field}`");
        }
    }
    let spec = spec("sell_inventory_v1_oas3.json");
    let schemas = &spec["components"]["schemas"];
    assert!(schemas["PriceQuantity"]["properties"].get("shipToLocationAvailability").is_some());
    assert!(schemas["ShipToLocationAvailability"]["properties"].get("quantity").is_some());
    assert!(schemas["Availability"]["properties"].get("shipToLocationAvailability").is_some());
    // getOrders' documented limit and the bulk call's 25.
    let limit = spec_text("sell_fulfillment_v1_oas3.json", "/order", "limit");
    assert!(limit.contains("<b>Maximum:</b> <code>200</code>"), "{limit}");
    let requests = schemas["BulkPriceQuantity"]["properties"]["requests"]["description"].as_str().unwrap();
    assert!(requests.contains("(up to 25)"));
}

fn spec_text(model: &str, path: &str, parameter: &str) -> String {
    let spec = spec(model);
    spec["paths"][path]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == parameter)
        .map(|p| p["description"].as_str().unwrap().to_owned())
        .unwrap()
}

#[test]
fn reference_fixtures_parse() {
    let deletion: Message = serde_json::from_slice(&fixture("marketplace_account_deletion.json")).unwrap();
    assert_eq!(deletion.metadata.topic, "MARKETPLACE_ACCOUNT_DELETION");
    assert_eq!(
        deletion.notification.notification_id,
        "49feeaeb-4982-42d9-a377-9645b8479411_33f7e043-fed8-442b-9d44-791923bd9a6d"
    );
    assert_eq!(deletion.notification.data.user_id.as_deref(), Some("ma8vp1jySJC"));
    let revocation: Message = serde_json::from_slice(&fixture("authorization_revocation.json")).unwrap();
    assert_eq!(revocation.metadata.topic, "AUTHORIZATION_REVOCATION");
    let throttled: ErrorEnvelope = serde_json::from_slice(&fixture("too_many_requests.json")).unwrap();
    assert_eq!(throttled.errors[0].error_id, Some(2001));
    assert_eq!(throttled.errors[0].message.as_deref(), Some("Too many requests."));
    let token: TokenResponse = serde_json::from_slice(&fixture("token_response.json")).unwrap();
    assert_eq!((token.expires_in, token.refresh_token_expires_in), (Some(7200), Some(47_304_000)));
    assert!(token.refresh_token.is_some());
}
