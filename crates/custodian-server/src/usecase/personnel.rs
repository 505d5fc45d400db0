//! People, logins, sessions and API keys (ACC-1..4).
//!
//! - Login: Argon2id password check, then the TOTP code whenever MFA is required or enrolled (ACC-2), with
//!   replay refusal; `lockout_after` failures in a row lock the account for `lockout_minutes`. Every
//!   failure answers the same [`AppError::invalid_credentials`] (unknown person, wrong password, wrong or
//!   replayed code, locked, disabled) after the same Argon2id work, and is audited (`login_attempted` on
//!   the system chain, the typed email never recorded).
//! - Sessions: an opaque `cus_session_…` token from `Deps.rng`, stored only as its hash, with expiry,
//!   step-up time and revocation.
//! - People and API keys: created, changed and revoked by holders of `personnel_manage` and
//!   `api_key_manage`; every change is a `personnel_changed` or `api_key_changed` event committed with it.

use std::collections::BTreeSet;

use custodian_core::audit::{
    ActorRef, ApiKeyChanged, LoginAttempted, PersonnelChanged, SessionChanged, system_tenant,
};
use custodian_core::authz::{Action, Actor};
use custodian_core::personnel::password::{self, PasswordError, PasswordHash};
use custodian_core::personnel::token::{self, TokenKind};
use custodian_core::personnel::totp::{self, TotpError, TotpSecret};
use custodian_core::personnel::{ApiKey, ApiKeyId, Permission, Person, PersonId, Role};
use custodian_core::ports::{PersonCredential, SessionRecord, StoreError};
use custodian_core::tenant::TenantId;
use secrecy::{ExposeSecret, SecretString};
use time::{Duration, OffsetDateTime};

use super::{
    TOTP_ISSUER, display_text, open_totp, parse_permissions, parse_roles, parse_tenants,
    person_id_from_email, salt, seal_totp,
};
use crate::authn::{Authenticated, Principal};
use crate::error::{AppError, ErrorCode};
use crate::guard::{self, authorize};
use crate::state::AppState;
use crate::wire::{AccessBody, CreateApiKeyBody, CreatePersonBody, LoginBody, StepUpBody};

/// An Argon2id hash (the policy's parameters) of a random password nobody knows: logins for unknown people
/// verify against it so they take as long as logins for known ones.
pub(super) const DUMMY_PHC: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$Y3VzdG9kaWFuLWR1bW15MQ$3qH0tjAL3hYx3Rnp4oPmQvnbJmBZnTd3hGx6y/pJPxQ";

/// Longest password looked at; longer ones fail without hashing (bounds the work a request can ask for).
const MAX_PASSWORD_BYTES: usize = 1024;

/// Default and longest API key lifetime.
const API_KEY_DEFAULT_DAYS: u32 = 90;
const API_KEY_MAX_DAYS: u32 = 730;

/// A successful login.
pub(crate) struct LoginOutcome {
    /// The session token, shown once.
    pub(crate) token: SecretString,
    pub(crate) record: SessionRecord,
    pub(crate) person: Person,
}

/// A fresh TOTP enrolment, shown once.
pub(crate) struct Enrolment {
    pub(crate) secret: SecretString,
    pub(crate) otpauth_uri: SecretString,
}

fn verify_password(candidate: &SecretString, hash: &PasswordHash) -> bool {
    if candidate.expose_secret().len() > MAX_PASSWORD_BYTES {
        return false;
    }
    password::verify_password(candidate, hash)
}

/// Burns the same Argon2id work as a real check.
fn verify_dummy(candidate: &SecretString) {
    if let Ok(hash) = PasswordHash::from_phc(DUMMY_PHC) {
        let _ = verify_password(candidate, &hash);
    }
}

fn weak(error: PasswordError) -> AppError {
    match error {
        PasswordError::Weak(_) => AppError::new(ErrorCode::WeakPassword, error.to_string()),
        other => AppError::internal(other.to_string()),
    }
}

