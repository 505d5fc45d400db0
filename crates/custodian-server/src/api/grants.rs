//! Handlers for grants: connect (consent URL, then the platform's OAuth callback), list and show,
//! validate, review, the buyer PII switch, and revoke with an immediate purge. Each parses the request,
//! calls the core use case (`custodian_core::service::Services`: it authorizes, audits the decision and
//! records what changed, AUTH-1..7, RET-3, RET-6), and shapes the JSON. No policy is decided here.
//!
//! # The OAuth callback
//! `start_connect` returns an anti-forgery `state` that the caller must check on the callback. The server
//! stores each consent in the store (`GrantStore::put_consent`), by the SHA-256 of the state and never the
//! state itself, with the tenant, the grant and who started the connect, for an hour ([`CONSENT_TTL`]) and
//! for one use only; at most [`MAX_PENDING`] are pending at once. The callback (a browser redirect, without
//! our credentials) takes the consent out (`GrantStore::take_consent`, atomic: one use even with processes
//! racing), re-loads the initiator's session or API key (a session revoked or a person disabled in between
//! ends the connect), and completes the connect as them. An unknown, expired, reused or other-platform
//! state is refused with 400 and audited as a denied `connect_grant` on the system chain.
//!
//! Every process on the same store shares the pending consents: with several processes behind one
//! address, the callback may reach any of them. A store failure refuses the connect or the callback (503),
//! it never completes one.

use std::collections::BTreeSet;

use axum::extract::State;
use custodian_core::audit::{AccessDecided, ActorRef, GrantChanged, system_tenant};
use custodian_core::authz::{Action, Actor};
use custodian_core::grant::{GrantId, GrantState, RevocationCause};
use custodian_core::personnel::PersonSession;
use custodian_core::platform::{AmazonSellerId, Platform, Task};
use custodian_core::ports::{ConsentInitiator, PendingConsent, PlatformError, StoreError};
use custodian_core::service::{ServiceError, ValidationOutcome};
use custodian_core::tenant::TenantId;
use secrecy::SecretString;
use time::Duration;

use super::{Answered, created, ok};
use crate::authn::{Authenticated, Principal};
use crate::error::AppError;
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::guard::{self, authorize};
use crate::state::AppState;
use crate::usecase::tenants::tenant_from_path;
use crate::wire::flows::{
    ConnectBody, ConnectStarted, GrantAnswer, GrantList, GrantValidated, PiiBody, ReceiptAnswer,
    ValidationName, grant_view, receipt_view,
};

/// How long a consent may take, from the consent URL to the callback.
const CONSENT_TTL: Duration = Duration::hours(1);

/// At most this many consents are pending at once, across the processes sharing the store (a bound on the
/// store's table; expired ones are dropped first).
const MAX_PENDING: usize = 10_000;

/// Longest `state` looked up.
const MAX_STATE_LEN: usize = 128;

// ---- shared with syncs, datasets and webhooks ----

/// Maps a core use-case error to the API's errors. Platform failures keep their detail for the log only.
pub(super) fn service_error(error: ServiceError) -> AppError {
    match error {
        ServiceError::PlatformNotConfigured(platform) => {
            AppError::invalid(format!("platform `{platform}` is not configured for this operation"))
        }
        ServiceError::GrantRevoked => AppError::conflict(
            "the platform reports the authorization gone: the grant was revoked and its data purged",
        ),
        ServiceError::Platform(e) => platform_error(&e).with_detail(e.to_string()),
        ServiceError::SignalRejected(e) => {
            AppError::bad_request("the notification was rejected").with_detail(e.to_string())
        }
        other => AppError::from(other),
    }
}

fn platform_error(error: &PlatformError) -> AppError {
    match error {
        PlatformError::Revoked { .. } => AppError::conflict("the platform reports the authorization revoked"),
        PlatformError::Unauthorized { .. } => {
            AppError::conflict("the platform refused the grant's credentials")
        }
        PlatformError::Forbidden { .. } => {
            AppError::conflict("the platform refused: the grant lacks a permission; validate it")
        }
        PlatformError::NotFound { .. } => {
            AppError::conflict("the platform does not know the requested object")
        }
        PlatformError::Invalid { .. } => AppError::invalid("the platform refused the request as invalid"),
        PlatformError::Unsupported(_) => AppError::invalid("the platform does not offer this operation"),
        _ => AppError::unavailable("platform", "platform call failed"),
    }
}

