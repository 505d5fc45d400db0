//! Retention over HTTP (RET-1..6): the periods that apply, a sweep that deletes what is past its period
//! unless a legal hold keeps it (RET-5), holds placed and lifted with step-up MFA (ACC-2), receipts; and
//! the failure matrix.

use axum::http::StatusCode;
use custodian_core::data::RecordKind;
use custodian_core::personnel::Role;
use custodian_core::ports::{CaseStore, DatasetStore};
use serde_json::{Value, json};
use time::Duration;

use crate::changes::cases;
use crate::support::{Auth, Harness, tid};

async fn report_rows(h: &Harness) -> u64 {
    h.store.count(&tid("t1"), None, RecordKind::ReportRow).await.unwrap()
}

fn hold_body(h: &Harness) -> Value {
    json!({
        "scope": "class:reporting_dataset",
        "reason": "litigation hold, case 2026-17",
        "ends_at": custodian_server_ts(h.now() + Duration::days(365)),
    })
}

fn custodian_server_ts(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap()
}

#[tokio::test]
async fn ret_4_ret_5_a_sweep_keeps_held_records_and_deletes_them_once_the_hold_is_lifted() {
    let s = cases().await;
    let h = &s.h;
    let am = h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let synced = h
        .call("POST", "/v1/tenants/t1/grants/g-meta/syncs", &am, Some(json!({"kinds": ["reporting"]})))
        .await;
    assert_eq!(synced.status, StatusCode::OK, "{}", synced.text);
    let rows = report_rows(h).await;
    assert!(rows > 0);

    // Fourteen months later the rows are past the reporting period (13 months).
    h.advance(Duration::days(430));
    let officer = h.person("so@example.com", &[Role::SecurityOfficer], &["t1"]).await;
    let so = Auth::Bearer(h.session(&officer, Some(h.now())).await);

    let mark = h.mark().await;
    let placed = h.call("POST", "/v1/tenants/t1/retention/holds", &so, Some(hold_body(h))).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.text);
    let hold = placed.body["hold"].clone();
    assert_eq!(hold["scope"], "class:reporting_dataset");
    assert_eq!(hold["owner"], "so@example.com");
    assert_eq!(hold["lifted"], Value::Null);
    let hid = hold["id"].as_str().unwrap().to_owned();
    assert_eq!(h.store.holds(&tid("t1")).await.unwrap().len(), 1);
    assert_eq!(h.kinds_since(&mark).await["t1"], ["access_decided:allow:place_hold", "hold_changed"]);

    let mark = h.mark().await;
    let swept = h.call("POST", "/v1/tenants/t1/retention/sweep", &so, None).await;
    assert_eq!(swept.status, StatusCode::OK, "{}", swept.text);
    let reporting = &swept.body["sweep"]["per_class"]["reporting_dataset"];
    assert_eq!(reporting["held"], rows, "{}", swept.text);
    assert_eq!(reporting["deleted"], 0);
    assert_eq!(report_rows(h).await, rows, "held rows stay");
    assert_eq!(h.kinds_since(&mark).await["t1"], ["access_decided:allow:manage_retention", "retention_ran"]);

    // The hold lists as active.
    let listed = h.call("GET", "/v1/tenants/t1/retention/holds", &so, None).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["holds"][0]["active"], true);

    // Lifting needs a fresh step-up (ACC-2).
    let stale = Auth::Bearer(h.session(&officer, Some(h.now() - Duration::minutes(30))).await);
    let refused = h.call("POST", &format!("/v1/tenants/t1/retention/holds/{hid}/lift"), &stale, None).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "mfa_required"), "{}", refused.text);
    assert!(h.store.holds(&tid("t1")).await.unwrap()[0].lifted().is_none());

    let lifted = h.call("DELETE", &format!("/v1/tenants/t1/retention/holds/{hid}"), &so, None).await;
    assert_eq!(lifted.status, StatusCode::OK, "{}", lifted.text);
    assert_eq!(lifted.body["hold"]["lifted"]["by"], "so@example.com");
    let twice = h.call("POST", &format!("/v1/tenants/t1/retention/holds/{hid}/lift"), &so, None).await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", twice.text);

    let swept = h.call("POST", "/v1/tenants/t1/retention/sweep", &so, None).await;
    assert_eq!(swept.status, StatusCode::OK, "{}", swept.text);
    assert_eq!(swept.body["sweep"]["per_class"]["reporting_dataset"]["deleted"], rows);
    assert_eq!(report_rows(h).await, 0);
}

