//! The test harness: the router over the testkit's fakes, in-process requests with `Router::oneshot`,
//! fixtures written straight to the store (people, sessions, API keys, tenants) and audit-trail helpers.
//! Every success reply is checked against the OpenAPI document (`crate::openapi::check_answer`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use custodian_core::audit::{AuditEvent, AuditRecord, system_tenant};
use custodian_core::authz::Environment;
use custodian_core::personnel::token::{self, TokenKind};
use custodian_core::personnel::totp::{self, TotpConfig, TotpSecret};
use custodian_core::personnel::{ApiKey, ApiKeyId, Permission, PersonId, Role};
use custodian_core::platform::Platform;
use custodian_core::ports::{AuditLog, PersonnelStore, SessionRecord, TenantStore};
use custodian_core::service::{Deps, PlatformAdapters, Settings};
use custodian_core::tenant::TenantId;
use custodian_server::config::SecurityConfig;
use custodian_server::{AppState, init_admin, router};
use custodian_testkit::fakes::{
    ManualClock, MemoryKeyManager, MemorySecretStore, MemoryStore, RecordingNotifier, SeededRng,
};
use custodian_testkit::fixtures::{self, T0};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use time::{Duration, OffsetDateTime};
use tower::ServiceExt;

/// A password that passes ACC-3.
pub(crate) const PASSWORD: &str = "Correct-Horse-42!";

/// How a request authenticates.
#[derive(Debug, Clone)]
pub(crate) enum Auth {
    None,
    Bearer(String),
    ApiKey(String),
    /// A raw `Authorization` header value.
    Raw(String),
}

/// A response: status, headers and the body as JSON (`Value::Null` when empty, a string when not JSON).
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
    pub(crate) text: String,
}

impl Reply {
    /// `code` of an error body.
    pub(crate) fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

/// A person with a TOTP secret the test knows.
pub(crate) struct Enrolled {
    pub(crate) id: PersonId,
    pub(crate) email: String,
    pub(crate) secret: TotpSecret,
    pub(crate) secret_text: String,
}

pub(crate) struct Harness {
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) store: Arc<MemoryStore>,
    pub(crate) state: AppState,
    pub(crate) app: Router,
    /// The notifier the server alerts through.
    pub(crate) notifier: Arc<RecordingNotifier>,
    /// Randomness for fixtures (apart from the server's).
    rng: SeededRng,
    /// The operation ids of the success replies checked against the OpenAPI document.
    answered: Arc<Mutex<BTreeSet<String>>>,
}

pub(crate) fn tid(raw: &str) -> TenantId {
    TenantId::new(raw).unwrap()
}

pub(crate) fn pid(raw: &str) -> PersonId {
    PersonId::new(raw).unwrap()
}

impl Harness {
    /// Production settings without violations, default security limits.
    pub(crate) fn new() -> Self {
        Self::with(|_| {}, |_| {})
    }

    pub(crate) fn with(
        settings: impl FnOnce(&mut Settings),
        security: impl FnOnce(&mut SecurityConfig),
    ) -> Self {
        Self::build(settings, security, T0, BTreeMap::new(), None)
    }

    /// The harness with platform adapters, a start time and a public URL.
    pub(crate) fn build(
        settings: impl FnOnce(&mut Settings),
        security: impl FnOnce(&mut SecurityConfig),
        start: OffsetDateTime,
        platforms: BTreeMap<Platform, PlatformAdapters>,
        public_url: Option<&str>,
    ) -> Self {
        let clock = Arc::new(ManualClock::new(start));
        let mut policy = Settings::new(Environment::Production);
        settings(&mut policy);
        let store = Arc::new(MemoryStore::with_environment(clock.clone(), policy.environment));
        let rng = Arc::new(SeededRng::new(7));
        let notifier = Arc::new(RecordingNotifier::new());
        let deps = Deps {
            tenants: store.clone(),
            grants: store.clone(),
            datasets: store.clone(),
            audit: store.clone(),
            personnel: store.clone(),
            cases: store.clone(),
            secrets: Arc::new(MemorySecretStore::new(clock.clone())),
            keys: Arc::new(MemoryKeyManager::new(rng.clone())),
            notifier: notifier.clone(),
            clock: clock.clone(),
            rng,
            platforms,
        };
        let mut limits = SecurityConfig::default();
        security(&mut limits);
        let mut state = AppState::new(deps, policy, &limits);
        if let Some(url) = public_url {
            state = state.with_public_url(url);
        }
        let app = router(state.clone());
        let answered = Arc::default();
        Self { clock, store, state, app, notifier, rng: SeededRng::new(99), answered }
    }

