//! Bad bodies: 400 for malformed JSON, 413 over `security.max_body_bytes`, 415 for another content type,
//! 422 for a wrong shape or an unacceptable value (ACC-3 passwords, MIN-3 intake) — and in every case
//! nothing is stored, not even an audit record. Error messages never echo a submitted value.

use axum::http::StatusCode;
use custodian_core::personnel::Role;
use custodian_core::ports::{PersonnelStore, TenantStore};
use serde_json::{Value, json};

use crate::support::{Auth, Harness, PASSWORD};

/// A harness with a 4 KiB body limit, tenants `t1`, an admin session with `t1`, and a person to act on.
async fn setup() -> (Harness, Auth) {
    let h = Harness::with(|_| {}, |s| s.max_body_bytes = 4096);
    h.tenant("t1").await;
    h.person("target@example.com", &[Role::Analyst], &["t1"]).await;
    let auth = h.login_as("admin@example.com", &[Role::Admin], &["t1"]).await;
    (h, auth)
}

/// What is stored: audit records per chain, people, API keys, tenants, contacts of t1.
async fn snapshot(h: &Harness) -> (Vec<usize>, usize, usize, usize, usize) {
    let chains = h.chains().await.values().map(Vec::len).collect();
    let people = h.store.people().await.unwrap().len();
    let keys = h.store.api_keys().await.unwrap().len();
    let tenants = h.store.tenants().await.unwrap().len();
    let contacts = h.store.contacts(&crate::support::tid("t1")).await.unwrap().len();
    (chains, people, keys, tenants, contacts)
}

/// Every endpoint that takes a body, with a valid body for it.
fn body_endpoints() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        ("POST", "/v1/auth/login", json!({"email": "a@example.com", "password": PASSWORD, "code": "123456"})),
        ("POST", "/v1/auth/step-up", json!({"code": "123456"})),
        (
            "POST",
            "/v1/people",
            json!({"email": "new@example.com", "password": PASSWORD, "roles": ["analyst"]}),
        ),
        ("PUT", "/v1/people/target@example.com/access", json!({"roles": [], "tenants": []})),
        ("POST", "/v1/api-keys", json!({"name": "k", "tenants": ["t1"], "permissions": ["tenant_read"]})),
        ("POST", "/v1/tenants", json!({"id": "t5", "name": "Five"})),
        ("POST", "/v1/tenants/t1/contacts", json!({"name": "Ada", "role": "lead"})),
    ]
}

#[track_caller]
fn check(reply: &crate::support::Reply, status: StatusCode, code: &str, what: &str) {
    assert_eq!((reply.status, reply.code()), (status, code), "{what}: {}", reply.text);
}

