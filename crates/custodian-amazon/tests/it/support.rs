//! A simulator on loopback and an adapter pointed at it.

#![expect(clippy::expect_used, reason = "test helpers build literal ids; a failure is a broken test")]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use custodian_amazon::{AmazonAdapter, AmazonConfig, Operation, RegionEndpoint};
use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, AmazonMarketplaceId, AmazonSellerId};
use custodian_core::ports::{Clock, Credentials, Target};
use custodian_core::tenant::TenantId;
use custodian_http::{Rate, RetryPolicy};
use custodian_sim::amazon::{
    self, AmazonConfig as SimAmazonConfig, AmazonSim, MARKETPLACE_CA, MARKETPLACE_US,
};
use custodian_sim::{RunningSim, Sim, SimConfig};
use secrecy::SecretString;
use time::OffsetDateTime;

pub(crate) type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The wall clock (the simulator's two-minute rule is about real time).
#[derive(Debug)]
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

pub(crate) struct Harness {
    pub(crate) running: RunningSim,
    pub(crate) adapter: AmazonAdapter,
}

/// Retries fast enough for tests.
pub(crate) fn quick_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        max_wait_hint: Duration::from_secs(300),
    }
}

/// The adapter's settings for a simulator at `base`.
pub(crate) fn adapter_config(base: &str) -> AmazonConfig {
    let mut config = AmazonConfig::new(
        amazon::CLIENT_ID,
        SecretString::from(amazon::CLIENT_SECRET),
        amazon::APPLICATION_ID,
        Arc::new(SystemClock),
    );
    config.lwa_base = format!("{base}/amazon/lwa");
    config.consent_base = format!("{base}/amazon/sellercentral");
    config.regions =
        RegionEndpoint::single(&format!("{base}/amazon/sp-api"), &[MARKETPLACE_US, MARKETPLACE_CA]);
    config.http.allow_plain_loopback = true;
    config.retry = quick_retry();
    config
}

/// Usage plans `factor` times the official ones (a seller with a raised plan), for both sides.
pub(crate) fn raised_plans(factor: f64) -> BTreeMap<Operation, Rate> {
    Operation::ALL
        .iter()
        .map(|op| {
            let official = op.official();
            let burst = (f64::from(official.burst) * factor).max(1.0) as u32;
            (*op, Rate::new(official.per_second * factor, burst))
        })
        .collect()
}

impl Harness {
    pub(crate) async fn start(
        sim: SimAmazonConfig,
        configure: impl FnOnce(&mut AmazonConfig),
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let running = Sim::new(SimConfig { seed: 11, amazon: sim, ..SimConfig::default() })
            .start("127.0.0.1:0".parse()?)
            .await?;
        let mut config = adapter_config(running.base_url());
        configure(&mut config);
        let adapter = AmazonAdapter::new(config)?;
        Ok(Self { running, adapter })
    }

    /// Official usage plans on both sides.
    pub(crate) async fn official() -> Result<Self, Box<dyn std::error::Error>> {
        Self::start(SimAmazonConfig::default(), |_| {}).await
    }

    /// Usage plans raised 1000 times on both sides (tests that are not about rate limits).
    pub(crate) async fn raised() -> Result<Self, Box<dyn std::error::Error>> {
        Self::start(SimAmazonConfig::default().scale_usage_plans(1000.0), |c| {
            c.usage_plans = raised_plans(1000.0)
        })
        .await
    }

    pub(crate) fn sim(&self) -> &AmazonSim {
        &self.running.sim.amazon
    }

    /// A code as the consent page would give, with the callback noted as the server does.
    pub(crate) fn code(&self, seller: &str) -> Result<SecretString, Box<dyn std::error::Error>> {
        let code =
            SecretString::from(self.sim().issue_code(seller, Some(amazon::REDIRECT_URI)).ok_or("seller")?);
        self.adapter.note_consent_callback(&code, AmazonSellerId::new(seller)?);
        Ok(code)
    }

    /// Connects `seller`: credentials naming its marketplaces.
    pub(crate) async fn connect(&self, seller: &str) -> Result<Credentials, Box<dyn std::error::Error>> {
        use custodian_core::ports::Authorizer as _;
        let code = self.code(seller)?;
        Ok(self.adapter.exchange(&code, amazon::REDIRECT_URI).await?)
    }
}

pub(crate) fn account(seller: &str, marketplace: &str) -> AccountRef {
    AccountRef::AmazonSeller {
        seller: AmazonSellerId::new(seller).expect("a valid seller id"),
        marketplace: AmazonMarketplaceId::new(marketplace).expect("a valid marketplace id"),
    }
}

pub(crate) fn target(seller: &str, marketplace: &str) -> Target {
    Target {
        tenant: TenantId::new("tenant-amazon").expect("a literal id"),
        grant: GrantId::new("grant-amazon").expect("a literal id"),
        account: account(seller, marketplace),
    }
}

/// The simulator's order epoch.
pub(crate) fn epoch() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(amazon::ORDERS_EPOCH_UNIX).expect("a valid instant")
}
