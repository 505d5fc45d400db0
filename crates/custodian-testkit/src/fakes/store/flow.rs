//! The flow state of `GrantStore` for [`MemoryStore`]: pending OAuth consents by the hash of their state,
//! and claimed platform signals with the end of their claim. Not audited (the port says so); one lock, so
//! takes and claims are atomic.

use std::collections::HashMap;

use custodian_core::audit::Hash;
use custodian_core::ports::{MAX_REDIRECT_URI_BYTES, PendingConsent, StoreError, replay_window_end};
use time::{Duration, OffsetDateTime};

/// Consents and signal claims.
#[derive(Debug, Default)]
pub(super) struct Flow {
    consents: HashMap<Hash, PendingConsent>,
    /// Signal key → when its claim ends.
    signals: HashMap<Hash, OffsetDateTime>,
}

impl Flow {
    pub(super) fn put_consent(
        &mut self,
        consent: &PendingConsent,
        max_pending: usize,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        if consent.redirect_uri.len() > MAX_REDIRECT_URI_BYTES || consent.redirect_uri.contains('\0') {
            return Err(StoreError::Invalid(format!(
                "redirect uri must be at most {MAX_REDIRECT_URI_BYTES} bytes without nul bytes"
            )));
        }
        self.consents.retain(|_, c| c.expires_at > now);
        if self.consents.len() >= max_pending {
            return Err(StoreError::Conflict("too many consents are pending".to_owned()));
        }
        if self.consents.contains_key(&consent.state_hash) {
            return Err(StoreError::Conflict("a consent with the same state is pending".to_owned()));
        }
        self.consents.insert(consent.state_hash, consent.clone());
        Ok(())
    }

    pub(super) fn pending_consents(&self, now: OffsetDateTime) -> usize {
        self.consents.values().filter(|c| c.expires_at > now).count()
    }

    pub(super) fn take_consent(&mut self, state_hash: &Hash, now: OffsetDateTime) -> Option<PendingConsent> {
        self.consents.remove(state_hash).filter(|c| c.expires_at > now)
    }

    pub(super) fn claim_signal(
        &mut self,
        key: &Hash,
        now: OffsetDateTime,
        window: Duration,
    ) -> Result<bool, StoreError> {
        let ends = replay_window_end(now, window)?;
        self.signals.retain(|_, end| *end > now);
        if self.signals.contains_key(key) {
            return Ok(false);
        }
        self.signals.insert(*key, ends);
        Ok(true)
    }

    pub(super) fn release_signal(&mut self, key: &Hash) {
        self.signals.remove(key);
    }
}
