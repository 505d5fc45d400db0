//! Handlers for authentication, people and API keys: parse, call the use case in
//! [`crate::usecase::personnel`], shape the JSON. Secrets leave only in the one-time reveals: the session
//! token at login, the TOTP secret at creation or enrolment, the API key at creation.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use custodian_core::ports::SessionRecord;
use secrecy::ExposeSecret;

use super::{Answered, created, ok};
use crate::authn::{Authenticated, Principal};
use crate::error::AppError;
use crate::extract::{AppJson, AppPath};
use crate::state::AppState;
use crate::usecase::personnel::{self as uc, Enrolment, SessionsOf};
use crate::wire::{
    AccessBody, ApiKeyAnswer, ApiKeyCreated, ApiKeyList, CreateApiKeyBody, CreatePersonBody, LoginAnswer,
    LoginBody, MeAnswer, MeSessionView, PeopleList, PersonAnswer, PersonEnrolled, RevealedTotp, SessionList,
    SessionView, SessionsRevoked, StepUpAnswer, StepUpBody, api_key_view, person_view, ts,
};

fn revealed(enrolment: &Enrolment) -> RevealedTotp {
    RevealedTotp {
        secret: enrolment.secret.expose_secret().to_owned(),
        otpauth_uri: enrolment.otpauth_uri.expose_secret().to_owned(),
    }
}

pub(super) async fn login(State(state): State<AppState>, AppJson(body): AppJson<LoginBody>) -> Answered {
    let outcome = uc::login(&state, body).await?;
    ok(LoginAnswer {
        token: outcome.token.expose_secret(),
        token_type: "Bearer",
        expires_at: ts(outcome.record.expires_at),
        mfa_verified_at: outcome.record.mfa_verified_at.map(ts),
        person: person_view(&outcome.person),
    })
}

pub(super) async fn logout(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<impl IntoResponse, AppError> {
    uc::logout(&state, &auth).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn step_up(
    State(state): State<AppState>,
    auth: Authenticated,
    AppJson(body): AppJson<StepUpBody>,
) -> Answered {
    let at = uc::step_up(&state, &auth, body).await?;
    ok(StepUpAnswer { mfa_verified_at: ts(at) })
}

pub(super) async fn me(auth: Authenticated) -> Answered {
    match &auth.principal {
        Principal::Session { record, person, .. } => ok(MeAnswer::Person {
            person: person_view(person),
            session: MeSessionView {
                created_at: ts(record.created_at),
                expires_at: ts(record.expires_at),
                mfa_verified_at: record.mfa_verified_at.map(ts),
            },
        }),
        Principal::ApiKey(key) => ok(MeAnswer::ApiKey { api_key: api_key_view(key) }),
    }
}

/// A session as the session lists show it; `current` marks the caller's own.
fn session_view(auth: &Authenticated, record: &SessionRecord) -> SessionView {
    SessionView {
        created_at: ts(record.created_at),
        expires_at: ts(record.expires_at),
        mfa_verified_at: record.mfa_verified_at.map(ts),
        current: auth.session().is_some_and(|(hash, _, _)| *hash == record.token_hash),
    }
}

type Typed<T> = Result<Json<T>, AppError>;

async fn sessions_reply(state: &AppState, auth: &Authenticated, of: SessionsOf<'_>) -> Typed<SessionList> {
    let sessions = uc::live_sessions(state, auth, of).await?;
    Ok(Json(SessionList { sessions: sessions.iter().map(|s| session_view(auth, s)).collect() }))
}

async fn revoked_reply(state: &AppState, auth: &Authenticated, of: SessionsOf<'_>) -> Typed<SessionsRevoked> {
    Ok(Json(SessionsRevoked { revoked: uc::sign_out_everywhere(state, auth, of).await? }))
}

pub(super) async fn my_sessions(State(state): State<AppState>, auth: Authenticated) -> Typed<SessionList> {
    sessions_reply(&state, &auth, SessionsOf::Me).await
}

pub(super) async fn sign_me_out(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Typed<SessionsRevoked> {
    revoked_reply(&state, &auth, SessionsOf::Me).await
}

pub(super) async fn sessions(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Typed<SessionList> {
    sessions_reply(&state, &auth, SessionsOf::Person(&id)).await
}

pub(super) async fn sign_out(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Typed<SessionsRevoked> {
    revoked_reply(&state, &auth, SessionsOf::Person(&id)).await
}

pub(super) async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    AppJson(body): AppJson<CreatePersonBody>,
) -> Answered {
    let (person, enrolment) = uc::create_person(&state, &auth, body).await?;
    created(PersonEnrolled { person: person_view(&person), totp: revealed(&enrolment) })
}

pub(super) async fn list(State(state): State<AppState>, auth: Authenticated) -> Answered {
    let people = uc::list_people(&state, &auth).await?;
    ok(PeopleList { people: people.iter().map(person_view).collect() })
}

pub(super) async fn get(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Answered {
    let person = uc::get_person(&state, &auth, &id).await?;
    ok(PersonAnswer { person: person_view(&person) })
}

pub(super) async fn set_access(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<AccessBody>,
) -> Answered {
    let person = uc::set_access(&state, &auth, &id, body).await?;
    ok(PersonAnswer { person: person_view(&person) })
}

pub(super) async fn enrol_totp(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Answered {
    let (person, enrolment) = uc::enrol_totp(&state, &auth, &id).await?;
    ok(PersonEnrolled { person: person_view(&person), totp: revealed(&enrolment) })
}

pub(super) async fn disable(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Answered {
    let person = uc::disable_person(&state, &auth, &id).await?;
    ok(PersonAnswer { person: person_view(&person) })
}

pub(super) async fn create_key(
    State(state): State<AppState>,
    auth: Authenticated,
    AppJson(body): AppJson<CreateApiKeyBody>,
) -> Answered {
    let (key, secret) = uc::create_api_key(&state, &auth, body).await?;
    created(ApiKeyCreated { api_key: api_key_view(&key), key: secret.expose_secret() })
}

pub(super) async fn list_keys(State(state): State<AppState>, auth: Authenticated) -> Answered {
    let keys = uc::list_api_keys(&state, &auth).await?;
    ok(ApiKeyList { api_keys: keys.iter().map(api_key_view).collect() })
}

pub(super) async fn revoke_key(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Answered {
    let key = uc::revoke_api_key(&state, &auth, &id).await?;
    ok(ApiKeyAnswer { api_key: api_key_view(&key) })
}
