//! The one integration test binary of custodian-tiktok-shop (style rule 32): the adapter against the
//! in-process simulator on loopback (`custodian_sim::tiktok_shop`), the testkit contract suites, the
//! authorization and sync flows, webhooks, and log redaction.

// `cfg(test)` marks the helpers in these modules as test code for clippy (`allow-unwrap-in-tests`).
#[cfg(test)]
mod contract;
#[cfg(test)]
mod flows;
#[cfg(test)]
mod redaction;
#[cfg(test)]
mod signals;
#[cfg(test)]
mod support;
