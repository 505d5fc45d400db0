//! [`RecordingNotifier`]: remembers every notification; can be told to fail.

use std::sync::Mutex;

use async_trait::async_trait;
use custodian_core::ports::{Notification, Notifier, NotifyError};

use super::{InjectedFailure, lock};

/// How the notifier answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Mode {
    #[default]
    Deliver,
    Unavailable,
    Reject,
}

/// A [`Notifier`] that records what it delivered. Failed deliveries are not recorded (they did not happen)
/// but are counted in [`RecordingNotifier::attempts`].
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    mode: Mode,
    delivered: Vec<Notification>,
    attempts: u64,
}

impl RecordingNotifier {
    /// A notifier that delivers everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// With `true`, every delivery fails with [`NotifyError::Unavailable`] (retryable).
    pub fn fail(&self, on: bool) {
        lock(&self.state).mode = if on { Mode::Unavailable } else { Mode::Deliver };
    }

    /// With `true`, every delivery fails with [`NotifyError::Rejected`] (for good).
    pub fn reject(&self, on: bool) {
        lock(&self.state).mode = if on { Mode::Reject } else { Mode::Deliver };
    }

    /// What was delivered, in order.
    pub fn notifications(&self) -> Vec<Notification> {
        lock(&self.state).delivered.clone()
    }

    /// How many deliveries were attempted, failed ones included.
    pub fn attempts(&self) -> u64 {
        lock(&self.state).attempts
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    async fn notify(&self, notification: &Notification) -> Result<(), NotifyError> {
        let mut state = lock(&self.state);
        state.attempts += 1;
        match state.mode {
            Mode::Deliver => {
                state.delivered.push(notification.clone());
                Ok(())
            }
            Mode::Unavailable => Err(NotifyError::Unavailable(InjectedFailure::boxed("notifier"))),
            Mode::Reject => Err(NotifyError::Rejected("rejected by the recording notifier".to_owned())),
        }
    }
}
