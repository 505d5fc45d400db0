//! Syncs over HTTP: a run stores pages with checkpoints and `sync_progressed` events and answers with the
//! counts; the status shows the checkpoints; bad requests store nothing; failures keep what was committed.

use axum::http::StatusCode;
use custodian_core::data::RecordKind;
use custodian_core::grant::{GrantId, GrantState};
use custodian_core::personnel::Role;
use custodian_core::platform::Platform;
use custodian_core::ports::DatasetStore;
use custodian_testkit::fakes::{Fault, Method};
use serde_json::{Value, json};
use time::Duration;

use crate::grants::scripted;
use crate::support::{Harness, tid};

async fn count(h: &Harness, grant: &str, kind: RecordKind) -> u64 {
    h.store.count(&tid("t1"), Some(GrantId::new(grant).unwrap()), kind).await.unwrap()
}

fn run<'a>(reply: &'a Value, kind: &str) -> &'a Value {
    reply["runs"].as_array().unwrap().iter().find(|r| r["kind"] == kind).unwrap()
}

#[tokio::test]
async fn a_commerce_sync_pulls_orders_and_stock_with_checkpoints_and_audit() {
    let s = scripted().await;
    s.stored_grant("t1", Platform::Ebay, "g-shop").await;
    let auth = s.h.login_as("ff@example.com", &[Role::Fulfillment], &["t1"]).await;
    let mark = s.h.mark().await;
    let reply = s.h.call("POST", "/v1/tenants/t1/grants/g-shop/syncs", &auth, Some(json!({}))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let orders = run(&reply.body, "orders");
    assert_eq!((orders["account"].as_str(), orders["records"].as_u64()), (Some("ebay:user-1"), Some(5)));
    assert_eq!((orders["pages"].as_u64(), orders["inserted"].as_u64()), (Some(3), Some(5)));
    let stock = run(&reply.body, "stock");
    assert_eq!((stock["records"].as_u64(), stock["pages"].as_u64()), (Some(3), Some(2)));
    assert_eq!(count(&s.h, "g-shop", RecordKind::Order).await, 5);
    assert_eq!(count(&s.h, "g-shop", RecordKind::StockLevel).await, 3);
    let events = &s.h.kinds_since(&mark).await["t1"];
    assert_eq!(events.iter().filter(|k| *k == "sync_progressed").count(), 5, "{events:?}");
    assert_eq!(events[0], "access_decided:allow:read_tenant");
    assert!(events.contains(&"access_decided:allow:sync:read_orders".to_owned()), "{events:?}");

    // The status shows where each sync stands.
    let status = s.h.call("GET", "/v1/tenants/t1/grants/g-shop/syncs", &auth, None).await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.text);
    let checkpoints = status.body["checkpoints"].as_array().unwrap();
    let names: Vec<&str> = checkpoints.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(names, ["orders", "stock"]);
    assert!(checkpoints.iter().all(|c| c["finished"] == true));
    let watermark = checkpoints[0]["watermark"].as_str().unwrap().to_owned();

    // The next run continues the order window from the watermark: the same orders update, none is new.
    s.h.advance(Duration::hours(1));
    let again =
        s.h.call("POST", "/v1/tenants/t1/grants/g-shop/syncs", &auth, Some(json!({"kinds": ["orders"]})))
            .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(run(&again.body, "orders")["inserted"], 0);
    assert_eq!(count(&s.h, "g-shop", RecordKind::Order).await, 5);
    let status = s.h.call("GET", "/v1/tenants/t1/grants/g-shop/syncs", &auth, None).await;
    assert_ne!(status.body["checkpoints"][0]["watermark"].as_str().unwrap(), watermark);
}

