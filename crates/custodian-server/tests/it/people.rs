//! People (ACC-1..3): creation with a one-time TOTP reveal, role and tenant assignment, TOTP re-enrolment,
//! disabling, the last-admin guard, and the exact audit events of each.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use custodian_core::audit::AuditEvent;
use custodian_core::personnel::Role;
use custodian_core::personnel::totp::TotpSecret;
use secrecy::SecretString;
use serde_json::json;
use time::Duration;

use crate::support::{Auth, Enrolled, Harness, PASSWORD, pid};

/// The `change` text of the newest `personnel_changed` record.
fn last_change(h: &Harness) -> String {
    let records = h.system_records();
    match &records.last().unwrap().event {
        AuditEvent::PersonnelChanged(change) => change.change.clone(),
        other => panic!("not a personnel change: {other:?}"),
    }
}

fn kinds(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.iter().map(ToString::to_string).collect())).collect()
}

async fn admin() -> (Harness, Enrolled, Auth) {
    let h = Harness::new();
    h.tenant("t1").await;
    let admin = h.init_admin("admin@example.com").await;
    let auth = h.bearer(&admin).await;
    (h, admin, auth)
}

#[tokio::test]
async fn create_person_reveals_totp_once_and_the_person_can_log_in() {
    let (h, _, auth) = admin().await;
    let mark = h.mark().await;
    let body = json!({"email": "Ana@Example.com", "display_name": "Ana", "password": PASSWORD, "roles": ["analyst"], "tenants": ["t1"]});
    let reply = h.call("POST", "/v1/people", &auth, Some(body.clone())).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(
        reply.body["person"],
        json!({"id": "ana@example.com", "display_name": "Ana", "roles": ["analyst"], "tenants": ["t1"], "mfa_enrolled": true, "active": true})
    );
    let secret_text = reply.body["totp"]["secret"].as_str().unwrap().to_owned();
    let uri = reply.body["totp"]["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Custodian:ana%40example.com?secret="), "{uri}");
    assert!(uri.contains(&secret_text));
    assert_eq!(
        h.kinds_since(&mark).await,
        kinds(&[("_system", &["access_decided:allow:manage_personnel", "personnel_changed"])])
    );
    assert_eq!(last_change(&h), "created with roles [analyst] and tenants [t1]; totp enrolled");

    // Not shown again anywhere.
    for path in ["/v1/people", "/v1/people/ana@example.com"] {
        let r = h.call("GET", path, &auth, None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.text.contains(&secret_text));
        assert!(!r.text.contains("totp\""));
    }
    // The person logs in with the revealed secret.
    let ana = Enrolled {
        id: pid("ana@example.com"),
        email: "ana@example.com".to_owned(),
        secret: TotpSecret::from_base32(&SecretString::from(secret_text.clone())).unwrap(),
        secret_text,
    };
    let ana_auth = h.bearer(&ana).await;
    assert_eq!(h.call("GET", "/v1/tenants/t1", &ana_auth, None).await.status, StatusCode::OK);
    // Twice is a conflict, and nothing more is written than the decision.
    let mark = h.mark().await;
    let again = h.call("POST", "/v1/people", &auth, Some(body)).await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "conflict"));
    assert_eq!(h.kinds_since(&mark).await, kinds(&[("_system", &["access_decided:allow:manage_personnel"])]));
}

#[tokio::test]
async fn access_changes_are_audited_with_their_diff_acc1() {
    let (h, _, auth) = admin().await;
    h.person("bo@example.com", &[Role::Analyst], &["t1"]).await;
    let mark = h.mark().await;
    let body = json!({"roles": ["auditor", "analyst"], "tenants": ["t2"]});
    let reply = h.call("PUT", "/v1/people/bo@example.com/access", &auth, Some(body.clone())).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["person"]["roles"], json!(["analyst", "auditor"]));
    assert_eq!(reply.body["person"]["tenants"], json!(["t2"]));
    assert_eq!(last_change(&h), "roles: +auditor; tenants: +t2 -t1");
    assert_eq!(
        h.kinds_since(&mark).await,
        kinds(&[("_system", &["access_decided:allow:manage_personnel", "personnel_changed"])])
    );
    // The same again changes nothing and records only the decision.
    let mark = h.mark().await;
    assert_eq!(
        h.call("PUT", "/v1/people/bo@example.com/access", &auth, Some(body)).await.status,
        StatusCode::OK
    );
    assert_eq!(h.kinds_since(&mark).await, kinds(&[("_system", &["access_decided:allow:manage_personnel"])]));
    let missing = h
        .call("PUT", "/v1/people/nobody@example.com/access", &auth, Some(json!({"roles": [], "tenants": []})))
        .await;
    assert_eq!((missing.status, missing.code()), (StatusCode::NOT_FOUND, "not_found"));
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_or_disabled() {
    let (h, admin, auth) = admin().await;
    let demote = json!({"roles": ["auditor"], "tenants": []});
    let reply = h.call("PUT", "/v1/people/admin@example.com/access", &auth, Some(demote.clone())).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::CONFLICT, "conflict"));
    let reply = h.call("POST", "/v1/people/admin@example.com/disable", &auth, None).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::CONFLICT, "conflict"));
    assert!(reply.body["message"].as_str().unwrap().contains("yourself"));
    // With a second admin, the first may step down.
    h.person("second@example.com", &[Role::Admin], &[]).await;
    let reply = h.call("PUT", "/v1/people/admin@example.com/access", &auth, Some(demote)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let _ = admin;
}

