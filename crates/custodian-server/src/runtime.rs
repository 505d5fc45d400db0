//! The runtime: everything a running server needs, built from one loaded [`Config`], and the HTTP serving
//! loop with graceful shutdown.
//!
//! [`Runtime::build`] first refuses a production configuration with development defaults (ENV-1,
//! [`Config::blocking_violations`]; other environments log the same findings as warnings), then wires:
//! - the store behind every store port: SQLite (`custodian-sqlite`, the embedded default) or PostgreSQL
//!   (`custodian-postgres`), each migrated with its crate's `MIGRATOR` on open ([`open_store`]);
//! - the secret store and key manager: `custodian-keystore`'s sealed file (with the configured key or
//!   passphrase, or a key generated into the data directory in development) or Vault/OpenBao with AppRole
//!   (`custodian-vault`);
//! - the adapters of each configured platform ([`platforms`]);
//! - the effects core only declares: [`SystemClock`], [`OsRng`], [`SystemNotifier`];
//! - [`AppState`] and the [`router`](crate::router).
//!
//! [`serve`] binds `config.listen` (or an override) and serves until Ctrl-C or SIGTERM, letting requests in
//! flight finish.

mod effects;
pub mod platforms;
mod secrets;
#[cfg(test)]
mod tests;

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use custodian_core::ports::{
    AuditLog, CaseStore, Clock, DatasetStore, GrantStore, JobQueue, PersonnelStore, Rng, StoreError,
    TenantStore,
};
use custodian_core::service::{Deps, Settings};
use custodian_postgres::PgStore;
use custodian_sqlite::SqliteStore;
use secrecy::ExposeSecret as _;
use tokio::net::TcpListener;

pub use effects::{OsRng, SystemClock, SystemNotifier};
pub use secrets::GENERATED_MASTER_KEY_FILE;

use crate::config::{Config, StoreConfig};
use crate::state::AppState;
use crate::worker::{Worker, WorkerSettings};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why the server could not be built or served. Messages name files and components, never secrets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// ENV-1: production with unsafe settings; every finding is listed.
    #[error("refusing to start in production: {}", .0.join("; "))]
    Refused(Vec<String>),
    #[error("cannot use the {what} `{path}`")]
    File {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("cannot open the store")]
    Store(#[source] StoreError),
    #[error("cannot set up the {0}")]
    Component(&'static str, #[source] BoxError),
    #[error("cannot set up the {platform} adapter")]
    Platform {
        platform: custodian_core::platform::Platform,
        #[source]
        source: BoxError,
    },
    #[error("cannot listen on `{addr}`")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the http server failed")]
    Serve(#[source] std::io::Error),
    #[error("cannot listen for shutdown signals")]
    Signal(#[source] std::io::Error),
}

impl RuntimeError {
    fn component(what: &'static str, error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Component(what, Box::new(error))
    }

    /// The ENV-1 findings when this is a refusal to start.
    pub fn violations(&self) -> Option<&[String]> {
        match self {
            Self::Refused(found) => Some(found),
            _ => None,
        }
    }
}

/// ENV-1: an error listing every blocking violation (production only); in other environments each finding
/// is logged as a warning and start-up goes on.
pub fn check_environment(config: &Config) -> Result<(), RuntimeError> {
    let blocking = config.blocking_violations();
    if !blocking.is_empty() {
        for violation in &blocking {
            tracing::error!(environment = %config.environment, violation = %violation, "unsafe setting");
        }
        return Err(RuntimeError::Refused(blocking));
    }
    for violation in config.violations() {
        tracing::warn!(environment = %config.environment, violation = %violation, "unsafe setting");
    }
    Ok(())
}

/// Every store port on the configured database.
#[derive(Clone)]
pub struct Store {
    pub tenants: Arc<dyn TenantStore>,
    pub grants: Arc<dyn GrantStore>,
    pub datasets: Arc<dyn DatasetStore>,
    pub audit: Arc<dyn AuditLog>,
    pub personnel: Arc<dyn PersonnelStore>,
    pub cases: Arc<dyn CaseStore>,
    /// The job queue the background worker leases from (shared by every process on one database).
    pub jobs: Arc<dyn JobQueue>,
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PgStore>),
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.backend {
            Backend::Sqlite(s) => f.debug_tuple("Store").field(s).finish(),
            Backend::Postgres(s) => f.debug_tuple("Store").field(s).finish(),
        }
    }
}

impl Store {
    fn from_backend(backend: Backend) -> Self {
        macro_rules! ports {
            ($s:expr) => {
                Store {
                    tenants: $s.clone(),
                    grants: $s.clone(),
                    datasets: $s.clone(),
                    audit: $s.clone(),
                    personnel: $s.clone(),
                    cases: $s.clone(),
                    jobs: $s.clone(),
                    backend: backend.clone(),
                }
            };
        }
        match &backend {
            Backend::Sqlite(s) => ports!(s),
            Backend::Postgres(s) => ports!(s),
        }
    }

    /// Closes the connection pools (a SQLite file is checkpointed).
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(s) => s.close().await,
            Backend::Postgres(s) => s.pool().close().await,
        }
    }
}

