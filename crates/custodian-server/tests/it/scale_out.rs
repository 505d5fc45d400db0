//! Scale-out: two servers (two `AppState`s and routers, as two `custodian serve` processes behind one
//! address) over one shared store. The flow state lives in the store, not in a process: a consent started
//! on one server is completed by a callback reaching the other, a state is still used only once, and a
//! notification handled by one server is a replay on the other.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use custodian_core::audit::AuditEvent;
use custodian_core::grant::{GrantId, GrantState};
use custodian_core::personnel::Role;
use custodian_core::platform::Platform;
use custodian_core::ports::{CaseStore, GrantStore, RawSignal};
use custodian_testkit::fakes::{Fault, Method};
use serde_json::json;

use crate::grants::{callback, connect, scripted};
use crate::support::{Harness, Reply, tid};

const PUBLIC_URL: &str = "https://custodian.example";

/// Sends `raw`'s headers and body to `path` with `POST`.
async fn deliver(h: &Harness, path: &str, raw: &RawSignal) -> Reply {
    let mut builder = Request::builder().method("POST").uri(path).header(header::CONTENT_TYPE, "text/plain");
    for (name, value) in &raw.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    h.send(builder.body(Body::from(raw.body.clone())).unwrap()).await
}

#[tokio::test]
async fn a_consent_started_on_one_server_is_completed_by_a_callback_on_another_once() {
    let s = scripted().await;
    let a = &s.h;
    let b = a.peer(Some(PUBLIC_URL));
    let auth = a.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let started = connect(a, &auth, "t1", json!({"platform": "ebay", "tasks": ["read_orders"]})).await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.text);
    let state = started.body["state"].as_str().unwrap().to_owned();
    let grant = GrantId::new(started.body["grant"]["id"].as_str().unwrap()).unwrap();

    // The platform redirects the browser to the other server: it knows the consent.
    let done = callback(&b, "ebay", &format!("code=code-1&state={state}")).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.body["grant"]["state"], "active");
    assert_eq!(a.store.grant(&tid("t1"), &grant).await.unwrap().state(), GrantState::Active);

    // The same state again, on either server: used up, refused and audited on the system chain.
    for server in [a, &b] {
        let mark = server.mark().await;
        let again = callback(server, "ebay", &format!("code=code-1&state={state}")).await;
        assert_eq!((again.status, again.code()), (StatusCode::BAD_REQUEST, "bad_request"), "{}", again.text);
        let events = server.since(&mark).await;
        assert_eq!(events.keys().collect::<Vec<_>>(), ["_system"]);
        let AuditEvent::AccessDecided(e) = &events["_system"][0].event else { panic!("{events:?}") };
        assert!(!e.allowed && e.action == "connect_grant", "{e:?}");
        assert!(e.reasons[0].contains("already used"), "{:?}", e.reasons);
    }
    assert_eq!(s.fake(Platform::Ebay).calls(Method::Exchange), 1, "the code was exchanged once");

    // The store keeps the state's hash, never the state: the hash is not a state that completes anything.
    // And the other way round: started on b, completed on a.
    let started = connect(&b, &auth, "t1", json!({"platform": "meta", "tasks": ["read_reporting"]})).await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.text);
    let state = started.body["state"].as_str().unwrap().to_owned();
    let hash = custodian_core::ports::PendingConsent::hash_state(&state).to_string();
    let forged = callback(a, "meta", &format!("code=code-1&state={hash}")).await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST, "{}", forged.text);
    let done = callback(a, "meta", &format!("code=code-1&state={state}")).await;
    assert_eq!(done.status, StatusCode::OK, "started on b, completed on a: {}", done.text);
}

#[tokio::test]
async fn racing_callbacks_on_two_servers_complete_a_consent_once() {
    let s = scripted().await;
    let a = &s.h;
    let b = a.peer(Some(PUBLIC_URL));
    let auth = a.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let started = connect(a, &auth, "t1", json!({"platform": "ebay", "tasks": ["read_orders"]})).await;
    let query = format!("code=code-1&state={}", started.body["state"].as_str().unwrap());
    let (on_a, on_b) = tokio::join!(callback(a, "ebay", &query), callback(&b, "ebay", &query));
    let mut statuses = [on_a.status, on_b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::BAD_REQUEST], "{} / {}", on_a.text, on_b.text);
    assert_eq!(s.fake(Platform::Ebay).calls(Method::Exchange), 1);
}

