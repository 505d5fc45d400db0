//! SEC-1: a full exchange, validation, refresh, PII sync, stock update, a throttle and a refused request,
//! logged at TRACE, never show a token, the app secret, the authorization code, a signature or buyer PII.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use custodian_core::ports::{Authorizer as _, CommerceChannel as _, OrderQuery, StockUpdate};
use custodian_sim::tiktok_shop::{
    self, ORDER_INTERVAL, ORDERS_START, SHOP_ID, TikTokShopConfig as SimConfig,
};
use custodian_sim::{Fault, FaultKind, SimPlatform};
use custodian_tiktok_shop::TikTokShopAdapter;
use secrecy::{ExposeSecret as _, SecretString};
use time::OffsetDateTime;

use crate::support::{adapter, config, sealer, start, target};

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

/// A process-wide TRACE subscriber writing into one buffer. Process-wide, because a thread-scoped one
/// misses events whose callsites other test threads registered first (tracing caches interest per
/// callsite); other tests' logs land in the buffer too, which only widens the check.
fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(capture.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        capture
    })
}

#[tokio::test]
async fn logs_never_show_tokens_secrets_codes_signatures_or_pii() {
    let capture = capture();
    let from = capture.0.lock().unwrap().len();

    let sim = start(SimConfig::default()).await;
    let adapter = adapter(&sim);
    let code = sim.sim.tiktok_shop.issue_code(0).unwrap();
    let credentials =
        adapter.exchange(&SecretString::from(code.clone()), tiktok_shop::REDIRECT_URI).await.unwrap();
    let now = OffsetDateTime::from_unix_timestamp(sim.sim.ctx.clock.now_unix()).unwrap();
    adapter.validate(&credentials, now).await.unwrap();
    let refreshed = adapter.refresh(&credentials).await.unwrap();
    let query = OrderQuery {
        updated_after: OffsetDateTime::from_unix_timestamp(ORDERS_START).unwrap(),
        updated_before: OffsetDateTime::from_unix_timestamp(ORDERS_START + 50 * ORDER_INTERVAL).unwrap(),
    };
    sim.sim
        .ctx
        .faults
        .push(Fault::once(SimPlatform::TikTokShop, FaultKind::RateLimited { retry_after: None }));
    let orders = adapter.orders(&target(SHOP_ID), &refreshed, &query, None, Some(sealer())).await.unwrap();
    let stock = adapter.stock(&target(SHOP_ID), &refreshed, None).await.unwrap();
    let update = StockUpdate {
        sku: stock.items[0].sku.clone(),
        location: stock.items[0].location.clone(),
        quantity: 9,
    };
    adapter.set_stock(&target(SHOP_ID), &refreshed, &[update]).await.unwrap();
    let mut wrong = config(&sim);
    wrong.app_secret = SecretString::from("wrong-secret-value");
    assert!(TikTokShopAdapter::new(wrong).unwrap().stock(&target(SHOP_ID), &refreshed, None).await.is_err());
    assert!(!orders.items.is_empty());

    let logs = String::from_utf8_lossy(&capture.0.lock().unwrap()[from..]).into_owned();
    assert!(logs.contains("http request"), "the requests were logged at all:\n{logs}");
    let secrets = [
        credentials.access_token.expose_secret().to_owned(),
        credentials.refresh_token.as_ref().unwrap().expose_secret().to_owned(),
        refreshed.access_token.expose_secret().to_owned(),
        tiktok_shop::APP_SECRET.to_owned(),
        code,
        "wrong-secret-value".to_owned(),
    ];
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a secret leaked into the logs");
    }
    for (at, _) in logs.match_indices("sign=") {
        assert!(logs[at..].starts_with("sign=[REDACTED]"), "a signature leaked: {}", &logs[at..at + 20]);
    }
    assert!(!logs.contains("@scs2.tiktok.com") && !logs.contains("High Street"), "buyer pii leaked");
}