#[tokio::test]
async fn ret_1_ret_2_the_policies_show_the_effective_periods() {
    let s = cases().await;
    let h = &s.h;
    let am = h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let reply = h.call("GET", "/v1/tenants/t1/retention", &am, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let policies = reply.body["policies"].as_array().unwrap();
    let pii = policies.iter().find(|p| p["class"] == "buyer_pii").unwrap();
    assert_eq!(pii["policy"], json!({"days": 30}));
    assert_eq!(pii["effective"], json!({"days": 30}));
    assert_eq!(pii["disposal"], "anonymize");
    let reporting = policies.iter().find(|p| p["class"] == "reporting_dataset").unwrap();
    assert_eq!(reporting["effective"], json!({"months": 13}));
    let receipts = h.call("GET", "/v1/tenants/t1/retention/receipts", &am, None).await;
    assert_eq!(receipts.status, StatusCode::OK);
    assert_eq!(receipts.body["receipts"], json!([]));
}

#[tokio::test]
async fn retention_endpoints_refuse_the_unauthenticated_other_tenants_missing_roles_and_bad_bodies() {
    let s = cases().await;
    let h = &s.h;
    let so = h.login_as("so@example.com", &[Role::SecurityOfficer], &["t1"]).await;
    let placed = h.call("POST", "/v1/tenants/t1/retention/holds", &so, Some(hold_body(h))).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.text);
    let hid = placed.body["hold"]["id"].as_str().unwrap().to_owned();
    let other = h.login_as("other@example.com", &[Role::SecurityOfficer], &["t2"]).await;
    let analyst = h.login_as("an@example.com", &[Role::Analyst], &["t1"]).await;
    let endpoints: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/v1/tenants/t1/retention".to_owned(), None),
        ("GET", "/v1/tenants/t1/retention/receipts".to_owned(), None),
        ("GET", "/v1/tenants/t1/retention/holds".to_owned(), None),
        ("POST", "/v1/tenants/t1/retention/sweep".to_owned(), None),
        ("POST", "/v1/tenants/t1/retention/holds".to_owned(), Some(hold_body(h))),
        ("POST", format!("/v1/tenants/t1/retention/holds/{hid}/lift"), None),
        ("DELETE", format!("/v1/tenants/t1/retention/holds/{hid}"), None),
    ];
    for (method, path, body) in &endpoints {
        let reply = h.call(method, path, &Auth::None, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        let reply = h.call(method, path, &other, body.clone()).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}: {}", reply.text);
        assert!(!reply.text.contains(&hid) && !reply.text.contains("litigation"), "{}", reply.text);
    }
    for (method, path, body) in endpoints.iter().filter(|(m, _, _)| *m != "GET") {
        let reply = h.call(method, path, &analyst, body.clone()).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::FORBIDDEN, "forbidden"), "{method} {path}");
    }
    let holds = h.store.holds(&tid("t1")).await.unwrap();
    assert_eq!(holds.len(), 1);
    assert!(holds[0].lifted().is_none());

    let ends = custodian_server_ts(h.now() + Duration::days(30));
    let bad = [
        json!({"scope": "everything", "reason": "r", "ends_at": ends}),
        json!({"scope": "class:secrets", "reason": "r", "ends_at": ends}),
        json!({"scope": "grant:has space", "reason": "r", "ends_at": ends}),
        json!({"scope": "tenant", "reason": "  ", "ends_at": ends}),
        json!({"scope": "tenant", "reason": "r", "ends_at": "next tuesday"}),
        json!({"scope": "tenant", "reason": "r", "ends_at": custodian_server_ts(h.now() - Duration::days(1))}),
        json!({"scope": "tenant", "reason": "r"}),
        json!({"scope": "tenant", "reason": "r", "ends_at": ends, "owner": "x"}),
    ];
    for body in bad {
        let reply = h.call("POST", "/v1/tenants/t1/retention/holds", &so, Some(body.clone())).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", reply.text);
    }
    let malformed = h
        .raw("POST", "/v1/tenants/t1/retention/holds", &so, "application/json", b"{\"scope\"".to_vec())
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(h.store.holds(&tid("t1")).await.unwrap().len(), 1);
    let unknown = h.call("POST", "/v1/tenants/t1/retention/holds/hold-nope/lift", &so, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}
