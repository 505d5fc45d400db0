//! Shared test support: stores in memory or in a private temporary file, a manual clock, raw SQL access
//! to a store's file (as an attacker or an operator with database access would have), tenants and grants.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use custodian_core::authz::Environment;
use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, Platform};
use custodian_core::ports::{DatasetQuery, GrantStore, TenantStore};
use custodian_core::tenant::TenantId;
use custodian_sqlite::SqliteStore;
use custodian_testkit::fakes::ManualClock;
use custodian_testkit::fixtures::{self, T0};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};

/// A temporary directory removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new() -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "custodian-sqlite-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A store over a fresh file, its clock and its directory (keep the directory alive).
pub(crate) struct FileStore {
    pub(crate) store: SqliteStore,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) dir: TempDir,
}

impl FileStore {
    pub(crate) async fn new() -> Self {
        let dir = TempDir::new();
        let clock = Arc::new(ManualClock::new(T0));
        let store =
            SqliteStore::open(dir.path().join("custodian.db"), Environment::Development, clock.clone())
                .await
                .unwrap();
        Self { store, clock, dir }
    }

    pub(crate) fn db_path(&self) -> PathBuf {
        self.dir.path().join("custodian.db")
    }

    /// A connection of its own to the file, outside the store.
    pub(crate) async fn raw(&self) -> SqliteConnection {
        let options = SqliteConnectOptions::new().filename(self.db_path()).foreign_keys(false);
        SqliteConnection::connect_with(&options).await.unwrap()
    }
}

/// An in-memory store and its clock.
pub(crate) async fn memory() -> (SqliteStore, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let store = SqliteStore::memory(Environment::Development, clock.clone()).await.unwrap();
    (store, clock)
}

/// A read of everything of tenant `t`: no filter, no limit.
pub(crate) fn query(t: &TenantId) -> DatasetQuery {
    DatasetQuery::everything(t.clone())
}

pub(crate) fn tenant(name: &str) -> TenantId {
    TenantId::new(name).unwrap()
}

pub(crate) fn grant(name: &str) -> GrantId {
    GrantId::new(name).unwrap()
}

/// Creates the tenant and an active grant on `platform` for `account`.
pub(crate) async fn setup(
    store: &SqliteStore,
    tenant: &TenantId,
    grant: &GrantId,
    platform: Platform,
    account: &AccountRef,
) {
    if store.tenant(tenant).await.is_err() {
        store.create_tenant(&fixtures::tenant(tenant), Vec::new()).await.unwrap();
    }
    let g = fixtures::active_grant(tenant, grant, platform, std::slice::from_ref(account), T0);
    store.insert_grant(&g, Vec::new()).await.unwrap();
}
