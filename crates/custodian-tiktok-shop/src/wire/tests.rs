//! Every example payload of the reference (`tests/fixtures/`) decodes through the wire types; errors decode
//! to their code and kind.

use secrecy::ExposeSecret as _;

use super::*;
use crate::error::{ErrorKind, kind_of};

const SHOPS: &str = include_str!("../../tests/fixtures/authorized_shops.json");
const TOKEN: &str = include_str!("../../tests/fixtures/token_get.json");
const ORDERS: &str = include_str!("../../tests/fixtures/order_list.json");
const UPDATE: &str = include_str!("../../tests/fixtures/inventory_update.json");
const DEAUTHORIZED: &str = include_str!("../../tests/fixtures/seller_deauthorization.json");
const EXPIRING: &str = include_str!("../../tests/fixtures/upcoming_authorization_expiration.json");

#[test]
fn authorized_shops_example_gives_id_and_cipher() {
    let envelope: Envelope<ShopsData> = serde_json::from_str(SHOPS).unwrap();
    assert_eq!(envelope.code, 0);
    let shops = envelope.data.unwrap().shops;
    assert_eq!(shops.len(), 1);
    assert_eq!(shops[0].id, "7000714532876273420");
    assert_eq!(shops[0].cipher, "GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3");
}

#[test]
fn token_example_gives_secrets_absolute_expiries_and_scopes() {
    let envelope: Envelope<TokenData> = serde_json::from_str(TOKEN).unwrap();
    let data = envelope.data.unwrap();
    assert_eq!(data.access_token.expose_secret(), "GCP_3n......");
    assert_eq!(data.refresh_token.expose_secret(), "GCP_hA......");
    assert_eq!((data.access_token_expire_in, data.refresh_token_expire_in), (1_722_342_011, 4_841_467_787));
    assert_eq!(data.open_id, "_VIz.......");
    assert_eq!(data.granted_scopes.len(), 6);
    let debug = format!("{data:?}");
    assert!(!debug.contains("GCP_"), "tokens never print: {debug}");
}

#[test]
fn order_list_example_decodes_with_and_without_pii() {
    let plain: Envelope<OrderPage<'_, PlainOrder<'_>>> = serde_json::from_str(ORDERS).unwrap();
    let page = plain.data.unwrap();
    assert_eq!(page.next_page_token, "aDV5MXBtU1pha2hPU0dGSTh5Nkliamc1RFlncjR5eE5OUXh0YVFaMFlzRWtwZz09");
    let order = &page.orders[0];
    assert_eq!((order.id.as_ref(), order.status.as_ref()), ("577958834469439754", "CANCELLED"));
    assert_eq!(order.buyer_email, Some(Skip), "without pii the buyer fields are skipped, not kept");
    assert_eq!(order.recipient_address.as_ref(), Some(&Skip));
    assert_eq!(order.line_items[0].sku_id, "1729700293904534135");

    let pii: Envelope<OrderPage<'_, PiiOrder<'_>>> = serde_json::from_str(ORDERS).unwrap();
    let order = &pii.data.unwrap().orders[0];
    assert_eq!(order.buyer_email.as_deref(), Some("v4bGVXWORK4Z6F5ANJPUGM7BB352Y@scs2.tiktok.com"));
    let address = order.recipient_address.as_ref().unwrap();
    assert_eq!(address.name.as_deref(), Some("Nguyen An"));
    assert_eq!(address.district_info.len(), 4);
    assert_eq!(format!("{address:?}"), "AddressWire([REDACTED])");
}

#[test]
fn inventory_update_example_gives_per_sku_outcomes() {
    let envelope: Envelope<UpdateData> = serde_json::from_str(UPDATE).unwrap();
    let skus = envelope.data.unwrap().skus;
    assert_eq!((skus[0].id.as_str(), skus[0].success), ("1729592969712207013", Some(true)));
    let empty: Envelope<UpdateData> =
        serde_json::from_str(r#"{"code":0,"data":{},"message":"Success"}"#).unwrap();
    assert!(empty.data.unwrap().skus.is_empty());
}

#[test]
fn notification_examples_decode() {
    let deauthorized: NotificationWire = serde_json::from_str(DEAUTHORIZED).unwrap();
    assert_eq!(deauthorized.kind, 6);
    assert_eq!(deauthorized.tts_notification_id.into_string(), "7327112393057371910");
    assert_eq!(deauthorized.shop_id.into_string(), "7494049642642441621");
    assert_eq!(deauthorized.timestamp, 1_644_412_885);
    let expiring: NotificationWire = serde_json::from_str(EXPIRING).unwrap();
    assert_eq!((expiring.kind, expiring.data.unwrap().expiration_time), (7, Some(1_647_004_885)));
    // The doc's parameter table shows a numeric shop_id; both forms are read.
    let numeric: NotificationWire =
        serde_json::from_str(r#"{"type":6,"tts_notification_id":1,"shop_id":123455,"timestamp":1627587506}"#)
            .unwrap();
    assert_eq!(numeric.shop_id.into_string(), "123455");
}

#[test]
fn error_examples_decode_to_their_kind() {
    for (body, code, kind) in [
        (include_str!("../../tests/fixtures/error_106001.json"), 106_001, ErrorKind::Invalid),
        (include_str!("../../tests/fixtures/error_105002.json"), 105_002, ErrorKind::Unauthorized),
        (include_str!("../../tests/fixtures/error_105005.json"), 105_005, ErrorKind::Forbidden),
    ] {
        let head: Head = serde_json::from_str(body).unwrap();
        assert_eq!(head.code, code);
        assert_eq!(kind_of(head.code), Some(kind));
        let envelope: Envelope<ShopsData> = serde_json::from_str(body).unwrap();
        assert_eq!(envelope.code, code);
    }
}