/// A grant id from a path: an invalid one cannot exist, so it is a 404 like any other.
pub(super) fn grant_from_path(raw: &str) -> Result<GrantId, AppError> {
    GrantId::new(raw).map_err(|_| AppError::not_found())
}

/// A platform name from a path: an unknown one is a 404.
pub(super) fn platform_from_path(raw: &str) -> Result<Platform, AppError> {
    raw.parse().map_err(|_| AppError::not_found())
}

// ---- pending consents ----

fn initiator(auth: &Authenticated) -> ConsentInitiator {
    match &auth.principal {
        Principal::Session { token_hash, .. } => ConsentInitiator::Session(*token_hash),
        Principal::ApiKey(key) => ConsentInitiator::ApiKey(key.id.clone()),
    }
}

/// The initiator as they are now: a session still valid of a person still active, or a key still usable.
async fn initiator_actor(state: &AppState, initiator: &ConsentInitiator) -> Result<Actor, AppError> {
    let deps = state.deps();
    let now = state.now();
    let gone = |e: StoreError| match e {
        StoreError::NotFound => AppError::unauthenticated(),
        other => AppError::from(other),
    };
    match initiator {
        ConsentInitiator::Session(hash) => {
            let record = deps.personnel.session(hash).await.map_err(gone)?;
            if record.revoked_at.is_some_and(|t| t <= now) || record.expires_at <= now {
                return Err(AppError::unauthenticated().with_detail("the initiator's session ended"));
            }
            let person = deps.personnel.person(&record.person).await.map_err(gone)?;
            if !person.active {
                return Err(AppError::unauthenticated().with_detail("the initiator was disabled"));
            }
            Ok(Actor::Person(PersonSession { person, mfa_verified_at: record.mfa_verified_at }))
        }
        ConsentInitiator::ApiKey(id) => {
            let key = deps.personnel.api_keys().await?.into_iter().find(|k| &k.id == id);
            match key {
                Some(key) if key.is_usable(now) => Ok(Actor::ApiKey(key)),
                _ => Err(AppError::unauthenticated().with_detail("the initiator's api key is unusable")),
            }
        }
    }
}

/// The redirect URI registered for `platform`: `<public_url>/v1/oauth/<platform>/callback`.
pub(crate) fn redirect_uri(state: &AppState, platform: Platform) -> String {
    format!("{}/v1/oauth/{}/callback", state.public_url(), platform.as_str())
}

// ---- handlers ----

/// `POST /v1/tenants/{id}/grants` (`grant_connect`): a pending grant and the consent URL asking only for
/// the enabled tasks' scopes (AUTH-4), with the PII switch set as asked (MIN-2).
pub(super) async fn connect(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<ConnectBody>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    let platform: Platform =
        body.platform.parse().map_err(|e| AppError::invalid(format!("`platform`: {e}")))?;
    let mut tasks = BTreeSet::new();
    for raw in &body.tasks {
        tasks.insert(raw.parse::<Task>().map_err(|e| AppError::invalid(format!("`tasks`: {e}")))?);
    }
    if tasks.is_empty() {
        return Err(AppError::invalid("`tasks`: enable at least one task"));
    }
    if body.pii {
        if !platform.is_commerce() {
            return Err(AppError::invalid("`pii`: buyer pii exists only on commerce platforms"));
        }
        tasks.insert(Task::ReadBuyerPii);
    }
    // Refused before anything is created; `put_consent` below still holds the cap against a race.
    if state.deps().grants.pending_consents(state.now()).await? >= MAX_PENDING {
        return Err(AppError::unavailable("consent table", "too many consents are pending"));
    }
    let redirect = redirect_uri(&state, platform);
    let services = state.services();
    let started = services
        .start_connect(&auth.actor, &tenant, platform, tasks, &redirect)
        .await
        .map_err(service_error)?;
    let mut grant = started.grant;
    if body.pii {
        grant =
            services.set_pii_enabled(&auth.actor, &tenant, &grant.id, true).await.map_err(service_error)?;
    }
    let consent = PendingConsent {
        state_hash: PendingConsent::hash_state(&started.state),
        platform,
        tenant,
        grant: grant.id.clone(),
        initiator: initiator(&auth),
        redirect_uri: redirect.clone(),
        expires_at: state.now() + CONSENT_TTL,
    };
    state.deps().grants.put_consent(&consent, MAX_PENDING, state.now()).await.map_err(|e| match e {
        StoreError::Conflict(_) => AppError::unavailable("consent table", "too many consents are pending"),
        other => AppError::from(other),
    })?;
    created(ConnectStarted {
        grant: grant_view(&grant),
        consent_url: &started.consent_url,
        state: &started.state,
        redirect_uri: &redirect,
        expires_at: crate::wire::ts(state.now() + CONSENT_TTL),
    })
}

