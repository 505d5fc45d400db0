//! Client rights over HTTP (RGT-1..3, RET-6, ACC-2): requests with deadlines and their transitions, the
//! portable export as JSON and CSV (step-up MFA, each class read audited), deletion under a deletion
//! request with a receipt, offboarding; and the failure matrix.

use axum::http::{StatusCode, header};
use custodian_core::data::RecordKind;
use custodian_core::grant::GrantState;
use custodian_core::personnel::Role;
use custodian_core::ports::{CaseStore, DatasetStore, TenantStore};
use custodian_core::tenant::TenantStatus;
use serde_json::{Value, json};
use time::Duration;

use crate::changes::{cases, cases_with};
use crate::grants::Scripted;
use crate::support::{Auth, Harness, Reply, pid, tid};

async fn open(h: &Harness, auth: &Auth, body: Value) -> Reply {
    h.call("POST", "/v1/tenants/t1/rights", auth, Some(body)).await
}

/// Cases with report rows synced into `t1`; returns an account manager with a fresh step-up.
async fn synced(s: &Scripted) -> Auth {
    let am = s.h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let reply =
        s.h.call("POST", "/v1/tenants/t1/grants/g-meta/syncs", &am, Some(json!({"kinds": ["reporting"]})))
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    am
}

async fn rows(h: &Harness) -> u64 {
    h.store.count(&tid("t1"), None, RecordKind::ReportRow).await.unwrap()
}

#[tokio::test]
async fn rgt_2_a_request_is_opened_with_its_deadline_and_moves_through_its_states() {
    let s = cases().await;
    let h = &s.h;
    let am = h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let mark = h.mark().await;
    let opened = open(h, &am, json!({"kind": "access", "regime": "gdpr"})).await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
    let request = &opened.body["request"];
    let rid = request["id"].as_str().unwrap().to_owned();
    assert_eq!(request["status"], "received");
    assert_eq!(request["regime"], "gdpr");
    assert_eq!(request["kind"], "access");
    assert!(request["respond_by"].as_str().unwrap() > request["received_at"].as_str().unwrap());
    assert_eq!(h.store.rights_requests(&tid("t1")).await.unwrap().len(), 1);
    assert_eq!(
        h.kinds_since(&mark).await["t1"],
        ["access_decided:allow:manage_rights", "rights_request_changed"]
    );

    let path = format!("/v1/tenants/t1/rights/{rid}/update");
    let acknowledged = h.call("POST", &path, &am, Some(json!({"action": "acknowledge"}))).await;
    assert_eq!(acknowledged.status, StatusCode::OK, "{}", acknowledged.text);
    assert_eq!(acknowledged.body["request"]["status"], "acknowledged");
    // Extending needs a reason and a due date within the statutory maximum.
    let no_reason = h
        .call("POST", &path, &am, Some(json!({"action": "extend", "new_due": "2027-01-01T00:00:00Z"})))
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", no_reason.text);
    let far = (h.now() + Duration::days(400)).format(&time::format_description::well_known::Rfc3339).unwrap();
    let too_far = h
        .call("POST", &path, &am, Some(json!({"action": "extend", "reason": "complex", "new_due": far})))
        .await;
    assert_eq!(too_far.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", too_far.text);
    let due = (h.now() + Duration::days(50)).format(&time::format_description::well_known::Rfc3339).unwrap();
    let extended = h
        .call("POST", &path, &am, Some(json!({"action": "extend", "reason": "many systems", "new_due": due})))
        .await;
    assert_eq!(extended.status, StatusCode::OK, "{}", extended.text);
    assert_eq!(extended.body["request"]["status"], "extended");
    assert_eq!(extended.body["request"]["extension"]["reason"], "many systems");
    let completed = h.call("POST", &path, &am, Some(json!({"action": "complete"}))).await;
    assert_eq!(completed.body["request"]["status"], "completed");
    let again = h.call("POST", &path, &am, Some(json!({"action": "reject", "reason": "late"}))).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", again.text);

    let listed = h.call("GET", "/v1/tenants/t1/rights", &am, None).await;
    assert_eq!(listed.body["requests"][0]["status"], "completed");
    assert_eq!(listed.body["requests"][0]["overdue"], false);
    let one = h.call("GET", &format!("/v1/tenants/t1/rights/{rid}"), &am, None).await;
    assert_eq!(one.body["request"]["id"], rid.as_str());
}

#[tokio::test]
async fn rgt_1_the_export_needs_a_fresh_step_up_and_answers_json_or_one_csv_file() {
    let s = cases().await;
    let h = &s.h;
    let am = synced(&s).await;
    let n = rows(h).await;
    assert!(n > 0);

    let mark = h.mark().await;
    let json_export = h.call("GET", "/v1/tenants/t1/rights/export?format=json", &am, None).await;
    assert_eq!(json_export.status, StatusCode::OK, "{}", json_export.text);
    assert!(
        json_export.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"),
        "{:?}",
        json_export.headers
    );
    assert!(json_export.text.contains("cmp-"), "the export carries the report rows");
    let events = &h.kinds_since(&mark).await["t1"];
    assert_eq!(events[0], "access_decided:allow:export_data");
    assert!(events.contains(&format!("data_read:reporting_dataset:{n}")), "{events:?}");

    let csv = h.call("GET", "/v1/tenants/t1/rights/export?format=csv&file=report_rows", &am, None).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert!(csv.headers[header::CONTENT_DISPOSITION].to_str().unwrap().contains("report_rows.csv"));
    assert_eq!(csv.text.lines().count() as u64, n + 1, "a header and one line per row: {}", csv.text);

    for query in ["format=csv", "format=csv&file=secrets", "format=xml", "format=json&file=orders", "x=1"] {
        let reply = h.call("GET", &format!("/v1/tenants/t1/rights/export?{query}"), &am, None).await;
        assert!(
            matches!(reply.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST),
            "{query}: {}",
            reply.text
        );
    }

    // A step-up older than five minutes is refused, and nothing is read.
    let stale = Auth::Bearer(h.session(&pid("am@example.com"), Some(h.now() - Duration::minutes(20))).await);
    let mark = h.mark().await;
    let refused = h.call("GET", "/v1/tenants/t1/rights/export", &stale, None).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "mfa_required"), "{}", refused.text);
    assert!(!refused.text.contains("cmp-"));
    assert_eq!(h.kinds_since(&mark).await["t1"], ["access_decided:deny:export_data"]);
}

