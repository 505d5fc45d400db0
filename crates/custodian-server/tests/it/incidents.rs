//! Incidents over HTTP (INC-1): opened and isolated at once (processing there is denied), the scope
//! assessed from the audit trail, the client notified with tracked deadlines, remediation recorded, closed
//! only after notification and with a review (lifting the isolation); and the failure matrix.

use axum::http::StatusCode;
use custodian_core::personnel::Role;
use custodian_core::ports::CaseStore;
use serde_json::{Value, json};
use time::Duration;
use time::format_description::well_known::Rfc3339;

use crate::changes::cases;
use crate::support::{Auth, Harness, Reply, describe};

async fn open(h: &Harness, auth: &Auth, tenant: &str, body: Value) -> Reply {
    h.call("POST", &format!("/v1/tenants/{tenant}/incidents"), auth, Some(body)).await
}

fn rfc(at: time::OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap()
}

async fn sync(h: &Harness, auth: &Auth) -> Reply {
    h.call("POST", "/v1/tenants/t1/grants/g-meta/syncs", auth, Some(json!({"kinds": ["reporting"]}))).await
}

#[tokio::test]
async fn inc_1_an_incident_isolates_is_assessed_notified_remediated_and_closed_with_a_review() {
    let s = cases().await;
    let h = &s.h;
    let am = h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let start = h.now();
    assert_eq!(sync(h, &am).await.status, StatusCode::OK);
    h.advance(Duration::minutes(1));
    let so = h.login_as("so@example.com", &[Role::SecurityOfficer], &["t1"]).await;

    let system_before = h.system_records().len();
    let opened =
        open(h, &so, "t1", json!({"severity": "high", "summary": "token leaked in a support ticket"})).await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
    let incident = &opened.body["incident"];
    let iid = incident["id"].as_str().unwrap().to_owned();
    assert_eq!(incident["state"], "open");
    assert_eq!(incident["isolating"], true);
    assert_eq!(incident["scopes"], json!([{"tenant": "t1"}]));
    assert_eq!(h.store.incidents().await.unwrap().len(), 1);
    let system: Vec<String> =
        h.system_records()[system_before..].iter().map(|r| describe(&r.event)).collect();
    assert_eq!(system, ["access_decided:allow:manage_incident", "incident_changed"]);

    // Isolated: processing in t1 is denied at once.
    let denied = sync(h, &am).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN, "{}", denied.text);

    let assessed = h
        .call(
            "POST",
            &format!("/v1/tenants/t1/incidents/{iid}/assess"),
            &so,
            Some(json!({"from": rfc(start - Duration::minutes(1)), "to": rfc(h.now())})),
        )
        .await;
    assert_eq!(assessed.status, StatusCode::OK, "{}", assessed.text);
    let assessment = &assessed.body["assessment"];
    assert_eq!(assessment["tenants"], json!(["t1"]));
    assert!(assessment["classes"].as_array().unwrap().contains(&json!("reporting_dataset")), "{assessment}");
    assert!(assessment["records"].as_u64().unwrap() > 0);

    // Not closable before the client is told.
    let review =
        json!({"review": "rotated tokens; support tooling now redacts", "follow_ups": ["train support"]});
    let early =
        h.call("POST", &format!("/v1/tenants/t1/incidents/{iid}/close"), &so, Some(review.clone())).await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.text);
    assert!(early.text.contains("not notified"), "{}", early.text);

    let notified = h
        .call(
            "POST",
            &format!("/v1/tenants/t1/incidents/{iid}/notify"),
            &so,
            Some(json!({"platforms": ["meta"]})),
        )
        .await;
    assert_eq!(notified.status, StatusCode::OK, "{}", notified.text);
    let notes = notified.body["incident"]["notifications"].as_array().unwrap().clone();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes.iter().all(|n| n["sent_at"].is_string()), "{notes:?}");
    assert!(notes.iter().any(|n| n["recipient"] == json!({"client": "t1"})));
    assert_eq!(h.notifier.notifications().len(), 2);

    let remediated = h
        .call(
            "POST",
            &format!("/v1/tenants/t1/incidents/{iid}/remediate"),
            &so,
            Some(json!({"action": "revoked the token"})),
        )
        .await;
    assert_eq!(remediated.status, StatusCode::OK, "{}", remediated.text);
    assert_eq!(remediated.body["incident"]["remediation"][0]["by"], "so@example.com");

    let closed = h.call("POST", &format!("/v1/tenants/t1/incidents/{iid}/close"), &so, Some(review)).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
    assert_eq!(closed.body["incident"]["state"], "closed");
    assert_eq!(closed.body["incident"]["isolating"], false);
    assert_eq!(closed.body["incident"]["review"]["follow_ups"], json!(["train support"]));
    assert_eq!(
        h.store
            .incident(&custodian_core::incident::IncidentId::new(iid.as_str()).unwrap())
            .await
            .unwrap()
            .state()
            .as_str(),
        "closed"
    );
    // The isolation is lifted.
    assert_eq!(sync(h, &am).await.status, StatusCode::OK);

    let listed = h.call("GET", "/v1/tenants/t1/incidents", &so, None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(listed.body["incidents"][0]["id"], iid.as_str());
    let one = h.call("GET", &format!("/v1/tenants/t1/incidents/{iid}"), &so, None).await;
    assert_eq!(one.body["incident"]["summary"], "token leaked in a support ticket");
}

