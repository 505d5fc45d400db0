//! Interaction tests with the mockall mocks of the ports (feature `mocks`): which port calls a use case makes,
//! and how often.

use std::collections::BTreeMap;
use std::sync::Arc;

use custodian_core::authz::Environment;
use custodian_core::platform::Platform;
use custodian_core::ports::{MockNotifier, Notification, NotifyError};
use custodian_core::service::{Deps, PlatformAdapters, ServiceError, Services, Settings, SignalOutcome};
use custodian_testkit::fakes::{
    ManualClock, MemoryKeyManager, MemorySecretStore, MemoryStore, Script, ScriptedPlatform, SeededRng,
};
use custodian_testkit::fixtures;
use futures::executor::block_on;

fn services(notifier: MockNotifier, platform: Arc<ScriptedPlatform>) -> Services {
    let clock = Arc::new(ManualClock::new(fixtures::T0));
    let rng = Arc::new(SeededRng::new(1));
    let store = Arc::new(MemoryStore::new(clock.clone()));
    let adapters = PlatformAdapters {
        authorizer: platform.clone(),
        reporting: None,
        campaigns: None,
        commerce: Some(platform.clone()),
        signals: Some(platform.clone()),
    };
    let deps = Deps {
        tenants: store.clone(),
        grants: store.clone(),
        datasets: store.clone(),
        audit: store.clone(),
        personnel: store.clone(),
        cases: store,
        secrets: Arc::new(MemorySecretStore::new(clock.clone())),
        keys: Arc::new(MemoryKeyManager::new(rng.clone())),
        notifier: Arc::new(notifier),
        clock,
        rng,
        platforms: BTreeMap::from([(platform.platform(), adapters)]),
    };
    Services::new(deps, Settings::new(Environment::Development))
}

#[test]
fn an_expiry_warning_notifies_exactly_once() {
    let shop = Arc::new(ScriptedPlatform::new(Script::new(Platform::TikTokShop)));
    let mut notifier = MockNotifier::new();
    notifier
        .expect_notify()
        .withf(|n| matches!(n, Notification::Alert(a) if a.detail.contains("tiktok-shop")))
        .times(1)
        .returning(|_| Ok(()));
    let services = services(notifier, shop.clone());
    let signal = shop.signed_signal("kind=expiring;id=9;account=tiktok-shop:1", fixtures::T0);
    assert_eq!(
        block_on(services.handle_signal(Platform::TikTokShop, &signal)).unwrap(),
        SignalOutcome::Alerted
    );
}

#[test]
fn a_failing_notifier_is_reported_not_hidden() {
    let shop = Arc::new(ScriptedPlatform::new(Script::new(Platform::TikTokShop)));
    let mut notifier = MockNotifier::new();
    notifier
        .expect_notify()
        .times(1)
        .returning(|_| Err(NotifyError::Rejected("webhook answered 410".into())));
    let services = services(notifier, shop.clone());
    let signal = shop.signed_signal("kind=expiring;id=10;account=tiktok-shop:1", fixtures::T0);
    let result = block_on(services.handle_signal(Platform::TikTokShop, &signal));
    assert!(matches!(result, Err(ServiceError::Unavailable("notifier", _))), "{result:?}");
}

#[test]
fn forged_signals_never_reach_the_notifier() {
    let shop = Arc::new(ScriptedPlatform::new(Script::new(Platform::TikTokShop)));
    let mut notifier = MockNotifier::new();
    notifier.expect_notify().times(0);
    let services = services(notifier, shop.clone());
    let mut signal = shop.signed_signal("kind=expiring;id=11;account=tiktok-shop:1", fixtures::T0);
    signal.body.push(b' ');
    assert!(matches!(
        block_on(services.handle_signal(Platform::TikTokShop, &signal)),
        Err(ServiceError::SignalRejected(_))
    ));
}
