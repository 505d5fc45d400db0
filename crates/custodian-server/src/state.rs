//! [`AppState`]: the ports, the policy settings and the request limits, shared by every handler.

use std::fmt;
use std::sync::Arc;

use custodian_core::intake::SensitivePattern;
use custodian_core::personnel::totp::TotpConfig;
use custodian_core::service::{Deps, Services, Settings};
use time::Duration;

use crate::config::SecurityConfig;
use crate::metrics::Metrics;

/// The public URL when none is configured: the default listen address (`config::DEFAULT_LISTEN`).
const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// Login, session and request limits taken from [`SecurityConfig`], clamped to sane minimums.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub(crate) session_ttl: Duration,
    pub(crate) lockout_after: u32,
    pub(crate) lockout_for: Duration,
    pub(crate) max_body_bytes: usize,
    pub(crate) request_timeout: std::time::Duration,
    /// The bearer token `GET /metrics` requires, if any.
    pub(crate) metrics_token: Option<secrecy::SecretString>,
}

impl Limits {
    fn from_config(security: &SecurityConfig) -> Self {
        Self {
            session_ttl: Duration::minutes(i64::from(security.session_ttl_minutes.max(1))),
            lockout_after: security.lockout_after.max(1),
            lockout_for: Duration::minutes(i64::from(security.lockout_minutes.max(1))),
            max_body_bytes: security.max_body_bytes.max(1),
            request_timeout: std::time::Duration::from_secs(u64::from(security.request_timeout_secs.max(1))),
            metrics_token: security.metrics_token.clone(),
        }
    }
}

pub(crate) struct Inner {
    pub(crate) services: Services,
    pub(crate) limits: Limits,
    pub(crate) totp: TotpConfig,
    pub(crate) metrics: Metrics,
}

/// Everything a handler needs. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
    intake_patterns: Arc<[SensitivePattern]>,
    /// The URL platforms and browsers reach this server at, without a trailing slash (OAuth callbacks).
    public_url: Arc<str>,
    /// The Amazon adapter, which must note the `selling_partner_id` of a consent callback before the
    /// exchange (the port passes only the code).
    amazon: Option<Arc<custodian_amazon::AmazonAdapter>>,
}

impl AppState {
    /// Wires the ports (`deps`, whose `platforms` may be empty), the policy `settings` (with
    /// `environment_violations` from [`crate::config::Config::violations`]: in production any of them denies
    /// every action, ENV-1) and the session, lockout and request limits of `security`.
    ///
    /// MFA enforcement follows `settings.mfa_required`; pass `security.mfa_required` there.
    pub fn new(deps: Deps, settings: Settings, security: &SecurityConfig) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                services: Services::new(deps, settings),
                limits: Limits::from_config(security),
                totp: TotpConfig::default(),
                metrics: Metrics::default(),
            }),
            intake_patterns: Arc::from(Vec::new()),
            public_url: Arc::from(DEFAULT_PUBLIC_URL),
            amazon: None,
        }
    }

    /// The Amazon adapter of `deps.platforms`, for its consent callback (the runtime sets it).
    pub fn with_amazon_adapter(mut self, adapter: Arc<custodian_amazon::AmazonAdapter>) -> AppState {
        self.amazon = Some(adapter);
        self
    }

    pub(crate) fn amazon(&self) -> Option<&custodian_amazon::AmazonAdapter> {
        self.amazon.as_deref()
    }

    /// Sets the URL platforms and browsers reach this server at (`Config::public_url`): OAuth redirect
    /// URIs are `<public_url>/v1/oauth/<platform>/callback`. Defaults to `http://127.0.0.1:8080`.
    pub fn with_public_url(mut self, public_url: &str) -> AppState {
        self.public_url = Arc::from(public_url.trim_end_matches('/'));
        self
    }

    /// Adds configured sensitive patterns to the intake screening of free text (MIN-3); card numbers are
    /// always screened.
    pub fn with_intake_patterns(mut self, patterns: Vec<SensitivePattern>) -> AppState {
        self.intake_patterns = Arc::from(patterns);
        self
    }

    /// The core use cases.
    pub fn services(&self) -> &Services {
        &self.inner.services
    }

    /// The ports.
    pub fn deps(&self) -> &Deps {
        self.inner.services.deps()
    }

    /// The policy settings.
    pub fn settings(&self) -> &Settings {
        self.inner.services.settings()
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    pub(crate) fn totp(&self) -> &TotpConfig {
        &self.inner.totp
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub(crate) fn intake_patterns(&self) -> &[SensitivePattern] {
        &self.intake_patterns
    }

    pub(crate) fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Now, from the injected clock.
    pub(crate) fn now(&self) -> time::OffsetDateTime {
        self.deps().clock.now()
    }

    /// A new random identifier: `prefix-` and 26 lowercase base32 characters (128 bits from `Deps.rng`).
    pub(crate) fn new_id(&self, prefix: &str) -> String {
        let mut bytes = [0u8; 16];
        self.deps().rng.fill(&mut bytes);
        format!("{prefix}-{}", crate::wire::base32_lower(&bytes))
    }
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState")
            .field("environment", &self.settings().environment)
            .field("limits", &self.inner.limits)
            .field("intake_patterns", &self.intake_patterns.len())
            .finish_non_exhaustive()
    }
}
