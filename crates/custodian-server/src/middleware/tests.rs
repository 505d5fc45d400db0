//! Unit tests of the middleware: the request timeout answers a JSON 503, `observe` marks responses
//! `no-store` and counts them.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use custodian_core::authz::Environment;
use custodian_core::service::{Deps, Settings};
use custodian_testkit::fakes::{
    ManualClock, MemoryKeyManager, MemorySecretStore, MemoryStore, RecordingNotifier, SeededRng,
};
use tower::ServiceExt;

use super::*;
use crate::config::SecurityConfig;

fn state() -> AppState {
    let clock = Arc::new(ManualClock::default());
    let store = Arc::new(MemoryStore::new(clock.clone()));
    let rng = Arc::new(SeededRng::new(1));
    let deps = Deps {
        tenants: store.clone(),
        grants: store.clone(),
        datasets: store.clone(),
        audit: store.clone(),
        personnel: store.clone(),
        cases: store,
        secrets: Arc::new(MemorySecretStore::new(clock.clone())),
        keys: Arc::new(MemoryKeyManager::new(rng.clone())),
        notifier: Arc::new(RecordingNotifier::new()),
        clock,
        rng,
        platforms: BTreeMap::new(),
    };
    let security = SecurityConfig { request_timeout_secs: 1, ..SecurityConfig::default() };
    AppState::new(deps, Settings::new(Environment::Development), &security)
}

#[tokio::test]
async fn slow_requests_are_cut_off_with_a_json_503() {
    let state = state();
    let app: Router = Router::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                "done"
            }),
        )
        .route("/fast", get(|| async { "done" }))
        .layer(from_fn_with_state(state.clone(), timeout))
        .layer(from_fn_with_state(state.clone(), observe))
        .with_state(state.clone());
    let started = Instant::now();
    let response = app.clone().oneshot(Request::get("/slow").body(Body::empty()).unwrap()).await.unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers().get(header::CACHE_CONTROL).unwrap(), "no-store");
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    assert_eq!(&body[..], br#"{"code":"timeout","message":"the request took too long and was stopped"}"#);
    let fast = app.oneshot(Request::get("/fast").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(fast.status().as_u16(), 200);
    let text = state.metrics().render();
    assert!(
        text.contains(r#"custodian_http_requests_total{route="/slow",method="GET",status="5xx"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"custodian_http_requests_total{route="/fast",method="GET",status="2xx"} 1"#),
        "{text}"
    );
}
