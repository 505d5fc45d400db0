//! Campaign change requests over HTTP (CAM-1, CAM-2, ACC-2): propose, four eyes with step-up MFA,
//! execution of exactly the approved diff through the platform's `CampaignControl` (the testkit's
//! `ScriptedPlatform`) with a read-back; reads; and the failure matrix (401, 403, 404 leaking nothing,
//! stale MFA, bad bodies storing nothing).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::StatusCode;
use custodian_core::approval::{ChangeId, ChangeState};
use custodian_core::personnel::Role;
use custodian_core::platform::Platform;
use custodian_core::ports::{CampaignControl, CaseStore};
use custodian_core::service::Settings;
use custodian_testkit::fakes::{Script, ScriptedPlatform};
use custodian_testkit::fixtures::T0;
use serde_json::{Value, json};
use time::Duration;

use crate::grants::{Scripted, adapters};
use crate::support::{Auth, Harness, Reply, tid};

/// Scripted Meta (with campaign control: campaigns `cmp-0`..`cmp-3`) and eBay; tenants `t1` and `t2`;
/// an active Meta grant `g-meta` on `t1` for account `meta:act_1`.
pub(crate) async fn cases() -> Scripted {
    cases_with(|_| {}).await
}

/// [`cases`] with its policy settings edited.
pub(crate) async fn cases_with(settings: impl FnOnce(&mut Settings)) -> Scripted {
    let mut fakes = BTreeMap::new();
    let mut platforms = BTreeMap::new();
    for platform in [Platform::Meta, Platform::Ebay] {
        let mut script = Script::new(platform);
        script.orders = 3;
        script.stock = 2;
        script.campaigns = 4;
        script.report_rows = 4;
        script.page_size = 2;
        let fake = Arc::new(ScriptedPlatform::new(script));
        let mut adapter = adapters(&fake);
        if !platform.is_commerce() {
            adapter.campaigns = Some(fake.clone() as Arc<dyn CampaignControl>);
        }
        platforms.insert(platform, adapter);
        fakes.insert(platform, fake);
    }
    let h = Harness::build(settings, |_| {}, T0, platforms, Some("https://custodian.example"));
    h.tenant("t1").await;
    h.tenant("t2").await;
    let s = Scripted { h, fakes };
    s.stored_grant("t1", Platform::Meta, "g-meta").await;
    s
}

/// A diff raising `cmp-1`'s daily budget and pausing it.
fn diff() -> Value {
    json!({
        "account": "meta:act_1",
        "campaign": "cmp-1",
        "changes": [
            {"field": "daily_budget", "from": 2_000_000, "to": 5_000_000},
            {"field": "status", "to": "paused"},
        ],
    })
}

fn propose_body() -> Value {
    let mut body = diff();
    body["grant"] = json!("g-meta");
    body
}

async fn propose(h: &Harness, auth: &Auth, tenant: &str, body: Value) -> Reply {
    h.call("POST", &format!("/v1/tenants/{tenant}/changes"), auth, Some(body)).await
}

async fn stored(h: &Harness, id: &str) -> ChangeState {
    h.store.change(&tid("t1"), &ChangeId::new(id).unwrap()).await.unwrap().state().clone()
}

