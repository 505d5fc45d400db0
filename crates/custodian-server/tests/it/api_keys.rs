//! Integrator API keys (ACC-4): shown once, stored hashed, scoped to tenants and permissions, never more
//! than their creator holds, revocable, audited like people.

use axum::http::StatusCode;
use custodian_core::personnel::{Permission, Role};
use serde_json::json;
use time::Duration;

use crate::support::{Auth, Harness};

#[tokio::test]
async fn a_key_is_shown_once_and_works_within_its_scope() {
    let h = Harness::new();
    h.tenant("t1").await;
    h.tenant("t2").await;
    let admin = h.login_as("admin@example.com", &[Role::Admin, Role::Auditor], &["t1", "t2"]).await;
    let mark = h.mark().await;
    let body = json!({"name": "reporting", "tenants": ["t1"], "permissions": ["tenant_read", "audit_read"], "expires_in_days": 7});
    let reply = h.call("POST", "/v1/api-keys", &admin, Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let secret = reply.body["key"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("cus_apikey_"));
    let id = reply.body["api_key"]["id"].as_str().unwrap().to_owned();
    assert!(secret.contains(&id), "the public id is part of the key");
    assert_eq!(reply.body["api_key"]["created_by"], "admin@example.com");
    assert_eq!(reply.body["api_key"]["expires_at"], "2025-01-08T00:00:00Z");
    let kinds = h.kinds_since(&mark).await;
    assert_eq!(kinds["_system"], ["access_decided:allow:manage_api_keys", "api_key_changed"]);

    let key = Auth::ApiKey(secret.clone());
    // In scope.
    assert_eq!(h.call("GET", "/v1/tenants/t1", &key, None).await.status, StatusCode::OK);
    assert_eq!(h.call("GET", "/v1/tenants/t1/audit", &key, None).await.status, StatusCode::OK);
    let list = h.call("GET", "/v1/tenants", &key, None).await;
    assert_eq!(list.body["tenants"].as_array().unwrap().len(), 1);
    // Another tenant: as if it did not exist. A permission it lacks: 403.
    assert_eq!(h.call("GET", "/v1/tenants/t2", &key, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(h.call("POST", "/v1/tenants/t1/audit/verify", &key, None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(h.call("GET", "/v1/people", &key, None).await.status, StatusCode::FORBIDDEN);
    // Under the wrong scheme it is no credential.
    assert_eq!(
        h.call("GET", "/v1/tenants/t1", &Auth::Bearer(secret.clone()), None).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Listing never shows the key again.
    let listed = h.call("GET", "/v1/api-keys", &admin, None).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(!listed.text.contains(&secret));
    assert!(!listed.text.contains(secret.rsplit('_').next().unwrap()));

    // Revocation takes effect at once and is audited; revoking twice changes nothing more.
    let mark = h.mark().await;
    let revoked = h.call("DELETE", &format!("/v1/api-keys/{id}"), &admin, None).await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(revoked.body["api_key"]["revoked_at"], "2025-01-01T00:00:00Z");
    assert_eq!(
        h.kinds_since(&mark).await["_system"],
        ["access_decided:allow:manage_api_keys", "api_key_changed"]
    );
    assert_eq!(h.call("GET", "/v1/tenants/t1", &key, None).await.status, StatusCode::UNAUTHORIZED);
    let mark = h.mark().await;
    assert_eq!(h.call("DELETE", &format!("/v1/api-keys/{id}"), &admin, None).await.status, StatusCode::OK);
    assert_eq!(h.kinds_since(&mark).await["_system"], ["access_decided:allow:manage_api_keys"]);
    assert_eq!(h.call("DELETE", "/v1/api-keys/unknown", &admin, None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_key_expires() {
    let h = Harness::new();
    h.tenant("t1").await;
    let admin = h.login_as("admin@example.com", &[Role::Admin], &["t1"]).await;
    let body =
        json!({"name": "short", "tenants": ["t1"], "permissions": ["tenant_read"], "expires_in_days": 1});
    let reply = h.call("POST", "/v1/api-keys", &admin, Some(body)).await;
    let key = Auth::ApiKey(reply.body["key"].as_str().unwrap().to_owned());
    assert_eq!(h.call("GET", "/v1/tenants/t1", &key, None).await.status, StatusCode::OK);
    h.advance(Duration::days(1));
    assert_eq!(h.call("GET", "/v1/tenants/t1", &key, None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_key_never_carries_more_than_its_creator_holds() {
    let h = Harness::new();
    h.tenant("t1").await;
    h.tenant("t2").await;
    let admin = h.login_as("admin@example.com", &[Role::Admin], &["t1"]).await;
    let cases = [
        // Admins do not hold `dataset_read` or `pii_read`.
        json!({"name": "k", "tenants": ["t1"], "permissions": ["pii_read"]}),
        // Nor tenant t2.
        json!({"name": "k", "tenants": ["t2"], "permissions": ["tenant_read"]}),
    ];
    for body in cases {
        let reply = h.call("POST", "/v1/api-keys", &admin, Some(body)).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::FORBIDDEN, "forbidden"), "{}", reply.text);
    }
    // An API key cannot mint keys, even with `api_key_manage`.
    let (_, key) = h.api_key(&["t1"], &Permission::ALL).await;
    let reply = h
        .call(
            "POST",
            "/v1/api-keys",
            &key,
            Some(json!({"name": "k", "tenants": ["t1"], "permissions": ["tenant_read"]})),
        )
        .await;
    assert_eq!((reply.status, reply.code()), (StatusCode::FORBIDDEN, "forbidden"));
    assert_eq!(custodian_core::ports::PersonnelStore::api_keys(h.store.as_ref()).await.unwrap().len(), 1);
}
