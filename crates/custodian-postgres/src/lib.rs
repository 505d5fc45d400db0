//! Custodian's production store: every storage port of `custodian-core` (`TenantStore`, `GrantStore`,
//! `DatasetStore`, `AuditLog`, `PersonnelStore`, `CaseStore`, `JobQueue`) on PostgreSQL through sqlx.
//!
//! - Schema: `migrations/`, embedded as [`MIGRATOR`]. Every tenant table has `tenant_id` first in its key.
//! - Tenant isolation (SEG-1): every transaction switches to the application role [`APP_ROLE`] (not the
//!   tables' owner) and sets `custodian.tenant`; row-level security policies admit only that tenant's rows.
//!   The few cross-tenant lookups the ports need (`locate_by_account`, `locate_by_owner`, `stale_grants`,
//!   `chains`, `tenants`) go through SECURITY DEFINER functions that return identifiers.
//! - Audit (AUD-2): a mutating call's events are appended in the same transaction as its change, under a
//!   row lock on the tenant's chain head, so the chain never forks and nothing is written if the append
//!   fails. [`PgStore::verify_chain`] re-verifies a chain straight from the database.
//! - Datasets: idempotent bulk upserts from column arrays with exact counts: report rows by the cheapest of
//!   three plans that is correct for the page (new rows: plain `INSERT`; otherwise classify, then insert
//!   or update only what differs; under a concurrent writer: `ON CONFLICT DO UPDATE … WHERE the row
//!   differs`), the other kinds by update-then-insert CTEs with the same fallback; purges in bounded batches
//!   by `ctid`. Ingest transactions alone commit asynchronously ([`INGEST_SYNCHRONOUS_COMMIT`]).
//! - Jobs: `FOR UPDATE SKIP LOCKED` leases with expiry and fencing tokens.
//! - Flow state (`flow_state`): pending OAuth consents and claimed platform signals in global tables, so
//!   every process on the database shares them; taken and claimed atomically (`DELETE … RETURNING`,
//!   `INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING`).
//!
//! No sqlx type crosses the port boundary: database errors become [`StoreError`] or [`JobQueueError`]
//! variants (unique violations `Conflict`, bad input `Invalid`, the rest `Unavailable` carrying a
//! [`DatabaseError`]). All SQL is constant text with bind parameters.
//!
//! [`StoreError`]: custodian_core::ports::StoreError
//! [`JobQueueError`]: custodian_core::ports::JobQueueError

