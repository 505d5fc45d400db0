//! [`VaultClient`]: the one reqwest client (rustls, timeouts, user agent, no redirects), the base URL, token
//! handling (token or AppRole, renewal before expiry), bounded retries, error mapping, and call counters.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use reqwest::{Method, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;
use zeroize::Zeroizing;

use crate::config::{VaultAuth, VaultConfig};
use crate::error::VaultError;
use crate::paths::Paths;
use crate::retry::{self, RetryAction};
use crate::tls;
use crate::wire::{ErrorsDto, HealthDto};

/// The user agent of every request.
const USER_AGENT: &str = concat!("custodian-vault/", env!("CARGO_PKG_VERSION"));
/// The most error messages, and characters per message, kept from a Vault error response.
const MAX_ERRORS: usize = 5;
const MAX_ERROR_CHARS: usize = 200;

/// Which API a call belongs to (for the counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Kv,
    Transit,
    Auth,
    Sys,
}

/// How many requests the client sent, by API (each attempt counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallCounts {
    pub kv: u64,
    pub transit: u64,
    pub auth: u64,
    pub sys: u64,
    /// AppRole logins (included in `auth`).
    pub logins: u64,
    /// Token renewals (included in `auth`).
    pub renewals: u64,
}

#[derive(Default)]
struct Counters {
    kv: AtomicU64,
    transit: AtomicU64,
    auth: AtomicU64,
    sys: AtomicU64,
    logins: AtomicU64,
    renewals: AtomicU64,
}

/// Vault's `sys/health`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub initialized: bool,
    pub sealed: bool,
    pub standby: bool,
    pub version: String,
}

/// Which token a call carries.
pub(crate) enum Token<'a> {
    /// The session token (logging in or renewing first when needed).
    Session,
    /// No token (login, health).
    None,
    /// This token (renewing or looking up the session token itself).
    Explicit(&'a SecretString),
}

/// One request. `path` is relative to `/v1/`.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) list: bool,
    pub(crate) body: Option<Zeroizing<Vec<u8>>>,
    pub(crate) kind: Kind,
    pub(crate) idempotent: bool,
    pub(crate) token: Token<'a>,
}

impl<'a> Call<'a> {
    pub(crate) fn get(kind: Kind, path: String) -> Self {
        Self {
            method: Method::GET,
            path,
            list: false,
            body: None,
            kind,
            idempotent: true,
            token: Token::Session,
        }
    }

    pub(crate) fn list(kind: Kind, path: String) -> Self {
        Self { list: true, ..Self::get(kind, path) }
    }

    pub(crate) fn delete(kind: Kind, path: String) -> Self {
        Self { method: Method::DELETE, ..Self::get(kind, path) }
    }

    /// A POST with a JSON body; `idempotent` says whether sending it twice is harmless.
    pub(crate) fn post(
        kind: Kind,
        path: String,
        body: &impl Serialize,
        idempotent: bool,
    ) -> Result<Self, VaultError> {
        let mut encoded = Zeroizing::new(Vec::new());
        serde_json::to_writer(&mut *encoded, body)
            .map_err(|_| VaultError::Invalid("a request body cannot be encoded"))?;
        Ok(Self { method: Method::POST, body: Some(encoded), idempotent, ..Self::get(kind, path) })
    }

    pub(crate) fn token(self, token: Token<'a>) -> Self {
        Self { token, ..self }
    }

    fn method_name(&self) -> &'static str {
        match (&self.method, self.list) {
            (_, true) => "LIST",
            (m, _) if m == Method::POST => "POST",
            (m, _) if m == Method::DELETE => "DELETE",
            (m, _) if m == Method::PUT => "PUT",
            _ => "GET",
        }
    }
}

/// A response: its status and body (zeroized on drop). Non-2xx statuses that are not retried come back
/// here too, for the caller to interpret (404 is often an answer, not an error).
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Zeroizing<Vec<u8>>,
    method: &'static str,
    path: String,
}

impl Reply {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The error this response stands for.
    pub(crate) fn error(&self) -> VaultError {
        status_error(self.status, None, self.method, &self.path, &self.body)
    }