    /// A second server over this harness's ports (store, clock, secrets, keys, platforms), as another
    /// process behind the same address would be: its own `AppState` and router, with default security
    /// limits and `public_url`.
    pub(crate) fn peer(&self, public_url: Option<&str>) -> Self {
        let mut state = AppState::new(
            self.state.deps().clone(),
            self.state.settings().clone(),
            &SecurityConfig::default(),
        );
        if let Some(url) = public_url {
            state = state.with_public_url(url);
        }
        let app = router(state.clone());
        Self {
            clock: self.clock.clone(),
            store: self.store.clone(),
            state,
            app,
            notifier: self.notifier.clone(),
            rng: SeededRng::new(100),
            answered: self.answered.clone(),
        }
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.state.deps().clock.now()
    }

    pub(crate) fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Sends a prepared request. A success reply is checked against the OpenAPI document: a documented
    /// status and media type, and a JSON body exactly as its schema describes (the test fails if not).
    pub(crate) async fn send(&self, request: Request<Body>) -> Reply {
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(text.clone()))
        };
        if status.is_success() {
            let doc = crate::openapi::served().await;
            let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
            match crate::openapi::check_answer(doc, method.as_str(), &path, status, content_type, &body) {
                Ok(id) => {
                    self.answered.lock().unwrap().insert(id);
                }
                Err(e) => panic!("the reply is not what the OpenAPI document describes: {e}\n{text}"),
            }
        }
        Reply { status, headers, body, text }
    }

    /// The operation ids of the success replies received so far (each checked against the document).
    pub(crate) fn answered(&self) -> BTreeSet<String> {
        self.answered.lock().unwrap().clone()
    }

    /// A request with an optional JSON body.
    pub(crate) async fn call(&self, method: &str, path: &str, auth: &Auth, body: Option<Value>) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        builder = match auth {
            Auth::None => builder,
            Auth::Bearer(token) => builder.header(header::AUTHORIZATION, format!("Bearer {token}")),
            Auth::ApiKey(key) => builder.header(header::AUTHORIZATION, format!("ApiKey {key}")),
            Auth::Raw(value) => builder.header(header::AUTHORIZATION, value.as_str()),
        };
        let request = match body {
            Some(json) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(serde_json::to_vec(&json).unwrap()))
                .unwrap(),
            None => builder.body(Body::empty()).unwrap(),
        };
        self.send(request).await
    }

    /// A request with a raw body and content type.
    pub(crate) async fn raw(
        &self,
        method: &str,
        path: &str,
        auth: &Auth,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let mut builder =
            Request::builder().method(method).uri(path).header(header::CONTENT_TYPE, content_type);
        builder = match auth {
            Auth::Bearer(token) => builder.header(header::AUTHORIZATION, format!("Bearer {token}")),
            Auth::ApiKey(key) => builder.header(header::AUTHORIZATION, format!("ApiKey {key}")),
            Auth::Raw(value) => builder.header(header::AUTHORIZATION, value.as_str()),
            Auth::None => builder,
        };
        self.send(builder.body(Body::from(body)).unwrap()).await
    }

    /// An active tenant, written straight to the store (no audit).
    pub(crate) async fn tenant(&self, id: &str) -> TenantId {
        let id = tid(id);
        self.store.create_tenant(&fixtures::tenant(&id), Vec::new()).await.unwrap();
        id
    }

    /// A person with the fixture password, MFA enrolled but without a TOTP secret (sessions are made
    /// directly with [`Harness::session`]).
    pub(crate) async fn person(&self, email: &str, roles: &[Role], tenants: &[&str]) -> PersonId {
        let id = pid(email);
        let tenants: Vec<TenantId> = tenants.iter().map(|t| tid(t)).collect();
        let person = fixtures::person(&id, roles, &tenants);
        self.store.create_person(&person, &fixtures::credential(&id), Vec::new()).await.unwrap();
        id
    }

    /// A session of `person` whose MFA was verified at `mfa_verified_at`, valid 12 hours from now.
    pub(crate) async fn session(&self, person: &PersonId, mfa_verified_at: Option<OffsetDateTime>) -> String {
        let issued = token::issue(TokenKind::Session, &self.rng);
        let now = self.now();
        let record = SessionRecord {
            token_hash: issued.hash,
            person: person.clone(),
            created_at: now,
            expires_at: now + Duration::hours(12),
            mfa_verified_at,
            revoked_at: None,
        };
        self.store.create_session(&record, Vec::new()).await.unwrap();
        issued.secret.expose_secret().to_owned()
    }

    /// A person with `roles` on `tenants` and a fresh-MFA session: returns the bearer auth.
    pub(crate) async fn login_as(&self, email: &str, roles: &[Role], tenants: &[&str]) -> Auth {
        let id = self.person(email, roles, tenants).await;
        Auth::Bearer(self.session(&id, Some(self.now())).await)
    }

    /// An API key for `tenants` with `permissions`, expiring in 30 days.
    pub(crate) async fn api_key(&self, tenants: &[&str], permissions: &[Permission]) -> (ApiKeyId, Auth) {
        let issued = token::issue(TokenKind::ApiKey, &self.rng);
        let id = ApiKeyId::new(issued.id.as_str()).unwrap();
        let tenants: Vec<TenantId> = tenants.iter().map(|t| tid(t)).collect();
        let mut key: ApiKey =
            fixtures::api_key(&id, &tenants, permissions, &pid("creator@example.com"), self.now());
        key.expires_at = Some(self.now() + Duration::days(30));
        self.store.create_api_key(&key, &issued.hash, Vec::new()).await.unwrap();
        (id, Auth::ApiKey(issued.secret.expose_secret().to_owned()))
    }

    /// The first admin through `init_admin`, with a TOTP secret the test knows.
    pub(crate) async fn init_admin(&self, email: &str) -> Enrolled {
        let admin =
            init_admin(self.state.deps(), self.state.settings(), email, &SecretString::from(PASSWORD))
                .await
                .unwrap();
        let secret_text = admin.totp_secret.expose_secret().to_owned();
        let secret = TotpSecret::from_base32(&admin.totp_secret).unwrap();
        Enrolled { id: admin.person, email: email.to_owned(), secret, secret_text }
    }

    /// The TOTP code of `secret` now.
    pub(crate) fn code(&self, secret: &TotpSecret) -> String {
        totp::code_at(secret, &TotpConfig::default(), self.now().unix_timestamp())
    }

    /// Logs `who` in through the API (password and current code); returns the reply.
    pub(crate) async fn login(&self, who: &Enrolled) -> Reply {
        let body =
            serde_json::json!({"email": who.email, "password": PASSWORD, "code": self.code(&who.secret)});
        self.call("POST", "/v1/auth/login", &Auth::None, Some(body)).await
    }

    /// Logs in and returns the bearer auth (moves the clock one TOTP step first, so codes never repeat).
    pub(crate) async fn bearer(&self, who: &Enrolled) -> Auth {
        self.advance(Duration::seconds(30));
        let reply = self.login(who).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        Auth::Bearer(reply.body["token"].as_str().unwrap().to_owned())
    }

    /// Every chain's records.
    pub(crate) async fn chains(&self) -> BTreeMap<TenantId, Vec<AuditRecord>> {
        let mut out = BTreeMap::new();
        for chain in self.store.chains().await.unwrap() {
            out.insert(chain.clone(), self.store.audit_records(&chain));
        }
        out
    }

    /// How many records each chain has.
    pub(crate) async fn mark(&self) -> BTreeMap<TenantId, usize> {
        self.chains().await.into_iter().map(|(k, v)| (k, v.len())).collect()
    }

    /// The records appended since `mark`, per chain (chains without new records left out).
    pub(crate) async fn since(&self, mark: &BTreeMap<TenantId, usize>) -> BTreeMap<String, Vec<AuditRecord>> {
        let mut out = BTreeMap::new();
        for (chain, records) in self.chains().await {
            let before = mark.get(&chain).copied().unwrap_or(0);
            if records.len() > before {
                out.insert(chain.as_str().to_owned(), records[before..].to_vec());
            }
        }
        out
    }

    /// [`Harness::since`] as kind names: `{"_system": ["access_decided", ...]}`.
    pub(crate) async fn kinds_since(
        &self,
        mark: &BTreeMap<TenantId, usize>,
    ) -> BTreeMap<String, Vec<String>> {
        self.since(mark)
            .await
            .into_iter()
            .map(|(chain, records)| (chain, records.iter().map(|r| describe(&r.event)).collect()))
            .collect()
    }

    /// The system chain's records.
    pub(crate) fn system_records(&self) -> Vec<AuditRecord> {
        self.store.audit_records(&system_tenant())
    }
}

/// An event as `kind` plus its key fact: `access_decided:allow:manage_personnel`,
/// `login_attempted:fail:wrong password`, or the kind alone.
pub(crate) fn describe(event: &AuditEvent) -> String {
    match event {
        AuditEvent::AccessDecided(e) => {
            format!("access_decided:{}:{}", if e.allowed { "allow" } else { "deny" }, e.action)
        }
        AuditEvent::LoginAttempted(e) => {
            format!("login_attempted:{}:{}", if e.succeeded { "ok" } else { "fail" }, e.reason)
        }
        AuditEvent::SessionChanged(e) => format!("session_changed:{}", e.change),
        AuditEvent::DataRead(e) => format!("data_read:{}:{}", e.class, e.records),
        other => other.kind().to_owned(),
    }
}
