//! `custodian-sim`: a faithful stand-in for the five platform APIs Custodian talks to (Meta Marketing API,
//! TikTok API for Business, TikTok Shop Partner API, Amazon SP-API, eBay Sell APIs), served over plain HTTP on
//! loopback.
//!
//! The simulator follows the real APIs (their envelopes, error codes, pagination, headers, signatures and
//! published rate limits, as documented in `shared/reference` and the official models in `shared/specs`),
//! never Custodian's adapters: tests, benchmarks and `custodian demo` all talk to it, so it is what keeps the
//! adapters honest without internet access.
//!
//! Each platform lives under its own path prefix of one server:
//!
//! | platform     | prefix          | module            |
//! |--------------|-----------------|-------------------|
//! | Meta         | `/meta`         | [`meta`]          |
//! | TikTok Ads   | `/tiktok`       | [`tiktok`]        |
//! | TikTok Shop  | `/tiktok-shop`  | [`tiktok_shop`]   |
//! | Amazon       | `/amazon`       | [`amazon`]        |
//! | eBay         | `/ebay`         | [`ebay`]          |
//!
//! Data is generated deterministically from a seed, row by row, so any volume costs no memory. Faults (429
//! with hints, 5xx, delays, truncated bodies, tokens revoked mid-sync) are injected through [`Faults`].
//!
//! ```text
//! let running = Sim::new(SimConfig::default()).start("127.0.0.1:0".parse()?).await?;
//! let meta_graph = format!("{}/meta/graph", running.base_url());
//! ```

pub mod amazon;
pub mod clock;
pub mod ebay;
pub mod faults;
pub mod meta;
pub mod rate;
pub mod seed;
pub mod tiktok;
pub mod tiktok_shop;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use clock::SimClock;
pub use faults::{Fault, FaultKind, Faults, SimPlatform};

/// Everything every platform module shares: the seed, the fault plan, the clock and the server's own URL.
#[derive(Debug, Clone)]
pub struct SimContext {
    /// The seed all generated data derives from.
    pub seed: u64,
    pub faults: Faults,
    pub clock: SimClock,
    base_url: Arc<OnceLock<String>>,
}

impl SimContext {
    /// A context with `seed`, no faults and the system clock.
    pub fn new(seed: u64) -> Self {
        Self { seed, faults: Faults::default(), clock: SimClock::default(), base_url: Arc::default() }
    }

    /// The server's base URL (`http://127.0.0.1:PORT`), once it listens; empty before.
    pub fn base_url(&self) -> &str {
        self.base_url.get().map_or("", String::as_str)
    }
}

/// The simulator's configuration: one seed and each platform's own settings.
#[derive(Debug, Clone, Default)]
pub struct SimConfig {
    pub seed: u64,
    pub meta: meta::MetaConfig,
    pub tiktok: tiktok::TikTokConfig,
    pub tiktok_shop: tiktok_shop::TikTokShopConfig,
    pub amazon: amazon::AmazonConfig,
    pub ebay: ebay::EbayConfig,
}

/// The five simulated platforms behind one router.
#[derive(Debug, Clone)]
pub struct Sim {
    pub ctx: SimContext,
    pub meta: Arc<meta::MetaSim>,
    pub tiktok: Arc<tiktok::TikTokSim>,
    pub tiktok_shop: Arc<tiktok_shop::TikTokShopSim>,
    pub amazon: Arc<amazon::AmazonSim>,
    pub ebay: Arc<ebay::EbaySim>,
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    #[error("cannot listen on `{addr}`")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the simulator only serves loopback addresses, not `{0}`")]
    NotLoopback(SocketAddr),
}

impl Sim {
    /// Builds every platform from `config`.
    pub fn new(config: SimConfig) -> Self {
        let ctx = SimContext::new(config.seed);
        Self {
            meta: Arc::new(meta::MetaSim::new(ctx.clone(), config.meta)),
            tiktok: Arc::new(tiktok::TikTokSim::new(ctx.clone(), config.tiktok)),
            tiktok_shop: Arc::new(tiktok_shop::TikTokShopSim::new(ctx.clone(), config.tiktok_shop)),
            amazon: Arc::new(amazon::AmazonSim::new(ctx.clone(), config.amazon)),
            ebay: Arc::new(ebay::EbaySim::new(ctx.clone(), config.ebay)),
            ctx,
        }
    }

    /// The router serving all five platforms under their prefixes, each behind its fault layer.
    pub fn router(&self) -> Router {
        Router::new()
            .nest(
                "/meta",
                faults::layer(SimPlatform::Meta, &self.ctx.faults, self.meta.clone(), self.meta.router()),
            )
            .nest(
                "/tiktok",
                faults::layer(
                    SimPlatform::TikTok,
                    &self.ctx.faults,
                    self.tiktok.clone(),
                    self.tiktok.router(),
                ),
            )
            .nest(
                "/tiktok-shop",
                faults::layer(
                    SimPlatform::TikTokShop,
                    &self.ctx.faults,
                    self.tiktok_shop.clone(),
                    self.tiktok_shop.router(),
                ),
            )
            .nest(
                "/amazon",
                faults::layer(
                    SimPlatform::Amazon,
                    &self.ctx.faults,
                    self.amazon.clone(),
                    self.amazon.router(),
                ),
            )
            .nest(
                "/ebay",
                faults::layer(SimPlatform::Ebay, &self.ctx.faults, self.ebay.clone(), self.ebay.router()),
            )
    }

    /// Listens on `addr` (a loopback address; port 0 picks one) and serves in a background task until the
    /// returned handle is dropped or shut down.
    pub async fn start(self, addr: SocketAddr) -> Result<RunningSim, SimError> {
        if !addr.ip().is_loopback() {
            return Err(SimError::NotLoopback(addr));
        }
        let listener = TcpListener::bind(addr).await.map_err(|source| SimError::Bind { addr, source })?;
        let local = listener.local_addr().map_err(|source| SimError::Bind { addr, source })?;
        let base_url = format!("http://{local}");
        // A context is started at most once; a second start keeps the first URL.
        let _ = self.ctx.base_url.set(base_url.clone());
        let router = self.router();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(error) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
                tracing::warn!(error = %error, "simulator server stopped");
            }
        });
        Ok(RunningSim { sim: self, addr: local, base_url, stop: Some(stop), task })
    }
}

/// A simulator serving on loopback. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningSim {
    pub sim: Sim,
    addr: SocketAddr,
    base_url: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningSim {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Stops accepting connections and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
