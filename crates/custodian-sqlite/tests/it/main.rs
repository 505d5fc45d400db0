//! The one integration test binary of custodian-sqlite (style rule 32): the contract suites, tenant
//! isolation, ingest atomicity, audit chains under concurrency and tampering, the job queue under
//! concurrent workers, the flow state shared by processes on one file, the read path's connections, input
//! limits, and the schema's security properties (and its migrations).

// `cfg(test)` marks the helpers in these modules as test code for clippy (`allow-unwrap-in-tests`).
#[cfg(test)]
mod audit;
#[cfg(test)]
mod contract;
#[cfg(test)]
mod flow_state;
#[cfg(test)]
mod ingest;
#[cfg(test)]
mod input;
#[cfg(test)]
mod isolation;
#[cfg(test)]
mod jobs;
#[cfg(test)]
mod read;
#[cfg(test)]
mod schema;
#[cfg(test)]
mod support;
