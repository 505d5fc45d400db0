//! Secrets stay secret: passwords, TOTP secrets, session tokens and API keys appear only in the one-time
//! reveal that created them, never in later responses, never in the logs (a tracing capture at TRACE
//! level), and never in the audit trail (style rules 23, 24, 26).

use std::io;
use std::sync::{Arc, Mutex, OnceLock};

use axum::http::StatusCode;
use serde_json::json;
use time::Duration;

use crate::support::{Auth, Harness, PASSWORD};

/// Everything the subscriber writes.
#[derive(Clone, Default)]
pub(crate) struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Capture {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// The process-wide TRACE subscriber writing into one buffer. Global, not scoped: a scoped dispatcher
/// misses events whose callsite interest other test threads cached before it was set. Every test's logs
/// land here; the secrets below are this test's own, so the others' lines cannot hide a leak.
pub(crate) fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        capture
    })
}

#[tokio::test]
async fn secrets_never_reach_responses_logs_or_the_audit_trail() {
    let capture = capture();
    let start = capture.len();

    let h = Harness::new();
    h.tenant("t1").await;
    let admin = h.init_admin("admin@example.com").await;
    let wrong_password = "Wrong-Secret-Pass-9";
    let second_password = "Another-Secret-77!";
    // Everything secret, and every response after the reveals.
    let mut secrets: Vec<String> =
        vec![PASSWORD.to_owned(), wrong_password.to_owned(), second_password.to_owned()];
    secrets.push(admin.secret_text.clone());
    let mut later = Vec::new();

    let failed = h
        .call(
            "POST",
            "/v1/auth/login",
            &Auth::None,
            Some(json!({"email": "admin@example.com", "password": wrong_password, "code": "000000"})),
        )
        .await;
    assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    later.push(failed.text);
    h.advance(Duration::seconds(30));
    let login = h.login(&admin).await;
    let token = login.body["token"].as_str().unwrap().to_owned();
    secrets.push(token.clone());
    let auth = Auth::Bearer(token);

    let created = h
        .call(
            "POST",
            "/v1/people",
            &auth,
            Some(json!({"email": "ana@example.com", "password": second_password, "roles": ["analyst"], "tenants": ["t1"]})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    secrets.push(created.body["totp"]["secret"].as_str().unwrap().to_owned());
    let access = json!({"roles": ["admin", "auditor"], "tenants": ["t1", "_system"]});
    assert_eq!(
        h.call("PUT", "/v1/people/admin@example.com/access", &auth, Some(access)).await.status,
        StatusCode::OK
    );
    let key = h
        .call(
            "POST",
            "/v1/api-keys",
            &auth,
            Some(json!({"name": "ci", "tenants": ["t1"], "permissions": ["tenant_read"]})),
        )
        .await;
    assert_eq!(key.status, StatusCode::CREATED, "{}", key.text);
    let key_secret = key.body["key"].as_str().unwrap().to_owned();
    secrets.push(key_secret.clone());
    let key_auth = Auth::ApiKey(key_secret);

    // A failed and a good step-up, reads with the key, bad inputs carrying secrets, then logout.
    let step = h.call("POST", "/v1/auth/step-up", &auth, Some(json!({"code": "99999x"}))).await;
    later.push(step.text);
    h.advance(Duration::seconds(30));
    let code = h.code(&admin.secret);
    later.push(h.call("POST", "/v1/auth/step-up", &auth, Some(json!({"code": code}))).await.text);
    later.push(h.call("GET", "/v1/tenants/t1", &key_auth, None).await.text);
    later.push(h.call("GET", "/v1/me", &key_auth, None).await.text);
    later.push(
        h.call(
            "POST",
            "/v1/people",
            &auth,
            Some(json!({"email": "x@example.com", "password": [second_password]})),
        )
        .await
        .text,
    );
    later.push(
        h.call(
            "POST",
            "/v1/people",
            &auth,
            Some(json!({"email": wrong_password, "password": wrong_password})),
        )
        .await
        .text,
    );
    for path in [
        "/v1/me",
        "/v1/people",
        "/v1/people/ana@example.com",
        "/v1/api-keys",
        "/v1/tenants",
        "/v1/tenants/t1/audit?limit=1000",
        "/v1/tenants/_system/audit?limit=1000",
    ] {
        let reply = h.call("GET", path, &auth, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
        later.push(reply.text);
    }
    later.push(h.call("POST", "/v1/auth/logout", &auth, None).await.text);

    let logs = capture.text();
    let ours = &logs[start.min(logs.len())..];
    assert!(ours.contains("request refused"), "the capture works: {ours}");
    assert!(ours.contains("invalid_credentials"));
    let audit = format!("{:?}", h.chains().await);
    let later = later.join("\n");
    for secret in &secrets {
        // The secret part of a token alone must not leak either.
        let tail = secret.rsplit('_').next().unwrap_or(secret);
        for needle in [secret.as_str(), tail] {
            assert!(!later.contains(needle), "a response leaks a secret");
            assert!(!logs.contains(needle), "the log leaks a secret");
            assert!(!audit.contains(needle), "the audit trail leaks a secret");
        }
    }
    assert!(!format!("{:?}", h.state).contains(PASSWORD));
}
