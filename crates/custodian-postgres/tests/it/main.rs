//! Integration tests of custodian-postgres against a real PostgreSQL server: `DATABASE_URL`, or
//! `postgres://postgres@127.0.0.1:5432/test` when unset (`cargo xtask ci` provides one, starting a throwaway
//! cluster when needed). Each test gets its own database, `custodian_test_<pid>_<n>_<nanos>`, created from
//! that URL, migrated with `MIGRATOR` as the connecting user (the tables' owner), and dropped when the test
//! ends, even when it fails.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail the test on a setup error"
)]

mod audit;
mod contracts;
mod dataset;
mod jobs;
mod pool;
mod rls;
mod schema;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use custodian_core::authz::Environment;
use custodian_postgres::{MIGRATOR, PgStore};
use custodian_testkit::fakes::ManualClock;
use custodian_testkit::fixtures::T0;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

#[expect(clippy::disallowed_methods, reason = "the test harness reads DATABASE_URL, as sqlx::test does")]
pub(crate) fn admin_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A fresh, migrated database and a store on it; dropped with the value.
pub(crate) struct TestDb {
    pub(crate) name: String,
    admin: PgConnectOptions,
    /// Connections as the migrating user: the owner of the tables, not bound by row-level security.
    pub(crate) owner: PgPool,
    pub(crate) store: PgStore,
    pub(crate) clock: Arc<ManualClock>,
}

impl TestDb {
    pub(crate) async fn new() -> TestDb {
        Self::with_connections(8).await
    }

    pub(crate) async fn with_connections(connections: u32) -> TestDb {
        let admin = PgConnectOptions::from_str(&admin_url()).expect("DATABASE_URL is a postgres url");
        let nanos = std::time::SystemTime::UNIX_EPOCH.elapsed().map(|d| d.subsec_nanos()).unwrap_or(0);
        let name =
            format!("custodian_test_{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let mut conn = admin.connect().await.unwrap_or_else(|e| {
            panic!("cannot connect to postgres at DATABASE_URL (run `cargo xtask ci test` to start one): {e}")
        });
        // The name is generated above from digits: no user text reaches this statement.
        sqlx::raw_sql(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
        let options = admin.clone().database(&name);
        let owner = PgPoolOptions::new().max_connections(connections).connect_with(options).await.unwrap();
        MIGRATOR.run(&owner).await.unwrap();
        let clock = Arc::new(ManualClock::new(T0));
        let store = PgStore::new(owner.clone(), clock.clone(), Environment::Development);
        TestDb { name, admin, owner, store, clock }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        // A helper thread with its own runtime drops the database (FORCE ends the pool's connections): Drop
        // cannot await, and may run while the test's runtime is unwinding.
        let dropper = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect_with(&admin).await {
                    let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            });
        });
        let _ = dropper.join();
    }
}

/// A run id unique to this process and call, for the contract suites.
pub(crate) fn run_id(label: &str) -> String {
    format!("{label}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}