#[tokio::test]
async fn disabled_people_lose_their_sessions_and_cannot_log_in() {
    let (h, _, auth) = admin().await;
    let bo = h.person("bo@example.com", &[Role::Analyst], &["t1"]).await;
    let bo_auth = Auth::Bearer(h.session(&bo, Some(h.now())).await);
    assert_eq!(h.call("GET", "/v1/tenants/t1", &bo_auth, None).await.status, StatusCode::OK);
    let mark = h.mark().await;
    let reply = h.call("POST", "/v1/people/bo@example.com/disable", &auth, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["person"]["active"], false);
    assert_eq!(
        h.kinds_since(&mark).await,
        kinds(&[("_system", &["access_decided:allow:manage_personnel", "personnel_changed"])])
    );
    let refused = h.call("GET", "/v1/tenants/t1", &bo_auth, None).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::UNAUTHORIZED, "unauthenticated"));
    let login = h
        .call(
            "POST",
            "/v1/auth/login",
            &Auth::None,
            Some(json!({"email": "bo@example.com", "password": custodian_testkit::fixtures::FIXTURE_PASSWORD, "code": "123456"})),
        )
        .await;
    assert_eq!(login.code(), "invalid_credentials");
    assert_eq!(
        crate::support::describe(&h.system_records().last().unwrap().event),
        "login_attempted:fail:person disabled"
    );
    // Disabling again is a no-op.
    let mark = h.mark().await;
    assert_eq!(h.call("POST", "/v1/people/bo@example.com/disable", &auth, None).await.status, StatusCode::OK);
    assert_eq!(h.kinds_since(&mark).await, kinds(&[("_system", &["access_decided:allow:manage_personnel"])]));
}

