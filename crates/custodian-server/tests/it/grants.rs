//! Grants over HTTP: connect (consent URL → OAuth callback), list and show, validate, review, the PII
//! switch and revoke with purge, against the testkit's `ScriptedPlatform`; every grant, sync and dataset
//! endpoint against the failure matrix (401, 403, 404 that leaks nothing, MFA); and one
//! whole flow against the simulator with the real Meta adapter.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::StatusCode;
use custodian_core::audit::AuditEvent;
use custodian_core::grant::{GrantId, GrantState};
use custodian_core::personnel::{Permission, Role};
use custodian_core::platform::Platform;
use custodian_core::ports::{
    CaseStore, CommerceChannel, GrantStore, PersonnelStore, ReportingSource, SecretStoreError, SignalVerifier,
};
use custodian_core::service::PlatformAdapters;
use custodian_testkit::fakes::{Script, ScriptedPlatform};
use custodian_testkit::fixtures::{self, T0};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use time::Duration;

use crate::support::{Auth, Harness, Reply, describe, tid};

/// A harness whose platforms are scripted fakes (orders, stock, campaigns and report rows in pages of 2).
pub(crate) struct Scripted {
    pub(crate) h: Harness,
    pub(crate) fakes: BTreeMap<Platform, Arc<ScriptedPlatform>>,
}

pub(crate) fn adapters(fake: &Arc<ScriptedPlatform>) -> PlatformAdapters {
    let commerce = fake.platform().is_commerce();
    PlatformAdapters {
        authorizer: fake.clone(),
        reporting: (!commerce).then(|| fake.clone() as Arc<dyn ReportingSource>),
        campaigns: None,
        commerce: commerce.then(|| fake.clone() as Arc<dyn CommerceChannel>),
        signals: Some(fake.clone() as Arc<dyn SignalVerifier>),
    }
}

/// Scripted Meta, eBay and Amazon; tenants `t1` and `t2`.
pub(crate) async fn scripted() -> Scripted {
    let mut fakes = BTreeMap::new();
    let mut platforms = BTreeMap::new();
    for platform in [Platform::Meta, Platform::Ebay, Platform::Amazon] {
        let mut script = Script::new(platform);
        script.orders = 5;
        script.stock = 3;
        script.campaigns = 4;
        script.report_rows = 6;
        script.page_size = 2;
        let fake = Arc::new(ScriptedPlatform::new(script));
        platforms.insert(platform, adapters(&fake));
        fakes.insert(platform, fake);
    }
    let h = Harness::build(|_| {}, |_| {}, T0, platforms, Some("https://custodian.example"));
    h.tenant("t1").await;
    h.tenant("t2").await;
    Scripted { h, fakes }
}

impl Scripted {
    pub(crate) fn fake(&self, platform: Platform) -> &ScriptedPlatform {
        &self.fakes[&platform]
    }

    /// An active grant written straight to the store, validated now, on the platform's first fixture
    /// account, with the fake's access token in the secret store.
    pub(crate) async fn stored_grant(&self, tenant: &str, platform: Platform, id: &str) -> GrantId {
        let tenant = tid(tenant);
        let grant = GrantId::new(id).unwrap();
        let account = fixtures::account(platform, 1);
        let record = fixtures::active_grant(&tenant, &grant, platform, &[account], self.h.now());
        self.h.store.insert_grant(&record, Vec::new()).await.unwrap();
        let credentials = fixtures::credentials("access-1", "refresh-1");
        self.h.state.deps().secrets.put(&tenant, &grant, &credentials, None).await.unwrap();
        grant
    }

    pub(crate) async fn grant_state(&self, tenant: &str, grant: &str) -> GrantState {
        self.h.store.grant(&tid(tenant), &GrantId::new(grant).unwrap()).await.unwrap().state()
    }
}

/// `POST /v1/tenants/{tenant}/grants`.
pub(crate) async fn connect(h: &Harness, auth: &Auth, tenant: &str, body: Value) -> Reply {
    h.call("POST", &format!("/v1/tenants/{tenant}/grants"), auth, Some(body)).await
}

/// The platform's redirect to `GET /v1/oauth/{platform}/callback?{query}`.
pub(crate) async fn callback(h: &Harness, platform: &str, query: &str) -> Reply {
    h.call("GET", &format!("/v1/oauth/{platform}/callback?{query}"), &Auth::None, None).await
}

fn kinds(records: &[custodian_core::audit::AuditRecord]) -> Vec<String> {
    records.iter().map(|r| describe(&r.event)).collect()
}

