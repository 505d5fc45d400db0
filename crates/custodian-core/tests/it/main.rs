//! Integration tests of custodian-core: the use cases end to end over the testkit fakes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly on broken fixtures"
)]

mod interaction;
mod service;
