//! The testkit contract suites against the simulator: `Authorizer` and `CommerceChannel` (Orders
//! 2026-01-01 with the official usage plans; Orders v0 with a raised plan, since it calls getOrderItems
//! once per order at 0.5/s).

use std::collections::BTreeSet;
use std::sync::Arc;

use custodian_amazon::OrdersApi;
use custodian_core::data::{DataKey, KeyVersion};
use custodian_core::platform::{Platform, consent_scopes};
use custodian_core::ports::{OrderQuery, PiiSealer};
use custodian_sim::amazon::{MARKETPLACE_US, REDIRECT_URI, SELLER_1, SELLER_2};
use custodian_testkit::contract::{self, AuthorizerExpectations, CommerceExpectations};
use custodian_testkit::fakes::SeededRng;
use custodian_testkit::fixtures::supported_tasks;
use time::{Duration, OffsetDateTime};

use crate::support::{Harness, TestResult, account, epoch, target};

fn run_id(label: &str) -> String {
    format!("amz-{label}-{}", std::process::id())
}

#[tokio::test]
async fn the_authorizer_passes_the_contract_suite() -> TestResult {
    let h = Harness::official().await?;
    let tasks = supported_tasks(Platform::Amazon);
    let expect = AuthorizerExpectations {
        platform: Platform::Amazon,
        code: h.code(SELLER_1)?,
        redirect_uri: REDIRECT_URI.to_owned(),
        scopes: consent_scopes(Platform::Amazon, &tasks)?,
        tasks,
        accounts: BTreeSet::from([account(SELLER_1, MARKETPLACE_US)]),
        now: OffsetDateTime::now_utc(),
    };
    // Amazon's consent URL names the application, not roles: the suite checks the granted roles at
    // validation (`consent_url_names_scopes`).
    contract::authorizer(&h.adapter, &expect, &run_id("auth")).await?;
    Ok(())
}

fn sealer() -> PiiSealer {
    PiiSealer { key: DataKey::from_bytes(KeyVersion(1), [42; 32]), rng: Arc::new(SeededRng::new(9)) }
}

fn window() -> OrderQuery {
    OrderQuery { updated_after: epoch(), updated_before: epoch() + Duration::days(1) }
}

#[tokio::test]
async fn the_commerce_channel_passes_the_contract_suite_on_orders_2026() -> TestResult {
    let h = Harness::official().await?;
    let credentials = h.connect(SELLER_1).await?;
    let expect = CommerceExpectations {
        target: target(SELLER_1, MARKETPLACE_US),
        credentials,
        query: window(),
        orders: 250,
        stock: 120,
        sealer: sealer(),
    };
    contract::commerce_channel(&h.adapter, &expect, &run_id("c2026")).await?;
    Ok(())
}

#[tokio::test]
async fn the_commerce_channel_passes_the_contract_suite_on_orders_v0() -> TestResult {
    let sim = custodian_sim::amazon::AmazonConfig::default().scale_usage_plans(1000.0);
    let h = Harness::start(sim, |c| {
        c.orders_api = OrdersApi::V0;
        c.usage_plans = crate::support::raised_plans(1000.0);
    })
    .await?;
    let credentials = h.connect(SELLER_2).await?;
    let expect = CommerceExpectations {
        target: target(SELLER_2, MARKETPLACE_US),
        credentials,
        query: window(),
        orders: 20,
        stock: 10,
        sealer: sealer(),
    };
    contract::commerce_channel(&h.adapter, &expect, &run_id("cv0")).await?;
    Ok(())
}
