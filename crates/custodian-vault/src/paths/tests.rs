//! Path and name derivation.

use custodian_core::ports::KeyScope;

use super::{Paths, parse_segment, segment, tombstoned};

#[test]
fn scope_segments_round_trip_and_names_are_per_scope() {
    let tenant = "t/1?".parse().unwrap();
    let grant = "g%2F..".parse().unwrap();
    let paths = Paths::new("custodian", "custodian");
    for scope in [KeyScope::tenant(&tenant), KeyScope::grant(&tenant, &grant)] {
        assert_eq!(parse_segment(&tenant, &segment(&scope)), Some(scope.clone()));
        assert!(paths.transit_key(&scope).starts_with(&paths.transit_tenant_prefix(&tenant)));
        assert_eq!(paths.transit_key(&scope).len(), "custodian".len() + 2 + 64);
    }
    assert_eq!(paths.credentials(&tenant, &grant), "custodian/credentials/742f313f/672532462e2e");
    assert_eq!(
        paths.scope_record(&KeyScope::grant(&tenant, &grant)),
        "custodian/keys/742f313f/grant-672532462e2e"
    );
    assert_ne!(
        paths.transit_key(&KeyScope::tenant(&tenant)),
        paths.transit_key(&KeyScope::grant(&tenant, &grant))
    );
    assert_eq!(parse_segment(&tenant, "grant-zz"), None);
    assert_eq!(parse_segment(&tenant, "other"), None);
}

#[test]
fn tombstones_cover_their_scope_or_the_whole_tenant() {
    let tenant = "t-1".parse().unwrap();
    let grant = "g-1".parse().unwrap();
    let scope = KeyScope::grant(&tenant, &grant);
    assert!(!tombstoned(&["tenant".to_owned()], &scope));
    assert!(tombstoned(&[segment(&scope)], &scope));
    assert!(tombstoned(&["all-scopes".to_owned()], &scope));
    assert!(tombstoned(&["all-scopes".to_owned()], &KeyScope::tenant(&tenant)));
}