#[tokio::test]
async fn totp_re_enrolment_replaces_the_secret() {
    let (h, admin, auth) = admin().await;
    h.person("second@example.com", &[Role::Admin], &[]).await;
    let second = h.login_as("other-admin@example.com", &[Role::Admin], &[]).await;
    let mark = h.mark().await;
    let reply = h.call("POST", "/v1/people/admin@example.com/totp", &second, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        h.kinds_since(&mark).await,
        kinds(&[("_system", &["access_decided:allow:manage_personnel", "personnel_changed"])])
    );
    assert_eq!(last_change(&h), "totp secret replaced");
    let new_text = reply.body["totp"]["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_text, admin.secret_text);
    // The old secret no longer works, the new one does.
    h.advance(Duration::seconds(30));
    assert_eq!(h.login(&admin).await.status, StatusCode::UNAUTHORIZED);
    let renewed = Enrolled {
        secret: TotpSecret::from_base32(&SecretString::from(new_text.clone())).unwrap(),
        secret_text: new_text,
        ..admin
    };
    assert_eq!(h.login(&renewed).await.status, StatusCode::OK);
    let _ = auth;
}

#[tokio::test]
async fn init_refuses_a_second_admin_and_weak_passwords() {
    let h = Harness::new();
    let weak = custodian_server::init_admin(
        h.state.deps(),
        h.state.settings(),
        "a@example.com",
        &SecretString::from("weak"),
    )
    .await;
    assert!(matches!(weak, Err(custodian_server::InitError::WeakPassword(_))), "{weak:?}");
    let bad = custodian_server::init_admin(
        h.state.deps(),
        h.state.settings(),
        "no email",
        &SecretString::from(PASSWORD),
    )
    .await;
    assert!(matches!(bad, Err(custodian_server::InitError::InvalidEmail)), "{bad:?}");
    assert!(h.chains().await.is_empty());
    let first = h.init_admin("first@example.com").await;
    let records = h.system_records();
    assert_eq!(records.len(), 1);
    let AuditEvent::PersonnelChanged(change) = &records[0].event else { panic!() };
    assert_eq!(change.change, "created by init in production with role admin; totp enrolled");
    assert_eq!(records[0].actor, custodian_core::audit::ActorRef::System);
    let second = custodian_server::init_admin(
        h.state.deps(),
        h.state.settings(),
        "second@example.com",
        &SecretString::from(PASSWORD),
    )
    .await;
    assert!(matches!(second, Err(custodian_server::InitError::AdminExists)), "{second:?}");
    // The reveal's Debug hides the secret.
    let again = Harness::new();
    let revealed = custodian_server::init_admin(
        again.state.deps(),
        again.state.settings(),
        "x@example.com",
        &SecretString::from(PASSWORD),
    )
    .await
    .unwrap();
    let debug = format!("{revealed:?}");
    assert!(!debug.contains(secrecy::ExposeSecret::expose_secret(&revealed.totp_secret)));
    assert!(debug.contains("[REDACTED]"));
    let _ = first;
}

#[tokio::test]
async fn a_person_lists_their_sessions_and_signs_out_everywhere() {
    let (h, _, _) = admin().await;
    let bo = h.person("bo@example.com", &[Role::Analyst], &["t1"]).await;
    let phone = Auth::Bearer(h.session(&bo, Some(h.now())).await);
    h.advance(Duration::minutes(5));
    let laptop = Auth::Bearer(h.session(&bo, Some(h.now())).await);
    let ended = h.session(&bo, Some(h.now())).await;
    let ended = Auth::Bearer(ended);
    assert_eq!(h.call("POST", "/v1/auth/logout", &ended, None).await.status, StatusCode::NO_CONTENT);

    let listed = h.call("GET", "/v1/me/sessions", &laptop, None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let sessions = listed.body["sessions"].as_array().unwrap();
    // The logged-out one is gone; the newest first, the caller's marked; no token or hash anywhere.
    assert_eq!(sessions.len(), 2, "{}", listed.text);
    assert_eq!(sessions.iter().map(|s| s["current"].as_bool().unwrap()).collect::<Vec<_>>(), [true, false]);
    assert!(sessions[0]["created_at"].as_str().unwrap() > sessions[1]["created_at"].as_str().unwrap());
    for (session, auth) in sessions.iter().zip([&laptop, &phone]) {
        assert_eq!(session.as_object().unwrap().len(), 4, "{session}");
        let Auth::Bearer(token) = auth else { unreachable!() };
        assert!(!listed.text.contains(token.as_str()));
    }

    let mark = h.mark().await;
    let out = h.call("POST", "/v1/me/sessions/revoke", &laptop, None).await;
    assert_eq!((out.status, out.body["revoked"].as_u64()), (StatusCode::OK, Some(2)), "{}", out.text);
    assert_eq!(h.kinds_since(&mark).await, kinds(&[("_system", &["session_changed:signed_out_everywhere"])]));
    for auth in [&laptop, &phone] {
        let refused = h.call("GET", "/v1/me", auth, None).await;
        assert_eq!((refused.status, refused.code()), (StatusCode::UNAUTHORIZED, "unauthenticated"));
    }
    // API keys have no sessions.
    let (_, key) = h.api_key(&["t1"], &[custodian_core::personnel::Permission::DatasetRead]).await;
    for (method, path) in [("GET", "/v1/me/sessions"), ("POST", "/v1/me/sessions/revoke")] {
        let refused = h.call(method, path, &key, None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{method} {path}: {}", refused.text);
    }
}

#[tokio::test]
async fn an_admin_signs_a_person_out_everywhere_without_disabling_them() {
    let (h, _, auth) = admin().await;
    let bo = h.person("bo@example.com", &[Role::Analyst], &["t1"]).await;
    let cy = h.person("cy@example.com", &[Role::Analyst], &["t1"]).await;
    let bo_sessions = [
        Auth::Bearer(h.session(&bo, Some(h.now())).await),
        Auth::Bearer(h.session(&bo, Some(h.now())).await),
    ];
    let cy_session = Auth::Bearer(h.session(&cy, Some(h.now())).await);

    let listed = h.call("GET", "/v1/people/bo@example.com/sessions", &auth, None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let sessions = listed.body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert!(sessions.iter().all(|s| s["current"] == false), "{}", listed.text);

    let mark = h.mark().await;
    let out = h.call("POST", "/v1/people/bo@example.com/sessions/revoke", &auth, None).await;
    assert_eq!((out.status, out.body["revoked"].as_u64()), (StatusCode::OK, Some(2)), "{}", out.text);
    assert_eq!(
        h.kinds_since(&mark).await,
        kinds(&[(
            "_system",
            &["access_decided:allow:manage_personnel", "session_changed:signed_out_by_admin"]
        )])
    );
    for session in &bo_sessions {
        assert_eq!(h.call("GET", "/v1/tenants/t1", session, None).await.status, StatusCode::UNAUTHORIZED);
    }
    // Another person keeps their session; bo stays active and may log in again.
    assert_eq!(h.call("GET", "/v1/tenants/t1", &cy_session, None).await.status, StatusCode::OK);
    let person = h.call("GET", "/v1/people/bo@example.com", &auth, None).await;
    assert_eq!(person.body["person"]["active"], true);
    let again = h.call("POST", "/v1/people/bo@example.com/sessions/revoke", &auth, None).await;
    assert_eq!(again.body["revoked"].as_u64(), Some(0), "{}", again.text);

    // An unknown person is 404; someone without `personnel_manage` is 403 and ends nothing.
    let missing = h.call("GET", "/v1/people/nobody@example.com/sessions", &auth, None).await;
    assert_eq!((missing.status, missing.code()), (StatusCode::NOT_FOUND, "not_found"));
    let refused = h.call("POST", "/v1/people/cy@example.com/sessions/revoke", &cy_session, None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert_eq!(h.call("GET", "/v1/tenants/t1", &cy_session, None).await.status, StatusCode::OK);
}