/// Opens (creating and migrating as needed) the configured store. Audit records are stamped with
/// `config.environment`; `clock` stamps storage times.
pub async fn open_store(config: &Config, clock: Arc<dyn Clock>) -> Result<Store, RuntimeError> {
    let backend = match &config.store {
        StoreConfig::Sqlite { path } => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                create_dir(parent)?;
            }
            let store =
                SqliteStore::open(path, config.environment, clock).await.map_err(RuntimeError::Store)?;
            Backend::Sqlite(Arc::new(store))
        }
        StoreConfig::Postgres { url, max_connections } => {
            let pool =
                PgStore::connect(url.expose_secret(), *max_connections).await.map_err(RuntimeError::Store)?;
            let store = PgStore::new(pool, clock, config.environment);
            store.migrate().await.map_err(RuntimeError::Store)?;
            Backend::Postgres(Arc::new(store))
        }
    };
    Ok(Store::from_backend(backend))
}

/// Creates `dir` (and its parents) with mode 0700 when missing.
fn create_dir(dir: &Path) -> Result<(), RuntimeError> {
    use std::os::unix::fs::DirBuilderExt as _;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|source| RuntimeError::File {
        what: "data directory",
        path: dir.to_owned(),
        source,
    })
}

/// A built server: the configuration it came from, the store and the application state.
pub struct Runtime {
    config: Config,
    store: Store,
    state: AppState,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("environment", &self.config.environment)
            .field("store", &self.store)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Builds everything from `config` with the system clock and the OS random generator. Refuses
    /// production with unsafe settings first (ENV-1).
    pub async fn build(config: Config) -> Result<Self, RuntimeError> {
        Self::build_with(config, Arc::new(SystemClock), Arc::new(OsRng)).await
    }