/// Refuses a callback whose state is not one we issued (or was used, or expired), auditing the refusal
/// (AUTH-7) on the system chain: nothing says which tenant it was meant for.
async fn refuse_state(state: &AppState, platform: Platform, why: &str) -> AppError {
    let event = AccessDecided::new(
        "connect_grant",
        None::<TenantId>,
        false,
        vec![format!("AUTH-1: oauth callback refused: {why}")],
    );
    let event = guard::event(state, ActorRef::Platform(platform), event);
    if let Err(e) = guard::audit(state, &system_tenant(), vec![event]).await {
        return e;
    }
    AppError::bad_request("the consent state is unknown, expired or already used; start the connect again")
        .with_detail(format!("oauth callback: {why}"))
}

/// `GET /v1/oauth/{platform}/callback?code=…&state=…` (or `?error=…&state=…`): the platform sends the
/// client's browser here after consent. The code is exchanged, the tokens go to the secret store only
/// (SEC-1), the grant is validated live and activated (AUTH-2) as the person or key that started it.
pub(super) async fn callback(
    State(state): State<AppState>,
    AppPath(platform): AppPath<String>,
    AppQuery(query): AppQuery<Vec<(String, String)>>,
) -> Answered {
    let platform = platform_from_path(&platform)?;
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let Some(consent_state) = param("state").filter(|s| !s.is_empty() && s.len() <= MAX_STATE_LEN) else {
        return Err(refuse_state(&state, platform, "no usable state").await);
    };
    let taken =
        state.deps().grants.take_consent(&PendingConsent::hash_state(consent_state), state.now()).await?;
    let Some(pending) = taken else {
        return Err(refuse_state(&state, platform, "state unknown, expired or already used").await);
    };
    if pending.platform != platform {
        return Err(refuse_state(&state, platform, "state issued for another platform").await);
    }
    if let Some(error) = param("error") {
        // The client declined (or the platform failed): the grant stays pending, which processes nothing.
        let reason: String = error.chars().filter(char::is_ascii_graphic).take(64).collect();
        let event = GrantChanged::new(
            pending.grant.clone(),
            platform,
            Some(GrantState::Pending),
            GrantState::Pending,
            format!("consent not given: `{reason}`"),
        );
        guard::audit(
            &state,
            &pending.tenant,
            vec![guard::event(&state, ActorRef::Platform(platform), event)],
        )
        .await?;
        return Err(AppError::bad_request("the platform reports that consent was not given")
            .with_detail(format!("oauth error `{reason}`")));
    }
    // TikTok ads send `auth_code`, Amazon `spapi_oauth_code`, the others `code`.
    let code = ["code", "auth_code", "spapi_oauth_code"]
        .into_iter()
        .find_map(|name| param(name).filter(|c| !c.is_empty()))
        .map(|c| SecretString::from(c.to_owned()))
        .ok_or_else(|| AppError::bad_request("the callback carries no authorization code"))?;
    // Amazon says whose authorization it is only here, next to the code: its adapter notes it for the
    // exchange.
    if let (Platform::Amazon, Some(adapter)) = (platform, state.amazon()) {
        let seller =
            param("selling_partner_id").and_then(|raw| AmazonSellerId::new(raw).ok()).ok_or_else(|| {
                AppError::bad_request("the amazon callback carries no usable selling_partner_id")
            })?;
        adapter.note_consent_callback(&code, seller);
    }
    let actor = initiator_actor(&state, &pending.initiator).await?;
    let grant = state
        .services()
        .complete_connect(&actor, &pending.tenant, &pending.grant, &code, &pending.redirect_uri)
        .await
        .map_err(service_error)?;
    ok(GrantAnswer { grant: grant_view(&grant) })
}

