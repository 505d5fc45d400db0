//! The testkit platform contract suites, against the simulator.

use std::collections::BTreeSet;

use custodian_core::platform::{EBAY_FULFILLMENT_READONLY, EBAY_INVENTORY, Platform, Scope};
use custodian_core::ports::{CommerceChannel, RawSignal, SignalKind, SignalSubject, VerifiedSignal};
use custodian_sim::ebay::{EbayConfig as SimEbayConfig, RU_NAME};
use custodian_testkit::contract::{self, AuthorizerExpectations, CommerceExpectations};
use secrecy::SecretString;

use super::*;

#[tokio::test]
async fn passes_the_authorizer_contract() {
    let sim = start(SimEbayConfig::default()).await;
    let adapter = adapter(&sim);
    let scopes = scopes_of(&all_tasks());
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let code = sim.sim.ebay.issue_code(SELLER, &scopes).unwrap();
    let expect = AuthorizerExpectations {
        platform: Platform::Ebay,
        code: SecretString::from(code),
        redirect_uri: RU_NAME.to_owned(),
        tasks: all_tasks(),
        accounts: BTreeSet::from([seller()]),
        scopes: BTreeSet::from([
            Scope::new(EBAY_FULFILLMENT_READONLY).unwrap(),
            Scope::new(EBAY_INVENTORY).unwrap(),
        ]),
        now: SystemClock.now(),
    };
    contract::authorizer(&adapter, &expect, "ebay-authorizer").await.unwrap();
}

#[tokio::test]
async fn passes_the_commerce_channel_contract() {
    let sim = start(SimEbayConfig::default()).await;
    let adapter = adapter(&sim);
    let credentials = credentials(&sim, &adapter, &all_tasks()).await;
    let expect = CommerceExpectations {
        target: target(),
        credentials,
        query: window(&sim),
        orders: 120,
        stock: 40,
        sealer: sealer(5),
    };
    contract::commerce_channel(&adapter, &expect, "ebay-commerce").await.unwrap();
    // And with small pages (many offsets).
    let mut config = config(&sim);
    config.orders_page_size = 13;
    config.inventory_page_size = 7;
    let small: &dyn CommerceChannel = &custodian_ebay::EbayAdapter::new(config).unwrap();
    contract::commerce_channel(small, &expect, "ebay-commerce-small").await.unwrap();
}

#[tokio::test]
async fn passes_the_signal_verifier_contract() {
    let sim = start(SimEbayConfig::default()).await;
    let adapter = adapter(&sim);
    for (notification, kind) in [
        (
            sim.sim.ebay.account_deletion_notification(SELLER).unwrap(),
            SignalKind::DeletionRequested { confirmation: None },
        ),
        (
            sim.sim
                .ebay
                .authorization_revocation_notification(
                    SELLER,
                    custodian_sim::ebay::RevokeReason::RevokedByUser,
                )
                .unwrap(),
            SignalKind::Deauthorized,
        ),
    ] {
        let raw = RawSignal {
            method: "POST".into(),
            path: "/webhooks/ebay".into(),
            query: Vec::new(),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("x-ebay-signature".into(), notification.signature.clone()),
            ],
            body: notification.body.clone(),
            received_at: SystemClock.now(),
        };
        let expected = VerifiedSignal {
            platform: Platform::Ebay,
            id: notification.notification_id.clone(),
            kind,
            subject: Some(SignalSubject::Account(seller())),
        };
        contract::signal_verifier(&adapter, &raw, &expected, "ebay-signals").await.unwrap();
    }
}
