//! The one integration test binary of custodian-tiktok (style rule 32): the adapter against the in-process
//! TikTok simulator on loopback (`custodian-sim`): the platform contract suites, the OAuth and sync flows
//! with injected faults, and a log capture proving no secret reaches the logs.

// `cfg(test)` marks the helpers in these modules as test code for clippy (`allow-unwrap-in-tests`).
#[cfg(test)]
mod contract;
#[cfg(test)]
mod env;
#[cfg(test)]
mod flows;
#[cfg(test)]
mod redaction;