#[tokio::test]
async fn auth_4_connect_answers_a_consent_url_with_only_the_enabled_tasks_scopes_and_a_pending_grant() {
    let s = scripted().await;
    let auth = s.h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let mark = s.h.mark().await;
    let reply = connect(&s.h, &auth, "t1", json!({"platform": "ebay", "tasks": ["read_orders"]})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let url = reply.body["consent_url"].as_str().unwrap();
    let state = reply.body["state"].as_str().unwrap();
    assert!(url.contains(&format!("state={state}")), "{url}");
    // Only the fulfillment read-only scope: not inventory (update_stock was not enabled).
    assert!(url.contains("sell.fulfillment.readonly"), "{url}");
    assert!(!url.contains("sell.inventory"), "{url}");
    assert_eq!(
        reply.body["redirect_uri"],
        json!("https://custodian.example/v1/oauth/ebay/callback"),
        "the registered redirect is the public url's callback"
    );
    let grant = &reply.body["grant"];
    assert_eq!(grant["state"], "pending");
    assert_eq!(grant["tasks"], json!(["read_orders"]));
    assert_eq!(grant["pii_enabled"], false);
    assert_eq!(grant["evidence"], Value::Null);
    // Stored, and audited: the decision and the new grant.
    let id = GrantId::new(grant["id"].as_str().unwrap()).unwrap();
    assert_eq!(s.h.store.grant(&tid("t1"), &id).await.unwrap().state(), GrantState::Pending);
    let events = s.h.kinds_since(&mark).await;
    assert_eq!(events["t1"], ["access_decided:allow:connect_grant", "grant_changed"]);
}

#[tokio::test]
async fn min_2_connect_with_pii_enables_the_switch_and_asks_for_the_pii_task() {
    let s = scripted().await;
    let auth = s.h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let reply =
        connect(&s.h, &auth, "t1", json!({"platform": "amazon", "tasks": ["read_orders"], "pii": true}))
            .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["grant"]["pii_enabled"], true);
    assert_eq!(reply.body["grant"]["tasks"], json!(["read_orders", "read_buyer_pii"]));
    // Ad platforms have no buyer PII: refused before anything is stored.
    let before = s.h.store.grants(&tid("t1")).await.unwrap().len();
    let refused =
        connect(&s.h, &auth, "t1", json!({"platform": "meta", "tasks": ["read_reporting"], "pii": true}))
            .await;
    assert_eq!((refused.status, refused.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"));
    assert_eq!(s.h.store.grants(&tid("t1")).await.unwrap().len(), before);
}

#[tokio::test]
async fn connect_refuses_bad_bodies_and_stores_nothing() {
    let s = scripted().await;
    let auth = s.h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let mark = s.h.mark().await;
    let cases = [
        (json!({"platform": "myspace", "tasks": ["read_orders"]}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"platform": "ebay", "tasks": ["read_minds"]}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"platform": "ebay", "tasks": []}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"platform": "ebay"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"platform": "ebay", "tasks": ["read_orders"], "extra": 1}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"platform": 7, "tasks": ["read_orders"]}), StatusCode::UNPROCESSABLE_ENTITY),
    ];
    for (body, status) in cases {
        let reply = connect(&s.h, &auth, "t1", body.clone()).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.text);
    }
    // A task the platform does not offer is core's answer (after the decision): still nothing stored.
    let unsupported =
        connect(&s.h, &auth, "t1", json!({"platform": "ebay", "tasks": ["read_reporting"]})).await;
    assert_eq!(unsupported.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unsupported.text);
    let malformed =
        s.h.raw("POST", "/v1/tenants/t1/grants", &auth, "application/json", b"{\"platform\":".to_vec()).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let huge =
        s.h.raw("POST", "/v1/tenants/t1/grants", &auth, "application/json", vec![b' '; 2 * 1024 * 1024])
            .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(s.h.store.grants(&tid("t1")).await.unwrap().is_empty());
    let events: Vec<String> = s.h.kinds_since(&mark).await.into_values().flatten().collect();
    assert!(events.iter().all(|e| e.starts_with("access_decided")), "{events:?}");
}

#[tokio::test]
async fn auth_2_the_callback_exchanges_the_code_stores_tokens_only_in_the_secret_store_and_activates() {
    let s = scripted().await;
    let auth = s.h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let started = connect(&s.h, &auth, "t1", json!({"platform": "ebay", "tasks": ["read_orders"]})).await;
    let state = started.body["state"].as_str().unwrap().to_owned();
    let grant = GrantId::new(started.body["grant"]["id"].as_str().unwrap()).unwrap();
    let mark = s.h.mark().await;
    let done = callback(&s.h, "ebay", &format!("code=code-1&state={state}")).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let body = &done.body["grant"];
    assert_eq!(body["state"], "active");
    assert_eq!(body["evidence"]["accounts"], json!(["ebay:user-1"]));
    assert_eq!(body["evidence"]["owner"], "owner-ebay");
    // The tokens are in the secret store and nowhere in the answer.
    let (stored, _) = s.h.state.deps().secrets.get(&tid("t1"), &grant).await.unwrap();
    assert_eq!(stored.access_token.expose_secret(), "access-1");
    assert!(
        !done.text.contains("access-1") && !done.text.contains("refresh-1") && !done.text.contains("code-1")
    );
    assert_eq!(s.h.store.grant(&tid("t1"), &grant).await.unwrap().state(), GrantState::Active);
    let events = s.h.kinds_since(&mark).await;
    assert_eq!(events["t1"], ["access_decided:allow:connect_grant", "secret_accessed", "grant_changed"]);
    // The same state again (a replayed redirect): refused and audited, the grant unchanged.
    let mark = s.h.mark().await;
    let again = callback(&s.h, "ebay", &format!("code=code-1&state={state}")).await;
    assert_eq!((again.status, again.code()), (StatusCode::BAD_REQUEST, "bad_request"));
    let events = s.h.since(&mark).await;
    assert_eq!(events.keys().collect::<Vec<_>>(), ["_system"]);
    let AuditEvent::AccessDecided(e) = &events["_system"][0].event else { panic!("{events:?}") };
    assert!(!e.allowed && e.action == "connect_grant", "{e:?}");
    assert!(e.reasons[0].contains("already used"), "{:?}", e.reasons);
}

