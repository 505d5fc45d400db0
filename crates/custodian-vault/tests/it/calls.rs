//! Transit calls are O(1) per tenant and cache period, not O(orders): counted exactly.

use std::time::Duration;

use custodian_core::data::{SealContext, open, seal};
use custodian_core::ports::{KeyManager, KeyScope};
use custodian_core::tenant::TenantId;
use custodian_testkit::fakes::SeededRng;
use custodian_testkit::fixtures;
use custodian_vault::{CallCounts, VaultConfig};

use crate::server::{Bao, ports};

#[tokio::test]
async fn sealing_100k_orders_of_one_tenant_makes_three_transit_calls() {
    let bao = Bao::start().await;
    let (client, _, keys) = ports(bao.config());
    let tenant: TenantId = "tenant-sync".parse().unwrap();
    let scope = KeyScope::grant(&tenant, &"grant-shop".parse().unwrap());
    let rng = SeededRng::new(3);
    let pii = fixtures::buyer_pii(7);
    let start = client.calls();
    let mut last = None;
    for i in 0..100_000u32 {
        let key = keys.current_key(&scope).await.unwrap();
        let ctx = SealContext::new(&tenant, "order", &format!("meta:act_1/order-{i}"));
        last = Some((seal(&key, &ctx, &pii, &rng).unwrap(), ctx));
    }
    let sealed = client.calls();
    // The first call: tombstone list, record read (missing), create key, datakey/wrapped, record write,
    // tombstone re-check, decrypt. The other 99,999 hit the cache.
    let expected = CallCounts { kv: 4, transit: 3, auth: 1, ..CallCounts::default() };
    assert_eq!(delta(start, sealed), expected, "{sealed:?}");

    let (last, ctx) = last.unwrap();
    for _ in 0..100_000u32 {
        let key = keys.key(&scope, last.key_version()).await.unwrap();
        assert!(open(&key, &ctx, &last).is_ok());
    }
    assert_eq!(client.calls(), sealed, "opening with a cached key calls nothing");
}

#[tokio::test]
async fn a_cached_key_is_unwrapped_again_after_its_ttl() {
    let bao = Bao::start().await;
    let config = VaultConfig { key_cache_ttl: Duration::from_millis(400), ..bao.config() };
    let (client, _, keys) = ports(config);
    let scope = KeyScope::tenant(&"tenant-ttl".parse().unwrap());
    keys.current_key(&scope).await.unwrap();
    let warm = client.calls();
    keys.current_key(&scope).await.unwrap();
    assert_eq!(client.calls(), warm);
    tokio::time::sleep(Duration::from_millis(500)).await;
    keys.current_key(&scope).await.unwrap();
    let expected = CallCounts { kv: 2, transit: 1, ..CallCounts::default() };
    assert_eq!(delta(warm, client.calls()), expected, "tombstone list, record read, decrypt");
    assert_eq!(keys.cached_keys(), 1);
}

fn delta(a: CallCounts, b: CallCounts) -> CallCounts {
    CallCounts {
        kv: b.kv - a.kv,
        transit: b.transit - a.transit,
        auth: b.auth - a.auth,
        sys: b.sys - a.sys,
        logins: b.logins - a.logins,
        renewals: b.renewals - a.renewals,
    }
}
