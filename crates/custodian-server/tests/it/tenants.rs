//! Tenants and contacts: creation (with self-assignment), need-to-know listing (ACC-1), contacts screened
//! (MIN-3), sealed at rest (ENC-1) and read with an audited count (AUD-1).

use axum::http::StatusCode;
use custodian_core::personnel::{Permission, Role};
use custodian_core::ports::{PersonnelStore, TenantStore};
use serde_json::json;

use crate::support::{Auth, Harness, pid, tid};

#[tokio::test]
async fn an_admin_creates_a_tenant_and_is_assigned_to_it() {
    let h = Harness::new();
    let admin = h.login_as("admin@example.com", &[Role::Admin], &[]).await;
    let mark = h.mark().await;
    let body = json!({"id": "acme", "name": "Acme Ltd", "retention_days": {"reporting_dataset": 365}});
    let reply = h.call("POST", "/v1/tenants", &admin, Some(body.clone())).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(
        reply.body["tenant"],
        json!({"id": "acme", "name": "Acme Ltd", "status": "active", "retention_days": {"reporting_dataset": 365}})
    );
    let kinds = h.kinds_since(&mark).await;
    assert_eq!(
        kinds["_system"],
        ["access_decided:allow:manage_personnel", "personnel_changed", "access_decided:allow:manage_tenant"]
    );
    assert_eq!(kinds["acme"], ["tenant_changed"]);
    assert_eq!(kinds.len(), 2);
    let person = h.store.person(&pid("admin@example.com")).await.unwrap();
    assert!(person.tenants.contains(&tid("acme")));
    assert_eq!(h.call("GET", "/v1/tenants/acme", &admin, None).await.status, StatusCode::OK);
    // Twice is a conflict, and nobody is assigned anything more.
    let other = h.login_as("other@example.com", &[Role::Admin], &[]).await;
    let again = h.call("POST", "/v1/tenants", &other, Some(body)).await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "conflict"));
    assert!(h.store.person(&pid("other@example.com")).await.unwrap().tenants.is_empty());
}

#[tokio::test]
async fn an_api_key_creates_tenants_only_in_its_scope() {
    let h = Harness::new();
    let (_, key) = h.api_key(&["k1"], &[Permission::TenantManage]).await;
    let reply = h.call("POST", "/v1/tenants", &key, Some(json!({"id": "k1", "name": "K one"}))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let reply = h.call("POST", "/v1/tenants", &key, Some(json!({"id": "k2", "name": "K two"}))).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(h.store.tenant(&tid("k2")).await.is_err());
}

#[tokio::test]
async fn people_see_only_their_tenants_acc1() {
    let h = Harness::new();
    for t in ["t1", "t2", "t3"] {
        h.tenant(t).await;
    }
    let analyst = h.login_as("an@example.com", &[Role::Analyst], &["t1", "t3", "gone"]).await;
    let mark = h.mark().await;
    let reply = h.call("GET", "/v1/tenants", &analyst, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let ids: Vec<&str> =
        reply.body["tenants"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["t1", "t3"]);
    let kinds = h.kinds_since(&mark).await;
    assert_eq!(kinds["t1"], ["access_decided:allow:read_tenant"]);
    assert_eq!(kinds["t3"], ["access_decided:allow:read_tenant"]);
    assert_eq!(kinds.len(), 2);
    // Nobody assigned: an empty list.
    let lonely = h.login_as("lonely@example.com", &[Role::Analyst], &[]).await;
    let reply = h.call("GET", "/v1/tenants", &lonely, None).await;
    assert_eq!(reply.body, json!({"tenants": []}));
}

#[tokio::test]
async fn contacts_are_sealed_at_rest_and_reads_are_counted() {
    let h = Harness::new();
    h.tenant("t1").await;
    let admin = h.login_as("admin@example.com", &[Role::Admin], &["t1"]).await;
    let analyst = h.login_as("an@example.com", &[Role::Analyst], &["t1"]).await;
    let mark = h.mark().await;
    let body = json!({"name": "Ada Lovelace", "email": "ada@client.example", "phone": "+44 20 7946 0958", "role": "marketing lead"});
    let reply = h.call("POST", "/v1/tenants/t1/contacts", &admin, Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let id = reply.body["contact"]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("ct-"));
    assert_eq!(h.kinds_since(&mark).await["t1"], ["access_decided:allow:manage_tenant", "tenant_changed"]);
    // The store holds ciphertext only.
    let stored = h.store.contacts(&tid("t1")).await.unwrap();
    assert_eq!(stored.len(), 1);
    let raw = stored[0].details.to_bytes();
    assert!(!String::from_utf8_lossy(&raw).contains("Ada"));
    assert!(!format!("{stored:?}").contains("ada@client.example"));

    let mark = h.mark().await;
    let read = h.call("GET", "/v1/tenants/t1/contacts", &analyst, None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(
        read.body["contacts"],
        json!([{"id": id, "name": "Ada Lovelace", "email": "ada@client.example", "phone": "+44 20 7946 0958", "role": "marketing lead"}])
    );
    assert_eq!(
        h.kinds_since(&mark).await["t1"],
        ["access_decided:allow:read_data:business_contact", "data_read:business_contact:1"]
    );
}

#[tokio::test]
async fn contacts_need_an_existing_tenant() {
    let h = Harness::new();
    let (_, key) = h.api_key(&["ghost"], &[Permission::TenantManage, Permission::DatasetRead]).await;
    let body = json!({"name": "Ada", "role": "lead"});
    let reply = h.call("POST", "/v1/tenants/ghost/contacts", &key, Some(body)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    let reply = h.call("GET", "/v1/tenants/ghost/contacts", &key, None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    assert!(h.store.contacts(&tid("ghost")).await.unwrap().is_empty());
    let _ = Auth::None;
}
