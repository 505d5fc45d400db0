//! The custodian-testkit contract suites for every port the adapter implements, against the simulator.

use std::collections::BTreeSet;

use custodian_core::platform::{Platform, Task, consent_scopes};
use custodian_core::ports::{OrderQuery, RawSignal, SignalKind, SignalSubject, VerifiedSignal};
use custodian_sim::tiktok_shop::{
    self, NotificationKind, ORDER_INTERVAL, ORDERS_START, SHOP_ID, SHOP_ID_2, TikTokShopConfig as SimConfig,
};
use custodian_testkit::contract::{self, AuthorizerExpectations, CommerceExpectations};
use custodian_testkit::fixtures::T0;
use secrecy::SecretString;
use time::OffsetDateTime;

use crate::support::{adapter, credentials, run_id, sealer, shop, start, target};

#[tokio::test]
async fn the_authorizer_contract_holds() {
    let sim = start(SimConfig::default()).await;
    let adapter = adapter(&sim);
    let tasks = BTreeSet::from([Task::ReadOrders, Task::ReadBuyerPii, Task::UpdateStock]);
    let expect = AuthorizerExpectations {
        platform: Platform::TikTokShop,
        code: SecretString::from(sim.sim.tiktok_shop.issue_code(0).unwrap()),
        redirect_uri: tiktok_shop::REDIRECT_URI.to_owned(),
        scopes: consent_scopes(Platform::TikTokShop, &tasks).unwrap(),
        tasks,
        accounts: BTreeSet::from([shop(SHOP_ID), shop(SHOP_ID_2)]),
        now: T0,
    };
    contract::authorizer(&adapter, &expect, &run_id("authorizer")).await.unwrap();
}

#[tokio::test]
async fn the_commerce_channel_contract_holds() {
    let sim = start(SimConfig::default()).await;
    let adapter = adapter(&sim);
    let credentials = credentials(&sim, &adapter).await;
    // Order i is updated within [start + i·interval, start + (i+1)·interval): this window holds exactly 100.
    let query = OrderQuery {
        updated_after: OffsetDateTime::from_unix_timestamp(ORDERS_START).unwrap(),
        updated_before: OffsetDateTime::from_unix_timestamp(ORDERS_START + 100 * ORDER_INTERVAL).unwrap(),
    };
    let expect = CommerceExpectations {
        target: target(SHOP_ID),
        credentials,
        query,
        orders: 100,
        // 20 products × 3 SKUs × 2 warehouses.
        stock: 120,
        sealer: sealer(),
    };
    contract::commerce_channel(&adapter, &expect, &run_id("commerce")).await.unwrap();
}

#[tokio::test]
async fn the_signal_verifier_contract_holds() {
    let sim = start(SimConfig::default()).await;
    let adapter = adapter(&sim);
    let notification =
        sim.sim.tiktok_shop.notification(NotificationKind::SellerDeauthorization, SHOP_ID).unwrap();
    let raw = RawSignal {
        method: "POST".to_owned(),
        path: "/signals/tiktok-shop".to_owned(),
        query: Vec::new(),
        headers: vec![
            ("authorization".to_owned(), notification.authorization.clone()),
            ("content-type".to_owned(), "application/json".to_owned()),
        ],
        body: notification.body.clone(),
        received_at: OffsetDateTime::from_unix_timestamp(sim.sim.ctx.clock.now_unix()).unwrap(),
    };
    let expected = VerifiedSignal {
        platform: Platform::TikTokShop,
        id: notification.id.clone(),
        kind: SignalKind::Deauthorized,
        subject: Some(SignalSubject::Account(shop(SHOP_ID))),
    };
    contract::signal_verifier(&adapter, &raw, &expected, &run_id("signals")).await.unwrap();
}