mod audit;
mod cases;
mod check;
mod dataset;
mod error;
mod flow_state;
mod grants;
mod jobs;
mod personnel;
mod tenants;
mod verify;
mod wire;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use custodian_core::authz::Environment;
use custodian_core::ports::{Clock, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sqlx::{PgPool, Postgres, Transaction};
use time::OffsetDateTime;

pub use error::DatabaseError;
pub use verify::{ChainReport, ChainStatus};

/// The embedded migrations: the schema, row-level security and the cross-tenant functions.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The application role every transaction switches to. The migrations create it (`NOLOGIN`) and grant it
/// to the migrating user; it owns nothing, so row-level security binds it.
pub const APP_ROLE: &str = "custodian_app";

/// `synchronous_commit` of a dataset ingest transaction (`upsert_report_rows`, `upsert_campaigns`,
/// `upsert_orders`, `upsert_stock`), set transaction-locally: every other transaction keeps the server's
/// setting (`on`).
///
/// With `off` the commit returns once its WAL is written, not flushed: the WAL writer flushes it within
/// about three times `wal_writer_delay` (600 ms by default). Measured for the issue 3 workload (100 pages
/// of 5,000 report rows, one transaction each, PostgreSQL 15 on the CI machine's disk): the commits took
/// 510-530 ms in all with the flush and 60-90 ms without, about an eighth of the whole ingest. It costs no
/// CPU either way, so on an otherwise idle server the gain is all wall time. What it risks and why that is
/// acceptable for an ingest, and only for one:
///
/// - Atomicity and consistency are unchanged. A crash (of the server or the machine, not of this
///   process) can lose the last ingests acknowledged before it, each entirely: its rows, its sync
///   checkpoint and its audit events (with the chain head) vanish together, so no half page, no gap in
///   the audit chain (AUD-2 holds: an ingest whose audit record is lost did not happen either), and the
///   checkpoint still points before the lost pages, so the next sync pulls them again from the platform.
/// - Order is kept: WAL is flushed in order, so once any later transaction commits synchronously (a job
///   completion, an audit append, a deletion receipt) every ingest before it is durable too. Nothing
///   durable can refer to a lost ingest.
/// - Transactions whose loss could not be repaired by pulling again (deletions and their receipts,
///   purges, anonymisation, grants, cases, audit appends of their own, jobs) keep synchronous commits.
pub const INGEST_SYNCHRONOUS_COMMIT: &str = "off";

/// How long a pooled connection may sit idle and still be handed out without a ping first
/// ([`PgStore::connect`]): one idle longer may have been cut off (a server restart, a firewall's idle
/// timeout) and is checked, one in steady use is not.
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(10);

/// Every storage port on one PostgreSQL connection pool.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    clock: Arc<dyn Clock>,
    environment: Environment,
    /// Stand-alone audit appends waiting for the group writer (`AuditLog::append`, see `audit`).
    appends: Arc<custodian_core::ports::group_commit::AppendQueue>,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("environment", &self.environment)
            .field("connections", &self.pool.size())
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// A store over `pool` (already migrated with [`MIGRATOR`]). `clock` stamps `stored_at` and
    /// `updated_at`; audit records carry `environment` (ENV-1).
    pub fn new(pool: PgPool, clock: Arc<dyn Clock>, environment: Environment) -> Self {
        Self { pool, clock, environment, appends: Arc::default() }
    }

    /// Connects a pool of at most `max_connections` to `url`. A server that is not on a loopback address
    /// or a Unix socket must be reached with `sslmode=verify-full` or `verify-ca` (TLS-1; sqlx uses rustls,
    /// TLS 1.2 or higher).
    ///
    /// A pooled connection is pinged before it is handed out only if it sat idle for
    /// [`PING_AFTER_IDLE`] or longer (one that failed the ping is closed and another taken). A connection
    /// in steady use is not: sqlx pings every connection as it goes back to the pool, and a ping before
    /// each use as well was one round trip of the four or five each store call made.
    pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, StoreError> {
        Self::connect_pinging_after(url, max_connections, PING_AFTER_IDLE).await
    }

    /// [`PgStore::connect`] with connections pinged before use once idle for `ping_after_idle`
    /// ([`Duration::ZERO`]: before every use).
    pub async fn connect_pinging_after(
        url: &str,
        max_connections: u32,
        ping_after_idle: Duration,
    ) -> Result<PgPool, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|_| StoreError::Invalid("the database url is not a valid postgres url".to_owned()))?;
        check_tls(&options)?;
        PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(false)
            .before_acquire(move |conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= ping_after_idle {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .map_err(error::store)
    }

    /// Runs the embedded migrations on the store's pool.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Unavailable(Box::new(DatabaseError::migrate(&e))))
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The environment stamped into audit records.
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// The clock's time, floored to the microsecond (what `timestamptz` keeps).
    fn now(&self) -> OffsetDateTime {
        micros(self.clock.now())
    }

    /// Begins a transaction as [`APP_ROLE`] scoped to `tenant` (`""` for global tables only: no tenant row
    /// is visible). Both settings are transaction-local, so they end with the transaction.
    ///
    /// One round trip where it can: `BEGIN` and the settings go as one simple query when `tenant` is a plain
    /// identifier ([`inline_literal`]); any other tenant text is bound as a parameter in a second round trip,
    /// never written into SQL.
    async fn begin(&self, tenant: &str) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.begin_with_settings(tenant, &[]).await
    }

    /// [`PgStore::begin`] with more transaction-local settings (constants of this crate, never input).
    pub(crate) async fn begin_with_settings(
        &self,
        tenant: &str,
        settings: &[(&'static str, &'static str)],
    ) -> Result<Transaction<'static, Postgres>, StoreError> {
        let more: String =
            settings.iter().map(|(name, value)| format!(", set_config('{name}', '{value}', true)")).collect();
        if let Some(literal) = inline_literal(tenant) {
            return self
                .pool
                .begin_with(format!(
                    "BEGIN; SELECT set_config('role', '{APP_ROLE}', true), \
                     set_config('custodian.tenant', {literal}, true){more}"
                ))
                .await
                .map_err(error::store);
        }
        let mut tx = self.pool.begin().await.map_err(error::store)?;
        sqlx::query(&format!(
            "SELECT set_config('role', $1, true), set_config('custodian.tenant', $2, true){more}"
        ))
        .bind(APP_ROLE)
        .bind(tenant)
        .execute(&mut *tx)
        .await
        .map_err(error::store)?;
        Ok(tx)
    }

    /// [`PgStore::begin`] for a bulk ingest, with three more transaction-local settings.
    ///
    /// - Hash and merge joins are off. Every join of an ingest statement pairs a chunk of a page (at most
    ///   5,000 rows) with the stored rows of the same keys, which one primary-key lookup per row serves
    ///   best; with statistics that lag behind a table growing by whole pages the planner would otherwise
    ///   hash the tenant's every row, for every page.
    /// - `synchronous_commit` is [`INGEST_SYNCHRONOUS_COMMIT`] (`off`): see there for the trade-off.
    async fn begin_ingest(&self, tenant: &str) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.begin_with_settings(
            tenant,
            &[
                ("enable_hashjoin", "off"),
                ("enable_mergejoin", "off"),
                ("synchronous_commit", INGEST_SYNCHRONOUS_COMMIT),
            ],
        )
        .await
    }
}