#[tokio::test]
async fn malformed_oversized_and_non_json_bodies_store_nothing() {
    let (h, auth) = setup().await;
    for (method, path, valid) in body_endpoints() {
        let before = snapshot(&h).await;
        let what = format!("{method} {path}");
        let json = "application/json";
        let r = h.raw(method, path, &auth, json, b"{\"".to_vec()).await;
        check(&r, StatusCode::BAD_REQUEST, "bad_request", &what);
        let mut trailing = serde_json::to_vec(&valid).unwrap();
        trailing.extend_from_slice(b" {}");
        let r = h.raw(method, path, &auth, json, trailing).await;
        check(&r, StatusCode::BAD_REQUEST, "bad_request", &what);
        let r = h.raw(method, path, &auth, "text/plain", serde_json::to_vec(&valid).unwrap()).await;
        check(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", &what);
        let mut big = valid.clone();
        big["padding"] = Value::String("x".repeat(5000));
        let r = h.raw(method, path, &auth, json, serde_json::to_vec(&big).unwrap()).await;
        check(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", &what);
        let r = h.raw(method, path, &auth, json, b"[1, 2]".to_vec()).await;
        check(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", &what);
        let mut unknown = valid.clone();
        unknown["unexpected"] = json!(1);
        let r = h.call(method, path, &auth, Some(unknown)).await;
        check(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", &what);
        assert!(r.text.contains("unknown field"), "{}", r.text);
        assert_eq!(snapshot(&h).await, before, "{what} stored something");
    }
}

#[tokio::test]
async fn invalid_values_are_422_store_nothing_and_echo_nothing() {
    let (h, auth) = setup().await;
    let secret_like = "S3cret-Value-That-Must-Not-Echo";
    // (method, path, body, code, what the message must say)
    let cases: Vec<(&str, &str, Value, &str, &str)> = vec![
        (
            "POST",
            "/v1/people",
            json!({"email": "not-an-email", "password": PASSWORD}),
            "invalid_input",
            "email",
        ),
        (
            "POST",
            "/v1/people",
            json!({"email": "x@example.com", "password": "short"}),
            "weak_password",
            "12 characters",
        ),
        (
            "POST",
            "/v1/people",
            json!({"email": "x@example.com", "password": "alllowercaseletters"}),
            "weak_password",
            "at least 3 of",
        ),
        (
            "POST",
            "/v1/people",
            json!({"email": "x@example.com", "password": PASSWORD, "roles": ["root"]}),
            "invalid_input",
            "role",
        ),
        (
            "POST",
            "/v1/people",
            json!({"email": "x@example.com", "password": PASSWORD, "tenants": ["a b"]}),
            "invalid_input",
            "tenants",
        ),
        (
            "POST",
            "/v1/people",
            json!({"email": "x@example.com", "password": 12345}),
            "invalid_input",
            "password",
        ),
        ("POST", "/v1/people", json!({"email": "x@example.com"}), "invalid_input", "password"),
        (
            "POST",
            "/v1/people",
            json!({"email": secret_like, "password": [secret_like]}),
            "invalid_input",
            "password",
        ),
        (
            "PUT",
            "/v1/people/target@example.com/access",
            json!({"roles": ["superuser"], "tenants": []}),
            "invalid_input",
            "role",
        ),
        (
            "POST",
            "/v1/api-keys",
            json!({"name": "", "tenants": ["t1"], "permissions": ["tenant_read"]}),
            "invalid_input",
            "name",
        ),
        (
            "POST",
            "/v1/api-keys",
            json!({"name": "k", "tenants": [], "permissions": ["tenant_read"]}),
            "invalid_input",
            "must not be empty",
        ),
        (
            "POST",
            "/v1/api-keys",
            json!({"name": "k", "tenants": ["t1"], "permissions": ["everything"]}),
            "invalid_input",
            "permission",
        ),
        (
            "POST",
            "/v1/api-keys",
            json!({"name": "k", "tenants": ["t1"], "permissions": ["tenant_read"], "expires_in_days": 0}),
            "invalid_input",
            "expires_in_days",
        ),
        (
            "POST",
            "/v1/api-keys",
            json!({"name": "k", "tenants": ["t1"], "permissions": ["tenant_read"], "expires_in_days": 5000}),
            "invalid_input",
            "expires_in_days",
        ),
        ("POST", "/v1/tenants", json!({"id": "_system", "name": "System"}), "invalid_input", "reserved"),
        ("POST", "/v1/tenants", json!({"id": "t 5", "name": "Five"}), "invalid_input", "id"),
        ("POST", "/v1/tenants", json!({"id": "t5", "name": "  "}), "invalid_input", "name"),
        (
            "POST",
            "/v1/tenants",
            json!({"id": "t5", "name": "Five", "retention_days": {"reporting_dataset": 0}}),
            "invalid_input",
            "retention",
        ),
        (
            "POST",
            "/v1/tenants",
            json!({"id": "t5", "name": "Five", "retention_days": {"secrets": 10}}),
            "invalid_input",
            "retention",
        ),
        ("POST", "/v1/tenants/t1/contacts", json!({"name": "", "role": "lead"}), "invalid_input", "name"),
        (
            "POST",
            "/v1/tenants/t1/contacts",
            json!({"name": "Ada", "role": "x".repeat(201)}),
            "invalid_input",
            "role",
        ),
        // MIN-3: card numbers in any field are refused and not echoed.
        (
            "POST",
            "/v1/tenants/t1/contacts",
            json!({"name": "Ada", "role": "card 4111 1111 1111 1111"}),
            "intake_rejected",
            "card number",
        ),
        (
            "POST",
            "/v1/tenants/t1/contacts",
            json!({"name": "Ada 4111-1111-1111-1111", "role": "lead"}),
            "intake_rejected",
            "card number",
        ),
        (
            "POST",
            "/v1/tenants/t1/contacts",
            json!({"name": "Ada", "phone": "5500000000000004", "role": "lead"}),
            "intake_rejected",
            "card number",
        ),
    ];
    for (method, path, body, code, says) in cases {
        let before = snapshot(&h).await;
        let reply = h.call(method, path, &auth, Some(body.clone())).await;
        let what = format!("{method} {path} {body}");
        check(&reply, StatusCode::UNPROCESSABLE_ENTITY, code, &what);
        assert!(reply.body["message"].as_str().unwrap().contains(says), "{what}: {}", reply.text);
        for forbidden in [secret_like, "4111", "5500000000000004", "alllowercaseletters", "short\""] {
            assert!(!reply.text.contains(forbidden), "{what} echoed `{forbidden}`: {}", reply.text);
        }
        assert_eq!(snapshot(&h).await, before, "{what} stored something");
    }
}

#[tokio::test]
async fn bad_query_and_path_parameters_are_400_json() {
    let (h, _) = setup().await;
    let auditor = h.login_as("auditor@example.com", &[Role::Auditor], &["t1"]).await;
    let before = snapshot(&h).await;
    for path in
        ["/v1/tenants/t1/audit?limit=ten", "/v1/tenants/t1/audit?from_seq=-1", "/v1/tenants/t1/audit?bogus=1"]
    {
        let reply = h.call("GET", path, &auditor, None).await;
        check(&reply, StatusCode::BAD_REQUEST, "bad_request", path);
    }
    assert_eq!(snapshot(&h).await, before);
    let reply = h.call("GET", "/v1/tenants/t1/audit?limit=5000", &auditor, None).await;
    check(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", "limit");
}
