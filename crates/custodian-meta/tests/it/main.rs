//! Integration tests of the Meta adapter against the in-process simulator on loopback: the platform
//! contract suites, the OAuth, validation, sync and change flows, failures and faults, and secrecy.

// `cfg(test)` marks the helpers in these modules as test code for clippy (`allow-unwrap-in-tests`).
#[cfg(test)]
mod common;
#[cfg(test)]
mod contract;
#[cfg(test)]
mod flows;
#[cfg(test)]
mod secrets;
