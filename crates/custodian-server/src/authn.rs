//! Authentication: `Authorization: Bearer <session token>` for people, `Authorization: ApiKey <key>` for
//! integrators (ACC-4). Both are opaque `cus_…` tokens looked up by the SHA-256 of their secret part
//! (`custodian_core::personnel::token`); nothing else about them is stored.
//!
//! A missing, malformed, unknown, revoked or expired credential, and a session of a disabled person, is a
//! 401 with the same body. Authentication decides nothing else: what the actor may do is
//! `custodian_core::authz::decide`'s answer ([`crate::guard`]).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use custodian_core::authz::Actor;
use custodian_core::personnel::token::{self, TokenHash, TokenKind};
use custodian_core::personnel::{ApiKey, Person, PersonSession};
use custodian_core::ports::{SessionRecord, StoreError};

use crate::error::AppError;
use crate::state::AppState;

/// What authenticated the request.
#[derive(Debug, Clone)]
pub(crate) enum Principal {
    /// A login session (its record and the person as loaded now).
    Session { token_hash: TokenHash, record: SessionRecord, person: Person },
    /// An integrator API key.
    ApiKey(ApiKey),
}

/// An authenticated request: the principal and the [`Actor`] `decide` sees.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated {
    pub(crate) principal: Principal,
    pub(crate) actor: Actor,
}

impl Authenticated {
    /// The session, if a person is logged in.
    pub(crate) fn session(&self) -> Option<(&TokenHash, &SessionRecord, &Person)> {
        match &self.principal {
            Principal::Session { token_hash, record, person } => Some((token_hash, record, person)),
            Principal::ApiKey(_) => None,
        }
    }
}

/// Longest `Authorization` header looked at.
const MAX_HEADER_LEN: usize = 256;

fn lookup_error(error: StoreError) -> AppError {
    match error {
        StoreError::NotFound => AppError::unauthenticated(),
        other => AppError::from(other),
    }
}

/// Authenticates `parts`' `Authorization` header.
pub(crate) async fn authenticate(state: &AppState, parts: &Parts) -> Result<Authenticated, AppError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= MAX_HEADER_LEN)
        .ok_or_else(AppError::unauthenticated)?;
    let (scheme, credential) = value.split_once(' ').ok_or_else(AppError::unauthenticated)?;
    let expected = if scheme.eq_ignore_ascii_case("bearer") {
        TokenKind::Session
    } else if scheme.eq_ignore_ascii_case("apikey") {
        TokenKind::ApiKey
    } else {
        return Err(AppError::unauthenticated());
    };
    let parsed = token::parse(credential.trim()).map_err(|_| AppError::unauthenticated())?;
    if parsed.kind() != expected {
        return Err(AppError::unauthenticated());
    }
    let hash = parsed.hash();
    let deps = state.deps();
    let now = state.now();
    match expected {
        TokenKind::Session => {
            let record = deps.personnel.session(&hash).await.map_err(lookup_error)?;
            if record.revoked_at.is_some_and(|t| t <= now) || record.expires_at <= now {
                return Err(AppError::unauthenticated().with_detail("session revoked or expired"));
            }
            let person = deps.personnel.person(&record.person).await.map_err(lookup_error)?;
            if !person.active {
                return Err(AppError::unauthenticated().with_detail("person disabled"));
            }
            let actor = Actor::Person(PersonSession {
                person: person.clone(),
                mfa_verified_at: record.mfa_verified_at,
            });
            Ok(Authenticated { principal: Principal::Session { token_hash: hash, record, person }, actor })
        }
        TokenKind::ApiKey => {
            let key = deps.personnel.api_key_by_hash(&hash).await.map_err(lookup_error)?;
            if !key.is_usable(now) {
                return Err(AppError::unauthenticated().with_detail("api key revoked or expired"));
            }
            Ok(Authenticated { actor: Actor::ApiKey(key.clone()), principal: Principal::ApiKey(key) })
        }
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        authenticate(state, parts).await
    }
}