#[tokio::test]
async fn an_ads_sync_pulls_campaigns_and_report_rows_of_the_window() {
    let s = scripted().await;
    s.stored_grant("t1", Platform::Meta, "g-ads").await;
    let auth = s.h.login_as("an@example.com", &[Role::Analyst], &["t1"]).await;
    let body = json!({"account": "meta:act_1", "from": "2024-12-01", "to": "2024-12-03", "level": "ad"});
    let reply = s.h.call("POST", "/v1/tenants/t1/grants/g-ads/syncs", &auth, Some(body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let reporting = run(&reply.body, "reporting");
    assert_eq!(reporting["records"], 10, "4 campaigns and 6 report rows");
    assert_eq!(count(&s.h, "g-ads", RecordKind::Campaign).await, 4);
    assert_eq!(count(&s.h, "g-ads", RecordKind::ReportRow).await, 6);
    let rows = s.h.call("GET", "/v1/tenants/t1/report-rows?grant=g-ads", &auth, None).await;
    let rows = rows.body["report_rows"].as_array().unwrap().clone();
    assert!(
        rows.iter().all(|r| r["level"] == "ad" && r["date"].as_str().unwrap().starts_with("2024-12-0")),
        "{rows:?}"
    );
}

#[tokio::test]
async fn bad_sync_requests_are_refused_and_store_nothing() {
    let s = scripted().await;
    s.stored_grant("t1", Platform::Meta, "g-ads").await;
    let auth = s.h.login_as("an@example.com", &[Role::Analyst], &["t1"]).await;
    let path = "/v1/tenants/t1/grants/g-ads/syncs";
    let cases = [
        (json!({"kinds": ["everything"]}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"from": "2025-13-01"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"from": "2025-01-05", "to": "2025-01-01"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"from": "2020-01-01", "to": "2025-01-01"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"level": "galaxy"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"account": "not an account"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"updated_after": "yesterday"}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"updated_after": "2025-01-02T00:00:00Z", "updated_before": "2025-01-01T00:00:00Z"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"surprise": true}), StatusCode::UNPROCESSABLE_ENTITY),
        // An account the grant does not cover is core's AUTH-3 denial.
        (json!({"account": "meta:act_99"}), StatusCode::FORBIDDEN),
        // Orders on an ad platform: the task is not available there (core's AUTH-4 denial).
        (json!({"kinds": ["orders"]}), StatusCode::FORBIDDEN),
    ];
    for (body, status) in cases {
        let reply = s.h.call("POST", path, &auth, Some(body.clone())).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.text);
    }
    let malformed = s.h.raw("POST", path, &auth, "application/json", b"{".to_vec()).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    for kind in RecordKind::ALL {
        assert_eq!(count(&s.h, "g-ads", kind).await, 0, "{kind:?}");
    }
    let kinds: Vec<String> =
        s.h.store.audit_records(&tid("t1")).iter().map(|r| r.event.kind().to_owned()).collect();
    assert!(!kinds.contains(&"sync_progressed".to_owned()), "{kinds:?}");
}

#[tokio::test]
async fn a_failure_mid_sync_keeps_the_committed_pages_and_the_next_run_resumes() {
    let s = scripted().await;
    s.stored_grant("t1", Platform::Ebay, "g-shop").await;
    let auth = s.h.login_as("ff@example.com", &[Role::Fulfillment], &["t1"]).await;
    s.fake(Platform::Ebay).fail_after(Method::Orders, 1, Fault::Unavailable("boom".to_owned()));
    let path = "/v1/tenants/t1/grants/g-shop/syncs";
    let failed = s.h.call("POST", path, &auth, Some(json!({"kinds": ["orders"]}))).await;
    assert_eq!(
        (failed.status, failed.code()),
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        "{}",
        failed.text
    );
    assert!(!failed.text.contains("boom"), "internals stay in the log");
    assert_eq!(count(&s.h, "g-shop", RecordKind::Order).await, 2, "the first page is kept");
    let kinds: Vec<String> =
        s.h.store.audit_records(&tid("t1")).iter().map(|r| r.event.kind().to_owned()).collect();
    assert!(kinds.contains(&"sync_failed".to_owned()), "{kinds:?}");
    let status = s.h.call("GET", "/v1/tenants/t1/grants/g-shop/syncs", &auth, None).await;
    assert_eq!(status.body["checkpoints"][0]["finished"], false, "{}", status.text);
    let resumed = s.h.call("POST", path, &auth, Some(json!({"kinds": ["orders"]}))).await;
    assert_eq!(resumed.status, StatusCode::OK, "{}", resumed.text);
    assert_eq!(run(&resumed.body, "orders")["records"], 3, "resumed after the committed page");
    assert_eq!(count(&s.h, "g-shop", RecordKind::Order).await, 5);
}

#[tokio::test]
async fn auth_6_a_revocation_seen_mid_sync_revokes_and_purges() {
    let s = scripted().await;
    s.stored_grant("t1", Platform::Ebay, "g-shop").await;
    let auth = s.h.login_as("ff@example.com", &[Role::Fulfillment], &["t1"]).await;
    s.fake(Platform::Ebay).fail_after(Method::Orders, 1, Fault::Revoked("app removed".to_owned()));
    let reply = s.h.call("POST", "/v1/tenants/t1/grants/g-shop/syncs", &auth, Some(json!({}))).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::CONFLICT, "conflict"), "{}", reply.text);
    assert_eq!(s.grant_state("t1", "g-shop").await, GrantState::Revoked);
    assert_eq!(count(&s.h, "g-shop", RecordKind::Order).await, 0, "purged (RET-3)");
}
