//! The one integration test binary of custodian-keystore (style rule 32): the port contract suites, the
//! file's integrity and permissions, the data key cache, and that no secret reaches Debug output or logs.

// `cfg(test)` marks the helpers in these modules as test code for clippy (`allow-unwrap-in-tests`).
#[cfg(test)]
mod cache;
#[cfg(test)]
mod contract;
#[cfg(test)]
mod file;
#[cfg(test)]
mod redaction;
#[cfg(test)]
mod support;
