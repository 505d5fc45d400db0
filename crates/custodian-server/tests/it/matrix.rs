//! Every authenticated endpoint against every way a request should fail: no or bad credentials (401),
//! a role without the permission (403, ACC-1), another tenant (404 that says nothing, SEG-1/ACC-1), no or
//! stale MFA (403 `mfa_required`, ACC-2), an unsafe production configuration (403, ENV-1), and the
//! allowed case. Each case runs on a fresh harness and also checks what reached the audit trail.

use axum::http::StatusCode;
use custodian_core::personnel::{ApiKeyId, Permission, Role};
use serde_json::{Value, json};
use time::Duration;

use crate::support::{Auth, Harness, PASSWORD, Reply};

/// One endpoint: `{t}` in the path stands for the tenant, `{person}` and `{key}` for fixtures.
#[derive(Debug, Clone)]
struct Endpoint {
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
    /// A role whose permissions allow the request.
    role: Role,
    /// The status of the allowed request.
    ok: StatusCode,
}

fn endpoints() -> Vec<Endpoint> {
    let e = |method, path, body: Option<Value>, role, ok| Endpoint { method, path, body, role, ok };
    vec![
        e("GET", "/v1/people", None, Role::Admin, StatusCode::OK),
        e(
            "POST",
            "/v1/people",
            Some(
                json!({"email": "new@example.com", "password": PASSWORD, "roles": ["analyst"], "tenants": ["t1"]}),
            ),
            Role::Admin,
            StatusCode::CREATED,
        ),
        e("GET", "/v1/people/{person}", None, Role::Admin, StatusCode::OK),
        e(
            "PUT",
            "/v1/people/{person}/access",
            Some(json!({"roles": ["auditor"], "tenants": ["t1"]})),
            Role::Admin,
            StatusCode::OK,
        ),
        e("POST", "/v1/people/{person}/totp", None, Role::Admin, StatusCode::OK),
        e("POST", "/v1/people/{person}/disable", None, Role::Admin, StatusCode::OK),
        e("GET", "/v1/people/{person}/sessions", None, Role::Admin, StatusCode::OK),
        e("POST", "/v1/people/{person}/sessions/revoke", None, Role::Admin, StatusCode::OK),
        e("GET", "/v1/api-keys", None, Role::Admin, StatusCode::OK),
        e(
            "POST",
            "/v1/api-keys",
            Some(json!({"name": "reporting", "tenants": ["t1"], "permissions": ["tenant_read"]})),
            Role::Admin,
            StatusCode::CREATED,
        ),
        e("DELETE", "/v1/api-keys/{key}", None, Role::Admin, StatusCode::OK),
        e("POST", "/v1/tenants", Some(json!({"id": "t9", "name": "Nine"})), Role::Admin, StatusCode::CREATED),
        e("GET", "/v1/tenants", None, Role::Analyst, StatusCode::OK),
        e("GET", "/v1/tenants/{t}", None, Role::Analyst, StatusCode::OK),
        e(
            "POST",
            "/v1/tenants/{t}/contacts",
            Some(json!({"name": "Ada Client", "email": "ada@client.example", "role": "marketing lead"})),
            Role::Admin,
            StatusCode::CREATED,
        ),
        e("GET", "/v1/tenants/{t}/contacts", None, Role::Analyst, StatusCode::OK),
        e("GET", "/v1/tenants/{t}/audit", None, Role::Auditor, StatusCode::OK),
        e("POST", "/v1/tenants/{t}/audit/verify", None, Role::Auditor, StatusCode::OK),
    ]
}

/// A harness with tenants `t1` and `t2`, a person to act on and an API key to revoke.
struct Setup {
    h: Harness,
    person: String,
    key: ApiKeyId,
}

async fn setup(h: Harness) -> Setup {
    h.tenant("t1").await;
    h.tenant("t2").await;
    let person = h.person("target@example.com", &[Role::Analyst], &["t1"]).await;
    let (key, _) = h.api_key(&["t1"], &[Permission::TenantRead]).await;
    Setup { h, person: person.as_str().to_owned(), key }
}

impl Setup {
    fn path(&self, endpoint: &Endpoint, tenant: &str) -> String {
        endpoint
            .path
            .replace("{t}", tenant)
            .replace("{person}", &self.person)
            .replace("{key}", self.key.as_str())
    }

