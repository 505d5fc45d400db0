//! Webhooks end to end: the simulator POSTs signed notifications to a receiver on loopback, exactly as
//! TikTok Shop would, and the adapter verifies the received bytes (AUTH-6).

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use custodian_core::ports::{RawSignal, SignalError, SignalKind, SignalSubject, SignalVerifier as _};
use custodian_sim::tiktok_shop::{NotificationKind, SHOP_ID, TikTokShopConfig as SimConfig};
use time::{Duration, OffsetDateTime};

use crate::support::{adapter, shop, start};

type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A webhook receiver on loopback; returns its URL and what it received.
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/signals/tiktok-shop",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push((headers, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/signals/tiktok-shop", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

/// A received request as the server hands it to a verifier: lowercase header names, exact body bytes.
fn raw(headers: &HeaderMap, body: &Bytes, received_at: OffsetDateTime) -> RawSignal {
    RawSignal {
        method: "POST".to_owned(),
        path: "/signals/tiktok-shop".to_owned(),
        query: Vec::new(),
        headers: headers
            .iter()
            .map(|(name, value)| (name.as_str().to_ascii_lowercase(), value.to_str().unwrap().to_owned()))
            .collect(),
        body: body.to_vec(),
        received_at,
    }
}

#[tokio::test]
async fn posted_notifications_verify_to_deauthorized_and_expiring_soon() {
    let (url, received) = receiver().await;
    let sim = start(SimConfig { webhook_url: Some(url), ..SimConfig::default() }).await;
    let adapter = adapter(&sim);
    let shop_sim = &sim.sim.tiktok_shop;
    assert_eq!(
        shop_sim.send_notification(NotificationKind::SellerDeauthorization, SHOP_ID).await.unwrap(),
        200
    );
    assert_eq!(
        shop_sim
            .send_notification(NotificationKind::UpcomingAuthorizationExpiration { days: 30 }, SHOP_ID)
            .await
            .unwrap(),
        200
    );
    let now = OffsetDateTime::from_unix_timestamp(sim.sim.ctx.clock.now_unix()).unwrap();
    let received = received.lock().unwrap().clone();
    let deauthorized = adapter.verify(&raw(&received[0].0, &received[0].1, now)).await.unwrap();
    assert_eq!(deauthorized.kind, SignalKind::Deauthorized);
    assert_eq!(deauthorized.subject, Some(SignalSubject::Account(shop(SHOP_ID))));
    let body: serde_json::Value = serde_json::from_slice(&received[0].1).unwrap();
    assert_eq!(
        deauthorized.id,
        body["tts_notification_id"].as_str().unwrap(),
        "dedupe by tts_notification_id"
    );

    let expiring = adapter.verify(&raw(&received[1].0, &received[1].1, now)).await.unwrap();
    let SignalKind::ExpiringSoon { expires_at: Some(expires_at) } = expiring.kind else {
        panic!("{expiring:?}")
    };
    assert!((expires_at - now - Duration::days(30)).abs() <= Duration::seconds(2));
    assert_ne!(expiring.id, deauthorized.id);

    // A notification signed for another app does not verify; a late delivery is stale.
    let mut forged = raw(&received[0].0, &received[0].1, now);
    forged.body =
        br#"{"type":6,"tts_notification_id":"1","shop_id":"7494049642642441621","timestamp":1}"#.to_vec();
    assert!(matches!(adapter.verify(&forged).await, Err(SignalError::BadSignature)));
    let late = raw(&received[0].0, &received[0].1, now + Duration::days(2));
    assert!(matches!(adapter.verify(&late).await, Err(SignalError::Stale)));
}

#[tokio::test]
async fn the_documented_deauthorization_example_verifies_when_signed_by_the_platform() {
    let sim = start(SimConfig::default()).await;
    let adapter = adapter(&sim);
    let body = include_bytes!("../fixtures/seller_deauthorization.json");
    let config = sim.sim.tiktok_shop.config();
    let signature = custodian_sim::tiktok_shop::sign_webhook(&config.app_key, &config.app_secret, body);
    let signal = RawSignal {
        method: "POST".to_owned(),
        path: "/signals/tiktok-shop".to_owned(),
        query: Vec::new(),
        headers: vec![("authorization".to_owned(), signature)],
        body: body.to_vec(),
        received_at: OffsetDateTime::from_unix_timestamp(1_644_412_890).unwrap(),
    };
    let verified = adapter.verify(&signal).await.unwrap();
    assert_eq!((verified.id.as_str(), &verified.kind), ("7327112393057371910", &SignalKind::Deauthorized));
    assert_eq!(verified.subject, Some(SignalSubject::Account(shop("7494049642642441621"))));
}
