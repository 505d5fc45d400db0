//! SEC-1: a full exchange, validation, refresh, PII sync (both Orders APIs), stock read and update, with
//! every tracing event captured at TRACE: no token, secret, code or RDT value appears. (The only test
//! of this binary that installs a subscriber.)

use std::io::Write;
use std::sync::{Arc, Mutex};

use custodian_amazon::OrdersApi;
use custodian_core::data::{DataKey, KeyVersion, Sku};
use custodian_core::ports::{Authorizer, CommerceChannel, OrderQuery, PiiSealer, StockUpdate};
use custodian_sim::amazon::{self, MARKETPLACE_US, REDIRECT_URI, SELLER_1};
use custodian_testkit::fakes::SeededRng;
use secrecy::ExposeSecret as _;
use time::{Duration, OffsetDateTime};

use crate::support::{Harness, TestResult, epoch, raised_plans, target};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
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
async fn no_secret_reaches_the_logs_sec_1() -> TestResult {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(capture.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    // The global default: every thread's events are captured (other tests' too, when they share the
    // process), and callsite interest is never cached against a thread-scoped subscriber.
    tracing::subscriber::set_global_default(subscriber)?;

    let mut secrets = vec![amazon::CLIENT_SECRET.to_owned()];
    for api in [OrdersApi::V2026, OrdersApi::V0] {
        let sim = custodian_sim::amazon::AmazonConfig::default().scale_usage_plans(1000.0);
        let h = Harness::start(sim, |c| {
            c.orders_api = api;
            c.usage_plans = raised_plans(1000.0);
        })
        .await?;
        let code = h.code(SELLER_1)?;
        secrets.push(code.expose_secret().to_owned());
        let credentials = h.adapter.exchange(&code, REDIRECT_URI).await?;
        let refreshed = h.adapter.refresh(&credentials).await?;
        for c in [&credentials, &refreshed] {
            secrets.push(c.access_token.expose_secret().to_owned());
            secrets.push(c.refresh_token.as_ref().map(|r| r.expose_secret().to_owned()).unwrap_or_default());
        }
        h.adapter.validate(&refreshed, OffsetDateTime::now_utc()).await?;
        let sealer =
            PiiSealer { key: DataKey::from_bytes(KeyVersion(1), [1; 32]), rng: Arc::new(SeededRng::new(1)) };
        let query = OrderQuery { updated_after: epoch(), updated_before: epoch() + Duration::hours(1) };
        let t = target(SELLER_1, MARKETPLACE_US);
        let page = h.adapter.orders(&t, &refreshed, &query, None, Some(sealer)).await?;
        assert!(!page.items.is_empty());
        h.adapter.stock(&t, &refreshed, None).await?;
        let update = StockUpdate { sku: Sku::new("SKU-000001")?, location: None, quantity: 3 };
        h.adapter.set_stock(&t, &refreshed, &[update]).await?;
        h.adapter.check_token_health(&refreshed).await?;
    }
    let logs = String::from_utf8(capture.0.lock().map_err(|_| "poisoned")?.clone())?;
    assert!(logs.contains("http request"), "the capture works: {logs}");
    for secret in secrets.iter().filter(|s| s.len() > 8) {
        assert!(!logs.contains(secret.as_str()), "a secret value reached the logs");
    }
    for prefix in ["Atza|", "Atzr|", "Atz.sprdt|", "ANDM"] {
        assert!(!logs.contains(prefix), "a token or code shape `{prefix}` reached the logs");
    }
    Ok(())
}
