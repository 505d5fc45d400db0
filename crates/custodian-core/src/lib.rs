//! Custodian's pure domain: the authorization, retention and audit policies, the ports that adapters
//! implement, and the use cases that drive them.
//!
//! This crate does no IO: no network, no files, no clock, no randomness of its own. Time and randomness are
//! parameters ([`ports::Clock`], [`ports::Rng`]). Every requirement it enforces is cited by its id from
//! `shared/design/requirements.md`; `docs/policy-map.md` maps each id to code and tests.

pub mod approval;
pub mod audit;
pub mod authz;
pub mod data;
pub mod grant;
mod id;
pub mod incident;
pub mod intake;
pub mod monitor;
pub mod personnel;
pub mod platform;
pub mod ports;
pub mod retention;
pub mod rights;
pub mod service;
pub mod tenant;

pub use id::{IdError, MAX_ID_LEN};