#[tokio::test]
async fn cam_1_four_eyes_step_up_then_execution_applies_exactly_the_approved_diff_and_reads_back() {
    let s = cases().await;
    let h = &s.h;
    let a = h.person("a@example.com", &[Role::AccountManager], &["t1"]).await;
    let auth_a = Auth::Bearer(h.session(&a, Some(h.now())).await);
    let b = h.person("b@example.com", &[Role::AccountManager], &["t1"]).await;
    let auth_b = Auth::Bearer(h.session(&b, Some(h.now())).await);

    let mark = h.mark().await;
    let proposed = propose(h, &auth_a, "t1", propose_body()).await;
    assert_eq!(proposed.status, StatusCode::CREATED, "{}", proposed.text);
    let change = &proposed.body["change"];
    let id = change["id"].as_str().unwrap().to_owned();
    assert_eq!(change["state"], "proposed");
    assert_eq!(change["proposed_by"], "a@example.com");
    // Canonical order: status before daily budget.
    assert_eq!(change["changes"][0]["field"], "status");
    assert_eq!(change["changes"][1]["to"], 5_000_000);
    assert_eq!(change["diff_hash"].as_str().unwrap().len(), 64);
    assert_eq!(stored(h, &id).await, ChangeState::Proposed);
    assert_eq!(h.kinds_since(&mark).await["t1"], ["access_decided:allow:propose_change", "change_proposed"]);

    // The proposer cannot approve their own change (four eyes), even with a fresh step-up.
    let own = h.call("POST", &format!("/v1/tenants/t1/changes/{id}/approve"), &auth_a, None).await;
    assert_eq!((own.status, own.code()), (StatusCode::FORBIDDEN, "forbidden"), "{}", own.text);
    assert_eq!(stored(h, &id).await, ChangeState::Proposed);

    // B's step-up is older than the window (5 minutes): refused by the decision, nothing changes.
    let stale = Auth::Bearer(h.session(&b, Some(h.now() - Duration::minutes(10))).await);
    let refused = h.call("POST", &format!("/v1/tenants/t1/changes/{id}/approve"), &stale, None).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "mfa_required"), "{}", refused.text);
    assert_eq!(stored(h, &id).await, ChangeState::Proposed);

    // Executing before approval is refused and touches no platform.
    let early = h.call("POST", &format!("/v1/tenants/t1/changes/{id}/execute"), &auth_b, Some(diff())).await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.text);
    assert_eq!(early.body["message"], "change request in state proposed cannot execute");
    assert!(s.fake(Platform::Meta).applied().is_empty());

    let mark = h.mark().await;
    let approved = h.call("POST", &format!("/v1/tenants/t1/changes/{id}/approve"), &auth_b, None).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert_eq!(approved.body["change"]["state"], "approved");
    assert_eq!(approved.body["change"]["detail"]["approved_by"], "b@example.com");
    assert!(matches!(stored(h, &id).await, ChangeState::Approved { .. }));
    assert_eq!(h.kinds_since(&mark).await["t1"], ["access_decided:allow:approve_change", "change_approved"]);

    // Another diff than the approved one is refused (CAM-1): nothing reaches the platform.
    let mut other = diff();
    other["changes"][0]["to"] = json!(9_000_000);
    let mismatch =
        h.call("POST", &format!("/v1/tenants/t1/changes/{id}/execute"), &auth_b, Some(other)).await;
    assert_eq!(mismatch.status, StatusCode::CONFLICT, "{}", mismatch.text);
    assert!(s.fake(Platform::Meta).applied().is_empty());

    let mark = h.mark().await;
    let executed =
        h.call("POST", &format!("/v1/tenants/t1/changes/{id}/execute"), &auth_b, Some(diff())).await;
    assert_eq!(executed.status, StatusCode::OK, "{}", executed.text);
    assert_eq!(executed.body["outcome"], json!({"confirmed": true, "mismatched": []}));
    assert_eq!(executed.body["change"]["state"], "executed");
    let applied = s.fake(Platform::Meta).applied();
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0].campaign().as_str(), "cmp-1");
    assert_eq!(applied[0].changes().len(), 2);
    assert!(matches!(stored(h, &id).await, ChangeState::Executed { .. }));
    let events = h.kinds_since(&mark).await;
    assert!(events["t1"].contains(&"access_decided:allow:execute_change".to_owned()), "{events:?}");
    assert_eq!(events["t1"].last().map(String::as_str), Some("change_executed"));

    // Executing twice is refused; the platform saw one change.
    let again = h.call("POST", &format!("/v1/tenants/t1/changes/{id}/execute"), &auth_b, Some(diff())).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(s.fake(Platform::Meta).applied().len(), 1);
}

#[tokio::test]
async fn cam_2_a_read_back_that_differs_is_recorded_as_a_mismatch() {
    let s = cases().await;
    let h = &s.h;
    let a = h.login_as("a@example.com", &[Role::Analyst], &["t1"]).await;
    let b = h.login_as("b@example.com", &[Role::AccountManager], &["t1"]).await;
    let id = propose(h, &a, "t1", propose_body()).await.body["change"]["id"].as_str().unwrap().to_owned();
    let approved = h.call("POST", &format!("/v1/tenants/t1/changes/{id}/approve"), &b, None).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    s.fake(Platform::Meta).drop_on_apply(custodian_core::approval::ChangeField::Status);
    let executed = h.call("POST", &format!("/v1/tenants/t1/changes/{id}/execute"), &b, Some(diff())).await;
    assert_eq!(executed.status, StatusCode::OK, "{}", executed.text);
    assert_eq!(executed.body["outcome"], json!({"confirmed": false, "mismatched": ["status"]}));
}

#[tokio::test]
async fn changes_are_listed_and_shown_to_tenant_readers_only() {
    let s = cases().await;
    let h = &s.h;
    let am = h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let id = propose(h, &am, "t1", propose_body()).await.body["change"]["id"].as_str().unwrap().to_owned();
    let auditor = h.login_as("aud@example.com", &[Role::Auditor], &["t1"]).await;
    let list = h.call("GET", "/v1/tenants/t1/changes", &auditor, None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.body["changes"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["changes"][0]["id"], id.as_str());
    let one = h.call("GET", &format!("/v1/tenants/t1/changes/{id}"), &auditor, None).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["change"]["campaign"], "cmp-1");
    let missing = h.call("GET", "/v1/tenants/t1/changes/change-nope", &auditor, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Someone on t2 only: t1's changes are a 404 that says nothing about them.
    let other = h.login_as("other@example.com", &[Role::AccountManager], &["t2"]).await;
    for path in ["/v1/tenants/t1/changes".to_owned(), format!("/v1/tenants/t1/changes/{id}")] {
        let reply = h.call("GET", &path, &other, None).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::NOT_FOUND, "not_found"), "{path}");
        assert!(!reply.text.contains("cmp-1") && !reply.text.contains(&id), "{}", reply.text);
    }
    let empty = h.call("GET", "/v1/tenants/t2/changes", &other, None).await;
    assert_eq!(empty.body["changes"], json!([]));
}

