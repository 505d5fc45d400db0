//! Custodian's storage ports on SQLite: the embedded default store (`custodian serve` with no configuration).
//!
//! [`SqliteStore`] implements every storage port of `custodian_core::ports` (`TenantStore`, `GrantStore`,
//! `DatasetStore`, `AuditLog`, `PersonnelStore`, `CaseStore`, `JobQueue`) over one SQLite file, with the
//! same schema as `custodian-postgres` (`migrations/`, embedded as [`MIGRATOR`]).
//!
//! How the contracts hold here:
//! - Writes go through one writer connection and `BEGIN IMMEDIATE`, so every write transaction (and the
//!   audit chain head it reads) is serialized, in this process by the writer pool and across processes by
//!   SQLite's write lock: a tenant's chain never forks (AUD-2). Each mutating call appends its audit events
//!   in the same transaction as its change; if the append fails, the transaction rolls back
//!   ([`custodian_core::ports::StoreError::AuditFailed`]).
//! - Readers use their own connections; WAL mode lets them read while a write is in progress. The reads
//!   every request makes (credentials, tenant, decision cases, dataset pages) run on read-only connections
//!   of this crate with cached statements, on the caller's thread (`read`).
//! - Every query on a tenant table filters `tenant_id = ?` first (SEG-1); another tenant's record is
//!   `NotFound`, never visible and never changed.
//! - Only bind parameters carry values into SQL (runtime-checked `sqlx::query`, no compile-time macros);
//!   statement text is assembled only from this crate's constant fragments (table and column names, the
//!   number of `(?, …)` groups of a multi-row statement, optional filter clauses), never from input.
//! - Timestamps are stored as Unix nanoseconds (`INTEGER`, 1677 to 2262; instants outside are `Invalid`),
//!   days as `YYYY-MM-DD` text; see `migrations/0001_schema.sql` for the conventions.
//! - sqlx errors never leave the crate: they are mapped to the port errors (unique violation → `Conflict`,
//!   foreign key or check violation → `Invalid`, the rest → `Unavailable` with a message-only source).
//! - The clock and the environment (ENV-1, stamped into audit records) are parameters; the store never
//!   reads the system clock.

mod audit;
mod cases;
mod codec;
mod dataset;
mod error;
mod flow_state;
mod grants;
mod jobs;
mod personnel;
mod read;
mod store;
mod tenants;
mod wire;

pub use error::CorruptError;
pub use store::{MIGRATOR, SqliteStore, VerifyError};
