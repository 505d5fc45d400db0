//! Unit tests of the sync plan's defaults.

use custodian_core::platform::Platform;
use custodian_core::tenant::TenantId;
use custodian_testkit::fixtures;
use time::macros::datetime;

use super::*;

/// Half a second past a whole second, as a server clock reads.
const NOW: OffsetDateTime = datetime!(2025-03-01 12:00:00.5 UTC);

fn grant(platform: Platform) -> Grant {
    let tenant = TenantId::new("t1").unwrap();
    let id = custodian_core::grant::GrantId::new("g1").unwrap();
    fixtures::active_grant(&tenant, &id, platform, &[fixtures::account(platform, 1)], NOW)
}

#[test]
fn an_order_window_ends_before_the_platforms_data_delay_in_whole_seconds() {
    let amazon = plan(&SyncBody::default(), &grant(Platform::Amazon), NOW).unwrap();
    assert_eq!(amazon.orders_before, datetime!(2025-03-01 11:58:00 UTC), "Amazon: two minutes back");
    let ebay = plan(&SyncBody::default(), &grant(Platform::Ebay), NOW).unwrap();
    assert_eq!(ebay.orders_before, datetime!(2025-03-01 12:00:00 UTC), "no delay, whole seconds");
    // A given end is kept as given.
    let body = SyncBody { updated_before: Some("2025-02-01T00:00:00.25Z".to_owned()), ..SyncBody::default() };
    let given = plan(&body, &grant(Platform::Amazon), NOW).unwrap();
    assert_eq!(given.orders_before, datetime!(2025-02-01 00:00:00.25 UTC));
}