/// A new TOTP secret for `person`, sealed for the store, and its one-time enrolment view.
pub(crate) async fn new_totp(
    deps: &custodian_core::service::Deps,
    config: &totp::TotpConfig,
    person: &PersonId,
) -> Result<(Vec<u8>, Enrolment), AppError> {
    let secret = TotpSecret::generate(deps.rng.as_ref());
    let sealed = seal_totp(deps, person, &secret).await?;
    let enrolment = Enrolment {
        secret: secret.to_base32(),
        otpauth_uri: totp::otpauth_uri(TOTP_ISSUER, person.as_str(), &secret, config),
    };
    Ok((sealed, enrolment))
}

fn login_event(
    state: &AppState,
    actor: ActorRef,
    person: Option<&PersonId>,
    ok: bool,
    reason: &str,
) -> custodian_core::audit::NewAuditEvent {
    guard::event(state, actor, LoginAttempted::new(person.cloned(), ok, reason))
}

/// A session change that is not a login attempt: `logout`, `step_up`, `revoked_after_lockout` (ACC-2).
fn session_event(
    state: &AppState,
    actor: ActorRef,
    person: &PersonId,
    change: &str,
) -> custodian_core::audit::NewAuditEvent {
    guard::event(state, actor, SessionChanged::new(person.clone(), change))
}

/// Counts a failed login or step-up; locks the account at `lockout_after` failures in a row. Returns whether
/// this failure locked it. The failure is audited with the counter change.
async fn record_failure(
    state: &AppState,
    actor: ActorRef,
    mut credential: PersonCredential,
    reason: &str,
) -> Result<bool, AppError> {
    let limits = state.limits();
    credential.failed_logins = credential.failed_logins.saturating_add(1);
    let locked = credential.failed_logins >= limits.lockout_after;
    let text = if locked {
        credential.locked_until = Some(state.now() + limits.lockout_for);
        credential.failed_logins = 0;
        format!("{reason}; account locked for {} minutes", limits.lockout_for.whole_minutes())
    } else {
        reason.to_owned()
    };
    let event = login_event(state, actor, Some(&credential.person), false, &text);
    state.deps().personnel.set_credential(&credential, vec![event]).await?;
    Ok(locked)
}

/// Checks a TOTP code; `Err` carries the audit reason.
fn check_code(
    state: &AppState,
    secret: &TotpSecret,
    code: &SecretString,
    last_step: Option<u64>,
) -> Result<u64, &'static str> {
    match totp::verify(secret, state.totp(), code.expose_secret(), state.now(), last_step) {
        Ok(step) => Ok(step),
        Err(TotpError::Replayed) => Err("mfa code replayed"),
        Err(_) => Err("wrong mfa code"),
    }
}