#[tokio::test]
async fn auth_1_forged_expired_or_cross_platform_states_are_refused_and_audited() {
    let s = scripted().await;
    let auth = s.h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let started = connect(&s.h, &auth, "t1", json!({"platform": "ebay", "tasks": ["read_orders"]})).await;
    let state = started.body["state"].as_str().unwrap().to_owned();
    let cases = [
        ("ebay", "code=code-1&state=state-forged".to_owned()),
        ("ebay", "code=code-1".to_owned()),
        // The right state at another platform's callback: refused, and used up.
        ("amazon", format!("code=code-1&state={state}")),
        ("ebay", format!("code=code-1&state={state}")),
    ];
    for (platform, query) in cases {
        let mark = s.h.mark().await;
        let reply = callback(&s.h, platform, &query).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{platform} {query}: {}", reply.text);
        let events = s.h.kinds_since(&mark).await;
        assert_eq!(events["_system"], ["access_decided:deny:connect_grant"], "{query}");
    }
    // Expiry: a fresh consent called back after more than an hour.
    let started = connect(&s.h, &auth, "t1", json!({"platform": "ebay", "tasks": ["read_orders"]})).await;
    let state = started.body["state"].as_str().unwrap().to_owned();
    s.h.advance(Duration::minutes(61));
    let late = callback(&s.h, "ebay", &format!("code=code-1&state={state}")).await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        s.fake(Platform::Ebay).calls(custodian_testkit::fakes::Method::Exchange),
        0,
        "no code exchanged"
    );
    // Unknown platforms are 404.
    assert_eq!(callback(&s.h, "myspace", "code=x&state=y").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_declined_consent_or_a_bad_code_keeps_the_grant_pending_and_stores_no_token() {
    let s = scripted().await;
    let auth = s.h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let started = connect(&s.h, &auth, "t1", json!({"platform": "ebay", "tasks": ["read_orders"]})).await;
    let state = started.body["state"].as_str().unwrap().to_owned();
    let grant = GrantId::new(started.body["grant"]["id"].as_str().unwrap()).unwrap();
    let mark = s.h.mark().await;
    let declined = callback(&s.h, "ebay", &format!("error=access_denied&state={state}")).await;
    assert_eq!(declined.status, StatusCode::BAD_REQUEST, "{}", declined.text);
    assert_eq!(s.h.kinds_since(&mark).await["t1"], ["grant_changed"]);
    let started = connect(&s.h, &auth, "t1", json!({"platform": "ebay", "tasks": ["read_orders"]})).await;
    let state = started.body["state"].as_str().unwrap().to_owned();
    let second = GrantId::new(started.body["grant"]["id"].as_str().unwrap()).unwrap();
    let wrong = callback(&s.h, "ebay", &format!("code=not-the-code&state={state}")).await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
        "{}",
        wrong.text
    );
    assert!(!wrong.text.contains("not-the-code"));
    for id in [&grant, &second] {
        assert_eq!(s.h.store.grant(&tid("t1"), id).await.unwrap().state(), GrantState::Pending);
        assert!(matches!(
            s.h.state.deps().secrets.get(&tid("t1"), id).await,
            Err(SecretStoreError::NotFound)
        ));
    }
}

