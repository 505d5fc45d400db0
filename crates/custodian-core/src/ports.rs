//! Ports: the traits adapters implement, used as `Arc<dyn Port>`. Each method documents its error contract;
//! adapter error types never cross this boundary (each port error has one opaque `Unavailable` variant).
//!
//! Submodules: [`platform`] (the five APIs), [`store`] (the database), [`secrets`] (credentials and keys),
//! [`group_commit`] (the audit group-commit queue the stores share), and the effects below (clock,
//! randomness, notifications).

pub mod group_commit;
pub mod platform;
pub mod secrets;
pub mod store;

use std::error::Error as StdError;

use time::OffsetDateTime;

pub use platform::*;
pub use secrets::*;
pub use store::*;

/// An adapter's own error, carried opaquely inside an `Unavailable` variant.
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// The current time. Core never reads the clock itself.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// Cryptographically secure randomness, supplied by the caller (the server wires the OS generator).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Rng: Send + Sync {
    /// Fills `buf` with random bytes. MUST NOT return predictable bytes; an implementation that cannot
    /// produce randomness aborts the process instead.
    fn fill(&self, buf: &mut [u8]);
}

/// What a notification is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// A monitoring alert (MON-1).
    Alert(crate::monitor::Alert),
    /// An incident notification to an affected client or marketplace partner (INC-1).
    Incident {
        incident: crate::incident::IncidentId,
        recipient: crate::incident::Recipient,
        due_at: OffsetDateTime,
        summary: String,
    },
}

/// Why a notification could not be delivered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    #[error("notification rejected: {0}")]
    Rejected(String),
    #[error("notifier unavailable")]
    Unavailable(#[source] BoxError),
}

/// Outgoing alerts and incident notifications (MON-1, INC-1).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait Notifier: Send + Sync {
    /// Delivers `notification`. MUST return [`NotifyError::Unavailable`] when delivery failed and may be
    /// retried, and [`NotifyError::Rejected`] when the receiver refused it for good.
    async fn notify(&self, notification: &Notification) -> Result<(), NotifyError>;
}
