//! `/healthz`, `/readyz`, `/metrics`, and JSON answers for unknown paths and methods.

use axum::http::StatusCode;
use custodian_core::personnel::Role;
use serde_json::json;

use crate::support::{Auth, Harness};

#[tokio::test]
async fn health_and_readiness() {
    let h = Harness::new();
    let health = h.call("GET", "/healthz", &Auth::None, None).await;
    assert_eq!((health.status, health.body.clone()), (StatusCode::OK, json!({"status": "ok"})));
    let ready = h.call("GET", "/readyz", &Auth::None, None).await;
    assert_eq!((ready.status, ready.body.clone()), (StatusCode::OK, json!({"status": "ready"})));
    // The store stops answering: not ready, and the answer says nothing of why.
    h.store.fail_next(1);
    let down = h.call("GET", "/readyz", &Auth::None, None).await;
    assert_eq!((down.status, down.code()), (StatusCode::SERVICE_UNAVAILABLE, "unavailable"));
    assert!(!down.text.contains("injected"), "{}", down.text);
    assert_eq!(h.call("GET", "/healthz", &Auth::None, None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json() {
    let h = Harness::new();
    let missing = h.call("GET", "/v1/nothing-here", &Auth::None, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body, json!({"code": "not_found", "message": "not found"}));
    let wrong = h.call("PATCH", "/v1/tenants", &Auth::None, None).await;
    assert_eq!((wrong.status, wrong.code()), (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"));
}

#[tokio::test]
async fn store_failures_are_503_without_internals() {
    let h = Harness::new();
    h.tenant("t1").await;
    let auth = h.login_as("an@example.com", &[Role::Analyst], &["t1"]).await;
    // Authentication reads the session and the person; the decision then fails to load its facts.
    h.store.fail_next(0);
    h.store.fail_audit(true);
    let reply = h.call("GET", "/v1/tenants/t1", &auth, None).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::SERVICE_UNAVAILABLE, "unavailable"));
    assert_eq!(reply.body["message"], "audit trail unavailable: the operation was not performed");
    h.store.fail_audit(false);
    h.store.fail_next(1);
    let reply = h.call("GET", "/v1/tenants/t1", &auth, None).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::SERVICE_UNAVAILABLE, "unavailable"));
    assert!(!reply.text.contains("injected"));
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_class() {
    let h = Harness::new();
    h.tenant("t1").await;
    let auth = h.login_as("an@example.com", &[Role::Analyst], &["t1"]).await;
    for _ in 0..2 {
        h.call("GET", "/v1/tenants/t1", &auth, None).await;
    }
    h.call("GET", "/v1/tenants/t2", &auth, None).await;
    h.call("GET", "/v1/me", &Auth::None, None).await;
    h.call("GET", "/nowhere/secret-path", &Auth::None, None).await;
    let metrics = h.call("GET", "/metrics", &Auth::None, None).await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert_eq!(metrics.headers.get("content-type").unwrap(), "text/plain; version=0.0.4; charset=utf-8");
    let text = metrics.text;
    for line in [
        "# TYPE custodian_http_requests_total counter",
        r#"custodian_http_requests_total{route="/v1/tenants/{id}",method="GET",status="2xx"} 2"#,
        r#"custodian_http_requests_total{route="/v1/tenants/{id}",method="GET",status="4xx"} 1"#,
        r#"custodian_http_requests_total{route="/v1/me",method="GET",status="4xx"} 1"#,
        r#"custodian_http_requests_total{route="unmatched",method="GET",status="4xx"} 1"#,
        "# TYPE custodian_http_request_duration_seconds histogram",
        r#"custodian_http_request_duration_seconds_bucket{route="/v1/tenants/{id}",le="+Inf"} 3"#,
        r#"custodian_http_request_duration_seconds_count{route="/v1/tenants/{id}"} 3"#,
    ] {
        assert!(text.lines().any(|l| l == line), "missing `{line}` in:\n{text}");
    }
    // Raw paths (and the ids in them) never become labels.
    assert!(!text.contains("secret-path"));
    assert!(!text.contains("t1"));
}

/// With `security.metrics_token` set, `/metrics` answers only that bearer token (any scheme case); a missing,
/// wrong or differently-schemed credential is the usual 401, and a session is not enough.
#[tokio::test]
async fn a_metrics_token_closes_metrics_to_everyone_else() {
    const TOKEN: &str = "metrics-token-0123456789";
    let h = Harness::with(|_| {}, |s| s.metrics_token = Some(TOKEN.to_owned().into()));
    let session = h.login_as("an@example.com", &[Role::Analyst], &[]).await;
    for auth in [
        Auth::None,
        Auth::Raw("Bearer wrong-token-0123456789".to_owned()),
        Auth::Raw(format!("Bearer {TOKEN}x")),
        Auth::Raw(format!("ApiKey {TOKEN}")),
        Auth::Raw(TOKEN.to_owned()),
        session,
    ] {
        let reply = h.call("GET", "/metrics", &auth, None).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::UNAUTHORIZED, "unauthenticated"), "{auth:?}");
        assert!(!reply.text.contains("custodian_http_requests_total"), "{}", reply.text);
    }
    for header in [format!("Bearer {TOKEN}"), format!("bearer {TOKEN}")] {
        let reply = h.call("GET", "/metrics", &Auth::Raw(header), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert!(reply.text.contains("# TYPE custodian_http_requests_total counter"), "{}", reply.text);
    }
}
