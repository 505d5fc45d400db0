//! Signals end to end: the simulator runs the endpoint challenge and POSTs signed notifications to a
//! receiver that answers with the adapter's verdicts (200 challenge, 204 accepted, 412 unverifiable).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse as _, Response};
use axum::routing::any;
use custodian_core::ports::{
    RawSignal, SignalError, SignalKind, SignalSubject, SignalVerifier, VerifiedSignal,
};
use custodian_sim::ebay::{EbayConfig as SimEbayConfig, RevokeReason};
use custodian_sim::{Fault, FaultKind, SimPlatform};

use super::*;

#[derive(Clone)]
struct Receiver {
    adapter: EbayAdapter,
    verified: Arc<Mutex<Vec<VerifiedSignal>>>,
}

/// What the server does with a verdict (documented in `custodian_ebay::signal`).
async fn receive(
    State(receiver): State<Receiver>,
    method: Method,
    uri: Uri,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let raw = RawSignal {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query,
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or_default().to_owned()))
            .collect(),
        body: body.to_vec(),
        received_at: SystemClock.now(),
    };
    match receiver.adapter.verify(&raw).await {
        Ok(VerifiedSignal { kind: SignalKind::Challenge { response }, .. }) => {
            axum::Json(serde_json::json!({ "challengeResponse": response })).into_response()
        }
        Ok(signal) => {
            receiver.verified.lock().unwrap().push(signal);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(SignalError::Malformed(_)) => StatusCode::BAD_REQUEST.into_response(),
        Err(_) => StatusCode::PRECONDITION_FAILED.into_response(),
    }
}

/// A simulator whose notification endpoint is a receiver backed by an adapter of that simulator.
async fn wired() -> (RunningSim, EbayAdapter, Arc<Mutex<Vec<VerifiedSignal>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/webhooks/ebay", listener.local_addr().unwrap());
    let sim =
        start(SimEbayConfig { notification_endpoint: Some(endpoint.clone()), ..SimEbayConfig::default() })
            .await;
    let mut config = config(&sim);
    config.notification_endpoint = Some(endpoint);
    let adapter = EbayAdapter::new(config).unwrap();
    let verified = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route("/webhooks/ebay", any(receive))
        .with_state(Receiver { adapter: adapter.clone(), verified: verified.clone() });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (sim, adapter, verified)
}

#[tokio::test]
async fn endpoint_challenge_and_notifications_end_to_end() {
    let (sim, adapter, verified) = wired().await;
    let outcome = sim.sim.ebay.challenge_endpoint().await.unwrap();
    assert!(outcome.verified, "{outcome:?}");

    let credentials = credentials(&sim, &adapter, &all_tasks()).await;
    let deletion = sim.sim.ebay.send_account_deletion(SELLER).await.unwrap();
    assert_eq!(deletion.status, 204);
    let revocation =
        sim.sim.ebay.send_authorization_revocation(SELLER, RevokeReason::RevokedByUser).await.unwrap();
    assert_eq!(revocation.status, 204);
    let verified = verified.lock().unwrap().clone();
    assert_eq!(verified.len(), 2);
    assert_eq!(verified[0].id, deletion.notification_id);
    assert_eq!(verified[0].kind, SignalKind::DeletionRequested { confirmation: None });
    assert_eq!(verified[1].id, revocation.notification_id, "dedupe id = notificationId");
    assert_eq!(verified[1].kind, SignalKind::Deauthorized);
    assert!(verified.iter().all(|v| v.subject == Some(SignalSubject::Account(seller()))));
    // The revocation is real: the grant's refresh is now `Revoked` (AUTH-6).
    assert!(matches!(
        adapter.refresh(&credentials).await,
        Err(custodian_core::ports::PlatformError::Revoked { .. })
    ));
}

fn raw(notification: &custodian_sim::ebay::SignedNotification, signature: &str) -> RawSignal {
    RawSignal {
        method: "POST".into(),
        path: "/webhooks/ebay".into(),
        query: Vec::new(),
        headers: vec![("x-ebay-signature".into(), signature.to_owned())],
        body: notification.body.clone(),
        received_at: SystemClock.now(),
    }
}

fn forged_header(kid: &str, signature: &str) -> String {
    let json = serde_json::json!({"alg": "ecdsa", "kid": kid, "signature": signature, "digest": "SHA1"});
    data_encoding::BASE64.encode(json.to_string().as_bytes())
}

