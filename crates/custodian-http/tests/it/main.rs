//! The one integration test binary of custodian-http (style rule 32): real requests to canned plain-http
//! servers on 127.0.0.1 (`allow_plain_loopback`), the TLS ClientHello the client actually sends, and log
//! redaction.

// `cfg(test)` marks the helpers in these modules as test code for clippy (`allow-unwrap-in-tests`).
#[cfg(test)]
mod redaction;
#[cfg(test)]
mod send;
#[cfg(test)]
mod server;
#[cfg(test)]
mod stream;
#[cfg(test)]
mod tls;
