//! Fault injection: a shared plan of faults that the next matching requests suffer, applied by a layer in
//! front of each platform's routes, and counters of what each platform served.
//!
//! Each platform renders a fault in its own envelope through [`FaultRender`]: a rate limit is HTTP 400 with
//! error code 4/17/613 on Meta, HTTP 200 with `code` 40100 on TikTok, and HTTP 429 on Amazon and eBay.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;

/// The five simulated platforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SimPlatform {
    Meta,
    TikTok,
    TikTokShop,
    Amazon,
    Ebay,
}

/// What happens to a request that meets a fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// The platform's rate-limit answer, with a retry hint where the platform gives one.
    RateLimited { retry_after: Option<Duration> },
    /// The platform's server-error answer with this HTTP status (500, 502, 503, 504).
    ServerError(u16),
    /// The answer comes late (past a client's timeout, to provoke one).
    Delay(Duration),
    /// The answer's body is cut in half (an undecodable body).
    TruncateBody,
    /// Every token issued so far is revoked before the request is handled (the client removed the app
    /// mid-sync).
    RevokeTokens,
}

/// One planned fault: it lets `skip` matching requests through, then hits the next `times` ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub platform: SimPlatform,
    /// Only requests whose path (after the platform prefix) contains this text match; `None` matches all.
    pub path_contains: Option<String>,
    pub kind: FaultKind,
    pub skip: u32,
    pub times: u32,
}

impl Fault {
    /// A fault hitting the next request of `platform`, once.
    pub fn once(platform: SimPlatform, kind: FaultKind) -> Self {
        Self { platform, path_contains: None, kind, skip: 0, times: 1 }
    }

    /// Restricts the fault to paths containing `text`.
    pub fn on_path(mut self, text: &str) -> Self {
        self.path_contains = Some(text.to_owned());
        self
    }

    /// Lets `skip` matching requests through first.
    pub fn after(mut self, skip: u32) -> Self {
        self.skip = skip;
        self
    }

    /// Hits `times` requests instead of one.
    pub fn times(mut self, times: u32) -> Self {
        self.times = times;
        self
    }
}

/// Counters of one platform's traffic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests that reached the platform (faulted or not).
    pub requests: u64,
    /// Requests answered with the platform's rate-limit response (injected or enforced).
    pub throttled: u64,
    /// Requests that met an injected fault.
    pub faulted: u64,
}

#[derive(Debug, Default)]
struct Plan {
    faults: Vec<Fault>,
    stats: BTreeMap<SimPlatform, Stats>,
}

/// The shared fault plan and traffic counters. Clones share state.
#[derive(Clone, Default)]
pub struct Faults {
    plan: Arc<Mutex<Plan>>,
}

impl fmt::Debug for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Faults").finish_non_exhaustive()
    }
}

impl Faults {
    fn with<T>(&self, f: impl FnOnce(&mut Plan) -> T) -> T {
        let mut plan = self.plan.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut plan)
    }

    /// Adds a fault to the plan.
    pub fn push(&self, fault: Fault) {
        self.with(|plan| plan.faults.push(fault));
    }

    /// Removes every planned fault.
    pub fn clear(&self) {
        self.with(|plan| plan.faults.clear());
    }

    /// The counters of `platform`.
    pub fn stats(&self, platform: SimPlatform) -> Stats {
        self.with(|plan| plan.stats.get(&platform).copied().unwrap_or_default())
    }

    /// Records a rate-limit answer a platform's own limiter gave.
    pub fn record_throttled(&self, platform: SimPlatform) {
        self.with(|plan| plan.stats.entry(platform).or_default().throttled += 1);
    }

    /// Counts a request and takes the fault it meets, if any.
    fn take(&self, platform: SimPlatform, path: &str) -> Option<FaultKind> {
        self.with(|plan| {
            let stats = plan.stats.entry(platform).or_default();
            stats.requests += 1;
            let index = plan.faults.iter().position(|f| {
                f.platform == platform && f.path_contains.as_deref().is_none_or(|text| path.contains(text))
            })?;
            let fault = plan.faults.get_mut(index)?;
            if fault.skip > 0 {
                fault.skip -= 1;
                return None;
            }
            let kind = fault.kind.clone();
            fault.times = fault.times.saturating_sub(1);
            if fault.times == 0 {
                plan.faults.remove(index);
            }
            let stats = plan.stats.entry(platform).or_default();
            stats.faulted += 1;
            if matches!(kind, FaultKind::RateLimited { .. }) {
                stats.throttled += 1;
            }
            Some(kind)
        })
    }
}

