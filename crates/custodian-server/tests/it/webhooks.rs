//! Platform notifications over HTTP (AUTH-6): verified ones act (revoke and purge, alert, challenge) and
//! answer as each platform expects; forged, stale, malformed and replayed ones are refused, audited, and
//! change nothing.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use custodian_core::audit::AuditEvent;
use custodian_core::data::RecordKind;
use custodian_core::grant::{GrantId, GrantState};
use custodian_core::personnel::Role;
use custodian_core::platform::Platform;
use custodian_core::ports::{CaseStore, DatasetStore, Notification, RawSignal};
use custodian_testkit::fakes::{Fault, Method};
use serde_json::json;

use crate::grants::{Scripted, scripted};
use crate::support::{Harness, Reply, tid};

/// Sends `raw`'s headers and body to `path` with `method`.
async fn deliver(h: &Harness, method: &str, path: &str, raw: &RawSignal) -> Reply {
    let mut builder = Request::builder().method(method).uri(path).header(header::CONTENT_TYPE, "text/plain");
    for (name, value) in &raw.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    h.send(builder.body(Body::from(raw.body.clone())).unwrap()).await
}

/// A signal `body` signed by `platform`'s fake.
fn signed(s: &Scripted, platform: Platform, body: &str) -> RawSignal {
    s.fake(platform).signed_signal(body, s.h.now())
}

/// `body` with a signature that does not match.
fn forged(s: &Scripted, platform: Platform, body: &str) -> RawSignal {
    let mut raw = signed(s, platform, "kind=deauthorized;id=other");
    raw.body = body.as_bytes().to_vec();
    raw
}

/// An eBay grant `g-shop` with synced orders and a Meta grant `g-ads`, both in `t1`.
async fn with_grants() -> Scripted {
    let s = scripted().await;
    s.stored_grant("t1", Platform::Ebay, "g-shop").await;
    s.stored_grant("t1", Platform::Meta, "g-ads").await;
    let ff = s.h.login_as("ff@example.com", &[Role::Fulfillment], &["t1"]).await;
    let synced = s.h.call("POST", "/v1/tenants/t1/grants/g-shop/syncs", &ff, Some(json!({}))).await;
    assert_eq!(synced.status, StatusCode::OK, "{}", synced.text);
    s
}

async fn orders(s: &Scripted) -> u64 {
    s.h.store.count(&tid("t1"), Some(GrantId::new("g-shop").unwrap()), RecordKind::Order).await.unwrap()
}

#[tokio::test]
async fn auth_6_a_verified_ebay_revocation_revokes_purges_and_answers_204() {
    let s = with_grants().await;
    assert_eq!(orders(&s).await, 5);
    let mark = s.h.mark().await;
    let raw = signed(&s, Platform::Ebay, "kind=deauthorized;id=n-1;account=ebay:user-1");
    let reply = deliver(&s.h, "POST", "/v1/webhooks/ebay", &raw).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    assert_eq!(s.grant_state("t1", "g-shop").await, GrantState::Revoked);
    assert_eq!(s.grant_state("t1", "g-ads").await, GrantState::Active, "other platforms untouched");
    assert_eq!(orders(&s).await, 0, "purged at once (RET-3)");
    let events = s.h.kinds_since(&mark).await;
    assert_eq!(events["_system"], ["signal_received"]);
    let t1 = &events["t1"];
    assert_eq!(t1[0], "access_decided:allow:revoke_grant");
    assert!(t1.contains(&"records_purged".to_owned()), "{t1:?}");

    // The same notification again: a replay, refused and audited, nothing done.
    let mark = s.h.mark().await;
    let replay = deliver(&s.h, "POST", "/v1/webhooks/ebay", &raw).await;
    assert_eq!((replay.status, replay.code()), (StatusCode::CONFLICT, "conflict"));
    let events = s.h.since(&mark).await;
    assert_eq!(events.keys().collect::<Vec<_>>(), ["_system"]);
    let AuditEvent::SignalRejected(e) = &events["_system"][0].event else { panic!("{events:?}") };
    assert!(e.reason.contains("replayed"), "{e:?}");
    assert_eq!(s.h.store.receipts(&tid("t1")).await.unwrap().len(), 1);
}