/// `POST /v1/auth/login`.
pub(crate) async fn login(state: &AppState, body: LoginBody) -> Result<LoginOutcome, AppError> {
    let deps = state.deps();
    let now = state.now();
    let system = ActorRef::System;
    let person = match person_id_from_email(&body.email) {
        Err(_) => None,
        Ok(id) => match deps.personnel.person(&id).await {
            Ok(person) => Some(person),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
    };
    let Some(person) = person else {
        verify_dummy(&body.password);
        let event = login_event(state, system, None, false, "unknown person");
        guard::audit(state, &system_tenant(), vec![event]).await?;
        return Err(AppError::invalid_credentials());
    };
    let credential = deps.personnel.credential(&person.id).await.map_err(|e| match e {
        StoreError::NotFound => AppError::invalid_credentials().with_detail("person has no credential"),
        other => other.into(),
    })?;
    let password_ok = verify_password(&body.password, &credential.password_hash);
    let refuse_without_counting = if credential.locked_until.is_some_and(|t| t > now) {
        Some("account locked")
    } else if !person.active {
        Some("person disabled")
    } else {
        None
    };
    if let Some(reason) = refuse_without_counting {
        let event = login_event(state, system, Some(&person.id), false, reason);
        guard::audit(state, &system_tenant(), vec![event]).await?;
        return Err(AppError::invalid_credentials().with_detail(reason));
    }
    if !password_ok {
        record_failure(state, system, credential, "wrong password").await?;
        return Err(AppError::invalid_credentials().with_detail("wrong password"));
    }
    let needs_code = state.settings().mfa_required || credential.totp_sealed.is_some();
    let mut verified_step = None;
    if needs_code {
        let reason = match (&credential.totp_sealed, &body.code) {
            (None, _) => Err("mfa not enrolled"),
            (Some(_), None) => Err("mfa code missing"),
            (Some(sealed), Some(code)) => {
                let secret = open_totp(deps, &person.id, sealed).await?;
                check_code(state, &secret, code, credential.totp_last_step)
            }
        };
        match reason {
            Ok(step) => verified_step = Some(step),
            Err(reason) => {
                record_failure(state, system, credential, reason).await?;
                return Err(AppError::invalid_credentials().with_detail(reason));
            }
        }
    }
    let mut credential = credential;
    credential.failed_logins = 0;
    credential.locked_until = None;
    if let Some(step) = verified_step {
        credential.totp_last_step = Some(step);
    }
    if credential.password_hash.needs_rehash()
        && let Ok(rehashed) = password::hash_password(&body.password, &salt(deps))
    {
        credential.password_hash = rehashed;
    }
    deps.personnel.set_credential(&credential, Vec::new()).await?;
    let issued = token::issue(TokenKind::Session, deps.rng.as_ref());
    let record = SessionRecord {
        token_hash: issued.hash,
        person: person.id.clone(),
        created_at: now,
        expires_at: now + state.limits().session_ttl,
        mfa_verified_at: verified_step.map(|_| now),
        revoked_at: None,
    };
    let how = if verified_step.is_some() { "password and totp" } else { "password only: mfa not required" };
    let event = login_event(state, system, Some(&person.id), true, how);
    deps.personnel.create_session(&record, vec![event]).await?;
    Ok(LoginOutcome { token: issued.secret, record, person })
}

fn session_of(
    auth: &Authenticated,
) -> Result<(&custodian_core::personnel::token::TokenHash, &Person), AppError> {
    match auth.session() {
        Some((hash, _, person)) => Ok((hash, person)),
        None => Err(AppError::forbidden("this needs a personnel session: api keys cannot use it")),
    }
}

/// `POST /v1/auth/logout`: revokes the session.
pub(crate) async fn logout(state: &AppState, auth: &Authenticated) -> Result<(), AppError> {
    let (hash, person) = session_of(auth)?;
    let event = session_event(state, ActorRef::from(&auth.actor), &person.id, "logout");
    state.deps().personnel.revoke_session(hash, state.now(), vec![event]).await?;
    Ok(())
}

/// Whose sessions a call is about.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SessionsOf<'a> {
    /// The caller's own (`/v1/me/sessions`, people only).
    Me,
    /// A person's, by id (`/v1/people/{id}/sessions`, `personnel_manage`).
    Person(&'a str),
}

/// The person whose sessions `of` names, after the caller is allowed to see and end them.
async fn sessions_owner(
    state: &AppState,
    auth: &Authenticated,
    of: SessionsOf<'_>,
) -> Result<PersonId, AppError> {
    match of {
        SessionsOf::Me => Ok(session_of(auth)?.1.id.clone()),
        SessionsOf::Person(id) => {
            let id = parse_person_id(id)?;
            authorize(state, &auth.actor, Action::ManagePersonnel, None).await?;
            // An unknown person is 404, not an empty list.
            state.deps().personnel.person(&id).await?;
            Ok(id)
        }
    }
}

/// `GET /v1/me/sessions` and `GET /v1/people/{id}/sessions`: the sessions that still authenticate, newest
/// first (never their tokens).
pub(crate) async fn live_sessions(
    state: &AppState,
    auth: &Authenticated,
    of: SessionsOf<'_>,
) -> Result<Vec<SessionRecord>, AppError> {
    let person = sessions_owner(state, auth, of).await?;
    Ok(state.deps().personnel.live_sessions(&person, state.now()).await?)
}

/// `POST /v1/me/sessions/revoke` and `POST /v1/people/{id}/sessions/revoke`: ends every live session of
/// the person at once (a lost device, a suspected compromise), the caller's own included; returns how
/// many ended. Audited as `session_changed` even when none was live.
pub(crate) async fn sign_out_everywhere(
    state: &AppState,
    auth: &Authenticated,
    of: SessionsOf<'_>,
) -> Result<u64, AppError> {
    let person = sessions_owner(state, auth, of).await?;
    let change = match of {
        SessionsOf::Me => "signed_out_everywhere",
        SessionsOf::Person(_) => "signed_out_by_admin",
    };
    let event = session_event(state, ActorRef::from(&auth.actor), &person, change);
    Ok(state.deps().personnel.revoke_sessions_of(&person, state.now(), vec![event]).await?)
}

/// `POST /v1/auth/step-up`: a fresh TOTP verification for sensitive actions (ACC-2). Failures count
/// towards the lockout; a failure that locks the account also ends the session.
pub(crate) async fn step_up(
    state: &AppState,
    auth: &Authenticated,
    body: StepUpBody,
) -> Result<OffsetDateTime, AppError> {
    let (hash, person) = session_of(auth)?;
    let deps = state.deps();
    let now = state.now();
    let actor = ActorRef::from(&auth.actor);
    let rejected = |detail: &str| {
        AppError::new(ErrorCode::MfaCodeRejected, "the code was not accepted").with_detail(detail.to_owned())
    };
    let credential = deps.personnel.credential(&person.id).await?;
    if credential.locked_until.is_some_and(|t| t > now) {
        let event = login_event(state, actor, Some(&person.id), false, "step-up: account locked");
        guard::audit(state, &system_tenant(), vec![event]).await?;
        return Err(rejected("account locked"));
    }
    let outcome = match &credential.totp_sealed {
        None => Err("mfa not enrolled"),
        Some(sealed) => {
            let secret = open_totp(deps, &person.id, sealed).await?;
            check_code(state, &secret, &body.code, credential.totp_last_step)
        }
    };
    let step = match outcome {
        Ok(step) => step,
        Err(reason) => {
            let locked =
                record_failure(state, actor.clone(), credential, &format!("step-up: {reason}")).await?;
            if locked {
                let event = session_event(state, actor, &person.id, "revoked_after_lockout");
                deps.personnel.revoke_session(hash, now, vec![event]).await?;
            }
            return Err(rejected(reason));
        }
    };
    let mut credential = credential;
    credential.totp_last_step = Some(step);
    credential.failed_logins = 0;
    let event = session_event(state, actor, &person.id, "step_up");
    deps.personnel.set_credential(&credential, vec![event]).await?;
    deps.personnel.set_session_mfa(hash, now).await?;
    Ok(now)
}

fn names<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items.into_iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

/// `+a -b` between two sets.
fn diff<T: Ord + std::fmt::Display>(before: &BTreeSet<T>, after: &BTreeSet<T>) -> String {
    let added = after.difference(before).map(|x| format!("+{x}"));
    let removed = before.difference(after).map(|x| format!("-{x}"));
    let all: Vec<String> = added.chain(removed).collect();
    if all.is_empty() { "unchanged".to_owned() } else { all.join(" ") }
}

/// `POST /v1/people` (`personnel_manage`): a new person with the ACC-3 password and a fresh TOTP secret,
/// revealed once in the response.
pub(crate) async fn create_person(
    state: &AppState,
    auth: &Authenticated,
    body: CreatePersonBody,
) -> Result<(Person, Enrolment), AppError> {
    let id = person_id_from_email(&body.email)?;
    let display_name =
        display_text("display_name", body.display_name.as_deref().unwrap_or(id.as_str()), 200)?;
    let roles = parse_roles(&body.roles)?;
    let tenants = parse_tenants(&body.tenants)?;
    password::check_password(&body.password).map_err(weak)?;
    authorize(state, &auth.actor, Action::ManagePersonnel, None).await?;
    let deps = state.deps();
    let password_hash = password::hash_password(&body.password, &salt(deps)).map_err(weak)?;
    let (sealed, enrolment) = new_totp(deps, state.totp(), &id).await?;
    let person = Person { id: id.clone(), display_name, roles, tenants, mfa_enrolled: true, active: true };
    let credential = PersonCredential {
        person: id.clone(),
        password_hash,
        totp_sealed: Some(sealed),
        totp_last_step: None,
        failed_logins: 0,
        locked_until: None,
    };
    let change = format!(
        "created with roles [{}] and tenants [{}]; totp enrolled",
        names(&person.roles),
        names(&person.tenants)
    );
    let event = guard::event(state, ActorRef::from(&auth.actor), PersonnelChanged::new(id, change));
    deps.personnel.create_person(&person, &credential, vec![event]).await?;
    Ok((person, enrolment))
}

/// `GET /v1/people` (`personnel_manage`).
pub(crate) async fn list_people(state: &AppState, auth: &Authenticated) -> Result<Vec<Person>, AppError> {
    authorize(state, &auth.actor, Action::ManagePersonnel, None).await?;
    Ok(state.deps().personnel.people().await?)
}

fn parse_person_id(raw: &str) -> Result<PersonId, AppError> {
    PersonId::new(raw).map_err(|_| AppError::not_found())
}

/// `GET /v1/people/{id}` (`personnel_manage`).
pub(crate) async fn get_person(state: &AppState, auth: &Authenticated, id: &str) -> Result<Person, AppError> {
    let id = parse_person_id(id)?;
    authorize(state, &auth.actor, Action::ManagePersonnel, None).await?;
    Ok(state.deps().personnel.person(&id).await?)
}

/// Refuses a change that would leave no active admin (nobody could manage people any more).
async fn keep_an_admin(state: &AppState, changed: &Person) -> Result<(), AppError> {
    let still_admin = changed.active && changed.roles.contains(&Role::Admin);
    if still_admin {
        return Ok(());
    }
    let others = state
        .deps()
        .personnel
        .people()
        .await?
        .into_iter()
        .filter(|p| p.id != changed.id && p.active && p.roles.contains(&Role::Admin))
        .count();
    if others == 0 {
        return Err(AppError::conflict("the last active admin cannot lose the admin role or be disabled"));
    }
    Ok(())
}

/// `PUT /v1/people/{id}/access` (`personnel_manage`): replaces roles and tenant assignments (ACC-1).
pub(crate) async fn set_access(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    body: AccessBody,
) -> Result<Person, AppError> {
    let id = parse_person_id(id)?;
    let roles = parse_roles(&body.roles)?;
    let tenants = parse_tenants(&body.tenants)?;
    authorize(state, &auth.actor, Action::ManagePersonnel, None).await?;
    let deps = state.deps();
    let person = deps.personnel.person(&id).await?;
    if person.roles == roles && person.tenants == tenants {
        return Ok(person);
    }
    let change =
        format!("roles: {}; tenants: {}", diff(&person.roles, &roles), diff(&person.tenants, &tenants));
    let updated = Person { roles, tenants, ..person };
    keep_an_admin(state, &updated).await?;
    let event = guard::event(state, ActorRef::from(&auth.actor), PersonnelChanged::new(id, change));
    deps.personnel.update_person(&updated, vec![event]).await?;
    Ok(updated)
}

/// `POST /v1/people/{id}/totp` (`personnel_manage`): a new TOTP secret (first enrolment or a lost device),
/// revealed once; the old one stops working at once.
pub(crate) async fn enrol_totp(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
) -> Result<(Person, Enrolment), AppError> {
    let id = parse_person_id(id)?;
    authorize(state, &auth.actor, Action::ManagePersonnel, None).await?;
    let deps = state.deps();
    let mut person = deps.personnel.person(&id).await?;
    let mut credential = deps.personnel.credential(&id).await?;
    let (sealed, enrolment) = new_totp(deps, state.totp(), &id).await?;
    let change = if credential.totp_sealed.is_some() { "totp secret replaced" } else { "totp enrolled" };
    credential.totp_sealed = Some(sealed);
    credential.totp_last_step = None;
    let event = guard::event(state, ActorRef::from(&auth.actor), PersonnelChanged::new(id, change));
    deps.personnel.set_credential(&credential, vec![event]).await?;
    if !person.mfa_enrolled {
        person.mfa_enrolled = true;
        deps.personnel.update_person(&person, Vec::new()).await?;
    }
    Ok((person, enrolment))
}

/// `POST /v1/people/{id}/disable` (`personnel_manage`): the person can no longer log in, and their open
/// sessions stop authenticating.
pub(crate) async fn disable_person(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
) -> Result<Person, AppError> {
    let id = parse_person_id(id)?;
    authorize(state, &auth.actor, Action::ManagePersonnel, None).await?;
    if matches!(&auth.actor, Actor::Person(session) if session.person.id == id) {
        return Err(AppError::conflict("you cannot disable yourself"));
    }
    let deps = state.deps();
    let person = deps.personnel.person(&id).await?;
    if !person.active {
        return Ok(person);
    }
    let updated = Person { active: false, ..person };
    keep_an_admin(state, &updated).await?;
    let event = guard::event(state, ActorRef::from(&auth.actor), PersonnelChanged::new(id, "disabled"));
    deps.personnel.update_person(&updated, vec![event]).await?;
    Ok(updated)
}

/// `POST /v1/api-keys` (`api_key_manage`, people only): a key for some tenants and permissions (ACC-4),
/// never more than its creator holds, expiring after `expires_in_days` (default 90, at most 730). The key
/// is revealed once; only its hash is stored.
pub(crate) async fn create_api_key(
    state: &AppState,
    auth: &Authenticated,
    body: CreateApiKeyBody,
) -> Result<(ApiKey, SecretString), AppError> {
    let name = display_text("name", &body.name, 100)?;
    let tenants = parse_tenants(&body.tenants)?;
    let permissions = parse_permissions(&body.permissions)?;
    if tenants.is_empty() || permissions.is_empty() {
        return Err(AppError::invalid("`tenants` and `permissions` must not be empty"));
    }
    let days = body.expires_in_days.unwrap_or(API_KEY_DEFAULT_DAYS);
    if !(1..=API_KEY_MAX_DAYS).contains(&days) {
        return Err(AppError::invalid(format!("`expires_in_days` must be 1 to {API_KEY_MAX_DAYS}")));
    }
    authorize(state, &auth.actor, Action::ManageApiKeys, None).await?;
    let Principal::Session { person, .. } = &auth.principal else {
        return Err(AppError::forbidden("api keys are created by people, not by other api keys"));
    };
    let held: BTreeSet<Permission> =
        person.roles.iter().flat_map(|r| r.permissions().iter().copied()).collect();
    let tenants_held: &BTreeSet<TenantId> = &person.tenants;
    if !permissions.is_subset(&held) || !tenants.is_subset(tenants_held) {
        return Err(AppError::forbidden(
            "an api key cannot carry permissions or tenants its creator does not hold",
        ));
    }
    let deps = state.deps();
    let now = state.now();
    let issued = token::issue(TokenKind::ApiKey, deps.rng.as_ref());
    let id = ApiKeyId::new(issued.id.as_str()).map_err(|e| AppError::internal(e.to_string()))?;
    let key = ApiKey {
        id: id.clone(),
        name,
        tenants,
        permissions,
        created_by: person.id.clone(),
        created_at: now,
        expires_at: Some(now + Duration::days(i64::from(days))),
        revoked_at: None,
    };
    let change = format!(
        "created: permissions [{}]; tenants [{}]; expires in {days} days",
        names(&key.permissions),
        names(&key.tenants)
    );
    let event = guard::event(state, ActorRef::from(&auth.actor), ApiKeyChanged::new(id, change));
    deps.personnel.create_api_key(&key, &issued.hash, vec![event]).await?;
    Ok((key, issued.secret))
}

/// `GET /v1/api-keys` (`api_key_manage`): every key, never a secret or hash.
pub(crate) async fn list_api_keys(state: &AppState, auth: &Authenticated) -> Result<Vec<ApiKey>, AppError> {
    authorize(state, &auth.actor, Action::ManageApiKeys, None).await?;
    Ok(state.deps().personnel.api_keys().await?)
}

/// `DELETE /v1/api-keys/{id}` (`api_key_manage`): revokes at once.
pub(crate) async fn revoke_api_key(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
) -> Result<ApiKey, AppError> {
    let id = ApiKeyId::new(id).map_err(|_| AppError::not_found())?;
    authorize(state, &auth.actor, Action::ManageApiKeys, None).await?;
    let deps = state.deps();
    let key =
        deps.personnel.api_keys().await?.into_iter().find(|k| k.id == id).ok_or_else(AppError::not_found)?;
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    let now = state.now();
    let event = guard::event(state, ActorRef::from(&auth.actor), ApiKeyChanged::new(id, "revoked"));
    deps.personnel.revoke_api_key(&key.id, now, vec![event]).await?;
    Ok(ApiKey { revoked_at: Some(now), ..key })
}