    /// The body parsed as `T`, for a 2xx response; otherwise the error.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, VaultError> {
        if !self.is_success() {
            return Err(self.error());
        }
        let mut de = serde_json::Deserializer::from_slice(&self.body);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let inner = e.inner();
            VaultError::Decode {
                method: self.method,
                path: self.path.clone(),
                at: e.path().to_string(),
                // The category and position only: serde's own message may quote values.
                detail: format!(
                    "{:?} error at line {} column {}",
                    inner.classify(),
                    inner.line(),
                    inner.column()
                ),
            }
        })
    }

    /// Fails unless the response is a 2xx.
    pub(crate) fn ok(&self) -> Result<(), VaultError> {
        if self.is_success() { Ok(()) } else { Err(self.error()) }
    }
}

/// The error for an unsuccessful status.
fn status_error(
    status: u16,
    retry_after: Option<Duration>,
    method: &'static str,
    path: &str,
    body: &[u8],
) -> VaultError {
    let errors: Vec<String> = serde_json::from_slice::<ErrorsDto>(body)
        .unwrap_or_default()
        .errors
        .iter()
        .take(MAX_ERRORS)
        .map(|e| e.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(MAX_ERROR_CHARS).collect())
        .collect();
    let path = path.to_owned();
    match status {
        503 if errors.iter().any(|e| e.to_lowercase().contains("sealed")) => {
            VaultError::Sealed { method, path }
        }
        429 => VaultError::RateLimited { method, path, retry_after },
        _ => VaultError::Status { status, method, path, errors },
    }
}

/// The token in use and what is known of its lifetime.
pub(crate) struct Session {
    token: SecretString,
    obtained: Instant,
    /// `None`: the token does not expire.
    ttl: Option<Duration>,
    renewable: bool,
    /// The TTL the login gave, to notice when renewals stop extending the token (its max TTL is near).
    login_ttl: Option<Duration>,
}

impl Session {
    /// A session for `token` valid `lease_seconds` from now (0: it does not expire).
    pub(crate) fn new(token: SecretString, lease_seconds: u64, renewable: bool) -> Self {
        let ttl = (lease_seconds > 0).then(|| Duration::from_secs(lease_seconds));
        Self { token, obtained: Instant::now(), ttl, renewable, login_ttl: ttl }
    }

    fn age(&self) -> Duration {
        self.obtained.elapsed()
    }

    /// Renew once two thirds of the TTL have passed.
    fn should_renew(&self) -> bool {
        self.ttl.is_some_and(|ttl| self.age() >= ttl.mul_f64(2.0 / 3.0))
    }

    /// Expired, or so close to it (the last tenth, at most 5 s) that a request could not use it.
    fn expired(&self) -> bool {
        self.ttl.is_some_and(|ttl| self.age() + (ttl / 10).min(Duration::from_secs(5)) >= ttl)
    }
}

/// A typed client of the Vault HTTP API. Share it (`Arc`) between the secret store and the key manager.
pub struct VaultClient {
    http: reqwest::Client,
    base: Url,
    auth: VaultAuth,
    session: Mutex<Option<Session>>,
    pub(crate) kv_mount: String,
    pub(crate) transit_mount: String,
    pub(crate) paths: Paths,
    max_attempts: u32,
    retry_base_delay: Duration,
    pub(crate) key_cache_ttl: Duration,
    pub(crate) key_cache_capacity: usize,
    counters: Counters,
    jitter: RandomState,
}

