//! Unit tests of the wire types: bodies holding secrets print none of them (style rule 24), timestamps.

use time::macros::datetime;

use super::*;

#[test]
fn bodies_with_secrets_do_not_print_them() {
    let login: LoginBody = serde_json::from_str(
        r#"{"email": "a@example.com", "password": "Hunter2-Secret!", "code": "123456"}"#,
    )
    .unwrap();
    let person: CreatePersonBody = serde_json::from_str(
        r#"{"email": "b@example.com", "password": "Hunter2-Secret!", "roles": ["analyst"]}"#,
    )
    .unwrap();
    let step: StepUpBody = serde_json::from_str(r#"{"code": "654321"}"#).unwrap();
    let reveal =
        RevealedTotp { secret: "JBSWY3DPEHPK3PXP".to_owned(), otpauth_uri: "otpauth://x".to_owned() };
    let printed = format!("{login:?} {person:?} {step:?} {reveal:?}");
    for secret in ["Hunter2-Secret!", "123456", "654321", "JBSWY3DPEHPK3PXP", "otpauth"] {
        assert!(!printed.contains(secret), "{printed}");
    }
    assert!(printed.contains("a@example.com"));
    assert!(printed.contains("analyst"));
}

#[test]
fn timestamps_are_rfc3339_utc() {
    assert_eq!(ts(datetime!(2025-01-02 03:04:05.5 +02:00)), "2025-01-02T01:04:05.5Z");
    assert_eq!(ts(datetime!(2025-01-01 00:00 UTC)), "2025-01-01T00:00:00Z");
}

#[test]
fn answers_showing_a_token_once_do_not_print_it() {
    let person = PersonView {
        id: "p-1",
        display_name: "Ada",
        roles: vec!["admin"],
        tenants: vec![],
        mfa_enrolled: true,
        active: true,
    };
    let login = LoginAnswer {
        token: "cus_s_sessionsecretvalue",
        token_type: "Bearer",
        expires_at: "2025-01-01T00:00:00Z".to_owned(),
        mfa_verified_at: None,
        person,
    };
    let key = ApiKeyCreated {
        api_key: ApiKeyView {
            id: "k-1",
            name: "reports",
            tenants: vec!["acme"],
            permissions: vec!["dataset_read"],
            created_by: "p-1",
            created_at: "2025-01-01T00:00:00Z".to_owned(),
            expires_at: None,
            revoked_at: None,
        },
        key: "cus_k_apikeysecretvalue",
    };
    let printed = format!("{login:?} {key:?}");
    for secret in ["sessionsecretvalue", "apikeysecretvalue"] {
        assert!(!printed.contains(secret), "{printed}");
    }
    assert!(printed.contains("Ada") && printed.contains("reports"), "{printed}");
    // The JSON answer still carries them: it is the one place they are shown.
    let json = serde_json::to_string(&(&login, &key)).unwrap();
    assert!(json.contains("sessionsecretvalue") && json.contains("apikeysecretvalue"));
}