#[tokio::test]
async fn auth_6_forged_or_unverifiable_notifications_are_refused_as_each_platform_expects_and_audited() {
    let s = with_grants().await;
    let body = "kind=deauthorized;id=n-2;account=ebay:user-1";
    // (platform, path, signal, status, code)
    let cases = [
        (
            Platform::Ebay,
            "/v1/webhooks/ebay",
            forged(&s, Platform::Ebay, body),
            StatusCode::PRECONDITION_FAILED,
            "signal_unverified",
        ),
        (
            Platform::Meta,
            "/v1/webhooks/meta/deauthorize",
            forged(&s, Platform::Meta, "kind=deauthorized;id=n-3;owner=owner-meta"),
            StatusCode::UNAUTHORIZED,
            "signal_rejected",
        ),
    ];
    for (platform, path, raw, status, code) in cases {
        let mark = s.h.mark().await;
        let reply = deliver(&s.h, "POST", path, &raw).await;
        assert_eq!((reply.status, reply.code()), (status, code), "{platform}: {}", reply.text);
        assert!(reply.headers.get(header::WWW_AUTHENTICATE).is_none());
        assert_eq!(
            s.h.kinds_since(&mark).await,
            [("_system".to_owned(), vec!["signal_rejected".to_owned()])].into()
        );
    }
    // A verifier that cannot fetch its key fails closed: 412 for eBay, 503 for the others.
    for (platform, path, status) in [
        (Platform::Ebay, "/v1/webhooks/ebay", StatusCode::PRECONDITION_FAILED),
        (Platform::Meta, "/v1/webhooks/meta", StatusCode::SERVICE_UNAVAILABLE),
    ] {
        s.fake(platform).fail_next(Method::Verify, Fault::Unavailable("key service down".to_owned()));
        let raw = signed(&s, platform, &format!("kind=deauthorized;id=u-{platform};owner=owner-{platform}"));
        let reply = deliver(&s.h, "POST", path, &raw).await;
        assert_eq!(reply.status, status, "{platform}: {}", reply.text);
        assert!(!reply.text.contains("key service down"));
        // The failed delivery is not remembered: eBay's retry is handled.
        let retry = deliver(&s.h, "POST", path, &raw).await;
        assert!(retry.status.is_success(), "{platform}: {}", retry.text);
    }
    // Malformed but signed: 400.
    let raw = signed(&s, Platform::Ebay, "kind=teleport;id=n-9");
    let reply = deliver(&s.h, "POST", "/v1/webhooks/ebay", &raw).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::BAD_REQUEST, "bad_request"), "{}", reply.text);
    assert_eq!(s.grant_state("t1", "g-ads").await, GrantState::Revoked, "revoked by the retried meta signal");
}

#[tokio::test]
async fn a_forged_signal_changes_nothing() {
    let s = with_grants().await;
    let raw = forged(&s, Platform::Ebay, "kind=deauthorized;id=n-2;account=ebay:user-1");
    let reply = deliver(&s.h, "POST", "/v1/webhooks/ebay", &raw).await;
    assert_eq!(reply.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(s.grant_state("t1", "g-shop").await, GrantState::Active);
    assert_eq!(orders(&s).await, 5);
}

#[tokio::test]
async fn challenges_deletion_callbacks_and_expiry_warnings_get_their_answers() {
    let s = with_grants().await;
    // eBay's endpoint challenge: 200 with the verifier's answer, every time.
    let raw = signed(&s, Platform::Ebay, "kind=challenge;id=c-1;response=abc123");
    for _ in 0..2 {
        let reply = deliver(&s.h, "GET", "/v1/webhooks/ebay?challenge_code=xyz", &raw).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(reply.body, json!({"challengeResponse": "abc123"}));
    }
    // Meta's data-deletion callback answers a status url and a confirmation code (the receipt id).
    let raw = signed(&s, Platform::Meta, "kind=deletion;id=d-1;owner=owner-meta");
    let reply = deliver(&s.h, "POST", "/v1/webhooks/meta/data-deletion", &raw).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let receipts = s.h.store.receipts(&tid("t1")).await.unwrap();
    let code = reply.body["confirmation_code"].as_str().unwrap();
    assert!(receipts.iter().any(|r| r.id().as_str() == code), "{code}");
    assert!(reply.body["url"].as_str().unwrap().starts_with("https://custodian.example/"), "{}", reply.text);
    assert_eq!(s.grant_state("t1", "g-ads").await, GrantState::Revoked);
    // An expiry warning raises an alert and changes no grant.
    let raw = signed(&s, Platform::Amazon, "kind=expiring;id=e-1;expires=1767225600");
    let reply = deliver(&s.h, "POST", "/v1/webhooks/amazon", &raw).await;
    assert_eq!(
        (reply.status, reply.body["status"].as_str()),
        (StatusCode::OK, Some("alerted")),
        "{}",
        reply.text
    );
    assert!(matches!(s.h.notifier.notifications().last(), Some(Notification::Alert(_))));
    assert_eq!(s.grant_state("t1", "g-shop").await, GrantState::Active);
    // A verified signal about nobody we know: acknowledged, nothing changes.
    let raw = signed(&s, Platform::Ebay, "kind=deauthorized;id=n-7;account=ebay:user-77");
    let reply = deliver(&s.h, "POST", "/v1/webhooks/ebay", &raw).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(s.grant_state("t1", "g-shop").await, GrantState::Active);
}

#[tokio::test]
async fn unknown_or_unconfigured_platforms_and_oversized_bodies_are_refused() {
    let s = scripted().await;
    let raw = signed(&s, Platform::Ebay, "kind=deauthorized;id=n-1");
    assert_eq!(deliver(&s.h, "POST", "/v1/webhooks/myspace", &raw).await.status, StatusCode::NOT_FOUND);
    // TikTok Shop has no adapter in this harness.
    assert_eq!(deliver(&s.h, "POST", "/v1/webhooks/tiktok-shop", &raw).await.status, StatusCode::NOT_FOUND);
    let mut huge = raw.clone();
    huge.body = vec![b'a'; 2 * 1024 * 1024];
    let reply = deliver(&s.h, "POST", "/v1/webhooks/ebay", &huge).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));
    assert!(s.h.since(&BTreeMap::new()).await.is_empty(), "nothing was audited");
}
