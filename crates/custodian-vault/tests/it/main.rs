//! The one integration test binary of custodian-vault (style rule 32). Most tests run against a real
//! OpenBao dev server each test starts on a free loopback port ([`server`]); a small fake HTTP server
//! ([`fake`]) covers only what a real server cannot show on demand (5xx, 429, timeouts, sealed, malformed
//! bodies).

// `cfg(test)` marks the helpers in these modules as test code for clippy (`allow-unwrap-in-tests`).
#[cfg(test)]
mod auth;
#[cfg(test)]
mod calls;
#[cfg(test)]
mod config;
#[cfg(test)]
mod contract;
#[cfg(test)]
mod fake;
#[cfg(test)]
mod faults;
#[cfg(test)]
mod redaction;
#[cfg(test)]
mod server;
#[cfg(test)]
mod shredding;
#[cfg(test)]
mod tls;
