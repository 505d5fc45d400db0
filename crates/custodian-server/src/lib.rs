//! `custodian-server`: Custodian's HTTP API, webhook receivers and background workers, as thin wiring of
//! `custodian-core`'s use cases to the adapters.
//!
//! - [`config`]: the one typed configuration (file plus `CUSTODIAN_*` environment overrides) with the ENV-1
//!   checks that stop production from starting on development defaults.
//! - [`router`] and [`AppState`]: the JSON API under `/v1` (people and authentication, API keys, tenants and
//!   contacts, the audit trail) plus `/healthz`, `/readyz` and `/metrics`. Every handler authenticates
//!   (session or API key), asks `custodian_core::authz::decide` (the decision is appended to the audit
//!   chain, AUTH-7), runs the use case and records what changed in the same store call (AUD-2).
//! - [`init_admin`]: the bootstrap `custodian init` calls to create the first admin.
//! - [`runtime`]: everything built from a [`config::Config`] (store, secrets, platform adapters, clock,
//!   randomness, notifier, state, router) and `serve` with graceful shutdown; ENV-1 refusal at start.
//! - [`verify_audit_chain`]: the chain verification `custodian audit verify` and the API share.
//!
//! Errors leave as JSON `{code, message}` with stable codes ([`ErrorCode`]); internals are logged once by the
//! request middleware and never sent.

pub mod config;
pub mod runtime;
pub mod worker;

mod api;
mod authn;
mod bootstrap;
mod error;
mod extract;
mod guard;
mod metrics;
mod middleware;
mod state;
mod usecase;
mod wire;

pub use api::router;
pub use bootstrap::{InitAdmin, InitError, init_admin};
pub use error::ErrorCode;
pub use state::AppState;
pub use usecase::audit::{ChainFailure, ChainReport, verify_audit_chain};