#[tokio::test]
async fn change_endpoints_refuse_the_unauthenticated_other_tenants_and_missing_roles() {
    let s = cases().await;
    let h = &s.h;
    let am = h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let id = propose(h, &am, "t1", propose_body()).await.body["change"]["id"].as_str().unwrap().to_owned();
    let auditor = h.login_as("aud@example.com", &[Role::Auditor], &["t1"]).await;
    let other = h.login_as("other@example.com", &[Role::AccountManager], &["t2"]).await;
    let endpoints: Vec<(&str, String, Option<Value>)> = vec![
        ("POST", "/v1/tenants/t1/changes".to_owned(), Some(propose_body())),
        ("GET", "/v1/tenants/t1/changes".to_owned(), None),
        ("GET", format!("/v1/tenants/t1/changes/{id}"), None),
        ("POST", format!("/v1/tenants/t1/changes/{id}/approve"), None),
        ("POST", format!("/v1/tenants/t1/changes/{id}/execute"), Some(diff())),
    ];
    for (method, path, body) in &endpoints {
        let reply = h.call(method, path, &Auth::None, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        let reply = h.call(method, path, &other, body.clone()).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}: {}", reply.text);
        assert!(!reply.text.contains(&id) && !reply.text.contains("cmp-1"), "{}", reply.text);
    }
    // The auditor reads but may not propose, approve or execute.
    for (method, path, body) in endpoints.iter().filter(|(m, _, _)| *m == "POST") {
        let reply = h.call(method, path, &auditor, body.clone()).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::FORBIDDEN, "forbidden"), "{method} {path}");
    }
    // An analyst proposes but may not approve.
    let analyst = h.login_as("an@example.com", &[Role::Analyst], &["t1"]).await;
    let reply = h.call("POST", &format!("/v1/tenants/t1/changes/{id}/approve"), &analyst, None).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // An API key is not a person: changes are proposed and approved by people.
    let (_, key) = h.api_key(&["t1"], &[custodian_core::personnel::Permission::ChangePropose]).await;
    let reply = propose(h, &key, "t1", propose_body()).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text);
    assert_eq!(h.store.changes(&tid("t1")).await.unwrap().len(), 1);
    assert!(matches!(stored(h, &id).await, ChangeState::Proposed));
}

#[tokio::test]
async fn bad_change_bodies_are_refused_and_store_nothing() {
    let s = cases().await;
    let h = &s.h;
    let am = h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let with = |f: &dyn Fn(&mut Value)| {
        let mut body = propose_body();
        f(&mut body);
        body
    };
    let cases = [
        with(&|b| b["changes"] = json!([])),
        with(&|b| b["changes"][0]["to"] = json!(-5)),
        with(&|b| b["changes"][0]["to"] = json!("lots")),
        with(&|b| b["changes"][1]["to"] = json!("dancing")),
        with(&|b| b["changes"][0]["field"] = json!("colour")),
        with(&|b| b["changes"][1]["field"] = json!("daily_budget")),
        with(&|b| b["account"] = json!("act_1")),
        with(&|b| b["account"] = json!("ebay:user-1")),
        with(&|b| b["grant"] = json!("has space")),
        with(&|b| b["extra"] = json!(true)),
        with(&|b| b["changes"][0]["extra"] = json!(true)),
        with(
            &|b| b["changes"] = json!([{"field": "schedule", "to": {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}}]),
        ),
        json!({"grant": "g-meta"}),
    ];
    for body in cases {
        let reply = propose(h, &am, "t1", body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", reply.text);
    }
    // A grant the tenant does not have.
    let unknown = propose(h, &am, "t1", with(&|b| b["grant"] = json!("g-none"))).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
    let malformed =
        h.raw("POST", "/v1/tenants/t1/changes", &am, "application/json", b"{\"grant\":".to_vec()).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let huge =
        h.raw("POST", "/v1/tenants/t1/changes", &am, "application/json", vec![b' '; 2 * 1024 * 1024]).await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(h.store.changes(&tid("t1")).await.unwrap().is_empty());
    assert!(s.fake(Platform::Meta).applied().is_empty());
}
