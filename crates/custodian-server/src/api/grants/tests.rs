//! Unit tests of the pending-consent table.

use time::macros::datetime;

use super::*;

const NOW: OffsetDateTime = datetime!(2025-01-01 00:00 UTC);

fn pending(expires_at: OffsetDateTime) -> Pending {
    Pending {
        platform: Platform::Ebay,
        tenant: TenantId::new("t1").unwrap(),
        grant: GrantId::new("g1").unwrap(),
        initiator: Initiator::ApiKey(ApiKeyId::new("key-1").unwrap()),
        redirect_uri: "https://custodian.example/v1/oauth/ebay/callback".to_owned(),
        expires_at,
    }
}

#[test]
fn a_state_is_taken_once_and_only_before_it_expires() {
    let consents = PendingConsents::default();
    consents.insert("state-a".to_owned(), pending(NOW + CONSENT_TTL));
    consents.insert("state-b".to_owned(), pending(NOW + CONSENT_TTL));
    assert!(consents.take("state-x", NOW).is_none(), "unknown");
    assert_eq!(consents.take("state-a", NOW).map(|p| p.grant.as_str().to_owned()).as_deref(), Some("g1"));
    assert!(consents.take("state-a", NOW).is_none(), "used");
    assert!(consents.take("state-b", NOW + CONSENT_TTL).is_none(), "expired");
    assert!(consents.take("state-b", NOW).is_none(), "an expired state is gone for good");
}

#[test]
fn the_table_is_bounded_and_expired_consents_make_room() {
    let consents = PendingConsents::default();
    for i in 0..MAX_PENDING {
        consents.insert(format!("state-{i}"), pending(NOW + Duration::minutes(1)));
    }
    assert!(!consents.has_room(NOW), "full");
    assert!(consents.has_room(NOW + Duration::minutes(1)), "the expired ones were dropped");
    assert_eq!(consents.lock().len(), 0);
}
