//! Ports: the traits adapters implement. Each method documents its error contract; adapter error types
//! never cross this boundary (every port error has one opaque `Unavailable` variant).

use time::OffsetDateTime;

/// The current time. Core never reads the clock itself.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// Cryptographically secure randomness, supplied by the caller (the server wires the OS generator).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Rng: Send + Sync {
    /// Fills `buf` with random bytes. MUST NOT fail; an implementation that cannot produce randomness
    /// aborts the process rather than return predictable bytes.
    fn fill(&self, buf: &mut [u8]);
}