#[tokio::test]
async fn a_notification_handled_by_one_server_is_a_replay_on_another() {
    let s = scripted().await;
    let a = &s.h;
    let b = a.peer(Some(PUBLIC_URL));
    s.stored_grant("t1", Platform::Ebay, "g-shop").await;
    let raw = s.fake(Platform::Ebay).signed_signal("kind=deauthorized;id=n-1;account=ebay:user-1", a.now());
    let handled = deliver(a, "/v1/webhooks/ebay", &raw).await;
    assert_eq!(handled.status, StatusCode::NO_CONTENT, "{}", handled.text);
    assert_eq!(s.grant_state("t1", "g-shop").await, GrantState::Revoked);

    let mark = b.mark().await;
    let replay = deliver(&b, "/v1/webhooks/ebay", &raw).await;
    assert_eq!((replay.status, replay.code()), (StatusCode::CONFLICT, "conflict"), "{}", replay.text);
    let events = b.since(&mark).await;
    assert_eq!(events.keys().collect::<Vec<_>>(), ["_system"]);
    let AuditEvent::SignalRejected(e) = &events["_system"][0].event else { panic!("{events:?}") };
    assert!(e.reason.contains("replayed"), "{e:?}");
    assert_eq!(a.store.receipts(&tid("t1")).await.unwrap().len(), 1, "purged once");
}

#[tokio::test]
async fn a_notification_that_failed_on_one_server_is_handled_when_retried_on_another() {
    let s = scripted().await;
    let a = &s.h;
    let b = a.peer(Some(PUBLIC_URL));
    s.stored_grant("t1", Platform::Ebay, "g-shop").await;
    let raw = s.fake(Platform::Ebay).signed_signal("kind=deauthorized;id=n-2;account=ebay:user-1", a.now());
    s.fake(Platform::Ebay).fail_next(Method::Verify, Fault::Unavailable("key service down".to_owned()));
    let failed = deliver(a, "/v1/webhooks/ebay", &raw).await;
    assert_eq!(failed.status, StatusCode::PRECONDITION_FAILED, "{}", failed.text);
    assert_eq!(s.grant_state("t1", "g-shop").await, GrantState::Active, "nothing happened");
    // The claim was released in the store, so the platform's retry reaching the other server is handled.
    let retried = deliver(&b, "/v1/webhooks/ebay", &raw).await;
    assert_eq!(retried.status, StatusCode::NO_CONTENT, "{}", retried.text);
    assert_eq!(s.grant_state("t1", "g-shop").await, GrantState::Revoked);
}

#[tokio::test]
async fn a_store_failure_refuses_a_notification_and_a_callback_rather_than_accepting_them() {
    let s = scripted().await;
    let a = &s.h;
    s.stored_grant("t1", Platform::Ebay, "g-shop").await;
    let raw = s.fake(Platform::Ebay).signed_signal("kind=deauthorized;id=n-3;account=ebay:user-1", a.now());
    a.store.fail_next(1);
    let refused = deliver(a, "/v1/webhooks/ebay", &raw).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{}", refused.text);
    assert_eq!(s.grant_state("t1", "g-shop").await, GrantState::Active, "not handled unchecked");

    let auth = a.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let started = connect(a, &auth, "t1", json!({"platform": "ebay", "tasks": ["read_orders"]})).await;
    let query = format!("code=code-1&state={}", started.body["state"].as_str().unwrap());
    a.store.fail_next(1);
    let refused = callback(a, "ebay", &query).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{}", refused.text);
    assert_eq!(s.fake(Platform::Ebay).calls(Method::Exchange), 0, "no code exchanged");
}

/// The pending consents are bounded across the servers sharing the store: when the table is full, a
/// connect is refused with 503 before anything is created (no pending grant is left behind).
#[tokio::test]
async fn a_full_consent_table_refuses_a_connect_before_creating_a_grant() {
    use custodian_core::ports::{Clock as _, ConsentInitiator, PendingConsent};
    let s = scripted().await;
    let a = &s.h;
    let b = a.peer(Some(PUBLIC_URL));
    let auth = a.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let now = a.clock.now();
    let grant = GrantId::new("g-held").unwrap();
    for i in 0..10_000u32 {
        let consent = PendingConsent {
            state_hash: PendingConsent::hash_state(&format!("held-{i}")),
            platform: Platform::Meta,
            tenant: tid("t1"),
            grant: grant.clone(),
            initiator: ConsentInitiator::ApiKey("k1".parse().unwrap()),
            redirect_uri: "https://custodian.example/v1/oauth/meta/callback".to_owned(),
            expires_at: now + time::Duration::days(3650),
        };
        a.store.put_consent(&consent, usize::MAX, now).await.unwrap();
    }
    let before = a.store.grants(&tid("t1")).await.unwrap().len();
    for server in [a, &b] {
        let refused =
            connect(server, &auth, "t1", json!({"platform": "ebay", "tasks": ["read_orders"]})).await;
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{}", refused.text);
        assert_eq!(refused.code(), "unavailable", "{}", refused.text);
    }
    assert_eq!(a.store.grants(&tid("t1")).await.unwrap().len(), before, "a refused connect created a grant");
}
