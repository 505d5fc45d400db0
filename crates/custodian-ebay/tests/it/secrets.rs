//! Secrets never show (SEC-1): not in `Debug` of the configuration or the adapter, not in errors, not in
//! any log line of a full exchange, validation, sync, stock update, refresh and signal verification.

use std::io::Write;
use std::sync::{Arc, Mutex};

use custodian_core::data::Sku;
use custodian_core::ports::{Authorizer, CommerceChannel, RawSignal, SignalVerifier, StockUpdate};
use custodian_sim::ebay::{CLIENT_SECRET, EbayConfig as SimEbayConfig, RU_NAME};
use secrecy::{ExposeSecret as _, SecretString};

use super::*;

#[tokio::test]
async fn debug_output_redacts_every_secret() {
    let sim = start(SimEbayConfig::default()).await;
    let config = config(&sim);
    let adapter = EbayAdapter::new(config.clone()).unwrap();
    for text in [format!("{config:?}"), format!("{adapter:?}")] {
        assert!(!text.contains(CLIENT_SECRET), "{text}");
        assert!(!text.contains(VERIFICATION_TOKEN), "{text}");
        assert!(text.contains("[REDACTED]"), "{text}");
    }
    let credentials = credentials(&sim, &adapter, &all_tasks()).await;
    let text = format!("{credentials:?}");
    assert!(!text.contains(credentials.access_token.expose_secret()));
    // Errors carry eBay's evidence, not the code that failed.
    let used = adapter.exchange(&SecretString::from("v^1.1#i^1#f^0#secret-code"), RU_NAME).await.unwrap_err();
    assert!(!format!("{used} {used:?}").contains("secret-code"), "{used:?}");
}

/// A `MakeWriter` that appends to a shared buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn no_token_secret_code_or_signature_reaches_the_logs() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sim = start(SimEbayConfig::default()).await;
    let adapter = adapter(&sim);
    let scopes = scopes_of(&all_tasks());
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let code = sim.sim.ebay.issue_code(SELLER, &scopes).unwrap();
    let credentials = adapter.exchange(&SecretString::from(code.clone()), RU_NAME).await.unwrap();
    adapter.validate(&credentials, SystemClock.now()).await.unwrap();
    let refreshed = adapter.refresh(&credentials).await.unwrap();
    let page = adapter.orders(&target(), &refreshed, &window(&sim), None, Some(sealer(3))).await.unwrap();
    assert!(!page.items.is_empty());
    let update = [StockUpdate { sku: Sku::new("SKU-000001").unwrap(), location: None, quantity: 3 }];
    adapter.set_stock(&target(), &refreshed, &update).await.unwrap();
    let notification = sim.sim.ebay.account_deletion_notification(SELLER).unwrap();
    let raw = RawSignal {
        method: "POST".into(),
        path: "/webhooks/ebay".into(),
        query: Vec::new(),
        headers: vec![("x-ebay-signature".into(), notification.signature.clone())],
        body: notification.body.clone(),
        received_at: SystemClock.now(),
    };
    adapter.verify(&raw).await.unwrap();
    // A failure path too: a revoked grant.
    sim.sim.ebay.revoke_user(SELLER);
    assert!(adapter.orders(&target(), &refreshed, &window(&sim), None, None).await.is_err());

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("http request"), "the capture works: {logs}");
    let header: serde_json::Value =
        serde_json::from_slice(&data_encoding::BASE64.decode(notification.signature.as_bytes()).unwrap())
            .unwrap();
    let secrets = [
        CLIENT_SECRET.to_owned(),
        code,
        credentials.access_token.expose_secret().to_owned(),
        credentials.refresh_token.as_ref().unwrap().expose_secret().to_owned(),
        refreshed.access_token.expose_secret().to_owned(),
        notification.signature.clone(),
        header["signature"].as_str().unwrap().to_owned(),
        data_encoding::BASE64
            .encode(format!("{}:{CLIENT_SECRET}", custodian_sim::ebay::CLIENT_ID).as_bytes()),
    ];
    for secret in secrets {
        // The token's random tail is what matters (eBay's `v^1.1#…` prefix is public).
        let tail = &secret[secret.len().saturating_sub(24)..];
        assert!(!logs.contains(tail), "a secret reached the logs: …{tail}");
    }
    for pii in ["@members.ebay.com", "contactAddress"] {
        assert!(!logs.contains(pii), "buyer data reached the logs");
    }
}
