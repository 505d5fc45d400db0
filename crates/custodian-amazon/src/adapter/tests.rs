//! Pure parts of the adapter: cursors, windows, the consent URL and AUTH-4, redaction.

use std::collections::BTreeSet;
use std::sync::Arc;

use custodian_core::platform::Task;
use custodian_testkit::fakes::ManualClock;
use custodian_testkit::fixtures::T0;

use super::*;

fn adapter(configure: impl FnOnce(&mut AmazonConfig)) -> AmazonAdapter {
    let mut config = AmazonConfig::new(
        "amzn1.application-oa2-client.test",
        SecretString::from("client-secret-value-1234"),
        "amzn1.sp.solution.test",
        Arc::new(ManualClock::new(T0)),
    );
    configure(&mut config);
    AmazonAdapter::new(config).unwrap()
}

fn request(tasks: &[Task]) -> ConsentRequest {
    ConsentRequest {
        tenant: custodian_core::tenant::TenantId::new("t1").unwrap(),
        grant: custodian_core::grant::GrantId::new("g1").unwrap(),
        tasks: tasks.iter().copied().collect(),
        redirect_uri: "https://custodian.example/cb".to_owned(),
        state: "state-123".to_owned(),
    }
}

#[test]
fn the_consent_url_is_seller_centrals_with_application_state_and_redirect() {
    let a = adapter(|_| {});
    let url = a.consent_url(&request(&[Task::ReadOrders, Task::ReadBuyerPii, Task::UpdateStock])).unwrap();
    assert_eq!(
        url,
        "https://sellercentral.amazon.com/apps/authorize/consent?application_id=amzn1.sp.solution.test&state=state-123&redirect_uri=https%3A%2F%2Fcustodian.example%2Fcb"
    );
    let draft = adapter(|c| c.draft_app = true);
    let url =
        draft.consent_url(&request(&[Task::ReadOrders, Task::ReadBuyerPii, Task::UpdateStock])).unwrap();
    assert!(url.ends_with("&version=beta"));
}

#[test]
fn consent_follows_auth_4_against_the_app_registration() {
    let a = adapter(|_| {});
    assert!(matches!(a.consent_url(&request(&[Task::ReadReporting])), Err(PlatformError::Unsupported(_))));
    assert!(
        matches!(a.consent_url(&request(&[Task::ReadOrders])), Err(PlatformError::Invalid { .. })),
        "the registration holds roles read_orders does not need"
    );
    let broad = adapter(|c| c.allow_broader_consent = true);
    assert!(broad.consent_url(&request(&[Task::ReadOrders])).is_ok());
    let orders_only = adapter(|c| {
        c.app_roles = BTreeSet::from([Scope::new(custodian_core::platform::AMAZON_ROLE_ORDERS).unwrap()]);
    });
    let roles = orders_only.consent_roles(&BTreeSet::from([Task::ReadOrders])).unwrap();
    assert_eq!(roles.iter().map(Scope::as_str).collect::<Vec<_>>(), ["Inventory_and_Order_Tracking"]);
    assert!(matches!(
        orders_only.consent_url(&request(&[Task::ReadOrders, Task::UpdateStock])),
        Err(PlatformError::Unsupported(_))
    ));
}

#[test]
fn plain_http_is_refused_unless_loopback_is_allowed() {
    let mut config = AmazonConfig::new("id", SecretString::from("s"), "app", Arc::new(ManualClock::new(T0)));
    config.lwa_base = "http://api.amazon.com".to_owned();
    assert!(AmazonAdapter::new(config.clone()).is_err(), "TLS-1");
    config.lwa_base = "http://127.0.0.1:1".to_owned();
    assert!(AmazonAdapter::new(config.clone()).is_err(), "loopback needs the switch");
    config.http.allow_plain_loopback = true;
    config.regions = crate::config::RegionEndpoint::single("http://127.0.0.1:1/sp", &["ATVPDKIKX0DER"]);
    config.consent_base = "http://127.0.0.1:1".to_owned();
    assert!(AmazonAdapter::new(config).is_ok());
}

#[test]
fn cursors_round_trip_and_refuse_foreign_values() {
    let before = T0;
    let cursor = order_cursor(before, "2YgYW55:IGNhcm5hbCBw");
    assert_eq!(read_order_cursor(&cursor).unwrap(), (before, "2YgYW55:IGNhcm5hbCBw".to_owned()));
    for bad in ["", "o1:", "o1:x:t", "o1:123:", "s1:1:t", "garbage"] {
        assert!(read_order_cursor(&Cursor(bad.to_owned())).is_err(), "{bad}");
    }
    let stock = stock_cursor(T0, "tok");
    assert_eq!(read_stock_cursor(&stock).unwrap(), (T0, "tok".to_owned()));
    assert!(read_stock_cursor(&cursor).is_err());
}

#[test]
fn whole_second_rounding() {
    let t = T0 + Duration::milliseconds(1500);
    assert_eq!(floor_secs(t), T0 + Duration::seconds(1));
    assert_eq!(ceil_secs(t), T0 + Duration::seconds(2));
    assert_eq!(ceil_secs(T0), T0);
}

#[test]
fn debug_output_redacts_the_client_secret() {
    let a = adapter(|_| {});
    let shown = format!("{a:?} {:?}", a.config());
    assert!(!shown.contains("client-secret-value-1234"), "SEC-1");
    assert!(shown.contains("[REDACTED]"));
    assert!(shown.contains("amzn1.application-oa2-client.test"));
}

#[test]
fn noted_consent_callbacks_are_used_once_and_expire() {
    let clock = Arc::new(ManualClock::new(T0));
    let config = AmazonConfig::new("id", SecretString::from("s"), "app", clock.clone());
    let a = AmazonAdapter::new(config).unwrap();
    let code = SecretString::from("code-1");
    let seller = AmazonSellerId::new("A1").unwrap();
    a.note_consent_callback(&code, seller.clone());
    assert_eq!(a.take_pending(&code), Some(seller.clone()));
    assert_eq!(a.take_pending(&code), None, "used once");
    a.note_consent_callback(&code, seller);
    clock.advance(Duration::minutes(11));
    assert_eq!(a.take_pending(&code), None, "expired");
}

#[test]
fn the_latest_orders_window_ends_two_minutes_ago() {
    let a = adapter(|_| {});
    assert_eq!(a.latest_updated_before(), T0 - Duration::minutes(2));
}
