//! Login with password and TOTP (ACC-2, ACC-3), one answer for every failure (no user enumeration),
//! lockout, session expiry and logout, step-up, and their audit events.

use axum::http::StatusCode;
use custodian_core::audit::AuditEvent;
use custodian_core::personnel::Role;
use serde_json::json;
use time::Duration;

use crate::support::{Auth, Harness, PASSWORD, Reply, describe};

async fn login_with(h: &Harness, email: &str, password: &str, code: Option<&str>) -> Reply {
    let body = match code {
        Some(code) => json!({"email": email, "password": password, "code": code}),
        None => json!({"email": email, "password": password}),
    };
    h.call("POST", "/v1/auth/login", &Auth::None, Some(body)).await
}

/// The login and session events appended since `mark`, as `login_attempted:<ok|fail>:<reason>` and
/// `session_changed:<change>`.
async fn login_events(
    h: &Harness,
    mark: &std::collections::BTreeMap<custodian_core::tenant::TenantId, usize>,
) -> Vec<String> {
    h.kinds_since(mark).await.remove("_system").unwrap_or_default()
}

#[tokio::test]
async fn login_with_password_and_totp_issues_a_session_acc2() {
    let h = Harness::new();
    let admin = h.init_admin("Admin@Example.com").await;
    assert_eq!(admin.id.as_str(), "admin@example.com");
    h.advance(Duration::seconds(30));
    let mark = h.mark().await;
    let reply = h.login(&admin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let token = reply.body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("cus_session_"));
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["person"]["roles"], json!(["admin"]));
    assert_eq!(reply.headers.get("cache-control").unwrap(), "no-store");
    assert_eq!(login_events(&h, &mark).await, ["login_attempted:ok:password and totp"]);
    // The session works, and the store holds only its hash.
    let me = h.call("GET", "/v1/me", &Auth::Bearer(token.clone()), None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["kind"], "person");
    assert_eq!(me.body["person"]["id"], "admin@example.com");
    assert!(!me.text.contains(&token));
    assert!(!format!("{:?}", h.chains().await).contains(&token));
}