/// How a platform answers injected faults, in its own envelope.
pub trait FaultRender: Send + Sync + 'static {
    /// The platform's rate-limit answer, carrying `retry_after` the way the platform does (if at all).
    fn rate_limited(&self, retry_after: Option<Duration>) -> Response;
    /// The platform's answer to an internal error with HTTP `status`.
    fn server_error(&self, status: StatusCode) -> Response;
    /// Revokes every token issued so far.
    fn revoke_all(&self);
}

#[derive(Clone)]
struct LayerState {
    platform: SimPlatform,
    faults: Faults,
    render: Arc<dyn FaultRender>,
}

/// Puts `routes` behind the fault layer of `platform`.
pub fn layer(platform: SimPlatform, faults: &Faults, render: Arc<dyn FaultRender>, routes: Router) -> Router {
    let state = LayerState { platform, faults: faults.clone(), render };
    routes.layer(middleware::from_fn_with_state(state, apply))
}

/// Bodies larger than this are not truncated but passed through (the simulator never builds one).
const MAX_TRUNCATED_BODY: usize = 256 * 1024 * 1024;

async fn apply(State(state): State<LayerState>, request: Request, next: Next) -> Response {
    let fault = state.faults.take(state.platform, request.uri().path());
    match fault {
        None => next.run(request).await,
        Some(FaultKind::RateLimited { retry_after }) => state.render.rate_limited(retry_after),
        Some(FaultKind::ServerError(status)) => state
            .render
            .server_error(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)),
        Some(FaultKind::Delay(wait)) => {
            tokio::time::sleep(wait).await;
            next.run(request).await
        }
        Some(FaultKind::RevokeTokens) => {
            state.render.revoke_all();
            next.run(request).await
        }
        Some(FaultKind::TruncateBody) => {
            let response = next.run(request).await;
            let (mut parts, body) = response.into_parts();
            match to_bytes(body, MAX_TRUNCATED_BODY).await {
                Ok(bytes) => {
                    let half = bytes.slice(..bytes.len() / 2);
                    parts.headers.remove(header::CONTENT_LENGTH);
                    Response::from_parts(parts, Body::from(half))
                }
                Err(_) => Response::from_parts(parts, Body::empty()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_skip_then_hit_then_leave_the_plan() {
        let faults = Faults::default();
        faults.push(
            Fault::once(SimPlatform::Meta, FaultKind::ServerError(503))
                .on_path("/insights")
                .after(1)
                .times(2),
        );
        assert_eq!(faults.take(SimPlatform::TikTok, "/insights"), None, "another platform");
        assert_eq!(faults.take(SimPlatform::Meta, "/campaigns"), None, "another path");
        assert_eq!(faults.take(SimPlatform::Meta, "/insights"), None, "skipped");
        assert_eq!(faults.take(SimPlatform::Meta, "/insights"), Some(FaultKind::ServerError(503)));
        assert_eq!(faults.take(SimPlatform::Meta, "/insights"), Some(FaultKind::ServerError(503)));
        assert_eq!(faults.take(SimPlatform::Meta, "/insights"), None, "used up");
        let stats = faults.stats(SimPlatform::Meta);
        assert_eq!((stats.requests, stats.faulted, stats.throttled), (5, 2, 0));
    }

    #[test]
    fn rate_limits_count_as_throttled() {
        let faults = Faults::default();
        faults.push(Fault::once(SimPlatform::Amazon, FaultKind::RateLimited { retry_after: None }));
        assert!(faults.take(SimPlatform::Amazon, "/orders").is_some());
        faults.record_throttled(SimPlatform::Amazon);
        assert_eq!(faults.stats(SimPlatform::Amazon).throttled, 2);
    }
}
