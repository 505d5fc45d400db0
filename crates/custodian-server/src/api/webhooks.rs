//! Platform notification receivers (AUTH-6): `POST /v1/webhooks/{platform}` (and
//! `/v1/webhooks/{platform}/{topic}`, for platforms with one URL per topic such as Meta's
//! `deauthorize` and `data-deletion` callbacks), plus `GET` for eBay's endpoint challenge.
//!
//! The request goes as received (method, path, query, lowercase headers, the exact body bytes) to core's
//! `handle_signal`, which has the platform's `SignalVerifier` check the signature, audits the signal either
//! way (`signal_received` / `signal_rejected` on the system chain) and acts: revoke and purge every
//! matching grant (RET-3), raise an expiry alert, or answer a challenge. Nothing is trusted before the
//! verifier says so.
//!
//! Answers, per the platforms' documentation (shared/reference):
//! - eBay: the challenge is 200 `{"challengeResponse": …}`; a verified notification 204; a bad signature or
//!   an unavailable key 412 (fail closed, eBay retries); a malformed one 400.
//! - The others: 200 for a verified notification (Meta's data-deletion callback with
//!   `{"url", "confirmation_code"}`); a bad or stale signature 401; an unavailable verifier 503; a
//!   malformed notification 400.
//! - A notification whose exact bytes were already handled (a replay) is refused with 409 and audited as
//!   `signal_rejected`; it changes nothing. The replay memory is the store's (`GrantStore::claim_signal`,
//!   by the SHA-256 of platform, path and body, atomic), shared by every process on the same store, and
//!   lasts [`REPLAY_WINDOW`]; the verifiers' own freshness checks (Meta `issued_at`) bound replays beyond
//!   it. A claim whose handling failed before anything happened is released, so the platform's retry is
//!   handled. A store failure refuses the notification (503), it never accepts one unchecked.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use custodian_core::audit::{ActorRef, Hash, SignalRejected, system_tenant};
use custodian_core::platform::Platform;
use custodian_core::ports::{RawSignal, SignalError};
use custodian_core::service::{ServiceError, SignalOutcome};
use time::Duration;

use super::grants::{platform_from_path, service_error};
use crate::error::{AppError, ErrorCode};
use crate::extract::AppPath;
use crate::guard;
use crate::state::AppState;
use crate::wire::flows::{SignalAnswer, SignalStatus};

/// How long a handled notification is remembered for replay detection.
pub(crate) const REPLAY_WINDOW: Duration = Duration::days(7);

/// The raw body, with the API's errors for a body too large (413) or unreadable (400).
pub(super) struct RawBody(Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state).await.map(RawBody).map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::new(ErrorCode::PayloadTooLarge, "request body is too large")
            } else {
                AppError::bad_request("request body could not be read").with_detail(rejection.body_text())
            }
        })
    }
}