impl VaultClient {
    /// Builds the client: checks the address (TLS-1) and paths, builds the rustls configuration and the
    /// HTTP client. Does not contact Vault.
    pub fn new(config: VaultConfig) -> Result<Self, VaultError> {
        config.validate()?;
        let base = tls::base_url(&config.address, config.allow_plain_http_loopback)?;
        #[expect(
            clippy::disallowed_methods,
            reason = "custodian-vault predates custodian-http and applies the same TLS-1 rules in its own tls.rs; moving it onto custodian-http is tracked in the README"
        )]
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls::client_config(&config.tls_roots)?)
            .https_only(base.scheme() == "https")
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(USER_AGENT)
            .build()
            .map_err(VaultError::Client)?;
        Ok(Self {
            http,
            base,
            paths: Paths::new(&config.kv_prefix, &config.transit_key_prefix),
            auth: config.auth,
            session: Mutex::new(None),
            kv_mount: config.kv_mount,
            transit_mount: config.transit_mount,
            max_attempts: config.max_attempts,
            retry_base_delay: config.retry_base_delay,
            key_cache_ttl: config.key_cache_ttl,
            key_cache_capacity: config.key_cache_capacity,
            counters: Counters::default(),
            jitter: RandomState::new(),
        })
    }

    /// Requests sent so far, by API.
    pub fn calls(&self) -> CallCounts {
        let c = &self.counters;
        CallCounts {
            kv: c.kv.load(Ordering::Relaxed),
            transit: c.transit.load(Ordering::Relaxed),
            auth: c.auth.load(Ordering::Relaxed),
            sys: c.sys.load(Ordering::Relaxed),
            logins: c.logins.load(Ordering::Relaxed),
            renewals: c.renewals.load(Ordering::Relaxed),
        }
    }

    /// `sys/health` (no token): whether Vault is initialized, sealed, a standby.
    pub async fn health(&self) -> Result<Health, VaultError> {
        let call =
            Call { idempotent: false, ..Call::get(Kind::Sys, "sys/health".to_owned()) }.token(Token::None);
        let reply = self.send(call).await?;
        // Vault answers 429 (standby), 472/473 (replication), 501 (not initialized), 503 (sealed) with the
        // same body: the body is the answer.
        let dto: HealthDto = Reply { status: 200, ..reply }.json()?;
        Ok(Health {
            initialized: dto.initialized,
            sealed: dto.sealed,
            standby: dto.standby,
            version: dto.version,
        })
    }

    fn count(&self, kind: Kind) {
        let counter = match kind {
            Kind::Kv => &self.counters.kv,
            Kind::Transit => &self.counters.transit,
            Kind::Auth => &self.counters.auth,
            Kind::Sys => &self.counters.sys,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Sends `call`, retrying transient failures of idempotent calls. Returns the final response, whatever
    /// its status, unless it is a transient failure that was given up on.
    pub(crate) async fn send(&self, call: Call<'_>) -> Result<Reply, VaultError> {
        let method = call.method_name();
        let mut url =
            self.base.join(&call.path).map_err(|_| VaultError::Invalid("a request path is not valid"))?;
        if call.list {
            url.set_query(Some("list=true"));
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let session_token;
            let token = match &call.token {
                Token::Session => {
                    // Boxed: logging in and renewing send requests themselves.
                    session_token = Box::pin(self.session_token()).await?;
                    Some(&session_token)
                }
                Token::None => None,
                Token::Explicit(token) => Some(*token),
            };
            let mut request = self.http.request(call.method.clone(), url.clone());
            if let Some(token) = token {
                let mut value = HeaderValue::from_str(token.expose_secret())
                    .map_err(|_| VaultError::Config("the vault token is not a valid header value"))?;
                value.set_sensitive(true);
                request = request.header("X-Vault-Token", value);
            }
            if let Some(body) = &call.body {
                request = request.header(CONTENT_TYPE, "application/json").body(body.to_vec());
            }
            self.count(call.kind);
            let started = Instant::now();
            let outcome = request.send().await;
            let (status, retry_after, result) = match outcome {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(retry::parse_retry_after);
                    match response.bytes().await {
                        Ok(bytes) => {
                            let body = Zeroizing::new(bytes.to_vec());
                            (Some(status), retry_after, Ok(body))
                        }
                        Err(error) => (None, None, Err(self.transport_error(error, method, &call.path))),
                    }
                }
                Err(error) => (None, None, Err(self.transport_error(error, method, &call.path))),
            };
            tracing::debug!(
                method,
                path = %call.path,
                status = status.unwrap_or(0),
                attempt,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "vault request"
            );
            let action = retry::classify(
                status,
                retry_after,
                attempt,
                self.max_attempts,
                call.idempotent,
                self.retry_base_delay,
            );
            match (action, result) {
                (RetryAction::Done, Ok(body)) => {
                    let reply = Reply { status: status.unwrap_or(0), body, method, path: call.path.clone() };
                    if reply.status == 403 && matches!(call.token, Token::Session) {
                        // A revoked or expired token: log in afresh next time (AppRole) or fail (token).
                        self.forget_session().await;
                    }
                    return Ok(reply);
                }
                (RetryAction::Retry { after }, _) => {
                    let random = (self.jitter.hash_one((attempt, started.elapsed().as_nanos())) % 1_000)
                        as f64
                        / 1_000.0;
                    let delay = retry::with_jitter(after, random);
                    tracing::debug!(method, path = %call.path, delay_ms = delay.as_millis() as u64, "retrying vault request");
                    tokio::time::sleep(delay).await;
                }
                (_, Ok(body)) => {
                    let error = status_error(status.unwrap_or(0), retry_after, method, &call.path, &body);
                    tracing::warn!(error = %error, "vault request failed");
                    return Err(error);
                }
                (_, Err(error)) => {
                    tracing::warn!(error = %error, "vault request failed");
                    return Err(error);
                }
            }
        }
    }

    fn transport_error(&self, error: reqwest::Error, method: &'static str, path: &str) -> VaultError {
        if error.is_timeout() {
            VaultError::Timeout { method, path: path.to_owned() }
        } else {
            VaultError::Transport { method, path: path.to_owned(), source: error.without_url() }
        }
    }

    async fn forget_session(&self) {
        if matches!(self.auth, VaultAuth::AppRole { .. }) {
            *self.session.lock().await = None;
        }
    }

    /// The token for the next request: logs in, looks up or renews first when needed.
    async fn session_token(&self) -> Result<SecretString, VaultError> {
        let mut session = self.session.lock().await;
        match &self.auth {
            VaultAuth::Token(token) => {
                let current = match session.take() {
                    None => match self.lookup_self(token).await {
                        Ok(session) => session,
                        // A token without the `default` policy may not look itself up: use it as it is.
                        Err(error) if error.is_denied() => {
                            tracing::warn!(error = %error, "vault token lookup refused; the token will not be renewed");
                            Session::new(token.clone(), 0, false)
                        }
                        Err(error) => return Err(error),
                    },
                    Some(current) if current.should_renew() && current.renewable => {
                        match self.renew_self(&current.token).await {
                            Ok(renewed) => renewed,
                            Err(error) if current.expired() => return Err(error),
                            Err(error) => {
                                tracing::warn!(error = %error, "vault token renewal failed; retrying later");
                                current
                            }
                        }
                    }
                    Some(current) if current.expired() => return Err(VaultError::TokenExpired),
                    Some(current) => current,
                };
                let token = current.token.clone();
                *session = Some(current);
                Ok(token)
            }
            VaultAuth::AppRole { mount, role_id, secret_id } => {
                let current = match session.take() {
                    Some(current) if !current.expired() && !current.should_renew() => current,
                    Some(current) if !current.expired() && current.renewable => {
                        match self.renew_self(&current.token).await {
                            // Renewals that no longer extend the token much: its max TTL is near, log in.
                            Ok(renewed)
                                if renewed
                                    .ttl
                                    .zip(current.login_ttl)
                                    .is_some_and(|(ttl, login)| ttl < login / 2) =>
                            {
                                self.approle_login(mount, role_id, secret_id).await?
                            }
                            Ok(renewed) => Session { login_ttl: current.login_ttl, ..renewed },
                            Err(error) => {
                                tracing::warn!(error = %error, "vault token renewal failed; logging in again");
                                self.approle_login(mount, role_id, secret_id).await?
                            }
                        }
                    }
                    _ => self.approle_login(mount, role_id, secret_id).await?,
                };
                let token = current.token.clone();
                *session = Some(current);
                Ok(token)
            }
        }
    }
}

impl fmt::Debug for VaultClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultClient")
            .field("base", &self.base.as_str())
            .field("auth", &self.auth)
            .field("kv_mount", &self.kv_mount)
            .field("transit_mount", &self.transit_mount)
            .field("calls", &self.calls())
            .finish_non_exhaustive()
    }
}

impl VaultClient {
    pub(crate) fn counted_login(&self) {
        self.counters.logins.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn counted_renewal(&self) {
        self.counters.renewals.fetch_add(1, Ordering::Relaxed);
    }
}