#[tokio::test]
async fn inc_1_an_incident_can_isolate_only_some_grants() {
    let s = cases().await;
    let h = &s.h;
    let so = h.login_as("so@example.com", &[Role::SecurityOfficer], &["t1"]).await;
    let opened =
        open(h, &so, "t1", json!({"severity": "low", "summary": "odd calls", "grants": ["g-meta"]})).await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
    assert_eq!(opened.body["incident"]["scopes"], json!([{"tenant": "t1", "grant": "g-meta"}]));
}

#[tokio::test]
async fn incident_endpoints_refuse_the_unauthenticated_other_tenants_missing_roles_and_bad_bodies() {
    let s = cases().await;
    let h = &s.h;
    let so = h.login_as("so@example.com", &[Role::SecurityOfficer], &["t1", "t2"]).await;
    let iid = open(h, &so, "t1", json!({"severity": "medium", "summary": "suspicious login"})).await.body
        ["incident"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = h.login_as("other@example.com", &[Role::SecurityOfficer], &["t2"]).await;
    let analyst = h.login_as("an@example.com", &[Role::Analyst], &["t1"]).await;
    let window = json!({"from": rfc(h.now() - Duration::hours(1)), "to": rfc(h.now())});
    let endpoints: Vec<(&str, String, Option<Value>)> = vec![
        ("POST", "/v1/tenants/t1/incidents".to_owned(), Some(json!({"severity": "low", "summary": "x"}))),
        ("GET", "/v1/tenants/t1/incidents".to_owned(), None),
        ("GET", format!("/v1/tenants/t1/incidents/{iid}"), None),
        ("POST", format!("/v1/tenants/t1/incidents/{iid}/assess"), Some(window.clone())),
        ("POST", format!("/v1/tenants/t1/incidents/{iid}/notify"), Some(json!({}))),
        ("POST", format!("/v1/tenants/t1/incidents/{iid}/remediate"), Some(json!({"action": "a"}))),
        ("POST", format!("/v1/tenants/t1/incidents/{iid}/close"), Some(json!({"review": "r"}))),
    ];
    for (method, path, body) in &endpoints {
        let reply = h.call(method, path, &Auth::None, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        let reply = h.call(method, path, &other, body.clone()).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}: {}", reply.text);
        assert!(!reply.text.contains(&iid) && !reply.text.contains("suspicious"), "{}", reply.text);
        let reply = h.call(method, path, &analyst, body.clone()).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::FORBIDDEN, "forbidden"), "{method} {path}");
    }
    // t1's incident is not reachable through t2's path, even for someone on both tenants.
    let through_t2 = h.call("GET", &format!("/v1/tenants/t2/incidents/{iid}"), &so, None).await;
    assert_eq!(through_t2.status, StatusCode::NOT_FOUND);
    let list_t2 = h.call("GET", "/v1/tenants/t2/incidents", &so, None).await;
    assert_eq!(list_t2.body["incidents"], json!([]));
    let incidents = h.store.incidents().await.unwrap();
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].state().as_str(), "open");
    assert!(incidents[0].remediation().is_empty());

    for body in [
        json!({"severity": "apocalyptic", "summary": "x"}),
        json!({"severity": "low", "summary": "   "}),
        json!({"severity": "low", "summary": "x", "grants": ["has space"]}),
        json!({"severity": "low", "summary": "x", "tenant": "t2"}),
        json!({"summary": "x"}),
    ] {
        let reply = open(h, &so, "t1", body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", reply.text);
    }
    let base = format!("/v1/tenants/t1/incidents/{iid}");
    for (path, body) in [
        ("assess", json!({"from": "then", "to": rfc(h.now())})),
        ("assess", json!({"from": rfc(h.now()), "to": rfc(h.now() - Duration::hours(1))})),
        ("notify", json!({"platforms": ["myspace"]})),
        ("remediate", json!({"action": ""})),
        ("close", json!({"review": "r", "follow_ups": ["\u{7}"]})),
    ] {
        let reply = h.call("POST", &format!("{base}/{path}"), &so, Some(body.clone())).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{path} {body}: {}", reply.text);
    }
    let malformed = h.raw("POST", "/v1/tenants/t1/incidents", &so, "application/json", b"{".to_vec()).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(h.store.incidents().await.unwrap().len(), 1);
    assert!(h.notifier.notifications().is_empty());
}
