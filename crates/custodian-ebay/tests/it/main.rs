//! Integration tests of the eBay adapter against the in-process simulator on loopback: the testkit contract
//! suites, the OAuth and sync flows, signals end to end, and secrets staying out of `Debug` and logs.

// Test-only code (clippy's test allowances apply to cfg(test) items).
#![cfg(test)]

mod contract;
mod flows;
mod secrets;
mod signals;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use custodian_core::data::{DataKey, KeyVersion};
use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, EbayUserId, Platform, Task, consent_scopes};
use custodian_core::ports::{Authorizer, Clock, Credentials, PiiSealer, Target};
use custodian_core::tenant::TenantId;
use custodian_ebay::{EbayAdapter, EbayConfig};
use custodian_http::{HttpConfig, RetryPolicy};
use custodian_sim::ebay::{CLIENT_ID, CLIENT_SECRET, EbayConfig as SimEbayConfig, RU_NAME};
use custodian_sim::{RunningSim, Sim, SimConfig};
use custodian_testkit::fakes::SeededRng;
use secrecy::SecretString;
use time::OffsetDateTime;

/// The default simulated seller (120 orders, 40 items).
pub const SELLER: &str = "ma8vp1jySJC";
pub const VERIFICATION_TOKEN: &str = custodian_sim::ebay::VERIFICATION_TOKEN;

/// The wall clock (the simulator runs on it too).
#[derive(Debug)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        #[expect(clippy::disallowed_methods, reason = "tests run against the simulator's wall clock")]
        let now = std::time::SystemTime::now();
        OffsetDateTime::from(now)
    }
}

pub async fn start(config: SimEbayConfig) -> RunningSim {
    Sim::new(SimConfig { seed: 11, ebay: config, ..SimConfig::default() })
        .start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// An adapter configuration pointing at the simulator, with fast retries.
pub fn config(sim: &RunningSim) -> EbayConfig {
    let mut config =
        EbayConfig::new(CLIENT_ID, SecretString::from(CLIENT_SECRET), RU_NAME, Arc::new(SystemClock));
    config.auth_base = format!("{}/ebay/auth", sim.base_url());
    config.api_base = format!("{}/ebay/api", sim.base_url());
    config.http =
        HttpConfig { allow_plain_loopback: true, timeout: Duration::from_secs(20), ..HttpConfig::default() };
    config.retry = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        max_wait_hint: Duration::from_secs(5),
    };
    config.verification_token = Some(SecretString::from(VERIFICATION_TOKEN));
    config
}

pub fn adapter(sim: &RunningSim) -> EbayAdapter {
    EbayAdapter::new(config(sim)).unwrap()
}

pub fn all_tasks() -> BTreeSet<Task> {
    BTreeSet::from([Task::ReadOrders, Task::ReadBuyerPii, Task::UpdateStock])
}

/// Scope strings of `tasks` on eBay.
pub fn scopes_of(tasks: &BTreeSet<Task>) -> Vec<String> {
    consent_scopes(Platform::Ebay, tasks).unwrap().into_iter().map(|s| s.as_str().to_owned()).collect()
}

/// Credentials of `SELLER` for `tasks`, through the adapter's exchange.
pub async fn credentials(sim: &RunningSim, adapter: &EbayAdapter, tasks: &BTreeSet<Task>) -> Credentials {
    let scopes = scopes_of(tasks);
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let code = sim.sim.ebay.issue_code(SELLER, &scopes).unwrap();
    adapter.exchange(&SecretString::from(code), RU_NAME).await.unwrap()
}

pub fn seller() -> AccountRef {
    AccountRef::EbayUser(EbayUserId::new(SELLER).unwrap())
}

pub fn target() -> Target {
    Target {
        tenant: TenantId::new("tenant-ebay").unwrap(),
        grant: GrantId::new("grant-ebay").unwrap(),
        account: seller(),
    }
}

pub fn sealer(seed: u64) -> PiiSealer {
    PiiSealer {
        key: DataKey::from_bytes(KeyVersion(1), [seed as u8; 32]),
        rng: Arc::new(SeededRng::new(seed)),
    }
}

/// The simulator's orders window as a query.
pub fn window(sim: &RunningSim) -> custodian_core::ports::OrderQuery {
    let (start, end) = sim.sim.ebay.orders_window();
    let at = |ms: i64| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap();
    custodian_core::ports::OrderQuery { updated_after: at(start), updated_before: at(end) }
}
