//! Shared set-up: a simulator on loopback, an adapter pointed at it (plain loopback HTTP allowed, fast
//! retries), the simulator's clock as the adapter's clock, and fixtures of targets and sealers.

use std::sync::Arc;
use std::time::Duration;

use custodian_core::data::{DataKey, KeyVersion};
use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, TikTokShopId};
use custodian_core::ports::{Authorizer as _, Clock, Credentials, PiiSealer, Target};
use custodian_core::tenant::TenantId;
use custodian_http::{HttpConfig, RetryPolicy};
use custodian_sim::tiktok_shop::{self, TikTokShopConfig as SimConfig};
use custodian_sim::{RunningSim, Sim, SimClock, SimConfig as AllConfig};
use custodian_testkit::fakes::SeededRng;
use custodian_tiktok_shop::{TikTokShopAdapter, TikTokShopConfig};
use secrecy::SecretString;
use time::OffsetDateTime;

/// The simulator's (shiftable) clock as a [`Clock`], so request timestamps follow the simulated platform.
#[derive(Debug, Clone)]
pub(crate) struct SimTime(pub(crate) SimClock);

impl Clock for SimTime {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.0.now_unix()).unwrap()
    }
}

pub(crate) async fn start(config: SimConfig) -> RunningSim {
    Sim::new(AllConfig { seed: 11, tiktok_shop: config, ..AllConfig::default() })
        .start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// The adapter's configuration for `sim`: its hosts, the app registration, fast retries.
pub(crate) fn config(sim: &RunningSim) -> TikTokShopConfig {
    let app = sim.sim.tiktok_shop.config();
    let base = format!("{}/tiktok-shop", sim.base_url());
    let mut config = TikTokShopConfig::new(
        app.app_key.as_str(),
        SecretString::from(app.app_secret.as_str()),
        app.service_id.as_str(),
        Arc::new(SimTime(sim.sim.ctx.clock.clone())),
    );
    config.auth_base = format!("{base}/auth");
    config.api_base = format!("{base}/open-api");
    config.authorize_url = format!("{base}/services/open/authorize");
    config.http = HttpConfig { allow_plain_loopback: true, ..HttpConfig::default() };
    config.retry = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        max_wait_hint: Duration::from_secs(5),
    };
    config
}

pub(crate) fn adapter(sim: &RunningSim) -> TikTokShopAdapter {
    TikTokShopAdapter::new(config(sim)).unwrap()
}

/// Credentials of the default seller, through a fresh code.
pub(crate) async fn credentials(sim: &RunningSim, adapter: &TikTokShopAdapter) -> Credentials {
    let code = SecretString::from(sim.sim.tiktok_shop.issue_code(0).unwrap());
    adapter.exchange(&code, tiktok_shop::REDIRECT_URI).await.unwrap()
}

pub(crate) fn shop(id: &str) -> AccountRef {
    AccountRef::TikTokShop(TikTokShopId::new(id).unwrap())
}

pub(crate) fn target(id: &str) -> Target {
    Target {
        tenant: TenantId::new("tenant-tts").unwrap(),
        grant: GrantId::new("grant-tts").unwrap(),
        account: shop(id),
    }
}

pub(crate) fn sealer() -> PiiSealer {
    PiiSealer { key: DataKey::from_bytes(KeyVersion(1), [42; 32]), rng: Arc::new(SeededRng::new(5)) }
}

/// A run id unique to this process.
pub(crate) fn run_id(label: &str) -> String {
    format!("tts-{label}-{}", std::process::id())
}
