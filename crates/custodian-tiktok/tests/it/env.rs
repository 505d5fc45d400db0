//! The test environment: a simulator on loopback, an adapter pointed at it, targets and credentials.

use std::sync::Arc;
use std::time::Duration;

use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, TikTokAdvertiserId};
use custodian_core::ports::{Clock, Credentials, Target};
use custodian_core::tenant::TenantId;
use custodian_http::{Rate, RetryPolicy};
use custodian_sim::tiktok::{APP_ID, APP_SECRET, TikTokConfig as SimConfig, TikTokSim};
use custodian_sim::{Faults, RunningSim, Sim, SimConfig as AllConfig};
use custodian_tiktok::{TikTokAdapter, TikTokConfig};
use secrecy::SecretString;
use time::OffsetDateTime;

/// The wall clock (the simulator's clock is the wall clock too).
#[derive(Debug)]
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

pub(crate) struct Env {
    pub running: RunningSim,
}

impl Env {
    /// A simulator with `config` (seed 11).
    pub(crate) async fn start(config: SimConfig) -> Self {
        let all = AllConfig { seed: 11, tiktok: config, ..AllConfig::default() };
        Self { running: Sim::new(all).start("127.0.0.1:0".parse().unwrap()).await.unwrap() }
    }

    /// The default simulated app without its rate limit.
    pub(crate) async fn unlimited() -> Self {
        Self::start(SimConfig { rate_limit: None, ..SimConfig::default() }).await
    }

    pub(crate) fn sim(&self) -> &TikTokSim {
        &self.running.sim.tiktok
    }

    pub(crate) fn faults(&self) -> &Faults {
        &self.running.sim.ctx.faults
    }

    /// The adapter's settings for this simulator: fast retries, no pacing to speak of.
    pub(crate) fn config(&self) -> TikTokConfig {
        let mut config = TikTokConfig::new(APP_ID, SecretString::from(APP_SECRET), Arc::new(SystemClock));
        config.base_url = format!("{}/tiktok", self.running.base_url());
        config.auth_url = format!("{}/tiktok/portal/auth", self.running.base_url());
        config.http.allow_plain_loopback = true;
        config.http.timeout = Duration::from_secs(10);
        config.rate = Rate::new(10_000.0, 1_000);
        config.retry = RetryPolicy {
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            ..RetryPolicy::default()
        };
        config
    }

    pub(crate) fn adapter(&self) -> TikTokAdapter {
        TikTokAdapter::new(self.config()).unwrap()
    }
}

pub(crate) fn target(advertiser: &str) -> Target {
    Target {
        tenant: TenantId::new("tenant-tiktok").unwrap(),
        grant: GrantId::new("grant-tiktok").unwrap(),
        account: AccountRef::TikTokAdvertiser(TikTokAdvertiserId::new(advertiser).unwrap()),
    }
}

pub(crate) fn bearer(token: &str) -> Credentials {
    Credentials::bearer(SecretString::from(token.to_owned()))
}

/// `days` days before today (UTC).
pub(crate) fn days_ago(days: i64) -> time::Date {
    OffsetDateTime::now_utc().date() - time::Duration::days(days)
}