#[tokio::test]
async fn every_login_failure_answers_the_same() {
    let h = Harness::new();
    let admin = h.init_admin("admin@example.com").await;
    h.advance(Duration::seconds(30));
    let good = h.code(&admin.secret);
    let wrong_code = if good == "000000" { "111111" } else { "000000" };
    let mut replies = Vec::new();
    replies.push(login_with(&h, "nobody@example.com", PASSWORD, Some(&good)).await);
    replies.push(login_with(&h, "not an email", PASSWORD, Some(&good)).await);
    replies.push(login_with(&h, "admin@example.com", "Wrong-Password-1", Some(&good)).await);
    replies.push(login_with(&h, "admin@example.com", PASSWORD, Some(wrong_code)).await);
    replies.push(login_with(&h, "admin@example.com", PASSWORD, None).await);
    replies.push(login_with(&h, "admin@example.com", PASSWORD, Some("12ab56")).await);
    let first = replies[0].clone();
    assert_eq!((first.status, first.code()), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
    for reply in &replies {
        assert_eq!((reply.status, &reply.text), (first.status, &first.text));
    }
    // A replayed code: accepted once, refused the second time with the same answer.
    assert_eq!(login_with(&h, "admin@example.com", PASSWORD, Some(&good)).await.status, StatusCode::OK);
    let replay = login_with(&h, "admin@example.com", PASSWORD, Some(&good)).await;
    assert_eq!(replay.text, first.text);
    let reasons: Vec<String> =
        h.system_records().iter().map(|r| describe(&r.event)).filter(|d| d.starts_with("login")).collect();
    assert_eq!(
        reasons,
        [
            "login_attempted:fail:unknown person",
            "login_attempted:fail:unknown person",
            "login_attempted:fail:wrong password",
            "login_attempted:fail:wrong mfa code",
            "login_attempted:fail:mfa code missing",
            "login_attempted:fail:wrong mfa code",
            "login_attempted:ok:password and totp",
            "login_attempted:fail:mfa code replayed",
        ]
    );
    // The typed email of an unknown person is never recorded.
    assert!(!format!("{:?}", h.system_records()).contains("nobody@example.com"));
}

#[tokio::test]
async fn lockout_after_repeated_failures_then_unlock() {
    let h = Harness::with(
        |_| {},
        |s| {
            s.lockout_after = 3;
            s.lockout_minutes = 10;
        },
    );
    let admin = h.init_admin("admin@example.com").await;
    let mark = h.mark().await;
    for _ in 0..3 {
        let reply = login_with(&h, "admin@example.com", "Wrong-Password-1", None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    // Locked: the right password and code are refused, with the same answer.
    h.advance(Duration::seconds(30));
    let locked = h.login(&admin).await;
    assert_eq!((locked.status, locked.code()), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
    assert_eq!(
        login_events(&h, &mark).await,
        [
            "login_attempted:fail:wrong password",
            "login_attempted:fail:wrong password",
            "login_attempted:fail:wrong password; account locked for 10 minutes",
            "login_attempted:fail:account locked",
        ]
    );
    h.advance(Duration::minutes(10));
    assert_eq!(h.login(&admin).await.status, StatusCode::OK);
}

#[tokio::test]
async fn sessions_expire_and_logout_revokes() {
    let h = Harness::with(|_| {}, |s| s.session_ttl_minutes = 60);
    let admin = h.init_admin("admin@example.com").await;
    let auth = h.bearer(&admin).await;
    assert_eq!(h.call("GET", "/v1/me", &auth, None).await.status, StatusCode::OK);
    h.advance(Duration::minutes(60));
    let expired = h.call("GET", "/v1/me", &auth, None).await;
    assert_eq!((expired.status, expired.code()), (StatusCode::UNAUTHORIZED, "unauthenticated"));

    let auth = h.bearer(&admin).await;
    let mark = h.mark().await;
    let reply = h.call("POST", "/v1/auth/logout", &auth, None).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(login_events(&h, &mark).await, ["session_changed:logout"]);
    assert_eq!(h.call("GET", "/v1/me", &auth, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.call("POST", "/v1/auth/logout", &auth, None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn step_up_refreshes_a_stale_mfa_verification_acc2() {
    let h = Harness::with(|_| {}, |s| s.session_ttl_minutes = 24 * 60);
    let admin = h.init_admin("admin@example.com").await;
    let auth = h.bearer(&admin).await;
    assert_eq!(h.call("GET", "/v1/people", &auth, None).await.status, StatusCode::OK);
    // Past the 12 hour session MFA window: the session lives, its MFA does not.
    h.advance(Duration::hours(13));
    let stale = h.call("GET", "/v1/people", &auth, None).await;
    assert_eq!((stale.status, stale.code()), (StatusCode::FORBIDDEN, "mfa_required"));
    let mark = h.mark().await;
    let code = h.code(&admin.secret);
    let reply = h.call("POST", "/v1/auth/step-up", &auth, Some(json!({"code": code}))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(login_events(&h, &mark).await, ["session_changed:step_up"]);
    let me = h.call("GET", "/v1/me", &auth, None).await;
    assert_eq!(me.body["session"]["mfa_verified_at"], reply.body["mfa_verified_at"]);
    assert_eq!(h.call("GET", "/v1/people", &auth, None).await.status, StatusCode::OK);
    // The same code again is a replay.
    let replay = h.call("POST", "/v1/auth/step-up", &auth, Some(json!({"code": code}))).await;
    assert_eq!((replay.status, replay.code()), (StatusCode::FORBIDDEN, "mfa_code_rejected"));
}

#[tokio::test]
async fn failed_step_ups_lock_the_account_and_end_the_session() {
    let h = Harness::with(|_| {}, |s| s.lockout_after = 2);
    let admin = h.init_admin("admin@example.com").await;
    let auth = h.bearer(&admin).await;
    let good = h.code(&admin.secret);
    let wrong = if good == "000000" { "111111" } else { "000000" };
    for _ in 0..2 {
        let reply = h.call("POST", "/v1/auth/step-up", &auth, Some(json!({"code": wrong}))).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::FORBIDDEN, "mfa_code_rejected"));
    }
    assert_eq!(h.call("GET", "/v1/me", &auth, None).await.status, StatusCode::UNAUTHORIZED);
    let events: Vec<String> = h.system_records().iter().rev().take(3).map(|r| describe(&r.event)).collect();
    assert_eq!(
        events,
        [
            "session_changed:revoked_after_lockout",
            "login_attempted:fail:step-up: wrong mfa code; account locked for 15 minutes",
            "login_attempted:fail:step-up: wrong mfa code",
        ]
    );
}

#[tokio::test]
async fn api_keys_cannot_log_out_or_step_up() {
    let h = Harness::new();
    h.tenant("t1").await;
    let (_, key) = h.api_key(&["t1"], &[custodian_core::personnel::Permission::TenantRead]).await;
    for path in ["/v1/auth/logout", "/v1/auth/step-up"] {
        let reply = h.call("POST", path, &key, Some(json!({"code": "123456"}))).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::FORBIDDEN, "forbidden"), "{path}");
    }
    let me = h.call("GET", "/v1/me", &key, None).await;
    assert_eq!(me.body["kind"], "api_key");
    assert_eq!(me.body["api_key"]["permissions"], json!(["tenant_read"]));
}

#[tokio::test]
async fn without_mfa_required_a_person_without_totp_logs_in_with_the_password() {
    let h = Harness::with(
        |s| {
            s.environment = custodian_core::authz::Environment::Development;
            s.mfa_required = false;
        },
        |_| {},
    );
    h.person("dev@example.com", &[Role::Analyst], &[]).await;
    let reply = login_with(&h, "dev@example.com", custodian_testkit::fixtures::FIXTURE_PASSWORD, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["mfa_verified_at"], serde_json::Value::Null);
    // Someone with TOTP enrolled still needs the code.
    let admin = h.init_admin("admin@example.com").await;
    assert_eq!(login_with(&h, "admin@example.com", PASSWORD, None).await.status, StatusCode::UNAUTHORIZED);
    h.advance(Duration::seconds(30));
    assert_eq!(h.login(&admin).await.status, StatusCode::OK);
}

#[tokio::test]
async fn with_mfa_required_a_person_without_totp_cannot_log_in() {
    let h = Harness::new();
    h.person("nototp@example.com", &[Role::Analyst], &[]).await;
    let reply =
        login_with(&h, "nototp@example.com", custodian_testkit::fixtures::FIXTURE_PASSWORD, Some("123456"))
            .await;
    assert_eq!((reply.status, reply.code()), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
    let last = h.system_records().last().map(|r| describe(&r.event));
    assert_eq!(last.as_deref(), Some("login_attempted:fail:mfa not enrolled"));
    assert!(matches!(h.system_records().last().map(|r| &r.event), Some(AuditEvent::LoginAttempted(_))));
}