/// `GET /v1/tenants/{id}/grants` (`tenant_read`): the tenant's grants, newest first.
pub(super) async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    authorize(&state, &auth.actor, Action::ReadTenant, Some(&tenant)).await?;
    let mut grants = state.deps().grants.grants(&tenant).await?;
    grants.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
    ok(GrantList { grants: grants.iter().map(grant_view).collect() })
}

/// `GET /v1/tenants/{id}/grants/{grant}` (`tenant_read`).
pub(super) async fn get(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath((id, grant)): AppPath<(String, String)>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    let grant = grant_from_path(&grant)?;
    authorize(&state, &auth.actor, Action::ReadTenant, Some(&tenant)).await?;
    let grant = state.deps().grants.grant(&tenant, &grant).await?;
    ok(GrantAnswer { grant: grant_view(&grant) })
}

/// `POST /v1/tenants/{id}/grants/{grant}/validate` (`grant_validate`): live validation (AUTH-2); an owner,
/// account or scope change moves the grant to review (AUTH-5); a platform that says the authorization is
/// gone revokes and purges it (AUTH-6, 409).
pub(super) async fn validate(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath((id, grant)): AppPath<(String, String)>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    let grant = grant_from_path(&grant)?;
    let outcome = state.services().validate(&auth.actor, &tenant, &grant).await.map_err(service_error)?;
    let (name, grant) = match &outcome {
        ValidationOutcome::Active(g) => (ValidationName::Active, g),
        ValidationOutcome::NeedsReview(g) => (ValidationName::NeedsReview, g),
        ValidationOutcome::Expired(g) => (ValidationName::Expired, g),
    };
    ok(GrantValidated { outcome: name, grant: grant_view(grant) })
}

/// `POST /v1/tenants/{id}/grants/{grant}/review` (`grant_review`): re-approves a grant in review as it now
/// is (AUTH-5).
pub(super) async fn review(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath((id, grant)): AppPath<(String, String)>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    let grant = grant_from_path(&grant)?;
    let grant = state.services().approve_review(&auth.actor, &tenant, &grant).await.map_err(service_error)?;
    ok(GrantAnswer { grant: grant_view(&grant) })
}

/// `PUT /v1/tenants/{id}/grants/{grant}/pii` (`grant_connect`): the buyer PII switch (MIN-2). Step-up
/// applies if and where core's policy says so (`Action::needs_step_up`).
pub(super) async fn set_pii(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath((id, grant)): AppPath<(String, String)>,
    AppJson(body): AppJson<PiiBody>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    let grant = grant_from_path(&grant)?;
    let grant = state
        .services()
        .set_pii_enabled(&auth.actor, &tenant, &grant, body.enabled)
        .await
        .map_err(service_error)?;
    ok(GrantAnswer { grant: grant_view(&grant) })
}

/// `POST /v1/tenants/{id}/grants/{grant}/revoke` (`grant_revoke`): revokes and purges at once (RET-3:
/// the grant's data key is destroyed first, then its secrets and records), answering with the deletion
/// receipt (RET-6). A purge that could not finish leaves the grant revoked: nothing is processed under it.
pub(super) async fn revoke(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath((id, grant)): AppPath<(String, String)>,
) -> Answered {
    let tenant = tenant_from_path(&id)?;
    let grant = grant_from_path(&grant)?;
    let by = match &auth.actor {
        Actor::Person(session) => session.person.id.clone(),
        // A key acts for the person accountable for it; the audit records the key itself as the actor.
        Actor::ApiKey(key) => key.created_by.clone(),
        Actor::System | Actor::PlatformSignal(_) => return Err(AppError::forbidden("not permitted")),
    };
    let receipt = state
        .services()
        .revoke(&auth.actor, &tenant, &grant, RevocationCause::Requested { by })
        .await
        .map_err(service_error)?;
    ok(ReceiptAnswer { receipt: receipt_view(&receipt) })
}
