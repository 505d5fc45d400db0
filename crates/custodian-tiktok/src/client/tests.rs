//! Reading answers without a network: HTTP 200 with a non-zero code is an error (§2.7, §4.4 T5/T6), error
//! statuses keep their evidence, undecodable bodies name the JSON path, and endpoints keep the base path.

use std::sync::Arc;

use custodian_core::ports::PlatformError;
use custodian_http::{Bytes, HeaderMap};
use custodian_testkit::fakes::ManualClock;
use time::macros::datetime;

use super::*;
use crate::wire::{Campaign, PagedList};

fn client(base: &str) -> Client {
    let clock = Arc::new(ManualClock::new(datetime!(2026-01-01 00:00 UTC)));
    let mut config = TikTokConfig::new("7300000000000000001", SecretString::from("s"), clock);
    config.base_url = base.to_owned();
    config.http.allow_plain_loopback = true;
    Client::new(config).unwrap()
}

fn response(status: u16, body: &str) -> Response {
    Response { status, headers: HeaderMap::new(), body: Bytes::from(body.to_owned()) }
}

fn read(body: &str) -> Result<Reply<PagedList<Campaign>>, (TikTokError, Failure)> {
    client("https://business-api.tiktok.com").read(&response(200, body))
}

#[test]
fn t5_empty_token_is_an_authorization_error_and_never_retried() {
    let (error, failure) = read(include_str!("../../tests/fixtures/t5_empty_token.json")).unwrap_err();
    assert_eq!(failure, Failure::Auth);
    assert_eq!(error.code(), Some(40104));
    assert!(matches!(PlatformError::from(error), PlatformError::Unauthorized { .. }));
}

#[test]
fn t6_rate_limit_is_a_throttle_and_pauses_the_app() {
    let client = client("https://business-api.tiktok.com");
    let (error, failure) = client
        .read::<PagedList<Campaign>>(&response(200, include_str!("../../tests/fixtures/t6_rate_limit.json")))
        .unwrap_err();
    assert_eq!(failure, Failure::Throttled { wait: None });
    assert!(matches!(PlatformError::from(error), PlatformError::RateLimited { .. }));
    assert!(client.limiter.try_acquire(&client.key).is_err(), "the app's key is paused");
}

#[test]
fn t1_succeeds_and_a_partial_success_is_returned_for_inspection() {
    let reply = read(include_str!("../../tests/fixtures/t1_campaign_get.json")).unwrap();
    assert_eq!((reply.code, reply.data.list.len()), (0, 1));
    let client = client("https://business-api.tiktok.com");
    let body = include_str!("../../tests/fixtures/campaign_status_update.json");
    let reply = client.read::<crate::wire::StatusUpdate>(&response(200, body)).unwrap();
    assert_eq!((reply.code, reply.data.error_list.len()), (20001, 1));
}

#[test]
fn truncated_bodies_name_the_json_path_and_are_transport_failures() {
    let body = include_str!("../../tests/fixtures/t1_campaign_get.json");
    let (error, failure) = read(&body[..body.len() / 2]).unwrap_err();
    assert_eq!(failure, Failure::Transport, "retried when idempotent");
    let TikTokError::Decode { error: decode, .. } = &error else { panic!("{error:?}") };
    assert!(decode.path.starts_with("data.list"), "{decode:?}");
    assert_eq!(decode.category, "eof");
    assert!(matches!(PlatformError::from(error), PlatformError::Unavailable(_)));
    let (error, _) = read(r#"{"code":0,"data":{"list":[]}}"#).unwrap_err();
    assert!(error.to_string().contains("does not decode"), "a missing page_info: {error}");
}

#[test]
fn error_statuses_keep_the_evidence() {
    let client = client("https://business-api.tiktok.com");
    let body = r#"{"code":50000,"message":"System error","request_id":"R1","data":{}}"#;
    let (error, failure) = client.read::<PagedList<Campaign>>(&response(503, body)).unwrap_err();
    assert_eq!(failure, Failure::Server { status: 503 });
    assert_eq!(
        error.to_string(),
        "tiktok answered with an error status: http 503, code `50000`, request `R1`: System error"
    );
    let (_, failure) = client.read::<PagedList<Campaign>>(&response(404, "")).unwrap_err();
    assert_eq!(failure, Failure::Invalid);
}

#[test]
fn endpoints_keep_the_base_path_and_urls_are_checked() {
    let client = client("http://127.0.0.1:9/tiktok");
    assert_eq!(
        client.endpoint("report/integrated/get/").unwrap().as_str(),
        "http://127.0.0.1:9/tiktok/open_api/v1.3/report/integrated/get/"
    );
    let real = client_with(TikTokConfig::new(
        "1",
        SecretString::from("s"),
        Arc::new(ManualClock::new(datetime!(2026-01-01 00:00 UTC))),
    ));
    assert_eq!(
        real.unwrap().endpoint("campaign/get/").unwrap().as_str(),
        "https://business-api.tiktok.com/open_api/v1.3/campaign/get/"
    );
    let mut plain = TikTokConfig::new(
        "1",
        SecretString::from("s"),
        Arc::new(ManualClock::new(datetime!(2026-01-01 00:00 UTC))),
    );
    plain.base_url = "http://business-api.tiktok.com".to_owned();
    assert!(matches!(client_with(plain), Err(TikTokError::Http(_))), "TLS-1: no plain http off loopback");
    let mut zero = TikTokConfig::new(
        "1",
        SecretString::from("s"),
        Arc::new(ManualClock::new(datetime!(2026-01-01 00:00 UTC))),
    );
    zero.page_size = 1001;
    assert!(matches!(client_with(zero), Err(TikTokError::Config(_))));
}

fn client_with(config: TikTokConfig) -> Result<Client, TikTokError> {
    Client::new(config)
}