/// `raw` as a quoted SQL literal if it is 0 to 64 characters of ASCII letters, digits, `-`, `_`, `.` and
/// `:` (which need no escaping in any quoting mode), else `None`: the caller binds it instead.
fn inline_literal(raw: &str) -> Option<String> {
    let plain = raw.len() <= 64
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    plain.then(|| format!("'{raw}'"))
}

/// Refuses a remote server without certificate verification (TLS-1).
fn check_tls(options: &PgConnectOptions) -> Result<(), StoreError> {
    let host = options.get_host();
    let local = host.starts_with('/')
        || host == "localhost"
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    let verified = matches!(options.get_ssl_mode(), PgSslMode::VerifyCa | PgSslMode::VerifyFull);
    if local || verified {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "postgres host `{host}` is not local: connect with sslmode=verify-full (TLS-1)"
        )))
    }
}

/// `t` floored to the microsecond, in UTC: what a `timestamptz` column holds. Binding only such values keeps
/// sqlx's conversion exact on both sides of the PostgreSQL epoch.
pub(crate) fn micros(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000).unwrap_or(t)
}

/// A count from the database as the ports' `u64`.
pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::inline_literal;

    #[test]
    fn only_plain_identifiers_are_written_into_sql() {
        assert_eq!(inline_literal("tenant-a").as_deref(), Some("'tenant-a'"));
        assert_eq!(inline_literal("").as_deref(), Some("''"));
        assert_eq!(inline_literal("acme.eu:01_x").as_deref(), Some("'acme.eu:01_x'"));
        for bound in ["o'hare", "a\\b", "x;y", "a b", "$1", "t\"", &"a".repeat(65)] {
            assert_eq!(inline_literal(bound), None, "{bound}");
        }
    }
}