    async fn send(&self, endpoint: &Endpoint, tenant: &str, auth: &Auth) -> Reply {
        self.h.call(endpoint.method, &self.path(endpoint, tenant), auth, endpoint.body.clone()).await
    }
}

fn tenant_scoped(endpoint: &Endpoint) -> bool {
    endpoint.path.contains("{t}")
}

#[track_caller]
fn check(reply: &Reply, endpoint: &Endpoint, status: StatusCode, code: &str) {
    assert_eq!(
        (reply.status, reply.code()),
        (status, code),
        "{} {}: {}",
        endpoint.method,
        endpoint.path,
        reply.text
    );
}

#[tokio::test]
async fn allowed_with_a_role_that_holds_the_permission() {
    for endpoint in endpoints() {
        let s = setup(Harness::new()).await;
        let auth = s.h.login_as("actor@example.com", &[endpoint.role], &["t1"]).await;
        let reply = s.send(&endpoint, "t1", &auth).await;
        assert_eq!(reply.status, endpoint.ok, "{} {}: {}", endpoint.method, endpoint.path, reply.text);
    }
}

#[tokio::test]
async fn unauthenticated_is_401_and_audits_nothing() {
    for endpoint in endpoints() {
        let s = setup(Harness::new()).await;
        let session = s.h.session(&crate::support::pid("target@example.com"), Some(s.h.now())).await;
        let unknown =
            "cus_session_aaaaaaaaaaaaaaaaaaaaaaaaaa_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let cases = [
            Auth::None,
            Auth::Raw("Bearer".to_owned()),
            Auth::Raw("Bearer not-a-token".to_owned()),
            Auth::Raw(format!("Basic {session}")),
            Auth::Bearer(unknown.to_owned()),
            // The right token under the wrong scheme.
            Auth::ApiKey(session.clone()),
        ];
        let mark = s.h.mark().await;
        for auth in cases {
            let reply = s.send(&endpoint, "t1", &auth).await;
            check(&reply, &endpoint, StatusCode::UNAUTHORIZED, "unauthenticated");
            assert_eq!(reply.headers.get("www-authenticate").unwrap(), "Bearer");
        }
        assert!(s.h.since(&mark).await.is_empty(), "{} {}", endpoint.method, endpoint.path);
    }
}

