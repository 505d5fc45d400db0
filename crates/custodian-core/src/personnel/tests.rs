//! Tests of roles, permissions and API key usability.

use super::*;

#[test]
fn role_table_is_least_privilege() {
    let roles = |rs: &[Role]| rs.iter().copied().collect::<BTreeSet<_>>();
    assert!(roles_allow(&roles(&[Role::Admin]), Permission::PersonnelManage));
    // Admins manage people, not client data.
    assert!(!roles_allow(&roles(&[Role::Admin]), Permission::DatasetRead));
    assert!(!roles_allow(&roles(&[Role::Analyst]), Permission::ChangeApprove));
    assert!(roles_allow(&roles(&[Role::AccountManager]), Permission::ChangeApprove));
    assert!(!roles_allow(&roles(&[Role::AccountManager]), Permission::PiiRead));
    assert!(roles_allow(&roles(&[Role::Fulfillment]), Permission::PiiRead));
    assert!(!roles_allow(&roles(&[Role::Auditor]), Permission::DatasetRead));
    assert!(!roles_allow(&BTreeSet::new(), Permission::TenantRead));
    for r in Role::ALL {
        assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
    }
    for p in Permission::ALL {
        assert_eq!(p.as_str().parse::<Permission>().unwrap(), p);
    }
}

#[test]
fn api_key_usability() {
    let now = time::macros::datetime!(2026-01-01 0:00 UTC);
    let mut key = ApiKey {
        id: ApiKeyId::new("k1").unwrap(),
        name: "bi".into(),
        tenants: BTreeSet::new(),
        permissions: BTreeSet::new(),
        created_by: PersonId::new("p1").unwrap(),
        created_at: now,
        expires_at: None,
        revoked_at: None,
    };
    assert!(key.is_usable(now));
    key.expires_at = Some(now);
    assert!(!key.is_usable(now));
    key.expires_at = None;
    key.revoked_at = Some(now - time::Duration::seconds(1));
    assert!(!key.is_usable(now));
}
