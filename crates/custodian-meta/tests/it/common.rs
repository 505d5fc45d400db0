//! A simulator on loopback and an adapter pointed at it.

use std::sync::Arc;
use std::time::Duration;

use custodian_core::platform::{AccountRef, MetaAdAccountId};
use custodian_core::ports::{Clock, Credentials, Target};
use custodian_http::RetryPolicy;
use custodian_meta::{MetaAdapter, MetaConfig};
use custodian_sim::meta::{ACCOUNTS, APP_ID, APP_SECRET, MetaConfig as SimMetaConfig, MetaSim, REDIRECT_URI};
use custodian_sim::{RunningSim, Sim, SimClock, SimConfig};
use secrecy::SecretString;
use time::OffsetDateTime;

/// The simulator's clock as the adapter's clock, so both see the same (shiftable) time.
#[derive(Debug)]
pub(crate) struct SimTime(pub(crate) SimClock);

impl Clock for SimTime {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.0.now_unix()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

pub(crate) struct Env {
    pub(crate) running: RunningSim,
    pub(crate) adapter: MetaAdapter,
}

/// The adapter's configuration for `running`: short retries and polls, small pages to exercise paging.
pub(crate) fn adapter_config(running: &RunningSim) -> MetaConfig {
    let clock: Arc<dyn Clock> = Arc::new(SimTime(running.sim.ctx.clock.clone()));
    let mut config = MetaConfig::new(APP_ID, SecretString::from(APP_SECRET), clock);
    config.graph_url = format!("{}/meta/graph", running.base_url());
    config.www_url = format!("{}/meta/www", running.base_url());
    config.redirect_uris = vec![REDIRECT_URI.to_owned()];
    config.http.allow_plain_loopback = true;
    config.retry = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_wait_hint: Duration::from_secs(5),
    };
    config.page_size = 100;
    config.campaign_page_size = 5;
    config.poll_interval = Duration::from_millis(5);
    config.async_timeout = Duration::from_secs(10);
    config
}

impl Env {
    pub(crate) async fn start(sim: SimMetaConfig) -> Self {
        Self::with(sim, |_| {}).await
    }

    pub(crate) async fn with(sim: SimMetaConfig, adjust: impl FnOnce(&mut MetaConfig)) -> Self {
        let running = Sim::new(SimConfig { seed: 11, meta: sim, ..SimConfig::default() })
            .start("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let mut config = adapter_config(&running);
        adjust(&mut config);
        let adapter = MetaAdapter::new(config).unwrap();
        Self { running, adapter }
    }

    pub(crate) async fn default() -> Self {
        Self::start(SimMetaConfig::default()).await
    }

    pub(crate) fn sim(&self) -> &MetaSim {
        &self.running.sim.meta
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        SimTime(self.running.sim.ctx.clock.clone()).now()
    }

    /// Credentials of a long-lived token with `scopes` on every account.
    pub(crate) fn credentials(&self, scopes: &[&str]) -> Credentials {
        Credentials::bearer(SecretString::from(self.sim().issue_token(scopes)))
    }
}

pub(crate) fn account(n: usize) -> AccountRef {
    AccountRef::MetaAdAccount(MetaAdAccountId::new(ACCOUNTS[n]).unwrap())
}

pub(crate) fn target(n: usize) -> Target {
    Target {
        tenant: "tenant-meta".parse().unwrap(),
        grant: "grant-meta".parse().unwrap(),
        account: account(n),
    }
}

/// Opens the adapter's consent URL on the simulated dialog and returns the `Location` it redirects to.
pub(crate) async fn follow_consent(url: &str) -> String {
    let http = custodian_http::HttpClient::new(custodian_http::HttpConfig {
        allow_plain_loopback: true,
        ..custodian_http::HttpConfig::default()
    })
    .unwrap();
    let response = http.send(custodian_http::Request::get(http.check_url(url).unwrap())).await.unwrap();
    assert_eq!(response.status, 302, "the dialog redirects");
    response.header("location").unwrap().to_owned()
}

/// A query parameter of a URL.
pub(crate) fn query_param(url: &str, name: &str) -> Option<String> {
    custodian_http::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