#[tokio::test]
async fn expired_revoked_or_disabled_credentials_are_401() {
    let s = setup(Harness::new()).await;
    let endpoint = Endpoint {
        method: "GET",
        path: "/v1/tenants/{t}",
        body: None,
        role: Role::Analyst,
        ok: StatusCode::OK,
    };
    let person = s.h.person("someone@example.com", &[Role::Analyst], &["t1"]).await;
    let session = Auth::Bearer(s.h.session(&person, Some(s.h.now())).await);
    let (_, key) = s.h.api_key(&["t1"], &[Permission::TenantRead]).await;
    check(&s.send(&endpoint, "t1", &session).await, &endpoint, StatusCode::OK, "");
    check(&s.send(&endpoint, "t1", &key).await, &endpoint, StatusCode::OK, "");
    // Sessions last 12 hours, API keys 30 days here.
    s.h.advance(Duration::hours(12));
    check(&s.send(&endpoint, "t1", &session).await, &endpoint, StatusCode::UNAUTHORIZED, "unauthenticated");
    s.h.advance(Duration::days(30));
    check(&s.send(&endpoint, "t1", &key).await, &endpoint, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn a_role_without_the_permission_is_403() {
    for endpoint in endpoints() {
        let s = setup(Harness::new()).await;
        // No roles at all: every permission is missing. Assigned to t1, so tenant-scoped answers are 403.
        let auth = s.h.login_as("actor@example.com", &[], &["t1"]).await;
        let mark = s.h.mark().await;
        let reply = s.send(&endpoint, "t1", &auth).await;
        check(&reply, &endpoint, StatusCode::FORBIDDEN, "forbidden");
        // The denial is audited (AUTH-7) and nothing else happened.
        let kinds: Vec<String> = s.h.kinds_since(&mark).await.into_values().flatten().collect();
        assert!(!kinds.is_empty(), "{} {}: denial not audited", endpoint.method, endpoint.path);
        assert!(kinds.iter().all(|k| k.starts_with("access_decided:deny:")), "{kinds:?}");
    }
}

#[tokio::test]
async fn roles_are_least_privilege() {
    // (endpoint path, method, a role that lacks the permission)
    let cases = [
        ("GET", "/v1/people", Role::Analyst),
        ("GET", "/v1/api-keys", Role::SecurityOfficer),
        ("GET", "/v1/tenants/{t}/contacts", Role::Admin),
        ("GET", "/v1/tenants/{t}/audit", Role::Analyst),
        ("POST", "/v1/tenants/{t}/audit/verify", Role::Fulfillment),
        ("POST", "/v1/tenants/{t}/contacts", Role::AccountManager),
    ];
    for (method, path, role) in cases {
        let endpoint = endpoints().into_iter().find(|e| e.method == method && e.path == path).unwrap();
        let s = setup(Harness::new()).await;
        let auth = s.h.login_as("actor@example.com", &[role], &["t1"]).await;
        check(&s.send(&endpoint, "t1", &auth).await, &endpoint, StatusCode::FORBIDDEN, "forbidden");
    }
}

#[tokio::test]
async fn another_tenant_is_a_404_that_leaks_nothing() {
    for endpoint in endpoints().into_iter().filter(tenant_scoped) {
        let s = setup(Harness::new()).await;
        let auth = s.h.login_as("actor@example.com", &[endpoint.role], &["t1"]).await;
        let existing = s.send(&endpoint, "t2", &auth).await;
        let missing = s.send(&endpoint, "no-such-tenant", &auth).await;
        check(&existing, &endpoint, StatusCode::NOT_FOUND, "not_found");
        // A tenant that exists and one that does not answer byte for byte the same.
        assert_eq!(existing.text, missing.text);
        assert_eq!(existing.body, json!({"code": "not_found", "message": "not found"}));
        // Nothing of t2 was touched but the denial in its own chain.
        let after = s.h.store.audit_records(&crate::support::tid("t2"));
        assert!(after.iter().all(|r| crate::support::describe(&r.event).starts_with("access_decided:deny:")));
    }
}

#[tokio::test]
async fn an_api_key_outside_its_tenants_gets_404() {
    for endpoint in endpoints().into_iter().filter(tenant_scoped) {
        let s = setup(Harness::new()).await;
        let (_, key) = s.h.api_key(&["t1"], &Permission::ALL).await;
        let reply = s.send(&endpoint, "t2", &key).await;
        check(&reply, &endpoint, StatusCode::NOT_FOUND, "not_found");
    }
}

#[tokio::test]
async fn missing_or_stale_mfa_is_403_mfa_required() {
    for endpoint in endpoints() {
        let s = setup(Harness::new()).await;
        let person = s.h.person("actor@example.com", &[endpoint.role], &["t1"]).await;
        // Never verified, and verified longer ago than the 12 hour session MFA window (ACC-2).
        for verified in [None, Some(s.h.now() - Duration::hours(13))] {
            let auth = Auth::Bearer(s.h.session(&person, verified).await);
            let reply = s.send(&endpoint, "t1", &auth).await;
            check(&reply, &endpoint, StatusCode::FORBIDDEN, "mfa_required");
        }
    }
}

#[tokio::test]
async fn env1_production_with_a_violation_denies_every_action() {
    for endpoint in endpoints() {
        let h = Harness::with(
            |s| s.environment_violations = vec!["the keystore master key is generated locally".to_owned()],
            |_| {},
        );
        let s = setup(h).await;
        let auth = s.h.login_as("actor@example.com", &[endpoint.role], &["t1"]).await;
        let mark = s.h.mark().await;
        let reply = s.send(&endpoint, "t1", &auth).await;
        check(&reply, &endpoint, StatusCode::FORBIDDEN, "forbidden");
        let denied: Vec<_> = s.h.since(&mark).await.into_values().flatten().collect();
        assert!(!denied.is_empty());
        for record in denied {
            let custodian_core::audit::AuditEvent::AccessDecided(e) = &record.event else {
                panic!("unexpected event {:?}", record.event)
            };
            assert!(!e.allowed);
            assert!(e.reasons.iter().any(|r| r.starts_with("ENV-1")), "{:?}", e.reasons);
        }
    }
}
