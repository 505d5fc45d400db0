//! The pure parts of the adapter: batching of stock updates, update bodies, window bounds, and redaction.

use std::sync::Arc;

use custodian_core::data::{LocationId, Sku};
use custodian_core::ports::StockUpdate;
use custodian_testkit::fakes::ManualClock;
use custodian_testkit::fixtures::T0;
use secrecy::SecretString;
use time::macros::datetime;

use super::*;

fn update(sku: &str, location: Option<&str>, quantity: u32) -> StockUpdate {
    StockUpdate {
        sku: Sku::new(sku).unwrap(),
        location: location.map(|l| LocationId::new(l).unwrap()),
        quantity,
    }
}

fn shape(updates: &[StockUpdate], pending: &[(usize, &str)]) -> Vec<(String, Vec<usize>)> {
    let pending: Vec<(usize, String)> = pending.iter().map(|(i, p)| (*i, (*p).to_owned())).collect();
    batches(updates, &pending).into_iter().map(|b| (b.product, b.entries)).collect()
}

#[test]
fn updates_are_batched_one_call_per_product() {
    let updates = [
        update("11", Some("w1"), 1),
        update("21", Some("w1"), 2),
        update("11", Some("w2"), 3),
        update("12", None, 4),
        update("22", Some("w1"), 5),
    ];
    let batches = shape(&updates, &[(0, "1"), (1, "2"), (2, "1"), (3, "1"), (4, "2")]);
    assert_eq!(batches, [("1".to_owned(), vec![0, 2, 3]), ("2".to_owned(), vec![1, 4])]);
}

#[test]
fn a_repeated_sku_and_warehouse_goes_to_a_later_call_so_the_last_wins() {
    let updates = [update("11", Some("w1"), 1), update("11", Some("w2"), 2), update("11", Some("w1"), 3)];
    let batches = shape(&updates, &[(0, "1"), (1, "1"), (2, "1")]);
    assert_eq!(batches, [("1".to_owned(), vec![0, 1]), ("1".to_owned(), vec![2])]);
}

#[test]
fn a_call_carries_at_most_100_skus() {
    let updates: Vec<StockUpdate> = (0..150).map(|i| update(&format!("{}", 1000 + i), None, 1)).collect();
    let pending: Vec<(usize, &str)> = (0..150).map(|i| (i, "9")).collect();
    let batches = shape(&updates, &pending);
    assert_eq!(batches.iter().map(|b| b.1.len()).collect::<Vec<_>>(), [100, 50]);
}

#[test]
fn update_bodies_group_warehouses_under_their_sku() {
    let updates = [update("11", Some("w1"), 1), update("12", None, 4), update("11", Some("w2"), 3)];
    let batch = Batch { product: "1".to_owned(), entries: vec![0, 1, 2] };
    let body = serde_json::to_string(&update_body(&updates, &batch)).unwrap();
    assert_eq!(
        body,
        r#"{"skus":[{"id":"11","inventory":[{"warehouse_id":"w1","quantity":1},{"warehouse_id":"w2","quantity":3}]},{"id":"12","inventory":[{"quantity":4}]}]}"#
    );
}

#[test]
fn window_bounds_round_up_to_whole_seconds() {
    assert_eq!(ceil_unix(datetime!(2024-01-01 00:00:00 UTC)), 1_704_067_200);
    assert_eq!(ceil_unix(datetime!(2024-01-01 00:00:00.001 UTC)), 1_704_067_201);
    assert_eq!(expiry(0), None);
    assert_eq!(expiry(1_704_067_200), Some(datetime!(2024-01-01 00:00:00 UTC)));
}

#[test]
fn debug_output_never_shows_the_app_secret() {
    let secret = "s3cr3t-app-secret-value";
    let config =
        TikTokShopConfig::new("app-key", SecretString::from(secret), "7300", Arc::new(ManualClock::new(T0)));
    let adapter = TikTokShopAdapter::new(config.clone()).unwrap();
    for text in [format!("{config:?}"), format!("{adapter:?}"), format!("{adapter:#?}")] {
        assert!(!text.contains(secret), "{text}");
        assert!(text.contains("app-key") && text.contains("[REDACTED]"), "{text}");
    }
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let mut config = TikTokShopConfig::new("k", SecretString::from("s"), "1", Arc::new(ManualClock::new(T0)));
    config.api_base = "http://open-api.tiktokglobalshop.com".to_owned();
    assert!(TikTokShopAdapter::new(config.clone()).is_err(), "TLS-1: https only");
    config.http.allow_plain_loopback = true;
    assert!(TikTokShopAdapter::new(config.clone()).is_err(), "plain http only to loopback");
    config.api_base = "http://127.0.0.1:1".to_owned();
    assert!(TikTokShopAdapter::new(config).is_ok());
}
