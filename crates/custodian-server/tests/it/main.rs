//! In-process tests of the HTTP API: the router over the testkit's fakes, requests sent with
//! `Router::oneshot` (style rule 32).
//!
//! - `matrix`: every endpoint × unauthenticated (401), missing role (403), wrong tenant (404, nothing
//!   leaked), missing or stale MFA (403), ENV-1 violations (403), and the allowed case.
//! - `bodies`: malformed, oversized, mistyped and invalid bodies (400/413/415/422) store nothing.
//! - `auth`: login with password and TOTP (ACC-2), identical failures, lockout, sessions, step-up, logout.
//! - `people`, `api_keys`, `tenants`, `audit`, `ops`: the endpoints' behaviour and their audit events.
//! - `grants`, `syncs`, `datasets`, `webhooks`: connect (consent URL, OAuth callback), validate, review,
//!   the PII switch, revoke with purge; syncs and their checkpoints; dataset reads with PII only for
//!   permitted readers; platform notifications (AUTH-6); the failure matrix of these endpoints; one flow
//!   against the simulator with the real Meta adapter.
//! - `changes`, `retention`, `rights`, `incidents`: change requests (four eyes, step-up, execution with
//!   read-back), retention sweeps, holds and receipts, rights requests, exports, deletion and offboarding,
//!   incidents from opening to closing; each with its failure matrix.
//! - `openapi`: `GET /v1/openapi.json` matches the router, resolves, names every error code and describes
//!   every JSON answer by its typed view; every success reply of every test is checked against it.
//! - `scale_out`: two servers over one store (processes behind one address) share pending OAuth consents
//!   and the replay memory of platform notifications.
//! - `secrets`: passwords, TOTP secrets, tokens and keys never in responses (but the one-time reveal),
//!   never in logs, never in the audit trail.

// `cfg(test)` marks the helpers in these modules as test code for clippy (`allow-unwrap-in-tests`).
#[cfg(test)]
mod api_keys;
#[cfg(test)]
mod audit;
#[cfg(test)]
mod auth;
#[cfg(test)]
mod bodies;
#[cfg(test)]
mod changes;
#[cfg(test)]
mod datasets;
#[cfg(test)]
mod grants;
#[cfg(test)]
mod incidents;
#[cfg(test)]
mod matrix;
#[cfg(test)]
mod openapi;
#[cfg(test)]
mod ops;
#[cfg(test)]
mod people;
#[cfg(test)]
mod retention;
#[cfg(test)]
mod rights;
#[cfg(test)]
mod scale_out;
#[cfg(test)]
mod secrets;
#[cfg(test)]
mod support;
#[cfg(test)]
mod syncs;
#[cfg(test)]
mod tenants;
#[cfg(test)]
mod webhooks;