/// `/v1/webhooks/{platform}`.
pub(super) async fn receive(
    State(state): State<AppState>,
    AppPath(platform): AppPath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, AppError> {
    handle(&state, &platform, &method, &uri, &headers, body).await
}

/// `/v1/webhooks/{platform}/{topic}`: the topic is part of the path the verifier sees.
pub(super) async fn receive_topic(
    State(state): State<AppState>,
    AppPath((platform, _topic)): AppPath<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, AppError> {
    handle(&state, &platform, &method, &uri, &headers, body).await
}

/// How a platform wants a verification failure answered.
fn rejection(platform: Platform, error: &SignalError) -> AppError {
    let detail = error.to_string();
    let error = match (platform, error) {
        (_, SignalError::Malformed(_)) => AppError::bad_request("the notification is malformed"),
        (Platform::Ebay, _) => {
            AppError::new(ErrorCode::SignalUnverified, "the notification could not be verified")
        }
        (_, SignalError::Unavailable(_)) => {
            AppError::unavailable("signal verification", "the verifier could not fetch what it needs")
        }
        _ => AppError::new(ErrorCode::SignalRejected, "the notification's signature was not accepted"),
    };
    error.with_detail(format!("signal rejected: {detail}"))
}

async fn handle(
    state: &AppState,
    platform: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let platform = platform_from_path(platform)?;
    let configured = state.deps().platforms.get(&platform).is_some_and(|a| a.signals.is_some());
    if !configured {
        return Err(AppError::not_found().with_detail(format!("no signal verifier for `{platform}`")));
    }
    let Query(query) = Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map_err(|_| AppError::bad_request("query parameters are not valid"))?;
    let headers = headers
        .iter()
        .map(|(name, value)| {
            (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned())
        })
        .collect();
    let now = state.now();
    let raw = RawSignal {
        method: method.as_str().to_owned(),
        path: uri.path().to_owned(),
        query,
        headers,
        body: body.to_vec(),
        received_at: now,
    };
    // Challenges (GET) change nothing and are answered every time; notifications are handled once.
    let replay_key = (method != Method::GET).then(|| {
        let mut material = Vec::with_capacity(raw.path.len() + raw.body.len() + 16);
        material.extend_from_slice(platform.as_str().as_bytes());
        material.push(0);
        material.extend_from_slice(raw.path.as_bytes());
        material.push(0);
        material.extend_from_slice(&raw.body);
        Hash::of(&material)
    });
    let claimed = match &replay_key {
        Some(key) => state.deps().grants.claim_signal(key, now, REPLAY_WINDOW).await?,
        None => true,
    };
    if !claimed {
        let event = SignalRejected::new(platform, "replayed: this notification was already received");
        guard::audit(state, &system_tenant(), vec![guard::event(state, ActorRef::Platform(platform), event)])
            .await?;
        return Err(AppError::conflict("this notification was already received; nothing was done")
            .with_detail("signal replayed"));
    }
    let outcome = match state.services().handle_signal(platform, &raw).await {
        Ok(outcome) => outcome,
        Err(error) => {
            if let Some(key) = &replay_key
                && let Err(e) = state.deps().grants.release_signal(key).await
            {
                // The platform's retry will be refused as a replay until the window ends: say so in the log.
                tracing::warn!(error = %e, platform = %platform, "the claim of a failed notification was not released");
            }
            return Err(match error {
                ServiceError::SignalRejected(e) => rejection(platform, &e),
                ServiceError::PlatformNotConfigured(_) => AppError::not_found(),
                other => service_error(other),
            });
        }
    };
    Ok(answer(state, platform, &raw, outcome, replay_key))
}

/// The success answer the platform expects.
fn answer(
    state: &AppState,
    platform: Platform,
    raw: &RawSignal,
    outcome: SignalOutcome,
    replay_key: Option<Hash>,
) -> Response {
    if let SignalOutcome::Challenge(response) = outcome {
        return Json(SignalAnswer::Challenge { challenge_response: response }).into_response();
    }
    if platform == Platform::Ebay {
        return StatusCode::NO_CONTENT.into_response();
    }
    if platform == Platform::Meta && raw.path.ends_with("/data-deletion") {
        // Meta wants a status URL and a confirmation code: the deletion receipt when grants were purged,
        // else a code derived from the notification.
        let code = match &outcome {
            SignalOutcome::Revoked(receipts) => receipts.first().map(|r| r.id().as_str().to_owned()),
            _ => None,
        }
        .unwrap_or_else(|| {
            let hex = replay_key.map(|k| k.to_string()).unwrap_or_default();
            format!("deletion-{}", hex.get(..20).unwrap_or_default())
        });
        let url = format!("{}/v1/webhooks/meta/data-deletion?confirmation_code={code}", state.public_url());
        return Json(SignalAnswer::DataDeletion { url, confirmation_code: code }).into_response();
    }
    let (status, revoked) = match &outcome {
        SignalOutcome::Revoked(receipts) => (SignalStatus::Revoked, receipts.len()),
        SignalOutcome::Alerted => (SignalStatus::Alerted, 0),
        SignalOutcome::NoMatchingGrant | SignalOutcome::Challenge(_) => (SignalStatus::Received, 0),
    };
    Json(SignalAnswer::Handled { status, grants_revoked: revoked }).into_response()
}
