//! Unit tests of the simulated TikTok Shop: the signatures against the documented vectors, and the
//! generated data's invariants.

use super::sign::{is_multipart, same_signature, sign_request, sign_webhook};
use super::*;

fn pairs(raw: &[(&str, &str)]) -> Vec<(String, String)> {
    raw.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// The documented example of "Sign your API request" (reference §1.2 and §7 vector 1).
const DOC_SIGN: &str = "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8";

#[test]
fn request_signature_matches_the_documented_example() {
    let query = pairs(&[("app_key", "29a39d"), ("timestamp", "1623812664")]);
    assert_eq!(sign_request("e59af819cc", "/authorization/202309/shops", &query, b"", None), DOC_SIGN);
}

#[test]
fn request_signature_ignores_sign_access_token_and_parameter_order() {
    let query = pairs(&[
        ("timestamp", "1623812664"),
        ("sign", "whatever"),
        ("access_token", "TTP_x"),
        ("app_key", "29a39d"),
    ]);
    assert_eq!(sign_request("e59af819cc", "/authorization/202309/shops", &query, b"", None), DOC_SIGN);
}

#[test]
fn request_signature_covers_the_body_unless_multipart() {
    let query = pairs(&[("app_key", "29a39d"), ("timestamp", "1623812664")]);
    let path = "/authorization/202309/shops";
    let with_body = sign_request("e59af819cc", path, &query, b"{\"a\":1}", Some("application/json"));
    assert_ne!(with_body, DOC_SIGN);
    let spaced = sign_request("e59af819cc", path, &query, b"{\"a\": 1}", Some("application/json"));
    assert_ne!(with_body, spaced, "the exact bytes are signed");
    let multipart =
        sign_request("e59af819cc", path, &query, b"--x\r\n", Some("multipart/form-data; boundary=x"));
    assert_eq!(multipart, DOC_SIGN);
    assert!(is_multipart(Some("Multipart/Form-Data ; boundary=x")));
    assert!(!is_multipart(Some("application/json")));
    assert!(!is_multipart(None));
}

#[test]
fn signatures_compare_in_hex_of_the_right_length() {
    assert!(same_signature(DOC_SIGN, &DOC_SIGN.to_ascii_uppercase()));
    assert!(!same_signature(DOC_SIGN, &DOC_SIGN[..62]));
    assert!(!same_signature(DOC_SIGN, ""));
    assert!(!same_signature("", ""));
}

#[test]
fn webhook_signature_is_hmac_of_app_key_and_body() {
    // Independent computation: HMAC-SHA256("secret", "key" + "{}").
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"secret").unwrap();
    mac.update(b"key{}");
    let expected = data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes());
    assert_eq!(sign_webhook("key", "secret", b"{}"), expected);
}

#[test]
fn skus_and_products_round_trip() {
    let config = TikTokShopConfig::default();
    let shop = config.shops().next().unwrap();
    for n in [0u64, 1, 7, 1 << 21, u64::MAX] {
        let sku = products::SkuRef::pick(shop, n);
        assert_eq!(products::SkuRef::decode(shop, sku.id()), Some(sku));
    }
    let other = config.shops().nth(1).unwrap();
    let sku = products::SkuRef::pick(shop, 5);
    assert_eq!(products::SkuRef::decode(other, sku.id()), None, "a sku belongs to one shop");
}

#[test]
fn create_and_update_times_increase_with_the_order_index() {
    let sim = TikTokShopSim::new(SimContext::new(3), TikTokShopConfig::default());
    let shop = sim.config.shops().next().unwrap();
    let mut last = (i64::MIN, i64::MIN);
    for i in 0..shop.shop.orders {
        let created = orders::create_time(&sim.config, i);
        let mut json = orders::Json::with_capacity(2_000);
        sim.write_order(&mut json, shop, i);
        let order: serde_json::Value = serde_json::from_str(&json.out).unwrap();
        let updated = order["update_time"].as_i64().unwrap();
        assert_eq!(order["create_time"].as_i64(), Some(created));
        assert!(created > last.0 && updated > last.1, "order {i} is out of order");
        assert!(updated >= created && updated < created + ORDER_INTERVAL);
        let status = order["status"].as_str().unwrap();
        assert_eq!(
            order.get("recipient_address").is_none(),
            matches!(status, "UNPAID" | "ON_HOLD"),
            "recipient_address is absent exactly under UNPAID and ON_HOLD"
        );
        last = (created, updated);
    }
}

/// The in-place recipient writer is byte for byte the straightforward one (issue 6: the hot path changed,
/// the API's fields did not), masked or not, including a configured region that needs escaping.
#[test]
fn recipient_writer_matches_the_reference_formatter() {
    use super::orders::{Json, write_recipient_fast, write_recipient_reference};
    let mut shop = TikTokShopConfig::default().sellers[0].shops[0].clone();
    for region in ["GB", "US", "Q\"X\\"] {
        shop.region = region.to_owned();
        for k in 0..2_000u64 {
            let n = crate::seed::value(5, &[k]);
            for masked in [false, true] {
                let (mut fast, mut reference) = (Json::with_capacity(512), Json::with_capacity(512));
                write_recipient_fast(&mut fast, &shop, n, masked);
                write_recipient_reference(&mut reference, &shop, n, masked);
                assert_eq!(fast.out, reference.out, "region {region}, draw {n}, masked {masked}");
            }
        }
    }
}