#[tokio::test]
async fn acc_1_the_callback_acts_as_the_initiator_as_they_are_now() {
    let s = scripted().await;
    let person = s.h.person("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let token = s.h.session(&person, Some(s.h.now())).await;
    let auth = Auth::Bearer(token);
    let started = connect(&s.h, &auth, "t1", json!({"platform": "ebay", "tasks": ["read_orders"]})).await;
    let state = started.body["state"].as_str().unwrap().to_owned();
    // The initiator loses the tenant before the client consents: the connect is not completed.
    let mut record = s.h.store.person(&person).await.unwrap();
    record.tenants.clear();
    s.h.store.update_person(&record, Vec::new()).await.unwrap();
    let reply = callback(&s.h, "ebay", &format!("code=code-1&state={state}")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    let grant = GrantId::new(started.body["grant"]["id"].as_str().unwrap()).unwrap();
    assert_eq!(s.h.store.grant(&tid("t1"), &grant).await.unwrap().state(), GrantState::Pending);
}

#[tokio::test]
async fn list_and_show_grants_of_the_tenant_only() {
    let s = scripted().await;
    let g1 = s.stored_grant("t1", Platform::Ebay, "g-one").await;
    s.stored_grant("t2", Platform::Ebay, "g-two").await;
    let auth = s.h.login_as("analyst@example.com", &[Role::Analyst], &["t1"]).await;
    let list = s.h.call("GET", "/v1/tenants/t1/grants", &auth, None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let ids: Vec<&str> =
        list.body["grants"].as_array().unwrap().iter().map(|g| g["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [g1.as_str()]);
    let one = s.h.call("GET", "/v1/tenants/t1/grants/g-one", &auth, None).await;
    assert_eq!(one.body["grant"]["platform"], "ebay");
    assert_eq!(one.body["grant"]["evidence"]["accounts"], json!(["ebay:user-1"]));
    // Another tenant's grant through this tenant's path: not found.
    let other = s.h.call("GET", "/v1/tenants/t1/grants/g-two", &auth, None).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn auth_5_validation_moves_a_changed_grant_to_review_and_a_person_approves_it() {
    let s = scripted().await;
    s.stored_grant("t1", Platform::Ebay, "g-one").await;
    let auth = s.h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let path = "/v1/tenants/t1/grants/g-one";
    let fresh = s.h.call("POST", &format!("{path}/validate"), &auth, None).await;
    assert_eq!(
        (fresh.status, fresh.body["outcome"].as_str()),
        (StatusCode::OK, Some("active")),
        "{}",
        fresh.text
    );
    // Approving a grant that is not in review is a conflict.
    let early = s.h.call("POST", &format!("{path}/review"), &auth, None).await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    s.fake(Platform::Ebay)
        .edit(|script| script.owner = custodian_core::grant::OwnerId::new("someone-else").unwrap());
    s.h.advance(Duration::minutes(1));
    let mark = s.h.mark().await;
    let changed = s.h.call("POST", &format!("{path}/validate"), &auth, None).await;
    assert_eq!(changed.body["outcome"], "needs_review", "{}", changed.text);
    assert!(changed.body["grant"]["review"][0].as_str().unwrap().contains("owner changed"));
    assert_eq!(s.h.kinds_since(&mark).await["t1"], ["access_decided:allow:validate_grant", "grant_changed"]);
    assert_eq!(s.grant_state("t1", "g-one").await, GrantState::NeedsReview);
    // While in review, nothing syncs (AUTH-5).
    let sync = s.h.call("POST", &format!("{path}/syncs"), &auth, Some(json!({"kinds": ["orders"]}))).await;
    assert_eq!(sync.status, StatusCode::FORBIDDEN, "{}", sync.text);
    let approved = s.h.call("POST", &format!("{path}/review"), &auth, None).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert_eq!(approved.body["grant"]["state"], "active");
    assert_eq!(s.grant_state("t1", "g-one").await, GrantState::Active);
}

#[tokio::test]
async fn auth_6_a_platform_that_says_the_authorization_is_gone_revokes_on_validation() {
    let s = scripted().await;
    s.stored_grant("t1", Platform::Ebay, "g-one").await;
    s.fake(Platform::Ebay).revoke(true);
    let auth = s.h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let reply = s.h.call("POST", "/v1/tenants/t1/grants/g-one/validate", &auth, None).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::CONFLICT, "conflict"), "{}", reply.text);
    assert_eq!(s.grant_state("t1", "g-one").await, GrantState::Revoked);
    assert_eq!(s.h.store.receipts(&tid("t1")).await.unwrap().len(), 1);
}

#[tokio::test]
async fn min_2_the_pii_switch_is_a_grant_change_on_commerce_grants_only() {
    let s = scripted().await;
    s.stored_grant("t1", Platform::Ebay, "g-shop").await;
    s.stored_grant("t1", Platform::Meta, "g-ads").await;
    let auth = s.h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let mark = s.h.mark().await;
    let on = s.h.call("PUT", "/v1/tenants/t1/grants/g-shop/pii", &auth, Some(json!({"enabled": true}))).await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.text);
    assert_eq!(on.body["grant"]["pii_enabled"], true);
    assert!(s.h.store.grant(&tid("t1"), &GrantId::new("g-shop").unwrap()).await.unwrap().pii_enabled);
    assert_eq!(s.h.kinds_since(&mark).await["t1"], ["access_decided:allow:connect_grant", "grant_changed"]);
    let ads = s.h.call("PUT", "/v1/tenants/t1/grants/g-ads/pii", &auth, Some(json!({"enabled": true}))).await;
    assert_eq!(ads.status, StatusCode::UNPROCESSABLE_ENTITY);
    for body in [json!({}), json!({"enabled": "yes"}), json!({"enabled": true, "x": 1})] {
        let bad = s.h.call("PUT", "/v1/tenants/t1/grants/g-shop/pii", &auth, Some(body)).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let off =
        s.h.call("PUT", "/v1/tenants/t1/grants/g-shop/pii", &auth, Some(json!({"enabled": false}))).await;
    assert_eq!(off.body["grant"]["pii_enabled"], false);
}

#[tokio::test]
async fn ret_3_revoke_purges_at_once_and_answers_with_the_receipt() {
    let s = scripted().await;
    let grant = s.stored_grant("t1", Platform::Ebay, "g-shop").await;
    let auth = s.h.login_as("am@example.com", &[Role::AccountManager, Role::Fulfillment], &["t1"]).await;
    let synced = s.h.call("POST", "/v1/tenants/t1/grants/g-shop/syncs", &auth, Some(json!({}))).await;
    assert_eq!(synced.status, StatusCode::OK, "{}", synced.text);
    let orders = s.h.call("GET", "/v1/tenants/t1/orders", &auth, None).await;
    assert_eq!(orders.body["orders"].as_array().unwrap().len(), 5);
    let mark = s.h.mark().await;
    let reply = s.h.call("POST", "/v1/tenants/t1/grants/g-shop/revoke", &auth, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let receipt = &reply.body["receipt"];
    assert_eq!(receipt["clean"], true);
    assert_eq!(receipt["grant"], "g-shop");
    assert_eq!(receipt["cause"], "revocation");
    let deleted: BTreeMap<String, u64> = receipt["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                format!("{}:{}", i["store"].as_str().unwrap(), i["what"].as_str().unwrap()),
                i["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(deleted["dataset:order"], 5, "{deleted:?}");
    assert_eq!(deleted["dataset:stock_level"], 3, "{deleted:?}");
    assert_eq!(deleted["secrets:credentials"], 1, "{deleted:?}");
    assert!(receipt["recheck"].as_array().unwrap().iter().all(|r| r["remaining"] == 0));
    // Nothing of the grant is left: no rows, no token; the grant is revoked.
    assert_eq!(s.grant_state("t1", "g-shop").await, GrantState::Revoked);
    assert!(matches!(
        s.h.state.deps().secrets.get(&tid("t1"), &grant).await,
        Err(SecretStoreError::NotFound)
    ));
    let orders = s.h.call("GET", "/v1/tenants/t1/orders", &auth, None).await;
    assert_eq!(orders.body["orders"], json!([]));
    let events = s.h.kinds_since(&mark).await;
    let t1 = &events["t1"];
    assert_eq!(t1[0], "access_decided:allow:revoke_grant");
    assert!(t1.contains(&"grant_changed".to_owned()) && t1.contains(&"records_purged".to_owned()), "{t1:?}");
    // Revoking again is a conflict and changes nothing.
    let again = s.h.call("POST", "/v1/tenants/t1/grants/g-shop/revoke", &auth, None).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(s.h.store.receipts(&tid("t1")).await.unwrap().len(), 1);
}

// ---- the failure matrix of every grant, sync and dataset endpoint ----

/// One endpoint: `{t}` stands for the tenant, `{g}` for that tenant's grant.
#[derive(Debug, Clone)]
struct Endpoint {
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
    role: Role,
    ok: StatusCode,
}

fn endpoints() -> Vec<Endpoint> {
    let e = |method, path, body: Option<Value>, role, ok| Endpoint { method, path, body, role, ok };
    use Role::{AccountManager as Am, Analyst, Fulfillment};
    vec![
        e(
            "POST",
            "/v1/tenants/{t}/grants",
            Some(json!({"platform": "ebay", "tasks": ["read_orders"]})),
            Am,
            StatusCode::CREATED,
        ),
        e("GET", "/v1/tenants/{t}/grants", None, Analyst, StatusCode::OK),
        e("GET", "/v1/tenants/{t}/grants/{g}", None, Analyst, StatusCode::OK),
        e("POST", "/v1/tenants/{t}/grants/{g}/validate", None, Am, StatusCode::OK),
        // The grant is active, so approving a review is a conflict: the decision allowed it.
        e("POST", "/v1/tenants/{t}/grants/{g}/review", None, Am, StatusCode::CONFLICT),
        e("PUT", "/v1/tenants/{t}/grants/{g}/pii", Some(json!({"enabled": true})), Am, StatusCode::OK),
        e("POST", "/v1/tenants/{t}/grants/{g}/revoke", None, Am, StatusCode::OK),
        e("POST", "/v1/tenants/{t}/grants/{g}/syncs", Some(json!({})), Fulfillment, StatusCode::OK),
        e("GET", "/v1/tenants/{t}/grants/{g}/syncs", None, Analyst, StatusCode::OK),
        e("GET", "/v1/tenants/{t}/report-rows", None, Analyst, StatusCode::OK),
        e("GET", "/v1/tenants/{t}/campaigns", None, Analyst, StatusCode::OK),
        e("GET", "/v1/tenants/{t}/orders", None, Analyst, StatusCode::OK),
        e("GET", "/v1/tenants/{t}/orders?with_pii=true", None, Fulfillment, StatusCode::OK),
        e("GET", "/v1/tenants/{t}/stock", None, Analyst, StatusCode::OK),
    ]
}

/// Tenants `t1` and `t2` with an eBay grant each (`g1`, `g2`).
async fn setup() -> Scripted {
    let s = scripted().await;
    s.stored_grant("t1", Platform::Ebay, "g1").await;
    s.stored_grant("t2", Platform::Ebay, "g2").await;
    s
}

async fn send(s: &Scripted, endpoint: &Endpoint, tenant: &str, auth: &Auth) -> Reply {
    let grant = if tenant == "t1" { "g1" } else { "g2" };
    let path = endpoint.path.replace("{t}", tenant).replace("{g}", grant);
    s.h.call(endpoint.method, &path, auth, endpoint.body.clone()).await
}

#[track_caller]
fn check(reply: &Reply, endpoint: &Endpoint, status: StatusCode, code: &str) {
    assert_eq!(
        (reply.status, reply.code()),
        (status, code),
        "{} {}: {}",
        endpoint.method,
        endpoint.path,
        reply.text
    );
}

#[tokio::test]
async fn matrix_allowed_with_a_role_that_holds_the_permission() {
    for endpoint in endpoints() {
        let s = setup().await;
        let auth = s.h.login_as("actor@example.com", &[endpoint.role], &["t1"]).await;
        let reply = send(&s, &endpoint, "t1", &auth).await;
        assert_eq!(reply.status, endpoint.ok, "{} {}: {}", endpoint.method, endpoint.path, reply.text);
    }
}

#[tokio::test]
async fn matrix_unauthenticated_is_401_and_audits_nothing() {
    for endpoint in endpoints() {
        let s = setup().await;
        let mark = s.h.mark().await;
        for auth in [Auth::None, Auth::Raw("Bearer nope".to_owned()), Auth::ApiKey("cus_apikey_x".to_owned())]
        {
            check(
                &send(&s, &endpoint, "t1", &auth).await,
                &endpoint,
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
            );
        }
        assert!(s.h.since(&mark).await.is_empty(), "{} {}", endpoint.method, endpoint.path);
    }
}

#[tokio::test]
async fn matrix_a_role_without_the_permission_is_403_and_the_denial_is_audited() {
    for endpoint in endpoints() {
        let s = setup().await;
        let auth = s.h.login_as("actor@example.com", &[], &["t1"]).await;
        let mark = s.h.mark().await;
        check(&send(&s, &endpoint, "t1", &auth).await, &endpoint, StatusCode::FORBIDDEN, "forbidden");
        let kinds: Vec<String> = s.h.kinds_since(&mark).await.into_values().flatten().collect();
        assert!(
            !kinds.is_empty() && kinds.iter().all(|k| k.starts_with("access_decided:deny:")),
            "{kinds:?}"
        );
    }
}

#[tokio::test]
async fn matrix_least_privilege() {
    // (method, path, a role that lacks the permission)
    let cases = [
        ("POST", "/v1/tenants/{t}/grants", Role::Analyst),
        ("POST", "/v1/tenants/{t}/grants/{g}/validate", Role::Fulfillment),
        ("POST", "/v1/tenants/{t}/grants/{g}/revoke", Role::Analyst),
        ("PUT", "/v1/tenants/{t}/grants/{g}/pii", Role::Fulfillment),
        ("POST", "/v1/tenants/{t}/grants/{g}/syncs", Role::Auditor),
        ("GET", "/v1/tenants/{t}/orders", Role::Auditor),
        // Buyer PII is for fulfillment only (MIN-2).
        ("GET", "/v1/tenants/{t}/orders?with_pii=true", Role::Analyst),
        ("GET", "/v1/tenants/{t}/orders?with_pii=true", Role::AccountManager),
    ];
    for (method, path, role) in cases {
        let endpoint = endpoints().into_iter().find(|e| e.method == method && e.path == path).unwrap();
        let s = setup().await;
        let auth = s.h.login_as("actor@example.com", &[role], &["t1"]).await;
        check(&send(&s, &endpoint, "t1", &auth).await, &endpoint, StatusCode::FORBIDDEN, "forbidden");
    }
}

#[tokio::test]
async fn matrix_another_tenant_is_a_404_that_leaks_nothing() {
    for endpoint in endpoints() {
        let s = setup().await;
        let auth = s.h.login_as("actor@example.com", &[endpoint.role], &["t1"]).await;
        let existing = send(&s, &endpoint, "t2", &auth).await;
        let missing = send(&s, &endpoint, "no-such-tenant", &auth).await;
        check(&existing, &endpoint, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(existing.text, missing.text);
        assert_eq!(existing.body, json!({"code": "not_found", "message": "not found"}));
        // t2 and its grant are untouched: only denials in its chain, the grant as it was.
        let after = s.h.store.audit_records(&tid("t2"));
        assert!(
            after.iter().all(|r| describe(&r.event).starts_with("access_decided:deny:")),
            "{:?}",
            kinds(&after)
        );
        assert_eq!(s.grant_state("t2", "g2").await, GrantState::Active);
        assert_eq!(s.h.store.grants(&tid("t2")).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn matrix_an_api_key_outside_its_tenants_gets_404() {
    for endpoint in endpoints() {
        let s = setup().await;
        let (_, key) = s.h.api_key(&["t1"], &Permission::ALL).await;
        check(&send(&s, &endpoint, "t2", &key).await, &endpoint, StatusCode::NOT_FOUND, "not_found");
    }
}

#[tokio::test]
async fn matrix_missing_or_stale_mfa_is_403_mfa_required() {
    for endpoint in endpoints() {
        let s = setup().await;
        let person = s.h.person("actor@example.com", &[endpoint.role], &["t1"]).await;
        for verified in [None, Some(s.h.now() - Duration::hours(13))] {
            let auth = Auth::Bearer(s.h.session(&person, verified).await);
            check(&send(&s, &endpoint, "t1", &auth).await, &endpoint, StatusCode::FORBIDDEN, "mfa_required");
        }
    }
}

// ---- the whole flow against the simulator and the real Meta adapter ----

mod sim {
    use std::sync::Arc;

    use custodian_core::platform::Platform;
    use custodian_core::ports::{Clock, ReportingSource, SignalVerifier};
    use custodian_core::service::PlatformAdapters;
    use custodian_http::{HttpClient, HttpConfig, Request, Url};
    use custodian_meta::{MetaAdapter, MetaConfig};
    use custodian_sim::meta::{ACCOUNTS, APP_ID, APP_SECRET, MetaConfig as SimMetaConfig, USER_ID};
    use custodian_sim::{Sim, SimClock, SimConfig};
    use secrecy::SecretString;
    use time::OffsetDateTime;

    use super::*;

    /// The simulator's clock, for the adapter and the server alike.
    #[derive(Debug)]
    struct SimTime(SimClock);

    impl Clock for SimTime {
        fn now(&self) -> OffsetDateTime {
            OffsetDateTime::from_unix_timestamp(self.0.now_unix()).unwrap()
        }
    }

    const PUBLIC_URL: &str = "http://127.0.0.1:9";

    /// Opens `url` on the simulated consent dialog; the `Location` it redirects the browser to.
    async fn follow(url: &str) -> String {
        let http =
            HttpClient::new(HttpConfig { allow_plain_loopback: true, ..HttpConfig::default() }).unwrap();
        let response = http.send(Request::get(http.check_url(url).unwrap())).await.unwrap();
        assert_eq!(response.status, 302, "the dialog redirects");
        response.header("location").unwrap().to_owned()
    }

    #[tokio::test]
    async fn consent_callback_validate_sync_read_and_deauthorize_against_the_simulator() {
        let callback_url = format!("{PUBLIC_URL}/v1/oauth/meta/callback");
        let sim_config =
            SimMetaConfig { redirect_uris: vec![callback_url.clone()], ..SimMetaConfig::default() };
        let running = Sim::new(SimConfig { seed: 5, meta: sim_config, ..SimConfig::default() })
            .start("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let clock = SimTime(running.sim.ctx.clock.clone());
        let mut config = MetaConfig::new(
            APP_ID,
            SecretString::from(APP_SECRET),
            Arc::new(SimTime(running.sim.ctx.clock.clone())),
        );
        config.graph_url = format!("{}/meta/graph", running.base_url());
        config.www_url = format!("{}/meta/www", running.base_url());
        config.redirect_uris = vec![callback_url.clone()];
        config.http.allow_plain_loopback = true;
        config.deauthorize_path = "/v1/webhooks/meta/deauthorize".to_owned();
        config.data_deletion_path = "/v1/webhooks/meta/data-deletion".to_owned();
        let adapter = Arc::new(MetaAdapter::new(config).unwrap());
        let adapters = PlatformAdapters {
            authorizer: adapter.clone(),
            reporting: Some(adapter.clone() as Arc<dyn ReportingSource>),
            campaigns: None,
            signals: Some(adapter.clone() as Arc<dyn SignalVerifier>),
            commerce: None,
        };
        let h = Harness::build(
            |_| {},
            |_| {},
            clock.now(),
            BTreeMap::from([(Platform::Meta, adapters)]),
            Some(PUBLIC_URL),
        );
        h.tenant("t1").await;
        let auth = h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;

        // Consent URL → the simulated dialog → the browser comes back to our callback.
        let started = connect(
            &h,
            &auth,
            "t1",
            json!({"platform": "meta", "tasks": ["read_reporting", "read_campaigns"]}),
        )
        .await;
        assert_eq!(started.status, StatusCode::CREATED, "{}", started.text);
        let location = follow(started.body["consent_url"].as_str().unwrap()).await;
        assert!(location.starts_with(&callback_url), "{location}");
        let query = Url::parse(&location).unwrap().query().unwrap().to_owned();
        let done = callback(&h, "meta", &query).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.text);
        let grant = done.body["grant"]["id"].as_str().unwrap().to_owned();
        assert_eq!(done.body["grant"]["state"], "active");
        assert_eq!(done.body["grant"]["evidence"]["owner"], USER_ID);
        let first_account = format!("meta:act_{}", ACCOUNTS[0]);
        assert!(
            done.body["grant"]["evidence"]["accounts"].as_array().unwrap().contains(&json!(first_account))
        );

        let base = format!("/v1/tenants/t1/grants/{grant}");
        let validated = h.call("POST", &format!("{base}/validate"), &auth, None).await;
        assert_eq!(validated.body["outcome"], "active", "{}", validated.text);

        // Sync one account's campaigns and a week of campaign-level rows, then read them back.
        let today = clock.now().date();
        let from = today - Duration::days(6);
        let synced = h
            .call(
                "POST",
                &format!("{base}/syncs"),
                &auth,
                Some(json!({"account": first_account, "from": from.to_string(), "to": today.to_string()})),
            )
            .await;
        assert_eq!(synced.status, StatusCode::OK, "{}", synced.text);
        let run = &synced.body["runs"][0];
        assert_eq!(run["kind"], "reporting");
        assert!(run["records"].as_u64().unwrap() > 0, "{run}");
        let campaigns = h.call("GET", "/v1/tenants/t1/campaigns?limit=1000", &auth, None).await;
        assert_eq!(campaigns.body["campaigns"].as_array().unwrap().len(), 12, "{}", campaigns.text);
        let rows =
            h.call("GET", &format!("/v1/tenants/t1/report-rows?grant={grant}&limit=1000"), &auth, None).await;
        let rows = rows.body["report_rows"].as_array().unwrap().len() as u64;
        assert!(rows > 0 && rows + 12 == run["records"].as_u64().unwrap(), "{rows} rows, run {run}");
        let status = h.call("GET", &format!("{base}/syncs"), &auth, None).await;
        assert_eq!(status.body["checkpoints"].as_array().unwrap().len(), 2, "{}", status.text);

        // The user removes the app: Meta's signed deauthorize callback revokes the grant at once.
        let signed = running.sim.meta.signed_request_for(USER_ID, false);
        let mark = h.mark().await;
        let body = format!("signed_request={signed}").into_bytes();
        let hook = h
            .raw(
                "POST",
                "/v1/webhooks/meta/deauthorize",
                &Auth::None,
                "application/x-www-form-urlencoded",
                body.clone(),
            )
            .await;
        assert_eq!(hook.status, StatusCode::OK, "{}", hook.text);
        assert_eq!(hook.body["status"], "revoked");
        let events = h.kinds_since(&mark).await;
        assert_eq!(events["_system"], ["signal_received"]);
        assert!(events["t1"].contains(&"records_purged".to_owned()), "{events:?}");
        let shown = h.call("GET", &base, &auth, None).await;
        assert_eq!(shown.body["grant"]["state"], "revoked");
        assert_eq!(shown.body["grant"]["revocation"]["kind"], "platform_signal");
        // The same callback again is a replay: refused, audited, nothing done.
        let replay = h
            .raw(
                "POST",
                "/v1/webhooks/meta/deauthorize",
                &Auth::None,
                "application/x-www-form-urlencoded",
                body,
            )
            .await;
        assert_eq!(replay.status, StatusCode::CONFLICT);
        // A forged one (signed with another secret) is rejected with 401 and audited.
        let forged = custodian_sim::meta::signed_request(
            "not-the-app-secret",
            &format!(
                r#"{{"user_id":"{USER_ID}","algorithm":"HMAC-SHA256","issued_at":{}}}"#,
                clock.now().unix_timestamp()
            ),
            false,
        );
        let mark = h.mark().await;
        let rejected = h
            .raw(
                "POST",
                "/v1/webhooks/meta/deauthorize",
                &Auth::None,
                "application/x-www-form-urlencoded",
                format!("signed_request={forged}").into_bytes(),
            )
            .await;
        assert_eq!(
            (rejected.status, rejected.code()),
            (StatusCode::UNAUTHORIZED, "signal_rejected"),
            "{}",
            rejected.text
        );
        assert_eq!(h.kinds_since(&mark).await["_system"], ["signal_rejected"]);
    }
}

#[tokio::test]
async fn sec_1_oauth_codes_and_tokens_never_reach_responses_logs_or_the_audit_trail() {
    let capture = crate::secrets::capture();
    let start = capture.len();
    let mut script = Script::new(Platform::Ebay);
    script.code = secrecy::SecretString::from("oauth-code-7f3a9c");
    script.access_token = secrecy::SecretString::from("access-token-7f3a9c");
    script.refresh_token = Some(secrecy::SecretString::from("refresh-token-7f3a9c"));
    let fake = Arc::new(ScriptedPlatform::new(script));
    let h = Harness::build(|_| {}, |_| {}, T0, BTreeMap::from([(Platform::Ebay, adapters(&fake))]), None);
    h.tenant("t1").await;
    let auth = h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let mut texts = Vec::new();
    // A wrong code first (refused), then the right one.
    for code in ["wrong-code-7f3a9c", "oauth-code-7f3a9c"] {
        let started = connect(&h, &auth, "t1", json!({"platform": "ebay", "tasks": ["read_orders"]})).await;
        let state = started.body["state"].as_str().unwrap().to_owned();
        let reply = callback(&h, "ebay", &format!("code={code}&state={state}")).await;
        texts.push(reply.text);
    }
    let grant =
        h.store.grants(&tid("t1")).await.unwrap().into_iter().find(|g| g.state() == GrantState::Active);
    let grant = grant.expect("the second callback activated a grant").id;
    let validated = h.call("POST", &format!("/v1/tenants/t1/grants/{grant}/validate"), &auth, None).await;
    texts.push(validated.text);
    let logs = capture.text().get(start..).unwrap_or_default().to_owned();
    let audit = format!("{:?}", h.chains().await);
    for secret in ["7f3a9c"] {
        for text in &texts {
            assert!(!text.contains(secret), "response: {text}");
        }
        assert!(!logs.contains(secret), "logs");
        assert!(!audit.contains(secret), "audit trail");
    }
    assert!(!logs.is_empty(), "the capture saw the requests");
}