#[tokio::test]
async fn rgt_1_aud_1_the_export_is_sent_and_counted_page_by_page_and_a_failure_mid_way_cuts_it_off() {
    let s = cases_with(|settings| settings.export_page = 2).await;
    let h = &s.h;
    let am = synced(&s).await;
    let n = rows(h).await;
    assert!(n > 2, "more than one page of report rows: {n}");

    let mark = h.mark().await;
    let whole = h.call("GET", "/v1/tenants/t1/rights/export", &am, None).await;
    assert_eq!(whole.status, StatusCode::OK, "{}", whole.text);
    assert!(whole.headers.get(header::CONTENT_LENGTH).is_none(), "streamed: {:?}", whole.headers);
    assert_eq!(whole.body["report_rows"].as_array().map(Vec::len), Some(n as usize), "{}", whole.text);
    let counted: Vec<u64> = h.kinds_since(&mark).await["t1"]
        .iter()
        .filter_map(|e| e.strip_prefix("data_read:reporting_dataset:"))
        .map(|count| count.parse().unwrap())
        .collect();
    assert_eq!(counted.len() as u64, n.div_ceil(2), "one count per page of 2: {counted:?}");
    assert_eq!(counted.iter().sum::<u64>(), n);

    // The first page is read and counted before the answer starts; when the second cannot be counted
    // (AUD-2), the answer is cut off instead of ending as if it were whole.
    let Auth::Bearer(token) = &am else { panic!("a session") };
    let request = axum::http::Request::get("/v1/tenants/t1/rights/export?format=csv&file=report_rows")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(h.app.clone(), request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    h.store.fail_audit(true);
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await;
    h.store.fail_audit(false);
    assert!(body.is_err(), "an incomplete export must not end like a whole one: {body:?}");
}

#[tokio::test]
async fn rgt_1_ret_6_deletion_under_a_deletion_request_revokes_deletes_and_answers_a_clean_receipt() {
    let s = cases().await;
    let h = &s.h;
    let am = synced(&s).await;
    let access = open(h, &am, json!({"kind": "access", "regime": "gdpr"})).await;
    let access_id = access.body["request"]["id"].as_str().unwrap().to_owned();
    let refused = h.call("POST", &format!("/v1/tenants/t1/rights/{access_id}/delete-data"), &am, None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert!(rows(h).await > 0, "nothing deleted under an access request");

    let deletion = open(h, &am, json!({"kind": "deletion", "regime": "ccpa"})).await;
    assert_eq!(deletion.status, StatusCode::CREATED, "{}", deletion.text);
    assert!(deletion.body["request"]["acknowledge_by"].is_string(), "ccpa asks for an acknowledgement");
    let rid = deletion.body["request"]["id"].as_str().unwrap().to_owned();
    let mark = h.mark().await;
    let deleted = h.call("POST", &format!("/v1/tenants/t1/rights/{rid}/delete-data"), &am, None).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    let receipt = &deleted.body["receipt"];
    assert_eq!(receipt["clean"], true);
    assert!(receipt["total_deleted"].as_u64().unwrap() > 0);
    assert_eq!(rows(h).await, 0);
    assert_eq!(s.grant_state("t1", "g-meta").await, GrantState::Revoked);
    let events = &h.kinds_since(&mark).await["t1"];
    for kind in ["grant_changed", "key_changed", "records_purged"] {
        assert!(events.contains(&kind.to_owned()), "{kind}: {events:?}");
    }
    let receipts = h.call("GET", "/v1/tenants/t1/retention/receipts", &am, None).await;
    assert_eq!(receipts.body["receipts"][0]["id"], receipt["id"]);
    assert_eq!(h.store.receipts(&tid("t1")).await.unwrap().len(), 1);

    let unknown = h.call("POST", "/v1/tenants/t1/rights/rights-nope/delete-data", &am, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn rgt_3_offboarding_exports_deletes_and_marks_the_tenant_offboarded_only_with_a_fresh_step_up() {
    let s = cases().await;
    let h = &s.h;
    let am = synced(&s).await;
    // A stale step-up: refused before anything changes (the tenant stays active, the data stays).
    let stale = Auth::Bearer(h.session(&pid("am@example.com"), Some(h.now() - Duration::minutes(20))).await);
    let refused = h.call("POST", "/v1/tenants/t1/rights/offboard", &stale, None).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "mfa_required"), "{}", refused.text);
    assert_eq!(h.store.tenant(&tid("t1")).await.unwrap().status, TenantStatus::Active);
    let n = rows(h).await;
    assert!(n > 0);

    let done = h.call("POST", "/v1/tenants/t1/rights/offboard", &am, None).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.body["receipt"]["clean"], true);
    assert!(done.body["export"].is_object(), "{}", done.text);
    let files: Vec<&str> =
        done.body["csv"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert!(files.contains(&"report_rows.csv"), "{files:?}");
    assert_eq!(h.store.tenant(&tid("t1")).await.unwrap().status, TenantStatus::Offboarded);
    assert_eq!(rows(h).await, 0);
}

#[tokio::test]
async fn rights_endpoints_refuse_the_unauthenticated_other_tenants_missing_roles_and_bad_bodies() {
    let s = cases().await;
    let h = &s.h;
    let am = h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let rid = open(h, &am, json!({"kind": "deletion", "regime": "gdpr"})).await.body["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = h.login_as("other@example.com", &[Role::AccountManager], &["t2"]).await;
    let analyst = h.login_as("an@example.com", &[Role::Analyst], &["t1"]).await;
    let endpoints: Vec<(&str, String, Option<Value>)> = vec![
        ("POST", "/v1/tenants/t1/rights".to_owned(), Some(json!({"kind": "access", "regime": "gdpr"}))),
        ("GET", "/v1/tenants/t1/rights".to_owned(), None),
        ("GET", format!("/v1/tenants/t1/rights/{rid}"), None),
        ("POST", format!("/v1/tenants/t1/rights/{rid}/update"), Some(json!({"action": "acknowledge"}))),
        ("GET", "/v1/tenants/t1/rights/export?format=json".to_owned(), None),
        ("POST", format!("/v1/tenants/t1/rights/{rid}/delete-data"), None),
        ("POST", "/v1/tenants/t1/rights/offboard".to_owned(), None),
    ];
    for (method, path, body) in &endpoints {
        let reply = h.call(method, path, &Auth::None, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        let reply = h.call(method, path, &other, body.clone()).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}: {}", reply.text);
        assert!(!reply.text.contains(&rid), "{}", reply.text);
        let reply = h.call(method, path, &analyst, body.clone()).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::FORBIDDEN, "forbidden"), "{method} {path}");
    }
    assert_eq!(h.store.rights_requests(&tid("t1")).await.unwrap().len(), 1);
    assert_eq!(h.store.tenant(&tid("t1")).await.unwrap().status, TenantStatus::Active);

    let future =
        (h.now() + Duration::days(1)).format(&time::format_description::well_known::Rfc3339).unwrap();
    let bad = [
        json!({"kind": "gossip", "regime": "gdpr"}),
        json!({"kind": "access", "regime": "hipaa"}),
        json!({"kind": "objection", "regime": "gdpr"}),
        json!({"kind": "objection", "purpose": "fun", "regime": "gdpr"}),
        json!({"kind": "access", "purpose": "compliance", "regime": "gdpr"}),
        json!({"kind": "access", "regime": "gdpr", "received_at": "yesterday"}),
        json!({"kind": "access", "regime": "gdpr", "received_at": future}),
        json!({"kind": "access", "regime": "gdpr", "extra": 1}),
        json!({"regime": "gdpr"}),
    ];
    for body in bad {
        let reply = open(h, &am, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", reply.text);
    }
    let path = format!("/v1/tenants/t1/rights/{rid}/update");
    for body in [
        json!({"action": "shred"}),
        json!({"action": "reject"}),
        json!({"action": "acknowledge", "new_due": "2027-01-01T00:00:00Z"}),
    ] {
        let reply = h.call("POST", &path, &am, Some(body.clone())).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", reply.text);
    }
    let malformed =
        h.raw("POST", "/v1/tenants/t1/rights", &am, "application/json", b"{\"kind".to_vec()).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let requests = h.store.rights_requests(&tid("t1")).await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].status().as_str(), "received");
}
