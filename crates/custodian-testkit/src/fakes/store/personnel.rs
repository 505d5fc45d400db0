//! `PersonnelStore` for [`MemoryStore`]: people, login material, sessions and API keys. Global, so their
//! audit events go to the system chain.

use async_trait::async_trait;
use custodian_core::audit::{NewAuditEvent, system_tenant};
use custodian_core::personnel::token::TokenHash;
use custodian_core::personnel::{ApiKey, ApiKeyId, Person, PersonId};
use custodian_core::ports::{PersonCredential, PersonnelStore, SessionRecord, StoreError};
use time::OffsetDateTime;

use super::MemoryStore;

#[async_trait]
impl PersonnelStore for MemoryStore {
    async fn create_person(
        &self,
        person: &Person,
        credential: &PersonCredential,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        if credential.person != person.id {
            return Err(StoreError::Invalid("the credential belongs to another person".to_owned()));
        }
        self.mutate(&system_tenant(), audit, |state, _| {
            if state.people.contains_key(&person.id) {
                return Err(StoreError::Conflict(format!("person `{}` exists", person.id)));
            }
            state.people.insert(person.id.clone(), person.clone());
            state.credentials.insert(person.id.clone(), credential.clone());
            Ok(())
        })
    }

    async fn person(&self, id: &PersonId) -> Result<Person, StoreError> {
        self.read(|state| state.people.get(id).cloned().ok_or(StoreError::NotFound))
    }

    async fn people(&self) -> Result<Vec<Person>, StoreError> {
        self.read(|state| Ok(state.people.values().cloned().collect()))
    }

    async fn update_person(&self, person: &Person, audit: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        self.mutate(&system_tenant(), audit, |state, _| {
            *state.people.get_mut(&person.id).ok_or(StoreError::NotFound)? = person.clone();
            Ok(())
        })
    }

    async fn credential(&self, id: &PersonId) -> Result<PersonCredential, StoreError> {
        self.read(|state| state.credentials.get(id).cloned().ok_or(StoreError::NotFound))
    }

    async fn set_credential(
        &self,
        credential: &PersonCredential,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        self.mutate(&system_tenant(), audit, |state, _| {
            *state.credentials.get_mut(&credential.person).ok_or(StoreError::NotFound)? = credential.clone();
            Ok(())
        })
    }

    async fn create_session(
        &self,
        session: &SessionRecord,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        self.mutate(&system_tenant(), audit, |state, _| {
            let key = *session.token_hash.as_bytes();
            if state.sessions.contains_key(&key) {
                return Err(StoreError::Conflict("a session with this token exists".to_owned()));
            }
            state.sessions.insert(key, session.clone());
            Ok(())
        })
    }

    async fn session(&self, token_hash: &TokenHash) -> Result<SessionRecord, StoreError> {
        self.read(|state| state.sessions.get(token_hash.as_bytes()).cloned().ok_or(StoreError::NotFound))
    }

    async fn set_session_mfa(&self, token_hash: &TokenHash, at: OffsetDateTime) -> Result<(), StoreError> {
        self.mutate(&system_tenant(), Vec::new(), |state, _| {
            state.sessions.get_mut(token_hash.as_bytes()).ok_or(StoreError::NotFound)?.mfa_verified_at =
                Some(at);
            Ok(())
        })
    }

    async fn revoke_session(
        &self,
        token_hash: &TokenHash,
        at: OffsetDateTime,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        self.mutate(&system_tenant(), audit, |state, _| {
            let session = state.sessions.get_mut(token_hash.as_bytes()).ok_or(StoreError::NotFound)?;
            session.revoked_at.get_or_insert(at);
            Ok(())
        })
    }

    async fn live_sessions(
        &self,
        person: &PersonId,
        now: OffsetDateTime,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        self.read(|state| {
            let mut live: Vec<SessionRecord> = state
                .sessions
                .values()
                .filter(|s| &s.person == person && s.revoked_at.is_none() && s.expires_at > now)
                .cloned()
                .collect();
            live.sort_by(|a, b| {
                b.created_at.cmp(&a.created_at).then(a.token_hash.as_bytes().cmp(b.token_hash.as_bytes()))
            });
            Ok(live)
        })
    }

    async fn revoke_sessions_of(
        &self,
        person: &PersonId,
        at: OffsetDateTime,
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError> {
        self.mutate(&system_tenant(), audit, |state, _| {
            let mut revoked = 0;
            for session in state.sessions.values_mut() {
                if &session.person == person && session.revoked_at.is_none() && session.expires_at > at {
                    session.revoked_at = Some(at);
                    revoked += 1;
                }
            }
            Ok(revoked)
        })
    }

    async fn create_api_key(
        &self,
        key: &ApiKey,
        secret_hash: &TokenHash,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        self.mutate(&system_tenant(), audit, |state, _| {
            if state.api_keys.contains_key(&key.id) {
                return Err(StoreError::Conflict(format!("api key `{}` exists", key.id)));
            }
            if state.api_keys.values().any(|(_, hash)| hash == secret_hash.as_bytes()) {
                return Err(StoreError::Conflict("an api key with this secret exists".to_owned()));
            }
            state.api_keys.insert(key.id.clone(), (key.clone(), *secret_hash.as_bytes()));
            Ok(())
        })
    }

    async fn api_key_by_hash(&self, secret_hash: &TokenHash) -> Result<ApiKey, StoreError> {
        self.read(|state| {
            state
                .api_keys
                .values()
                .find(|(_, hash)| TokenHash::from_bytes(*hash).matches(secret_hash))
                .map(|(key, _)| key.clone())
                .ok_or(StoreError::NotFound)
        })
    }

    async fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        self.read(|state| Ok(state.api_keys.values().map(|(key, _)| key.clone()).collect()))
    }

    async fn revoke_api_key(
        &self,
        id: &ApiKeyId,
        at: OffsetDateTime,
        audit: Vec<NewAuditEvent>,
    ) -> Result<(), StoreError> {
        self.mutate(&system_tenant(), audit, |state, _| {
            let (key, _) = state.api_keys.get_mut(id).ok_or(StoreError::NotFound)?;
            key.revoked_at.get_or_insert(at);
            Ok(())
        })
    }
}