#[tokio::test]
async fn bad_signatures_are_rejected_and_keys_are_cached() {
    let sim = start(SimEbayConfig::default()).await;
    let adapter = adapter(&sim);
    let notification = sim.sim.ebay.account_deletion_notification(SELLER).unwrap();
    let stats = || sim.sim.ctx.faults.stats(SimPlatform::Ebay).requests;

    let before = stats();
    adapter.verify(&raw(&notification, &notification.signature)).await.unwrap();
    assert_eq!(stats() - before, 2, "one application token and one key fetch");
    let before = stats();
    adapter.verify(&raw(&notification, &notification.signature)).await.unwrap();
    assert_eq!(stats(), before, "the key is cached");

    // The same body re-serialized with whitespace still verifies (the SDKs verify the compact form).
    let value: serde_json::Value = serde_json::from_slice(&notification.body).unwrap();
    let mut pretty = raw(&notification, &notification.signature);
    pretty.body = serde_json::to_vec_pretty(&value).unwrap();
    // serde_json's map is sorted, so only compare when the order survived.
    if serde_json::to_vec(&value).unwrap() == notification.body {
        adapter.verify(&pretty).await.unwrap();
    }

    let missing = RawSignal { headers: Vec::new(), ..raw(&notification, "") };
    assert!(matches!(adapter.verify(&missing).await, Err(SignalError::BadSignature)));
    assert!(matches!(
        adapter.verify(&raw(&notification, "not base64!")).await,
        Err(SignalError::BadSignature)
    ));
    let other = sim.sim.ebay.account_deletion_notification("qx3tb7kLm2A").unwrap();
    assert!(
        matches!(adapter.verify(&raw(&notification, &other.signature)).await, Err(SignalError::BadSignature)),
        "a signature of another body"
    );
    // A kid eBay does not know: 404 → BadSignature, remembered (no second fetch).
    let header: serde_json::Value =
        serde_json::from_slice(&data_encoding::BASE64.decode(notification.signature.as_bytes()).unwrap())
            .unwrap();
    let unknown =
        forged_header("0badc0de-0000-4000-8000-000000000000", header["signature"].as_str().unwrap());
    assert!(matches!(adapter.verify(&raw(&notification, &unknown)).await, Err(SignalError::BadSignature)));
    let before = stats();
    assert!(matches!(adapter.verify(&raw(&notification, &unknown)).await, Err(SignalError::BadSignature)));
    assert_eq!(stats(), before);
    // A kid that is not an id is never sent to eBay.
    let odd = forged_header("../../oauth2/token", header["signature"].as_str().unwrap());
    assert!(matches!(adapter.verify(&raw(&notification, &odd)).await, Err(SignalError::BadSignature)));
    assert_eq!(stats(), before);
}

#[tokio::test]
async fn an_unfetchable_key_fails_closed_as_unavailable() {
    let sim = start(SimEbayConfig::default()).await;
    let adapter = adapter(&sim);
    let notification = sim.sim.ebay.account_deletion_notification(SELLER).unwrap();
    sim.sim
        .ctx
        .faults
        .push(Fault::once(SimPlatform::Ebay, FaultKind::ServerError(500)).on_path("/public_key/").times(10));
    let result = adapter.verify(&raw(&notification, &notification.signature)).await;
    assert!(matches!(result, Err(SignalError::Unavailable(_))), "{result:?}");
    sim.sim.ctx.faults.clear();
    // Nothing bad was cached: once eBay answers, the signal verifies.
    adapter.verify(&raw(&notification, &notification.signature)).await.unwrap();

    // A key that expired from the cache is fetched again.
    let mut short = config(&sim);
    short.public_key_ttl = Duration::ZERO;
    let adapter = EbayAdapter::new(short).unwrap();
    adapter.verify(&raw(&notification, &notification.signature)).await.unwrap();
    let before = sim.sim.ctx.faults.stats(SimPlatform::Ebay).requests;
    adapter.verify(&raw(&notification, &notification.signature)).await.unwrap();
    assert_eq!(
        sim.sim.ctx.faults.stats(SimPlatform::Ebay).requests - before,
        1,
        "refetched, app token reused"
    );
}

#[tokio::test]
async fn challenges_need_the_configuration_and_a_code() {
    let sim = start(SimEbayConfig::default()).await;
    let mut config = config(&sim);
    config.notification_endpoint = Some("http://www.testendpoint.com/webhook".into());
    config.verification_token = Some(secrecy::SecretString::from("71745723-d031-455c-bfa5-f90d11b4f20a"));
    let adapter = EbayAdapter::new(config).unwrap();
    let challenge = RawSignal {
        method: "GET".into(),
        path: "/webhook".into(),
        query: vec![("challenge_code".into(), "a8628072-3d33-45ee-9004-bee86830a22d".into())],
        headers: Vec::new(),
        body: Vec::new(),
        received_at: SystemClock.now(),
    };
    let verified = adapter.verify(&challenge).await.unwrap();
    assert_eq!(
        verified.kind,
        SignalKind::Challenge {
            response: "ca527df75caa230092d7e90484071e8f05d63068f1317973d6a3a42593734bbb".into()
        }
    );
    assert_eq!(verified.subject, None);
    let no_code = RawSignal { query: Vec::new(), ..challenge.clone() };
    assert!(matches!(adapter.verify(&no_code).await, Err(SignalError::Malformed(_))));
    let unconfigured = super::adapter(&sim);
    let mut bare = super::config(&sim);
    bare.verification_token = None;
    let bare = EbayAdapter::new(bare).unwrap();
    assert!(matches!(bare.verify(&challenge).await, Err(SignalError::Unavailable(_))));
    assert!(
        matches!(unconfigured.verify(&challenge).await, Err(SignalError::Unavailable(_))),
        "no endpoint configured"
    );
}