    /// [`Self::build`] with a given clock and random generator.
    pub async fn build_with(
        config: Config,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
    ) -> Result<Self, RuntimeError> {
        check_environment(&config)?;
        let store = open_store(&config, clock.clone()).await?;
        let backend = match secrets::open(&config, clock.clone(), rng.clone()) {
            Ok(backend) => backend,
            Err(e) => {
                store.close().await;
                return Err(e);
            }
        };
        let built = platforms::build(&config, &clock)?;
        let notifier = match &config.notifier.webhook_url {
            None => SystemNotifier::log_only(),
            Some(url) => SystemNotifier::with_webhook(url, config.outbound.allow_plain_http_loopback)?,
        };
        let deps = Deps {
            tenants: store.tenants.clone(),
            grants: store.grants.clone(),
            datasets: store.datasets.clone(),
            audit: store.audit.clone(),
            personnel: store.personnel.clone(),
            cases: store.cases.clone(),
            secrets: backend.secrets,
            keys: backend.keys,
            notifier: Arc::new(notifier),
            clock,
            rng,
            platforms: built.adapters,
        };
        let mut state = AppState::new(deps, policy_settings(&config), &config.security)
            .with_public_url(&config.public_url);
        if let Some(amazon) = built.amazon {
            state = state.with_amazon_adapter(amazon);
        }
        Ok(Self { config, store, state })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The background worker of this process over the store's job queue, on the configured schedule
    /// (`[worker]`: slot length and intervals; the other settings are [`WorkerSettings`]' defaults);
    /// `addr` (the listening address) and the process id name it in leases.
    pub fn worker(&self, addr: Option<SocketAddr>) -> Worker {
        let id = match addr {
            Some(addr) => format!("serve-{}-{addr}", std::process::id()),
            None => format!("serve-{}", std::process::id()),
        };
        Worker::new(self.state.services().clone(), self.store.jobs.clone(), id, worker_settings(&self.config))
    }

    /// The whole HTTP API.
    pub fn router(&self) -> Router {
        crate::router(self.state.clone())
    }

    /// Closes the store. The secrets backend (the keystore's file lock) is released when the last handle
    /// to the state is dropped.
    pub async fn close(self) {
        self.store.close().await;
    }
}

/// The policy settings of `config`: its environment (with its ENV-1 violations), MFA and export page over
/// [`Settings::new`]'s defaults.
pub fn policy_settings(config: &Config) -> Settings {
    let mut settings = Settings::new(config.environment);
    settings.environment_violations = config.violations();
    settings.mfa_required = config.security.mfa_required;
    settings.export_page = config.rights.export_page;
    settings
}

/// The worker settings of `config`: its `[worker]` schedule over [`WorkerSettings`]' defaults.
pub fn worker_settings(config: &Config) -> WorkerSettings {
    let seconds = |s: u32| time::Duration::seconds(i64::from(s));
    let schedule = &config.worker;
    WorkerSettings {
        tick: seconds(schedule.tick_seconds),
        sync_every: seconds(schedule.sync_every_seconds),
        validate_every: seconds(schedule.validate_every_seconds),
        retention_every: seconds(schedule.retention_every_seconds),
        monitor_every: seconds(schedule.monitor_every_seconds),
        ..WorkerSettings::default()
    }
}

/// Binds `addr`.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, RuntimeError> {
    TcpListener::bind(addr).await.map_err(|source| RuntimeError::Bind { addr, source })
}

/// Serves `router` on `listener` until `shutdown` completes, then lets requests in flight finish.
pub async fn serve_on(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RuntimeError> {
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await.map_err(RuntimeError::Serve)
}

/// A future that completes on Ctrl-C (SIGINT) or SIGTERM. Both handlers are installed before this returns,
/// so a signal that arrives once the caller reports readiness is never lost (nor kills the process).
pub fn shutdown_signal() -> Result<impl Future<Output = ()> + Send + 'static, RuntimeError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).map_err(RuntimeError::Signal)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(RuntimeError::Signal)?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("ctrl-c: shutting down"),
            _ = terminate.recv() => tracing::info!("sigterm: shutting down"),
        }
    })
}

/// Binds `listen` (default `config.listen`) and [`run`]s the runtime until Ctrl-C or SIGTERM.
pub async fn serve(runtime: Runtime, listen: Option<SocketAddr>) -> Result<(), RuntimeError> {
    let shutdown = shutdown_signal()?;
    let listener = bind(listen.unwrap_or(runtime.config.listen)).await?;
    run(runtime, listener, shutdown).await
}

/// Serves the runtime's router on `listener` and runs the background [`Worker`] beside it (scheduled
/// syncs, token health, retention, purges, monitors; leased through the store's job queue, so several
/// processes on one database never do the same job twice) until `shutdown` completes; then lets requests
/// in flight finish, waits for the worker to stop and closes the store.
pub async fn run(
    runtime: Runtime,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RuntimeError> {
    let addr = listener.local_addr().ok();
    if let Some(addr) = addr {
        tracing::info!(addr = %addr, environment = %runtime.config.environment, "listening");
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = runtime.worker(addr);
    let worker = tokio::spawn(async move {
        let mut stopped = stopped;
        worker.run(async move { while stopped.changed().await.is_ok() && !*stopped.borrow() {} }).await;
    });
    let served = serve_on(listener, runtime.router(), shutdown).await;
    let _ = stop.send(true);
    if let Err(e) = worker.await {
        tracing::error!(error = %e, "the background worker ended abnormally");
    }
    runtime.close().await;
    served
}
