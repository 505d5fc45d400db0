//! Integration tests of `custodian-amazon` against the in-process simulator on loopback: the testkit
//! contract suites (`Authorizer`, `CommerceChannel` on both Orders APIs), the OAuth and revocation flows,
//! paging, rate limits, faults, minimization and the absence of secrets in logs.

mod contract;
mod flows;
mod logs;
mod support;
